package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"regulars"
	"regulars/api"
	"regulars/internal/testenv"
	"regulars/store"
)

func TestRoleLifecycle(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)

		var role api.Role
		r := e.must(http.StatusCreated, owner, "POST", "/api/v1/roles", map[string]any{
			"name": "Agent", "permissions": map[string]string{"chat": "update", "canned_responses": "view"}})
		r.decode(t, &role)
		if role.Name != "Agent" || role.Permissions["chat"] != "update" || role.Permissions["canned_responses"] != "view" || role.Permissions["users"] != "none" {
			t.Fatalf("created role = %+v", role)
		}
		if len(role.Permissions) != len(regulars.PartnerFeatures) {
			t.Errorf("permissions list %d features, want every feature of the package", len(role.Permissions))
		}
		path := fmt.Sprintf("/api/v1/roles/%d", role.ID)
		if r.Header.Get("Location") != path {
			t.Errorf("Location = %q", r.Header.Get("Location"))
		}

		// A PATCH changes the levels it names and keeps the others.
		e.must(http.StatusOK, owner, "PATCH", path, map[string]any{"permissions": map[string]string{"chat": "manage", "locations": "view"}}).decode(t, &role)
		if role.Permissions["chat"] != "manage" || role.Permissions["canned_responses"] != "view" || role.Permissions["locations"] != "view" || role.Name != "Agent" {
			t.Fatalf("after PATCH: %+v", role)
		}
		e.must(http.StatusOK, owner, "PATCH", path, map[string]any{"name": "Senior agent"}).decode(t, &role)
		if role.Name != "Senior agent" || role.Permissions["chat"] != "manage" {
			t.Fatalf("after rename: %+v", role)
		}

		var list api.RoleList
		e.must(http.StatusOK, owner, "GET", "/api/v1/roles", nil).decode(t, &list)
		if len(list.Items) < 3 || !list.Items[0].IsOwner || list.Items[0].Permissions["users"] != "manage" {
			t.Fatalf("roles = %+v, want the Account owner first with every level", list.Items)
		}

		e.must(http.StatusNoContent, owner, "DELETE", path, nil)
		e.must(http.StatusNotFound, owner, "GET", path, nil)
	})
}

func TestRoleRefusals(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)
		// A roles manager who may only view the chat.
		limited := e.token(e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureRoles: regulars.LevelManage, regulars.FeatureChat: regulars.LevelView}))
		tests := []struct {
			name  string
			token string
			body  any
			field string
		}{
			{"a level above the caller's own", limited, map[string]any{"name": "Too much", "permissions": map[string]string{"chat": "update"}}, "permissions.chat"},
			{"a feature the caller lacks", limited, map[string]any{"name": "Too much", "permissions": map[string]string{"users": "view"}}, "permissions.users"},
			{"an unknown level", owner, map[string]any{"name": "Odd", "permissions": map[string]string{"chat": "superuser"}}, "permissions.chat"},
			{"an unknown feature", owner, map[string]any{"name": "Odd", "permissions": map[string]string{"teleport": "view"}}, "permissions.teleport"},
			{"the owner role's name", owner, map[string]any{"name": "account OWNER"}, "name"},
			{"a taken name", owner, map[string]any{"name": "Viewer"}, "name"},
			{"no name", owner, map[string]any{}, "name"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				p := e.must(http.StatusUnprocessableEntity, tt.token, "POST", "/api/v1/roles", tt.body).problem(t)
				if p.Errors[tt.field] == "" {
					t.Fatalf("no message for %s: %+v", tt.field, p)
				}
			})
		}

		owners := fmt.Sprintf("/api/v1/roles/%d", e.w.OwnerRole.ID)
		e.must(http.StatusConflict, owner, "PATCH", owners, map[string]any{"name": "Boss"})
		e.must(http.StatusConflict, owner, "DELETE", owners, nil)
	})
}

func TestDeleteRoleInUseNamesHolders(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)
		var role api.Role
		e.must(http.StatusCreated, owner, "POST", "/api/v1/roles", map[string]any{"name": "Barista", "permissions": map[string]string{"chat": "view"}}).decode(t, &role)
		var u api.User
		e.must(http.StatusCreated, owner, "POST", "/api/v1/users", map[string]any{"name": "Bea Barista", "email": "bea@alpha.example", "role_id": role.ID}).decode(t, &u)

		path := fmt.Sprintf("/api/v1/roles/%d", role.ID)
		p := e.must(http.StatusConflict, owner, "DELETE", path, nil).problem(t)
		if !strings.Contains(p.Detail, "Bea Barista") || len(p.Holders) != 1 || p.Holders[0].ID != u.ID || p.Holders[0].Name != "Bea Barista" {
			t.Fatalf("deleting a role in use: %+v", p)
		}

		e.must(http.StatusOK, owner, "PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), map[string]any{"role_id": e.w.Role.ID})
		e.must(http.StatusNoContent, owner, "DELETE", path, nil)
	})
}
