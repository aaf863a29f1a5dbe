"""Safe routes: from where a family enters the district to a grave, a house, a village.

The network is any set of lines (the store's roads and paths, or OpenStreetMap
ways), noded where lines meet, in the district's metric projection. Hazard areas
with their safety buffers remove the edges they touch; edges that pass close to
a danger cost more, so the route keeps its distance where it can. When no safe
route exists the answer says so and gives the reachable point closest to the
destination: telling a family "you can safely get to here, 340 m short" is
better than silence or a route through a minefield.

Shortest paths use SciPy's compiled Dijkstra on a CSR matrix, bounded by a
search radius derived from the straight-line distance (most routes are local,
so most of a national network is never touched).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from safeground.geometry.projection import from_wgs84, project, to_wgs84


@dataclass
class Danger:
    """Polygons (metric) to keep out of, each with its safety buffer and a name."""

    geoms: np.ndarray
    buffers: np.ndarray
    labels: np.ndarray


@dataclass
class RouteAnswer:
    found: bool
    length_m: float
    path: BaseGeometry | None  # WGS 84 LineString
    near_danger: list[tuple[str, float]] = field(default_factory=list)  # (what, closest approach in m)
    near_length_m: float = 0.0  # length of the route within twice the buffer of a danger
    snapped_from_m: float = 0.0
    snapped_to_m: float = 0.0
    closest_safe_point: tuple[float, float] | None = None  # lon, lat, when not found
    short_of_destination_m: float | None = None
    explanation: str = ""
    mean_risk: float | None = None  # predicted contamination along the route, length-weighted (risk map present)
    max_risk: float | None = None
    unverified_m: float | None = None  # length on ground no survey or clearance has verified (None: not known)


class RoadNetwork:
    """An undirected, noded line network with per-edge length and safety state."""

    def __init__(self, epsg: int, nodes: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        self.epsg = epsg
        self.nodes = nodes
        self.u, self.v = u, v
        self.length = np.hypot(*(nodes[u] - nodes[v]).T)
        self.blocked = np.zeros(len(u), dtype=bool)
        self.penalty = np.ones(len(u))
        self.risk: np.ndarray | None = None  # predicted risk at each edge's midpoint
        self.risk_factor = np.ones(len(u))
        self.danger = Danger(np.array([], dtype=object), np.zeros(0), np.array([], dtype=object))
        self.verified: np.ndarray | None = None  # edge lies on ground released or verified by survey/clearance
        self.verify_factor = np.ones(len(u))
        self.verified_only = False  # only edges on verified ground are used (see apply_verified)
        self.near: dict[int, tuple[str, float]] = {}
        self._tree = cKDTree(nodes)
        self._to_metric = from_wgs84(epsg)
        self._csr: csr_matrix | None = None
        self._edge_csr: csr_matrix | None = None

    @property
    def edge_count(self) -> int:
        return len(self.u)

    @classmethod
    def from_lines(cls, lines: np.ndarray | list[BaseGeometry], epsg: int, snap_m: float = 0.5) -> RoadNetwork:
        """Node the lines where they cross or touch, then every vertex pair is an edge."""
        noded = shapely.node(shapely.MultiLineString([g for line in lines for g in shapely.get_parts(line)]))
        parts = shapely.get_parts(noded)
        coords, idx = shapely.get_coordinates(parts, return_index=True)
        key = np.round(coords / snap_m).astype(np.int64)
        uniq, inverse = np.unique(key, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        nodes = np.zeros((len(uniq), 2))
        nodes[inverse] = coords
        same_part = idx[:-1] == idx[1:]
        u, v = inverse[:-1][same_part], inverse[1:][same_part]
        keep = u != v
        # one edge per node pair: a sparse matrix would add up parallel duplicates
        pairs = np.unique(np.sort(np.column_stack([u[keep], v[keep]]), axis=1), axis=0)
        return cls(epsg, nodes, pairs[:, 0], pairs[:, 1])

    # -- safety -----------------------------------------------------------------------
    def apply_dangers(self, danger: Danger, near_m: float = 50.0, near_penalty: float = 4.0) -> None:
        """Block edges that touch a danger zone (the danger grown by its buffer); make edges
        within ``near_m`` of one cost ``near_penalty`` times their length."""
        segs = shapely.linestrings(np.stack([self.nodes[self.u], self.nodes[self.v]], axis=1))
        self.danger = danger  # kept: a map draws the zones the route kept out of
        self.blocked[:] = False
        self.penalty[:] = 1.0
        self.near = {}
        if not len(danger.geoms):
            self._csr = None
            return
        tree = shapely.STRtree(danger.geoms)
        reach = float(danger.buffers.max()) + near_m
        ei, gi = tree.query(segs, predicate="dwithin", distance=reach)
        d = shapely.distance(segs[ei], danger.geoms[gi])
        hard = d <= danger.buffers[gi]
        self.blocked[ei[hard]] = True
        soft = ~hard & (d <= danger.buffers[gi] + near_m)
        self.penalty[ei[soft]] = near_penalty
        for e, g, dist in zip(ei[soft], gi[soft], d[soft], strict=True):
            if e not in self.near or dist < self.near[e][1]:
                self.near[int(e)] = (str(danger.labels[g]), float(dist))
        self._csr = None

    def apply_risk(self, sample: Callable[[np.ndarray, np.ndarray], np.ndarray], weight: float = 4.0) -> None:
        """Make edges through ground the risk model rates likely contaminated dearer: cost × (1 + weight · p).

        ``sample(lon, lat) -> p`` reads the risk map. A recorded hazard blocks; a prediction only
        penalises, because it is a likelihood, not evidence, and a route that exists should be found."""
        mid = (self.nodes[self.u] + self.nodes[self.v]) / 2
        lon, lat = to_wgs84(self.epsg).transform(mid[:, 0], mid[:, 1])
        p = np.nan_to_num(np.asarray(sample(np.asarray(lon), np.asarray(lat)), dtype=np.float64), nan=0.0)
        self.risk = np.clip(p, 0.0, 1.0)
        self.risk_factor = 1.0 + weight * self.risk
        self._csr = None

    def apply_verified(self, ground: BaseGeometry, factor: float = 3.0, *, required: bool = False) -> None:
        """Prefer, or require, roads and paths on ground that survey or clearance verified.

        Where a whole region is contaminated, a road that route clearance verified is safe and a path
        nobody checked may not be, though neither is a known danger (nuisance mines lie on paths, at
        junctions and at poles, and no record shows them). ``required``: only verified edges are
        used, so a route called safe lies wholly on verified ground and, where none reaches the
        destination, the answer gives the closest verified point. Otherwise off-verified edges cost
        ``factor`` times their length. With nothing verified at all (a store that records no survey
        or clearance) every edge is treated alike and routes only keep out of the known dangers."""
        segs = shapely.linestrings(np.stack([self.nodes[self.u], self.nodes[self.v]], axis=1))
        if ground.is_empty:
            self.verified = np.zeros(len(self.u), dtype=bool)
        else:
            shapely.prepare(ground)
            self.verified = shapely.covered_by(segs, ground)
        known = bool(self.verified.any())
        self.verified_only = required and known
        self.verify_factor = np.where(self.verified, 1.0, factor) if known and not required else np.ones(len(self.u))
        self._csr = None

    def _edge_ids(self, path_nodes: list[int]) -> list[int]:
        """Edge ids along a node path (the cheapest edge where two nodes have several)."""
        if self._edge_csr is None:
            n = len(self.nodes)
            ids = np.arange(1, len(self.u) + 1, dtype=np.int64)
            self._edge_csr = csr_matrix((np.r_[ids, ids], (np.r_[self.u, self.v], np.r_[self.v, self.u])), shape=(n, n))
        a, b = np.asarray(path_nodes[:-1]), np.asarray(path_nodes[1:])
        vals = self._edge_csr[a, b]
        found = np.asarray(vals.toarray() if hasattr(vals, "toarray") else vals).ravel() - 1
        return [int(e) for e in found if e >= 0]

    def _graph(self) -> csr_matrix:
        if self._csr is None:
            ok = ~self.blocked & (self.verified if self.verified_only and self.verified is not None else True)
            w = (self.length * self.penalty * self.risk_factor * self.verify_factor)[ok] + 1e-9
            n = len(self.nodes)
            u, v = self.u[ok], self.v[ok]
            self._csr = csr_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
        return self._csr

    # -- routing ----------------------------------------------------------------------
    def _snap(self, lon: float, lat: float) -> tuple[int, float, np.ndarray]:
        x, y = self._to_metric.transform(lon, lat)
        d, i = self._tree.query([x, y])
        return int(i), float(d), np.array([x, y])

    def route(self, from_lonlat: tuple[float, float], to_lonlat: tuple[float, float]) -> RouteAnswer:
        s, ds, _ = self._snap(*from_lonlat)
        t, dt, target_xy = self._snap(*to_lonlat)
        graph = self._graph()
        straight = float(np.hypot(*(self.nodes[s] - self.nodes[t])))
        dist = pred = None
        for limit in (2.5 * straight + 2000.0, np.inf):  # bounded search first, then all of it
            dist, pred = dijkstra(graph, indices=s, return_predecessors=True, limit=limit)
            if np.isfinite(dist[t]):
                break
        assert dist is not None and pred is not None
        if not np.isfinite(dist[t]):
            return self._blocked_answer(dist, pred, s, target_xy, ds)
        path_nodes = _walk(pred, s, t)
        return self._answer(path_nodes, ds, dt)

    def _answer(self, path_nodes: list[int], ds: float, dt: float) -> RouteAnswer:
        xy = self.nodes[path_nodes]
        line = shapely.LineString(xy) if len(xy) > 1 else shapely.LineString([xy[0], xy[0]])
        length = float(np.hypot(*np.diff(xy, axis=0).T).sum()) if len(xy) > 1 else 0.0
        near: dict[str, float] = {}
        near_len = 0.0
        edges = self._edge_ids(path_nodes)
        for e in edges:
            if e in self.near:
                what, d = self.near[e]
                near[what] = min(d, near.get(what, np.inf))
                near_len += float(self.length[e])
        ll = project(line, self.epsg, 4326)
        msg = f"Safe route found: {length:,.0f} m along roads and paths"
        msg += f", {near_len:,.0f} m of it close to known dangers (stay on the track there)." if near else "."
        unverified = None
        if self.verified is not None:
            off = [e for e in edges if not self.verified[e]]
            unverified = float(self.length[off].sum()) if off else 0.0
            if edges and self.verified.any():
                msg += (
                    " All of it on roads and paths verified by route clearance or survey."
                    if unverified < 1.0
                    else f" {unverified:,.0f} m of it on ground no survey or clearance has verified: keep to the track."
                )
        mean_risk = max_risk = None
        if self.risk is not None and edges:
            on = np.asarray(edges)
            mean_risk = float(np.average(self.risk[on], weights=self.length[on] + 1e-9))
            max_risk = float(self.risk[on].max())
            msg += f" Predicted contamination along it: mean {mean_risk:.2f}, highest {max_risk:.2f}."
        return RouteAnswer(
            True,
            length,
            ll,
            sorted(near.items(), key=lambda kv: kv[1]),
            near_len,
            ds,
            dt,
            explanation=msg,
            mean_risk=mean_risk,
            max_risk=max_risk,
            unverified_m=unverified,
        )

    def _blocked_answer(
        self, dist: np.ndarray, pred: np.ndarray, s: int, target_xy: np.ndarray, ds: float
    ) -> RouteAnswer:
        reach = np.flatnonzero(np.isfinite(dist))
        gap = np.hypot(*(self.nodes[reach] - target_xy).T)
        best = int(reach[np.argmin(gap)])
        short = float(gap.min())
        path_nodes = _walk(pred, s, best)
        partial = self._answer(path_nodes, ds, 0.0)
        p = project(shapely.Point(self.nodes[best]), self.epsg, 4326)
        return RouteAnswer(
            found=False,
            length_m=partial.length_m,
            path=partial.path,
            near_danger=partial.near_danger,
            near_length_m=partial.near_length_m,
            snapped_from_m=ds,
            closest_safe_point=(p.x, p.y),
            short_of_destination_m=short,
            unverified_m=partial.unverified_m,
            explanation=(
                (
                    "No safe route: every way to the destination passes through a hazard area or its buffer, "
                    "or along roads and paths that no survey or clearance has verified. "
                    if self.verified_only
                    else "No safe route: every way to the destination passes through a hazard area or its buffer. "
                    if self.blocked.any()
                    else "No route: the roads and paths known here do not connect to the destination. "
                )
                + f"The closest point you can reach safely is {short:,.0f} m from the destination "
                f"({p.y:.5f} N, {p.x:.5f} E), {partial.length_m:,.0f} m along roads and paths. "
                "Ask the mine action authority before going further."
            ),
        )


def _walk(pred: np.ndarray, s: int, t: int) -> list[int]:
    out = [t]
    while out[-1] != s:
        p = int(pred[out[-1]])
        if p < 0:
            break
        out.append(p)
    return out[::-1]
