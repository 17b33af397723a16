// Maps of the locations pages. Loaded by app.js for elements with
// data-module; Leaflet is loaded on first use from the URLs the element
// carries (data-leaflet, data-leaflet-css).
//
//   data-map="overview"  every location: pins for stores, circles for
//                        targeting areas (data-points: JSON list)
//   data-map="editor"    the location form: a draggable pin bound to the
//                        #f-lat / #f-lng inputs, the radius circle bound to
//                        #f-radius, and the address search.
//
// Tiles come from data-tiles; when they fail (no network) the map still
// works on its grey background: pins, circles and coordinates need no tiles.

const doc = document;
const MIN_RECOMMENDED = 100;
const MAX_RADIUS = 50000;
const TARGET_COLOUR = "#d9480f";

let leaflet;

function loadLeaflet(el) {
  if (window.L) return Promise.resolve(window.L);
  leaflet ??= new Promise((resolve, reject) => {
    const css = doc.createElement("link");
    css.rel = "stylesheet";
    css.href = el.dataset.leafletCss;
    doc.head.append(css);
    const js = doc.createElement("script");
    js.src = el.dataset.leaflet;
    js.onload = () => resolve(window.L);
    js.onerror = () => reject(new Error("Leaflet did not load"));
    doc.head.append(js);
  });
  return leaflet;
}

function baseMap(L, el) {
  const map = L.map(el, { scrollWheelZoom: false, worldCopyJump: true });
  const tiles = L.tileLayer(el.dataset.tiles, {
    maxZoom: 19,
    attribution: el.dataset.attribution || "",
  });
  let failed = 0;
  tiles.on("tileerror", () => {
    if (++failed === 4) el.dataset.tilesFailed = "true"; // for people and tests: the map works without tiles
  });
  tiles.addTo(map);
  // Wheel zoom only after a click, so the page scrolls past the map.
  map.once("focus", () => map.scrollWheelZoom.enable());
  return map;
}

function escapeHTML(s) {
  const d = doc.createElement("div");
  d.textContent = s;
  return d.innerHTML;
}

/* ------------------------------------------------------------ overview */

function overview(L, el) {
  const points = JSON.parse(el.dataset.points || "[]");
  const map = baseMap(L, el);
  const layers = [];
  for (const p of points) {
    const popup = `<a href="${escapeHTML(p.url)}">${escapeHTML(p.name)}</a>`;
    if (p.radius > 0) {
      layers.push(
        L.circle([p.lat, p.lng], { radius: p.radius, color: TARGET_COLOUR, weight: 2, fillOpacity: 0.15 }).bindPopup(popup),
        L.circleMarker([p.lat, p.lng], { radius: 3, color: TARGET_COLOUR, fillOpacity: 1 }).bindPopup(popup),
      );
    } else {
      layers.push(L.marker([p.lat, p.lng], { title: p.name, alt: p.name }).bindPopup(popup));
    }
  }
  // Bounds from the data: a circle's own bounds need a map with a view.
  const bounds = L.latLngBounds([]);
  for (const p of points) bounds.extend(L.latLng(p.lat, p.lng).toBounds(Math.max(p.radius, 50) * 2));
  if (points.length) map.fitBounds(bounds.pad(0.1), { maxZoom: 16 });
  else map.setView([20, 0], 2);
  L.featureGroup(layers).addTo(map);
}

/* -------------------------------------------------------------- editor */

function parseNumber(s) {
  s = s.trim();
  if ((s.match(/,/g) || []).length === 1 && !s.includes(".")) s = s.replace(",", ".");
  if (s === "" || !/^[-+]?(\d+\.?\d*|\.\d+)$/.test(s)) return NaN;
  return Number(s);
}

function editor(L, el) {
  const form = el.closest("form");
  const lat = form.querySelector("#f-lat");
  const lng = form.querySelector("#f-lng");
  const radius = form.querySelector("#f-radius");
  const warning = form.querySelector("#radius-warning");
  const readonly = el.dataset.readonly === "true";
  const map = baseMap(L, el);

  let marker = null;
  let circle = null;

  function position() {
    const a = parseNumber(lat.value);
    const b = parseNumber(lng.value);
    if (Number.isNaN(a) || Number.isNaN(b) || a < -90 || a > 90 || b < -180 || b > 180) return null;
    return L.latLng(a, b);
  }

  function radiusValue() {
    const r = radius.value.trim().replace(/\s*m$/, "");
    return r === "" ? 0 : parseNumber(r);
  }

  function drawCircle() {
    const p = marker?.getLatLng();
    const r = radiusValue();
    const ok = p && r > 0 && r <= MAX_RADIUS;
    if (!ok) {
      circle?.remove();
      circle = null;
      return;
    }
    if (!circle) circle = L.circle(p, { radius: r, color: TARGET_COLOUR, weight: 2, fillOpacity: 0.15, interactive: false }).addTo(map);
    circle.setLatLng(p);
    circle.setRadius(r);
  }

  function updateWarning() {
    const r = radiusValue();
    warning.hidden = !(r > 0 && r < MIN_RECOMMENDED);
  }

  function writeInputs(p) {
    lat.value = p.lat.toFixed(6);
    lng.value = p.lng.toFixed(6);
    for (const input of [lat, lng]) input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function placeMarker(p, { pan = true, zoom } = {}) {
    if (!marker) {
      marker = L.marker(p, { draggable: !readonly, autoPan: true, title: "Location pin", alt: "Location pin", keyboard: true }).addTo(map);
      marker.on("drag", drawCircle);
      marker.on("dragend", () => {
        writeInputs(marker.getLatLng());
        drawCircle();
      });
    } else {
      marker.setLatLng(p);
    }
    drawCircle();
    if (zoom) map.setView(p, zoom);
    else if (pan) map.panTo(p);
  }

  const start = position();
  if (start) {
    placeMarker(start, { pan: false });
    const r = radiusValue();
    if (r > 0 && r <= MAX_RADIUS) map.fitBounds(L.latLng(start).toBounds(r * 2.6), { maxZoom: 17 });
    else map.setView(start, 16);
  } else {
    map.setView([30, 0], 2);
  }
  updateWarning();

  // The element is the test hook for the pin: tests read these.
  el.markerPosition = () => marker?.getLatLng() ?? null;
  el.leafletMap = map;
  el.dragMarkerTo = (p) => {
    if (!marker) placeMarker(L.latLng(p));
    marker.setLatLng(p);
    marker.fire("dragend");
  };

  if (readonly) return;

  map.on("click", (e) => {
    placeMarker(e.latlng, { pan: false });
    writeInputs(e.latlng);
  });
  for (const input of [lat, lng]) {
    input.addEventListener("input", () => {
      const p = position();
      if (p) placeMarker(p);
    });
  }
  radius.addEventListener("input", () => {
    updateWarning();
    drawCircle();
  });

  search(form, (place) => {
    const p = L.latLng(place.lat, place.lng);
    placeMarker(p, { zoom: 17 });
    writeInputs(p);
  });
}

/* -------------------------------------------------------------- search */

function search(form, choose) {
  const address = form.querySelector("#f-address");
  const button = form.querySelector("#address-search");
  const status = form.querySelector("#search-status");
  const list = form.querySelector("#address-results");
  if (!button || button.disabled) return;
  const idle = status.textContent;

  function say(text, error = false) {
    status.textContent = text;
    status.classList.toggle("field-error", error);
    status.classList.toggle("hint", !error);
  }

  async function run() {
    const q = address.value.trim();
    list.hidden = true;
    list.replaceChildren();
    if (q.length < 3) {
      say("Type at least 3 characters of the address.", true);
      address.focus();
      return;
    }
    button.disabled = true;
    say("Searching…");
    let body = null;
    let ok = false;
    try {
      const res = await fetch("/admin/locations/search?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } });
      ok = res.ok;
      body = await res.json();
    } catch {
      body = null;
    } finally {
      button.disabled = false;
    }
    if (!body || (!ok && !body.error)) {
      say("Address search is unavailable right now. Type the coordinates or drag the pin instead.", true);
      return;
    }
    if (!ok) {
      say(body.error, true);
      return;
    }
    if (!body.results.length) {
      say("No place found for this address. Try fewer words, or place the pin yourself.", true);
      return;
    }
    say(`${body.results.length} ${body.results.length === 1 ? "place" : "places"} found: choose one to place the pin.`);
    for (const place of body.results) {
      const li = doc.createElement("li");
      const b = doc.createElement("button");
      b.type = "button";
      b.textContent = place.name;
      b.addEventListener("click", () => {
        address.value = place.name.length <= 300 ? place.name : address.value;
        choose(place);
        list.hidden = true;
        say(idle);
        address.focus();
      });
      li.append(b);
      list.append(li);
    }
    list.hidden = false;
    list.querySelector("button")?.focus();
  }

  button.addEventListener("click", run);
  // Enter in the address searches; it must not submit the form (some
  // browsers submit on keypress, so both are stopped).
  address.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      run();
    }
  });
  address.addEventListener("keypress", (e) => {
    if (e.key === "Enter") e.preventDefault();
  });
  list.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      list.hidden = true;
      address.focus();
    }
  });
}

/* ---------------------------------------------------------------- init */

export async function init(el) {
  let L;
  try {
    L = await loadLeaflet(el);
  } catch {
    el.textContent = "The map could not load. You can still type the coordinates.";
    el.classList.add("map-failed");
    return;
  }
  if (el.dataset.map === "overview") overview(L, el);
  else editor(L, el);
  el.dataset.ready = "true";
}
