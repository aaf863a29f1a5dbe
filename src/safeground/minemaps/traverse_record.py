"""A minefield record drawn by bearing and distance, as a clerk writes it: the schema every reader fills.

The JSON/YAML reader (``traverse.read_record``) and the XLSX template (``traverse_xlsx``) both
produce a :class:`TraverseRecord`; ``traverse.solve`` turns it into points, a perimeter and mines.
Apart from both so that the readers import the schema, not the module that solves records (which
hands an ``.xlsx`` file to its reader): no import circle between them.

Record format (JSON or YAML; or the XLSX template of ``safeground maps template``)::

    source: Handover batch 1
    source_reference: No. 97
    date: 2021-06-12            # date of the survey the bearings were measured
    bearing_reference: magnetic # magnetic | true | grid
    declination_deg: 6.2        # optional: otherwise from the World Magnetic Model
    start: {label: LM, lon: 47.1512, lat: 39.6203, description: corner of the school}
    # or, as drawn on a Soviet SK-42 map (X northing, Y easting with the zone in front; minemaps.sk42):
    # start: {label: LM, crs: SK-42, zone: 8, x: 4389672.7, y: 8684825.4}
    legs:                       # each from the previous point
      - {label: BM, role: benchmark, bearing_deg: 81.5, distance_m: 412.0}
      - {label: TP1, role: start, bearing_deg: 90.0, distance_m: 25.0}
      - {label: TP2, role: turning, bearing_deg: 0.0, distance_m: 150.0}
      ...
      - {label: TP1, role: end, bearing_deg: 180.0, distance_m: 60.0}   # closes on TP1
    rows:
      - {label: R1, from: TP1, to: TP2, mine_type: ap_blast, mine_model: PMN-2, mine_count: 34}
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safeground.model.minemaps import MAX_MINES_PER_ROW
from safeground.model.vocab import EOType


class StartPoint(BaseModel):
    """The landmark: WGS 84 ``lon``/``lat``, or SK-42 Gauss–Krüger ``x`` (northing) / ``y`` (easting).

    Soviet records write X for the northing and Y for the easting with the zone in front
    (``safeground.minemaps.sk42``); ``crs`` names the grid ("SK-42", "EPSG:28408") and ``zone`` its zone.
    A grid position is converted to WGS 84 here, so lon/lat are always set after validation.
    """

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    crs: str | None = None
    zone: int | None = None
    x: float | None = None  # SK-42 X: northing (m)
    y: float | None = None  # SK-42 Y: easting (m), with or without the zone prefix
    description: str | None = None

    @model_validator(mode="after")
    def _place(self) -> StartPoint:
        from safeground.minemaps import sk42

        grid = (self.x, self.y, self.crs, self.zone)
        if all(v is None for v in grid):
            if self.lon is None or self.lat is None:
                raise ValueError("give lon and lat (WGS 84 degrees), or x, y and the crs/zone of an SK-42 grid")
            return self
        if self.x is None or self.y is None:
            raise ValueError("an SK-42 position needs both x (northing) and y (easting)")
        pos = sk42.to_wgs84(self.x, self.y, sk42.parse_crs(self.crs, self.zone))  # GridError is a ValueError
        if self.lon is not None and self.lat is not None:
            from pyproj import Geod

            off = Geod(ellps="WGS84").inv(self.lon, self.lat, pos.lon, pos.lat)[2]
            if off > 1.0:
                raise ValueError(
                    f"lon/lat and the SK-42 x/y are {off:.0f} m apart: give one of them (the x/y are converted)"
                )
        self.lon, self.lat, self.zone = pos.lon, pos.lat, pos.zone
        return self

    @property
    def grid_zone(self) -> int | None:
        """The SK-42 zone the point was given in (its grid bearings are on that zone's grid), if any."""
        return self.zone if self.x is not None else None


class TraverseLeg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)
    role: Literal["landmark", "benchmark", "start", "turning", "end"] = "turning"
    bearing_deg: float = Field(ge=0, lt=360)
    distance_m: float = Field(gt=0, le=20_000)


class TraverseRow(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    label: str = Field(min_length=1)
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    mine_type: EOType
    mine_model: str | None = None
    mine_count: int = Field(ge=1, le=MAX_MINES_PER_ROW)  # a row of a real minefield: tens to hundreds


class TraverseRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1)
    source_reference: str | None = None
    date: date
    bearing_reference: Literal["magnetic", "true", "grid"]
    declination_deg: float | None = Field(default=None, ge=-60, le=60)
    start: StartPoint
    legs: list[TraverseLeg] = Field(min_length=2, max_length=1000)
    rows: list[TraverseRow] = Field(default_factory=list, max_length=1000)
