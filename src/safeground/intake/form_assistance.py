"""Victim assistance follow-up submissions → a need (``assistance_services``) and, with impairments, an assessment.

A submission naming an existing need (``service_uid``) becomes a new version of it when its visit is newer
than the stored information (``intake.submissions.plan``); one without becomes a new need ``VAS-<uuid>``.
Impairments recorded at the visit make an assessment ``VAA-<uuid>``.
"""

from __future__ import annotations

from safeground.errors import Problem
from safeground.intake.form_exports import Submission
from safeground.intake.form_records import _MISSING, _entered_by, _make, _req, _uid
from safeground.intake.odk_values import SubmissionValues
from safeground.model.assistance import (
    AssistanceAssessment,
    AssistanceCategory,
    AssistanceService,
    AssistanceStatus,
    Disability,
    Recipient,
)
from safeground.model.base import Record


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
