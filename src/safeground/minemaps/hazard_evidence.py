"""Carry the verdict on each minefield record into the hazard areas that rest on it.

IMAS 07.11 classifies land by its evidence: a suspected hazardous area (SHA)
rests on indirect evidence, a confirmed one (CHA) on direct evidence. A
minefield record enters a hazard area's evidence as "a record says so"; once
clearance has checked the record (``safeground maps accuracy --save``), what it
is worth is known. This module turns each record's latest assessment into one
evidence item on every open hazard area that cites the record: direct when
clearance verified the record (grade A, or B: displaced but reliable after
correction), indirect otherwise, with the figures that justify it. The
authority can then confirm an SHA that now has direct evidence.

Nothing changes unless asked (``apply``); then every changed hazard area gets a
new version, the old one goes to history, all in one transaction. Re-running
replaces the assessment's own item instead of adding another.
"""

from __future__ import annotations

from dataclasses import dataclass

from safeground.model import HazardArea, RecordAssessment
from safeground.model.hazards import Evidence
from safeground.model.vocab import EvidenceKind, HazardClass, HazardStatus
from safeground.storage.base import Store

#: the ``source`` of evidence items written here; items with another source are never touched
SOURCE = "minefield record assessment"


@dataclass
class EvidenceUpdate:
    """What the latest assessment of one record says about one hazard area."""

    hazard: HazardArea
    record_uid: str
    assessment: RecordAssessment
    item: Evidence
    changed: bool  # False when the hazard already carries exactly this item
    suggestion: str  # what the classification should become, in words ("" when it stands)


def latest_assessments(store: Store) -> dict[str, RecordAssessment]:
    """Per minefield record, its most recent assessment (latest as-of date, then latest saved)."""
    best: dict[str, RecordAssessment] = {}
    for a in store.find(RecordAssessment):
        cur = best.get(a.minefield_record_uid)
        if cur is None or (a.as_of, a.uid) > (cur.as_of, cur.uid):
            best[a.minefield_record_uid] = a
    return best


def _item(a: RecordAssessment) -> Evidence:
    if a.precision is not None:
        found = (
            f"{a.confirmed_mines} of {a.verified_mines} recorded mines in cleared ground found where recorded "
            f"({a.precision:.0%}, 95 % CI {a.precision_ci_low or 0:.0%}–{a.precision_ci_high or 0:.0%})"
        )
    else:
        found = "none of its recorded mines lies, as recorded, in cleared ground"
    if a.grade == "B":
        found += "; corrected positions of its remaining mines: layer corrected_mine_positions"
    kind = EvidenceKind.DIRECT if a.evidence_kind == "direct" else EvidenceKind.INDIRECT
    return Evidence(
        kind=kind,
        description=f"minefield record {a.minefield_record_uid} graded {a.grade} ({a.uid}): {found}. {a.grade_reason}",
        source=SOURCE,
        date=a.as_of,
        reference=a.minefield_record_uid,
    )


def _cited_records(h: HazardArea) -> list[str]:
    cited = list(h.minefield_record_uids)
    for e in h.evidence:
        if e.reference and e.reference.startswith("MFR-") and e.reference not in cited:
            cited.append(e.reference)
    return cited


def _suggestion(h: HazardArea, evidence: list[Evidence]) -> str:
    direct = [e for e in evidence if e.kind == EvidenceKind.DIRECT]
    if h.classification == HazardClass.SHA and direct:
        return "confirm as CHA: a record verified by clearance is direct evidence"
    return ""


def _with_items(evidence: list[Evidence], items: list[Evidence]) -> list[Evidence]:
    """Evidence with these assessment items in place of any earlier ones about the same records."""
    refs = {i.reference for i in items}
    return [e for e in evidence if not (e.source == SOURCE and e.reference in refs)] + items


def plan_updates(store: Store) -> list[EvidenceUpdate]:
    """For every open hazard area citing an assessed record: the evidence item it should carry."""
    latest = latest_assessments(store)
    out: list[EvidenceUpdate] = []
    if not latest:
        return out
    for h in store.find(HazardArea):
        if h.status == HazardStatus.CLOSED:
            continue
        for rec in _cited_records(h):
            a = latest.get(rec)
            if a is None:
                continue
            item = _item(a)
            changed = item not in h.evidence
            out.append(EvidenceUpdate(h, rec, a, item, changed, _suggestion(h, _with_items(h.evidence, [item]))))
    return out


def apply_updates(
    store: Store, updates: list[EvidenceUpdate], *, confirm: bool = False, entered_by: str = "safeground"
) -> list[str]:
    """Write the evidence items (and, with ``confirm``, SHA → CHA) as new versions; returns the hazards changed."""
    by_hazard: dict[str, list[EvidenceUpdate]] = {}
    for u in updates:
        by_hazard.setdefault(u.hazard.uid, []).append(u)
    changed: list[str] = []
    with store.transaction():
        for uid, ups in by_hazard.items():
            h = store.get(HazardArea, uid)  # the stored version, not the one planned from
            evidence = _with_items(h.evidence, [u.item for u in ups])
            reasons = [f"evidence from the assessment of {', '.join(sorted({u.record_uid for u in ups}))}"]
            data = h.model_dump()
            if confirm and h.classification == HazardClass.SHA and any(e.kind == EvidenceKind.DIRECT for e in evidence):
                data["classification"] = HazardClass.CHA
                reasons.append("confirmed as CHA: direct evidence from a record verified by clearance")
            data.update(
                evidence=[e.model_dump() for e in evidence],
                date_of_information=max(h.date_of_information, *(u.assessment.as_of for u in ups)),
                entered_by=entered_by,
                change_reason="; ".join(reasons),
            )
            new = HazardArea.model_validate(data)
            if new.evidence == h.evidence and new.classification == h.classification:
                continue
            store.update(new, expected_version=h.version)
            changed.append(uid)
    return changed
