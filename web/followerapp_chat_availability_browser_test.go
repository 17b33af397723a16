package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"regulars/app"
	"regulars/httpx"
	"regulars/internal/testenv"
)

// Tests of the follower app learning live whether it can write to a
// channel. Helpers are in followerapp_chat_ux_browser_test.go.

// switchChat switches channel ch's chat on or off as its partner's owner.
func switchChat(t *testing.T, srv *testenv.Server, owner string, id int64, on bool) {
	t.Helper()
	ctx := context.Background()
	res, err := srv.App.SignIn(ctx, owner, testenv.Password, "127.0.0.9", "availability test")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := srv.App.StaffChannel(ctx, res.Actor, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.UpdateChannel(ctx, res.Actor, id, app.ChannelInput{Name: ch.Name, Description: ch.Description, Welcome: ch.Welcome, ChatEnabled: on}); err != nil {
		t.Fatal(err)
	}
}

// sendFromApp writes text in the open chat and waits for it to be stored.
func sendFromApp(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	testenv.Do(t, ctx, chromedp.SendKeys(`#chat-text`, text), chromedp.Click(`#chat-send`))
	waitTrue(t, ctx, fmt.Sprintf(`[...document.querySelectorAll("#chat-messages li.bubble.mine[data-seq]")].some((li) => li.innerText.includes(%q))`, text), "the message stored: "+text)
}

// An open chat swaps its composer for the reason the follower cannot
// write as soon as that happens (the chat switched off, the channel
// unfollowed on another device), and gets it back as soon as they can
// again; the follower no longer finds out by a refused message.
func TestBrowserFollowerChatKnowsLiveWhetherItCanWrite(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	sendFromApp(t, ctx, "Hello there") // (the connection is up)
	testenv.Do(t, ctx, chromedp.Focus(`#chat-text`))

	switchChat(t, c.srv, c.w.Owner.Email, c.w.Channel.ID, false)
	testenv.WaitText(t, ctx, "#chat-off", "does not take chat messages at the moment")
	waitTrue(t, ctx, `!document.getElementById("chat-form") && document.activeElement.id === "chat-off"`, "the composer gone, the focus on the reason")
	testenv.WaitText(t, ctx, "#chat-announce", "does not take chat messages")
	testenv.Screenshot(t, ctx, "chat switched off")

	switchChat(t, c.srv, c.w.Owner.Email, c.w.Channel.ID, true)
	testenv.Do(t, ctx, chromedp.WaitVisible(`#chat-text`))
	waitTrue(t, ctx, `!document.getElementById("chat-off")`, "the notice gone")
	sendFromApp(t, ctx, "Back on")

	if err := c.srv.App.Unfollow(context.Background(), c.fan.Actor, c.w.Channel.ID); err != nil {
		t.Fatal(err)
	}
	testenv.WaitText(t, ctx, "#chat-follow", "to chat with it")
	waitTrue(t, ctx, `!document.getElementById("chat-form")`, "the composer gone after unfollowing")
	// Its chat switched while unfollowed: still no composer.
	switchChat(t, c.srv, c.w.Owner.Email, c.w.Channel.ID, false)
	switchChat(t, c.srv, c.w.Owner.Email, c.w.Channel.ID, true)
	if _, err := c.srv.App.Follow(context.Background(), c.fan.Actor, c.w.Channel.ID); err != nil {
		t.Fatal(err)
	}
	testenv.Do(t, ctx, chromedp.WaitVisible(`#chat-text`))
	sendFromApp(t, ctx, "Following again")
}

// The Chats list's Start a chat follows the channels live: one whose chat
// is switched off leaves it, and comes back when it is switched on.
func TestBrowserFollowerChatsListStartsFollowTheChatSwitch(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	if _, err := c.srv.App.Follow(context.Background(), c.fan.Actor, c.w.OtherChannel.ID); err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	sendFromApp(t, ctx, "Hello there") // (the connection is up)
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "#/chats"`))
	start := fmt.Sprintf(`#chat-start .start-chat[data-channel="%d"]`, c.w.OtherChannel.ID)
	testenv.Do(t, ctx, chromedp.WaitVisible(start))

	switchChat(t, c.srv, c.w.OtherOwner.Email, c.w.OtherChannel.ID, false)
	waitTrue(t, ctx, `!document.querySelector('`+start+`') && document.getElementById("chat-start").hidden`, "the channel gone from Start a chat")
	switchChat(t, c.srv, c.w.OtherOwner.Email, c.w.OtherChannel.ID, true)
	testenv.Do(t, ctx, chromedp.WaitVisible(start))
}

// A message refused as sent too fast that had reached the server after
// all (its first try's answer lost) shows once: its "Not sent" bubble
// gives way to the stored message when it comes (it stayed beside it),
// and a try again, though the follower is still over their rate, is
// answered with the message stored and leaves no bubble ("Sending…" stayed
// beside the message).
func TestBrowserFollowerChatRetryOfAStoredMessage(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	// Three sends, then none for minutes (and three look-ups of a retry).
	c.srv.App.ChatSends = httpx.NewLimiter(0.001, 3)
	ctx := testenv.Browser(t)
	// The page records what it sends, and the live event of "Third" is
	// kept from it: only the answer to its try again can bring it.
	c.openApp(t, ctx, 390, 844, c.chatRoute(), `window.sentFrames = []; const send = WebSocket.prototype.send;
		WebSocket.prototype.send = function (d) { window.sentFrames.push(String(d)); return send.call(this, d); };
		`+dropFrames(`l.includes('"type":"message"') && l.includes('"text":"Third"')`))
	testenv.Do(t, ctx, chromedp.WaitVisible(`#chat-text`))
	for _, text := range []string{"Zero", "One", "Two"} {
		sendFromApp(t, ctx, text)
	}
	refusedThenStored := func(text string) {
		t.Helper()
		testenv.Do(t, ctx, chromedp.SendKeys(`#chat-text`, text), chromedp.Click(`#chat-send`))
		testenv.WaitText(t, ctx, "#chat-messages li.failed", "sending too fast")
		clientID := testenv.Run(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`window.sentFrames.flatMap((s) => s.split("\n")).map((s) => JSON.parse(s)).find((f) => f.text === %q).client_id`, text)))
		if _, _, err := c.srv.App.FollowerSend(context.Background(), c.fan.Actor, c.w.Channel.ID, app.FollowerMessage{Text: text, ClientID: clientID}); err != nil {
			t.Fatal(err)
		}
	}
	shownOnce := func(text string) {
		t.Helper()
		waitTrue(t, ctx, fmt.Sprintf(`[...document.querySelectorAll("#chat-messages li[data-seq]")].some((li) => li.innerText.includes(%q))`, text), "the stored message shown: "+text)
		waitTrue(t, ctx, `!document.querySelector("#chat-messages li.pending, #chat-messages li.failed")`, "no bubble left beside "+text)
		if n := testenv.Run(t, ctx, chromedp.Evaluate[int](fmt.Sprintf(`[...document.querySelectorAll("#chat-messages li")].filter((li) => li.innerText.includes(%q)).length`, text))); n != 1 {
			t.Fatalf("%s shows %d times, want once", text, n)
		}
	}

	refusedThenStored("Second") // its live event comes
	shownOnce("Second")

	refusedThenStored("Third") // its live event is kept from the page
	testenv.Do(t, ctx, chromedp.Click(`#chat-messages li.failed .retry`))
	shownOnce("Third")
}
