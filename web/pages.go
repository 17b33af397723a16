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
	counts := map[string]int{}
	for _, p := range partners {
		counts[p.Status]++
	}
	pending, err := h.app.DB.CountPendingRequests(r.Context(), a.User.TenantID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_home", &Page{Title: a.Tenant.Name, Data: map[string]any{"Partners": len(partners), "ByStatus": counts,
		"PendingRequests": pending, "CanDecide": a.Can(regulars.FeatureTenantRequests, regulars.LevelView)}})
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
