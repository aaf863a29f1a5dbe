"""The XLSX template a data clerk fills in from a paper bearing-and-distance minefield record.

Clerks copy handed-over paper records into spreadsheets anyway; giving them a
template with drop-down lists (bearing reference, units, point roles, mine
types) stops most typing errors at the source, and reading it back names the
sheet, row and column of every remaining error so the clerk can find the cell.

Sheets: ``Instructions``, ``Record`` (one value per line: source, date, bearing
reference, units …), ``Reference point`` (the landmark the chain starts from),
``Legs`` (each point from the previous one by bearing and distance) and
``Rows`` (mine rows between two points). ``read_xlsx_record`` gives the same
``TraverseRecord`` as the JSON/YAML format of ``safeground.minemaps.traverse_record``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from safeground.errors import InvalidInput, Problem
from safeground.minemaps.traverse_record import TraverseRecord
from safeground.model.vocab import EOType
from safeground.tabular import xlsx_value

ROLES = ["landmark", "benchmark", "start", "turning", "end"]
BEARING_REFERENCES = ["magnetic", "grid", "true"]
#: bearing units: degrees, NATO mils (6400 to the circle), Soviet/Russian "thousandths" (6000)
BEARING_UNITS = {"degrees": 360.0, "mils (6400)": 6400.0, "thousandths (6000)": 6000.0}
DISTANCE_UNITS = {"metres": 1.0, "feet": 0.3048, "yards": 0.9144}
MAX_LINES = 500  # data validation reaches this far down the sheets

# Record sheet: key, label, help, validation list
RECORD_FIELDS: list[tuple[str, str, str, list[str] | None]] = [
    ("source", "Source", "Who handed the record over (e.g. 'Handover batch 1')", None),
    ("source_reference", "Record number", "Number written on the paper record (e.g. 'No. 97')", None),
    ("date", "Date of the record", "Date the bearings were measured (YYYY-MM-DD)", None),
    ("bearing_reference", "Bearing reference", "magnetic, grid or true: as written on the record", BEARING_REFERENCES),
    ("declination_deg", "Magnetic declination (°)", "Only if written on the record (east positive)", None),
    ("bearing_unit", "Bearing unit", "degrees, mils (6400) or thousandths (6000)", list(BEARING_UNITS)),
    ("distance_unit", "Distance unit", "metres, feet or yards", list(DISTANCE_UNITS)),
]
START_COLUMNS = [
    ("label", "Label"),
    ("lon", "Longitude (decimal °)"),
    ("lat", "Latitude (decimal °)"),
    ("description", "Description"),
    ("grid", "Grid"),
    ("zone", "SK-42 zone"),
    ("x", "X: northing (m)"),
    ("y", "Y: easting (m)"),
]
#: the reference point's grid: WGS 84 degrees in columns B-C, or SK-42 X/Y in columns F-H (minemaps.sk42)
GRIDS = ["WGS 84", "SK-42"]
#: templates written before the SK-42 columns have only these
START_REQUIRED = 4
LEG_COLUMNS = [("label", "Point"), ("role", "Role"), ("bearing", "Bearing"), ("distance", "Distance")]
ROW_COLUMNS = [
    ("label", "Row"),
    ("from", "From point"),
    ("to", "To point"),
    ("mine_type", "Mine type"),
    ("mine_model", "Mine model"),
    ("mine_count", "Number of mines"),
]

INSTRUCTIONS = [
    "SafeGround minefield record (bearing and distance): how to fill in this workbook",
    "",
    "1. Record: one value per line in column B. Use the drop-down lists. Dates as YYYY-MM-DD.",
    "2. Reference point: the landmark the chain starts from (a building corner, a bridge): either in WGS 84 decimal",
    "   degrees (Longitude, Latitude), or as on a Soviet map: Grid SK-42 (Pulkovo 1942 Gauss-Kruger), its zone (8 for",
    "   Karabakh and west Azerbaijan 42-48°E, 9 for 48-54°E), X = northing and Y = easting in metres as written",
    "   (Y with the zone number in front, e.g. X 4389673, Y 8684825). SK-42 is converted to WGS 84 (EPSG:15865).",
    "3. Legs: one line per point, in the order of the record. Bearing and distance are FROM THE PREVIOUS POINT.",
    "   Role: benchmark (just outside the minefield), start, turning, end. An end point with the label of the start",
    "   point closes the perimeter; SafeGround reports how far the chain misses closing (the misclosure).",
    "4. Rows: each mine row from one point to another, with the mine type, model and number of mines.",
    "5. Leave unused lines empty. Do not rename the sheets or the header lines.",
    "",
    "Check it with: safeground maps traverse this-file.xlsx",
    "Errors name the sheet, the row and the column of the cell to correct.",
]


def write_template(path: str | Path, record: TraverseRecord | None = None, sk42_zone: int | None = None) -> Path:
    """Write the empty template (or one filled from a record, e.g. for a round trip or an example).

    With ``sk42_zone`` the empty template's reference point is set up for SK-42 X/Y of that zone.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    wb = Workbook()
    ins = wb.active
    ins.title = "Instructions"
    for line in INSTRUCTIONS:
        ins.append([line])
    ins["A1"].font = Font(bold=True, size=14)
    ins.column_dimensions["A"].width = 120

    rec = wb.create_sheet("Record")
    rec.append(["Field", "Value", "What to write"])
    values = _record_values(record)
    for i, (key, lbl, hint, choices) in enumerate(RECORD_FIELDS, start=2):
        rec.append([lbl, xlsx_value(values.get(key)), hint])
        rec.cell(i, 2).fill = fill
        if choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
            dv.error, dv.errorTitle = f"Choose one of: {', '.join(choices)}", "Not in the list"
            rec.add_data_validation(dv)
            dv.add(f"B{i}")
    rec.column_dimensions["A"].width, rec.column_dimensions["B"].width = 26, 30
    rec.column_dimensions["C"].width = 60

    start = wb.create_sheet("Reference point")
    start.append([c[1] for c in START_COLUMNS])
    if record:
        s = record.start
        if s.grid_zone is not None:
            start.append([xlsx_value(s.label), None, None, xlsx_value(s.description), "SK-42", s.grid_zone, s.x, s.y])
        else:
            start.append([xlsx_value(s.label), s.lon, s.lat, xlsx_value(s.description), "WGS 84"])
    elif sk42_zone is not None:
        from safeground.minemaps.sk42 import zone_epsg

        zone_epsg(sk42_zone)  # an unknown zone is refused before anything is written
        start.append([None, None, None, None, "SK-42", sk42_zone])
    _number_rule(start, "B", -180, 180)
    _number_rule(start, "C", -90, 90)
    _list_rule(start, "E", GRIDS)
    _number_rule(start, "F", 4, 32, whole=True)
    _number_rule(start, "G", 0, 10_000_000)
    _number_rule(start, "H", 0, 40_000_000)

    legs = wb.create_sheet("Legs")
    legs.append([c[1] for c in LEG_COLUMNS])
    for leg in record.legs if record else []:
        legs.append([xlsx_value(leg.label), leg.role, leg.bearing_deg, leg.distance_m])
    _list_rule(legs, "B", ROLES)
    _number_rule(legs, "C", 0, 6400)
    _number_rule(legs, "D", 0, 100_000)

    rows = wb.create_sheet("Rows")
    rows.append([c[1] for c in ROW_COLUMNS])
    for row in record.rows if record else []:
        rows.append([xlsx_value(v) for v in (row.label, row.start, row.end, row.mine_type.value, row.mine_model)]
                    + [row.mine_count])  # fmt: skip
    _list_rule(rows, "D", [m.value for m in EOType])
    _number_rule(rows, "F", 1, 100_000, whole=True)

    for ws in wb.worksheets[1:]:
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True)
        ws.freeze_panes = "A2"
        for col in "ABCDEFGH":
            ws.column_dimensions[col].width = max(ws.column_dimensions[col].width or 0, 16)
    path = Path(path)
    wb.save(path)
    return path


def _record_values(record: TraverseRecord | None) -> dict[str, Any]:
    if record is None:
        return {"bearing_unit": "degrees", "distance_unit": "metres"}
    return {
        "source": record.source,
        "source_reference": record.source_reference,
        "date": record.date.isoformat(),
        "bearing_reference": record.bearing_reference,
        "declination_deg": record.declination_deg,
        "bearing_unit": "degrees",
        "distance_unit": "metres",
    }


def _list_rule(ws: Any, col: str, choices: list[str]) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    dv.error, dv.errorTitle = f"Choose one of: {', '.join(choices)}", "Not in the list"
    ws.add_data_validation(dv)
    dv.add(f"{col}2:{col}{MAX_LINES}")


def _number_rule(ws: Any, col: str, lo: float, hi: float, whole: bool = False) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(type="whole" if whole else "decimal", operator="between", formula1=str(lo), formula2=str(hi))
    dv.error, dv.errorTitle = f"A number from {lo} to {hi}", "Not a number"
    ws.add_data_validation(dv)
    dv.add(f"{col}2:{col}{MAX_LINES}")


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def read_xlsx_record(path: str | Path) -> TraverseRecord:
    """Read a filled-in template; every problem names the sheet, row and column of its cell."""
    from openpyxl import load_workbook

    path = Path(path)
    src = path.name
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for corrupt or truncated workbooks
        raise InvalidInput([Problem(src, "file", "-", f"not a readable XLSX workbook: {exc}")]) from None
    missing = [s for s in ("Record", "Reference point", "Legs", "Rows") if s not in wb.sheetnames]
    if missing:
        raise InvalidInput(
            [Problem(src, "workbook", "sheets", f"missing sheet(s): {', '.join(missing)}", wb.sheetnames)],
            hint_text="start from the template: safeground maps template record.xlsx",
        )
    problems: list[Problem] = []
    cells: dict[tuple[Any, ...], str] = {}  # pydantic location → "sheet 'Legs', row 4, column C (Bearing)"

    # Record sheet: label in A, value in B
    by_label = {lbl: key for key, lbl, _, _ in RECORD_FIELDS}
    head: dict[str, Any] = {}
    for n, row in enumerate(wb["Record"].iter_rows(min_row=2, values_only=True), start=2):
        if not row or row[0] is None:
            continue
        key = by_label.get(str(row[0]).strip())
        if key is None:
            continue
        value = row[1] if len(row) > 1 else None
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None:
            head[key] = value.date() if hasattr(value, "date") and callable(value.date) else value
        cells[(key,)] = f"sheet 'Record', row {n}, column B ({row[0]})"
    bearing_unit = str(head.pop("bearing_unit", "degrees"))
    distance_unit = str(head.pop("distance_unit", "metres"))
    per_circle, per_unit = BEARING_UNITS.get(bearing_unit), DISTANCE_UNITS.get(distance_unit)
    if per_circle is None:
        problems.append(
            Problem(
                src,
                cells.get(("bearing_unit",), "sheet 'Record'"),
                "Bearing unit",
                f"choose one of: {', '.join(BEARING_UNITS)}",
                bearing_unit,
            )
        )
    if per_unit is None:
        problems.append(
            Problem(
                src,
                cells.get(("distance_unit",), "sheet 'Record'"),
                "Distance unit",
                f"choose one of: {', '.join(DISTANCE_UNITS)}",
                distance_unit,
            )
        )

    def table(
        sheet: str, columns: list[tuple[str, str]], required: int | None = None
    ) -> list[tuple[int, dict[str, Any]]]:
        ws = wb[sheet]
        it = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in (next(it, None) or [])]
        expected = [c[1] for c in columns]
        if header[: len(expected)] != expected:
            n = required or len(expected)  # an older template without the optional last columns is read too
            if header[:n] != expected[:n] or any(header[n : len(expected)]):
                problems.append(Problem(src, f"sheet '{sheet}', row 1", "header", f"expected {expected}", header))
                return []
            columns = columns[:n]
        out = []
        for n, values in enumerate(it, start=2):
            values = list(values or [])[: len(columns)]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            values += [None] * (len(columns) - len(values))
            item = {}
            for (key, _), v in zip(columns, values, strict=True):
                if isinstance(v, str):
                    v = v.strip() or None
                if v is not None:
                    item[key] = v
            out.append((n, item))
        return out

    starts = table("Reference point", START_COLUMNS, START_REQUIRED)
    legs = table("Legs", LEG_COLUMNS)
    rows = table("Rows", ROW_COLUMNS)
    wb.close()
    if len(starts) != 1:
        problems.append(
            Problem(src, "sheet 'Reference point'", "-", f"one reference point is needed, found {len(starts)}")
        )
    if problems:
        raise InvalidInput(problems)
    n0, start = starts[0]
    for j, (key, lbl) in enumerate(START_COLUMNS, start=1):
        cells[("start", key)] = f"sheet 'Reference point', row {n0}, column {_letter(j)} ({lbl})"
    cells[("start",)] = f"sheet 'Reference point', row {n0}"
    grid = str(start.pop("grid", "") or "").strip()
    if grid.upper().replace(" ", "") in ("WGS84", "WGS-84", "EPSG:4326"):
        grid = ""
    if grid or any(k in start for k in ("zone", "x", "y")):
        start["crs"] = grid or "SK-42"
        cells[("start", "crs")] = cells[("start", "grid")]
    data: dict[str, Any] = {**head, "start": start, "legs": [], "rows": []}
    for i, (n, leg) in enumerate(legs):
        out: dict[str, Any] = {"label": leg.get("label"), "role": leg.get("role", "turning")}
        for key, factor, target in (
            ("bearing", 360.0 / (per_circle or 360.0), "bearing_deg"),
            ("distance", per_unit or 1.0, "distance_m"),
        ):
            raw = leg.get(key)
            try:
                out[target] = float(raw) * factor if raw is not None else None
            except (TypeError, ValueError):
                out[target] = raw  # pydantic names it: not a number
        if out["label"] is None:
            del out["label"]
        data["legs"].append(out)
        for j, (key, lbl) in enumerate(LEG_COLUMNS, start=1):
            target = {"bearing": "bearing_deg", "distance": "distance_m"}.get(key, key)
            cells[("legs", i, target)] = f"sheet 'Legs', row {n}, column {_letter(j)} ({lbl})"
        cells[("legs", i)] = f"sheet 'Legs', row {n}"
    for i, (n, row) in enumerate(rows):
        data["rows"].append(row)
        for j, (key, lbl) in enumerate(ROW_COLUMNS, start=1):
            cells[("rows", i, key)] = f"sheet 'Rows', row {n}, column {_letter(j)} ({lbl})"
        cells[("rows", i)] = f"sheet 'Rows', row {n}"
    try:
        return TraverseRecord.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = cells.get(loc[:3]) or cells.get(loc[:2]) or cells.get(loc[:1])
            if where is None:
                where = "sheet 'Record'" if len(loc) == 1 else f"sheet '{loc[0]}'"
            value = err.get("input") if not isinstance(err.get("input"), dict) else None
            problems.append(Problem(src, where, ".".join(map(str, loc)), err["msg"], value))
        raise InvalidInput(problems) from exc
