// The follower web app: a small mobile-first client written only against
// the follower API (see api.js). Hash routes: #/signin, #/signup,
// #/channels, #/channel/ID, #/coupons, #/points, #/inbox, #/me.
import { api, session, APIError } from "./api.js";
import { chatScreen, chatsScreen, watchUnread } from "./chat.js";
import { shops, positionCard } from "./places.js";

const view = document.getElementById("view");
const title = document.getElementById("title");
const tabs = document.getElementById("tabs");
const toastEl = document.getElementById("toast");

// h builds an element: h("p", {class: "x"}, "text", child…).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "html") el.innerHTML = v; // only for server-made SVG
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function toast(text, kind = "ok") {
  toastEl.textContent = text;
  toastEl.className = "toast-" + kind;
  toastEl.hidden = false;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => (toastEl.hidden = true), 4000);
}

function show(heading, ...nodes) {
  title.textContent = heading;
  document.title = heading + " · Regulars";
  view.replaceChildren(...nodes.flat());
  view.focus({ preventScroll: true });
  const tab = (location.hash.split("/")[1] || "").replace("channel", "channels").replace("channelss", "channels").replace(/^chat$/, "chats");
  for (const a of tabs.querySelectorAll("a")) a.toggleAttribute("aria-current", a.dataset.tab === tab);
}

const fmtDate = (s) => (s ? new Date(s).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" }) : "");
const fmtTime = (s) => (s ? new Date(s).toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }) : "");

// act runs an API call from a button, showing the refusal's reason.
async function act(button, fn, done) {
  button.disabled = true;
  try {
    const out = await fn();
    if (done) await done(out);
  } catch (err) {
    toast(err instanceof APIError ? err.message : "Something went wrong. Try again.", "error");
    button.disabled = false;
  }
}

function field(label, input, error) {
  return h("label", { class: "field" }, h("span", {}, label), input, error ? h("span", { class: "error" }, error) : null);
}

// formErrors shows a refusal on a form: each field's message under its
// field, which is marked invalid, and the detail above the button; a
// message for no field of this form goes there too. clearErrors undoes it.
function clearErrors(form, msg) {
  msg.textContent = "";
  form.querySelectorAll(".field > .error").forEach((e) => e.remove());
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

function formErrors(form, msg, err) {
  clearErrors(form, msg);
  const rest = [];
  let first = null;
  for (const [name, text] of Object.entries(err.fields || {})) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    const label = input?.closest(".field");
    if (!label) {
      rest.push(text);
      continue;
    }
    input.setAttribute("aria-invalid", "true");
    label.append(h("span", { class: "error" }, text));
    first ||= input;
  }
  msg.textContent = [err.message, ...rest].filter(Boolean).join(" ");
  first?.focus();
}

// ---- Signing up and in ----

function authForm(mode) {
  const params = new URLSearchParams(location.search);
  if (params.get("tenant")) session.tenant = params.get("tenant");
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: mode === "signup" ? "new-password" : "current-password", required: true, minlength: 8 });
  const name = h("input", { name: "name", autocomplete: "name" });
  const msg = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "card stack", id: mode + "-form" },
    mode === "signup" ? field("Your name (optional)", name) : null,
    field("Email", email), field("Password", password),
    msg,
    h("button", { class: "btn primary", type: "submit" }, mode === "signup" ? "Create account" : "Sign in"),
    h("p", { class: "muted center" }, mode === "signup" ? h("a", { href: "#/signin" }, "I have an account") : h("a", { href: "#/signup" }, "Create an account")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, msg);
    const body = { email: email.value, password: password.value };
    if (session.tenant) body.tenant = session.tenant;
    if (mode === "signup" && name.value) body.name = name.value;
    try {
      const s = mode === "signup" ? await api.signUp(body) : await api.signIn(body);
      session.token = s.token;
      location.hash = "#/channels";
      if (mode === "signup") toast("Welcome! Your end-user ID is " + s.follower.end_user_id + ".");
    } catch (err) {
      formErrors(form, msg, err);
    }
  });
  tabs.hidden = true;
  show(mode === "signup" ? "Create your account" : "Sign in", h("div", { class: "pad" }, h("p", { class: "lead" }, "Follow your favourite places, collect points and use coupons."), form));
}

// ---- Channels ----

function channelCard(c) {
  return h("a", { class: "card row channel", href: `#/channel/${c.id}`, "data-channel": c.id },
    c.logo_url ? h("img", { class: "logo", src: c.logo_url, alt: "" }) : h("span", { class: "logo empty", "aria-hidden": "true" }, c.name.slice(0, 1)),
    h("span", { class: "grow" }, h("strong", {}, c.name), h("span", { class: "muted small" }, c.description)),
    c.following ? h("span", { class: "pill" }, "Following") : null);
}

async function channels(show) {
  const q = h("input", { type: "search", placeholder: "Search channels", "aria-label": "Search channels", id: "search" });
  const list = h("div", { class: "stack", id: "channel-list" });
  const load = async () => {
    const res = await api.channels(q.value.trim());
    list.replaceChildren(...(res.items.length ? res.items.map(channelCard) : [h("p", { class: "muted" }, "No channel matches. Try another word.")]));
  };
  q.addEventListener("input", () => { clearTimeout(q.t); q.t = setTimeout(load, 250); });
  show("Channels", h("div", { class: "pad stack" }, q, list));
  await load();
}

function offer(o, page, reload) {
  const parts = [h("strong", {}, o.name), o.description ? h("p", { class: "muted small" }, o.description) : null];
  if (o.image_url) parts.unshift(h("img", { class: "offer-img", src: o.image_url, alt: "" }));
  const actions = h("div", { class: "row wrap" });
  if (o.kind === "coupon") {
    const c = o.coupon;
    const facts = [];
    if (c.point_cost) facts.push(`${c.point_cost} points${o.program_name ? " of " + o.program_name : ""}`);
    if (c.min_level_name) facts.push(`${c.min_level_name} level and above`);
    if (c.remaining != null) facts.push(`${c.remaining} left`);
    if (c.redemption_type === "auto_point") facts.push(`enables itself at ${c.auto_threshold} total points`);
    if (facts.length) parts.push(h("p", { class: "small" }, facts.join(" · ")));
    const a = o.my_activation;
    if (a && a.status === "active") {
      parts.push(h("p", { class: "pill ok" }, "Enabled"));
      if (c.redemption_type === "code") actions.append(h("a", { class: "btn", href: "#/me" }, "Show my code at the till"));
      else actions.append(h("button", { class: "btn primary", "data-redeem": a.id, onclick: (e) => act(e.target, () => api.redeem(a.id), (x) => redeemed(x, o)) }, "Redeem"));
    } else if (page.channel.following) {
      if (o.refusal) parts.push(h("p", { class: "refusal" }, o.refusal));
      else if (!c.redemption_type.startsWith("auto")) actions.append(h("button", { class: "btn primary", "data-enable": o.id, onclick: (e) => act(e.target, () => api.enable(o.id), () => { toast(o.name + " is enabled: find it in Coupons."); reload(); }) }, "Enable"));
    }
    if (o.redeemed_count) parts.push(h("p", { class: "small muted" }, `Redeemed ${o.redeemed_count}×`));
  }
  if (o.kind === "loyalty") {
    const p = o.program, m = o.my_membership;
    const rules = [];
    if (p.points_per_visit) rules.push(`${p.points_per_visit} ${p.point_plural} per visit`);
    if (p.points_per_amount) rules.push(`${p.points_per_amount} per € spent`);
    if (p.points_on_join) rules.push(`${p.points_on_join} for joining`);
    if (rules.length) parts.push(h("p", { class: "small" }, rules.join(" · ")));
    if (m) parts.push(h("p", { class: "pill ok" }, `${m.current_points} ${p.point_plural}${m.level_name ? " · " + m.level_name : ""}`));
    else if (page.channel.following) actions.append(h("button", { class: "btn primary", "data-join": o.id, onclick: (e) => act(e.target, () => api.join(o.id), () => { toast("Welcome to " + o.name + "!"); reload(); }) }, "Join"));
  }
  return h("li", { class: "card offer", "data-offer": o.id }, h("span", { class: "kind" }, o.kind === "loyalty" ? "Loyalty" : "Coupon"), ...parts, actions);
}

// redeemed shows the result of a redemption: a proof screen with a live
// clock for time-based coupons.
function redeemed(a, o) {
  if (a.proof_until) return proof(o.name || "Coupon", a.proof_until);
  toast((o.name || "Coupon") + " redeemed. Enjoy!");
  route();
}

function proof(name, until) {
  const clock = h("p", { class: "clock", id: "proof-clock" });
  const left = h("p", { class: "big", id: "proof-left" });
  const tick = () => {
    const ms = new Date(until) - Date.now();
    clock.textContent = new Date().toLocaleTimeString();
    if (ms <= 0) { left.textContent = "Proof screen ended"; return; }
    left.textContent = `${Math.floor(ms / 60000)}:${String(Math.floor(ms / 1000) % 60).padStart(2, "0")} left`;
    setTimeout(tick, 250);
  };
  show("Redeemed", h("div", { class: "proof pad", id: "proof" }, h("p", {}, "Show this screen to staff"), h("h2", {}, name), clock, left, h("a", { class: "btn", href: "#/coupons" }, "Done")));
  tick();
}

async function channel(id, show) {
  const page = await api.channel(id);
  const c = page.channel;
  const reload = () => channel(id, show);
  const head = h("div", { class: "card channel-head" },
    h("div", { class: "row" }, c.logo_url ? h("img", { class: "logo big", src: c.logo_url, alt: "" }) : h("span", { class: "logo big empty", "aria-hidden": "true" }, c.name.slice(0, 1)),
      h("div", { class: "grow" }, h("h2", {}, c.name), h("p", { class: "muted small" }, c.description))),
    h("div", { class: "row wrap" },
      c.following
        ? h("button", { class: "btn", id: "unfollow", onclick: (e) => act(e.target, () => api.unfollow(id), () => { toast("You no longer follow " + c.name + "."); reload(); }) }, "Following ✓")
        : h("button", { class: "btn primary", id: "follow", onclick: (e) => act(e.target, () => api.follow(id), () => { toast("You follow " + c.name + "."); reload(); }) }, "Follow"),
      c.following && c.chat_enabled ? h("a", { class: "btn", id: "chat", href: `#/chat/${id}` }, "Chat with us") : null,
      c.following ? h("label", { class: "switch" }, h("input", { type: "checkbox", id: "notify", checked: c.notifications, onchange: (e) => act(e.target, () => api.notifications(id, e.target.checked), () => { e.target.disabled = false; toast(e.target.checked ? "Notifications on." : "Notifications off."); }) }), " Notifications") : null));
  const offers = page.engagements.length
    ? h("ul", { class: "stack plain", id: "offers" }, page.engagements.map((o) => offer(o, page, reload)))
    : h("p", { class: "muted" }, "Nothing on offer right now.");
  const msgs = page.messages.map((m) => h("li", { class: "card message" + (m.opened_at ? "" : " unread"), "data-message": m.engagement_id },
    h("strong", {}, m.name), h("p", {}, m.text), m.image_url ? h("img", { class: "offer-img", src: m.image_url, alt: "" }) : null,
    m.link ? h("a", { href: m.link, rel: "noopener", target: "_blank" }, "Read more") : null,
    h("p", { class: "small muted" }, fmtTime(m.delivered_at))));
  const places = h("section", { class: "stack", id: "places" });
  show(c.name, h("div", { class: "pad stack" }, head, !c.following ? h("p", { class: "hint" }, "Follow to enable coupons, join programs and receive messages.") : null,
    places, h("h3", {}, "On offer"), offers, h("h3", {}, "Messages"), msgs.length ? h("ul", { class: "stack plain", id: "thread" }, msgs) : h("p", { class: "muted" }, "No messages yet.")));
  for (const m of page.messages) if (!m.opened_at) api.openMessage(m.engagement_id).catch(() => {});
  shops(id, places);
}

// ---- Coupons, points, inbox, me ----

async function coupons(show) {
  const res = await api.coupons();
  const items = res.items.map((c) => {
    const a = c.activation;
    const status = { active: "Enabled", redeemed: "Redeemed", expired: "Expired" }[a.status];
    const btn = a.status === "active" && c.coupon.redemption_type !== "code"
      ? h("button", { class: "btn primary", "data-redeem": a.id, onclick: (e) => act(e.target, () => api.redeem(a.id), (x) => redeemed(x, c)) }, c.coupon.redemption_type === "timed" ? "Redeem (3-minute proof)" : "Redeem")
      : a.status === "active" ? h("a", { class: "btn", href: "#/me" }, "Show my code at the till") : null;
    return h("li", { class: "card coupon " + a.status, "data-coupon": c.coupon_id }, h("span", { class: "kind" }, c.channel_name),
      h("strong", {}, c.name), h("p", { class: "small" }, status, a.valid_until && a.status === "active" ? " · valid until " + fmtDate(a.valid_until) : "", a.redeemed_at ? " · " + fmtTime(a.redeemed_at) : ""), btn);
  });
  show("My coupons", h("div", { class: "pad" }, items.length ? h("ul", { class: "stack plain", id: "my-coupons" }, items) : h("p", { class: "muted" }, "No coupons yet: enable one on a channel page.")));
}

async function points(show) {
  const [progs, act] = await Promise.all([api.programs(), api.activity()]);
  const cards = progs.items.map((p) => {
    const m = p.membership, next = p.next_level;
    const bar = next ? h("div", { class: "progress", role: "progressbar", "aria-valuenow": m.total_points, "aria-valuemax": next.threshold }, h("span", { style: `width:${Math.min(100, (100 * m.total_points) / next.threshold)}%` })) : null;
    return h("li", { class: "card program", "data-program": p.id }, h("span", { class: "kind" }, p.channel_name), h("strong", {}, p.name),
      h("div", { class: "row nums" },
        h("div", {}, h("span", { class: "num", "data-current": p.id }, m.current_points), h("span", { class: "small muted" }, "current " + p.program.point_plural)),
        h("div", {}, h("span", { class: "num", "data-total": p.id }, m.total_points), h("span", { class: "small muted" }, "total earned")),
        m.level_name ? h("div", {}, h("span", { class: "num" }, m.level_name), h("span", { class: "small muted" }, "level")) : null),
      bar, next ? h("p", { class: "small" }, `${next.threshold - m.total_points} more to ${next.name}`) : null);
  });
  const feed = act.items.map((a) => h("li", {}, h("span", { class: "small muted" }, fmtTime(a.created_at)), " ", a.text));
  show("Points", h("div", { class: "pad stack" },
    cards.length ? h("ul", { class: "stack plain", id: "programs" }, cards) : h("p", { class: "muted" }, "Join a loyalty program on a channel page to collect points."),
    h("h3", {}, "My activity"), h("ul", { class: "feed", id: "activity" }, feed.length ? feed : h("li", { class: "muted" }, "Nothing yet."))));
}

async function inbox(show) {
  const res = await api.inbox();
  const items = res.items.map((n) => h("li", { class: "card" + (n.read_at ? "" : " unread"), onclick: () => { if (!n.read_at) api.read(n.id).then(refreshUnread); if (n.channel_id) location.hash = `#/channel/${n.channel_id}`; } },
    h("strong", {}, n.title), h("p", {}, n.body), h("p", { class: "small muted" }, fmtTime(n.created_at))));
  show("Inbox", h("div", { class: "pad" }, items.length ? h("ul", { class: "stack plain", id: "inbox" }, items) : h("p", { class: "muted" }, "No notifications yet.")));
}

async function me(show) {
  const [p, code] = await Promise.all([api.me(), api.code()]);
  const sel = (name, value, options) => h("select", { name }, options.map(([v, l]) => h("option", { value: v, selected: (value || "") === v }, l)));
  const form = h("form", { class: "card stack", id: "profile" },
    field("Name", h("input", { name: "name", value: p.name || "" })),
    field("Email", h("input", { name: "email", type: "email", value: p.email, required: true })),
    field("Birth date", h("input", { name: "birth_date", type: "date", value: p.birth_date || "" })),
    field("Gender", sel("gender", p.gender, [["", "Prefer not to say"], ["female", "Female"], ["male", "Male"], ["other", "Other"]])),
    field("Language", sel("language", p.language, [["", "Prefer not to say"], ["en", "English"], ["de", "German"], ["fr", "French"], ["es", "Spanish"], ["it", "Italian"], ["pl", "Polish"], ["hr", "Croatian"], ["nl", "Dutch"], ["pt", "Portuguese"]])),
    h("p", { class: "error", role: "alert" }),
    h("button", { class: "btn primary", type: "submit" }, "Save"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const d = Object.fromEntries(new FormData(form));
    for (const k of ["birth_date", "gender", "language"]) if (!d[k]) d[k] = null; // unknown
    const msg = form.querySelector("p.error");
    clearErrors(form, msg);
    try { await api.saveMe(d); toast("Saved."); }
    catch (err) { formErrors(form, msg, err); }
  });
  show("Me", h("div", { class: "pad stack" },
    h("div", { class: "card center", id: "my-code" }, h("p", { class: "small muted" }, "Show this at the till"), h("div", { class: "qr", html: code.qr_svg }), h("p", { class: "euid", id: "euid" }, code.end_user_id)),
    form,
    positionCard(toast),
    h("button", { class: "btn", id: "signout", onclick: (e) => act(e.target, () => api.signOut(), () => { session.token = null; location.hash = "#/signin"; }) }, "Sign out")));
}

async function refreshUnread() {
  if (!session.token) return;
  const res = await api.inbox().catch(() => null);
  const el = document.getElementById("unread");
  if (res) { el.textContent = res.unread; el.hidden = res.unread === 0; }
}

// navigation counts the screens asked for: a screen shows only while it
// is the latest asked for (one that loads slowly must not replace the
// screen the follower went on to).
let navigation = 0;

async function route() {
  const nav = ++navigation;
  const current = (...args) => {
    if (nav !== navigation) return false;
    show(...args);
    return true;
  };
  const [, name, id] = location.hash.split("/");
  if (!session.token && name !== "signup") return authForm(name === "signup" ? "signup" : "signin");
  if (name === "signin" || name === "signup") return authForm(name);
  tabs.hidden = false;
  try {
    switch (name) {
      case "channel": await channel(id, current); break;
      case "coupons": await coupons(current); break;
      case "points": await points(current); break;
      case "inbox": await inbox(current); break;
      case "me": await me(current); break;
      case "chat": await chatScreen({ h, show: current, toast }, id); break;
      case "chats": await chatsScreen({ h, show: current }); break;
      default: await channels(current);
    }
  } catch (err) {
    if (err instanceof APIError && err.status === 401) return;
    current("Oops", h("p", { class: "pad error" }, err.message || "Something went wrong."));
  }
  if (nav !== navigation) return;
  refreshUnread();
  watchUnread(document.getElementById("chat-unread"));
}

window.addEventListener("hashchange", route);
route();
