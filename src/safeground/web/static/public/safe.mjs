// The returnee page: answers "Is it safe here?" and "How do I get there safely?" in az, ru, en.
// Before the district's bundle has arrived the server answers (/safe/api/check); once it is here
// (and with no signal at all) engine.mjs answers on the phone from the same data.
import { Engine, OutsideArea, fixed, grouped } from "/safe/assets/engine.mjs";

const CACHE = "safeground-public-v1";
const LANGS = ["az", "ru", "en"];
const I18N = JSON.parse(document.getElementById("i18n").textContent);
const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";

let lang = pickLang();
let engine = null;
let bundle = null;
let bundleTag = null;
let point = null; // the point last checked: {lon, lat}
let answer = null;
let routeAnswer = null;

function pickLang() {
  const saved = localStorage.getItem("safeground-lang");
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages || []) {
    const base = l.toLowerCase().split("-")[0];
    if (LANGS.includes(base)) return base;
  }
  return LANGS.includes(document.documentElement.lang) ? document.documentElement.lang : "az";
}
const T = () => I18N[lang];
const fmt = (s, p) => s.replace(/\{(\w+)\}/g, (_, k) => (k in p ? p[k] : `{${k}}`));
const num = (x) => (lang === "en" ? grouped(x) : grouped(x).replace(/,/g, "\u00a0"));

// -- words ----------------------------------------------------------------------------------------
export function tLabel(label, t = T()) {
  const L = t.labels;
  let m;
  if ((m = label.match(/^(confirmed hazardous area|suspected hazardous area|hazard area) (\S+) \((.+)\)$/)))
    return fmt(L.hazard, { cls: t.classes[m[1]] || m[1], uid: m[2], contam: t.contam[m[3]] || m[3] });
  if ((m = label.match(/^the recorded perimeter of minefield record (\S+)$/))) return fmt(L.record, { uid: m[1] });
  if ((m = label.match(/^cluster munition strike footprint (\S+) \(unexploded submunitions\)$/)))
    return fmt(L.strike, { uid: m[1] });
  if (label === "the place of an accident, not yet surveyed") return L.accident_unsurveyed;
  if (label === "the place of an accident (surveyed since)") return L.accident_surveyed;
  if ((m = label.match(/^area (\S+), released by survey or clearance$/))) return fmt(L.released, { uid: m[1] });
  if ((m = label.match(/^hazard area (\S+)$/))) return fmt(L.near_hazard, { uid: m[1] });
  if ((m = label.match(/^minefield record (\S+)$/))) return fmt(L.near_record, { uid: m[1] });
  if ((m = label.match(/^cluster strike (\S+)$/))) return fmt(L.near_strike, { uid: m[1] });
  return label;
}

export function verdictText(a, l = lang) {
  if (l === "en") return a.verdict; // word for word what `safeground check` says
  const t = I18N[l], V = t.verdict;
  const n0 = (x) => fixed(x);
  if (a.level === "danger") {
    const f = a.findings.find((x) => x.inside && x.blocks);
    const more = a.inside_more ? fmt(V.more, { n: a.inside_more }) : "";
    return fmt(V.danger, { label: tLabel(f.label, t), more });
  }
  if (a.level === "caution") {
    const f = a.findings[0];
    return fmt(V.caution, { d: n0(f.distance_m), label: tLabel(f.label, t), b: n0(f.buffer_m) });
  }
  const note = a.released.length ? fmt(V.note, { label: tLabel(a.released[0], t) }) : "";
  const far = a.nearest ? fmt(V.far, { d: grouped(a.nearest.distance_m).replace(/,/g, "\u00a0"), label: tLabel(a.nearest.label, t) }) : "";
  return fmt(V.none, { note, far });
}

export function routeText(r, l = lang) {
  if (l === "en" || !r.parts) return r.explanation; // as `safeground route` says it
  const t = I18N[l], R = t.route, p = r.parts;
  const g = (x) => grouped(x).replace(/,/g, "\u00a0");
  if (p.kind === "blocked")
    return R[p.why] + fmt(R.closest, { short: g(p.short_m), lat: fixed(p.lat, 5), lon: fixed(p.lon, 5), len: g(p.length_m) });
  let s = fmt(R.found, { len: g(p.length_m), near: p.near ? fmt(R.found_near, { nearlen: g(p.near_length_m) }) : R.found_clear });
  if (p.verified === "all") s += R.all_verified;
  else if (p.verified === "part") s += fmt(R.part_verified, { m: g(p.unverified_m) });
  if (p.mean_risk !== undefined) s += fmt(R.risk, { mean: fixed(p.mean_risk, 2), max: fixed(p.max_risk, 2) });
  return s;
}

function direction(a) {
  // the compass direction from the point to the nearest place of the nearest danger (grid north)
  if (!engine || !a.nearest || !(a.nearest.distance_m > 0)) return null;
  const f = engine.layers.flatMap((ly) => ly.features).find((x) => x.uid === a.nearest.uid);
  if (!f || !f.polygons) return null;
  const [px, py] = engine.toMetric(a.lon, a.lat);
  let best = null, bd = Infinity;
  for (const poly of f.polygons)
    for (const r of poly)
      for (let i = 0; i + 3 < r.length; i += 2) {
        const ax = r[i], ay = r[i + 1], bx = r[i + 2], by = r[i + 3];
        const len2 = (bx - ax) ** 2 + (by - ay) ** 2;
        const u = len2 ? Math.max(0, Math.min(1, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2)) : 0;
        const qx = ax + u * (bx - ax), qy = ay + u * (by - ay);
        const d = Math.hypot(qx - px, qy - py);
        if (d < bd) { bd = d; best = [qx, qy]; }
      }
  if (!best) return null;
  const bearing = (Math.atan2(best[0] - px, best[1] - py) * 180) / Math.PI;
  return T().dirs[Math.round(((bearing + 360) % 360) / 45) % 8];
}

// -- answers ---------------------------------------------------------------------------------------
async function checkAt(lon, lat) {
  point = { lon, lat };
  try {
    if (engine) answer = engine.check(lon, lat);
    else {
      const r = await fetch(`/safe/api/check?lon=${lon}&lat=${lat}`);
      const body = await r.json();
      if (!r.ok) throw Object.assign(new Error(body.message), { code: body.code });
      answer = body;
    }
  } catch (e) {
    answer = { error: e instanceof OutsideArea || e.code === "outside_area" ? "outside" : String(e.message || e) };
  }
  renderAnswer();
  drawPoint();
  window.safeground.answered = (window.safeground.answered || 0) + 1;
  return answer;
}

function renderAnswer() {
  if (!answer) return;
  const box = $("answer");
  box.hidden = false;
  if (answer.error) {
    box.className = "answer";
    $("answer-level").textContent = "";
    $("answer-text").textContent = answer.error === "outside" ? T().outside : answer.error;
    $("answer-nearest").textContent = "";
    return;
  }
  box.className = `answer ${answer.level}`;
  $("answer-level").textContent = T().level[answer.level];
  $("answer-text").textContent = verdictText(answer);
  const dir = direction(answer);
  $("answer-nearest").textContent =
    answer.nearest && answer.nearest.distance_m > 0 && dir
      ? fmt(T().nearest, { d: num(answer.nearest.distance_m), dir })
      : "";
}

function locate() {
  return new Promise((resolve) => locateThen(resolve));
}

function locateThen(done) {
  $("answer").hidden = false;
  $("answer").className = "answer";
  $("answer-level").textContent = "";
  $("answer-text").textContent = T().locating;
  if (!navigator.geolocation) { $("answer-text").textContent = T().no_location; return done(); }
  navigator.geolocation.getCurrentPosition(
    (pos) => checkAt(pos.coords.longitude, pos.coords.latitude).then(() => { zoomTo(point, 1500); done(); }),
    () => { $("answer-text").textContent = T().no_location; done(); },
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
  );
}

function routeTo(fromLonLat, name) {
  const place = bundle.places.find((p) => p.name === name);
  routeAnswer = { ...engine.route(fromLonLat, [place.lon, place.lat]), destination: place.name };
  renderRoute();
  drawRoute();
  return routeAnswer;
}

function renderRoute() {
  if (!routeAnswer) return;
  $("route-answer").hidden = false;
  $("route-answer").className = `answer ${routeAnswer.found ? "found" : "blocked"}`;
  $("route-text").textContent = routeText(routeAnswer);
  const ul = $("route-near");
  ul.replaceChildren(
    ...routeAnswer.near.slice(0, 6).map((n) => {
      const li = document.createElement("li");
      li.textContent = lang === "en" ? `passes ${fixed(n.distance_m)} m from ${n.label}` : fmt(T().route.passes, { d: fixed(n.distance_m), label: tLabel(n.label) });
      return li;
    }),
  );
}

// -- the map (SVG in the district's metric grid: no tiles, nothing to fetch) ------------------------
const svg = $("map");
const view = { x: 0, y: 0, w: 1000, h: 1000 };
function setView() {
  svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  const you = document.getElementById("you");
  if (you) you.setAttribute("r", String(view.w / 45)); // a marker the same size on the screen at any zoom
}
function el(tag, attrs, parent) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  (parent || svg).appendChild(e);
  return e;
}
const ringPath = (r) => { let d = ""; for (let i = 0; i < r.length; i += 2) d += `${i ? "L" : "M"}${r[i]} ${-r[i + 1]}`; return d + "Z"; };
const polyPath = (polys) => polys.map((p) => p.map(ringPath).join("")).join("");

function drawMap() {
  svg.replaceChildren();
  const g = el("g", { id: "base" });
  for (const a of bundle.map.areas)
    el("path", { d: polyPath(a.polygons), "fill-rule": "evenodd", fill: a.kind === "cemetery" ? "#c9dcc2" : "#e2dccf", stroke: "#b9b1a0", "stroke-width": 2 }, g);
  const style = { river: ["#6fa8dc", 6, ""], canal: ["#6fa8dc", 4, ""], road: ["#8a8a8a", 6, ""], path: ["#a08c6c", 3, "12 8"] };
  for (const [kind, lines] of Object.entries(bundle.map.lines)) {
    const [c, w, dash] = style[kind] || ["#999", 2, ""];
    const d = lines.map((l) => { let s = ""; for (let i = 0; i < l.length; i += 2) s += `${i ? "L" : "M"}${l[i]} ${-l[i + 1]}`; return s; }).join("");
    el("path", { d, fill: "none", stroke: c, "stroke-width": w, "stroke-dasharray": dash, "vector-effect": "non-scaling-stroke" }, g);
  }
  const dz = el("g", { id: "danger" });
  for (const ly of engine.layers) {
    const colour = ly.blocks ? "176,0,32" : "224,120,0";
    for (const f of ly.features) {
      if (!f.polygons) continue;
      const d = polyPath(f.polygons);
      el("path", { d, fill: "none", stroke: `rgba(${colour},0.22)`, "stroke-width": 2 * f.buffer, "stroke-linejoin": "round" }, dz);
      // a minefield record is evidence as first reported: drawn lighter, its outline dashed
      const record = ly.kind === "minefield_record";
      el("path", { d, fill: `rgba(${colour},${record ? 0.25 : 0.5})`, "fill-rule": "evenodd", stroke: `rgb(${colour})`, "stroke-width": 1.5,
        "stroke-dasharray": record ? "6 4" : "", "vector-effect": "non-scaling-stroke", "data-uid": f.uid }, dz);
    }
  }
  if (bundle.map.cleared && bundle.map.cleared.length)
    el("path", { d: polyPath(bundle.map.cleared), "fill-rule": "evenodd", fill: "rgba(27,122,58,0.35)", stroke: "rgb(27,122,58)",
      "stroke-width": 1, "vector-effect": "non-scaling-stroke", id: "cleared" });
  el("g", { id: "route-layer" });
  el("g", { id: "point-layer" });
  const r = bundle.region;
  const [x0, y0] = engine.toMetric(r[0], r[1]);
  const [x1, y1] = engine.toMetric(r[2], r[3]);
  Object.assign(view, { x: x0, y: -y1, w: x1 - x0, h: y1 - y0 });
  setView();
  drawRoute();
  drawPoint();
  if (point && !routeAnswer) zoomTo(point, 1500);
}

function drawPoint() {
  const layer = $("point-layer");
  if (!layer || !engine || !point) return;
  layer.replaceChildren();
  const [x, y] = engine.toMetric(point.lon, point.lat);
  el("circle", { cx: x, cy: -y, r: view.w / 45, fill: "#1d4ed8", stroke: "#fff", "stroke-width": 3, "vector-effect": "non-scaling-stroke", id: "you" }, layer);
}

function drawRoute() {
  const layer = $("route-layer");
  if (!layer || !routeAnswer || !engine) return;
  layer.replaceChildren();
  const N = engine.net.nodes;
  const d = routeAnswer.nodes.map((i, k) => `${k ? "L" : "M"}${N[2 * i]} ${-N[2 * i + 1]}`).join("");
  el("path", { d, fill: "none", stroke: "#fff", "stroke-width": 9, "vector-effect": "non-scaling-stroke", "stroke-linejoin": "round" }, layer);
  el("path", { d, id: "route-line", fill: "none", stroke: "#1d4ed8", "stroke-width": 5, "vector-effect": "non-scaling-stroke", "stroke-linejoin": "round" }, layer);
  const xs = routeAnswer.nodes.map((i) => N[2 * i]), ys = routeAnswer.nodes.map((i) => -N[2 * i + 1]);
  const pad = 300;
  const x0 = Math.min(...xs) - pad, x1 = Math.max(...xs) + pad, y0 = Math.min(...ys) - pad, y1 = Math.max(...ys) + pad;
  Object.assign(view, { x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  setView();
}

function zoomTo(p, half) {
  if (!engine || !p) return;
  const [x, y] = engine.toMetric(p.lon, p.lat);
  Object.assign(view, { x: x - half, y: -y - half, w: 2 * half, h: 2 * half });
  setView();
}

function svgPoint(evt) {
  const pt = svg.createSVGPoint();
  pt.x = evt.clientX; pt.y = evt.clientY;
  return pt.matrixTransform(svg.getScreenCTM().inverse());
}

let drag = null;
svg.addEventListener("pointerdown", (e) => { drag = { sx: e.clientX, sy: e.clientY, p: svgPoint(e), moved: false }; svg.setPointerCapture(e.pointerId); });
svg.addEventListener("pointermove", (e) => {
  if (!drag) return;
  if (Math.hypot(e.clientX - drag.sx, e.clientY - drag.sy) > 6) drag.moved = true;
  if (drag.moved) { const q = svgPoint(e); view.x -= q.x - drag.p.x; view.y -= q.y - drag.p.y; setView(); }
});
svg.addEventListener("pointerup", (e) => {
  const was = drag;
  drag = null;
  if (!was || was.moved || !engine) return;
  const q = svgPoint(e);
  const [lon, lat] = engine.toLonLat(q.x, -q.y);
  checkAt(lon, lat);
});
svg.addEventListener("wheel", (e) => {
  e.preventDefault();
  const q = svgPoint(e), k = e.deltaY > 0 ? 1.25 : 0.8;
  view.x = q.x - (q.x - view.x) * k; view.y = q.y - (q.y - view.y) * k; view.w *= k; view.h *= k;
  setView();
}, { passive: false });

// -- the page's text in the chosen language ------------------------------------------------------------
function fmtDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return fmt(T().date, { day: d, month: T().months[m - 1], year: y });
}

function renderStatic() {
  const t = T();
  document.documentElement.lang = lang;
  document.title = `${t.title} · SafeGround`;
  for (const id of ["title", "subtitle", "tap_hint", "route_title", "rules_title", "emergency_title", "maps_title", "disclaimer", "legend_danger", "legend_cleared", "legend_route"])
    if ($(id.replace(/_/g, "-"))) $(id.replace(/_/g, "-")).textContent = t[id];
  $("check-here").textContent = t.check_here;
  $("show-route").textContent = t.show_route;
  $("from-label").textContent = t.from;
  $("to-label").textContent = t.to;
  for (const b of document.querySelectorAll("#langs button")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  $("net").textContent = navigator.onLine ? "" : t.offline;
  $("net").className = navigator.onLine ? "" : "off";
  const info = bundle ? bundle.info : null;
  $("data-date").textContent = bundle ? (bundle.data_date ? fmt(t.data_date, { date: fmtDate(bundle.data_date) }) : t.data_unknown) : "";
  const rules = info && info.rules[lang] && info.rules[lang].length ? info.rules[lang] : t.default_rules;
  $("rules").replaceChildren(...rules.map((r) => Object.assign(document.createElement("li"), { textContent: r })));
  const nums = info ? info.emergency : [];
  $("emergency").replaceChildren(
    ...(nums.length
      ? nums.map((e) => {
          const li = document.createElement("li");
          const a = Object.assign(document.createElement("a"), { href: `tel:${e.number.replace(/[^+0-9]/g, "")}`, textContent: `${e.name}: ${e.number}` });
          li.appendChild(a);
          return li;
        })
      : [Object.assign(document.createElement("li"), { textContent: bundle ? t.no_numbers : "…" })]),
  );
  $("set-by").textContent = info && info.authority ? fmt(t.set_by, { authority: info.authority }) : "";
  if (bundle) renderPlaces();
  renderAnswer();
  renderRoute();
}

function option(value, text) { return Object.assign(document.createElement("option"), { value, textContent: text }); }

function renderPlaces() {
  const t = T();
  const from = $("from"), to = $("to");
  const keepFrom = from.value, keepTo = to.value;
  from.replaceChildren(option("", t.from_here), ...bundle.places.filter((p) => p.kind === "checkpoint").map((p) => option(p.name, p.name)));
  const groups = [];
  const cem = bundle.places.filter((p) => p.kind === "cemetery");
  if (cem.length) groups.push([t.cemeteries, cem]);
  const bySettlement = new Map();
  for (const p of bundle.places)
    if (p.kind !== "cemetery" && p.kind !== "checkpoint") {
      const s = p.settlement || (p.kind === "settlement" ? p.name : null);
      const k = s ? fmt(t.places_of, { settlement: s }) : t.other_places;
      if (!bySettlement.has(k)) bySettlement.set(k, []);
      bySettlement.get(k).push(p);
    }
  for (const [k, ps] of [...bySettlement.entries()].sort()) groups.push([k, ps.sort((a, b) => (a.kind === "settlement" ? -1 : 0) - (b.kind === "settlement" ? -1 : 0) || a.name.localeCompare(b.name))]);
  to.replaceChildren(
    ...groups.map(([label, ps]) => {
      const og = document.createElement("optgroup");
      og.label = label;
      og.append(...ps.map((p) => option(p.name, p.name)));
      return og;
    }),
  );
  if (keepFrom) from.value = keepFrom;
  if (keepTo) to.value = keepTo;
  const second = lang === "en" ? "az" : "en";
  $("maps").replaceChildren(
    ...bundle.places.filter((p) => p.kind === "settlement" || p.kind === "cemetery").map((p) => {
      const li = document.createElement("li");
      li.appendChild(Object.assign(document.createElement("a"), { href: `/safe/village-map/${encodeURIComponent(p.name)}?lang=${lang},${second}`, textContent: p.name }));
      return li;
    }),
  );
}

// -- the bundle: fetched when there is signal, kept for when there is none ----------------------------
async function loadBundle() {
  const r = await fetch("/safe/bundle.json", { cache: "no-cache" });
  if (!r.ok) throw new Error(`bundle: ${r.status}`);
  const tag = r.headers.get("ETag");
  if (bundle && tag && tag === bundleTag) return false;
  const copy = r.clone();
  const b = await r.json();
  if ("caches" in window) caches.open(CACHE).then((c) => c.put("/safe/bundle.json", copy)).catch(() => {});
  const fresh = bundle !== null;
  bundle = b;
  bundleTag = tag;
  engine = new Engine(bundle);
  drawMap();
  if (point) answer = engine.check(point.lon, point.lat);
  renderStatic();
  return fresh;
}

$("check-here").addEventListener("click", locate);
$("show-route").addEventListener("click", () => {
  if (!engine) return;
  const from = $("from").value;
  let origin;
  if (from) { const p = bundle.places.find((x) => x.name === from); origin = [p.lon, p.lat]; }
  else if (point) origin = [point.lon, point.lat];
  else { $("route-answer").hidden = false; $("route-text").textContent = T().need_point; return; }
  try {
    routeTo(origin, $("to").value);
  } catch (e) {
    $("route-answer").hidden = false;
    $("route-text").textContent = String(e.message || e);
  }
});
for (const b of document.querySelectorAll("#langs button"))
  b.addEventListener("click", () => { lang = b.dataset.lang; localStorage.setItem("safeground-lang", lang); renderStatic(); });
window.addEventListener("online", () => { renderStatic(); loadBundle().then((fresh) => fresh && ($("net").textContent = T().refreshed)).catch(() => {}); });
window.addEventListener("offline", renderStatic);

// for the tests and the benchmark: the same functions the buttons call
window.safeground = {
  checkAt,
  routeTo,
  verdictText,
  routeText,
  engine: () => engine,
  lastAnswer: () => answer,
  lastRoute: () => routeAnswer,
  checkMany: (points) => points.map(([lon, lat]) => { try { return engine.check(lon, lat); } catch (e) { return { error: e.message }; } }),
  routeMany: (trips) => trips.map(([from, name]) => { const p = bundle.places.find((x) => x.name === name); return engine.route(from, [p.lon, p.lat]); }),
};
renderStatic();
// where the phone may tell its place, answer that first (from the server: a few hundred bytes), then fetch
// the district's bundle, so a slow connection gives its first answer before the bundle has arrived
async function start() {
  let granted = false;
  try { granted = navigator.permissions && (await navigator.permissions.query({ name: "geolocation" })).state === "granted"; } catch { granted = false; }
  const first = granted ? locate() : Promise.resolve();
  await Promise.race([first, new Promise((r) => setTimeout(r, 4000))]);
  return loadBundle().catch((e) => { $("net").textContent = String(e.message || e); });
}
window.safeground.ready = start();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/safe/sw.js", { scope: "/safe/" }).catch(() => {});
