package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
)

// Tests of the follower app's chat from a QA pass on phones and desktop:
// offline and back, right-to-left text, the composer, cards, and what a
// screen reader hears. Helpers are in followerapp_chat_ux_browser_test.go
// and followerapp_live_browser_test.go.

// sendFrames counts the "send" frames the page's WebSockets carry
// (window.sendFrames); it goes after socketHooks.
const sendFrames = `(() => {
	window.sendFrames = 0;
	const send = WebSocket.prototype.send;
	WebSocket.prototype.send = function (data) {
		if (String(data).includes('"type":"send"')) window.sendFrames++;
		return send.call(this, data);
	};
})()`

// Messages written early in a time offline and one written just before
// the connection comes back all go, once each, and nothing says "Not
// sent": the tries made while offline (each refused by a failed
// connection or a timeout, and made again a second later) are not all
// sent when it comes back, where they counted against the sender's rate
// and the later message was refused as sending too fast.
func TestBrowserFollowerChatLongOfflineSendsEachMessageOnce(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello")
	ctx := testenv.Browser(t, testenv.BrowserTimeout(90*time.Second))
	c.openApp(t, ctx, 390, 844, c.chatRoute(), socketHooks+";"+sendFrames)
	testenv.WaitText(t, ctx, "#chat-messages", "Hello")
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.dropSockets()`))
	testenv.WaitText(t, ctx, "#chat-state", "Reconnecting…")
	write := func(text string) {
		testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			document.getElementById("chat-text").value = %q;
			document.getElementById("chat-form").requestSubmit();
		})()`, text)))
	}
	early := []string{"Written in the tunnel", "Still in it", "Almost out"}
	for _, text := range early {
		write(text)
	}
	// A long time offline, shortened: the phone tries to connect again
	// (as it does when the network seems back), and fails, every second
	// or so; the real backed-off tries and timeouts come slower, for
	// minutes.
	for range 10 {
		testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`dispatchEvent(new Event("online"))`), chromedp.Sleep(1100*time.Millisecond))
	}
	write("Written at the exit")
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.allowSockets(); dispatchEvent(new Event("online"))`))
	waitState(t, ctx, `(() => {
		const mine = [...document.querySelectorAll("#chat-messages .bubble.mine")];
		const ok = mine.length === 5 && mine.every((li) => li.matches("[data-seq]:not(.pending):not(.failed)"));
		return { ok, detail: JSON.stringify(mine.map((li) => li.className + ": " + li.innerText)) };
	})()`, "both messages written offline sent")
	time.Sleep(time.Second) // whatever else was queued has come by now
	msgs, err := c.srv.App.FollowerChatMessages(context.Background(), c.fan.Actor, conv, app.ChatPage{CatchUp: true, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	want := append([]string{"Hello"}, append(early, "Written at the exit")...)
	if fmt.Sprint(texts) != fmt.Sprint(want) {
		t.Errorf("stored %q, want %q", texts, want)
	}
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](`window.sendFrames`)); n > 8 {
		t.Errorf("%d send frames went out for four messages once back online", n)
	}
}

// Right-to-left text (Arabic, Hebrew) reads right to left in the thread,
// the composer and the Chats list, its punctuation at its end (on the
// left), whoever wrote it; a message in English next to it stays left to
// right.
func TestBrowserFollowerChatRightToLeftText(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	const mine, theirs = "مرحبا، هل أنتم مفتوحون اليوم؟", "שלום! כן, עד השעה שש."
	conv := c.followerSays(t, mine)
	c.agentSays(t, conv, theirs)
	c.agentSays(t, conv, "Also in English: until six.")
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 360, 740)
	testenv.WaitText(t, ctx, "#chat-messages", "until six")
	dirOf := func(text string) string {
		return testenv.Run(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
			const p = [...document.querySelectorAll("#chat-messages .bubble p")].find((p) => p.textContent === %q);
			return p ? (p.matches(":dir(rtl)") ? "rtl" : "ltr") + " " + getComputedStyle(p).direction : "missing";
		})()`, text)))
	}
	for text, want := range map[string]string{mine: "rtl rtl", theirs: "rtl rtl", "Also in English: until six.": "ltr ltr"} {
		if got := dirOf(text); got != want {
			t.Errorf("the bubble %q reads %s, want %s", text, got, want)
		}
	}
	testenv.Do(t, ctx, chromedp.SendKeys(`#chat-text`, "شكرا!"))
	if got := testenv.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("chat-text").matches(":dir(rtl)")`)); !got {
		t.Error("Arabic typed in the composer reads left to right")
	}
	testenv.Do(t, ctx, chromedp.KeyEvent("\r"))
	testenv.WaitText(t, ctx, "#chat-messages .bubble.mine:last-child", "شكرا!")
	if got := dirOf("شكرا!"); got != "rtl rtl" {
		t.Errorf("the message sent reads %s, want rtl", got)
	}
	testenv.Screenshot(t, ctx, "thread")

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "#/chats"`))
	row := fmt.Sprintf(`#conversations [data-conversation="%d"]`, conv)
	testenv.WaitText(t, ctx, row, "You: شكرا!")
	if got := testenv.Run(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		const p = document.querySelector(%q), b = p.querySelector("bdi, [dir]");
		return (b && b.textContent === "شكرا!" && b.matches(":dir(rtl)") ? "rtl" : "ltr") + " after " + JSON.stringify(p.firstChild.textContent);
	})()`, row+" .preview"))); got != `rtl after "You: "` {
		t.Errorf("the list's preview of the Arabic message reads %s", got)
	}
}

// composerFit says how the composer's text fits its box: the lines it
// shows, the lines its text has, and whether it scrolls.
const composerFit = `(() => {
	const t = document.getElementById("chat-text"), lh = parseFloat(getComputedStyle(t).lineHeight) || 20;
	const pad = parseFloat(getComputedStyle(t).paddingTop) + parseFloat(getComputedStyle(t).paddingBottom);
	return { shown: Math.round((t.clientHeight - pad) / lh), needed: Math.round((t.scrollHeight - pad) / lh), height: t.getBoundingClientRect().height };
})()`

type fit struct {
	Shown  int     `json:"shown"`
	Needed int     `json:"needed"`
	Height float64 `json:"height"`
}

// The composer grows with what the follower writes (Shift+Enter, a
// paste), up to a few lines, then scrolls; the thread's last message
// stays above it; sent, it is one line again. It stayed one line high,
// the text scrolling inside it.
func TestBrowserFollowerChatComposerGrowsWithTheText(t *testing.T) {
	t.Parallel()
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"phone", 360, 740}, {"desktop", 1280, 800}} {
		t.Run(size.name, func(t *testing.T) {
			t.Parallel()
			c := newChatUX(t)
			conv := c.followerSays(t, "Hello")
			for i := range 15 {
				c.agentSays(t, conv, fmt.Sprintf("Line %d of the menu.", i+1))
			}
			ctx := testenv.Browser(t)
			c.openChat(t, ctx, size.width, size.height)
			testenv.WaitText(t, ctx, "#chat-messages", "Line 15 of the menu.")
			one := testenv.Run(t, ctx, chromedp.Evaluate[fit](composerFit))
			testenv.Do(t, ctx, chromedp.SendKeys(`#chat-text`, "Two things:"))
			for _, line := range []string{"a flat white", "a croissant", "and the bill"} {
				testenv.Do(t, ctx, chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)), chromedp.SendKeys(`#chat-text`, line))
			}
			four := testenv.Run(t, ctx, chromedp.Evaluate[fit](composerFit))
			if four.Needed != 4 || four.Shown != 4 {
				t.Errorf("four lines typed: the composer shows %d of %d lines (one line: %+v)", four.Shown, four.Needed, one)
			}
			waitState(t, ctx, lastInView(".bubble.theirs"), "the last message above the grown composer")
			testenv.Screenshot(t, ctx, "four-lines")

			// A long paste: it grows so far, then scrolls.
			testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
				const t = document.getElementById("chat-text");
				t.value = Array.from({ length: 30 }, (_, i) => "pasted line " + (i + 1)).join("\n");
				t.dispatchEvent(new InputEvent("input", { inputType: "insertFromPaste" }));
			})()`))
			long := testenv.Run(t, ctx, chromedp.Evaluate[fit](composerFit))
			if long.Shown < 4 || long.Shown >= long.Needed || long.Height > float64(size.height)/3 {
				t.Errorf("30 lines pasted: the composer shows %d of %d lines, %.0fpx high in a %dpx window", long.Shown, long.Needed, long.Height, size.height)
			}
			waitState(t, ctx, lastInView(".bubble.theirs"), "the last message above the composer at its tallest")

			testenv.Do(t, ctx, chromedp.Click(`#chat-send`))
			testenv.WaitText(t, ctx, "#chat-messages .bubble.mine:last-child", "pasted line 30")
			waitState(t, ctx, `(() => {
				const f = `+composerFit+`;
				return { ok: f.height <= `+fmt.Sprint(one.Height)+` + 0.5, detail: "the composer is " + f.height + "px high, one line was `+fmt.Sprint(one.Height)+`px" };
			})()`, "the composer back to one line once sent")
		})
	}
}

// A coupon or a program sent twice in the thread: enabled or joined from
// one card, the other card says so too, instead of still offering it.
func TestBrowserFollowerChatCardsOfTheSameOfferAgree(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Any offers?")
	club := &regulars.Engagement{TenantID: c.w.Tenant.ID, PartnerID: c.w.Partner.ID, ChannelID: c.w.Channel.ID, Kind: regulars.KindLoyalty,
		Status: regulars.EngagementActive, Name: "Bean Club", Loyalty: &regulars.LoyaltySpec{ProgramKind: regulars.ProgramPoints, PointSingular: "bean", PointPlural: "beans"}}
	if err := c.w.DB.CreateEngagement(context.Background(), club); err != nil {
		t.Fatal(err)
	}
	coffee := c.coupon(t, "Free coffee", regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1})
	for _, e := range []*regulars.Engagement{coffee, club, coffee, club} {
		c.agentCard(t, conv, e)
	}
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	buttons := func(e *regulars.Engagement) string {
		return fmt.Sprintf(`[...document.querySelectorAll('.chat-card[data-engagement="%d"] [data-act]')]`, e.ID)
	}
	waitTrue(t, ctx, buttons(club)+`.length === 2`, "the cards")
	for _, step := range []struct {
		e    *regulars.Engagement
		done string
	}{{coffee, "Enabled ✓"}, {club, "Joined ✓"}} {
		// The later card is used; the earlier one must follow.
		testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](buttons(step.e)+`[1].click()`))
		waitState(t, ctx, fmt.Sprintf(`(() => {
			const b = %s;
			return { ok: b.every((x) => x.textContent === %q && x.disabled), detail: JSON.stringify(b.map((x) => x.textContent + (x.disabled ? " (disabled)" : ""))) };
		})()`, buttons(step.e), step.done), "both cards of "+step.e.Name+" saying "+step.done)
	}
}

// axNodes is the page's accessibility tree, as a screen reader gets it.
func axNodes(t *testing.T, ctx context.Context) []*accessibility.Node {
	t.Helper()
	res, err := chromedp.Call(ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Nodes
}

// axString is an accessibility value as text.
func axString(v *accessibility.Value) string {
	if v == nil {
		return ""
	}
	var s string
	if json.Unmarshal(v.Value, &s) != nil {
		return string(v.Value)
	}
	return s
}

// What a screen reader hears of the chat: opening it, or loading earlier
// messages, does not read the whole history out (the view and the thread
// were live regions, so every message loaded was announced); a message
// that comes while it is open is, with who wrote it; the follower's own
// messages say they are theirs; a card's button names its coupon; the
// Chats list says a count is of unread messages.
func TestBrowserFollowerChatScreenReader(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello")
	for i := range 110 {
		c.agentSays(t, conv, fmt.Sprintf("Old news %d", i+1))
	}
	coffee := c.coupon(t, "Free coffee", regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1})
	c.agentCard(t, conv, coffee)
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 390, 844, "#/chats", "")
	row := fmt.Sprintf(`#conversations [data-conversation="%d"]`, conv)
	testenv.WaitText(t, ctx, row, "Free coffee")
	var rowName string
	for _, n := range axNodes(t, ctx) {
		if axString(n.Role) == "link" && strings.Contains(axString(n.Name), c.w.Channel.Name) {
			rowName = axString(n.Name)
		}
	}
	if !strings.Contains(rowName, "111 unread") {
		t.Errorf("the conversation's row reads %q, want its count said as unread", rowName)
	}

	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "`+c.chatRoute()+`"`))
	testenv.WaitText(t, ctx, "#chat-messages", "Old news 110")
	// live regions holding the history: announced as it loads.
	const liveAround = `[...document.querySelectorAll("#chat-messages > li")].filter((li) =>
		li.closest('[aria-live]:not([aria-live="off"]), [role="log"], [role="status"], [role="alert"], [role="marquee"]')).length`
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](liveAround)); n != 0 {
		t.Errorf("%d messages of the history opened sit in a live region (read out as they load)", n)
	}
	testenv.Click(t, ctx, `#chat-earlier`)
	testenv.WaitText(t, ctx, "#chat-messages", "Hello")
	if n := testenv.Run(t, ctx, chromedp.Evaluate[int](liveAround)); n != 0 {
		t.Errorf("%d messages after Earlier messages sit in a live region", n)
	}
	mine := testenv.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#chat-messages .bubble.mine").textContent`))
	if !strings.HasPrefix(mine, "You") {
		t.Errorf("the follower's own message reads %q, not saying it is theirs", mine)
	}
	var described string
	for _, n := range axNodes(t, ctx) {
		if axString(n.Role) == "button" && axString(n.Name) == "Enable the coupon" {
			described = axString(n.Description)
		}
	}
	if described != "Free coffee" {
		t.Errorf("the card's button is described %q, want the coupon's name", described)
	}

	c.agentSays(t, conv, "Anything else today?")
	waitState(t, ctx, `(() => {
		const live = [...document.querySelectorAll('[aria-live="polite"], [aria-live="assertive"], [role="status"], [role="log"]')]
			.filter((r) => !r.closest("[hidden]") && r.textContent.includes("Anything else today?"));
		return { ok: live.length === 1 && live[0].textContent.includes(`+fmt.Sprintf("%q", c.w.Owner.Name)+`), detail: JSON.stringify(live.map((r) => r.id + ": " + r.textContent.slice(0, 120))) };
	})()`, "the new message announced with its author")
}

// Earlier messages works from the keyboard: pressed with Enter, the focus
// stays on it while pages remain, and with the last page (the button
// goes) moves to the oldest message, not to the top of the document
// (where the next Tab starts over from the app's bar).
func TestBrowserFollowerChatEarlierMessagesKeepsTheKeyboardFocus(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "message 1")
	for i := 2; i <= 230; i++ {
		if _, _, err := c.srv.App.FollowerSendTo(context.Background(), c.fan.Actor, conv, app.FollowerMessage{Text: fmt.Sprintf("message %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testenv.Browser(t)
	c.openChat(t, ctx, 390, 844)
	testenv.WaitText(t, ctx, "#chat-messages", "message 230")
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(".chat-screen .back").focus()`), chromedp.KeyEvent(kb.Tab))
	focused := `(() => { const e = document.activeElement; return e.id || e.tagName + " " + (e.dataset.seq || ""); })()`
	if got := testenv.Run(t, ctx, chromedp.Evaluate[string](focused)); got != "chat-earlier" {
		t.Fatalf("Tab from the link back goes to %q, want Earlier messages", got)
	}
	testenv.Do(t, ctx, chromedp.KeyEvent(kb.Enter))
	testenv.WaitText(t, ctx, `#chat-messages [data-seq="31"]`, "message 31")
	if got := testenv.Run(t, ctx, chromedp.Evaluate[string](focused)); got != "chat-earlier" {
		t.Errorf("after a page of earlier messages the focus is on %q, want Earlier messages still", got)
	}
	testenv.Do(t, ctx, chromedp.KeyEvent(kb.Enter))
	testenv.WaitText(t, ctx, `#chat-messages [data-seq="1"]`, "message 1")
	waitTrue(t, ctx, `document.getElementById("chat-earlier").hidden`, "Earlier messages going with none left")
	waitState(t, ctx, `(() => {
		const e = document.activeElement;
		return { ok: e.matches("#chat-messages > li") && e.dataset.seq === "1", detail: "the focus is on " + e.tagName + "#" + e.id + " " + (e.dataset.seq || "") };
	})()`, "the focus on the oldest message")
}

// A chat can be started from the Chats list (as the spec has it, "from
// the channel page or their conversations list"): it offers the channels
// followed whose chat is on and that have no conversation yet; the
// first message moves the channel from there to the conversations.
func TestBrowserFollowerChatStartsFromTheChatsList(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	bg := context.Background()
	conv := c.followerSays(t, "Hello A")
	if _, err := c.srv.App.Follow(bg, c.fan.Actor, c.w.OtherChannel.ID); err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Browser(t)
	c.openApp(t, ctx, 360, 740, "#/chats", "")
	testenv.WaitText(t, ctx, fmt.Sprintf(`#conversations [data-conversation="%d"]`, conv), "You: Hello A")
	offered := `[...document.querySelectorAll("#chat-start:not([hidden]) a[data-channel]")].map((a) => Number(a.dataset.channel))`
	waitTrue(t, ctx, fmt.Sprintf(`JSON.stringify(%s) === "[%d]"`, offered, c.w.OtherChannel.ID), "the other channel offered to start a chat with")
	testenv.Screenshot(t, ctx, "start")
	testenv.Click(t, ctx, fmt.Sprintf(`#chat-start a[data-channel="%d"]`, c.w.OtherChannel.ID))
	testenv.WaitText(t, ctx, "#chat-empty", "Write to "+c.w.OtherChannel.Name)
	testenv.Do(t, ctx, chromedp.SendKeys(`#chat-text`, "Hello B"), chromedp.KeyEvent(kb.Enter))
	testenv.WaitText(t, ctx, "#chat-messages .bubble.mine[data-seq]", "Hello B")
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = "#/chats"`))
	testenv.WaitText(t, ctx, "#conversations", "You: Hello B")
	waitTrue(t, ctx, `document.getElementById("chat-start").hidden`, "nothing more to start a chat with")
}
