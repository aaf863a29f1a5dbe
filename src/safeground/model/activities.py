"""Survey and clearance activities and the land release they produce (IMAS 07.11)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field, model_validator

from safeground.model.base import Geometry, Record, register
from safeground.model.vocab import ActivityType, ClearanceMethod


@register
class Activity(Record):
    LAYER: ClassVar[str] = "activities"
    GEOMETRY: ClassVar[str | None] = "MULTIPOLYGON"
    UID_PREFIX: ClassVar[str] = "ACT"
    TITLE: ClassVar[str] = "Survey and clearance activities (land release)"
    REFERENCES: ClassVar[dict[str, str]] = {
        "organisation_uid": "organisations",
        "hazard_area_uid": "hazard_areas",
    }

    activity_type: ActivityType
    organisation_uid: str
    method: ClearanceMethod
    start_date: date
    end_date: date | None = None
    hazard_area_uid: str | None = None
    area_cancelled_m2: float = Field(default=0.0, ge=0)
    area_reduced_m2: float = Field(default=0.0, ge=0)
    area_cleared_m2: float = Field(default=0.0, ge=0)
    items_found: int = Field(default=0, ge=0)
    found_item_uids: list[str] = Field(default_factory=list)
    geometry: Geometry  # the ground worked on

    @model_validator(mode="after")
    def _dates_and_outcomes(self) -> Activity:
        if self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date before start_date")
        if self.activity_type == ActivityType.NTS and self.area_cleared_m2 > 0:
            raise ValueError("a non-technical survey cancels land; it cannot clear it")
        return self

    @property
    def released_m2(self) -> float:
        return self.area_cancelled_m2 + self.area_reduced_m2 + self.area_cleared_m2
