"""Read the exports of field reports sent from phones, as KoboToolbox and ODK Central write them.

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

Each submission is read with the identity that survives edits (Kobo's ``meta/rootUuid``,
ODK Central's ``KEY`` / ``__id``, else this version's ``_uuid`` / ``instanceID``) and the
instance it replaces (``meta/deprecatedID``), which ``safeground.intake.form_edits`` follows.
An export of another form than the one named is refused here, naming the form it is.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeground.errors import InvalidInput, Problem, RecordNotFound, SafeGroundError
from safeground.intake.forms import FORMS, FormDefinition, kobo
from safeground.intake.textin import refuse_repeated_headers

GEO_PARTS = {"latitude": 0, "longitude": 1, "altitude": 2, "accuracy": 3}
#: what a submission identifier may be (it becomes part of record uids: ``ACC-<uuid>``)
SUBMISSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,50}$")


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


def form_definition(name: str) -> FormDefinition:
    if name not in FORMS:
        raise RecordNotFound(f"unknown form {name!r}", hint=f"choose one of: {', '.join(FORMS)}")  # 404 on the web
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


def id_text(raw: Any) -> str | None:
    if raw in (None, "") or isinstance(raw, (dict, list)):
        return None
    text = str(raw).strip()
    text = text[5:] if text.lower().startswith("uuid:") else text
    return text or None


def _first_id(values: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((t for k in keys if (t := id_text(values.get(k))) is not None), None)


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
        deprecated=id_text(values.get("deprecatedID")),  # meta/deprecatedID (Kobo), meta-deprecatedID (Central)
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
                ref = id_text(values["_submission__uuid"])  # Kobo: the _uuid of this version
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
