"""QA and QC inspections: record one with its non-conformities, list them, close them.

An inspection is closed when every non-conformity's corrective action is closed and the
inspection's finding is written; closing is a new version of the record (the open version stays in
history), so when and by whom each action was closed can be read back. A residual contamination
investigation is closed the same way, with the finding of the investigation.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import pandas as pd
from pydantic import ValidationError

from safeground.errors import InvalidInput, Param, Problem, RecordNotFound, SafeGroundError
from safeground.model import Activity, HazardArea, Organisation
from safeground.model.quality import (
    InspectionKind,
    NonConformity,
    NonConformityType,
    QMInspection,
    QMStatus,
    Severity,
)
from safeground.storage.base import Store

SEVERITY_ORDER = {Severity.MINOR.value: 1, Severity.MAJOR.value: 2, Severity.CRITICAL.value: 3}
LIST_COLUMNS = [
    "uid", "kind", "inspection_date", "inspecting_body", "organisation", "activity_uid", "hazard_area_uid",
    "non_conformities", "open_non_conformities", "worst_severity", "status", "closed_on", "opened_by",
]  # fmt: skip


def _choice(enum: type[StrEnum], text: str, source: str, field: str) -> StrEnum:
    try:
        return enum(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            [Problem(source, field, field, f"choose one of: {', '.join(m.value for m in enum)}", text)]
        ) from None


def parse_non_conformity(text: str, *, corrective_action: str | None = None, due: date | None = None) -> NonConformity:
    """``TYPE:SEVERITY:DESCRIPTION`` (``missed_item:critical:PMN-2 at 12 cm in the sampled lane``)."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[2].strip():
        raise InvalidInput(
            [
                Problem(
                    "(options)", str(Param("non_conformity")), "non_conformity", "write TYPE:SEVERITY:DESCRIPTION", text
                )
            ]
        )
    nc_type = _choice(NonConformityType, parts[0], "(options)", "non_conformity type")
    severity = _choice(Severity, parts[1], "(options)", "non_conformity severity")
    return NonConformity(
        nc_type=NonConformityType(nc_type),
        severity=Severity(severity),
        description=parts[2].strip(),
        corrective_action=corrective_action,
        due_date=due,
    )


def resolve_organisation(store: Store, text: str, field: str) -> str:
    """An organisation by uid or acronym (``ORG-00002`` or ``HDG``), as people name them."""
    for org in store.find(Organisation):
        if text in (org.uid, org.acronym) or (org.acronym and text.lower() == org.acronym.lower()):
            return org.uid
    raise RecordNotFound(
        f"no organisation {text!r} for {field}",
        hint="give its uid or acronym (list them with: safeground orgs list), or add it first",
    )


def _require(store: Store, cls: type[Activity] | type[HazardArea], uid: str | None) -> None:
    if uid is not None and not store.existing_uids(cls, [uid]):
        raise RecordNotFound(f"no {cls.LAYER} record {uid}", hint=f"check {Param(cls.LAYER[:-1] + '_uid')}")


def add_inspection(
    store: Store,
    *,
    kind: InspectionKind,
    inspection_date: date,
    inspecting_body: str,
    organisation: str,
    activity_uid: str | None = None,
    hazard_area_uid: str | None = None,
    non_conformities: list[NonConformity] | None = None,
    notes: str | None = None,
    entered_by: str,
) -> QMInspection:
    """Store a new inspection (its uid the next free ``QM-…``), references checked first."""
    body = resolve_organisation(store, inspecting_body, "inspecting_body")
    org = resolve_organisation(store, organisation, "organisation")
    _require(store, Activity, activity_uid)
    _require(store, HazardArea, hazard_area_uid)
    if hazard_area_uid is None and activity_uid is not None:
        hazard_area_uid = store.get(Activity, activity_uid).hazard_area_uid
    if kind == InspectionKind.RESIDUAL_INVESTIGATION:
        raise SafeGroundError(
            "residual contamination investigations are opened by SafeGround itself when an accident or a find "
            "inside released land is stored",
            hint="record the accident or find; the investigation follows (or choose quality_assurance or "
            "quality_control)",
        )
    with store.transaction():
        try:
            rec = QMInspection(
                uid=store.next_uid(QMInspection),
                date_of_information=inspection_date,
                entered_by=entered_by,
                kind=kind,
                inspection_date=inspection_date,
                inspecting_body_uid=body,
                organisation_uid=org,
                activity_uid=activity_uid,
                hazard_area_uid=hazard_area_uid,
                non_conformities=non_conformities or [],
                notes=notes,
            )
        except ValidationError as exc:
            raise _invalid(exc, "new inspection") from None
        store.add(rec)
    return rec


def _invalid(exc: ValidationError, item: str) -> InvalidInput:
    return InvalidInput(
        [
            Problem("(options)", item, ".".join(map(str, e["loc"])) or "-", e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        ]
    )


def close(
    store: Store,
    uid: str,
    *,
    closed_on: date,
    entered_by: str,
    finding: str | None = None,
    non_conformity: int | None = None,
    closure_note: str | None = None,
) -> QMInspection:
    """Close one non-conformity (``non_conformity``: its number, from 1), or every open one and the
    inspection itself (then ``finding`` is required: what the inspection concluded)."""
    try:
        rec = store.get(QMInspection, uid)
    except RecordNotFound:
        raise RecordNotFound(
            f"no inspection or investigation {uid}",
            hint="check the uid: the open ones are listed by `safeground qm list`",
        ) from None
    if rec.status == QMStatus.CLOSED:
        raise SafeGroundError(
            f"{uid} was already closed on {rec.closed_on} ({rec.finding or 'no finding'})",
            hint="a closed inspection stays closed; record a new one for a new visit (its history keeps every version)",
        )
    ncs = [nc.model_copy() for nc in rec.non_conformities]
    if non_conformity is not None:
        if not 1 <= non_conformity <= len(ncs):
            raise SafeGroundError(
                f"{uid} has {len(ncs)} non-conformities; there is no number {non_conformity}",
                hint=f"give {Param('non_conformity')} from 1 to {len(ncs)}",
            )
        nc = ncs[non_conformity - 1]
        if not nc.open:
            raise SafeGroundError(
                f"non-conformity {non_conformity} of {uid} was already closed on {nc.closed_on}",
                hint=f"close another {Param('non_conformity')}, or the whole inspection with {Param('finding')}",
            )
        ncs[non_conformity - 1] = nc.model_copy(update={"closed_on": closed_on, "closure_note": closure_note})
        data: dict[str, object] = {"non_conformities": ncs, "change_reason": f"non-conformity {non_conformity} closed"}
    else:
        if not (finding and finding.strip()):
            raise SafeGroundError(
                f"closing {uid} needs its finding: what the inspection or investigation concluded",
                hint=f"add {Param('finding')} (e.g. 'missed item at 25 cm; lane re-cleared, SOP amended')",
            )
        ncs = [
            n.model_copy(update={"closed_on": closed_on, "closure_note": closure_note or finding}) if n.open else n
            for n in ncs
        ]
        data = {
            "non_conformities": ncs,
            "status": QMStatus.CLOSED,
            "closed_on": closed_on,
            "finding": finding.strip(),
            "change_reason": "closed",
        }
    try:
        new = QMInspection.model_validate(
            {
                **rec.model_dump(),
                **data,
                "version": rec.version + 1,
                "entered_by": entered_by,
                "date_of_information": max(rec.date_of_information, closed_on),
            }
        )
    except ValidationError as exc:
        raise _invalid(exc, uid) from None
    return store.update(new, expected_version=rec.version)


def inspections_frame(
    store: Store, *, status: QMStatus | None = None, kind: InspectionKind | None = None
) -> pd.DataFrame:
    """One row per inspection, with its counts of non-conformities and the worst severity, newest first."""
    names = {o.uid: o.acronym or o.name for o in store.find(Organisation)}
    rows = []
    for r in store.find(QMInspection):
        if (status is not None and r.status != status) or (kind is not None and r.kind != kind):
            continue
        worst = max((SEVERITY_ORDER[nc.severity.value] for nc in r.non_conformities), default=0)
        rows.append(
            {
                "uid": r.uid,
                "kind": r.kind.value,
                "inspection_date": r.inspection_date,
                "inspecting_body": names.get(r.inspecting_body_uid or "", r.inspecting_body_uid or "(to assign)"),
                "organisation": names.get(r.organisation_uid, r.organisation_uid),
                "activity_uid": r.activity_uid or "",
                "hazard_area_uid": r.hazard_area_uid or "",
                "non_conformities": len(r.non_conformities),
                "open_non_conformities": r.open_non_conformities,
                "worst_severity": {v: k for k, v in SEVERITY_ORDER.items()}.get(worst, ""),
                "status": r.status.value,
                "closed_on": r.closed_on or "",
                "opened_by": ", ".join(r.opened_by),
            }
        )
    frame = pd.DataFrame(rows, columns=LIST_COLUMNS)
    return frame.sort_values(["inspection_date", "uid"], ascending=[False, False]).reset_index(drop=True)


def open_investigations(store: Store) -> list[QMInspection]:
    """Residual contamination investigations not yet closed (the review queue and the report show them)."""
    return sorted(
        (
            r
            for r in store.find(QMInspection, kind=InspectionKind.RESIDUAL_INVESTIGATION.value)
            if r.status == QMStatus.OPEN
        ),
        key=lambda r: r.uid,
    )
