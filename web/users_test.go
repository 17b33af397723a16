package web_test

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"regulars"
	"regulars/config"
	"regulars/internal/testenv"
	"regulars/store"
)

// invite creates a user through the form as c and returns the response.
func invite(c *testenv.Client, name, email string, roleID int64) *testenv.Response {
	return c.PostForm("/admin/users", form("name", name, "email", email, "role", fmt.Sprint(roleID)))
}

// passwordLink waits for an email to `to` on the SMTP server and returns the
// path of the set-password link in it.
func passwordLink(t *testing.T, smtp *testenv.SMTP, srv *testenv.Server, to string) string {
	t.Helper()
	m := smtp.WaitFor(t, to, 10*time.Second)
	return strings.TrimPrefix(testenv.LinkIn(t, m.Body, srv.URL+"/password/"), srv.URL)
}

func setPassword(c *testenv.Client, link, password string) *testenv.Response {
	return c.PostForm(link, form("password", password, "confirm", password))
}

func TestCreatingAUserRefusesBadInputAndSavesNothing(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		mgr := srv.SignedIn(t, manager(t, w).Email)
		couponViewer := addRole(t, w, "Coupon viewer", regulars.Permissions{regulars.FeatureCoupons: regulars.LevelView})
		couponManager := addRole(t, w, "Coupon manager", regulars.Permissions{regulars.FeatureCoupons: regulars.LevelManage})

		for _, tc := range []struct {
			name                   string
			userName, email, phone string
			role                   int64
			field, message         string
		}{
			{"missing name", "", "new@alpha.example", "", couponViewer.ID, "name", "This field is required."},
			{"malformed email", "Bea", "bea@", "", couponViewer.ID, "email", "Enter an email address like name@example.com."},
			{"email with a display name", "Bea", "Bea <bea@alpha.example>", "", couponViewer.ID, "email", "Enter an email address like name@example.com."},
			{"duplicate email", "Bea", w.Owner.Email, "", couponViewer.ID, "email", "A user with this email already exists."},
			{"email of another partner's user, in capitals", "Bea", strings.ToUpper(w.OtherOwner.Email), "", couponViewer.ID, "email", "A user with this email already exists."},
			{"malformed phone", "Bea", "bea@alpha.example", "call me", couponViewer.ID, "phone", "Enter a phone number with 7 to 15 digits"},
			{"phone with too few digits", "Bea", "bea@alpha.example", "+44 123", couponViewer.ID, "phone", "Enter a phone number with 7 to 15 digits"},
			{"missing role", "Bea", "bea@alpha.example", "", 0, "role", "Choose a role."},
			{"the Account owner role", "Bea", "bea@alpha.example", "", w.OwnerRole.ID, "role", "Only one user can be the Account owner."},
			{"a role above your own level", "Bea", "bea@alpha.example", "", couponManager.ID, "role", "This role has more rights than your own"},
			{"another partner's role", "Bea", "bea@alpha.example", "", w.OtherRole.ID, "role", "Choose one of the existing roles."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(users(t, db, w, w.Partner.ID))
				r := mgr.PostForm("/admin/users", form("name", tc.userName, "email", tc.email, "phone", tc.phone, "role", fmt.Sprint(tc.role)))
				wantFieldError(t, r, tc.field, tc.message)
				if tc.userName != "" {
					wantText(t, r, `value="`+tc.userName+`"`) // what was typed stays in the form
				}
				if n := len(users(t, db, w, w.Partner.ID)); n != before {
					t.Errorf("a user was saved (%d users, was %d)", n, before)
				}
				if mails, _ := db.OutboxTo(t.Context(), tc.email); tc.field != "email" && len(mails) != 0 {
					t.Errorf("an invitation was sent to %s", tc.email)
				}
			})
		}

		// The role list offers only the roles the manager may give.
		page := mgr.Get("/admin/users/new")
		wantText(t, page, "Coupon viewer")
		noText(t, page, "Coupon manager", ">Account owner<", "Beta Bakery")
	})
}

func TestInvitationLinkSetsThePasswordOnce(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtp := testenv.SMTPServer(t)
		srv := testenv.NewServer(t, db, testenv.WithSMTP(smtp))
		owner := srv.SignedIn(t, w.Owner.Email)

		r := invite(owner, "Bea Barista", "bea@alpha.example", w.Role.ID)
		wantRedirect(t, r, "/admin/users")
		wantText(t, follow(t, owner, r), "Bea Barista was invited")
		m := smtp.WaitFor(t, "bea@alpha.example", 10*time.Second)
		if !strings.Contains(m.Subject, "Alpha Coffee") {
			t.Errorf("subject %q does not name the partner", m.Subject)
		}
		link := strings.TrimPrefix(testenv.LinkIn(t, m.Body, srv.URL+"/password/"), srv.URL)
		if secret := strings.TrimPrefix(link, "/password/"); len(secret) < 22 { // 128 bits in base64
			t.Errorf("the link's secret %q has fewer than 128 bits", secret)
		}
		bea, err := db.UserByEmail(t.Context(), "bea@alpha.example")
		if err != nil || bea.Status != regulars.UserInvited || bea.PartnerID != w.Partner.ID || bea.RoleID != w.Role.ID {
			t.Fatalf("Bea is %+v (%v), want invited to Alpha Coffee as Viewer", bea, err)
		}
		wantText(t, owner.Get("/admin/users"), "Bea Barista", "Invited")

		guest := srv.Client(t)
		wantText(t, guest.Get(link), "Hello Bea Barista, choose a password for <strong>bea@alpha.example</strong>")
		// A mistake keeps the link usable.
		r = guest.PostForm(link, form("password", "a fine long passphrase", "confirm", "a fine long passphrase?"))
		wantFieldError(t, r, "confirm", "The two passwords do not match.")
		r = setPassword(guest, link, "a fine long passphrase")
		wantRedirect(t, r, "/login?email=bea%40alpha.example")
		if u := user(t, db, bea.ID); u.Status != regulars.UserActive {
			t.Errorf("after setting the password Bea is %s, want active", u.Status)
		}
		wantRedirect(t, signIn(srv.Client(t), "bea@alpha.example", "a fine long passphrase"), "/admin")

		// The link works once.
		for _, r := range []*testenv.Response{guest.Get(link), setPassword(srv.Client(t), link, "another long passphrase")} {
			wantStatus(t, r, http.StatusNotFound)
			wantText(t, r, "This link is invalid, was already used or has expired.")
		}
		wantStatus(t, signIn(srv.Client(t), "bea@alpha.example", "another long passphrase"), http.StatusUnauthorized)
	})
}

func TestInvitationLinkExpiresAfter72Hours(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtp := testenv.SMTPServer(t)
		srv := testenv.NewServer(t, db, testenv.WithSMTP(smtp))
		clock := testenv.NewClock()
		srv.UseClock(clock)
		owner := srv.SignedIn(t, w.Owner.Email)

		wantRedirect(t, invite(owner, "Bea Barista", "bea@alpha.example", w.Role.ID), "/admin/users")
		link := passwordLink(t, smtp, srv, "bea@alpha.example")
		clock.Advance(72*time.Hour - time.Minute)
		wantStatus(t, srv.Client(t).Get(link), http.StatusOK)
		clock.Advance(2 * time.Minute)
		wantStatus(t, srv.Client(t).Get(link), http.StatusNotFound)
		wantStatus(t, setPassword(srv.Client(t), link, "a fine long passphrase"), http.StatusNotFound)
		if u, _ := db.UserByEmail(t.Context(), "bea@alpha.example"); u.Status != regulars.UserInvited {
			t.Errorf("an expired link activated the user (%s)", u.Status)
		}
	})
}

func TestResentInvitationSupersedesTheOldLink(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtp := testenv.SMTPServer(t)
		srv := testenv.NewServer(t, db, testenv.WithSMTP(smtp))
		owner := srv.SignedIn(t, w.Owner.Email)

		wantRedirect(t, invite(owner, "Bea Barista", "bea@alpha.example", w.Role.ID), "/admin/users")
		old := passwordLink(t, smtp, srv, "bea@alpha.example")
		bea, err := db.UserByEmail(t.Context(), "bea@alpha.example")
		if err != nil {
			t.Fatal(err)
		}
		r := owner.PostForm(idPath("/admin/users", bea.ID, "/resend"), nil)
		wantText(t, follow(t, owner, r), "A new invitation was sent to bea@alpha.example")
		fresh := passwordLink(t, smtp, srv, "bea@alpha.example")
		if fresh == old {
			t.Fatal("the resent invitation has the same link")
		}
		wantStatus(t, srv.Client(t).Get(old), http.StatusNotFound)
		wantRedirect(t, setPassword(srv.Client(t), fresh, "a fine long passphrase"), "/login?email=bea%40alpha.example")

		// Once the password is set there is nothing to resend.
		page := idPath("/admin/users", bea.ID, "")
		r = submit(srv, owner, page, page+"/resend", nil)
		wantRedirect(t, r, page)
		wantText(t, follow(t, owner, r), "Bea Barista has already set a password.")
	})
}

func TestPasswordsAreCheckedForStrengthAndUsedWhole(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtp := testenv.SMTPServer(t)
		srv := testenv.NewServer(t, db, testenv.WithSMTP(smtp))
		owner := srv.SignedIn(t, w.Owner.Email)
		wantRedirect(t, invite(owner, "Bea Barista", "bea@alpha.example", w.Role.ID), "/admin/users")
		link := passwordLink(t, smtp, srv, "bea@alpha.example")
		guest := srv.Client(t)

		wantFieldError(t, setPassword(guest, link, "seven77"), "password", "Use at least 8 characters.")
		wantFieldError(t, setPassword(guest, link, "Password123"), "password", "among the most common")
		wantFieldError(t, setPassword(guest, link, "qwertyuiop"), "password", "among the most common")

		passphrase := "the quick brown fox jumps over the lazy dog while it rains 2026!"
		if len(passphrase) != 64 {
			t.Fatalf("passphrase has %d characters", len(passphrase))
		}
		wantRedirect(t, setPassword(guest, link, passphrase), "/login?email=bea%40alpha.example")
		// Every character counts: nothing is cut off.
		wantStatus(t, signIn(srv.Client(t), "bea@alpha.example", passphrase[:63]), http.StatusUnauthorized)
		wantRedirect(t, signIn(srv.Client(t), "bea@alpha.example", passphrase), "/admin")
	})
}

func TestANewUserSeesOnlyTheSectionsOfTheirRole(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtp := testenv.SMTPServer(t)
		srv := testenv.NewServer(t, db, testenv.WithSMTP(smtp))
		owner := srv.SignedIn(t, w.Owner.Email)
		barista := addRole(t, w, "Barista", regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate, regulars.FeatureLocations: regulars.LevelView})

		wantRedirect(t, invite(owner, "Bea Barista", "bea@alpha.example", barista.ID), "/admin/users")
		wantRedirect(t, setPassword(srv.Client(t), passwordLink(t, smtp, srv, "bea@alpha.example"), "a fine long passphrase"), "/login?email=bea%40alpha.example")
		bea := srv.Client(t)
		wantRedirect(t, signIn(bea, "bea@alpha.example", "a fine long passphrase"), "/admin")

		home := bea.Get("/admin")
		wantStatus(t, home, http.StatusOK)
		want := []string{"/admin", "/admin/chat", "/admin/locations", "/account", "/admin/support"}
		if got := drawerLinks(home); !slices.Equal(got, want) {
			t.Errorf("drawer links %v, want %v", got, want)
		}
		for _, p := range []string{"/admin/users", "/admin/roles", "/admin/coupons", "/admin/partnership", "/admin/channels"} {
			r := bea.Get(p)
			wantStatus(t, r, http.StatusForbidden)
			wantText(t, r, "Your role does not allow this.")
		}
		wantStatus(t, bea.Get("/admin/chat"), http.StatusOK)
		wantStatus(t, bea.Get("/admin/locations"), http.StatusOK)
		wantStatus(t, bea.Get("/account"), http.StatusOK)
		wantStatus(t, bea.Get("/admin/support"), http.StatusOK)
		// Forms are refused on the server, not only hidden.
		wantStatus(t, invite(bea, "Eve", "eve@alpha.example", barista.ID), http.StatusForbidden)
	})
}

func TestDisablingAUserSignsThemOutAtOnce(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)
		u := w.AddUser(t, w.Partner.ID, "agent@alpha.example", regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
		phone, laptop := srv.SignedIn(t, u.Email), srv.SignedIn(t, u.Email)

		r := owner.PostForm(idPath("/admin/users", u.ID, "/disable"), nil)
		wantText(t, follow(t, owner, r), "is disabled and was signed out everywhere", "Disabled")
		wantSignInPage(t, phone.Get("/admin"))
		wantSignInPage(t, laptop.Get("/admin/chat"))
		r = signIn(srv.Client(t), u.Email, testenv.Password)
		wantStatus(t, r, http.StatusUnauthorized)
		wantText(t, r, "This account is disabled.")

		r = owner.PostForm(idPath("/admin/users", u.ID, "/enable"), nil)
		wantText(t, follow(t, owner, r), "is enabled again")
		if got := user(t, db, u.ID).Status; got != regulars.UserActive {
			t.Errorf("re-enabled user is %s, want active", got)
		}
		wantRedirect(t, signIn(srv.Client(t), u.Email, testenv.Password), "/admin")

		// Nobody disables the Account owner or themselves.
		mgr := manager(t, w)
		m := srv.SignedIn(t, mgr.Email)
		page := idPath("/admin/users", w.Owner.ID, "")
		r = submit(srv, m, page, page+"/disable", nil)
		wantRedirect(t, r, page)
		wantText(t, follow(t, m, r), "The Account owner cannot be disabled.")
		// Without a page to go back to, the refusal is shown on its own.
		r = m.PostForm(idPath("/admin/users", mgr.ID, "/disable"), nil)
		wantStatus(t, r, http.StatusConflict)
		wantText(t, r, "You cannot disable your own account.")
		wantStatus(t, owner.Get("/admin"), http.StatusOK)
	})
}

func TestChangingAUsersPasswordSignsThemOut(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)
		u := w.AddUser(t, w.Partner.ID, "agent@alpha.example", regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
		agent := srv.SignedIn(t, u.Email)
		path := idPath("/admin/users", u.ID, "/password")

		wantFieldError(t, owner.PostForm(path, form("password", "short", "confirm", "short")), "password", "Use at least 8 characters.")
		wantStatus(t, agent.Get("/admin"), http.StatusOK) // a refused change ends nothing

		r := owner.PostForm(path, form("password", "a brand new passphrase", "confirm", "a brand new passphrase"))
		wantText(t, follow(t, owner, r), "their other sessions were ended")
		wantSignInPage(t, agent.Get("/admin"))
		wantStatus(t, signIn(srv.Client(t), u.Email, testenv.Password), http.StatusUnauthorized)
		wantRedirect(t, signIn(srv.Client(t), u.Email, "a brand new passphrase"), "/admin")
	})
}

func TestForgotPasswordAnswersAlikeAndEmailsKnownAddresses(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtp := testenv.SMTPServer(t)
		srv := testenv.NewServer(t, db, testenv.WithSMTP(smtp))
		signedIn := srv.SignedIn(t, w.Owner.Email)

		known := srv.Client(t).PostForm("/forgot", form("email", w.Owner.Email))
		unknown := srv.Client(t).PostForm("/forgot", form("email", "nobody@alpha.example"))
		wantStatus(t, known, http.StatusOK)
		wantStatus(t, unknown, http.StatusOK)
		if strings.ReplaceAll(known.Body, w.Owner.Email, "EMAIL") != strings.ReplaceAll(unknown.Body, "nobody@alpha.example", "EMAIL") {
			t.Error("the answer differs for a known and an unknown address")
		}
		wantText(t, known, "we have sent it a link")
		wantFieldError(t, srv.Client(t).PostForm("/forgot", form("email", "not an email")), "email", "Enter an email address")

		link := passwordLink(t, smtp, srv, w.Owner.Email)
		if mails, _ := db.OutboxTo(t.Context(), "nobody@alpha.example"); len(mails) != 0 {
			t.Error("an email went to an address without an account")
		}
		wantRedirect(t, setPassword(srv.Client(t), link, "my new passphrase"), "/login?email="+strings.ReplaceAll(w.Owner.Email, "@", "%40"))
		wantSignInPage(t, signedIn.Get("/admin")) // a reset ends the sessions
		wantStatus(t, signIn(srv.Client(t), w.Owner.Email, testenv.Password), http.StatusUnauthorized)
		wantRedirect(t, signIn(srv.Client(t), w.Owner.Email, "my new passphrase"), "/admin")
		wantStatus(t, srv.Client(t).Get(link), http.StatusNotFound)
	})
}

// hungSMTP is a mail server that accepts connections and never answers
// until stop is called.
func hungSMTP(t *testing.T) (url string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	stop = func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
	t.Cleanup(stop)
	return "smtp://" + ln.Addr().String(), stop
}

func TestASlowMailServerHoldsUpNobodyElse(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtpURL, stop := hungSMTP(t)
		srv := testenv.NewServer(t, db, func(c *config.Config) { c.SMTPURL = smtpURL })
		t.Cleanup(stop) // before the server's cleanup, which waits for the invitation
		owner := srv.SignedIn(t, w.Owner.Email)

		go invite(owner, "Bea Barista", "bea@alpha.example", w.Role.ID) // waits for the mail server
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := db.UserByEmail(t.Context(), "bea@alpha.example"); err == nil {
				break // the invitation is saved before the email goes out
			}
			if time.Now().After(deadline) {
				t.Fatal("the new user is not saved while the mail server is slow")
			}
			time.Sleep(20 * time.Millisecond)
		}
		start := time.Now()
		wantRedirect(t, signIn(srv.Client(t), w.OtherOwner.Email, testenv.Password), "/admin")
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a sign-in took %v while an email was being sent", d)
		}
	})
}

func TestNobodyTakesOverAUserWithMoreRights(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		mgr := srv.SignedIn(t, manager(t, w).Email) // coupons: view only
		full := regulars.Permissions{}
		for _, f := range regulars.AllPartnerFeatures() {
			full[f] = regulars.LevelManage
		}
		boss := w.AddUser(t, w.Partner.ID, "boss@alpha.example", full)
		bossSession := srv.SignedIn(t, boss.Email)
		page := idPath("/admin/users", boss.ID, "")

		// Setting their password would let the manager sign in as them.
		r := mgr.PostForm(page+"/password", form("password", "taken over at last", "confirm", "taken over at last"))
		wantStatus(t, r, http.StatusForbidden)
		wantText(t, r, "has more rights than you")
		wantStatus(t, signIn(srv.Client(t), boss.Email, "taken over at last"), http.StatusUnauthorized)
		r = mgr.PostForm(page+"/disable", nil)
		wantStatus(t, r, http.StatusForbidden)
		if got := user(t, db, boss.ID).Status; got != regulars.UserActive {
			t.Errorf("the manager disabled a user with more rights (%s)", got)
		}
		wantStatus(t, bossSession.Get("/admin"), http.StatusOK)
		// The page does not offer what the server refuses.
		noText(t, mgr.Get(page), "Change password", "Disable user")

		// The owner may.
		owner := srv.SignedIn(t, w.Owner.Email)
		wantRedirect(t, owner.PostForm(page+"/password", form("password", "a new boss passphrase", "confirm", "a new boss passphrase")), page)
	})
}
