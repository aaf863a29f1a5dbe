// The map of the record: MapLibre GL (vendored, no CDN), data from the OGC API (filtered by the
// reader's audience on the server: what a role may not read is never sent), IMSMA symbology from
// safeground.styles (passed in the page's config), a side panel per feature with its history, search,
// filters, and a date slider that redraws the record as it stood on a day (/collections/{id}/history).
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";
import { el, getJSON, showError, t } from "/static/workspace/common.mjs";
import { addDocumentLinks } from "/static/workspace/links.mjs";

const cfg = JSON.parse(document.getElementById("sg-map-config").textContent);
const readable = new Set(Object.values(cfg.prefixes));
const state = { asOf: null, loaded: new Map(), visible: new Set(), pending: 0 };
document.body.dataset.mapState = "loading";

// -- the base map: the store's own admin areas, settlements, roads and rivers, as vector tiles ------------
//: tiles of one collection as the reader may see them (tile_routes: cut from the reader's view on the server,
//: so a tile holds what the items hold); beyond MAXZOOM MapLibre draws the deepest tiles larger
const TILES = (coll, filter) => `${location.origin}/collections/${coll}/tiles/WebMercatorQuad/{z}/{y}/{x}` +
  (filter ? "?filter=" + encodeURIComponent(filter) : "");
const MAXZOOM = 16;
const vectorSource = (coll, filter) => ({ type: "vector", tiles: [TILES(coll, filter)], minzoom: 0,
                                          maxzoom: MAXZOOM, promoteId: "fid" });
const BASE = [
  { id: "admin_areas", coll: "admin_areas", key: "layer_admin_areas", layers: [
    { id: "admin-line", type: "line", paint: { "line-color": "#6b6b6b", "line-width":
      ["match", ["get", "level"], "district", 2.5, 1], "line-dasharray": [3, 2] } },
  ] },
  { id: "settlements", coll: "infrastructure_areas", filter: "kind='settlement'", key: "layer_settlements", layers: [
    { id: "settlement-fill", type: "fill", paint: { "fill-color": "#d9cfc1", "fill-opacity": 0.8 } },
    { id: "settlement-line", type: "line", paint: { "line-color": "#a89a86", "line-width": 1 } },
  ] },
  { id: "infrastructure_lines", coll: "infrastructure_lines", key: "layer_roads",
    layers: [
      { id: "river-line", type: "line", filter: ["in", ["get", "kind"], ["literal", ["river", "canal", "riverbank"]]],
        paint: { "line-color": "#4a90d9", "line-width": 2.5 } },
      { id: "path-line", type: "line", filter: ["==", ["get", "kind"], "path"],
        paint: { "line-color": "#9a9a9a", "line-width": 1, "line-dasharray": [2, 2] } },
      { id: "road-line", type: "line", filter: ["==", ["get", "kind"], "road"],
        paint: { "line-color": "#7a7a7a", "line-width": 2.2 } },
    ] },
];
const EMPTY = { type: "FeatureCollection", features: [] };
const HAZARD_LABELS = { "CHA, open": "legend_cha_open", "CHA, being worked": "legend_cha_worked",
  "SHA, open": "legend_sha_open", "SHA, being worked": "legend_sha_worked", "Closed (released)": "legend_closed" };
//: records that point at a feature (collection, field): its linked items
const REVERSE = {
  hazard_areas: [["activities", "hazard_area_uid"], ["accidents", "hazard_area_uid"], ["eo_items", "hazard_area_uid"]],
  minefield_records: [["minefield_record_assessments", "minefield_record_uid"], ["eo_items", "minefield_record_uid"]],
  activities: [["eo_items", "activity_uid"]],
  accidents: [["victims", "accident_uid"]],
};
const UID = /^([A-Z]{2,3})-(\d{3,})$/;
//: a thematic layer is drawn twice in the style: from its vector tiles (the current record) and from a
//: GeoJSON source of the record as it stood on the slider's day (/history?as_of=, whole layers: a past day
//: is one view asked for at a time, not panned through; the server's history is cut per reader already)
const PAST = "@past";
const collOf = (source) => source.endsWith(PAST) ? source.slice(0, -PAST.length) : source;

//: labels, drawn from the offline glyphs the package ships (/static/glyphs: no font server, no internet),
//: dark text on a white halo so they read in daylight; record ids only from level 14, where they fit
const FONT = ["DejaVu Sans"];
const halo = { "text-color": "#1d1d1d", "text-halo-color": "#ffffff", "text-halo-width": 1.6 };
const LABELS = [
  { id: "settlement-label", source: "settlements", "source-layer": "infrastructure_areas", type: "symbol",
    layout: { "text-field": ["get", "name"], "text-font": ["DejaVu Sans Bold"], "text-size": 13 }, paint: halo },
  { id: "line-label", source: "infrastructure_lines", "source-layer": "infrastructure_lines", type: "symbol",
    minzoom: 13, filter: ["has", "name"],
    layout: { "text-field": ["get", "name"], "text-font": FONT, "text-size": 11, "symbol-placement": "line" },
    paint: { ...halo, "text-color": "#2b5d8c" } },
];
//: the ids of today's areas come from the tiles' `{coll}_labels` point layer (tile_routes: one point per
//: area, on the whole outline the reader may see, in exactly one tile), not from the polygons: a polygon's
//: label is placed once per tile piece, so a large area showed its id again in every tile it spans
//: on a past day the same from /history?labels=true (a GeoJSON polygon source repeats its label per internal tile)
const UID_LABELS = ["hazard_areas", "minefield_records"];
const PAST_LABELS = "@past-labels";
const uidLabel = (coll, past) => ({ id: `${coll}-uid-label${past ? PAST : ""}`, type: "symbol", minzoom: 14,
  source: coll + (past ? PAST_LABELS : ""), ...(past ? {} : { "source-layer": `${coll}_labels` }),
  metadata: { "sg:collection": coll, "sg:past": past, "sg:label": true },
  layout: { "text-field": ["get", "uid"], "text-font": FONT, "text-size": 12, visibility: "none" }, paint: halo });

function styleLayers() {
  const out = [{ id: "background", type: "background", paint: { "background-color": "#f4f2ec" } }];
  for (const b of BASE) for (const l of b.layers) out.push({ ...l, source: b.id, "source-layer": b.coll });
  for (const layer of cfg.layers) {
    for (const past of [false, true]) {
      for (const s of layer.style) {
        const l = structuredClone(s);
        if (layer.id === "predicted_hazards" && l.type === "fill") {
          l.paint["fill-color"] = ["interpolate", ["linear"], ["coalesce", ["get", "mean_risk"], 0],
            0, "#ffffb2", 0.25, "#fecc5c", 0.5, "#fd8d3c", 0.75, "#f03b20", 1, "#bd0026"];
          l.paint["fill-opacity"] = 0.55;
        }
        if (past) { l.id += PAST; l.source = layer.id + PAST; } else { l.source = layer.id; l["source-layer"] = layer.id; }
        l.metadata = { "sg:collection": layer.id, "sg:past": past };
        l.layout = { visibility: layer.on && !past ? "visible" : "none" };
        out.push(l);
      }
    }
  }
  for (const l of LABELS) out.push(l);
  for (const coll of UID_LABELS) {
    if (!cfg.layers.some((l) => l.id === coll)) continue;
    for (const past of [false, true]) {
      const l = uidLabel(coll, past);
      l.layout.visibility = cfg.layers.find((x) => x.id === coll).on && !past ? "visible" : "none";
      out.push(l);
    }
  }
  return out;
}

const sources = {};
for (const b of BASE) sources[b.id] = vectorSource(b.coll, b.filter);
for (const l of cfg.layers) {
  sources[l.id] = vectorSource(l.id, l.filter);
  sources[l.id + PAST] = { type: "geojson", data: EMPTY, promoteId: "uid" };
  if (UID_LABELS.includes(l.id)) sources[l.id + PAST_LABELS] = { type: "geojson", data: EMPTY };
}

const map = new maplibregl.Map({
  container: "sg-map",
  style: { version: 8, sources, layers: styleLayers(),
           glyphs: `${location.origin}/static/glyphs/{fontstack}/{range}.pbf` },
  bounds: cfg.extent || [46.5, 39.3, 47.5, 40.0],
  fitBoundsOptions: { padding: 20 },
  attributionControl: false,
  fadeDuration: 0,
  maxPitch: 0,
  dragRotate: false,
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
window.sgMap = map;

const baseFilters = new Map(); // MapLibre layer id → its filter from the style (the IMSMA rule)
for (const layer of cfg.layers) {
  for (const s of layer.style) { baseFilters.set(s.id, s.filter || null); baseFilters.set(s.id + PAST, s.filter || null); }
}
const styleIds = (coll, past) => cfg.layers.find((l) => l.id === coll)?.style.map((s) => s.id + (past ? PAST : "")) || [];
const labelIds = (coll, past) => UID_LABELS.includes(coll) && map.getLayer(`${coll}-uid-label`)
  ? [`${coll}-uid-label${past ? PAST : ""}`] : [];
const layerIds = (coll) => [...styleIds(coll, false), ...styleIds(coll, true)];
const interactive = () => cfg.layers.filter((l) => state.visible.has(l.id)).flatMap((l) => styleIds(l.id, !!state.asOf));

function showVariant(coll) {
  const on = state.visible.has(coll);
  for (const id of [...styleIds(coll, false), ...labelIds(coll, false)]) {
    map.setLayoutProperty(id, "visibility", on && !state.asOf ? "visible" : "none");
  }
  for (const id of [...styleIds(coll, true), ...labelIds(coll, true)]) {
    map.setLayoutProperty(id, "visibility", on && state.asOf ? "visible" : "none");
  }
}

// -- loading the record of a past day (GeoJSON from the stored history) -------------------------------------
async function fetchAll(url) {
  const feats = [];
  let next = url;
  while (next) {
    const page = await getJSON(next);
    feats.push(...page.features);
    next = (page.links || []).find((l) => l.rel === "next")?.href || null;
  }
  return { type: "FeatureCollection", features: feats };
}

function historyUrl(layer) {
  const f = layer.filter ? "&filter=" + encodeURIComponent(layer.filter) : "";
  return `/collections/${layer.id}/history?as_of=${state.asOf}${f}`;
}

async function loadPast(layer) {
  if (!state.asOf) return;
  const key = state.asOf;
  if (state.loaded.get(layer.id)?.key === key) return;
  state.pending++;
  settle();
  try {
    const labelled = UID_LABELS.includes(layer.id);
    const [data, points] = await Promise.all([fetchAll(historyUrl(layer)),
      labelled ? fetchAll(historyUrl(layer) + "&labels=true") : null]);
    if (state.asOf === key) {
      state.loaded.set(layer.id, { key, n: data.features.length });
      map.getSource(layer.id + PAST).setData(data);
      if (points) map.getSource(layer.id + PAST_LABELS).setData(points);
    }
  } catch (e) {
    showError(e);
  } finally {
    state.pending--;
    settle();
  }
}

// -- place names for the search (a few kilobytes: the map holds tiles, not whole layers) --------------------
let places = null;
async function placeNames() {
  if (!places) places = getJSON("/workspace/places").then((b) => b.places).catch((e) => { places = null; throw e; });
  return places;
}

// -- ready: every tile of the view loaded, nothing pending, the features in view listed ----------------------
function settle() {
  if (state.pending > 0) {
    document.body.dataset.mapState = "loading";
    document.getElementById("sg-count").textContent = t("loading");
    return;
  }
  map.once("idle", () => {
    if (state.pending > 0 || map.isMoving()) return;
    listInView();
    window.sgTimings = { ...(window.sgTimings || {}), ready: performance.now() };
    document.body.dataset.mapState = "ready";
    document.body.dataset.asOf = state.asOf || "";
  });
  map.triggerRepaint();
}
map.on("movestart", () => { document.body.dataset.mapState = "loading"; });
map.on("moveend", settle);

// -- the features in view: a list of buttons, so a keyboard reaches every feature the map draws ---------------
const IN_VIEW_MAX = 40;
let inView = [];

function featuresInView() {
  const ids = interactive();
  if (!ids.length) return [];
  const first = ["hazard_areas", "minefield_records", "accidents"]; // then the rest, the top layer first
  const order = new Map(cfg.layers.map((l, i) => [l.id, first.includes(l.id) ? first.indexOf(l.id) - 99 : -i]));
  const seen = new Map();
  for (const f of map.queryRenderedFeatures({ layers: ids })) {
    const coll = f.layer.metadata?.["sg:collection"] || collOf(f.source);
    const uid = String(f.properties.uid || f.id || "");
    if (!uid || seen.has(`${coll}|${uid}`)) continue;
    seen.set(`${coll}|${uid}`, { coll, uid, name: f.properties.name || "" });
  }
  return [...seen.values()].sort((a, b) => order.get(a.coll) - order.get(b.coll) || a.uid.localeCompare(b.uid));
}

function listInView() {
  inView = featuresInView();
  const list = document.getElementById("sg-inview");
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.uid : null;
  const label = (coll) => cfg.layers.find((l) => l.id === coll)?.label || coll;
  list.replaceChildren(...inView.slice(0, IN_VIEW_MAX).map((f) => el("li", {},
    el("button", { type: "button", class: "sg-inview-item", "data-uid": f.uid, "data-collection": f.coll,
                   onclick: () => openFeature(f.coll, f.uid) },
      el("strong", {}, f.uid), f.name ? ` · ${f.name}` : "", el("span", { class: "sg-muted" }, ` ${label(f.coll)}`)))));
  document.getElementById("sg-inview-count").textContent = inView.length > IN_VIEW_MAX
    ? t("in_view_more", { n: inView.length, m: IN_VIEW_MAX }) : t("in_view_count", { n: inView.length });
  document.getElementById("sg-count").textContent = t("features_drawn", { n: inView.length });
  // the list is made again on every move: a keyboard user keeps their place in it
  if (focused) list.querySelector(`button[data-uid="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
}

// -- layers, legend, filters -----------------------------------------------------------------------------
function swatch(rule) {
  const s = el("span", { class: "sg-swatch" + (rule.dash ? " dash" : "") + (rule.kind === "marker" ? " marker" : "") });
  s.style.borderColor = rule.stroke || rule.fill || "#333";
  if (rule.fill && (rule.fill_opacity > 0 || rule.kind === "marker")) {
    s.style.background = rule.fill;
    s.style.opacity = rule.kind === "marker" ? 1 : Math.max(rule.fill_opacity, 0.35);
  }
  return s;
}

function drawLegend() {
  const box = document.getElementById("sg-legend");
  box.replaceChildren();
  for (const layer of cfg.layers) {
    if (!state.visible.has(layer.id)) continue;
    box.append(el("div", { class: "sg-legend-title" }, el("strong", {}, layer.label)));
    if (layer.id === "predicted_hazards") {
      box.append(...riskLegendItems());
      continue;
    }
    for (const r of layer.rules) {
      const label = HAZARD_LABELS[r.label] && layer.id === "hazard_areas" ? t(HAZARD_LABELS[r.label]) : r.label;
      box.append(el("div", { class: "sg-legend-item", "data-legend": layer.id }, swatch(r), label));
    }
  }
}

// -- the predicted risk as a raster overlay (/risk/tiles, where the server has a saved risk map) ------------
let riskLegend = null;

async function addRiskRaster() {
  if (!cfg.risk_tiles) return;
  try {
    riskLegend = await getJSON("/risk/legend");
  } catch { return; } // no risk map saved in this store: the predicted hazard polygons stay the overlay
  map.addSource("risk", { type: "raster", tiles: ["/risk/tiles/{z}/{x}/{y}.png"], tileSize: 256 });
  const below = map.getStyle().layers.find((l) => l.source === "cluster_strikes" || l.source === "hazard_areas");
  const on = state.visible.has("predicted_hazards");
  map.addLayer({ id: "risk-raster", type: "raster", source: "risk", paint: { "raster-opacity": 0.7 },
                 layout: { visibility: on ? "visible" : "none" } }, below?.id);
  drawLegend();
}

function riskLegendItems() {
  if (!riskLegend?.classes) return [el("div", { class: "sg-ramp", role: "img", "aria-label": t("legend_risk") }),
                                     el("div", { class: "sg-legend-item" }, t("legend_risk"))];
  const label = (l) => (typeof l === "object" && l ? l[cfg.lang] || l.en || Object.values(l)[0] : String(l ?? ""));
  return riskLegend.classes.map((c) => {
    const s = el("span", { class: "sg-swatch" });
    s.style.background = c.colour;
    s.style.opacity = String(Math.max(c.opacity ?? 1, 0.4));
    return el("div", { class: "sg-legend-item", "data-legend": "risk" }, s, label(c.label));
  });
}

function setVisible(layer, on) {
  if (on) state.visible.add(layer.id); else state.visible.delete(layer.id);
  showVariant(layer.id);
  if (layer.id === "predicted_hazards" && map.getLayer("risk-raster")) {
    map.setLayoutProperty("risk-raster", "visibility", on ? "visible" : "none");
  }
  drawLegend();
  document.body.dataset.mapState = "loading";
  if (on && state.asOf) loadPast(layer); else settle();
}

function buildLayerList() {
  const list = document.getElementById("sg-layer-list");
  for (const b of BASE) {
    const box = el("input", { type: "checkbox", checked: true, "data-layer": b.id });
    box.addEventListener("change", () => {
      for (const l of [...b.layers, ...LABELS.filter((x) => x.source === b.id)]) {
        map.setLayoutProperty(l.id, "visibility", box.checked ? "visible" : "none");
      }
      document.body.dataset.mapState = "loading";
      settle();
    });
    list.append(el("label", { class: "sg-layer" }, box, t(b.key)));
  }
  for (const layer of [...cfg.layers].reverse()) {
    const box = el("input", { type: "checkbox", checked: layer.on, "data-layer": layer.id });
    box.addEventListener("change", () => setVisible(layer, box.checked));
    list.append(el("label", { class: "sg-layer" }, box, layer.label));
    if (layer.on) state.visible.add(layer.id);
  }
}

function userFilter(coll) {
  const status = document.getElementById("sg-f-status").value;
  const type = document.getElementById("sg-f-type").value;
  const org = document.getElementById("sg-f-org").value;
  const terms = [];
  if (coll === "hazard_areas") {
    if (status) terms.push(["==", ["get", "status"], status]);
    if (type && type.endsWith("_area")) terms.push(["==", ["get", "classification"], type]);
  }
  if (coll === "activities") {
    if (type && !type.endsWith("_area")) terms.push(["==", ["get", "activity_type"], type]);
    if (org) terms.push(["==", ["get", "organisation_uid"], org]);
  }
  return terms;
}

function applyFilters() {
  for (const layer of cfg.layers) {
    const extra = userFilter(layer.id);
    for (const id of layerIds(layer.id)) {
      const base = baseFilters.get(id);
      const all = [...(base ? [base] : []), ...extra];
      map.setFilter(id, all.length === 0 ? null : all.length === 1 ? all[0] : ["all", ...all]);
    }
  }
  document.body.dataset.mapState = "loading";
  settle();
}

async function loadOrganisations() {
  if (!readable.has("organisations")) return;
  try {
    const orgs = await getJSON("/collections/organisations/items?limit=1000");
    const sel = document.getElementById("sg-f-org");
    for (const o of orgs.features) {
      sel.append(el("option", { value: o.id }, o.properties.acronym || o.properties.name || o.id));
    }
  } catch (e) { showError(e); }
}

// -- the feature panel -----------------------------------------------------------------------------------
const panel = document.getElementById("sg-panel");

function bboxOf(geom) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === "number") {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  if (geom) walk(geom.coordinates);
  return Number.isFinite(b[0]) ? b : null;
}

function flyTo(geom) {
  const b = bboxOf(geom);
  if (b) map.fitBounds(b, { padding: 80, maxZoom: 15.5, duration: 400 });
}

function parseList(v) {
  if (Array.isArray(v)) return v;
  if (typeof v === "string" && v.startsWith("[")) { try { return JSON.parse(v); } catch { return null; } }
  return null;
}

function uidButton(uid) {
  const m = UID.exec(uid || "");
  const coll = m && cfg.prefixes[m[1]];
  if (!coll) return document.createTextNode(uid);
  return el("button", { type: "button", class: "sg-linkbtn", "data-uid": uid,
                        onclick: () => openFeature(coll, uid, { fly: true }) }, uid);
}

function fieldTable(props) {
  const rows = [];
  for (const [k, v] of Object.entries(props)) {
    if (k === "evidence" || k === "status_history" || v === null || v === "") continue;
    const list = parseList(v);
    let cell;
    if (list && list.every((x) => typeof x === "string")) cell = list.length ? list.map(uidButton) : t("panel_none");
    else if (typeof v === "string" && UID.test(v) && k !== "uid") cell = uidButton(v);
    else cell = list ? JSON.stringify(list) : String(v);
    rows.push(el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, cell)));
  }
  return el("table", { class: "sg-fields" }, el("tbody", {}, rows));
}

function evidenceList(props) {
  const ev = parseList(props.evidence);
  if (!ev || !ev.length) return el("p", { class: "sg-muted" }, t("panel_none"));
  return el("ul", { class: "sg-evidence" }, ev.map((e) => el("li", {},
    el("strong", {}, e.kind || ""), " ", e.description || "", e.source ? ` (${e.source}` : "",
    e.date ? `, ${e.date}` : "", e.source ? ")" : "", e.reference ? [" ", uidButton(e.reference)] : [])));
}

async function linkedItems(coll, uid, props) {
  const box = el("div", { class: "sg-linked" });
  const forward = new Set();
  for (const [k, v] of Object.entries(props)) {
    if (k === "uid") continue;
    const list = parseList(v);
    for (const x of list && list.every((y) => typeof y === "string") ? list : [v]) {
      if (typeof x === "string" && UID.test(x)) forward.add(x);
    }
  }
  for (const e of parseList(props.evidence) || []) if (e.reference && UID.test(e.reference)) forward.add(e.reference);
  for (const v of Object.values(props)) {  // identifiers named in free text ("cleared by ACT-00014")
    if (typeof v === "string" && !v.startsWith("[")) for (const m of v.matchAll(/\b[A-Z]{2,3}-\d{5}\b/g)) forward.add(m[0]);
  }
  forward.delete(uid);
  const items = [...forward].map((u) => el("li", {}, uidButton(u)));
  const lookups = (REVERSE[coll] || []).filter(([c]) => readable.has(c)).map(async ([c, field]) => {
    const url = `/collections/${c}/items?limit=50&filter=` + encodeURIComponent(`${field}='${uid}'`);
    try {
      const page = await getJSON(url);
      if (!page.numberMatched) return [];
      const more = page.numberMatched > page.features.length ? ` … (${page.numberMatched})` : "";
      return [el("li", {}, el("span", { class: "sg-muted" }, `${c}: `),
                 ...page.features.map((f) => [uidButton(f.id), " "]).flat(), more)];
    } catch { return []; }
  });
  for (const li of (await Promise.all(lookups)).flat()) items.push(li);
  box.append(items.length ? el("ul", {}, items) : el("p", { class: "sg-muted" }, t("panel_none")));
  return box;
}

function historyList(hist) {
  const inForce = state.asOf;
  return el("ol", { class: "sg-history" }, hist.versions.map((v) => {
    const current = inForce && v.valid_from <= inForce && (!v.valid_to || v.valid_to > inForce);
    return el("li", { "data-version": v.version, class: current ? "sg-in-force" : "" },
      el("strong", {}, `${t("version")} ${v.version}`), ` · ${t("valid_from")} ${v.valid_from || "?"}`,
      v.valid_to ? ` ${t("valid_to")} ${v.valid_to}` : "",
      v.change_reason ? el("div", {}, v.change_reason) : null,
      el("div", { class: "sg-changed" }, v.changed.length ? `${t("changed_fields")}: ${v.changed.join(", ")}`
                                                            : t("created")),
      v.entered_by ? el("div", { class: "sg-changed" }, v.entered_by) : null);
  }));
}

async function openFeature(coll, uid, { fly = false } = {}) {
  panel.hidden = false;
  panel.replaceChildren(el("p", {}, t("loading")));
  panel.dataset.feature = "";
  let feature = null;
  let hist = null;
  try {
    [feature, hist] = await Promise.all([
      getJSON(`/collections/${coll}/items/${encodeURIComponent(uid)}`).catch((e) => {
        if (e.status === 404) return null; throw e;
      }),
      getJSON(`/collections/${coll}/items/${encodeURIComponent(uid)}/history`).catch((e) => {
        if (e.status === 404) return null; throw e;
      }),
    ]);
  } catch (e) {
    panel.replaceChildren();
    showError(e);
    return false;
  }
  if (!feature && hist?.versions?.length) feature = hist.versions.at(-1).feature;
  if (state.asOf && hist?.versions?.length) {  // the version in force on the slider's day
    const then = hist.versions.filter((v) => v.valid_from && v.valid_from <= state.asOf).at(-1);
    if (then) feature = then.feature;
  }
  if (!feature) { panel.hidden = true; return false; }
  const props = feature.properties || {};
  const title = props.name ? `${uid} · ${props.name}` : uid;
  const close = el("button", { type: "button", class: "sg-button sg-quiet", onclick: () => { panel.hidden = true; } },
                   t("close"));
  const base = `/collections/${coll}/items/${encodeURIComponent(uid)}`;
  const links = [el("li", {}, el("a", { href: base + "?f=html", target: "_blank" }, t("feature_json"))),
                 el("li", {}, el("a", { href: base + "/history", target: "_blank" }, t("history_json")))];
  const linkList = el("ul", { id: "sg-panel-links" }, links);
  panel.replaceChildren(
    el("div", { class: "sg-panel-head" }, el("h2", {}, title), close),
    el("p", { class: "sg-muted" }, cfg.layers.find((l) => l.id === coll)?.label || coll),
    el("h3", {}, t("panel_fields")), fieldTable(props),
    el("h3", {}, t("panel_evidence")), evidenceList(props),
    el("h3", {}, t("panel_linked")), el("div", { id: "sg-linked-slot" }, t("loading")),
    el("h3", {}, t("panel_history")), hist ? historyList(hist) : el("p", { class: "sg-muted" }, t("not_readable")),
    el("h3", {}, t("panel_links")), linkList,
  );
  panel.dataset.feature = uid;
  panel.dataset.versions = hist ? String(hist.versions.length) : "0";
  if (fly) flyTo(feature.geometry);
  addDocumentLinks(linkList, coll, uid, props);  // the dossier and reports this reader may have
  const linked = await linkedItems(coll, uid, props);
  document.getElementById("sg-linked-slot")?.replaceWith(linked);
  panel.focus({ preventScroll: true });
  return true;
}

map.on("click", (e) => {
  const hits = map.queryRenderedFeatures(e.point, { layers: interactive() });
  if (!hits.length) return;
  const f = hits[0];
  const uid = f.properties.uid || f.id;
  if (uid) openFeature(collOf(f.source), String(uid));
});

//: Escape closes the panel and gives the focus back to what opened it (a button of the features in view)
let opener = null;
document.addEventListener("focusin", (e) => {
  if (!panel.contains(e.target) && e.target instanceof HTMLElement && e.target.closest("#sg-inview, #sg-search")) {
    opener = e.target;
  }
});
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || panel.hidden) return;
  panel.hidden = true;
  const again = opener && !opener.isConnected && opener.dataset.uid
    ? document.querySelector(`#sg-inview button[data-uid="${CSS.escape(opener.dataset.uid)}"]`) : null;
  (opener?.isConnected ? opener : again || document.getElementById("sg-search-q")).focus();
});
map.on("mousemove", (e) => {
  const n = interactive().length ? map.queryRenderedFeatures(e.point, { layers: interactive() }).length : 0;
  map.getCanvas().style.cursor = n ? "pointer" : "";
});

// -- search ----------------------------------------------------------------------------------------------
const fold = (s) => String(s).normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

async function search(q) {
  const out = document.getElementById("sg-search-result");
  out.textContent = "";
  const text = q.trim();
  if (!text) return;
  const m = /^([A-Za-z]{2,3})[-\s]?(\d+)$/.exec(text);
  if (m) {
    const prefix = m[1].toUpperCase();
    const coll = cfg.prefixes[prefix];
    const uid = `${prefix}-${m[2].padStart(5, "0")}`;
    if (coll && (await openFeature(coll, uid, { fly: true }))) { out.textContent = uid; return; }
    out.textContent = t("search_none", { q: text });
    return;
  }
  const want = fold(text);
  let names;
  try { names = await placeNames(); } catch (e) { showError(e); return; }
  const hit = names.find((n) => fold(n.name) === want) || names.find((n) => fold(n.name).includes(want));
  if (!hit) { out.textContent = t("search_none", { q: text }); return; }
  out.textContent = hit.name;
  map.fitBounds(hit.bbox, { padding: 80, maxZoom: 15.5, duration: 400 });
}

document.getElementById("sg-search").addEventListener("submit", (e) => {
  e.preventDefault();
  search(e.target.q.value);
});

// -- the map at any date ---------------------------------------------------------------------------------
const DAY = 86400000;
const slider = document.getElementById("sg-asof");
const label = document.getElementById("sg-asof-label");
const today = new Date(new Date().toISOString().slice(0, 10));
const first = cfg.timeline ? new Date(cfg.timeline[0]) : today;
if (cfg.timeline) {
  slider.max = String(Math.max(1, Math.round((today - first) / DAY)));
  slider.value = slider.max;
}
const dayAt = (v) => (Number(v) >= Number(slider.max) ? null : new Date(first.getTime() + Number(v) * DAY)
  .toISOString().slice(0, 10));
let timer = null;

function setAsOf(day) {
  state.asOf = day;
  label.textContent = day || t("as_of_today");
  document.body.dataset.mapState = "loading";
  for (const layer of cfg.layers) showVariant(layer.id);
  for (const layer of cfg.layers) if (state.visible.has(layer.id)) loadPast(layer);
  settle();
  if (panel.dataset.feature && !panel.hidden) {
    const m = UID.exec(panel.dataset.feature);
    if (m) openFeature(cfg.prefixes[m[1]], panel.dataset.feature);
  }
}

slider.addEventListener("input", () => {
  label.textContent = dayAt(slider.value) || t("as_of_today");
  clearTimeout(timer);
  timer = setTimeout(() => setAsOf(dayAt(slider.value)), 250);
});

/** For tests and the bench: draw the record of `day` (YYYY-MM-DD, or null for today). */
window.sgSetAsOf = (day) => {
  if (day) slider.value = String(Math.round((new Date(day) - first) / DAY));
  else slider.value = slider.max;
  setAsOf(day);
};
window.sgOpenFeature = openFeature;

for (const id of ["sg-f-status", "sg-f-type", "sg-f-org"]) {
  document.getElementById(id).addEventListener("change", applyFilters);
}

/** For tests and the bench: how many features of a layer the map draws in the view now. */
window.sgLayerCount = (id) => inView.filter((f) => f.coll === id).length;

// -- start -----------------------------------------------------------------------------------------------
buildLayerList();
drawLegend();
map.on("error", (e) => { window.sgMapError = String(e.error?.message || e); });
map.on("load", async () => {
  window.sgTimings = { ...(window.sgTimings || {}), styleLoaded: performance.now() };
  settle();
  loadOrganisations();
  addRiskRaster();
});
