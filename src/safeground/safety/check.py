"""Is it safe here? A point checked against every known danger, with a verdict in plain words.

Answers come from the store's layers, indexed once (an STRtree per layer, in
the district's metric projection), so a phone-sized question costs well under a
millisecond and a million points are checked in one vectorised pass.

Levels, in the order a person must act on them:

* **danger**: inside an open hazard area, a recorded minefield perimeter or a
  cluster strike footprint: do not enter;
* **caution**: within the safety buffer of one of them, of a found item or of an
  accident: stay on used roads and paths, go no closer;
* an accident whose place no survey or clearance has covered since is itself a
  **danger** within its buffer: where one mine went off, others lie until someone
  has looked;
* **no known hazard**: nothing known within the buffers, which never proves the
  ground is safe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safeground.casualties.emergency import unsurveyed_accidents
from safeground.errors import OutsideArea
from safeground.geometry.projection import from_wgs84
from safeground.model import Accident, Activity, ClusterStrike, EOItem, HazardArea, MinefieldRecord
from safeground.safety.buffers import DEFAULT_BUFFERS, SafetyBuffers
from safeground.storage.base import Store, metric_epsg

#: a point this close to an outline counts as on it: projection round-off is millimetres,
#: survey accuracy is metres, and at the edge of a hazard the answer must be "inside"
ON_EDGE_M = 0.05
#: how far (degrees) outside the store's area a point may lie before it is refused as a mistake
AREA_MARGIN_DEG = 0.5


class Level(IntEnum):
    NO_KNOWN_HAZARD = 0
    CAUTION = 1
    DANGER = 2


@dataclass(frozen=True)
class Finding:
    kind: str
    uid: str
    label: str
    distance_m: float  # 0 when inside
    buffer_m: float
    blocks: bool  # being inside it means: do not enter

    @property
    def inside(self) -> bool:
        return self.distance_m <= ON_EDGE_M


@dataclass
class SafetyAnswer:
    lon: float
    lat: float
    level: Level
    verdict: str
    findings: list[Finding] = field(default_factory=list)
    released: list[Finding] = field(default_factory=list)
    risk: str = "not available (no risk model in this store)"
    risk_probability: float | None = None


@dataclass
class _Layer:
    kind: str
    geoms: np.ndarray  # metric
    uids: np.ndarray
    labels: np.ndarray
    buffers: np.ndarray
    blocks: bool  # inside means do-not-enter
    tree: shapely.STRtree = field(init=False)

    def __post_init__(self) -> None:
        self.tree = shapely.STRtree(self.geoms)

    @property
    def reach(self) -> float:
        return float(self.buffers.max()) if len(self.buffers) else 0.0


_HAZARD_WORDS = {
    "confirmed_hazardous_area": "confirmed hazardous area",
    "suspected_hazardous_area": "suspected hazardous area",
}


class SafetyIndex:
    """Every known danger of a district, indexed for point checks."""

    def __init__(
        self,
        epsg: int,
        layers: list[_Layer],
        released: _Layer | None = None,
        risk: object | None = None,
        region: tuple[float, float, float, float] | None = None,
    ) -> None:
        self.epsg = epsg
        self.region = region  # lon/lat bounds of the area the store covers: points far outside are refused
        self.risk = risk  # a RiskSampler over the store's current risk map, when one was saved
        self.layers = [ly for ly in layers if len(ly.geoms)]
        self.released = released if released is not None and len(released.geoms) else None
        self._to_metric = from_wgs84(epsg)

    # -- building ---------------------------------------------------------------------
    @classmethod
    def from_store(cls, store: Store, buffers: SafetyBuffers = DEFAULT_BUFFERS) -> SafetyIndex:
        from safeground.risk.output import RiskSampler, latest_risk

        frames = {
            "hazards": store.read_frame(HazardArea),
            "records": store.read_frame(MinefieldRecord),
            "strikes": store.read_frame(ClusterStrike),
            "items": store.read_frame(EOItem),
            "accidents": store.read_frame(Accident),
        }
        known = [f for f in frames.values() if len(f)]
        epsg = metric_epsg(store, known[0] if known else None)
        index = cls.from_frames(epsg, **frames, activities=store.read_frame(Activity), buffers=buffers)
        aoi = store.get_meta("area_of_interest")
        if aoi:
            index.region = tuple(json.loads(aoi))  # type: ignore[assignment]
        elif known:  # no declared area: the extent of what the store holds
            b = np.array([f.total_bounds for f in known])
            index.region = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
        info = latest_risk(store)
        if info is not None:
            index.risk = RiskSampler(info)
        return index

    def _risk_at(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray | None:
        if self.risk is None:
            return None
        return self.risk.sample(lon, lat)  # type: ignore[attr-defined]

    @classmethod
    def from_frames(
        cls,
        epsg: int,
        *,
        hazards: gpd.GeoDataFrame,
        records: gpd.GeoDataFrame | None = None,
        strikes: gpd.GeoDataFrame | None = None,
        items: gpd.GeoDataFrame | None = None,
        accidents: gpd.GeoDataFrame | None = None,
        activities: gpd.GeoDataFrame | None = None,
        buffers: SafetyBuffers = DEFAULT_BUFFERS,
    ) -> SafetyIndex:
        def metric(f: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
            if f is None or not len(f):
                return gpd.GeoDataFrame({"uid": []}, geometry=[], crs=epsg)
            return f.to_crs(epsg)

        layers = []
        hz = metric(hazards)
        open_hz = hz[hz["status"] != "closed"] if len(hz) else hz
        if len(open_hz):
            contam = open_hz["contamination"].astype(str).to_numpy()
            words = open_hz["classification"].astype(str).map(_HAZARD_WORDS).fillna("hazard area").to_numpy()
            labels = np.array(
                [f"{w} {u} ({c.replace('_', ' ')})" for w, u, c in zip(words, open_hz["uid"], contam, strict=True)]
            )
            buf = np.array([buffers.for_hazard(c) for c in contam])
            layers.append(
                _Layer("hazard_area", open_hz.geometry.to_numpy(), open_hz["uid"].to_numpy(), labels, buf, True)
            )
        recs = metric(records)
        if len(recs):
            labels = np.array([f"the recorded perimeter of minefield record {u}" for u in recs["uid"]])
            buf = np.full(len(recs), buffers.minefield_record_m)
            layers.append(
                _Layer("minefield_record", recs.geometry.to_numpy(), recs["uid"].to_numpy(), labels, buf, True)
            )
        st = metric(strikes)
        if len(st):
            labels = np.array([f"cluster munition strike footprint {u} (unexploded submunitions)" for u in st["uid"]])
            buf = np.full(len(st), buffers.cluster_strike_m)
            layers.append(_Layer("cluster_strike", st.geometry.to_numpy(), st["uid"].to_numpy(), labels, buf, True))
        it = metric(items)
        if len(it):
            found = it[it["status"] == "found"]
            labels = np.array(
                [
                    f"an item found here ({t.replace('_', ' ')}, {u})"
                    for t, u in zip(found["eo_type"], found["uid"], strict=True)
                ]
            )
            buf = np.full(len(found), buffers.found_item_m)
            layers.append(_Layer("found_item", found.geometry.to_numpy(), found["uid"].to_numpy(), labels, buf, False))
        acc = metric(accidents)
        if len(acc):
            fresh = unsurveyed_accidents(acc, hz, metric(activities))
            old = acc[~fresh]
            if len(old):
                labels = np.array([f"the place of accident {u}" for u in old["uid"]])
                buf = np.full(len(old), buffers.accident_m)
                layers.append(_Layer("accident", old.geometry.to_numpy(), old["uid"].to_numpy(), labels, buf, False))
            new = acc[fresh]
            if len(new):
                labels = np.array([f"the place of accident {u}, not yet surveyed" for u in new["uid"]])
                zones = shapely.buffer(new.geometry.to_numpy(), buffers.accident_m)
                buf = np.full(len(new), buffers.accident_m)
                layers.append(_Layer("accident_unsurveyed", zones, new["uid"].to_numpy(), labels, buf, True))
        released = None
        if len(hz):
            closed = hz[hz["status"] == "closed"]
            if len(closed):
                labels = np.array([f"area {u}, released by survey or clearance" for u in closed["uid"]])
                released = _Layer("released", closed.geometry.to_numpy(), closed["uid"].to_numpy(), labels,
                                  np.zeros(len(closed)), False)  # fmt: skip
        return cls(epsg, layers, released)

    # -- where answers mean something ---------------------------------------------------------
    def outside(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """True where a point lies far outside the store's area: its answer would be meaningless."""
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        if self.region is None:
            return np.zeros(lon.shape, dtype=bool)
        minx, miny, maxx, maxy = self.region
        m = AREA_MARGIN_DEG
        return ~((lon >= minx - m) & (lon <= maxx + m) & (lat >= miny - m) & (lat <= maxy + m))

    def refuse_outside(self, lon: float, lat: float, where: str = "") -> None:
        """Raise when a point is far outside the store's area, saying what was probably meant."""
        if not self.outside(np.array([lon]), np.array([lat]))[0]:
            return
        minx, miny, maxx, maxy = self.region  # type: ignore[misc]
        swapped = not self.outside(np.array([lat]), np.array([lon]))[0]
        raise OutsideArea(
            f"{where}{lon}, {lat} lies outside the area this store covers (lon {minx:.2f}…{maxx:.2f}, "
            f"lat {miny:.2f}…{maxy:.2f}), so nothing here can say whether it is safe"
            + (": latitude and longitude look swapped" if swapped else ""),
            hint=f"give longitude first: {lat} {lon}" if swapped else "check the coordinates, or use another store",
        )

    # -- one point --------------------------------------------------------------------
    def check(self, lon: float, lat: float) -> SafetyAnswer:
        self.refuse_outside(lon, lat)
        x, y = self._to_metric.transform(lon, lat)
        pt = shapely.Point(x, y)
        findings: list[Finding] = []
        for ly in self.layers:
            idx = ly.tree.query(pt, predicate="dwithin", distance=ly.reach)
            if not len(idx):
                continue
            d = shapely.distance(ly.geoms[idx], pt)
            for i, dist in zip(idx, d, strict=True):
                if dist <= ly.buffers[i]:
                    findings.append(Finding(ly.kind, str(ly.uids[i]), str(ly.labels[i]), float(dist),
                                            float(ly.buffers[i]), ly.blocks))  # fmt: skip
        findings.sort(key=lambda f: (not (f.inside and f.blocks), f.distance_m))
        released: list[Finding] = []
        if self.released is not None:
            for i in self.released.tree.query(pt, predicate="intersects"):
                uid, label = str(self.released.uids[i]), str(self.released.labels[i])
                released.append(Finding("released", uid, label, 0.0, 0.0, False))
        blocking = [f for f in findings if f.blocks]
        nearest = (blocking[0].label, blocking[0].distance_m) if blocking else self._nearest(pt)
        level, verdict = _verdict(findings, released, nearest)
        ans = SafetyAnswer(float(lon), float(lat), level, verdict, findings, released)
        risk = self._risk_at(np.array([lon]), np.array([lat]))
        if risk is not None and np.isfinite(risk[0]):
            info = self.risk.info  # type: ignore[union-attr]
            p = float(risk[0])
            high = p >= float(info.get("threshold", 1.0))
            ans.risk_probability = round(p, 4)
            rating = "HIGH: among the riskiest ground of the district" if high else "below the survey threshold"
            ans.risk = (
                f"{p:.2f} ({rating}; model {info.get('model_version')}, evidence as of {info.get('features_as_of')})"
            )
            if high and level == Level.NO_KNOWN_HAZARD:
                ans.level = Level.CAUTION
                ans.verdict = (
                    "CAUTION: no hazard is recorded here, but the risk model rates this ground among the most likely "
                    "to be contaminated (mines were laid at places like this). Stay on used paths; do not go off them."
                )
        elif risk is not None:
            ans.risk = "outside the area of the risk map"
        return ans

    def _nearest(self, pt: shapely.Point, search_m: float = 5000.0) -> tuple[str, float] | None:
        """The nearest blocking danger, searched in widening circles (cheap where dangers are dense)."""
        for radius in (500.0, search_m):
            best: tuple[str, float] | None = None
            for ly in self.layers:
                if not ly.blocks:
                    continue
                idx, dist = ly.tree.query_nearest(pt, max_distance=radius, return_distance=True)
                if len(idx) and (best is None or dist[0] < best[1]):
                    best = (str(ly.labels[idx[0]]), float(dist[0]))
            if best is not None:
                return best
        return None

    # -- many points ------------------------------------------------------------------
    def check_many(self, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
        """One row per point: level, the nearest blocking danger and its distance, counts."""
        x, y = self._to_metric.transform(np.asarray(lon, float), np.asarray(lat, float))
        pts = shapely.points(np.column_stack([x, y]))
        n = len(pts)
        level = np.zeros(n, dtype=np.int8)
        reason = np.full(n, "", dtype=object)
        nearest_uid = np.full(n, "", dtype=object)
        nearest_m = np.full(n, np.inf)
        for ly in self.layers:
            pi, gi = ly.tree.query(pts, predicate="dwithin", distance=ly.reach)
            if len(pi):
                d = shapely.distance(ly.geoms[gi], pts[pi])
                within = d <= ly.buffers[gi]
                inside = within & (d <= ON_EDGE_M) & ly.blocks
                lvl = np.where(inside, Level.DANGER, np.where(within, Level.CAUTION, Level.NO_KNOWN_HAZARD))
                order = np.lexsort((d, -lvl))  # per point: highest level first, then closest
                pi_o, gi_o, lvl_o = pi[order], gi[order], lvl[order]
                first = np.unique(pi_o, return_index=True)[1]
                p, g, lv = pi_o[first], gi_o[first], lvl_o[first]
                better = lv > level[p]
                level[p[better]] = lv[better]
                reason[p[better]] = ly.labels[g[better]]
            if ly.blocks:
                if len(pi):  # candidates within reach already give the nearest distance for most points
                    o = np.lexsort((d, pi))
                    f = np.unique(pi[o], return_index=True)[1]
                    p, g, dd = pi[o][f], gi[o][f], d[o][f]
                    closer = dd < nearest_m[p]
                    nearest_m[p[closer]] = dd[closer]
                    nearest_uid[p[closer]] = ly.uids[g[closer]]
                # the rest: widening searches, so that dense districts do not pay for a 5 km radius
                todo = np.flatnonzero(~np.isfinite(nearest_m))
                for radius in (150.0, 1000.0, 5000.0):
                    if not len(todo):
                        break
                    (p_loc, g), dist = ly.tree.query_nearest(
                        pts[todo], max_distance=radius, return_distance=True, all_matches=False
                    )
                    p = todo[p_loc]
                    closer = dist < nearest_m[p]
                    nearest_m[p[closer]] = dist[closer]
                    nearest_uid[p[closer]] = ly.uids[g[closer]]
                    todo = todo[~np.isin(todo, p)]
        out = pd.DataFrame(
            {
                "lon": lon,
                "lat": lat,
                "level": pd.Categorical.from_codes(level, categories=[lv.name.lower() for lv in Level]),
                "reason": reason,
                "nearest_danger": nearest_uid,
                "nearest_danger_m": np.where(np.isfinite(nearest_m), np.round(nearest_m, 1), np.nan),
            }
        )
        risk = self._risk_at(np.asarray(lon, float), np.asarray(lat, float))
        if risk is not None:
            out["predicted_risk"] = np.round(risk, 4)
        return out


def _verdict(findings: list[Finding], released: list[Finding], nearest: tuple[str, float] | None) -> tuple[Level, str]:
    inside = [f for f in findings if f.inside and f.blocks]
    if inside:
        f = inside[0]
        more = f" (and {len(inside) - 1} more)" if len(inside) > 1 else ""
        return Level.DANGER, f"DANGER: you are inside {f.label}{more}. Do not enter. Go back the way you came."
    if findings:
        f = findings[0]
        return Level.CAUTION, (
            f"CAUTION: {f.distance_m:.0f} m from {f.label}. Stay on roads and paths people use every day; "
            f"keep at least {f.buffer_m:.0f} m away and do not touch anything."
        )
    note = ""
    if released:
        note = f" This ground is in {released[0].label}."
    far = f" The nearest known danger is {nearest[1]:,.0f} m away: {nearest[0]}." if nearest else ""
    return Level.NO_KNOWN_HAZARD, (
        "No known hazard here." + note + far + " This does not prove the ground is safe: stay on used paths "
        "and report anything suspicious to the mine action authority."
    )
