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
	h.render(w, r, http.StatusOK, "tenant_home", &Page{Title: a.Tenant.Name, Data: map[string]any{"Partners": len(partners), "ByStatus": counts}})
}

func (h *Handler) tenantPartners(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	q := r.URL.Query().Get("q")
	partners, err := h.app.DB.Partners(r.Context(), a.User.TenantID, q)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "tenant_partners", &Page{Title: "Partners", Data: map[string]any{"Partners": partners, "Q": q}})
}

func (h *Handler) tenantPartner(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	p, err := h.app.DB.Partner(r.Context(), a.User.TenantID, id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	users, err := h.app.DB.Users(r.Context(), a.User.TenantID, p.ID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	channels, err := h.app.DB.Channels(r.Context(), p.ID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	var pkg *regulars.Package
	if p.PackageID != 0 {
		if pkg, err = h.app.DB.Package(r.Context(), a.User.TenantID, p.PackageID); err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
	}
	h.render(w, r, http.StatusOK, "tenant_partner", &Page{Title: p.BrandName, Active: "/tenant/partners", Data: map[string]any{"Partner": p, "Users": users, "Channels": channels, "Package": pkg}})
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
