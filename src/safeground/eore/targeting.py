"""Which settlements need risk education next: a ranking by need that shows its reasons.

Each settlement gets five factors, each scaled 0–1 over the settlements ranked (1 = the highest
value among them), as the clearance priorities do (``landrelease.priority``):

* **returnees**: the people who live there: a population figure when one was imported
  (``population``: settlement → people), else the buildings of the settlement; scaled by its square
  root (a session reaches a village whole, a town only by parts);
* **accidents**: accidents within ``near_m`` of the settlement (its footprint and its cemeteries)
  known on the date: people there are already meeting the mines;
* **hazards**: open hazard areas within ``near_m`` on the date (read from their version history),
  weighted by how close they are (an area at the edge of the village counts fully, one at
  ``near_m`` half);
* **predicted risk**: the mean predicted risk within ``near_m``, from the store's current risk map
  (no map: the factor and its weight are dropped, and the ranking says so);
* **time since the last session**: days from the last session held there (or, when none was, from
  the return of the population) to the date; a settlement never reached scores highest.

The score is the weighted mean of the factors; each factor's contribution (weight share × factor)
is kept, so the table says why a settlement is where it is. Everything is read as known on
``as_of`` (accidents and sessions up to it, hazard areas as their history stood), so a ranking
can be checked against what happened afterwards.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field

from safeground.errors import InvalidInput, Problem
from safeground.landrelease.accounting import hazard_versions, remaining_on
from safeground.model import Accident, EORESession, HazardArea, InfrastructureArea
from safeground.storage.base import Store, metric_epsg

FACTORS = ("returnees", "accidents", "hazards", "predicted_risk", "time_since_session")
COLUMNS = [
    "rank", "settlement", "people", "people_from", "accidents_nearby", "hazards_nearby", "predicted_risk",
    "last_session", "days_since_session", "sessions",
    *[f"c_{f}" for f in FACTORS], "score",
]  # fmt: skip


class EOREWeights(BaseModel):
    """Settings of the ranking (defaults: returnees 0.25, accidents 0.25, hazards 0.2, predicted risk 0.1,
    time since the last session 0.2)."""

    model_config = ConfigDict(extra="forbid")

    returnees: float = Field(default=0.25, ge=0)
    accidents: float = Field(default=0.25, ge=0)
    hazards: float = Field(default=0.20, ge=0)
    predicted_risk: float = Field(default=0.10, ge=0)
    time_since_session: float = Field(default=0.20, ge=0)
    near_m: float = Field(default=1500.0, gt=0, description="radius around a settlement and its cemeteries")


def _scaled(x: pd.Series) -> pd.Series:
    top = float(x.max()) if len(x) else 0.0
    return x / top if top > 0 else x * 0.0


def settlements(store: Store, epsg: int) -> gpd.GeoDataFrame:
    """Each named settlement (metric): its footprint joined with its cemeteries, the ground its people walk."""
    areas = store.read_frame(InfrastructureArea)
    empty = gpd.GeoDataFrame({"settlement": [], "footprint": gpd.GeoSeries([], crs=epsg), "buildings": []},
                             geometry=gpd.GeoSeries([], crs=epsg), crs=epsg)  # fmt: skip
    if not len(areas):
        return empty
    areas = areas.to_crs(epsg)
    st = areas[(areas["kind"] == "settlement") & areas["name"].notna()]
    if not len(st):
        return empty
    rows = []
    for name, g in st.groupby("name"):
        geom = shapely.union_all(g.geometry.to_numpy())
        cem = areas[(areas["kind"] == "cemetery") & (areas["settlement"] == name)]
        life = shapely.union_all([geom, *cem.geometry.to_numpy()]) if len(cem) else geom
        rows.append({"settlement": str(name), "footprint": geom, "geometry": life})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=epsg)
    out["buildings"] = 0
    homes = areas[areas["kind"] == "building"]
    if len(homes):
        pts = homes.assign(geometry=homes.geometry.representative_point())
        by_name = pts["settlement"].value_counts()
        counted = out["settlement"].map(by_name).fillna(0).astype(int)
        # buildings without a settlement name (imported from OSM) count where they stand
        unnamed = pts[pts["settlement"].isna()]
        if len(unnamed):
            j = gpd.sjoin(unnamed[["geometry"]], out.set_geometry("footprint")[["settlement", "footprint"]],
                          predicate="within")  # fmt: skip
            counted = counted + out["settlement"].map(j.groupby("settlement").size()).fillna(0).astype(int)
        out["buildings"] = counted
    return out


def _count_within(zones: gpd.GeoDataFrame, pts: gpd.GeoDataFrame) -> pd.Series:
    if not len(pts):
        return pd.Series(0, index=zones["settlement"])
    j = gpd.sjoin(pts[["geometry"]], zones[["settlement", "geometry"]], predicate="within")
    return j.groupby("settlement").size().reindex(zones["settlement"], fill_value=0)


def _open_hazards(store: Store, as_of: date, epsg: int) -> gpd.GeoDataFrame:
    """Hazard areas open on ``as_of``, each with the outline of its version of that date."""
    versions = hazard_versions(store)
    if not len(versions):
        return gpd.GeoDataFrame({"uid": []}, geometry=[], crs=epsg)
    now = remaining_on(versions, as_of)
    now = now[now["status"] != "closed"]
    rows = []
    for uid, version in zip(now["uid"], now["version"], strict=True):
        for v in store.history(HazardArea, uid):
            if v.version == version:
                rows.append({"uid": uid, "geometry": v.geometry})
    if not rows:
        return gpd.GeoDataFrame({"uid": []}, geometry=[], crs=epsg)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326).to_crs(epsg)


def _risk_near(store: Store, zones: gpd.GeoDataFrame) -> pd.Series | None:
    import rasterio
    from rasterio.features import geometry_mask
    from rasterio.windows import Window

    from safeground.risk.output import latest_risk

    info = latest_risk(store)
    if info is None:
        return None
    out: dict[str, float] = {}
    with rasterio.open(info["raster"]) as src:
        for name, g in zip(zones["settlement"], zones.to_crs(src.crs).geometry, strict=True):
            win = rasterio.windows.from_bounds(*g.bounds, transform=src.transform).round_offsets().round_lengths()
            win = win.intersection(Window(0, 0, src.width, src.height))
            arr = src.read(1, window=win)
            if not arr.size:
                continue
            inside = ~geometry_mask([g], out_shape=arr.shape, transform=src.window_transform(win), all_touched=True)
            vals = arr[inside & np.isfinite(arr)]
            if len(vals):
                out[str(name)] = float(vals.mean())
    return pd.Series(out, dtype=float)


def need_factors(
    store: Store,
    weights: EOREWeights,
    as_of: date,
    *,
    population: dict[str, float] | None = None,
    return_date: date | None = None,
) -> pd.DataFrame:
    """Raw measures per settlement as known on ``as_of`` (see the module's description)."""
    epsg = metric_epsg(store)
    st = settlements(store, epsg)
    cols = ["settlement", "people", "people_from", "accidents_nearby", "hazards_nearby", "predicted_risk",
            "last_session", "days_since_session", "sessions"]  # fmt: skip
    if not len(st):
        return pd.DataFrame(columns=cols)
    near = st.assign(geometry=st.buffer(weights.near_m))
    out = pd.DataFrame({"settlement": st["settlement"].to_numpy()}).set_index("settlement")
    pop = {k.strip().lower(): v for k, v in (population or {}).items()}
    people = [pop.get(n.lower()) for n in out.index]
    out["people"] = [float(p) if p is not None else float(b) for p, b in zip(people, st["buildings"], strict=True)]
    out["people_from"] = ["population" if p is not None else "buildings" for p in people]

    acc = store.read_frame(Accident)
    if len(acc):
        acc = acc[acc["accident_date"].notna() & (pd.to_datetime(acc["accident_date"]).dt.date <= as_of)]
    out["accidents_nearby"] = _count_within(near, acc.to_crs(epsg) if len(acc) else acc).to_numpy()

    hz = _open_hazards(store, as_of, epsg)
    weight = np.zeros(len(st))
    if len(hz):
        tree = shapely.STRtree(hz.geometry.to_numpy())
        for k, life in enumerate(st.geometry):
            idx = tree.query(life, predicate="dwithin", distance=weights.near_m)
            d = shapely.distance(hz.geometry.to_numpy()[idx], life)
            weight[k] = float(np.sum(1.0 - 0.5 * np.clip(d / weights.near_m, 0, 1)))
    out["hazards_nearby"] = np.round(weight, 2)

    risk = _risk_near(store, near)
    out["predicted_risk"] = np.nan if risk is None else risk.reindex(out.index).to_numpy()

    ses = store.read_frame(EORESession)
    start = return_date or _first_day(store)
    last: dict[str, date] = {}
    count: dict[str, int] = {}
    if len(ses):
        ses = ses[pd.to_datetime(ses["session_date"]).dt.date <= as_of]
        names = {n.lower(): n for n in out.index}
        for name, when in zip(ses["settlement"], pd.to_datetime(ses["session_date"]).dt.date, strict=True):
            key = names.get(str(name).strip().lower())
            if key is None:
                continue
            count[key] = count.get(key, 0) + 1
            last[key] = max(last.get(key, when), when)
    out["last_session"] = [last.get(n) for n in out.index]
    out["days_since_session"] = [(as_of - last.get(n, start)).days for n in out.index]
    out["days_since_session"] = out["days_since_session"].clip(lower=0)
    out["sessions"] = [count.get(n, 0) for n in out.index]
    return out.reset_index()


def _first_day(store: Store) -> date:
    """Without a return date: the first accident or session on record (the population was there by then)."""
    days = []
    acc = store.read_frame(Accident)
    if len(acc) and acc["accident_date"].notna().any():
        days.append(pd.to_datetime(acc["accident_date"]).min().date())
    ses = store.read_frame(EORESession)
    if len(ses):
        days.append(pd.to_datetime(ses["session_date"]).min().date())
    return min(days) if days else date(2000, 1, 1)


def rank(factors: pd.DataFrame, weights: EOREWeights) -> tuple[pd.DataFrame, str]:
    """Rank settlements by weighted need; returns the table (``COLUMNS``) and a note on what was used."""
    f = factors.set_index("settlement").copy()
    # the square root: a session reaches a village whole and a town only by parts, so ten times the people
    # is not ten times the need for the next session
    f["f_returnees"] = _scaled(np.sqrt(f["people"].astype(float)))
    f["f_accidents"] = _scaled(f["accidents_nearby"].astype(float))
    f["f_hazards"] = _scaled(f["hazards_nearby"].astype(float))
    f["f_time_since_session"] = _scaled(f["days_since_session"].astype(float))
    w = {k: float(getattr(weights, k)) for k in FACTORS}
    have_risk = len(f) > 0 and f["predicted_risk"].notna().any()
    if have_risk:
        f["f_predicted_risk"] = _scaled(f["predicted_risk"].fillna(0.0).astype(float))
        note = "Predicted risk from the store's current risk map (mean within the radius)."
    else:
        w.pop("predicted_risk")
        f["c_predicted_risk"] = 0.0
        note = "No risk map is saved: predicted risk was dropped and the other weights were renormalised."
    total = sum(w.values())
    if total <= 0:
        raise InvalidInput([Problem("EORE weights", "weights", "sum", "at least one weight must be above 0", 0)])
    f["score"] = 0.0
    for k, wk in w.items():
        f[f"c_{k}"] = (wk / total) * f[f"f_{k}"]
        f["score"] += f[f"c_{k}"]
    f = f.sort_values(["score", "people"], ascending=[False, False])
    f.insert(0, "rank", np.arange(1, len(f) + 1))
    shares = ", ".join(f"{k.replace('_', ' ')} {v / total:.0%}" for k, v in w.items())
    out = f.reset_index()
    for c in COLUMNS:
        if c not in out:
            out[c] = np.nan
    return out[COLUMNS].round({c: 3 for c in out.columns if c.startswith("c_") or c == "score"}), (
        f"{note} Weights used: {shares}; accidents, hazard areas and risk within {weights.near_m:,.0f} m."
    )
