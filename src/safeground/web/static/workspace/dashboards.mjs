// The dashboards page: each dashboard's numbers (GET /dashboards/{name}.json) drawn as an inline SVG
// chart, with the same numbers as a table, its CSV and its report one click away. No chart library:
// a few lines of SVG draw lines and bars, and every mark carries the number it stands for
// (data-value), so what is drawn can be checked against the JSON.
import { getJSON, showError, el, t } from "/static/workspace/common.mjs";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#0b4f8a", "#d7191c", "#fdae61", "#1a9641", "#7b3294", "#636363", "#e66101", "#4dac26"];
const W = 760, H = 280, M = { l: 64, r: 16, t: 12, b: 56 };
const { reports } = JSON.parse(document.getElementById("sg-dashboard-data").textContent);

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
const isDate = (v) => typeof v === "string" && /^\d{4}-\d{2}(-\d{2})?/.test(v);
const dateValue = (v) => { const [y, m = 1, d = 1] = v.slice(0, 10).split("-").map(Number); return Date.UTC(y, m - 1, d) / 864e5; };
const fmt = (v) => (isNumber(v) ? (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString() : String(Math.round(v * 100) / 100)) : String(v ?? ""));

/** The series of a dashboard: x from the first column; numbers (or dates) of the other columns, or, in
 *  a long table (x, category, value), one series per category. */
function seriesOf(dash) {
  const { columns, rows } = dash;
  const valueCols = columns.map((_, i) => i).filter((i) => i > 0 && rows.some((r) => isNumber(r[i]) || isDate(r[i])));
  const keyCols = columns.map((_, i) => i).filter((i) => i > 0 && !valueCols.includes(i));
  const xs = [];
  const series = new Map();
  for (const r of rows) {
    const x = r[0];
    if (!xs.includes(x)) xs.push(x);
    const key = keyCols.map((i) => r[i]).join(" · ");
    for (const i of valueCols) {
      const name = [key, valueCols.length > 1 || !key ? columns[i] : ""].filter(Boolean).join(" · ");
      if (!series.has(name)) series.set(name, new Map());
      series.get(name).set(x, r[i]);
    }
  }
  return { xs, series: [...series.entries()].map(([name, values]) => ({ name, values })) };
}

function chart(dash) {
  const { xs, series } = seriesOf(dash);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "sg-chart", role: "img", "aria-label": dash.title,
                            "data-dashboard": dash.name });
  if (!xs.length || !series.length) { root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, t("no_data"))); return root; }
  const dates = series.some((s) => [...s.values.values()].some(isDate));
  const num = (v) => (isDate(v) ? dateValue(v) : isNumber(v) ? v : null);
  const all = series.flatMap((s) => [...s.values.values()].map(num).filter((v) => v !== null));
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!dates) lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  const lines = xs.length > 16 && xs.every(isDate);
  const x0 = M.l, x1 = W - M.r, y0 = H - M.b, y1 = M.t;
  const yOf = (v) => y0 - ((v - lo) / (hi - lo)) * (y0 - y1);
  const band = (x1 - x0) / xs.length;
  const xOf = (i) => x0 + band * (i + 0.5);
  // axes and grid
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    root.append(svg("line", { x1: x0, x2: x1, y1: yOf(v), y2: yOf(v), class: "sg-grid" }));
    const label = dates ? new Date(v * 864e5).toISOString().slice(0, 7) : fmt(v);
    root.append(svg("text", { x: x0 - 6, y: yOf(v) + 4, "text-anchor": "end", class: "sg-tick" }, label));
  }
  const every = Math.max(1, Math.ceil(xs.length / 12));
  xs.forEach((x, i) => {
    if (i % every) return;
    root.append(svg("text", { x: xOf(i), y: y0 + 16, "text-anchor": "middle", class: "sg-tick" }, String(x).slice(0, 12)));
  });
  // marks
  series.forEach((s, si) => {
    const colour = PALETTE[si % PALETTE.length];
    if (lines) {
      const pts = xs.map((x, i) => [i, num(s.values.get(x))]).filter(([, v]) => v !== null);
      root.append(svg("polyline", { points: pts.map(([i, v]) => `${xOf(i)},${yOf(v)}`).join(" "), fill: "none",
                                    stroke: colour, "stroke-width": 2.5 }));
    }
    xs.forEach((x, i) => {
      const raw = s.values.get(x);
      const v = num(raw);
      if (v === null) return;
      const title = svg("title", {}, `${x} · ${s.name}: ${fmt(raw)}`);
      let mark;
      if (lines) mark = svg("circle", { cx: xOf(i), cy: yOf(v), r: 3, fill: colour });
      else {
        const w = (band * 0.8) / series.length;
        const base = yOf(dates ? lo : Math.max(lo, 0));
        mark = svg("rect", { x: xOf(i) - band * 0.4 + w * si, y: Math.min(yOf(v), base), width: Math.max(w - 1, 1),
                             height: Math.max(Math.abs(base - yOf(v)), 0.5), fill: colour });
      }
      mark.setAttribute("class", "sg-mark");
      mark.dataset.x = String(x);
      mark.dataset.series = s.name;
      mark.dataset.value = String(raw);
      mark.append(title);
      root.append(mark);
    });
  });
  // legend
  let lx = x0;
  series.forEach((s, si) => {
    root.append(svg("rect", { x: lx, y: H - 22, width: 12, height: 12, fill: PALETTE[si % PALETTE.length] }));
    const label = svg("text", { x: lx + 16, y: H - 12, class: "sg-legend-text" }, s.name);
    root.append(label);
    lx += 28 + s.name.length * 7;
  });
  return root;
}

function table(dash) {
  return el("table", { class: "sg-table sg-numbers", "data-dashboard": dash.name },
    el("thead", {}, el("tr", {}, dash.columns.map((c) => el("th", {}, c)))),
    el("tbody", {}, dash.rows.map((r) => el("tr", {}, r.map((v) => el("td", {}, v === null ? "" : String(v)))))));
}

async function card(entry) {
  const box = el("article", { class: "sg-dashboard", "data-dashboard": entry.name },
    el("h2", {}, entry.title || entry.name), el("p", { class: "sg-muted" }, t("loading")));
  (async () => {
    try {
      const dash = await getJSON(entry.json || `/dashboards/${entry.name}.json`);
      const links = el("p", { class: "sg-links" },
        el("a", { href: entry.csv || `/dashboards/${entry.name}.csv`, download: `${entry.name}.csv`, class: "sg-button sg-quiet",
                  "data-csv": entry.name }, t("download_csv")),
        reports[entry.name] ? el("a", { href: `/workspace/reports/${reports[entry.name]}.pdf`, class: "sg-button sg-quiet",
                                        target: "_blank", "data-report": reports[entry.name] }, t("report_pdf")) : null);
      const meta = el("p", { class: "sg-muted sg-small" }, t("dashboard_generated", { when: String(dash.generated || "").slice(0, 16).replace("T", " "),
                                                                                      fingerprint: String(dash.fingerprint || "").slice(0, 12) }));
      box.replaceChildren(el("h2", {}, dash.title || entry.title), chart(dash),
        el("details", {}, el("summary", {}, t("the_numbers")), table(dash)), links, meta);
      box.dataset.loaded = "1";
    } catch (err) {
      box.replaceChildren(el("h2", {}, entry.title || entry.name), el("p", { class: "sg-field-error" }, `${err.message}${err.hint ? " — " + err.hint : ""}`));
      box.dataset.loaded = "error";
    }
  })();
  return box;
}

async function main() {
  const root = document.getElementById("sg-dashboards");
  try {
    const list = await getJSON("/dashboards");
    const entries = Array.isArray(list) ? list : list.dashboards || [];
    root.replaceChildren(...(await Promise.all(entries.map(card))));
  } catch (err) {
    root.replaceChildren();
    showError(err);
  }
  root.setAttribute("aria-busy", "false");
  window.sgDashboards = true;
}
main();
