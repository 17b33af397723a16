package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"regulars"
	"regulars/store"
)

// ---------------------------------------------------------------- packages

// PackageInput is what the package form and API send. A limit left out of
// Limits is unlimited.
type PackageInput struct {
	Name         string
	MonthlyPrice int64
	YearlyPrice  int64
	Currency     string
	Features     []regulars.Feature
	Limits       map[string]int64
}

func (in *PackageInput) check(v regulars.Validation) {
	in.Name = strings.TrimSpace(in.Name)
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	regulars.CheckName(v, "name", in.Name, 60)
	v.Check(in.MonthlyPrice >= 0 && in.MonthlyPrice <= regulars.MaxPrice, "monthly_price", "Enter a price from 0 to 10,000,000.")
	v.Check(in.YearlyPrice >= 0 && in.YearlyPrice <= regulars.MaxPrice, "yearly_price", "Enter a price from 0 to 10,000,000.")
	v.Check(regulars.ValidCurrency(in.Currency), "currency", "Enter a three-letter currency code like EUR or USD.")
	var features []regulars.Feature
	for _, f := range in.Features {
		if !regulars.IsPartnerFeature(f) {
			v.Add("features", "Unknown feature "+string(f)+".")
			continue
		}
		if !slices.Contains(features, f) {
			features = append(features, f)
		}
	}
	// Keep the catalogue order so packages read the same everywhere.
	slices.SortFunc(features, func(a, b regulars.Feature) int {
		return slices.IndexFunc(regulars.PartnerFeatures, func(i regulars.FeatureInfo) bool { return i.Feature == a }) -
			slices.IndexFunc(regulars.PartnerFeatures, func(i regulars.FeatureInfo) bool { return i.Feature == b })
	})
	in.Features = features
	if len(features) == 0 {
		v.Add("features", "Include at least one feature.")
	}
	for k, n := range in.Limits {
		if _, ok := regulars.LimitInfoOf(k); !ok {
			v.Add("limit."+k, "Unknown limit.")
		} else if n < 0 || n > 1_000_000_000 {
			v.Add("limit."+k, "Enter a whole number from 0 to 1,000,000,000, or leave it empty for no limit.")
		}
	}
	if n, ok := in.Limits[regulars.LimitUsers]; ok && n < 1 {
		v.Add("limit."+regulars.LimitUsers, "Allow at least 1 user: the Account owner.")
	}
}

// PackageRow is a package with the number of partners on it.
type PackageRow struct {
	*regulars.Package
	Partners int
}

// Packages lists the tenant's packages with their partner counts.
func (a *App) Packages(ctx context.Context, actor *Actor) ([]PackageRow, error) {
	if err := actor.Require(regulars.FeatureTenantPackages, regulars.LevelView); err != nil {
		return nil, err
	}
	list, err := a.DB.Packages(ctx, actor.User.TenantID)
	if err != nil {
		return nil, err
	}
	counts, err := a.DB.PackagePartnerCounts(ctx, actor.User.TenantID)
	if err != nil {
		return nil, err
	}
	out := make([]PackageRow, len(list))
	for i, p := range list {
		out[i] = PackageRow{p, counts[p.ID]}
	}
	return out, nil
}

// Package returns one of the tenant's packages.
func (a *App) Package(ctx context.Context, actor *Actor, id int64) (*regulars.Package, error) {
	if err := actor.Require(regulars.FeatureTenantPackages, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Package(ctx, actor.User.TenantID, id)
}

// CreatePackage adds a package partners can choose.
func (a *App) CreatePackage(ctx context.Context, actor *Actor, in PackageInput) (*regulars.Package, error) {
	if err := actor.Require(regulars.FeatureTenantPackages, regulars.LevelManage); err != nil {
		return nil, err
	}
	v := regulars.Validation{}
	in.check(v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := &regulars.Package{TenantID: actor.User.TenantID, Name: in.Name, MonthlyPrice: in.MonthlyPrice, YearlyPrice: in.YearlyPrice,
		Currency: in.Currency, Features: in.Features, Limits: in.Limits}
	if err := a.DB.CreatePackage(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePackage changes a package. The change applies at once to every
// partner on it; features taken out are lost by those partners as on a
// downgrade (their engagements of the feature are archived, their roles lose
// it), in the same transaction. Pending requests keep the price they were
// made at.
func (a *App) UpdatePackage(ctx context.Context, actor *Actor, id int64, in PackageInput) (*regulars.Package, error) {
	if err := actor.Require(regulars.FeatureTenantPackages, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	tenantID := actor.User.TenantID
	old, err := a.DB.Package(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	v := regulars.Validation{}
	in.check(v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := *old
	p.Name, p.MonthlyPrice, p.YearlyPrice, p.Currency, p.Features, p.Limits = in.Name, in.MonthlyPrice, in.YearlyPrice, in.Currency, in.Features, in.Limits
	lost := lostFeatures(old, &p)
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.DB.UpdatePackage(ctx, &p); err != nil {
			return err
		}
		if len(lost) == 0 {
			return nil
		}
		ids, err := a.DB.PartnerIDsOnPackage(ctx, tenantID, id)
		if err != nil {
			return err
		}
		for _, pid := range ids {
			if _, err := a.DB.LockPartner(ctx, tenantID, pid); err != nil {
				return err
			}
			if err := a.loseFeatures(ctx, tenantID, pid, lost); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// SetPackageRetired retires a package (partners on it keep it; nobody new
// can choose it) or offers it again.
func (a *App) SetPackageRetired(ctx context.Context, actor *Actor, id int64, retired bool) (*regulars.Package, error) {
	if err := actor.Require(regulars.FeatureTenantPackages, regulars.LevelManage); err != nil {
		return nil, err
	}
	p, err := a.DB.Package(ctx, actor.User.TenantID, id)
	if err != nil {
		return nil, err
	}
	if err := a.DB.SetPackageRetired(ctx, p.TenantID, p.ID, retired); err != nil {
		return nil, err
	}
	p.Retired = retired
	return p, nil
}

// ---------------------------------------------------------------- add-ons

// AddonInput is what the catalogue form sends for one add-on kind.
type AddonInput struct {
	Name      string
	UnitSize  int64
	UnitPrice int64
	Currency  string
	Available bool
}

// SaveAddon sets the name, unit, price and availability of an add-on kind.
// Pending requests keep the price they were made at.
func (a *App) SaveAddon(ctx context.Context, actor *Actor, kind string, in AddonInput) (*regulars.Addon, error) {
	if err := actor.Require(regulars.FeatureTenantPackages, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	if _, ok := regulars.AddonKindOf(kind); !ok {
		return nil, regulars.ErrNotFound("add-on")
	}
	in.Name = strings.TrimSpace(in.Name)
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	v := regulars.Validation{}
	regulars.CheckName(v, "name", in.Name, 60)
	v.Check(in.UnitSize >= 1 && in.UnitSize <= 1_000_000_000, "unit_size", "Enter a whole number from 1 to 1,000,000,000.")
	v.Check(in.UnitPrice >= 0 && in.UnitPrice <= regulars.MaxPrice, "unit_price", "Enter a price from 0 to 10,000,000.")
	v.Check(regulars.ValidCurrency(in.Currency), "currency", "Enter a three-letter currency code like EUR or USD.")
	if err := v.Err(); err != nil {
		return nil, err
	}
	ad := &regulars.Addon{TenantID: actor.User.TenantID, Kind: kind, Name: in.Name, UnitSize: in.UnitSize, UnitPrice: in.UnitPrice, Currency: in.Currency, Available: in.Available}
	if err := a.DB.SaveAddon(ctx, ad); err != nil {
		return nil, err
	}
	return ad, nil
}

// ---------------------------------------------------------------- partners

// SearchPartners lists the tenant's partners.
func (a *App) SearchPartners(ctx context.Context, actor *Actor, f store.PartnerFilter) ([]*store.PartnerRow, error) {
	if err := actor.Require(regulars.FeatureTenantPartners, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.SearchPartners(ctx, actor.User.TenantID, f)
}

// PartnerDetail is what the tenant console shows about a partner.
type PartnerDetail struct {
	*Partnership
	Users    []*regulars.User
	Channels []*regulars.Channel
	Requests []*regulars.Request
}

// PartnerDetail loads a partner of the tenant with its package, usage,
// wallet, staff and requests.
func (a *App) PartnerDetail(ctx context.Context, actor *Actor, id int64) (*PartnerDetail, error) {
	if err := actor.Require(regulars.FeatureTenantPartners, regulars.LevelView); err != nil {
		return nil, err
	}
	tenantID := actor.User.TenantID
	ps, err := a.partnershipOf(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	d := &PartnerDetail{Partnership: ps}
	if d.Users, err = a.DB.Users(ctx, tenantID, id); err != nil {
		return nil, err
	}
	if d.Channels, err = a.DB.Channels(ctx, id); err != nil {
		return nil, err
	}
	d.Requests, err = a.DB.Requests(ctx, tenantID, store.RequestFilter{PartnerID: id, Limit: 100})
	return d, err
}

// SetPartnerSuspended suspends a partner (its staff are signed out at once
// and cannot sign in) or reactivates it.
func (a *App) SetPartnerSuspended(ctx context.Context, actor *Actor, id int64, suspended bool) (*regulars.Partner, error) {
	if err := actor.Require(regulars.FeatureTenantPartners, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	tenantID := actor.User.TenantID
	status := regulars.PartnerActive
	if suspended {
		status = regulars.PartnerSuspended
	}
	var users []*regulars.User
	var p *regulars.Partner
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		var err error
		if p, err = a.DB.LockPartner(ctx, tenantID, id); err != nil {
			return err
		}
		if p.Status == status {
			return regulars.Errorf(regulars.ECONFLICT, "%s is already %s.", p.BrandName, status)
		}
		if err := a.DB.SetPartnerStatus(ctx, tenantID, id, status); err != nil {
			return err
		}
		p.Status = status
		if !suspended {
			return nil
		}
		if users, err = a.DB.Users(ctx, tenantID, id); err != nil {
			return err
		}
		for _, u := range users {
			if err := a.DB.DeleteUserSessions(ctx, u.ID, 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Every node closes the partner's users' live connections.
	for _, u := range users {
		a.publishRevoked(ctx, UserTopic(u.ID))
	}
	return p, nil
}

// ---------------------------------------------------------------- requests

// TenantRequests lists the tenant's requests.
func (a *App) TenantRequests(ctx context.Context, actor *Actor, f store.RequestFilter) ([]*regulars.Request, error) {
	if err := actor.Require(regulars.FeatureTenantRequests, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Requests(ctx, actor.User.TenantID, f)
}

// TenantRequest returns one of the tenant's requests.
func (a *App) TenantRequest(ctx context.Context, actor *Actor, id int64) (*regulars.Request, error) {
	if err := actor.Require(regulars.FeatureTenantRequests, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Request(ctx, actor.User.TenantID, id)
}

// ApproveRequest approves a pending request and applies it, exactly once
// and atomically: add-ons go into the wallet, a package change takes effect
// (a downgrade archives what the lost features leave behind), a registration
// becomes a partner whose Account owner is invited. When another operator
// decided first or the partner cancelled, nothing changes and the answer
// says so. The partner's emails are kept with the decision and delivered
// once it is committed.
func (a *App) ApproveRequest(ctx context.Context, actor *Actor, id int64) (*regulars.Request, error) {
	return a.decide(ctx, actor, id, regulars.RequestApproved, "")
}

// RejectRequest rejects a pending request with a reason the partner reads
// in the email and in the activity list.
func (a *App) RejectRequest(ctx context.Context, actor *Actor, id int64, reason string) (*regulars.Request, error) {
	reason = strings.TrimSpace(reason)
	v := regulars.Validation{}
	regulars.CheckName(v, "reason", reason, regulars.MaxRequestReason)
	if v["reason"] == "This field is required." {
		v["reason"] = "Say why: the partner reads it in the email."
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return a.decide(ctx, actor, id, regulars.RequestRejected, reason)
}

func (a *App) decide(ctx context.Context, actor *Actor, id int64, status, reason string) (*regulars.Request, error) {
	if err := actor.Require(regulars.FeatureTenantRequests, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	tenantID := actor.User.TenantID
	var r *regulars.Request
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		var err error
		if r, err = a.DB.Request(ctx, tenantID, id); err != nil {
			return err
		}
		won, err := a.DB.DecideRequest(ctx, tenantID, id, status, actor.User.ID, actor.User.Name, reason)
		if err != nil {
			return err
		}
		if !won {
			// Read it again: the winner's decision is committed by now.
			if r, err = a.DB.Request(ctx, tenantID, id); err != nil {
				return err
			}
			return alreadyDecided(r)
		}
		r.Status, r.DecidedAt, r.DecidedBy, r.DecidedByName, r.Reason = status, a.now(), actor.User.ID, actor.User.Name, reason
		var mails []*regulars.Mail
		if status == regulars.RequestApproved {
			invite, err := a.apply(ctx, actor, r)
			if err != nil {
				return err
			}
			if invite != nil {
				mails = append(mails, invite)
			}
		}
		more, err := a.decisionMails(ctx, actor, r)
		if err != nil {
			return err
		}
		// Kept in the outbox with the decision; delivered after the commit.
		for _, m := range append(mails, more...) {
			if err := a.Mail.Send(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if regulars.ErrorCode(err) == regulars.ECONFLICT && r != nil && r.Status != regulars.RequestPending {
			return r, err
		}
		return nil, err
	}
	return r, nil
}

// apply carries out an approved request inside the deciding transaction. An
// approved registration returns the invitation of its Account owner.
func (a *App) apply(ctx context.Context, actor *Actor, r *regulars.Request) (*regulars.Mail, error) {
	tenantID := r.TenantID
	switch r.Kind {
	case regulars.RequestAddons:
		for _, it := range r.Items {
			if err := a.DB.AddToWallet(ctx, r.PartnerID, it.Kind, it.Amount()); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case regulars.RequestPackage:
		p, err := a.DB.LockPartner(ctx, tenantID, r.PartnerID)
		if err != nil {
			return nil, err
		}
		to, err := a.DB.Package(ctx, tenantID, r.PackageID)
		if err != nil {
			return nil, err
		}
		// Usage may have grown since the request: check again under the lock.
		over, err := a.violations(ctx, tenantID, r.PartnerID, to)
		if err != nil {
			return nil, err
		}
		if len(over) > 0 {
			return nil, regulars.Errorf(regulars.ECONFLICT, "%s now uses more than %s allows: %s must reduce %s first. Reject the request with that reason, or approve it later.",
				p.BrandName, to.Name, p.BrandName, joinAnd(over))
		}
		var from *regulars.Package
		if p.PackageID != 0 {
			if from, err = a.DB.Package(ctx, tenantID, p.PackageID); err != nil {
				return nil, err
			}
		}
		if err := a.DB.SetPartnerPackage(ctx, tenantID, p.ID, to.ID, r.BillingPeriod); err != nil {
			return nil, err
		}
		return nil, a.loseFeatures(ctx, tenantID, p.ID, lostFeatures(from, to))
	case regulars.RequestRegistration:
		return a.createRegisteredPartner(ctx, actor, r)
	}
	return nil, fmt.Errorf("app: request %d has unknown kind %q", r.ID, r.Kind)
}

// partnerRecipients are the people told about a partner's request: the
// Account owner and whoever asked, if still active.
func (a *App) partnerRecipients(ctx context.Context, r *regulars.Request) ([]*regulars.User, error) {
	var out []*regulars.User
	owner, err := a.DB.Owner(ctx, r.TenantID, r.PartnerID)
	if err == nil && owner.Status != regulars.UserDisabled {
		out = append(out, owner)
	} else if err != nil && regulars.ErrorCode(err) != regulars.ENOTFOUND {
		return nil, err
	}
	if r.RequestedBy != 0 && (owner == nil || owner.ID != r.RequestedBy) {
		u, err := a.DB.ScopedUser(ctx, r.TenantID, r.PartnerID, r.RequestedBy)
		if err == nil && u.Status != regulars.UserDisabled {
			out = append(out, u)
		}
	}
	return out, nil
}

// decisionMails writes the emails of a decision.
func (a *App) decisionMails(ctx context.Context, actor *Actor, r *regulars.Request) ([]*regulars.Mail, error) {
	tenant := actor.Tenant.Name
	if r.Kind == regulars.RequestRegistration {
		reg := r.Registration
		if r.Status == regulars.RequestApproved {
			return nil, nil // the invitation says it
		}
		body := fmt.Sprintf("Hello %s,\n\nThank you for your interest in a partnership with %s for %s.\nWe cannot accept it at this time. The reason:\n\n%s\n\nReply to %s with any question.\n",
			reg.ContactName, tenant, reg.BrandName, r.Reason, supportOf(actor.Tenant))
		return []*regulars.Mail{{TenantID: r.TenantID, To: reg.ContactEmail, Subject: "Your partnership request to " + tenant, Body: body}}, nil
	}
	users, err := a.partnerRecipients(ctx, r)
	if err != nil {
		return nil, err
	}
	what := "add-on request"
	if r.Kind == regulars.RequestPackage {
		what = "package change request"
	}
	var subject, text string
	link := a.BaseURL + "/admin/partnership"
	if r.Status == regulars.RequestApproved {
		subject = fmt.Sprintf("Your %s was approved", what)
		if r.Kind == regulars.RequestAddons {
			wallet, err := a.DB.Wallet(ctx, r.PartnerID)
			if err != nil {
				return nil, err
			}
			var lines []string
			for _, it := range r.Items {
				lines = append(lines, fmt.Sprintf("  %s: +%s %s (balance now %s %s)", it.Name, regulars.Thousands(it.Amount()), it.Unit(), regulars.Thousands(wallet[it.Kind]), it.Unit()))
			}
			text = fmt.Sprintf("%s approved your request for %s.\nYour add-on wallet:\n\n%s\n", tenant, describeRequest(r), strings.Join(lines, "\n"))
		} else {
			text = fmt.Sprintf("%s approved your request: your package is now %s, billed %s (%s).\n", tenant, r.PackageName, r.BillingPeriod, regulars.FormatMoney(r.Price, r.Currency))
		}
	} else {
		subject = fmt.Sprintf("Your %s was rejected", what)
		text = fmt.Sprintf("%s rejected your request for %s.\nThe reason:\n\n%s\n", tenant, describeRequest(r), r.Reason)
	}
	var out []*regulars.Mail
	for _, u := range users {
		body := fmt.Sprintf("Hello %s,\n\n%s\nSee Partnership settings: %s\n", u.Name, text, link)
		out = append(out, &regulars.Mail{TenantID: r.TenantID, To: u.Email, Subject: subject, Body: body})
	}
	return out, nil
}

func supportOf(t *regulars.Tenant) string {
	if t.SupportEmail != "" {
		return t.SupportEmail
	}
	return "us"
}
