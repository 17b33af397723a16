// The Chat menu entry's badge and the window's title say how many
// conversations wait for an answer, live on every page: a follower's
// message reaches an agent who is working elsewhere.
//
// Off the chat page one WebSocket connection (/app/live.js, signed in by
// the session cookie) hears the partner's chat events and fetches the
// count again; on the chat page, which has its own connection and tab
// counts, the badge follows the Unanswered tab's count instead.

import { Live } from "/app/live.js";

let live = null;
let fetching = null;
let again = false;
let watcher = null;

export function init() {
  watcher?.disconnect();
  watcher = null;
  const chat = document.getElementById("chat");
  if (chat) {
    live?.close();
    live = null;
    const follow = () => {
      const n = chat.querySelector('[data-count="unanswered"]');
      if (n) show(Number(n.textContent) || 0);
    };
    watcher = new MutationObserver(follow);
    watcher.observe(chat, { subtree: true, childList: true, characterData: true });
    follow();
    return;
  }
  if (!live) {
    live = new Live({
      onHello: refresh, // connected again: what was missed
      onMessage: refresh,
      onEvent: (f) => {
        if (f.type === "message") refresh();
      },
    });
  }
}

// refresh fetches the count, once at a time (and once more when events
// came during a fetch).
async function refresh() {
  if (fetching) {
    again = true;
    return;
  }
  fetching = fetch("/admin/chat-unanswered", { headers: { Accept: "application/json" }, credentials: "same-origin" });
  try {
    const res = await fetching;
    if (res.ok) show((await res.json()).unanswered);
  } catch {
    // Offline: the next event or the reconnection's hello tries again.
  } finally {
    fetching = null;
    if (again) {
      again = false;
      refresh();
    }
  }
}

function show(n) {
  const badge = document.getElementById("chat-badge");
  if (badge) {
    badge.firstChild.textContent = String(n);
    badge.hidden = n === 0;
  }
  const toggle = document.querySelector(".drawer-toggle");
  if (n) toggle?.setAttribute("data-count", String(n));
  else toggle?.removeAttribute("data-count");
  document.title = (n ? `(${n}) ` : "") + document.title.replace(/^\(\d+\) /, "");
}
