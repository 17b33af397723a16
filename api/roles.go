package api

import (
	"net/http"

	"regulars"
	"regulars/app"
)

func (x *API) listRoles(r *http.Request, _ noBody) (RoleList, error) {
	actor := actorOf(r)
	roles, err := x.app.Roles(r.Context(), actor)
	if err != nil {
		return RoleList{}, err
	}
	out := RoleList{Items: make([]Role, len(roles))}
	for i, role := range roles {
		out.Items[i] = roleOut(actor, role)
	}
	return out, nil
}

func (x *API) getRole(r *http.Request, _ noBody) (Role, error) {
	id, err := pathID(r, "role")
	if err != nil {
		return Role{}, err
	}
	actor := actorOf(r)
	role, err := x.app.Role(r.Context(), actor, id)
	if err != nil {
		return Role{}, err
	}
	return roleOut(actor, role), nil
}

func (x *API) createRole(r *http.Request, in RoleCreate) (Role, error) {
	actor := actorOf(r)
	role, err := x.app.CreateRole(r.Context(), actor, app.RoleInput{Name: in.Name, Permissions: in.Permissions.domain()})
	if err != nil {
		return Role{}, err
	}
	return roleOut(actor, role), nil
}

func (x *API) updateRole(r *http.Request, in RoleUpdate) (Role, error) {
	id, err := pathID(r, "role")
	if err != nil {
		return Role{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	role, err := x.app.Role(ctx, actor, id)
	if err != nil {
		return Role{}, err
	}
	// Only the package's features are shown, so only they are sent back;
	// the domain keeps the levels of the others.
	var shown []regulars.Feature
	for _, f := range actor.GrantableFeatures() {
		shown = append(shown, f.Feature)
	}
	change := app.RoleInput{Name: role.Name, Permissions: role.Permissions.Restrict(shown)}
	set(&change.Name, in.Name)
	for f, l := range in.Permissions.domain() {
		change.Permissions[f] = l
	}
	if role, err = x.app.UpdateRole(ctx, actor, id, change); err != nil {
		return Role{}, err
	}
	return roleOut(actor, role), nil
}

func (x *API) deleteRole(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "role")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.DeleteRole(r.Context(), actorOf(r), id)
}
