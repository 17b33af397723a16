// The follower's chat: the list of conversations (#/chats) and the chat
// with a channel (#/chat/CHANNEL_ID), live over one WebSocket for the whole
// app. Written against the follower API and the realtime protocol only.
import { call, session, APIError, reasonOf } from "./api.js";
import { Live, newClientID } from "./live.js";
import { linkify } from "./text.js";

export const chatAPI = {
  conversations: () => call("GET", "/conversations"),
  conversationWith: (channelID) => call("GET", `/channels/${channelID}/conversation`),
  // The newest page of a conversation, or the one before a message.
  messages: (id, before) => call("GET", `/conversations/${id}/messages` + (before ? `?before=${before}` : "")),
  act: (id, seq) => call("POST", `/conversations/${id}/cards/${seq}/act`),
};

// upload sends a picture or a PDF to a channel as is.
async function upload(channelID, file, clientID) {
  const q = new URLSearchParams({ name: file.name, client_id: clientID });
  let res;
  try {
    res = await fetch(`/api/v1/follower/channels/${channelID}/chat/attachments?${q}`, {
      method: "POST",
      headers: { Authorization: "Bearer " + session.token, "Content-Type": file.type || "application/octet-stream", Accept: "application/json" },
      body: file,
    });
  } catch {
    throw Object.assign(new Error("The server could not be reached. Check your connection and try again."), { code: "offline" });
  }
  const data = await res.json().catch(() => ({ detail: `The server refused the file (${res.status}).` }));
  if (!res.ok) throw new APIError(data, res.status);
  return data;
}

// Pictures need the token: they are fetched and shown from memory.
const blobs = new Map();
async function attachmentURL(id) {
  if (!blobs.has(id)) {
    blobs.set(id, fetch(`/api/v1/follower/attachments/${id}`, { headers: { Authorization: "Bearer " + session.token } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error("not found"))))
      .then((b) => URL.createObjectURL(b)));
  }
  return blobs.get(id);
}

// The one connection of the app, opened with the first screen so that the
// Chats badge and list stay live.
let live = null;
const listeners = new Set();

// The Chats tab's badge and the Chats list count what the server counts:
// the agents' messages after the follower's read mark (system lines do
// not count; the follower's own message marks all before it read). The
// list is fetched once, and again only when the events cannot tell: when
// the connection comes (back), on a resync, a message that skips numbers
// (some were missed), a conversation never seen that did not start with
// this message, or a read mark inside messages counted at the fetch
// (which of them the agents wrote is not known here). Otherwise each
// message and read mark updates the count of its conversation. The open
// conversation counts none: the app reads it. (By conversation, not a
// total, so that opening one does not clear the others.)
const LISTED = 200; // the server lists a follower's newest 200 conversations
let conversations = [];
let listed = false; // conversations holds a fetched list, kept current since
let openConv = 0;
let badgeEl = null;
let showList = null; // the Chats screen's, while it is shown
function showBadge() {
  if (!badgeEl) return;
  let n = 0;
  for (const c of conversations) if (c.id !== openConv) n += c.unread;
  badgeEl.textContent = String(n);
  badgeEl.hidden = n === 0;
}

// A fetched conversation counts c.unread among its messages up to
// c.last_seq (at); which of them are the agents' is not known. The
// agents' messages that come after are counted by number (news).
const counted = (c) => Object.assign(c, { at: c.last_seq, atUnread: c.unread, news: [] });
const recount = (c) => (c.unread = c.atUnread + c.news.length);
const newestFirst = (a, b) => (b.last_message_at || "").localeCompare(a.last_message_at || "") || b.id - a.id;

// readTo moves a conversation's read mark to seq; false when what is
// left unread cannot be known here.
function readTo(c, seq) {
  if (seq <= c.read_seq) return true;
  c.read_seq = seq;
  c.news = c.news.filter((s) => s > seq);
  if (seq >= c.at) c.atUnread = 0;
  recount(c);
  return c.atUnread === 0 || seq >= c.at;
}

// heard applies message m of conversation conv (the conversation after
// it, or later); false when the counts cannot be known without a fetch.
function heard(m, conv) {
  let c = conversations.find((x) => x.id === m.conversation_id);
  if (!c) {
    if (m.seq !== 1 || !conv) return false; // an older one, not listed
    c = counted({ ...conv, last_seq: 0, read_seq: 0, unread: 0 });
    conversations.push(c);
  }
  if (m.seq <= c.last_seq) return true; // counted already
  if (m.seq > c.last_seq + 1) return false; // some were missed
  if (conv && conv.last_seq === m.seq) {
    const { unread, read_seq, ...now } = conv; // (live events carry no count)
    Object.assign(c, now);
  }
  c.last_seq = m.seq;
  if (m.author === "agent" && m.seq > c.read_seq) c.news.push(m.seq);
  recount(c);
  if (m.author === "follower" && !readTo(c, m.seq)) return false;
  if (conv && !readTo(c, conv.read_seq || 0)) return false;
  conversations.sort(newestFirst);
  conversations.length = Math.min(conversations.length, LISTED);
  return true;
}

// news applies an event to the counts, or fetches the list when it
// cannot; while a fetch is under way, events wait for its answer (which
// may or may not hold them: applying one twice changes nothing).
let waiting = [];
function news(e) {
  if (fetching) {
    waiting.push(e);
    return;
  }
  if (!listed) return;
  let known = true;
  if (e.message) known = heard(e.message, e.conversation);
  else if (e.read) {
    const c = conversations.find((x) => x.id === e.read.conversation_id);
    known = !!c && readTo(c, e.read.seq);
  }
  if (!known) {
    update();
    return;
  }
  if (openConv) readOpen();
  showBadge();
  showList?.();
}
// readOpen counts nothing in the open conversation: its messages are read
// there (a count fetched before its read mark reached the server must not
// bring them back).
function readOpen() {
  const c = conversations.find((x) => x.id === openConv);
  if (c) readTo(c, c.last_seq);
}

// refresh fetches the conversations; asked while a fetch is under way,
// it fetches once more after it (that one may predate the news). update
// is the same for news: a failure leaves the counts as they were.
let fetching = null;
let again = false;
function refresh() {
  if (fetching) {
    again = true;
    return fetching;
  }
  const token = session.token;
  fetching = chatAPI.conversations().then((res) => {
    if (token !== session.token) return; // signed in as someone else meanwhile
    conversations = res.items.map(counted);
    listed = true;
  }).finally(() => {
    fetching = null;
    if (again) {
      again = false;
      update();
      return;
    }
    for (const e of waiting.splice(0)) news(e);
    readOpen();
    showBadge();
    showList?.();
  });
  return fetching;
}
const update = () => refresh().catch(() => {});
// listing is the list, fetched if it never was.
const listing = () => (listed ? Promise.resolve() : fetching || refresh());

// signedOut follows a connection closed for good (4401, 4403): most
// often the sign-in ended (signed out on another device, the password
// changed), and the API's 401 to a check takes the follower to sign in.
// If the sign-in holds (the connection did not sign in in time), the
// screen starts again with a new connection, at most twice a minute.
// (Not when the follower signed in again meanwhile: an old connection.)
let restarted = 0;
function signedOut(closed) {
  if (live !== closed) return;
  live = null;
  if (!session.token || session.token !== closed.token) return;
  call("GET", "/me").then(() => {
    if (session.token !== closed.token || Date.now() - restarted < 30000) return;
    restarted = Date.now();
    dispatchEvent(new HashChangeEvent("hashchange"));
  }, () => {});
}

function connection() {
  if (live && live.token !== session.token) {
    live.close(); // signed in again, maybe as someone else
    live = null;
    conversations = [];
    listed = false;
    waiting = [];
  } else if (live || !session.token) return live;
  const conn = new Live({
    token: session.token,
    // The open conversation's messages, in order (also those synced).
    onMessage: (m, c) => {
      listeners.forEach((l) => l.message?.(m, c));
      news({ message: m, conversation: c });
    },
    onEvent: (f) => {
      listeners.forEach((l) => l.event?.(f));
      if (f.type === "message" && f.message && !f.tracked) news({ message: f.message, conversation: f.conversation });
      else if (f.type === "read" && f.author === "follower") news({ read: f });
      else if (f.type === "resync") update(); // events may have been missed
    },
    onState: (s, d) => {
      listeners.forEach((l) => l.state?.(s, d));
      if (s === "live") update(); // what came while offline (or before the connection)
      else if (s === "offline" && !listed) update(); // no connection yet: count without it
      if (s === "closed") signedOut(conn);
    },
  });
  live = conn;
  return live;
}

// watchUnread keeps the Chats tab's badge current. The connection's
// coming fetches the list; without a connection yet, it is fetched here.
export async function watchUnread(el) {
  if (!session.token) return;
  badgeEl = el;
  const l = connection();
  showBadge();
  if (l?.state !== "connecting") await listing().catch(() => {});
}

// MAX_TEXT is the server's limit of a message, in characters.
const MAX_TEXT = 4000;

const CLIP = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9"/></svg><span class="sr-only">Send a picture or a PDF</span>';

const fmtTime = (s) => new Date(s).toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

// A coupon that enables itself cannot be enabled with a button: the card
// says when it happens, in the server's words.
function enablesItself(c) {
  if (c?.redemption_type === "auto_visit") return "Enables itself when you visit the shop.";
  if (c?.redemption_type === "auto_point") return `Enables itself when you reach ${c.auto_threshold} total points.`;
  return "";
}

// chatsScreen lists the conversations, newest first, kept current as
// messages come (see news).
export async function chatsScreen({ h, show }) {
  // Fetched unless the list is known and kept current.
  // The channels followed are asked too: a chat can be started from here
  // (without them, the list shows alone).
  const followed = () => call("GET", "/follows").then((r) => r.items.map((f) => f.channel), () => []);
  let [follows] = await Promise.all([
    followed(),
    !listed || connection()?.state !== "live" ? fetching || refresh() : null,
  ]);
  const list = h("div", { class: "stack", id: "conversations" });
  const none = h("p", { class: "muted" }, "No chats yet. Open a channel you follow and write to it.");
  const startList = h("div", { class: "stack" });
  const start = h("section", { class: "stack", id: "chat-start", "aria-labelledby": "chat-start-title" },
    h("h3", { id: "chat-start-title" }, "Start a chat"), startList);
  const render = () => {
    // Followed, chat on, no conversation yet.
    const fresh = follows.filter((ch) => ch.following && ch.chat_enabled && !conversations.some((c) => c.channel.id === ch.id));
    startList.replaceChildren(...fresh.map((ch) =>
      h("a", { class: "card row start-chat", href: `#/chat/${ch.id}`, "data-channel": ch.id },
        ch.logo_url ? h("img", { class: "logo", src: ch.logo_url, alt: "" }) : h("span", { class: "logo empty", "aria-hidden": "true" }, ch.name.slice(0, 1)),
        h("span", { class: "grow" }, h("strong", {}, ch.name), h("span", { class: "muted small" }, "Write to its team")))));
    start.hidden = fresh.length === 0;
    none.textContent = fresh.length ? "No chats yet." : "No chats yet. Open a channel you follow and write to it.";
    list.replaceChildren(...conversations.map((c) =>
      h("a", { class: "card row conversation", href: `#/chat/${c.channel.id}`, "data-conversation": c.id },
        h("span", { class: "grow" }, h("strong", {}, c.channel.name),
          // (bdi: a right-to-left message reads so after "You: ")
          h("span", { class: "muted small preview" }, c.last_author === "follower" ? "You: " : "", h("bdi", {}, c.last_preview))),
        h("span", { class: "small muted" }, fmtTime(c.last_message_at)),
        c.unread ? [h("span", { class: "count" }, c.unread), h("span", { class: "sr-only" }, " unread")] : null)));
    list.hidden = conversations.length === 0;
    none.hidden = conversations.length > 0;
  };
  render();
  if (show("Chats", h("div", { class: "pad stack" }, list, none, start)) === false) return; // gone on meanwhile
  showList = render;
  // A channel's chat switched, a channel followed or unfollowed on
  // another device: Start a chat lists what can be started now.
  const listener = {
    event: async (f) => {
      if (f.type !== "channel") return;
      if (!follows.some((ch) => ch.id === f.channel.id) && !f.channel.following) return;
      const now = await followed();
      if (showList !== render) return;
      follows = now;
      render();
    },
  };
  listeners.add(listener);
  window.addEventListener("hashchange", () => {
    if (showList === render) showList = null;
    listeners.delete(listener);
  }, { once: true });
}

// chatScreen is the chat with a channel: history, live messages, cards
// to act on, a composer with files.
export async function chatScreen({ h, show, toast }, channelID) {
  channelID = Number(channelID);
  const page = await call("GET", `/channels/${channelID}`);
  const channel = page.channel;
  // The conversation with the channel, from the list (which the badge
  // keeps): none there before the first message. Asking for it alone
  // answers 404 until then, which the browser logs as an error; it is
  // asked only when the list is full and it may be older than the listed.
  connection();
  const known = await listing().then(() => true, () => false);
  let conv = conversations.find((c) => c.channel.id === channelID) || null;
  if (!conv && (!known || conversations.length >= LISTED)) {
    conv = await chatAPI.conversationWith(channelID).catch((err) => {
      if (err instanceof APIError && err.status === 404) return null;
      throw err;
    });
  }
  // Not a live region: a screen reader would read the whole history out
  // as it loads (and each page of Earlier messages). What others write
  // while the chat is open is said by announce instead.
  const list = h("ol", { class: "chat-messages plain", id: "chat-messages" });
  const announce = h("p", { class: "sr-only", id: "chat-announce", "aria-live": "polite" });
  const typing = h("p", { class: "typing small muted", id: "typing" });
  // No maxlength: it counts UTF-16 units (an emoji is two) and cuts a
  // paste silently; the length is checked as the server counts it.
  // dir=auto here and on the messages' text: Arabic or Hebrew reads right
  // to left, its punctuation where it belongs.
  const text = h("textarea", { id: "chat-text", rows: "1", dir: "auto", placeholder: "Message", "aria-label": "Message", "aria-describedby": "chat-too-long" });
  const tooLong = h("p", { class: "small error", id: "chat-too-long", "aria-live": "polite", hidden: true });
  const file = h("input", { type: "file", id: "chat-file", accept: "image/jpeg,image/png,image/gif,image/webp,application/pdf", hidden: true, tabindex: "-1" });
  // The connection's state shows over the composer, where the follower
  // looks, not at the top of the thread.
  const state = h("p", { class: "small muted center chat-state", id: "chat-state", role: "status", hidden: true });
  const canWrite = channel.following && channel.chat_enabled;
  // A real button, so that the keyboard reaches it; it opens the hidden
  // file input.
  const attach = h("button", { class: "btn icon", type: "button", id: "chat-attach", title: "Send a picture or a PDF", html: CLIP, onclick: () => file.click() });
  // Shown over the composer when a reply comes while the follower reads
  // further up; it takes them down to it.
  const below = h("button", { class: "btn new-below", type: "button", id: "chat-new-below", hidden: true }, "New messages ↓");
  const form = h("form", { class: "composer row", id: "chat-form" },
    attach, file, text,
    h("button", { class: "btn primary", type: "submit", id: "chat-send" }, "Send"));
  // What shows instead of the composer where the follower cannot write.
  const noticeFor = (ch) => !ch.following
    ? h("p", { class: "hint", id: "chat-follow" }, "Follow ", ch.name, " to chat with it.")
    : !ch.chat_enabled ? h("p", { class: "hint", id: "chat-off" }, ch.name, " does not take chat messages at the moment.") : null;
  let notice = noticeFor(channel);
  // Until the first message (CSS hides it once the list has one).
  const empty = canWrite && h("p", { class: "chat-empty muted center", id: "chat-empty" }, "Write to ", channel.name, ": its team answers here.");
  // The foot stays above the tab bar: the connection's state, the
  // composer and what is wrong with the text.
  const foot = h("div", { class: "chat-foot", id: "chat-foot" }, below, state, canWrite ? [tooLong, form] : notice);
  // A long conversation opens at its newest messages; the older ones come
  // a page at a time, above, keeping what the follower was reading in place.
  const earlier = h("button", { class: "btn small earlier", type: "button", id: "chat-earlier", hidden: true }, "Earlier messages");
  // (Not shown: the follower went on to another screen while this one
  // loaded; it must not follow, mark read or listen.)
  if (show(channel.name, h("div", { class: "chat-screen" },
    h("a", { class: "small back", href: `#/channel/${channelID}` }, "← ", channel.name), earlier, list, empty, typing, foot, announce)) === false) return;

  // The page scrolls (not the list). The thread stays pinned to its end
  // while pictures load and messages come, unless the follower scrolls
  // up to read; scrolling back down pins it again.
  const off = new AbortController();
  const scroller = document.scrollingElement || document.documentElement;
  const NEAR = 80; // px from the end that still count as "at the end"
  let pinned = true;
  let lastY = window.scrollY;
  const fromEnd = () => scroller.scrollHeight - (window.scrollY + window.innerHeight);
  // (lastY follows at once: scroll events come a frame later, and one
  // that comes after the reader has scrolled up again must see them move up.)
  const toEnd = () => {
    window.scrollTo({ top: scroller.scrollHeight, behavior: "instant" });
    lastY = window.scrollY;
  };
  const keep = () => {
    if (pinned) toEnd();
  };
  window.addEventListener("scroll", () => {
    const y = window.scrollY;
    if (fromEnd() <= NEAR) {
      pinned = true;
      below.hidden = true;
    } else if (y < lastY) pinned = false; // moved up: on purpose
    lastY = y;
  }, { passive: true, signal: off.signal });
  below.addEventListener("click", () => {
    pinned = true;
    below.hidden = true;
    toEnd();
    text.focus({ preventScroll: true });
  });
  const grows = new ResizeObserver(keep);
  grows.observe(list);
  grows.observe(foot); // a state or a warning showing there must not cover the last message
  window.addEventListener("hashchange", () => {
    off.abort();
    grows.disconnect();
  }, { once: true });

  const seqs = new Set();
  // add shows a message where its seq puts it: before any later one, and
  // before the bubbles not sent yet, which stay at the end (after a
  // reconnect, the answer to a send can come before the agents' messages
  // stored ahead of it). The follower's own replaces its pending bubble.
  // Live, the follower's own ones are always brought into view, the
  // others when the thread is at its end.
  const add = (m, live = true) => {
    // (Its bubble goes even when the message shows already: a retry
    // answered with a message the catch-up brought.)
    if (m.client_id) list.querySelector(`[data-client="${CSS.escape(m.client_id)}"]`)?.remove();
    if (seqs.has(m.seq)) return;
    seqs.add(m.seq);
    const earlier = (li) => li.dataset.seq && Number(li.dataset.seq) < m.seq;
    let next = null; // the first later message or unsent bubble
    for (let li = list.lastElementChild; li && !earlier(li); li = li.previousElementSibling) next = li;
    list.insertBefore(bubble(m), next);
    if (live && m.author === "follower") pinned = true;
    if (live) keep();
    if (live && !pinned && m.author !== "follower") below.hidden = false;
    if (m.author === "agent") typing.textContent = "";
    if (live && m.author !== "follower") announce.textContent = spoken(m);
  };
  // spoken is what a screen reader says of a message that comes.
  const spoken = (m) => {
    if (m.kind === "system") return m.text;
    const what = [m.engagement && `${m.engagement.kind}: ${m.engagement.name}`, m.attachment && `file ${m.attachment.name}`, m.text].filter(Boolean).join(". ");
    return `${m.agent?.name || channel.name}: ${what}`;
  };

  function bubble(m) {
    if (m.kind === "system") return h("li", { class: "sys small muted center", "data-seq": m.seq }, m.text);
    const parts = [];
    if (m.attachment) {
      const a = m.attachment;
      if (a.content_type.startsWith("image/")) {
        const img = h("img", { alt: a.name, class: "att", onload: keep });
        attachmentURL(a.id).then((u) => (img.src = u)).catch(() => (img.alt = a.name + " (not available)"));
        parts.push(img);
      } else {
        parts.push(h("button", { class: "link", type: "button", onclick: async () => window.open(await attachmentURL(a.id), "_blank") }, "PDF · ", a.name));
      }
    }
    if (m.engagement) parts.push(card(m));
    if (m.text) parts.push(h("p", { dir: "auto" }, linkify(m.text)));
    // Who wrote it, for a screen reader (the agent's name shows under the text).
    const who = m.author === "follower" ? h("span", { class: "sr-only" }, "You: ") : null;
    return h("li", { class: "bubble " + (m.author === "follower" ? "mine" : "theirs"), "data-seq": m.seq },
      who, ...parts, h("span", { class: "small muted" }, (m.author === "agent" ? (m.agent?.name || "") + " · " : "") + fmtTime(m.created_at)));
  }

  function card(m) {
    const e = m.engagement;
    const label = { coupon: "Enable the coupon", loyalty: "Join", message: "Open" }[e.kind] || "Open";
    const doneLabel = { coupon: "Enabled ✓", loyalty: "Joined ✓", message: "Opened ✓" }[e.kind] || "Done ✓";
    const doneToast = { coupon: e.name + " is enabled: find it in Coupons.", loyalty: "Welcome to " + e.name + "!" }[e.kind];
    const by = e.kind === "coupon" ? enablesItself(e.coupon) : "";
    // A message card opens to the message: its text and its link.
    const body = e.kind === "message" && (e.text || e.link)
      ? h("div", { class: "card-body", hidden: true }, e.text ? h("p", { dir: "auto" }, linkify(e.text)) : null,
        e.link ? h("a", { href: e.link, rel: "noopener", target: "_blank" }, "Read more") : null)
      : null;
    let action;
    if (e.done === true && body) {
      // Opened already (here, or before a reload): the message shows.
      body.hidden = false;
      action = null;
    } else if (e.done === true) {
      // Acted on already (the coupon is enabled, the program joined).
      action = h("button", { class: "btn primary", "data-act": m.seq, disabled: true }, doneLabel);
    } else if (by) {
      action = h("p", { class: "small auto-note" }, by);
    } else {
      action = h("button", { class: "btn primary", "data-act": m.seq }, label);
      action.addEventListener("click", async () => {
        action.disabled = true;
        try {
          await chatAPI.act(conv.id, m.seq);
          action.textContent = doneLabel;
          // The same coupon or program sent earlier or again in the
          // thread is done too: its card says so instead of offering it.
          if (e.kind !== "message") {
            for (const other of list.querySelectorAll(`.chat-card[data-engagement="${e.id}"] button[data-act]`)) {
              other.disabled = true;
              other.textContent = doneLabel;
            }
          }
          if (body) {
            body.hidden = false;
            action.hidden = true; // the message shows: nothing more to open
            keep();
          }
          if (doneToast) toast(doneToast);
        } catch (err) {
          toast(reasonOf(err), "error");
          action.disabled = false;
        }
      });
    }
    // The button says what it does; which coupon or program, from the
    // card's name (several cards give several "Enable the coupon").
    const nameID = `card-${m.seq}-name`;
    if (action?.tagName === "BUTTON") action.setAttribute("aria-describedby", nameID);
    return h("div", { class: "card chat-card", "data-engagement": e.id },
      e.image_url ? h("img", { class: "card-img", src: e.image_url, alt: "", onload: keep }) : null,
      h("span", { class: "kind" }, e.kind), h("strong", { dir: "auto", id: nameID }, e.name),
      e.description ? h("p", { class: "small muted", dir: "auto" }, e.description) : null, body, action);
  }

  const l = connection();
  let lastRead = 0;
  const read = () => {
    if (!conv || document.hidden) return;
    const last = Math.max(0, ...seqs);
    if (last > lastRead) {
      lastRead = last;
      l?.send({ type: "read", conversation_id: conv.id, seq: last });
    }
  };
  // opened makes conversation c the open one: its messages are read here,
  // tracked gap-free, and count nothing in the badge.
  const opened = (c, lastSeq) => {
    conv = c;
    l?.track(c.id, lastSeq);
    openConv = c.id;
    readOpen();
    showBadge();
  };
  if (conv) {
    const res = await chatAPI.messages(conv.id);
    if (off.signal.aborted) return; // left while it loaded
    res.items.forEach((m) => add(m, false));
    earlier.hidden = !res.more;
    // (Busy, not disabled, while a page loads: a disabled button loses
    // the keyboard's focus to the document. Gone with the last page, the
    // focus goes to the oldest message.)
    let loadingEarlier = false;
    earlier.addEventListener("click", async () => {
      if (loadingEarlier) return;
      loadingEarlier = true;
      earlier.setAttribute("aria-busy", "true");
      try {
        const page = await chatAPI.messages(conv.id, Math.min(...seqs));
        const from = scroller.scrollHeight - window.scrollY;
        pinned = false;
        page.items.forEach((m) => add(m, false));
        window.scrollTo({ top: scroller.scrollHeight - from, behavior: "instant" });
        lastY = window.scrollY;
        if (!page.more) {
          const focused = document.activeElement === earlier;
          earlier.hidden = true;
          const oldest = list.firstElementChild;
          if (focused && oldest) {
            oldest.tabIndex = -1;
            oldest.focus({ preventScroll: true });
          }
        }
      } catch (err) {
        toast(reasonOf(err), "error");
      } finally {
        loadingEarlier = false;
        earlier.removeAttribute("aria-busy");
      }
    });
    pinned = true;
    toEnd(); // and again as each picture loads (keep)
    opened(conv, Math.max(0, ...seqs));
    read();
  }
  let wasOffline = false;
  const listener = {
    message: (m) => {
      if (conv && m.conversation_id === conv.id) {
        add(m);
        read();
      }
    },
    event: (f) => {
      if (f.type === "channel" && f.channel?.id === channelID) writable(f.channel);
      // Started on another device meanwhile: it opens here.
      if (f.type === "message" && !conv && f.conversation?.channel?.id === channelID) started(f.conversation);
      if (f.type === "typing" && conv && f.conversation_id === conv.id) {
        typing.textContent = (f.name || "Someone") + " is typing…";
        clearTimeout(typing.t);
        typing.t = setTimeout(() => (typing.textContent = ""), 4000);
      }
    },
    state: (s) => {
      // Back after a drop: what changed meanwhile was not told live.
      if (s === "live" && wasOffline) recheck();
      wasOffline = s === "offline";
      state.textContent = s === "offline" ? "Reconnecting…" : s === "closed" ? "Signed out." : "";
      state.hidden = !state.textContent;
    },
  };
  listeners.add(listener);
  listener.state(l?.state);
  // Left: the conversation is no longer open, so its new messages count
  // in the badge again, and no longer kept gap-free here.
  off.signal.addEventListener("abort", () => {
    listeners.delete(listener);
    if (!conv) return;
    l?.untrack(conv.id);
    if (openConv === conv.id) openConv = 0;
    showBadge();
  });

  // pending shows what is being sent, at the end of the thread.
  const pending = (label, clientID) => {
    const status = h("span", { class: "small muted status" }, "Sending…");
    const li = h("li", { class: "bubble mine pending", "data-client": clientID }, h("p", { dir: "auto" }, label), status);
    li.status = status;
    list.append(li);
    pinned = true;
    toEnd();
    return li;
  };
  // recheck asks whether the follower can still write (after a refusal,
  // or back from a drop: the chat may have been switched off, the channel
  // unfollowed elsewhere) and shows the composer or the notice in its
  // place, as when the screen opened so.
  const recheck = async () => {
    const now = await call("GET", `/channels/${channelID}`).catch(() => null);
    if (now) writable(now.channel);
  };
  // writable shows the composer, or instead the reason the follower
  // cannot write, as the channel now stands (ch: what changed of it).
  // Told live (the chat switched off or on, the channel unfollowed or
  // followed on another device), or after a refused send.
  const writable = (ch) => {
    if (off.signal.aborted) return;
    if ("chat_enabled" in ch) channel.chat_enabled = ch.chat_enabled;
    if ("following" in ch) channel.following = ch.following;
    const instead = noticeFor(channel);
    if (instead) {
      if (notice?.isConnected && notice.id === instead.id) return; // says so already
      tooLong.hidden = true;
      const focused = form.contains(document.activeElement);
      (form.isConnected ? form : notice)?.replaceWith(instead);
      notice = instead;
      announce.textContent = instead.textContent;
      if (focused) {
        // The keyboard's focus was in the composer: it goes to the reason.
        instead.tabIndex = -1;
        instead.focus({ preventScroll: true });
      }
    } else if (!form.isConnected) {
      overLimit();
      notice?.replaceWith(tooLong, form);
      notice = null;
    }
  };
  // failed turns a pending bubble into one that says it was not sent and
  // why, with a way to take it away, and to send it again (again) when a
  // later try may work: the network failed, the server was busy, the
  // follower sent too fast. The try again goes with the same client id, so
  // that what reached the server after all is stored once.
  // It keeps its client id: should the message turn out stored after all
  // (a try whose answer was lost), it gives way to it when it comes.
  const failed = (li, err, again) => {
    if (err?.code === "conflict") recheck();
    li.classList.remove("pending");
    li.classList.add("failed");
    const reason = h("p", { class: "reason", role: "alert" }, h("strong", {}, "Not sent. "), reasonOf(err));
    const dismiss = h("button", { class: "btn dismiss", type: "button" }, "Dismiss");
    dismiss.addEventListener("click", () => {
      li.remove();
      text.focus();
    });
    const transient = err?.code === "offline" || err?.code === "timeout" || err?.code === "too_many" || err?.status >= 500;
    const retry = again && transient ? h("button", { class: "btn retry", type: "button" }, "Try again") : null;
    retry?.addEventListener("click", () => {
      li.classList.remove("failed");
      li.classList.add("pending");
      const status = h("span", { class: "small muted status" }, "Sending…");
      li.status = status;
      li.querySelector(".actions").replaceWith(status);
      reason.remove();
      again();
    });
    li.status.replaceWith(reason, h("span", { class: "row actions" }, retry, dismiss));
    keep();
  };
  // started opens the conversation the first message created.
  const started = (c) => {
    if (conv || off.signal.aborted) return;
    opened(c, 0);
    l?.sync(c.id);
  };

  // overLimit says how much too long the text is, as the server counts:
  // characters (code points) of the trimmed text.
  const overLimit = () => {
    const n = [...text.value.trim()].length - MAX_TEXT;
    tooLong.textContent = n > 0 ? `Use at most ${MAX_TEXT} characters: ${n} too many.` : "";
    tooLong.hidden = n <= 0;
    text.toggleAttribute("aria-invalid", n > 0);
    return n > 0;
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    if (overLimit()) {
      text.focus();
      return;
    }
    text.value = "";
    fit();
    const clientID = newClientID();
    sendText(pending(value, clientID), value, clientID);
  });
  const sendText = async (li, value, clientID) => {
    for (;;) {
      try {
        const ack = await l.request({ type: "send", channel_id: channelID, text: value, client_id: clientID });
        started(ack.conversation);
        add(ack.message);
        return;
      } catch (err) {
        if (err.code === "offline" || err.code === "timeout") {
          // Sent again with the same key (stored once) when the connection is back.
          li.status.textContent = "Waiting for the connection…";
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        failed(li, err, () => sendText(li, value, clientID));
        return;
      }
    }
  };
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  // The composer grows with its text, a line at a time, up to its CSS
  // max-height (then it scrolls), and shrinks back when sent.
  const fit = () => {
    text.style.height = "auto";
    text.style.height = text.scrollHeight + text.offsetHeight - text.clientHeight + "px";
  };
  text.addEventListener("input", () => {
    fit();
    overLimit();
    if (conv && Date.now() - (text.t || 0) > 2000) {
      text.t = Date.now();
      l?.send({ type: "typing", conversation_id: conv.id });
    }
  });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    file.value = "";
    if (!f) return;
    const clientID = newClientID();
    const li = pending(f.name, clientID);
    // Refused here rather than after uploading it all, in the server's words.
    if (page.chat_file_limit && f.size > page.chat_file_limit) {
      failed(li, { detail: page.chat_file_too_large });
      return;
    }
    sendFile(li, f, clientID);
  });
  const sendFile = async (li, f, clientID) => {
    try {
      const sent = await upload(channelID, f, clientID);
      started(sent.conversation);
      add(sent.message);
    } catch (err) {
      failed(li, err, () => sendFile(li, f, clientID));
    }
  };
  document.addEventListener("visibilitychange", read, { signal: off.signal });
}
