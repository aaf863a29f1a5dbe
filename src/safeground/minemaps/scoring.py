"""How well a reading of a record (a candidate correction) explains what clearance found.

The evidence is the recorded mines, the finds around them and the ground cleared: a moved record
earns a point for each recorded mine matched to a find of its type, and loses for finds beside it
that it does not show and for mines it moves onto cleared ground where nothing was found. The row
ends carry extra weight (the middle of a row fits many places along it, its ends fit one). The
search (``search``, ``alignment``) only compares readings by this score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from safeground.minemaps.matching import Matching, match_typed
from safeground.minemaps.transform import Transform

ANCHOR_WEIGHT = 3.0
#: What a recorded row costs a reading when clearance crossed it and found none of its mines (see ``explains``).
INVENTED_ROW_PENALTY = 3.0


@dataclass
class ClearanceEvidence:
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
    _matches: dict[tuple[float, ...], Matching] = field(default_factory=dict, init=False, repr=False)

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
        """The one-to-one typed matching of the record moved by ``transform``, within ``gate`` × tolerance.

        The search asks again for readings it has matched already (a slide scored before it is refined, a
        start that refines onto another's solution): 526 of the demo's 3,466 calls. The matching of the same
        transform and gate is the same, so it is kept for this record's search (its arrays are never changed
        in place)."""
        key = (*transform.center, *transform.shift, transform.rotation_deg, transform.scale, gate)
        found = self._matches.get(key)
        if found is None:
            found = self._matches[key] = match_typed(
                transform.apply(self.rec), self.fnd, self.tol * gate, self.rtype, self.ftype
            )
        return found


def explains(transform: Transform, ev: ClearanceEvidence) -> tuple[float, Matching]:
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
    unexplained = count_unexplained(moved, ev)
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


def count_unexplained(moved: np.ndarray, ev: ClearanceEvidence) -> int:
    """Finds in and just around the moved record (30 m) farther than 2.5 tolerances from any of its mines."""
    zone = shapely.MultiPoint(moved).convex_hull.buffer(30.0)
    near = ev.fnd[shapely.contains_xy(zone, ev.fnd[:, 0], ev.fnd[:, 1])]
    if not len(near):
        return 0
    d, _ = cKDTree(moved).query(near)
    return int((d > 2.5 * float(ev.tol.max())).sum())


def empty_in_cleared(transform: Transform, ev: ClearanceEvidence, m: Matching) -> int:
    """Recorded mines the transform moves into cleared ground where nothing was found."""
    if ev.checked is None:
        return 0
    moved = transform.apply(ev.rec)
    unmatched = np.setdiff1d(np.arange(len(moved)), m.recorded)
    return int(shapely.contains_xy(ev.checked, moved[unmatched, 0], moved[unmatched, 1]).sum())


def count_ends_checked(transform: Transform, ev: ClearanceEvidence, m: Matching) -> int | None:
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


#: Corrected mines of a recorded row that must lie in cleared ground, none found, for the row to count as
#: checked and empty: one or two may be a row drawn a little too long into the cleared edge.
ROW_CHECKED_MINES = 3


def rows_checked(transform: Transform, ev: ClearanceEvidence, m: Matching, rows: np.ndarray) -> int | None:
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
