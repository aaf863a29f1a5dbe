"""Import field reports sent from phones, as KoboToolbox and ODK Central export them.

Accepted exports of the forms in ``safeground.intake.forms``:

* KoboToolbox CSV ("XML values and headers", group separator ``/``, ``,`` or
  ``;`` delimited) and its XLS(X) export, where each repeat group is a sheet
  joined to the main sheet by ``_index`` / ``_parent_index``; repeat groups
  exported as separate CSV files are given as further files (their name ends
  with the repeat's name, e.g. ``accident_report-victims.csv``);
* ODK Central CSV (group separator ``-``, geopoints split into ``-Latitude``,
  ``-Longitude``, ``-Altitude``, ``-Accuracy`` columns, repeat files joined by
  ``PARENT_KEY`` → ``KEY``);
* JSON: the KoboToolbox API v2 ``/data`` answer (``{"results": [...]}``, repeat
  groups as nested lists), a plain list of submissions, or ODK Central's OData
  ``{"value": [...]}`` (nested groups, GeoJSON geopoints).

GPS values are ODK strings: a geopoint ``"lat lon alt acc"``, a geotrace or
geoshape ``"lat lon alt acc;lat lon alt acc;…"`` (latitude first!).

Every submission becomes SafeGround records whose identifiers derive from the
submission's identity (``ACC-<uuid>``, ``VIC-<uuid>-<victim>`` …): the uuid is
the source reference, so importing the same export twice creates nothing new; a
submission with a newer date of information updates its record (the old version
stays in history), an older or conflicting one is reported.

The identity survives edits: Kobo's ``meta/rootUuid`` or ODK Central's ``KEY`` /
``__id`` when the export has them, else the ``_uuid`` / ``instanceID``, with an
edit (``meta/deprecatedID`` = the instance it replaces) matched to the record of
that instance; the instance ids of edits are remembered in the store's metadata
(``form_instance:<id>``) so a chain of edits keeps finding its record. Victims are
told apart by the form's hidden ``victim_id`` (``VIC-<uuid>-<first 8 of it>``); an
export without it falls back to the position in the repeat (``VIC-<uuid>-1``), and
a newer version with a different number of victims is then refused, not re-mapped.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import shapely
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from safeground.errors import InvalidInput, Problem, SafeGroundError
from safeground.intake.commit import WritePlan, commit
from safeground.intake.forms import FORMS, FormDefinition, kobo
from safeground.intake.textin import refuse_repeated_headers
from safeground.model import Accident, EOItem, Evidence, HazardArea, Victim, VictimIdentity
from safeground.model import vocab as v
from safeground.model.base import Record
from safeground.storage.base import Store

GEO_PARTS = {"latitude": 0, "longitude": 1, "altitude": 2, "accuracy": 3}
_UUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,50}$")


@dataclass
class Submission:
    """One submission: values by field name (group path dropped) and its repeat groups."""

    source: str
    item: str  # "submission <uuid>" (or the row when there is no uuid)
    uuid: str | None  # the submission's identity, the same for every version (records' uids derive from it)
    values: dict[str, Any]
    repeats: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: this version's own instance id (Kobo ``_uuid`` / ``meta/instanceID``): changes with each edit
    instance: str | None = None
    #: the instance id of the version this one replaces (``meta/deprecatedID``), when it is an edit
    deprecated: str | None = None
    #: ``uuid`` came from an identity that stays the same across edits (Kobo rootUuid, ODK Central KEY / __id)
    stable: bool = False
    #: the victims' uids, in the order of the repeat, and whether some are known only by their position
    victim_uids: list[str] = field(default_factory=list)
    victims_by_position: bool = False

    @property
    def rejected(self) -> str | None:
        return _rejected(self.values)


# -- reading exports ----------------------------------------------------------------------


def form_definition(name: str) -> FormDefinition:
    if name not in FORMS:
        raise SafeGroundError(f"unknown form {name!r}", hint=f"choose one of: {', '.join(FORMS)}")
    return FORMS[name]


def _repeat_names(form: FormDefinition) -> list[str]:
    return [q["name"] for q in form.survey if q["type"] == "begin_repeat"]


def _short(key: str) -> tuple[str, int | None]:
    """Field name of an export column, and which part of a split geopoint it is (ODK Central)."""
    parts = [p for p in re.split(r"[/\-]", str(key)) if p]
    if not parts:
        return str(key), None
    last = parts[-1]
    if last.lower() in GEO_PARTS and len(parts) >= 2:
        return parts[-2], GEO_PARTS[last.lower()]
    return last, None


def _collapse(row: dict[str, Any]) -> dict[str, Any]:
    """Column → value becomes field → value; ODK Central's split geopoints are put back together."""
    out: dict[str, Any] = {}
    geo: dict[str, list[str]] = {}
    for key, value in row.items():
        if key is None:
            continue
        name, part = _short(key)
        if part is not None:
            geo.setdefault(name, ["", "", "", ""])[part] = "" if value is None else str(value).strip()
            continue
        if name in out and out[name] not in (None, "") and value in (None, ""):
            continue
        out[name] = value
    for name, parts in geo.items():
        if out.get(name) in (None, "") and any(parts[:2]):  # a half-given position stays visibly wrong
            out[name] = " ".join(p or "?" for p in (parts if all(parts[2:]) else parts[:2]))
    return out


#: identities that stay the same when a submission is edited: Kobo's rootUuid, ODK Central's KEY (CSV) and
#: __id (OData), which are the first instanceID of the submission
_STABLE_IDS = ("rootUuid", "KEY", "__id")
#: this version's own instance id: a new one with each edit (the previous one becomes its deprecatedID)
_INSTANCE_IDS = ("_uuid", "instanceID")


def _id_text(raw: Any) -> str | None:
    if raw in (None, "") or isinstance(raw, (dict, list)):
        return None
    text = str(raw).strip()
    text = text[5:] if text.lower().startswith("uuid:") else text
    return text or None


def _first_id(values: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((t for k in keys if (t := _id_text(values.get(k))) is not None), None)


def _submission(source: str, item_default: str, values: dict[str, Any], repeats: dict | None = None) -> Submission:
    """A submission with its identity, its own instance id and (when it is an edit) the one it replaces.

    The identity is a stable id when the export has one, else this version's instance id; an edit
    without a stable id is matched to its record later, from its deprecatedID (``resolve_edits``).
    """
    stable = _first_id(values, _STABLE_IDS)
    instance = _first_id(values, _INSTANCE_IDS)
    uuid = stable or instance
    return Submission(
        source,
        f"submission {uuid}" if uuid else item_default,
        uuid,
        values,
        repeats if repeats is not None else {},
        instance=instance,
        deprecated=_id_text(values.get("deprecatedID")),  # meta/deprecatedID (Kobo), meta-deprecatedID (Central)
        stable=stable is not None,
    )


def _rejected(values: dict[str, Any]) -> str | None:
    """Why a reviewer rejected the submission (ODK Central review state, Kobo validation status), if so."""
    if str(values.get("ReviewState") or values.get("reviewState") or "").strip().lower() == "rejected":
        return "rejected in ODK Central (ReviewState)"
    status = str(values.get("_validation_status") or "").strip().lower()
    if status in ("validation_status_not_approved", "not approved"):
        return "not approved in KoboToolbox (_validation_status)"
    return None


def read_exports(form: FormDefinition, paths: list[Path]) -> list[Submission]:
    """All submissions in one export (CSV, XLSX or JSON, plus repeat CSVs), joined with their repeats."""
    if not paths:
        raise SafeGroundError("no submission file given")
    for p in paths:
        if not p.exists():
            raise InvalidInput([Problem(p.name, "file", "-", "file not found")])
    if len(paths) == 1 and paths[0].suffix.lower() == ".zip":
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            return read_exports(form, _unzip(paths[0], Path(tmp)))
    repeats = _repeat_names(form)
    main, extra = kobo.split_exports(form, repeats, paths)  # repeat files known by their columns, not names
    if len(main) != 1:
        raise InvalidInput(
            [
                Problem(
                    ", ".join(p.name for p in paths), "files", "-", "give one main export and its repeat-group files"
                )
            ],
            hint_text="a repeat-group file has Kobo's _parent_index/_submission__uuid (or ODK Central's PARENT_KEY) "
            "columns; this form's repeats: " + (", ".join(repeats) or "(none)"),
        )
    path = main[0]
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _from_json(path, repeats)
    if suffix in (".xlsx", ".xlsm"):
        main_rows, repeat_rows = _read_xlsx(path, repeats, form)
    else:
        main_rows = _read_csv(path)
        repeat_rows = {}
        for p, rep in extra.items():
            if rep in repeat_rows:
                raise InvalidInput([Problem(p.name, "file", "-", f"a second file of the repeat {rep}")])
            repeat_rows[rep] = (p.name, _read_csv(p))
    main_rows = kobo.relabel(form, path.name, main_rows)  # Kobo's default "Labels" export, groups in headers
    repeat_rows = {r: (src, kobo.relabel(form, src, rows, r)) for r, (src, rows) in repeat_rows.items()}
    return _join(path.name, main_rows, repeat_rows)


def _unzip(path: Path, into: Path) -> list[Path]:
    """The CSV files of an ODK Central / KoboToolbox zip export (media folders are left out)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.lower().endswith(".csv") and "/" not in n.strip("/")]
            out = []
            for n in names:
                target = into / Path(n).name
                target.write_bytes(z.read(n))
                out.append(target)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
        raise InvalidInput([Problem(path.name, "file", "-", f"not a readable zip export: {exc}")]) from None
    if not out:
        raise InvalidInput([Problem(path.name, "file", "-", "no CSV file in the zip export")])
    return out


def _decode(path: Path) -> str:
    from safeground.intake.textin import decode

    return decode(path.read_bytes(), path.name)  # UTF-8, or UTF-16/32 with a byte order mark


def _read_csv(path: Path) -> list[tuple[int, dict[str, Any]]]:
    text = _decode(path)
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise InvalidInput([Problem(path.name, "file", "-", "empty file: no header line")])
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        refuse_repeated_headers(list(reader.fieldnames or []), path.name)
        rows = []
        for row in reader:
            if None in row:
                raise InvalidInput(
                    [Problem(path.name, f"line {reader.line_num}", "-", "more values than columns", row[None])]
                )
            rows.append((reader.line_num, dict(row)))
    except csv.Error as exc:
        raise InvalidInput([Problem(path.name, "file", "-", f"not a readable CSV file: {exc}")]) from None
    return rows


def _read_xlsx(
    path: Path, repeats: list[str], form: FormDefinition | None = None
) -> tuple[list[tuple[int, dict]], dict[str, tuple[str, list]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt or truncated workbook
        raise InvalidInput([Problem(path.name, "file", "-", f"not a readable XLSX workbook: {exc}")]) from None

    def sheet_rows(ws: Any) -> list[tuple[int, dict[str, Any]]]:
        it = ws.iter_rows(values_only=True)
        header = next(it, None)
        if not header:
            return []
        refuse_repeated_headers([h for h in header if h is not None], f"{path.name} sheet {ws.title}", "row 1")
        out = []
        for n, values in enumerate(it, start=2):
            if values is None or all(x is None for x in values):
                continue
            out.append((n, {str(h): x for h, x in zip(header, values, strict=False) if h is not None}))
        return out

    sheets = wb.sheetnames
    main = sheet_rows(wb[sheets[0]])
    reps = {}
    for name in sheets[1:]:
        rows = sheet_rows(wb[name])
        rep = next((r for r in repeats if name.startswith(r[:31]) or r.startswith(name)), None)
        if rep is None and form is not None and rows and kobo.is_repeat(list(rows[0][1])):  # a renamed sheet
            rep = kobo.repeat_of(form, repeats, list(rows[0][1]), f"{path.name} sheet {name}")
        if rep:
            reps[rep] = (f"{path.name} sheet {name}", rows)
    wb.close()
    return main, reps


def _key(value: Any) -> str:
    """An _index as text, the same whether a spreadsheet gave 3, 3.0 or '3'."""
    return str(value).strip().removesuffix(".0")


def _join(src: str, main_rows: list, repeat_rows: dict[str, tuple[str, list]]) -> list[Submission]:
    subs: list[Submission] = []
    by_index: dict[str, Submission] = {}
    by_key: dict[str, Submission] = {}
    for line, row in main_rows:
        sub = _submission(src, f"row {line}", _collapse(row))
        values = sub.values
        subs.append(sub)
        if values.get("_index") not in (None, ""):
            by_index[_key(values["_index"])] = sub
        if row.get("KEY"):
            by_key[str(row["KEY"]).strip()] = sub
    problems = []
    for rep, (rsrc, rows) in repeat_rows.items():
        for line, row in rows:
            values = _collapse(row)
            parent = None
            if row.get("PARENT_KEY"):
                parent = by_key.get(str(row["PARENT_KEY"]).strip())
            elif values.get("_parent_index") not in (None, ""):
                parent = by_index.get(_key(values["_parent_index"]))
            elif values.get("_submission__uuid"):
                ref = _id_text(values["_submission__uuid"])  # Kobo: the _uuid of this version
                parent = next((s for s in subs if ref in (s.instance, s.uuid)), None)
            if parent is None:
                ref = row.get("PARENT_KEY") or values.get("_parent_index")
                problems.append(Problem(rsrc, f"row {line}", "_parent_index/PARENT_KEY", "no such submission", ref))
                continue
            parent.repeats.setdefault(rep, []).append(values)
    if problems:
        raise InvalidInput(problems)
    return subs


def _from_json(path: Path, repeats: list[str]) -> list[Submission]:
    from safeground.intake.yamlsafe import load_json

    # no size bound (an export of a year of submissions is large), but depth and repeated keys are checked
    data = load_json(_decode(path), path.name, max_bytes=None)
    if isinstance(data, dict):
        data = data.get("results", data.get("value"))
    if not isinstance(data, list):
        raise InvalidInput(
            [Problem(path.name, "file", "results", "expected a list of submissions (Kobo 'results' / OData 'value')")]
        )
    subs = []
    for i, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise InvalidInput([Problem(path.name, f"entry {i}", "-", "a submission must be a JSON object", entry)])
        flat: dict[str, Any] = {}
        reps: dict[str, list[dict[str, Any]]] = {}
        _flatten(entry, "", flat, reps, repeats)
        subs.append(_submission(path.name, f"entry {i}", _collapse(flat), reps))
    return subs


def _flatten(obj: dict, prefix: str, flat: dict, reps: dict, repeats: list[str]) -> None:
    for key, value in obj.items():
        path = f"{prefix}/{key}" if prefix else str(key)
        name, _ = _short(str(key))
        if key == "_validation_status" and isinstance(value, dict):
            flat[key] = value.get("uid")
        elif isinstance(value, list) and name in repeats:
            rows = []
            for x in value:
                if isinstance(x, dict):
                    inner: dict[str, Any] = {}
                    _flatten(x, "", inner, {}, [])
                    rows.append(_collapse(inner))
            reps[name] = rows
        elif isinstance(value, dict) and not ("type" in value and "coordinates" in value):
            _flatten(value, path, flat, reps, repeats)
        else:
            flat[path] = value


# -- values -------------------------------------------------------------------------------


class _Values:
    """Reads typed values of one submission (or repeat entry), collecting every problem."""

    def __init__(self, sub: Submission, values: dict[str, Any], item: str, problems: list[Problem]) -> None:
        self.sub, self.values, self.item, self.problems = sub, values, item, problems

    def _bad(self, name: str, reason: str, value: Any) -> None:
        self.problems.append(Problem(self.sub.source, self.item, name, reason, value))

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            value = value.strip()
        return None if value in (None, "", "n/a") else value

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self._bad(name, "missing: a value is required", None)
            return None
        return str(value)

    def date(self, name: str, required: bool = True) -> date | None:
        value = self.raw(name)
        if value is None:
            if required:
                self._bad(name, "missing: a date is required", None)
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            self._bad(name, "not a date (YYYY-MM-DD)", value)
            return None

    def number(self, name: str, integer: bool = False) -> float | int | None:
        value = self.raw(name)
        if value is None:
            return None
        try:
            x = float(value)
            if not math.isfinite(x):
                raise ValueError
            if integer:
                if x != int(x):
                    raise ValueError
                return int(x)
            return x
        except (TypeError, ValueError, OverflowError):
            self._bad(name, "not a whole number" if integer else "not a number", value)
            return None

    def choice(self, name: str, enum: type[StrEnum], required: bool = True) -> Any:
        value = self.raw(name)
        if value is None:
            if required:
                self._bad(name, "missing: a choice is required", None)
            return None
        try:
            return enum(str(value))
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            self._bad(name, f"not one of the form's choices ({allowed})", value)
            return None

    def geometry(self, name: str, kind: str, required: bool = True) -> BaseGeometry | None:
        value = self.raw(name)
        if value is None:
            if required:
                self._bad(name, f"missing: a GPS {kind} is required", None)
            return None
        try:
            return parse_odk_geometry(value, kind)
        except ValueError as exc:
            self._bad(name, str(exc), value)
            return None


def _odk_vertex(text: str) -> tuple[float, float]:
    parts = text.split()
    if not 2 <= len(parts) <= 4:
        raise ValueError(f"a GPS point is 'lat lon [alt acc]', not {len(parts)} value(s)")
    try:
        lat, lon = float(parts[0]), float(parts[1])
        [float(p) for p in parts[2:]]
    except ValueError:
        raise ValueError("a GPS point must be numbers: 'lat lon alt acc'") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        swapped = " (latitude and longitude swapped?)" if abs(lon) <= 90 < abs(lat) <= 180 else ""
        raise ValueError(f"latitude {parts[0]} / longitude {parts[1]} out of range{swapped}")
    return lon, lat


def parse_odk_geometry(value: Any, kind: str) -> BaseGeometry:
    """An ODK geopoint / geotrace / geoshape string (or a GeoJSON object) as a WGS 84 geometry."""
    if isinstance(value, dict):
        try:
            geom = shapely.force_2d(shapely.from_geojson(json.dumps(value)))  # altitude is not kept
        except Exception as exc:
            raise ValueError(f"not a GeoJSON geometry: {exc}") from None
    else:
        pts = [_odk_vertex(p) for p in str(value).strip().strip(";").split(";") if p.strip()]
        if kind == "geopoint":
            if len(pts) != 1:
                raise ValueError(f"a geopoint is one point, not {len(pts)}")
            geom = shapely.Point(pts[0])
        elif kind == "geotrace":
            if len(pts) < 2:
                raise ValueError("a geotrace needs at least 2 points")
            geom = shapely.LineString(pts)
        elif kind == "geoshape":
            if len(pts) >= 2 and pts[0] == pts[-1]:
                pts = pts[:-1]
            if len(set(pts)) < 3:
                raise ValueError("a geoshape needs at least 3 different points")
            geom = shapely.Polygon([*pts, pts[0]])
        else:  # pragma: no cover - kinds come from this module
            raise ValueError(f"unknown GPS kind {kind}")
    expected = {"geopoint": "Point", "geotrace": "LineString", "geoshape": "Polygon"}[kind]
    if geom.geom_type != expected:
        raise ValueError(f"expected a {expected}, got a {geom.geom_type}")
    if kind == "geoshape" and not geom.is_valid:
        raise ValueError(f"the area crosses itself: {shapely.is_valid_reason(geom)}")
    return geom


# -- submissions → records ----------------------------------------------------------------


def _uid(prefix: str, sub: Submission, problems: list[Problem], suffix: str = "") -> str | None:
    if not sub.uuid:
        problems.append(Problem(sub.source, sub.item, "_uuid/instanceID", "no submission identifier", None))
        return None
    if not _UUID.match(sub.uuid):
        problems.append(Problem(sub.source, sub.item, "_uuid/instanceID", "not a submission identifier", sub.uuid))
        return None
    return f"{prefix}-{sub.uuid}{suffix}"


def _entered_by(sub: Submission) -> str:
    who = sub.values.get("_submitted_by") or sub.values.get("SubmitterName") or sub.values.get("deviceid")
    return f"form:{who}" if who not in (None, "") else "form import"


def _make(cls: type[Record], data: dict[str, Any], sub: Submission, item: str, problems: list[Problem]) -> Any:
    """Validate a record; with values already reported missing, still check the others (all problems at once)."""
    missing = {k for k, val in data.items() if val is _MISSING}
    try:
        rec = cls.model_validate({k: val for k, val in data.items() if k not in missing})
    except ValidationError as exc:
        for e in exc.errors():
            loc = e["loc"]
            if missing and (not loc or loc[0] in missing):
                continue  # already reported as missing, or a cross-field rule that cannot be judged yet
            name = ".".join(map(str, loc)) or "-"
            reason = e["msg"].removeprefix("Value error, ")
            problems.append(Problem(sub.source, item, name, reason, e.get("input") if loc else None))
        return None
    return None if missing else rec


_MISSING = object()


def _req(x: Any) -> Any:
    return _MISSING if x is None else x


def hazard_records(sub: Submission, problems: list[Problem]) -> list[Record]:
    from safeground.geometry.projection import area_m2, metric_epsg_for, project

    r = _Values(sub, sub.values, sub.item, problems)
    uid = _uid("HA", sub, problems)
    when = r.date("report_date")
    kind = r.text("area_kind", required=True)
    geom = None
    if kind == "line":
        line = r.geometry("hazard_line", "geotrace")
        width = r.number("line_width_m")
        if width is None or width <= 0:
            problems.append(Problem(sub.source, sub.item, "line_width_m", "a positive width is needed", width))
        elif line is not None:
            epsg = metric_epsg_for(line)
            geom = project(project(line, 4326, epsg).buffer(width / 2.0, cap_style="flat"), epsg, 4326)
    elif kind == "polygon":
        geom = r.geometry("area", "geoshape")
    elif kind is not None:
        problems.append(
            Problem(sub.source, sub.item, "area_kind", "not one of the form's choices (polygon, line)", kind)
        )
    classification = r.choice("classification", v.HazardClass)
    contamination = r.choice("contamination", v.Contamination)
    ev_kind = r.choice("evidence_kind", v.EvidenceKind)
    description = r.text("evidence_description", required=True)
    ev_source = r.text("evidence_source", required=True)
    priority = r.number("priority", integer=True)
    area = round(area_m2(geom), 1) if geom is not None else None
    evidence = None
    if ev_kind and description and ev_source:
        evidence = Evidence(
            kind=ev_kind, description=description, source=ev_source, date=when, reference=f"submission {sub.uuid}"
        )
    data = {
        "uid": _req(uid),
        "date_of_information": _req(when),
        "entered_by": _entered_by(sub),
        "name": r.text("hazard_name"),
        "classification": _req(classification),
        "contamination": _req(contamination),
        "evidence": _MISSING if evidence is None else [evidence],
        "estimated_area_m2": _req(area),
        "remaining_area_m2": _req(area),
        "priority": 3 if priority is None else priority,
        "geometry": _req(geom),
    }
    rec = _make(HazardArea, data, sub, sub.item, problems)
    return [rec] if rec else []


def accident_records(sub: Submission, problems: list[Problem]) -> list[Record]:
    r = _Values(sub, sub.values, sub.item, problems)
    uid = _uid("ACC", sub, problems)
    when = r.date("report_date")
    data = {
        "uid": _req(uid),
        "date_of_information": _req(when),
        "entered_by": _entered_by(sub),
        "accident_date": _req(r.date("accident_date")),
        "device_type": _req(r.choice("device_type", v.DeviceType)),
        "settlement": r.text("settlement"),
        "place_description": r.text("place_description"),
        "geometry": _req(r.geometry("location", "geopoint")),
    }
    dated = data["accident_date"] is not _MISSING and data["date_of_information"] is not _MISSING
    if dated and data["accident_date"] > data["date_of_information"]:
        problems.append(
            Problem(sub.source, sub.item, "accident_date", f"after the report date {when}", data["accident_date"])
        )
        data["accident_date"] = _MISSING
    out: list[Record] = []
    acc = _make(Accident, data, sub, sub.item, problems)
    if acc:
        out.append(acc)
    victims = sub.repeats.get("victims", [])
    if not victims:
        problems.append(Problem(sub.source, sub.item, "victims", "an accident report needs at least one victim", None))
    sub.victim_uids, sub.victims_by_position = [], False
    seen_ids: dict[str, int] = {}
    for i, values in enumerate(victims, start=1):
        item = f"{sub.item}, victim {i}"
        vr = _Values(sub, values, item, problems)
        key = _victim_key(vr, seen_ids, i)  # None: reported; the victim's other fields are still checked
        if key == str(i):
            sub.victims_by_position = True
        vuid = _uid("VIC", sub, [], f"-{key}") if key else None
        if vuid:
            sub.victim_uids.append(vuid)
        vdata = {
            "uid": _req(vuid),
            "date_of_information": _req(when),
            "entered_by": _entered_by(sub),
            "accident_uid": _req(uid),
            "victim_status": _req(vr.choice("victim_status", v.VictimStatus)),
            "outcome": _req(vr.choice("outcome", v.Outcome)),
            "sex": _req(vr.choice("sex", v.Sex)),
            "age": vr.number("age", integer=True),
            "activity_at_time": _req(vr.choice("activity_at_time", v.ActivityAtTime)),
        }
        vic = _make(Victim, vdata, sub, item, problems)
        if vic:
            out.append(vic)
        name = vr.text("full_name")
        if name and vuid:
            ident = _make(
                VictimIdentity,
                {
                    "uid": f"VID-{sub.uuid}-{key}",
                    "date_of_information": _req(when),
                    "entered_by": _entered_by(sub),
                    "victim_uid": vuid,
                    "full_name": name,
                    "home_settlement": vr.text("home_settlement"),
                    "contact": vr.text("contact"),
                },
                sub,
                item,
                problems,
            )
            if ident:
                out.append(ident)
    return out


def _victim_key(vr: _Values, seen: dict[str, int], position: int) -> str | None:
    """What tells this victim apart in its submission: its victim_id (first 8 letters or digits), else its position.

    Exports of forms without ``victim_id`` (older SafeGround forms, other forms) fall back to the position
    in the repeat, which an edit removing or inserting a victim shifts (``check_victims`` catches that).
    """
    raw = vr.raw("victim_id")
    if raw is None:
        return str(position)
    text = _id_text(raw) or ""
    key = re.sub(r"[^A-Za-z0-9]", "", text)[:8]
    if len(key) < 8 or isinstance(raw, (dict, list, bool)):
        vr._bad("victim_id", "not a victim identifier (the form computes it with once(uuid()))", raw)
        return None
    if key in seen:
        vr._bad("victim_id", f"the same victim_id as victim {seen[key]}: each victim needs its own", raw)
        return None
    seen[key] = position
    return key


def eo_records(sub: Submission, problems: list[Problem]) -> list[Record]:
    r = _Values(sub, sub.values, sub.item, problems)
    data = {
        "uid": _req(_uid("EO", sub, problems)),
        "date_of_information": _req(r.date("find_date")),
        "entered_by": _entered_by(sub),
        "status": v.EOStatus.FOUND,
        "eo_type": _req(r.choice("eo_type", v.EOType)),
        "eo_model": r.text("eo_model"),
        "condition": r.choice("condition", v.EOCondition, required=False) or v.EOCondition.UNKNOWN,
        "how_found": _req(r.choice("how_found", v.HowFound)),
        "depth_cm": r.number("depth_cm"),
        "hazard_area_uid": r.text("hazard_area_uid"),
        "geometry": _req(r.geometry("location", "geopoint")),
    }
    rec = _make(EOItem, data, sub, sub.item, problems)
    return [rec] if rec else []


MAPPERS: dict[str, Callable[[Submission, list[Problem]], list[Record]]] = {
    "hazard_report": hazard_records,
    "accident_report": accident_records,
    "eo_find": eo_records,
}


def to_records(
    form: str,
    subs: list[Submission],
    area_of_interest: tuple[float, float, float, float] | None = None,
    notes: list[str] | None = None,
) -> list[Record]:
    """Every record of every submission, or InvalidInput listing every problem of every submission.

    With the store's area of interest, a GPS position far outside it is refused:
    a phone with latitude and longitude swapped, or a default 0 0 position.
    """
    problems: list[Problem] = []
    out: list[Record] = []
    seen: dict[str, str] = {}
    for sub in subs:
        if sub.rejected:
            if notes is not None:
                notes.append(f"{sub.source}, {sub.item}: skipped, {sub.rejected}")
            continue
        if sub.uuid and sub.uuid in seen:
            problems.append(Problem(sub.source, sub.item, "_uuid", f"the same submission twice ({seen[sub.uuid]})"))
            continue
        if sub.uuid:
            seen[sub.uuid] = sub.item
        recs = MAPPERS[form](sub, problems)
        if area_of_interest:
            _check_inside(sub, recs, area_of_interest, problems)
        out.extend(recs)
    if problems:
        raise InvalidInput(problems, hint_text="fix the submissions in KoboToolbox/ODK Central and export again")
    return out


def _check_inside(sub: Submission, recs: list[Record], aoi: tuple[float, ...], problems: list[Problem]) -> None:
    margin = 0.5  # degrees: about 50 km around the area the store covers
    area = shapely.box(aoi[0] - margin, aoi[1] - margin, aoi[2] + margin, aoi[3] + margin)
    for rec in recs:
        geom = getattr(rec, "geometry", None)
        if geom is None or area.contains(geom):
            continue
        c = geom.centroid
        swapped = area.contains(shapely.Point(c.y, c.x))
        reason = f"position {c.y:.5f} N {c.x:.5f} E is outside the store's area of interest" + (
            " (latitude and longitude swapped?)" if swapped else ""
        )
        problems.append(Problem(sub.source, sub.item, "location/area", reason))


# -- planning and writing -----------------------------------------------------------------

_IGNORE = {"version", "entered_at", "entered_by", "change_reason", "geometry"}


def _same(a: Record, b: Record) -> bool:
    if a.model_dump(exclude=_IGNORE) != b.model_dump(exclude=_IGNORE):
        return False
    ga, gb = getattr(a, "geometry", None), getattr(b, "geometry", None)
    if ga is None or gb is None:
        return ga is gb
    return bool(ga.equals_exact(gb, 1e-9))


def plan(store: Store, records: list[Record]) -> WritePlan:
    """New records are created; a stored one is updated only by newer information, otherwise reported."""
    out = WritePlan()
    by_cls: dict[type[Record], list[Record]] = {}
    for rec in records:
        by_cls.setdefault(type(rec), []).append(rec)
    for cls, recs in by_cls.items():
        existing = store.existing_uids(cls, [r.uid for r in recs])
        if len(existing) > 50:  # one pass over the layer beats thousands of single reads (a server round trip each)
            known = {r.uid: r for r in store.find(cls) if r.uid in existing}
        else:
            known = {uid: store.get(cls, uid) for uid in existing}
        for rec in recs:
            if rec.uid not in existing:
                out.create.append(rec)
                continue
            stored = known[rec.uid]
            if _same(stored, rec):
                out.unchanged.append(f"{cls.LAYER} {rec.uid}")
            elif rec.date_of_information > stored.date_of_information:
                out.update.append((rec.model_copy(update={"change_reason": "newer form submission"}), stored.version))
            else:
                out.notes.append(
                    f"{cls.LAYER} {rec.uid}: the stored version (information of "
                    f"{stored.date_of_information}) is as new as this submission "
                    f"({rec.date_of_information}) or newer and differs from it: not changed"
                )
    return out


# -- edits: which record an edited submission belongs to -------------------------------------

#: store metadata key of an instance id → the identity of its submission (``form_instance:<instanceID>``)
INSTANCE_META = "form_instance:"
_MAIN: dict[str, type[Record]] = {"hazard_report": HazardArea, "accident_report": Accident, "eo_find": EOItem}


def resolve_edits(store: Store, form: str, subs: list[Submission], notes: list[str]) -> dict[str, str]:
    """Give each edited submission the identity of the submission it edits; the instance ids to remember.

    KoboToolbox and ODK record an edit as a new instance (new ``_uuid`` / ``instanceID``) naming the one it
    replaces in ``meta/deprecatedID``. Without a stable id in the export (Kobo's ``meta/rootUuid``, ODK
    Central's ``KEY`` / ``__id``, which win), the edit is matched through its deprecatedID: to an instance id
    remembered in the store's metadata (the previous edits of a chain), or to a record imported from that
    instance itself. The answer maps every instance id that is not its submission's identity to that
    identity, to be written with the records (same transaction), so that the next edit is found too.
    """
    cls = _MAIN[form]
    known: dict[str, str] = {}  # instance id → identity, for edits of earlier submissions in this file
    remember: dict[str, str] = {}
    for sub in subs:
        if sub.rejected or not sub.uuid:
            continue
        prev = sub.deprecated
        if not sub.stable and prev and prev != sub.uuid and _UUID.match(prev):
            root = known.get(prev) or store.get_meta(INSTANCE_META + prev)
            if root is None and store.existing_uids(cls, [f"{cls.UID_PREFIX}-{prev}"]):
                root = prev
            if root is not None and _UUID.match(root):
                sub.item = f"submission {sub.instance} (edit of {root})"
                sub.uuid = root
            else:
                notes.append(
                    f"{sub.source}, {sub.item}: an edit of instance {prev}, which was never imported: "
                    "imported as a new submission"
                )
        for iid in (sub.instance, prev if sub.stable else None):  # a stable id vouches for its deprecatedID too
            if iid and iid != sub.uuid and _UUID.match(iid):
                known[iid] = sub.uuid
                if store.get_meta(INSTANCE_META + iid) != sub.uuid:
                    remember[INSTANCE_META + iid] = sub.uuid
    return remember


# -- victims that an edit removed, added or moved -----------------------------------------------


def check_victims(store: Store, subs: list[Submission], records: list[Record]) -> tuple[list[Problem], list[str]]:
    """Stored victims of a submission that its newer version no longer has: problems and notes.

    Victims with a ``victim_id`` keep their uid whatever the edit; a stored one that the newer version
    lacks (removed in Kobo/ODK) is kept and reported. Victims known only by their position cannot be
    told apart once their number changes: that is a problem, not a silent re-mapping (victim 2's data on
    victim 1's record, and victim 1's restricted name on it).
    """
    problems: list[Problem] = []
    notes: list[str] = []
    accidents = {r.uid: r for r in records if isinstance(r, Accident)}
    existing = store.existing_uids(Accident, list(accidents))
    if not existing:
        return problems, notes
    if len(existing) > 50:  # one pass over the layers, as in plan()
        stored_acc = {a.uid: a for a in store.find(Accident) if a.uid in existing}
        stored_vic: dict[str, list[str]] = {}
        for vic in store.find(Victim):
            if vic.accident_uid in existing:
                stored_vic.setdefault(vic.accident_uid, []).append(vic.uid)
    else:
        stored_acc = {uid: store.get(Accident, uid) for uid in existing}
        stored_vic = {uid: [x.uid for x in store.find(Victim, accident_uid=uid)] for uid in existing}
    for sub in subs:
        acc_uid = f"ACC-{sub.uuid}"
        if sub.rejected or acc_uid not in existing or acc_uid not in accidents:
            continue
        if accidents[acc_uid].date_of_information < stored_acc[acc_uid].date_of_information:
            continue  # an older version: plan() reports it, nothing of it is applied
        before = sorted(stored_vic.get(acc_uid, []))
        gone = [u for u in before if u not in set(sub.victim_uids)]
        if sub.victims_by_position and len(before) != len(sub.victim_uids):
            problems.append(
                Problem(
                    sub.source,
                    sub.item,
                    "victims",
                    f"the stored version had {_victims(len(before))} ({', '.join(before) or 'none'}), this one has "
                    f"{len(sub.victim_uids)}: victims are matched by position in this form version (no victim_id), "
                    "so a removed or added victim cannot be told apart and the wrong victim would get another's "
                    "data and name; re-export with the current SafeGround form (its victims carry a victim_id), "
                    "or mark this submission 'Not approved' in KoboToolbox / 'Rejected' in ODK Central to skip it "
                    f"and correct the victims of {acc_uid} by hand",
                )
            )
        elif gone:
            idents = sorted(store.existing_uids(VictimIdentity, ["VID-" + u.removeprefix("VIC-") for u in gone]))
            notes.append(
                f"{sub.source}, {sub.item}: victim(s) {', '.join(gone)} stored for this submission are not in this "
                "version (removed in KoboToolbox/ODK?): kept unchanged"
                + (f", with their restricted identities {', '.join(idents)}" if idents else "")
                + (
                    "; this version identifies its victims by victim_id and the stored ones by their position, "
                    "so they may be the same people counted twice"
                    if any(_by_position(u, acc_uid) for u in gone) and not sub.victims_by_position
                    else ""
                )
                + ": correct or remove them by hand"
            )
    return problems, notes


def _victims(n: int) -> str:
    return f"{n} victim" + ("" if n == 1 else "s")


def _by_position(victim_uid: str, acc_uid: str) -> bool:
    return victim_uid.removeprefix("VIC-" + acc_uid.removeprefix("ACC-") + "-").isdigit()


# -- the export of another form -------------------------------------------------------------

_NOT_QUESTIONS = {"begin_group", "end_group", "begin_repeat", "end_repeat", "start", "end", "deviceid", "today"}


def _questions(form: FormDefinition) -> set[str]:
    return {q["name"] for q in form.survey if q["type"] not in _NOT_QUESTIONS}


def check_form(form: str, subs: list[Submission]) -> None:
    """Refuse an export of another form, naming it (``_xform_id_string``, else the fields it has)."""
    expected = form_definition(form)
    if not subs:
        return
    source = subs[0].source
    by_id = {f.form_id: name for name, f in FORMS.items()}
    ids = {str(s.values["_xform_id_string"]).strip() for s in subs if s.values.get("_xform_id_string")}
    other = sorted(i for i in ids if i != expected.form_id)
    found, field_name = (other[0], "_xform_id_string") if other else (None, "-")
    name = by_id.get(found) if found else None
    if found is None:
        present = {k for s in subs for k in s.values} | {
            k for s in subs for r in s.repeats.values() for x in r for k in x
        }
        own = len(_questions(expected) & present)
        best = max(FORMS, key=lambda n: len(_questions(FORMS[n]) & present))
        if best != form and len(_questions(FORMS[best]) & present) > own and own < len(_questions(expected)) / 2:
            name, found = best, FORMS[best].form_id
    if found is None:
        return
    then = f": import it with 'safeground forms import {name} …'" if name else ""
    raise InvalidInput(
        [
            Problem(
                source,
                "file",
                field_name,
                f"this is an export of the form {found}"
                + (f" ({name})" if name else "")
                + f", not of {expected.form_id} ({form}){then}",
                found if field_name != "-" else None,
            )
        ]
    )


def import_submissions(store: Store, form: str, paths: list[Path], *, dry_run: bool = False) -> WritePlan:
    """Read, check and store one export of one form, all or nothing."""
    definition = form_definition(form)
    subs = read_exports(definition, paths)
    check_form(form, subs)
    skipped: list[str] = []
    remember = resolve_edits(store, form, subs, skipped)
    records = to_records(form, subs, store.area_of_interest(), skipped)
    if form == "accident_report":
        problems, victim_notes = check_victims(store, subs, records)
        if problems:
            raise InvalidInput(problems, hint_text="each problem says how to go on")
        skipped.extend(victim_notes)
    todo = plan(store, records)
    todo.notes[:0] = skipped
    todo.meta.update(remember)
    return commit(store, todo, dry_run=dry_run)
