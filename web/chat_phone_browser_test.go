package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"regulars/internal/testenv"
)

// Browser tests of the agents' chat on a touch screen: phones (390×844,
// 360×740) and a small tablet (768×1024). Helpers (agentChat) are in
// chat_ux_browser_test.go.

// phoneSizes are the screens partner staff chat on away from a desk.
var phoneSizes = [][2]int64{{390, 844}, {360, 740}, {768, 1024}}

// touchScreen makes the page a touch screen's: (pointer: coarse) matches
// and taps are touches.
func touchScreen(t *testing.T, b context.Context) {
	t.Helper()
	if _, err := chromedp.Call(b, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 5}); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, b, `matchMedia("(pointer: coarse)").matches`, "a touch screen")
}

// tap touches the middle of the element css, as a finger does.
func tap(t *testing.T, b context.Context, css string) {
	t.Helper()
	at := testenv.Run(t, b, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`, css)))
	point := []*input.TouchPoint{{X: at[0], Y: at[1]}}
	if _, err := chromedp.Call(b, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: point}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}}); err != nil {
		t.Fatal(err)
	}
}

// smallTapTargets lists the chat's controls on screen (the thread, the
// history over it, an open dialog) a finger can miss: under 40 px either
// way. Links inside a message's text are words of it, not controls.
const smallTapTargets = `(() => {
  const out = [];
  for (const n of document.querySelectorAll("#chat :is(a, button, summary, input, textarea, select), dialog[open] :is(a, button, input, select)")) {
    if (n.closest(".msg-text, [inert]") || !n.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true })) continue;
    const r = n.getBoundingClientRect();
    if (!r.width || !r.height || r.right <= 0 || r.left >= innerWidth || r.bottom <= 0 || r.top >= innerHeight) continue;
    if (n.closest("dialog") === null && document.querySelector("dialog[open]")) continue;
    if (r.width < 40 || r.height < 40) out.push((n.id || n.className || n.tagName) + " «" + (n.textContent.trim() || n.getAttribute("aria-label") || "").slice(0, 24) + "» " + Math.round(r.width) + "×" + Math.round(r.height));
  }
  return out.join("; ");
})()`

// On a touch screen every control of the thread is big enough for a
// finger: back to the list, Finish, the history toggle, the composer's
// tools, the history's close and filters, the engagement picker's. They
// were 32–38 px high (the history's filters 28), some 35 px wide.
func TestChatPhoneControlsAreBigEnoughToTap(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 3)
	x.agentSays(t, x.ann, x.conv.ID, "Ann here")
	x.cannedResponses(t, "Opening hours", []string{"Hours"}, func(int) string { return "We are open 8 to 18." })
	for _, size := range phoneSizes {
		t.Run(fmt.Sprint(size[0]), func(t *testing.T) {
			t.Parallel()
			b := x.open(t, x.ann, size[0], size[1], x.thread())
			touchScreen(t, b)
			check := func(where string) {
				t.Helper()
				if small := testenv.Run(t, b, chromedp.Evaluate[string](smallTapTargets)); small != "" {
					t.Errorf("%dpx, %s: controls under 40px: %s", size[0], where, small)
				}
			}
			check("the thread")
			testenv.Screenshot(t, b, fmt.Sprintf("phone-thread-%d", size[0]))
			tap(t, b, "#history-toggle")
			waitTrue(t, b, `document.getElementById("chat").classList.contains("history-open") && !document.getElementById("history").inert`, "the history open")
			testenv.Do(t, b, chromedp.Sleep(300e6)) // its slide in
			check("the history")
			tap(t, b, ".history-close")
			waitTrue(t, b, `!document.getElementById("chat").classList.contains("history-open")`, "the history closed")
			tap(t, b, "#engagement-button")
			waitTrue(t, b, `!!document.querySelector("dialog[open] .picker")`, "the engagement picker")
			check("the engagement picker")
			testenv.Screenshot(t, b, fmt.Sprintf("phone-picker-%d", size[0]))
		})
	}
}

// A tap on Send leaves the focus in the text box, as Enter does, so a
// phone's keyboard stays up for the next message; the focus went to the
// button and the keyboard went down after every message.
func TestChatPhoneSendKeepsTheKeyboard(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	for _, size := range phoneSizes {
		t.Run(fmt.Sprint(size[0]), func(t *testing.T) {
			t.Parallel()
			b := x.open(t, x.ann, size[0], size[1], x.thread())
			touchScreen(t, b)
			for i, msg := range []string{"First of two", "Second of two"} {
				tap(t, b, "#composer-text")
				if i == 0 {
					waitTrue(t, b, `document.activeElement.id === "composer-text"`, "the text box focused by a tap")
				}
				testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById("composer-text").focus() || document.execCommand("insertText", false, %q)`, msg)))
				tap(t, b, "#send")
				testenv.WaitText(t, b, "#messages", msg)
				waitTrue(t, b, `!document.querySelector(".msg-pending") && document.getElementById("composer-text").value === ""`, "the message sent")
				if got := testenv.Run(t, b, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`)); got != "composer-text" {
					t.Fatalf("%dpx: after a tap on Send the focus is on %s, not the text box", size[0], got)
				}
			}
		})
	}
}
