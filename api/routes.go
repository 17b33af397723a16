package api

import (
	"net/http"

	"regulars"
	"regulars/httpx"
)

// table is THE routes table of the API. Each entry says who may call the
// route and which typed handler serves it; the handler's request and
// response types are what the OpenAPI document shows.
func (x *API) table() []endpoint {
	const (
		none   = regulars.LevelNone
		view   = regulars.LevelView
		update = regulars.LevelUpdate
		manage = regulars.LevelManage
	)
	users, roles := regulars.FeatureUsers, regulars.FeatureRoles
	conflict := []int{http.StatusConflict}
	return []endpoint{
		// The caller.
		{Method: "GET", Pattern: "/api/v1/me", Side: httpx.Staff, Level: none,
			Doc: "The caller: user, role, partner and effective permissions", Op: handle(x, http.StatusOK, x.me)},
		{Method: "GET", Pattern: "/api/v1/features", Side: httpx.Staff, Level: none,
			Doc: "The features the caller's roles can grant, with labels", Op: handle(x, http.StatusOK, x.features)},

		// Users of the partner.
		{Method: "GET", Pattern: "/api/v1/users", Side: httpx.Partner, Feature: users, Level: view,
			Doc: "List the partner's users", Op: handle(x, http.StatusOK, x.listUsers)},
		{Method: "POST", Pattern: "/api/v1/users", Side: httpx.Partner, Feature: users, Level: manage,
			Doc: "Invite a user: they get an email with a link to set their password", Op: handle(x, http.StatusCreated, x.createUser)},
		{Method: "GET", Pattern: "/api/v1/users/{id}", Side: httpx.Partner, Feature: users, Level: view,
			Doc: "Get a user", Op: handle(x, http.StatusOK, x.getUser)},
		{Method: "PATCH", Pattern: "/api/v1/users/{id}", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Change a user's details or role", Op: handle(x, http.StatusOK, x.updateUser)},
		{Method: "POST", Pattern: "/api/v1/users/{id}/disable", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Disable a user: their sessions and live connections end", Op: handle(x, http.StatusOK, x.disableUser), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/users/{id}/enable", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Enable a disabled user again", Op: handle(x, http.StatusOK, x.enableUser), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/users/{id}/resend-invite", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Send an invited user a new link; earlier links stop working", Op: handle(x, http.StatusNoContent, x.resendInvite), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/users/{id}/password", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Set a user's password; their sessions end", Op: handle(x, http.StatusNoContent, x.setUserPassword)},

		// Roles of the partner.
		{Method: "GET", Pattern: "/api/v1/roles", Side: httpx.Partner, Feature: roles, Level: view,
			Doc: "List the partner's roles", Op: handle(x, http.StatusOK, x.listRoles)},
		{Method: "POST", Pattern: "/api/v1/roles", Side: httpx.Partner, Feature: roles, Level: manage,
			Doc: "Create a role; it cannot grant more than the caller's own levels", Op: handle(x, http.StatusCreated, x.createRole)},
		{Method: "GET", Pattern: "/api/v1/roles/{id}", Side: httpx.Partner, Feature: roles, Level: view,
			Doc: "Get a role", Op: handle(x, http.StatusOK, x.getRole)},
		{Method: "PATCH", Pattern: "/api/v1/roles/{id}", Side: httpx.Partner, Feature: roles, Level: update,
			Doc: "Rename a role or change its levels", Op: handle(x, http.StatusOK, x.updateRole), Errors: conflict},
		{Method: "DELETE", Pattern: "/api/v1/roles/{id}", Side: httpx.Partner, Feature: roles, Level: manage,
			Doc: "Delete a role nobody holds; a role in use answers 409 with its holders", Op: handle(x, http.StatusNoContent, x.deleteRole), Errors: conflict},
	}
}
