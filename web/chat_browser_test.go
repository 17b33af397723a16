package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
)

// The seed's chat flow, live, in three browsers: agent A, agent B and the
// follower in the follower app. The follower writes; both agents see an
// unanswered conversation appear; A answers (with a canned response typed
// with /) and owns it; B tries, is warned with A's name, confirms and
// overtakes; A sees it move; B sends a coupon card; the follower enables
// it from the chat; B finishes; the follower writes again and the
// conversation is unanswered again.
func TestChatFlowInThreeBrowsers(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	ctx := context.Background()

	agent := func(email, name string) *regulars.User {
		u := w.AddUser(t, w.Partner.ID, email, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate, regulars.FeatureCanned: regulars.LevelView})
		u.Name = name
		if err := db.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	ann, bob := agent("ann@alpha.example", "Ann Agent"), agent("bob@alpha.example", "Bob Agent")
	coupon := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, ChannelID: w.Channel.ID, Kind: regulars.KindCoupon, Status: regulars.EngagementActive,
		Name: "Free coffee", Description: "Any size, any day.", Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
	if err := db.CreateEngagement(ctx, coupon); err != nil {
		t.Fatal(err)
	}
	cat := &regulars.CannedCategory{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "Opening hours"}
	if err := db.CreateCannedCategory(ctx, cat); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCanned(ctx, &regulars.CannedResponse{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, CategoryID: cat.ID, Title: "Sunday", Text: "We open 10 to 4 on Sundays."}); err != nil {
		t.Fatal(err)
	}
	fan, err := srv.App.SignUpFollower(ctx, app.SignUpInput{Tenant: "test", Password: testenv.Password, ProfileInput: app.ProfileInput{Name: "Mia", Email: "mia@fans.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.Follow(ctx, fan.Actor, w.Channel.ID); err != nil {
		t.Fatal(err)
	}

	timeout := testenv.BrowserTimeout(120e9)
	a := testenv.Browser(t, testenv.BrowserName("agent-a"), timeout)
	b := testenv.Browser(t, testenv.BrowserName("agent-b"), timeout)
	f := testenv.Browser(t, testenv.BrowserName("follower"), timeout)
	signInBrowser(t, a, srv.URL, ann.Email)
	signInBrowser(t, b, srv.URL, bob.Email)
	for _, agentCtx := range []context.Context{a, b} {
		testenv.Do(t, agentCtx, chromedp.Navigate(srv.URL+"/admin/chat"))
		chatReady(t, agentCtx)
		testenv.WaitText(t, agentCtx, "#list-empty", "All answered")
	}

	// The follower, on a phone, opens the chat from the channel page.
	testenv.Do(t, f, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/app/"),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`localStorage.setItem("regulars.token", %q)`, fan.Token)),
		chromedp.Navigate(fmt.Sprintf("%s/app/#/channel/%d", srv.URL, w.Channel.ID)),
		chromedp.WaitVisible(`#chat`), chromedp.Click(`#chat`), chromedp.WaitVisible(`#chat-text`),
		chromedp.SendKeys(`#chat-text`, "Hello, are you open on Sunday?"+kb.Enter))
	testenv.WaitText(t, f, "#chat-messages", "Hello, are you open on Sunday?")

	// Both agents see it appear, unanswered, without reloading.
	for _, agentCtx := range []context.Context{a, b} {
		testenv.WaitText(t, agentCtx, "#conversations", "Mia")
		testenv.WaitText(t, agentCtx, "#conversations", "Hello, are you open on Sunday?")
		testenv.WaitText(t, agentCtx, "#tab-unanswered .count", "1")
	}
	conv, err := db.ConversationOf(ctx, w.Channel.ID, fan.Actor.Follower.ID)
	if err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf(`#conversations .conv[data-id="%d"] a`, conv.ID)

	// A answers with a canned response found by typing /sun: she owns it.
	testenv.Click(t, a, row)
	testenv.Do(t, a, chromedp.WaitVisible(`#composer-text`))
	chatReady(t, a)
	testenv.WaitText(t, a, "#messages", "Hello, are you open on Sunday?")
	// Below 1440 px the history opens over the thread.
	testenv.Do(t, a, chromedp.Click(`#history-toggle`))
	waitTrue(t, a, historyShown, "the history open")
	testenv.WaitText(t, a, "#history", "Mia")
	testenv.Do(t, a, chromedp.Click(`.history-close`))
	waitTrue(t, a, `document.getElementById("history").inert`, "the history closed")
	testenv.Do(t, a, chromedp.SendKeys(`#composer-text`, "/sun"), chromedp.WaitVisible(`#canned-menu li`),
		chromedp.SendKeys(`#composer-text`, kb.Enter))
	// (Headless key events may add the Enter's newline; people's keyboards do not.)
	waitTrue(t, a, `document.getElementById("composer-text").value.trim() === "We open 10 to 4 on Sundays."`, "the canned response inserted")
	testenv.Do(t, a, chromedp.SendKeys(`#composer-text`, kb.Enter))
	testenv.WaitText(t, a, "#conv-owner", "Ann Agent")
	testenv.WaitText(t, f, "#chat-messages", "We open 10 to 4 on Sundays.")
	testenv.WaitText(t, f, "#chat-messages", "Ann Agent joined the conversation")

	// B opens it from "All active", sees A as the owner, tries, is warned
	// with A's name and takes it over.
	testenv.WaitText(t, b, "#tab-active .count", "1")
	// (A tab is a page of its own: the row is clicked on the new page,
	// not on the one being left. Events redraw the list: the row is looked
	// up again if it was replaced under the click.)
	testenv.Do(t, b, chromedp.Click(`#tab-active`))
	waitTrue(t, b, `location.search.includes("tab=active") && document.readyState === "complete"`, "the All active tab open")
	testenv.Click(t, b, row)
	testenv.Do(t, b, chromedp.WaitVisible(`#composer-text`))
	chatReady(t, b)
	testenv.WaitText(t, b, "#conv-owner", "Ann Agent")
	// With the Send button: the server's warning can come back between the
	// key events of an Enter, and the rest of that Enter would then press
	// the dialog's focused Cancel.
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "Hi Mia, Bob here."), chromedp.Click(`#send`))
	testenv.WaitText(t, b, "dialog.confirm[open]", "Ann Agent is answering this conversation. Take it over?")
	confirm(t, b)
	testenv.WaitText(t, b, "#conv-owner", "Bob Agent")
	testenv.WaitText(t, b, "#messages", "Bob Agent took over the conversation from Ann Agent")

	// A sees it move to B, live.
	testenv.WaitText(t, a, "#conv-owner", "Bob Agent")
	testenv.WaitText(t, a, "#messages", "Hi Mia, Bob here.")
	testenv.WaitText(t, f, "#chat-messages", "Hi Mia, Bob here.")

	// B sends the coupon as a card; the follower enables it in the chat.
	testenv.Do(t, b, chromedp.Click(`#engagement-button`), chromedp.WaitVisible(`dialog.picker-dialog .pick button`))
	testenv.WaitText(t, b, "dialog.picker-dialog", "Free coffee")
	testenv.Screenshot(t, b, "engagement-picker")
	testenv.Do(t, b, chromedp.Click(`dialog.picker-dialog .pick button`))
	testenv.WaitText(t, f, ".chat-card", "Free coffee")
	testenv.Do(t, f, chromedp.Click(`.chat-card [data-act]`))
	testenv.WaitText(t, f, ".chat-card", "Enabled ✓")
	testenv.WaitText(t, b, "#messages", "Mia enabled the coupon Free coffee")
	if acts, err := db.ActivationsFor(ctx, coupon.ID, fan.Actor.Follower.ID); err != nil || len(acts) != 1 {
		t.Fatalf("activations after enabling from the chat: %v %v", acts, err)
	}
	testenv.Screenshot(t, f, "follower-chat")
	testenv.Screenshot(t, a, "agent-a-thread")

	// B finishes; A sees it; the follower writes again: unanswered again.
	testenv.Do(t, b, chromedp.Click(`#finish`))
	testenv.WaitText(t, b, "#conv-status", "Finished")
	chatReady(t, b)
	testenv.WaitText(t, a, "#conv-status", "Finished")
	testenv.Do(t, f, chromedp.SendKeys(`#chat-text`, "One more thing!"+kb.Enter))
	testenv.WaitText(t, a, "#messages", "One more thing!")
	testenv.WaitText(t, a, "#conv-status", "Unanswered")
	testenv.WaitText(t, b, "#conv-status", "Unanswered")
	testenv.WaitText(t, b, "#tab-unanswered .count", "1")
	testenv.Screenshot(t, b, "agent-b-reopened")

	// On a phone the agent sees the thread alone, with a way back to the
	// list, and the history over it.
	testenv.Do(t, a, chromedp.EmulateViewport(390, 844), chromedp.Reload())
	chatReady(t, a)
	waitTrue(t, a, `getComputedStyle(document.querySelector(".chat-list")).display === "none" && getComputedStyle(document.querySelector(".thread-back")).display !== "none"`, "the phone layout")
	testenv.Do(t, a, chromedp.Click(`#history-toggle`))
	waitTrue(t, a, `getComputedStyle(document.getElementById("history")).visibility === "visible"`, "the history over the thread")
	testenv.Screenshot(t, a, "agent-a-phone-history")
	testenv.Do(t, a, chromedp.Click(`.history-close`), chromedp.Click(`.thread-back`))
	testenv.WaitText(t, a, "#conversations", "Mia")
	testenv.Screenshot(t, a, "agent-a-phone-list")
}

// historyShown holds while the engagement history panel is on screen and
// usable (not an overlay closed off screen).
const historyShown = `(p => { const r = p.getBoundingClientRect(); return !p.inert && r.width > 0 && r.left >= 0 && r.right <= innerWidth + 1; })(document.getElementById("history"))`

// chatReady waits until the chat page's script runs: the page loaded by a
// boosted link starts its module a moment after it shows.
func chatReady(t *testing.T, ctx context.Context) {
	t.Helper()
	waitTrue(t, ctx, `document.getElementById("chat")?.dataset.ready === "1"`, "the chat page going live")
}
