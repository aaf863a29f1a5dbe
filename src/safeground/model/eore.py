"""Explosive ordnance risk education (EORE, IMAS 12.10): who was taught, where, how, and with what.

A session is counted by audience in the age bands and sexes IMSMA and the Landmine Monitor use
(children under 12, adolescents 12–17, adults 18 and over; girls/boys, women/men), because the
people who step on mines are not the people who come to a village meeting: boys herding, men
collecting scrap and wood, families visiting graves. The numbers are of people taught, not of
people identified: no name is kept, so the layer is public.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, model_validator

from safeground.model.base import Geometry, Record, register


class EOREMethod(StrEnum):
    COMMUNITY_SESSION = "community_session"
    SCHOOL = "school"
    DOOR_TO_DOOR = "door_to_door"
    MEDIA = "media"  # radio, television, social media: reach is estimated, not counted at a door


class EOREMaterial(StrEnum):
    LEAFLET = "leaflet"
    POSTER = "poster"
    BOOKLET = "booklet"
    VIDEO = "video"
    SAFETY_MAP = "safety_map"  # the village risk map (safeground village-map)
    PUPPET_SHOW = "puppet_show"
    RADIO_SPOT = "radio_spot"
    OTHER = "other"


#: the audience fields of a session: (field, sex, age band), in the order a form asks them
AUDIENCE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("girls_under_12", "female", "under_12"),
    ("boys_under_12", "male", "under_12"),
    ("girls_12_17", "female", "12_17"),
    ("boys_12_17", "male", "12_17"),
    ("women_18_over", "female", "18_over"),
    ("men_18_over", "male", "18_over"),
)
AGE_BANDS = ("under_12", "12_17", "18_over")


@register
class EORESession(Record):
    LAYER: ClassVar[str] = "eore_sessions"
    GEOMETRY: ClassVar[str | None] = "POINT"
    UID_PREFIX: ClassVar[str] = "EORE"
    TITLE: ClassVar[str] = "Explosive ordnance risk education sessions"
    REFERENCES: ClassVar[dict[str, str]] = {"organisation_uid": "organisations"}

    session_date: date
    #: the settlement taught (the targeting counts sessions per settlement by this name)
    settlement: str = Field(min_length=1)
    organisation_uid: str
    method: EOREMethod
    girls_under_12: int = Field(default=0, ge=0, le=100_000)
    boys_under_12: int = Field(default=0, ge=0, le=100_000)
    girls_12_17: int = Field(default=0, ge=0, le=100_000)
    boys_12_17: int = Field(default=0, ge=0, le=100_000)
    women_18_over: int = Field(default=0, ge=0, le=100_000)
    men_18_over: int = Field(default=0, ge=0, le=100_000)
    #: people who had never attended a session before: the new reach, not the same faces again
    first_time_participants: int = Field(default=0, ge=0)
    materials: list[EOREMaterial] = Field(default_factory=list)
    facilitator_team: str | None = None
    notes: str | None = None
    geometry: Geometry  # where it was held (a media session: the settlement it was aimed at)

    @property
    def participants(self) -> int:
        return sum(int(getattr(self, f)) for f, _, _ in AUDIENCE_FIELDS)

    @model_validator(mode="after")
    def _counts(self) -> EORESession:
        if self.session_date > self.date_of_information:
            raise ValueError(
                f"session_date {self.session_date} is after date_of_information {self.date_of_information}"
            )
        if self.first_time_participants > self.participants:
            raise ValueError(
                f"first_time_participants {self.first_time_participants} is more than the "
                f"{self.participants} participants counted by sex and age"
            )
        return self
