package web

import (
	"net/http"

	"regulars"
)

func (h *Handler) supportForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "support", &Page{Title: "Support"})
}

func (h *Handler) sendSupport(w http.ResponseWriter, r *http.Request) {
	if err := h.app.SendSupportMessage(r.Context(), actorFrom(r.Context()), r.PostFormValue("subject"), r.PostFormValue("body")); err != nil {
		h.fail(w, r, err, "support", &Page{Title: "Support"})
		return
	}
	h.redirect(w, r, "/admin/support", "success", "Your message was sent to "+actorFrom(r.Context()).Tenant.Name+". They will answer by email.")
}

func (h *Handler) tenantHome(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	partners, err := h.app.DB.Partners(r.Context(), a.User.TenantID, "")
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	pending, err := h.app.DB.CountPendingRequests(r.Context(), a.User.TenantID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	packages, err := h.app.DB.Packages(r.Context(), a.User.TenantID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	// Partners by status, and by package (every package, in the
	// catalogue's order, so that one nobody buys shows too).
	counts, byPackage := map[string]int{}, map[int64]int64{}
	for _, p := range partners {
		counts[p.Status]++
		byPackage[p.PackageID]++
	}
	var rows []bar
	for _, pkg := range packages {
		rows = append(rows, bar{Label: pkg.Name, Value: byPackage[pkg.ID], Color: "#4f46e5"})
	}
	var statuses []statusCount
	for _, st := range []string{regulars.PartnerActive, regulars.PartnerSuspended} {
		statuses = append(statuses, statusCount{st, counts[st]})
	}
	h.render(w, r, http.StatusOK, "tenant_home", &Page{Title: a.Tenant.Name, Data: map[string]any{"Partners": len(partners), "ByStatus": statuses,
		"ByPackage": bars("Partners by package", rows), "PendingRequests": pending, "CanDecide": a.Can(regulars.FeatureTenantRequests, regulars.LevelView)}})
}

type statusCount struct {
	Status string
	N      int
}

func (h *Handler) tenantOutbox(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	mails, err := h.app.DB.Outbox(r.Context(), a.User.TenantID, 200)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_outbox", &Page{Title: "Email outbox", Data: mails})
}

func (h *Handler) tenantSupport(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	msgs, err := h.app.DB.SupportMessages(r.Context(), a.User.TenantID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_support", &Page{Title: "Support inbox", Data: msgs})
}
