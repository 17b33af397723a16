package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/app"
	"regulars/httpx"
	"regulars/store"
)

// ---------------------------------------------------------------- packages

func (h *Handler) tenantPackages(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	list, err := h.app.Packages(r.Context(), a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	addons, err := h.app.Catalogue(r.Context(), a.User.TenantID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_packages", &Page{Title: "Packages and add-ons", Data: map[string]any{
		"Packages": list, "Addons": addons, "RegisterURL": h.app.BaseURL + "/register/" + a.Tenant.Slug,
		"CanManage": a.Can(regulars.FeatureTenantPackages, regulars.LevelManage), "CanUpdate": a.Can(regulars.FeatureTenantPackages, regulars.LevelUpdate),
	}})
}

type packageFormData struct {
	Package  *regulars.Package
	Partners int
	ReadOnly bool
}

// Has reports whether the form shows feature f as included.
func (d *packageFormData) Has(f *Form, feature regulars.Feature) bool {
	if f.Submitted() {
		for _, v := range f.Values["features"] {
			if v == string(feature) {
				return true
			}
		}
		return false
	}
	return d.Package != nil && d.Package.Includes(feature)
}

// LimitValue is the text of a limit field ("" = unlimited).
func (d *packageFormData) LimitValue(f *Form, key string) string {
	if f.Submitted() {
		return f.Get("limit." + key)
	}
	if d.Package == nil {
		return ""
	}
	if v, ok := d.Package.Limit(key); ok {
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// PriceValue is the text of a price field.
func (d *packageFormData) PriceValue(f *Form, name string) string {
	if f.Submitted() {
		return f.Get(name)
	}
	if d.Package == nil {
		return ""
	}
	if name == "yearly_price" {
		return regulars.PriceText(d.Package.YearlyPrice)
	}
	return regulars.PriceText(d.Package.MonthlyPrice)
}

func (h *Handler) packageForm(r *http.Request, p *regulars.Package) (*Page, error) {
	a := actorFrom(r.Context())
	d := &packageFormData{Package: p, ReadOnly: !a.Can(regulars.FeatureTenantPackages, regulars.LevelUpdate)}
	title := "New package"
	if p != nil {
		title = p.Name
		counts, err := h.app.DB.PackagePartnerCounts(r.Context(), a.User.TenantID)
		if err != nil {
			return nil, err
		}
		d.Partners = counts[p.ID]
	} else {
		d.ReadOnly = !a.Can(regulars.FeatureTenantPackages, regulars.LevelManage)
	}
	return &Page{Title: title, Data: d, Active: "/tenant/packages"}, nil
}

// packageInput parses the package form; malformed numbers become field
// errors here, the rules are app's.
func packageInput(r *http.Request) (app.PackageInput, error) {
	r.ParseForm()
	v := regulars.Validation{}
	in := app.PackageInput{Name: r.PostFormValue("name"), Currency: r.PostFormValue("currency"), Limits: map[string]int64{}}
	in.MonthlyPrice = formPrice(r, "monthly_price", v)
	in.YearlyPrice = formPrice(r, "yearly_price", v)
	for _, f := range r.PostForm["features"] {
		in.Features = append(in.Features, regulars.Feature(f))
	}
	for _, l := range regulars.PackageLimits {
		raw := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("limit."+l.Key)), ",", "")
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			v.Add("limit."+l.Key, "Enter a whole number, or leave it empty for no limit.")
			continue
		}
		in.Limits[l.Key] = n
	}
	return in, v.Err()
}

func formPrice(r *http.Request, name string, v regulars.Validation) int64 {
	raw := r.PostFormValue(name)
	if strings.TrimSpace(raw) == "" {
		v.Add(name, "Enter a price (0 for free).")
		return 0
	}
	n, ok := regulars.ParsePrice(raw)
	if !ok {
		v.Add(name, "Enter an amount like 29 or 29.90 (at most 10,000,000).")
	}
	return n
}

func (h *Handler) newPackage(w http.ResponseWriter, r *http.Request) {
	p, err := h.packageForm(r, nil)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_package_form", p)
}

func (h *Handler) createPackage(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	in, err := packageInput(r)
	var pkg *regulars.Package
	if err == nil {
		pkg, err = h.app.CreatePackage(r.Context(), a, in)
	}
	if err != nil {
		p, perr := h.packageForm(r, nil)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "tenant_package_form", p)
		return
	}
	h.redirect(w, r, "/tenant/packages", "success", "Package "+pkg.Name+" created. Partners can choose it now.")
}

func (h *Handler) loadPackage(w http.ResponseWriter, r *http.Request) *regulars.Package {
	return loadByID(h, w, r, h.app.Package)
}

func (h *Handler) editPackage(w http.ResponseWriter, r *http.Request) {
	pkg := h.loadPackage(w, r)
	if pkg == nil {
		return
	}
	p, err := h.packageForm(r, pkg)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_package_form", p)
}

func (h *Handler) updatePackage(w http.ResponseWriter, r *http.Request) {
	pkg := h.loadPackage(w, r)
	if pkg == nil {
		return
	}
	in, err := packageInput(r)
	if err == nil {
		_, err = h.app.UpdatePackage(r.Context(), actorFrom(r.Context()), pkg.ID, in)
	}
	if err != nil {
		p, perr := h.packageForm(r, pkg)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "tenant_package_form", p)
		return
	}
	h.redirect(w, r, "/tenant/packages/"+strconv.FormatInt(pkg.ID, 10), "success", "Saved. The change applies to every partner on "+in.Name+".")
}

func (h *Handler) setRetired(w http.ResponseWriter, r *http.Request, retired bool) {
	pkg := h.loadPackage(w, r)
	if pkg == nil {
		return
	}
	if _, err := h.app.SetPackageRetired(r.Context(), actorFrom(r.Context()), pkg.ID, retired); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	msg := pkg.Name + " is retired: partners on it keep it, nobody new can choose it."
	if !retired {
		msg = pkg.Name + " is offered again."
	}
	h.redirect(w, r, "/tenant/packages/"+strconv.FormatInt(pkg.ID, 10), "success", msg)
}

func (h *Handler) retirePackage(w http.ResponseWriter, r *http.Request)  { h.setRetired(w, r, true) }
func (h *Handler) restorePackage(w http.ResponseWriter, r *http.Request) { h.setRetired(w, r, false) }

// ---------------------------------------------------------------- add-ons

func (h *Handler) addonPage(r *http.Request, kind string) (*Page, error) {
	a := actorFrom(r.Context())
	list, err := h.app.Catalogue(r.Context(), a.User.TenantID)
	if err != nil {
		return nil, err
	}
	for _, ad := range list {
		if ad.Kind == kind {
			k, _ := regulars.AddonKindOf(kind)
			return &Page{Title: ad.Name, Active: "/tenant/packages", Data: map[string]any{"Addon": ad, "Kind": k,
				"ReadOnly": !a.Can(regulars.FeatureTenantPackages, regulars.LevelUpdate)}}, nil
		}
	}
	return nil, regulars.ErrNotFound("add-on")
}

func (h *Handler) editAddon(w http.ResponseWriter, r *http.Request) {
	p, err := h.addonPage(r, r.PathValue("kind"))
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_addon_form", p)
}

func (h *Handler) saveAddon(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	page, err := h.addonPage(r, kind)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	v := regulars.Validation{}
	in := app.AddonInput{Name: r.PostFormValue("name"), Currency: r.PostFormValue("currency"), Available: r.PostFormValue("available") != ""}
	in.UnitPrice = formPrice(r, "unit_price", v)
	size, perr := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("unit_size")), ",", ""), 10, 64)
	if perr != nil {
		v.Add("unit_size", "Enter a whole number from 1 to 1,000,000,000.")
	}
	in.UnitSize = size
	err = v.Err()
	var ad *regulars.Addon
	if err == nil {
		ad, err = h.app.SaveAddon(r.Context(), actorFrom(r.Context()), kind, in)
	}
	if err != nil {
		h.fail(w, r, err, "tenant_addon_form", page)
		return
	}
	msg := ad.Name + " saved."
	if !ad.Available {
		msg += " It is not offered to partners."
	}
	h.redirect(w, r, "/tenant/packages#addons", "success", msg)
}

// ---------------------------------------------------------------- partners

func (h *Handler) tenantPartners(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	q := r.URL.Query()
	pkgID, _ := strconv.ParseInt(q.Get("package"), 10, 64)
	f := store.PartnerFilter{Q: q.Get("q"), Status: q.Get("status"), PackageID: pkgID, Country: q.Get("country")}
	partners, err := h.app.SearchPartners(r.Context(), a, f)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	pkgs, err := h.app.DB.Packages(r.Context(), a.User.TenantID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	pending, err := h.app.DB.Requests(r.Context(), a.User.TenantID, store.RequestFilter{Kind: regulars.RequestRegistration, Tab: "pending", WithoutItem: true})
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_partners", &Page{Title: "Partners", Data: map[string]any{
		"Partners": partners, "Filter": f, "Packages": pkgs, "Registrations": len(pending), "Filtered": f != (store.PartnerFilter{}),
		"CanSeeRequests": a.Can(regulars.FeatureTenantRequests, regulars.LevelView), "RegisterURL": h.app.BaseURL + "/register/" + a.Tenant.Slug,
	}})
}

func (h *Handler) tenantPartner(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	d, err := h.app.PartnerDetail(r.Context(), a, id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_partner", &Page{Title: d.Partner.BrandName, Active: "/tenant/partners", Data: map[string]any{
		"D": d, "CanUpdate": a.Can(regulars.FeatureTenantPartners, regulars.LevelUpdate), "CanDecide": a.Can(regulars.FeatureTenantRequests, regulars.LevelUpdate),
		"Country": regulars.CountryName(d.Partner.Country),
	}})
}

func (h *Handler) setSuspended(w http.ResponseWriter, r *http.Request, suspended bool) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	p, err := h.app.SetPartnerSuspended(r.Context(), actorFrom(r.Context()), id, suspended)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	msg := p.BrandName + " is active again: its staff can sign in."
	if suspended {
		msg = p.BrandName + " is suspended: its staff were signed out and cannot sign in."
	}
	h.redirect(w, r, "/tenant/partners/"+strconv.FormatInt(p.ID, 10), "success", msg)
}

func (h *Handler) suspendPartner(w http.ResponseWriter, r *http.Request) { h.setSuspended(w, r, true) }
func (h *Handler) reactivatePartner(w http.ResponseWriter, r *http.Request) {
	h.setSuspended(w, r, false)
}

// ---------------------------------------------------------------- requests

// requestFilter reads the queue's tab and kind from the query.
func requestFilter(q url.Values) store.RequestFilter {
	f := store.RequestFilter{Tab: "pending", Kind: q.Get("kind")}
	if q.Get("tab") == "history" {
		f.Tab = "history"
	}
	switch f.Kind {
	case regulars.RequestAddons, regulars.RequestPackage, regulars.RequestRegistration:
	default:
		f.Kind = ""
	}
	return f
}

func (h *Handler) tenantRequests(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	f := requestFilter(r.URL.Query())
	list, err := h.app.TenantRequests(r.Context(), a, f)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	pending, err := h.app.DB.CountPendingRequests(r.Context(), a.User.TenantID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_requests", &Page{Title: "Requests", Data: map[string]any{
		"Requests": list, "Tab": f.Tab, "Kind": f.Kind, "Pending": pending, "CanDecide": a.Can(regulars.FeatureTenantRequests, regulars.LevelUpdate),
	}})
}

func (h *Handler) tenantRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	p, err := h.requestPage(r, id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_request", p)
}

func (h *Handler) requestPage(r *http.Request, id int64) (*Page, error) {
	a := actorFrom(r.Context())
	req, err := h.app.TenantRequest(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	return &Page{Title: req.KindLabel() + " · " + req.Subject(), Active: "/tenant/requests", Data: map[string]any{
		"Request": req, "CanDecide": a.Can(regulars.FeatureTenantRequests, regulars.LevelUpdate),
		"Country": regulars.CountryName(registrationCountry(req)),
	}}, nil
}

func registrationCountry(r *regulars.Request) string {
	if r.Registration == nil {
		return ""
	}
	return r.Registration.Country
}

// backToQueue returns to the page the decision came from when it is the
// queue or the request, else to the request.
func backToQueue(r *http.Request, id int64) string {
	if u, err := url.Parse(r.Header.Get("Referer")); err == nil && (u.Host == "" || u.Host == r.Host) && u.Path == "/tenant/requests" {
		return u.RequestURI()
	}
	return "/tenant/requests/" + strconv.FormatInt(id, 10)
}

func (h *Handler) approveRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	req, err := h.app.ApproveRequest(r.Context(), actorFrom(r.Context()), id)
	if err != nil {
		if regulars.ErrorCode(err) == regulars.ECONFLICT {
			h.redirect(w, r, backToQueue(r, id), "warning", regulars.ErrorMessage(err))
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	msg := "Approved: " + req.Subject() + " is told by email."
	if req.Kind == regulars.RequestRegistration {
		msg = "Approved: " + req.Subject() + " is a partner now and " + req.Registration.ContactEmail + " was invited as its Account owner."
	}
	h.redirect(w, r, backToQueue(r, id), "success", msg)
}

func (h *Handler) rejectRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	req, err := h.app.RejectRequest(r.Context(), actorFrom(r.Context()), id, r.PostFormValue("reason"))
	if err != nil {
		switch regulars.ErrorCode(err) {
		case regulars.ECONFLICT:
			h.redirect(w, r, backToQueue(r, id), "warning", regulars.ErrorMessage(err))
		case regulars.EINVALID:
			p, perr := h.requestPage(r, id)
			if perr != nil {
				h.fail(w, r, perr, "", nil)
				return
			}
			h.fail(w, r, err, "tenant_request", p)
		default:
			h.fail(w, r, err, "", nil)
		}
		return
	}
	h.redirect(w, r, "/tenant/requests/"+strconv.FormatInt(id, 10), "success", "Rejected: "+req.Subject()+" is told by email, with your reason.")
}

// exportRequests streams the decided requests as CSV, one row per request.
func (h *Handler) exportRequests(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	f := requestFilter(r.URL.Query())
	if r.URL.Query().Get("tab") == "" {
		f.Tab = "history"
	}
	f.Limit = 100000
	list, err := h.app.TenantRequests(r.Context(), a, f)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="requests-%s-%s.csv"`, f.Tab, time.Now().UTC().Format("2006-01-02")))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "partner", "kind", "items", "total", "requested_at", "requested_by", "status", "decided_at", "decided_by", "reason"})
	for _, req := range list {
		var totals []string
		for _, m := range req.Totals() {
			totals = append(totals, m.String())
		}
		cw.Write([]string{strconv.FormatInt(req.ID, 10), csvSafe(req.Subject()), req.KindLabel(), csvSafe(requestSummary(req)), strings.Join(totals, " + "),
			csvTime(req.CreatedAt), csvSafe(req.RequestedByName), req.Status, csvTime(req.DecidedAt), csvSafe(req.DecidedByName), csvSafe(req.Reason)})
	}
	cw.Flush()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// requestSummary says in a line what a request asks for.
func requestSummary(r *regulars.Request) string {
	switch r.Kind {
	case regulars.RequestAddons:
		parts := make([]string, len(r.Items))
		for i, it := range r.Items {
			parts[i] = fmt.Sprintf("%s × %s (%s %s)", regulars.Thousands(it.Quantity), it.Name, regulars.Thousands(it.Amount()), it.Unit())
		}
		return strings.Join(parts, "; ")
	case regulars.RequestPackage:
		from := r.FromPackageName
		if from == "" {
			from = "no package"
		}
		return fmt.Sprintf("%s (%s) → %s (%s)", from, r.FromBillingPeriod, r.PackageName, r.BillingPeriod)
	case regulars.RequestRegistration:
		return fmt.Sprintf("%s (%s), %s, %s", r.PackageName, r.BillingPeriod, r.Registration.ContactName, r.Registration.ContactEmail)
	}
	return ""
}

// ---------------------------------------------------------------- registration

func (h *Handler) registerIndex(w http.ResponseWriter, r *http.Request) {
	slugs, err := h.app.DB.TenantSlugs(r.Context(), 2)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	if len(slugs) != 1 {
		// Several platforms share this installation: each has its own link.
		h.render(w, r, http.StatusNotFound, "error", &Page{Title: "Not found", Data: errorData{Status: http.StatusNotFound,
			Message: "Ask your platform operator for the link to its partnership registration page."}})
		return
	}
	http.Redirect(w, r, "/register/"+url.PathEscape(slugs[0]), http.StatusSeeOther)
}

func (h *Handler) registerPage(r *http.Request) (*Page, error) {
	page, err := h.app.RegistrationForm(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return nil, err
	}
	d := map[string]any{"Page": page, "Countries": regulars.Countries}
	if r.Method == http.MethodGet && r.URL.Query().Get("sent") == "1" {
		d["Done"] = true
		return &Page{Title: "Thank you", Data: d}, nil
	}
	return &Page{Title: "Become a partner of " + page.Tenant.Name, Data: d}, nil
}

func (h *Handler) registerForm(w http.ResponseWriter, r *http.Request) {
	p, err := h.registerPage(r)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "register", p)
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	p, err := h.registerPage(r)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	thanks := "/register/" + url.PathEscape(r.PathValue("tenant")) + "?sent=1"
	// A field people never see: bots fill it in.
	if r.PostFormValue("company_fax") != "" {
		http.Redirect(w, r, thanks, http.StatusSeeOther)
		return
	}
	in := app.RegistrationInput{Registration: regulars.Registration{
		BrandName: r.PostFormValue("brand_name"), Country: r.PostFormValue("country"), Website: r.PostFormValue("website"),
		ContactName: r.PostFormValue("contact_name"), ContactEmail: r.PostFormValue("contact_email"), ContactPhone: r.PostFormValue("contact_phone"),
	}, PackageID: formInt(r, "package"), BillingPeriod: r.PostFormValue("period")}
	if err := h.app.Register(r.Context(), r.PathValue("tenant"), in, httpx.ClientIP(r, h.opts.TrustProxy)); err != nil {
		if regulars.ErrorCode(err) == regulars.ETOOMANY {
			p.Form = &Form{Values: r.PostForm, Message: regulars.ErrorMessage(err)}
			h.render(w, r, http.StatusTooManyRequests, "register", p)
			return
		}
		h.fail(w, r, err, "register", p)
		return
	}
	http.Redirect(w, r, thanks, http.StatusSeeOther)
}
