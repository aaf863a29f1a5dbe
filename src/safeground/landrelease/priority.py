"""Which hazard areas to release first: a ranking by impact that shows its reasons.

Each open hazard area gets four factors, each scaled to 0–1 over the areas
ranked (1 = the highest value among them):

* **returnees**: homes (buildings) and settlements within ``near_m`` — the people
  who will walk there;
* **infrastructure**: roads, paths, canals, bridges, springs, cemeteries and
  buildings the area blocks (inside it or within ``blocked_m``);
* **accidents**: accidents within ``near_m`` — people have already been hurt there;
* **predicted risk**: the mean predicted risk of the area from the risk model,
  when one is given (``risk=None`` drops this factor and its weight, and the
  ranking says so).

The score is the weighted mean of the factors; every factor's contribution
(weight × factor / sum of weights) is kept, so the table shows why an area is
where it is. Weights are settings (a TOML, YAML or JSON file, or options).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safeground.errors import InvalidInput, Problem
from safeground.model import Accident, HazardArea, InfrastructureArea, InfrastructureLine, InfrastructurePoint
from safeground.storage.base import Store, metric_epsg

FACTORS = ("returnees", "infrastructure", "accidents", "predicted_risk")

#: Infrastructure kinds that count as blocked, by the weight each one carries.
#: A cemetery or a road blocks more lives than one light pole.
INFRASTRUCTURE_WEIGHTS: dict[str, float] = {
    "road": 3.0,  # per km inside the area
    "path": 1.0,  # per km
    "canal": 2.0,  # per km
    "bridge": 2.0,
    "road_junction": 0.5,
    "spring": 2.0,
    "cemetery": 5.0,
    "building": 0.5,
    "courtyard_entrance": 0.2,
}


class PriorityWeights(BaseModel):
    """Settings of the ranking. Defaults: returnees 0.35, infrastructure 0.25, accidents 0.25, predicted risk 0.15."""

    model_config = ConfigDict(extra="forbid")

    returnees: float = Field(default=0.35, ge=0)
    infrastructure: float = Field(default=0.25, ge=0)
    accidents: float = Field(default=0.25, ge=0)
    predicted_risk: float = Field(default=0.15, ge=0)
    near_m: float = Field(default=1000.0, gt=0, description="radius for homes and accidents nearby")
    blocked_m: float = Field(default=50.0, ge=0, description="infrastructure this close counts as blocked")


def load_weights(path: str | Path | None = None, **overrides: float | None) -> PriorityWeights:
    """Weights from a TOML/YAML/JSON file (optional), then options given on the command line."""
    data: dict[str, object] = {}
    if path is not None:
        p = Path(path)
        from safeground.intake.yamlsafe import load_json, load_yaml, read_text

        text = read_text(p, str(p))
        try:
            if p.suffix.lower() == ".toml":
                data = tomllib.loads(text)
            elif p.suffix.lower() in (".yaml", ".yml"):
                data = load_yaml(text, str(p)) or {}  # bounded: an alias bomb is refused, not walked
            elif p.suffix.lower() == ".json":
                data = load_json(text, str(p))
            else:
                raise InvalidInput([Problem(str(p), "file", "suffix", "use .toml, .yaml or .json", p.suffix)])
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput([Problem(str(p), "file", "(syntax)", str(exc).splitlines()[0])]) from None
        table = data.get("priority", data) if isinstance(data, dict) else None
        if not isinstance(table, dict):
            raise InvalidInput([Problem(str(p), "file", "priority", "expected a table of weights (name: number)")])
        data = dict(table)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return PriorityWeights(**data)  # type: ignore[arg-type]
    except ValidationError as exc:
        src = str(path) if path is not None else "options"
        raise InvalidInput(
            [Problem(src, "priority", ".".join(map(str, e["loc"])), e["msg"], e.get("input")) for e in exc.errors()]
        ) from None


def _scaled(x: pd.Series) -> pd.Series:
    top = float(x.max()) if len(x) else 0.0
    return x / top if top > 0 else x * 0.0


def impact_factors(store: Store, weights: PriorityWeights) -> pd.DataFrame:
    """Raw measures per open hazard area: homes nearby, weighted blocked infrastructure, accidents nearby."""
    # every layer is read a chunk at a time with only the columns used: a country's hazard areas, buildings and
    # infrastructure with every column were most of a national report's memory
    hz = _concat(store.read_frames(HazardArea, ["uid", "name", "classification", "status", "remaining_area_m2"]))
    cols = ["uid", "name", "classification", "remaining_m2", "homes_nearby", "blocked", "accidents_nearby"]
    if hz is None or not len(hz):
        return pd.DataFrame(columns=cols)
    hz = hz[hz["status"] != "closed"]
    if not len(hz):
        return pd.DataFrame(columns=cols)
    epsg = metric_epsg(store, hz)
    hz_m = hz[["uid", "geometry"]].to_crs(epsg).reset_index(drop=True)
    hz = pd.DataFrame(hz.drop(columns="geometry"))  # the names and sizes stay; the degrees go
    near = hz_m.assign(geometry=hz_m.buffer(weights.near_m))
    blocked = hz_m.assign(geometry=hz_m.buffer(weights.blocked_m))

    def count_within(zones: gpd.GeoDataFrame, pts: gpd.GeoDataFrame) -> pd.Series:
        if not len(pts):
            return pd.Series(0, index=zones["uid"])
        j = gpd.sjoin(pts[["geometry"]], zones, predicate="within")
        return j.groupby("uid").size().reindex(zones["uid"], fill_value=0)

    # buildings and infrastructure are read in chunks with only their kind and counted as they come: a
    # country's 200,000 buildings with every column were most of a national report's memory
    near_tree = shapely.STRtree(near.geometry.to_numpy())
    blocked_tree = shapely.STRtree(blocked.geometry.to_numpy())
    n = len(hz_m)
    homes_n = np.zeros(n, dtype=np.int64)
    point_n: dict[str, np.ndarray] = {}
    area_n: dict[str, np.ndarray] = {}

    def hits(tree: shapely.STRtree, geoms: np.ndarray, predicate: str) -> np.ndarray:
        return np.bincount(tree.query(geoms, predicate=predicate)[1], minlength=n)

    for chunk in store.read_frames(InfrastructureArea, ["kind"], chunk_rows=_CHUNK):
        chunk = chunk[chunk["kind"].isin(["building", *INFRASTRUCTURE_WEIGHTS])]
        if not len(chunk):
            continue
        chunk = chunk.to_crs(epsg)
        kind = chunk["kind"].to_numpy()
        homes = shapely.point_on_surface(chunk.geometry.to_numpy()[kind == "building"])  # representative_point
        homes_n += hits(near_tree, homes, "within")
        for k in INFRASTRUCTURE_WEIGHTS:
            if (kind == k).any():
                geoms = chunk.geometry.to_numpy()[kind == k]
                area_n[k] = area_n.get(k, np.zeros(n, dtype=np.int64)) + hits(blocked_tree, geoms, "intersects")
    for chunk in store.read_frames(InfrastructurePoint, ["kind"], chunk_rows=_CHUNK):
        chunk = chunk[chunk["kind"].isin(list(INFRASTRUCTURE_WEIGHTS))]
        if not len(chunk):
            continue
        chunk = chunk.to_crs(epsg)
        kind = chunk["kind"].to_numpy()
        for k in INFRASTRUCTURE_WEIGHTS:
            if (kind == k).any():
                geoms = chunk.geometry.to_numpy()[kind == k]
                point_n[k] = point_n.get(k, np.zeros(n, dtype=np.int64)) + hits(blocked_tree, geoms, "within")
    lines = _concat(
        c[c["kind"].isin(list(INFRASTRUCTURE_WEIGHTS))].to_crs(epsg)
        for c in store.read_frames(InfrastructureLine, ["kind"])
    )
    uids = hz_m["uid"].to_numpy()
    blocked_score = pd.Series(0.0, index=hz_m["uid"])
    for kind, w in INFRASTRUCTURE_WEIGHTS.items():
        if kind in point_n:
            blocked_score += w * pd.Series(point_n[kind], index=uids)
        if kind in area_n:
            blocked_score += w * pd.Series(area_n[kind], index=uids)
        ln = lines[lines["kind"] == kind] if lines is not None else None
        if ln is not None and len(ln):
            km = _km_inside(ln.geometry.to_numpy(), blocked)
            if len(km):
                blocked_score += w * km.reindex(blocked["uid"], fill_value=0.0)
    homes_n_s = pd.Series(homes_n, index=uids)

    acc = _concat(store.read_frames(Accident, []))
    acc_n = count_within(near, acc.to_crs(epsg)) if acc is not None and len(acc) else pd.Series(0, index=hz_m["uid"])
    out = pd.DataFrame(
        {
            "uid": hz["uid"].to_numpy(),
            "name": hz["name"].to_numpy(),
            "classification": hz["classification"].to_numpy(),
            "remaining_m2": hz["remaining_area_m2"].to_numpy(),
        }
    ).set_index("uid")
    out["homes_nearby"] = homes_n_s.reindex(out.index).fillna(0).astype(int)
    out["blocked"] = blocked_score.reindex(out.index).fillna(0.0).round(2)
    out["accidents_nearby"] = acc_n.reindex(out.index).fillna(0).astype(int)
    return out.reset_index()


#: buildings and infrastructure points read at a time: small chunks, so that what one chunk decodes and
#: projects (and leaves in the heap's gaps when it is freed) stays a few megabytes
_CHUNK = 5_000


def _concat(chunks: Iterable[gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    """The chunks of ``Store.read_frames`` as one frame (None when there is none)."""
    parts = list(chunks)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)


def _km_inside(lines: np.ndarray, zones: gpd.GeoDataFrame) -> pd.Series:
    """Kilometres of the lines inside each zone (by uid): the pairs a spatial index finds, intersected pair by
    pair in one vectorised call. What ``geopandas.overlay`` gave, without building the overlay's frame of every
    piece with both sides' attributes (on a national store it held gigabytes)."""
    tree = shapely.STRtree(lines)
    z_idx, l_idx = tree.query(zones.geometry.to_numpy(), predicate="intersects")
    if not len(z_idx):
        return pd.Series(dtype=float)
    order = np.lexsort((z_idx, l_idx))  # the overlay's order: by line, then by zone
    z_idx, l_idx = z_idx[order], l_idx[order]
    pieces = shapely.intersection(lines[l_idx], zones.geometry.to_numpy()[z_idx])
    # a point where a line only touches a zone has no length: the same sums as keeping the lines alone
    km = pd.Series(shapely.length(pieces) / 1000.0, index=zones["uid"].to_numpy()[z_idx])
    return km.groupby(level=0, sort=True).sum()


def rank(factors: pd.DataFrame, weights: PriorityWeights, risk: pd.Series | None = None) -> tuple[pd.DataFrame, str]:
    """Rank hazard areas by weighted impact; returns the table and a note on what was used.

    ``risk`` is the mean predicted risk per hazard uid (any scale, higher = riskier) or None.
    """
    f = factors.set_index("uid").copy()
    f["f_returnees"] = _scaled(f["homes_nearby"].astype(float))
    f["f_infrastructure"] = _scaled(f["blocked"].astype(float))
    f["f_accidents"] = _scaled(f["accidents_nearby"].astype(float))
    w = {
        "returnees": weights.returnees,
        "infrastructure": weights.infrastructure,
        "accidents": weights.accidents,
        "predicted_risk": weights.predicted_risk,
    }
    if risk is None:
        w.pop("predicted_risk")
        note = "Predicted risk was not given: its weight was dropped and the other weights were renormalised."
    else:
        missing = f.index.difference(risk.index)
        f["predicted_risk"] = risk.reindex(f.index).astype(float)
        f["f_predicted_risk"] = _scaled(f["predicted_risk"].fillna(0.0))
        note = "Predicted risk from the risk model (mean per hazard area)"
        note += f"; {len(missing)} areas had no prediction and count 0." if len(missing) else "."
    total = sum(w.values())
    if total <= 0:
        raise InvalidInput([Problem("priority weights", "weights", "sum", "at least one weight must be above 0", 0)])
    f["score"] = 0.0
    for k, wk in w.items():
        f[f"c_{k}"] = (wk / total) * f[f"f_{k}"]
        f["score"] += f[f"c_{k}"]
    f = f.sort_values(["score", "remaining_m2"], ascending=[False, True])
    f.insert(0, "rank", np.arange(1, len(f) + 1))
    shares = ", ".join(f"{k} {v / total:.0%}" for k, v in w.items())
    return f.reset_index(), f"{note} Weights used: {shares}."
