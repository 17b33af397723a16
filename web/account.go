package web

import (
	"net/http"

	"regulars"
)

type accountData struct {
	Sessions  []*regulars.Session
	Tokens    []*regulars.APIToken
	NewToken  string
	Users     []*regulars.User // transfer candidates (owner only)
	SessionID int64
}

func (h *Handler) accountPage(r *http.Request, d *accountData) (*Page, error) {
	a := actorFrom(r.Context())
	var err error
	if d.Sessions, err = h.app.DB.Sessions(r.Context(), a.User.ID); err != nil {
		return nil, err
	}
	if d.Tokens, err = h.app.DB.APITokens(r.Context(), a.User.ID); err != nil {
		return nil, err
	}
	if a.IsOwner() {
		users, err := h.app.DB.Users(r.Context(), a.User.TenantID, a.PartnerID())
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.ID != a.User.ID && u.Status == regulars.UserActive {
				d.Users = append(d.Users, u)
			}
		}
	}
	d.SessionID = a.SessionID
	return &Page{Title: "Account settings", Data: d}, nil
}

func (h *Handler) account(w http.ResponseWriter, r *http.Request) {
	p, err := h.accountPage(r, &accountData{})
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "account", p)
}

// accountFail re-renders the account page with a form's errors.
func (h *Handler) accountFail(w http.ResponseWriter, r *http.Request, err error) {
	p, perr := h.accountPage(r, &accountData{})
	if perr != nil {
		h.fail(w, r, perr, "", nil)
		return
	}
	h.fail(w, r, err, "account", p)
}

func (h *Handler) accountProfile(w http.ResponseWriter, r *http.Request) {
	if err := h.app.UpdateProfile(r.Context(), actorFrom(r.Context()), r.PostFormValue("name"), r.PostFormValue("phone")); err != nil {
		h.accountFail(w, r, err)
		return
	}
	h.redirect(w, r, "/account", "success", "Your profile is saved.")
}

func (h *Handler) accountPassword(w http.ResponseWriter, r *http.Request) {
	if err := h.app.ChangeOwnPassword(r.Context(), actorFrom(r.Context()), r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("confirm")); err != nil {
		h.accountFail(w, r, err)
		return
	}
	h.redirect(w, r, "/account", "success", "Your password is changed. Your other sessions were signed out.")
}

func (h *Handler) accountEndOthers(w http.ResponseWriter, r *http.Request) {
	if err := h.app.SignOutOthers(r.Context(), actorFrom(r.Context())); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/account", "success", "Every other session was signed out.")
}

func (h *Handler) accountCreateToken(w http.ResponseWriter, r *http.Request) {
	_, secret, err := h.app.CreateAPIToken(r.Context(), actorFrom(r.Context()), r.PostFormValue("token_name"))
	if err != nil {
		if fe := regulars.FieldErrors(err); fe != nil {
			err = &regulars.Error{Code: regulars.EINVALID, Message: regulars.ErrorMessage(err), Fields: map[string]string{"token_name": fe["name"]}}
		}
		h.accountFail(w, r, err)
		return
	}
	// The secret is shown once, on this response only.
	p, err := h.accountPage(r, &accountData{NewToken: secret})
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	p.Flash = &Flash{Kind: "success", Text: "Token created. Copy it now: it will not be shown again."}
	h.render(w, r, http.StatusOK, "account", p)
}

func (h *Handler) accountDeleteToken(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	if err := h.app.DeleteAPIToken(r.Context(), actorFrom(r.Context()), id); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/account", "success", "The token is revoked.")
}

func (h *Handler) accountTransfer(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	if err := h.app.TransferOwnership(r.Context(), a, formInt(r, "to"), r.PostFormValue("transfer_password")); err != nil {
		if fe := regulars.FieldErrors(err); fe != nil && fe["password"] != "" {
			err = &regulars.Error{Code: regulars.EINVALID, Message: regulars.ErrorMessage(err), Fields: map[string]string{"transfer_password": fe["password"]}}
		}
		h.accountFail(w, r, err)
		return
	}
	h.redirect(w, r, "/account", "success", "Ownership is transferred. You now have your successor's former role.")
}
