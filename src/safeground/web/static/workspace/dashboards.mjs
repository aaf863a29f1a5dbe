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
      mark.setAttribute("class", "sg-mark-generic");
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

// -- the charts each dashboard is drawn as (its table and CSV hold every column) ---------------------
const SPECS = {
  "casualties-by-month": { kind: "bars", stacked: true, series: ["civilian", "military", "deminer"] },
  "land-release-over-time": { kind: "bars", stacked: true, series: ["cancelled_m2", "reduced_m2", "cleared_m2"],
                              line: "cumulative_released_m2" },
  "remaining-area": { kind: "lines", series: ["sha_remaining_m2", "cha_remaining_m2"] },
  "accuracy-by-source": { kind: "bars", series: ["precision", "recall"], max: 1 },
  "completion-forecast": { kind: "intervals", low: "p10", mid: "p50", high: "p90" },
};

/** A round upper end for an axis from 0 (1, 2, 2.5 or 5 × 10ⁿ per quarter), so the ticks read as numbers. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const raw = v / 4, p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((x) => x >= raw);
  return step * 4;
}

const label = (col) => { const k = "col_" + col; const s = t(k); return s === k ? col : s; };
const short = (v) => {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Math.round(v / 1e5) / 10}M`;
  if (a >= 1e4) return `${Math.round(v / 100) / 10}k`;
  return String(Math.round(v * 100) / 100);
};

/** A mark standing for one cell of the table: data-row, data-column and data-value say which. */
function mark(tag, attrs, dash, row, col, text) {
  const m = svg(tag, { ...attrs, class: "sg-mark" });
  m.dataset.row = String(row);
  m.dataset.column = col;
  m.dataset.value = String(dash.rows[row][dash.columns.indexOf(col)]);
  m.append(svg("title", {}, text));
  return m;
}

function frame(dash, height = H) {
  return svg("svg", { viewBox: `0 0 ${W} ${height}`, class: "sg-chart", role: "img", "aria-label": dash.title,
                      "data-dashboard": dash.name });
}

function yAxis(root, lo, hi, yOf, x0, x1, fmtTick = short, right = false) {
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    if (!right) root.append(svg("line", { x1: x0, x2: x1, y1: yOf(v), y2: yOf(v), class: "sg-grid" }));
    root.append(svg("text", { x: right ? x1 + 4 : x0 - 6, y: yOf(v) + 4, "text-anchor": right ? "start" : "end",
                              class: "sg-tick" }, fmtTick(v)));
  }
}

function legend(root, names, colours, y, extra = []) {
  let lx = M.l;
  names.forEach((n, i) => {
    root.append(svg("rect", { x: lx, y: y - 10, width: 12, height: 12, fill: colours[i] }));
    root.append(svg("text", { x: lx + 16, y, class: "sg-legend-text" }, label(n)));
    lx += 30 + label(n).length * 6.5;
  });
  for (const [n, colour] of extra) {
    root.append(svg("line", { x1: lx, x2: lx + 14, y1: y - 4, y2: y - 4, stroke: colour, "stroke-width": 3 }));
    root.append(svg("text", { x: lx + 18, y, class: "sg-legend-text" }, label(n)));
    lx += 32 + label(n).length * 6.5;
  }
}

function xLabels(root, xs, xOf, y) {
  const every = Math.max(1, Math.ceil(xs.length / 10));
  xs.forEach((x, i) => { if (i % every === 0) root.append(svg("text", { x: xOf(i), y, "text-anchor": "middle", class: "sg-tick" }, String(x).slice(0, 16))); });
}

function barsChart(dash, spec) {
  const col = (c) => dash.columns.indexOf(c);
  const series = spec.series.filter((c) => col(c) >= 0);
  const xs = dash.rows.map((r) => r[0]);
  const val = (r, c) => (isNumber(r[col(c)]) ? r[col(c)] : 0);
  const right = spec.line && col(spec.line) >= 0 ? 48 : M.r;
  const x0 = M.l, x1 = W - right, y0 = H - M.b, y1 = M.t;
  const tops = dash.rows.map((r) => (spec.stacked ? series.reduce((a, c) => a + val(r, c), 0) : Math.max(0, ...series.map((c) => val(r, c)))));
  const hi = spec.max ?? niceMax(Math.max(...tops));
  const yOf = (v) => y0 - (v / hi) * (y0 - y1);
  const root = frame(dash);
  yAxis(root, 0, hi, yOf, x0, x1);
  const band = (x1 - x0) / Math.max(xs.length, 1);
  const xOf = (i) => x0 + band * (i + 0.5);
  dash.rows.forEach((r, i) => {
    let base = 0;
    series.forEach((c, si) => {
      const v = val(r, c);
      const w = spec.stacked ? band * 0.75 : (band * 0.8) / series.length;
      const x = spec.stacked ? xOf(i) - w / 2 : xOf(i) - band * 0.4 + w * si;
      const top = spec.stacked ? base + v : v;
      const yTop = yOf(top), yBase = yOf(spec.stacked ? base : 0);
      root.append(mark("rect", { x, y: yTop, width: Math.max(w - 1, 1), height: Math.max(yBase - yTop, 0), fill: PALETTE[si] },
                       dash, i, c, `${r[0]} · ${label(c)}: ${fmt(r[col(c)])}`));
      if (spec.stacked) base += v;
    });
  });
  const extra = [];
  if (spec.line && col(spec.line) >= 0) {
    const lineVals = dash.rows.map((r) => val(r, spec.line));
    const lhi = niceMax(Math.max(...lineVals));
    const lyOf = (v) => y0 - (v / lhi) * (y0 - y1);
    yAxis(root, 0, lhi, lyOf, x0, x1, short, true);
    root.append(svg("polyline", { points: lineVals.map((v, i) => `${xOf(i)},${lyOf(v)}`).join(" "), fill: "none",
                                  stroke: "#7b3294", "stroke-width": 2.5 }));
    lineVals.forEach((v, i) => root.append(mark("circle", { cx: xOf(i), cy: lyOf(v), r: 3, fill: "#7b3294" }, dash, i, spec.line,
                                                `${dash.rows[i][0]} · ${label(spec.line)}: ${fmt(v)}`)));
    extra.push([spec.line, "#7b3294"]);
  }
  xLabels(root, xs, xOf, y0 + 16);
  legend(root, series, PALETTE, H - 12, extra);
  return root;
}

function linesChart(dash, spec) {
  const col = (c) => dash.columns.indexOf(c);
  const series = spec.series.filter((c) => col(c) >= 0);
  const xs = dash.rows.map((r) => r[0]);
  const x0 = M.l, x1 = W - M.r, y0 = H - M.b, y1 = M.t;
  const all = dash.rows.flatMap((r) => series.map((c) => r[col(c)]).filter(isNumber));
  const hi = niceMax(Math.max(...all));
  const yOf = (v) => y0 - (v / hi) * (y0 - y1);
  const xOf = (i) => x0 + ((x1 - x0) * (i + 0.5)) / Math.max(xs.length, 1);
  const root = frame(dash);
  yAxis(root, 0, hi, yOf, x0, x1);
  series.forEach((c, si) => {
    const pts = dash.rows.map((r, i) => [i, r[col(c)]]).filter(([, v]) => isNumber(v));
    root.append(svg("polyline", { points: pts.map(([i, v]) => `${xOf(i)},${yOf(v)}`).join(" "), fill: "none",
                                  stroke: PALETTE[si], "stroke-width": 2.5 }));
    for (const [i, v] of pts) root.append(mark("circle", { cx: xOf(i), cy: yOf(v), r: 3, fill: PALETTE[si] }, dash, i, c,
                                               `${dash.rows[i][0]} · ${label(c)}: ${fmt(v)}`));
  });
  xLabels(root, xs, xOf, y0 + 16);
  legend(root, series, PALETTE, H - 12);
  return root;
}

/** The completion forecast: for each area (and all of them, first) the P10–P90 range of its end date, P50 marked. */
function intervalsChart(dash, spec) {
  const col = (c) => dash.columns.indexOf(c);
  const rows = dash.rows.map((r, i) => [r, i]).filter(([r]) => isDate(r[col(spec.low)]) && isDate(r[col(spec.high)]));
  const rowH = 18, top = 8, left = 120, height = top + rows.length * rowH + 48;
  const root = frame(dash, height);
  if (!rows.length) { root.append(svg("text", { x: W / 2, y: 30, "text-anchor": "middle" }, t("no_data"))); return root; }
  const days = rows.flatMap(([r]) => [dateValue(r[col(spec.low)]), dateValue(r[col(spec.high)])]);
  const lo = Math.min(...days) - 30, hi = Math.max(...days) + 30;
  const x0 = left, x1 = W - M.r - 24;
  const xOf = (d) => x0 + ((d - lo) / (hi - lo)) * (x1 - x0);
  const yBottom = top + rows.length * rowH;
  for (let k = 0; k <= 5; k++) {
    const d = lo + ((hi - lo) * k) / 5;
    root.append(svg("line", { x1: xOf(d), x2: xOf(d), y1: top, y2: yBottom, class: "sg-grid" }));
    root.append(svg("text", { x: xOf(d), y: yBottom + 14, "text-anchor": "middle", class: "sg-tick" },
                    new Date(d * 864e5).toISOString().slice(0, 7)));
  }
  rows.forEach(([r, i], k) => {
    const y = top + k * rowH + rowH / 2;
    const all = i === 0 && r[1] === null;
    root.append(svg("text", { x: x0 - 6, y: y + 4, "text-anchor": "end", class: "sg-tick", "font-weight": all ? 700 : 400 }, String(r[0]).slice(0, 18)));
    const a = xOf(dateValue(r[col(spec.low)])), b = xOf(dateValue(r[col(spec.high)]));
    root.append(svg("line", { x1: a, x2: b, y1: y, y2: y, stroke: all ? "#d7191c" : "#0b4f8a", "stroke-width": all ? 8 : 6,
                              "stroke-linecap": "round", opacity: 0.45 }));
    for (const c of [spec.low, spec.mid, spec.high]) {
      const x = xOf(dateValue(r[col(c)]));
      root.append(mark(c === spec.mid ? "rect" : "circle",
                       c === spec.mid ? { x: x - 2, y: y - 7, width: 4, height: 14, fill: "#1b1b1b" } : { cx: x, cy: y, r: 3, fill: all ? "#d7191c" : "#0b4f8a" },
                       dash, i, c, `${r[0]} · ${c.toUpperCase()}: ${r[col(c)]}`));
    }
  });
  root.append(svg("text", { x: x0, y: height - 10, class: "sg-legend-text" }, t("forecast_legend")));
  return root;
}

function draw(dash) {
  const spec = SPECS[dash.name];
  if (spec?.kind === "bars") return barsChart(dash, spec);
  if (spec?.kind === "lines") return linesChart(dash, spec);
  if (spec?.kind === "intervals") return intervalsChart(dash, spec);
  return chart(dash);
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
      box.replaceChildren(el("h2", {}, dash.title || entry.title), draw(dash),
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
