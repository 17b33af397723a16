package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
)

// chatUX is a follower of partner A's channel and the owner answering
// them, for the follower app's chat tests.
type chatUX struct {
	w     *testenv.World
	srv   *testenv.Server
	fan   *app.FollowerSession
	agent *app.Actor
}

func newChatUX(t *testing.T) *chatUX {
	t.Helper()
	db := testenv.OpenSQLite(t)
	w := testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	ctx := context.Background()
	fan, err := srv.App.SignUpFollower(ctx, app.SignUpInput{Tenant: "test", Password: testenv.Password, ProfileInput: app.ProfileInput{Name: "Mia", Email: "mia@fans.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.Follow(ctx, fan.Actor, w.Channel.ID); err != nil {
		t.Fatal(err)
	}
	res, err := srv.App.SignIn(ctx, w.Owner.Email, testenv.Password, "127.0.0.9", "chat ux test")
	if err != nil {
		t.Fatal(err)
	}
	return &chatUX{w: w, srv: srv, fan: fan, agent: res.Actor}
}

// followerSays writes to the channel as the follower; the first message
// starts the conversation, whose id it returns.
func (c *chatUX) followerSays(t *testing.T, text string) int64 {
	t.Helper()
	conv, _, err := c.srv.App.FollowerSend(context.Background(), c.fan.Actor, c.w.Channel.ID, app.FollowerMessage{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return conv.ID
}

func (c *chatUX) followerPicture(t *testing.T, name string, width, height int) {
	t.Helper()
	up := app.Upload{Name: name, Body: bytes.NewReader(picture(t, width, height, color.RGBA{0x2a, 0x9d, 0x8f, 0xff}))}
	if _, _, err := c.srv.App.FollowerSendAttachment(context.Background(), c.fan.Actor, c.w.Channel.ID, up, ""); err != nil {
		t.Fatal(err)
	}
}

func (c *chatUX) agentSays(t *testing.T, conv int64, text string) {
	t.Helper()
	if _, err := c.srv.App.SendAgentMessage(context.Background(), c.agent, conv, app.AgentMessage{Text: text}); err != nil {
		t.Fatal(err)
	}
}

func (c *chatUX) agentPicture(t *testing.T, conv int64, name string, width, height int) {
	t.Helper()
	up := app.Upload{Name: name, Body: bytes.NewReader(picture(t, width, height, color.RGBA{0xe7, 0x6f, 0x51, 0xff}))}
	if _, err := c.srv.App.SendAgentAttachment(context.Background(), c.agent, conv, up, app.AgentMessage{}); err != nil {
		t.Fatal(err)
	}
}

func (c *chatUX) agentCard(t *testing.T, conv int64, e *regulars.Engagement) {
	t.Helper()
	if _, err := c.srv.App.SendAgentMessage(context.Background(), c.agent, conv, app.AgentMessage{EngagementID: e.ID}); err != nil {
		t.Fatal(err)
	}
}

func (c *chatUX) coupon(t *testing.T, name string, spec regulars.CouponSpec) *regulars.Engagement {
	t.Helper()
	e := &regulars.Engagement{TenantID: c.w.Tenant.ID, PartnerID: c.w.Partner.ID, ChannelID: c.w.Channel.ID, Kind: regulars.KindCoupon,
		Status: regulars.EngagementActive, Name: name, Coupon: &spec}
	if err := c.w.DB.CreateEngagement(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// openChat signs the follower in to the app of a browser of the given
// size and opens their chat with the channel.
func (c *chatUX) openChat(t *testing.T, ctx context.Context, width, height int64) {
	t.Helper()
	testenv.Do(t, ctx, chromedp.EmulateViewport(width, height), chromedp.Navigate(c.srv.URL+"/app/"),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`localStorage.setItem("regulars.token", %q)`, c.fan.Token)),
		chromedp.Navigate(fmt.Sprintf("%s/app/#/chat/%d", c.srv.URL, c.w.Channel.ID)),
		chromedp.WaitVisible(`#chat-text`))
}

// picture is a PNG of one colour.
func picture(t *testing.T, width, height int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pictureFile writes a picture where the browser can pick it.
func pictureFile(t *testing.T, name string, width, height int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, picture(t, width, height, color.RGBA{0x26, 0x46, 0x53, 0xff}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitState polls a JavaScript expression that returns {ok, detail} until
// ok, and fails with the last detail: the tests say what they saw.
func waitState(t *testing.T, ctx context.Context, js, what string) {
	t.Helper()
	type state struct {
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	}
	deadline := time.Now().Add(testenv.WaitTimeout)
	var last state
	var lastErr error
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[state](js))
		if err == nil {
			if s.OK {
				return
			}
			last, lastErr = s, nil
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s did not happen: %s (last error: %v)", what, last.Detail, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// picturesLoaded holds once n pictures of the thread have loaded.
func picturesLoaded(n int) string {
	return fmt.Sprintf(`(() => {
		const imgs = [...document.querySelectorAll("#chat-messages img.att")];
		const done = imgs.filter((i) => i.complete && i.naturalHeight > 0).length;
		return { ok: imgs.length === %d && done === %d, detail: done + " of " + imgs.length + " pictures loaded" };
	})()`, n, n)
}

// lastInView holds when the thread's last message (matching css, when
// given) is whole between the app's bar and the composer.
func lastInView(css string) string {
	return fmt.Sprintf(`(() => {
		const last = document.querySelector("#chat-messages > li:last-child");
		if (!last) return { ok: false, detail: "no message" };
		if (%[1]q && !last.matches(%[1]q)) return { ok: false, detail: "the last message is " + last.outerHTML.slice(0, 160) };
		const r = last.getBoundingClientRect();
		const top = document.querySelector("header.bar").getBoundingClientRect().bottom;
		const bottom = document.getElementById("chat-form").getBoundingClientRect().top;
		const ok = r.height > 0 && r.top >= top - 1 && r.bottom <= bottom + 1;
		return { ok, detail: "last message " + Math.round(r.top) + "–" + Math.round(r.bottom) + "px, visible thread " + Math.round(top) + "–" + Math.round(bottom) + "px, scrollY " + Math.round(scrollY) + " of " + (document.scrollingElement.scrollHeight - innerHeight) };
	})()`, css)
}

// A chat with pictures opens at its newest message, and stays there while
// the pictures load and grow the bubbles above it, on a phone and on a
// desktop. The screen's focus moves to the view, which draws no frame.
func TestBrowserFollowerChatOpensAtTheNewestMessage(t *testing.T) {
	t.Parallel()
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			t.Parallel()
			c := newChatUX(t)
			conv := c.followerSays(t, "Hi! Do you still have the blue mugs?")
			c.agentPicture(t, conv, "shelf.png", 900, 1200)
			c.agentSays(t, conv, "These are the ones we have left.")
			c.followerPicture(t, "mine.png", 1200, 900)
			c.followerSays(t, "Like this one?")
			c.agentPicture(t, conv, "close-up.png", 800, 800)
			c.agentPicture(t, conv, "back.png", 700, 1100)
			c.agentSays(t, conv, "Yes, and in green too.")
			c.agentPicture(t, conv, "green.png", 1000, 1300)

			ctx := testenv.Browser(t, testenv.BrowserName("follower-"+size.name))
			c.openChat(t, ctx, size.width, size.height)
			waitState(t, ctx, picturesLoaded(5), "the pictures loading")
			waitState(t, ctx, lastInView(".bubble.theirs"), "the newest message (a picture) showing whole above the composer")
			// Still there a moment later: nothing moves the view after it.
			time.Sleep(300 * time.Millisecond)
			waitState(t, ctx, lastInView(".bubble.theirs"), "the newest message staying in view")
			waitState(t, ctx, `(() => {
				const v = document.getElementById("view"), s = getComputedStyle(v);
				return { ok: document.activeElement === v && s.outlineStyle === "none", detail: "focus on " + document.activeElement.id + ", view outline " + s.outlineStyle + " " + s.outlineWidth };
			})()`, "the view taking the focus without a frame")
			testenv.Screenshot(t, ctx, "opened")
		})
	}
}

// The follower's own picture, once sent and loaded, shows whole above the
// composer; the agent's answer after it too. When the follower has
// scrolled up to read, a new message does not pull the thread down.
func TestBrowserFollowerChatShowsNewPicturesWhole(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Hello!")
	for i := range 4 {
		c.agentPicture(t, conv, fmt.Sprintf("menu-%d.png", i), 900, 900)
	}
	c.agentSays(t, conv, "That is the whole menu.")

	ctx := testenv.Browser(t, testenv.BrowserName("follower"))
	c.openChat(t, ctx, 390, 844)
	waitState(t, ctx, picturesLoaded(4), "the menu pictures loading")
	testenv.Do(t, ctx, chromedp.SetUploadFiles(`#chat-file`, []string{pictureFile(t, "my-order.png", 1000, 1400)}))
	waitState(t, ctx, picturesLoaded(5), "the follower's picture loading")
	waitState(t, ctx, lastInView(".bubble.mine[data-seq]"), "the follower's own picture showing whole above the composer")
	testenv.Screenshot(t, ctx, "own-picture")

	c.agentSays(t, conv, "Got it, it will be ready in ten minutes.")
	testenv.WaitText(t, ctx, "#chat-messages", "ready in ten minutes")
	waitState(t, ctx, lastInView(".bubble.theirs"), "the answer after the picture showing whole")

	// Scrolled up on purpose: new messages wait below.
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo({ top: 0, behavior: "instant" })`))
	waitTrue(t, ctx, `scrollY === 0`, "the follower scrolling to the top")
	time.Sleep(200 * time.Millisecond)
	c.agentSays(t, conv, "Anything else?")
	testenv.WaitText(t, ctx, "#chat-messages", "Anything else?")
	time.Sleep(300 * time.Millisecond)
	if y := testenv.Run(t, ctx, chromedp.Evaluate[float64](`scrollY`)); y != 0 {
		t.Errorf("a new message scrolled the thread to %vpx while the follower read at the top", y)
	}
	// A button over the composer says so and takes them down to it.
	waitTrue(t, ctx, `(b => b && !b.hidden && b.getBoundingClientRect().height > 0)(document.querySelector("#chat-new-below"))`, "the New messages button showing")
	testenv.Screenshot(t, ctx, "new-below")
	testenv.Do(t, ctx, chromedp.Click(`#chat-new-below`))
	waitState(t, ctx, lastInView(".bubble.theirs"), "the new message in view after New messages")
	waitTrue(t, ctx, `document.querySelector("#chat-new-below").hidden`, "the New messages button going away")

	// Up again and back down by hand: the button goes away too.
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo({ top: 0, behavior: "instant" })`))
	waitTrue(t, ctx, `scrollY === 0`, "the follower scrolling to the top again")
	time.Sleep(200 * time.Millisecond)
	c.agentSays(t, conv, "We close at six.")
	waitTrue(t, ctx, `!document.querySelector("#chat-new-below").hidden`, "the New messages button showing again")
	// Back at the end, it follows new messages again.
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo({ top: document.scrollingElement.scrollHeight, behavior: "instant" })`))
	waitTrue(t, ctx, `document.querySelector("#chat-new-below").hidden`, "the New messages button going away at the end")
	time.Sleep(200 * time.Millisecond)
	c.agentPicture(t, conv, "receipt.png", 600, 1200)
	waitState(t, ctx, picturesLoaded(6), "the receipt loading")
	waitState(t, ctx, lastInView(".bubble.theirs"), "the agent's picture showing whole")
}

// contrastOf is the WCAG contrast ratio of an element's text colour on its
// bubble's background, both computed.
const contrastOf = `((el, bg) => {
	const rgb = (s) => s.match(/[\d.]+/g).slice(0, 3).map(Number);
	const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
	const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(getComputedStyle(bg).backgroundColor));
	return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
})`

// A file the server refuses leaves a bubble that says it was not sent and
// the server's specific reason (the field's message, not the generic
// "correct the highlighted fields"), readable, and that can be dismissed.
func TestBrowserFollowerChatRefusedUploadSaysWhy(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	c.followerSays(t, "Hi, here is my receipt.")
	notes := filepath.Join(t.TempDir(), "receipt.txt")
	if err := os.WriteFile(notes, []byte("Just some text, not a picture.\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx := testenv.Browser(t, testenv.BrowserName("follower"))
	c.openChat(t, ctx, 390, 844)
	testenv.Do(t, ctx, chromedp.SetUploadFiles(`#chat-file`, []string{notes}))
	got := testenv.WaitText(t, ctx, "#chat-messages .bubble.failed", "Send a picture (JPEG, PNG, GIF or WebP) or a PDF.")
	if !strings.Contains(got, "Not sent") || !strings.Contains(got, "receipt.txt") {
		t.Errorf("the failed bubble does not say which file was not sent: %q", got)
	}
	for _, unwanted := range []string{"highlighted", "Sending"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("the failed bubble says %q: %q", unwanted, got)
		}
	}
	type look struct {
		Opacity  string  `json:"opacity"`
		Reason   string  `json:"reason"`
		Contrast float64 `json:"contrast"`
		Minimum  float64 `json:"minimum"`
	}
	l := testenv.Run(t, ctx, chromedp.Evaluate[look](`(() => {
		const b = document.querySelector("#chat-messages .bubble.failed"), r = b.querySelector(".reason") || b;
		let op = 1;
		for (let e = r; e; e = e.parentElement) op *= Number(getComputedStyle(e).opacity);
		const texts = [...b.querySelectorAll("p, span, strong")].filter((e) => e.innerText.trim());
		return { opacity: String(op), reason: r.innerText, contrast: `+contrastOf+`(r, b), minimum: Math.min(...texts.map((e) => `+contrastOf+`(e, b))) };
	})()`))
	if l.Opacity != "1" {
		t.Errorf("the failed bubble's reason shows at opacity %s", l.Opacity)
	}
	if l.Contrast < 4.5 || l.Minimum < 4.5 {
		t.Errorf("the failed bubble's text contrast is %.2f (reason) and %.2f (least), want at least 4.5", l.Contrast, l.Minimum)
	}
	testenv.Screenshot(t, ctx, "refused")

	if !testenv.Run(t, ctx, chromedp.Evaluate[bool](`!!document.querySelector("#chat-messages .bubble.failed button.dismiss")`)) {
		t.Fatal("the failed bubble has no Dismiss button")
	}
	testenv.Do(t, ctx, chromedp.Click(`#chat-messages .bubble.failed .dismiss`))
	waitTrue(t, ctx, `!document.querySelector("#chat-messages .bubble.failed")`, "the failed bubble going away")
	testenv.WaitText(t, ctx, "#chat-messages", "Hi, here is my receipt.")
}

// Cards of coupons that enable themselves offer no button, and say when
// they enable; a card the follower acted on shows it after a reload.
func TestBrowserFollowerChatCouponCards(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Any offers today?")
	visit := c.coupon(t, "Visit reward", regulars.CouponSpec{RedemptionType: regulars.RedeemAutoVisit, PerFollower: 1})
	points := c.coupon(t, "Hundred club", regulars.CouponSpec{RedemptionType: regulars.RedeemAutoPoint, AutoThreshold: 100, PerFollower: 1})
	coffee := c.coupon(t, "Free coffee", regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1})
	for _, e := range []*regulars.Engagement{visit, points, coffee} {
		c.agentCard(t, conv, e)
	}

	ctx := testenv.Browser(t, testenv.BrowserName("follower"))
	c.openChat(t, ctx, 390, 844)
	card := func(e *regulars.Engagement) string { return fmt.Sprintf(`.chat-card[data-engagement="%d"]`, e.ID) }
	testenv.WaitText(t, ctx, card(visit), "Enables itself when you visit the shop.")
	testenv.WaitText(t, ctx, card(points), "Enables itself when you reach 100 total points.")
	for _, e := range []*regulars.Engagement{visit, points} {
		if n := testenv.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+card(e)+` button').length`)); n != 0 {
			t.Errorf("the card of %s, which enables itself, has %d buttons", e.Name, n)
		}
	}

	testenv.WaitText(t, ctx, card(coffee)+" [data-act]", "Enable the coupon")
	testenv.Do(t, ctx, chromedp.Click(card(coffee)+" [data-act]"))
	testenv.WaitText(t, ctx, card(coffee), "Enabled ✓")
	if acts, err := c.w.DB.ActivationsFor(context.Background(), coffee.ID, c.fan.Actor.Follower.ID); err != nil || len(acts) != 1 {
		t.Fatalf("activations after enabling from the chat: %v %v", acts, err)
	}

	// After a reload the card knows (the server marks it done).
	testenv.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(card(coffee)))
	testenv.WaitText(t, ctx, card(coffee), "Enabled ✓")
	if !testenv.Run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('`+card(coffee)+` [data-act]').disabled`)) {
		t.Error("the done card's button can be pressed again")
	}
	testenv.Screenshot(t, ctx, "cards")

	// The same coupon sent again while the chat is open arrives marked.
	c.agentCard(t, conv, coffee)
	waitTrue(t, ctx, `document.querySelectorAll('`+card(coffee)+`').length === 2`, "the second card arriving live")
	last := `[...document.querySelectorAll('` + card(coffee) + `')].at(-1)`
	if got := testenv.Run(t, ctx, chromedp.Evaluate[string](last+`.querySelector("[data-act]")?.textContent || ""`)); got != "Enabled ✓" {
		t.Errorf("the live card of a coupon the follower holds offers %q, want Enabled ✓", got)
	}
}

// The paperclip is a button the keyboard reaches (Tab from the link back)
// and presses (Enter, Space), with a name; it opens the file picker.
func TestBrowserFollowerChatAttachByKeyboard(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	c.followerSays(t, "Hello")
	ctx := testenv.Browser(t, testenv.BrowserName("follower"))
	c.openChat(t, ctx, 390, 844)
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		window.picks = 0;
		// Count the file picker's openings instead of opening it.
		document.getElementById("chat-file").addEventListener("click", (e) => { window.picks++; e.preventDefault(); });
		document.querySelector(".chat-screen .back").focus();
	})()`), chromedp.KeyEvent(kb.Tab))
	type focused struct {
		Tag  string `json:"tag"`
		Name string `json:"name"`
	}
	f := testenv.Run(t, ctx, chromedp.Evaluate[focused](`(() => {
		const e = document.activeElement;
		return { tag: e.tagName, name: (e.getAttribute("aria-label") || e.textContent || e.title || "").trim() };
	})()`))
	if f.Tag != "BUTTON" || f.Name != "Send a picture or a PDF" {
		t.Fatalf("Tab from the link back goes to %s %q, want the attach button", f.Tag, f.Name)
	}
	testenv.Do(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitTrue(t, ctx, `window.picks === 1`, "Enter on the attach button opening the file picker")
	testenv.Do(t, ctx, chromedp.KeyEvent(" "))
	waitTrue(t, ctx, `window.picks === 2`, "Space on the attach button opening the file picker")
	ring := testenv.Run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`))
	if ring == "none" {
		t.Error("the focused attach button shows no focus ring")
	}
}

// Web addresses in messages are links that open apart, without the
// sentence's punctuation, and text stays text (no markup runs).
func TestBrowserFollowerChatLinksAddresses(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "Where can I see the menu?")
	const says = `Here: https://example.com/menu?day=sun. The map (https://example.org/wiki/Caf%C3%A9_(Zagreb)) helps; <img src=x onerror="window.hacked=1"> http:// alone is not one.`
	c.agentSays(t, conv, says)

	ctx := testenv.Browser(t, testenv.BrowserName("follower"))
	c.openChat(t, ctx, 390, 844)
	testenv.WaitText(t, ctx, "#chat-messages", "alone is not one.")
	type link struct {
		Href   string `json:"href"`
		Text   string `json:"text"`
		Target string `json:"target"`
		Rel    string `json:"rel"`
	}
	type bubble struct {
		Text  string `json:"text"`
		Links []link `json:"links"`
		Imgs  int    `json:"imgs"`
	}
	b := testenv.Run(t, ctx, chromedp.Evaluate[bubble](`(() => {
		const p = [...document.querySelectorAll("#chat-messages .bubble.theirs p")].find((e) => e.textContent.includes("alone is not one"));
		return { text: p.textContent, imgs: p.querySelectorAll("img").length,
			links: [...p.querySelectorAll("a")].map((a) => ({ href: a.getAttribute("href"), text: a.textContent, target: a.target, rel: a.rel })) };
	})()`))
	if b.Text != says {
		t.Errorf("the message reads %q, want %q", b.Text, says)
	}
	if b.Imgs != 0 {
		t.Errorf("markup in the message became %d elements", b.Imgs)
	}
	want := []string{"https://example.com/menu?day=sun", "https://example.org/wiki/Caf%C3%A9_(Zagreb)"}
	if len(b.Links) != len(want) {
		t.Fatalf("links %+v, want %v", b.Links, want)
	}
	for i, l := range b.Links {
		if l.Href != want[i] || l.Text != want[i] || l.Target != "_blank" || !strings.Contains(" "+l.Rel+" ", " noopener ") || !strings.Contains(l.Rel, "noreferrer") {
			t.Errorf("link %d is %+v, want %s opening apart with noopener noreferrer", i, l, want[i])
		}
	}
}

// The app names its icon, so the browser does not ask for /favicon.ico
// (which is not there).
func TestFollowerAppDeclaresItsIcon(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	srv := testenv.NewServer(t, db)
	r := srv.Client(t).Get("/app/")
	wantStatus(t, r, http.StatusOK)
	i := strings.Index(r.Body, `rel="icon"`)
	if i < 0 {
		t.Fatalf("the app page declares no icon:\n%s", r.Body)
	}
	tag := r.Body[strings.LastIndex(r.Body[:i], "<"):]
	tag = tag[:strings.Index(tag, ">")]
	if !strings.Contains(tag, `href="data:image/svg+xml,`) {
		t.Errorf("the icon is not inline: %s", tag)
	}
	if strings.Contains(r.Body, "favicon.ico") {
		t.Error("the app page refers to favicon.ico")
	}
}

// The Chats tab's badge counts the unread messages of the other
// conversations while one is open: opening one does not clear them all.
func TestBrowserFollowerChatBadgeCountsTheOthers(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	ctx := context.Background()
	if _, err := c.srv.App.Follow(ctx, c.fan.Actor, c.w.OtherChannel.ID); err != nil {
		t.Fatal(err)
	}
	mine := c.followerSays(t, "Hello A")
	other, _, err := c.srv.App.FollowerSend(ctx, c.fan.Actor, c.w.OtherChannel.ID, app.FollowerMessage{Text: "Hello B"})
	if err != nil {
		t.Fatal(err)
	}
	c.agentSays(t, mine, "Hi from A")
	res, err := c.srv.App.SignIn(ctx, c.w.OtherOwner.Email, testenv.Password, "127.0.0.9", "chat ux test")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Hi from B", "Still there?"} {
		if _, err := c.srv.App.SendAgentMessage(ctx, res.Actor, other.ID, app.AgentMessage{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	b := testenv.Browser(t)
	testenv.Do(t, b, chromedp.EmulateViewport(390, 844), chromedp.Navigate(c.srv.URL+"/app/"),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`localStorage.setItem("regulars.token", %q)`, c.fan.Token)),
		chromedp.Navigate(c.srv.URL+"/app/"))
	waitTrue(t, b, `document.getElementById("chat-unread")?.textContent === "3"`, "the Chats badge counting all three unread messages")
	// Channel A's chat: its message is read, B's two remain. The read
	// mark never reaches the server here (its frames are dropped), as when
	// the count is fetched again before the server has it.
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`(() => {
	  const send = WebSocket.prototype.send;
	  WebSocket.prototype.send = function (data) {
	    if (typeof data === "string" && data.includes('"type":"read"')) return;
	    return send.call(this, data);
	  };
	})()`))
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = "#/chat/%d"`, c.w.Channel.ID)), chromedp.WaitVisible(`#chat-text`))
	waitTrue(t, b, `(() => { const e = document.getElementById("chat-unread"); return !e.hidden && e.textContent === "2"; })()`,
		"the Chats badge counting channel B's two unread messages")
	testenv.Do(t, b, chromedp.Sleep(500e6))
	if got := testenv.Run(t, b, chromedp.Evaluate[string](`document.getElementById("chat-unread").textContent`)); got != "2" {
		t.Fatalf("the Chats badge says %q, want 2", got)
	}
}

// A long conversation opens at its newest messages; Earlier messages
// brings the older ones above, a page at a time, without moving what the
// follower was reading, until there are none left.
func TestBrowserFollowerChatLoadsEarlierMessages(t *testing.T) {
	t.Parallel()
	c := newChatUX(t)
	conv := c.followerSays(t, "message 1")
	for i := 2; i <= 130; i++ {
		if _, _, err := c.srv.App.FollowerSendTo(context.Background(), c.fan.Actor, conv, app.FollowerMessage{Text: fmt.Sprintf("message %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testenv.Browser(t, testenv.BrowserName("follower"))
	c.openChat(t, ctx, 390, 844)
	seqs := `[...document.querySelectorAll("#chat-messages [data-seq]")].map((li) => Number(li.dataset.seq))`
	waitTrue(t, ctx, seqs+`.length === 100`, "the newest 100 messages")
	if got := testenv.Run(t, ctx, chromedp.Evaluate[[]int](seqs)); got[0] != 31 || got[99] != 130 {
		t.Fatalf("opened at messages %d–%d, want 31–130", got[0], got[99])
	}
	waitState(t, ctx, lastInView(".bubble.mine[data-seq]"), "the newest message in view")
	testenv.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo({ top: 0, behavior: "instant" })`))
	top := `document.querySelector('#chat-messages [data-seq="31"]').getBoundingClientRect().top`
	before := testenv.Run(t, ctx, chromedp.Evaluate[float64](top))
	testenv.Do(t, ctx, chromedp.Click(`#chat-earlier`))
	waitTrue(t, ctx, seqs+`.length === 130`, "the earlier messages")
	got := testenv.Run(t, ctx, chromedp.Evaluate[[]int](seqs))
	for i, s := range got {
		if s != i+1 {
			t.Fatalf("message %d at place %d after loading the earlier ones", s, i+1)
		}
	}
	if after := testenv.Run(t, ctx, chromedp.Evaluate[float64](top)); after < before-2 || after > before+2 {
		t.Errorf("the message read at %vpx moved to %vpx when the earlier ones came", before, after)
	}
	waitTrue(t, ctx, `document.querySelector("#chat-earlier").hidden`, "Earlier messages going away with none left")
}
