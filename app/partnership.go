package app

import (
	"context"
	"fmt"
	"strings"

	"regulars"
	"regulars/store"
)

// Partnership is what a partner's Partnership settings show.
type Partnership struct {
	Partner *regulars.Partner
	Package *regulars.Package // nil when the partner has none
	Wallet  map[string]int64
	Addons  []*regulars.Addon // the catalogue, every kind
	Usage   []LimitUsage
	Storage Storage
	// PendingPackage is the package change waiting for the tenant, if any.
	PendingPackage *regulars.Request
}

// Partnership loads the actor's partnership: package, usage, wallet.
func (a *App) Partnership(ctx context.Context, actor *Actor) (*Partnership, error) {
	if err := actor.Require(regulars.FeaturePartnership, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.partnershipOf(ctx, actor.User.TenantID, actor.PartnerID())
}

func (a *App) partnershipOf(ctx context.Context, tenantID, partnerID int64) (*Partnership, error) {
	p, err := a.DB.Partner(ctx, tenantID, partnerID)
	if err != nil {
		return nil, err
	}
	ps := &Partnership{Partner: p}
	if p.PackageID != 0 {
		if ps.Package, err = a.DB.Package(ctx, tenantID, p.PackageID); err != nil {
			return nil, err
		}
		if ps.Usage, err = a.usageOf(ctx, tenantID, partnerID, ps.Package); err != nil {
			return nil, err
		}
	}
	if ps.Wallet, err = a.DB.Wallet(ctx, partnerID); err != nil {
		return nil, err
	}
	if ps.Addons, err = a.Catalogue(ctx, tenantID); err != nil {
		return nil, err
	}
	if ps.Storage, err = a.PartnerStorage(ctx, tenantID, partnerID); err != nil {
		return nil, err
	}
	ps.PendingPackage, err = a.DB.PendingPackageRequest(ctx, partnerID)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		ps.PendingPackage, err = nil, nil
	}
	return ps, err
}

// Catalogue returns the tenant's add-on catalogue: every kind, in order,
// with the saved item or an unavailable default.
func (a *App) Catalogue(ctx context.Context, tenantID int64) ([]*regulars.Addon, error) {
	saved, err := a.DB.Addons(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	byKind := map[string]*regulars.Addon{}
	for _, ad := range saved {
		byKind[ad.Kind] = ad
	}
	out := make([]*regulars.Addon, 0, len(regulars.AddonKinds))
	for _, k := range regulars.AddonKinds {
		ad := byKind[k.Kind]
		if ad == nil {
			ad = &regulars.Addon{TenantID: tenantID, Kind: k.Kind, Name: k.Name, UnitSize: 1, Currency: "EUR"}
		}
		out = append(out, ad)
	}
	return out, nil
}

// AddonLine is one add-on of a purchase request: a kind and a number of units.
type AddonLine struct {
	Kind     string
	Quantity int64
}

// MaxAddonQuantity bounds the units of one add-on in one request.
const MaxAddonQuantity = 1_000_000

// RequestAddons sends the tenant a request to buy add-ons. Prices are those
// of the catalogue now; the wallet changes only when the tenant approves.
func (a *App) RequestAddons(ctx context.Context, actor *Actor, lines []AddonLine) (*regulars.Request, error) {
	if err := actor.Require(regulars.FeaturePartnership, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	catalogue, err := a.Catalogue(ctx, actor.User.TenantID)
	if err != nil {
		return nil, err
	}
	byKind := map[string]*regulars.Addon{}
	for _, ad := range catalogue {
		byKind[ad.Kind] = ad
	}
	v := regulars.Validation{}
	seen := map[string]bool{}
	var items []regulars.RequestItem
	for _, l := range lines {
		field := "qty." + l.Kind
		ad := byKind[l.Kind]
		switch {
		case ad == nil || !ad.Available:
			v.Add(field, "This add-on is not offered.")
		case seen[l.Kind]:
			v.Add(field, "Each add-on can appear once in a request.")
		case l.Quantity <= 0:
			v.Add(field, "Enter 1 or more, or leave it empty.")
		case l.Quantity > MaxAddonQuantity:
			v.Add(field, "Enter at most "+regulars.Thousands(MaxAddonQuantity)+".")
		default:
			items = append(items, regulars.RequestItem{Kind: ad.Kind, Name: ad.Name, Quantity: l.Quantity, UnitSize: ad.UnitSize, UnitPrice: ad.UnitPrice, Currency: ad.Currency})
		}
		seen[l.Kind] = true
	}
	if len(lines) == 0 {
		v.Add("items", "Select at least one add-on and enter how many units you want.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	r := &regulars.Request{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), PartnerName: actor.Partner.BrandName, Kind: regulars.RequestAddons,
		Items: items, RequestedBy: actor.User.ID, RequestedByName: actor.User.Name}
	if err := a.DB.CreateRequest(ctx, r); err != nil {
		return nil, err
	}
	a.tellTenant(ctx, actor, r)
	return r, nil
}

// RequestPackageChange asks the tenant for another package or billing
// period. It is refused up front when the partner's current usage does not
// fit the new package, naming what to reduce, and while another change is
// pending. The current package stays in force until the tenant approves.
func (a *App) RequestPackageChange(ctx context.Context, actor *Actor, packageID int64, period string) (*regulars.Request, error) {
	if err := actor.Require(regulars.FeaturePartnership, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	tenantID, partnerID := actor.User.TenantID, actor.PartnerID()
	v := regulars.Validation{}
	var pkg *regulars.Package
	if packageID == 0 {
		v.Add("package", "Choose a package.")
	} else if p, err := a.DB.Package(ctx, tenantID, packageID); err != nil {
		v.Add("package", "Choose one of the packages listed.")
	} else {
		pkg = p
	}
	if period != regulars.BillingMonthly && period != regulars.BillingYearly {
		v.Add("period", "Choose monthly or yearly billing.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	partner, err := a.DB.Partner(ctx, tenantID, partnerID)
	if err != nil {
		return nil, err
	}
	if pkg.ID == partner.PackageID && period == partner.BillingPeriod {
		return nil, regulars.Errorf(regulars.EINVALID, "%s with %s billing is already your package.", pkg.Name, period)
	}
	if pkg.Retired && pkg.ID != partner.PackageID {
		return nil, regulars.Errorf(regulars.EINVALID, "The package %s is no longer offered. Choose another one.", pkg.Name)
	}
	if pending, err := a.DB.PendingPackageRequest(ctx, partnerID); err == nil {
		return nil, regulars.Errorf(regulars.ECONFLICT, "You already asked to change to %s on %s. Cancel that request first, or wait for the decision.",
			pending.PackageName, pending.CreatedAt.Format("2 Jan 2006"))
	} else if regulars.ErrorCode(err) != regulars.ENOTFOUND {
		return nil, err
	}
	over, err := a.violations(ctx, tenantID, partnerID, pkg)
	if err != nil {
		return nil, err
	}
	if len(over) > 0 {
		return nil, &regulars.Error{Code: regulars.ELIMIT,
			Message: fmt.Sprintf("Your current usage does not fit %s. Reduce %s first, then ask again.", pkg.Name, joinAnd(over)), Detail: over}
	}
	r := &regulars.Request{TenantID: tenantID, PartnerID: partnerID, PartnerName: partner.BrandName, Kind: regulars.RequestPackage,
		PackageID: pkg.ID, PackageName: pkg.Name, BillingPeriod: period, Price: pkg.Price(period), Currency: pkg.Currency,
		FromPackageID: partner.PackageID, FromBillingPeriod: partner.BillingPeriod,
		RequestedBy: actor.User.ID, RequestedByName: actor.User.Name}
	if err := a.DB.CreateRequest(ctx, r); err != nil {
		return nil, err
	}
	a.tellTenant(ctx, actor, r)
	return r, nil
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// tellTenant emails the tenant's support address about a new request. A
// failure is logged: the request is stored and waits in the queue anyway.
func (a *App) tellTenant(ctx context.Context, actor *Actor, r *regulars.Request) {
	if actor.Tenant.SupportEmail == "" {
		return
	}
	body := fmt.Sprintf("%s asked for: %s.\n\nDecide in the requests queue:\n%s/tenant/requests/%d\n", r.Subject(), describeRequest(r), a.BaseURL, r.ID)
	if err := a.Mail.Send(ctx, &regulars.Mail{TenantID: r.TenantID, To: actor.Tenant.SupportEmail, Subject: "New request from " + r.Subject(), Body: body}); err != nil {
		a.Log.Warn("emailing the tenant about a request", "request", r.ID, "err", err)
	}
}

// describeRequest says in one line what a request asks for.
func describeRequest(r *regulars.Request) string {
	switch r.Kind {
	case regulars.RequestAddons:
		parts := make([]string, len(r.Items))
		for i, it := range r.Items {
			parts[i] = fmt.Sprintf("%s × %s (%s %s, %s)", regulars.Thousands(it.Quantity), it.Name, regulars.Thousands(it.Amount()), it.Unit(), regulars.FormatMoney(it.Total(), it.Currency))
		}
		return joinAnd(parts)
	case regulars.RequestPackage:
		return fmt.Sprintf("the package %s billed %s (%s)", r.PackageName, r.BillingPeriod, regulars.FormatMoney(r.Price, r.Currency))
	case regulars.RequestRegistration:
		return fmt.Sprintf("a partnership for %s on the package %s billed %s", r.Registration.BrandName, r.PackageName, r.BillingPeriod)
	}
	return r.Kind
}

// PartnerRequests lists the actor's partner's requests of a kind, pending
// first.
func (a *App) PartnerRequests(ctx context.Context, actor *Actor, kind string) ([]*regulars.Request, error) {
	if err := actor.Require(regulars.FeaturePartnership, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Requests(ctx, actor.User.TenantID, store.RequestFilter{PartnerID: actor.PartnerID(), Kind: kind})
}

// PartnerRequest returns one of the actor's partner's requests.
func (a *App) PartnerRequest(ctx context.Context, actor *Actor, id int64) (*regulars.Request, error) {
	if err := actor.Require(regulars.FeaturePartnership, regulars.LevelView); err != nil {
		return nil, err
	}
	r, err := a.DB.Request(ctx, actor.User.TenantID, id)
	if err != nil {
		return nil, err
	}
	if r.PartnerID != actor.PartnerID() {
		return nil, regulars.ErrNotFound("request")
	}
	return r, nil
}

// CancelRequest withdraws one of the partner's pending requests. When an
// operator decided it a moment earlier, the answer says so and nothing
// changes: exactly one outcome wins.
func (a *App) CancelRequest(ctx context.Context, actor *Actor, id int64) (*regulars.Request, error) {
	if err := actor.Require(regulars.FeaturePartnership, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	ok, err := a.DB.CancelRequest(ctx, actor.PartnerID(), id, actor.User.ID, actor.User.Name)
	if err != nil {
		return nil, err
	}
	r, err := a.DB.Request(ctx, actor.User.TenantID, id)
	if err != nil || r.PartnerID != actor.PartnerID() {
		return nil, regulars.ErrNotFound("request")
	}
	if !ok {
		return r, alreadyDecided(r)
	}
	return r, nil
}

// alreadyDecided is the answer to everyone but the first decision.
func alreadyDecided(r *regulars.Request) error {
	by := ""
	if r.DecidedByName != "" {
		by = " by " + r.DecidedByName
	}
	return &regulars.Error{Code: regulars.ECONFLICT,
		Message: fmt.Sprintf("This request was already %s%s on %s. Nothing was changed.", r.Status, by, r.DecidedAt.Format("2 Jan 2006 15:04 UTC")), Detail: r}
}

// PartnerInfo is the editable part of a partner: Partnership settings → Info.
type PartnerInfo struct {
	BrandName string
	Country   string
	Website   string
}

func (in *PartnerInfo) check(v regulars.Validation) {
	in.BrandName = strings.TrimSpace(in.BrandName)
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	in.Website = regulars.NormalizeWebsite(in.Website)
	regulars.CheckName(v, "brand_name", in.BrandName, 120)
	if in.Country == "" {
		v.Add("country", "Choose a country.")
	} else if regulars.CountryName(in.Country) == "" {
		v.Add("country", "Choose a country from the list.")
	}
	if in.Website != "" && !regulars.ValidWebsite(in.Website) {
		v.Add("website", "Enter a web address like https://example.com.")
	}
}

// UpdatePartnerInfo saves the brand name, country and website. Only the
// Account owner may.
func (a *App) UpdatePartnerInfo(ctx context.Context, actor *Actor, in PartnerInfo) (*regulars.Partner, error) {
	if actor.Partner == nil || !actor.IsOwner() {
		return nil, regulars.Errorf(regulars.EFORBIDDEN, "Only the Account owner can change the partnership details.")
	}
	v := regulars.Validation{}
	in.check(v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	p, err := a.DB.Partner(ctx, actor.User.TenantID, actor.PartnerID())
	if err != nil {
		return nil, err
	}
	p.BrandName, p.Country, p.Website = in.BrandName, in.Country, in.Website
	if err := a.DB.UpdatePartnerInfo(ctx, p); err != nil {
		return nil, err
	}
	*actor.Partner = *p
	return p, nil
}

// PackageOption is a package a partner may change to, with what the change
// would mean for it now.
type PackageOption struct {
	*regulars.Package
	Current bool
	Over    []string           // what to reduce first; empty when usage fits
	Lost    []regulars.Feature // features the partner would lose
}

// PackageOptions lists every package the partner can choose (the offered
// ones and its current one), cheapest first.
func (a *App) PackageOptions(ctx context.Context, actor *Actor) ([]PackageOption, error) {
	if err := actor.Require(regulars.FeaturePartnership, regulars.LevelView); err != nil {
		return nil, err
	}
	tenantID, partnerID := actor.User.TenantID, actor.PartnerID()
	all, err := a.DB.Packages(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	partner, err := a.DB.Partner(ctx, tenantID, partnerID)
	if err != nil {
		return nil, err
	}
	var current *regulars.Package
	for _, p := range all {
		if p.ID == partner.PackageID {
			current = p
		}
	}
	var out []PackageOption
	for _, p := range all {
		if p.Retired && p.ID != partner.PackageID {
			continue
		}
		o := PackageOption{Package: p, Current: p.ID == partner.PackageID, Lost: lostFeatures(current, p)}
		if !o.Current {
			if o.Over, err = a.violations(ctx, tenantID, partnerID, p); err != nil {
				return nil, err
			}
		}
		out = append(out, o)
	}
	return out, nil
}
