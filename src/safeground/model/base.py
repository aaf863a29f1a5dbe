"""What every SafeGround record has: a stable identifier, a version, provenance.

Mine action data is evidence. Each record says when the information was true
(``date_of_information``, which can be months before anyone typed it), who
entered it, and which version it is; a store never overwrites a version, it
supersedes it, so a report can always be re-run as of an earlier date.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar

import shapely
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)
from shapely.geometry.base import BaseGeometry

from safeground.errors import InvalidInput, Problem
from safeground.geometry.validate import check_geometry


def _to_geometry(value: Any) -> BaseGeometry | None:
    if value is None or isinstance(value, BaseGeometry):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return shapely.from_geojson(text)
        return shapely.from_wkt(text)
    if isinstance(value, dict):
        return shapely.from_geojson(json.dumps(value))
    if isinstance(value, bytes | bytearray):
        return shapely.from_wkb(bytes(value))
    raise ValueError(f"cannot read a geometry from {type(value).__name__}")


Geometry = Annotated[
    BaseGeometry,
    BeforeValidator(_to_geometry),
    PlainSerializer(lambda g: None if g is None else g.wkt, return_type=str | None),
]


def restricted(**kwargs: Any) -> Any:
    """A field that only restricted outputs may show (victim identity, exact positions)."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra["restricted"] = True
    return Field(json_schema_extra=extra, **kwargs)


#: characters in one text field of a record
MAX_TEXT = 10_000
#: no information in a mine action database predates this (a placeholder date does)
EARLIEST_DATE = date(1900, 1, 1)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Record(BaseModel):
    """Base of every stored record.

    Subclasses set ``LAYER`` (the GeoPackage table / PostGIS table name),
    ``GEOMETRY`` (the OGC geometry type name or ``None`` for a plain table),
    ``UID_PREFIX`` (human-readable identifiers like ``CHA-0123``) and
    ``RESTRICTED`` when the whole layer is restricted.
    """

    model_config = ConfigDict(
        arbitrary_types_allowed=True,
        extra="forbid",
        validate_assignment=True,
        use_enum_values=False,
        # a name, a note, a description: a 200,000-character cell is a broken export, not a note
        str_max_length=MAX_TEXT,
    )

    LAYER: ClassVar[str] = ""
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "REC"
    RESTRICTED: ClassVar[bool] = False
    #: exact positions are restricted (mines, accidents): outside exports get them generalised
    SENSITIVE_POSITION: ClassVar[bool] = False
    TITLE: ClassVar[str] = ""
    #: fields holding the uid of a record in another layer: field → layer
    REFERENCES: ClassVar[dict[str, str]] = {}

    uid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
    version: int = Field(default=1, ge=1)
    date_of_information: date
    entered_by: str = Field(default="unknown", min_length=1)
    entered_at: datetime = Field(default_factory=_utcnow)
    change_reason: str | None = None

    @model_validator(mode="after")
    def _check_geometry(self, info: ValidationInfo) -> Record:
        if self.GEOMETRY is None:
            return self
        geom = getattr(self, "geometry", None)
        if geom is None:
            return self
        expected = self.GEOMETRY
        if expected == "MULTIPOLYGON" and geom.geom_type == "Polygon":
            object.__setattr__(self, "geometry", shapely.MultiPolygon([geom]))
        elif expected == "MULTILINESTRING" and geom.geom_type == "LineString":
            object.__setattr__(self, "geometry", shapely.MultiLineString([geom]))
        if info.context and (info.context.get("from_store") or info.context.get("geometry_checked")):
            return self
        issues = check_geometry(self.geometry, expected=expected)  # type: ignore[attr-defined]
        if issues:
            raise ValueError("geometry: " + "; ".join(i.reason for i in issues))
        return self

    @field_validator("date_of_information")
    @classmethod
    def _not_in_future(cls, v: date, info: ValidationInfo) -> date:
        if v > (datetime.now(UTC).date() + timedelta(days=1)):
            raise ValueError(f"date of information {v.isoformat()} is in the future")
        if v < EARLIEST_DATE and not (info.context and info.context.get("from_store")):
            # 0001-01-01 is what an empty date cell becomes in some tools, not a date anyone observed
            raise ValueError(
                f"date of information {v.isoformat()} is before {EARLIEST_DATE.year}: "
                "an empty or placeholder date (e.g. 0001-01-01)?"
            )
        return v

    @classmethod
    def restricted_fields(cls) -> set[str]:
        out = set()
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get("restricted"):
                out.add(name)
        return out


RECORD_TYPES: dict[str, type[Record]] = {}


def register(cls: type[Record]) -> type[Record]:
    """Add a record type to the registry that the stores build their schema from."""
    if not cls.LAYER:
        raise TypeError(f"{cls.__name__} has no LAYER")
    RECORD_TYPES[cls.LAYER] = cls
    return cls


def record_type(layer: str) -> type[Record]:
    """The record class of a layer name as a user types it (``hazard_areas`` → ``HazardArea``).

    One place for every front-end and importer, so an unknown layer is refused with the same
    message everywhere, listing the layers there are.
    """
    try:
        return RECORD_TYPES[layer]
    except KeyError:
        known = ", ".join(sorted(RECORD_TYPES))
        raise InvalidInput(
            [Problem("(command line)", "layer", "layer", f"unknown layer; choose one of: {known}", layer)]
        ) from None
