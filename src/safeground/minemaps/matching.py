"""One-to-one matching of recorded mine positions to items found on the ground.

Greedy nearest-neighbour matching double-counts: two recorded mines 3 m apart
can both claim the same find. Here candidate pairs come from a k-d tree within
the tolerance, and each connected group of candidates is solved as an
assignment problem that first maximises the number of matches, then minimises
their total distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class Matching:
    """Pairs (index into recorded, index into found) and their distances in metres."""

    recorded: np.ndarray
    found: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.recorded)


def match_positions(
    recorded_xy: np.ndarray,
    found_xy: np.ndarray,
    tolerance_m: float | np.ndarray,
) -> Matching:
    """Optimal one-to-one matching within tolerance (metric coordinates).

    ``tolerance_m`` may be one number or one per recorded position (by mine type).
    """
    rec = np.asarray(recorded_xy, dtype=float).reshape(-1, 2)
    fnd = np.asarray(found_xy, dtype=float).reshape(-1, 2)
    empty = Matching(np.empty(0, int), np.empty(0, int), np.empty(0))
    if len(rec) == 0 or len(fnd) == 0:
        return empty
    tol = np.broadcast_to(np.asarray(tolerance_m, dtype=float), (len(rec),))
    tree_f = cKDTree(fnd)
    pairs = tree_f.query_ball_point(rec, r=tol)
    ri = np.repeat(np.arange(len(rec)), [len(p) for p in pairs])
    if len(ri) == 0:
        return empty
    fi = np.concatenate([np.asarray(p, dtype=int) for p in pairs if len(p)])
    dist = np.hypot(*(rec[ri] - fnd[fi]).T)
    n_r, n_f = len(rec), len(fnd)
    graph = coo_matrix((np.ones(len(ri)), (ri, n_r + fi)), shape=(n_r + n_f, n_r + n_f))
    _, label = connected_components(graph, directed=False)
    comp = label[ri]
    order = np.argsort(comp, kind="stable")
    ri, fi, dist, comp = ri[order], fi[order], dist[order], comp[order]
    # components with one recorded or one found item: the optimum is simply the
    # closest pair, done for all such components at once (most of them, in practice)
    r_per = _distinct_per_component(comp, ri, label.max() + 1)
    f_per = _distinct_per_component(comp, fi, label.max() + 1)
    simple = (r_per == 1) | (f_per == 1)
    edge_simple = simple[comp]
    out_r: list[np.ndarray] = []
    out_f: list[np.ndarray] = []
    out_d: list[np.ndarray] = []
    if edge_simple.any():
        c_s, r_s, f_s, d_s = comp[edge_simple], ri[edge_simple], fi[edge_simple], dist[edge_simple]
        o = np.lexsort((d_s, c_s))
        first = np.ones(len(o), dtype=bool)
        first[1:] = c_s[o][1:] != c_s[o][:-1]
        out_r.append(r_s[o][first])
        out_f.append(f_s[o][first])
        out_d.append(d_s[o][first])
    ri, fi, dist, comp = ri[~edge_simple], fi[~edge_simple], dist[~edge_simple], comp[~edge_simple]
    bounds = np.flatnonzero(np.diff(comp)) + 1
    for r_, f_, d_ in zip(np.split(ri, bounds), np.split(fi, bounds), np.split(dist, bounds), strict=True):
        if len(r_) == 0:
            continue
        ur, r_loc = np.unique(r_, return_inverse=True)
        uf, f_loc = np.unique(f_, return_inverse=True)
        big = float(d_.sum()) + 1.0 + float(tol.max())
        cost = np.full((len(ur), len(uf)), big * (len(ur) + len(uf)))
        cost[r_loc, f_loc] = d_
        rows, cols = linear_sum_assignment(cost)
        real = cost[rows, cols] < big
        out_r.append(ur[rows[real]])
        out_f.append(uf[cols[real]])
        out_d.append(cost[rows[real], cols[real]])
    if not out_r:
        return empty
    return Matching(np.concatenate(out_r), np.concatenate(out_f), np.concatenate(out_d))


def _distinct_per_component(comp: np.ndarray, node: np.ndarray, n: int) -> np.ndarray:
    pairs = np.unique(np.column_stack([comp, node]), axis=0)
    return np.bincount(pairs[:, 0], minlength=n)


def match_typed(
    recorded_xy: np.ndarray,
    found_xy: np.ndarray,
    tolerance_m: float | np.ndarray,
    recorded_types: np.ndarray | None = None,
    found_types: np.ndarray | None = None,
) -> Matching:
    """Like ``match_positions`` but a recorded mine only matches a find of the same type.

    Type is strong evidence: an antivehicle row matched to antipersonnel finds is
    a coincidence of spacing, not a confirmation.
    """
    rec = np.asarray(recorded_xy, dtype=float).reshape(-1, 2)
    tol = np.broadcast_to(np.asarray(tolerance_m, dtype=float), (len(rec),))
    if recorded_types is None or found_types is None:
        return match_positions(rec, found_xy, tol)
    fnd = np.asarray(found_xy, dtype=float).reshape(-1, 2)
    rt, ft = np.asarray(recorded_types), np.asarray(found_types)
    parts: list[Matching] = []
    for t in np.unique(rt):
        ri = np.flatnonzero(rt == t)
        fi = np.flatnonzero(ft == t)
        if len(fi) == 0:
            continue
        m = match_positions(rec[ri], fnd[fi], tol[ri])
        parts.append(Matching(ri[m.recorded], fi[m.found], m.distance))
    if not parts:
        return Matching(np.empty(0, int), np.empty(0, int), np.empty(0))
    return Matching(
        np.concatenate([p.recorded for p in parts]),
        np.concatenate([p.found for p in parts]),
        np.concatenate([p.distance for p in parts]),
    )
