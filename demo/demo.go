// Package demo loads a believable world for trying Regulars: a tenant, its
// packages, a coffee chain with two channels and staff in several roles.
package demo

import (
	"context"
	"fmt"
	"io"

	"regulars"
	"regulars/app"
	"regulars/store"
)

// Password is the password of every demo account.
const Password = "regulars-demo"

// Account is a demo sign-in shown to the person who started the demo.
type Account struct {
	Email, Role, Where string
}

// Options scale the demo.
type Options struct {
	Followers int       // followers to generate
	Progress  io.Writer // where progress lines go (nil: nowhere)
	Seed      uint64    // randomness of the generated followers (0: fixed default)
}

// Result says what the demo holds.
type Result struct {
	Created  bool // false when the demo data was already there
	Accounts []Account
	Tenant   *regulars.Tenant
	Partner  *regulars.Partner
	Channels []*regulars.Channel // the coffee chain's channels
	Owner    *regulars.User      // the coffee chain's account owner
	Loyalty  *LoyaltyResult      // programs, coupons, messages and followers
}

var accounts = []Account{
	{"operator@demo.regulars.example", "Tenant operator (owner)", "/tenant"},
	{"owner@beanandleaf.example", "Account owner", "/admin"},
	{"manager@beanandleaf.example", "Manager", "/admin"},
	{"agent@beanandleaf.example", "Customer care agent", "/admin"},
	{"viewer@beanandleaf.example", "Viewer", "/admin"},
}

// Load creates the demo world once; a second run changes nothing.
func Load(ctx context.Context, db *store.DB, pw app.PasswordParams, opts Options) (*Result, error) {
	res := &Result{Accounts: accounts}
	if t, err := db.TenantBySlug(ctx, "demo"); err == nil {
		res.Tenant = t
		return res, nil
	} else if regulars.ErrorCode(err) != regulars.ENOTFOUND {
		return nil, err
	}
	hash := app.HashPassword(Password, pw)
	err := db.InTx(ctx, func(ctx context.Context) error {
		t := &regulars.Tenant{Name: "Regulars Demo", Slug: "demo", SupportEmail: "support@demo.regulars.example", SupportPhone: "+44 20 7946 0000"}
		if err := db.CreateTenant(ctx, t); err != nil {
			return err
		}
		res.Tenant = t
		all := regulars.AllPartnerFeatures()
		starter := &regulars.Package{TenantID: t.ID, Name: "Starter", MonthlyPrice: 2900, YearlyPrice: 29000, Currency: "EUR",
			Features: []regulars.Feature{regulars.FeatureDashboard, regulars.FeatureChat, regulars.FeatureCanned, regulars.FeatureChannels, regulars.FeatureMessages, regulars.FeatureCoupons, regulars.FeatureUsers, regulars.FeatureRoles, regulars.FeaturePartnership},
			Limits:   map[string]int64{"channels": 1, "users": 3, "active_coupons": 3, "active_messages": 5, "followers": 5000, "storage_gb": 1}}
		business := &regulars.Package{TenantID: t.ID, Name: "Business", MonthlyPrice: 9900, YearlyPrice: 99000, Currency: "EUR", Features: all,
			Limits: map[string]int64{"channels": 5, "users": 25, "active_coupons": 25, "active_messages": 50, "active_loyalty": 3, "followers": 100000, "storage_gb": 20}}
		enterprise := &regulars.Package{TenantID: t.ID, Name: "Enterprise", MonthlyPrice: 49900, YearlyPrice: 499000, Currency: "EUR", Features: all,
			Limits: map[string]int64{"channels": 50, "users": 500, "active_coupons": 500, "active_messages": 1000, "active_loyalty": 20, "followers": 5000000, "storage_gb": 500}}
		for _, p := range []*regulars.Package{starter, business, enterprise} {
			if err := db.CreatePackage(ctx, p); err != nil {
				return err
			}
		}
		opRole := &regulars.Role{TenantID: t.ID, Name: regulars.OwnerRoleName, IsOwner: true}
		if err := db.CreateRole(ctx, opRole); err != nil {
			return err
		}
		op := &regulars.User{TenantID: t.ID, RoleID: opRole.ID, Name: "Olivia Operator", Email: accounts[0].Email, Status: regulars.UserActive, PasswordHash: hash}
		if err := db.CreateUser(ctx, op, true); err != nil {
			return err
		}

		p := &regulars.Partner{TenantID: t.ID, BrandName: "Bean & Leaf Coffee", Country: "GB", Website: "https://beanandleaf.example", ContactEmail: accounts[1].Email, PackageID: business.ID, Status: regulars.PartnerActive}
		if err := db.CreatePartner(ctx, p); err != nil {
			return err
		}
		res.Partner = p
		ownerRole := &regulars.Role{TenantID: t.ID, PartnerID: p.ID, Name: regulars.OwnerRoleName, IsOwner: true}
		if err := db.CreateRole(ctx, ownerRole); err != nil {
			return err
		}
		manager := regulars.FullPermissions(all)
		manager[regulars.FeatureRoles] = regulars.LevelView
		manager[regulars.FeaturePartnership] = regulars.LevelView
		// The agent answers and finishes their own conversations; finishing
		// a colleague's is the manager's (chat at manage level).
		agent := regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate, regulars.FeatureCanned: regulars.LevelView, regulars.FeatureDashboard: regulars.LevelView,
			regulars.FeatureCoupons: regulars.LevelView, regulars.FeatureLoyalty: regulars.LevelUpdate, regulars.FeatureMessages: regulars.LevelView}
		viewer := regulars.Permissions{}
		for _, f := range all {
			viewer[f] = regulars.LevelView
		}
		roles := map[string]*regulars.Role{
			"Manager":             {TenantID: t.ID, PartnerID: p.ID, Name: "Manager", Permissions: manager},
			"Customer care agent": {TenantID: t.ID, PartnerID: p.ID, Name: "Customer care agent", Permissions: agent},
			"Viewer":              {TenantID: t.ID, PartnerID: p.ID, Name: "Viewer", Permissions: viewer},
		}
		for _, name := range []string{"Manager", "Customer care agent", "Viewer"} {
			if err := db.CreateRole(ctx, roles[name]); err != nil {
				return err
			}
		}
		staff := []struct {
			name, email string
			role        *regulars.Role
			owner       bool
		}{
			{"Oscar Owner", accounts[1].Email, ownerRole, true},
			{"Maya Manager", accounts[2].Email, roles["Manager"], false},
			{"Ada Agent", accounts[3].Email, roles["Customer care agent"], false},
			{"Victor Viewer", accounts[4].Email, roles["Viewer"], false},
		}
		for _, s := range staff {
			u := &regulars.User{TenantID: t.ID, PartnerID: p.ID, RoleID: s.role.ID, Name: s.name, Email: s.email, Phone: "+44 20 7946 0123", Status: regulars.UserActive, PasswordHash: hash}
			if err := db.CreateUser(ctx, u, s.owner); err != nil {
				return fmt.Errorf("demo user %s: %w", s.email, err)
			}
			if s.owner {
				res.Owner = u
			}
		}
		res.Channels = []*regulars.Channel{
			{TenantID: t.ID, PartnerID: p.ID, Name: "Bean & Leaf — City Centre", Description: "Our flagship café on the high street.", Welcome: "Welcome to Bean & Leaf! Show your code at the till to collect points.", Status: regulars.ChannelActive, ChatEnabled: true},
			{TenantID: t.ID, PartnerID: p.ID, Name: "Bean & Leaf — Airport", Description: "Coffee before your flight, Terminal 2.", Welcome: "Safe travels! Grab a coffee at Gate 12.", Status: regulars.ChannelActive, ChatEnabled: true},
		}
		for _, c := range res.Channels {
			if err := db.CreateChannel(ctx, c); err != nil {
				return err
			}
		}
		if err := loadLocations(ctx, db, p); err != nil {
			return err
		}
		// A second partner, so isolation is visible in the demo.
		p2 := &regulars.Partner{TenantID: t.ID, BrandName: "Crumb Bakery", Country: "IE", Website: "https://crumb.example", PackageID: starter.ID, Status: regulars.PartnerActive}
		if err := db.CreatePartner(ctx, p2); err != nil {
			return err
		}
		r2 := &regulars.Role{TenantID: t.ID, PartnerID: p2.ID, Name: regulars.OwnerRoleName, IsOwner: true}
		if err := db.CreateRole(ctx, r2); err != nil {
			return err
		}
		u2 := &regulars.User{TenantID: t.ID, PartnerID: p2.ID, RoleID: r2.ID, Name: "Cora Crumb", Email: "owner@crumb.example", Status: regulars.UserActive, PasswordHash: hash}
		if err := db.CreateUser(ctx, u2, true); err != nil {
			return err
		}
		if err := db.CreateChannel(ctx, &regulars.Channel{TenantID: t.ID, PartnerID: p2.ID, Name: "Crumb Bakery", Status: regulars.ChannelActive, ChatEnabled: true}); err != nil {
			return err
		}
		return loadPartnership(ctx, db, t, op, p, p2, starter, business)
	})
	if err != nil {
		return nil, err
	}
	res.Created = true
	res.Accounts = append(res.Accounts, Account{"owner@crumb.example", "Account owner (second partner)", "/admin"})
	if res.Loyalty, err = loadLoyalty(ctx, db, hash, res, opts); err != nil {
		return nil, fmt.Errorf("demo loyalty data: %w", err)
	}
	if err := targetLocations(ctx, db, res); err != nil {
		return nil, fmt.Errorf("demo targeting: %w", err)
	}
	if err := loadChat(ctx, db, res); err != nil {
		return nil, fmt.Errorf("demo chat: %w", err)
	}
	res.Accounts = append(res.Accounts, Account{FollowerEmail, "Follower (the app)", "/app"})
	return res, nil
}
