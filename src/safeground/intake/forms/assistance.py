"""The victim assistance follow-up form: one need of one person, assessed or followed up, per submission.

A victim assistance focal point visits a survivor (or the family of a person killed) with a phone:
for a new need, the form records its category, status and provider; for a follow-up, the identifier
of the need (``VAS-…``, from ``safeground assistance list``) and its new status. Imported like the
other forms (``safeground forms import assistance_followup FILE``, or ``--submit`` into the review
queue); a follow-up becomes a new version of the need, the earlier ones stay in history. The choice
lists come from ``safeground.model.assistance``, so a phone can only send values the model accepts.
"""

from __future__ import annotations

from enum import StrEnum

from safeground.intake.forms import FormDefinition, label, q
from safeground.model.assistance import AssistanceCategory, AssistanceStatus, Disability, Recipient

#: choice list name → the vocabulary it comes from
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
        *[q(t, t) for t in ("start", "end", "deviceid", "today")],
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
