package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

// confirm clicks the button of the confirmation dialog that app.js opens.
func confirm(t *testing.T, ctx context.Context) {
	t.Helper()
	testenv.Do(t, ctx, chromedp.WaitVisible(`dialog.confirm[open] button[value=confirm]`), chromedp.Click(`dialog.confirm[open] button[value=confirm]`))
}

func offerAddons(t *testing.T, db *store.DB, tenantID int64) {
	t.Helper()
	for _, a := range []*regulars.Addon{
		{TenantID: tenantID, Kind: regulars.AddonGigabytes, Name: "Gigabytes", UnitSize: 10, UnitPrice: 500, Currency: "EUR", Available: true},
		{TenantID: tenantID, Kind: regulars.AddonTenantPoints, Name: "Tenant points", UnitSize: 1000, UnitPrice: 1000, Currency: "EUR", Available: true},
	} {
		if err := db.SaveAddon(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPartnershipRequestsInTheBrowser: a partner asks for two add-ons and a
// package change and cancels one request; the tenant approves the other and
// rejects the package change with a reason; the partner sees the wallet, the
// activity and the emails.
func TestPartnershipRequestsInTheBrowser(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	offerAddons(t, db, w.Tenant.ID)
	big := &regulars.Package{TenantID: w.Tenant.ID, Name: "Big", MonthlyPrice: 19900, YearlyPrice: 199000, Currency: "EUR", Features: regulars.AllPartnerFeatures()}
	if err := db.CreatePackage(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	mail := testenv.SMTPServer(t)
	srv := testenv.NewServer(t, db, testenv.WithSMTP(mail))

	partner := testenv.Browser(t, testenv.BrowserName("partner"))
	browserSignIn(t, partner, srv, w.Owner.Email, testenv.Password)

	// Two add-on requests; the total shows before sending.
	for _, c := range []struct{ field, qty, total string }{{"qty.gigabytes", "2", "EUR 10.00"}, {"qty.tenant_points", "3", "EUR 30.00"}} {
		testenv.Do(t, partner,
			chromedp.Navigate(srv.URL+"/admin/partnership"),
			chromedp.Click(`#purchase-addons`),
			chromedp.WaitVisible(`#purchase-form`),
			chromedp.SendKeys(`input[name="`+c.field+`"]`, c.qty),
		)
		testenv.WaitText(t, partner, `[data-total-out]`, c.total)
		testenv.Do(t, partner, chromedp.Click(`#send-request`))
		testenv.WaitText(t, partner, `.flash-success`, "Your request ("+c.total+") was sent")
	}
	// Nothing selected: refused with a message, nothing sent.
	testenv.Do(t, partner, chromedp.Navigate(srv.URL+"/admin/partnership/purchase"), chromedp.Click(`#send-request`))
	testenv.WaitText(t, partner, `#purchase-form`, "Select at least one add-on")

	// A package change.
	testenv.Do(t, partner,
		chromedp.Navigate(srv.URL+"/admin/partnership/package"),
		chromedp.Click(`#change-package`),
		chromedp.WaitVisible(`#change-form`),
		chromedp.Click(`label[data-package="Big"] input`),
		chromedp.Click(`input[name=period][value=yearly]`),
		chromedp.Click(`#request-change`),
	)
	testenv.WaitText(t, partner, `.flash-success`, "You asked to change to Big (yearly)")
	testenv.Do(t, partner, chromedp.Navigate(srv.URL+"/admin/partnership/package"))
	testenv.WaitText(t, partner, `#pending-change`, "Until Test Tenant approves, your current package stays in force")

	// Cancel the Gigabytes request.
	testenv.Do(t, partner, chromedp.Navigate(srv.URL+"/admin/partnership/addon-activity"), chromedp.WaitVisible(`#activity`))
	rows := testenv.Text(t, partner, `#activity tbody`)
	if !strings.Contains(rows, "3 × Tenant points") || !strings.Contains(rows, "2 × Gigabytes") {
		t.Fatalf("activity:\n%s", rows)
	}
	testenv.Do(t, partner, chromedp.Click(`//table[@id="activity"]//tr[contains(., "Gigabytes")]//button`))
	confirm(t, partner)
	testenv.WaitText(t, partner, `.flash-success`, "Your request is cancelled")
	testenv.WaitText(t, partner, `#activity tr[data-status=cancelled]`, "2 × Gigabytes")

	// The tenant approves the points and rejects the package change.
	op := testenv.Browser(t, testenv.BrowserName("operator"))
	browserSignIn(t, op, srv, w.Operator.Email, testenv.Password)
	testenv.Do(t, op, chromedp.Navigate(srv.URL+"/tenant/requests"), chromedp.WaitVisible(`#requests`))
	queue := testenv.Text(t, op, `#requests tbody`)
	if strings.Contains(queue, "Gigabytes") || !strings.Contains(queue, "Tenant points") || !strings.Contains(queue, "Big") {
		t.Fatalf("pending queue:\n%s", queue)
	}
	testenv.Do(t, op, chromedp.Click(`//table[@id="requests"]//tr[contains(., "Tenant points")]//form[contains(@action, "/approve")]/button`))
	confirm(t, op)
	testenv.WaitText(t, op, `.flash-success`, "Approved: Alpha Coffee is told by email")
	testenv.Do(t, op, chromedp.Click(`#requests tr a.btn[href$="#reject"]`), chromedp.WaitVisible(`#reject-form`))
	testenv.Do(t, op, chromedp.SendKeys(`#f-reason`, "Big is for chains with ten shops or more."), chromedp.Click(`#reject-button`))
	testenv.WaitText(t, op, `.flash-success`, "Rejected: Alpha Coffee is told by email")
	testenv.Do(t, op, chromedp.Navigate(srv.URL+"/tenant/requests?tab=history"))
	history := testenv.WaitText(t, op, `#requests tbody`, "Olivia Operator")
	for _, want := range []string{"Rejected", "Approved", "Cancelled", "Big is for chains"} {
		if !strings.Contains(history, want) {
			t.Errorf("history lacks %q:\n%s", want, history)
		}
	}

	// The partner: emails, wallet and activity.
	approved := mail.WaitFor(t, w.Owner.Email, 10*time.Second)
	rejected := mail.WaitFor(t, w.Owner.Email, 10*time.Second)
	if approved.Subject != "Your add-on request was approved" || !strings.Contains(approved.Body, "Tenant points: +3,000 points (balance now 3,000 points)") {
		t.Errorf("approval email %q:\n%s", approved.Subject, approved.Body)
	}
	if rejected.Subject != "Your package change request was rejected" || !strings.Contains(rejected.Body, "Big is for chains with ten shops or more.") {
		t.Errorf("rejection email %q:\n%s", rejected.Subject, rejected.Body)
	}
	testenv.Do(t, partner, chromedp.Navigate(srv.URL+"/admin/partnership"))
	testenv.WaitText(t, partner, `.wallet-item[data-kind=tenant_points]`, "3,000")
	testenv.WaitText(t, partner, `.wallet-item[data-kind=gigabytes]`, "0")
	testenv.Do(t, partner, chromedp.Navigate(srv.URL+"/admin/partnership/package-activity"))
	testenv.WaitText(t, partner, `#activity tr[data-status=rejected]`, "Big is for chains with ten shops or more.")
	testenv.Do(t, partner, chromedp.Navigate(srv.URL+"/admin/partnership/package"))
	testenv.WaitText(t, partner, `#current-package h2`, "Everything")
}

// TestRegistrationInTheBrowser: the public form lands in the queue; its
// approval creates the partner and invites the requester, who sets a
// password and signs in as the Account owner.
func TestRegistrationInTheBrowser(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	mail := testenv.SMTPServer(t)
	srv := testenv.NewServer(t, db, testenv.WithSMTP(mail))

	guest := testenv.Browser(t, testenv.BrowserName("guest"))
	testenv.Do(t, guest, chromedp.Navigate(srv.URL+"/register/test"), chromedp.WaitVisible(`#register-form`))
	testenv.Do(t, guest,
		chromedp.SendKeys(`#f-brand_name`, "Delta Donuts"),
		chromedp.SetValue(`#f-country`, "IE"),
		chromedp.SendKeys(`#f-website`, "not a website"),
		chromedp.SendKeys(`#f-contact_name`, "Dana Delta"),
		chromedp.SendKeys(`#f-contact_email`, "dana@deltadonuts.example"),
		chromedp.Click(`label[data-package="Everything"] input`),
		chromedp.Click(`input[name=period][value=yearly]`),
		chromedp.Click(`#register-submit`),
	)
	testenv.WaitText(t, guest, `#register-form`, "Enter a web address like https://example.com")
	testenv.Do(t, guest, chromedp.SetValue(`#f-website`, "deltadonuts.example"), chromedp.Click(`#register-submit`))
	testenv.WaitText(t, guest, `#register-done`, "is in their queue")
	receipt := mail.WaitFor(t, "dana@deltadonuts.example", 10*time.Second)
	if receipt.Subject != "We received your partnership request" {
		t.Errorf("receipt: %q", receipt.Subject)
	}

	op := testenv.Browser(t, testenv.BrowserName("operator"))
	browserSignIn(t, op, srv, w.Operator.Email, testenv.Password)
	testenv.Do(t, op, chromedp.Navigate(srv.URL+"/tenant/requests?kind=registration"))
	testenv.WaitText(t, op, `#requests`, "Delta Donuts")
	testenv.Do(t, op, chromedp.Click(`#requests a[href^="/tenant/requests/"]`), chromedp.WaitVisible(`#request-detail`))
	testenv.WaitText(t, op, `#request-detail`, "https://deltadonuts.example")
	testenv.Do(t, op, chromedp.Click(`#approve`))
	testenv.WaitText(t, op, `.flash-success`, "dana@deltadonuts.example was invited as its Account owner")

	invite := mail.WaitFor(t, "dana@deltadonuts.example", 10*time.Second)
	link := testenv.LinkIn(t, invite.Body, srv.URL+"/password/")
	owner := testenv.Browser(t, testenv.BrowserName("new-owner"))
	testenv.Do(t, owner,
		chromedp.Navigate(link),
		chromedp.SendKeys(`input[name=password]`, "donuts every morning"),
		chromedp.SendKeys(`input[name=confirm]`, "donuts every morning"),
		chromedp.Submit(`input[name=confirm]`),
		chromedp.WaitVisible(`form[action="/login"]`),
	)
	browserSignIn(t, owner, srv, "dana@deltadonuts.example", "donuts every morning")
	testenv.WaitText(t, owner, `.brand`, "Delta Donuts")
	testenv.Do(t, owner, chromedp.Navigate(srv.URL+"/admin/roles"))
	testenv.WaitText(t, owner, `#roles`, "Account owner")
	testenv.Do(t, owner, chromedp.Navigate(srv.URL+"/admin/partnership/info"))
	testenv.WaitText(t, owner, `#info-form`, "Brand name")
}
