package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"regulars"
	"regulars/app"
	"regulars/config"
	"regulars/internal/testenv"
)

// Browser tests of the agents' chat after its QA round: earlier messages,
// the connection's state, the list beside an open thread, drafts, the
// canned popups, empty states, flashes, the engagement picker, files, the
// header and the columns. Helpers (agentChat) are in chat_ux_browser_test.go.

// openWith is open with a script that runs in every page before its own.
func (x *agentChat) openWith(t *testing.T, u *regulars.User, width, height int64, path, script string) context.Context {
	t.Helper()
	b := testenv.Browser(t, testenv.BrowserName(strings.ToLower(strings.Fields(u.Name)[0])), testenv.BrowserTimeout(90e9))
	testenv.Do(t, b, chromedp.EmulateViewport(width, height))
	if _, err := chromedp.Call(b, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, b, x.srv.URL, u.Email)
	testenv.Do(t, b, chromedp.Navigate(x.srv.URL+path))
	chatReady(t, b)
	waitTrue(t, b, `document.getElementById("chat")?.dataset.live === "1"`, "the chat page's connection")
	return b
}

// agent adds a staff user of the partner with a name and chat level.
func (x *agentChat) agent(t *testing.T, email, name string, level regulars.Level) *regulars.User {
	t.Helper()
	u := x.w.AddUser(t, x.w.Partner.ID, email, regulars.Permissions{regulars.FeatureChat: level, regulars.FeatureCanned: regulars.LevelView})
	u.Name = name
	if err := x.db.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// cannedResponses adds a category of canned responses, title → text.
func (x *agentChat) cannedResponses(t *testing.T, category string, titles []string, text func(i int) string) {
	t.Helper()
	ctx := context.Background()
	cat := &regulars.CannedCategory{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, Name: category}
	if err := x.db.CreateCannedCategory(ctx, cat); err != nil {
		t.Fatal(err)
	}
	for i, title := range titles {
		if err := x.db.CreateCanned(ctx, &regulars.CannedResponse{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, CategoryID: cat.ID, Title: title, Text: text(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func (x *agentChat) row(id int64) string { return fmt.Sprintf(`.conv[data-id="%d"]`, id) }

// clickRow opens a conversation from the list. By script: the list may be
// reloaded between finding the row and a mouse click on it.
func (x *agentChat) clickRow(t *testing.T, b context.Context, id int64) {
	t.Helper()
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, x.row(id)+" a")))
	opened(t, b, id, "")
}

// opened waits for the page of conversation id to be live (the page before
// it is live too, so chatReady alone could see that one).
func opened(t *testing.T, b context.Context, id int64, search string) {
	t.Helper()
	waitTrue(t, b, fmt.Sprintf(`location.pathname === "/admin/chat/%d" && location.search === %q && document.getElementById("chat")?.dataset.ready === "1"`, id, search),
		fmt.Sprintf("conversation %d%s open", id, search))
}

// seqsInOrder: the thread's messages are numbered from..to, each once, in order.
func seqsInOrder(from, to int) string {
	return fmt.Sprintf(`(() => {
	  const s = [...document.querySelectorAll("#messages [data-seq]")].map(li => Number(li.dataset.seq));
	  return s.length === %[2]d - %[1]d + 1 && s.every((n, i) => n === %[1]d + i);
	})()`, from, to)
}

// A thread of more than 200 messages shows the newest 200; "Earlier
// messages" puts the ones before them above, in place, where the agent was
// reading, and live messages still come at the end without a gap. A page
// of earlier messages opened by its address (as without the script) says
// how to get back to the latest and adds no live message under itself.
func TestAgentChatEarlierMessagesLoadAbove(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 230) // 231 messages
	b := x.open(t, x.ann, 1280, 800, x.thread())
	waitTrue(t, b, seqsInOrder(32, 231)+` && !!document.getElementById("earlier")`, "the newest 200 messages and Earlier messages")

	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`document.getElementById("messages").scrollTop = 0`))
	waitTrue(t, b, `document.getElementById("messages").scrollTop === 0`, "scrolling to the top")
	before := testenv.Run(t, b, chromedp.Evaluate[float64](`document.querySelector('[data-seq="32"]').getBoundingClientRect().top`))
	testenv.Do(t, b, chromedp.Click(`#earlier`))
	waitTrue(t, b, seqsInOrder(1, 231)+` && !document.getElementById("earlier")`, "messages 1 to 31 above the others")
	after := testenv.Run(t, b, chromedp.Evaluate[float64](`document.querySelector('[data-seq="32"]').getBoundingClientRect().top`))
	if d := after - before; d < -2 || d > 2 {
		t.Errorf("the message the agent was reading moved by %.0fpx", d)
	}
	if got := testenv.Run(t, b, chromedp.Evaluate[string](`location.pathname + location.search`)); got != x.thread() {
		t.Errorf("the page went to %s", got)
	}
	if got := testenv.Run(t, b, chromedp.Evaluate[string](`document.activeElement.dataset.seq || document.activeElement.tagName`)); got != "1" {
		t.Errorf("after loading the earliest messages the focus is on %s, not the first message", got)
	}
	x.followerSays(t, x.mia, "After all that")
	testenv.WaitText(t, b, "#messages", "After all that")
	waitTrue(t, b, seqsInOrder(1, 232), "the live message after the others, without a gap")

	// The page of messages before 25, as the link opens it without the
	// script: a way back, and no live message under it.
	r := x.srv.SignedIn(t, x.ann.Email).Get(x.thread() + "?before=25")
	wantStatus(t, r, http.StatusOK)
	wantText(t, r, "Back to the latest messages")
	testenv.Do(t, b, chromedp.Navigate(x.srv.URL+x.thread()+"?before=25"))
	opened(t, b, x.conv.ID, "?before=25")
	waitTrue(t, b, seqsInOrder(1, 24)+` && document.getElementById("chat").dataset.live === "1"`, "messages 1 to 24")
	testenv.WaitText(t, b, "#latest", "Back to the latest messages")
	x.followerSays(t, x.mia, "Still there?")
	testenv.WaitText(t, b, "#latest", "New messages")
	if n := testenv.Run(t, b, chromedp.Evaluate[int](`document.querySelectorAll('#messages [data-seq]').length`)); n != 24 {
		t.Errorf("the page of earlier messages has %d messages after a live one, want 24", n)
	}
	testenv.Do(t, b, chromedp.Click(`#latest`))
	opened(t, b, x.conv.ID, "")
	testenv.WaitText(t, b, "#messages", "Still there?")
	waitTrue(t, b, agentThreadAtBottom, "the latest messages")
}

// When the connection drops the agent is told where they look, above the
// composer, on a phone (where the list is hidden) and on a desktop; a
// message sent meanwhile says it waits for the connection, and goes when
// it is back.
func TestAgentChatConnectionStateWhereTheAgentLooks(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int64{{390, 844}, {1280, 800}} {
		t.Run(fmt.Sprint(size[0]), func(t *testing.T) {
			t.Parallel()
			x := newAgentChat(t, 0)
			b := x.openWith(t, x.ann, size[0], size[1], x.thread(), socketHooks)
			testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`dropSockets()`))
			testenv.WaitText(t, b, "#live-state", "Reconnecting")
			waitTrue(t, b, `(() => {
			  const s = document.getElementById("live-state").getBoundingClientRect(), c = document.getElementById("composer").getBoundingClientRect();
			  const t = document.querySelector(".chat-thread").getBoundingClientRect();
			  return s.height > 0 && s.top >= 0 && s.bottom <= innerHeight && s.left >= t.left && s.right <= t.right && Math.abs(s.bottom - c.top) < 2;
			})()`, "the connection's state on screen, right above the composer")
			testenv.Screenshot(t, b, fmt.Sprintf("reconnecting-%d", size[0]))

			testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "Are you still there?"+kb.Enter))
			testenv.WaitText(t, b, ".msg-pending .msg-meta", "Waiting for the connection")
			testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`allowSockets()`))
			waitTrue(t, b, `document.getElementById("live-state").textContent === "" && !document.querySelector(".msg-pending")`, "the connection back and the message sent")
			testenv.WaitText(t, b, "#messages", "Are you still there?")
		})
	}
}

// Answering an unanswered conversation takes it, but its row stays in the
// Unanswered list beside the open thread, saying where it went, until the
// agent opens another conversation.
func TestAgentChatTakenConversationStaysInTheList(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ben := x.follower(t, "BEN001", "Ben")
	other := x.followerSays(t, ben, "Hi there")
	b := x.open(t, x.ann, 1280, 800, x.thread())
	row := x.row(x.conv.ID)
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "I'm on it."+kb.Enter))
	testenv.WaitText(t, b, "#conv-owner", "Ann Agent")
	testenv.WaitText(t, b, "#tab-unanswered .count", "1") // the list was reloaded
	testenv.WaitText(t, b, row+" .conv-moved", "Now in Mine")
	waitTrue(t, b, fmt.Sprintf(`document.querySelector(%q).getAttribute("aria-current") === "page" && document.querySelector(".tab[aria-current]").dataset.tab === "unanswered"`, row+" a"),
		"the open conversation's row, marked current, on the Unanswered tab")
	testenv.Screenshot(t, b, "taken-stays")

	x.clickRow(t, b, other.ID)
	waitTrue(t, b, fmt.Sprintf(`!document.querySelector(%q) && !!document.querySelector(%q)`, row, x.row(other.ID)), "Mia's row gone once the agent left it")
}

// A half-typed reply survives a visit to another conversation; a sent one
// is gone from the drafts.
func TestAgentChatKeepsDraftsPerConversation(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	ben := x.follower(t, "BEN001", "Ben")
	other := x.followerSays(t, ben, "Hi there")
	b := x.open(t, x.ann, 1280, 800, x.thread())
	value := func() string {
		return testenv.Run(t, b, chromedp.Evaluate[string](`document.getElementById("composer-text").value`))
	}
	go2 := func(id int64) { x.clickRow(t, b, id) }
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "Half a thought"))
	go2(other.ID)
	if v := value(); v != "" {
		t.Fatalf("Ben's composer says %q", v)
	}
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "For Ben"))
	go2(x.conv.ID)
	if v := value(); v != "Half a thought" {
		t.Fatalf("back in Mia's conversation the composer says %q", v)
	}
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, ", finished."+kb.Enter))
	testenv.WaitText(t, b, "#messages", "Half a thought, finished.")
	go2(other.ID)
	if v := value(); v != "For Ben" {
		t.Errorf("Ben's draft is %q", v)
	}
	// Mia's row is in Mine now.
	testenv.Do(t, b, chromedp.Navigate(x.srv.URL+x.thread()))
	opened(t, b, x.conv.ID, "")
	if v := value(); v != "" {
		t.Errorf("after sending, Mia's composer says %q", v)
	}
}

// The Canned picker closes on Escape (the focus back on its button) and on
// a click elsewhere, and shows each response whole.
func TestAgentChatCannedPickerClosesAndShowsWholeTexts(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	long := "Thank you for writing! Our terrace is open from May to September, every day from ten in the morning until the sun goes down. Dogs are welcome; please ask for a water bowl."
	x.cannedResponses(t, "Welcome", []string{"Terrace"}, func(int) string { return long })
	b := x.open(t, x.ann, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.Click(`#canned-picker summary`), chromedp.WaitVisible(`#canned-picker .canned-item`))
	waitTrue(t, b, fmt.Sprintf(`(() => {
	  const s = document.querySelector(".canned-item span");
	  return s.innerText === %q && s.scrollHeight <= s.clientHeight + 1 && s.scrollWidth <= s.clientWidth + 1 && s.getBoundingClientRect().height > 30;
	})()`, long), "the response shown whole, on several lines")
	testenv.Do(t, b, chromedp.KeyEvent(kb.Escape))
	waitTrue(t, b, `!document.getElementById("canned-picker").open && document.activeElement === document.querySelector("#canned-picker summary")`, "Escape closing the picker")
	testenv.Do(t, b, chromedp.Click(`#canned-picker summary`), chromedp.WaitVisible(`#canned-picker .canned-item`), chromedp.Click(`.thread-who h1`))
	waitTrue(t, b, `!document.getElementById("canned-picker").open`, "a click elsewhere closing the picker")
}

// The "/" menu is the text box's listbox (combobox semantics), and the
// option chosen with the arrows is always in view.
func TestAgentChatSlashMenuIsAComboboxWithTheChoiceInView(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	titles := []string{"Tip one", "Tip two", "Tip three", "Tip four", "Tip five", "Tip six", "Tip seven", "Tip eight"}
	x.cannedResponses(t, "Tips", titles, func(i int) string {
		return fmt.Sprintf("Tip number %d: a long answer that goes on for a while, so that the menu has to scroll to show every one of them.", i+1)
	})
	b := x.open(t, x.ann, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "/tip"), chromedp.WaitVisible(`#canned-menu li`))
	state := func() string {
		return testenv.Run(t, b, chromedp.Evaluate[string](`(() => {
		  const t = document.getElementById("composer-text"), m = document.getElementById("canned-menu");
		  const opts = [...m.children];
		  return [t.getAttribute("role"), t.getAttribute("aria-expanded"), t.getAttribute("aria-controls"), m.getAttribute("role"),
		    opts.every(o => o.getAttribute("role") === "option" && o.id) ? "options" : "not options",
		    String(opts.findIndex(o => o.id === t.getAttribute("aria-activedescendant") && o.getAttribute("aria-selected") === "true"))].join(" ");
		})()`))
	}
	if got := state(); got != "combobox true canned-menu listbox options 0" {
		t.Fatalf("with the menu open: %s", got)
	}
	for range 7 {
		testenv.Do(t, b, chromedp.KeyEvent(kb.ArrowDown))
	}
	if got := state(); got != "combobox true canned-menu listbox options 7" {
		t.Fatalf("after seven arrows down: %s", got)
	}
	waitTrue(t, b, `(() => {
	  const m = document.getElementById("canned-menu"), o = m.querySelector('[aria-selected="true"]');
	  const a = o.getBoundingClientRect(), r = m.getBoundingClientRect();
	  return m.scrollHeight > m.clientHeight && a.top >= r.top - 1 && a.bottom <= r.bottom + 1;
	})()`, "the chosen option in view in the scrolling menu")
	testenv.Screenshot(t, b, "slash-menu")
	testenv.Do(t, b, chromedp.KeyEvent(kb.Escape))
	if got := testenv.Run(t, b, chromedp.Evaluate[string](`(t => t.getAttribute("aria-expanded") + " " + t.hasAttribute("aria-activedescendant"))(document.getElementById("composer-text"))`)); got != "false false" {
		t.Errorf("with the menu closed: aria-expanded, aria-activedescendant = %s", got)
	}
}

// Empty states sit at the top of the list, and a view-only user is not
// told to answer conversations.
func TestAgentChatEmptyStatesAtTheTopAndFitTheRole(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	vera := x.agent(t, "vera@alpha.example", "Vera Viewer", regulars.LevelView)
	b := x.open(t, x.ann, 1280, 800, "/admin/chat")
	atTop := `(() => {
	  const e = document.getElementById("list-empty"), tabs = document.querySelector(".chat-tabs");
	  return !e.hidden && e.getBoundingClientRect().top - tabs.getBoundingClientRect().bottom < 48;
	})()`
	for _, page := range []struct{ path, says string }{
		{"/admin/chat?q=zzz", "No conversation matches “zzz”"},
		{"/admin/chat?tab=mine", "You own no conversation"},
		{"/admin/chat?tab=finished", "Nothing finished yet"},
	} {
		testenv.Do(t, b, chromedp.Navigate(x.srv.URL+page.path))
		chatReady(t, b)
		testenv.WaitText(t, b, "#list-empty", page.says)
		waitTrue(t, b, atTop, page.says+" at the top of the list")
	}
	x.agentSays(t, x.ann, x.conv.ID, "Answered")
	testenv.Do(t, b, chromedp.Navigate(x.srv.URL+"/admin/chat"))
	chatReady(t, b)
	testenv.WaitText(t, b, "#list-empty", "All answered")
	waitTrue(t, b, atTop, "All answered at the top of the list")

	v := x.open(t, vera, 1280, 800, "/admin/chat?tab=mine")
	got := testenv.WaitText(t, v, "#list-empty", "You own no conversation")
	if strings.Contains(got, "Answer an unanswered") || !strings.Contains(got, "Your role lets you read conversations, not answer them.") {
		t.Errorf("a view-only user's Mine tab says %q", got)
	}
	if got := testenv.Text(t, v, "#thread-empty"); strings.Contains(got, "Answering") {
		t.Errorf("a view-only user is told %q", got)
	}
}

// After Finish, the flash that says so goes when the follower writes again
// and the conversation is unanswered again, live.
func TestAgentChatFinishedFlashGoesWhenTheStatusChanges(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	x.agentSays(t, x.ann, x.conv.ID, "All sorted?")
	b := x.open(t, x.ann, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.Click(`#finish`))
	testenv.WaitText(t, b, ".flash", "The conversation is finished.")
	chatReady(t, b)
	waitTrue(t, b, `document.getElementById("chat").dataset.live === "1"`, "the page live again")
	x.followerSays(t, x.mia, "One more thing!")
	testenv.WaitText(t, b, "#conv-status", "Unanswered")
	waitTrue(t, b, `!document.querySelector(".flash")`, "the finished flash gone")
}

// The engagement picker has a labelled close button at its top, on a
// phone too, reached by keyboard; its filters and the history's keep the
// focus on the filter pressed.
func TestAgentChatPickerCloseAndFiltersKeepFocus(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	coupon := &regulars.Engagement{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, ChannelID: x.w.Channel.ID, Kind: regulars.KindCoupon, Status: regulars.EngagementActive,
		Name: "Free scone", Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
	if err := x.db.CreateEngagement(context.Background(), coupon); err != nil {
		t.Fatal(err)
	}
	b := x.open(t, x.ann, 390, 844, x.thread())
	testenv.Do(t, b, chromedp.Click(`#engagement-button`), chromedp.WaitVisible(`dialog.picker-dialog .picker-close`))
	waitTrue(t, b, `(() => {
	  const c = document.querySelector("dialog.picker-dialog .picker-close"), d = document.querySelector("dialog.picker-dialog").getBoundingClientRect();
	  const r = c.getBoundingClientRect();
	  return c.getAttribute("aria-label") === "Close" && r.width >= 24 && r.top >= 0 && r.top - d.top < 48 && r.right <= d.right && r.right <= innerWidth;
	})()`, "a labelled close button at the top of the picker")
	testenv.Screenshot(t, b, "picker-phone")

	// Filters: the focus stays on the chip pressed.
	testenv.Do(t, b, chromedp.Focus(`dialog.picker-dialog .chip[data-kind="coupon"]`), chromedp.KeyEvent(kb.Enter))
	waitTrue(t, b, `(() => {
	  const a = document.activeElement;
	  return a.matches('dialog.picker-dialog .chip[data-kind="coupon"][aria-current="true"]');
	})()`, "the focus on the coupon filter after it applied")
	testenv.Do(t, b, chromedp.Focus(`dialog.picker-dialog .picker-close`), chromedp.KeyEvent(kb.Enter))
	waitTrue(t, b, `!document.querySelector("dialog.picker-dialog[open]")`, "the close button closing the picker")

	testenv.Do(t, b, chromedp.Click(`#history-toggle`))
	waitTrue(t, b, `(r => r.left >= 0 && r.right <= innerWidth + 1)(document.getElementById("history").getBoundingClientRect())`, "the history open")
	testenv.Do(t, b, chromedp.Focus(`#history .chip[data-kind="coupon"]`), chromedp.KeyEvent(kb.Enter))
	waitTrue(t, b, `document.activeElement.matches('#history .chip[data-kind="coupon"][aria-current="true"]')`, "the focus on the history's coupon filter after it applied")
}

// PDFs sent live show as they do after a reload: icon, name and size
// (one of exactly 1.25 MB, whose rounding the two could differ on).
func TestAgentChatLiveFileLooksLikeTheReloadedOne(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	dir := t.TempDir()
	small, tie := filepath.Join(dir, "menu.pdf"), filepath.Join(dir, "prices.pdf")
	if err := os.WriteFile(small, []byte("%PDF-1.4 "+strings.Repeat("the menu ", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tie, append([]byte("%PDF-1.4 "), make([]byte, 5<<18-9)...), 0o644); err != nil {
		t.Fatal(err)
	}
	b := x.open(t, x.ann, 1280, 800, x.thread())
	files := `[...document.querySelectorAll("#messages .att-file")].map(a => a.outerHTML)`
	testenv.Do(t, b, chromedp.SetUploadFiles(`#attach-file`, []string{small}))
	testenv.WaitText(t, b, "#messages", "menu.pdf")
	testenv.Do(t, b, chromedp.SetUploadFiles(`#attach-file`, []string{tie}))
	waitTrue(t, b, `document.querySelectorAll("#messages .att-file").length === 2`, "both files in the thread")
	live := testenv.Run(t, b, chromedp.Evaluate[[]string](files))
	testenv.Do(t, b, chromedp.Reload())
	chatReady(t, b)
	served := testenv.Run(t, b, chromedp.Evaluate[[]string](files))
	if fmt.Sprint(live) != fmt.Sprint(served) || !strings.Contains(served[0], "<svg") || !strings.Contains(served[0], "2 kB") || !strings.Contains(served[1], "1.3 MB") {
		t.Errorf("live:\n%s\nafter a reload:\n%s", strings.Join(live, "\n"), strings.Join(served, "\n"))
	}
}

// The Unanswered count is orange only when it is not 0, as rendered and
// as the list updates live.
func TestAgentChatUnansweredCountOrangeOnlyAboveZero(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.open(t, x.ann, 1280, 800, "/admin/chat")
	orange := func(n string) string {
		return fmt.Sprintf(`(c => c.textContent === %q && getComputedStyle(c).backgroundColor === "rgb(255, 240, 229)")(document.querySelector("#tab-unanswered .count"))`, n)
	}
	plain := `(c => c.textContent === "0" && getComputedStyle(c).backgroundColor !== "rgb(255, 240, 229)")(document.querySelector("#tab-unanswered .count"))`
	waitTrue(t, b, orange("1"), "the count 1 in orange")
	x.agentSays(t, x.bob, x.conv.ID, "Bob answers")
	waitTrue(t, b, plain, "the count 0, live, not orange")
	testenv.Do(t, b, chromedp.Reload())
	chatReady(t, b)
	waitTrue(t, b, plain, "the count 0, rendered, not orange")
	x.followerSays(t, x.follower(t, "BEN001", "Ben"), "Hello?")
	waitTrue(t, b, orange("1"), "the count 1, live, in orange")
}

// A file over the server's limit is refused at once, in the server's
// words, without being uploaded; Dismiss sits in the same place on every
// failed bubble.
func TestAgentChatRefusesTooLargeFilesAtOnce(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	x.srv = testenv.NewServer(t, x.db, func(c *config.Config) { c.ChatMaxAttachmentMB = 1 })
	b := x.open(t, x.ann, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`(() => {
	  window.uploads = 0;
	  const fetch = window.fetch;
	  window.fetch = (url, init) => { if (String(url).includes("/attachments")) window.uploads++; return fetch(url, init); };
	})()`))
	dir := t.TempDir()
	big, txt := filepath.Join(dir, "big.pdf"), filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(big, append([]byte("%PDF-1.4 "), make([]byte, 1<<20)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(txt, []byte("just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Do(t, b, chromedp.SetUploadFiles(`#attach-file`, []string{big}))
	got := testenv.WaitText(t, b, ".msg-failed", "Not sent.")
	if !strings.Contains(got, "The file is larger than the 1 MB limit: send a smaller one.") || !strings.Contains(got, "big.pdf") {
		t.Errorf("the refused file says %q", got)
	}
	if n := testenv.Run(t, b, chromedp.Evaluate[int](`window.uploads`)); n != 0 {
		t.Errorf("the file too large was uploaded %d times", n)
	}
	testenv.Do(t, b, chromedp.SetUploadFiles(`#attach-file`, []string{txt}))
	waitTrue(t, b, `document.querySelectorAll(".msg-failed").length === 2`, "the second refusal")
	waitTrue(t, b, `(() => {
	  const rects = [...document.querySelectorAll(".msg-failed")].map(li => [li.querySelector(".msg-dismiss").getBoundingClientRect(), li.querySelector(".msg-meta").getBoundingClientRect(), li.querySelector(".bubble").getBoundingClientRect()]);
	  return rects.every(([d, m, b]) => d.top >= m.bottom - 1 && Math.abs(d.right - b.right) < 2) && Math.abs(rects[0][0].right - rects[1][0].right) < 1;
	})()`, "Dismiss under the reason, at the bubble's edge, on both bubbles")
	testenv.Screenshot(t, b, "refused-files")
}

// The thread's header holds one or two tidy rows at 1024, 1280 and 1440
// px with long names: names cut with an ellipsis (whole in their titles),
// the ID on one line, Finish and the history toggle together on the first
// row at the right.
func TestAgentChatHeaderHoldsLongNames(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	owner := x.agent(t, "max@alpha.example", "Maximiliana Bartholomew-Featherstonehaugh of the Northern Coffee Guild", regulars.LevelUpdate)
	fa := x.follower(t, "END-USER-000000000000000000000001234", "Alexandra Konstantinopoulou-Wetherington")
	conv := x.followerSays(t, fa, "Hello there")
	x.agentSays(t, owner, conv.ID, "Hello Alexandra")
	for _, size := range [][2]int64{{1024, 768}, {1280, 800}, {1440, 900}} {
		b := x.open(t, owner, size[0], size[1], fmt.Sprintf("/admin/chat/%d", conv.ID))
		waitTrue(t, b, `(() => {
		  const q = (s) => document.querySelector(s), r = (s) => q(s).getBoundingClientRect();
		  const head = r(".thread-head"), who = r(".thread-who"), finish = r("#finish"), state = r(".thread-state");
		  const toggle = q("#history-toggle").offsetParent ? r("#history-toggle") : finish;
		  const oneLine = (s) => r(s).height < 1.5 * parseFloat(getComputedStyle(q(s)).lineHeight);
		  const owner = q("#conv-owner");
		  return finish.height > 0 && Math.abs(finish.top - toggle.top) < 2 && finish.right <= toggle.right && toggle.right <= head.right &&
		    finish.top < who.bottom && finish.bottom > who.top &&
		    oneLine(".thread-who h1") && oneLine(".thread-who p") && oneLine("#conv-owner") &&
		    head.height < who.height + state.height + 40 &&
		    getComputedStyle(owner).textOverflow === "ellipsis" && owner.title.includes("Northern Coffee Guild") &&
		    getComputedStyle(q(".thread-who h1")).textOverflow === "ellipsis" && q(".thread-who h1").title === q(".thread-who h1").textContent;
		})()`, fmt.Sprintf("a tidy header at %dpx", size[0]))
		testenv.Screenshot(t, b, fmt.Sprintf("header-%d", size[0]))
	}
}

// At 1280 px the thread has room (the history opens over it with the
// toggle) and the list keeps its four tabs on one row; from 1440 the
// history is a column beside it. Without the script the toggle opens the
// history too.
func TestAgentChatThreadHasRoomAt1280(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	for _, c := range []struct {
		width, height int64
		beside        bool
	}{{1280, 800, false}, {1440, 900, true}} {
		b := x.open(t, x.ann, c.width, c.height, x.thread())
		waitTrue(t, b, fmt.Sprintf(`(() => {
		  const tabs = [...document.querySelectorAll(".chat-tabs .tab")], nav = document.querySelector(".chat-tabs");
		  const chat = document.getElementById("chat").getBoundingClientRect(), thread = document.querySelector(".chat-thread").getBoundingClientRect();
		  const panel = document.getElementById("history"), h = panel.getBoundingClientRect();
		  const beside = !panel.inert && h.width > 200 && h.left >= thread.right - 1 && h.right <= chat.right + 1;
		  const away = panel.inert && h.left >= chat.right - 1;
		  return thread.width >= 480 && tabs.length === 4 && new Set(tabs.map(t => Math.round(t.getBoundingClientRect().top))).size === 1 && nav.scrollWidth <= nav.clientWidth &&
		    (%t ? beside : away);
		})()`, c.beside), fmt.Sprintf("the columns at %dpx", c.width))
		testenv.Screenshot(t, b, fmt.Sprintf("columns-%d", c.width))
		if !c.beside {
			testenv.Do(t, b, chromedp.Click(`#history-toggle`))
			waitTrue(t, b, `((p, h, c) => !p.inert && h.right <= c.right + 1 && h.left < c.right - 200)(document.getElementById("history"), document.getElementById("history").getBoundingClientRect(), document.getElementById("chat").getBoundingClientRect())`, "the history over the thread")
			testenv.Do(t, b, chromedp.KeyEvent(kb.Escape))
			waitTrue(t, b, `((p, h, c) => p.inert && h.left >= c.right - 1)(document.getElementById("history"), document.getElementById("history").getBoundingClientRect(), document.getElementById("chat").getBoundingClientRect())`, "Escape closing the history")
		}
	}

	// Without the script: the toggle is a link to the panel, which shows.
	b := testenv.Browser(t, testenv.BrowserName("nojs"))
	testenv.Do(t, b, chromedp.EmulateViewport(1280, 800))
	signInBrowser(t, b, x.srv.URL, x.ann.Email)
	if _, err := chromedp.Call(b, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	testenv.Do(t, b, chromedp.Navigate(x.srv.URL+x.thread()), chromedp.WaitVisible(`#history-toggle`))
	waitTrue(t, b, `getComputedStyle(document.getElementById("history")).visibility === "hidden"`, "the history closed without the script")
	testenv.Do(t, b, chromedp.Click(`#history-toggle`))
	waitTrue(t, b, `((h, c) => getComputedStyle(h).visibility === "visible" && h.getBoundingClientRect().right <= c.right + 1 && document.getElementById("chat").scrollLeft === 0)(document.getElementById("history"), document.getElementById("chat").getBoundingClientRect())`, "the history open without the script, the columns in place")
}

// A follower who gave no name is called by their end-user ID in the list,
// the thread's header and the history, not a blank; when they name themselves
// in the app, an agent with the chat open sees the new name at once in
// all three and in the window's title, and another conversation's row
// keeps its own.
func TestAgentChatFollowerRenameShowsLive(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	fa := x.follower(t, "NONAME1", "")
	conv := x.followerSays(t, fa, "Hi, no name here")
	b := x.open(t, x.ann, 1440, 900, fmt.Sprintf("/admin/chat/%d", conv.ID))
	names := func(want string) string {
		return fmt.Sprintf(`(() => {
		  const t = (s) => document.querySelector(s)?.textContent;
		  return t(%[2]q) === %[1]q && t("#thread-name") === %[1]q && document.getElementById("thread-name").title === %[1]q &&
		    t(".history-who strong") === %[1]q && document.title.replace(/^\(\d+\) /, "").startsWith(%[1]q + " · Chat") && t(%[3]q) === "Mia";
		})()`, want, x.row(conv.ID)+" .conv-name", x.row(x.conv.ID)+" .conv-name")
	}
	waitTrue(t, b, names("NONAME1"), "a follower without a name called by their ID")
	if _, err := x.srv.App.UpdateFollowerProfile(context.Background(), fa, app.ProfileInput{Name: "Noa $& Nameless", Email: "noa@example.com"}); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, b, names("Noa $& Nameless"), "the new name in the list, the header, the history and the title")
	if _, err := x.srv.App.UpdateFollowerProfile(context.Background(), fa, app.ProfileInput{Email: "noa@example.com"}); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, b, names("NONAME1"), "the ID again once the name is removed")
}

// A card sent into a colleague's conversation shows as the card while the
// agent is asked whether to take it over (not as a bare "Sending…" line);
// "No" takes it away, "Yes" puts the stored card in its place, once.
func TestAgentChatCardWaitingForTheOvertakeShowsAsACard(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	coupon := &regulars.Engagement{TenantID: x.w.Tenant.ID, PartnerID: x.w.Partner.ID, ChannelID: x.w.Channel.ID, Kind: regulars.KindCoupon, Status: regulars.EngagementActive,
		Name: "Free coffee", Description: "Any size, any day.", Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
	if err := x.db.CreateEngagement(context.Background(), coupon); err != nil {
		t.Fatal(err)
	}
	x.agentSays(t, x.ann, x.conv.ID, "Ann here")
	b := x.open(t, x.bob, 1440, 900, x.thread())
	pick := func() {
		t.Helper()
		testenv.Do(t, b, chromedp.Click(`#engagement-button`), chromedp.WaitVisible(`dialog.picker-dialog .pick button`),
			chromedp.Click(`dialog.picker-dialog .pick button`))
		testenv.WaitText(t, b, "dialog.confirm[open]", "Ann Agent is answering this conversation. Take it over?")
		waitTrue(t, b, `(() => {
		  const c = document.querySelector("#messages .msg-pending .eng-card");
		  return !!c && c.querySelector(".eng-kind.eng-coupon")?.textContent === "coupon" && c.querySelector("strong")?.textContent === "Free coffee" &&
		    c.textContent.includes("Any size, any day.") && !document.querySelector("#messages .msg-pending .msg-text");
		})()`, "the card waiting in the thread")
	}
	pick()
	testenv.Do(t, b, chromedp.Click(`dialog.confirm[open] button:not([value=confirm])`))
	waitTrue(t, b, `!document.querySelector("#messages .msg-pending") && !document.querySelector("#messages .eng-card")`, "the card gone after No")
	pick()
	confirm(t, b)
	waitTrue(t, b, `!document.querySelector("#messages .msg-pending") && document.querySelectorAll("#messages .eng-card").length === 1 &&
	  !!document.querySelector("#messages li[data-seq] .eng-card")`, "the stored card in its place")
}

// The list reloads itself when a conversation it does not show arrives:
// an agent going down it with the keyboard keeps their place (the row
// they were on keeps the focus), and Enter then opens it.
func TestAgentChatListReloadKeepsTheKeyboardsPlace(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.open(t, x.ann, 1280, 800, "/admin/chat")
	row := x.row(x.conv.ID) + " a"
	testenv.Do(t, b, chromedp.Focus(row))
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`document.querySelector(".conversations").dataset.before = "1"`))
	x.followerSays(t, x.follower(t, "NEW0001", "Noor"), "A new conversation")
	waitTrue(t, b, `!document.querySelector(".conversations").dataset.before && !!document.querySelector(".conv-name") &&
	  [...document.querySelectorAll(".conv-name")].some((n) => n.textContent === "Noor")`, "the list reloaded with the new conversation")
	waitTrue(t, b, fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, row), "the focus on the row the agent was on")
	testenv.Do(t, b, chromedp.KeyEvent(kb.Enter))
	opened(t, b, x.conv.ID, "")
}
