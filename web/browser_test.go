package web_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

// browserSignIn signs in through the sign-in page and waits for the shell.
func browserSignIn(t *testing.T, ctx context.Context, srv *testenv.Server, email, password string) {
	t.Helper()
	testenv.Do(t, ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#drawer")),
	)
}

// browserDrawer lists the hrefs of the drawer menu on the current page.
func browserDrawer(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return testenv.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#drawer a")].map(a => a.getAttribute("href"))`))
}

// waitTrue polls a JavaScript condition until it holds, for animations and
// swaps; it fails the test after a few seconds.
func waitTrue(t *testing.T, ctx context.Context, js, what string) {
	t.Helper()
	// Generous: a loaded CI machine is slow, and a page in the middle of
	// loading cannot evaluate anything (those errors are retried).
	deadline := time.Now().Add(testenv.WaitTimeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s did not happen (last error: %v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserInvitedUserSeesOnlyTheirSections is the newcomer's path: the
// owner creates a role and a user, the user opens the emailed link in their
// own browser, sets a password, signs in and sees only what the role allows.
func TestBrowserInvitedUserSeesOnlyTheirSections(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtp := testenv.SMTPServer(t)
		srv := testenv.NewServer(t, db, testenv.WithSMTP(smtp))
		owner := testenv.Browser(t, testenv.BrowserName("owner"))
		browserSignIn(t, owner, srv, w.Owner.Email, testenv.Password)

		// A role, made in the role editor.
		testenv.Do(t, owner,
			chromedp.Click(chromedp.CSS(`#drawer a[href="/admin/roles"]`)),
			chromedp.Click(chromedp.CSS("#new-role")),
			chromedp.SendKeys(chromedp.CSS("#f-name"), "Barista"),
			chromedp.Click(chromedp.CSS(`input[name="perm.chat"][value="update"]`)),
			chromedp.Click(chromedp.CSS(`input[name="perm.locations"][value="view"]`)),
			chromedp.Click(chromedp.CSS(`#role-form button[type=submit]`)),
		)
		testenv.WaitText(t, owner, "main", "Role Barista created.")
		var barista *regulars.Role
		roles, err := db.Roles(t.Context(), w.Tenant.ID, w.Partner.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			if r.Name == "Barista" {
				barista = r
			}
		}
		if barista == nil || !maps(barista.Permissions, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate, regulars.FeatureLocations: regulars.LevelView}) {
			t.Fatalf("the role editor saved %+v", barista)
		}

		// A user with that role, made in the user form.
		testenv.Do(t, owner,
			chromedp.Click(chromedp.CSS(`#drawer a[href="/admin/users"]`)),
			chromedp.Click(chromedp.CSS("#new-user")),
			chromedp.SendKeys(chromedp.CSS("#f-name"), "Bea Barista"),
			chromedp.SendKeys(chromedp.CSS("#f-email"), "bea@alpha.example"),
			chromedp.SetValue(chromedp.CSS("#f-role"), strconv.FormatInt(barista.ID, 10)),
			chromedp.Click(chromedp.CSS(`#user-form button[type=submit]`)),
		)
		testenv.WaitText(t, owner, "main", "Bea Barista was invited.")
		testenv.WaitText(t, owner, "#users", "Invited")

		// Bea reads the email and opens the link in her own browser.
		mail := smtp.WaitFor(t, "bea@alpha.example", 10*time.Second)
		link := testenv.LinkIn(t, mail.Body, srv.URL+"/password/")
		bea := testenv.Browser(t, testenv.BrowserName("bea"))
		testenv.Do(t, bea, chromedp.Navigate(link))
		testenv.WaitText(t, bea, "main, .auth-card", "choose a password for bea@alpha.example")
		testenv.Do(t, bea,
			chromedp.SendKeys(chromedp.CSS("#f-password"), "a fine long passphrase"),
			chromedp.SendKeys(chromedp.CSS("#f-confirm"), "a fine long passphrase"),
			chromedp.Click(chromedp.CSS("button[type=submit]")),
		)
		testenv.WaitText(t, bea, ".flash", "Your password is set.")
		if got := testenv.Run(t, bea, chromedp.Value(chromedp.CSS("#f-email"))); got != "bea@alpha.example" {
			t.Errorf("the sign-in form after setting the password has email %q", got)
		}
		testenv.Do(t, bea,
			chromedp.SendKeys(chromedp.CSS("#f-password"), "a fine long passphrase"),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#drawer")),
		)
		want := []string{"/admin", "/admin/chat", "/admin/locations", "/account", "/admin/support"}
		if got := browserDrawer(t, bea); !slices.Equal(got, want) {
			t.Errorf("Bea's drawer links are %v, want %v", got, want)
		}

		// A forbidden address shows the refusal page.
		testenv.Do(t, bea, chromedp.Navigate(srv.URL+"/admin/users"))
		testenv.WaitText(t, bea, "#error", "Your role does not allow this.")
		if title := testenv.Run(t, bea, chromedp.Title()); !strings.HasPrefix(title, "Forbidden") {
			t.Errorf("refusal page title %q", title)
		}
	})
}

// TestBrowserManagerCannotGrantAboveOwnLevel tampers with the role editor:
// the level above the manager's own is disabled in the page, and when the
// attribute is removed the server still refuses, with a message. The
// server's side of it runs on both databases in TestNobodyGrantsMoreThanTheirOwnLevel;
// this test is about the page, so SQLite is enough.
func TestBrowserManagerCannotGrantAboveOwnLevel(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	mgr := manager(t, w) // coupons: view only
	ctx := testenv.Browser(t)
	browserSignIn(t, ctx, srv, mgr.Email, testenv.Password)

	const manage = `input[name="perm.coupons"][value="manage"]`
	testenv.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#drawer a[href="/admin/roles"]`)),
		chromedp.Click(chromedp.CSS("#new-role")),
		chromedp.WaitVisible(chromedp.CSS("#role-form")),
		chromedp.SendKeys(chromedp.CSS("#f-name"), "Coupon boss"),
	)
	// The boosted navigation has finished once the new page's title is in.
	waitTrue(t, ctx, `location.pathname === "/admin/roles/new" && !!document.querySelector('`+manage+`')`, "the new-role page")
	if !testenv.Run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('`+manage+`').disabled`)) {
		t.Fatal("the level above the manager's own is not disabled")
	}
	testenv.Do(t, ctx,
		chromedp.Evaluate[chromedp.Void](`(() => { const r = document.querySelector('`+manage+`'); r.removeAttribute("disabled"); r.checked = true; })()`),
	)
	waitTrue(t, ctx, `document.querySelector('`+manage+`').checked`, "the tampered radio being checked")
	testenv.Do(t, ctx, chromedp.Click(chromedp.CSS(`#role-form button[type=submit]`)))
	testenv.WaitText(t, ctx, "#e-perm\\.coupons", "You cannot grant more than your own level (View only).")
	testenv.WaitText(t, ctx, ".flash-error", "Please correct the highlighted fields.")
	if v := testenv.Run(t, ctx, chromedp.Value(chromedp.CSS("#f-name"))); v != "Coupon boss" {
		t.Errorf("the name field lost what was typed: %q", v)
	}
	roles, err := db.Roles(t.Context(), w.Tenant.ID, w.Partner.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if r.Name == "Coupon boss" {
			t.Fatalf("the tampered role was saved: %v", r.Permissions)
		}
	}
}

// TestBrowserPhoneLayout looks at the shell at phone width: the drawer is
// off screen until the menu button opens it, and nothing scrolls sideways.
func TestBrowserPhoneLayout(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	ctx := testenv.Browser(t)
	testenv.Do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	browserSignIn(t, ctx, srv, w.Owner.Email, testenv.Password)

	drawerShown := `(() => { const d = document.querySelector("#drawer"), r = d.getBoundingClientRect(); return r.right > 0 && r.left < innerWidth && getComputedStyle(d).visibility !== "hidden"; })()`
	drawerFullyOpen := `(() => { const r = document.querySelector("#drawer").getBoundingClientRect(); return r.left >= 0 && r.width > 0; })()`
	for _, page := range []string{"/admin", "/admin/users", "/admin/roles/new", "/account"} {
		testenv.Do(t, ctx, chromedp.Navigate(srv.URL+page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if testenv.Run(t, ctx, chromedp.Evaluate[bool](drawerShown)) {
			t.Errorf("%s: the drawer covers the page at phone width", page)
		}
		if wide := testenv.Run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); wide > 390 {
			t.Errorf("%s: the page is %dpx wide at a 390px viewport", page, wide)
		}
		testenv.Screenshot(t, ctx, "phone"+strings.ReplaceAll(page, "/", "-"))
	}

	testenv.Do(t, ctx, chromedp.Navigate(srv.URL+"/admin"), chromedp.Click(chromedp.CSS(".drawer-toggle")))
	waitTrue(t, ctx, drawerFullyOpen, "the drawer sliding in after a tap on the menu button")
	if got := testenv.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS(".drawer-toggle"), "aria-expanded")); got.Value != "true" {
		t.Errorf("the menu button has aria-expanded=%q while the drawer is open", got.Value)
	}
	testenv.Screenshot(t, ctx, "phone-drawer-open")
	// The drawer's links work from the open drawer.
	testenv.Do(t, ctx, chromedp.Click(chromedp.CSS(`#drawer a[href="/admin/users"]`)))
	testenv.WaitText(t, ctx, "main h1", "Users")
	waitTrue(t, ctx, "!"+drawerShown, "the drawer closing after following one of its links")
}

func maps(a, b regulars.Permissions) bool {
	return fmt.Sprint(a.Clone()) == fmt.Sprint(b.Clone())
}

// TestBrowserEndedSessionLeadsToTheSignInPage: when the session ends
// elsewhere (disabled, password changed), the next click in the boosted
// shell loads the whole sign-in page, not a sign-in form inside the shell.
func TestBrowserEndedSessionLeadsToTheSignInPage(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	ctx := testenv.Browser(t)
	browserSignIn(t, ctx, srv, w.Owner.Email, testenv.Password)

	if err := db.DeleteUserSessions(t.Context(), w.Owner.ID, 0); err != nil {
		t.Fatal(err)
	}
	testenv.Do(t, ctx, chromedp.Click(chromedp.CSS(`#drawer a[href="/admin/users"]`)))
	waitTrue(t, ctx, `!!document.body && document.body.classList.contains("auth") && !!document.querySelector("#f-password")`, "the sign-in page loading")
	if loc := testenv.Run(t, ctx, chromedp.Location()); loc != srv.URL+"/login?next=%2Fadmin%2Fusers" {
		t.Errorf("the browser is at %s", loc)
	}
	// Signing in again goes where the click was going.
	testenv.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#f-email"), w.Owner.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), testenv.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	testenv.WaitText(t, ctx, "main h1", "Users")
}
