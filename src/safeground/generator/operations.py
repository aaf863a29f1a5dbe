"""Hazard areas and land release: what the mine action programme did after the return.

The sequence follows IMAS 07.11 land release:

1. hazard areas are recorded from evidence as it arrives: accidents and cluster
   strikes (direct evidence: CHA), handed-over records, informants and the
   former front line (indirect evidence: SHA). Areas never overlap: a later
   candidate either adds its evidence to the area it mostly covers or is cut
   to what is left;
2. non-technical survey cancels front-line segments where nothing is found;
3. technical survey reduces the clean part of the areas it works on, upgrades
   SHA to CHA when it finds items, and clearance clears the mined footprint,
   finding (almost) every item in it. Records in the wrong place therefore
   produce SHAs that survey reduces to nothing, while their real mines lie
   elsewhere, uncovered: exactly the cost of inaccurate mine maps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import shapely
from shapely import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from safeground.generator.accidents import AccidentDraft, _victims, device_of
from safeground.generator.config import DistrictConfig
from safeground.generator.landscape import Landscape
from safeground.generator.mines import Strike, Truth
from safeground.generator.records import RecordDraft
from safeground.model.vocab import (
    ActivityType,
    ClearanceMethod,
    Contamination,
    EOType,
    EvidenceKind,
    HazardClass,
    HazardStatus,
    VictimStatus,
)
from safeground.safety.buffers import DEFAULT_BUFFERS

OPERATORS = (
    ("ORG-00002", ClearanceMethod.MANUAL),
    ("ORG-00003", ClearanceMethod.MECHANICAL),
    ("ORG-00004", ClearanceMethod.MDD),
    ("ORG-00005", ClearanceMethod.MANUAL),
)
NATIONAL_AUTHORITY = "ORG-00001"
#: route clearance clears this much beyond the safety buffer of the hazards beside a road (m each side)
ROUTE_MARGIN_M = 10.0


@dataclass
class EvidenceDraft:
    kind: EvidenceKind
    description: str
    source: str
    when: date
    reference: str | None = None


@dataclass
class HazardState:
    when: date
    classification: HazardClass
    status: HazardStatus
    reason: str
    remaining: float
    evidence: list[EvidenceDraft]
    contamination: Contamination
    polygon: BaseGeometry  # the ground still suspected or confirmed


@dataclass
class HazardDraft:
    hid: str
    polygon: BaseGeometry
    name: str
    priority: int
    record_uids: list[str]
    states: list[HazardState]
    origin: str

    @property
    def area(self) -> float:
        return float(self.polygon.area)

    @property
    def current(self) -> HazardState:
        return self.states[-1]

    def change(
        self,
        *,
        when: date,
        reason: str,
        classification: HazardClass | None = None,
        status: HazardStatus | None = None,
        remaining: float | None = None,
        add_evidence: Sequence[EvidenceDraft] = (),
        contamination: Contamination | None = None,
        polygon: BaseGeometry | None = None,
    ) -> None:
        """A new state of the hazard: what is not given stays as it was; evidence given is added."""
        cur = self.current
        new = HazardState(
            when=when,
            classification=cur.classification if classification is None else classification,
            status=cur.status if status is None else status,
            reason=reason,
            remaining=cur.remaining if remaining is None else remaining,
            evidence=[*cur.evidence, *add_evidence],
            contamination=cur.contamination if contamination is None else contamination,
            polygon=cur.polygon if polygon is None else polygon,
        )
        self.states.append(new)


@dataclass
class ActivityDraft:
    aid: str
    activity_type: ActivityType
    org: str
    method: ClearanceMethod
    start: date
    end: date | None
    hazard: str | None
    polygon: BaseGeometry
    cancelled: float = 0.0
    reduced: float = 0.0
    cleared: float = 0.0
    found: list[int] = field(default_factory=list)


@dataclass
class RemainsDraft:
    when: date
    xy: np.ndarray
    activity: str
    org: str


@dataclass
class Operations:
    hazards: list[HazardDraft]
    activities: list[ActivityDraft]
    remains: list[RemainsDraft]
    deminer_accidents: list[AccidentDraft]
    registry: _Registry


def _contamination_of(types: set[EOType]) -> Contamination:
    mines = {t for t in types if t.is_mine}
    if types and types <= {EOType.SUBMUNITION}:
        return Contamination.CLUSTER
    if mines == {EOType.AV}:
        return Contamination.AV_MINES
    if EOType.AV in mines and len(mines) > 1:
        return Contamination.MIXED
    if mines == {EOType.IMPROVISED}:
        return Contamination.IMPROVISED
    if mines:
        return Contamination.AP_MINES
    return Contamination.OTHER_ERW


def _work_probability(cfg: DistrictConfig, h: HazardDraft) -> float:
    """Which areas survey and clearance reach by the "as of" date: near people first,
    areas with a minefield record next, then the old front and the rest."""
    if h.priority <= 2 and h.origin != "front_belt":
        return cfg.work_share["near_people"]
    return cfg.work_share.get(h.origin, cfg.work_share["other"])


def _mined_footprint(xy: np.ndarray, margin: float = 25.0) -> BaseGeometry:
    """The ground to clear: each cluster of items (a minefield, a nuisance site) with a margin."""
    blobs = shapely.union_all(shapely.buffer(shapely.points(xy), margin))
    return shapely.union_all([p.convex_hull for p in shapely.get_parts(blobs)])


def _open(geom: BaseGeometry, width: float = 2.0) -> BaseGeometry:
    """Morphological opening: drops the slivers and spikes that cutting areas leaves."""
    return shapely.make_valid(geom.buffer(-width, join_style="mitre").buffer(width, join_style="mitre"))


class _Registry:
    """Keeps hazard areas non-overlapping as candidates arrive."""

    def __init__(self, settle_zone: BaseGeometry) -> None:
        self.items: list[HazardDraft] = []
        self.union: BaseGeometry = shapely.Polygon()
        self.settle_zone = settle_zone

    def offer(
        self, poly: BaseGeometry, make: Callable[[BaseGeometry], HazardDraft], evidence: EvidenceDraft
    ) -> HazardDraft | None:
        overlap = poly.intersection(self.union)
        if overlap.area > 0.5 * poly.area:
            # mostly known ground: the evidence strengthens the existing area
            best = max(self.items, key=lambda h: h.polygon.intersection(poly).area)
            best.states[0].evidence.append(evidence)
            return None
        rest = poly.difference(self.union) if overlap.area > 0 else poly
        rest = _open(rest)
        polys = [g for g in shapely.get_parts(rest) if g.geom_type == "Polygon" and g.area >= 400.0]
        if not polys:
            return None
        geom = shapely.MultiPolygon(polys)
        h = make(geom)
        self.items.append(h)
        self.union = shapely.union_all([self.union, geom])
        return h


def _accident_evidence(acc: AccidentDraft) -> EvidenceDraft:
    return EvidenceDraft(
        EvidenceKind.DIRECT, f"accident, {acc.device.value.replace('_', ' ')}", "accident report", acc.when, acc.aid
    )


def _accident_maker(reg: _Registry, acc: AccidentDraft, truth: Truth) -> Callable[[BaseGeometry], HazardDraft]:
    """A new CHA for an accident, three days after it (the report reaches the authority)."""
    ev = _accident_evidence(acc)
    contam = _contamination_of({truth.eo_type[acc.item]})
    when = acc.when + timedelta(days=3)

    def make(geom: BaseGeometry) -> HazardDraft:
        hid = f"HA-{len(reg.items) + 1:05d}"
        state = HazardState(when, HazardClass.CHA, HazardStatus.OPEN, "accident reported", float(geom.area), [ev],
                            contam, geom)  # fmt: skip
        prio = 1 if geom.distance(reg.settle_zone) < 1500 else 2
        return HazardDraft(hid, geom, f"{HazardClass.CHA.short} {hid[3:]}", prio, [], [state], "accident")

    return make


def _accident_hazards(reg: _Registry, accidents: list[AccidentDraft], truth: Truth) -> None:
    """The accidents before any survey: each adds its evidence to the area it mostly falls in, or opens one."""
    for acc in sorted(accidents, key=lambda a: a.when):
        reg.offer(Point(acc.xy).buffer(100.0), _accident_maker(reg, acc, truth), _accident_evidence(acc))


def add_accident_hazards(ops: Operations, accidents: list[AccidentDraft], truth: Truth) -> None:
    """Hazard areas for the accidents that happen after the operations were simulated, as they stand then.

    An accident inside an open area adds its evidence to it, dated when it was reported; inside an area
    already released it reopens that area (an item missed by clearance: a quality failure to investigate).
    Anywhere else it opens a CHA around it, leaving out the other areas (areas never overlap) and the
    route-clearance corridors finished before it (every item in them was found, so the road stays open
    beside the new hazard)."""
    reg = ops.registry
    for acc in sorted(accidents, key=lambda a: a.when):
        at = Point(acc.xy)
        reported = acc.when + timedelta(days=3)
        holder = next((h for h in reg.items if h.current.polygon.contains(at)), None)
        if holder is not None and holder.current.status != HazardStatus.CLOSED:
            holder.change(when=reported, reason=f"accident {acc.aid} inside the area",
                          add_evidence=[_accident_evidence(acc)])  # fmt: skip
            continue
        if holder is not None:  # an item missed in released ground: a quality failure, the area is reopened
            holder.change(when=reported, status=HazardStatus.OPEN, classification=HazardClass.CHA, remaining=float(
                holder.current.polygon.area), reason=f"reopened: accident {acc.aid} in released ground, for "
                "investigation and re-clearance", add_evidence=[_accident_evidence(acc)])  # fmt: skip
            continue
        corridors = [
            a.polygon
            for a in ops.activities
            if a.hazard is None and a.activity_type == ActivityType.CLEARANCE and a.end and a.end < acc.when
        ]
        zone = at.buffer(100.0).difference(shapely.union_all([*corridors, *(h.current.polygon for h in reg.items)]))
        parts = [g for g in shapely.get_parts(_open(zone)) if g.geom_type == "Polygon" and g.area >= 400.0]
        if not parts:
            continue
        geom = shapely.MultiPolygon(parts)
        reg.items.append(_accident_maker(reg, acc, truth)(geom))
        reg.union = shapely.union_all([reg.union, geom])
    ops.hazards = reg.items


def build_operations(
    cfg: DistrictConfig,
    land: Landscape,
    truth: Truth,
    records: list[RecordDraft],
    strikes: list[Strike],
    accidents: list[AccidentDraft],
    rng: np.random.Generator,
) -> Operations:
    settle_zone = shapely.union_all([s.footprint for s in land.settlements] + [c for _, c in land.cemeteries])
    reg = _Registry(settle_zone)
    ntree = shapely.STRtree(shapely.points(truth.xy))

    def new_hazard(
        origin: str,
        klass: HazardClass,
        contam: Contamination,
        when: date,
        reason: str,
        ev: EvidenceDraft,
        record_uids: list[str] | None = None,
    ) -> Callable[[BaseGeometry], HazardDraft]:
        def make(geom: BaseGeometry) -> HazardDraft:
            hid = f"HA-{len(reg.items) + 1:05d}"
            d = geom.distance(settle_zone)
            prio = 1 if (origin == "accident" or d < 300) else (2 if d < 1500 else 3)
            if origin == "front_belt":
                prio = max(prio, 4)
            state = HazardState(when, klass, HazardStatus.OPEN, reason, float(geom.area), [ev], contam, geom)
            return HazardDraft(hid, geom, f"{klass.short} {hid[3:]}", prio, record_uids or [], [state], origin)

        return make

    ops_src = "NTS team, national mine action authority"
    _accident_hazards(reg, accidents, truth)
    for st in strikes:
        ev = EvidenceDraft(
            EvidenceKind.DIRECT,
            f"cluster strike ({st.munition.name}); submunitions seen on the surface",
            ops_src,
            date(2020, 12, 1),
            st.sid,
        )
        reg.offer(
            st.footprint.buffer(30.0),
            new_hazard(
                "cluster",
                HazardClass.CHA,
                Contamination.CLUSTER,
                date(2020, 12, 1),
                "cluster strike footprint",
                ev,
            ),
            ev,
        )
    # informants: returnees report part of what they saw, and a few false alarms
    nuisance = [
        i
        for i, c in enumerate(truth.context)
        if c not in ("front_belt", "battlefield", "cluster_strike") and truth.fate[i] == "in_ground"
    ]
    reported = [i for i in nuisance if rng.random() < 0.3]
    for i in reported:
        when = cfg.return_date + timedelta(days=int(rng.integers(5, 150)))
        ev = EvidenceDraft(
            EvidenceKind.INDIRECT,
            f"informant reports suspicious object at {truth.context[i].replace('_', ' ')}",
            "returnee report",
            when,
        )
        reg.offer(
            Point(truth.xy[i] + rng.normal(0, 10, 2)).buffer(40.0),
            new_hazard("informant", HazardClass.SHA, Contamination.AP_MINES, when, "informant report", ev),
            ev,
        )
    for name, cem in land.cemeteries:
        mined = len(ntree.query(cem.buffer(20.0), predicate="intersects")) > 0
        if rng.random() < (0.7 if mined else 0.15):
            when = cfg.return_date + timedelta(days=int(rng.integers(10, 90)))
            ev = EvidenceDraft(
                EvidenceKind.INDIRECT,
                f"community reports mines at the cemetery of {name}",
                "community meeting",
                when,
            )
            reg.offer(
                cem.buffer(20.0),
                new_hazard("cemetery", HazardClass.SHA, Contamination.AP_MINES, when, "community report", ev),
                ev,
            )
    for rec in records:
        when = rec.date_received + timedelta(days=14)
        types = {r.model.eo_type for r in rec.rows}
        ev = EvidenceDraft(
            EvidenceKind.INDIRECT,
            f"minefield record {rec.source_reference} ({rec.source})",
            rec.source,
            rec.date_received,
            rec.rid,
        )
        made = reg.offer(
            rec.perimeter.buffer(50.0),
            new_hazard(
                "record",
                HazardClass.SHA,
                _contamination_of(types),
                when,
                "minefield record received",
                ev,
                [rec.rid],
            ),
            ev,
        )
        if made is None:
            for h in reg.items:
                if h.polygon.intersects(rec.perimeter) and rec.rid not in h.record_uids:
                    h.record_uids.append(rec.rid)
    # the former front line: belts of suspicion, cut into ~2 km segments
    front = land.front_line
    seg_len = 2000.0
    district = shapely.box(0, 0, land.size, land.size)
    for k in range(int(np.ceil(front.length / seg_len))):
        lo, hi = k * seg_len, min((k + 1) * seg_len, front.length)
        seg = substring(front, lo, hi).buffer(2200.0, cap_style="flat").intersection(district)
        ev = EvidenceDraft(
            EvidenceKind.INDIRECT,
            "former front line: defensive positions and minefield belts",
            ops_src,
            date(2021, 1, 15),
        )
        reg.offer(
            seg,
            new_hazard(
                "front_belt",
                HazardClass.SHA,
                Contamination.MIXED,
                date(2021, 1, 15),
                "former front line belt",
                ev,
            ),
            ev,
        )

    activities: list[ActivityDraft] = []
    remains: list[RemainsDraft] = []

    def act_id() -> str:
        return f"ACT-{len(activities) + 1:05d}"

    def items_in(geom: BaseGeometry) -> list[int]:
        idx = ntree.query(geom, predicate="intersects")
        return [int(i) for i in idx if truth.fate[int(i)] == "in_ground"]

    # 2. NTS cancels the parts of the front-line belt where nothing points to mines:
    #    500 m cells with no item within 150 m are released, the rest stays suspected
    for h in reg.items:
        if h.origin != "front_belt":
            continue
        poly = h.current.polygon
        minx, miny, maxx, maxy = poly.bounds
        xs, ys = np.arange(minx, maxx, 500.0), np.arange(miny, maxy, 500.0)
        cells = [shapely.box(x, y, x + 500.0, y + 500.0) for x in xs for y in ys]
        clean = [c for c in cells if not items_in(c.buffer(150.0))]
        if not clean:
            continue
        cancelled = shapely.make_valid(poly.intersection(shapely.union_all(clean)))
        if cancelled.area < 1000.0:
            continue
        keep = _open(poly.difference(cancelled))
        keep_polys = [g for g in shapely.get_parts(keep) if g.geom_type == "Polygon" and g.area >= 400.0]
        start = date(2021, 2, 1) + timedelta(days=int(rng.integers(0, 120)))
        end = start + timedelta(days=int(rng.integers(3, 15)))
        a = ActivityDraft(
            act_id(),
            ActivityType.NTS,
            NATIONAL_AUTHORITY,
            ClearanceMethod.DESK,
            start,
            end,
            h.hid,
            cancelled,
            cancelled=float(cancelled.area),
        )
        activities.append(a)
        if not keep_polys:
            h.change(
                when=end,
                status=HazardStatus.CLOSED,
                reason=f"cancelled by non-technical survey {a.aid}: no evidence of contamination",
                remaining=0.0,
            )
        else:
            rest = shapely.MultiPolygon(keep_polys)
            h.change(
                when=end,
                polygon=rest,
                remaining=float(rest.area),
                reason=f"non-technical survey {a.aid} cancelled {cancelled.area:,.0f} m² "
                "with no evidence of contamination",
            )

    # 2b. route clearance and verification: in the first months engineers clear the roads and the
    #     paths families walk to their cemeteries (and the cemeteries), with a corridor each side as
    #     wide as the safety buffer of the hazards beside it plus a margin, so that walking the road
    #     never passes within a hazard's buffer. Route clearance is quality-assured: every item in the
    #     corridor is found. The part of the corridor inside hazard areas counts as cleared land.
    open_union = shapely.union_all([h.current.polygon for h in reg.items if h.current.status != HazardStatus.CLOSED])
    lanes: list[tuple[str, BaseGeometry, date]] = []
    for road in land.roads:
        lanes.append(("road", road, date(2020, 12, 1) + timedelta(days=int(rng.integers(0, 45)))))
    cemetery_paths = [p for purpose, p in land.paths if purpose == "cemetery"]
    for _, cem in land.cemeteries:
        if rng.random() >= cfg.cemetery_access_cleared:
            continue
        path = min(cemetery_paths, key=lambda p: p.distance(cem), default=None)
        lane = cem if path is None or path.distance(cem) > 5.0 else shapely.union_all([path, cem])
        lanes.append(("cemetery", lane, date(2021, 1, 10) + timedelta(days=int(rng.integers(0, 60)))))
    for purpose, line, start in lanes:
        near = [
            h for h in reg.items if h.current.status != HazardStatus.CLOSED and h.current.polygon.distance(line) < 200
        ]
        width = ROUTE_MARGIN_M + max([DEFAULT_BUFFERS.for_hazard(h.current.contamination) for h in near] + [50.0])
        corridor = shapely.make_valid(line.buffer(width))
        # a way where a mine went off after the return was cleared only after that accident
        hit = [a.when for a in accidents if corridor.contains(Point(a.xy))]
        if hit:
            start = max(start, max(hit) + timedelta(days=int(rng.integers(2, 20))))
        end = start + timedelta(days=int(rng.integers(10, 40)))
        found = items_in(corridor)
        for i in found:
            truth.fate[i] = "found"
        in_hazards = corridor.intersection(open_union).area
        a = ActivityDraft(act_id(), ActivityType.CLEARANCE, "ORG-00005", ClearanceMethod.MECHANICAL, start, end, None,
                          corridor, cleared=float(in_hazards), found=found)  # fmt: skip
        activities.append(a)
        what = "the road through it" if purpose == "road" else "the cemetery and the path to it"
        for h in reg.items:
            if h.current.status == HazardStatus.CLOSED or not h.current.polygon.intersects(corridor):
                continue
            rest = _open(h.current.polygon.difference(corridor))
            parts = [g for g in shapely.get_parts(rest) if g.geom_type == "Polygon" and g.area >= 400.0]
            if not parts:
                h.change(
                    when=end, status=HazardStatus.CLOSED, remaining=0.0, reason=f"cleared by route clearance {a.aid}"
                )
            else:
                poly = shapely.MultiPolygon(parts)
                h.change(when=end, polygon=poly, remaining=min(h.current.remaining, float(poly.area)),
                         reason=f"route clearance {a.aid} cleared {what}")  # fmt: skip

    # 3. technical survey and clearance on part of the open areas, by priority
    open_h = [h for h in reg.items if h.current.status == HazardStatus.OPEN]
    open_h.sort(key=lambda h: (h.priority, rng.random()))
    work = [h for h in open_h if rng.random() < _work_probability(cfg, h)]
    deminer_budget = max(1, round(1 * cfg.scale))
    deminer: list[AccidentDraft] = []
    next_acc = len(accidents)
    for h in work:
        org, method = OPERATORS[int(rng.integers(0, len(OPERATORS)))]
        first = max(h.current.when + timedelta(days=10), date(2021, 4, 1))
        latest = cfg.as_of - timedelta(days=40)
        if first >= latest:
            continue
        start = first + timedelta(days=int(rng.integers(0, (latest - first).days)))
        poly = h.current.polygon
        inside = items_in(poly)
        ts_end = start + timedelta(days=int(rng.integers(2, 10)))
        if not inside:
            a = ActivityDraft(
                act_id(), ActivityType.TS, org, method, start, ts_end, h.hid, poly, reduced=float(poly.area)
            )
            activities.append(a)
            h.change(when=start, status=HazardStatus.WORKED_ON, reason=f"technical survey {a.aid} started")
            h.change(
                when=ts_end,
                status=HazardStatus.CLOSED,
                remaining=0.0,
                reason=f"reduced by technical survey {a.aid}: no explosive ordnance found",
            )
            continue
        footprint = _mined_footprint(truth.xy[inside]).intersection(poly)
        footprint = shapely.make_valid(footprint)
        reduced = max(poly.area - footprint.area, 0.0)
        ts = ActivityDraft(
            act_id(),
            ActivityType.TS,
            org,
            method,
            start,
            ts_end,
            h.hid,
            poly.difference(footprint) if reduced > 0 else poly,
            reduced=reduced,
        )
        activities.append(ts)
        types = {truth.eo_type[i] for i in inside}
        h.change(when=start, status=HazardStatus.WORKED_ON, reason=f"technical survey {ts.aid} started")
        h.change(
            when=ts_end,
            classification=HazardClass.CHA,
            polygon=footprint,  # what TS reduced is released: the hazard is what is left
            remaining=float(footprint.area),
            contamination=_contamination_of(types),
            reason=f"technical survey {ts.aid} found explosive ordnance; {reduced:,.0f} m² reduced",
            add_evidence=[
                EvidenceDraft(
                    EvidenceKind.DIRECT,
                    f"technical survey found {truth.eo_type[inside[0]].value.replace('_', ' ')} items",
                    org,
                    ts_end,
                    ts.aid,
                )
            ],
        )
        complete = rng.random() < 0.6
        if complete:
            cleared_geom = footprint
        else:
            c = footprint.centroid
            minx, miny, maxx, maxy = footprint.bounds
            half = (
                shapely.box(minx - 1, miny - 1, c.x, maxy + 1)
                if maxx - minx > maxy - miny
                else shapely.box(minx - 1, miny - 1, maxx + 1, c.y)
            )
            cleared_geom = shapely.make_valid(footprint.intersection(half))
        days = max(5, int(cleared_geom.area / 600.0))  # ~600 m² per day for a team
        c_start = ts_end + timedelta(days=int(rng.integers(5, 40)))
        c_end = c_start + timedelta(days=days)
        if c_end > cfg.as_of:
            c_end = cfg.as_of
            complete = False
        found = [i for i in items_in(cleared_geom) if rng.random() < 0.995]
        if deminer_budget > 0 and found and rng.random() < 0.15:
            deminer_budget -= 1
            idx = found.pop(int(rng.integers(0, len(found))))
            truth.fate[idx] = "detonated"
            next_acc += 1
            eo = truth.eo_type[idx]
            when = c_start + timedelta(days=int(rng.integers(0, max((c_end - c_start).days, 1))))
            deminer.append(
                AccidentDraft(
                    f"ACC-{next_acc:05d}",
                    when,
                    truth.xy[idx].copy(),
                    idx,
                    device_of(eo, rng),
                    "clearance",
                    _victims(eo, "front_belt", VictimStatus.DEMINER, rng),
                )
            )
        for i in found:
            truth.fate[i] = "found"
        cl = ActivityDraft(
            act_id(),
            ActivityType.CLEARANCE,
            org,
            method,
            c_start,
            c_end if complete else None,
            h.hid,
            cleared_geom,
            cleared=float(cleared_geom.area),
            found=found,
        )
        activities.append(cl)
        if any(truth.context[i] == "front_belt" for i in found) and rng.random() < 0.2:
            p = cleared_geom.representative_point()
            remains.append(RemainsDraft(c_start + timedelta(days=1), np.array([p.x, p.y]), cl.aid, org))
        h.change(when=c_start, reason=f"clearance {cl.aid} started")
        if complete:
            h.change(
                when=c_end,
                status=HazardStatus.CLOSED,
                remaining=0.0,
                reason=f"cleared by {cl.aid}: {len(found)} items found and destroyed",
            )
        else:
            h.change(  # the task site stays hazardous until the clearance is completed and handed over
                when=cfg.as_of,
                remaining=max(footprint.area - cleared_geom.area, 0.0),
                reason=f"clearance {cl.aid} in progress: {cleared_geom.area:,.0f} m² cleared",
            )

    # 4. EOD spot tasks for UXO reported by the public outside hazard areas
    uxo = [i for i, t in enumerate(truth.eo_type) if t == EOType.UXO and truth.fate[i] == "in_ground"]
    for i in uxo:
        if rng.random() > 0.35:
            continue
        when = cfg.return_date + timedelta(days=int(rng.integers(10, (cfg.as_of - cfg.return_date).days)))
        truth.fate[i] = "found"
        a = ActivityDraft(
            act_id(),
            ActivityType.EOD,
            OPERATORS[0][0],
            ClearanceMethod.MANUAL,
            when,
            when,
            None,
            Point(truth.xy[i]).buffer(10.0),
            found=[i],
        )
        activities.append(a)
    return Operations(reg.items, activities, remains, deminer, reg)
