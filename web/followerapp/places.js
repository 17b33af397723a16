// Places in the follower app: a channel's shops (list and map, with the
// distance when the follower's position is known) and the position the app
// reports to the server for proximity offers, from the browser's
// geolocation or typed by hand for testing.
import { call, APIError } from "./api.js";

const LEAFLET = "/static/leaflet-1.9.4/vendor/leaflet/"; // pinned version in the path: cached for good
const POSITION = "regulars.position"; // the last position, for distances

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/* ------------------------------------------------------------ position */

export function lastPosition() {
  try {
    const p = JSON.parse(sessionStorage.getItem(POSITION));
    return p && Number.isFinite(p.lat) && Number.isFinite(p.lng) ? p : null;
  } catch {
    return null;
  }
}

// report sends a position; it answers what fired.
export async function report(lat, lng, accuracy) {
  const body = { lat, lng };
  if (Number.isFinite(accuracy)) body.accuracy = accuracy;
  const res = await call("POST", "/position", body);
  sessionStorage.setItem(POSITION, JSON.stringify({ lat, lng }));
  return res;
}

const outcomes = {
  message_delivered: (f) => `New message: ${f.name}`,
  coupon_enabled: (f) => `Coupon enabled: ${f.name}`,
  coupon_available: (f) => `Coupon available nearby: ${f.name}`,
  points_awarded: (f) => `${f.points} points from ${f.name}`,
  visit_recorded: (f) => `Visit recorded: ${f.name}`,
};

export function describe(res) {
  if (res.note) return res.note;
  if (!res.fired.length) return "Position sent. Nothing new here.";
  return res.fired.map((f) => (outcomes[f.outcome] || ((x) => x.name))(f)).join(" · ");
}

let watch = null;
let lastSent = 0;

// positionCard is the "My location" card of the Me page.
export function positionCard(toast) {
  const status = h("p", { class: "small muted", id: "position-status", role: "status" },
    watch !== null ? "Sharing your location while the app is open." : "Share your location to get offers from places near you.");
  const share = h("button", { class: "btn", type: "button", id: "share-location" }, watch !== null ? "Stop sharing" : "Share my location");
  share.addEventListener("click", () => {
    if (watch !== null) {
      navigator.geolocation.clearWatch(watch);
      watch = null;
      share.textContent = "Share my location";
      status.textContent = "Location sharing is off.";
      return;
    }
    if (!("geolocation" in navigator)) {
      status.textContent = "This browser cannot tell your location; type it below instead.";
      return;
    }
    status.textContent = "Asking for your location…";
    watch = navigator.geolocation.watchPosition(
      async (pos) => {
        // At most one report every 30 seconds while moving.
        if (Date.now() - lastSent < 30000) return;
        lastSent = Date.now();
        try {
          const res = await report(pos.coords.latitude, pos.coords.longitude, pos.coords.accuracy);
          status.textContent = describe(res);
          if (res.fired.length) toast(describe(res));
        } catch (err) {
          status.textContent = err instanceof APIError ? err.message : "Your position could not be sent.";
        }
      },
      (err) => {
        status.textContent = err.code === 1 ? "Location access was denied. You can type a position below." : "Your location is unavailable right now.";
        navigator.geolocation.clearWatch(watch);
        watch = null;
        share.textContent = "Share my location";
      },
      { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 },
    );
    share.textContent = "Stop sharing";
  });

  const lat = h("input", { name: "lat", inputmode: "decimal", placeholder: "51.5074", id: "typed-lat", "aria-label": "Latitude" });
  const lng = h("input", { name: "lng", inputmode: "decimal", placeholder: "-0.1278", id: "typed-lng", "aria-label": "Longitude" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "stack", id: "typed-position" },
    h("p", { class: "small muted" }, "Or type a position (for testing):"),
    h("div", { class: "row" }, lat, lng),
    error,
    h("button", { class: "btn", type: "submit" }, "Send this position"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const a = Number(lat.value.trim().replace(",", "."));
    const b = Number(lng.value.trim().replace(",", "."));
    if (lat.value.trim() === "" || lng.value.trim() === "" || !Number.isFinite(a) || !Number.isFinite(b)) {
      error.textContent = "Type the latitude and longitude in degrees, e.g. 51.5074 and -0.1278.";
      return;
    }
    try {
      const res = await report(a, b, 10);
      status.textContent = describe(res);
      toast(describe(res));
    } catch (err) {
      error.textContent = err instanceof APIError ? err.message + " " + Object.values(err.fields).join(" ") : "The position could not be sent.";
    }
  });
  return h("div", { class: "card stack", id: "my-location" }, h("strong", {}, "My location"), status, share, form);
}

/* ---------------------------------------------------------------- shops */

let leaflet;

function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  leaflet ??= new Promise((resolve, reject) => {
    const css = h("link", { rel: "stylesheet", href: LEAFLET + "leaflet.css" });
    const js = h("script", { src: LEAFLET + "leaflet.js" });
    js.onload = () => resolve(window.L);
    js.onerror = reject;
    document.head.append(css, js);
  });
  return leaflet;
}

function distance(m) {
  if (m == null) return null;
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(m < 10000 ? 1 : 0)} km`;
}

// shops fills el with the store locations of a channel: a list (nearest
// first when the position is known) and a map.
export async function shops(channelId, el) {
  const p = lastPosition();
  const q = p ? `?lat=${encodeURIComponent(p.lat)}&lng=${encodeURIComponent(p.lng)}` : "";
  let res;
  try {
    res = await call("GET", `/channels/${channelId}/locations${q}`);
  } catch {
    el.replaceChildren();
    return;
  }
  if (!res.items.length) {
    el.replaceChildren();
    return;
  }
  const list = h("ul", { class: "stack plain", id: "shops" }, res.items.map((s) =>
    h("li", { class: "card row shop", "data-shop": s.id },
      h("span", { class: "grow" }, h("strong", {}, s.name), s.address ? h("span", { class: "small muted" }, s.address) : null),
      s.distance != null ? h("span", { class: "pill", "data-distance": s.distance }, distance(s.distance)) : null)));
  const map = h("div", { class: "shop-map", id: "shop-map", role: "img", "aria-label": "Map of the shops" });
  el.replaceChildren(...[h("h3", {}, res.items.length === 1 ? "Our shop" : "Our shops"), map, list,
    p ? null : h("p", { class: "small muted" }, "Share your location on the Me page to see how far they are.")].filter(Boolean));
  try {
    const L = await loadLeaflet();
    const m = L.map(map, { scrollWheelZoom: false, attributionControl: true });
    if (res.map?.tile_url) L.tileLayer(res.map.tile_url, { maxZoom: 19, attribution: res.map.attribution || "" }).addTo(m);
    const markers = res.items.map((s) => L.marker([s.lat, s.lng], { title: s.name, alt: s.name }).bindPopup(h("span", {}, s.name)));
    if (p) markers.push(L.circleMarker([p.lat, p.lng], { radius: 7, color: "#fff", weight: 2, fillColor: "#2563eb", fillOpacity: 1 }).bindPopup("You"));
    const group = L.featureGroup(markers).addTo(m);
    m.fitBounds(group.getBounds().pad(0.3), { maxZoom: 16 });
    map.dataset.ready = "true";
  } catch {
    map.remove(); // the list is enough
  }
}
