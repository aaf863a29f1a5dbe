"""Carry the verdict on each minefield record into the hazard areas, as evidence and as proposals.

IMAS 07.11 classifies land by its evidence: a suspected hazardous area (SHA)
rests on indirect evidence, a confirmed one (CHA) on direct evidence. A
minefield record enters a hazard area's evidence as "a record says so"; once
clearance has checked the record (``safeground maps accuracy --save``), what it
is worth is known, and *where* it is worth it. A record graded A says mines
remain where it put them; a record graded B says they remain at its *corrected*
positions (layer ``corrected_mine_positions``), and nothing about the ground at
its recorded place: an area drawn on that place has lost its reason (issue 13:
two SHAs drawn 340 m and 441 m from the real minefields were proposed for
confirmation over empty ground). So direct evidence is placed: it counts for a
hazard area only where the record's not-yet-cleared mines lie inside it.

Per record, its latest assessment becomes one evidence item on every open hazard
area that cites it or holds its remaining mines: direct where those mines lie
inside, indirect otherwise (saying why). From the same places come proposals,
each with its reason in words:

* **confirm** an SHA (→ CHA) that holds remaining mines of a record graded A or B;
* **new SHA** over remaining mines of such a record that no open hazard area covers;
* **cancel** an area, or **reduce** it to the part around the records' remaining
  mines, when what is left rested only on the record's place and nothing else
  supports it: no other evidence item (accident, informant, finds, front line...),
  no find inside, no other record still placing mines there.

Nothing changes unless asked (``apply_plan``): evidence items always, and each
kind of decision only with its own flag. Every changed hazard area gets a new
version, the old one goes to history, all in one transaction. Re-running
replaces the assessment's own item instead of adding another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from safeground.geometry.projection import project
from safeground.model import Activity, EOItem, HazardArea, MinefieldRecord, RecordAssessment
from safeground.model.hazards import Evidence, StatusChange
from safeground.model.minemaps import MATCH_TOLERANCE_M, CorrectedMinePosition
from safeground.model.same import BOOKKEEPING, same_record
from safeground.model.vocab import (
    ActivityType,
    Contamination,
    EOStatus,
    EOType,
    EvidenceKind,
    HazardClass,
    HazardStatus,
)
from safeground.storage.base import Store, metric_epsg

#: how deep defensive minefield belts reach from a former line of contact (m): ground this close to it is
#: suspected whatever a displaced record says, so no record assessment alone cancels or reduces it
FRONT_BELT_M = 2500.0

#: the ``source`` of evidence items written here; items with another source are never touched
SOURCE = "minefield record assessment"
#: how far around a record's mines the ground is suspected (hazard areas are drawn 50 m round a perimeter)
PLACE_MARGIN_M = 50.0
#: a reduction releasing less than this share of an area, or less than ``MIN_RELEASE_M2``, is not proposed
MIN_RELEASE_SHARE = 0.1
MIN_RELEASE_M2 = 400.0


class Action(StrEnum):
    CONFIRM = "confirm as CHA"
    NEW_SHA = "new SHA"
    CANCEL = "cancel"
    REDUCE = "reduce"


@dataclass
class RecordPlace:
    """Where, by its latest assessment, a record says mines remain (metric coordinates).

    ``remaining_xy``: for grade A the recorded positions outside checked ground, for grade B the
    corrected positions saved with the assessment; empty for C and U, whose positions are unproven.
    Only mines on rows of which clearance found at least one mine count: a record may show rows that
    were planned and never laid (on seed 99 two invented rows of a record graded B put 78 mines
    100 m from any real one), and nothing but a find tells such a row from one not yet cleared.
    The others are ``unverified_xy``: the record's word, indirect evidence.
    ``place``: the ground the record justifies suspecting now: around its (corrected) perimeter when
    mines remain, nothing when an A or B record has none left; for C, U and unassessed records the
    recorded perimeter, since a record nobody could check still says so.
    """

    record_uid: str
    assessment: RecordAssessment | None
    remaining_xy: np.ndarray
    types: np.ndarray  # the type of each remaining mine
    place: BaseGeometry
    unverified_xy: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))

    @property
    def direct(self) -> bool:
        return self.assessment is not None and self.assessment.grade in ("A", "B")

    @property
    def shift_m(self) -> float:
        a = self.assessment
        if a is None or a.grade != "B" or a.shift_east_m is None or a.shift_north_m is None:
            return 0.0
        return float(np.hypot(a.shift_east_m, a.shift_north_m))


@dataclass
class EvidenceUpdate:
    """What the latest assessment of one record says about one hazard area."""

    hazard: HazardArea
    record_uid: str
    assessment: RecordAssessment
    item: Evidence
    changed: bool  # False when the hazard already carries exactly this item
    suggestion: str  # the proposals about this hazard, in words ("" when its classification stands)
    remaining_inside: int = 0  # remaining mines of the record inside the hazard area


@dataclass
class Proposal:
    """One decision the evidence supports, for a person to take (``apply_plan``)."""

    action: Action
    hazard_uid: str | None  # None for a new SHA
    record_uids: list[str]
    reason: str
    geometry: BaseGeometry  # WGS84: the area confirmed, the new SHA, or the ground released
    area_m2: float  # of ``geometry``
    keep: BaseGeometry | None = None  # WGS84, for a reduction: what stays suspected
    keep_area_m2: float = 0.0
    contamination: Contamination | None = None  # for a new SHA
    as_of: date = field(default_factory=date.today)  # the latest assessment it rests on

    def words(self) -> str:
        return f"{self.action.value}: {self.reason}"


@dataclass
class EvidencePlan:
    updates: list[EvidenceUpdate] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)


def latest_assessments(store: Store) -> dict[str, RecordAssessment]:
    """Per minefield record, its most recent assessment (latest as-of date, then latest saved)."""
    best: dict[str, RecordAssessment] = {}
    for a in store.find(RecordAssessment):
        cur = best.get(a.minefield_record_uid)
        if cur is None or (a.as_of, a.uid) > (cur.as_of, cur.uid):
            best[a.minefield_record_uid] = a
    return best


def _contamination_of(types: np.ndarray) -> Contamination:
    kinds = {str(t) for t in types}
    if kinds and kinds <= {"av"}:
        return Contamination.AV_MINES
    if "av" in kinds:
        return Contamination.MIXED
    return Contamination.AP_MINES


def _fit(src: np.ndarray, dst: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The similarity transform taking ``src`` to ``dst`` (least squares), as a function of points."""
    ps, qs = src.mean(axis=0), dst.mean(axis=0)
    p, q = src - ps, dst - qs
    if len(src) < 2 or not (p**2).sum():
        return lambda xy: np.asarray(xy) + (qs - ps)
    ang = np.arctan2((p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum(), (p * q).sum())
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    scale = float((q * (p @ rot.T)).sum() / (p**2).sum())
    return lambda xy: scale * (np.asarray(xy) - ps) @ rot.T + qs


def _rows(labels: np.ndarray) -> np.ndarray:
    """Row labels look like ``MF0004-R1#12``: the part before ``#`` is the row (no label: one row)."""
    return np.array([str(x).rsplit("#", 1)[0] if x else "" for x in labels])


def _verified_rows(xy: np.ndarray, types: np.ndarray, rows: np.ndarray, finds: dict[str, object]) -> set[str]:
    """The rows of which at least one mine, where the record (corrected) puts it, matches a find of its type."""
    out: set[str] = set()
    for t in np.unique(types):
        tree = finds.get(str(t))
        if tree is None:
            continue
        sel = types == t
        d, _ = tree.query(xy[sel], distance_upper_bound=MATCH_TOLERANCE_M.get(EOType(t), 5.0))  # type: ignore[attr-defined]
        out |= set(rows[sel][np.isfinite(d)])
    return out


def record_places(store: Store, epsg: int, latest: dict[str, RecordAssessment]) -> dict[str, RecordPlace]:
    """Every minefield record's place (``RecordPlace``), from its latest assessment."""
    from scipy.spatial import cKDTree

    recs = store.read_frame(MinefieldRecord)
    if len(recs) == 0:
        return {}
    recs = recs.to_crs(epsg)
    eo = store.read_frame(EOItem)
    eo = eo.to_crs(epsg) if len(eo) else eo
    recorded = eo[eo["status"] == EOStatus.RECORDED.value] if len(eo) else eo
    found = eo[eo["status"] == EOStatus.FOUND.value] if len(eo) else eo
    fxy = found.get_coordinates().to_numpy() if len(found) else np.empty((0, 2))
    ftype = found["eo_type"].to_numpy().astype(str) if len(found) else np.empty(0, dtype=str)
    finds: dict[str, object] = {str(t): cKDTree(fxy[ftype == t]) for t in np.unique(ftype)}
    cmp_ = store.read_frame(CorrectedMinePosition)
    cmp_ = cmp_.to_crs(epsg) if len(cmp_) else cmp_
    act = store.read_frame(Activity)
    # ground someone has physically checked: what a record put there is no longer there
    act = act[act["activity_type"].isin([ActivityType.CLEARANCE.value, ActivityType.TS.value])] if len(act) else act
    # survey polygons projected may touch themselves: repair before the union, never drop one
    checked = (
        shapely.union_all(shapely.make_valid(act.to_crs(epsg).geometry.to_numpy())) if len(act) else shapely.Polygon()
    )
    shapely.prepare(checked)
    out: dict[str, RecordPlace] = {}
    for r in recs.itertuples(index=False):
        a = latest.get(r.uid)
        mine = recorded[recorded["minefield_record_uid"] == r.uid] if len(recorded) else recorded
        xy, types, rows = np.empty((0, 2)), np.empty(0, dtype=str), np.empty(0, dtype=str)
        verified: set[str] = set()
        if a is not None and a.grade in ("A", "B") and len(mine):
            m_xy, m_types = mine.get_coordinates().to_numpy(), mine["eo_type"].to_numpy().astype(str)
            m_rows = _rows(mine["row_label"].to_numpy())
            if a.grade == "B":  # the mines where the correction puts them: fitted on the stored corrected ones
                sel = cmp_[cmp_["assessment_uid"] == a.uid] if len(cmp_) else cmp_
                at = {u: i for i, u in enumerate(mine["uid"].astype(str))}
                idx = np.array([at.get(str(u), -1) for u in sel["recorded_item_uid"]] if len(sel) else [], dtype=int)
                ok = idx >= 0
                if ok.any():
                    c_xy = sel.get_coordinates().to_numpy()[ok]
                    moved = _fit(m_xy[idx[ok]], c_xy)(m_xy)
                    verified = _verified_rows(moved, m_types, m_rows, finds)
                    xy, types, rows = c_xy, m_types[idx[ok]], m_rows[idx[ok]]
            else:
                verified = _verified_rows(m_xy, m_types, m_rows, finds)
                xy, types, rows = m_xy, m_types, m_rows
        if len(xy):
            left = ~_inside(checked, xy)
            xy, types, rows = xy[left], types[left], rows[left]
        on_found_row = np.isin(rows, list(verified))
        if a is None or a.grade in ("C", "U"):
            place = r.geometry.buffer(PLACE_MARGIN_M)
        elif len(xy):
            perimeter = project(a.geometry, 4326, epsg)  # for grade B the corrected perimeter
            mines = shapely.union_all(shapely.buffer(shapely.points(xy), PLACE_MARGIN_M))
            place = shapely.union(perimeter.buffer(PLACE_MARGIN_M), mines)
        else:
            place = shapely.Polygon()
        out[r.uid] = RecordPlace(
            r.uid, a, xy[on_found_row], types[on_found_row], place, unverified_xy=xy[~on_found_row]
        )
    return out


def _found(a: RecordAssessment) -> str:
    if a.precision is not None:
        return (
            f"{a.confirmed_mines} of {a.verified_mines} recorded mines in cleared ground found where recorded "
            f"({a.precision:.0%}, 95 % CI {a.precision_ci_low or 0:.0%}–{a.precision_ci_high or 0:.0%})"
        )
    return "none of its recorded mines lies, as recorded, in cleared ground"


def _where(p: RecordPlace) -> str:
    """Where a record graded A or B puts its remaining mines, in words."""
    if p.assessment is not None and p.assessment.grade == "B":
        return f"at its corrected positions (record displaced by {p.shift_m:.0f} m)"
    return "where it recorded them"


def _item(p: RecordPlace, inside: int, elsewhere: str, unverified: int = 0) -> Evidence:
    """The evidence item for one hazard: direct only where the record's remaining mines lie inside it.

    ``inside``: its remaining mines on rows clearance verified that lie in the area; ``unverified``:
    those on rows of which clearance found no mine (indirect: the record says so, nothing more).
    """
    a = p.assessment
    assert a is not None
    found = _found(a)
    if a.grade == "B":
        found += "; corrected positions of its remaining mines: layer corrected_mine_positions"
    if p.direct and inside:
        kind = EvidenceKind.DIRECT
        found += f"; {inside} of its mines not yet cleared lie inside this area, {_where(p)}"
    elif p.direct and unverified:
        kind = EvidenceKind.INDIRECT
        found += (
            f"; {unverified} of its mines not yet cleared lie inside this area {_where(p)}, but only on rows of "
            "which clearance found no mine: the record's word, indirect evidence"
        )
    elif p.direct:
        kind = EvidenceKind.INDIRECT
        found += (
            f"; none of its mines not yet cleared lies in this area {_where(p)} ({elsewhere}): "
            "it is no evidence of mines here"
        )
    else:
        kind = EvidenceKind.INDIRECT
    return Evidence(
        kind=kind,
        description=f"minefield record {a.minefield_record_uid} graded {a.grade} ({a.uid}): {found}. {a.grade_reason}",
        source=SOURCE,
        date=a.as_of,
        reference=a.minefield_record_uid,
    )


def _is_record_item(e: Evidence, cited: list[str]) -> bool:
    return e.source == SOURCE or (e.reference is not None and (e.reference in cited or e.reference.startswith("MFR-")))


def _cited_records(h: HazardArea) -> list[str]:
    cited = list(h.minefield_record_uids)
    for e in h.evidence:
        if e.reference and e.reference.startswith("MFR-") and e.reference not in cited:
            cited.append(e.reference)
    return cited


def _with_items(evidence: list[Evidence], items: list[Evidence]) -> list[Evidence]:
    """Evidence with these assessment items in place of any earlier ones about the same records."""
    refs = {i.reference for i in items}
    return [e for e in evidence if not (e.source == SOURCE and e.reference in refs)] + items


def _inside(geom: BaseGeometry, xy: np.ndarray) -> np.ndarray:
    if geom.is_empty or len(xy) == 0:
        return np.zeros(len(xy), dtype=bool)
    return shapely.contains_xy(geom, xy[:, 0], xy[:, 1])


class _Context:
    """What every hazard's proposals are weighed against, read once (metric coordinates)."""

    def __init__(self, store: Store) -> None:
        self.epsg = metric_epsg(store, store.read_frame(HazardArea))  # metres: places are 50 m round mines
        self.latest = latest_assessments(store)
        self.places = record_places(store, self.epsg, self.latest) if self.latest else {}
        self.hazards = [h for h in store.find(HazardArea) if h.status != HazardStatus.CLOSED]
        self.geoms = {h.uid: project(h.geometry, 4326, self.epsg) for h in self.hazards}
        eo = store.read_frame(EOItem)
        found = eo[eo["status"] == EOStatus.FOUND.value] if len(eo) else eo
        self.finds = found.to_crs(self.epsg).get_coordinates().to_numpy() if len(found) else np.empty((0, 2))
        from safeground.model import Accident

        acc = store.read_frame(Accident)
        self.accidents = acc.to_crs(self.epsg).get_coordinates().to_numpy() if len(acc) else np.empty((0, 2))
        self.open_union = shapely.union_all(list(self.geoms.values())) if self.geoms else shapely.Polygon()
        from safeground.model import FrontLine

        front = store.read_frame(FrontLine)
        self.front_belt = front.to_crs(self.epsg).buffer(FRONT_BELT_M).union_all() if len(front) else shapely.Polygon()

    def holders_of(self, p: RecordPlace) -> list[str]:
        return [uid for uid, g in self.geoms.items() if _inside(g, p.remaining_xy).any()]

    def elsewhere(self, p: RecordPlace) -> str:
        """Where the remaining mines of a record graded A or B are, for the reason of an 'against' item."""
        if not len(p.remaining_xy):
            if len(p.unverified_xy):
                return (
                    f"its {len(p.unverified_xy)} mines not yet cleared lie on rows of which clearance found no mine"
                    " (the record's word only)"
                )
            return "every one of its mines lies in checked ground"
        held = self.holders_of(p)
        free = int((~_inside(self.open_union, p.remaining_xy)).sum())
        parts = [f"they lie in {', '.join(held)}"] if held else []
        if free:
            parts.append(f"{free} outside every open hazard area")
        return "; ".join(parts)

    def other_support(self, h: HazardArea, geom: BaseGeometry, cited: list[str]) -> list[str]:
        """Evidence for the area that does not come from minefield records: it keeps the area as it is."""
        why = [f"{e.description} ({e.source})" for e in h.evidence if not _is_record_item(e, cited)]
        shapely.prepare(geom)
        if n := int(_inside(geom, self.finds).sum()):
            why.append(f"{n} item(s) found inside")
        if n := int(_inside(geom, self.accidents).sum()):
            why.append(f"{n} accident(s) inside")
        if not self.front_belt.is_empty and geom.intersects(self.front_belt):
            why.append(f"within {FRONT_BELT_M / 1000:g} km of the former line of contact, where minefield belts lie")
        return why


def _metric_area(g: BaseGeometry) -> float:
    return float(g.area)


def plan(store: Store) -> EvidencePlan:
    """The evidence items every open hazard area should carry, and the decisions they support."""
    ctx = _Context(store)
    out = EvidencePlan()
    if not ctx.latest:
        return out
    direct = [p for p in ctx.places.values() if p.direct and len(p.remaining_xy)]
    for h in ctx.hazards:
        geom = ctx.geoms[h.uid]
        cited = _cited_records(h)
        inside = {p.record_uid: int(_inside(geom, p.remaining_xy).sum()) for p in direct}
        holders = [r for r, k in inside.items() if k]
        links = [r for r in dict.fromkeys([*cited, *holders]) if r in ctx.latest and r in ctx.places]
        proposals: list[Proposal] = []
        if h.classification == HazardClass.SHA and holders:
            reason = "; ".join(
                f"{inside[r]} mines of {r} not yet cleared lie inside, {_where(ctx.places[r])} "
                f"(graded {ctx.places[r].assessment.grade}: verified by clearance, direct evidence)"  # type: ignore[union-attr]
                for r in holders
            )
            proposals.append(Proposal(Action.CONFIRM, h.uid, holders, reason, h.geometry, _metric_area(geom)))
        checked = [r for r in cited if r in ctx.places and ctx.places[r].direct]
        if checked:
            proposals += _releases(ctx, h, geom, cited, holders, checked, inside)
        for p in proposals:
            p.as_of = max((ctx.latest[r].as_of for r in p.record_uids if r in ctx.latest), default=p.as_of)
        out.proposals += proposals
        words = " | ".join(p.words() for p in proposals)
        for r in links:
            place = ctx.places[r]
            item = _item(place, inside.get(r, 0), ctx.elsewhere(place), int(_inside(geom, place.unverified_xy).sum()))
            out.updates.append(
                EvidenceUpdate(h, r, ctx.latest[r], item, item not in h.evidence, words, inside.get(r, 0))
            )
    out.proposals += _new_areas(ctx, direct)
    return out


def _releases(
    ctx: _Context,
    h: HazardArea,
    geom: BaseGeometry,
    cited: list[str],
    holders: list[str],
    checked: list[str],
    inside: dict[str, int],
) -> list[Proposal]:
    """Cancel or reduce what only the recorded place of records checked by clearance (A, B) justified.

    What stays is the part of the area around the places where records still put mines (the corrected
    place of a record graded B, the recorded one of an A, C, U or unassessed record); the rest goes,
    unless anything else supports the area, which then stays whole: evidence without a place (an
    informant, an accident report) cannot say which part it covers.
    """
    if ctx.other_support(h, geom, cited):
        return []
    support = shapely.union_all([ctx.places[r].place for r in dict.fromkeys([*cited, *holders]) if r in ctx.places])
    kept = shapely.intersection(geom, support) if not support.is_empty else shapely.Polygon()
    released = shapely.difference(geom, kept) if not kept.is_empty else geom
    total, gone = _metric_area(geom), _metric_area(released)
    if gone < max(MIN_RELEASE_M2, MIN_RELEASE_SHARE * total):
        return []
    parts = []
    for r in checked:
        p = ctx.places[r]
        grade = p.assessment.grade  # type: ignore[union-attr]
        if inside.get(r):
            parts.append(
                f"{r} (graded {grade}) puts its {inside[r]} mines not yet cleared here {_where(p)}, in the part kept"
            )
        else:
            parts.append(
                f"{r} (graded {grade}) puts none of its mines not yet cleared here, {_where(p)}: {ctx.elsewhere(p)}"
            )
    why = "; ".join(parts) + "; no other evidence, no find and no accident in the area"
    if _metric_area(kept) < MIN_RELEASE_M2:
        return [Proposal(Action.CANCEL, h.uid, checked, why, h.geometry, total)]
    why += f"; keep the {_metric_area(kept):,.0f} m² around the mines records place here"
    return [
        Proposal(
            Action.REDUCE, h.uid, checked, why, project(released, ctx.epsg, 4326), gone,
            keep=project(kept, ctx.epsg, 4326), keep_area_m2=_metric_area(kept),
        )
    ]  # fmt: skip


def _new_areas(ctx: _Context, direct: list[RecordPlace]) -> list[Proposal]:
    """A new SHA over remaining mines of records graded A or B that no open hazard area covers."""
    out: list[Proposal] = []
    taken = ctx.open_union
    for p in direct:
        free = ~_inside(ctx.open_union, p.remaining_xy)
        if not free.any():
            continue
        xy = p.remaining_xy[free]
        already = [q for q in out if _inside(project(q.geometry, 4326, ctx.epsg), xy).any()]
        for q in already:
            q.record_uids.append(p.record_uid)
        xy = (
            xy[~_inside(shapely.union_all([project(q.geometry, 4326, ctx.epsg) for q in already]), xy)]
            if already
            else xy
        )
        if not len(xy):
            continue
        rest = shapely.difference(p.place, taken) if not taken.is_empty else p.place
        parts = [g for g in shapely.get_parts(rest) if _inside(g, xy).any()]
        if not parts:
            continue
        geom = shapely.union_all(parts)
        taken = shapely.union(taken, geom)
        reason = (
            f"{len(xy)} mines of {p.record_uid} not yet cleared lie outside every open hazard area, {_where(p)} "
            f"(graded {p.assessment.grade}: verified by clearance, direct evidence); survey them"  # type: ignore[union-attr]
        )
        out.append(
            Proposal(
                Action.NEW_SHA, None, [p.record_uid], reason, project(geom, ctx.epsg, 4326), _metric_area(geom),
                contamination=_contamination_of(p.types[free]), as_of=p.assessment.as_of,  # type: ignore[union-attr]
            )
        )  # fmt: skip
    return out


def plan_updates(store: Store) -> list[EvidenceUpdate]:
    """For every open hazard area citing an assessed record or holding its remaining mines: its evidence item."""
    return plan(store).updates


def apply_plan(
    store: Store,
    planned: EvidencePlan,
    *,
    confirm: bool = False,
    release: bool = False,
    create: bool = False,
    entered_by: str = "safeground",
) -> list[str]:
    """Write the evidence items, and only the decisions asked for, as new versions; returns the hazards changed.

    ``confirm``: SHA → CHA where proposed; ``release``: the proposed cancellations (status closed,
    nothing remaining) and reductions (the area becomes what is kept); ``create``: the proposed new SHAs.
    Each hazard is re-read inside the transaction, so a decision is taken on the stored version, and a
    confirmation only stands if the stored evidence is direct.
    """
    by_hazard: dict[str, list[EvidenceUpdate]] = {}
    for u in planned.updates:
        by_hazard.setdefault(u.hazard.uid, []).append(u)
    wanted = {Action.CONFIRM: confirm, Action.CANCEL: release, Action.REDUCE: release}
    decisions: dict[str, list[Proposal]] = {}
    for p in planned.proposals:
        if p.hazard_uid is not None and wanted.get(p.action):
            decisions.setdefault(p.hazard_uid, []).append(p)
    changed: list[str] = []
    with store.transaction():
        for uid in dict.fromkeys([*by_hazard, *decisions]):
            h = store.get(HazardArea, uid)  # the stored version, not the one planned from
            ups = by_hazard.get(uid, [])
            evidence = _with_items(h.evidence, [u.item for u in ups])
            reasons = (
                [f"evidence from the assessment of {', '.join(sorted({u.record_uid for u in ups}))}"] if ups else []
            )
            data = h.model_dump()
            day = max(
                h.date_of_information, *(u.assessment.as_of for u in ups), *(p.as_of for p in decisions.get(uid, []))
            )
            for p in decisions.get(uid, []):
                if p.action == Action.CONFIRM and h.classification == HazardClass.SHA:
                    if any(e.kind == EvidenceKind.DIRECT for e in evidence):
                        data["classification"] = HazardClass.CHA
                        reasons.append(f"confirmed as CHA: {p.reason}")
                elif p.action == Action.CANCEL:
                    data["status"] = HazardStatus.CLOSED
                    data["remaining_area_m2"] = 0.0
                    why = f"cancelled: {p.reason}"
                    data["status_history"] = [
                        *data["status_history"],
                        {"date": day, "status": HazardStatus.CLOSED, "reason": why},
                    ]
                    reasons.append(why)
                elif p.action == Action.REDUCE and p.keep is not None:
                    data["geometry"] = p.keep
                    data["remaining_area_m2"] = round(min(h.remaining_area_m2, p.keep_area_m2), 1)
                    reasons.append(f"reduced by {p.area_m2:,.0f} m²: {p.reason}")
            data.update(
                evidence=[e.model_dump() for e in evidence],
                date_of_information=day,
                entered_by=entered_by,
                change_reason="; ".join(reasons),
            )
            new = HazardArea.model_validate(data)
            if same_record(new, h, ignore=BOOKKEEPING | {"date_of_information"}):
                continue  # the evidence was already there and no decision changed the area
            store.update(new, expected_version=h.version)
            changed.append(uid)
        if create:
            changed += _create_areas(store, planned, entered_by)
    return changed


def _create_areas(store: Store, planned: EvidencePlan, entered_by: str) -> list[str]:
    latest = latest_assessments(store)
    made: list[str] = []
    for p in planned.proposals:
        if p.action != Action.NEW_SHA:
            continue
        uid = store.next_uid(HazardArea)
        evidence = []
        for r in p.record_uids:
            a = latest[r]
            evidence.append(
                Evidence(
                    kind=EvidenceKind.DIRECT,
                    description=f"minefield record {r} graded {a.grade} ({a.uid}): {p.reason}. {a.grade_reason}",
                    source=SOURCE,
                    date=a.as_of,
                    reference=r,
                )
            )
        store.add(
            HazardArea(
                uid=uid, date_of_information=p.as_of, entered_by=entered_by,
                change_reason=f"new SHA: {p.reason}", name=f"{HazardClass.SHA.short} {uid[3:]}",
                classification=HazardClass.SHA,
                status_history=[StatusChange(date=p.as_of, status=HazardStatus.OPEN, reason=f"new SHA: {p.reason}")],
                contamination=p.contamination or Contamination.AP_MINES, evidence=evidence,
                estimated_area_m2=round(p.area_m2, 1), remaining_area_m2=round(p.area_m2, 1),
                minefield_record_uids=list(p.record_uids), geometry=p.geometry,
            )
        )  # fmt: skip
        made.append(uid)
    return made
