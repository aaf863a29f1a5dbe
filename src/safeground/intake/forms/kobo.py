"""KoboToolbox exports as people download them: labels instead of XML values, groups in headers, repeat files.

KoboToolbox's Downloads page offers, under "Value and header format", **Labels**
(the default: question text as column headers, choice labels as answers) or
**XML values and headers** (question names and choice names), and under
"Advanced options" **Include groups in headers** with a **Group separator**
(``/`` unless changed). A field officer downloads with the defaults, so:

* a Labels export of a SafeGround form is read: its headers are matched to the
  form's question labels (with or without the group labels in front, whatever the
  separator, including Kobo's ``_<label>_latitude`` geopoint columns) and its
  answers to the form's choice labels, both as ``build_xlsform`` wrote them;
* an export whose headers are neither the form's names nor its labels (labels
  in another language, or a form edited on the server) is refused with the
  exact settings to choose (``KOBO_SETTINGS``), not read as missing fields;
* headers with groups are read whatever the group separator;
* a repeat-group file (a sheet of the XLS export saved as CSV, or a legacy
  export) is recognised by its content: Kobo's ``_parent_index`` /
  ``_parent_table_name`` / ``_submission__id`` / ``_submission__uuid`` columns
  or ODK Central's ``PARENT_KEY``, and which repeat it holds by the questions it
  has, not by a file name ending in the repeat's name.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeground.errors import InvalidInput, Problem
from safeground.intake.forms import FormDefinition

#: the export settings that give what SafeGround reads, as KoboToolbox names them
KOBO_SETTINGS = (
    "in KoboToolbox open the project, DATA > Downloads: 'Select export type' XLS (it keeps the repeat groups, "
    "e.g. the victims, as sheets of one file) or CSV; 'Value and header format': 'XML values and headers'; "
    "'Advanced options': 'Include groups in headers' on or off (any 'Group separator'); then EXPORT and "
    "import the downloaded file"
)
#: columns only a repeat group's rows have (KoboToolbox; ODK Central's is PARENT_KEY)
REPEAT_MARKERS = ("_parent_index", "_parent_table_name", "_submission__id", "_submission__uuid", "PARENT_KEY")
_GPS_PARTS = ("latitude", "longitude", "altitude", "precision")
_SEPARATORS = " /.:|\\-_>"
_NO_QUESTION = {"begin_group", "end_group", "begin_repeat", "end_repeat", "note"}


@dataclass
class Section:
    """The questions of the main part of a form, or of one of its repeats, by name and by label."""

    names: set[str] = field(default_factory=set)
    by_label: dict[str, str] = field(default_factory=dict)  # question label → name
    groups: set[str] = field(default_factory=set)  # names and labels of the groups around them
    gps: set[str] = field(default_factory=set)  # names of geopoint questions
    choices: dict[str, dict[str, str]] = field(default_factory=dict)  # question name → choice label → name


def section(form: FormDefinition, repeat: str | None) -> Section:
    """The questions directly in ``repeat`` (or, with None, outside every repeat)."""
    lists: dict[str, dict[str, str]] = {}
    for c in form.choices():
        lists.setdefault(c["list_name"], {})[c["label"]] = c["name"]
    out = Section()
    stack: list[tuple[str, str]] = []  # (type, name) of the open groups and repeats
    for q in form.survey:
        kind = q["type"]
        if kind in ("begin_group", "begin_repeat"):
            stack.append((kind, q["name"]))
        inside = next((n for k, n in reversed(stack) if k == "begin_repeat"), None)
        if kind in ("begin_group", "begin_repeat") and inside == repeat:
            out.groups.update(x for x in (q["name"], q.get("label") or "") if x)
        if kind in ("end_group", "end_repeat"):
            stack.pop()
            continue
        if kind in _NO_QUESTION or inside != repeat:
            continue
        name = q["name"]
        out.names.add(name)
        if q.get("label"):
            out.by_label[q["label"]] = name
        if kind == "geopoint":
            out.gps.add(name)
        if kind.startswith("select_one "):
            out.choices[name] = lists.get(kind.split(" ", 1)[1], {})
    return out


def _prefix_is_groups(prefix: str, groups: set[str]) -> bool:
    """Whether what is in front of a question in a header is only group names/labels and separators."""
    rest = prefix
    for g in sorted(groups, key=len, reverse=True):
        rest = rest.replace(g, "")
    return rest.strip(_SEPARATORS) == "" and (prefix == "" or prefix[-1] in _SEPARATORS)


def _match(header: str, known: dict[str, str], groups: set[str]) -> str | None:
    """The name a header stands for: a known name or label, with nothing but groups in front of it."""
    if header in known:
        return known[header]
    best = None
    for text, name in known.items():
        fits = header.endswith(text) and _prefix_is_groups(header[: -len(text)], groups)
        if fits and (best is None or len(text) > len(best[0])):
            best = (text, name)
    return None if best is None else best[1]


@dataclass
class Reading:
    """How the headers of one file were understood."""

    renamed: dict[str, str]  # header → the XML name SafeGround reads
    by_name: int  # questions found by their name
    by_label: int  # questions found by their label
    unknown: list[str]  # headers that are neither (Kobo's own _ columns left out)


def read_headers(form: FormDefinition, headers: list[str], repeat: str | None) -> Reading:
    sec = section(form, repeat)
    names = {n: n for n in sec.names}
    renamed: dict[str, str] = {}
    by_name = by_label = 0
    unknown: list[str] = []
    for raw in headers:
        h = str(raw).strip()
        if not h:
            continue
        gps = re.match(r"^(?P<pre>.*?)_(?P<q>.+)_(?P<part>" + "|".join(_GPS_PARTS) + r")$", h)
        if gps and _prefix_is_groups(gps["pre"], sec.groups):
            q = _match(gps["q"], names, sec.groups) or _match(gps["q"], sec.by_label, sec.groups)
            if q in sec.gps:
                renamed[raw] = f"_{q}_{gps['part']}"
                continue
        if h.startswith("_") or h in REPEAT_MARKERS:
            continue  # Kobo's own columns (_id, _uuid, _notes, _index …) and ODK Central's PARENT_KEY
        name = _match(h, names, sec.groups)
        if name is not None:
            by_name += 1
            renamed[raw] = name
            continue
        name = _match(h, sec.by_label, sec.groups)
        if name is not None:
            by_label += 1
            renamed[raw] = name
            continue
        unknown.append(h)
    return Reading(renamed, by_name, by_label, unknown)


def relabel(
    form: FormDefinition, source: str, rows: list[tuple[int, dict[str, Any]]], repeat: str | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a Kobo export with XML names and values, whichever "Value and header format" it was.

    Headers with groups are given the question's name (so any group separator works). A Labels
    export also gets its choice labels turned into the choice names. An export in neither the
    form's names nor its labels is refused with the export settings to choose.
    """
    if not rows:
        return rows
    headers = list(dict.fromkeys(k for _, row in rows for k in row if k is not None))
    reading = read_headers(form, headers, repeat)
    questions = len(section(form, repeat).names)
    found = reading.by_name + reading.by_label
    if len(reading.unknown) >= 3 and found < questions / 2 and not _another_form(form, headers, repeat, found):
        shown = ", ".join(repr(h) for h in reading.unknown[:4]) + (" …" if len(reading.unknown) > 4 else "")
        raise InvalidInput(
            [
                Problem(
                    source,
                    "header",
                    "-",
                    f"the columns ({shown}) are neither the question names nor the question labels of "
                    f"{form.form_id}: a KoboToolbox export with labels in another language or wording "
                    f"(only {found} of its {questions} questions found)",
                )
            ],
            hint_text="export again: " + KOBO_SETTINGS,
        )
    choices = section(form, repeat).choices  # a label is never another choice's name: safe on any export
    out = []
    for line, row in rows:
        new: dict[str, Any] = {}
        for k, value in row.items():
            name = reading.renamed.get(k, k) if k is not None else None
            if name in choices and isinstance(value, str) and value.strip() in choices[name]:
                value = choices[name][value.strip()]
            if name in new and new[name] not in (None, "") and value in (None, ""):
                continue
            new[name] = value
        out.append((line, new))
    return out


def _another_form(form: FormDefinition, headers: list[str], repeat: str | None, found: int) -> bool:
    """Whether another SafeGround form knows more of these columns (then the form check names it)."""
    from safeground.intake.forms import FORMS

    for other in FORMS.values():
        if other.form_id != form.form_id:
            r = read_headers(other, headers, None)
            if r.by_name + r.by_label > found:
                return True
    return False


def csv_header(path: Path) -> list[str]:
    """The header line of a CSV export (``,``, ``;`` or tab delimited), for telling files apart."""
    try:
        first = path.read_bytes().decode("utf-8-sig", errors="replace").split("\n", 1)[0]
    except OSError:
        return []
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
    except csv.Error:  # e.g. a lone carriage return: not a header; the reader of the file says what is wrong
        return []


def is_repeat(header: list[str]) -> bool:
    return any(str(h).strip() in REPEAT_MARKERS for h in header)


def repeat_of(form: FormDefinition, repeats: list[str], header: list[str], source: str) -> str:
    """Which repeat group a repeat file holds: the one whose questions it has (names or labels)."""
    if len(repeats) == 1:
        return repeats[0]
    scores = {r: (lambda x: x.by_name + x.by_label)(read_headers(form, header, r)) for r in repeats}
    best = max(scores.values(), default=0)
    winners = [r for r, n in scores.items() if n == best]
    if best == 0 or len(winners) > 1:
        raise InvalidInput(
            [
                Problem(
                    source,
                    "header",
                    "-",
                    "a repeat-group file (it has _parent_index/PARENT_KEY) but not of a repeat of "
                    f"{form.form_id} ({', '.join(repeats) or 'it has none'})",
                )
            ]
        )
    return winners[0]


def split_exports(form: FormDefinition, repeats: list[str], paths: list[Path]) -> tuple[list[Path], dict[Path, str]]:
    """The main export(s) and the repeat-group files with their repeat, told apart by their columns."""
    main: list[Path] = []
    reps: dict[Path, str] = {}
    for p in paths:
        header = csv_header(p) if p.suffix.lower() not in (".json", ".xlsx", ".xlsm", ".zip") else []
        if is_repeat(header):
            reps[p] = repeat_of(form, repeats, header, p.name)
        else:
            main.append(p)
    return main, reps
