// The data entry page: the form of one report (its questions come from the same XLSForm a phone uses),
// the geometry drawn on the map (draw.mjs), sent to POST /workspace/entry/{form}. The server reads it
// with the forms importer's validation; each problem it names is shown next to its field.
import { ApiError, CSRF_HEADER, csrfToken, showError, clearErrors, t } from "/static/workspace/common.mjs";
import { smallMap } from "/static/workspace/smallmap.mjs";
import { VertexDraw } from "/static/workspace/draw.mjs";

const data = JSON.parse(document.getElementById("sg-entry-data").textContent);
const form = document.getElementById("sg-entry");
const KINDS = { geopoint: "Point", geotrace: "LineString", geoshape: "Polygon" };
const geometries = {}; // question name → GeoJSON
let active = null; // the geometry question being drawn
let draw = null;

// -- relevance: "${area_kind} = 'line'" shows a question only when it applies (as the phone form does)
function relevantOk(expr, scope) {
  const m = /^\$\{(\w+)\}\s*=\s*'([^']*)'$/.exec(expr.trim());
  if (!m) return true;
  const input = scope.querySelector(`[name="${m[1]}"]`);
  return input ? input.value === m[2] : true;
}

function applyRelevance() {
  for (const field of form.querySelectorAll("[data-relevant]")) {
    const scope = field.closest(".sg-repeat-item") || form;
    const ok = relevantOk(field.dataset.relevant, scope);
    field.hidden = !ok;
    if (!ok && active === field.dataset.name && field.querySelector("[data-geometry]")) active = null;
  }
  if (!active) {
    const first = [...form.querySelectorAll("[data-geometry]")].find((i) => !i.closest(".sg-field").hidden);
    if (first) startDrawing(first.name);
  }
}

// -- geometry questions
function status(name) {
  const g = geometries[name];
  const el = form.querySelector(`[data-status="${name}"]`);
  if (!el) return;
  const coords = form.querySelector(`[data-coords="${name}"]`);
  if (!g) {
    el.textContent = active === name ? t("draw_active") : t("draw_none");
    if (coords && document.activeElement !== coords) coords.value = "";
    return;
  }
  if (g.type === "Point") el.textContent = t("draw_point_at", { lat: g.coordinates[1].toFixed(5), lon: g.coordinates[0].toFixed(5) });
  else el.textContent = t("draw_vertices", { n: g.type === "Polygon" ? g.coordinates[0].length - 1 : g.coordinates.length });
  const pts = g.type === "Point" ? [g.coordinates] : g.type === "LineString" ? g.coordinates : g.coordinates[0].slice(0, -1);
  if (coords && document.activeElement !== coords) coords.value = pts.map(([x, y]) => `${y} ${x}`).join("; ");
}

function startDrawing(name) {
  const input = form.querySelector(`[data-geometry][name="${name}"]`);
  if (!input || !draw) { active = name; return; }
  active = name;
  draw.edit(KINDS[input.dataset.geometry], geometries[name] || null);
  for (const b of form.querySelectorAll("[data-draw]")) b.setAttribute("aria-pressed", String(b.dataset.draw === name));
  document.getElementById("sg-draw-help").textContent = t("draw_help_" + input.dataset.geometry);
  for (const n of Object.keys(KINDS)) status(n);
  form.querySelectorAll("[data-geometry]").forEach((i) => status(i.name));
}

function changed(geometry) {
  if (!active) return;
  geometries[active] = geometry;
  const input = form.querySelector(`[data-geometry][name="${active}"]`);
  input.value = geometry ? JSON.stringify(geometry) : "";
  input.closest(".sg-field").classList.remove("sg-invalid");
  const slot = input.closest(".sg-field").querySelector("[data-error-for]");
  if (slot && geometry) slot.textContent = "";
  status(active);
}

form.addEventListener("click", (ev) => {
  const b = ev.target.closest("button");
  if (!b) return;
  if (b.dataset.draw) startDrawing(b.dataset.draw);
  else if (b.dataset.undo) { startDrawing(b.dataset.undo); draw?.undo(); }
  else if (b.dataset.clear) { startDrawing(b.dataset.clear); draw?.clear(); }
  else if ("removeRepeat" in b.dataset) { b.closest(".sg-repeat-item").remove(); renumber(); }
});

// positions typed as "lat lon" (what a GPS shows; "; " between the points of a line or an area), for a
// keyboard or a known fix: the same geometry as one drawn
function typed(text, kind) {
  const pts = text.trim().split(";").map((p) => p.trim()).filter(Boolean).map((p) => p.split(/[\s,]+/).map(Number));
  if (!pts.length || !pts.every((p) => p.length === 2 && p.every(Number.isFinite))) return null;
  const c = pts.map(([lat, lon]) => [lon, lat]);
  if (kind === "geopoint") return c.length === 1 ? { type: "Point", coordinates: c[0] } : null;
  if (kind === "geotrace") return c.length >= 2 ? { type: "LineString", coordinates: c } : null;
  const ring = c.length > 3 && c[0][0] === c.at(-1)[0] && c[0][1] === c.at(-1)[1] ? c.slice(0, -1) : c;
  return ring.length >= 3 ? { type: "Polygon", coordinates: [[...ring, ring[0]]] } : null;
}

for (const input of form.querySelectorAll("[data-coords]")) {
  input.addEventListener("change", () => {
    const g = typed(input.value, input.dataset.kind);
    const slot = input.closest(".sg-field").querySelector("[data-error-for]");
    if (!g) { if (input.value.trim()) slot.textContent = t("coords_bad"); return; }
    startDrawing(input.dataset.coords);
    draw?.edit(g.type, g);
    changed(g);
    if (draw && g.type === "Point") draw.map.easeTo({ center: g.coordinates, duration: 0 });
  });
}

// -- the repeat (victims)
const repeatBox = document.getElementById("sg-repeat-items");
const template = document.getElementById("sg-repeat-template");
function renumber() {
  [...repeatBox.children].forEach((item, i) => {
    const n = i + 1;
    const old = item.dataset.index;
    item.dataset.index = String(n);
    item.querySelector("legend").textContent = `${t("repeat_item_" + form.querySelector("[data-repeat]").dataset.repeat)} ${n}`;
    for (const e of item.querySelectorAll("[data-field], [data-error-for], [id], [for]")) {
      for (const a of ["data-field", "data-error-for", "id", "for"]) {
        const v = e.getAttribute(a);
        if (v) e.setAttribute(a, v.replace(`.${old}.`, `.${n}.`));
      }
    }
  });
}
function addRepeat() {
  const n = repeatBox.children.length + 1;
  const html = template.innerHTML.replaceAll("__N__", String(n));
  repeatBox.insertAdjacentHTML("beforeend", html);
  applyRelevance();
}
if (repeatBox) {
  document.getElementById("sg-add-repeat").addEventListener("click", addRepeat);
  addRepeat();
}
form.addEventListener("change", (ev) => {
  applyRelevance();
  // a field changed since the server named its problem: the note goes until the next sending
  const field = ev.target.closest?.(".sg-field");
  if (field) {
    field.classList.remove("sg-invalid");
    const slot = field.querySelector("[data-error-for]");
    if (slot) slot.textContent = "";
  }
});

// -- sending, and the problems next to their fields

/** POST as common.mjs's api() does, keeping the problems of a refused entry (one per field). */
async function send(path, body) {
  let r;
  try {
    r = await fetch(path, { method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                            headers: { "Content-Type": "application/json", Accept: "application/json", [CSRF_HEADER]: csrfToken() } });
  } catch {
    throw new ApiError({ code: "network", message: t("error_network") }, 0);
  }
  const answer = await r.json().catch(() => null);
  if (!r.ok) {
    const err = new ApiError(answer || { message: r.statusText }, r.status);
    err.problems = answer?.problems || null;
    throw err;
  }
  return answer;
}
function values(scope, skipRepeat) {
  const out = {};
  for (const e of scope.querySelectorAll("input[name], select[name]")) {
    if (skipRepeat && e.closest(".sg-repeat")) continue;
    if (e.closest(".sg-field")?.hidden) continue;
    if (e.dataset.geometry) { if (geometries[e.name]) out[e.name] = geometries[e.name]; continue; }
    if (e.value !== "") out[e.name] = e.value;
  }
  return out;
}

function fieldKey(problem) {
  const m = /victim (\d+)$/.exec(problem.item || "");
  const name = String(problem.field || "-").split("/")[0];
  return m ? `victims.${m[1]}.${name}` : name;
}

function showProblems(problems) {
  let first = null;
  const unplaced = [];
  for (const p of problems) {
    const key = fieldKey(p);
    const slot = form.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent}; ${p.reason}` : p.reason;
      slot.closest(".sg-field")?.classList.add("sg-invalid");
      first = first || slot;
    } else unplaced.push(`${p.field}: ${p.reason}`);
  }
  if (unplaced.length) form.querySelector('[data-error-for="-"]').textContent = unplaced.join("; ");
  (first || form.querySelector('[data-error-for="-"]')).scrollIntoView({ block: "center" });
}

function clearProblems() {
  for (const s of form.querySelectorAll("[data-error-for]")) s.textContent = "";
  for (const f of form.querySelectorAll(".sg-invalid")) f.classList.remove("sg-invalid");
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors();
  clearProblems();
  const button = document.getElementById("sg-entry-submit");
  const body = { values: values(form, true) };
  if (repeatBox) body.repeats = [...repeatBox.children].map((item) => values(item, false));
  button.disabled = true;
  try {
    const sub = await send(`/workspace/entry/${data.form}`, body);
    const done = document.getElementById("sg-entry-done");
    done.replaceChildren(t("entry_done", { id: sub.id }) + " ", Object.assign(document.createElement("a"),
      { href: sub.page, textContent: t("entry_open", { id: sub.id }), id: "sg-entry-link" }));
    window.sgSubmitted = sub.id;
  } catch (err) {
    if (err.status === 422 && Array.isArray(err.problems)) showProblems(err.problems);
    else showError(err);
  } finally {
    button.disabled = false;
  }
});

// -- the map
const { map, loaded } = smallMap(document.getElementById("sg-entry-map"), data.area);
loaded.then(() => {
  draw = new VertexDraw(map, { onChange: changed });
  window.sgDraw = draw;
  if (active) startDrawing(active);
  window.sgEntryReady = true;
});
applyRelevance();
