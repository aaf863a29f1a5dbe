"""One-to-one matching of recorded mine positions to items found on the ground.

Greedy nearest-neighbour matching double-counts: two recorded mines 3 m apart
can both claim the same find. Here candidate pairs come from a k-d tree within
the tolerance, and each connected group of candidates is solved as an
assignment problem that first maximises the number of matches, then minimises
their total distance.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
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

    The alignment search calls this thousands of times per record on small sets, so the fixed cost of
    each call matters more than its growth: the candidate pairs are flattened without a Python loop,
    the connected groups are labelled by min-label propagation over the pairs (each group by its
    lowest node, the order ``scipy.sparse.csgraph.connected_components`` numbers them in) instead of
    building a sparse matrix, and the groups' sizes are counted with ``bincount``; the assignment of
    each group with more than one candidate on both sides is unchanged, and so is every result.
    """
    rec = np.asarray(recorded_xy, dtype=float).reshape(-1, 2)
    fnd = np.asarray(found_xy, dtype=float).reshape(-1, 2)
    empty = Matching(np.empty(0, int), np.empty(0, int), np.empty(0))
    if len(rec) == 0 or len(fnd) == 0:
        return empty
    tol = np.broadcast_to(np.asarray(tolerance_m, dtype=float), (len(rec),))
    ri, fi = candidate_pairs(rec, fnd, tol)
    if len(ri) == 0:
        return empty
    dist = np.hypot(*(rec[ri] - fnd[fi]).T)
    n_r, n_f = len(rec), len(fnd)
    label = _component_labels(ri, n_r + fi, n_r + n_f)
    comp = label[ri]
    order = np.argsort(comp, kind="stable")
    ri, fi, dist, comp = ri[order], fi[order], dist[order], comp[order]
    # components with one recorded or one found item: the optimum is simply the
    # closest pair, done for all such components at once (most of them, in practice)
    n = n_r + n_f
    has_r = np.zeros(n_r, dtype=bool)
    has_r[ri] = True
    has_f = np.zeros(n_f, dtype=bool)
    has_f[fi] = True
    r_per = np.bincount(label[:n_r][has_r], minlength=n)
    f_per = np.bincount(label[n_r:][has_f], minlength=n)
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
    if not edge_simple.all():
        ri, fi, dist, comp = ri[~edge_simple], fi[~edge_simple], dist[~edge_simple], comp[~edge_simple]
        # each group's distinct recorded and found items, numbered within the group (one pass for all groups)
        change = np.empty(len(comp), dtype=bool)
        change[0] = True
        np.not_equal(comp[1:], comp[:-1], out=change[1:])
        starts = np.flatnonzero(change)
        ends = np.append(starts[1:], len(comp))
        group = np.repeat(np.arange(len(starts)), ends - starts)
        ur_all, inv_r = np.unique(group * n_r + ri, return_inverse=True)
        uf_all, inv_f = np.unique(group * n_f + fi, return_inverse=True)
        first_r = np.searchsorted(ur_all // n_r, np.arange(len(starts)))
        first_f = np.searchsorted(uf_all // n_f, np.arange(len(starts)))
        loc_r, loc_f = inv_r - first_r[group], inv_f - first_f[group]
        node_r, node_f = ur_all % n_r, uf_all % n_f
        size_r = np.diff(first_r, append=len(ur_all))
        size_f = np.diff(first_f, append=len(uf_all))
        tol_max = float(tol.max())
        for g, (a, b) in enumerate(zip(starts, ends, strict=True)):
            d_ = dist[a:b]
            nr, nf = int(size_r[g]), int(size_f[g])
            big = float(d_.sum()) + 1.0 + tol_max
            cost = np.full((nr, nf), big * (nr + nf))
            cost[loc_r[a:b], loc_f[a:b]] = d_
            rows, cols = linear_sum_assignment(cost)
            real = cost[rows, cols] < big
            out_r.append(node_r[first_r[g] + rows[real]])
            out_f.append(node_f[first_f[g] + cols[real]])
            out_d.append(cost[rows[real], cols[real]])
    if not out_r:
        return empty
    return Matching(np.concatenate(out_r), np.concatenate(out_f), np.concatenate(out_d))


#: Up to this many recorded × found pairs, candidates come from every distance at once instead of a k-d tree
BRUTE_PAIRS = 250_000


def candidate_pairs(rec: np.ndarray, fnd: np.ndarray, tol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (recorded, found) pair within the recorded position's tolerance, by recorded then found index.

    The pairs ``cKDTree(fnd).query_ball_point(rec, r=tol)`` gives, in its order (each query's finds
    sorted): squared distance at most the squared tolerance, x then y summed as the tree sums them. The
    alignment search asks for them thousands of times per record on a hundred mines and as many finds,
    where building a tree and walking it costs ten times more than all the distances at once; bigger
    sets (a whole district) still go through the tree.
    """
    if len(rec) * len(fnd) <= BRUTE_PAIRS:
        dx = rec[:, 0, None] - fnd[None, :, 0]
        dy = rec[:, 1, None] - fnd[None, :, 1]
        dx *= dx
        dy *= dy
        dx += dy
        ri, fi = np.nonzero(dx <= (tol * tol)[:, None])
        return ri.astype(np.intp, copy=False), fi.astype(np.intp, copy=False)
    pairs = cKDTree(fnd).query_ball_point(rec, r=tol)
    counts = np.fromiter(map(len, pairs), dtype=np.intp, count=len(rec))
    total = int(counts.sum())
    ri = np.repeat(np.arange(len(rec)), counts)
    fi = np.fromiter(itertools.chain.from_iterable(pairs), dtype=np.intp, count=total)
    return ri, fi


def _component_labels(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """The connected component of each of ``n`` nodes joined by the edges (a, b), labelled by its lowest node.

    Min-label propagation with pointer jumping: labels only fall, always name a node of the same
    component, and stop changing when every edge joins equal labels, that is when each component
    carries its lowest node (components ordered as ``connected_components`` numbers them)."""
    lab = np.arange(n)
    while True:
        low = np.minimum(lab[a], lab[b])
        new = lab.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if not (new != lab).any():
            return lab
        lab = new


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
