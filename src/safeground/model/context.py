"""Context layers: infrastructure, the former front line, organisations, admin areas.

Mines were laid at infrastructure (poles, canals, junctions, courtyard entrances,
cemeteries, riverbanks, paths), so these layers are both map background and
risk-model evidence. Infrastructure is split by geometry type so that each layer
opens in QGIS with one geometry type, as GIS users expect.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from safeground.model.base import Geometry, Record, register
from safeground.model.vocab import AdminLevel, InfrastructureKind, OrganisationType


class _Infrastructure(Record):
    kind: InfrastructureKind
    name: str | None = None
    settlement: str | None = None
    geometry: Geometry


@register
class InfrastructurePoint(_Infrastructure):
    LAYER: ClassVar[str] = "infrastructure_points"
    GEOMETRY: ClassVar[str | None] = "POINT"
    UID_PREFIX: ClassVar[str] = "INP"
    TITLE: ClassVar[str] = "Infrastructure points (poles, junctions, entrances, springs, bridges)"


@register
class InfrastructureLine(_Infrastructure):
    LAYER: ClassVar[str] = "infrastructure_lines"
    GEOMETRY: ClassVar[str | None] = "MULTILINESTRING"
    UID_PREFIX: ClassVar[str] = "INL"
    TITLE: ClassVar[str] = "Infrastructure lines (roads, paths, canals, rivers, banks, power lines)"


@register
class InfrastructureArea(_Infrastructure):
    LAYER: ClassVar[str] = "infrastructure_areas"
    GEOMETRY: ClassVar[str | None] = "MULTIPOLYGON"
    UID_PREFIX: ClassVar[str] = "INA"
    TITLE: ClassVar[str] = "Infrastructure areas (settlements, buildings, cemeteries, orchards)"


@register
class FrontLine(Record):
    LAYER: ClassVar[str] = "front_lines"
    GEOMETRY: ClassVar[str | None] = "MULTILINESTRING"
    UID_PREFIX: ClassVar[str] = "FL"
    TITLE: ClassVar[str] = "Former front (contact) line"

    name: str
    valid_from: date | None = None
    valid_to: date | None = None
    geometry: Geometry


@register
class Organisation(Record):
    LAYER: ClassVar[str] = "organisations"
    GEOMETRY: ClassVar[str | None] = None
    UID_PREFIX: ClassVar[str] = "ORG"
    TITLE: ClassVar[str] = "Organisations"

    name: str = Field(min_length=1)
    acronym: str | None = None
    org_type: OrganisationType
    accredited: bool = True


@register
class AdminArea(Record):
    LAYER: ClassVar[str] = "admin_areas"
    GEOMETRY: ClassVar[str | None] = "MULTIPOLYGON"
    UID_PREFIX: ClassVar[str] = "ADM"
    TITLE: ClassVar[str] = "Administrative areas"

    name: str = Field(min_length=1)
    level: AdminLevel
    parent_uid: str | None = None
    code: str | None = None
    geometry: Geometry
