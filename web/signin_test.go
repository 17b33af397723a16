package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"regulars/config"
	"regulars/internal/testenv"
	"regulars/store"
)

const badCredentials = "The email or password is not correct."

func TestSignInAnswersAlikeForUnknownEmailAndWrongPassword(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		invited := w.AddUser(t, w.Partner.ID, "invited@alpha.example", nil)
		// An invited user has no password yet (AddUser gave one; take it away).
		if err := db.SetPassword(t.Context(), invited.ID, "", 0); err != nil {
			t.Fatal(err)
		}
		if err := db.SetUserStatus(t.Context(), invited.ID, "invited"); err != nil {
			t.Fatal(err)
		}

		attempts := map[string]*testenv.Response{
			"wrong password":          signIn(srv.Client(t), w.Owner.Email, "not the password"),
			"unknown email":           signIn(srv.Client(t), "nobody@alpha.example", "not the password"),
			"user without a password": signIn(srv.Client(t), invited.Email, testenv.Password),
		}
		var first string
		for what, r := range attempts {
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", what, r.StatusCode)
			}
			wantText(t, r, badCredentials)
			if c := setCookie(r, "rg_session"); c != nil && c.Value != "" {
				t.Errorf("%s: a session cookie was set", what)
			}
			if strings.Contains(r.Body, "not the password") || strings.Contains(r.Body, testenv.Password) {
				t.Errorf("%s: the page shows the password that was typed", what)
			}
			// The pages differ only in the email typed in.
			page := r.Body
			for _, e := range []string{w.Owner.Email, "nobody@alpha.example", invited.Email} {
				page = strings.ReplaceAll(page, e, "EMAIL")
			}
			if first == "" {
				first = page
			} else if page != first {
				t.Errorf("%s: the page differs from the other failed sign-ins", what)
			}
		}
	})
}

func TestSignInIsThrottledPerAccountAndAddressPair(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		clock := testenv.NewClock()
		srv.UseClock(clock)

		attacker := srv.Client(t)
		attacker.From = "203.0.113.7"
		for i := range 5 {
			r := signIn(attacker, w.Owner.Email, fmt.Sprintf("guess %d", i))
			wantStatus(t, r, http.StatusUnauthorized)
		}
		// The sixth try from that address is refused even with the right password.
		r := signIn(attacker, w.Owner.Email, testenv.Password)
		wantStatus(t, r, http.StatusTooManyRequests)
		wantText(t, r, "Too many failed attempts")
		if c := setCookie(r, "rg_session"); c != nil && c.Value != "" {
			t.Error("a throttled sign-in set a session cookie")
		}

		// The owner, elsewhere, is not locked out.
		owner := srv.Client(t)
		owner.From = "198.51.100.20"
		wantRedirect(t, signIn(owner, w.Owner.Email, testenv.Password), "/admin")

		// Another account from the attacker's address still signs in.
		other := srv.Client(t)
		other.From = attacker.From
		wantRedirect(t, signIn(other, w.OtherOwner.Email, testenv.Password), "/admin")

		// After the window the pair may try again.
		clock.Advance(16 * time.Minute)
		wantRedirect(t, signIn(attacker, w.Owner.Email, testenv.Password), "/admin")
	})
}

func TestSignInIsThrottledPerAddress(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)

		// Spraying many accounts from one address: fewer than five tries
		// each, so only the per-address limit can stop it.
		sprayer := srv.Client(t)
		sprayer.From = "203.0.113.50"
		for i := range 50 {
			r := signIn(sprayer, fmt.Sprintf("victim%d@example.com", i/2), "Summer2026!")
			wantStatus(t, r, http.StatusUnauthorized)
		}
		r := signIn(sprayer, w.Owner.Email, testenv.Password)
		wantStatus(t, r, http.StatusTooManyRequests)
		wantText(t, r, "Too many failed attempts from your network")

		elsewhere := srv.Client(t)
		elsewhere.From = "203.0.113.51"
		wantRedirect(t, signIn(elsewhere, w.Owner.Email, testenv.Password), "/admin")
	})
}

func TestSignInStartsAFreshSessionEveryTime(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)

		// A session id planted before sign-in (session fixation) is not kept.
		c := withSession(t, srv, "planted-by-an-attacker")
		r := signIn(c, w.Owner.Email, testenv.Password)
		wantRedirect(t, r, "/admin")
		first := setCookie(r, "rg_session")
		if first == nil || first.Value == "" || first.Value == "planted-by-an-attacker" {
			t.Fatalf("sign-in set session cookie %v, want a fresh one", first)
		}
		r = signIn(c, w.Owner.Email, testenv.Password)
		second := setCookie(r, "rg_session")
		if second == nil || second.Value == first.Value {
			t.Fatalf("a second sign-in kept the session id %q", first.Value)
		}
		wantStatus(t, withSession(t, srv, second.Value).Get("/admin"), http.StatusOK)
		wantSignInPage(t, withSession(t, srv, "planted-by-an-attacker").Get("/admin"))
	})
}

func TestSessionCookieIsHttpOnlyAndSameSite(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := setCookie(signIn(srv.Client(t), w.Owner.Email, testenv.Password), "rg_session")
		if c == nil {
			t.Fatal("no session cookie")
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("session cookie HttpOnly=%v SameSite=%v Path=%q, want HttpOnly, Lax, /", c.HttpOnly, c.SameSite, c.Path)
		}
		if len(c.Value) < 43 { // 256 random bits in base64
			t.Errorf("session id %q is shorter than 256 bits", c.Value)
		}

		// Served over HTTPS, the cookie is Secure too.
		https := testenv.NewServer(t, db, func(c *config.Config) { c.BaseURL = "https://regulars.example" })
		c = setCookie(signIn(https.Client(t), w.Owner.Email, testenv.Password), "rg_session")
		if c == nil || !c.Secure {
			t.Errorf("behind HTTPS the session cookie is %v, want Secure", c)
		}
	})
}

func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		stolen := sessionOf(t, srv, c)

		wantRedirect(t, c.PostForm("/logout", nil), "/login")
		wantSignInPage(t, c.Get("/admin"))
		// Someone who kept a copy of the cookie is out too.
		wantSignInPage(t, withSession(t, srv, stolen).Get("/admin"))
		if n := len(sessions(t, db, w.Owner.ID)); n != 0 {
			t.Errorf("%d sessions left in the database after sign-out", n)
		}
	})
}

func TestSessionsExpireWhenIdleAndAfterThirtyDays(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		clock := testenv.NewClock()
		srv.UseClock(clock)

		t.Run("idle", func(t *testing.T) {
			c := srv.SignedIn(t, w.Owner.Email)
			clock.Advance(23 * time.Hour)
			wantStatus(t, c.Get("/admin"), http.StatusOK)
			clock.Advance(23 * time.Hour) // active a day ago: still fine
			wantStatus(t, c.Get("/admin"), http.StatusOK)
			clock.Advance(24*time.Hour + time.Minute)
			wantSignInPage(t, c.Get("/admin"))
		})
		t.Run("absolute", func(t *testing.T) {
			c := srv.SignedIn(t, w.OtherOwner.Email)
			start := clock.Now()
			for clock.Now().Sub(start) < 30*24*time.Hour-20*time.Hour {
				clock.Advance(20 * time.Hour)
				wantStatus(t, c.Get("/admin"), http.StatusOK)
			}
			clock.Advance(21 * time.Hour) // 30 days and an hour after sign-in
			wantSignInPage(t, c.Get("/admin"))
			if n := len(sessions(t, db, w.OtherOwner.ID)); n != 0 {
				t.Errorf("the expired session is still stored (%d sessions)", n)
			}
		})
	})
}

func TestSignInNextStaysOnTheSite(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)

		// An anonymous visit remembers where it was going.
		r := srv.Client(t).Get("/admin/users?x=1")
		wantRedirect(t, r, "/login?next=%2Fadmin%2Fusers%3Fx%3D1")
		wantText(t, srv.Client(t).Get(r.Location()), `name="next" value="/admin/users?x=1"`)

		for next, want := range map[string]string{
			"/admin/users?x=1":       "/admin/users?x=1",
			"/account":               "/account",
			"":                       "/admin",
			"https://evil.example/":  "/admin",
			"//evil.example/":        "/admin",
			"/\\evil.example/":       "/admin",
			"\\\\evil.example/":      "/admin",
			"/\t/evil.example/":      "/admin",
			"/\n/evil.example/":      "/admin",
			" //evil.example/":       "/admin",
			"javascript:alert(1)":    "/admin",
			"/tenant/partners":       "/admin", // the other side of the product
			"http:/\\/evil.example/": "/admin",
			"/%2F%2Fevil.example/":   "/%2F%2Fevil.example/",
		} {
			r := srv.Client(t).PostForm("/login", form("email", w.Owner.Email, "password", testenv.Password, "next", next))
			if r.StatusCode != http.StatusSeeOther || r.Location() != want {
				t.Errorf("next=%q: got %d to %q, want 303 to %q", next, r.StatusCode, r.Location(), want)
			}
		}
	})
}
