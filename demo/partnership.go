package demo

import (
	"context"

	"regulars"
	"regulars/store"
)

// loadPartnership fills the add-on catalogue, a wallet and requests in
// every state: something to decide, and a history to read.
func loadPartnership(ctx context.Context, db *store.DB, t *regulars.Tenant, op *regulars.User, beanLeaf, crumb *regulars.Partner, starter, business *regulars.Package) error {
	catalogue := []*regulars.Addon{
		{TenantID: t.ID, Kind: regulars.AddonGigabytes, Name: "Gigabytes", UnitSize: 10, UnitPrice: 500, Currency: "EUR", Available: true},
		{TenantID: t.ID, Kind: regulars.AddonTerabytes, Name: "Terabytes", UnitSize: 1, UnitPrice: 30000, Currency: "EUR", Available: true},
		{TenantID: t.ID, Kind: regulars.AddonTenantPoints, Name: "Tenant points", UnitSize: 1000, UnitPrice: 1000, Currency: "EUR", Available: true},
		{TenantID: t.ID, Kind: regulars.AddonTenantVIP, Name: "Tenant VIP", UnitSize: 1, UnitPrice: 2500, Currency: "EUR", Available: true},
	}
	byKind := map[string]*regulars.Addon{}
	for _, a := range catalogue {
		if err := db.SaveAddon(ctx, a); err != nil {
			return err
		}
		byKind[a.Kind] = a
	}
	item := func(kind string, qty int64) regulars.RequestItem {
		a := byKind[kind]
		return regulars.RequestItem{Kind: a.Kind, Name: a.Name, Quantity: qty, UnitSize: a.UnitSize, UnitPrice: a.UnitPrice, Currency: a.Currency}
	}
	owner, err := db.Owner(ctx, t.ID, beanLeaf.ID)
	if err != nil {
		return err
	}
	crumbOwner, err := db.Owner(ctx, t.ID, crumb.ID)
	if err != nil {
		return err
	}
	type step struct {
		req            *regulars.Request
		status, reason string
	}
	steps := []step{
		{&regulars.Request{Kind: regulars.RequestAddons, PartnerID: beanLeaf.ID, Items: []regulars.RequestItem{item(regulars.AddonGigabytes, 2), item(regulars.AddonTenantPoints, 5)},
			RequestedBy: owner.ID, RequestedByName: owner.Name}, regulars.RequestApproved, ""},
		{&regulars.Request{Kind: regulars.RequestAddons, PartnerID: beanLeaf.ID, Items: []regulars.RequestItem{item(regulars.AddonTerabytes, 3)},
			RequestedBy: owner.ID, RequestedByName: owner.Name}, regulars.RequestRejected, "Three terabytes is far more than your media use; start with Gigabytes."},
		{&regulars.Request{Kind: regulars.RequestAddons, PartnerID: beanLeaf.ID, Items: []regulars.RequestItem{item(regulars.AddonTenantVIP, 2)},
			RequestedBy: owner.ID, RequestedByName: owner.Name}, regulars.RequestPending, ""},
		{&regulars.Request{Kind: regulars.RequestAddons, PartnerID: crumb.ID, Items: []regulars.RequestItem{item(regulars.AddonGigabytes, 1)},
			RequestedBy: crumbOwner.ID, RequestedByName: crumbOwner.Name}, regulars.RequestCancelled, ""},
		{&regulars.Request{Kind: regulars.RequestPackage, PartnerID: crumb.ID, PackageID: business.ID, BillingPeriod: regulars.BillingMonthly,
			Price: business.MonthlyPrice, Currency: business.Currency, FromPackageID: starter.ID, FromBillingPeriod: regulars.BillingMonthly,
			RequestedBy: crumbOwner.ID, RequestedByName: crumbOwner.Name}, regulars.RequestPending, ""},
		{&regulars.Request{Kind: regulars.RequestRegistration, PackageID: starter.ID, BillingPeriod: regulars.BillingYearly, Price: starter.YearlyPrice, Currency: starter.Currency,
			Registration: &regulars.Registration{BrandName: "Harbour Fish & Chips", Country: "GB", Website: "https://harbourfish.example",
				ContactName: "Hana Harbour", ContactEmail: "hana@harbourfish.example", ContactPhone: "+44 20 7946 0456"},
			RequestedByName: "Hana Harbour"}, regulars.RequestPending, ""},
	}
	for _, s := range steps {
		s.req.TenantID = t.ID
		if err := db.CreateRequest(ctx, s.req); err != nil {
			return err
		}
		switch s.status {
		case regulars.RequestApproved, regulars.RequestRejected:
			if _, err := db.DecideRequest(ctx, t.ID, s.req.ID, s.status, op.ID, op.Name, s.reason); err != nil {
				return err
			}
		case regulars.RequestCancelled:
			if _, err := db.CancelRequest(ctx, s.req.PartnerID, s.req.ID, s.req.RequestedBy, s.req.RequestedByName); err != nil {
				return err
			}
		}
		if s.status == regulars.RequestApproved {
			for _, it := range s.req.Items {
				if err := db.AddToWallet(ctx, s.req.PartnerID, it.Kind, it.Amount()); err != nil {
					return err
				}
			}
		}
	}
	// Some attachments already stored, so the storage meter shows something.
	_, err = db.AddStorageBytes(ctx, beanLeaf.ID, 3_400_000_000, false, 0)
	return err
}
