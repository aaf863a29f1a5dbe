"""Form submissions → SafeGround records: hazard areas, accidents with their victims, EO finds.

Every submission becomes records whose identifiers derive from the submission's identity
(``HA-<uuid>``, ``ACC-<uuid>``, ``VIC-<uuid>-<victim>``, ``EO-<uuid>``): the uuid is the source
reference, so importing the same export twice creates nothing new. Victims are told apart by
the form's hidden ``victim_id`` (``VIC-<uuid>-<first 8 of it>``); an export without it falls
back to the position in the repeat (``VIC-<uuid>-1``). Every problem of every submission is
collected and reported together; a GPS position far outside the store's area of interest
(latitude and longitude swapped, a default 0 0) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import shapely
from pydantic import ValidationError

from safeground.errors import InvalidInput, Problem
from safeground.intake.form_exports import SUBMISSION_ID, Submission, id_text
from safeground.intake.odk_values import SubmissionValues
from safeground.model import Accident, EOItem, Evidence, HazardArea, Victim, VictimIdentity
from safeground.model import vocab as v
from safeground.model.assistance import (
    AssistanceAssessment,
    AssistanceCategory,
    AssistanceService,
    AssistanceStatus,
    Disability,
    Recipient,
)
from safeground.model.base import Record


def _uid(prefix: str, sub: Submission, problems: list[Problem], suffix: str = "") -> str | None:
    if not sub.uuid:
        problems.append(Problem(sub.source, sub.item, "_uuid/instanceID", "no submission identifier", None))
        return None
    if not SUBMISSION_ID.match(sub.uuid):
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

    r = SubmissionValues(sub, sub.values, sub.item, problems)
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
    r = SubmissionValues(sub, sub.values, sub.item, problems)
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
        vr = SubmissionValues(sub, values, item, problems)
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


def _victim_key(vr: SubmissionValues, seen: dict[str, int], position: int) -> str | None:
    """What tells this victim apart in its submission: its victim_id (first 8 letters or digits), else its position.

    Exports of forms without ``victim_id`` (older SafeGround forms, other forms) fall back to the position
    in the repeat, which an edit removing or inserting a victim shifts (``check_victims`` catches that).
    """
    raw = vr.raw("victim_id")
    if raw is None:
        return str(position)
    text = id_text(raw) or ""
    key = re.sub(r"[^A-Za-z0-9]", "", text)[:8]
    if len(key) < 8 or isinstance(raw, (dict, list, bool)):
        vr.bad("victim_id", "not a victim identifier (the form computes it with once(uuid()))", raw)
        return None
    if key in seen:
        vr.bad("victim_id", f"the same victim_id as victim {seen[key]}: each victim needs its own", raw)
        return None
    seen[key] = position
    return key


def eo_records(sub: Submission, problems: list[Problem]) -> list[Record]:
    r = SubmissionValues(sub, sub.values, sub.item, problems)
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


# -- victim assistance follow-up (issue 21) --------------------------------------------------------------
# A submission naming an existing need (``service_uid``) becomes a new version of it when its visit is newer
# than the stored information (``intake.submissions.plan``); one without becomes a new need ``VAS-<uuid>``.
# Impairments recorded at the visit make an assessment ``VAA-<uuid>``.
def assistance_records(sub: Submission, problems: list[Problem]) -> list[Record]:
    r = SubmissionValues(sub, sub.values, sub.item, problems)
    when = r.date("report_date")
    given = r.text("service_uid")
    uid = given or _uid("VAS", sub, problems)
    victim = r.text("victim_uid", required=True)
    recipient = r.choice("recipient", Recipient, required=False) or Recipient.SURVIVOR
    data = {
        "uid": _req(uid),
        "date_of_information": _req(when),
        "entered_by": _entered_by(sub),
        "victim_uid": _req(victim),
        "recipient": recipient,
        "category": _req(r.choice("category", AssistanceCategory)),
        "status": _req(r.choice("status", AssistanceStatus)),
        "needed_since": _req(r.date("needed_since")),
        "provider": r.text("provider"),
        "referred_on": r.date("referred_on", required=False),
        "started_on": r.date("started_on", required=False),
        "completed_on": r.date("completed_on", required=False),
        "last_follow_up": when if when is not None else _MISSING,
        "next_follow_up": r.date("next_follow_up", required=False),
        "notes": r.text("notes"),
        "change_reason": "follow-up visit" if given else None,
    }
    out: list[Record] = []
    rec = _make(AssistanceService, data, sub, sub.item, problems)
    if rec:
        out.append(rec)
    raw = r.raw("disabilities")
    if raw not in (None, ""):
        values = raw.split() if isinstance(raw, str) else [str(v) for v in raw]
        allowed = {d.value for d in Disability}
        bad = [v for v in values if v not in allowed]
        if bad:
            r.bad("disabilities", f"not one of the form's choices ({', '.join(sorted(allowed))})", " ".join(bad))
        else:
            ass = _make(
                AssistanceAssessment,
                {
                    "uid": _req(_uid("VAA", sub, [])),
                    "date_of_information": _req(when),
                    "entered_by": _entered_by(sub),
                    "victim_uid": _req(victim),
                    "recipient": recipient,
                    "assessed_on": _req(when),
                    "disabilities": values,
                },
                sub,
                sub.item,
                problems,
            )
            if ass:
                out.append(ass)
    return out


MAPPERS: dict[str, Callable[[Submission, list[Problem]], list[Record]]] = {
    "hazard_report": hazard_records,
    "accident_report": accident_records,
    "eo_find": eo_records,
    "assistance_followup": assistance_records,
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
