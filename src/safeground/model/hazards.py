"""Hazard areas (IMAS 04.10): suspected and confirmed, with the evidence behind them."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from safeground.model.base import Geometry, Record, register
from safeground.model.vocab import Contamination, EvidenceKind, HazardClass, HazardStatus


class Evidence(BaseModel):
    """One piece of evidence: an accident, a record, an informant, a find.

    IMAS asks that an SHA rests on indirect evidence and a CHA on direct evidence;
    keeping the source of each item lets a reviewer re-check the classification.
    """

    model_config = ConfigDict(extra="forbid")

    kind: EvidenceKind
    description: str = Field(min_length=1)
    source: str = Field(min_length=1)
    date: dt.date | None = None
    reference: str | None = None  # uid of the record, accident or item it refers to


#: the reason given to a status change read from a store where another program made it
OUTSIDE_STATUS_REASON = "status changed outside SafeGround (no reason recorded)"


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    status: HazardStatus
    reason: str = Field(min_length=1)


@register
class HazardArea(Record):
    LAYER: ClassVar[str] = "hazard_areas"
    GEOMETRY: ClassVar[str | None] = "MULTIPOLYGON"
    UID_PREFIX: ClassVar[str] = "HA"
    TITLE: ClassVar[str] = "Hazard areas (SHA/CHA)"

    name: str | None = None
    classification: HazardClass
    status: HazardStatus = HazardStatus.OPEN
    status_history: list[StatusChange] = Field(default_factory=list)
    contamination: Contamination
    evidence: list[Evidence] = Field(default_factory=list)
    estimated_area_m2: float = Field(ge=0)
    remaining_area_m2: float = Field(ge=0)
    priority: int = Field(default=3, ge=1, le=5)  # 1 highest
    admin_area_uid: str | None = None
    minefield_record_uids: list[str] = Field(default_factory=list)
    geometry: Geometry

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> HazardArea:
        if self.remaining_area_m2 > self.estimated_area_m2 * 1.0001 + 1.0:
            raise ValueError("remaining_area_m2 larger than estimated_area_m2")
        stored = bool(info.context and info.context.get("from_store"))
        if stored and self.status_history and self.status_history[-1].status != self.status:
            # the status was changed by another program (QGIS) that does not know the history list:
            # read it as the change it was, so no command fails on it (the store's trigger kept the version)
            change = StatusChange(date=self.date_of_information, status=self.status, reason=OUTSIDE_STATUS_REASON)
            object.__setattr__(self, "status_history", [*self.status_history, change])
        if self.status_history and self.status_history[-1].status != self.status:
            raise ValueError(
                f"status is {self.status.value} but the last status change says {self.status_history[-1].status.value}"
            )
        if self.classification == HazardClass.CHA and not any(e.kind == EvidenceKind.DIRECT for e in self.evidence):
            raise ValueError("a confirmed hazardous area needs at least one item of direct evidence")
        return self


def opened_by_event(
    *,
    uid: str,
    when: dt.date,
    entered_by: str,
    reason: str,
    name: str,
    classification: HazardClass,
    contamination: Contamination,
    evidence: Evidence,
    geometry: Geometry,
    area_m2: float,
    priority: int,
    admin_area_uid: str | None = None,
) -> HazardArea:
    """A hazard area opened by one event (a strike, an accident): open since ``when``, that event its evidence.

    One place for what such an area must carry (status history, evidence, area), so that the
    strikes and the accidents that open areas record them alike."""
    return HazardArea(
        uid=uid,
        date_of_information=when,
        entered_by=entered_by,
        change_reason=reason,
        name=name,
        classification=classification,
        status=HazardStatus.OPEN,
        status_history=[StatusChange(date=when, status=HazardStatus.OPEN, reason=reason)],
        contamination=contamination,
        evidence=[evidence],
        estimated_area_m2=round(area_m2, 1),
        remaining_area_m2=round(area_m2, 1),
        priority=priority,
        admin_area_uid=admin_area_uid,
        geometry=geometry,
    )
