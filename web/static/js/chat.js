// The agents' chat, live: the list and the open thread update as events
// arrive over the WebSocket; the composer sends over it, asks before
// taking a conversation over from its owner, inserts canned responses
// (click, or "/" and a few letters), sends files and engagement cards.
// Without this script every link and form still works.

// The page marks its root with data-module, so app.js starts this module
// on a full load and after an htmx-boosted navigation alike (init). app.js
// itself is imported by the content-hashed URL the layout loaded it from,
// so that it is the very same module; live.js is the WebSocket client the
// follower app shares, served at /app/live.js and revalidated on load, and
// text.js (/app/text.js) the links in messages, the same in both.

const doc = document;
let active = null; // the running chat page: stopped when another starts
let confirmDialog, Live, newClientID, linkify;

export async function init(root) {
  ({ confirmDialog } = await import(root.dataset.appJs));
  ({ Live, newClientID } = await import(root.dataset.liveJs));
  ({ linkify } = await import(root.dataset.textJs));
  active?.stop();
  active = start(root);
}

function start(root) {
  doc.documentElement.classList.add("js");
  // Listeners outside the page's own elements end with it.
  const off = new AbortController();
  const signal = off.signal;
  doc.addEventListener("htmx:beforeSwap", () => stop(), { signal });
  const me = Number(root.dataset.me);
  const convID = Number(root.dataset.conversation || 0);
  const canAnswer = root.dataset.canAnswer === "1";
  const canManage = root.dataset.canManage === "1";
  const messages = doc.getElementById("messages");
  const typingLine = doc.getElementById("typing");
  const liveState = doc.getElementById("live-state");
  let owner = 0;
  let status = doc.getElementById("conv-status")?.dataset.status || "";
  let connected = false;
  let wasLive = false; // the first connection is not a "reconnection"

  localTimes(doc);
  if (messages) linkifyMessages(messages);

  const live = new Live({
    // The state shows above the composer (or the list, with no thread
    // open), and on the bubbles still waiting to go.
    onState(state, detail) {
      connected = state === "live";
      wasLive ||= connected;
      liveState.textContent =
        state === "closed" ? detail?.reason || "Signed out. Reload the page." : !connected && wasLive ? "Reconnecting… Messages you send wait for the connection." : "";
      for (const meta of messages?.querySelectorAll(".msg-pending .msg-meta") || []) meta.textContent = pendingNote();
      if (state === "closed" && detail?.code === 4401) location.reload();
    },
    onHello() {
      root.dataset.live = "1"; // connected: events reach this page from now on
      refreshList();
    },
    onMessage(m, conv) {
      if (m.conversation_id !== convID) return;
      showMessage(m);
      if (conv) showState(conv);
      if (m.author === "follower" && !messages?.dataset.older) markRead(m.seq); // read where it shows
      // What the follower did with a card, or a card sent, changes their
      // engagement history beside the thread.
      if (m.event === "activity" || m.kind === "engagement") refreshHistory();
    },
    onEvent(f) {
      switch (f.type) {
        case "message":
          listEvent(f);
          break;
        case "typing":
          if (f.conversation_id === convID) showTyping(f);
          break;
        case "read":
          if (f.author === "agent") setUnread(f.conversation_id, 0);
          break;
        case "profile":
          renamed(f.follower_id, f.name);
          break;
      }
    },
  });
  if (convID) {
    live.track(convID, Number(root.dataset.lastSeq || 0));
    owner = Number(doc.querySelector(`.conv[data-id="${convID}"]`)?.dataset.owner || 0);
  }

  /* ------------------------------------------------------------ list */

  // A reload of the list can be overtaken by live events: a row the
  // events changed while the list was being fetched would go back to what
  // the server rendered before them. So the newest fetch alone is applied,
  // and one that live changes overtook is followed by another.
  let refreshTimer = 0;
  let fetches = 0; // the newest fetch
  let liveChanges = 0; // rows changed by events
  function refreshList() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      const n = ++fetches;
      const seen = liveChanges;
      const q = new URLSearchParams({ tab: root.dataset.tab, q: root.dataset.q });
      const res = await fetch("/admin/chat" + (convID ? "/" + convID : "") + "?" + q, { headers: { "X-Fragment": "list" } }).catch(() => null);
      if (!res?.ok) return;
      const html = await res.text();
      if (n !== fetches) return; // a newer fetch is on its way
      const body = doc.getElementById("chat-list-body");
      const scroll = body.querySelector(".conversations")?.scrollTop || 0;
      // A keyboard user's place in the list survives it: the row (or tab)
      // they were on has the focus again.
      const on = body.contains(doc.activeElement) ? doc.activeElement : null;
      const row = on?.closest(".conv")?.dataset.id;
      const again = row ? `.conv[data-id="${row}"] a` : on?.id && "#" + CSS.escape(on.id);
      body.innerHTML = html;
      body.querySelector(".conversations").scrollTop = scroll;
      if (again) body.querySelector(again)?.focus({ preventScroll: true });
      localTimes(body);
      if (liveChanges !== seen) refreshList();
    }, 150);
  }

  // listEvent keeps the list current: a new message moves its row to the
  // top; a changed status or owner (a system line) or an unknown
  // conversation reloads the list, tab counts included.
  function listEvent(f) {
    const c = f.conversation;
    const row = doc.querySelector(`.conv[data-id="${c.id}"]`);
    if (!row || f.message.kind === "system") {
      refreshList();
      return;
    }
    liveChanges++;
    row.querySelector(".conv-preview").textContent = authorPrefix(f.message) + c.last_preview;
    const time = row.querySelector(".conv-time");
    time.setAttribute("datetime", c.last_message_at);
    localTimes(row);
    if (f.message.author === "follower" && c.id !== convID) {
      setUnread(c.id, Number(row.querySelector(".unread").textContent || 0) + 1);
    }
    const list = row.parentElement;
    if (list.firstElementChild !== row) list.prepend(row);
    row.classList.remove("conv-new");
    void row.offsetWidth;
    row.classList.add("conv-new");
  }

  // authorPrefix names who wrote a message in the list's preview: "You"
  // for the reader's own, another agent by first name, nothing for the
  // follower.
  function authorPrefix(m) {
    if (m.author !== "agent") return "";
    if (m.agent?.id === me) return "You: ";
    const first = (m.agent?.name || "").trim().split(/\s+/)[0];
    return first ? first + ": " : "";
  }

  // renamed shows a follower's new name wherever the page names them
  // (the server sends their end-user ID when they removed their name).
  function renamed(id, name) {
    for (const n of doc.querySelectorAll(`.conv[data-follower="${id}"] .conv-name`)) n.textContent = name;
    if (Number(root.dataset.follower) !== id) return;
    for (const n of doc.querySelectorAll("#thread-name, .history-who strong")) n.textContent = name;
    doc.getElementById("thread-name").title = name;
    doc.title = doc.title.replace(/^(\(\d+\) )?.*( · Chat)/, (_, count, rest) => (count || "") + name + rest);
  }

  function setUnread(id, n) {
    const badge = doc.querySelector(`.conv[data-id="${id}"] .unread`);
    if (!badge) return;
    badge.textContent = String(n);
    badge.hidden = n === 0;
  }

  doc.getElementById("chat-q")?.addEventListener("search", (e) => e.target.form.requestSubmit());

  /* ---------------------------------------------------------- thread */

  function showState(c) {
    owner = c.owner?.id || 0;
    // The page's flash ("The conversation is finished…", say) speaks of
    // the state the page came with: a live change makes it stale.
    if (c.status !== status) doc.querySelector("#main > .flashes")?.remove();
    status = c.status;
    const badge = doc.getElementById("conv-status");
    if (badge) badge.innerHTML = `<span class="badge badge-${c.status}">${cap(c.status)}</span>`;
    const who = doc.getElementById("conv-owner");
    if (who) {
      who.textContent = "";
      if (c.owner) who.append("Owner: ", el("strong", {}, c.owner.name));
      else who.append("No owner");
      if (c.owner) who.title = "Owner: " + c.owner.name;
      else who.removeAttribute("title");
    }
    const finish = doc.getElementById("finish-form");
    if (finish) finish.hidden = !(canAnswer && status !== "finished" && (owner === me || canManage));
    const warning = doc.getElementById("overtake-warning");
    if (warning && owner === me) warning.remove();
  }

  function nearBottom() {
    return messages && messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
  }

  // The thread stays pinned to its newest message while the reader is at
  // (or near) the bottom: pictures that load and a thread that changes
  // size keep it there. Scrolling up unpins it; new messages from others
  // then show a "New messages" button instead of moving the thread.
  let pinned = true;
  let autoTop = -1; // where scrollDown put the thread
  const below = messages && el("button", { type: "button", class: "btn btn-secondary btn-small new-below", id: "new-below", hidden: "" }, "New messages ↓");
  if (messages) {
    messages.after(below);
    below.addEventListener("click", () => scrollDown(true));
    messages.addEventListener("scroll", () => {
      // The scroll scrollDown made can arrive after a picture grew the
      // thread: that is not the reader scrolling up.
      if (pinned && messages.scrollTop === autoTop) return;
      pinned = nearBottom();
      if (pinned) {
        autoTop = messages.scrollTop;
        below.hidden = true;
      }
    }, { passive: true });
    // load does not bubble: listen while it goes down to the picture.
    messages.addEventListener("load", () => stuck() && scrollDown(true), true);
    if (typeof ResizeObserver === "function") {
      // The thread's own size, and each message's (a picture gets its size
      // before it has loaded).
      const resized = new ResizeObserver(() => stuck() && scrollDown(true));
      resized.observe(messages);
      for (const li of messages.children) resized.observe(li);
      const added = new MutationObserver((records) => {
        for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1) resized.observe(n);
      });
      added.observe(messages, { childList: true });
      signal.addEventListener("abort", () => {
        resized.disconnect();
        added.disconnect();
      });
    }
  }

  // stuck: pinned, and not scrolled away since (its scroll event may be
  // still to come).
  function stuck() {
    return pinned && (messages.scrollTop === autoTop || nearBottom());
  }

  function scrollDown(force) {
    if (!messages || !(force || stuck())) return;
    messages.scrollTop = messages.scrollHeight;
    autoTop = messages.scrollTop;
    pinned = true;
    below.hidden = true;
  }
  scrollDown(true);

  function showMessage(m) {
    if (!messages) return;
    // Shown already (a retry answered with a message the catch-up
    // brought): its bubble goes all the same.
    if (messages.querySelector(`[data-seq="${m.seq}"]`)) {
      if (m.client_id) messages.querySelector(`[data-client="${CSS.escape(m.client_id)}"]`)?.remove();
      return;
    }
    const mine = m.author === "agent" && m.agent?.id === me;
    if (messages.dataset.older) {
      // A page of earlier messages (opened without the script): newer ones
      // are not shown, so none goes under it. The agent's own message
      // takes them to the latest; others' are announced on the way back.
      const latest = doc.getElementById("latest");
      if (mine) location.assign(latest.href);
      else if (m.kind !== "system") latest.textContent = "New messages: back to the latest";
      return;
    }
    const stick = stuck() || nearBottom();
    // The agent's own bubble gives way to the message stored. Messages
    // keep the order of their numbers, with bubbles being sent last and
    // those not sent where they were written (see failed).
    if (m.client_id) messages.querySelector(`[data-client="${CSS.escape(m.client_id)}"]`)?.remove();
    const node = messageEl(m);
    const after = [...messages.querySelectorAll("[data-seq]")].find((x) => Number(x.dataset.seq) > m.seq);
    const firstPending = messages.querySelector(".msg-pending");
    messages.insertBefore(node, after || firstPending || null);
    if (typingFrom && m.author === typingFrom.author && (m.author !== "agent" || m.agent?.id === typingFrom.user_id)) clearTyping();
    if (stick || mine) scrollDown(true);
    else if (m.kind !== "system") below.hidden = false;
  }

  // "Earlier messages" puts the page before the oldest shown above it,
  // keeping the thread where the agent reads; the link opens that page
  // alone when the fetch fails.
  messages?.addEventListener("click", async (e) => {
    const link = e.target.closest("#earlier");
    if (!link) return;
    e.preventDefault();
    const res = await fetch(link.href, { headers: { "X-Fragment": "earlier" } }).catch(() => null);
    if (!res?.ok) {
      location.href = link.href;
      return;
    }
    const page = doc.createElement("template");
    page.innerHTML = await res.text();
    localTimes(page.content);
    linkifyMessages(page.content);
    const first = page.content.querySelector(".msg");
    const fromBottom = messages.scrollHeight - messages.scrollTop;
    link.closest("li").replaceWith(page.content);
    messages.scrollTop = messages.scrollHeight - fromBottom;
    // Focus stays in the thread: on the next "Earlier messages", or the
    // oldest message once there is none.
    const next = doc.getElementById("earlier") || first;
    if (next === first) first?.setAttribute("tabindex", "-1");
    next?.focus({ preventScroll: true });
  });

  // The typing line names who types; their message clears it.
  let typingTimer = 0;
  let typingFrom = null;
  function showTyping(f) {
    typingFrom = { author: f.author, user_id: f.user_id };
    typingLine.textContent = (f.name || "The follower") + " is typing";
    typingLine.append(doc.getElementById("typing-dots").content.cloneNode(true));
    clearTimeout(typingTimer);
    typingTimer = setTimeout(clearTyping, 4000);
  }

  function clearTyping() {
    clearTimeout(typingTimer);
    typingFrom = null;
    typingLine.textContent = "";
  }

  let readTimer = 0;
  function markRead(seq) {
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      if (!doc.hidden) live.send({ type: "read", conversation_id: convID, seq });
    }, 300);
  }
  doc.addEventListener("visibilitychange", () => {
    if (!doc.hidden && convID) live.send({ type: "read", conversation_id: convID, seq: live.seqs.get(convID) || 0 });
  }, { signal });

  /* -------------------------------------------------------- composer */

  const composer = doc.getElementById("composer");
  const text = doc.getElementById("composer-text");

  // send sends a message, asking to overtake when another agent owns the
  // conversation. The bubble shows at once and settles when stored. It
  // answers "sent", "declined" (the overtake question answered No: the
  // bubble is gone) or "failed" (the bubble says why; "retry" when it
  // offers Try again).
  function send(payload, label, card) {
    const clientID = newClientID();
    return sendAs(pendingBubble(label, clientID, card), payload, label, clientID);
  }

  async function sendAs(bubble, payload, label, clientID) {
    let overtake = 0;
    for (;;) {
      try {
        await live.request({ type: "send", conversation_id: convID, client_id: clientID, overtake_from: overtake, ...payload });
        bubble.classList.remove("msg-pending");
        return "sent";
      } catch (err) {
        if (err.code === "conflict" && err.owner) {
          const yes = await askOvertake(bubble, err.owner.name);
          if (yes) {
            overtake = err.owner.id;
            continue;
          }
          bubble.remove();
          return "declined";
        }
        if (err.code === "offline" || err.code === "timeout") {
          // Sent again with the same key: stored once however often.
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        const again = passing(err.code) ? () => sendAs(bubble, payload, label, clientID) : null;
        failed(bubble, label, err.detail || err.message, again);
        return again ? "retry" : "failed";
      }
    }
  }

  // passing: a refusal that a later try may not meet (sending too fast,
  // the server failing), so the bubble offers Try again.
  const passing = (code) => code === "too_many" || code === "internal";

  // askOvertake asks whether to take the conversation over from its
  // owner; meanwhile the bubble waiting on the answer says so, not
  // "Sending…".
  async function askOvertake(bubble, ownerName) {
    const meta = bubble.querySelector(".msg-meta");
    meta.textContent = "Not sent: waiting for your answer…";
    const yes = await confirmDialog(`${ownerName} is answering this conversation. Take it over?`, { label: "Yes, take it over" });
    meta.textContent = pendingNote();
    return yes;
  }

  // failed turns a pending bubble into one that says it was not sent and
  // why, with a way to dismiss it, and to send it again (again) when a
  // later try may work. A message not sent stays where it was written in
  // the thread: messages that came while it waited go under it, as they
  // came after it. Tried again, it goes to the end, where it is sent.
  function failed(bubble, label, reason, again) {
    bubble.classList.remove("msg-pending");
    bubble.classList.add("msg-failed");
    const text = bubble.querySelector(".msg-text");
    if (text) text.textContent = label;
    const dismiss = el("button", { type: "button", class: "btn btn-secondary btn-small msg-dismiss" }, "Dismiss");
    dismiss.addEventListener("click", () => {
      bubble.remove();
      doc.getElementById("composer-text")?.focus();
    });
    const retry = again && el("button", { type: "button", class: "btn btn-secondary btn-small msg-retry" }, "Try again");
    retry?.addEventListener("click", () => {
      actions.remove();
      bubble.classList.remove("msg-failed");
      bubble.classList.add("msg-pending");
      bubble.querySelector(".msg-meta").textContent = pendingNote();
      bubble.dataset.written = String(newestSeq());
      messages.append(bubble);
      scrollDown(true);
      doc.getElementById("composer-text")?.focus();
      again();
    });
    // The buttons go on a line of their own under the reason, so they are
    // in the same place whatever the reason's length.
    bubble.querySelector(".msg-meta").replaceChildren(el("strong", {}, "Not sent."), " " + reason);
    const actions = el("div", { class: "msg-actions" }, retry, dismiss);
    bubble.append(actions);
    const stick = stuck();
    messages.insertBefore(bubble, [...messages.children].find((n) => n !== bubble && laterThan(n, bubble)) || null);
    if (stick) scrollDown(true);
    bubble.scrollIntoView({ block: "nearest" }); // the reason in view
  }

  // newestSeq is the number of the thread's newest message shown.
  function newestSeq() {
    return Math.max(0, ...[...messages.querySelectorAll("[data-seq]")].map((n) => Number(n.dataset.seq)));
  }

  // laterThan: thread item n comes after the bubble b not sent (written
  // when message b.dataset.written was the newest): a message after that
  // one, a bubble being sent, or one not sent written later.
  let bubbles = 0; // bubbles written, in order
  function laterThan(n, b) {
    if (n.dataset.seq) return Number(n.dataset.seq) > Number(b.dataset.written);
    if (n.classList.contains("msg-pending")) return true;
    if (!n.classList.contains("msg-failed")) return false;
    const [nw, bw] = [Number(n.dataset.written), Number(b.dataset.written)];
    return nw > bw || (nw === bw && Number(n.dataset.n) > Number(b.dataset.n));
  }

  function pendingNote() {
    return connected ? "Sending…" : "Waiting for the connection…";
  }

  // pendingBubble shows a message on its way: its text, or the card it
  // sends (while it waits for the overtake question too).
  function pendingBubble(label, clientID, card) {
    const li = el("li", { class: "msg msg-agent msg-pending", "data-client": clientID, "data-written": String(newestSeq()), "data-n": String(++bubbles) });
    li.append(el("div", { class: "bubble" }, card || el("p", { class: "msg-text" }, label)), el("p", { class: "msg-meta" }, pendingNote()));
    messages.append(li);
    scrollDown(true);
    return li;
  }

  // A half-typed reply is kept per conversation for the browser tab's
  // life, so switching to another conversation and back does not lose it.
  const draftKey = `regulars.chat.draft.${me}.${convID}`;
  function saveDraft() {
    try {
      if (text.value.trim()) sessionStorage.setItem(draftKey, text.value);
      else sessionStorage.removeItem(draftKey);
    } catch {
      // Storage is off: the draft lives as long as the page.
    }
  }

  function setupComposer() {
    try {
      if (!text.value) text.value = sessionStorage.getItem(draftKey) || "";
    } catch {}
    // A tap or click on Send leaves the focus in the text box, as Enter
    // does: a phone's keyboard stays up for the next message. The focus
    // does not move on the press; where a browser moves it all the same
    // (a touch), the submit puts it back.
    const sendButton = doc.getElementById("send");
    let typing = false; // the text box had the focus when Send was pressed
    sendButton?.addEventListener("pointerdown", () => {
      typing = doc.activeElement === text;
    });
    sendButton?.addEventListener("mousedown", (e) => {
      if (doc.activeElement === text) e.preventDefault();
    });
    composer.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (e.submitter === sendButton && typing) text.focus({ preventScroll: true });
      typing = false;
      const value = text.value.trim();
      if (!value) return text.focus();
      text.value = "";
      saveDraft();
      closeMenu();
      // Back in the composer unless it was sent or its bubble offers
      // Try again (sent twice, else).
      const sent = await send({ text: value }, value);
      if (sent === "declined" || sent === "failed") {
        text.value = text.value || value;
        saveDraft();
      }
    });
    text.addEventListener("keydown", (e) => {
      if (menuKeys(e)) return;
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        composer.requestSubmit();
      }
    });
    let typedAt = 0;
    text.addEventListener("input", () => {
      saveDraft();
      updateMenu();
      if (Date.now() - typedAt > 2000) {
        typedAt = Date.now();
        live.send({ type: "typing", conversation_id: convID });
      }
    });

    // Canned responses: the picker inserts on click.
    const picker = doc.getElementById("canned-picker");
    picker?.addEventListener("click", (e) => {
      const item = e.target.closest(".canned-item");
      if (!item) return;
      insert(item.dataset.text, null);
      picker.open = false;
    });
    // Like a menu, it closes on a click anywhere else (Escape: below).
    doc.addEventListener("click", (e) => {
      if (picker?.open && !picker.contains(e.target)) picker.open = false;
    }, { signal });

    // Files go up as soon as they are chosen; the File button opens the
    // input of the form the script hides.
    const file = doc.getElementById("attach-file");
    const attach = doc.getElementById("attach-button");
    if (attach && file) {
      attach.hidden = false;
      attach.addEventListener("click", () => file.click());
    }
    if (canned.length) {
      // With the "/" menu the text box is a combobox (ARIA 1.2): the menu
      // is its listbox, the option chosen with the arrows its active one.
      for (const [k, v] of Object.entries({ role: "combobox", "aria-autocomplete": "list", "aria-controls": "canned-menu", "aria-expanded": "false" })) text.setAttribute(k, v);
    }
    file?.addEventListener("change", async () => {
      const f = file.files[0];
      if (f) await upload(f);
      file.value = "";
    });

    // Engagements: the picker opens in a dialog.
    doc.getElementById("engagement-button")?.addEventListener("click", (e) => {
      e.preventDefault();
      openPicker(e.currentTarget.href);
    });
  }

  /* "/" shortcut: the words after a slash pick a canned response. */

  const canned = JSON.parse(doc.getElementById("canned-data")?.textContent || "[]");
  const menu = doc.getElementById("canned-menu");
  let matches = [];
  let selected = 0;

  function slashQuery() {
    const before = text.value.slice(0, text.selectionStart);
    const m = /(^|\s)\/([^\s/]*)$/.exec(before);
    return m ? { query: m[2].toLowerCase(), start: before.length - m[2].length - 1 } : null;
  }

  function updateMenu() {
    const q = slashQuery();
    if (!q || !canned.length) return closeMenu();
    matches = canned.filter((c) => c.title.toLowerCase().includes(q.query) || c.category.toLowerCase().startsWith(q.query));
    matches.sort((a, b) => a.title.toLowerCase().indexOf(q.query) - b.title.toLowerCase().indexOf(q.query));
    if (!matches.length) return closeMenu();
    menu.replaceChildren(
      ...matches.slice(0, 8).map((c, i) => {
        // The category shows beside the title: letters may match it, not
        // the title ("/op" finds Opening hours' responses).
        const head = el("strong", {}, c.title, " ", el("small", { class: "canned-opt-cat" }, c.category));
        const li = el("li", { role: "option", id: "canned-option-" + i, "aria-selected": "false", title: c.text }, head, el("span", {}, c.text));
        li.addEventListener("mousedown", (e) => {
          e.preventDefault();
          choose(i);
        });
        return li;
      }),
    );
    menu.hidden = false;
    text.setAttribute("aria-expanded", "true");
    select(0);
  }

  // select marks an option chosen, for the eyes (in view) and for screen
  // readers (the combobox's active descendant).
  function select(i) {
    selected = i;
    menu.querySelectorAll("li").forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    const li = menu.children[i];
    text.setAttribute("aria-activedescendant", li.id);
    li.scrollIntoView({ block: "nearest" });
  }

  function closeMenu() {
    matches = [];
    if (!menu || !canned.length) return;
    menu.hidden = true;
    text.setAttribute("aria-expanded", "false");
    text.removeAttribute("aria-activedescendant");
  }

  function menuKeys(e) {
    if (!menu || menu.hidden || !matches.length) return false;
    const n = Math.min(matches.length, 8);
    switch (e.key) {
      case "ArrowDown":
      case "ArrowUp":
        select((selected + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
        break;
      case "Enter":
      case "Tab":
        choose(selected);
        break;
      case "Escape":
        closeMenu();
        break;
      default:
        return false;
    }
    e.preventDefault();
    return true;
  }

  function choose(i) {
    const q = slashQuery();
    insert(matches[i].text, q);
    closeMenu();
  }

  // insert puts s at the caret, or in place of the "/query" typed.
  function insert(s, q) {
    const start = q ? q.start : text.selectionStart;
    const end = text.selectionEnd;
    text.value = text.value.slice(0, start) + s + text.value.slice(end);
    text.focus();
    text.selectionStart = text.selectionEnd = start + s.length;
    saveDraft();
  }

  /* Files */

  async function upload(f) {
    const clientID = newClientID();
    const bubble = pendingBubble("Sending " + f.name, clientID);
    // Refused at once, in the server's words, rather than after the upload.
    const input = doc.getElementById("attach-file");
    if (f.size > Number(input.dataset.maxBytes)) {
      failed(bubble, f.name, input.dataset.tooLarge);
      return;
    }
    await uploadAs(bubble, f, clientID);
  }

  // uploadAs sends file f for its bubble; tried again (no network, too
  // fast, the server failing) with the same key, it is stored once.
  async function uploadAs(bubble, f, clientID) {
    const again = () => {
      bubble.querySelector(".msg-text").textContent = "Sending " + f.name;
      return uploadAs(bubble, f, clientID);
    };
    let overtake = 0;
    for (;;) {
      const body = new FormData();
      body.append("file", f);
      body.append("client_id", clientID);
      if (overtake) body.append("overtake_from", String(overtake));
      const res = await fetch(`/admin/chat/${convID}/attachments`, { method: "POST", body, headers: { Accept: "application/json" } }).catch(() => null);
      if (!res) {
        failed(bubble, f.name, "The server could not be reached.", again);
        return;
      }
      const out = await res.json().catch(() => ({}));
      if (res.ok) {
        bubble.remove();
        showMessage(out);
        return;
      }
      if (res.status === 409 && out.owner) {
        if (await askOvertake(bubble, out.owner.name)) {
          overtake = out.owner.id;
          continue;
        }
        bubble.remove();
        return;
      }
      const fields = out.fields ? Object.values(out.fields).join(" ") : "";
      failed(bubble, f.name, fields || out.detail || "Try again.", res.status === 429 || res.status >= 500 ? again : null);
      return;
    }
  }

  /* Engagement picker */

  let dialog;
  // openPicker shows the picker for url; after a filter (kind) the focus
  // goes back to that filter's chip, which the new content replaced.
  async function openPicker(url, kind) {
    const res = await fetch(url, { headers: { "X-Fragment": "1" } }).catch(() => null);
    if (!res?.ok) {
      location.href = url;
      return;
    }
    if (!dialog) {
      dialog = el("dialog", { class: "picker-dialog", "aria-label": "Send an engagement" });
      dialog.addEventListener("click", async (e) => {
        if (e.target === dialog) return dialog.close();
        const chip = e.target.closest(".chip");
        if (chip) {
          e.preventDefault();
          openPicker(chip.href, chip.dataset.kind);
        }
        if (e.target.closest(".picker-back, .picker-close")) {
          e.preventDefault();
          dialog.close();
        }
      });
      dialog.addEventListener("submit", async (e) => {
        const form = e.target.closest(".pick");
        if (!form) return;
        e.preventDefault();
        dialog.close();
        const name = form.querySelector("strong")?.textContent || "Engagement";
        // The card as the thread will show it (messageEl's eng-card).
        const card = el("div", { class: "eng-card" });
        for (const n of form.querySelectorAll(".pick-body > :not(.pick-note)")) card.append(n.cloneNode(true));
        await send({ engagement_id: Number(form.dataset.engagement) }, name, card);
      });
      doc.body.append(dialog);
    }
    dialog.innerHTML = await res.text();
    if (!dialog.open) dialog.showModal();
    if (kind !== undefined) dialog.querySelector(`.chip[data-kind="${CSS.escape(kind)}"]`)?.focus();
  }

  /* History panel */

  // Below 1440 px the history opens over the thread (chat.css). Closed,
  // it is off screen and inert: out of the keyboard's and screen readers'
  // way. The toggle is a link to #history, which opens it without the
  // script; here the toggle takes over from the address.
  const toggle = doc.getElementById("history-toggle");
  const panel = doc.getElementById("history");
  const overlay = matchMedia("(max-width: 1439.98px)");
  const setHistory = (open) => {
    root.classList.toggle("history-open", open);
    toggle?.setAttribute("aria-expanded", String(open));
    if (!panel) return;
    if (!open && panel.contains(doc.activeElement)) toggle?.focus();
    panel.inert = overlay.matches && !open;
  };
  const targeted = location.hash === "#history";
  if (targeted) history.replaceState(history.state, "", location.pathname + location.search);
  setHistory(targeted);
  overlay.addEventListener("change", () => setHistory(root.classList.contains("history-open")), { signal });
  toggle?.addEventListener("click", (e) => {
    e.preventDefault();
    const open = !root.classList.contains("history-open");
    setHistory(open);
    // Opened over the thread, the focus goes into it (its close button),
    // not on to the thread under it; closing puts it back on the toggle.
    if (open && overlay.matches) panel?.querySelector(".history-close")?.focus({ preventScroll: true });
  });
  // Over the thread, the history closes like a drawer on a click beside
  // it: what the agent clicked was under it, or next to it on a phone.
  doc.addEventListener("click", (e) => {
    if (!overlay.matches || !root.classList.contains("history-open") || !panel) return;
    if (panel.contains(e.target) || toggle?.contains(e.target) || e.target.closest?.("dialog")) return;
    setHistory(false);
  }, { signal });
  // loadHistory puts the panel for an activity filter in place, keeping
  // where it was scrolled to, and the focus on the filter pressed.
  async function loadHistory(kind, focus) {
    const res = await fetch(`/admin/chat/${convID}/history?kind=${encodeURIComponent(kind)}`).catch(() => null);
    if (!res?.ok || !panel) return;
    const scroll = panel.scrollTop;
    panel.innerHTML = await res.text();
    panel.scrollTop = scroll;
    localTimes(panel);
    if (focus) panel.querySelector(`.chip[data-kind="${CSS.escape(kind)}"]`)?.focus();
  }
  let historyTimer = 0;
  function refreshHistory() {
    clearTimeout(historyTimer);
    historyTimer = setTimeout(() => {
      const kind = doc.querySelector('#history .chip[aria-current="true"]')?.dataset.kind || "";
      loadHistory(kind);
    }, 200);
  }
  panel?.addEventListener("click", async (e) => {
    if (e.target.closest(".history-close")) {
      e.preventDefault();
      return setHistory(false);
    }
    const chip = e.target.closest(".chip");
    if (!chip) return;
    e.preventDefault();
    loadHistory(chip.dataset.kind, true);
  });
  // Escape closes the Canned picker, else the history over the thread (a
  // dialog and the "/" menu handle their own).
  doc.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || e.defaultPrevented || doc.querySelector("dialog[open]")) return;
    const picker = doc.getElementById("canned-picker");
    if (picker?.open) {
      picker.open = false;
      picker.querySelector("summary").focus();
    } else if (root.classList.contains("history-open")) setHistory(false);
  }, { signal });

  // Last: the composer uses the "/" menu's and the drafts' declarations.
  if (composer && canAnswer) setupComposer();

  // The list's links and search load a new page. Used from the keyboard,
  // the focus goes on where the agent was: a conversation opened (Enter
  // on its row) puts it in the composer (on the thread's name for a
  // reader), a tab keeps it on that tab, a search in the search box.
  const refocusKey = "regulars.chat.refocus";
  const refocusOn = (what) => {
    try {
      sessionStorage.setItem(refocusKey, what);
    } catch {}
  };
  doc.getElementById("chat-list-body")?.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    if (e.target.closest?.(".conv a")) refocusOn("thread");
    else if (e.target.closest?.(".chat-tabs .tab")) refocusOn("#" + e.target.closest(".tab").id);
  }, { signal });
  doc.querySelector(".chat-search")?.addEventListener("submit", () => refocusOn("#chat-q"), { signal });
  let refocus = "";
  try {
    refocus = sessionStorage.getItem(refocusKey) || "";
    sessionStorage.removeItem(refocusKey);
  } catch {}
  if (refocus === "thread" && convID) {
    const name = doc.getElementById("thread-name");
    const target = (canAnswer && text) || name;
    if (target === name) name?.setAttribute("tabindex", "-1");
    target?.focus({ preventScroll: true });
  } else if (refocus.startsWith("#")) {
    const target = doc.querySelector(refocus);
    target?.focus({ preventScroll: true });
    if (target?.id === "chat-q") target.selectionStart = target.selectionEnd = target.value.length;
  }
  root.dataset.ready = "1"; // for tests: the page is live

  function stop() {
    off.abort();
    live.close();
    dialog?.remove();
    if (active?.root === root) active = null;
  }
  return { root, stop };
}

/* ------------------------------------------------------------ helpers */

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function cap(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

const sameDay = (a, b) => a.toDateString() === b.toDateString();

// localTimes shows <time datetime> in the reader's time zone.
function localTimes(scope) {
  const now = new Date();
  for (const t of scope.querySelectorAll("time[datetime]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (isNaN(d) || d.getFullYear() < 2000) {
      t.textContent = "";
      continue;
    }
    const clock = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    t.textContent = sameDay(d, now) ? clock : d.toLocaleDateString([], { day: "numeric", month: "short" }) + " " + clock;
    t.title = d.toLocaleString();
  }
}

// linkifyMessages makes the addresses in the messages of scope links.
function linkifyMessages(scope) {
  for (const p of scope.querySelectorAll(".msg:not(.msg-system) .msg-text")) p.replaceChildren(...linkify(p.textContent));
}

// fileSize says a size as the page does (fileSize in web/chat.go, which
// rounds the same way).
function fileSize(n) {
  if (n >= 1 << 20) return (Math.round((n * 10) / (1 << 20)) / 10).toFixed(1) + " MB";
  if (n >= 1 << 10) return Math.floor(n / (1 << 10)) + " kB";
  return n + " bytes";
}

const attachmentURL = (id) => `/admin/chat-files/${id}`;

// messageEl builds a message the way the page renders it.
function messageEl(m) {
  const time = el("time", { datetime: m.created_at });
  if (m.kind === "system") {
    const li = el("li", { class: "msg msg-system", "data-seq": String(m.seq) }, el("p", {}, el("span", { class: "msg-text" }, m.text), " · ", time));
    localTimes(li);
    return li;
  }
  const bubble = el("div", { class: "bubble" });
  const a = m.attachment;
  if (a) {
    if (a.content_type.startsWith("image/")) {
      bubble.append(el("a", { class: "att-img", href: attachmentURL(a.id), target: "_blank", rel: "noopener" }, el("img", { src: attachmentURL(a.id), alt: a.name, loading: "lazy" })));
    } else {
      const icon = document.getElementById("icon-clip").content.cloneNode(true);
      bubble.append(el("a", { class: "att-file", href: attachmentURL(a.id) }, icon, ` ${a.name} `, el("span", { class: "muted" }, fileSize(a.size))));
    }
  }
  if (m.engagement) {
    const e = m.engagement;
    bubble.append(el("div", { class: "eng-card" }, el("span", { class: `eng-kind eng-${e.kind}` }, e.kind), el("strong", {}, e.name), e.description ? el("span", { class: "muted" }, e.description) : null));
  }
  if (m.text) bubble.append(el("p", { class: "msg-text" }, ...linkify(m.text)));
  const li = el("li", { class: `msg msg-${m.author}`, "data-seq": String(m.seq) }, bubble, el("p", { class: "msg-meta" }, (m.author === "agent" ? m.agent?.name || "Agent" : "Follower") + " · ", time));
  localTimes(li);
  return li;
}
