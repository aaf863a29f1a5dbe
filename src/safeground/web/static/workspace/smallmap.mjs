// A small map for the review and entry pages: the store's own context (admin areas, roads and rivers,
// recorded hazard areas, read from the OGC API as the reader may read them), no tiles from elsewhere.
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";
import { getJSON } from "/static/workspace/common.mjs";

export { maplibregl };

const CONTEXT = [
  // [collection, layer type, paint]
  ["admin_areas", "line", { "line-color": "#8a8a8a", "line-width": 1, "line-dasharray": [3, 2] }],
  ["infrastructure_lines", "line", { "line-color": "#b9a27a", "line-width": 1.5 }],
  ["hazard_areas", "line", { "line-color": "#c0392b", "line-width": 1.2, "line-opacity": 0.6 }],
];

/** A map in `container` showing `area` ([w, s, e, n]) with the store's context; resolves when loaded. */
export function smallMap(container, area, { interactive = true } = {}) {
  const [w, s, e, n] = area || [-180, -85, 180, 85];
  const map = new maplibregl.Map({
    container,
    bounds: [[w, s], [e, n]],
    fitBoundsOptions: { padding: 10 },
    attributionControl: false,
    interactive,
    style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#f3f1ea" } }] },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  const loaded = new Promise((resolve) => map.on("load", resolve));
  const bbox = area ? `&bbox=${area.join(",")}` : "";
  loaded.then(() => {
    for (const [name, type, paint] of CONTEXT) {
      getJSON(`/collections/${name}/items?limit=2000${bbox}`).then((fc) => {
        if (!map.getSource(`ctx-${name}`)) map.addSource(`ctx-${name}`, { type: "geojson", data: fc });
        const before = map.getLayer("sg-first-own") ? "sg-first-own" : undefined;
        map.addLayer({ id: `ctx-${name}`, type, source: `ctx-${name}`, paint }, before);
      }).catch(() => {}); // the context is a help, not the point: a layer the reader may not read is left out
    }
  });
  map.on("error", (ev) => { window.sgMapError = String(ev.error && ev.error.message); });
  map.on("idle", () => { window.sgMapIdle = true; });
  return { map, loaded };
}

/** The bounds of GeoJSON geometries, [[w, s], [e, n]], or null. */
export function boundsOf(geometries) {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === "number") { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); }
    else c.forEach(walk);
  };
  for (const g of geometries) if (g && g.coordinates) walk(g.coordinates);
  return w === Infinity ? null : [[w, s], [e, n]];
}
