"""The search for a record's correction: where to start, how to refine, which readings rows allow.

Correspondences are unknown and the neighbourhood holds finds from other minefields, so the
search starts from the offsets most recorded→found pairs vote for (``vote_offsets``, one start per
place: ``distinct_starts``), refines each by trimmed ICP (``refine``) and the row fit (``polish``), and
then tries what rows make ambiguous: the reading slid along the rows by whole spacings, moved across
them onto another row, or turned so that a row that crosses the rows of finds lies on them. Each
reading is judged by ``scoring.explains``; ``alignment.estimate_alignment`` runs the steps.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely
from scipy.ndimage import uniform_filter
from scipy.spatial import cKDTree

from safeground.minemaps.matching import Matching
from safeground.minemaps.rowfit import fit_rows
from safeground.minemaps.rows import line_centres
from safeground.minemaps.scoring import (
    ANCHOR_WEIGHT,
    ClearanceEvidence,
    count_unexplained,
    empty_in_cleared,
    explains,
)
from safeground.minemaps.transform import Transform, fit_similarity


def vote_offsets(
    groups: list[tuple[np.ndarray, cKDTree, np.ndarray]], radius: float, cell: float, k: int
) -> list[tuple[float, np.ndarray]]:
    """The ``k`` most-voted offsets between recorded and found positions within ``radius``.

    A Hough-style accumulator: true pairs pile up on one offset, wrong pairs spread.
    Rows are self-similar (a row shifted by one spacing still matches most of
    itself, and a neighbouring minefield of the same design matches too), so
    several peaks are kept and judged later on how well they explain the evidence.
    """
    off = pair_offsets(groups, radius)
    return offset_peaks(off, radius, cell, k) if len(off) else []


def pair_offsets(groups: list[tuple[np.ndarray, cKDTree, np.ndarray]], radius: float) -> np.ndarray:
    """found − recorded for every pair of a group within ``radius`` (one group per item type: AV votes only with AV).

    The pairs come as two index arrays made in C (``sparse_distance_matrix``): the same pairs as the found
    tree's ``query_ball_point`` (distance <= radius), whose list per point cost most of the search's time;
    their order does not matter to the accumulator or its medians."""
    offsets = [np.empty((0, 2))]
    for rec, found_tree, found in groups:
        pairs = cKDTree(rec).sparse_distance_matrix(found_tree, radius, output_type="ndarray")
        offsets.append(found[pairs["j"]] - rec[pairs["i"]])
    return np.vstack(offsets)


def offset_peaks(off: np.ndarray, radius: float, cell: float, k: int) -> list[tuple[float, np.ndarray]]:
    """The ``k`` highest peaks of the offsets' accumulator (cells of ``cell`` metres, smoothed over 3 × 3), each
    with the median offset around it; a peak of fewer than 3 votes is none."""
    n = int(np.ceil(2 * radius / cell)) + 1
    ij = np.floor((off + radius) / cell).astype(int).clip(0, n - 1)
    grid = np.zeros((n, n))
    np.add.at(grid, (ij[:, 0], ij[:, 1]), 1.0)
    grid = uniform_filter(grid, size=3, mode="constant") * 9.0
    out: list[tuple[float, np.ndarray]] = []
    for _ in range(k):
        idx = int(np.argmax(grid))
        i, j = divmod(idx, n)
        if grid[i, j] < 3:
            break
        sel = (np.abs(ij[:, 0] - i) <= 1) & (np.abs(ij[:, 1] - j) <= 1)
        out.append((float(grid[i, j]), np.median(off[sel], axis=0)))
        grid[max(i - 3, 0) : i + 4, max(j - 3, 0) : j + 4] = 0.0
    return out


def distinct_starts(
    candidates: list[tuple[float, float, np.ndarray]], k: int = 12, near_m: float = 12.0, near_deg: float = 1.5
) -> list[tuple[float, float, np.ndarray]]:
    """The ``k`` most-voted candidates, one per place: each at least ``near_m`` or ``near_deg`` from the others.

    A bigger minefield of the same design nearby piles up votes on the same offset at every
    neighbouring candidate rotation; without this the few starts would all be that one place
    and the record's own, smaller minefield would never be tried. Near-duplicates add nothing:
    trimmed ICP and the search along the rows settle each start themselves.
    """
    out: list[tuple[float, float, np.ndarray]] = []
    for v, a, o in candidates:  # most-voted first
        if all(np.hypot(*(o - oo)) >= near_m or abs(a - aa) >= near_deg for _, aa, oo in out):
            out.append((v, a, o))
            if len(out) == k:
                break
    return out


def refine(transform: Transform, ev: ClearanceEvidence) -> Transform | None:
    """Trimmed ICP with one-to-one typed matching, the gate narrowing to the tolerance."""
    for gate in (3.0, 2.0, 1.5, 1.0, 1.0):
        m = ev.match(transform, gate)
        if len(m) < 3:
            return None
        transform = fit_similarity(ev.rec[m.recorded], ev.fnd[m.found], ev.center, allow_scale=ev.allow_scale)
    return transform


def polish(
    best: tuple[float, Transform, Matching], ev: ClearanceEvidence, rows: np.ndarray, frames: np.ndarray
) -> tuple[float, Transform, Matching]:
    """Refit the chosen solution the way the record was drawn (``fit_rows``), re-matching in between."""
    _, transform, m = best
    for _ in range(3):
        if len(m) < 3:
            return best
        transform = fit_rows(
            ev.rec[m.recorded],
            ev.fnd[m.found],
            ev.center,
            rows[m.recorded],
            frames[m.recorded],
            transform,
            allow_scale=ev.allow_scale,
        )
        m = ev.match(transform)
    sc, m = explains(transform, ev)
    if len(m) < 0.8 * len(best[2]):  # the refit ran off (it should only settle the rows on their lines)
        return best
    return (sc, transform, m)


def slide_along_rows(
    best: tuple[float, Transform, Matching], ev: ClearanceEvidence, rec_dirs: list[float]
) -> tuple[tuple[float, Transform, Matching], bool]:
    """Rows are periodic: try the solution moved by whole mine spacings along the rows.

    Returns the best and whether a slid solution explains the evidence equally well
    (the cleared ground does not reach past the ends of the rows: the position
    along the rows is then undetermined).
    """
    if not rec_dirs or len(ev.rec) < 3:
        return best, False
    d, _ = cKDTree(ev.rec).query(ev.rec, k=2)
    spacing = float(np.median(d[:, 1]))
    t = best[1]
    a = np.deg2rad(rec_dirs[0] + t.rotation_deg)
    step = spacing * np.array([np.cos(a), np.sin(a)])
    # how many spacings the rows span: every slide that keeps some overlap is a candidate
    extent = float(np.ptp((ev.rec - ev.rec.mean(axis=0)) @ np.array([np.cos(a), np.sin(a)])))
    n = int(min(max(extent / max(spacing, 0.5), 3), 40))
    # cheap pre-score of every slide (items with a find within tolerance), full score for the best few
    ftree = cKDTree(ev.fnd)
    slides = []
    for k in [k for k in range(-n, n + 1) if k]:
        cand = Transform(t.center, (t.shift[0] + k * step[0], t.shift[1] + k * step[1]), t.rotation_deg, t.scale)
        moved = cand.apply(ev.rec)
        dist, near = ftree.query(moved, distance_upper_bound=float(ev.tol.max()))
        hit = np.isfinite(dist)
        ends = ev.real_ends(cand, np.flatnonzero(hit), near[hit])
        pre = float(hit.sum()) + ANCHOR_WEIGHT * float(ends.sum())
        if ev.checked is not None:  # mines moved into cleared ground where nothing was found
            pre -= 0.5 * float(shapely.contains_xy(ev.checked, moved[~hit, 0], moved[~hit, 1]).sum())
        slides.append((pre, k, cand))
    slides.sort(key=lambda c: -c[0])
    tried = [best]
    for _, _, cand in slides[:6]:
        sc, m = explains(cand, ev)
        tried.append((sc, cand, m))
    # refine the few best slides, not only the first: trimmed ICP from neighbouring slides can settle
    # in different places (a wrong count puts every recorded mine a little off its real one)
    for _, cand, _ in sorted(tried[1:], key=lambda c: -c[0])[:3]:
        refined = refine(cand, ev)
        if refined is None:
            continue
        sc, m = explains(refined, ev)
        tried.append((sc, refined, m))
        if sc > best[0] + 1e-9:
            best = (sc, refined, m)
    tie = any(
        # a slide shorter than the tolerance is within the stated accuracy, not an ambiguity
        sc >= best[0] - 0.5 and np.hypot(*np.subtract(tr.shift, best[1].shift)) > max(0.5 * spacing, ev.tol.max())
        for sc, tr, _ in tried
    )
    return best, tie


ACROSS_ROWS_TIE = 0.9


def across_rows_tie(best: tuple[float, Transform, Matching], ev: ClearanceEvidence, rec_dirs: list[float]) -> bool:
    """Whether the record moved across its rows, onto the place of another row, fits almost as well.

    With rows omitted or invented in the record, its rows can land one or more rows over and
    still match most finds; only a clear margin over every such reading fixes the position
    across the rows. The readings tried put a recorded row where another recorded row is, or
    on another row of finds around the record: a record that shows two rows of a four-row
    minefield fits any two neighbouring rows of it, whatever the spacing of its own rows. A reading
    that scores less is still a tie when nothing contradicts it more than the best (see the loop): where
    clearance stopped at the last mined row, explaining fewer finds does not rule it out.
    """
    score, t, _ = best
    if not rec_dirs or len(ev.rec) < 3 or score <= 0:
        return False
    b = np.deg2rad(rec_dirs[0] + t.rotation_deg)
    moved_normal = np.array([-np.sin(b), np.cos(b)])
    moved = t.apply(ev.rec)
    rec_c = line_centres(moved @ moved_normal)
    zone = shapely.MultiPoint(moved).convex_hull.buffer(30.0)  # the footprint explains looks at
    near = ev.fnd[shapely.contains_xy(zone, ev.fnd[:, 0], ev.fnd[:, 1])]
    fnd_c = line_centres(near @ moved_normal, min_items=3)
    reach = float(ev.tol.max())
    offsets = {round(float(ci - cj), 1) for ci in rec_c for cj in np.concatenate([rec_c, fnd_c])}
    empty_best, unexplained_best = empty_in_cleared(t, ev, best[2]), count_unexplained(moved, ev)
    for off in sorted((o for o in offsets if abs(o) > reach), key=abs):
        shift = np.asarray(t.shift) - off * moved_normal
        cand = Transform(t.center, (float(shift[0]), float(shift[1])), t.rotation_deg, t.scale)
        sc, mc = explains(cand, ev)
        if sc >= ACROSS_ROWS_TIE * score:
            return True
        # a reading rows over that nothing contradicts more than the best (no more recorded mines moved onto
        # cleared, empty ground, no more finds beside it that it does not show) and that matches a good share:
        # it only puts more of the record on ground nobody cleared. That is what a record that omits a row
        # looks like when clearance stops at the last mined row: the evidence cannot tell the two apart
        if (
            len(mc) >= ACROSS_ROWS_LIVE * len(best[2])
            and empty_in_cleared(cand, ev, mc) <= empty_best
            and count_unexplained(cand.apply(ev.rec), ev) <= unexplained_best
        ):
            return True
    return False


#: Share of the best reading's matches that an uncontradicted reading rows over must match to be a live reading.
ACROSS_ROWS_LIVE = 0.5


def crossing_turn(
    transform: Transform, ev: ClearanceEvidence, m: Matching, rows: np.ndarray, frames: np.ndarray
) -> float | None:
    """The turn (radians) that lays the corrected rows along the rows of finds they cross, or None.

    Rows of a minefield lie close and parallel; turned a little too far, a long recorded row
    runs diagonally from one row of finds to the next and still matches nearly all of them,
    the matches changing row halfway: each half within the tolerance, the reading wrong by
    the angle that carries a row end one row spacing over. The matched finds of a recorded
    row then jump across the row, by a row spacing, where they change row, and stay there
    (a stray find jumps out and back). Unwrapping those jumps gives each row's real drift
    across the corrected row; its slope along the row is the turn that is missing.
    """
    slopes, weights = [], []
    crossed = False
    for r in np.unique(rows[m.recorded]):
        sel = rows[m.recorded] == r
        if sel.sum() < 8:
            continue
        ri, fi = m.recorded[sel], m.found[sel]
        u = frames[ri[0]] @ transform.rotation.T
        n = np.array([-u[1], u[0]])
        moved = transform.apply(ev.rec[ri])
        along = moved @ u
        order = np.argsort(along)
        along, across = along[order] - along.min(), ((ev.fnd[fi] - moved) @ n)[order]
        step = 0.5 * float(ev.tol[ri].min())
        unwrapped, keep, offset = across.copy(), np.ones(len(across), dtype=bool), 0.0
        for i in range(len(across)):
            kept = unwrapped[:i][keep[:i]][-3:]  # the last three matches on the row being followed
            ref = float(np.median(kept)) if len(kept) else None
            jump = 0.0 if ref is None else across[i] + offset - ref
            if abs(jump) > step:
                ahead = across[i : i + 4] + offset - ref
                if (np.sign(ahead) == np.sign(jump)).sum() >= 3 and (np.abs(ahead) > step).sum() >= 3:
                    offset -= jump  # the matches changed row here and stay on the other
                    crossed = True
                else:
                    keep[i] = False  # a stray find, out and back
            unwrapped[i] = across[i] + offset
        along, unwrapped = along[keep], unwrapped[keep]
        x = np.column_stack([np.ones(len(along)), along])
        slopes.append(float(np.linalg.lstsq(x, unwrapped, rcond=None)[0][1]))
        weights.append(float(np.ptp(along)) ** 2)
    if not crossed or not weights or sum(weights) <= 0:
        return None
    return float(np.arctan(np.average(slopes, weights=weights)))


def turned_further(transform: Transform, ev: ClearanceEvidence, m: Matching, turn: float) -> Transform:
    """``transform`` turned further by ``turn`` (radians) about the middle of its matched mines."""
    q = transform.apply(ev.rec[m.recorded]).mean(axis=0)
    c = np.asarray(transform.center)
    extra = Transform((float(q[0]), float(q[1])), (0.0, 0.0), float(np.degrees(turn)))
    shift = extra.apply(c + np.asarray(transform.shift))[0] - c
    return replace(
        transform,
        shift=(float(shift[0]), float(shift[1])),
        rotation_deg=transform.rotation_deg + float(np.degrees(turn)),
    )


def onto_rows(transform: Transform, ev: ClearanceEvidence, rows: np.ndarray, frames: np.ndarray) -> list[Transform]:
    """``transform`` moved across its rows onto each row of finds its matched mines lie beside."""
    m = ev.match(transform)
    if len(m) < 3:
        return []
    u = frames[m.recorded] @ transform.rotation.T
    n = np.column_stack([-u[:, 1], u[:, 0]])
    across = np.einsum("ki,ki->k", n, ev.fnd[m.found] - transform.apply(ev.rec[m.recorded]))
    normal = n.mean(axis=0) / max(float(np.hypot(*n.mean(axis=0))), 1e-9)
    out = []
    for off in line_centres(across, min_items=3):
        shift = np.asarray(transform.shift) + off * normal
        out.append(replace(transform, shift=(float(shift[0]), float(shift[1]))))
    return out
