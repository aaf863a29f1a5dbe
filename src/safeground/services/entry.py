"""Data entry in the browser: a hazard area report, an accident with its victims, an explosive ordnance find.

The workspace's entry page sends what a field officer typed and drew as the answers of the same
three forms a phone sends (:data:`safeground.intake.forms.FORMS`), and they are read here by the
same reader as ``safeground forms import`` and the KoboToolbox webhook (``plan_submissions``): one
validation for a phone, a file and a browser, every problem named by its form field. What passes
goes into the review queue (:func:`safeground.services.review.submit`), never straight to the record.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from safeground.accounts.repository import User
from safeground.errors import InvalidInput, Problem, SafeGroundError
from safeground.intake.forms import CHOICE_LISTS, FORMS, label
from safeground.review.queue import Submission
from safeground.storage import open_store

#: the forms the workspace offers, in the order of its tabs
ENTRY_FORMS = ("accident_report", "hazard_report", "eo_find")
#: question types the browser form does not show: the form's own bookkeeping, photos, computed ids
_HIDDEN = {"start", "end", "deviceid", "today", "calculate", "image", "begin_group", "end_group"}
#: question types drawn on the map, not typed
GEOMETRY_TYPES = {"geopoint": "Point", "geotrace": "LineString", "geoshape": "Polygon"}


@dataclass
class Question:
    """One field of a browser form, as the XLSForm defines it (so a phone and a browser ask the same)."""

    name: str
    kind: str  # text, integer, decimal, date, select_one, geopoint, geotrace, geoshape
    label: str
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)  # (stored value, label)
    relevant: str | None = None  # the XLSForm condition, e.g. "${area_kind} = 'line'"
    default: str | None = None


@dataclass
class EntryForm:
    name: str
    title: str
    questions: list[Question]
    #: the repeat group (the victims of an accident) and its questions
    repeat: str | None = None
    repeat_questions: list[Question] = field(default_factory=list)

    @property
    def geometry_questions(self) -> list[Question]:
        return [q for q in self.questions if q.kind in GEOMETRY_TYPES]


def _choices(form_name: str, list_name: str) -> list[tuple[str, str]]:
    if list_name in CHOICE_LISTS:
        return [(m.value, label(m.value)) for m in CHOICE_LISTS[list_name]]
    return [(c["name"], c["label"]) for c in FORMS[form_name].extra_choices if c["list_name"] == list_name]


def entry_form(name: str) -> EntryForm:
    """The browser form for one of :data:`ENTRY_FORMS`, read from its XLSForm definition."""
    if name not in ENTRY_FORMS:
        raise SafeGroundError(f"unknown form {name!r}", hint=f"choose one of: {', '.join(ENTRY_FORMS)}")
    definition = FORMS[name]
    out = EntryForm(name, definition.title, [])
    target = out.questions
    for q in definition.survey:
        kind = q["type"]
        if kind == "begin_repeat":
            out.repeat = q["name"]
            target = out.repeat_questions
            continue
        if kind == "end_repeat":
            target = out.questions
            continue
        if kind in _HIDDEN:
            continue
        choices: list[tuple[str, str]] = []
        if kind.startswith("select_one "):
            kind, list_name = "select_one", kind.split(" ", 1)[1]
            choices = _choices(name, list_name)
        target.append(
            Question(
                q["name"],
                kind,
                q.get("label") or q["name"],
                q.get("required") == "yes",
                choices,
                q.get("relevant"),
                q.get("default"),
            )
        )
    return out


def _answers(form: EntryForm, values: dict[str, Any], repeats: list[dict[str, Any]]) -> dict[str, Any]:
    """The answers as one entry of a KoboToolbox JSON export: what the forms reader reads."""
    known = {q.name for q in form.questions}
    entry: dict[str, Any] = {k: v for k, v in values.items() if k in known and v not in (None, "")}
    entry["_uuid"] = f"web-{uuid.uuid4().hex}"
    entry["_xform_id_string"] = FORMS[form.name].form_id
    if form.repeat is not None:
        rknown = {q.name for q in form.repeat_questions}
        entry[form.repeat] = [
            {**{k: v for k, v in r.items() if k in rknown and v not in (None, "")}, "victim_id": uuid.uuid4().hex}
            for r in repeats
        ]
    return entry


def submit_entry(
    location: str,
    form_name: str,
    values: dict[str, Any],
    repeats: list[dict[str, Any]] | None = None,
    *,
    user: User,
    origin: str,
) -> Submission:
    """Read the answers as the forms importer reads a phone's, and queue the records for review.

    Raises :class:`InvalidInput` with one problem per field (the item names the victim for a field of
    the repeat: ``…, victim 2``), so the page can show each next to its field.
    """
    from safeground.intake.submissions import plan_submissions
    from safeground.services import review

    form = entry_form(form_name)
    entry = _answers(form, values, repeats or [])
    with tempfile.TemporaryDirectory(prefix="safeground-entry-") as tmp:
        path = Path(tmp) / f"workspace-{form_name}.json"
        path.write_text(json.dumps([entry], ensure_ascii=False), encoding="utf-8")
        with open_store(location, create=False, readonly=True) as store:
            try:
                plan = plan_submissions(store, form_name, [path])
            except InvalidInput as exc:  # the same problems, said to a person at a form, not to a file's owner
                problems = [replace(p, source="the form") for p in exc.problems]
                raise InvalidInput(
                    problems, hint_text="correct the fields marked on the form and send it again"
                ) from None
    # the person who typed it, never the channel (the forms reader names a phone's submitter "form:…")
    plan.create = [r.model_copy(update={"entered_by": user.username}) for r in plan.create]
    if not plan.create:
        raise InvalidInput([Problem("the form", "submission", "-", "nothing new to submit")])
    return review.submit(
        location,
        plan,
        source=f"workspace {form_name}",
        submitted_by=user.username,
        organisation=user.organisation,
        origin=origin,
    )
