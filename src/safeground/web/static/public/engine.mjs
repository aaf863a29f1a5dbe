// The phone's "Is it safe here?" and "How do I get there safely?", computed from the cached bundle.
//
// A port of safeground.safety.check.SafetyIndex.answer_metric / _verdict and of
// safeground.routing.network.RoadNetwork.route / _answer / _blocked_answer. Every number the rules
// use (buffers, ON_EDGE_M, AREA_MARGIN_DEG, edge costs) comes from the bundle the server made from
// the Python source; nothing is copied here. Distances follow GEOS's formulas so that the phone and
// the server measure alike; tests/test_public_page.py holds the two to the same answers.

// -- WGS 84 <-> UTM (Krüger series to n^6, as PROJ's etmerc) --------------------------------------
const A_ = 6378137.0;
const F_ = 1 / 298.257223563;
const N_ = F_ / (2 - F_);
const E_ = Math.sqrt(F_ * (2 - F_));
const K0 = 0.9996;
const n = N_, n2 = n * n, n3 = n2 * n, n4 = n3 * n, n5 = n4 * n, n6 = n5 * n;
const AA = (A_ / (1 + n)) * (1 + n2 / 4 + n4 / 64 + n6 / 256);
const ALPHA = [
  n / 2 - (2 / 3) * n2 + (5 / 16) * n3 + (41 / 180) * n4 - (127 / 288) * n5 + (7891 / 37800) * n6,
  (13 / 48) * n2 - (3 / 5) * n3 + (557 / 1440) * n4 + (281 / 630) * n5 - (1983433 / 1935360) * n6,
  (61 / 240) * n3 - (103 / 140) * n4 + (15061 / 26880) * n5 + (167603 / 181440) * n6,
  (49561 / 161280) * n4 - (179 / 168) * n5 + (6601661 / 7257600) * n6,
  (34729 / 80640) * n5 - (3418889 / 1995840) * n6,
  (212378941 / 319334400) * n6,
];
const BETA = [
  n / 2 - (2 / 3) * n2 + (37 / 96) * n3 - (1 / 360) * n4 - (81 / 512) * n5 + (96199 / 604800) * n6,
  (1 / 48) * n2 + (1 / 15) * n3 - (437 / 1440) * n4 + (46 / 105) * n5 - (1118711 / 3870720) * n6,
  (17 / 480) * n3 - (37 / 840) * n4 - (209 / 4480) * n5 + (5569 / 90720) * n6,
  (4397 / 161280) * n4 - (11 / 504) * n5 - (830251 / 7257600) * n6,
  (4583 / 161280) * n5 - (108847 / 3991680) * n6,
  (20648693 / 638668800) * n6,
];
const RAD = Math.PI / 180;

export function utmForward(utm, lon, lat) {
  const lon0 = ((utm.zone - 1) * 6 - 180 + 3) * RAD;
  const phi = lat * RAD;
  const lam = lon * RAD - lon0;
  const s = Math.sin(phi);
  const t = Math.sinh(Math.atanh(s) - E_ * Math.atanh(E_ * s));
  const xi1 = Math.atan2(t, Math.cos(lam));
  const eta1 = Math.atanh(Math.sin(lam) / Math.sqrt(1 + t * t));
  let xi = xi1, eta = eta1;
  for (let j = 1; j <= 6; j++) {
    xi += ALPHA[j - 1] * Math.sin(2 * j * xi1) * Math.cosh(2 * j * eta1);
    eta += ALPHA[j - 1] * Math.cos(2 * j * xi1) * Math.sinh(2 * j * eta1);
  }
  return [500000 + K0 * AA * eta, (utm.south ? 10000000 : 0) + K0 * AA * xi];
}

export function utmInverse(utm, x, y) {
  const lon0 = ((utm.zone - 1) * 6 - 180 + 3) * RAD;
  const xi = (y - (utm.south ? 10000000 : 0)) / (K0 * AA);
  const eta = (x - 500000) / (K0 * AA);
  let xi1 = xi, eta1 = eta;
  for (let j = 1; j <= 6; j++) {
    xi1 -= BETA[j - 1] * Math.sin(2 * j * xi) * Math.cosh(2 * j * eta);
    eta1 -= BETA[j - 1] * Math.cos(2 * j * xi) * Math.sinh(2 * j * eta);
  }
  const tau1 = Math.sin(xi1) / Math.sqrt(Math.sinh(eta1) ** 2 + Math.cos(xi1) ** 2);
  const lam = Math.atan2(Math.sinh(eta1), Math.cos(xi1));
  let tau = tau1;
  const e2 = E_ * E_;
  for (let i = 0; i < 8; i++) {
    const sig = Math.sinh(E_ * Math.atanh((E_ * tau) / Math.sqrt(1 + tau * tau)));
    const ti = tau * Math.sqrt(1 + sig * sig) - sig * Math.sqrt(1 + tau * tau);
    const d = ((tau1 - ti) / Math.sqrt(1 + ti * ti)) * ((1 + (1 - e2) * tau * tau) / ((1 - e2) * Math.sqrt(1 + tau * tau)));
    tau += d;
    if (Math.abs(d) < 1e-14) break;
  }
  return [(lam + lon0) / RAD, Math.atan(tau) / RAD];
}

// -- Python's number formatting ({:.0f}, {:,.0f}, {:.5f}: ties to even) ------------------------------
export function fixed(x, digits = 0) {
  const s = x.toFixed(digits);
  if (digits === 0) {
    const f = Math.floor(x);
    if (x - f === 0.5) return String(f % 2 === 0 ? f : f + 1); // toFixed rounds ties up, Python to even
  }
  return s;
}
export function grouped(x) {
  const s = fixed(x, 0);
  const neg = s.startsWith("-");
  const digits = neg ? s.slice(1) : s;
  return (neg ? "-" : "") + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Round half to even, as numpy's rint. */
export function rint(v) {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

// -- geometry as GEOS measures it -------------------------------------------------------------------
function ptDist(px, py, ax, ay) {
  const dx = px - ax, dy = py - ay;
  return Math.sqrt(dx * dx + dy * dy);
}
function segDist(px, py, ax, ay, bx, by) {
  if (ax === bx && ay === by) return ptDist(px, py, ax, ay);
  const len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay);
  const r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2;
  if (r <= 0.0) return ptDist(px, py, ax, ay);
  if (r >= 1.0) return ptDist(px, py, bx, by);
  const s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2;
  return Math.abs(s) * Math.sqrt(len2);
}
function inRing(px, py, r) {
  let inside = false;
  for (let i = 0, j = r.length - 2; i < r.length; j = i, i += 2) {
    const xi = r[i], yi = r[i + 1], xj = r[j], yj = r[j + 1];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
function ringDist(px, py, r) {
  let d = Infinity;
  for (let i = 0; i + 3 < r.length; i += 2) {
    const v = segDist(px, py, r[i], r[i + 1], r[i + 2], r[i + 3]);
    if (v < d) d = v;
  }
  return d;
}
/** Distance (m) from a metric point to a feature (0 inside), and whether it is inside. */
export function featureDistance(f, px, py) {
  if (f.point) return ptDist(px, py, f.point[0], f.point[1]);
  let d = Infinity;
  for (const poly of f.polygons) {
    if (inRing(px, py, poly[0]) && !poly.slice(1).some((h) => inRing(px, py, h))) return 0;
    for (const ring of poly) d = Math.min(d, ringDist(px, py, ring));
  }
  return d;
}
function bboxOf(f) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const rings = f.point ? [f.point] : f.polygons.map((p) => p[0]);
  for (const r of rings)
    for (let i = 0; i < r.length; i += 2) {
      x0 = Math.min(x0, r[i]); x1 = Math.max(x1, r[i]);
      y0 = Math.min(y0, r[i + 1]); y1 = Math.max(y1, r[i + 1]);
    }
  return [x0, y0, x1, y1];
}
function bboxDist(b, px, py) {
  const dx = Math.max(b[0] - px, 0, px - b[2]), dy = Math.max(b[1] - py, 0, py - b[3]);
  return Math.sqrt(dx * dx + dy * dy);
}

export class OutsideArea extends Error {
  constructor(message, hint) {
    super(message);
    this.code = "outside_area";
    this.hint = hint;
  }
}

// -- the check ----------------------------------------------------------------------------------------
export class Engine {
  constructor(bundle) {
    this.b = bundle;
    this.c = bundle.constants;
    let rank = 0;
    this.layers = bundle.layers.map((ly) => {
      const feats = ly.features.map((f, i) => ({ ...f, bbox: bboxOf(f), rank: rank + i }));
      rank += feats.length;
      return { ...ly, features: feats };
    });
    this.released = (bundle.released || []).map((f) => ({ ...f, bbox: bboxOf(f) }));
    if (bundle.network) this._prepareNetwork(bundle.network);
  }

  toMetric(lon, lat) { return utmForward(this.b.utm, lon, lat); }
  toLonLat(x, y) { return utmInverse(this.b.utm, x, y); }

  outside(lon, lat) {
    const r = this.b.region;
    if (!r) return false;
    const m = this.c.area_margin_deg;
    return !(lon >= r[0] - m && lon <= r[2] + m && lat >= r[1] - m && lat <= r[3] + m);
  }

  refuseOutside(lon, lat) {
    if (!this.outside(lon, lat)) return;
    const [minx, miny, maxx, maxy] = this.b.region;
    const swapped = !this.outside(lat, lon);
    throw new OutsideArea(
      `${lon}, ${lat} lies outside the area this store covers (lon ${minx.toFixed(2)}…${maxx.toFixed(2)}, ` +
        `lat ${miny.toFixed(2)}…${maxy.toFixed(2)}), so nothing here can say whether it is safe` +
        (swapped ? ": latitude and longitude look swapped" : ""),
      swapped ? `give longitude first: ${lat} ${lon}` : "check the coordinates, or use another store",
    );
  }

  check(lon, lat) {
    this.refuseOutside(lon, lat);
    // to the bundle's precision (services/public.py rounds alike): ties between outlines snapped to one grid
    // then fall the same way on the phone and on the server
    const k = 10 ** this.b.metric_decimals;
    const [x, y] = this.toMetric(lon, lat).map((v) => rint(v * k) / k);
    return this.answerMetric(lon, lat, x, y);
  }

  answerMetric(lon, lat, x, y) {
    const onEdge = this.c.on_edge_m;
    const ranked = [];
    for (const ly of this.layers) {
      for (const f of ly.features) {
        const reach = Math.max(f.buffer, onEdge);
        if (bboxDist(f.bbox, x, y) > reach) continue;
        const d = featureDistance(f, x, y);
        if (d > reach) continue;
        const inside = d <= onEdge;
        ranked.push({
          key: [!(inside && ly.blocks), d, f.rank],
          f: { kind: ly.kind, uid: f.uid, label: f.label, distance_m: d, buffer_m: f.buffer, inside, blocks: ly.blocks },
        });
      }
    }
    ranked.sort((a, b) => (a.key[0] - b.key[0]) || (a.key[1] - b.key[1]) || (a.key[2] - b.key[2]));
    const findings = ranked.map((r) => r.f);
    const released = [];
    for (const f of this.released) {
      if (bboxDist(f.bbox, x, y) > 0) continue;
      if (featureDistance(f, x, y) === 0) released.push(f.label);
    }
    let nearest = null;
    for (const ly of this.layers) {
      if (!ly.blocks) continue;
      for (const f of ly.features) {
        if (nearest && bboxDist(f.bbox, x, y) > nearest.distance_m) continue;
        const d = featureDistance(f, x, y);
        if (!nearest || d < nearest.distance_m || (d === nearest.distance_m && f.rank < nearest.rank))
          nearest = { uid: f.uid, label: f.label, distance_m: d, rank: f.rank };
      }
    }
    const inside = findings.filter((f) => f.inside && f.blocks);
    let level, verdict;
    if (inside.length) {
      const more = inside.length > 1 ? ` (and ${inside.length - 1} more)` : "";
      level = "danger";
      verdict = `DANGER: you are inside ${inside[0].label}${more}. Do not enter. Go back the way you came.`;
    } else if (findings.length) {
      const f = findings[0];
      level = "caution";
      verdict =
        `CAUTION: ${fixed(f.distance_m)} m from ${f.label}. Stay on roads and paths people use every day; ` +
        `keep at least ${fixed(f.buffer_m)} m away and do not touch anything.`;
    } else {
      const note = released.length ? ` This ground is in ${released[0]}.` : "";
      const far = nearest ? ` The nearest known danger is ${grouped(nearest.distance_m)} m away: ${nearest.label}.` : "";
      level = "no_known_hazard";
      verdict =
        "No known hazard here." + note + far +
        " This does not prove the ground is safe: stay on used paths " +
        "and report anything suspicious to the mine action authority.";
    }
    if (nearest) delete nearest.rank;
    return {
      lon, lat, level, verdict,
      reason: findings.length ? findings[0].label : null,
      findings,
      inside_more: Math.max(inside.length - 1, 0),
      released,
      nearest,
    };
  }

  // -- the route ------------------------------------------------------------------------------------
  _prepareNetwork(net) {
    this.net = net;
    const nn = net.nodes.length / 2;
    this.adj = Array.from({ length: nn }, () => []);
    this.edgeOf = new Map();
    net.edges.forEach((e, i) => {
      const [u, v, , w] = e;
      this.edgeOf.set(u < v ? `${u},${v}` : `${v},${u}`, i);
      if (w !== null) {
        this.adj[u].push([v, w]);
        this.adj[v].push([u, w]);
      }
    });
  }

  _snap(lon, lat) {
    const [x, y] = this.toMetric(lon, lat);
    const nodes = this.net.nodes;
    let best = -1, bd = Infinity;
    for (let i = 0; i < nodes.length; i += 2) {
      const dx = nodes[i] - x, dy = nodes[i + 1] - y;
      const d = dx * dx + dy * dy;
      if (d < bd) { bd = d; best = i / 2; }
    }
    return [best, Math.sqrt(bd), [x, y]];
  }

  _dijkstra(s) {
    const nn = this.adj.length;
    const dist = new Float64Array(nn).fill(Infinity);
    const pred = new Int32Array(nn).fill(-9999);
    const done = new Uint8Array(nn);
    dist[s] = 0;
    const heap = [[0, s]];
    const push = (item) => {
      heap.push(item);
      let i = heap.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p][0] <= heap[i][0]) break;
        [heap[p], heap[i]] = [heap[i], heap[p]];
        i = p;
      }
    };
    const pop = () => {
      const top = heap[0];
      const last = heap.pop();
      if (heap.length) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1, r = l + 1;
          let m = i;
          if (l < heap.length && heap[l][0] < heap[m][0]) m = l;
          if (r < heap.length && heap[r][0] < heap[m][0]) m = r;
          if (m === i) break;
          [heap[m], heap[i]] = [heap[i], heap[m]];
          i = m;
        }
      }
      return top;
    };
    while (heap.length) {
      const [d, u] = pop();
      if (done[u]) continue;
      done[u] = 1;
      for (const [v, w] of this.adj[u]) {
        const nd = d + w;
        if (nd < dist[v]) { dist[v] = nd; pred[v] = u; push([nd, v]); }
      }
    }
    return [dist, pred];
  }

  route(fromLonLat, toLonLat) {
    if (!this.net) throw new Error("this district has no roads or paths to route on");
    const [s, ds] = this._snap(...fromLonLat);
    const [t, dt, target] = this._snap(...toLonLat);
    const [dist, pred] = this._dijkstra(s);
    if (!Number.isFinite(dist[t])) return this._blocked(dist, pred, s, target, ds);
    return this._answer(walk(pred, s, t), ds, dt);
  }

  _answer(path, ds, dt) {
    const N = this.net.nodes, E = this.net.edges;
    let length = 0;
    for (let i = 1; i < path.length; i++)
      length += Math.hypot(N[2 * path[i]] - N[2 * path[i - 1]], N[2 * path[i] + 1] - N[2 * path[i - 1] + 1]);
    const edges = [];
    for (let i = 1; i < path.length; i++) {
      const a = path[i - 1], b = path[i];
      const e = this.edgeOf.get(a < b ? `${a},${b}` : `${b},${a}`);
      if (e !== undefined) edges.push(e);
    }
    const near = new Map();
    let nearLen = 0;
    for (const e of edges) {
      const [, , len, , , ni, nd] = E[e];
      if (ni >= 0) {
        const what = this.net.near_labels[ni];
        near.set(what, Math.min(nd, near.has(what) ? near.get(what) : Infinity));
        nearLen += len;
      }
    }
    const parts = { kind: "found", length_m: length, near_length_m: nearLen, near: near.size > 0 };
    let msg = `Safe route found: ${grouped(length)} m along roads and paths`;
    msg += near.size ? `, ${grouped(nearLen)} m of it close to known dangers (stay on the track there).` : ".";
    let unverified = null;
    if (this.net.has_verified) {
      const off = edges.filter((e) => !E[e][4]);
      unverified = off.length ? off.reduce((acc, e) => acc + E[e][2], 0) : 0.0;
      if (edges.length && this.net.any_verified) {
        parts.verified = unverified < 1.0 ? "all" : "part";
        msg += unverified < 1.0
          ? " All of it on roads and paths verified by route clearance or survey."
          : ` ${grouped(unverified)} m of it on ground no survey or clearance has verified: keep to the track.`;
      }
    }
    parts.unverified_m = unverified;
    if (this.net.has_risk && edges.length) {
      let sw = 0, s = 0, mx = -Infinity;
      for (const e of edges) {
        const w = E[e][2] + 1e-9;
        s += E[e][7] * w; sw += w; mx = Math.max(mx, E[e][7]);
      }
      parts.mean_risk = s / sw; parts.max_risk = mx;
      msg += ` Predicted contamination along it: mean ${fixed(s / sw, 2)}, highest ${fixed(mx, 2)}.`;
    }
    const nearList = [...near.entries()].map(([label, d]) => ({ label, distance_m: d }));
    nearList.sort((a, b) => a.distance_m - b.distance_m);
    return {
      found: true,
      length_m: length,
      explanation: msg,
      parts,
      near: nearList,
      near_length_m: nearLen,
      snapped_from_m: ds,
      snapped_to_m: dt,
      closest_safe_point: null,
      short_of_destination_m: null,
      unverified_m: unverified,
      nodes: path,
      path: path.map((i) => [this.net.lonlat[2 * i], this.net.lonlat[2 * i + 1]]),
    };
  }

  _blocked(dist, pred, s, target, ds) {
    const N = this.net.nodes;
    let best = -1, short = Infinity;
    for (let i = 0; i < dist.length; i++) {
      if (!Number.isFinite(dist[i])) continue;
      const g = Math.hypot(N[2 * i] - target[0], N[2 * i + 1] - target[1]);
      if (g < short) { short = g; best = i; }
    }
    const partial = this._answer(walk(pred, s, best), ds, 0.0);
    const lon = this.net.lonlat[2 * best], lat = this.net.lonlat[2 * best + 1];
    const why = this.net.verified_only ? "unverified" : this.net.any_blocked ? "blocked" : "unconnected";
    const head = {
      unverified: "No safe route: every way to the destination passes through a hazard area or its buffer, " +
        "or along roads and paths that no survey or clearance has verified. ",
      blocked: "No safe route: every way to the destination passes through a hazard area or its buffer. ",
      unconnected: "No route: the roads and paths known here do not connect to the destination. ",
    }[why];
    return {
      ...partial,
      found: false,
      parts: { kind: "blocked", why, short_m: short, lon, lat, length_m: partial.length_m },
      snapped_to_m: 0.0,
      closest_safe_point: [lon, lat],
      short_of_destination_m: short,
      explanation:
        head +
        `The closest point you can reach safely is ${grouped(short)} m from the destination ` +
        `(${fixed(lat, 5)} N, ${fixed(lon, 5)} E), ${grouped(partial.length_m)} m along roads and paths. ` +
        "Ask the mine action authority before going further.",
    };
  }
}

function walk(pred, s, t) {
  const out = [t];
  while (out[out.length - 1] !== s) {
    const p = pred[out[out.length - 1]];
    if (p < 0) break;
    out.push(p);
  }
  return out.reverse();
}
