"""The missing: a registry of missing persons, and what links human remains finds to them.

A family association or the State Commission on Missing Persons holds the list of people missing
since the wars; clearance teams find human remains (``human_remains_finds``). SafeGround proposes
which missing persons a find may be (``safeground.people.missing``), a person confirms, and the
handover of the remains to the commission, the ICRC or a forensic team is recorded. Every layer
here is restricted: the names, the families' contacts and the places people were last seen are
for the commission, never for a public output or a role without ``read:restricted``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, model_validator

from safeground.model.base import Geometry, Record, register, restricted
from safeground.model.vocab import Sex


class CaseState(StrEnum):
    """A missing person's case: open; remains found that may be theirs (candidate); identified; closed."""

    OPEN = "open"
    CANDIDATE = "remains_found_candidate"
    IDENTIFIED = "identified"
    CLOSED = "closed"


class Circumstances(StrEnum):
    """How the person went missing, as the commission's questionnaire records it."""

    COMBATANT_FRONT_LINE = "combatant_at_the_front_line"
    CIVILIAN_FLIGHT = "civilian_during_flight"
    CIVILIAN_AT_HOME = "civilian_at_home_or_village"
    DETAINED = "detained_or_taken_prisoner"
    CROSSING = "crossing_the_line_of_contact"
    UNKNOWN = "unknown"


class LinkState(StrEnum):
    """A person's decision on a proposed match of a find to a case."""

    CANDIDATE = "candidate"  # confirmed as a candidate: the remains go for identification against this family
    IDENTIFIED = "identified"  # identification (e.g. DNA) confirmed it
    REJECTED = "rejected"  # examined and excluded


class ReceivingBody(StrEnum):
    STATE_COMMISSION = "state_commission_on_missing_persons"
    ICRC = "icrc"
    FORENSIC_TEAM = "forensic_team"
    POLICE = "police_or_prosecutor"
    OTHER = "other"


@register
class MissingPerson(Record):
    """One missing person's case; the geometry is the last known place (as precisely as the family knows it)."""

    LAYER: ClassVar[str] = "missing_persons"
    GEOMETRY: ClassVar[str | None] = "POINT"
    UID_PREFIX: ClassVar[str] = "MP"
    RESTRICTED: ClassVar[bool] = True
    SENSITIVE_POSITION: ClassVar[bool] = True
    TITLE: ClassVar[str] = "Missing persons (restricted; the missing-persons commission's registry)"

    case_reference: str | None = None
    full_name: str = restricted(min_length=1)
    sex: Sex = Sex.UNKNOWN
    birth_year: int | None = Field(default=None, ge=1880, le=2100)
    #: None: not known; the year alone is kept in ``year_missing``
    date_missing: date | None = None
    year_missing: int | None = Field(default=None, ge=1900, le=2100)
    last_known_place: str | None = restricted(default=None)
    #: how far (m) the last known place may be from the point: a village, a hill, a position
    place_uncertainty_m: float | None = Field(default=None, ge=0)
    circumstances: Circumstances = Circumstances.UNKNOWN
    circumstances_text: str | None = restricted(default=None)
    family_contact: str | None = restricted(default=None)
    reported_by: str | None = None
    case_state: CaseState = CaseState.OPEN
    geometry: Geometry

    @model_validator(mode="after")
    def _year(self) -> MissingPerson:
        if self.date_missing is not None:
            if self.year_missing is None:
                object.__setattr__(self, "year_missing", self.date_missing.year)
            elif self.year_missing != self.date_missing.year:
                raise ValueError(
                    f"year_missing {self.year_missing} is not the year of date_missing {self.date_missing}"
                )
        return self


@register
class RemainsCaseLink(Record):
    """A person's decision that a human remains find is (a candidate for, or identified as) a missing person."""

    LAYER: ClassVar[str] = "remains_case_links"
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "RCL"
    RESTRICTED: ClassVar[bool] = True
    TITLE: ClassVar[str] = "Human remains finds linked to missing persons (restricted)"
    REFERENCES: ClassVar[dict[str, str]] = {"find_uid": "human_remains_finds", "case_uid": "missing_persons"}

    find_uid: str
    case_uid: str
    state: LinkState = LinkState.CANDIDATE
    decided_by: str = Field(min_length=1)
    decided_on: date
    #: the rank and score SafeGround proposed, and its reasons, as shown to the person who decided
    proposed_rank: int | None = Field(default=None, ge=1)
    score: float | None = None
    reasons: str | None = None
    note: str | None = restricted(default=None)


@register
class RemainsHandover(Record):
    """The handover of a find's remains to the body that identifies them."""

    LAYER: ClassVar[str] = "remains_handovers"
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "RHO"
    RESTRICTED: ClassVar[bool] = True
    TITLE: ClassVar[str] = "Handovers of human remains (restricted)"
    REFERENCES: ClassVar[dict[str, str]] = {"find_uid": "human_remains_finds"}

    find_uid: str
    handed_on: date
    receiving_body: ReceivingBody
    received_by: str | None = restricted(default=None)
    handed_by: str | None = None
    reference: str | None = None
