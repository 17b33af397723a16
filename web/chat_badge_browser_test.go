package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"regulars/app"
	"regulars/internal/testenv"
)

// An agent working on another page sees followers write: the Chat menu
// entry's badge and the window's title count the unanswered conversations,
// live, and so does the menu button on a phone; an answer takes one off.
func TestBrowserChatBadgeOnEveryPage(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Are you open today?")
	ctx := testenv.Browser(t, testenv.BrowserName("owner"))
	signInBrowser(t, ctx, c.srv.URL, c.w.Owner.Email)
	testenv.Do(t, ctx, chromedp.Navigate(c.srv.URL+"/admin/channels"))
	badge := `(() => { const b = document.getElementById("chat-badge"); return b && !b.hidden ? b.firstChild.textContent : ""; })()`
	if got := testenv.Run(t, ctx, chromedp.Evaluate[string](badge)); got != "1" {
		t.Fatalf("the page opens with the badge %q, want 1", got)
	}
	waitTrue(t, ctx, `document.title.startsWith("(1) ")`, "the title counting 1")

	// Another follower writes while the agent stays on the page.
	other, err := c.srv.App.SignUpFollower(t.Context(), app.SignUpInput{Tenant: "test", Password: testenv.Password, ProfileInput: app.ProfileInput{Name: "Noah", Email: "noah@fans.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.srv.App.Follow(t.Context(), other.Actor, c.w.Channel.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.srv.App.FollowerSend(t.Context(), other.Actor, c.w.Channel.ID, app.FollowerMessage{Text: "Table for four?"}); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, ctx, badge+` === "2" && document.title.startsWith("(2) ")`, "the badge and the title counting 2, live")

	// Answered (by anyone): one fewer.
	c.agentSays(t, conv, "Yes, until six.")
	waitTrue(t, ctx, badge+` === "1" && document.title.startsWith("(1) ")`, "the badge and the title back to 1")

	// A phone shows it on the menu button.
	testenv.Do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload())
	waitTrue(t, ctx, `document.querySelector(".drawer-toggle").dataset.count === "1"`, "the menu button counting 1")
	testenv.Screenshot(t, ctx, "phone-badge")
}
