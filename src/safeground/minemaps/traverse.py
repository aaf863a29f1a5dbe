"""Minefield records drawn by bearing and distance (Amended Protocol II, Technical Annex).

An operator's record is a chain: a landmark with known coordinates, then a
benchmark, then start, turning and end points, each given by a bearing and a
distance from the previous point; rows run between named points. This module
computes every point, the perimeter and the expected position of every mine.

Bearings may be magnetic, true or grid. Magnetic bearings are turned into true
ones with the declination (given, or computed for the record's date and place
with the World Magnetic Model through ``pygeomag``), and true into grid with the
meridian convergence of the UTM zone; the answer states which was applied. The
traverse misclosure (how far a chain that should close on a point misses it) is
reported, and a record above the user's threshold is refused.

The record itself (what a clerk writes, and its format) is ``traverse_record``; the XLSX template
and its reader are ``traverse_xlsx``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pydantic import ValidationError
from pyproj import Proj

from safeground.errors import InvalidInput, Param, Problem
from safeground.geometry.projection import from_wgs84, project, utm_epsg
from safeground.minemaps.traverse_record import TraverseRecord
from safeground.minemaps.traverse_xlsx import read_xlsx_record
from safeground.model.same import BOOKKEEPING, same_geometry, same_record
from safeground.model.vocab import EOStatus, EOType
from safeground.storage.base import format_uid


@dataclass
class TraverseResult:
    points: dict[str, tuple[float, float]]  # label → lon, lat (the first position of a label)
    perimeter: shapely.Polygon | None  # WGS 84, from start/turning/end points
    mines: list[tuple[str, EOType, str | None, np.ndarray]]  # row label, type, model, (n, 2) lon/lat
    misclosure_m: float | None
    bearing_note: str
    epsg: int
    warnings: list[str] = field(default_factory=list)


def declination(lon: float, lat: float, when: date) -> tuple[float, str]:
    """Magnetic declination (degrees east) from the World Magnetic Model of the record's epoch."""
    from pygeomag import GeoMag

    year = when.year + (when.timetuple().tm_yday - 0.5) / 365.25
    epochs = {2010: "wmm/WMM_2010.COF", 2015: "wmm/WMM_2015v2.COF", 2020: "wmm/WMM_2020.COF", 2025: "wmm/WMM_2025.COF"}
    epoch = max((e for e in epochs if e <= year), default=None)
    if epoch is None or year >= 2030:
        raise ValueError(
            f"no World Magnetic Model for {when.isoformat()} (models cover 2010–2029): give declination_deg"
        )
    d = GeoMag(coefficients_file=epochs[epoch]).calculate(glat=lat, glon=lon, alt=0, time=year).d
    return float(d), f"WMM{epoch}"


def solve(record: TraverseRecord, *, max_misclosure_m: float | None = 5.0, src: str = "record") -> TraverseResult:
    """All points, the perimeter and every mine of a bearing-and-distance record."""
    s = record.start
    assert s.lon is not None and s.lat is not None  # StartPoint sets them (converted from SK-42 if given so)
    epsg = utm_epsg(s.lon, s.lat)
    proj = Proj(f"EPSG:{epsg}")
    factors = proj.get_factors(s.lon, s.lat)
    convergence = float(factors.meridian_convergence)  # grid north is this far from true north
    scale = float(factors.meridional_scale)  # ground distance × point scale factor = grid distance
    zone = s.grid_zone
    if record.bearing_reference == "grid" and zone is not None:
        # grid bearings of a Soviet record are on its Gauss–Krüger zone's grid, not on UTM's
        from safeground.minemaps.sk42 import grid_convergence

        gk = grid_convergence(s.lon, s.lat, zone)
        to_grid = gk - convergence
        note = (
            f"grid bearings on SK-42 Gauss–Krüger zone {zone}: its convergence {gk:+.2f}° and UTM's "
            f"{convergence:+.2f}° at {s.label}: {to_grid:+.2f}° added to every bearing"
        )
    elif record.bearing_reference == "grid":
        to_grid, note = 0.0, "bearings are grid bearings: used as given"
    else:
        decl, model = 0.0, ""
        if record.bearing_reference == "magnetic":
            if record.declination_deg is not None:
                decl, model = record.declination_deg, "as given on the record"
            else:
                try:
                    decl, model = declination(s.lon, s.lat, record.date)
                except ValueError as exc:
                    raise InvalidInput([Problem(src, "record", "declination_deg", str(exc))]) from exc
        to_grid = decl - convergence
        head = (
            f"magnetic bearings: declination {decl:+.2f}° ({model}, {record.date.isoformat()}) and "
            if record.bearing_reference == "magnetic"
            else "true bearings: "
        )
        note = head + f"grid convergence {convergence:+.2f}° at {s.label}: {to_grid:+.2f}° added to every bearing"
    x, y = from_wgs84(epsg).transform(s.lon, s.lat)
    pos: dict[str, np.ndarray] = {s.label: np.array([x, y])}
    chain = [np.array([x, y])]
    misclosure = None
    closing_label = None
    perimeter_labels: list[str] = []
    for leg in record.legs:
        b = np.deg2rad((leg.bearing_deg + to_grid) % 360.0)
        d = leg.distance_m * scale
        p = chain[-1] + d * np.array([np.sin(b), np.cos(b)])
        chain.append(p)
        if leg.label in pos:  # back at a point already placed (start, benchmark or landmark): the chain closes
            miss = float(np.hypot(*(p - pos[leg.label])))
            if misclosure is None or miss > misclosure:  # the worst closure is the one to judge
                misclosure, closing_label = miss, leg.label
        else:
            pos[leg.label] = p
        if leg.role in ("start", "turning", "end") and leg.label not in perimeter_labels:
            perimeter_labels.append(leg.label)
    warnings: list[str] = []
    if misclosure is None:
        warnings.append(
            "the chain never returns to a point it has already placed, so its misclosure cannot be checked: "
            "a record whose last leg comes back to its start or benchmark can be"
        )
    if misclosure is not None and max_misclosure_m is not None and misclosure > max_misclosure_m:
        raise InvalidInput(
            [
                Problem(
                    src,
                    f"leg closing on {closing_label}",
                    "bearing_deg/distance_m",
                    f"traverse misclosure {misclosure:.1f} m exceeds the allowed {max_misclosure_m:g} m",
                )
            ],
            hint_text=f"check the bearings and distances of the legs (or raise {Param('max_misclosure')} knowingly)",
        )
    perimeter = None
    if len(perimeter_labels) >= 3:
        ring = shapely.Polygon([pos[lb] for lb in perimeter_labels])
        if not ring.is_valid:
            warnings.append("the turning points do not form a simple polygon: perimeter is their convex hull")
            ring = shapely.MultiPoint([pos[lb] for lb in perimeter_labels]).convex_hull
        perimeter = project(ring, epsg, 4326)
    mines = []
    problems = []
    for i, row in enumerate(record.rows, start=1):
        missing = [lb for lb in (row.start, row.end) if lb not in pos]
        if missing:
            problems.append(
                Problem(src, f"row {i} ({row.label})", "from/to", f"no point {', '.join(missing)} in the legs")
            )
            continue
        a, b = pos[row.start], pos[row.end]
        t = np.linspace(0.0, 1.0, row.mine_count)[:, None] if row.mine_count > 1 else np.zeros((1, 1))
        xy = a + t * (b - a)
        ll = shapely.get_coordinates(project(shapely.points(xy), epsg, 4326))
        mines.append((row.label, row.mine_type, row.mine_model, ll))
    if problems:
        raise InvalidInput(problems)
    points = {lb: tuple(shapely.get_coordinates(project(shapely.Point(p), epsg, 4326))[0]) for lb, p in pos.items()}
    if zone is not None:
        from safeground.minemaps.sk42 import TRANSFORMATION_NAME

        note = (
            f"{s.label} given on SK-42 Gauss–Krüger zone {zone} (EPSG:{28400 + zone}), converted to WGS 84 "
            f"with {TRANSFORMATION_NAME}; " + note
        )
    return TraverseResult(points, perimeter, mines, misclosure, note, epsg, warnings)


def read_record(path: str | Path) -> TraverseRecord:
    """Read and validate a record file; every problem is named with its leg or row and field."""
    path = Path(path)
    src = path.name
    if path.suffix.lower() in (".xlsx", ".xlsm"):  # the clerk's template: safeground.minemaps.traverse_xlsx
        return read_xlsx_record(path)
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    from safeground.intake.yamlsafe import load_json, load_yaml, read_text

    text = read_text(path, src)  # UTF-8, or UTF-16/32 with a byte order mark; else a message saying so
    data: Any = load_yaml(text, src) if path.suffix.lower() in (".yaml", ".yml") else load_json(text, src)
    try:
        return TraverseRecord.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            item = "record"
            if len(loc) >= 2 and loc[0] in ("legs", "rows") and isinstance(loc[1], int):
                item = f"{loc[0][:-1]} {loc[1] + 1}"
                loc = loc[2:]
            problems.append(Problem(src, item, ".".join(map(str, loc)) or "-", err["msg"], err.get("input")))
        raise InvalidInput(problems) from exc


def to_records(record: TraverseRecord, result: TraverseResult, store: Any, entered_by: str) -> list[Any]:
    """The minefield record and its recorded mines, ready to store in one transaction."""
    from safeground.model import EOItem, MinefieldRecord, MineRow, ReferencePoint

    if result.perimeter is None:
        raise InvalidInput(
            [Problem("record", "legs", "role", "fewer than three start/turning/end points: no perimeter")]
        )
    uid = store.next_uid(MinefieldRecord)
    assert record.start.lon is not None and record.start.lat is not None  # StartPoint sets them
    refs = [
        ReferencePoint(
            label=record.start.label,
            role="landmark",
            lon=record.start.lon,
            lat=record.start.lat,
            description=record.start.description,
        )
    ]
    seen = {record.start.label}
    for leg in record.legs:
        if leg.label in seen:
            continue
        seen.add(leg.label)
        lon, lat = result.points[leg.label]
        refs.append(
            ReferencePoint(
                label=leg.label,
                role=leg.role,
                lon=lon,
                lat=lat,
                bearing_deg=leg.bearing_deg,
                bearing_reference=record.bearing_reference,
                distance_m=leg.distance_m,
            )
        )
    rows: list[MineRow] = []
    expected: dict[EOType, int] = {}
    for row in record.rows:
        (slon, slat), (elon, elat) = result.points[row.start], result.points[row.end]
        rows.append(
            MineRow(
                label=row.label,
                mine_type=row.mine_type,
                mine_model=row.mine_model,
                start_lon=slon,
                start_lat=slat,
                end_lon=elon,
                end_lat=elat,
                mine_count=row.mine_count,
            )
        )
        expected[row.mine_type] = expected.get(row.mine_type, 0) + row.mine_count
    out: list[Any] = [
        MinefieldRecord(
            uid=uid,
            date_of_information=record.date,
            entered_by=entered_by,
            source=record.source,
            source_reference=record.source_reference,
            date_received=record.date,
            reference_points=refs,
            rows=rows,
            expected_mines=expected,
            notes=result.bearing_note,
            geometry=result.perimeter,
        )
    ]
    first = store.max_uid_number(EOItem)
    k = 0
    for label, eo_type, model, xy in result.mines:
        for j, (lon, lat) in enumerate(xy, start=1):
            k += 1
            out.append(
                EOItem(
                    uid=format_uid(EOItem.UID_PREFIX, first + k),
                    date_of_information=record.date,
                    entered_by=entered_by,
                    status=EOStatus.RECORDED,
                    eo_type=eo_type,
                    eo_model=model,
                    minefield_record_uid=uid,
                    row_label=f"{label}#{j}",
                    geometry=shapely.Point(lon, lat),
                )
            )
    return out


@dataclass
class SaveOutcome:
    """What saving a record did: ``create``, ``update``, ``unchanged`` or ``older``."""

    action: str
    uid: str
    mines_created: int = 0
    mines_updated: int = 0
    notes: list[str] = field(default_factory=list)


#: a sheet saved again (a later date, another clerk) with the same content is the same record
_RESAVED = BOOKKEEPING | {"uid", "date_of_information", "date_received"}


def _same_mine(a: Any, b: Any) -> bool:
    """A recorded mine is its type at its place: the rest (uid, dates, row) follows from the record."""
    return a.eo_type == b.eo_type and same_geometry(a.geometry, b.geometry)


def _check_area(store: Any, record: TraverseRecord, result: TraverseResult) -> None:
    """Refuse a record far (over 0.5°, ~50 km) outside the store's area of interest: a mistyped
    coordinate, a wrong SK-42 zone, or the record of another region."""
    aoi = store.area_of_interest()
    if not aoi or result.perimeter is None:
        return
    w, s, e, n = aoi
    if result.perimeter.intersects(shapely.box(w - 0.5, s - 0.5, e + 0.5, n + 0.5)):
        return
    c = result.perimeter.centroid
    grid = f" (given on SK-42 zone {record.start.grid_zone}: right zone, X and Y?)" if record.start.grid_zone else ""
    raise InvalidInput(
        [
            Problem(
                "record",
                "start",
                "lon/lat" if not grid else "x/y",
                f"the record lies at {c.y:.4f} N {c.x:.4f} E, outside the store's area of interest "
                f"(lon {w}…{e}, lat {s}…{n}){grid}",
            )
        ],
        hint_text="check the reference point's coordinates (or the store: 'safeground db area')",
    )


def save_record(store: Any, record: TraverseRecord, result: TraverseResult, entered_by: str) -> SaveOutcome:
    """Store a computed record and its recorded mines, once: a record is identified by source and number.

    Saving the same sheet twice must not double the mines a minefield holds (the
    accuracy scoring would count them twice). The same source and record number
    again is: unchanged (nothing written), a correction with a later date (new
    versions of the record and of each recorded mine, matched by row and place in
    the row; the old versions go to history), or an older or same-dated
    difference, which is refused or reported as every import does.
    """
    from safeground.intake.locate import refuse_outside_area
    from safeground.model import EOItem, MinefieldRecord

    _check_area(store, record, result)
    with store.transaction():
        recs = to_records(record, result, store, entered_by)
        refuse_outside_area(store, [getattr(r, "geometry", None) for r in recs], f"{record.source} record")
        new, mines = recs[0], recs[1:]
        if record.source_reference:
            stored = list(store.find(MinefieldRecord, source=record.source, source_reference=record.source_reference))
        else:  # no number on the sheet: only an identical perimeter from the same source is the same record
            stored = [
                r for r in store.find(MinefieldRecord, source=record.source) if same_geometry(r.geometry, new.geometry)
            ]
        if not stored:
            store.add_many(recs)
            return SaveOutcome("create", new.uid, mines_created=len(mines))
        old = stored[0]
        label = f"{record.source} {record.source_reference or '(no number)'}"
        old_mines = {m.row_label: m for m in store.find(EOItem, minefield_record_uid=old.uid, status="recorded")}
        same_mines = len(old_mines) == len(mines) and all(
            m.row_label in old_mines and _same_mine(old_mines[m.row_label], m) for m in mines
        )
        if same_record(new, old, ignore=_RESAVED) and same_mines:
            return SaveOutcome("unchanged", old.uid, notes=[f"{label} is already stored as {old.uid}; nothing saved"])
        if record.date < old.date_of_information:
            return SaveOutcome(
                "older",
                old.uid,
                notes=[f"{label} is stored as {old.uid} with information of {old.date_of_information}, newer than "
                       f"this sheet's {record.date}: not applied"],
            )  # fmt: skip
        if record.date == old.date_of_information:
            raise InvalidInput(
                [Problem(record.source, label, "date", f"differs from the stored {old.uid} (version {old.version}) "
                         "but has the same date: a corrected record needs the date of its new information",
                         str(record.date))],
                hint_text="give the corrected sheet the date the correction was made",
            )  # fmt: skip
        data = new.model_dump()
        data.update(uid=old.uid, version=old.version, change_reason=f"corrected sheet of {record.date}")
        store.update(MinefieldRecord.model_validate(data), expected_version=old.version)
        out = SaveOutcome("update", old.uid)
        fresh = []
        next_no = store.max_uid_number(EOItem)
        for m in mines:
            prev = old_mines.pop(m.row_label, None)
            if prev is None:
                next_no += 1
                uid = format_uid(EOItem.UID_PREFIX, next_no)
                fresh.append(m.model_copy(update={"uid": uid, "minefield_record_uid": old.uid}))
                continue
            if _same_mine(prev, m):
                continue
            d = m.model_dump()
            d.update(uid=prev.uid, version=prev.version, minefield_record_uid=old.uid,
                     change_reason=f"corrected sheet of {record.date}")  # fmt: skip
            store.update(EOItem.model_validate(d), expected_version=prev.version)
            out.mines_updated += 1
        if fresh:
            store.add_many(fresh)
        out.mines_created = len(fresh)
        if old_mines:
            out.notes.append(
                f"{len(old_mines)} recorded mines of {old.uid} are not on the corrected sheet and were left as they "
                f"were (e.g. {', '.join(sorted(m.uid for m in old_mines.values())[:3])}): review them"
            )
        return out
