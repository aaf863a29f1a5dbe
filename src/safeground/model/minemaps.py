"""Minefield records ("mine maps") as handed over, before anyone checks them.

The structure follows the Amended Protocol II to the CCW (Technical Annex):
location by reference points, a perimeter, rows with their mines, the types and
numbers laid. A record is a claim, not a fact: accuracy is measured later
against what clearance finds.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from safeground.model.base import Geometry, Record, register
from safeground.model.vocab import EOType


class ReferencePoint(BaseModel):
    """A landmark, benchmark or turning point of the record's chain.

    ``bearing_deg``/``distance_m`` are the leg from the previous point as drawn
    on the record; ``lon``/``lat`` are where the record's author put the point.
    """

    model_config = ConfigDict(extra="forbid")

    label: str
    role: Literal["landmark", "benchmark", "start", "turning", "end"]
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    bearing_deg: float | None = Field(default=None, ge=0, lt=360)
    bearing_reference: Literal["magnetic", "grid", "true"] | None = None
    distance_m: float | None = Field(default=None, ge=0)
    description: str | None = None


class MineRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    mine_type: EOType
    mine_model: str | None = None
    start_lon: float = Field(ge=-180, le=180)
    start_lat: float = Field(ge=-90, le=90)
    end_lon: float = Field(ge=-180, le=180)
    end_lat: float = Field(ge=-90, le=90)
    mine_count: int = Field(ge=0)
    spacing_m: float | None = Field(default=None, gt=0)


@register
class MinefieldRecord(Record):
    LAYER: ClassVar[str] = "minefield_records"
    GEOMETRY: ClassVar[str | None] = "MULTIPOLYGON"
    UID_PREFIX: ClassVar[str] = "MFR"
    TITLE: ClassVar[str] = "Minefield records (handed-over mine maps): recorded perimeter"

    source: str = Field(min_length=1)
    source_reference: str | None = None  # the number written on the original record
    date_received: date
    date_laid: date | None = None
    reference_points: list[ReferencePoint] = Field(default_factory=list)
    rows: list[MineRow] = Field(default_factory=list)
    expected_mines: dict[EOType, int] = Field(default_factory=dict)
    claimed_accuracy_m: float | None = Field(default=None, gt=0)
    original_document: str | None = None
    notes: str | None = None
    geometry: Geometry  # the recorded perimeter

    @property
    def expected_total(self) -> int:
        return sum(self.expected_mines.values())
