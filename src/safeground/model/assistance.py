"""Victim assistance: what each survivor (and each family of a person killed) needs, and what they got.

The categories are those of the Landmine and Cluster Munition Monitor's victim assistance
reporting, which follow the Convention on the Rights of Persons with Disabilities (CRPD):
emergency and continuing medical care, physical rehabilitation (with prosthetics and other
assistive devices), psychological and psychosocial support, and socio-economic inclusion
(education, employment, a pension or allowance). One :class:`AssistanceService` record is one
need of one person in one category: assessed, referred, being received, received; each follow-up
is a new version of it (the store keeps every earlier version), so "when was this need first seen"
and "when did help start" stay answerable.

Both layers are restricted like the victims' identities: a survivor's disability, pension and
employment single the person out in a small community. Public figures are aggregated with the
reports' small-cell suppression (``safeground.people.assistance``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, model_validator

from safeground.model.base import Record, register, restricted


class AssistanceCategory(StrEnum):
    """Landmine Monitor / CRPD victim assistance categories (one need or service each)."""

    EMERGENCY_MEDICAL = "emergency_medical_care"
    CONTINUING_MEDICAL = "continuing_medical_care"
    PHYSICAL_REHABILITATION = "physical_rehabilitation"
    PROSTHETICS = "prosthetics_and_assistive_devices"
    PSYCHOSOCIAL = "psychological_and_psychosocial_support"
    EDUCATION = "education"
    EMPLOYMENT = "employment_and_livelihood"
    PENSION = "pension_or_allowance"

    @property
    def pillar(self) -> str:
        """The Monitor's pillar the category is reported under."""
        return PILLARS[self]


PILLARS: dict[AssistanceCategory, str] = {
    AssistanceCategory.EMERGENCY_MEDICAL: "medical care",
    AssistanceCategory.CONTINUING_MEDICAL: "medical care",
    AssistanceCategory.PHYSICAL_REHABILITATION: "rehabilitation",
    AssistanceCategory.PROSTHETICS: "rehabilitation",
    AssistanceCategory.PSYCHOSOCIAL: "psychological support",
    AssistanceCategory.EDUCATION: "socio-economic inclusion",
    AssistanceCategory.EMPLOYMENT: "socio-economic inclusion",
    AssistanceCategory.PENSION: "socio-economic inclusion",
}


class AssistanceStatus(StrEnum):
    """Where one need stands. Needed, referred and not available are unmet; declined is the person's choice."""

    NEEDED = "needed"  # assessed, nobody asked to provide it yet
    REFERRED = "referred"  # a provider was asked
    RECEIVING = "receiving"  # started (rehabilitation, a pension being paid, school)
    RECEIVED = "received"  # completed (a prosthesis fitted, surgery done)
    NOT_AVAILABLE = "not_available"  # no provider within reach
    DECLINED = "declined"

    @property
    def unmet(self) -> bool:
        return self in (AssistanceStatus.NEEDED, AssistanceStatus.REFERRED, AssistanceStatus.NOT_AVAILABLE)

    @property
    def started(self) -> bool:
        return self in (AssistanceStatus.RECEIVING, AssistanceStatus.RECEIVED)


class Recipient(StrEnum):
    """Who receives it: the survivor, or the family of a person killed (or of a survivor, e.g. a carer)."""

    SURVIVOR = "survivor"
    FAMILY = "family"


class Disability(StrEnum):
    """Impairments as victim assistance programmes record them (CRPD: a long-term impairment)."""

    LOWER_LIMB_AMPUTATION = "lower_limb_amputation"
    UPPER_LIMB_AMPUTATION = "upper_limb_amputation"
    VISUAL = "visual_impairment"
    HEARING = "hearing_impairment"
    OTHER_PHYSICAL = "other_physical_impairment"
    PSYCHOSOCIAL = "psychosocial_disability"
    NONE = "none"


@register
class AssistanceAssessment(Record):
    """A needs assessment of one victim (or the family of one person killed): the disability found, by whom."""

    LAYER: ClassVar[str] = "assistance_assessments"
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "VAA"
    RESTRICTED: ClassVar[bool] = True
    TITLE: ClassVar[str] = "Victim assistance needs assessments (restricted)"
    REFERENCES: ClassVar[dict[str, str]] = {"victim_uid": "victims"}

    victim_uid: str
    recipient: Recipient = Recipient.SURVIVOR
    assessed_on: date
    assessed_by: str | None = None
    #: empty: not recorded; ``none`` recorded as no lasting impairment
    disabilities: list[Disability] = Field(default_factory=list)
    notes: str | None = restricted(default=None)

    @model_validator(mode="after")
    def _dates(self) -> AssistanceAssessment:
        if self.assessed_on > self.date_of_information:
            raise ValueError(f"assessed_on {self.assessed_on} is after date_of_information {self.date_of_information}")
        return self


@register
class AssistanceService(Record):
    """One need of one person in one category, and the service received or referred for it."""

    LAYER: ClassVar[str] = "assistance_services"
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "VAS"
    RESTRICTED: ClassVar[bool] = True
    TITLE: ClassVar[str] = "Victim assistance: needs and services (restricted)"
    REFERENCES: ClassVar[dict[str, str]] = {"victim_uid": "victims"}

    victim_uid: str
    recipient: Recipient = Recipient.SURVIVOR
    category: AssistanceCategory
    status: AssistanceStatus
    #: the day the need was assessed (first seen)
    needed_since: date
    provider: str | None = None
    referred_on: date | None = None
    started_on: date | None = None
    completed_on: date | None = None
    last_follow_up: date | None = None
    next_follow_up: date | None = None
    notes: str | None = restricted(default=None)

    @model_validator(mode="after")
    def _dates(self) -> AssistanceService:
        if self.started_on is not None and self.completed_on is not None and self.completed_on < self.started_on:
            raise ValueError(f"completed_on {self.completed_on} is before started_on {self.started_on}")
        if self.status.started and self.started_on is None and self.completed_on is None:
            raise ValueError(f"status {self.status.value} needs started_on (or completed_on)")
        for name in ("needed_since", "referred_on", "started_on", "completed_on", "last_follow_up"):
            d = getattr(self, name)
            if d is not None and d > self.date_of_information:
                raise ValueError(f"{name} {d} is after date_of_information {self.date_of_information}")
        return self

    @property
    def first_help(self) -> date | None:
        """The day help started (or was completed, when no start is recorded)."""
        return self.started_on or self.completed_on
