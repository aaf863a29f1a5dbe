"""Explosive ordnance items: as recorded on a map, or as found on the ground."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field, model_validator

from safeground.model.base import Geometry, Record, register
from safeground.model.vocab import EOCondition, EOStatus, EOType, HowFound


@register
class EOItem(Record):
    LAYER: ClassVar[str] = "eo_items"
    GEOMETRY: ClassVar[str | None] = "POINT"
    UID_PREFIX: ClassVar[str] = "EO"
    TITLE: ClassVar[str] = "Explosive ordnance: recorded on maps and found on the ground"
    SENSITIVE_POSITION: ClassVar[bool] = True
    REFERENCES: ClassVar[dict[str, str]] = {
        "minefield_record_uid": "minefield_records",
        "activity_uid": "activities",
        "hazard_area_uid": "hazard_areas",
    }

    status: EOStatus
    eo_type: EOType
    eo_model: str | None = None
    depth_cm: float | None = Field(default=None, ge=0, le=500)
    condition: EOCondition = EOCondition.UNKNOWN
    how_found: HowFound | None = None
    minefield_record_uid: str | None = None  # for recorded items
    row_label: str | None = None
    activity_uid: str | None = None  # for found items
    hazard_area_uid: str | None = None
    geometry: Geometry

    @model_validator(mode="after")
    def _status_fields(self) -> EOItem:
        if self.status == EOStatus.RECORDED and not self.minefield_record_uid:
            raise ValueError("a recorded item needs the minefield_record_uid it comes from")
        if self.status == EOStatus.FOUND and self.how_found is None:
            raise ValueError("a found item needs how_found")
        return self


@register
class GroundTruthItem(Record):
    """Every item really in the ground, known only for synthetic districts.

    Restricted: it exists so later analyses (map accuracy, risk model) can be
    measured against the truth; no operational output may show it.
    """

    LAYER: ClassVar[str] = "ground_truth_items"
    GEOMETRY: ClassVar[str | None] = "POINT"
    UID_PREFIX: ClassVar[str] = "GT"
    RESTRICTED: ClassVar[bool] = True
    TITLE: ClassVar[str] = "Ground truth: every item laid (synthetic district only, restricted)"

    eo_type: EOType
    eo_model: str | None = None
    laid_context: str  # front_belt, power_line_pole, cemetery, cluster_strike, ...
    minefield_id: str | None = None
    row_label: str | None = None
    date_laid: date | None = None
    fate: str = "in_ground"  # in_ground, found, detonated
    geometry: Geometry
