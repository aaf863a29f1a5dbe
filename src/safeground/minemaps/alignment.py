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
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from scipy.ndimage import uniform_filter
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from safeground.minemaps.matching import Matching, match_typed
from safeground.minemaps.rowfit import (  # noqa: F401 (the row model is part of this module's API)
    ALONG_WEIGHT,
    Transform,
    correction_covariance,
    drawing_sigma_of,
    fit_rows,
    fit_similarity,
    row_fractions,
    row_frames,
    row_groups,
    row_jacobians,
    scatter_sigma,
)


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
    score: float = 0.0  # matches minus contradicting evidence (see _explains)
    # matched row ends with cleared ground one mine spacing beyond them (None: row ends unknown)
    ends_checked: int | None = None
    # recorded rows with a matched find: the independent observations (the mines of a row share its error)
    rows_matched: int = 0
    # recorded rows that, corrected, lie in cleared ground (at least ``ROW_CHECKED_MINES`` of their mines) or
    # have a matched find: the rows clearance has checked (see ``rows_checked``); None without cleared ground
    rows_checked: int | None = None
    # error of each drawn row end, estimated from the residuals (see rowfit.drawing_sigma_of)
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


def _row_directions(xy: np.ndarray, peaks: int = 3) -> list[float]:
    """Dominant directions (degrees, 0–180) of the lines items are laid along."""
    if len(xy) < 3:
        return []
    tree = cKDTree(xy)
    _, idx = tree.query(xy, k=2)
    v = xy[idx[:, 1]] - xy
    ang = np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 180.0
    hist, edges = np.histogram(ang, bins=90, range=(0.0, 180.0))
    smooth = hist + np.roll(hist, 1) + np.roll(hist, -1)  # circular
    order = np.argsort(smooth)[::-1]
    out: list[float] = []
    for i in order:
        a = float((edges[i] + edges[i + 1]) / 2)
        if all(min(abs(a - b), 180 - abs(a - b)) > 6 for b in out):
            out.append(a)
        if len(out) == peaks:
            break
    return out


def _peaks(
    groups: list[tuple[np.ndarray, cKDTree, np.ndarray]], radius: float, cell: float, k: int
) -> list[tuple[float, np.ndarray]]:
    """The ``k`` most-voted offsets between recorded and found positions within ``radius``.

    A Hough-style accumulator: true pairs pile up on one offset, wrong pairs spread.
    Rows are self-similar (a row shifted by one spacing still matches most of
    itself, and a neighbouring minefield of the same design matches too), so
    several peaks are kept and judged later on how well they explain the evidence.
    """
    offsets = []
    for rec, found_tree, found in groups:  # one group per item type: AV votes only with AV
        pairs = found_tree.query_ball_point(rec, r=radius)
        counts = np.fromiter((len(p) for p in pairs), dtype=int, count=len(pairs))
        if counts.sum() == 0:
            continue
        ri = np.repeat(np.arange(len(rec)), counts)
        fi = np.concatenate([np.asarray(p, dtype=int) for p in pairs if p])
        offsets.append(found[fi] - rec[ri])
    if not offsets:
        return []
    off = np.vstack(offsets)
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


ANCHOR_WEIGHT = 3.0
#: What a recorded row costs a reading when clearance crossed it and found none of its mines (see ``_explains``).
INVENTED_ROW_PENALTY = 3.0


@dataclass
class _Evidence:
    rec: np.ndarray
    fnd: np.ndarray
    tol: np.ndarray
    rtype: np.ndarray | None
    ftype: np.ndarray | None
    center: np.ndarray
    allow_scale: bool
    checked: BaseGeometry | None  # ground cleared: a mine moved there but not found is evidence against
    anchors: np.ndarray | None = None  # recorded mines at the ends of their rows
    rows: np.ndarray | None = None  # which recorded row each mine belongs to
    _outward: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, init=False, repr=False)
    _ftree: cKDTree | None = field(default=None, init=False, repr=False)

    def outward(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row ends: their indices, the unit vector pointing out of the row, and the spacing at the end."""
        if self._outward is None:
            ends = np.empty(0, int) if self.anchors is None else np.flatnonzero(self.anchors)
            out = np.zeros((len(ends), 2))
            spacing = np.zeros(len(ends))
            for k, i in enumerate(ends):
                same = np.flatnonzero(self.rows == self.rows[i]) if self.rows is not None else np.arange(len(self.rec))
                same = same[same != i]
                if len(same) == 0:
                    continue
                d = np.hypot(*(self.rec[same] - self.rec[i]).T)
                j = same[int(np.argmin(d))]  # the neighbour inside the row
                spacing[k] = float(d.min())
                out[k] = (self.rec[i] - self.rec[j]) / max(spacing[k], 1e-9)
            self._outward = (ends, out, spacing)
        return self._outward

    def real_ends(self, transform: Transform, rec_idx: np.ndarray, fnd_idx: np.ndarray) -> np.ndarray:
        """Of matched pairs (recorded, found), which are a recorded row end whose found item also ends a row.

        A record draws each row between its two ends; the mines in between are spread from the
        recorded count, which is often wrong. A recorded row end matched to a find that has
        another find of its type one spacing further out is the middle of a real row, not its
        end: a coincidence of spacing, no evidence of where the record lies along its rows.
        """
        ends, out, spacing = self.outward()
        if len(ends) == 0 or len(rec_idx) == 0:
            return np.zeros(len(rec_idx), dtype=bool)
        pos = np.searchsorted(ends, rec_idx).clip(0, len(ends) - 1)
        is_end = (ends[pos] == rec_idx) & (spacing[pos] > 0)
        if not is_end.any():
            return is_end
        if self._ftree is None:
            self._ftree = cKDTree(self.fnd)
        k = np.flatnonzero(is_end)
        u = out[pos[k]] @ transform.rotation.T
        s = spacing[pos[k]] * transform.scale
        f = self.fnd[fnd_idx[k]]
        probe = f + u * s[:, None]
        near = self._ftree.query_ball_point(probe, r=self.tol[rec_idx[k]])
        for q, (kk, cand) in enumerate(zip(k, near, strict=True)):
            cand = [c for c in cand if c != fnd_idx[kk]]
            if self.ftype is not None and self.rtype is not None:
                cand = [c for c in cand if self.ftype[c] == self.rtype[rec_idx[kk]]]
            # further out than the end's own find by at least half a spacing: the row goes on
            if any(float((self.fnd[c] - f[q]) @ u[q]) > 0.5 * s[q] for c in cand):
                is_end[kk] = False
        return is_end

    def anchor_hits(self, transform: Transform, m: Matching) -> int:
        return int(self.real_ends(transform, m.recorded, m.found).sum())

    def match(self, transform: Transform, gate: float = 1.0) -> Matching:
        return match_typed(transform.apply(self.rec), self.fnd, self.tol * gate, self.rtype, self.ftype)


def _explains(transform: Transform, ev: _Evidence) -> tuple[float, Matching]:
    """How well a candidate explains the evidence, both ways.

    +1 for each recorded mine matched to a find of its type; −½ for each find
    inside the moved record's footprint that the record does not show (a
    neighbouring minefield of the same design is a superset, not a match); −½
    for each moved mine that lands in cleared ground where nothing was found, but at
    most ``INVENTED_ROW_PENALTY`` for a recorded row none of whose mines was found (records
    invent whole rows, and since route clearance cuts long corridors across minefields an
    invented row of 60 mines often lies in cleared ground: counted per mine it outweighs
    the real rows found, and a bigger minefield of the same design elsewhere wins); a
    small prior for shorter shifts breaks exact ties.
    """
    moved = transform.apply(ev.rec)
    m = ev.match(transform)
    # finds in and just around the moved record that it does not show: a record
    # describes its whole minefield, so a bigger field of the same design is no match
    unexplained = _unexplained(moved, ev)
    missing = 0.0
    if ev.checked is not None:
        unmatched = np.setdiff1d(np.arange(len(moved)), m.recorded)
        empty = unmatched[shapely.contains_xy(ev.checked, moved[unmatched, 0], moved[unmatched, 1])]
        missing = 0.5 * len(empty)
        if ev.rows is not None and len(empty):
            # records invent whole rows: a recorded row of which nothing was found, though clearance
            # crossed it, is one error of the record (one invented row), not one per mine drawn on it
            hit = np.unique(ev.rows[m.recorded])
            rows, per_row = np.unique(ev.rows[empty], return_counts=True)
            lone = ~np.isin(rows, hit)
            missing -= float((0.5 * per_row[lone] - np.minimum(0.5 * per_row[lone], INVENTED_ROW_PENALTY)).sum())
    # row ends are drawn from the record's own turning points; with a misstated mine count the
    # middle of a row fits many places along it, its ends fit one
    bonus = ANCHOR_WEIGHT * ev.anchor_hits(transform, m)
    return len(m) + bonus - 1.0 * unexplained - missing - transform.shift_m / 1000.0, m


def _unexplained(moved: np.ndarray, ev: _Evidence) -> int:
    """Finds in and just around the moved record (30 m) farther than 2.5 tolerances from any of its mines."""
    zone = shapely.MultiPoint(moved).convex_hull.buffer(30.0)
    near = ev.fnd[shapely.contains_xy(zone, ev.fnd[:, 0], ev.fnd[:, 1])]
    if not len(near):
        return 0
    d, _ = cKDTree(moved).query(near)
    return int((d > 2.5 * float(ev.tol.max())).sum())


def _refine(transform: Transform, ev: _Evidence) -> Transform | None:
    """Trimmed ICP with one-to-one typed matching, the gate narrowing to the tolerance."""
    for gate in (3.0, 2.0, 1.5, 1.0, 1.0):
        m = ev.match(transform, gate)
        if len(m) < 3:
            return None
        transform = fit_similarity(ev.rec[m.recorded], ev.fnd[m.found], ev.center, allow_scale=ev.allow_scale)
    return transform


def _polish(
    best: tuple[float, Transform, Matching], ev: _Evidence, rows: np.ndarray, frames: np.ndarray
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
    sc, m = _explains(transform, ev)
    if len(m) < 0.8 * len(best[2]):  # the refit ran off (it should only settle the rows on their lines)
        return best
    return (sc, transform, m)


def _slide_along_rows(
    best: tuple[float, Transform, Matching], ev: _Evidence, rec_dirs: list[float]
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
        sc, m = _explains(cand, ev)
        tried.append((sc, cand, m))
    # refine the few best slides, not only the first: trimmed ICP from neighbouring slides can settle
    # in different places (a wrong count puts every recorded mine a little off its real one)
    for _, cand, _ in sorted(tried[1:], key=lambda c: -c[0])[:3]:
        refined = _refine(cand, ev)
        if refined is None:
            continue
        sc, m = _explains(refined, ev)
        tried.append((sc, refined, m))
        if sc > best[0] + 1e-9:
            best = (sc, refined, m)
    tie = any(
        # a slide shorter than the tolerance is within the stated accuracy, not an ambiguity
        sc >= best[0] - 0.5 and np.hypot(*np.subtract(tr.shift, best[1].shift)) > max(0.5 * spacing, ev.tol.max())
        for sc, tr, _ in tried
    )
    return best, tie


def _ends_checked(transform: Transform, ev: _Evidence, m: Matching) -> int | None:
    """How many matched row ends have cleared ground one mine spacing beyond them, with nothing found there.

    Rows are periodic, so the middle of a row fits many places along it; only a row
    end that was found, with the ground past it cleared and empty, fixes the position
    along the rows. None when the record does not say which mines end its rows.
    """
    if ev.anchors is None or ev.checked is None or len(ev.rec) < 3:
        return None
    real = ev.real_ends(transform, m.recorded, m.found)
    if not real.any():
        return 0
    ends, out, spacing = ev.outward()
    pos = np.searchsorted(ends, m.recorded[real])
    beyond = transform.apply(ev.rec[ends[pos]] + out[pos] * spacing[pos, None])
    return int(shapely.contains_xy(ev.checked, beyond[:, 0], beyond[:, 1]).sum())


ACROSS_ROWS_TIE = 0.9


def _line_centres(offsets: np.ndarray, gap: float = 3.0, min_items: int = 1) -> np.ndarray:
    """Centres of the groups of offsets (across the rows) closer than ``gap`` to the next: one per row."""
    if len(offsets) == 0:
        return np.empty(0)
    proj = np.sort(offsets)
    groups = np.split(proj, np.flatnonzero(np.diff(proj) > gap) + 1)
    return np.array([g.mean() for g in groups if len(g) >= min_items])


def _across_rows_tie(best: tuple[float, Transform, Matching], ev: _Evidence, rec_dirs: list[float]) -> bool:
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
    rec_c = _line_centres(moved @ moved_normal)
    zone = shapely.MultiPoint(moved).convex_hull.buffer(30.0)  # the footprint _explains looks at
    near = ev.fnd[shapely.contains_xy(zone, ev.fnd[:, 0], ev.fnd[:, 1])]
    fnd_c = _line_centres(near @ moved_normal, min_items=3)
    reach = float(ev.tol.max())
    offsets = {round(float(ci - cj), 1) for ci in rec_c for cj in np.concatenate([rec_c, fnd_c])}
    empty_best, unexplained_best = _empty_in_cleared(t, ev, best[2]), _unexplained(moved, ev)
    for off in sorted((o for o in offsets if abs(o) > reach), key=abs):
        shift = np.asarray(t.shift) - off * moved_normal
        cand = Transform(t.center, (float(shift[0]), float(shift[1])), t.rotation_deg, t.scale)
        sc, mc = _explains(cand, ev)
        if sc >= ACROSS_ROWS_TIE * score:
            return True
        # a reading rows over that nothing contradicts more than the best (no more recorded mines moved onto
        # cleared, empty ground, no more finds beside it that it does not show) and that matches a good share:
        # it only puts more of the record on ground nobody cleared. That is what a record that omits a row
        # looks like when clearance stops at the last mined row: the evidence cannot tell the two apart
        if (
            len(mc) >= ACROSS_ROWS_LIVE * len(best[2])
            and _empty_in_cleared(cand, ev, mc) <= empty_best
            and _unexplained(cand.apply(ev.rec), ev) <= unexplained_best
        ):
            return True
    return False


#: Share of the best reading's matches that an uncontradicted reading rows over must match to be a live reading.
ACROSS_ROWS_LIVE = 0.5


def _empty_in_cleared(transform: Transform, ev: _Evidence, m: Matching) -> int:
    """Recorded mines the transform moves into cleared ground where nothing was found."""
    if ev.checked is None:
        return 0
    moved = transform.apply(ev.rec)
    unmatched = np.setdiff1d(np.arange(len(moved)), m.recorded)
    return int(shapely.contains_xy(ev.checked, moved[unmatched, 0], moved[unmatched, 1]).sum())


#: Recorded mines that vote on the offset (a random sample of bigger records). Few voters from a record
#: with invented rows leave its own minefield's peak below the peaks of a bigger neighbouring one.
VOTERS = 300


def _crossing_turn(
    transform: Transform, ev: _Evidence, m: Matching, rows: np.ndarray, frames: np.ndarray
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


def _turned(transform: Transform, ev: _Evidence, m: Matching, turn: float) -> Transform:
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


def _onto_rows(transform: Transform, ev: _Evidence, rows: np.ndarray, frames: np.ndarray) -> list[Transform]:
    """``transform`` moved across its rows onto each row of finds its matched mines lie beside."""
    m = ev.match(transform)
    if len(m) < 3:
        return []
    u = frames[m.recorded] @ transform.rotation.T
    n = np.column_stack([-u[:, 1], u[:, 0]])
    across = np.einsum("ki,ki->k", n, ev.fnd[m.found] - transform.apply(ev.rec[m.recorded]))
    normal = n.mean(axis=0) / max(float(np.hypot(*n.mean(axis=0))), 1e-9)
    out = []
    for off in _line_centres(across, min_items=3):
        shift = np.asarray(transform.shift) + off * normal
        out.append(replace(transform, shift=(float(shift[0]), float(shift[1]))))
    return out


def _distinct(
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


#: Corrected mines of a recorded row that must lie in cleared ground, none found, for the row to count as
#: checked and empty: one or two may be a row drawn a little too long into the cleared edge.
ROW_CHECKED_MINES = 3


def rows_checked(transform: Transform, ev: _Evidence, m: Matching, rows: np.ndarray) -> int | None:
    """Recorded rows that clearance checked after the correction: matched, or crossed by cleared ground.

    The rows of a record are its independent observations (each is drawn from its own two ends,
    see ``fit_rows``), so whether a correction is reliable is also a question about rows: a reading
    that leaves one of three checked rows empty has been contradicted on a third of the record,
    however many mines the other two rows matched. Counts a row as checked when it has a matched
    find or at least ``ROW_CHECKED_MINES`` of its corrected mines lie in cleared ground.
    """
    if ev.checked is None:
        return None
    moved = transform.apply(ev.rec)
    inside = shapely.contains_xy(ev.checked, moved[:, 0], moved[:, 1])
    matched = set(np.unique(rows[m.recorded]).tolist())
    ids, counts = np.unique(rows[inside], return_counts=True)
    crossed = {int(r) for r, c in zip(ids, counts, strict=True) if c >= ROW_CHECKED_MINES}
    return len(matched | crossed)


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
    ev = _Evidence(
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
    rec_dirs = _row_directions(rec, peaks=1)
    idx = tree.query_ball_point(center, r=max_shift_m + 200.0)
    near = fnd[idx] if idx else fnd
    for fd in _row_directions(near, peaks=4):
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
        for votes, off in _peaks(groups, max_shift_m, cell=4.0, k=4):
            candidates.append((votes, ang, off))
    candidates.sort(key=lambda c: -c[0])
    starts = [Transform((center[0], center[1]), (0.0, 0.0), 0.0)]
    starts += [Transform((center[0], center[1]), (float(o[0]), float(o[1])), a) for _, a, o in _distinct(candidates)]
    scored: list[tuple[float, Transform, Matching]] = []
    own: tuple[float, Transform, Matching] | None = None  # grown from the record's own position
    for k, start in enumerate(starts):
        refined = _refine(start, ev)
        if refined is None:
            continue
        score, m = _explains(refined, ev)
        scored.append((score, refined, m))
        if k == 0:
            own = (score, refined, m)
    if not scored:
        return None
    best = max(scored, key=lambda c: c[0])
    elsewhere = own is not None and np.hypot(*np.subtract(best[1].shift, own[1].shift)) > 3 * tol.max()
    if own is not None and elsewhere and len(own[2]) >= min_inliers and own[0] >= 0.5 * best[0]:
        best = own
    best, along_rows_tie = _slide_along_rows(best, ev, rec_dirs)
    rows_of = ev.rows if ev.rows is not None else row_groups(rec, rec_dirs[0] if rec_dirs else 0.0)
    frames = row_frames(rec, rows_of, rec_dirs[0] if rec_dirs else 0.0)
    best = _polish(best, ev, rows_of, frames)
    turn = _crossing_turn(best[1], ev, best[2], rows_of, frames)
    if turn is not None:
        # the rows were matched across the rows of finds (see _crossing_turn): turn them onto them and refit
        # turned about the middle of the diagonal, the rows lie between the two rows of finds they
        # crossed: each of those is a reading, tried with the rows laid on it
        for cand in _onto_rows(_turned(best[1], ev, best[2], turn), ev, rows_of, frames):
            straightened = _polish((-np.inf, cand, ev.match(cand)), ev, rows_of, frames)
            if _crossing_turn(straightened[1], ev, straightened[2], rows_of, frames) is None and (
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
        or _across_rows_tie(best, ev, rec_dirs)
        or any(
            sc >= 0.8 * score and len(best_finds & set(mm.found.tolist())) < 0.5 * len(best_finds)
            for sc, _, mm in scored
            if mm is not m
        )
    )
    ends_checked = _ends_checked(transform, ev, m)
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
