package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// agentChat is a partner with two agents, Ann and Bob, and a follower, Mia,
// whose conversation is long enough to scroll.
type agentChat struct {
	db       *store.DB
	w        *testenv.World
	srv      *testenv.Server
	ann, bob *regulars.User
	mia      *app.FollowerActor
	conv     *regulars.Conversation
}

func newAgentChat(t *testing.T, history int) *agentChat {
	t.Helper()
	return newAgentChatOn(t, testenv.OpenSQLite(t), history)
}

func newAgentChatOn(t *testing.T, db *store.DB, history int) *agentChat {
	t.Helper()
	w := testenv.NewWorld(t, db)
	x := &agentChat{db: db, w: w, srv: testenv.NewServer(t, db)}
	ctx := context.Background()
	agent := func(email, name string) *regulars.User {
		u := w.AddUser(t, w.Partner.ID, email, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate, regulars.FeatureCanned: regulars.LevelView})
		u.Name = name
		if err := db.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	x.ann, x.bob = agent("ann@alpha.example", "Ann Agent"), agent("bob@alpha.example", "Bob Builder")
	x.mia = x.follower(t, "MIA001", "Mia")
	x.conv = x.followerSays(t, x.mia, "Hello!")
	for i := 1; i <= history; i++ {
		x.followerSays(t, x.mia, fmt.Sprintf("Line %d of a long conversation.", i))
	}
	return x
}

func (x *agentChat) follower(t *testing.T, id, name string) *app.FollowerActor {
	t.Helper()
	f := x.w.AddFollower(t, id, []*regulars.Channel{x.w.Channel}, func(f *regulars.Follower) { f.Name = name })
	return &app.FollowerActor{Follower: f, Tenant: x.w.Tenant}
}

func (x *agentChat) followerSays(t *testing.T, fa *app.FollowerActor, text string) *regulars.Conversation {
	t.Helper()
	c, _, err := x.srv.App.FollowerSend(context.Background(), fa, x.w.Channel.ID, app.FollowerMessage{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (x *agentChat) actor(t *testing.T, u *regulars.User) *app.Actor {
	t.Helper()
	res, err := x.srv.App.SignIn(context.Background(), u.Email, testenv.Password, "127.0.0.7", "test")
	if err != nil {
		t.Fatal(err)
	}
	return res.Actor
}

// agentSays sends as u, taking the conversation over if need be.
func (x *agentChat) agentSays(t *testing.T, u *regulars.User, convID int64, text string) {
	t.Helper()
	ctx := context.Background()
	c, err := x.db.Conversation(ctx, x.w.Partner.ID, convID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.srv.App.SendAgentMessage(ctx, x.actor(t, u), convID, app.AgentMessage{Text: text, OvertakeFrom: c.OwnerID}); err != nil {
		t.Fatal(err)
	}
}

// open signs u in at the given viewport and opens the conversation.
func (x *agentChat) open(t *testing.T, u *regulars.User, width, height int64, path string) context.Context {
	t.Helper()
	b := testenv.Browser(t, testenv.BrowserName(strings.ToLower(strings.Fields(u.Name)[0])), testenv.BrowserTimeout(90e9))
	testenv.Do(t, b, chromedp.EmulateViewport(width, height))
	signInBrowser(t, b, x.srv.URL, u.Email)
	testenv.Do(t, b, chromedp.Navigate(x.srv.URL+path))
	chatReady(t, b)
	// Events published before the connection is up do not reach the page
	// (typing above all, which nobody catches up on).
	waitTrue(t, b, `document.getElementById("chat")?.dataset.live === "1"`, "the chat page's connection")
	return b
}

func (x *agentChat) thread() string { return fmt.Sprintf("/admin/chat/%d", x.conv.ID) }

// agentNewestPictureInView: the thread's last picture has loaded, shows whole
// inside the thread, and the thread is at its bottom.
const agentNewestPictureInView = `(() => {
  const m = document.getElementById("messages");
  const imgs = m.querySelectorAll("img");
  const img = imgs[imgs.length - 1];
  if (!img || !img.complete || !img.naturalHeight) return false;
  const a = img.getBoundingClientRect(), b = m.getBoundingClientRect();
  return a.height > 50 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1 && m.scrollHeight - m.scrollTop - m.clientHeight < 2;
})()`

// agentThreadAtBottom: the thread shows its newest message.
const agentThreadAtBottom = `(() => { const m = document.getElementById("messages"); return m.scrollHeight - m.scrollTop - m.clientHeight < 2; })()`

// Pictures, sent or received, scroll into view once they have loaded, and
// the thread stays pinned to the bottom for the messages after them, on a
// desktop and on a phone; a thread opened with pictures ends at its newest
// message.
func TestChatUXPicturesScrollIntoView(t *testing.T) {
	t.Parallel()
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 800}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			t.Parallel()
			x := newAgentChat(t, 25)
			x.agentSays(t, x.ann, x.conv.ID, "Hi Mia!")
			file := filepath.Join(t.TempDir(), "latte.png")
			if err := os.WriteFile(file, picture(t, 600, 450, color.RGBA{200, 120, 40, 255}), 0o644); err != nil {
				t.Fatal(err)
			}
			b := x.open(t, x.ann, size.w, size.h, x.thread())
			waitTrue(t, b, agentThreadAtBottom, "the thread opening at its newest message")

			// Ann sends a picture with the File button's input.
			testenv.Do(t, b, chromedp.SetUploadFiles(`#attach-file`, []string{file}))
			waitTrue(t, b, agentNewestPictureInView, "the sent picture in view after it loaded")

			// Mia sends one.
			if _, _, err := x.srv.App.FollowerSendAttachment(context.Background(), x.mia, x.w.Channel.ID,
				app.Upload{Name: "cup.png", Body: bytes.NewReader(picture(t, 500, 600, color.RGBA{40, 120, 200, 255}))}, ""); err != nil {
				t.Fatal(err)
			}
			waitTrue(t, b, `document.querySelectorAll("#messages img").length === 2`, "the received picture in the thread")
			waitTrue(t, b, agentNewestPictureInView, "the received picture in view after it loaded")

			// Her next words show too: the thread is still at the bottom.
			x.followerSays(t, x.mia, "Do you see them?")
			testenv.WaitText(t, b, "#messages", "Do you see them?")
			waitTrue(t, b, agentThreadAtBottom, "the text after the pictures in view")

			// Opened again: at the newest message once the pictures loaded.
			testenv.Do(t, b, chromedp.Reload())
			chatReady(t, b)
			waitTrue(t, b, `[...document.querySelectorAll("#messages img")].every(i => i.complete && i.naturalHeight > 0)`, "the pictures loading")
			waitTrue(t, b, agentThreadAtBottom, "the reopened thread at its newest message")

			// Scrolled up, others' messages do not move the thread; a
			// button offers them.
			testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`document.getElementById("messages").scrollTop = 0`))
			waitTrue(t, b, `document.getElementById("messages").scrollTop === 0`, "scrolling up")
			x.followerSays(t, x.mia, "Hello again")
			testenv.WaitText(t, b, "#messages", "Hello again")
			waitTrue(t, b, `!document.getElementById("new-below").hidden && document.getElementById("messages").scrollTop === 0`, "the new-messages button, the thread left where it was")
			testenv.Do(t, b, chromedp.Click(`#new-below`))
			waitTrue(t, b, agentThreadAtBottom+` && document.getElementById("new-below").hidden`, "the button taking the thread to its bottom")
			testenv.Screenshot(t, b, "pictures-"+size.name)
		})
	}
}

// The list says "You:" for the reader's own last message only; another
// agent's is named by first name; on the first render (on both
// databases) and live.
func TestChatUXListNamesTheLastAuthor(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) { listNamesTheLastAuthor(t, newAgentChatOn(t, db, 0)) })
}

func listNamesTheLastAuthor(t *testing.T, x *agentChat) {
	ben := x.follower(t, "BEN001", "Ben")
	other := x.followerSays(t, ben, "Hi there")
	x.agentSays(t, x.ann, x.conv.ID, "Ann's answer")
	x.agentSays(t, x.bob, other.ID, "Bob's answer")
	b := x.open(t, x.ann, 1280, 800, "/admin/chat?tab=active")
	preview := func(id int64, want string) {
		t.Helper()
		sel := fmt.Sprintf(`.conv[data-id="%d"] .conv-preview`, id)
		waitTrue(t, b, fmt.Sprintf(`document.querySelector(%q)?.textContent === %q`, sel, want), fmt.Sprintf("the preview %q", want))
	}
	preview(x.conv.ID, "You: Ann's answer")
	preview(other.ID, "Bob: Bob's answer")

	// Live: Bob writes again (no system line, so no reload of the list).
	x.agentSays(t, x.bob, other.ID, "Bob again")
	preview(other.ID, "Bob: Bob again")
	x.agentSays(t, x.ann, x.conv.ID, "Ann again")
	preview(x.conv.ID, "You: Ann again")
	x.followerSays(t, ben, "Thanks Bob")
	preview(other.ID, "Thanks Bob")
}

// A reload of the list that live events overtake does not leave the list
// behind them: the list's fetch is held back until after a follower's
// message has updated its row, and the row still ends with that message.
func TestChatUXListReloadOvertakenByEvents(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ben := x.follower(t, "BEN001", "Ben")
	other := x.followerSays(t, ben, "Hi there")
	b := x.open(t, x.ann, 1280, 800, "/admin/chat?tab=unanswered")
	// The page's list fetches: counted when the server has answered, then
	// held for a second and a half.
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`(() => {
	  window.listAnswered = 0;
	  const fetch = window.fetch;
	  window.fetch = async (url, init) => {
	    const res = await fetch(url, init);
	    if (init?.headers?.["X-Fragment"] === "list") {
	      window.listAnswered++;
	      await new Promise((r) => setTimeout(r, 1500));
	    }
	    return res;
	  };
	})()`))
	sel := fmt.Sprintf(`.conv[data-id="%d"] .conv-preview`, other.ID)
	// Bob takes Mia's conversation: a system line, so the list reloads.
	x.agentSays(t, x.bob, x.conv.ID, "Bob here")
	waitTrue(t, b, `window.listAnswered === 1`, "the list's reload answered")
	// While that answer is held back, Ben writes: his row changes live.
	x.followerSays(t, ben, "Are you there?")
	waitTrue(t, b, fmt.Sprintf(`document.querySelector(%q)?.textContent === "Are you there?"`, sel), "Ben's row updated live")
	// The held answer lands; the row must end with Ben's message again.
	waitTrue(t, b, `window.listAnswered >= 2`, "the list fetched again after the overtaken reload")
	waitTrue(t, b, fmt.Sprintf(`(() => { const p = document.querySelector(%q)?.textContent; return p === "Are you there?" && window.listAnswered >= 2; })()`, sel),
		"Ben's row showing his message after the reloads")
	testenv.Do(t, b, chromedp.Sleep(1700e6))
	if got := testenv.Run(t, b, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.textContent`, sel))); got != "Are you there?" {
		t.Fatalf("after the reloads Ben's row says %q", got)
	}
}

// The File button is reached with Tab after Engagement, named, and opens
// the file chooser with Enter and with Space.
func TestChatUXFileButtonByKeyboard(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.open(t, x.ann, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`(() => {
	  window.chooserOpened = 0;
	  document.getElementById("attach-file").addEventListener("click", (e) => { e.preventDefault(); window.chooserOpened++; });
	})()`), chromedp.Focus(`#engagement-button`), chromedp.KeyEvent(kb.Tab))
	if id := testenv.Run(t, b, chromedp.Evaluate[string](`document.activeElement.id`)); id != "attach-button" {
		t.Fatalf("Tab after Engagement goes to %q, not the File button", id)
	}
	if name := testenv.Run(t, b, chromedp.Evaluate[string](`document.activeElement.getAttribute("aria-label") || document.activeElement.textContent`)); !strings.Contains(strings.ToLower(name), "file") {
		t.Errorf("the File button is named %q", name)
	}
	testenv.Do(t, b, chromedp.KeyEvent(kb.Enter))
	waitTrue(t, b, `window.chooserOpened === 1`, "Enter opening the file chooser")
	testenv.Do(t, b, chromedp.KeyEvent(" "))
	waitTrue(t, b, `window.chooserOpened === 2`, "Space opening the file chooser")
	testenv.Do(t, b, chromedp.KeyEvent(kb.Tab))
	if id := testenv.Run(t, b, chromedp.Evaluate[string](`document.activeElement.id`)); id != "send" {
		t.Errorf("Tab after File goes to %q, not Send", id)
	}
}

// "Mia is typing" goes when Mia's message arrives, not seconds later.
func TestChatUXTypingClearedByTheMessage(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.open(t, x.ann, 1280, 800, x.thread())
	if err := x.srv.App.FollowerTyping(context.Background(), x.mia, x.conv.ID); err != nil {
		t.Fatal(err)
	}
	testenv.WaitText(t, b, "#typing", "is typing")
	x.followerSays(t, x.mia, "Here it is")
	testenv.WaitText(t, b, "#messages", "Here it is")
	if got := testenv.Run(t, b, chromedp.Evaluate[string](`document.getElementById("typing").textContent`)); got != "" {
		t.Errorf("after the follower's message the typing line says %q", got)
	}
}

// The "/" menu and the Canned picker open inside the thread column, on a
// desktop (where the history panel is beside the thread) and on a phone.
func TestChatUXCannedPopupsInsideTheThread(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ctx := context.Background()
	cat := &regulars.CannedCategory{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, Name: "Welcome"}
	if err := x.db.CreateCannedCategory(ctx, cat); err != nil {
		t.Fatal(err)
	}
	if err := x.db.CreateCanned(ctx, &regulars.CannedResponse{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, CategoryID: cat.ID, Title: "Welcome back",
		Text: "Welcome back! It is lovely to hear from you again; how can we help you today, and is there anything else on your mind?"}); err != nil {
		t.Fatal(err)
	}
	inside := func(sel string) string {
		return fmt.Sprintf(`(() => {
		  const p = document.querySelector(%q), c = document.querySelector(".chat-thread");
		  if (!p || p.hidden || !p.offsetParent) return false;
		  const a = p.getBoundingClientRect(), b = c.getBoundingClientRect();
		  return a.width > 100 && a.left >= b.left && a.right <= b.right && a.top >= 0 && a.right <= innerWidth;
		})()`, sel)
	}
	for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
		b := x.open(t, x.ann, size[0], size[1], x.thread())
		testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "/wel"), chromedp.WaitVisible(`#canned-menu li`))
		waitTrue(t, b, inside("#canned-menu"), fmt.Sprintf("the / menu inside the thread column at %dpx", size[0]))
		testenv.Do(t, b, chromedp.KeyEvent(kb.Escape), chromedp.Click(`#canned-picker summary`), chromedp.WaitVisible(`#canned-picker .canned-item`))
		waitTrue(t, b, inside(".canned-list"), fmt.Sprintf("the Canned picker inside the thread column at %dpx", size[0]))
		testenv.Screenshot(t, b, fmt.Sprintf("canned-%d", size[0]))
	}
}

// After Finish the page comes back with its flash, and the composer is
// still on screen at 1280×800: the page does not grow past the window.
func TestChatUXComposerVisibleAfterFinish(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 20)
	x.agentSays(t, x.ann, x.conv.ID, "All sorted?")
	b := x.open(t, x.ann, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.Click(`#finish`))
	testenv.WaitText(t, b, ".flash", "The conversation is finished.")
	chatReady(t, b)
	waitTrue(t, b, `document.documentElement.scrollHeight <= innerHeight && ["send", "attach-button", "composer-text"].every(id => {
	  const r = document.getElementById(id).getBoundingClientRect();
	  return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight;
	})`, "Send, File and the text box on screen below the flash")
	testenv.Screenshot(t, b, "after-finish")
}

// Addresses in messages are links that open in a new tab, without the
// sentence's punctuation; markup in the text stays text. Live and when
// the thread is rendered by the server.
func TestChatUXAddressesAreLinks(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.open(t, x.ann, 1280, 800, x.thread())
	x.followerSays(t, x.mia, "See https://example.com/menu?day=sun. Or (https://example.com/wiki/Tea_(drink)), <img src=x onerror=alert(1)> ftp://no.example")
	check := func(when string) {
		t.Helper()
		testenv.WaitText(t, b, "#messages", "See https://example.com/menu?day=sun.")
		got := testenv.Run(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#messages .msg-text a")].map(a => a.getAttribute("href") + " " + a.textContent + " " + a.target + " " + a.rel)`))
		want := []string{
			"https://example.com/menu?day=sun https://example.com/menu?day=sun _blank noopener noreferrer",
			"https://example.com/wiki/Tea_(drink) https://example.com/wiki/Tea_(drink) _blank noopener noreferrer",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: the links are %q, want %q", when, got, want)
		}
		if n := testenv.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#messages img").length`)); n != 0 {
			t.Errorf("%s: markup in a message became %d elements", when, n)
		}
		testenv.WaitText(t, b, "#messages", "<img src=x onerror=alert(1)> ftp://no.example")
	}
	check("live")
	testenv.Do(t, b, chromedp.Reload())
	chatReady(t, b)
	check("server-rendered")
}

// The engagement history beside the thread shows what the follower did
// with a card without a reload.
func TestChatUXHistoryFollowsTheConversation(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ctx := context.Background()
	coupon := &regulars.Engagement{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, ChannelID: x.w.Channel.ID, Kind: regulars.KindCoupon, Status: regulars.EngagementActive,
		Name: "Free scone", Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
	if err := x.db.CreateEngagement(ctx, coupon); err != nil {
		t.Fatal(err)
	}
	card, err := x.srv.App.SendAgentMessage(ctx, x.actor(t, x.ann), x.conv.ID, app.AgentMessage{EngagementID: coupon.ID})
	if err != nil {
		t.Fatal(err)
	}
	b := x.open(t, x.ann, 1440, 900, x.thread()) // the history beside the thread
	waitTrue(t, b, historyShown, "the history beside the thread")
	before := testenv.Text(t, b, "#activity")
	if _, err := x.srv.App.ActOnCard(ctx, x.mia, x.conv.ID, card.Seq); err != nil {
		t.Fatal(err)
	}
	testenv.WaitText(t, b, "#messages", "Mia enabled the coupon Free scone")
	waitTrue(t, b, fmt.Sprintf(`document.getElementById("activity").innerText !== %q && document.getElementById("activity").innerText.includes("Free scone")`, before),
		"the history showing the enabled coupon")
}

// At 1280px the tabs fit on one row, each row's owner or status shows
// whole, and "Choose a conversation" sits in the middle of the pane; while
// searching, the list says the tab counts are totals.
func TestChatUXListFitsAndSaysWhatCountsMean(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	x.followerSays(t, x.follower(t, "LUC001", "Lucia Fischer"), "And decaf?")
	b := x.open(t, x.ann, 1280, 800, "/admin/chat")
	waitTrue(t, b, `(() => {
	  const tabs = [...document.querySelectorAll(".chat-tabs .tab")], nav = document.querySelector(".chat-tabs");
	  return tabs.length === 4 && new Set(tabs.map(t => Math.round(t.getBoundingClientRect().top))).size === 1 && nav.scrollWidth <= nav.clientWidth;
	})()`, "the four tabs on one row, none cut off")
	waitTrue(t, b, `[...document.querySelectorAll(".conv-owner")].every(s => s.scrollWidth <= s.clientWidth && s.textContent === "unanswered")`, "the status of every row whole")
	waitTrue(t, b, `(() => {
	  const e = document.getElementById("thread-empty").getBoundingClientRect(), p = document.querySelector(".chat-thread").getBoundingClientRect();
	  return Math.abs((e.top + e.bottom) / 2 - (p.top + p.bottom) / 2) < 20;
	})()`, "the empty state in the middle of the pane")
	testenv.Screenshot(t, b, "list")

	testenv.Do(t, b, chromedp.Navigate(x.srv.URL+"/admin/chat?q=luc"))
	chatReady(t, b)
	testenv.WaitText(t, b, "#search-note", "1 match for “luc”. Tab counts are totals.")
	testenv.WaitText(t, b, "#tab-unanswered .count", "2")
}

// A refused upload says it was not sent and why, and can be dismissed.
func TestChatUXRefusedUploadSaysWhy(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	x.agentSays(t, x.ann, x.conv.ID, "Hi Mia!")
	b := x.open(t, x.ann, 1280, 800, x.thread())
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Do(t, b, chromedp.SetUploadFiles(`#attach-file`, []string{file}))
	testenv.WaitText(t, b, ".msg-failed", "Not sent.")
	got := testenv.Run(t, b, chromedp.Evaluate[string](`document.querySelector(".msg-failed").innerText`))
	if !strings.Contains(got, "notes.txt") || !strings.Contains(got, "Send a picture (JPEG, PNG, GIF or WebP) or a PDF.") || strings.Contains(got, "Sending") {
		t.Fatalf("the failed bubble says %q", got)
	}
	testenv.Do(t, b, chromedp.Click(`.msg-failed .msg-dismiss`))
	waitTrue(t, b, `document.querySelector(".msg-failed") === null && document.activeElement.id === "composer-text"`, "the failed bubble dismissed")
}
