package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"regulars/httpx"
	"regulars/internal/testenv"
	"regulars/store"
)

func TestCrossSiteFormPostsAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)
		before := len(users(t, db, w, w.Partner.ID))

		post := func(c *testenv.Client, path string, header http.Header, kv ...string) *testenv.Response {
			header.Set("Content-Type", "application/x-www-form-urlencoded")
			return c.Do(http.MethodPost, path, strings.NewReader(form(kv...).Encode()), header)
		}
		for name, header := range map[string]http.Header{
			"Sec-Fetch-Site: cross-site": {"Sec-Fetch-Site": {"cross-site"}},
			"Origin of another site":     {"Origin": {"http://evil.example"}},
			"both":                       {"Sec-Fetch-Site": {"cross-site"}, "Origin": {"http://evil.example"}},
		} {
			t.Run(name, func(t *testing.T) {
				r := post(owner, "/admin/users", header.Clone(), "name", "Mallory", "email", "mallory@evil.example", "role", fmt.Sprint(w.Role.ID))
				wantStatus(t, r, http.StatusForbidden)
				if n := len(users(t, db, w, w.Partner.ID)); n != before {
					t.Errorf("a cross-site post created a user (%d users, was %d)", n, before)
				}
				if mails, _ := db.OutboxTo(context.Background(), "mallory@evil.example"); len(mails) != 0 {
					t.Error("a cross-site post sent an invitation")
				}
				wantStatus(t, post(owner, "/logout", header.Clone()), http.StatusForbidden)
				wantStatus(t, owner.Get("/admin"), http.StatusOK) // still signed in

				// Signing someone in from another site (login CSRF) is refused too.
				victim := srv.Client(t)
				r = post(victim, "/login", header.Clone(), "email", w.OtherOwner.Email, "password", testenv.Password)
				wantStatus(t, r, http.StatusForbidden)
				if c := setCookie(r, "rg_session"); c != nil {
					t.Error("a cross-site sign-in set a session cookie")
				}
			})
		}

		// The same form from the site itself goes through.
		r := post(owner, "/admin/users", http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {srv.URL}},
			"name", "Sam Same-Site", "email", "sam@alpha.example", "role", fmt.Sprint(w.Role.ID))
		wantRedirect(t, r, "/admin/users")
	})
}

// TestGETChangesNothing walks the routes table: a GET of a form's address
// is not the form, and viewing every page leaves the data as it was.
func TestGETChangesNothing(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		fx := &fixtures{t: t, w: w, db: db, a: srv.App}
		pages := map[string]bool{} // patterns with a GET route: the form itself
		for _, rt := range srv.Web.Routes() {
			if rt.Method == http.MethodGet {
				pages[rt.Pattern] = true
			}
		}
		var gets, posts []string
		for _, rt := range srv.Web.Routes() {
			if rt.Side == httpx.Tenant {
				continue
			}
			p := fx.path(rt, w.Owner)
			if rt.Method == http.MethodGet {
				gets = append(gets, p)
			} else if !pages[rt.Pattern] && rt.Method != "" {
				posts = append(posts, p)
			}
		}
		owner := srv.SignedIn(t, w.Owner.Email)
		other := srv.SignedIn(t, w.Owner.Email) // a second session of the owner
		before := snapshot(t, db, w)

		for _, p := range posts {
			r := owner.Get(p)
			if r.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("GET %s: status %d, want 405 Method Not Allowed", p, r.StatusCode)
			}
		}
		for _, p := range gets {
			if r := owner.Get(p); r.StatusCode >= 500 {
				t.Errorf("GET %s: status %d", p, r.StatusCode)
			}
		}
		if after := snapshot(t, db, w); after != before {
			t.Errorf("GET requests changed the data:\nbefore: %s\nafter:  %s", before, after)
		}
		wantStatus(t, owner.Get("/admin"), http.StatusOK)
		wantStatus(t, other.Get("/admin"), http.StatusOK)
	})
}

// snapshot describes what a user could notice: users with their status,
// role and password, roles, the owner's sessions and tokens, the outbox.
func snapshot(t *testing.T, db *store.DB, w *testenv.World) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, u := range users(t, db, w, w.Partner.ID) {
		fmt.Fprintf(&b, "user %d %s %s role=%d pw=%s; ", u.ID, u.Email, u.Status, u.RoleID, u.PasswordHash)
	}
	roles, err := db.Roles(ctx, w.Tenant.ID, w.Partner.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		fmt.Fprintf(&b, "role %d %s %v; ", r.ID, r.Name, r.Permissions)
	}
	fmt.Fprintf(&b, "owner sessions %d; ", len(sessions(t, db, w.Owner.ID)))
	tokens, err := db.APITokens(ctx, w.Owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "owner tokens %d; ", len(tokens))
	mails, err := db.Outbox(ctx, w.Tenant.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "outbox %d", len(mails))
	return b.String()
}
