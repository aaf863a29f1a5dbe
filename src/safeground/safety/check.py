"""Is it safe here? A point checked against every known danger, with a verdict in plain words.

Answers come from the store's layers, indexed once (an STRtree per layer, in
the district's metric projection), so a phone-sized question costs well under a
millisecond; a million points are checked in one vectorised pass
(``safeground.safety.batch``), which gives each point the same answer as this
module's single check.

Levels, in the order a person must act on them:

* **danger**: inside an open hazard area, a recorded minefield perimeter or a
  cluster strike footprint: do not enter;
* **caution**: within the safety buffer of one of them, of a found item or of an
  accident: stay on used roads and paths, go no closer;
* **no known hazard**: nothing known within the buffers, which never proves the
  ground is safe. The answer still names the nearest known danger, at any
  distance (or none within ``max_distance`` when one is given).

How accidents count. An accident is the place of a past event, not a hazard of
its own: it is evidence that a mine or an item was there. It weighs on a verdict
only through what it says about ground nobody has looked at since:

* while no survey, clearance or open hazard area has covered its place after it
  happened (an undated accident is never "after"), its place is a **danger**
  within the accident buffer: where one mine went off, others lie until someone
  has looked. This stands in for the emergency SHA that ``accidents to-hazards``
  proposes; once that is recorded, the hazard area answers instead;
* once covered, the survey's outcome decides (an open hazard area is a danger,
  released ground is said to be released) and the accident adds only a
  **caution** within its buffer;
* an accident never counts for itself: checking the accident locations (a batch
  whose id column holds their uids, or ``exclude=``), each point is answered
  without its own accident, so it is dangerous only because of what lies around
  it. Another accident at the same place still counts (two accidents at one spot
  are two events). The same holds for a found item checked at its own place.

Ties (a point inside two overlapping hazards) go to the layer listed first
above, then to the feature stored first, so the single and the batch check
name the same reason.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safeground.casualties.emergency import unsurveyed_accidents
from safeground.errors import OutsideArea
from safeground.geometry.projection import from_wgs84
from safeground.model import Accident, Activity, ClusterStrike, EOItem, HazardArea, MinefieldRecord
from safeground.safety.buffers import DEFAULT_BUFFERS, SafetyBuffers
from safeground.safety.levels import AREA_MARGIN_DEG, ON_EDGE_M, RISK_REASON, Level
from safeground.storage.base import Store, metric_epsg


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
    #: what the verdict names (the danger inside or the closest within its buffer), "" when nothing
    reason: str = ""
    #: the safety buffer of that danger (NaN when nothing, or only the risk model)
    buffer_m: float = float("nan")
    #: the nearest blocking danger at any distance (or within max_distance): uid, label, metres
    nearest_uid: str = ""
    nearest_label: str = ""
    nearest_m: float = float("nan")


@dataclass
class _Layer:
    kind: str
    geoms: np.ndarray  # metric
    uids: np.ndarray
    labels: np.ndarray
    buffers: np.ndarray
    blocks: bool  # inside means do-not-enter
    #: a layer of places of past events (accidents, found items): a point checked as one of
    #: them (its id is the record's uid) is answered without it
    self_match: bool = False
    tree: shapely.STRtree = field(init=False)
    rank0: int = field(init=False, default=0)  # rank of the first feature among all layers (ties)
    #: the widest buffer (at least ON_EDGE_M): how far a single check looks. Computed once: with a
    #: million features, taking the maximum at every check was most of the check's time
    reach: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.tree = shapely.STRtree(self.geoms)
        self.reach = max(float(self.buffers.max()), ON_EDGE_M) if len(self.buffers) else 0.0


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
        buffers: SafetyBuffers = DEFAULT_BUFFERS,
    ) -> None:
        self.epsg = epsg
        self.region = region  # lon/lat bounds of the area the store covers: points far outside are refused
        self.risk = risk  # a RiskSampler over the store's current risk map, when one was saved
        self.buffers = buffers  # what the answers were computed with, said in every batch answer
        self.layers = [ly for ly in layers if len(ly.geoms)]
        rank = 0
        for ly in self.layers:
            ly.rank0 = rank
            rank += len(ly.geoms)
        self.released = released if released is not None and len(released.geoms) else None
        self._to_metric = from_wgs84(epsg)
        self._batch: object | None = None  # the flat index of safety.batch, built on the first batch

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
        aoi = store.area_of_interest()
        if aoi:
            index.region = aoi
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

    def risk_is_high(self, p: np.ndarray) -> np.ndarray:
        """True where a predicted risk is at or above the saved map's survey threshold."""
        info = self.risk.info  # type: ignore[union-attr]
        return np.isfinite(p) & (p >= float(info.get("threshold", 1.0)))

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
            per_kind = {c: buffers.for_hazard(c) for c in set(contam)}
            buf = np.array([per_kind[c] for c in contam], dtype=float)
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
            layers.append(
                _Layer("found_item", found.geometry.to_numpy(), found["uid"].to_numpy(), labels, buf, False, True)
            )
        acc = metric(accidents)
        if len(acc):
            fresh = unsurveyed_accidents(acc, hz, metric(activities))
            old = acc[~fresh]
            if len(old):
                labels = np.array([f"the place of accident {u} (surveyed since)" for u in old["uid"]])
                buf = np.full(len(old), buffers.accident_m)
                layers.append(
                    _Layer("accident", old.geometry.to_numpy(), old["uid"].to_numpy(), labels, buf, False, True)
                )
            new = acc[fresh]
            if len(new):
                labels = np.array([f"the place of accident {u}, not yet surveyed" for u in new["uid"]])
                zones = shapely.buffer(new.geometry.to_numpy(), buffers.accident_m)
                buf = np.full(len(new), buffers.accident_m)
                layers.append(_Layer("accident_unsurveyed", zones, new["uid"].to_numpy(), labels, buf, True, True))
        released = None
        if len(hz):
            closed = hz[hz["status"] == "closed"]
            if len(closed):
                labels = np.array([f"area {u}, released by survey or clearance" for u in closed["uid"]])
                released = _Layer("released", closed.geometry.to_numpy(), closed["uid"].to_numpy(), labels,
                                  np.zeros(len(closed)), False)  # fmt: skip
        return cls(epsg, layers, released, buffers=buffers)

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
    def check(
        self, lon: float, lat: float, *, exclude: Collection[str] = (), max_distance: float | None = None
    ) -> SafetyAnswer:
        """The answer for one point. ``exclude``: uids of accidents or found items that are this
        very point (checking their own place), left out of its answer; ``max_distance``: look for
        the nearest danger only this far (metres)."""
        self.refuse_outside(lon, lat)
        x, y = self._to_metric.transform(lon, lat)
        return self.answer_metric(float(lon), float(lat), float(x), float(y), exclude, max_distance)

    def answer_metric(
        self,
        lon: float,
        lat: float,
        x: float,
        y: float,
        exclude: Collection[str] = (),
        max_distance: float | None = None,
    ) -> SafetyAnswer:
        """``check`` for a point already in the metric projection (the batch's rows that need it)."""
        pt = shapely.Point(x, y)
        ranked: list[tuple[bool, float, int, Finding]] = []
        for ly in self.layers:
            idx = ly.tree.query(pt, predicate="dwithin", distance=ly.reach)
            if not len(idx):
                continue
            d = shapely.distance(ly.geoms[idx], pt)
            for i, dist in zip(idx, d, strict=True):
                if dist > max(ly.buffers[i], ON_EDGE_M) or (ly.self_match and exclude and ly.uids[i] in exclude):
                    continue
                f = Finding(ly.kind, str(ly.uids[i]), str(ly.labels[i]), float(dist), float(ly.buffers[i]), ly.blocks)
                ranked.append((not (f.inside and f.blocks), f.distance_m, ly.rank0 + int(i), f))
        ranked.sort(key=lambda r: r[:3])
        findings = [r[3] for r in ranked]
        released: list[Finding] = []
        if self.released is not None:
            for i in np.sort(self.released.tree.query(pt, predicate="intersects")):
                uid, label = str(self.released.uids[i]), str(self.released.labels[i])
                released.append(Finding("released", uid, label, 0.0, 0.0, False))
        nearest = self._nearest(pt, exclude, max_distance)
        level, verdict = _verdict(findings, released, nearest, max_distance)
        ans = SafetyAnswer(lon, lat, level, verdict, findings, released)
        if findings:
            ans.reason, ans.buffer_m = findings[0].label, findings[0].buffer_m
        if nearest is not None:
            ans.nearest_uid, ans.nearest_label, ans.nearest_m = nearest
        risk = self._risk_at(np.array([lon]), np.array([lat]))
        if risk is not None and np.isfinite(risk[0]):
            info = self.risk.info  # type: ignore[union-attr]
            p = float(risk[0])
            high = bool(self.risk_is_high(risk)[0])
            ans.risk_probability = round(p, 4)
            rating = "HIGH: among the riskiest ground of the district" if high else "below the survey threshold"
            ans.risk = (
                f"{p:.2f} ({rating}; model {info.get('model_version')}, evidence as of {info.get('features_as_of')})"
            )
            if high and level == Level.NO_KNOWN_HAZARD:
                ans.level = Level.CAUTION
                ans.reason = RISK_REASON
                ans.verdict = (
                    "CAUTION: no hazard is recorded here, but the risk model rates this ground among the most likely "
                    "to be contaminated (mines were laid at places like this). Stay on used paths; do not go off them."
                )
        elif risk is not None:  # off the map, or a cell the model cannot speak for (and says why)
            ans.risk = self.risk.why_not(lon, lat)  # type: ignore[union-attr]
        return ans

    def _nearest(
        self, pt: shapely.Point, exclude: Collection[str] = (), max_distance: float | None = None
    ) -> tuple[str, str, float] | None:
        """The nearest blocking danger (uid, label, metres): at any distance, or within ``max_distance``."""
        best: tuple[float, int, _Layer, int] | None = None
        for ly in self.layers:
            if not ly.blocks:
                continue
            idx, dist = ly.tree.query_nearest(pt, max_distance=max_distance, return_distance=True, all_matches=True)
            if ly.self_match and exclude:
                mine = np.isin(ly.uids[idx], list(exclude))
                if mine.any():  # the nearest is the point itself: measure the others one by one (rare)
                    d_all = shapely.distance(ly.geoms, pt)
                    d_all[np.isin(ly.uids, list(exclude))] = np.inf
                    if max_distance is not None:
                        d_all[d_all > max_distance] = np.inf
                    idx = np.flatnonzero(d_all == d_all.min()) if np.isfinite(d_all).any() else idx[:0]
                    dist = d_all[idx]
            if not len(idx):
                continue
            j = int(np.argmin(idx))  # equally near: the one stored first
            cand = (float(dist[j]), ly.rank0 + int(idx[j]), ly, int(idx[j]))
            if best is None or cand[:2] < best[:2]:
                best = cand
        if best is None:
            return None
        _, _, ly, i = best
        return str(ly.uids[i]), str(ly.labels[i]), best[0]

    # -- many points ------------------------------------------------------------------
    def check_many(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        *,
        ids: np.ndarray | None = None,
        max_distance: float | None = None,
    ) -> pd.DataFrame:
        """One row per point: level, the reason, its buffer, the nearest blocking danger and its distance.

        ``ids``: the points' own identifiers; a point whose id is the uid of an accident or a found
        item is that record's place and is answered without it. Vectorised (``safety.batch``)."""
        from safeground.safety.batch import check_points

        return check_points(self, np.asarray(lon, float), np.asarray(lat, float), ids=ids, max_distance=max_distance)


def _verdict(
    findings: list[Finding],
    released: list[Finding],
    nearest: tuple[str, str, float] | None,
    max_distance: float | None = None,
) -> tuple[Level, str]:
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
    if nearest is not None:
        far = f" The nearest known danger is {nearest[2]:,.0f} m away: {nearest[1]}."
    else:
        far = f" No known danger within {max_distance:,.0f} m." if max_distance is not None else ""
    return Level.NO_KNOWN_HAZARD, (
        "No known hazard here." + note + far + " This does not prove the ground is safe: stay on used paths "
        "and report anything suspicious to the mine action authority."
    )
