// Click to add a vertex, drag a vertex to move it, undo, clear: drawing a point, a line or an area on a
// MapLibre map (which has no drawing tool of its own). One geometry is edited at a time; the caller
// gets GeoJSON through onChange.

const SOURCE = "sg-draw";

export class VertexDraw {
  /** kind: "Point" | "LineString" | "Polygon". */
  constructor(map, { onChange = () => {} } = {}) {
    this.map = map;
    this.kind = null;
    this.vertices = [];
    this.onChange = onChange;
    this.dragging = null;
    map.addSource(SOURCE, { type: "geojson", data: this._collection() });
    map.addLayer({ id: "sg-draw-fill", type: "fill", source: SOURCE, filter: ["==", ["geometry-type"], "Polygon"],
                   paint: { "fill-color": "#e66101", "fill-opacity": 0.3 } });
    map.addLayer({ id: "sg-draw-line", type: "line", source: SOURCE, filter: ["!=", ["geometry-type"], "Point"],
                   paint: { "line-color": "#e66101", "line-width": 3 } });
    map.addLayer({ id: "sg-draw-vertex", type: "circle", source: SOURCE, filter: ["==", ["get", "role"], "vertex"],
                   paint: { "circle-radius": 8, "circle-color": "#e66101", "circle-stroke-color": "#fff",
                            "circle-stroke-width": 3 } });
    map.on("click", (ev) => this._click(ev));
    map.on("mousedown", "sg-draw-vertex", (ev) => this._startDrag(ev));
    map.on("mousemove", (ev) => this._drag(ev));
    map.on("mouseup", () => this._endDrag());
    map.getCanvas().style.cursor = "crosshair";
  }

  /** Start editing a geometry of `kind`, from `geometry` (GeoJSON) when one is given. */
  edit(kind, geometry = null) {
    this.kind = kind;
    this.vertices = [];
    if (geometry && geometry.type === "Point") this.vertices = [geometry.coordinates.slice(0, 2)];
    else if (geometry && geometry.type === "LineString") this.vertices = geometry.coordinates.map((c) => c.slice(0, 2));
    else if (geometry && geometry.type === "Polygon") this.vertices = geometry.coordinates[0].slice(0, -1).map((c) => c.slice(0, 2));
    this._redraw(false);
  }

  undo() { this.vertices.pop(); this._redraw(); }
  clear() { this.vertices = []; this._redraw(); }

  /** The geometry drawn, as GeoJSON, or null while it is not complete. */
  geometry() {
    const v = this.vertices;
    if (this.kind === "Point") return v.length ? { type: "Point", coordinates: v[v.length - 1] } : null;
    if (this.kind === "LineString") return v.length >= 2 ? { type: "LineString", coordinates: v } : null;
    if (this.kind === "Polygon") return v.length >= 3 ? { type: "Polygon", coordinates: [[...v, v[0]]] } : null;
    return null;
  }

  _click(ev) {
    if (!this.kind || this.dragging || this._justDragged) { this._justDragged = false; return; }
    const p = [round(ev.lngLat.lng), round(ev.lngLat.lat)];
    if (this.kind === "Point") this.vertices = [p];
    else this.vertices.push(p);
    this._redraw();
  }

  _startDrag(ev) {
    const i = ev.features?.[0]?.properties?.index;
    if (i === undefined) return;
    ev.preventDefault();
    this.dragging = { index: Number(i) };
    this.map.dragPan.disable();
  }

  _drag(ev) {
    if (!this.dragging) return;
    this.vertices[this.dragging.index] = [round(ev.lngLat.lng), round(ev.lngLat.lat)];
    this._redraw(false);
  }

  _endDrag() {
    if (!this.dragging) return;
    this.dragging = null;
    this._justDragged = true;
    this.map.dragPan.enable();
    this._redraw();
  }

  _collection() {
    const features = [];
    const g = this.geometry ? this.geometry() : null;
    if (g && g.type !== "Point") features.push({ type: "Feature", properties: { role: "shape" }, geometry: g });
    (this.vertices || []).forEach((c, index) =>
      features.push({ type: "Feature", properties: { role: "vertex", index }, geometry: { type: "Point", coordinates: c } }));
    return { type: "FeatureCollection", features };
  }

  _redraw(notify = true) {
    this.map.getSource(SOURCE)?.setData(this._collection());
    if (notify) this.onChange(this.geometry(), this.vertices.length);
  }
}

/** Six decimals: about 0.1 m, more than any GPS or a click on a map can say. */
function round(x) { return Math.round(x * 1e6) / 1e6; }
