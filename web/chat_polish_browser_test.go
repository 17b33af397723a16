package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"regulars/app"
	"regulars/internal/testenv"
)

// Browser tests of the agents' chat after its polish round: the thread's
// header, failed messages' place in the thread. Helpers (agentChat) are in
// chat_ux_browser_test.go.

// A conversation with an owner keeps Finish and the history toggle on the
// name's row, inside the header, with the owner's name shown whole under
// it: at 1280 and 1440 px, on a 390 px phone, and where the thread is
// narrowest beside the list (960 px, or 1280 px zoomed to 133 %), where
// Finish went under the name.
func TestAgentChatHeaderKeepsFinishBesideTheName(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	fa := x.follower(t, "22FJJ2XD", "Mia Johansson")
	conv := x.followerSays(t, fa, "Can I use my beans in the airport shop too?")
	x.agentSays(t, x.ann, conv.ID, "Yes: beans work in every shop.")
	for _, size := range [][2]int64{{1280, 800}, {1440, 900}, {390, 844}, {960, 800}} {
		b := x.open(t, x.ann, size[0], size[1], fmt.Sprintf("/admin/chat/%d", conv.ID))
		waitTrue(t, b, `(() => {
		  const q = (s) => document.querySelector(s), r = (s) => q(s).getBoundingClientRect();
		  const head = r(".thread-head"), who = r(".thread-who"), finish = r("#finish"), actions = r(".thread-actions");
		  const owner = q("#conv-owner");
		  const sameRow = finish.height > 0 && finish.top < who.bottom && finish.bottom > who.top;
		  const inside = actions.right <= head.right + 0.5 && actions.left >= who.right - 0.5;
		  const ownerWhole = owner.textContent === "Owner: Ann Agent" && owner.scrollWidth <= owner.clientWidth && r("#conv-owner").right <= head.right;
		  return sameRow && inside && ownerWhole;
		})()`, fmt.Sprintf("Finish beside the name and the owner whole at %dx%d", size[0], size[1]))
		testenv.Screenshot(t, b, fmt.Sprintf("header-owner-%d", size[0]))
	}
}

// holdAndRefuse runs in the agent's page before its scripts: the first
// try of a text message starting with "HOLD" waits (window.held) until
// window.refuse() answers it as the server does a sender too fast; the
// first upload of a file is answered as by a server failing. Tries again
// (the same client id) go to the server.
const holdAndRefuse = `(() => {
  window.held = [];
  const tried = new Set(), send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    let f = null;
    try { f = JSON.parse(data); } catch {}
    if (f && f.type === "send" && String(f.text || "").startsWith("HOLD") && !tried.has(f.client_id)) {
      tried.add(f.client_id);
      window.held.push({ ws: this, f });
      return;
    }
    return send.call(this, data);
  };
  window.refuse = () => {
    for (const { ws, f } of window.held.splice(0))
      ws.onmessage({ data: JSON.stringify({ type: "error", ref: f.ref, client_id: f.client_id, code: "too_many", detail: "You are sending too fast: wait a moment." }) });
  };
  let uploads = 0;
  const fetch = window.fetch;
  window.fetch = (url, init) => String(url).includes("/attachments") && init?.method === "POST" && uploads++ === 0
    ? Promise.resolve(new Response(JSON.stringify({ detail: "Something went wrong on our side." }), { status: 500, headers: { "Content-Type": "application/problem+json" } }))
    : fetch(url, init);
})()`

// threadLine is the agent's thread as a line: each message or bubble's
// text (a file's name), "!" before one not sent, "…" before one being
// sent, "|" between them.
const threadLine = `[...document.querySelectorAll("#messages > .msg:not(.msg-system)")].map(li =>
  (li.classList.contains("msg-failed") ? "!" : li.classList.contains("msg-pending") ? "…" : "") +
  (li.querySelector(".msg-text")?.textContent || li.querySelector(".att-file")?.textContent.replace(/\s+\d.*$/, "").trim() || "")).join("|")`

// A message not sent (too fast, the server failing) stays in the thread
// where it was written: what came while it waited goes under it, as does
// what comes later. Its Try again (text) or the composer left empty (no
// copy to send twice) moves it to the end, where it is sent and stored
// once. A file not sent does the same.
func TestAgentChatFailedMessageStaysWhereWrittenTryAgainSendsItLast(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	x.agentSays(t, x.ann, x.conv.ID, "Ann here")
	b := x.openWith(t, x.ann, 1280, 800, x.thread(), holdAndRefuse)
	line := func(want, what string) {
		t.Helper()
		waitTrue(t, b, fmt.Sprintf(`(%s) === %q`, threadLine, want), what+": "+want)
	}

	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "HOLD Are you there?"+kb.Enter))
	line("Hello!|Ann here|…HOLD Are you there?", "the message on its way")
	x.followerSays(t, x.mia, "Sorry, one moment")
	line("Hello!|Ann here|Sorry, one moment|…HOLD Are you there?", "a message that came while it waited, above it")
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`window.refuse()`))
	line("Hello!|Ann here|!HOLD Are you there?|Sorry, one moment", "the message not sent back where it was written")
	testenv.WaitText(t, b, ".msg-failed .msg-meta", "You are sending too fast")
	// (Headless key events may leave the Enter's newline; trimmed.)
	if v := testenv.Run(t, b, chromedp.Evaluate[string](`document.getElementById("composer-text").value.trim()`)); v != "" {
		t.Errorf("the composer holds %q besides the bubble offering Try again", v)
	}
	x.followerSays(t, x.mia, "Back now")
	line("Hello!|Ann here|!HOLD Are you there?|Sorry, one moment|Back now", "a later message under it")

	testenv.Do(t, b, chromedp.Click(`.msg-failed .msg-retry`))
	line("Hello!|Ann here|Sorry, one moment|Back now|HOLD Are you there?", "tried again, sent at the end")
	waitTrue(t, b, `document.querySelector("#messages > .msg:last-child").dataset.seq > 0 && document.activeElement.id === "composer-text"`, "the message stored, the focus back in the composer")
	msgs, err := x.db.ChatMessagesAfter(context.Background(), x.conv.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, m := range msgs {
		if m.Text == "HOLD Are you there?" {
			stored++
		}
	}
	if stored != 1 {
		t.Errorf("the message tried again is stored %d times", stored)
	}

	// A file the server failed to take: Try again sends it at the end.
	pdf := filepath.Join(t.TempDir(), "menu.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4 a menu"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Do(t, b, chromedp.SetUploadFiles(`#attach-file`, []string{pdf}))
	line("Hello!|Ann here|Sorry, one moment|Back now|HOLD Are you there?|!menu.pdf", "the file not sent")
	x.followerSays(t, x.mia, "Got it?")
	line("Hello!|Ann here|Sorry, one moment|Back now|HOLD Are you there?|!menu.pdf|Got it?", "a later message under the file not sent")
	testenv.Do(t, b, chromedp.Click(`.msg-failed .msg-retry`))
	line("Hello!|Ann here|Sorry, one moment|Back now|HOLD Are you there?|Got it?|menu.pdf", "the file tried again, sent at the end")
	testenv.Screenshot(t, b, "failed-tried-again")
}

// A message refused (too fast) that was stored after all, its client id
// the same, shows once: its "Not sent" bubble gives way to the stored
// message when it comes, as the follower app's now does too.
func TestAgentChatRetryOfAStoredMessageLeavesOneCopy(t *testing.T) {
	t.Parallel()
	x := newAgentChat(t, 0)
	b := x.openWith(t, x.ann, 1280, 800, x.thread(), holdAndRefuse)
	testenv.Do(t, b, chromedp.SendKeys(`#composer-text`, "HOLD Stored after all"+kb.Enter))
	waitTrue(t, b, `window.held.length === 1`, "the first try held")
	clientID := testenv.Run(t, b, chromedp.Evaluate[string](`window.held[0].f.client_id`))
	testenv.Do(t, b, chromedp.Evaluate[chromedp.Void](`window.refuse()`))
	testenv.WaitText(t, b, ".msg-failed .msg-meta", "You are sending too fast")
	// It reached the server (as by a try whose answer was lost).
	if _, err := x.srv.App.SendAgentMessage(context.Background(), x.actor(t, x.ann), x.conv.ID, app.AgentMessage{Text: "HOLD Stored after all", ClientID: clientID}); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, b, `[...document.querySelectorAll("#messages > .msg[data-seq]")].some((li) => li.textContent.includes("HOLD Stored after all"))`, "the stored message shown")
	waitTrue(t, b, `!document.querySelector("#messages .msg-pending, #messages .msg-failed")`, "no bubble left beside the stored message")
	if n := testenv.Run(t, b, chromedp.Evaluate[int](`[...document.querySelectorAll("#messages > .msg")].filter((li) => li.textContent.includes("HOLD Stored after all")).length`)); n != 1 {
		t.Fatalf("the message shows %d times, want once", n)
	}
}
