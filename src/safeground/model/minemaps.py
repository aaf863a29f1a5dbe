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

#: what a reference point of a minefield record is for
PointRole = Literal["landmark", "benchmark", "start", "turning", "end"]
#: the grade of a record's assessment (docs/map-accuracy.md): A as recorded, B once corrected, C unusable, U unknown
Grade = Literal["A", "B", "C", "U"]


class ReferencePoint(BaseModel):
    """A landmark, benchmark or turning point of the record's chain.

    ``bearing_deg``/``distance_m`` are the leg from the previous point as drawn
    on the record; ``lon``/``lat`` are where the record's author put the point.
    """

    model_config = ConfigDict(extra="forbid")

    label: str
    role: PointRole
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    bearing_deg: float | None = Field(default=None, ge=0, lt=360)
    bearing_reference: Literal["magnetic", "grid", "true"] | None = None
    distance_m: float | None = Field(default=None, ge=0)
    description: str | None = None


#: mines in one recorded row. Real rows hold tens to hundreds; the bound is what stops
#: ``mine_count: 2000000000`` asking for 15 GiB of positions instead of a message
MAX_MINES_PER_ROW = 10_000

#: Tolerance (m) within which a found item counts as "where the record put it", by type: the default
#: of map accuracy scoring and of hazard evidence. It reflects the accuracy a careful minefield record
#: with a sound reference point achieves (pacing and a compass from a surveyed landmark); an anti-vehicle
#: row is laid and drawn more coarsely, and UXO is placed by eye. Part of the model, not of the scoring,
#: because the synthetic district (``safeground.generator``) lays its accurate records to the same numbers.
MATCH_TOLERANCE_M: dict[EOType, float] = {
    EOType.AP_BLAST: 5.0,
    EOType.AP_FRAGMENTATION: 5.0,
    EOType.AV: 8.0,
    EOType.IMPROVISED: 5.0,
    EOType.SUBMUNITION: 5.0,
    EOType.UXO: 10.0,
}


class MineRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    mine_type: EOType
    mine_model: str | None = None
    start_lon: float = Field(ge=-180, le=180)
    start_lat: float = Field(ge=-90, le=90)
    end_lon: float = Field(ge=-180, le=180)
    end_lat: float = Field(ge=-90, le=90)
    mine_count: int = Field(ge=0, le=MAX_MINES_PER_ROW)
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


@register
class RecordAssessment(Record):
    """How one minefield record compared with clearance, as of a date.

    Each run of the assessment adds new assessments; none is overwritten, so the
    evidence put before an international organization can be re-checked later.
    The geometry is the corrected perimeter when a correction was accepted,
    otherwise the recorded perimeter.
    """

    LAYER: ClassVar[str] = "minefield_record_assessments"
    GEOMETRY: ClassVar[str | None] = "MULTIPOLYGON"
    UID_PREFIX: ClassVar[str] = "MRA"
    TITLE: ClassVar[str] = "Minefield record accuracy assessments (recorded vs found)"

    minefield_record_uid: str
    source: str
    as_of: date
    method: str
    recorded_mines: int = Field(ge=0)
    verified_mines: int = Field(ge=0)  # recorded mines inside cleared ground
    confirmed_mines: int = Field(ge=0)  # ... found where the record put them
    precision: float | None = Field(default=None, ge=0, le=1)
    precision_ci_low: float | None = None
    precision_ci_high: float | None = None
    finds_in_perimeter: int = Field(default=0, ge=0)
    finds_shown: int = Field(default=0, ge=0)
    recall: float | None = Field(default=None, ge=0, le=1)
    found_outside_perimeter: int = Field(default=0, ge=0)
    error_median_m: float | None = None
    error_p90_m: float | None = None
    error_p95_m: float | None = None
    iou: float | None = Field(default=None, ge=0, le=1)
    shift_east_m: float | None = None
    shift_north_m: float | None = None
    rotation_deg: float | None = None
    scale: float | None = None
    sigma_shift_m: float | None = None
    sigma_rotation_deg: float | None = None
    alignment_inliers: int | None = None
    alignment_ambiguous: bool = False
    corrected_verified: int | None = None
    corrected_confirmed: int | None = None
    corrected_precision: float | None = Field(default=None, ge=0, le=1)
    by_type: dict[str, dict[str, int]] = Field(default_factory=dict)
    grade: Grade
    evidence_kind: Literal["direct", "indirect"]
    grade_reason: str
    geometry: Geometry


@register
class CorrectedMinePosition(Record):
    """Where a not-yet-cleared mine of a record most likely is, after correction.

    A derived, clearly labelled layer: the original record and its recorded
    positions are never changed.
    """

    LAYER: ClassVar[str] = "corrected_mine_positions"
    GEOMETRY: ClassVar[str | None] = "POINT"
    UID_PREFIX: ClassVar[str] = "CMP"
    TITLE: ClassVar[str] = "Corrected positions of remaining recorded mines (derived, not a record)"

    assessment_uid: str
    minefield_record_uid: str
    recorded_item_uid: str
    eo_type: EOType
    shift_m: float = Field(ge=0)
    uncertainty_m: float | None = Field(default=None, ge=0)
    geometry: Geometry
