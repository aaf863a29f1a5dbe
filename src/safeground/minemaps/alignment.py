"""Estimate the systematic error of a minefield record from what clearance found.

A record drawn from a wrong reference point is still a good description of the
minefield's shape: shifted and rotated as a whole. Recovering that rigid
transform (optionally with scale) tells a clearance team where the rest of the
record's mines most likely are.

Correspondences are unknown and the neighbourhood holds finds from other
minefields, so the estimate is robust in three steps:

1. candidate rotations from the dominant row directions (rows of a minefield
   show as the direction to each item's nearest neighbour), then a vote over
   all recorded→found offsets (a Hough-style accumulator, robust to outliers:
   wrong pairs spread their votes, true pairs pile up on one offset);
2. trimmed iterative closest points with optimal one-to-one matching inside the
   tolerance, refitting a least-squares rigid/similarity transform (Umeyama);
3. a final fit the way records are drawn (rows as lines, each row one observation),
   and its uncertainty from the rows' drawing error (``rowfit.fit_rows``, ``rowfit.correction_covariance``).

This module runs the steps and states the result (``Alignment``); the transform is in ``transform``,
the row model in ``rows``, the row fit in ``rowfit``, the score of a reading in ``scoring`` and the
steps of the search in ``search``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from safeground.minemaps.matching import Matching
from safeground.minemaps.rowfit import correction_covariance, row_jacobians, scatter_sigma
from safeground.minemaps.rows import drawing_sigma_of, row_directions, row_fractions, row_frames, row_groups
from safeground.minemaps.scoring import ClearanceEvidence, count_ends_checked, explains, rows_checked
from safeground.minemaps.search import (
    across_rows_tie,
    crossing_turn,
    distinct_starts,
    onto_rows,
    polish,
    refine,
    slide_along_rows,
    turned_further,
    vote_offsets,
)
from safeground.minemaps.transform import Transform


@dataclass(frozen=True)
class Alignment:
    transform: Transform
    inliers: int  # recorded positions within tolerance of a find after the transform
    rms_m: float
    sigma_shift_m: tuple[float, float]
    sigma_rotation_deg: float
    sigma_scale: float
    candidates_tried: int
    ambiguous: bool = False  # another place explains the finds almost as well
    score: float = 0.0  # matches minus contradicting evidence (see scoring.explains)
    # matched row ends with cleared ground one mine spacing beyond them (None: row ends unknown)
    ends_checked: int | None = None
    # recorded rows with a matched find: the independent observations (the mines of a row share its error)
    rows_matched: int = 0
    # recorded rows that, corrected, lie in cleared ground (at least ``ROW_CHECKED_MINES`` of their mines) or
    # have a matched find: the rows clearance has checked (see ``scoring.rows_checked``); None without cleared ground
    rows_checked: int | None = None
    # error of each drawn row end, estimated from the residuals (see rows.drawing_sigma_of)
    drawing_sigma_m: float = 0.0
    # covariance of (rotation in radians, shift east, shift north[, scale]): see correction_covariance
    covariance: tuple[tuple[float, ...], ...] | None = None

    def position_sigma(self, xy: np.ndarray) -> np.ndarray:
        """Standard error (m, both axes together) of where the correction puts each of ``xy``.

        Only the transform's own uncertainty; a recorded mine's row also has its own drawing error
        (``drawing_sigma_m``), which no correction of the whole record removes.
        """
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if self.covariance is None:
            return np.full(len(xy), float(np.hypot(*self.sigma_shift_m)))
        cov = np.asarray(self.covariance)
        jac = self.transform.jacobian(xy, allow_scale=len(cov) > 3)
        return np.sqrt(np.einsum("kiq,qr,kir->k", jac, cov, jac))


#: Recorded mines that vote on the offset (a random sample of bigger records). Few voters from a record
#: with invented rows leave its own minefield's peak below the peaks of a bigger neighbouring one.
VOTERS = 300


def estimate_alignment(
    recorded: np.ndarray,
    found: np.ndarray,
    tolerance: np.ndarray | float,
    *,
    recorded_types: np.ndarray | None = None,
    found_types: np.ndarray | None = None,
    checked: BaseGeometry | None = None,
    anchors: np.ndarray | None = None,
    rows: np.ndarray | None = None,
    max_shift_m: float = 500.0,
    max_rotation_deg: float = 30.0,
    allow_scale: bool = False,
    min_inliers: int = 8,
    seed: int = 0,
) -> Alignment | None:
    """Best transform taking recorded positions onto found ones, or None without enough support.

    A record is presumed right unless the evidence clearly says otherwise: the
    solution grown from the record's own position is kept whenever it explains
    at least half as much as the best solution elsewhere.
    """
    rec = np.asarray(recorded, dtype=float).reshape(-1, 2)
    fnd = np.asarray(found, dtype=float).reshape(-1, 2)
    tol = np.broadcast_to(np.asarray(tolerance, dtype=float), (len(rec),))
    if len(rec) < 3 or len(fnd) < min_inliers:
        return None
    rng = np.random.default_rng(seed)
    center = rec.mean(axis=0)
    rt = None if recorded_types is None else np.asarray(recorded_types)
    ft = None if found_types is None else np.asarray(found_types)
    if checked is not None:
        shapely.prepare(checked)
    ev = ClearanceEvidence(
        rec,
        fnd,
        tol,
        rt,
        ft,
        center,
        allow_scale,
        checked,
        None if anchors is None else np.asarray(anchors),
        None if rows is None else np.asarray(rows),
    )
    pick = np.arange(len(rec)) if len(rec) <= VOTERS else np.sort(rng.choice(len(rec), VOTERS, replace=False))
    tree = cKDTree(fnd)
    angles = {0.0}
    rec_dirs = row_directions(rec, peaks=1)
    idx = tree.query_ball_point(center, r=max_shift_m + 200.0)
    near = fnd[idx] if idx else fnd
    for fd in row_directions(near, peaks=4):
        for rd in rec_dirs:
            d = (fd - rd + 90.0) % 180.0 - 90.0
            if abs(d) <= max_rotation_deg:
                angles.update(d + k for k in (-0.75, 0.0, 0.75))
    if rt is None or ft is None:
        type_groups = [(pick, tree, fnd)]
    else:
        type_groups = []
        for t in np.unique(rt[pick]):
            fi = np.flatnonzero(ft == t)
            if len(fi):
                type_groups.append((pick[rt[pick] == t], cKDTree(fnd[fi]), fnd[fi]))
    candidates: list[tuple[float, float, np.ndarray]] = []
    for ang in sorted(angles):
        t = Transform((center[0], center[1]), (0.0, 0.0), ang)
        groups = [(t.apply(rec[ri]), tr, f) for ri, tr, f in type_groups]
        for votes, off in vote_offsets(groups, max_shift_m, cell=4.0, k=4):
            candidates.append((votes, ang, off))
    candidates.sort(key=lambda c: -c[0])
    starts = [Transform((center[0], center[1]), (0.0, 0.0), 0.0)]
    starts += [
        Transform((center[0], center[1]), (float(o[0]), float(o[1])), a) for _, a, o in distinct_starts(candidates)
    ]
    scored: list[tuple[float, Transform, Matching]] = []
    own: tuple[float, Transform, Matching] | None = None  # grown from the record's own position
    for k, start in enumerate(starts):
        refined = refine(start, ev)
        if refined is None:
            continue
        score, m = explains(refined, ev)
        scored.append((score, refined, m))
        if k == 0:
            own = (score, refined, m)
    if not scored:
        return None
    best = max(scored, key=lambda c: c[0])
    elsewhere = own is not None and np.hypot(*np.subtract(best[1].shift, own[1].shift)) > 3 * tol.max()
    if own is not None and elsewhere and len(own[2]) >= min_inliers and own[0] >= 0.5 * best[0]:
        best = own
    best, along_rows_tie = slide_along_rows(best, ev, rec_dirs)
    rows_of = ev.rows if ev.rows is not None else row_groups(rec, rec_dirs[0] if rec_dirs else 0.0)
    frames = row_frames(rec, rows_of, rec_dirs[0] if rec_dirs else 0.0)
    best = polish(best, ev, rows_of, frames)
    turn = crossing_turn(best[1], ev, best[2], rows_of, frames)
    if turn is not None:
        # the rows were matched across the rows of finds (see crossing_turn): turn them onto them and refit
        # turned about the middle of the diagonal, the rows lie between the two rows of finds they
        # crossed: each of those is a reading, tried with the rows laid on it
        for cand in onto_rows(turned_further(best[1], ev, best[2], turn), ev, rows_of, frames):
            straightened = polish((-np.inf, cand, ev.match(cand)), ev, rows_of, frames)
            if crossing_turn(straightened[1], ev, straightened[2], rows_of, frames) is None and (
                turn is not None or straightened[0] > best[0]
            ):
                best, turn = straightened, None
    rows_cross = turn is not None
    score, transform, m = best
    if len(m) < min_inliers:
        return None
    # another place that explains the evidence almost as well, with other finds
    best_finds = set(m.found.tolist())
    ambiguous = (
        rows_cross  # the matches change row of finds along a row, and no turn lays them straight
        or along_rows_tie
        or across_rows_tie(best, ev, rec_dirs)
        or any(
            sc >= 0.8 * score and len(best_finds & set(mm.found.tolist())) < 0.5 * len(best_finds)
            for sc, _, mm in scored
            if mm is not m
        )
    )
    ends_checked = count_ends_checked(transform, ev, m)
    src, dst = rec[m.recorded], fnd[m.found]
    resid = np.hypot(*(transform.apply(src) - dst).T)
    rms = float(np.sqrt((resid**2).mean()))
    pair_rows = rows_of[m.recorded]
    drawing_sigma = drawing_sigma_of(rms)
    pair_frames = frames[m.recorded]
    fractions = row_fractions(rec, rows_of, frames)[m.recorded]
    _, _, _, normals = row_jacobians(src, center, pair_frames, transform, allow_scale)
    across = np.einsum("ki,ki->k", normals, dst - transform.apply(src))
    scatter = scatter_sigma(across, pair_rows, fractions)
    cov = correction_covariance(
        src,
        center,
        transform,
        pair_rows,
        pair_frames,
        fractions,
        drawing_sigma=drawing_sigma,
        scatter_sigma=drawing_sigma if scatter is None else scatter,
        allow_scale=allow_scale,
    )
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return Alignment(
        transform,
        len(m),
        rms,
        (float(sd[1]), float(sd[2])),
        float(np.degrees(sd[0])),
        float(sd[3]) if allow_scale else 0.0,
        len(candidates),
        ambiguous,
        float(score),
        ends_checked,
        rows_matched=len(np.unique(pair_rows)),
        rows_checked=rows_checked(transform, ev, m, rows_of),
        drawing_sigma_m=float(drawing_sigma),
        covariance=tuple(tuple(float(v) for v in row) for row in cov),
    )
