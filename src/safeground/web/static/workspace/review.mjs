// A submission's page: the old and new geometry on the map, and the reviewer's decision, sent to the
// review queue's JSON routes (POST /submissions/{sid}/approve | reject | reconcile) with the CSRF header.
import { postJSON, showError, clearErrors, t } from "/static/workspace/common.mjs";
import { smallMap, boundsOf } from "/static/workspace/smallmap.mjs";

const data = JSON.parse(document.getElementById("sg-review-data").textContent);

function drawGeometries() {
  const box = document.getElementById("sg-review-map");
  if (!box || !data.geometries.length) return;
  const { map, loaded } = smallMap(box, data.area);
  const feature = (g, which, uid) => ({ type: "Feature", properties: { which, uid }, geometry: g });
  const features = [];
  for (const g of data.geometries) {
    if (g.old) features.push(feature(g.old, "old", g.uid));
    if (g.new) features.push(feature(g.new, "new", g.uid));
  }
  const related = (data.related || []).map((r) => ({ type: "Feature", properties: { which: "related", uid: r.uid }, geometry: r.geometry }));
  loaded.then(() => {
    map.addSource("related", { type: "geojson", data: { type: "FeatureCollection", features: related } });
    map.addLayer({ id: "related-fill", type: "fill", source: "related", paint: { "fill-color": "#0b4f8a", "fill-opacity": 0.15 } });
    map.addLayer({ id: "related-line", type: "line", source: "related", paint: { "line-color": "#0b4f8a", "line-width": 2 } });
    map.addSource("diff", { type: "geojson", data: { type: "FeatureCollection", features } });
    const poly = ["==", ["geometry-type"], "Polygon"];
    const point = ["==", ["geometry-type"], "Point"];
    const colour = ["match", ["get", "which"], "old", "#4d4d4d", "#e66101"];
    map.addLayer({ id: "sg-first-own", type: "fill", source: "diff", filter: poly,
                   paint: { "fill-color": colour, "fill-opacity": ["match", ["get", "which"], "old", 0.15, 0.35] } });
    map.addLayer({ id: "diff-line", type: "line", source: "diff", filter: ["!", point],
                   paint: { "line-color": colour, "line-width": 3,
                            "line-dasharray": ["match", ["get", "which"], "old", ["literal", [2, 2]], ["literal", [1, 0]]] } });
    map.addLayer({ id: "diff-point", type: "circle", source: "diff", filter: point,
                   paint: { "circle-color": colour, "circle-radius": 8, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
    const b = boundsOf(features.map((f) => f.geometry)); // the related record can be far larger: it stays around
    if (b) map.fitBounds(b, { padding: 60, maxZoom: 15, duration: 0 });
    window.sgDiffFeatures = features.length;
  });
}

async function decide(path, body, button) {
  clearErrors();
  if (button) button.disabled = true;
  try {
    await postJSON(`/submissions/${data.sid}/${path}`, body);
    location.reload();
  } catch (err) {
    showError(err);
    if (button) button.disabled = false;
  }
}

document.getElementById("sg-approve")?.addEventListener("click", (ev) => decide("approve", undefined, ev.currentTarget));
document.getElementById("sg-reject-form")?.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const reason = ev.currentTarget.elements.reason.value.trim();
  if (!reason) { showError(new Error(t("reject_needs_reason"))); return; }
  decide("reject", { reason }, document.getElementById("sg-reject"));
});
for (const form of document.querySelectorAll("form.sg-reconcile")) {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const to = form.elements.to.value.trim();
    if (to) decide("reconcile", { uid: form.dataset.uid, to }, form.querySelector("button"));
  });
}
drawGeometries();
