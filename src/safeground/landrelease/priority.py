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
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
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
    hz = store.read_frame(HazardArea)
    hz = hz[hz["status"] != "closed"]
    cols = ["uid", "name", "classification", "remaining_m2", "homes_nearby", "blocked", "accidents_nearby"]
    if not len(hz):
        return pd.DataFrame(columns=cols)
    epsg = metric_epsg(store, hz)
    hz_m = hz.to_crs(epsg)[["uid", "geometry"]].reset_index(drop=True)
    near = hz_m.assign(geometry=hz_m.buffer(weights.near_m))
    blocked = hz_m.assign(geometry=hz_m.buffer(weights.blocked_m))

    def count_within(zones: gpd.GeoDataFrame, pts: gpd.GeoDataFrame) -> pd.Series:
        if not len(pts):
            return pd.Series(0, index=zones["uid"])
        j = gpd.sjoin(pts[["geometry"]], zones, predicate="within")
        return j.groupby("uid").size().reindex(zones["uid"], fill_value=0)

    areas = store.read_frame(InfrastructureArea).to_crs(epsg)
    homes = areas[areas["kind"] == "building"]
    homes = homes.assign(geometry=homes.geometry.representative_point())
    homes_n = count_within(near, homes)

    blocked_score = pd.Series(0.0, index=hz_m["uid"])
    pts = store.read_frame(InfrastructurePoint).to_crs(epsg)
    lines = store.read_frame(InfrastructureLine).to_crs(epsg)
    for kind, w in INFRASTRUCTURE_WEIGHTS.items():
        p = pts[pts["kind"] == kind]
        if len(p):
            blocked_score += w * count_within(blocked, p)
        a = areas[areas["kind"] == kind]
        if len(a):
            j = gpd.sjoin(a[["geometry"]], blocked, predicate="intersects")
            blocked_score += w * j.groupby("uid").size().reindex(blocked["uid"], fill_value=0)
        ln = lines[lines["kind"] == kind]
        if len(ln):
            inter = gpd.overlay(ln[["geometry"]], blocked, how="intersection", keep_geom_type=True)
            if len(inter):
                km = inter.assign(km=inter.length / 1000.0).groupby("uid")["km"].sum()
                blocked_score += w * km.reindex(blocked["uid"], fill_value=0.0)

    acc = store.read_frame(Accident)
    acc_n = count_within(near, acc.to_crs(epsg)) if len(acc) else pd.Series(0, index=hz_m["uid"])
    out = pd.DataFrame(
        {
            "uid": hz["uid"].to_numpy(),
            "name": hz["name"].to_numpy(),
            "classification": hz["classification"].to_numpy(),
            "remaining_m2": hz["remaining_area_m2"].to_numpy(),
        }
    ).set_index("uid")
    out["homes_nearby"] = homes_n.reindex(out.index).fillna(0).astype(int)
    out["blocked"] = blocked_score.reindex(out.index).fillna(0.0).round(2)
    out["accidents_nearby"] = acc_n.reindex(out.index).fillna(0).astype(int)
    return out.reset_index()


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
