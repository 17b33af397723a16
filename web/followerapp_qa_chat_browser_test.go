package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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
