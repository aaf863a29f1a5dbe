"""Settings of the synthetic district, with the assumptions written down.

The demo district is the project's test bed, so every number that shapes it is
here, named, and explained: if a later analysis looks good only because the
generator was easy, the cause is in this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Tolerance (m) within which a recorded mine counts as "where the record put it": the domain's own
# (``safeground.model.minemaps``), named here too because the district's accurate records are drawn
# to it and its tests check them against it. The domain never imports it from here.
from safeground.model.minemaps import MATCH_TOLERANCE_M  # noqa: F401 (an assumption of the test bed)
from safeground.model.vocab import EOType

#: Distance (m) from the former contact line within which an accident counts as
#: "on the front line": the depth of the defensive minefield belts.
CONTACT_ZONE_M = 2000.0


# Cluster munition types (footprint, dud rate) live in safeground.casualties.munitions,
# the one table shared with the strike-to-hazard conversion.


@dataclass(frozen=True)
class MineModel:
    eo_type: EOType
    model: str
    spacing_m: float


AP_BLAST = MineModel(EOType.AP_BLAST, "PMN-2", 4.5)
AP_FRAG = MineModel(EOType.AP_FRAGMENTATION, "OZM-72", 20.0)
AP_FRAG_STAKE = MineModel(EOType.AP_FRAGMENTATION, "POMZ-2M", 12.0)
AV = MineModel(EOType.AV, "TM-62M", 8.0)


@dataclass(frozen=True)
class RecordErrorClass:
    """One class of handed-over record: how far its reference point is off."""

    name: str
    share: float
    shift_m: tuple[float, float]  # range of the systematic shift
    rotation_deg: tuple[float, float]  # range of the absolute rotation
    drawing_sigma_m: float  # random error of each drawn row end


RECORD_ERROR_CLASSES: tuple[RecordErrorClass, ...] = (
    RecordErrorClass("accurate", 0.25, (0.0, 2.0), (0.0, 0.3), 0.8),
    RecordErrorClass("shifted", 0.23, (10.0, 60.0), (1.0, 6.0), 2.0),
    RecordErrorClass("wrong_reference", 0.52, (40.0, 450.0), (2.0, 25.0), 3.0),
)


@dataclass(frozen=True)
class DistrictConfig:
    seed: int = 2020
    size_km: float = 20.0
    center_lon: float = 47.15  # the former front east of Fuzuli / south of Aghdam
    center_lat: float = 39.62
    name: str = "Demo district"
    return_date: date = date(2020, 11, 20)
    as_of: date = date(2022, 12, 31)
    # record handover batches (date, name)
    handover_batches: tuple[tuple[date, str], ...] = (
        (date(2021, 6, 12), "Handover batch 1"),
        (date(2021, 7, 3), "Handover batch 2"),
        (date(2022, 1, 28), "Handover batch 3"),
    )
    share_fields_recorded: float = 0.6  # handed-over records cover only part of the fields
    share_fields_second_record: float = 0.12  # several records may describe the same ground
    row_omitted_p: float = 0.15
    invented_rows_p: float = 0.35
    row_count_wrong_p: float = 0.3
    # casualties: ~40 civilian casualties in the first four months, fewer later
    early_civilian_casualties: int = 40
    later_casualties_per_month: float = 1.2
    # share of open hazard areas that survey and clearance reach by the "as of" date
    work_share: dict[str, float] = field(
        default_factory=lambda: {"near_people": 0.5, "record": 0.6, "front_belt": 0.7, "other": 0.3}
    )
    # share of cemeteries whose access path (and the cemetery) route clearance has cleared by "as of"
    cemetery_access_cleared: float = 0.85
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """Counts scale with area relative to the 20 × 20 km demo."""
        return (self.size_km / 20.0) ** 2

    @property
    def half_m(self) -> float:
        return self.size_km * 500.0
