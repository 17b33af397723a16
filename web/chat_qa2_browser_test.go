package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"regulars"
	"regulars/internal/testenv"
)

// The "/" menu names each response's category: letters can match the
// category rather than the title, and the agent sees why a response is
// offered.
func TestAgentChatSlashMenuNamesTheCategory(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	x.cannedResponses(t, "Opening hours", []string{"Sunday", "Weekdays"}, func(i int) string { return []string{"9 to 4.", "7 to 7."}[i] })
	b := x.open(t, x.ann, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "/open"), chromedp.WaitVisible(`#canned-menu li`))
	waitTrue(t, b, `(() => {
	  const opts = [...document.querySelectorAll("#canned-menu li")];
	  return opts.length === 2 && opts.every(o => o.querySelector("strong .canned-opt-cat")?.textContent === "Opening hours") &&
	    opts[0].querySelector("strong").textContent.startsWith("Sunday");
	})()`, "each option naming its category")
}

// Over the thread (below 1440 px), the history closes like a drawer when
// the agent clicks beside it, here the strip a phone leaves of the
// thread; a click inside it keeps it open.
func TestAgentChatHistoryOverlayClosesOnAClickBesideIt(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.open(t, x.ann, 390, 844, x.thread())
	testenv.Do(t, b, chromedp.Click(`#history-toggle`))
	waitTrue(t, b, historyShown, "the history open")
	testenv.Do(t, b, chromedp.Click(`#history .history-who`))
	waitTrue(t, b, historyShown, "the history still open after a click inside it")
	testenv.Do(t, b, chromedp.MouseClickXY(12, 400))
	waitTrue(t, b, `document.getElementById("history").inert && !document.getElementById("chat").classList.contains("history-open")`, "a click beside the history closing it")
}

// A conversation opened from the list with the keyboard lands the focus
// in the composer, not at the top of the page twenty Tabs away; a reader
// who cannot answer lands on the thread's name. A click opens it as
// before, without moving the focus.
func TestAgentChatOpenedByKeyboardFocusesTheComposer(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	vera := x.agent(t, "vera@alpha.example", "Vera Viewer", regulars.LevelView)
	row := fmt.Sprintf(`.conv[data-id="%d"] a`, x.conv.ID)
	for _, c := range []struct {
		u     *regulars.User
		focus string
	}{{x.ann, "composer-text"}, {vera, "thread-name"}} {
		b := x.open(t, c.u, 1280, 800, "/admin/chat")
		testenv.Do(t, b, chromedp.Focus(row), chromedp.KeyEvent(kb.Enter))
		waitTrue(t, b, fmt.Sprintf(`location.pathname === %q && document.getElementById("chat")?.dataset.ready === "1" && document.activeElement?.id === %q`, x.thread(), c.focus),
			"the focus in the thread after Enter on the row, for "+c.u.Name)
	}
	b := x.open(t, x.ann, 1280, 800, "/admin/chat")
	testenv.Click(t, b, row)
	waitTrue(t, b, fmt.Sprintf(`location.pathname === %q && document.getElementById("chat")?.dataset.ready === "1"`, x.thread()), "the thread open after a click")
	if id := testenv.Run(t, b, chromedp.Evaluate[string](`document.activeElement.id`)); id == "composer-text" {
		t.Errorf("a click moved the focus to the composer")
	}
}

// A tab chosen or a search made from the keyboard reloads the list with
// the focus where it was, on that tab or in the search box, not at the
// top of the page.
func TestAgentChatTabsAndSearchKeepTheKeyboardFocus(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.open(t, x.ann, 1280, 800, "/admin/chat")
	testenv.Do(t, b, chromedp.Focus(`#tab-finished`), chromedp.KeyEvent(kb.Enter))
	waitTrue(t, b, `location.search === "?tab=finished" && document.getElementById("chat")?.dataset.ready === "1" && document.activeElement?.id === "tab-finished"`, "the focus on the Finished tab after Enter")
	testenv.Do(t, b, chromedp.SendKeys(`#chat-q`, "mia"+kb.Enter))
	waitTrue(t, b, `location.search.includes("q=mia") && document.getElementById("chat")?.dataset.ready === "1" && document.activeElement?.id === "chat-q" &&
	  document.activeElement.selectionStart === 3`, "the focus back in the search box after a search")
}

// While the owner's warning waits for an answer, the message held back
// says so, not "Sending…"; after Yes it is on its way.
func TestAgentChatMessageHeldByTheOvertakeQuestionSaysSo(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	x.agentSays(t, x.ann, x.conv.ID, "Ann here")
	b := x.open(t, x.bob, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "Bob here"+kb.Enter))
	testenv.WaitText(t, b, "dialog.confirm[open]", "Ann Agent is answering this conversation. Take it over?")
	testenv.WaitText(t, b, "#messages .msg-pending .msg-meta", "Not sent: waiting for your answer")
	testenv.Do(t, b, chromedp.Click(`dialog.confirm[open] button[value=confirm]`))
	waitTrue(t, b, `!document.querySelector("#messages .msg-pending") && [...document.querySelectorAll("#messages .msg-agent .msg-text")].some(p => p.textContent === "Bob here")`, "Bob's message stored after Yes")
}

// Opened from the keyboard over the thread, the history takes the focus
// (its close button) rather than leaving the next Tab to the thread under
// it; Escape closes it with the focus back on the toggle.
func TestAgentChatHistoryOverlayTakesTheFocus(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.open(t, x.ann, 1280, 800, x.thread())
	testenv.Do(t, b, chromedp.Focus(`#history-toggle`), chromedp.KeyEvent(kb.Enter))
	waitTrue(t, b, historyShown+` && document.activeElement.matches("#history .history-close")`, "the focus in the opened history")
	testenv.Do(t, b, chromedp.KeyEvent(kb.Escape))
	waitTrue(t, b, `document.getElementById("history").inert && document.activeElement.id === "history-toggle"`, "Escape closing it, the focus on the toggle")
}
