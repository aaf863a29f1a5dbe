"""Quality management (IMAS 07.12, 07.14): QA and QC inspections of activities, and investigations.

An inspection names who inspected (the national authority or a monitoring body), whom
(the organisation that did the work), which activity, and what was wrong: each
non-conformity with its type, its severity (minor, major, critical) and its corrective
action, closed on a date with a note. A **residual contamination investigation** is the
inspection IMAS requires when an accident or a find happens inside land already released:
SafeGround opens it by itself (``safeground.quality.residual``), linked to the release (the
hazard area), the activity and the organisation that released the land, and to the record that
revealed it; it stays open until a person closes it with the finding.

No position is stored here (the accident or find it refers to keeps its own, restricted one), so
the layer is a plain table and no inspection can leak a mine's place.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safeground.model.base import Record, register


class InspectionKind(StrEnum):
    QUALITY_ASSURANCE = "quality_assurance"  # during the work: site monitoring, procedures, accreditation
    QUALITY_CONTROL = "quality_control"  # after the work: post-clearance sampling of released land
    RESIDUAL_INVESTIGATION = "residual_contamination_investigation"  # an accident or find on released land


class NonConformityType(StrEnum):
    PROCEDURES = "procedures"  # standing operating procedures not followed
    CLEARANCE_DEPTH = "clearance_depth"
    MISSED_ITEM = "missed_item"  # an item left in land reported clear
    MARKING = "marking"
    SAFETY_DISTANCES = "safety_distances"
    MEDICAL_SUPPORT = "medical_support"
    EQUIPMENT = "equipment"
    DOCUMENTATION = "documentation"
    RESIDUAL_CONTAMINATION = "residual_contamination"
    OTHER = "other"


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"  # stops the work: a missed item, a safety failure


class QMStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class NonConformity(BaseModel):
    """One thing found wrong, the action that corrects it, and when that action was closed."""

    model_config = ConfigDict(extra="forbid")

    nc_type: NonConformityType
    severity: Severity
    description: str = Field(min_length=1)
    corrective_action: str | None = None
    due_date: date | None = None
    closed_on: date | None = None
    closure_note: str | None = None

    @property
    def open(self) -> bool:
        return self.closed_on is None


@register
class QMInspection(Record):
    LAYER: ClassVar[str] = "qm_inspections"
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "QM"
    TITLE: ClassVar[str] = "Quality management: QA/QC inspections and residual contamination investigations"
    REFERENCES: ClassVar[dict[str, str]] = {
        "inspecting_body_uid": "organisations",
        "organisation_uid": "organisations",
        "activity_uid": "activities",
        "hazard_area_uid": "hazard_areas",
    }

    kind: InspectionKind
    inspection_date: date
    #: who inspects (the national authority, a monitoring body); None: not yet assigned (an investigation
    #: opened automatically where no national authority is recorded)
    inspecting_body_uid: str | None = None
    organisation_uid: str  # the organisation inspected (for an investigation: the one that released the land)
    activity_uid: str | None = None
    hazard_area_uid: str | None = None  # the release: the hazard area whose land the activity released
    #: the accident or the finds that opened an investigation, as "layer:uid" (accidents:ACC-00042); the
    #: items one activity found in the same released land are one investigation of that release
    opened_by: list[str] = Field(default_factory=list)
    non_conformities: list[NonConformity] = Field(default_factory=list)
    status: QMStatus = QMStatus.OPEN
    closed_on: date | None = None
    finding: str | None = None  # what the inspection or investigation concluded
    notes: str | None = None

    @model_validator(mode="after")
    def _closure(self) -> QMInspection:
        if self.status == QMStatus.CLOSED:
            if self.closed_on is None:
                raise ValueError("a closed inspection needs closed_on")
            still = [k + 1 for k, nc in enumerate(self.non_conformities) if nc.open]
            if still:
                raise ValueError(f"non-conformities {still} are still open: close them before the inspection")
        elif self.closed_on is not None:
            raise ValueError("closed_on is set but the status is open")
        if self.closed_on is not None and self.closed_on < self.inspection_date:
            raise ValueError(f"closed_on {self.closed_on} is before inspection_date {self.inspection_date}")
        for k, nc in enumerate(self.non_conformities, start=1):
            if nc.closed_on is not None and nc.closed_on < self.inspection_date:
                raise ValueError(f"non-conformity {k} closed on {nc.closed_on}, before the inspection")
        if self.kind == InspectionKind.RESIDUAL_INVESTIGATION and not self.opened_by:
            raise ValueError("a residual contamination investigation names the accident or find (opened_by)")
        return self

    @property
    def open_non_conformities(self) -> int:
        return sum(1 for nc in self.non_conformities if nc.open)
