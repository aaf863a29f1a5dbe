"""Predicted hazard polygons: where the risk model says non-technical survey should look first.

They are a model's output, never evidence: the layer is kept apart from the
hazard areas that surveys establish, and every polygon names the model version
and the data it came from, so a later reader can tell which map it was drawn from.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from safeground.model.base import Geometry, Record, register


@register
class PredictedHazard(Record):
    LAYER: ClassVar[str] = "predicted_hazards"
    GEOMETRY: ClassVar[str | None] = "MULTIPOLYGON"
    UID_PREFIX: ClassVar[str] = "PRH"
    TITLE: ClassVar[str] = "Predicted hazard polygons from the risk model (for survey planning, not evidence)"

    run_id: str = Field(min_length=1)
    model_version: str = Field(min_length=1)
    data_fingerprint: str = Field(min_length=1)
    features_as_of: date
    threshold: float = Field(ge=0, le=1)
    mean_risk: float = Field(ge=0, le=1)
    max_risk: float = Field(ge=0, le=1)
    area_m2: float = Field(ge=0)
    raster: str | None = None  # the Cloud-Optimized GeoTIFF the polygon was traced from
    geometry: Geometry
