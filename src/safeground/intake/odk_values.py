"""Typed values of one form submission, and the GPS strings of ODK.

A submission's values are text as the phone wrote them; this reads them as the types the
records need (dates, numbers, the form's choices, geometry), collecting every problem of the
submission instead of stopping at the first, so a field officer corrects the form once.

GPS values are ODK strings: a geopoint ``"lat lon alt acc"``, a geotrace or
geoshape ``"lat lon alt acc;lat lon alt acc;…"`` (latitude first!); ODK Central's OData
gives GeoJSON objects instead. Altitude and accuracy are not kept.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from safeground.errors import Problem
from safeground.intake.form_exports import Submission


class SubmissionValues:
    """Reads typed values of one submission (or repeat entry), collecting every problem."""

    def __init__(self, sub: Submission, values: dict[str, Any], item: str, problems: list[Problem]) -> None:
        self.sub, self.values, self.item, self.problems = sub, values, item, problems

    def bad(self, name: str, reason: str, value: Any) -> None:
        self.problems.append(Problem(self.sub.source, self.item, name, reason, value))

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            value = value.strip()
        return None if value in (None, "", "n/a") else value

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.bad(name, "missing: a value is required", None)
            return None
        return str(value)

    def date(self, name: str, required: bool = True) -> date | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.bad(name, "missing: a date is required", None)
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            self.bad(name, "not a date (YYYY-MM-DD)", value)
            return None

    def number(self, name: str, integer: bool = False) -> float | int | None:
        value = self.raw(name)
        if value is None:
            return None
        try:
            x = float(value)
            if not math.isfinite(x):
                raise ValueError
            if integer:
                if x != int(x):
                    raise ValueError
                return int(x)
            return x
        except (TypeError, ValueError, OverflowError):
            self.bad(name, "not a whole number" if integer else "not a number", value)
            return None

    def choice(self, name: str, enum: type[StrEnum], required: bool = True) -> Any:
        value = self.raw(name)
        if value is None:
            if required:
                self.bad(name, "missing: a choice is required", None)
            return None
        try:
            return enum(str(value))
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            self.bad(name, f"not one of the form's choices ({allowed})", value)
            return None

    def geometry(self, name: str, kind: str, required: bool = True) -> BaseGeometry | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.bad(name, f"missing: a GPS {kind} is required", None)
            return None
        try:
            return parse_odk_geometry(value, kind)
        except ValueError as exc:
            self.bad(name, str(exc), value)
            return None


def _odk_vertex(text: str) -> tuple[float, float]:
    parts = text.split()
    if not 2 <= len(parts) <= 4:
        raise ValueError(f"a GPS point is 'lat lon [alt acc]', not {len(parts)} value(s)")
    try:
        lat, lon = float(parts[0]), float(parts[1])
        [float(p) for p in parts[2:]]
    except ValueError:
        raise ValueError("a GPS point must be numbers: 'lat lon alt acc'") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        swapped = " (latitude and longitude swapped?)" if abs(lon) <= 90 < abs(lat) <= 180 else ""
        raise ValueError(f"latitude {parts[0]} / longitude {parts[1]} out of range{swapped}")
    return lon, lat


def parse_odk_geometry(value: Any, kind: str) -> BaseGeometry:
    """An ODK geopoint / geotrace / geoshape string (or a GeoJSON object) as a WGS 84 geometry."""
    if isinstance(value, dict):
        try:
            geom = shapely.force_2d(shapely.from_geojson(json.dumps(value)))  # altitude is not kept
        except Exception as exc:
            raise ValueError(f"not a GeoJSON geometry: {exc}") from None
    else:
        pts = [_odk_vertex(p) for p in str(value).strip().strip(";").split(";") if p.strip()]
        if kind == "geopoint":
            if len(pts) != 1:
                raise ValueError(f"a geopoint is one point, not {len(pts)}")
            geom = shapely.Point(pts[0])
        elif kind == "geotrace":
            if len(pts) < 2:
                raise ValueError("a geotrace needs at least 2 points")
            geom = shapely.LineString(pts)
        elif kind == "geoshape":
            if len(pts) >= 2 and pts[0] == pts[-1]:
                pts = pts[:-1]
            if len(set(pts)) < 3:
                raise ValueError("a geoshape needs at least 3 different points")
            geom = shapely.Polygon([*pts, pts[0]])
        else:  # pragma: no cover - kinds come from this module
            raise ValueError(f"unknown GPS kind {kind}")
    expected = {"geopoint": "Point", "geotrace": "LineString", "geoshape": "Polygon"}[kind]
    if geom.geom_type != expected:
        raise ValueError(f"expected a {expected}, got a {geom.geom_type}")
    if kind == "geoshape" and not geom.is_valid:
        raise ValueError(f"the area crosses itself: {shapely.is_valid_reason(geom)}")
    return geom
