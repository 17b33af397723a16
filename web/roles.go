package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"regulars"
	"regulars/app"
)

type roleFormData struct {
	Role     *regulars.Role
	Features []regulars.FeatureInfo
	Own      regulars.Permissions
	Holders  []*regulars.User
	ReadOnly bool
}

// Level returns the level shown for feature f: the submitted one after a
// failed save, else the role's.
func (d *roleFormData) Level(f *Form, feature regulars.Feature) regulars.Level {
	if f != nil && f.Values != nil {
		if v := f.Values.Get("perm." + string(feature)); v != "" {
			return parseLevel(v)
		}
	}
	if d.Role == nil {
		return regulars.LevelNone
	}
	if d.Role.IsOwner {
		return regulars.LevelManage
	}
	return d.Role.Permissions.Level(feature)
}

// FieldMessage is a form message on a field the page does not show.
type FieldMessage struct {
	Field, Label, Message string
}

// HiddenErrors lists the messages about features the editor does not show
// (outside the package, or unknown), e.g. from a tampered form, so the
// refusal still says why.
func (d *roleFormData) HiddenErrors(f *Form) []FieldMessage {
	if f == nil {
		return nil
	}
	var out []FieldMessage
	for field, msg := range f.Errors {
		name, ok := strings.CutPrefix(field, "perm.")
		if !ok || slices.ContainsFunc(d.Features, func(fi regulars.FeatureInfo) bool { return string(fi.Feature) == name }) {
			continue
		}
		label := name
		for _, fi := range regulars.PartnerFeatures {
			if string(fi.Feature) == name {
				label = fi.Label
			}
		}
		out = append(out, FieldMessage{Field: field, Label: label, Message: msg})
	}
	slices.SortFunc(out, func(a, b FieldMessage) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// CanGrant reports whether the actor may pick level l for feature f.
func (d *roleFormData) CanGrant(f regulars.Feature, l regulars.Level) bool {
	return l <= d.Own.Level(f)
}

func parseLevel(s string) regulars.Level {
	switch s {
	case "view", "1":
		return regulars.LevelView
	case "update", "2":
		return regulars.LevelUpdate
	case "manage", "3":
		return regulars.LevelManage
	case "none", "0", "":
		return regulars.LevelNone
	}
	return regulars.Level(-1)
}

func (h *Handler) roles(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	roles, err := h.app.Roles(r.Context(), a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "roles", &Page{Title: "Roles", Data: map[string]any{"Roles": roles, "Base": base(a),
		"CanManage": a.Can(rolesFeatureOf(a), regulars.LevelManage)}})
}

func (h *Handler) roleForm(r *http.Request, role *regulars.Role) (*Page, error) {
	a := actorFrom(r.Context())
	d := &roleFormData{Role: role, Features: a.GrantableFeatures(), Own: a.Perms}
	title := "New role"
	if role != nil {
		title = role.Name
		d.ReadOnly = role.IsOwner || !a.Can(rolesFeatureOf(a), regulars.LevelUpdate) || role.ID == a.Role.ID ||
			len(role.Permissions.Restrict(featureNames(d.Features)).Exceeding(a.Perms)) > 0
		holders, err := h.app.DB.UsersWithRole(r.Context(), role.ID)
		if err != nil {
			return nil, err
		}
		d.Holders = holders
	}
	return &Page{Title: title, Data: d, Active: base(a) + "/roles"}, nil
}

func rolesFeatureOf(a *app.Actor) regulars.Feature {
	if a.Partner == nil {
		return regulars.FeatureTenantStaff
	}
	return regulars.FeatureRoles
}

func roleInput(r *http.Request, features []regulars.FeatureInfo) app.RoleInput {
	in := app.RoleInput{Name: r.PostFormValue("name"), Permissions: regulars.Permissions{}}
	r.ParseForm()
	for key, vals := range r.PostForm {
		if len(key) > 5 && key[:5] == "perm." && len(vals) > 0 {
			in.Permissions[regulars.Feature(key[5:])] = parseLevel(vals[0])
		}
	}
	return in
}

func (h *Handler) newRole(w http.ResponseWriter, r *http.Request) {
	p, err := h.roleForm(r, nil)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "role_form", p)
}

func (h *Handler) createRole(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	role, err := h.app.CreateRole(r.Context(), a, roleInput(r, a.GrantableFeatures()))
	if err != nil {
		p, perr := h.roleForm(r, nil)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "role_form", p)
		return
	}
	h.redirect(w, r, base(a)+"/roles", "success", "Role "+role.Name+" created.")
}

func (h *Handler) loadRole(w http.ResponseWriter, r *http.Request) *regulars.Role {
	return loadByID(h, w, r, h.app.Role)
}

func (h *Handler) editRole(w http.ResponseWriter, r *http.Request) {
	role := h.loadRole(w, r)
	if role == nil {
		return
	}
	p, err := h.roleForm(r, role)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "role_form", p)
}

func (h *Handler) updateRole(w http.ResponseWriter, r *http.Request) {
	role := h.loadRole(w, r)
	if role == nil {
		return
	}
	a := actorFrom(r.Context())
	if _, err := h.app.UpdateRole(r.Context(), a, role.ID, roleInput(r, a.GrantableFeatures())); err != nil {
		p, perr := h.roleForm(r, role)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "role_form", p)
		return
	}
	h.redirect(w, r, base(a)+"/roles/"+strconv.FormatInt(role.ID, 10), "success", "Saved.")
}

func (h *Handler) deleteRole(w http.ResponseWriter, r *http.Request) {
	role := h.loadRole(w, r)
	if role == nil {
		return
	}
	a := actorFrom(r.Context())
	if err := h.app.DeleteRole(r.Context(), a, role.ID); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, base(a)+"/roles", "success", "Role "+role.Name+" deleted.")
}

func featureNames(fs []regulars.FeatureInfo) []regulars.Feature {
	out := make([]regulars.Feature, len(fs))
	for i, f := range fs {
		out[i] = f.Feature
	}
	return out
}
