"""XLSForm definitions for field reports sent from phones (ODK Collect, KoboCollect, Enketo).

Three forms, written here as Python data and built into XLSForm workbooks by
``build_xlsform`` (``safeground forms export DIR``), then uploaded to
KoboToolbox or ODK Central:

* ``hazard_report``: non-technical survey / hazard area report (polygon walked
  with the phone, or a line such as a canal bank with its width);
* ``accident_report``: a mine/ERW accident with a repeat group of victims in the
  Landmine Monitor categories (names only if known, and kept restricted);
* ``eo_find``: an explosive ordnance item found (or reported) on the ground.

The choice lists are generated from ``safeground.model.vocab``: a value a phone
can send is always a value the model accepts, and adding a term to the
vocabulary adds it to the forms. Field names are the contract with
``safeground.intake.form_exports`` and ``safeground.intake.form_records``, which read the
exported submissions and turn them into records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from safeground.model import vocab
from safeground.model.assistance import AssistanceCategory, AssistanceStatus, Disability, Recipient
from safeground.tabular import xlsx_value

#: labels for vocabulary values whose readable form is not just the value with spaces
LABELS: dict[str, str] = {
    "suspected_hazardous_area": "Suspected hazardous area (SHA: indirect evidence)",
    "confirmed_hazardous_area": "Confirmed hazardous area (CHA: direct evidence)",
    "direct": "Direct (mine/item seen, accident, marked minefield)",
    "indirect": "Indirect (informant, record, front line, no sighting)",
    "antipersonnel_mines": "Anti-personnel mines",
    "antivehicle_mines": "Anti-vehicle mines",
    "other_erw": "Other explosive remnants of war",
    "ap_blast": "AP mine, blast (e.g. PMN)",
    "ap_fragmentation": "AP mine, fragmentation (e.g. OZM, POMZ)",
    "av": "Anti-vehicle mine (e.g. TM-62)",
    "uxo": "Unexploded ordnance (shell, grenade, rocket)",
    "improvised": "Improvised device",
    "antipersonnel_mine": "Anti-personnel mine",
    "antivehicle_mine": "Anti-vehicle mine",
    "cluster_submunition": "Cluster submunition",
    "mine_detection_dog": "Mine detection dog",
    "eod_call_out": "EOD call-out",
    "returning_to_former_home": "Returning to former home",
    "collecting_wood_or_food": "Collecting wood or food",
}


def label(value: str) -> str:
    return LABELS.get(value, value.replace("_", " ").capitalize())


def choices_from(enum: type[StrEnum], list_name: str) -> list[dict[str, str]]:
    """One XLSForm choice list from a vocabulary enum: name = stored value, label = readable."""
    return [{"list_name": list_name, "name": m.value, "label": label(m.value)} for m in enum]


#: choice list name → the vocabulary it comes from (tests check the forms against this)
CHOICE_LISTS: dict[str, type[StrEnum]] = {
    "hazard_class": vocab.HazardClass,
    "contamination": vocab.Contamination,
    "evidence_kind": vocab.EvidenceKind,
    "device_type": vocab.DeviceType,
    "victim_status": vocab.VictimStatus,
    "outcome": vocab.Outcome,
    "sex": vocab.Sex,
    "activity_at_time": vocab.ActivityAtTime,
    "eo_type": vocab.EOType,
    "eo_condition": vocab.EOCondition,
    "how_found": vocab.HowFound,
}


@dataclass
class FormDefinition:
    form_id: str
    title: str
    survey: list[dict[str, str]]
    lists: list[str]  # names of CHOICE_LISTS used
    extra_choices: list[dict[str, str]] = field(default_factory=list)
    version: str = "2026112701"

    def choices(self) -> list[dict[str, str]]:
        out = [c for name in self.lists for c in choices_from(CHOICE_LISTS[name], name)]
        return out + self.extra_choices


def q(type_: str, name: str, label_: str = "", **extra: str) -> dict[str, str]:
    return {"type": type_, "name": name, "label": label_, **extra}


_META = [q("start", "start"), q("end", "end"), q("deviceid", "deviceid"), q("today", "today")]
_YES_NO = [
    {"list_name": "yes_no", "name": "yes", "label": "Yes"},
    {"list_name": "yes_no", "name": "no", "label": "No"},
]
_SHAPE = [
    {"list_name": "area_kind", "name": "polygon", "label": "An area: walk around it"},
    {"list_name": "area_kind", "name": "line", "label": "Along a line (canal bank, road edge): walk it"},
]

HAZARD_REPORT = FormDefinition(
    form_id="safeground_hazard_report",
    title="SafeGround: hazard area report (non-technical survey)",
    lists=["hazard_class", "contamination", "evidence_kind"],
    extra_choices=_SHAPE,
    survey=[
        *_META,
        q(
            "date",
            "report_date",
            "Date of the survey",
            required="yes",
            constraint=". <= today()",
            constraint_message="The survey date cannot be in the future",
        ),
        q("text", "team", "Survey team"),
        q("begin_group", "hazard", "The hazard area"),
        q("text", "hazard_name", "Local name of the area (e.g. 'orchard north of the school')"),
        q("text", "settlement", "Nearest settlement"),
        q("select_one hazard_class", "classification", "Classification", required="yes"),
        q("select_one contamination", "contamination", "Suspected contamination", required="yes"),
        q("integer", "priority", "Priority (1 highest, 5 lowest)", constraint=". >= 1 and . <= 5", default="3"),
        q("select_one area_kind", "area_kind", "How is the area recorded?", required="yes"),
        q("geoshape", "area", "Walk around the area", required="yes", relevant="${area_kind} = 'polygon'"),
        q("geotrace", "hazard_line", "Walk along the hazard", required="yes", relevant="${area_kind} = 'line'"),
        q(
            "decimal",
            "line_width_m",
            "Width of the hazard strip (m)",
            required="yes",
            relevant="${area_kind} = 'line'",
            constraint=". > 0 and . <= 500",
        ),
        q("end_group", "hazard"),
        q("begin_group", "evidence"),
        q("select_one evidence_kind", "evidence_kind", "Kind of evidence", required="yes"),
        q("text", "evidence_description", "What was seen or said", required="yes"),
        q("text", "evidence_source", "Who or what is the source (informant, record, team)", required="yes"),
        q("end_group", "evidence"),
        q("image", "photo", "Photo (from a safe place)", parameters="max-pixels=1024"),
        q("text", "notes", "Notes"),
    ],
)

ACCIDENT_REPORT = FormDefinition(
    form_id="safeground_accident_report",
    title="SafeGround: mine/ERW accident and victim report",
    lists=["device_type", "victim_status", "outcome", "sex", "activity_at_time"],
    extra_choices=_YES_NO,
    survey=[
        *_META,
        q("date", "report_date", "Date of this report", required="yes", constraint=". <= today()"),
        q("begin_group", "accident", "The accident"),
        q(
            "date",
            "accident_date",
            "Date of the accident",
            required="yes",
            constraint=". <= ${report_date}",
            constraint_message="The accident cannot be after the report",
        ),
        q("geopoint", "location", "Where it happened (or the nearest safe point)", required="yes"),
        q("text", "settlement", "Settlement"),
        q("text", "place_description", "Description of the place (path to cemetery, courtyard …)"),
        q("select_one device_type", "device_type", "Device", required="yes"),
        q("end_group", "accident"),
        q("begin_repeat", "victims", "Victims"),
        # a stable identity for each victim: an edit that removes or reorders victims cannot mix them up
        q("calculate", "victim_id", calculation="once(uuid())"),
        q("select_one victim_status", "victim_status", "Victim was", required="yes"),
        q("select_one outcome", "outcome", "Outcome", required="yes"),
        q("select_one sex", "sex", "Sex", required="yes"),
        q("integer", "age", "Age in years (leave empty if unknown)", constraint=". >= 0 and . <= 120"),
        q("select_one activity_at_time", "activity_at_time", "Activity at the time", required="yes"),
        q("select_one yes_no", "name_known", "Is the name known?", required="yes"),
        q(
            "text",
            "full_name",
            "Full name (restricted: not published)",
            required="yes",
            relevant="${name_known} = 'yes'",
        ),
        q("text", "home_settlement", "Home settlement (restricted)", relevant="${name_known} = 'yes'"),
        q("text", "contact", "Contact of the family (restricted)", relevant="${name_known} = 'yes'"),
        q("end_repeat", "victims"),
        q("text", "notes", "Notes"),
    ],
)

EO_FIND = FormDefinition(
    form_id="safeground_eo_find",
    title="SafeGround: explosive ordnance find",
    lists=["eo_type", "eo_condition", "how_found"],
    survey=[
        *_META,
        q("date", "find_date", "Date found", required="yes", constraint=". <= today()"),
        q("geopoint", "location", "Position of the item", required="yes"),
        q("select_one eo_type", "eo_type", "Type of item", required="yes"),
        q("text", "eo_model", "Model (e.g. PMN-2, TM-62M, M77)"),
        q("select_one eo_condition", "condition", "Condition", required="yes"),
        q("select_one how_found", "how_found", "How was it found", required="yes"),
        q("decimal", "depth_cm", "Depth (cm)", constraint=". >= 0 and . <= 500"),
        q("text", "hazard_area_uid", "Hazard area identifier, if known (e.g. HA-00012)"),
        q("image", "photo", "Photo (from a safe place)", parameters="max-pixels=1024"),
        q("text", "notes", "Notes"),
    ],
)

# -- the victim assistance follow-up (issue 21) ---------------------------------------------------------
# One need of one person, assessed or followed up, per submission: for a new need its category, status and
# provider; for a follow-up the identifier of the need (VAS-…, from ``safeground assistance list``) and its new
# status. A follow-up becomes a new version of the need (``intake.form_records.assistance_records``).
#: choice list name → the vocabulary it comes from (safeground.model.assistance)
ASSISTANCE_LISTS: dict[str, type[StrEnum]] = {
    "va_recipient": Recipient,
    "va_category": AssistanceCategory,
    "va_status": AssistanceStatus,
    "va_disability": Disability,
}


def _choices() -> list[dict[str, str]]:
    return [
        {"list_name": name, "name": m.value, "label": label(m.value)} for name, enum in ASSISTANCE_LISTS.items()
        for m in enum
    ]  # fmt: skip


ASSISTANCE_FOLLOWUP = FormDefinition(
    form_id="safeground_assistance_followup",
    title="SafeGround: victim assistance follow-up",
    lists=[],
    extra_choices=_choices(),
    version="2026120101",
    survey=[
        *_META,
        q("date", "report_date", "Date of the visit", required="yes", constraint=". <= today()"),
        q(
            "text",
            "victim_uid",
            "Victim identifier (VIC-…, from the victim assistance list)",
            required="yes",
            constraint="regex(., '^[A-Za-z0-9][A-Za-z0-9_.:-]*$')",
            constraint_message="an identifier such as VIC-00012",
        ),
        q("select_one va_recipient", "recipient", "Who receives the assistance", required="yes", default="survivor"),
        q("text", "service_uid", "Identifier of the need followed up (VAS-…); leave empty for a new need"),
        q("select_one va_category", "category", "Category of the need", required="yes"),
        q("select_one va_status", "status", "Status now", required="yes"),
        q(
            "date",
            "needed_since",
            "Date the need was first assessed",
            required="yes",
            constraint=". <= ${report_date}",
            constraint_message="cannot be after the visit",
        ),
        q("text", "provider", "Provider (hospital, centre, agency)"),
        q("date", "referred_on", "Date referred", relevant="${status} != 'needed'"),
        q(
            "date",
            "started_on",
            "Date the service started",
            required="yes",
            relevant="${status} = 'receiving' or ${status} = 'received'",
        ),
        q("date", "completed_on", "Date completed", relevant="${status} = 'received'"),
        q("date", "next_follow_up", "Next follow-up", constraint=". >= ${report_date}"),
        q("select_multiple va_disability", "disabilities", "Impairments found (only at a needs assessment)"),
        q("text", "notes", "Notes (restricted: not published)"),
    ],
)


FORMS: dict[str, FormDefinition] = {
    "hazard_report": HAZARD_REPORT,
    "accident_report": ACCIDENT_REPORT,
    "eo_find": EO_FIND,
    "assistance_followup": ASSISTANCE_FOLLOWUP,
}

_SURVEY_COLUMNS = [
    "type",
    "name",
    "label",
    "required",
    "relevant",
    "calculation",
    "constraint",
    "constraint_message",
    "default",
    "parameters",
]


def build_xlsform(form: FormDefinition, path: str | Path) -> Path:
    """Write one form as an XLSForm workbook (survey, choices, settings sheets)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    survey = wb.active
    survey.title = "survey"
    survey.append(_SURVEY_COLUMNS)
    for row in form.survey:
        survey.append([xlsx_value(row.get(c, "")) for c in _SURVEY_COLUMNS])
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    for c in form.choices():
        choices.append([xlsx_value(c[k]) for k in ("list_name", "name", "label")])
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "instance_name"])
    settings.append([form.title, form.form_id, form.version, "concat(${today}, ' ', ${deviceid})"])
    for ws in wb.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    path = Path(path)
    wb.save(path)
    return path


def export_forms(directory: str | Path) -> list[Path]:
    """Write every form as ``<name>.xlsx`` into a directory (created if needed)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    return [build_xlsform(form, d / f"{name}.xlsx") for name, form in FORMS.items()]
