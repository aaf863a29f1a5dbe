"""Generate a whole synthetic district into a store, in one transaction.

The steps run in the order the real events happened (mines laid, strikes,
return and accidents, records handed over, survey and clearance) and the
result is written as SafeGround records in WGS 84, exactly as real data would
arrive, so every later module is tested on the same path real data takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from safeground.generator.accidents import AccidentDraft, early_accidents, later_accidents
from safeground.generator.config import DistrictConfig
from safeground.generator.landscape import Landscape, build_landscape
from safeground.generator.mines import Minefield, Strike, Truth, lay_mines
from safeground.generator.operations import (
    NATIONAL_AUTHORITY,
    Operations,
    add_accident_hazards,
    build_operations,
)
from safeground.generator.people import add_people
from safeground.generator.records import RecordDraft, bearing_distance
from safeground.geometry.projection import from_wgs84, to_wgs84, utm_epsg
from safeground.model import (
    Accident,
    Activity,
    AdminArea,
    ClusterStrike,
    EOItem,
    Evidence,
    FrontLine,
    GroundTruthItem,
    HazardArea,
    HumanRemainsFind,
    InfrastructureArea,
    InfrastructureLine,
    InfrastructurePoint,
    MinefieldRecord,
    MineRow,
    Organisation,
    Record,
    ReferencePoint,
    StatusChange,
    Victim,
    VictimIdentity,
)
from safeground.model.vocab import (
    ActivityType,
    AdminLevel,
    ClearanceMethod,
    EOCondition,
    EOStatus,
    EOType,
    HowFound,
    InfrastructureKind,
    OrganisationType,
)
from safeground.storage.base import Store

ENTERED_BY = "safeground-generator"
Step = Callable[[str], None]


@dataclass
class District:
    """Everything the generator made, in local metres, before it is written."""

    cfg: DistrictConfig
    epsg: int
    origin: tuple[float, float]
    land: Landscape
    truth: Truth
    fields: list[Minefield]
    strikes: list[Strike]
    records: list[RecordDraft]
    accidents: list[AccidentDraft]
    ops: Operations

    def to_wgs84(self, geom: BaseGeometry) -> BaseGeometry:
        t = to_wgs84(self.epsg)
        ox, oy = self.origin

        def f(c: np.ndarray) -> np.ndarray:
            lon, lat = t.transform(c[:, 0] + ox, c[:, 1] + oy)
            return np.column_stack([lon, lat])

        return shapely.transform(geom, f)

    def lonlat(self, xy: np.ndarray) -> np.ndarray:
        t = to_wgs84(self.epsg)
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        lon, lat = t.transform(xy[:, 0] + self.origin[0], xy[:, 1] + self.origin[1])
        return np.column_stack([lon, lat])


def build_district(cfg: DistrictConfig, step: Step | None = None) -> District:
    say = step or (lambda _s: None)
    rng = np.random.default_rng(cfg.seed)
    epsg = utm_epsg(cfg.center_lon, cfg.center_lat)
    cx, cy = from_wgs84(epsg).transform(cfg.center_lon, cfg.center_lat)
    origin = (cx - cfg.half_m, cy - cfg.half_m)
    say("landscape: settlements, roads, water, power lines, former front line")
    land = build_landscape(cfg, rng)
    say("ground truth: defensive belts, nuisance mines, cluster strikes, UXO")
    truth, fields, strikes = lay_mines(cfg, land, rng)
    say("return and accidents")
    accidents = early_accidents(cfg, truth, rng)
    say("handed-over minefield records")
    from safeground.generator.records import draw_records

    records = draw_records(cfg, fields, rng)
    say("survey, clearance and land release")
    ops = build_operations(cfg, land, truth, records, strikes, accidents, rng)
    later = later_accidents(cfg, truth, rng, len(accidents) + len(ops.deminer_accidents) + 1)
    add_accident_hazards(ops, later, truth)
    accidents = accidents + later
    return District(cfg, epsg, origin, land, truth, fields, strikes, records, accidents, ops)


def _document_path(rec: RecordDraft) -> str:
    batch = rec.source.lower().replace(" ", "-")
    return f"handover/{batch}/{rec.source_reference.replace('No. ', '')}.pdf"


class _Writer:
    """Turns the district's drafts into validated records."""

    def __init__(self, d: District) -> None:
        self.d = d
        self.counters: dict[str, int] = {}
        self.municipalities: list[tuple[str, BaseGeometry]] = []
        from pyproj import Proj

        self.scale_factor = float(
            Proj(f"EPSG:{d.epsg}").get_factors(d.cfg.center_lon, d.cfg.center_lat).meridional_scale
        )

    def admin_of(self, geom: BaseGeometry) -> str | None:
        p = geom.representative_point()
        return next((uid for uid, cell in self.municipalities if cell.contains(p)), None)

    def uid(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{self.counters[prefix]:05d}"

    def g(self, geom: BaseGeometry) -> BaseGeometry:
        out = shapely.remove_repeated_points(self.d.to_wgs84(geom), 0.0)
        if out.geom_type == "GeometryCollection":
            # an area cut by another can leave slivers of line or point beside its polygons (seed 99)
            polys = [p for p in shapely.get_parts(out) if p.geom_type in ("Polygon", "MultiPolygon")]
            out = shapely.union_all(polys) if polys else out
        if out.geom_type in ("Polygon", "MultiPolygon") and not out.is_valid:
            # differences of neighbouring areas can touch themselves after reprojection
            fixed = shapely.make_valid(out, method="structure")
            out = shapely.union_all([p for p in shapely.get_parts(fixed) if p.geom_type == "Polygon"])
        return out

    def context(self) -> list[Record]:
        cfg, land = self.d.cfg, self.d.land
        info = date(2020, 12, 1)
        organisations = (
            (NATIONAL_AUTHORITY, "National Mine Action Authority (demo)", "NMAA", OrganisationType.NATIONAL_AUTHORITY),
            ("ORG-00002", "Humanitarian Demining Group (demo NGO)", "HDG", OrganisationType.NGO),
            ("ORG-00003", "Qarabag Mechanical Clearance (demo company)", "QMC", OrganisationType.COMMERCIAL),
            ("ORG-00004", "Mine Detection Dog Centre (demo)", "MDDC", OrganisationType.NGO),
            ("ORG-00005", "Army Engineer Battalion (demo)", "AEB", OrganisationType.MILITARY),
        )
        out: list[Record] = [
            Organisation(uid=uid, date_of_information=info, entered_by=ENTERED_BY, name=n, acronym=a, org_type=t)
            for uid, n, a, t in organisations
        ]
        self.counters["ORG"] = 5
        district = shapely.box(0, 0, land.size, land.size)
        out.append(
            AdminArea(
                uid=self.uid("ADM"),
                date_of_information=info,
                entered_by=ENTERED_BY,
                name=cfg.name,
                level=AdminLevel.DISTRICT,
                code="D01",
                geometry=self.g(district),
            )
        )
        cells = shapely.voronoi_polygons(shapely.MultiPoint([s.center for s in land.settlements]), extend_to=district)
        for k, cell in enumerate(shapely.get_parts(cells)):
            st = next(s for s in land.settlements if cell.contains(s.center))
            self.municipalities.append((f"ADM-{self.counters['ADM'] + 1:05d}", cell))
            out.append(
                AdminArea(
                    uid=self.uid("ADM"),
                    date_of_information=info,
                    entered_by=ENTERED_BY,
                    name=f"{st.name} municipality",
                    level=AdminLevel.MUNICIPALITY,
                    parent_uid="ADM-00001",
                    code=f"D01-M{k + 1:02d}",
                    geometry=self.g(cell.intersection(district)),
                )
            )
        out.append(
            FrontLine(
                uid=self.uid("FL"),
                date_of_information=date(2020, 11, 10),
                entered_by=ENTERED_BY,
                name="Former line of contact (1994–2020)",
                valid_from=date(1994, 5, 12),
                valid_to=date(2020, 11, 10),
                geometry=self.g(land.front_line),
            )
        )

        def feature(
            cls: type[InfrastructurePoint | InfrastructureLine | InfrastructureArea],
            kind: InfrastructureKind,
            geom: BaseGeometry,
            name: str | None,
            st: str | None,
        ) -> None:
            out.append(
                cls(
                    uid=self.uid(cls.UID_PREFIX),
                    date_of_information=info,
                    entered_by=ENTERED_BY,
                    kind=kind,
                    name=name,
                    settlement=st,
                    geometry=self.g(geom),
                )
            )

        def pt(kind: InfrastructureKind, geom: BaseGeometry, name: str | None = None, st: str | None = None) -> None:
            feature(InfrastructurePoint, kind, geom, name, st)

        def ln(kind: InfrastructureKind, geom: BaseGeometry, name: str | None = None, st: str | None = None) -> None:
            if not geom.is_empty and geom.length >= 1.0:
                feature(InfrastructureLine, kind, geom, name, st)

        def ar(kind: InfrastructureKind, geom: BaseGeometry, name: str | None = None, st: str | None = None) -> None:
            feature(InfrastructureArea, kind, geom, name, st)

        for st in land.settlements:
            ar(InfrastructureKind.SETTLEMENT, st.footprint, st.name, st.name)
            for h in st.houses:
                ar(InfrastructureKind.BUILDING, h, None, st.name)
            for e in st.entrances:
                pt(InfrastructureKind.COURTYARD_ENTRANCE, e, None, st.name)
            for s_ in st.streets:
                ln(InfrastructureKind.ROAD, s_, "street", st.name)
        for i, (name, cem) in enumerate(land.cemeteries):
            ar(
                InfrastructureKind.CEMETERY,
                cem,
                f"{name} cemetery" + ("" if i == 0 or land.cemeteries[i - 1][0] != name else " 2"),
                name,
            )
        for name, orch in land.orchards:
            ar(InfrastructureKind.ORCHARD, orch, None, name)
        for r, road_name in zip(land.roads, land.road_names, strict=True):
            ln(InfrastructureKind.ROAD, r, road_name)
        cemetery_names = [c.name for c in out if isinstance(c, InfrastructureArea) and c.kind == "cemetery"]
        for purpose, p in land.paths:
            name_ = f"path to {purpose}"
            if purpose == "cemetery":  # the path to the cemetery it ends at, by name
                end = shapely.get_point(p, -1)
                k = int(np.argmin([c.distance(end) for _, c in land.cemeteries]))
                name_ = f"path to {cemetery_names[k]}"
            ln(InfrastructureKind.PATH, p, name_)
        ln(InfrastructureKind.RIVER, land.river, "Gozluchay river")
        for b in land.banks:
            ln(InfrastructureKind.RIVERBANK, b, "Gozluchay riverbank")
        for k, c in enumerate(land.canals):
            ln(InfrastructureKind.CANAL, c, f"Canal {k + 1}")
        for pl in land.power_lines:
            ln(InfrastructureKind.POWER_LINE, pl, "10 kV line")
        for p in land.power_poles:
            pt(InfrastructureKind.POWER_POLE, p)
        for p in land.light_poles:
            pt(InfrastructureKind.LIGHT_POLE, p)
        for p in land.junctions:
            pt(InfrastructureKind.ROAD_JUNCTION, p)
        for name, p in land.springs:
            pt(InfrastructureKind.SPRING, p, f"{name} spring", name)
        for p in land.bridges:
            pt(InfrastructureKind.BRIDGE, p)
        for k, p in enumerate(land.checkpoints):
            pt(InfrastructureKind.CHECKPOINT, p, f"Entry checkpoint {k + 1}")
        return out

    def truth_items(self) -> list[Record]:
        t = self.d.truth
        ll = self.d.lonlat(t.xy)
        pts = shapely.points(ll)
        return [
            GroundTruthItem(
                uid=f"GT-{i + 1:06d}",
                date_of_information=self.d.cfg.as_of,
                entered_by=ENTERED_BY,
                eo_type=t.eo_type[i],
                eo_model=t.model[i],
                laid_context=t.context[i],
                minefield_id=t.minefield[i],
                row_label=t.row[i],
                date_laid=t.laid[i],
                fate=t.fate[i],
                geometry=pts[i],
            )
            for i in range(len(t))
        ]

    def records(self) -> list[Record]:
        out: list[Record] = []
        for rec in self.d.records:
            ll_refs = self.d.lonlat(np.array([xy for _, _, xy in rec.reference_points]))
            refs = []
            prev: np.ndarray | None = None
            for (label, role, xy), (lon, lat) in zip(rec.reference_points, ll_refs, strict=True):
                bearing, dist = bearing_distance(prev, xy) if prev is not None else (None, None)
                if dist is not None:  # a record gives ground distances: grid distance / point scale factor
                    dist = dist / self.scale_factor
                refs.append(
                    ReferencePoint(
                        label=label,
                        role=role,
                        lon=lon,
                        lat=lat,
                        bearing_deg=bearing,
                        bearing_reference="grid" if bearing is not None else None,
                        distance_m=dist,
                    )
                )
                prev = xy
            rows = []
            expected: dict[EOType, int] = {}
            for r in rec.rows:
                (slon, slat), (elon, elat) = self.d.lonlat(np.array([r.start, r.end]))
                rows.append(
                    MineRow(
                        label=r.label,
                        mine_type=r.model.eo_type,
                        mine_model=r.model.model,
                        start_lon=slon,
                        start_lat=slat,
                        end_lon=elon,
                        end_lat=elat,
                        mine_count=r.count,
                        spacing_m=round(r.model.spacing_m, 2),
                    )
                )
                expected[r.model.eo_type] = expected.get(r.model.eo_type, 0) + r.count
            out.append(
                MinefieldRecord(
                    uid=rec.rid,
                    date_of_information=rec.date_received,
                    entered_by=ENTERED_BY,
                    source=rec.source,
                    source_reference=rec.source_reference,
                    date_received=rec.date_received,
                    date_laid=rec.minefield.date_laid,
                    reference_points=refs,
                    rows=rows,
                    expected_mines=expected,
                    claimed_accuracy_m=rec.claimed_accuracy_m,
                    original_document=_document_path(rec),
                    geometry=self.g(rec.perimeter),
                )
            )
            for r, xy in rec.mine_positions():
                for k, (lon, lat) in enumerate(self.d.lonlat(xy)):
                    out.append(
                        EOItem(
                            uid=self.uid("EO"),
                            date_of_information=rec.date_received,
                            entered_by=ENTERED_BY,
                            status=EOStatus.RECORDED,
                            eo_type=r.model.eo_type,
                            eo_model=r.model.model,
                            minefield_record_uid=rec.rid,
                            row_label=f"{r.label}#{k + 1}",
                            geometry=shapely.Point(lon, lat),
                        )
                    )
        return out

    def hazard_versions(self) -> list[list[HazardArea]]:
        out = []
        for h in self.d.ops.hazards:
            history: list[StatusChange] = []
            versions = []
            for k, st in enumerate(h.states):
                if k == 0 or st.status != h.states[k - 1].status:
                    history.append(StatusChange(date=st.when, status=st.status, reason=st.reason))
                versions.append(
                    HazardArea(
                        uid=h.hid,
                        version=k + 1,
                        date_of_information=st.when,
                        entered_by=ENTERED_BY,
                        change_reason=st.reason,
                        name=h.name,
                        classification=st.classification,
                        status=st.status,
                        status_history=list(history),
                        contamination=st.contamination,
                        evidence=[
                            Evidence(
                                kind=e.kind,
                                description=e.description,
                                source=e.source,
                                date=e.when,
                                reference=e.reference,
                            )
                            for e in st.evidence
                        ],
                        estimated_area_m2=round(h.area, 1),
                        remaining_area_m2=round(min(st.remaining, h.area), 1),
                        priority=h.priority,
                        admin_area_uid=self.admin_of(st.polygon),
                        minefield_record_uids=h.record_uids,
                        geometry=self.g(st.polygon),
                    )
                )
            out.append(versions)
        return out

    def operations(self) -> list[Record]:
        d = self.d
        out: list[Record] = []
        t = d.truth
        rng = np.random.default_rng(d.cfg.seed + 1)
        how = {
            ClearanceMethod.MANUAL: HowFound.MANUAL_CLEARANCE,
            ClearanceMethod.MECHANICAL: HowFound.MECHANICAL,
            ClearanceMethod.MDD: HowFound.MDD,
            ClearanceMethod.DESK: HowFound.VISUAL,
        }
        depth = {EOType.AV: (10, 30), EOType.SUBMUNITION: (0, 8), EOType.UXO: (0, 40)}
        for a in d.ops.activities:
            found_uids = []
            if a.found:
                noisy = t.xy[a.found] + rng.normal(0, 0.3, (len(a.found), 2))
                for i, (lon, lat) in zip(a.found, d.lonlat(noisy), strict=True):
                    lo, hi = depth.get(t.eo_type[i], (3, 15))
                    item = EOItem(
                        uid=self.uid("EO"),
                        date_of_information=a.end or a.start,
                        entered_by=ENTERED_BY,
                        status=EOStatus.FOUND,
                        eo_type=t.eo_type[i],
                        eo_model=t.model[i],
                        depth_cm=float(rng.integers(lo, hi + 1)),
                        condition=EOCondition.INTACT if rng.random() < 0.8 else EOCondition.DAMAGED,
                        how_found=HowFound.EOD_CALL_OUT if a.activity_type == ActivityType.EOD else how[a.method],
                        activity_uid=a.aid,
                        hazard_area_uid=a.hazard,
                        geometry=shapely.Point(lon, lat),
                    )
                    found_uids.append(item.uid)
                    out.append(item)
            out.append(
                Activity(
                    uid=a.aid,
                    date_of_information=a.end or d.cfg.as_of,
                    entered_by=ENTERED_BY,
                    activity_type=a.activity_type,
                    organisation_uid=a.org,
                    method=a.method,
                    start_date=a.start,
                    end_date=a.end,
                    hazard_area_uid=a.hazard,
                    area_cancelled_m2=round(a.cancelled, 1),
                    area_reduced_m2=round(a.reduced, 1),
                    area_cleared_m2=round(a.cleared, 1),
                    items_found=len(found_uids),
                    found_item_uids=found_uids,
                    geometry=self.g(a.polygon),
                )
            )
        for r in d.ops.remains:
            ((lon, lat),) = d.lonlat(r.xy)
            out.append(
                HumanRemainsFind(
                    uid=self.uid("HRF"),
                    date_of_information=r.when,
                    entered_by=ENTERED_BY,
                    find_date=r.when,
                    activity_uid=r.activity,
                    organisation_uid=r.org,
                    description="skeletal remains found during clearance",
                    handed_to="State Commission on Missing Persons",
                    geometry=shapely.Point(lon, lat),
                )
            )
        return out

    def casualties(self) -> list[Record]:
        d = self.d
        out: list[Record] = []
        names = {s.name: s.center for s in d.land.settlements}
        for a in [*d.accidents, *d.ops.deminer_accidents]:
            ((lon, lat),) = d.lonlat(a.xy)
            nearest = min(names, key=lambda n: names[n].distance(shapely.Point(a.xy)))
            out.append(
                Accident(
                    uid=a.aid,
                    date_of_information=a.when,
                    entered_by=ENTERED_BY,
                    accident_date=a.when,
                    device_type=a.device,
                    place_description=a.context.replace("_", " "),
                    settlement=nearest,
                    admin_area_uid=self.admin_of(shapely.Point(a.xy)),
                    geometry=shapely.Point(lon, lat),
                )
            )
            for v in a.victims:
                vid = self.uid("VIC")
                out.append(
                    Victim(
                        uid=vid,
                        date_of_information=a.when,
                        entered_by=ENTERED_BY,
                        accident_uid=a.aid,
                        victim_status=v.status,
                        outcome=v.outcome,
                        sex=v.sex,
                        age=v.age,
                        activity_at_time=v.activity,
                    )
                )
                out.append(
                    VictimIdentity(
                        uid=self.uid("VID"),
                        date_of_information=a.when,
                        entered_by=ENTERED_BY,
                        victim_uid=vid,
                        full_name=v.name,
                        home_settlement=nearest,
                    )
                )
        for s in d.strikes:
            ((lon, lat),) = d.lonlat(s.center)
            out.append(
                ClusterStrike(
                    uid=s.sid,
                    date_of_information=date(2020, 12, 1),
                    entered_by=ENTERED_BY,
                    strike_date=s.strike_date,
                    munition_type=s.munition.name,
                    submunition_type=s.munition.submunition,
                    submunition_count=s.munition.count,
                    estimated_duds=round(s.munition.count * s.munition.dud_rate),
                    center_lon=lon,
                    center_lat=lat,
                    direction_deg=round(s.direction_deg, 1),
                    geometry=self.g(s.footprint),
                )
            )
        return out


def write_district(d: District, store: Store, step: Step | None = None) -> dict[str, int]:
    """Write the district into the store in one transaction; returns counts per layer."""
    say = step or (lambda _s: None)
    w = _Writer(d)
    with store.transaction():
        say("writing context layers")
        store.add_many(w.context())
        say("writing ground truth (restricted)")
        store.add_many(w.truth_items())
        say("writing minefield records")
        store.add_many(w.records())
        say("writing hazard areas with their history")
        versions = w.hazard_versions()
        store.add_many([v[0] for v in versions])
        for vs in versions:
            for k, v in enumerate(vs[1:], start=1):
                store.update(v, expected_version=k)
        say("writing activities, finds, casualties")
        store.add_many(w.operations())
        store.add_many(w.casualties())
        add_people(d, store)  # victim assistance, the missing, remains handovers: a random stream of its own
        minx, miny, maxx, maxy = d.to_wgs84(shapely.box(0, 0, d.land.size, d.land.size)).bounds
        store.set_area_of_interest((minx, miny, maxx, maxy))
        store.set_meta("metric_epsg", str(d.epsg))
        store.set_meta(
            "generator",
            json.dumps({"seed": d.cfg.seed, "size_km": d.cfg.size_km, "as_of": d.cfg.as_of.isoformat()}),
        )
        store.set_meta(
            "generator.record_errors",
            json.dumps(
                {
                    r.rid: {
                        "minefield": r.minefield.fid,
                        "error_class": r.error_class,
                        "shift_east_m": round(float(r.shift[0]), 2),
                        "shift_north_m": round(float(r.shift[1]), 2),
                        "rotation_deg": round(r.rotation_deg, 3),
                        "pivot_lonlat": [round(float(v), 7) for v in d.lonlat(r.minefield.landmark)[0]],
                    }
                    for r in d.records
                }
            ),
        )
    return store.counts()


def generate(store: Store, cfg: DistrictConfig | None = None, step: Step | None = None) -> District:
    d = build_district(cfg or DistrictConfig(), step)
    write_district(d, store, step)
    return d
