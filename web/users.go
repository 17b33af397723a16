package web

import (
	"net/http"
	"strconv"

	"regulars"
	"regulars/app"
)

type userFormData struct {
	User  *regulars.User
	Roles []*regulars.Role
	Role  *regulars.Role // the user's current role
	Self  bool
	// Above: the user's role grants more than the actor has, so the actor
	// may not change their password or access.
	Above bool
}

func (h *Handler) users(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	users, err := h.app.Users(r.Context(), a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	roles, err := h.app.DB.Roles(r.Context(), a.User.TenantID, a.PartnerID())
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	names := map[int64]string{}
	for _, ro := range roles {
		names[ro.ID] = ro.Name
	}
	h.render(w, r, http.StatusOK, "users", &Page{Title: "Users", Data: map[string]any{"Users": users, "RoleNames": names, "Base": base(a),
		"CanManage": a.Can(usersFeatureOf(a), regulars.LevelManage)}})
}

// assignableRoles lists the roles the actor may give: no owner role, none
// above the actor's own levels. Levels on features outside the package count
// for nothing, as in app (they come back only with a package upgrade).
func (h *Handler) assignableRoles(r *http.Request, a *app.Actor) ([]*regulars.Role, error) {
	roles, err := h.app.DB.Roles(r.Context(), a.User.TenantID, a.PartnerID())
	if err != nil {
		return nil, err
	}
	features := featureNames(a.GrantableFeatures())
	var out []*regulars.Role
	for _, ro := range roles {
		if !ro.IsOwner && len(ro.Permissions.Restrict(features).Exceeding(a.Perms)) == 0 {
			out = append(out, ro)
		}
	}
	return out, nil
}

func (h *Handler) userForm(r *http.Request, u *regulars.User) (*Page, error) {
	a := actorFrom(r.Context())
	roles, err := h.assignableRoles(r, a)
	if err != nil {
		return nil, err
	}
	d := &userFormData{User: u, Roles: roles}
	title := "New user"
	if u != nil {
		title = u.Name
		d.Self = u.ID == a.User.ID
		if d.Role, err = h.app.DB.RoleByID(r.Context(), u.RoleID); err != nil {
			return nil, err
		}
		d.Above = app.RoleAbove(a, d.Role)
	}
	return &Page{Title: title, Data: d, Active: base(a) + "/users"}, nil
}

func (h *Handler) newUser(w http.ResponseWriter, r *http.Request) {
	p, err := h.userForm(r, nil)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "user_form", p)
}

func userInput(r *http.Request) app.UserInput {
	return app.UserInput{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone"), RoleID: formInt(r, "role")}
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	u, err := h.app.CreateUser(r.Context(), a, userInput(r))
	if err != nil {
		p, perr := h.userForm(r, nil)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "user_form", p)
		return
	}
	h.redirect(w, r, base(a)+"/users", "success", u.Name+" was invited. They will receive an email with a link to set their password.")
}

// loadUser reads the {id} user of the actor's side; anything else is a 404.
func (h *Handler) loadUser(w http.ResponseWriter, r *http.Request) *regulars.User {
	return loadByID(h, w, r, h.app.User)
}

func (h *Handler) editUser(w http.ResponseWriter, r *http.Request) {
	u := h.loadUser(w, r)
	if u == nil {
		return
	}
	p, err := h.userForm(r, u)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "user_form", p)
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request) {
	u := h.loadUser(w, r)
	if u == nil {
		return
	}
	a := actorFrom(r.Context())
	if _, err := h.app.UpdateUser(r.Context(), a, u.ID, userInput(r)); err != nil {
		p, perr := h.userForm(r, u)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "user_form", p)
		return
	}
	h.redirect(w, r, base(a)+"/users/"+strconv.FormatInt(u.ID, 10), "success", "Saved.")
}

func (h *Handler) setEnabled(w http.ResponseWriter, r *http.Request, enabled bool) {
	u := h.loadUser(w, r)
	if u == nil {
		return
	}
	a := actorFrom(r.Context())
	if err := h.app.SetUserEnabled(r.Context(), a, u.ID, enabled); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	msg := u.Name + " is disabled and was signed out everywhere."
	if enabled {
		msg = u.Name + " is enabled again."
	}
	h.redirect(w, r, base(a)+"/users/"+strconv.FormatInt(u.ID, 10), "success", msg)
}

func (h *Handler) disableUser(w http.ResponseWriter, r *http.Request) { h.setEnabled(w, r, false) }
func (h *Handler) enableUser(w http.ResponseWriter, r *http.Request)  { h.setEnabled(w, r, true) }

func (h *Handler) resendInvite(w http.ResponseWriter, r *http.Request) {
	u := h.loadUser(w, r)
	if u == nil {
		return
	}
	a := actorFrom(r.Context())
	if err := h.app.ResendInvite(r.Context(), a, u.ID); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, base(a)+"/users/"+strconv.FormatInt(u.ID, 10), "success", "A new invitation was sent to "+u.Email+". Earlier links no longer work.")
}

func (h *Handler) setUserPassword(w http.ResponseWriter, r *http.Request) {
	u := h.loadUser(w, r)
	if u == nil {
		return
	}
	a := actorFrom(r.Context())
	if err := h.app.SetUserPassword(r.Context(), a, u.ID, r.PostFormValue("password"), r.PostFormValue("confirm")); err != nil {
		p, perr := h.userForm(r, u)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "user_form", p)
		return
	}
	h.redirect(w, r, base(a)+"/users/"+strconv.FormatInt(u.ID, 10), "success", "The password of "+u.Name+" is changed; their other sessions were ended.")
}

func usersFeatureOf(a *app.Actor) regulars.Feature {
	if a.Partner == nil {
		return regulars.FeatureTenantStaff
	}
	return regulars.FeatureUsers
}
