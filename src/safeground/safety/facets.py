"""Point-to-feature distances in numpy, bit for bit the ones GEOS gives, for the batch safe-check.

Why: the batch must give every point its nearest danger at any distance, so it
measures at least one exact distance per point. One GEOS call per pair costs
about a microsecond, most of it call overhead for a hazard polygon of a few
vertices: for 100,000 points that alone is a third of what a GeoPandas
``sjoin`` needs for the whole "near or not". Here the same arithmetic runs over
all pairs at once.

Bit for bit, not approximately, because the single check (GEOS) and the batch
must name the same nearest danger and the same distance, ties included. For a
point and a polygon without holes GEOS (``DistanceOp``) answers 0 when the
point is inside or on the boundary, else the smallest of
``Distance::pointToSegment`` over the ring's segments; for two points the
Euclidean distance. Both are replicated here operation for operation (same
order, IEEE doubles, so the same roundings). The inside test is a ray-crossing
parity, exact whenever the point is farther than round-off from every edge;
pairs closer than ``EDGE_EPS_M`` to an edge, and features of any other kind
(holes, multi-part, lines, polygons of many vertices), are measured by GEOS
itself. ``tests/test_check_batch.py`` compares the two on random shapes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely

#: closer than this to an edge (metres), the pair goes to GEOS: the parity test could be wrong
#: within a few units of round-off of the coordinates (nanometres), never a micrometre away
EDGE_EPS_M = 1e-6
#: polygons with more segments than this go to GEOS, whose per-segment cost is lower
MAX_SEGMENTS = 64
#: pair-segments computed at once (bounds the temporary arrays at a few hundred MB)
_CHUNK = 1 << 15

_GEOS, _POLYGON, _POINT = 0, 1, 2


def z_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The order of points along a Z curve over their extent (16 bits a side)."""

    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    def cell(v: np.ndarray) -> np.ndarray:
        lo, hi = float(v.min()), float(v.max())
        return np.clip((v - lo) / max(hi - lo, 1e-9) * 65535, 0, 65535)

    return np.argsort(spread(cell(x)) | (spread(cell(y)) << np.uint64(1)))


@dataclass
class Facets:
    """The coordinates of every simple feature, in one array, and how to find them."""

    kind: np.ndarray  # per feature: _GEOS, _POLYGON (one ring, no holes) or _POINT
    start: np.ndarray  # index of the feature's first coordinate in x, y
    nseg: np.ndarray  # segments (a point: one, from itself to itself)
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def build(cls, geoms: np.ndarray, bounds: np.ndarray | None = None) -> Facets:
        """``bounds``: the features' envelopes (n × 4) when already known."""
        n = len(geoms)
        kind = np.zeros(n, np.int8)
        if n:
            tid = shapely.get_type_id(geoms)
            empty = shapely.is_empty(geoms)
            ncoord = shapely.get_num_coordinates(geoms)
            simple = (tid == 3) & ~empty & (shapely.get_num_interior_rings(geoms) == 0) & (ncoord - 1 <= MAX_SEGMENTS)
            kind[simple] = _POLYGON
            kind[(tid == 0) & ~empty] = _POINT
        sel = np.flatnonzero(kind != _GEOS)
        # read in stored order (the geometries' own memory order: fast), then laid out along a Z curve
        # of the features: the batch measures neighbouring points (in that order too) against
        # neighbouring features, whose coordinates then share the processor's cache
        coords, which = shapely.get_coordinates(geoms[sel], return_index=True)
        counts = np.bincount(which, minlength=len(sel))
        first = np.cumsum(counts) - counts
        if len(sel) > 1:
            b = shapely.bounds(geoms[sel]) if bounds is None else bounds[sel]
            order = z_order((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
        else:
            order = np.arange(len(sel))
        # a point is given twice, so that it is a segment from itself to itself (GEOS: distance to A)
        size = (counts + (kind[sel] == _POINT))[order]
        at = np.cumsum(size) - size
        j = np.arange(int(size.sum())) - np.repeat(at, size)
        rows = np.repeat(first[order], size) + np.minimum(j, np.repeat(counts[order] - 1, size))
        start = np.zeros(n, np.int64)
        nseg = np.zeros(n, np.int64)
        start[sel[order]] = at
        nseg[sel[order]] = size - 1
        return cls(kind, start, nseg, coords[rows, 0].copy(), coords[rows, 1].copy())

    def distance(self, geoms: np.ndarray, fi: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """The distance from each point (px, py) to feature ``fi`` (its row in ``geoms``), as GEOS gives it."""
        out = np.full(len(fi), -1.0)
        todo = np.flatnonzero(self.kind[fi] != _GEOS)
        if len(todo):
            cum = np.cumsum(self.nseg[fi[todo]])
            cuts = np.r_[0, np.searchsorted(cum, np.arange(_CHUNK, int(cum[-1]), _CHUNK)), len(todo)]
            for lo, hi in itertools.pairwise(cuts):
                if hi > lo:
                    part = todo[lo:hi]
                    out[part] = self._measure(fi[part], px[part], py[part])
        ask = np.flatnonzero(out < 0.0)  # other kinds of feature, and pairs at an edge
        if len(ask):
            out[ask] = shapely.distance(geoms[fi[ask]], shapely.points(px[ask], py[ask]))
        return out

    def _measure(self, fi: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """0 inside (far from the edges), the distance outside, -1 when within EDGE_EPS_M of an edge."""
        cnt = self.nseg[fi]
        heads = np.cumsum(cnt) - cnt
        a = np.repeat(self.start[fi] - heads, cnt) + np.arange(int(cnt.sum()))
        ax, ay, bx, by = self.x[a], self.y[a], self.x[a + 1], self.y[a + 1]
        qx, qy = np.repeat(px, cnt), np.repeat(py, cnt)
        # Distance::pointToSegment, in its order of operations (written with fewer arrays: a - b is
        # exactly -(b - a) in IEEE arithmetic, so (A.y - p.y) dx - (A.x - p.x) dy is pax dy - pay dx)
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        pax, pay = qx - ax, qy - ay
        u = pay * dx
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (pax * dx + pay * dy) / len2
            perp = np.abs((pax * dy - u) / len2) * np.sqrt(len2)
            at_a = ~(r > 0.0)  # r <= 0, or NaN: A == B (len2 is 0 only then, at these coordinates)
            at_b = (r >= 1.0) & ~at_a
            pbx, pby = qx - bx, qy - by
            ends = np.sqrt(np.where(at_b, pbx * pbx + pby * pby, pax * pax + pay * pay))
            d = np.where(at_a | at_b, ends, perp)
            # ray-crossing parity towards +x (points: never, their segment is horizontal and empty);
            # round-off here matters only within nanometres of an edge, where GEOS answers instead
            crosses = (ay > qy) != (by > qy)
            crosses &= pax < u / dy
        dmin = np.minimum.reduceat(d, heads)
        inside = (np.add.reduceat(crosses.astype(np.int8), heads) & 1).astype(bool)
        near_edge = dmin <= EDGE_EPS_M
        return np.where(near_edge, -1.0, np.where(inside, 0.0, dmin))
