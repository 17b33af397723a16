package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
)

// Tests of the follower app's chat that is live: the order of messages,
// the Chats badge and list, the connection's state, and the composer's
// place and limits. Helpers are in followerapp_chat_ux_browser_test.go.

// socketHooks lets a test hold a page's WebSocket (the follower app's, the
// agents' chat's): window.dropSockets() closes its connections and refuses
// new ones until window.allowSockets();
// while window.holdSends is set, "send" frames wait in window.held until
// window.release().
const socketHooks = `(() => {
	const Real = WebSocket;
	const sockets = [];
	let refuse = false;
	window.WebSocket = class extends Real {
		constructor(url, protocols) {
			super(refuse ? "ws://127.0.0.1:9/" : url, protocols);
			sockets.push(this);
		}
	};
	window.dropSockets = () => { refuse = true; sockets.forEach((s) => s.close()); };
	window.allowSockets = () => { refuse = false; };
	const send = Real.prototype.send;
	window.held = [];
	Real.prototype.send = function (data) {
		if (window.holdSends && String(data).includes('"type":"send"')) return void window.held.push([this, data]);
		return send.call(this, data);
	};
	window.release = () => { window.holdSends = false; for (const [s, d] of window.held.splice(0)) send.call(s, d); };
})()`

// openApp signs the follower in to the app of a browser of the given size
// and goes to route ("#/chats"); js runs in the page first, before the app
// opens its connection.
func (c *chatUX) openApp(t *testing.T, ctx context.Context, width, height int64, route, js string) {
	t.Helper()
	testenv.Do(t, ctx, chromedp.EmulateViewport(width, height), chromedp.Navigate(c.srv.URL+"/app/#/signin"), chromedp.WaitVisible(`#signin-form`),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`%s; localStorage.setItem("regulars.token", %q); location.hash = %q`, js, c.fan.Token, route)))
}

func (c *chatUX) chatRoute() string { return fmt.Sprintf("#/chat/%d", c.w.Channel.ID) }

// serverUnread is the follower's unread count as the API gives it: the
// sum over their conversations.
func (c *chatUX) serverUnread(t *testing.T) int64 {
	t.Helper()
	convs, err := c.srv.App.FollowerConversations(context.Background(), c.fan.Actor)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, cv := range convs {
		n += cv.Unread
	}
	return n
}

// badgeSays holds when the Chats badge shows n (hidden for 0).
func badgeSays(n int) string {
	return fmt.Sprintf(`(() => {
		const e = document.getElementById("chat-unread");
		return { ok: %[1]d === 0 ? e.hidden : !e.hidden && e.textContent === "%[1]d", detail: "the badge says " + JSON.stringify(e.textContent) + (e.hidden ? " (hidden)" : "") };
	})()`, n)
}

// The answer to a send that waited comes after the agents' messages
// stored meanwhile: the thread stays in the order of the messages, the
// waiting bubble at its end until it is stored, then in its place.
func TestBrowserFollowerChatKeepsTheOrderOfMessages(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello")
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, c.chatRoute(), socketHooks)
	testenv.WaitText(t, ctx, "#chat-messages", "Hello")

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		window.holdSends = true;
		document.getElementById("chat-text").value = "Are you open today?";
		document.getElementById("chat-form").requestSubmit();
	})()`))
	waitTrue(t, ctx, `window.held.length === 1 && !!document.querySelector("#chat-messages .pending")`, "the send waiting")
	c.agentSays(t, conv, "Good morning!")
	c.agentSays(t, conv, "Yes, until six.")
	testenv.WaitText(t, ctx, "#chat-messages", "until six")
	if last := testenv.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#chat-messages > li:last-child").className`)); !strings.Contains(last, "pending") {
		t.Errorf("while the send waits, the last bubble is %q, want the pending one", last)
	}

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.release()`))
	waitState(t, ctx, `(() => {
		const lis = [...document.querySelectorAll("#chat-messages > li")];
		const seqs = lis.map((li) => Number(li.dataset.seq));
		const texts = lis.map((li) => li.querySelector("p")?.textContent || li.textContent);
		const ordered = seqs.every((s, i) => s > 0 && (i === 0 || s > seqs[i - 1]));
		const ok = ordered && lis.length === 5 && texts.at(-1) === "Are you open today?" && lis.at(-1).matches(".mine:not(.pending)");
		return { ok, detail: JSON.stringify(lis.map((li, i) => seqs[i] + " " + texts[i])) };
	})()`, "the follower's message taking its place after the agent's, in seq order")
	testenv.Screenshot(t, ctx, "ordered")
}

// The Chats badge follows new messages from the first screen, also when
// nothing was unread at load, and counts what the server counts: the
// agents' messages, not the system lines ("… joined", "closed").
func TestBrowserFollowerChatBadgeIsLive(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello")
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, "#/channels", "")
	testenv.Do(t, ctx, chromedp.WaitVisible(`#channel-list`))
	waitState(t, ctx, badgeSays(0), "the badge hidden with nothing unread")

	c.agentSays(t, conv, "Hi Mia!")
	waitState(t, ctx, badgeSays(1), "the badge counting the agent's message")
	if _, err := c.srv.App.FinishConversation(context.Background(), c.agent, conv); err != nil {
		t.Fatal(err)
	}
	c.agentSays(t, conv, "One more thing: we close early today.")
	waitState(t, ctx, badgeSays(2), "the badge counting the agent's second message")
	time.Sleep(500 * time.Millisecond) // nothing more comes
	waitState(t, ctx, badgeSays(2), "the badge staying at the agent's two messages")
	if n := c.serverUnread(t); n != 2 {
		t.Errorf("the server counts %d unread, the badge 2", n)
	}
}

// A chat the follower has left counts its new messages in the badge.
func TestBrowserFollowerChatBadgeCountsAChatLeft(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello")
	c.agentSays(t, conv, "Hi Mia!")
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, c.chatRoute(), "")
	testenv.WaitText(t, ctx, "#chat-messages", "Hi Mia!")
	waitState(t, ctx, badgeSays(0), "the badge counting nothing in the open chat")
	for deadline := time.Now().Add(testenv.WaitTimeout); c.serverUnread(t) != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server never got the follower's read mark")
		}
	}

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "#/channels"`), chromedp.WaitVisible(`#channel-list`))
	c.agentSays(t, conv, "Your order is ready.")
	waitState(t, ctx, badgeSays(1), "the badge counting the message of the chat left")
}

// The Chats list shows new messages as they come: a conversation's
// preview and unread count, and a conversation started elsewhere.
func TestBrowserFollowerChatsListIsLive(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	bg := context.Background()
	if _, err := c.srv.App.Follow(bg, c.fan.Actor, c.w.OtherChannel.ID); err != nil {
		t.Fatal(err)
	}
	conv := c.followerSays(t, "Hello")
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, "#/chats", "")
	row := fmt.Sprintf(`#conversations [data-conversation="%d"]`, conv)
	testenv.WaitText(t, ctx, row, "You: Hello")

	c.agentSays(t, conv, "We have fresh bread.")
	waitState(t, ctx, fmt.Sprintf(`(() => {
		const r = document.querySelector(%q);
		const count = r?.querySelector(".count")?.textContent;
		return { ok: !!r && r.querySelector(".preview").textContent === "We have fresh bread." && count === "1", detail: r ? r.innerText : "no row" };
	})()`, row), "the conversation's row showing the new message and one unread")

	other, _, err := c.srv.App.FollowerSend(bg, c.fan.Actor, c.w.OtherChannel.ID, app.FollowerMessage{Text: "Written on my phone"})
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitText(t, ctx, fmt.Sprintf(`#conversations [data-conversation="%d"]`, other.ID), "You: Written on my phone")
	waitTrue(t, ctx, fmt.Sprintf(`document.querySelector("#conversations > a").dataset.conversation === "%d"`, other.ID), "the newest conversation coming first")
	waitState(t, ctx, badgeSays(1), "the badge agreeing with the list")
	testenv.Screenshot(t, ctx, "chats")
}

// meetsTabBar holds when the composer's sticky block ends exactly where
// the tab bar starts, so no thread shows between them.
const meetsTabBar = `(() => {
	let block = document.getElementById("chat-form");
	while (block && getComputedStyle(block).position !== "sticky") block = block.parentElement;
	if (!block) return { ok: false, detail: "the composer does not stick" };
	const r = block.getBoundingClientRect();
	const tabs = document.getElementById("tabs").getBoundingClientRect();
	const at = document.elementFromPoint(r.left + r.width / 2, tabs.top - 1);
	const ok = Math.abs(r.bottom - tabs.top) < 0.5 && block.contains(at);
	return { ok, detail: "the composer ends at " + r.bottom + "px, the tab bar starts at " + tabs.top + "px, above it is " + (at?.outerHTML.slice(0, 80) || "nothing") };
})()`

// The composer sits on the tab bar, without a gap that shows the thread,
// on a phone and a desktop, in a long chat at its end, scrolled up, and in
// a new chat.
func TestBrowserFollowerChatComposerMeetsTheTabBar(t *testing.T) {
	t.Parallel()
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"phone", 390, 844}, {"desktop", 1280, 800}} {
		t.Run(size.name, func(t *testing.T) {
			t.Parallel()
			c := newChatUX(t)
			conv := c.followerSays(t, "Hello")
			for i := range 20 {
				c.agentSays(t, conv, fmt.Sprintf("Line %d of the menu.", i+1))
			}
			ctx := testenv.Browser(t, testenv.BrowserName("follower-"+size.name))
			c.openChat(t, ctx, size.width, size.height)
			testenv.WaitText(t, ctx, "#chat-messages", "Line 20 of the menu.")
			waitState(t, ctx, lastInView(".bubble.theirs"), "the chat at its end")
			waitState(t, ctx, meetsTabBar, "the composer meeting the tab bar at the end of the chat")
			testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo({ top: document.scrollingElement.scrollHeight / 3, behavior: "instant" })`))
			waitState(t, ctx, meetsTabBar, "the composer meeting the tab bar with the chat scrolled up")
			testenv.Screenshot(t, ctx, "scrolled-up")

			// A new chat, with the other channel.
			if _, err := c.srv.App.Follow(context.Background(), c.fan.Actor, c.w.OtherChannel.ID); err != nil {
				t.Fatal(err)
			}
			testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = "#/chat/%d"`, c.w.OtherChannel.ID)), chromedp.WaitVisible(`#chat-empty`))
			waitState(t, ctx, meetsTabBar, "the composer of a new chat meeting the tab bar")
		})
	}
}

// "Reconnecting…" shows above the composer, where the follower at the
// end of the chat sees it, without covering the last message; it goes
// when the connection is back.
func TestBrowserFollowerChatSaysReconnectingAboveTheComposer(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello")
	for i := range 20 {
		c.agentSays(t, conv, fmt.Sprintf("Line %d of the menu.", i+1))
	}
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, c.chatRoute(), socketHooks)
	testenv.WaitText(t, ctx, "#chat-messages", "Line 20 of the menu.")
	waitState(t, ctx, lastInView(".bubble.theirs"), "the chat at its end")

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.dropSockets()`))
	waitState(t, ctx, `(() => {
		const s = document.getElementById("chat-state"), r = s.getBoundingClientRect();
		const form = document.getElementById("chat-form").getBoundingClientRect();
		const top = document.querySelector("header.bar").getBoundingClientRect().bottom;
		const last = document.querySelector("#chat-messages > li:last-child").getBoundingClientRect();
		const ok = s.innerText === "Reconnecting…" && r.height > 0 && r.top >= top && r.bottom <= form.top + 1 && last.bottom <= r.top + 1;
		return { ok, detail: JSON.stringify(s.innerText) + " at " + Math.round(r.top) + "–" + Math.round(r.bottom) + "px, composer from " + Math.round(form.top) + "px, last message ends at " + Math.round(last.bottom) + "px" };
	})()`, "Reconnecting… showing above the composer, below the last message")
	testenv.Screenshot(t, ctx, "reconnecting")

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.allowSockets()`))
	waitTrue(t, ctx, `document.getElementById("chat-state").hidden`, "the state going away once connected")
	waitState(t, ctx, lastInView(".bubble.theirs"), "the chat still at its end")
}

// A new chat says what to do, until its first message.
func TestBrowserFollowerChatNewSaysWhatToDo(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	want := "Write to " + c.w.Channel.Name + ": its team answers here."
	if got := testenv.WaitText(t, ctx, "#chat-empty", want); got != want {
		t.Errorf("the new chat says %q, want %q", got, want)
	}
	testenv.Screenshot(t, ctx, "new-chat")
	testenv.Do(t, ctx, chromedp.SendKeys(`#chat-text`, "Hi!"), chromedp.Click(`#chat-send`))
	testenv.WaitText(t, ctx, "#chat-messages .bubble.mine", "Hi!")
	waitTrue(t, ctx, `getComputedStyle(document.getElementById("chat-empty")).display === "none"`, "the empty state going with the first message")
}

// The text's limit is the server's, 4000 characters: 4000 emoji are
// taken whole (not cut at 2000, as a limit in UTF-16 units would), and a
// longer text is not cut but refused next to the composer, not sent.
func TestBrowserFollowerChatCountsCharactersAsTheServerDoes(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello")
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	testenv.WaitText(t, ctx, "#chat-messages", "Hello")
	paste := func(n int) {
		t.Helper()
		testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const t = document.getElementById("chat-text");
			t.focus();
			t.select();
			document.execCommand("insertText", false, "😀".repeat(%d)); // as a paste
		})()`, n)))
	}
	chars := `[...document.getElementById("chat-text").value].length`

	paste(regulars.MaxChatText + 3)
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](chars)); n != regulars.MaxChatText+3 {
		t.Errorf("the text box holds %d of the %d emoji pasted", n, regulars.MaxChatText+3)
	}
	testenv.WaitText(t, ctx, "#chat-too-long", "Use at most 4000 characters: 3 too many.")
	testenv.Screenshot(t, ctx, "too-long")
	testenv.Do(t, ctx, chromedp.Click(`#chat-send`), chromedp.Sleep(300*time.Millisecond))
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#chat-messages > li").length`)); n != 1 {
		t.Errorf("the thread has %d messages after sending a text too long, want the 1 before", n)
	}
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](chars)); n != regulars.MaxChatText+3 {
		t.Errorf("after Send, the text box holds %d emoji, want the %d written", n, regulars.MaxChatText+3)
	}

	paste(regulars.MaxChatText)
	waitTrue(t, ctx, `document.getElementById("chat-too-long").hidden`, "the warning going at 4000 emoji")
	testenv.Do(t, ctx, chromedp.Click(`#chat-send`))
	waitTrue(t, ctx, `!!document.querySelector("#chat-messages .bubble.mine[data-seq='2']")`, "the 4000 emoji stored")
	msgs, err := c.srv.App.FollowerChatMessages(context.Background(), c.fan.Actor, conv, app.ChatPage{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Seq == 2 && m.Text != strings.Repeat("😀", regulars.MaxChatText) {
			t.Errorf("the server stored %d characters, want %d emoji", len([]rune(m.Text)), regulars.MaxChatText)
		}
	}
}

// A file over the chat's limit is refused at once, in the server's words,
// without uploading it.
func TestBrowserFollowerChatRefusesALargeFileAtOnce(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	c.followerSays(t, "Hello")
	big := filepath.Join(t.TempDir(), "big.png")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, c.srv.App.MaxAttachment()+1); err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		window.uploads = 0;
		const real = window.fetch;
		window.fetch = (url, opts) => {
			if (String(url).includes("/chat/attachments")) window.uploads++;
			return real(url, opts);
		};
	})()`), chromedp.SetUploadFiles(`#chat-file`, []string{big}))
	want := regulars.ErrorMessage(c.srv.App.AttachmentTooLarge())
	got := testenv.WaitText(t, ctx, "#chat-messages .bubble.failed", want)
	if !strings.Contains(got, "Not sent") || !strings.Contains(got, "big.png") {
		t.Errorf("the failed bubble does not say which file was not sent: %q", got)
	}
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](`window.uploads`)); n != 0 {
		t.Errorf("the file was uploaded %d times before it was refused", n)
	}
}

// Back online, the app connects at once, not when its backed-off retry
// comes (after a few failed tries that is seconds away).
func TestBrowserFollowerChatReconnectsWhenBackOnline(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	c.followerSays(t, "Hello")
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, c.chatRoute(), socketHooks)
	testenv.WaitText(t, ctx, "#chat-messages", "Hello")
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.dropSockets()`))
	testenv.WaitText(t, ctx, "#chat-state", "Reconnecting…")
	time.Sleep(4 * time.Second) // tries at 0.5, 1 and 2 s fail: the next is 4 s away or more
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.allowSockets(); window.backAt = Date.now(); dispatchEvent(new Event("online"))`))
	waitTrue(t, ctx, `document.getElementById("chat-state").hidden`, "the connection coming back")
	if ms := testenv.Run(t, ctx, chromedp.Evaluate[float64](`Date.now() - window.backAt`)); ms > 2500 {
		t.Errorf("connected %.0f ms after coming back online, want at once (not at the backed-off retry)", ms)
	}
}

// A screen that loads slowly does not replace the one the follower went
// on to meanwhile (and a chat left while loading neither shows nor marks
// anything read).
func TestBrowserFollowerSlowScreenDoesNotReplaceTheNext(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello")
	c.agentSays(t, conv, "Hi Mia!")
	ctx := testenv.Browser(t)
	// Requests for the coupons and the chat's channel page answer a second late.
	slow := fmt.Sprintf(`(() => {
		const real = window.fetch;
		window.fetch = (url, opts) => /\/follower\/(coupons|channels\/%d)$/.test(String(url)) && window.slow
			? new Promise((ok) => setTimeout(ok, 1000)).then(() => real(url, opts))
			: real(url, opts);
	})()`, c.w.Channel.ID)
	c.openApp(t, ctx, 390, 844, "#/me", slow)
	waitTrue(t, ctx, `document.getElementById("profile") !== null`, "the Me screen")
	for _, slowRoute := range []string{"#/coupons", c.chatRoute()} {
		testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.slow = true; location.hash = %q; setTimeout(() => { location.hash = "#/inbox"; }, 100)`, slowRoute)))
		waitTrue(t, ctx, `document.getElementById("inbox") !== null || document.querySelector(".pad .muted")?.textContent === "No notifications yet."`, "the Inbox screen")
		time.Sleep(1500 * time.Millisecond) // the slow screen has loaded by now
		if got := testenv.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector("header.bar h1, #title")?.textContent || document.title`)); !strings.Contains(got, "Inbox") {
			t.Errorf("after %s loaded late the screen is %q, want the Inbox the follower went on to", slowRoute, got)
		}
		testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.slow = false; location.hash = "#/me"`))
		waitTrue(t, ctx, `document.getElementById("profile") !== null`, "the Me screen again")
	}
	if cv, err := c.srv.App.FollowerConversation(t.Context(), c.fan.Actor, conv); err != nil || cv.FollowerReadSeq >= cv.LastSeq {
		t.Errorf("the chat left while loading marked it read: %+v %v", cv, err)
	}
}
