package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"regulars/internal/testenv"
)

// signInBrowser signs a staff user in through the sign-in page.
func signInBrowser(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	testenv.Do(t, ctx, chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testenv.Password),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`#drawer`)))
}

// The loyalty core end to end, as people use it: a partner creates and
// publishes a points program and a coupon inside it; a follower signs up
// in the follower app, follows the channel and joins the program; staff
// record a purchase at the till; the follower enables and redeems the
// coupon; the follower's ledger, the activity feed and the dashboard show
// it all.
func TestLoyaltyFlowInTheBrowser(t *testing.T) {
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	staff := testenv.Browser(t, testenv.BrowserName("staff"), testenv.BrowserTimeout(120e9))
	fan := testenv.Browser(t, testenv.BrowserName("follower"), testenv.BrowserTimeout(120e9))
	signInBrowser(t, staff, srv.URL, w.Owner.Email)

	// The program: points, 10 per currency unit.
	testenv.Do(t, staff, chromedp.Navigate(srv.URL+"/admin/loyalty/new"),
		chromedp.SetValue(chromedp.CSS(`#f-channel`), fmt.Sprint(w.Channel.ID)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Bean Points"),
		chromedp.SetValue(chromedp.CSS(`#f-point_singular`), "bean"),
		chromedp.SetValue(chromedp.CSS(`#f-point_plural`), "beans"),
		chromedp.SendKeys(chromedp.CSS(`#f-points_per_amount`), "10"),
		chromedp.Click(chromedp.CSS(`#save`)))
	testenv.WaitText(t, staff, ".flash", "Saved as a draft")
	testenv.Do(t, staff, chromedp.Click(chromedp.CSS(`#publish`)))
	confirm(t, staff)
	testenv.WaitText(t, staff, ".flash", "is live")
	programURL := testenv.Run(t, staff, chromedp.Location())

	// The coupon: click to redeem, 50 beans, stock 10.
	testenv.Do(t, staff, chromedp.Navigate(srv.URL+"/admin/coupons/new"),
		chromedp.SetValue(chromedp.CSS(`#f-channel`), fmt.Sprint(w.Channel.ID)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Free muffin"),
		chromedp.SendKeys(chromedp.CSS(`#f-description`), "Any muffin from the counter."),
		chromedp.SetValue(chromedp.CSS(`#f-program`), programURL[strings.LastIndex(programURL, "/")+1:]),
		chromedp.SendKeys(chromedp.CSS(`#f-point_cost`), "50"),
		chromedp.SendKeys(chromedp.CSS(`#f-stock`), "10"),
		chromedp.Click(chromedp.CSS(`#save`)))
	testenv.WaitText(t, staff, ".flash", "Saved as a draft")
	testenv.Do(t, staff, chromedp.Click(chromedp.CSS(`#publish`)))
	confirm(t, staff)
	testenv.WaitText(t, staff, ".flash", "is live")

	// The follower signs up in the app, follows the channel and joins.
	testenv.Do(t, fan, chromedp.Navigate(srv.URL+"/app/?tenant=test#/signup"),
		chromedp.WaitVisible(chromedp.CSS(`#signup-form`)))
	// Signed out, the app's tabs are not there to tap (hidden must win
	// over the bar's own display).
	tabsShown := `getComputedStyle(document.getElementById("tabs")).display !== "none"`
	if testenv.Run(t, fan, chromedp.Evaluate[bool](tabsShown)) {
		t.Fatal("the tab bar shows on the sign-up screen")
	}
	testenv.Do(t, fan,
		chromedp.SendKeys(chromedp.CSS(`#signup-form input[name=name]`), "Fiona Fan"),
		chromedp.SendKeys(chromedp.CSS(`#signup-form input[name=email]`), "fiona@fans.example"),
		chromedp.SendKeys(chromedp.CSS(`#signup-form input[name=password]`), "a long fan passphrase"),
		chromedp.Click(chromedp.CSS(`#signup-form button[type=submit]`)))
	testenv.WaitText(t, fan, "#channel-list", w.Channel.Name)
	if !testenv.Run(t, fan, chromedp.Evaluate[bool](tabsShown)) {
		t.Fatal("no tab bar once signed in")
	}
	testenv.Do(t, fan, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-channel="%d"]`, w.Channel.ID))), chromedp.WaitVisible(chromedp.CSS(`#follow`)), chromedp.Click(chromedp.CSS(`#follow`)))
	testenv.WaitText(t, fan, "#unfollow", "Following")
	testenv.Do(t, fan, chromedp.Click(chromedp.CSS(`[data-join]`)))
	testenv.WaitText(t, fan, "#offers", "0 beans")
	testenv.WaitText(t, fan, "#offers", "Not enough points")
	testenv.Screenshot(t, fan, "channel-page")
	testenv.Do(t, fan, chromedp.Navigate(srv.URL+"/app/#/me"))
	euid := strings.TrimSpace(testenv.Text(t, fan, "#euid"))
	if len(euid) != 8 {
		t.Fatalf("end-user ID %q", euid)
	}
	testenv.WaitText(t, fan, "#my-code", euid)
	testenv.Screenshot(t, fan, "my-code")

	// Staff record a purchase of 12.00 at the till: 120 beans.
	testenv.Do(t, staff, chromedp.Navigate(programURL),
		chromedp.SendKeys(chromedp.CSS(`#p-euid`), strings.ToLower(euid)),
		chromedp.SendKeys(chromedp.CSS(`#p-amount`), "12.00"),
		chromedp.Submit(chromedp.CSS(`#p-amount`)))
	testenv.WaitText(t, staff, ".flash", "+120 points, balance 120")
	testenv.WaitText(t, staff, "#members", euid)

	// The follower enables and redeems the coupon.
	testenv.Do(t, fan, chromedp.Navigate(fmt.Sprintf("%s/app/#/channel/%d", srv.URL, w.Channel.ID)), chromedp.WaitVisible(chromedp.CSS(`[data-enable]`)), chromedp.Click(chromedp.CSS(`[data-enable]`)))
	testenv.WaitText(t, fan, "#offers", "Enabled")
	testenv.Do(t, fan, chromedp.Click(chromedp.CSS(`#offers [data-redeem]`)))
	testenv.WaitText(t, fan, "#toast", "redeemed")
	testenv.Do(t, fan, chromedp.Navigate(srv.URL+"/app/#/coupons"))
	testenv.WaitText(t, fan, "#my-coupons", "Redeemed")
	testenv.Do(t, fan, chromedp.Navigate(srv.URL+"/app/#/points"))
	testenv.WaitText(t, fan, "#programs", "70")
	testenv.WaitText(t, fan, "#activity", "Redeemed Free muffin")
	testenv.Screenshot(t, fan, "points")

	// Staff see the ledger and the history, and adjust with a reason.
	var fid int64
	if f, err := db.FollowerByEndUserID(context.Background(), w.Tenant.ID, euid); err != nil {
		t.Fatal(err)
	} else {
		fid = f.ID
	}
	testenv.Do(t, staff, chromedp.Navigate(fmt.Sprintf("%s/admin/followers/%d", srv.URL, fid)))
	testenv.WaitText(t, staff, ".ledger", "Purchase of 12.00")
	testenv.WaitText(t, staff, ".ledger", "Spent on Free muffin")
	testenv.WaitText(t, staff, ".activity", "Redeemed Free muffin for 50 beans")
	testenv.Do(t, staff, chromedp.SetValue(chromedp.CSS(`select[name=kind]`), "adjust"),
		chromedp.SendKeys(chromedp.CSS(`input[name=points]`), "-100"),
		chromedp.SendKeys(chromedp.CSS(`input[name=reason]`), "Correction"),
		chromedp.Submit(chromedp.CSS(`input[name=reason]`)))
	testenv.WaitText(t, staff, ".flash", "below zero")
	testenv.Do(t, staff, chromedp.SetValue(chromedp.CSS(`select[name=kind]`), "adjust"),
		chromedp.SendKeys(chromedp.CSS(`input[name=points]`), "-20"),
		chromedp.SendKeys(chromedp.CSS(`input[name=reason]`), "Double-scanned receipt"),
		chromedp.Submit(chromedp.CSS(`input[name=reason]`)))
	testenv.WaitText(t, staff, ".flash", "balance is now 50")
	testenv.WaitText(t, staff, ".current-points", "50")
	testenv.Screenshot(t, staff, "follower-ledger")

	// The dashboard counts the redemption and the points issued.
	testenv.Do(t, staff, chromedp.Navigate(srv.URL+"/admin"))
	testenv.WaitText(t, staff, "#stat-redemptions", "1")
	testenv.WaitText(t, staff, "#stat-points", "120")
	testenv.WaitText(t, staff, "#stat-followers", "1")
	if n := testenv.Run(t, staff, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart').length`)); n < 4 {
		t.Errorf("dashboard charts: %d, want 4", n)
	}
	testenv.Screenshot(t, staff, "dashboard")
}
