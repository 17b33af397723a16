package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"regulars"
	"regulars/app"
	"regulars/httpx"
	"regulars/store"
)

// partnershipTable is Partnership settings for partner staff and the
// packages, add-ons, partners and requests of the tenant console.
func (x *API) partnershipTable() []endpoint {
	const (
		view   = regulars.LevelView
		update = regulars.LevelUpdate
		manage = regulars.LevelManage
	)
	p, t := httpx.Partner, httpx.Tenant
	ps, pkgs, partners, requests := regulars.FeaturePartnership, regulars.FeatureTenantPackages, regulars.FeatureTenantPartners, regulars.FeatureTenantRequests
	conflict := []int{http.StatusConflict}
	return []endpoint{
		{Method: "GET", Pattern: "/api/v1/partnership", Side: p, Feature: ps, Level: view,
			Doc: "The caller's partnership: package and price, usage against its limits, storage, add-on wallet, pending package change", Op: handle(x, http.StatusOK, x.partnership)},
		{Method: "GET", Pattern: "/api/v1/partnership/addons", Side: p, Feature: ps, Level: view,
			Doc: "The add-on catalogue with unit and unit price; only available ones can be requested", Op: handle(x, http.StatusOK, x.partnerAddons)},
		{Method: "GET", Pattern: "/api/v1/partnership/packages", Side: p, Feature: ps, Level: view,
			Doc: "Every package the partner may change to, the current one marked, with what the partner would have to reduce or would lose", Op: handle(x, http.StatusOK, x.partnerPackages)},
		{Method: "GET", Pattern: "/api/v1/partnership/requests", Side: p, Feature: ps, Level: view,
			Doc: "The partner's add-on and package requests, pending first", Op: handle(x, http.StatusOK, x.partnerRequests)},
		{Method: "POST", Pattern: "/api/v1/partnership/addon-requests", Side: p, Feature: ps, Level: update,
			Doc: "Ask the tenant for add-ons; the wallet changes when the tenant approves", Op: handle(x, http.StatusCreated, x.requestAddons)},
		{Method: "POST", Pattern: "/api/v1/partnership/package-requests", Side: p, Feature: ps, Level: update,
			Doc: "Ask for another package or billing period; refused (409) while one is pending or when current usage does not fit, naming what to reduce", Op: handle(x, http.StatusCreated, x.requestPackage), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/partnership/requests/{id}/cancel", Side: p, Feature: ps, Level: update,
			Doc: "Cancel a pending request; a request decided a moment earlier answers 409 and stays as decided", Op: handle(x, http.StatusOK, x.cancelRequest), Errors: conflict},
		{Method: "PATCH", Pattern: "/api/v1/partnership/info", Side: p, Feature: ps, Level: view, OwnerOnly: true,
			Doc: "Change the brand name, country (ISO 3166-1 alpha-2) or website", Op: handle(x, http.StatusOK, x.updatePartnerInfo)},

		{Method: "GET", Pattern: "/api/v1/tenant/requests", Side: t, Feature: requests, Level: view,
			Doc: "The queue: pending requests, oldest first", Op: handle(x, http.StatusOK, x.pendingRequests)},
		{Method: "GET", Pattern: "/api/v1/tenant/requests/history", Side: t, Feature: requests, Level: view,
			Doc: "Decided requests, newest decision first (up to 500)", Op: handle(x, http.StatusOK, x.requestHistory)},
		{Method: "GET", Pattern: "/api/v1/tenant/requests/{id}", Side: t, Feature: requests, Level: view,
			Doc: "Get a request", Op: handle(x, http.StatusOK, x.tenantRequest)},
		{Method: "POST", Pattern: "/api/v1/tenant/requests/{id}/approve", Side: t, Feature: requests, Level: update,
			Doc: "Approve and apply a request exactly once; a request already decided (or cancelled) answers 409", Op: handle(x, http.StatusOK, x.approveRequest), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/tenant/requests/{id}/reject", Side: t, Feature: requests, Level: update,
			Doc: "Reject a request with a reason the partner is emailed; a request already decided answers 409", Op: handle(x, http.StatusOK, x.rejectRequest), Errors: conflict},

		{Method: "GET", Pattern: "/api/v1/tenant/packages", Side: t, Feature: pkgs, Level: view,
			Doc: "The tenant's packages with their partner counts", Op: handle(x, http.StatusOK, x.listPackages)},
		{Method: "POST", Pattern: "/api/v1/tenant/packages", Side: t, Feature: pkgs, Level: manage,
			Doc: "Create a package", Op: handle(x, http.StatusCreated, x.createPackage)},
		{Method: "GET", Pattern: "/api/v1/tenant/packages/{id}", Side: t, Feature: pkgs, Level: view,
			Doc: "Get a package", Op: handle(x, http.StatusOK, x.getPackage)},
		{Method: "PATCH", Pattern: "/api/v1/tenant/packages/{id}", Side: t, Feature: pkgs, Level: update,
			Doc: "Change a package; it applies at once to its partners, who lose features taken out", Op: handle(x, http.StatusOK, x.updatePackage)},
		{Method: "POST", Pattern: "/api/v1/tenant/packages/{id}/retire", Side: t, Feature: pkgs, Level: manage,
			Doc: "Retire a package: partners on it keep it, nobody new can choose it", Op: handle(x, http.StatusOK, x.retirePackage)},
		{Method: "POST", Pattern: "/api/v1/tenant/packages/{id}/restore", Side: t, Feature: pkgs, Level: manage,
			Doc: "Offer a retired package again", Op: handle(x, http.StatusOK, x.restorePackage)},
		{Method: "GET", Pattern: "/api/v1/tenant/addons", Side: t, Feature: pkgs, Level: view,
			Doc: "The add-on catalogue, every kind", Op: handle(x, http.StatusOK, x.tenantAddons)},
		{Method: "PUT", Pattern: "/api/v1/tenant/addons", Side: t, Feature: pkgs, Level: update,
			Doc: "Set the name, unit, price and availability of one add-on kind", Op: handle(x, http.StatusOK, x.saveAddon)},

		{Method: "GET", Pattern: "/api/v1/tenant/partners", Side: t, Feature: partners, Level: view,
			Doc: "The tenant's partners by brand name (up to 500)", Op: handle(x, http.StatusOK, x.listPartners)},
		{Method: "GET", Pattern: "/api/v1/tenant/partners/{id}", Side: t, Feature: partners, Level: view,
			Doc: "A partner with package, usage, wallet, staff and requests", Op: handle(x, http.StatusOK, x.getPartner)},
		{Method: "POST", Pattern: "/api/v1/tenant/partners/{id}/suspend", Side: t, Feature: partners, Level: update,
			Doc: "Suspend a partner: its staff are signed out and cannot sign in", Op: handle(x, http.StatusOK, x.suspendPartner), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/tenant/partners/{id}/reactivate", Side: t, Feature: partners, Level: update,
			Doc: "Reactivate a suspended partner", Op: handle(x, http.StatusOK, x.reactivatePartner), Errors: conflict},
	}
}

// ---------------------------------------------------------------- types

// AddonKind is a kind of add-on; the catalogue has one item of each.
type AddonKind string

// Enum lists the add-on kinds.
func (AddonKind) Enum() []string {
	out := make([]string, len(regulars.AddonKinds))
	for i, k := range regulars.AddonKinds {
		out[i] = k.Kind
	}
	return out
}

// LimitKey names a package limit.
type LimitKey string

// Enum lists the package limits.
func (LimitKey) Enum() []string {
	out := make([]string, len(regulars.PackageLimits))
	for i, l := range regulars.PackageLimits {
		out[i] = l.Key
	}
	return out
}

// Money is an amount in minor units of a currency.
type Money struct {
	Amount   int64  `json:"amount" doc:"minor units (cents)"`
	Currency string `json:"currency" doc:"ISO 4217 code, e.g. EUR"`
}

func moneyOut(m regulars.Money) Money { return Money{m.Amount, m.Currency} }

// Addon is an item of the add-on catalogue.
type Addon struct {
	Kind      AddonKind `json:"kind"`
	Name      string    `json:"name"`
	Unit      string    `json:"unit" doc:"what the wallet balance counts: GB, TB, points, credits"`
	UnitSize  int64     `json:"unit_size" doc:"what one unit bought adds to the wallet"`
	UnitPrice Money     `json:"unit_price"`
	Available bool      `json:"available" doc:"offered to partners"`
}

func addonOut(a *regulars.Addon) Addon {
	return Addon{Kind: AddonKind(a.Kind), Name: a.Name, Unit: a.Unit(), UnitSize: a.UnitSize, UnitPrice: Money{a.UnitPrice, a.Currency}, Available: a.Available}
}

// AddonList is the catalogue.
type AddonList struct {
	Items []Addon `json:"items"`
}

// AddonSave sets one add-on kind of the catalogue.
type AddonSave struct {
	Kind      AddonKind `json:"kind"`
	Name      string    `json:"name"`
	UnitSize  int64     `json:"unit_size" doc:"what one unit adds to the wallet, at least 1"`
	UnitPrice int64     `json:"unit_price" doc:"minor units (cents) per unit"`
	Currency  string    `json:"currency"`
	Available bool      `json:"available"`
}

// Package is what a partner buys: features and limits.
type Package struct {
	ID           int64              `json:"id"`
	Name         string             `json:"name"`
	MonthlyPrice Money              `json:"monthly_price"`
	YearlyPrice  Money              `json:"yearly_price"`
	Features     []FeatureName      `json:"features"`
	Limits       map[LimitKey]int64 `json:"limits" doc:"a limit left out is unlimited"`
	Retired      bool               `json:"retired" doc:"partners on it keep it; nobody new can choose it"`
	Partners     int                `json:"partners" doc:"partners on the package (tenant staff only; 0 for partners)"`
	CreatedAt    time.Time          `json:"created_at"`
}

func packageOut(p *regulars.Package, partners int) Package {
	out := Package{ID: p.ID, Name: p.Name, MonthlyPrice: Money{p.MonthlyPrice, p.Currency}, YearlyPrice: Money{p.YearlyPrice, p.Currency},
		Features: []FeatureName{}, Limits: map[LimitKey]int64{}, Retired: p.Retired, Partners: partners, CreatedAt: p.CreatedAt}
	for _, f := range p.Features {
		out.Features = append(out.Features, FeatureName(f))
	}
	for k, v := range p.Limits {
		if _, ok := regulars.LimitInfoOf(k); ok {
			out.Limits[LimitKey(k)] = v
		}
	}
	return out
}

// PackageList is the tenant's packages.
type PackageList struct {
	Items []Package `json:"items"`
}

// PackageCreate makes a package.
type PackageCreate struct {
	Name         string             `json:"name"`
	MonthlyPrice int64              `json:"monthly_price" doc:"minor units (cents)"`
	YearlyPrice  int64              `json:"yearly_price" doc:"minor units (cents)"`
	Currency     string             `json:"currency"`
	Features     []FeatureName      `json:"features"`
	Limits       map[LimitKey]int64 `json:"limits,omitempty" doc:"a limit left out is unlimited"`
}

// PackageUpdate changes the members it holds and keeps the others.
type PackageUpdate struct {
	Name         *string            `json:"name,omitempty"`
	MonthlyPrice *int64             `json:"monthly_price,omitempty"`
	YearlyPrice  *int64             `json:"yearly_price,omitempty"`
	Currency     *string            `json:"currency,omitempty"`
	Features     []FeatureName      `json:"features,omitempty" doc:"the whole new list"`
	Limits       map[LimitKey]int64 `json:"limits,omitempty" doc:"the whole new set; send null members by leaving them out to make them unlimited"`
}

// PackageOption is a package a partner may change to.
type PackageOption struct {
	Package Package       `json:"package"`
	Current bool          `json:"current"`
	Reduce  []string      `json:"reduce" doc:"what the partner must reduce before asking for it; empty when usage fits"`
	Lose    []FeatureName `json:"lose" doc:"features the partner would lose: their engagements are archived on approval"`
}

// PackageOptionList is every package a partner may choose.
type PackageOptionList struct {
	Items []PackageOption `json:"items"`
}

// LimitUsage is a partner's use of one package limit.
type LimitUsage struct {
	Key      LimitKey `json:"key"`
	Label    string   `json:"label"`
	Limited  bool     `json:"limited" doc:"false: the package sets no limit"`
	Limit    int64    `json:"limit" doc:"the limit when limited; bytes for storage_gb (package storage plus Gigabytes and Terabytes)"`
	Counted  bool     `json:"counted" doc:"false: nothing counts this yet"`
	Used     int64    `json:"used" doc:"bytes for storage_gb"`
	Included bool     `json:"included" doc:"false when the limit's feature is not in the package"`
}

// WalletBalance is the balance of one add-on kind.
type WalletBalance struct {
	Kind    AddonKind `json:"kind"`
	Name    string    `json:"name"`
	Balance int64     `json:"balance"`
	Unit    string    `json:"unit"`
}

// Storage is a partner's storage use against its allowance.
type Storage struct {
	UsedBytes    int64 `json:"used_bytes"`
	AllowedBytes int64 `json:"allowed_bytes" doc:"package storage plus Gigabytes and Terabytes balances"`
	Limited      bool  `json:"limited"`
}

// Partnership is a partner's package, usage and wallet.
type Partnership struct {
	Partner               Partner         `json:"partner"`
	Package               *Package        `json:"package" doc:"null when the partner has none"`
	BillingPeriod         string          `json:"billing_period" enum:"monthly,yearly"`
	Price                 *Money          `json:"price" doc:"the package price for the billing period; null without a package"`
	Usage                 []LimitUsage    `json:"usage"`
	Storage               Storage         `json:"storage"`
	Wallet                []WalletBalance `json:"wallet"`
	PendingPackageRequest *Request        `json:"pending_package_request" doc:"the package change waiting for the tenant, if any"`
}

func partnershipOut(ps *app.Partnership) Partnership {
	p := ps.Partner
	out := Partnership{Partner: Partner{ID: p.ID, BrandName: p.BrandName, Country: p.Country, Website: p.Website, Status: p.Status},
		BillingPeriod: p.BillingPeriod, Usage: []LimitUsage{}, Wallet: []WalletBalance{},
		Storage: Storage{UsedBytes: ps.Storage.Used, AllowedBytes: ps.Storage.Allowed, Limited: ps.Storage.Limited}}
	if ps.Package != nil {
		pkg := packageOut(ps.Package, 0)
		out.Package = &pkg
		out.Price = &Money{ps.Package.Price(p.BillingPeriod), ps.Package.Currency}
	}
	for _, u := range ps.Usage {
		out.Usage = append(out.Usage, LimitUsage{Key: LimitKey(u.Key), Label: u.Label, Limited: u.Limited, Limit: u.Limit, Counted: u.Counted, Used: u.Used, Included: u.Included})
	}
	for _, a := range ps.Addons {
		out.Wallet = append(out.Wallet, WalletBalance{Kind: AddonKind(a.Kind), Name: a.Name, Balance: ps.Wallet[a.Kind], Unit: a.Unit()})
	}
	if r := ps.PendingPackage; r != nil {
		ro := requestOut(r)
		out.PendingPackageRequest = &ro
	}
	return out
}

// RequestItem is one add-on line of a purchase, priced when requested.
type RequestItem struct {
	Kind      AddonKind `json:"kind"`
	Name      string    `json:"name"`
	Quantity  int64     `json:"quantity" doc:"units bought"`
	Amount    int64     `json:"amount" doc:"what the item adds to the wallet: quantity × unit size"`
	Unit      string    `json:"unit"`
	UnitPrice Money     `json:"unit_price"`
	Total     Money     `json:"total"`
}

// PackageChange is what a package change or a registration asks for.
type PackageChange struct {
	PackageID         int64  `json:"package_id"`
	PackageName       string `json:"package_name"`
	BillingPeriod     string `json:"billing_period" enum:"monthly,yearly"`
	Price             Money  `json:"price" doc:"for the billing period, when requested"`
	FromPackageID     *int64 `json:"from_package_id" doc:"the package before (package changes)"`
	FromPackageName   string `json:"from_package_name"`
	FromBillingPeriod string `json:"from_billing_period"`
}

// Registration is what the public partnership form sent.
type Registration struct {
	BrandName    string `json:"brand_name"`
	Country      string `json:"country"`
	Website      string `json:"website"`
	ContactName  string `json:"contact_name"`
	ContactEmail string `json:"contact_email"`
	ContactPhone string `json:"contact_phone"`
}

// Request is an add-on purchase, a package change or a registration.
type Request struct {
	ID              int64          `json:"id"`
	Kind            string         `json:"kind" enum:"addons,package,registration"`
	Status          string         `json:"status" enum:"pending,approved,rejected,cancelled"`
	PartnerID       *int64         `json:"partner_id" doc:"null for a registration not approved yet"`
	Subject         string         `json:"subject" doc:"the partner's brand name, or the registering brand"`
	Items           []RequestItem  `json:"items" doc:"add-on lines; empty for other kinds"`
	Package         *PackageChange `json:"package" doc:"null for add-on requests"`
	Registration    *Registration  `json:"registration" doc:"null but for registrations"`
	Totals          []Money        `json:"totals" doc:"the price per currency"`
	RequestedByName string         `json:"requested_by_name"`
	CreatedAt       time.Time      `json:"created_at"`
	DecidedAt       *time.Time     `json:"decided_at" doc:"null while pending"`
	DecidedByName   string         `json:"decided_by_name" doc:"the operator, or the partner's user who cancelled"`
	Reason          string         `json:"reason" doc:"why it was rejected"`
}

func requestOut(r *regulars.Request) Request {
	out := Request{ID: r.ID, Kind: r.Kind, Status: r.Status, Subject: r.Subject(), Items: []RequestItem{}, Totals: []Money{},
		RequestedByName: r.RequestedByName, CreatedAt: r.CreatedAt, DecidedByName: r.DecidedByName, Reason: r.Reason}
	if r.PartnerID != 0 {
		id := r.PartnerID
		out.PartnerID = &id
	}
	if !r.DecidedAt.IsZero() {
		at := r.DecidedAt
		out.DecidedAt = &at
	}
	for _, it := range r.Items {
		out.Items = append(out.Items, RequestItem{Kind: AddonKind(it.Kind), Name: it.Name, Quantity: it.Quantity, Amount: it.Amount(), Unit: it.Unit(),
			UnitPrice: Money{it.UnitPrice, it.Currency}, Total: Money{it.Total(), it.Currency}})
	}
	for _, m := range r.Totals() {
		out.Totals = append(out.Totals, moneyOut(m))
	}
	if r.Kind != regulars.RequestAddons {
		pc := &PackageChange{PackageID: r.PackageID, PackageName: r.PackageName, BillingPeriod: r.BillingPeriod, Price: Money{r.Price, r.Currency},
			FromPackageName: r.FromPackageName, FromBillingPeriod: r.FromBillingPeriod}
		if r.FromPackageID != 0 {
			id := r.FromPackageID
			pc.FromPackageID = &id
		}
		out.Package = pc
	}
	if g := r.Registration; g != nil {
		out.Registration = &Registration{BrandName: g.BrandName, Country: g.Country, Website: g.Website, ContactName: g.ContactName, ContactEmail: g.ContactEmail, ContactPhone: g.ContactPhone}
	}
	return out
}

// RequestList is a list of requests.
type RequestList struct {
	Items []Request `json:"items"`
}

func requestsOut(list []*regulars.Request) RequestList {
	out := RequestList{Items: make([]Request, len(list))}
	for i, r := range list {
		out.Items[i] = requestOut(r)
	}
	return out
}

// AddonLine asks for a number of units of one add-on.
type AddonLine struct {
	Kind     AddonKind `json:"kind"`
	Quantity int64     `json:"quantity" doc:"1 or more"`
}

// AddonRequestCreate asks for add-ons.
type AddonRequestCreate struct {
	Items []AddonLine `json:"items" doc:"at least one add-on, each once"`
}

func (r Request) location() string { return fmt.Sprintf("/api/v1/partnership/requests/%d", r.ID) }

// PackageRequestCreate asks for another package or billing period.
type PackageRequestCreate struct {
	PackageID     int64  `json:"package_id"`
	BillingPeriod string `json:"billing_period" enum:"monthly,yearly"`
}

// PartnerInfoUpdate changes the members it holds.
type PartnerInfoUpdate struct {
	BrandName *string `json:"brand_name,omitempty"`
	Country   *string `json:"country,omitempty" doc:"ISO 3166-1 alpha-2, e.g. IE"`
	Website   *string `json:"website,omitempty" doc:"an http(s) address; empty string to remove"`
}

// RequestReject rejects a request.
type RequestReject struct {
	Reason string `json:"reason" doc:"required; the partner reads it in the email"`
}

// PartnerSummary is a partner in the tenant's list.
type PartnerSummary struct {
	ID              int64     `json:"id"`
	BrandName       string    `json:"brand_name"`
	Country         string    `json:"country"`
	Website         string    `json:"website"`
	ContactEmail    string    `json:"contact_email"`
	Status          string    `json:"status" enum:"pending,active,suspended"`
	PackageID       *int64    `json:"package_id"`
	PackageName     string    `json:"package_name"`
	BillingPeriod   string    `json:"billing_period" enum:"monthly,yearly"`
	PendingRequests int       `json:"pending_requests"`
	CreatedAt       time.Time `json:"created_at"`
}

// PartnerList is the tenant's partners.
type PartnerList struct {
	Items []PartnerSummary `json:"items"`
}

// TenantPartner is a partner as the tenant console sees it.
type TenantPartner struct {
	Partnership Partnership `json:"partnership"`
	Users       []User      `json:"users"`
	Requests    []Request   `json:"requests"`
}

// ---------------------------------------------------------------- handlers

// renamed maps the app's form field names to the API's member names.
func renamed(err error, names func(string) string) error {
	var e *regulars.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = map[string]string{}
	for k, v := range e.Fields {
		out.Fields[names(k)] = v
	}
	return &out
}

func (x *API) partnership(r *http.Request, _ noBody) (Partnership, error) {
	ps, err := x.app.Partnership(r.Context(), actorOf(r))
	if err != nil {
		return Partnership{}, err
	}
	return partnershipOut(ps), nil
}

func (x *API) partnerAddons(r *http.Request, _ noBody) (AddonList, error) {
	a := actorOf(r)
	list, err := x.app.Catalogue(r.Context(), a.User.TenantID)
	if err != nil {
		return AddonList{}, err
	}
	out := AddonList{Items: make([]Addon, len(list))}
	for i, ad := range list {
		out.Items[i] = addonOut(ad)
	}
	return out, nil
}

func (x *API) partnerPackages(r *http.Request, _ noBody) (PackageOptionList, error) {
	list, err := x.app.PackageOptions(r.Context(), actorOf(r))
	if err != nil {
		return PackageOptionList{}, err
	}
	out := PackageOptionList{Items: make([]PackageOption, len(list))}
	for i, o := range list {
		po := PackageOption{Package: packageOut(o.Package, 0), Current: o.Current, Reduce: []string{}, Lose: []FeatureName{}}
		po.Reduce = append(po.Reduce, o.Over...)
		for _, f := range o.Lost {
			po.Lose = append(po.Lose, FeatureName(f))
		}
		out.Items[i] = po
	}
	return out, nil
}

func (x *API) partnerRequests(r *http.Request, _ noBody) (RequestList, error) {
	list, err := x.app.PartnerRequests(r.Context(), actorOf(r), "")
	if err != nil {
		return RequestList{}, err
	}
	return requestsOut(list), nil
}

func (x *API) requestAddons(r *http.Request, in AddonRequestCreate) (Request, error) {
	lines := make([]app.AddonLine, len(in.Items))
	index := map[string]int{}
	for i, l := range in.Items {
		lines[i] = app.AddonLine{Kind: string(l.Kind), Quantity: l.Quantity}
		if _, seen := index[string(l.Kind)]; !seen {
			index[string(l.Kind)] = i
		}
	}
	req, err := x.app.RequestAddons(r.Context(), actorOf(r), lines)
	if err != nil {
		return Request{}, renamed(err, func(k string) string {
			if kind, ok := strings.CutPrefix(k, "qty."); ok {
				return fmt.Sprintf("items[%d].quantity", index[kind])
			}
			return k
		})
	}
	return requestOut(req), nil
}

func (x *API) requestPackage(r *http.Request, in PackageRequestCreate) (Request, error) {
	req, err := x.app.RequestPackageChange(r.Context(), actorOf(r), in.PackageID, in.BillingPeriod)
	if err != nil {
		return Request{}, renamed(err, func(k string) string {
			return map[string]string{"package": "package_id", "period": "billing_period"}[k]
		})
	}
	return requestOut(req), nil
}

func (x *API) cancelRequest(r *http.Request, _ noBody) (Request, error) {
	id, err := pathID(r, "request")
	if err != nil {
		return Request{}, err
	}
	req, err := x.app.CancelRequest(r.Context(), actorOf(r), id)
	if err != nil {
		return Request{}, err
	}
	return requestOut(req), nil
}

func (x *API) updatePartnerInfo(r *http.Request, in PartnerInfoUpdate) (Partner, error) {
	a := actorOf(r)
	p := a.Partner
	info := app.PartnerInfo{BrandName: p.BrandName, Country: p.Country, Website: p.Website}
	set(&info.BrandName, in.BrandName)
	set(&info.Country, in.Country)
	set(&info.Website, in.Website)
	np, err := x.app.UpdatePartnerInfo(r.Context(), a, info)
	if err != nil {
		return Partner{}, err
	}
	return Partner{ID: np.ID, BrandName: np.BrandName, Country: np.Country, Website: np.Website, Status: np.Status}, nil
}

func (x *API) pendingRequests(r *http.Request, _ noBody) (RequestList, error) {
	list, err := x.app.TenantRequests(r.Context(), actorOf(r), store.RequestFilter{Tab: "pending"})
	if err != nil {
		return RequestList{}, err
	}
	return requestsOut(list), nil
}

func (x *API) requestHistory(r *http.Request, _ noBody) (RequestList, error) {
	list, err := x.app.TenantRequests(r.Context(), actorOf(r), store.RequestFilter{Tab: "history"})
	if err != nil {
		return RequestList{}, err
	}
	return requestsOut(list), nil
}

func (x *API) tenantRequest(r *http.Request, _ noBody) (Request, error) {
	id, err := pathID(r, "request")
	if err != nil {
		return Request{}, err
	}
	req, err := x.app.TenantRequest(r.Context(), actorOf(r), id)
	if err != nil {
		return Request{}, err
	}
	return requestOut(req), nil
}

func (x *API) approveRequest(r *http.Request, _ noBody) (Request, error) {
	id, err := pathID(r, "request")
	if err != nil {
		return Request{}, err
	}
	req, err := x.app.ApproveRequest(r.Context(), actorOf(r), id)
	if err != nil {
		return Request{}, err
	}
	return requestOut(req), nil
}

func (x *API) rejectRequest(r *http.Request, in RequestReject) (Request, error) {
	id, err := pathID(r, "request")
	if err != nil {
		return Request{}, err
	}
	req, err := x.app.RejectRequest(r.Context(), actorOf(r), id, in.Reason)
	if err != nil {
		return Request{}, err
	}
	return requestOut(req), nil
}

func (x *API) listPackages(r *http.Request, _ noBody) (PackageList, error) {
	list, err := x.app.Packages(r.Context(), actorOf(r))
	if err != nil {
		return PackageList{}, err
	}
	out := PackageList{Items: make([]Package, len(list))}
	for i, p := range list {
		out.Items[i] = packageOut(p.Package, p.Partners)
	}
	return out, nil
}

// packageFieldName maps the app's package field names to the API's.
func packageFieldName(k string) string {
	if key, ok := strings.CutPrefix(k, "limit."); ok {
		return "limits." + key
	}
	return k
}

func packageInput(name string, monthly, yearly int64, currency string, features []FeatureName, limits map[LimitKey]int64) app.PackageInput {
	in := app.PackageInput{Name: name, MonthlyPrice: monthly, YearlyPrice: yearly, Currency: currency, Limits: map[string]int64{}}
	for _, f := range features {
		in.Features = append(in.Features, regulars.Feature(f))
	}
	for k, v := range limits {
		in.Limits[string(k)] = v
	}
	return in
}

func (x *API) createPackage(r *http.Request, in PackageCreate) (Package, error) {
	p, err := x.app.CreatePackage(r.Context(), actorOf(r), packageInput(in.Name, in.MonthlyPrice, in.YearlyPrice, in.Currency, in.Features, in.Limits))
	if err != nil {
		return Package{}, renamed(err, packageFieldName)
	}
	return packageOut(p, 0), nil
}

func (p Package) location() string { return fmt.Sprintf("/api/v1/tenant/packages/%d", p.ID) }

func (x *API) getPackage(r *http.Request, _ noBody) (Package, error) {
	id, err := pathID(r, "package")
	if err != nil {
		return Package{}, err
	}
	p, err := x.app.Package(r.Context(), actorOf(r), id)
	if err != nil {
		return Package{}, err
	}
	counts, err := x.app.DB.PackagePartnerCounts(r.Context(), p.TenantID)
	if err != nil {
		return Package{}, err
	}
	return packageOut(p, counts[p.ID]), nil
}

func (x *API) updatePackage(r *http.Request, in PackageUpdate) (Package, error) {
	id, err := pathID(r, "package")
	if err != nil {
		return Package{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	p, err := x.app.Package(ctx, actor, id)
	if err != nil {
		return Package{}, err
	}
	cur := packageOut(p, 0)
	name, monthly, yearly, currency := p.Name, p.MonthlyPrice, p.YearlyPrice, p.Currency
	set(&name, in.Name)
	set(&monthly, in.MonthlyPrice)
	set(&yearly, in.YearlyPrice)
	set(&currency, in.Currency)
	features, limits := cur.Features, cur.Limits
	if in.Features != nil {
		features = in.Features
	}
	if in.Limits != nil {
		limits = in.Limits
	}
	np, err := x.app.UpdatePackage(ctx, actor, id, packageInput(name, monthly, yearly, currency, features, limits))
	if err != nil {
		return Package{}, renamed(err, packageFieldName)
	}
	return packageOut(np, 0), nil
}

func (x *API) setRetired(r *http.Request, retired bool) (Package, error) {
	id, err := pathID(r, "package")
	if err != nil {
		return Package{}, err
	}
	p, err := x.app.SetPackageRetired(r.Context(), actorOf(r), id, retired)
	if err != nil {
		return Package{}, err
	}
	return packageOut(p, 0), nil
}

func (x *API) retirePackage(r *http.Request, _ noBody) (Package, error) { return x.setRetired(r, true) }
func (x *API) restorePackage(r *http.Request, _ noBody) (Package, error) {
	return x.setRetired(r, false)
}

func (x *API) tenantAddons(r *http.Request, _ noBody) (AddonList, error) {
	return x.partnerAddons(r, noBody{})
}

func (x *API) saveAddon(r *http.Request, in AddonSave) (Addon, error) {
	ad, err := x.app.SaveAddon(r.Context(), actorOf(r), string(in.Kind), app.AddonInput{Name: in.Name, UnitSize: in.UnitSize, UnitPrice: in.UnitPrice, Currency: in.Currency, Available: in.Available})
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return Addon{}, &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"kind": "Choose one of the add-on kinds."}}
	}
	if err != nil {
		return Addon{}, err
	}
	return addonOut(ad), nil
}

func (x *API) listPartners(r *http.Request, _ noBody) (PartnerList, error) {
	list, err := x.app.SearchPartners(r.Context(), actorOf(r), store.PartnerFilter{})
	if err != nil {
		return PartnerList{}, err
	}
	out := PartnerList{Items: make([]PartnerSummary, len(list))}
	for i, p := range list {
		s := PartnerSummary{ID: p.ID, BrandName: p.BrandName, Country: p.Country, Website: p.Website, ContactEmail: p.ContactEmail, Status: p.Status,
			PackageName: p.PackageName, BillingPeriod: p.BillingPeriod, PendingRequests: p.PendingRequests, CreatedAt: p.CreatedAt}
		if p.PackageID != 0 {
			id := p.PackageID
			s.PackageID = &id
		}
		out.Items[i] = s
	}
	return out, nil
}

func (x *API) getPartner(r *http.Request, _ noBody) (TenantPartner, error) {
	id, err := pathID(r, "partner")
	if err != nil {
		return TenantPartner{}, err
	}
	d, err := x.app.PartnerDetail(r.Context(), actorOf(r), id)
	if err != nil {
		return TenantPartner{}, err
	}
	out := TenantPartner{Partnership: partnershipOut(d.Partnership), Users: make([]User, len(d.Users)), Requests: requestsOut(d.Requests).Items}
	for i, u := range d.Users {
		out.Users[i] = userOut(u)
	}
	return out, nil
}

func (x *API) setSuspended(r *http.Request, suspended bool) (Partner, error) {
	id, err := pathID(r, "partner")
	if err != nil {
		return Partner{}, err
	}
	p, err := x.app.SetPartnerSuspended(r.Context(), actorOf(r), id, suspended)
	if err != nil {
		return Partner{}, err
	}
	return Partner{ID: p.ID, BrandName: p.BrandName, Country: p.Country, Website: p.Website, Status: p.Status}, nil
}

func (x *API) suspendPartner(r *http.Request, _ noBody) (Partner, error) {
	return x.setSuspended(r, true)
}
func (x *API) reactivatePartner(r *http.Request, _ noBody) (Partner, error) {
	return x.setSuspended(r, false)
}
