package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"regulars/internal/testenv"
	"regulars/store"
)

func TestTenantOutboxShowsTheInvitation(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		operator := srv.SignedIn(t, w.Operator.Email)
		wantText(t, operator.Get("/tenant/outbox"), "No emails yet")

		wantRedirect(t, invite(srv.SignedIn(t, w.Owner.Email), "Bea Barista", "bea@alpha.example", w.Role.ID), "/admin/users")
		page := operator.Get("/tenant/outbox")
		wantStatus(t, page, http.StatusOK)
		// Without SMTP the email waits here, link included, for the operator.
		wantText(t, page, "You are invited to Alpha Coffee on Regulars", "to bea@alpha.example", srv.URL+"/password/", "Kept")

		other := srv.SignedIn(t, w.OtherTenantOperator.Email)
		noText(t, other.Get("/tenant/outbox"), "bea@alpha.example")
		wantStatus(t, srv.SignedIn(t, w.Owner.Email).Get("/tenant/outbox"), http.StatusNotFound)
	})
}

func TestTenantPartnerListSearch(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		operator := srv.SignedIn(t, w.Operator.Email)

		all := operator.Get("/tenant/partners")
		wantText(t, all, "Alpha Coffee", "Beta Bakery")
		for q, want := range map[string]struct{ shown, hidden string }{
			"alpha":  {"Alpha Coffee", "Beta Bakery"},
			"BAKERY": {"Beta Bakery", "Alpha Coffee"},
			"ta ba":  {"Beta Bakery", "Alpha Coffee"},
			"%":      {"No partners found", "Alpha Coffee"}, // a wildcard is a plain character
			"_":      {"No partners found", "Beta Bakery"},
			"zzz":    {"No partners found", "Alpha Coffee"},
		} {
			r := operator.Get("/tenant/partners?q=" + strings.NewReplacer("%", "%25", " ", "+").Replace(q))
			wantStatus(t, r, http.StatusOK)
			wantText(t, r, want.shown, `value="`+q+`"`)
			noText(t, r, want.hidden)
		}
		noText(t, srv.SignedIn(t, w.OtherTenantOperator.Email).Get("/tenant/partners"), "Alpha Coffee")
	})
}

func TestSupportMessageReachesTheTenant(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		smtp := testenv.SMTPServer(t)
		srv := testenv.NewServer(t, db, testenv.WithSMTP(smtp))
		owner := srv.SignedIn(t, w.Owner.Email)

		page := owner.Get("/admin/support")
		wantText(t, page, "support@tenant.example", "Test Tenant")

		r := owner.PostForm("/admin/support", form("subject", "", "body", " "))
		wantFieldError(t, r, "subject", "This field is required.")
		wantFieldError(t, r, "body", "This field is required.")

		r = owner.PostForm("/admin/support", form("subject", "Invoice question", "body", "Why was I billed twice in May?"))
		wantRedirect(t, r, "/admin/support")
		wantText(t, follow(t, owner, r), "Your message was sent to Test Tenant.")

		inbox := srv.SignedIn(t, w.Operator.Email).Get("/tenant/support")
		wantText(t, inbox, "Invoice question", "Why was I billed twice in May?", "Alpha Coffee", w.Owner.Email)
		noText(t, srv.SignedIn(t, w.OtherTenantOperator.Email).Get("/tenant/support"), "Invoice question")

		m := smtp.WaitFor(t, "support@tenant.example", 10*time.Second)
		if m.Subject != "[Alpha Coffee] Invoice question" || !strings.Contains(m.Body, "Why was I billed twice in May?") || !strings.Contains(m.Body, w.Owner.Email) {
			t.Errorf("support email %q:\n%s", m.Subject, m.Body)
		}
	})
}

// The console's overview counts the tenant's partners (not another
// tenant's), by status and by package, each figure a link to its list.
func TestTenantOverview(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		r := srv.SignedIn(t, w.Operator.Email).Get("/tenant")
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, `href="/tenant/partners?status=active" id="stat-active"><span class="stat-value">2</span>`,
			`href="/tenant/partners?status=suspended" id="stat-suspended"><span class="stat-value">0</span>`,
			"Partners by package", "<title>"+w.Package.Name+": 2</title>")
	})
}
