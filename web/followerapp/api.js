// The follower API client: the app talks to the server only through it.
const TOKEN = "regulars.token";
const TENANT = "regulars.tenant";

export class APIError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.status = status;
    this.code = problem.code;
    this.detail = problem.detail || problem.title || "";
    // A problem+json body names its per-field messages "errors"; the
    // realtime error frames call them "fields".
    this.fields = problem.errors || problem.fields || {};
  }
}

// reasonOf is what to tell the follower about a refusal where no form
// field can be highlighted (the chat): the specific messages of the
// fields when there are any, else the detail. It takes API errors and
// realtime error frames alike.
export function reasonOf(err, fallback = "Something went wrong. Try again.") {
  const fields = [...new Set(Object.values(err?.fields || {}).filter((v) => typeof v === "string" && v))];
  if (fields.length) return fields.join(" ");
  return err?.detail || err?.message || fallback;
}

export const session = {
  get token() { return localStorage.getItem(TOKEN); },
  set token(t) { t ? localStorage.setItem(TOKEN, t) : localStorage.removeItem(TOKEN); },
  get tenant() { return localStorage.getItem(TENANT) || ""; },
  set tenant(t) { t ? localStorage.setItem(TENANT, t) : localStorage.removeItem(TENANT); },
};

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session.token) headers.Authorization = "Bearer " + session.token;
  const res = await fetch("/api/v1/follower" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({ detail: "The server answered something unexpected." }));
  if (!res.ok) {
    if (res.status === 401 && session.token && !path.startsWith("/sign")) {
      session.token = null;
      location.hash = "#/signin";
    }
    throw new APIError(data, res.status);
  }
  return data;
}

export const api = {
  signUp: (b) => call("POST", "/signup", b),
  signIn: (b) => call("POST", "/signin", b),
  signOut: () => call("POST", "/signout"),
  me: () => call("GET", "/me"),
  saveMe: (b) => call("PUT", "/me", b),
  code: () => call("GET", "/me/code"),
  channels: (q) => call("GET", "/channels" + (q ? "?q=" + encodeURIComponent(q) : "")),
  channel: (id) => call("GET", `/channels/${id}`),
  follow: (id) => call("POST", `/channels/${id}/follow`),
  unfollow: (id) => call("POST", `/channels/${id}/unfollow`),
  notifications: (id, enabled) => call("PUT", `/channels/${id}/notifications`, { enabled }),
  openMessage: (id) => call("POST", `/messages/${id}/open`),
  follows: () => call("GET", "/follows"),
  coupons: () => call("GET", "/coupons"),
  enable: (id) => call("POST", `/coupons/${id}/enable`),
  redeem: (id) => call("POST", `/activations/${id}/redeem`),
  programs: () => call("GET", "/programs"),
  join: (id) => call("POST", `/programs/${id}/join`),
  ledger: (id) => call("GET", `/programs/${id}/ledger`),
  activity: () => call("GET", "/activity"),
  inbox: () => call("GET", "/notifications"),
  read: (id) => call("POST", `/notifications/${id}/read`),
};
