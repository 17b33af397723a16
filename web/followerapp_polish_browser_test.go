package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"regulars/app"
	"regulars/internal/testenv"
)

// Tests of the follower app's chat that keep it quiet and truthful: the
// badge follows the events instead of fetching, the chat's first screen
// asks nothing that fails, failed bubbles keep their place, forms say
// things once. Helpers are in followerapp_chat_ux_browser_test.go and
// followerapp_live_browser_test.go.

// listHooks counts the app's fetches of the conversation list
// (window.listFetches, window.listAnswers) and the connection's hellos
// (window.hellos); it goes after socketHooks, whose WebSocket it extends.
const listHooks = `(() => {
	window.listFetches = 0;
	window.listAnswers = 0;
	const realFetch = window.fetch;
	window.fetch = (url, opts) => {
		const list = /\/api\/v1\/follower\/conversations$/.test(String(url));
		if (list) window.listFetches++;
		const p = realFetch(url, opts);
		if (list) p.finally(() => window.listAnswers++);
		return p;
	};
	window.hellos = 0;
	const WS = window.WebSocket;
	window.WebSocket = class extends WS {
		constructor(url, protocols) {
			super(url, protocols);
			this.addEventListener("message", (e) => {
				if (String(e.data).includes('"type":"hello"')) window.hellos++;
			});
		}
	};
})()`

// settled holds once the connection has said hello n times and every
// fetch of the list has been answered.
func settled(n int) string {
	return fmt.Sprintf(`(() => ({ ok: window.hellos >= %d && window.listFetches === window.listAnswers,
		detail: window.hellos + " hellos, " + window.listFetches + " list fetches, " + window.listAnswers + " answered" }))()`, n)
}

func listFetches(t *testing.T, ctx context.Context) int {
	t.Helper()
	return testenv.Run(t, ctx, chromedp.Evaluate[int](`window.listFetches`))
}

// The Chats badge counts from the events the app receives, as the server
// counts (the agents' messages after the read mark, not system lines, not
// the follower's own), without fetching the list again for each: a read
// mark or a message from another device, a system line, a conversation
// started elsewhere. After a dropped connection, it fetches again (what
// came meanwhile cannot be known otherwise).
func TestBrowserFollowerChatBadgeFollowsTheEvents(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	bg := context.Background()
	if _, err := c.srv.App.Follow(bg, c.fan.Actor, c.w.OtherChannel.ID); err != nil {
		t.Fatal(err)
	}
	conv := c.followerSays(t, "Hello")
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, "#/channels", socketHooks+";"+listHooks)
	testenv.Do(t, ctx, chromedp.WaitVisible(`#channel-list`))
	waitState(t, ctx, settled(1), "the list fetched with the connection up")
	waitState(t, ctx, badgeSays(0), "the badge hidden with nothing unread")
	fetched := listFetches(t, ctx)

	agrees := func(n int, what string) {
		t.Helper()
		waitState(t, ctx, badgeSays(n), what)
		if got := c.serverUnread(t); got != int64(n) {
			t.Fatalf("%s: the badge says %d, the server counts %d", what, n, got)
		}
	}
	c.agentSays(t, conv, "Hi Mia!")
	agrees(1, "the badge counting the agent's message")
	c.agentSays(t, conv, "What can I do for you?")
	agrees(2, "the badge counting the agent's second message")
	if _, err := c.srv.App.FinishConversation(bg, c.agent, conv); err != nil {
		t.Fatal(err)
	}
	c.agentSays(t, conv, "One more thing: we close early today.")
	agrees(3, "the badge counting the third message, not the system lines")

	// Read on another device up to the agent's second message.
	msgs, err := c.srv.App.FollowerChatMessages(bg, c.fan.Actor, conv, app.ChatPage{CatchUp: true, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var second int64
	for _, m := range msgs {
		if m.Text == "What can I do for you?" {
			second = m.Seq
		}
	}
	if err := c.srv.App.FollowerRead(bg, c.fan.Actor, conv, second); err != nil {
		t.Fatal(err)
	}
	agrees(1, "the badge following a read mark from another device")
	if _, _, err := c.srv.App.FollowerSendTo(bg, c.fan.Actor, conv, app.FollowerMessage{Text: "Thanks!"}); err != nil {
		t.Fatal(err)
	}
	agrees(0, "the follower's own message from another device marking the chat read")

	other, _, err := c.srv.App.FollowerSend(bg, c.fan.Actor, c.w.OtherChannel.ID, app.FollowerMessage{Text: "Written on my phone"})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "#/chats"`))
	testenv.WaitText(t, ctx, fmt.Sprintf(`#conversations [data-conversation="%d"]`, other.ID), "You: Written on my phone")
	testenv.WaitText(t, ctx, fmt.Sprintf(`#conversations [data-conversation="%d"]`, conv), "You: Thanks!")
	if n := listFetches(t, ctx); n != fetched {
		t.Errorf("the list was fetched %d more times for news the events told", n-fetched)
	}

	// Offline, a message comes: back online, the app fetches the list.
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.dropSockets()`))
	c.agentSays(t, conv, "Sent while you were away.")
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.allowSockets()`))
	waitState(t, ctx, settled(2), "the connection back and the list fetched")
	agrees(1, "the badge counting the message that came while offline")
	testenv.WaitText(t, ctx, fmt.Sprintf(`#conversations [data-conversation="%d"] .count`, conv), "1")
	testenv.Screenshot(t, ctx, "chats")
}

// failedRequests records the app's API requests answered with an error
// (window.failed: "STATUS URL"), which the browser also logs as errors.
const failedRequests = `(() => {
	window.failed = [];
	window.asked = [];
	const realFetch = window.fetch;
	window.fetch = async (url, opts) => {
		window.asked.push(String(url));
		const res = await realFetch(url, opts);
		if (!res.ok) window.failed.push(res.status + " " + url);
		return res;
	};
})()`

// The chat with a channel before the first message opens without a
// request that fails (asking for the conversation alone answers 404 until
// it exists, and the browser logs that as an error). A conversation
// started on another device meanwhile opens in it.
func TestBrowserFollowerChatOpensBeforeTheFirstMessageQuietly(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, c.chatRoute(), failedRequests)
	testenv.Do(t, ctx, chromedp.WaitVisible(`#chat-text`), chromedp.WaitVisible(`#chat-empty`))
	if failed := testenv.Run(t, ctx, chromedp.Evaluate[[]string](`window.failed`)); len(failed) > 0 {
		t.Errorf("opening the chat, requests failed: %q", failed)
	}

	if _, _, err := c.srv.App.FollowerSend(context.Background(), c.fan.Actor, c.w.Channel.ID, app.FollowerMessage{Text: "Written on my phone"}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitText(t, ctx, "#chat-messages .bubble.mine[data-seq]", "Written on my phone")
	testenv.Do(t, ctx, chromedp.SendKeys(`#chat-text`, "And on the web"), chromedp.Click(`#chat-send`))
	waitTrue(t, ctx, `[...document.querySelectorAll("#chat-messages [data-seq]")].map((li) => li.dataset.seq).join() === "1,2"`, "the web's message after the phone's")
	if failed := testenv.Run(t, ctx, chromedp.Evaluate[[]string](`window.failed`)); len(failed) > 0 {
		t.Errorf("requests failed: %q", failed)
	}
}
