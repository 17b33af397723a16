package web

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

// partnershipRoutes are the pages of Partnership settings (partner admin),
// the packages, add-ons, partners and requests of the tenant console, and
// the public partnership registration.
func (h *Handler) partnershipRoutes() []httpx.Route {
	const (
		view   = regulars.LevelView
		update = regulars.LevelUpdate
		manage = regulars.LevelManage
	)
	p := featureRoutes("/admin/partnership", httpx.Partner, regulars.FeaturePartnership)
	t := func(method, pattern string, f regulars.Feature, l regulars.Level, fn http.HandlerFunc) httpx.Route {
		return httpx.Route{Method: method, Pattern: "/tenant" + pattern, Side: httpx.Tenant, Feature: f, Level: l, Handler: fn}
	}
	pub := func(method, pattern string, fn http.HandlerFunc) httpx.Route {
		return httpx.Route{Method: method, Pattern: pattern, Side: httpx.Public, Handler: fn}
	}
	pkgs, partners, requests := regulars.FeatureTenantPackages, regulars.FeatureTenantPartners, regulars.FeatureTenantRequests
	return []httpx.Route{
		p("GET", "", view, h.partnershipWallet),
		p("GET", "/purchase", update, h.purchaseForm),
		p("POST", "/purchase", update, h.purchase),
		p("GET", "/addon-activity", view, h.addonActivity),
		p("GET", "/package", view, h.partnerPackage),
		p("GET", "/package/change", update, h.changePackageForm),
		p("POST", "/package/change", update, h.changePackage),
		p("GET", "/package-activity", view, h.packageActivity),
		p("POST", "/requests/{id}/cancel", update, h.cancelRequest),
		p("GET", "/info", view, h.partnerInfo),
		ownerOnly(p("POST", "/info", view, h.savePartnerInfo)),

		t("GET", "/packages", pkgs, view, h.tenantPackages),
		t("GET", "/packages/new", pkgs, manage, h.newPackage),
		t("POST", "/packages", pkgs, manage, h.createPackage),
		t("GET", "/packages/{id}", pkgs, view, h.editPackage),
		t("POST", "/packages/{id}", pkgs, update, h.updatePackage),
		t("POST", "/packages/{id}/retire", pkgs, manage, h.retirePackage),
		t("POST", "/packages/{id}/restore", pkgs, manage, h.restorePackage),
		t("GET", "/addons/{kind}", pkgs, view, h.editAddon),
		t("POST", "/addons/{kind}", pkgs, update, h.saveAddon),

		t("GET", "/partners", partners, view, h.tenantPartners),
		t("GET", "/partners/{id}", partners, view, h.tenantPartner),
		t("POST", "/partners/{id}/suspend", partners, update, h.suspendPartner),
		t("POST", "/partners/{id}/reactivate", partners, update, h.reactivatePartner),

		t("GET", "/requests", requests, view, h.tenantRequests),
		t("GET", "/requests/export.csv", requests, view, h.exportRequests),
		t("GET", "/requests/{id}", requests, view, h.tenantRequest),
		t("POST", "/requests/{id}/approve", requests, update, h.approveRequest),
		t("POST", "/requests/{id}/reject", requests, update, h.rejectRequest),

		pub("GET", "/register", h.registerIndex),
		pub("GET", "/register/{tenant}", h.registerForm),
		pub("POST", "/register/{tenant}", h.register),
	}
}

// partnershipData is what every Partnership settings page gets.
type partnershipData struct {
	Tab        string
	CanRequest bool // partnership at update level
	*app.Partnership
	Requests []*regulars.Request
	Options  []app.PackageOption
}

func (h *Handler) partnershipPage(w http.ResponseWriter, r *http.Request, tab, title string, fill func(*partnershipData) error) {
	a := actorFrom(r.Context())
	ps, err := h.app.Partnership(r.Context(), a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	d := &partnershipData{Tab: tab, CanRequest: a.Can(regulars.FeaturePartnership, regulars.LevelUpdate), Partnership: ps}
	if fill != nil {
		if err := fill(d); err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
	}
	h.render(w, r, http.StatusOK, "partnership", &Page{Title: title, Data: d, Active: "/admin/partnership"})
}

func (h *Handler) partnershipWallet(w http.ResponseWriter, r *http.Request) {
	h.partnershipPage(w, r, "wallet", "Partnership settings", nil)
}

func (h *Handler) addonActivity(w http.ResponseWriter, r *http.Request) {
	h.partnershipPage(w, r, "addon-activity", "Add-on activity", func(d *partnershipData) error {
		var err error
		d.Requests, err = h.app.PartnerRequests(r.Context(), actorFrom(r.Context()), regulars.RequestAddons)
		return err
	})
}

func (h *Handler) packageActivity(w http.ResponseWriter, r *http.Request) {
	h.partnershipPage(w, r, "package-activity", "Package activity", func(d *partnershipData) error {
		var err error
		d.Requests, err = h.app.PartnerRequests(r.Context(), actorFrom(r.Context()), regulars.RequestPackage)
		return err
	})
}

func (h *Handler) partnerPackage(w http.ResponseWriter, r *http.Request) {
	h.partnershipPage(w, r, "package", "Package", nil)
}

func (h *Handler) partnerInfo(w http.ResponseWriter, r *http.Request) {
	h.partnershipPage(w, r, "info", "Partnership details", nil)
}

func (h *Handler) purchaseForm(w http.ResponseWriter, r *http.Request) {
	h.partnershipPage(w, r, "purchase", "Purchase add-ons", nil)
}

func (h *Handler) changePackageForm(w http.ResponseWriter, r *http.Request) {
	h.partnershipPage(w, r, "change", "Change package", func(d *partnershipData) error {
		var err error
		d.Options, err = h.app.PackageOptions(r.Context(), actorFrom(r.Context()))
		return err
	})
}

// failPartnership re-renders a Partnership settings form with its errors.
func (h *Handler) failPartnership(w http.ResponseWriter, r *http.Request, err error, tab, title string) {
	if regulars.ErrorCode(err) != regulars.EINVALID || len(regulars.FieldErrors(err)) == 0 {
		h.fail(w, r, err, "", nil)
		return
	}
	a := actorFrom(r.Context())
	ps, perr := h.app.Partnership(r.Context(), a)
	if perr != nil {
		h.fail(w, r, perr, "", nil)
		return
	}
	d := &partnershipData{Tab: tab, CanRequest: a.Can(regulars.FeaturePartnership, regulars.LevelUpdate), Partnership: ps}
	if tab == "change" {
		if d.Options, perr = h.app.PackageOptions(r.Context(), a); perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
	}
	h.fail(w, r, err, "partnership", &Page{Title: title, Data: d, Active: "/admin/partnership"})
}

func (h *Handler) purchase(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	r.ParseForm()
	v := regulars.Validation{}
	var lines []app.AddonLine
	for _, k := range regulars.AddonKinds {
		raw := strings.TrimSpace(r.PostFormValue("qty." + k.Kind))
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(raw, ",", ""), 10, 64)
		if err != nil {
			v.Add("qty."+k.Kind, "Enter a whole number of units.")
			continue
		}
		lines = append(lines, app.AddonLine{Kind: k.Kind, Quantity: n})
	}
	if err := v.Err(); err != nil {
		h.failPartnership(w, r, err, "purchase", "Purchase add-ons")
		return
	}
	req, err := h.app.RequestAddons(r.Context(), a, lines)
	if err != nil {
		h.failPartnership(w, r, err, "purchase", "Purchase add-ons")
		return
	}
	total := make([]string, 0, 1)
	for _, m := range req.Totals() {
		total = append(total, m.String())
	}
	h.redirect(w, r, "/admin/partnership/addon-activity", "success",
		"Your request ("+strings.Join(total, " + ")+") was sent to "+a.Tenant.Name+". You will receive an email when it is approved or rejected.")
}

func (h *Handler) changePackage(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	req, err := h.app.RequestPackageChange(r.Context(), a, formInt(r, "package"), r.PostFormValue("period"))
	if err != nil {
		h.failPartnership(w, r, err, "change", "Change package")
		return
	}
	h.redirect(w, r, "/admin/partnership/package-activity", "success",
		"You asked to change to "+req.PackageName+" ("+req.BillingPeriod+"). Your current package stays in force until "+a.Tenant.Name+" approves; you will receive an email.")
}

func (h *Handler) cancelRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	req, err := h.app.CancelRequest(r.Context(), actorFrom(r.Context()), id)
	back := "/admin/partnership/addon-activity"
	if req != nil && req.Kind == regulars.RequestPackage {
		back = "/admin/partnership/package-activity"
	}
	if err != nil {
		if regulars.ErrorCode(err) == regulars.ECONFLICT {
			h.redirect(w, r, back, "warning", regulars.ErrorMessage(err))
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, back, "success", "Your request is cancelled.")
}

func (h *Handler) savePartnerInfo(w http.ResponseWriter, r *http.Request) {
	in := app.PartnerInfo{BrandName: r.PostFormValue("brand_name"), Country: r.PostFormValue("country"), Website: r.PostFormValue("website")}
	if _, err := h.app.UpdatePartnerInfo(r.Context(), actorFrom(r.Context()), in); err != nil {
		h.failPartnership(w, r, err, "info", "Partnership details")
		return
	}
	h.redirect(w, r, "/admin/partnership/info", "success", "Partnership details saved.")
}

// featureLabel names a feature for people.
func featureLabel(f regulars.Feature) string {
	for _, fi := range regulars.PartnerFeatures {
		if fi.Feature == f {
			return fi.Label
		}
	}
	return string(f)
}

// packageLimits sums up a package's limits: "1 channel · 3 staff users · …".
func packageLimits(p *regulars.Package) string {
	var parts []string
	for _, l := range regulars.PackageLimits {
		if l.Feature != "" && !p.Includes(l.Feature) {
			continue
		}
		v, ok := p.Limit(l.Key)
		label := strings.ToLower(l.Label)
		if v == 1 && l.Unit == "" {
			label = strings.TrimSuffix(label, "s")
		}
		switch {
		case !ok:
			parts = append(parts, "unlimited "+label)
		case l.Unit != "":
			parts = append(parts, regulars.Thousands(v)+" "+l.Unit+" "+label)
		default:
			parts = append(parts, regulars.Thousands(v)+" "+label)
		}
	}
	return strings.Join(parts, " · ")
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

func storagePercent(s app.Storage) int {
	if s.Allowed <= 0 {
		if s.Used > 0 {
			return 100
		}
		return 0
	}
	return int(min(100, s.Used*100/s.Allowed))
}

// partnershipFuncs are the template functions of the partnership pages.
func partnershipFuncs() template.FuncMap {
	return template.FuncMap{
		"list":      func(items ...string) []string { return items },
		"thousands": regulars.Thousands,
		"amount": func(n int64, unit string) string {
			if n == 1 {
				unit = strings.TrimSuffix(unit, "s")
			}
			return regulars.Thousands(n) + " " + unit
		},
		"bytes":             app.FormatBytes,
		"priceText":         regulars.PriceText,
		"countries":         func() []regulars.Country { return regulars.Countries },
		"countryName":       regulars.CountryName,
		"featureLabel":      featureLabel,
		"partnerFeatures":   func() []regulars.FeatureInfo { return regulars.PartnerFeatures },
		"packageLimitInfos": func() []regulars.LimitInfo { return regulars.PackageLimits },
		"limitLabel": func(l regulars.LimitInfo) string {
			if l.Unit != "" {
				return l.Label + " (" + l.Unit + ")"
			}
			return l.Label
		},
		"packageLimits":  packageLimits,
		"joinAnd":        joinAnd,
		"storagePercent": storagePercent,
		"canManagePackages": func(a *app.Actor) bool {
			return a.Can(regulars.FeatureTenantPackages, regulars.LevelManage)
		},
		"anyAvailable": func(list []*regulars.Addon) bool {
			for _, a := range list {
				if a.Available {
					return true
				}
			}
			return false
		},
	}
}
