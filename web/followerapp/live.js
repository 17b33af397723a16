// Live: the chat's WebSocket client, shared by the follower app and the
// agents' chat in the partner admin (which imports /app/live.js). Plain ES
// module, no build step.
//
//   const live = new Live({ token, onMessage, onEvent, onState });
//   live.track(conversationId, lastSeq);   // keep this thread gap-free
//   await live.request({ type: "send", conversation_id, text, client_id });
//   live.state                             // the last state told to onState
//
// One connection per page. It reconnects with a growing delay after a drop
// and catches up: every tracked conversation is synced from the last
// message it holds. Messages carry gap-free numbers (seq) per
// conversation, so onMessage sees each message of a tracked conversation
// once and in order, whatever the network did: duplicates are dropped, a
// gap triggers a sync.

const PING_EVERY = 25000;
const ANSWER_WITHIN = 10000;

export class Live {
  constructor({ token = "", onMessage = () => {}, onEvent = () => {}, onState = () => {}, onHello = () => {} } = {}) {
    this.token = token;
    this.onMessage = onMessage; // (message, conversation) for each new message, in order
    this.onEvent = onEvent; // (frame) for every other frame: read, typing, messages of untracked conversations
    // ("connecting" | "live" | "offline" | "closed", detail); the last one
    // stays in state, for screens that come later.
    this.onState = (s, d) => {
      this.state = s;
      onState(s, d);
    };
    this.onHello = onHello;
    this.seqs = new Map(); // conversation id → last seq held
    this.held = new Map(); // conversation id → Map(seq → [message, conversation]) beyond a gap
    this.syncing = new Set();
    this.pending = new Map(); // ref → {resolve, reject, timer, data}
    this.queue = [];
    this.refs = 0;
    this.delay = 500;
    this.closed = false;
    this.ws = null;
    this.connect();
    this.pinger = setInterval(() => this.ping(), PING_EVERY);
    this.off = new AbortController();
    addEventListener("online", () => this.reconnectNow(), { signal: this.off.signal });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.reconnectNow();
    }, { signal: this.off.signal });
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/api/v1/ws";
  }

  connect() {
    if (this.closed) return;
    this.onState("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      if (this.token) ws.send(JSON.stringify({ type: "auth", token: this.token }));
    };
    ws.onmessage = (e) => {
      this.lastFrame = Date.now();
      // Frames that waited together come in one message, one per line.
      for (const line of String(e.data).split("\n")) {
        let f;
        try {
          f = JSON.parse(line);
        } catch {
          continue;
        }
        this.receive(f);
      }
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const [ref, p] of this.pending) this.fail(ref, p, Object.assign(new Error("The connection dropped."), { code: "offline" }));
      if (e.code === 4401 || e.code === 4403) {
        this.closed = true;
        this.onState("closed", { code: e.code, reason: e.reason });
        return;
      }
      this.onState("offline");
      this.retry = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
  }

  reconnectNow() {
    if (this.closed) return;
    if (this.ws && this.ws.readyState <= 1) {
      this.ping();
      return;
    }
    // Back online or back in view: try now, not when the backed-off
    // attempt comes (up to 15 s away).
    clearTimeout(this.retry);
    this.delay = 500;
    this.connect();
  }

  // ping asks for an answer; a connection that stays silent is dropped
  // and made again (the network may have gone without a close).
  ping() {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return;
    const sent = Date.now();
    ws.send(JSON.stringify({ type: "ping" }));
    setTimeout(() => {
      if (this.ws === ws && (this.lastFrame || 0) < sent) ws.close();
    }, ANSWER_WITHIN);
  }

  receive(f) {
    switch (f.type) {
      case "hello":
        this.delay = 500;
        this.onState("live");
        this.onHello(f);
        for (const m of this.queue.splice(0)) this.ws.send(m);
        for (const id of this.seqs.keys()) this.sync(id);
        return;
      case "message":
        if (f.message && this.seqs.has(f.message.conversation_id)) {
          this.accept(f.message, f.conversation);
          this.onEvent({ ...f, tracked: true });
        } else {
          this.onEvent(f);
        }
        return;
      case "synced":
        this.syncing.delete(f.conversation.id);
        for (const m of f.messages || []) this.accept(m, f.conversation);
        if (f.more) this.sync(f.conversation.id);
        break;
      case "resync":
        for (const id of this.seqs.keys()) this.sync(id);
        break;
    }
    if (f.ref && this.pending.has(f.ref)) {
      const p = this.pending.get(f.ref);
      this.pending.delete(f.ref);
      clearTimeout(p.timer);
      if (f.type === "error") p.reject(Object.assign(new Error(f.detail || "Refused."), f));
      else p.resolve(f);
      return;
    }
    this.onEvent(f);
  }

  // track keeps a conversation's messages gap-free from lastSeq on.
  track(id, lastSeq = 0) {
    this.seqs.set(id, lastSeq);
    this.held.set(id, new Map());
  }

  untrack(id) {
    this.seqs.delete(id);
    this.held.delete(id);
  }

  accept(m, conversation) {
    const id = m.conversation_id;
    if (!this.seqs.has(id)) return;
    const last = this.seqs.get(id);
    if (m.seq <= last) return; // held already
    if (m.seq > last + 1) {
      this.held.get(id).set(m.seq, [m, conversation]);
      this.sync(id);
      return;
    }
    this.seqs.set(id, m.seq);
    this.onMessage(m, conversation);
    const held = this.held.get(id);
    let next = held.get(m.seq + 1);
    while (next) {
      held.delete(next[0].seq);
      this.seqs.set(id, next[0].seq);
      this.onMessage(next[0], next[1]);
      next = held.get(next[0].seq + 1);
    }
  }

  sync(id) {
    if (this.syncing.has(id)) return;
    this.syncing.add(id);
    this.send({ type: "sync", conversation_id: id, after_seq: this.seqs.get(id) || 0 });
    setTimeout(() => this.syncing.delete(id), 5000);
  }

  send(obj) {
    this.sendData(JSON.stringify(obj), obj.type);
  }

  sendData(data, type) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(data);
    else if (type !== "typing" && type !== "ping") this.queue.push(data);
  }

  // request sends and waits for the answer ({type: "ack"|"synced"}), or
  // rejects with the error frame (code, detail, fields, owner).
  request(obj, timeout = 15000) {
    const ref = "r" + ++this.refs;
    // Closed for good (signed out): no answer will ever come.
    if (this.closed) return Promise.reject(Object.assign(new Error("The connection has closed: sign in again."), { code: "closed" }));
    const data = JSON.stringify({ ...obj, ref });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(ref, this.pending.get(ref), Object.assign(new Error("No answer from the server."), { code: "timeout" }));
      }, timeout);
      this.pending.set(ref, { resolve, reject, timer, data });
      this.sendData(data, obj.type);
    });
  }

  // fail rejects a request that will get no answer here. Its frame, if it
  // still waits for a connection, waits no more: the caller decides
  // whether to ask again (a follower's message is sent again every second
  // while offline, and a frame kept for each try went out all at once
  // when the connection came, counted against the sender's rate).
  fail(ref, p, err) {
    if (!p) return;
    this.pending.delete(ref);
    clearTimeout(p.timer);
    const queued = this.queue.indexOf(p.data);
    if (queued >= 0) this.queue.splice(queued, 1);
    p.reject(err);
  }

  close() {
    this.closed = true;
    clearInterval(this.pinger);
    this.off.abort();
    const ws = this.ws;
    this.ws = null;
    ws?.close();
  }
}

// newClientID makes an idempotency key: a message resent after a drop is
// stored once.
export function newClientID() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
