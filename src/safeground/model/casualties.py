"""Accidents, victims, cluster munition strikes and human remains finds.

Victim categories follow the Landmine Monitor so that figures can be compared
across countries. Identity fields and remains finds are restricted data.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field, model_validator

from safeground.model.base import Geometry, Record, register, restricted
from safeground.model.vocab import ActivityAtTime, DeviceType, Outcome, Sex, VictimStatus


@register
class Accident(Record):
    LAYER: ClassVar[str] = "accidents"
    GEOMETRY: ClassVar[str | None] = "POINT"
    UID_PREFIX: ClassVar[str] = "ACC"
    TITLE: ClassVar[str] = "Mine/ERW accidents"
    SENSITIVE_POSITION: ClassVar[bool] = True

    #: None: the date is not known (old records often have none); never filled with an invented date
    accident_date: date | None = None
    device_type: DeviceType
    place_description: str | None = None
    settlement: str | None = None
    admin_area_uid: str | None = None
    hazard_area_uid: str | None = None
    geometry: Geometry

    @model_validator(mode="after")
    def _dates(self) -> Accident:
        if self.accident_date is not None and self.accident_date > self.date_of_information:
            raise ValueError(
                f"accident_date {self.accident_date} is after date_of_information "
                f"{self.date_of_information}: "
                "information about an accident cannot predate it"
            )
        return self


@register
class Victim(Record):
    LAYER: ClassVar[str] = "victims"
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "VIC"
    TITLE: ClassVar[str] = "Victims (no identity: see victim_identities)"
    REFERENCES: ClassVar[dict[str, str]] = {"accident_uid": "accidents"}

    accident_uid: str
    victim_status: VictimStatus
    outcome: Outcome
    sex: Sex
    age: int | None = Field(default=None, ge=0, le=120)
    activity_at_time: ActivityAtTime

    @property
    def is_child(self) -> bool | None:
        return None if self.age is None else self.age < 18


@register
class VictimIdentity(Record):
    """Who the victim is: kept apart from the statistics and restricted."""

    LAYER: ClassVar[str] = "victim_identities"
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "VID"
    RESTRICTED: ClassVar[bool] = True
    TITLE: ClassVar[str] = "Victim identities (restricted)"
    REFERENCES: ClassVar[dict[str, str]] = {"victim_uid": "victims"}

    victim_uid: str
    full_name: str = restricted(min_length=1)
    home_settlement: str | None = restricted(default=None)
    contact: str | None = restricted(default=None)


@register
class ClusterStrike(Record):
    LAYER: ClassVar[str] = "cluster_strikes"
    GEOMETRY: ClassVar[str | None] = "POLYGON"
    UID_PREFIX: ClassVar[str] = "CMS"
    TITLE: ClassVar[str] = "Cluster munition strikes (footprints)"

    strike_date: date
    munition_type: str
    submunition_type: str | None = None
    submunition_count: int = Field(ge=1)
    estimated_duds: int | None = Field(default=None, ge=0)
    center_lon: float = Field(ge=-180, le=180)
    center_lat: float = Field(ge=-90, le=90)
    direction_deg: float | None = Field(default=None, ge=0, lt=360)
    geometry: Geometry  # the footprint


@register
class HumanRemainsFind(Record):
    LAYER: ClassVar[str] = "human_remains_finds"
    GEOMETRY: ClassVar[str | None] = "POINT"
    UID_PREFIX: ClassVar[str] = "HRF"
    RESTRICTED: ClassVar[bool] = True
    TITLE: ClassVar[str] = "Human remains finds (restricted; for the missing-persons authority)"

    find_date: date
    activity_uid: str | None = None
    organisation_uid: str | None = None
    description: str | None = restricted(default=None)
    handed_to: str | None = None
    geometry: Geometry
