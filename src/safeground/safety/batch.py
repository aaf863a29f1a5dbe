"""The batch safe-check: a million points answered in one vectorised pass, the same answers as one by one.

Why not a loop over ``SafetyIndex.check``: a million GEOS nearest searches take
about half a minute (``STRtree.query_nearest`` measures every geometry of the
tree leaves it visits), several times what a GeoPandas ``sjoin`` needs just to
say "near or not". Here every step is one call over all points, and the costly
step, the exact distance, runs only on the candidates that can still win:

1. **Candidates.** Every feature of every layer sits in one STRtree whose
   envelopes are grown by a margin: the feature's buffer for found items and
   surveyed accidents, and for the blocking dangers a common margin at least as
   wide as any of their buffers, chosen from the data's density so that most
   points have a blocking candidate. Querying with the bare points (no
   predicate) gives every (point, feature) pair that can be within the margin.
2. **Exact where it can matter.** The distance to a feature's envelope (numpy,
   nanoseconds) is a lower bound of the distance to the feature. Per point and
   per group of features sharing a layer and a buffer, only the nearest matters
   (within a group, the nearest is within the buffer or none is): the pair with
   the lowest bound is measured first, then only the pairs whose bound does
   not exceed that distance. Distances to simple features (polygons without
   holes of up to 64 segments, points) are computed in numpy over all pairs at
   once, GEOS's arithmetic bit for bit (``safety.facets``); GEOS measures the
   others, and any pair within a micrometre of an edge. From the nearest of
   each group: inside a blocking danger is **danger**, within a buffer
   **caution**; the reason is the closest such danger (ties: the layer listed
   first, then the feature stored first, as the single check orders them).
3. **The nearest danger, at any distance.** Where the nearest blocking
   candidate lies within the margin it is the nearest. The other points search
   the blocking features in squares: a square of half-side R holds every
   feature within R, so the nearest candidate is exact once its distance is at
   most R; otherwise the next half-side is that distance (exact next time), or
   twice R when the square was empty, never past ``max_distance``.
4. **Points that are records themselves** (a row whose id is an accident's or a
   found item's uid) are few and answered one by one, without their own record,
   by the single check.

All grouping is done with sorted runs and ``np.minimum.reduceat`` (linear), not
with per-point Python. The points are taken along a Z curve (and the features'
coordinates laid out along one), so neighbouring work shares the processor's
cache; Python's cycle collector is paused while the pass runs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from safeground.safety.facets import Facets, z_order
from safeground.safety.levels import ON_EDGE_M, RISK_REASON, Level

#: slack on envelopes and bounds (metres): float round-off must never drop a true candidate
_SLACK = 1e-6
_NONE = np.iinfo(np.int64).max
#: blocking candidates a point should have on average within the common margin
_CANDIDATES = 2.0
#: the common margin is never wider than this: beyond, the square search is cheaper
_MAX_MARGIN_M = 2000.0


@dataclass
class FlatIndex:
    """Every feature of every layer in one set of arrays, in rank order (layer, then stored order)."""

    geoms: np.ndarray
    uids: np.ndarray
    labels: np.ndarray
    buf: np.ndarray
    bw: np.ndarray  # the distance that counts as within: the buffer, at least ON_EDGE_M
    blocks: np.ndarray
    group: np.ndarray  # one group per (layer, buffer): within a group the nearest decides
    group_bw: np.ndarray
    group_blocks: np.ndarray
    bounds: np.ndarray  # (n, 4) envelopes
    tree: shapely.STRtree  # envelopes grown by the margin
    grow: np.ndarray  # by how much: the common margin (blocking) or the buffer (others), plus slack
    margin: float  # the common margin of the blocking features
    block_trees: list[tuple[shapely.STRtree, int]]  # the blocking layers' own trees, with their first rank
    extent: tuple[float, float, float, float]  # of the blocking features
    self_uids: np.ndarray  # uids of the records of past events (accidents, found items)
    label_codes: np.ndarray  # rank → code into label_dtype's categories
    label_dtype: pd.CategoricalDtype  # built once: a million categories cost a second per batch otherwise
    uid_codes: np.ndarray
    uid_dtype: pd.CategoricalDtype
    facets: Facets  # the simple features' coordinates, for distances in numpy (GEOS's, bit for bit)

    @classmethod
    def build(cls, index: Any) -> FlatIndex:  # a safety.check.SafetyIndex (not imported: it imports this)
        lys = index.layers

        def cat(parts: list[np.ndarray], dtype: object) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)  # type: ignore[call-overload]

        geoms = cat([ly.geoms for ly in lys], object)
        uids = cat([ly.uids for ly in lys], object)
        labels = cat([ly.labels for ly in lys], object)
        buf = cat([ly.buffers for ly in lys], float)
        blocks = cat([np.full(len(ly.geoms), ly.blocks) for ly in lys], bool)
        layer = cat([np.full(len(ly.geoms), k) for k, ly in enumerate(lys)], np.int64)
        bw = np.maximum(buf, ON_EDGE_M)
        # groups: (layer, buffer), numbered layer by layer (numeric sorts only: a million features in ms)
        group = np.zeros(len(geoms), np.int64)
        group_bw_l: list[float] = []
        group_blocks_l: list[int] = []
        for k, ly in enumerate(lys):
            at = layer == k
            values, inv = np.unique(bw[at], return_inverse=True)
            group[at] = len(group_bw_l) + inv
            group_bw_l += list(values)
            group_blocks_l += [ly.blocks] * len(values)
        bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4))
        block_idx = np.flatnonzero(blocks)
        margin = 0.0
        extent = (0.0, 0.0, 0.0, 0.0)
        if len(block_idx):
            bb = bounds[block_idx]
            extent = (bb[:, 0].min(), bb[:, 1].min(), bb[:, 2].max(), bb[:, 3].max())
            area = max(extent[2] - extent[0], 1.0) * max(extent[3] - extent[1], 1.0)
            side = float(np.mean(np.maximum(bb[:, 2] - bb[:, 0], bb[:, 3] - bb[:, 1])))
            wanted = (np.sqrt(_CANDIDATES * area / len(block_idx)) - side) / 2
            margin = float(np.clip(wanted, bw[block_idx].max(), max(_MAX_MARGIN_M, bw[block_idx].max())))
        grow = np.where(blocks, margin, bw) + _SLACK
        grown = shapely.box(bounds[:, 0] - grow, bounds[:, 1] - grow, bounds[:, 2] + grow, bounds[:, 3] + grow)
        # hashed, not sorted: categories of a million labels in a fraction of a second
        lab_code, lab_cat = pd.factorize(np.r_[np.array(["", RISK_REASON], object), labels])
        uid_code, uid_cat = pd.factorize(np.r_[np.array([""], object), uids])
        selfs = [ly.uids for ly in lys if ly.self_match]
        return cls(
            geoms=geoms,
            uids=uids,
            labels=labels,
            buf=buf,
            bw=bw,
            blocks=blocks,
            group=group,
            group_bw=np.array(group_bw_l, float),
            group_blocks=np.array(group_blocks_l, bool),
            bounds=bounds,
            tree=shapely.STRtree(grown),
            grow=grow,
            margin=margin,
            block_trees=[(ly.tree, ly.rank0) for ly in lys if ly.blocks],
            extent=extent,
            self_uids=np.concatenate(selfs).astype(str) if selfs else np.zeros(0, str),
            label_codes=np.asarray(lab_code, np.int64)[2:],
            label_dtype=pd.CategoricalDtype(pd.Index(lab_cat, dtype=object)),
            uid_codes=np.asarray(uid_code, np.int64)[1:],
            uid_dtype=pd.CategoricalDtype(pd.Index(uid_cat, dtype=object)),
            facets=Facets.build(geoms, bounds),
        )


def flat_index(index: Any) -> FlatIndex:
    """The batch index of a SafetyIndex, built once (one more STRtree over all its features)."""
    if index._batch is None:
        index._batch = FlatIndex.build(index)
    return index._batch  # type: ignore[return-value]


def _envelope_distance(x: np.ndarray, y: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points to envelopes (rows of xmin, ymin, xmax, ymax): a lower bound of the true one."""
    dx = np.maximum(np.maximum(b[:, 0] - x, x - b[:, 2]), 0.0)
    dy = np.maximum(np.maximum(b[:, 1] - y, y - b[:, 3]), 0.0)
    return np.hypot(dx, dy)


def _runs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts of the runs of equal values of a sorted key, and the run of every element."""
    is_start = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    return np.flatnonzero(is_start), np.cumsum(is_start) - 1


def _nearest_runs(
    flat: FlatIndex, key: np.ndarray, low: np.ndarray, fi: np.ndarray, qx: np.ndarray, qy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run of a sorted key: its start, the nearest feature's distance and rank (the lower rank on a tie).

    ``low`` bounds each pair's distance from below; a pair is measured (exactly) only when its bound
    does not exceed the distance of the run's pair with the lowest bound, measured first."""
    starts, run = _runs(key)
    if not len(key):
        return starts, np.zeros(0), np.zeros(0, np.int64)
    min_low = np.minimum.reduceat(low, starts)
    at_min = np.flatnonzero(low == min_low[run])
    lead = at_min[np.r_[True, run[at_min][1:] != run[at_min][:-1]]]  # one per run, in run order
    d = np.full(len(key), np.inf)
    d[lead] = flat.facets.distance(flat.geoms, fi[lead], qx[lead], qy[lead])
    rest = low <= d[lead][run] + _SLACK
    rest[lead] = False
    if rest.any():
        d[rest] = flat.facets.distance(flat.geoms, fi[rest], qx[rest], qy[rest])
    dmin = np.minimum.reduceat(d, starts)
    rmin = np.minimum.reduceat(np.where(d == dmin[run], fi, _NONE), starts)
    return starts, dmin, rmin


def _best_per_point(
    runs: tuple[np.ndarray, np.ndarray], point: np.ndarray, d: np.ndarray, rank: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point (``point`` sorted, ``runs`` its _runs), the smallest (distance, rank) among the masked
    entries: points, d, rank."""
    starts, run = runs
    if not len(point):
        return point, d, rank
    dm = np.where(mask, d, np.inf)
    best = np.minimum.reduceat(dm, starts)
    r = np.minimum.reduceat(np.where(mask & (dm == best[run]), rank, _NONE), starts)
    ok = np.isfinite(best)
    return point[starts][ok], best[ok], r[ok]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the pass runs.

    The pass makes one geometry object per point and per square searched, hundreds of thousands
    of them, none in a reference cycle; each few hundred allocations the collector would walk
    every object the process holds (a million hazard polygons, their labels): at a million points
    that walking cost more than the GEOS work itself and came in bursts of 0.1 s."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def check_points(
    index: Any,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    ids: np.ndarray | None = None,
    max_distance: float | None = None,
) -> pd.DataFrame:
    """The answer of every point: level, reason, buffer of the reason, nearest blocking danger and distance."""
    flat = flat_index(index)
    n = len(lon)
    x, y = index._to_metric.transform(lon, lat)
    x, y = np.asarray(x, float), np.asarray(y, float)
    # in space-filling-curve order: neighbouring points meet the same features, so the tree and the
    # geometries they touch stay in the processor's cache
    order = z_order(x, y) if n > 1000 else np.arange(n)
    with _collector_paused():
        sorted_answers = _answers(flat, x[order], y[order], max_distance)
    level, reason_r, near_r, near_d = (np.empty_like(a) for a in sorted_answers)
    for whole, part in zip((level, reason_r, near_r, near_d), sorted_answers, strict=True):
        whole[order] = part
    if max_distance is not None:
        far = near_d > max_distance
        near_r[far], near_d[far] = -1, np.inf
    reason = np.where(reason_r >= 0, flat.label_codes[np.maximum(reason_r, 0)] if len(flat.geoms) else 0, 0)
    nearest = np.where(near_r >= 0, flat.uid_codes[np.maximum(near_r, 0)] if len(flat.geoms) else 0, 0)
    out = pd.DataFrame(
        {
            "lon": lon,
            "lat": lat,
            "level": level,
            "reason": pd.Categorical.from_codes(reason, dtype=flat.label_dtype),
            "buffer_m": np.where(reason_r >= 0, flat.buf[np.maximum(reason_r, 0)] if len(flat.geoms) else 0, np.nan),
            "nearest_danger": pd.Categorical.from_codes(nearest, dtype=flat.uid_dtype),
            "nearest_danger_m": np.where(np.isfinite(near_d), np.round(near_d, 1), np.nan),
        }
    )
    risk = index._risk_at(np.asarray(lon, float), np.asarray(lat, float))
    if risk is not None:
        raised = (out["level"].to_numpy() == Level.NO_KNOWN_HAZARD) & index.risk_is_high(risk)
        out.loc[raised, "level"] = int(Level.CAUTION)
        out.loc[raised, "reason"] = RISK_REASON
        out["predicted_risk"] = np.round(risk, 4)
    # 4. the records' own places, without themselves
    if ids is not None and len(flat.self_uids):
        ids_s = np.asarray(ids).astype(str)
        for row in np.flatnonzero(np.isin(ids_s, flat.self_uids)):
            ans = index.answer_metric(float(lon[row]), float(lat[row]), float(x[row]), float(y[row]),
                                      exclude={ids_s[row]}, max_distance=max_distance)  # fmt: skip
            out.loc[row, ["level", "reason", "buffer_m", "nearest_danger", "nearest_danger_m"]] = [
                int(ans.level), ans.reason, ans.buffer_m, ans.nearest_uid,
                round(ans.nearest_m, 1) if np.isfinite(ans.nearest_m) else np.nan,
            ]  # fmt: skip
    out["level"] = pd.Categorical.from_codes(
        out["level"].to_numpy(np.int8), categories=[lv.name.lower() for lv in Level]
    )
    return out


def _answers(
    flat: FlatIndex, x: np.ndarray, y: np.ndarray, max_distance: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Level, rank of the reason, rank of the nearest blocking danger and its distance (-1/inf: none)."""
    n = len(x)
    level = np.zeros(n, dtype=np.int8)
    reason_r = np.full(n, -1, dtype=np.int64)
    near_r = np.full(n, -1, dtype=np.int64)
    near_d = np.full(n, np.inf)
    if not (len(flat.geoms) and n):
        return level, reason_r, near_r, near_d
    pts = shapely.points(np.column_stack([x, y]))
    # 1. candidates: every pair within the grown envelopes, sorted by point
    pi, fi = flat.tree.query(pts)
    low = _envelope_distance(x[pi], y[pi], flat.bounds[fi])
    keep = low <= flat.grow[fi]
    pi, fi, low = pi[keep], fi[keep], low[keep]
    n_groups = len(flat.group_bw)
    key = pi * n_groups + flat.group[fi]
    if n_groups > 1:
        order = np.argsort(key)  # any order within a run: the nearest is the same
        pi, fi, low, key = pi[order], fi[order], low[order], key[order]
    # 2. the nearest of each (point, group), measured exactly
    starts, dmin, rmin = _nearest_runs(flat, key, low, fi, x[pi], y[pi])
    rp, rg = pi[starts], flat.group[fi[starts]]
    within = dmin <= flat.group_bw[rg]
    inside = within & flat.group_blocks[rg] & (dmin <= ON_EDGE_M)
    runs = _runs(rp)
    p, _, r = _best_per_point(runs, rp, dmin, rmin, within)
    level[p], reason_r[p] = Level.CAUTION, r
    p, _, r = _best_per_point(runs, rp, dmin, rmin, inside)
    level[p], reason_r[p] = Level.DANGER, r
    p, dd, r = _best_per_point(runs, rp, dmin, rmin, flat.group_blocks[rg])
    near_d[p], near_r[p] = dd, r
    # 3. the nearest danger beyond the margin
    if flat.block_trees:
        todo = np.flatnonzero(~(near_d <= flat.margin))
        _nearest_beyond(flat, x, y, todo, near_r, near_d, max_distance)
    return level, reason_r, near_r, near_d


def _nearest_beyond(
    flat: FlatIndex,
    x: np.ndarray,
    y: np.ndarray,
    todo: np.ndarray,
    near_r: np.ndarray,
    near_d: np.ndarray,
    max_distance: float | None,
) -> None:
    """The nearest blocking feature of the points ``todo``, searched in squares (the module's step 3)."""
    e = flat.extent
    cap = max_distance if max_distance is not None else np.inf
    # nothing blocking lies within the margin of these points: start just beyond it
    radius = np.where(np.isfinite(near_d[todo]), near_d[todo], 2 * flat.margin)
    while len(todo):
        tx, ty = x[todo], y[todo]
        # no square need be wider than the one that holds every blocking feature
        cover = np.maximum(np.maximum(np.abs(tx - e[0]), np.abs(tx - e[2])),
                           np.maximum(np.abs(ty - e[1]), np.abs(ty - e[3])))  # fmt: skip
        radius = np.minimum(np.minimum(radius, cover), cap)
        r = radius + _SLACK
        squares = shapely.box(tx - r, ty - r, tx + r, ty + r)
        found = [(q, g + rank0) for tree, rank0 in flat.block_trees for q, g in [tree.query(squares)]]
        qi = np.concatenate([q for q, _ in found])
        fi = np.concatenate([g for _, g in found])
        if len(found) > 1:
            order = np.argsort(qi)
            qi, fi = qi[order], fi[order]
        low = _envelope_distance(tx[qi], ty[qi], flat.bounds[fi])
        starts, dmin, rmin = _nearest_runs(flat, qi, low, fi, tx[qi], ty[qi])
        best_d = np.full(len(todo), np.inf)
        best_r = np.full(len(todo), -1, dtype=np.int64)
        best_d[qi[starts]], best_r[qi[starts]] = dmin, rmin
        # exact: nothing outside the square can be nearer; a square past every feature holds them all
        exact = np.isfinite(best_d) & ((best_d <= radius) | (radius >= cover))
        near_d[todo[exact]], near_r[todo[exact]] = best_d[exact], best_r[exact]
        done = exact | (radius >= cap)
        radius = np.where(np.isfinite(best_d), best_d, radius * 2.0)[~done]
        todo = todo[~done]
