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

func TestInviteUser(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)

		r := e.must(http.StatusCreated, owner, "POST", "/api/v1/users",
			map[string]any{"name": "Ada Agent", "email": "Ada@Alpha.example", "phone": "+44 20 7946 0958", "role_id": e.w.Role.ID})
		var u api.User
		r.decode(t, &u)
		if u.Status != regulars.UserInvited || u.Email != "ada@alpha.example" || u.RoleID != e.w.Role.ID || u.Name != "Ada Agent" {
			t.Fatalf("invited user = %+v", u)
		}
		if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/users/%d", u.ID) {
			t.Errorf("Location = %q", loc)
		}

		mails, err := db.OutboxTo(e.ctx, "ada@alpha.example")
		if err != nil {
			t.Fatal(err)
		}
		if len(mails) != 1 || !strings.Contains(mails[0].Body, "http://regulars.test/password/") {
			t.Fatalf("invitation emails = %+v", mails)
		}

		var list api.UserList
		e.must(http.StatusOK, owner, "GET", "/api/v1/users", nil).decode(t, &list)
		found := false
		for _, item := range list.Items {
			found = found || item.ID == u.ID
		}
		if !found || len(list.Items) != 2 {
			t.Fatalf("users = %+v, want the owner and the invited user", list.Items)
		}

		e.must(http.StatusNoContent, owner, "POST", fmt.Sprintf("/api/v1/users/%d/resend-invite", u.ID), nil)
		if mails, _ := db.OutboxTo(e.ctx, "ada@alpha.example"); len(mails) != 2 {
			t.Fatalf("after resending: %d emails, want 2", len(mails))
		}
		p := e.must(http.StatusConflict, owner, "POST", fmt.Sprintf("/api/v1/users/%d/resend-invite", e.w.Owner.ID), nil).problem(t)
		if p.Code != regulars.ECONFLICT {
			t.Errorf("resending to an active user: %+v", p)
		}
	})
}

func TestInviteRefusals(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)
		tests := []struct {
			name  string
			token string
			body  any
			field string
		}{
			{"duplicate email", owner, map[string]any{"name": "Again", "email": "OWNER@alpha.example", "role_id": e.w.Role.ID}, "email"},
			{"email of another partner's user", owner, map[string]any{"name": "Again", "email": "owner@beta.example", "role_id": e.w.Role.ID}, "email"},
			{"malformed email", owner, map[string]any{"name": "X", "email": "not-an-email", "role_id": e.w.Role.ID}, "email"},
			{"missing name", owner, map[string]any{"email": "x@alpha.example", "role_id": e.w.Role.ID}, "name"},
			{"the owner role", owner, map[string]any{"name": "X", "email": "x@alpha.example", "role_id": e.w.OwnerRole.ID}, "role_id"},
			{"another partner's role", owner, map[string]any{"name": "X", "email": "x@alpha.example", "role_id": e.w.OtherRole.ID}, "role_id"},
			// The Viewer role sees every feature; this manager only manages users.
			{"a role above the caller's own levels", e.token(e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureUsers: regulars.LevelManage})),
				map[string]any{"name": "X", "email": "x@alpha.example", "role_id": e.w.Role.ID}, "role_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				p := e.must(http.StatusUnprocessableEntity, tt.token, "POST", "/api/v1/users", tt.body).problem(t)
				if p.Errors[tt.field] == "" {
					t.Fatalf("no message for %s: %+v", tt.field, p)
				}
			})
		}
		if mails, _ := db.OutboxTo(e.ctx, "x@alpha.example"); len(mails) != 0 {
			t.Fatalf("a refused invitation sent %d emails", len(mails))
		}
	})
}

func TestUpdateUser(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)
		staff := e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelView})
		path := fmt.Sprintf("/api/v1/users/%d", staff.ID)

		var u api.User
		e.must(http.StatusOK, owner, "PATCH", path, map[string]any{"name": "  Renamed  ", "role_id": e.w.Role.ID}).decode(t, &u)
		if u.Name != "Renamed" || u.Email != staff.Email || u.RoleID != e.w.Role.ID {
			t.Fatalf("after PATCH: %+v", u)
		}
		e.must(http.StatusOK, owner, "PATCH", path, map[string]any{"phone": "+1 555 010 9999"}).decode(t, &u)
		if u.Phone != "+1 555 010 9999" || u.Name != "Renamed" {
			t.Fatalf("a PATCH of the phone changed more: %+v", u)
		}

		p := e.must(http.StatusBadRequest, owner, "PATCH", path, `{"name": "X", "nickname": "Y"}`).problem(t)
		if p.Errors["nickname"] == "" || p.Code != "bad_request" {
			t.Errorf("unknown field: %+v", p)
		}
		p = e.must(http.StatusBadRequest, owner, "PATCH", path, `{"role_id": "two"}`).problem(t)
		if p.Errors["role_id"] == "" {
			t.Errorf("wrong type: %+v", p)
		}
		e.must(http.StatusBadRequest, owner, "PATCH", path, `{"name": `)
		e.must(http.StatusBadRequest, owner, "PATCH", path, `{"name": "X"} {}`)
		e.must(http.StatusBadRequest, owner, "PATCH", path, "")
		e.must(http.StatusBadRequest, owner, "PATCH", path, `{"name": "`+strings.Repeat("a", 1<<20)+`"}`)
		p = e.must(http.StatusUnprocessableEntity, owner, "PATCH", path, map[string]any{"email": "owner@beta.example"}).problem(t)
		if p.Errors["email"] == "" {
			t.Errorf("taken email: %+v", p)
		}
		if got, _ := db.User(e.ctx, staff.ID); got.Name != "Renamed" || got.Email != staff.Email {
			t.Fatalf("refused updates changed the user: %+v", got)
		}
	})
}

func TestSetUserPassword(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)
		staff := e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelView})
		path := fmt.Sprintf("/api/v1/users/%d/password", staff.ID)

		for _, weak := range []string{"short", "password", "12345678"} {
			p := e.must(http.StatusUnprocessableEntity, owner, "POST", path, map[string]any{"password": weak}).problem(t)
			if p.Errors["password"] == "" {
				t.Errorf("weak password %q: %+v", weak, p)
			}
		}
		e.must(http.StatusNoContent, owner, "POST", path, map[string]any{"password": "a much better passphrase"})
		if _, err := e.app.SignIn(e.ctx, staff.Email, "a much better passphrase", "127.0.0.2", "test"); err != nil {
			t.Fatalf("sign in with the new password: %v", err)
		}
		// Only the Account owner sets the Account owner's password.
		manager := e.token(e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureUsers: regulars.LevelManage}))
		e.must(http.StatusForbidden, manager, "POST", fmt.Sprintf("/api/v1/users/%d/password", e.w.Owner.ID), map[string]any{"password": "a much better passphrase"})
	})
}

func TestDisableAndEnableUser(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)
		staff := e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureUsers: regulars.LevelView})
		staffToken := e.token(staff)
		e.must(http.StatusOK, staffToken, "GET", "/api/v1/me", nil)

		var u api.User
		e.must(http.StatusOK, owner, "POST", fmt.Sprintf("/api/v1/users/%d/disable", staff.ID), nil).decode(t, &u)
		if u.Status != regulars.UserDisabled {
			t.Fatalf("after disable: %+v", u)
		}
		e.must(http.StatusUnauthorized, staffToken, "GET", "/api/v1/me", nil)

		e.must(http.StatusOK, owner, "POST", fmt.Sprintf("/api/v1/users/%d/enable", staff.ID), nil).decode(t, &u)
		if u.Status != regulars.UserActive {
			t.Fatalf("after enable: %+v", u)
		}
		e.must(http.StatusOK, staffToken, "GET", "/api/v1/me", nil)

		p := e.must(http.StatusConflict, owner, "POST", fmt.Sprintf("/api/v1/users/%d/disable", e.w.Owner.ID), nil).problem(t)
		if p.Code != regulars.ECONFLICT || p.Detail == "" {
			t.Errorf("disabling oneself: %+v", p)
		}
	})
}

// TestOtherPartnersObjectsAreMissing checks that another partner's users
// and roles answer exactly like ids that do not exist.
func TestOtherPartnersObjectsAreMissing(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.token(e.w.Owner)
		other := e.userWith(e.w.OtherPartner.ID, regulars.Permissions{})
		tests := []struct {
			method, path, missing string
			body                  any
		}{
			{"GET", "/api/v1/users/%d", "/api/v1/users/99999999", nil},
			{"PATCH", "/api/v1/users/%d", "/api/v1/users/99999999", map[string]any{"name": "Mine now"}},
			{"POST", "/api/v1/users/%d/disable", "/api/v1/users/99999999/disable", nil},
			{"POST", "/api/v1/users/%d/enable", "/api/v1/users/99999999/enable", nil},
			{"POST", "/api/v1/users/%d/resend-invite", "/api/v1/users/99999999/resend-invite", nil},
			{"POST", "/api/v1/users/%d/password", "/api/v1/users/99999999/password", map[string]any{"password": "a much better passphrase"}},
			{"GET", "/api/v1/users/%d", "/api/v1/users/not-a-number", nil},
		}
		for _, tt := range tests {
			path := fmt.Sprintf(tt.path, other.ID)
			theirs := e.must(http.StatusNotFound, owner, tt.method, path, tt.body)
			missing := e.must(http.StatusNotFound, owner, tt.method, tt.missing, tt.body)
			if string(theirs.body) != string(missing.body) {
				t.Errorf("%s %s: %s, but a missing user gives %s", tt.method, path, theirs.body, missing.body)
			}
		}
		for _, method := range []string{"GET", "PATCH", "DELETE"} {
			var body any
			if method == "PATCH" {
				body = map[string]any{"name": "Mine now"}
			}
			theirs := e.must(http.StatusNotFound, owner, method, fmt.Sprintf("/api/v1/roles/%d", e.w.OtherRole.ID), body)
			missing := e.must(http.StatusNotFound, owner, method, "/api/v1/roles/99999999", body)
			if string(theirs.body) != string(missing.body) {
				t.Errorf("%s role: %s, but a missing role gives %s", method, theirs.body, missing.body)
			}
		}
		if got, _ := db.User(e.ctx, other.ID); got.Status != regulars.UserActive || got.Name == "Mine now" {
			t.Fatalf("the other partner's user changed: %+v", got)
		}
		if got, err := db.RoleByID(e.ctx, e.w.OtherRole.ID); err != nil || got.Name == "Mine now" {
			t.Fatalf("the other partner's role changed: %+v, %v", got, err)
		}
	})
}

func TestUsersRequireAPartner(t *testing.T) {
	e := newEnv(t, testenv.OpenSQLite(t))
	e.must(http.StatusNotFound, e.token(e.w.Operator), "GET", "/api/v1/users", nil)
}
