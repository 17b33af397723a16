package web_test

import (
	"database/sql"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

func TestProfileEditIsValidated(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)

		r := owner.PostForm("/account/profile", form("name", "  ", "phone", "call me maybe"))
		wantFieldError(t, r, "name", "This field is required.")
		wantFieldError(t, r, "phone", "Enter a phone number with 7 to 15 digits")
		wantText(t, r, `value="call me maybe"`)
		if got := user(t, db, w.Owner.ID); got.Name != w.Owner.Name || got.Phone != "" {
			t.Errorf("a refused edit saved name %q phone %q", got.Name, got.Phone)
		}
		wantFieldError(t, owner.PostForm("/account/profile", form("name", strings.Repeat("x", 121))), "name", "Use at most 120 characters.")

		r = owner.PostForm("/account/profile", form("name", "Alma Alpha", "phone", "+44 20 7946 0958"))
		wantRedirect(t, r, "/account")
		page := follow(t, owner, r)
		wantText(t, page, "Your profile is saved.", `value="Alma Alpha"`, `value="+44 20 7946 0958"`)
		if got := user(t, db, w.Owner.ID); got.Name != "Alma Alpha" || got.Phone != "+44 20 7946 0958" {
			t.Errorf("saved name %q phone %q", got.Name, got.Phone)
		}
	})
}

func TestChangingYourOwnPasswordKeepsThisSessionAndEndsTheOthers(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		here, elsewhere := srv.SignedIn(t, w.Owner.Email), srv.SignedIn(t, w.Owner.Email)

		r := here.PostForm("/account/password", form("current", "not my password", "password", "a new passphrase", "confirm", "a new passphrase"))
		wantFieldError(t, r, "current", "Your current password is not correct.")
		wantFieldError(t, here.PostForm("/account/password", form("current", testenv.Password, "password", "12345678", "confirm", "12345678")), "password", "among the most common")
		wantStatus(t, elsewhere.Get("/admin"), http.StatusOK) // refused changes end nothing

		r = here.PostForm("/account/password", form("current", testenv.Password, "password", "a new passphrase", "confirm", "a new passphrase"))
		wantRedirect(t, r, "/account")
		wantText(t, follow(t, here, r), "Your password is changed.")
		wantStatus(t, here.Get("/admin"), http.StatusOK)
		wantSignInPage(t, elsewhere.Get("/admin"))
		wantStatus(t, signIn(srv.Client(t), w.Owner.Email, testenv.Password), http.StatusUnauthorized)
		wantRedirect(t, signIn(srv.Client(t), w.Owner.Email, "a new passphrase"), "/admin")
	})
}

var newTokenRE = regexp.MustCompile(`<code id="new-token">([^<]+)</code>`)

func TestAPITokenIsShownOnceAndStoredOnlyAsAHash(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)

		wantFieldError(t, owner.PostForm("/account/tokens", form("token_name", "")), "token_name", "This field is required.")

		r := owner.PostForm("/account/tokens", form("token_name", "My phone"))
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, "Copy it now: it will not be shown again.")
		m := newTokenRE.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("the new token is not shown\n%s", excerpt(r))
		}
		secret := m[1]
		actor, err := srv.App.AuthenticateToken(t.Context(), secret)
		if err != nil || actor.User.ID != w.Owner.ID {
			t.Fatalf("the token does not authenticate the owner: %v", err)
		}

		later := owner.Get("/account")
		wantText(t, later, "My phone", secret[:8]+"…")
		noText(t, later, secret)
		// Only the hash is kept: the secret is nowhere in the table.
		if n := rawCount(t, db, `SELECT COUNT(*) FROM api_tokens WHERE token_hash = `+param(db, 1), app.HashSecret(secret)); n != 1 {
			t.Errorf("%d tokens stored under the secret's hash, want 1", n)
		}
		if n := rawCount(t, db, `SELECT COUNT(*) FROM api_tokens WHERE token_hash = `+param(db, 1)+` OR prefix = `+param(db, 2)+` OR name = `+param(db, 3), secret, secret, secret); n != 0 {
			t.Errorf("the secret itself is stored (%d rows)", n)
		}

		tokens, err := db.APITokens(t.Context(), w.Owner.ID)
		if err != nil || len(tokens) != 1 {
			t.Fatalf("tokens %v (%v)", tokens, err)
		}
		r = owner.PostForm(idPath("/account/tokens", tokens[0].ID, "/delete"), nil)
		wantRedirect(t, r, "/account")
		wantText(t, follow(t, owner, r), "The token is revoked.")
		if _, err := srv.App.AuthenticateToken(t.Context(), secret); err == nil {
			t.Error("a revoked token still authenticates")
		}
	})
}

func TestSessionsAreListedAndOthersCanBeSignedOut(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		signInWith := func(from, agent string) *testenv.Client {
			c := srv.Client(t)
			c.From = from
			r := c.Do(http.MethodPost, "/login", strings.NewReader(form("email", w.Owner.Email, "password", testenv.Password).Encode()),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "User-Agent": {agent}})
			wantRedirect(t, r, "/admin")
			return c
		}
		phone := signInWith("198.51.100.7", "Phone browser 1.0")
		laptop := signInWith("203.0.113.9", "Laptop browser 2.0")

		page := laptop.Get("/account")
		wantText(t, page, "Phone browser 1.0", "198.51.100.7", "Laptop browser 2.0", "203.0.113.9", "Sign out other sessions")
		if !regexp.MustCompile(`Laptop browser 2\.0 <span class="badge[^"]*">This session`).MatchString(page.Body) {
			t.Error("the current session is not marked as this session")
		}

		r := laptop.PostForm("/account/sessions/end-others", nil)
		wantRedirect(t, r, "/account")
		page = follow(t, laptop, r)
		wantText(t, page, "Every other session was signed out.", "Laptop browser 2.0")
		noText(t, page, "Phone browser 1.0", "Sign out other sessions")
		wantSignInPage(t, phone.Get("/admin"))
		if n := len(sessions(t, db, w.Owner.ID)); n != 1 {
			t.Errorf("%d sessions left, want 1", n)
		}
	})
}

// rawCount runs a COUNT query on the database behind the store, for checks
// the store has no method for.
func rawCount(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	driver := "sqlite"
	if db.Dialect() == "postgres" {
		driver = "pgx"
	}
	raw, err := sql.Open(driver, db.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// param is the n-th placeholder of the database's dialect.
func param(db *store.DB, n int) string {
	if db.Dialect() == "postgres" {
		return "$" + string(rune('0'+n))
	}
	return "?"
}
