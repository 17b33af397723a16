package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
)

// Tests of the follower's way into the chat and of what the chat says
// back. Helpers are in followerapp_chat_ux_browser_test.go.

// A follower who follows a channel and goes straight to its chat can send
// at once: the "You follow …" toast neither covers the composer nor
// catches the tap meant for Send.
func TestBrowserFollowerChatSendsRightAfterFollowing(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	if err := c.srv.App.Unfollow(context.Background(), c.fan.Actor, c.w.Channel.ID); err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, fmt.Sprintf("#/channel/%d", c.w.Channel.ID), "")
	testenv.Do(t, ctx, chromedp.WaitVisible(`#follow`), chromedp.Click(`#follow`), chromedp.WaitVisible(`#chat`), chromedp.Click(`#chat`),
		chromedp.WaitVisible(`#chat-text`), chromedp.SendKeys(`#chat-text`, "Right after following"))
	waitTrue(t, ctx, `!document.getElementById("toast").hidden`, "the toast")
	// A real tap, where the button is: whatever is on top gets it.
	testenv.Do(t, ctx, chromedp.Click(`#chat-send`))
	waitTrue(t, ctx, `!!document.querySelector("#chat-messages li.bubble.mine[data-seq]") && !document.getElementById("toast").hidden`, "the message sent while the toast shows")
	covers := testenv.Run(t, ctx, chromedp.Evaluate[bool](`(() => {
		const t = document.getElementById("toast").getBoundingClientRect(), f = document.getElementById("chat-foot").getBoundingClientRect();
		return t.bottom > f.top && t.top < f.bottom;
	})()`))
	if covers {
		testenv.Screenshot(t, ctx, "toast")
		t.Error("the toast covers the composer")
	}
}

// A message card opens to the message (its text and its link), and the
// line about it speaks to the follower. Joining a program from its card
// welcomes them to it by name.
func TestBrowserFollowerChatMessageCardOpensToTheMessage(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "What's new?")
	note := &regulars.Engagement{TenantID: c.w.Tenant.ID, PartnerID: c.w.Partner.ID, ChannelID: c.w.Channel.ID, Kind: regulars.KindMessage,
		Status: regulars.EngagementActive, Name: "Autumn menu",
		Message: &regulars.MessageSpec{Text: "Pumpkin spice is back.", Link: "https://example.com/menu", Recurring: regulars.RecurOnce}}
	if err := c.w.DB.CreateEngagement(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	c.agentCard(t, conv, note)

	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	card := fmt.Sprintf(`.chat-card[data-engagement="%d"]`, note.ID)
	testenv.WaitText(t, ctx, card+" [data-act]", "Open")
	if testenv.Run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('`+card+`').innerText.includes("Pumpkin spice")`)) {
		t.Error("the message shows before the card is opened")
	}
	testenv.Do(t, ctx, chromedp.Click(card+" [data-act]"))
	testenv.WaitText(t, ctx, card, "Pumpkin spice is back.")
	if href := testenv.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector('`+card+` a')?.href || ""`)); href != "https://example.com/menu" {
		t.Errorf("the card links to %q, want the message's link", href)
	}
	testenv.WaitText(t, ctx, "#chat-messages", "You opened Autumn menu")
	testenv.Screenshot(t, ctx, "message card")

	// Opened, it stays open: after a reload the card shows the message,
	// not Open again.
	testenv.Do(t, ctx, chromedp.Reload())
	testenv.WaitText(t, ctx, card, "Pumpkin spice is back.")
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+card+` [data-act]').length`)); n != 0 {
		t.Errorf("after a reload the opened card offers Open again (%d buttons)", n)
	}
}

// A picture that could not go out (the network failed) can be sent again
// from its bubble, without picking it again; it is stored once.
func TestBrowserFollowerChatTriesAFailedUploadAgain(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Here is the photo of the receipt.")
	ctx := testenv.Browser(t)
	// Uploads fail as offline until window.noNet is unset.
	c.openApp(t, ctx, 390, 844, c.chatRoute(), `window.noNet = true; const realFetch = window.fetch;
		window.fetch = (url, opts) => window.noNet && String(url).includes("/chat/attachments") ? Promise.reject(new TypeError("Failed to fetch")) : realFetch(url, opts)`)
	testenv.WaitText(t, ctx, "#chat-messages", "Here is the photo")
	testenv.Do(t, ctx, chromedp.SetUploadFiles(`#chat-file`, []string{pictureFile(t, "receipt.png", 40, 30)}))
	testenv.WaitText(t, ctx, "#chat-messages .bubble.failed", "could not be reached")
	testenv.Screenshot(t, ctx, "failed")
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.noNet = false`), chromedp.Click(`#chat-messages .bubble.failed .retry`))
	waitTrue(t, ctx, `!document.querySelector("#chat-messages .bubble.failed, #chat-messages .bubble.pending") && !!document.querySelector("#chat-messages img.att")`, "the picture sent")
	msgs, err := c.srv.App.FollowerChatMessages(context.Background(), c.fan.Actor, conv, app.ChatPage{CatchUp: true, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[1].AttachmentID == 0 {
		t.Errorf("%d messages stored, want the text and the picture once", len(msgs))
	}
}

// Signed out elsewhere (another device, a password change), the app on
// the chat goes to the sign-in, as the API's 401 does on other screens,
// instead of staying on a chat whose messages wait for ever.
func TestBrowserFollowerChatSignedOutElsewhereSignsIn(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	c.followerSays(t, "Hello")
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	testenv.WaitText(t, ctx, "#chat-messages", "Hello")
	fa, err := c.srv.App.AuthenticateFollower(context.Background(), c.fan.Token) // as the API signs them out
	if err != nil {
		t.Fatal(err)
	}
	if err := c.srv.App.SignOutFollower(context.Background(), fa); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, ctx, `location.hash === "#/signin" && !!document.querySelector("#signin-form") && !localStorage.getItem("regulars.token")`, "the sign-in")
}

// dropFrames returns a page script that keeps the server's frames for
// which the JavaScript expression drop (of the frame's text, l) holds
// from the page's WebSocket clients; the others, a frame a line, pass.
func dropFrames(drop string) string {
	return `(() => {
	const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
	Object.defineProperty(WebSocket.prototype, "onmessage", { get() { return d.get.call(this); }, set(fn) {
		d.set.call(this, (e) => {
			const lines = String(e.data).split("\n").filter((l) => !(` + drop + `));
			if (lines.length) fn({ data: lines.join("\n") });
		});
	} });
})()`
}

// dropChannelFrames keeps the server's channel events from the page.
var dropChannelFrames = dropFrames(`l.includes('"type":"channel"')`)

// The chat switched off while the follower has it open, and the app not
// told (the event lost): the message they
// send is refused with the reason, and the composer gives way to the
// notice the screen shows when it opens so (nothing more to try in vain).
func TestBrowserFollowerChatSwitchedOffMidConversation(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	c.followerSays(t, "Hello")
	ctx := testenv.Browser(t)
	// The live event saying so does not reach this app (as when it is
	// lost): the refused message is what tells it.
	c.openApp(t, ctx, 390, 844, c.chatRoute(), dropChannelFrames)
	testenv.WaitText(t, ctx, "#chat-messages", "Hello")
	ch := c.w.Channel
	if _, err := c.srv.App.UpdateChannel(context.Background(), c.agent, ch.ID, app.ChannelInput{Name: ch.Name, Description: ch.Description, Welcome: ch.Welcome}); err != nil {
		t.Fatal(err)
	}
	testenv.Do(t, ctx, chromedp.SendKeys(`#chat-text`, "Still there?"), chromedp.Click(`#chat-send`))
	testenv.WaitText(t, ctx, "#chat-messages .bubble.failed", "does not take chat messages at the moment")
	testenv.WaitText(t, ctx, "#chat-foot #chat-off", "does not take chat messages at the moment")
	if testenv.Run(t, ctx, chromedp.Evaluate[bool](`!!document.querySelector("#chat-form")`)) {
		t.Error("the composer stays with the chat off")
	}
}
