"""Named places a route starts or ends at: settlements, cemeteries, checkpoints, springs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from shapely import Point
from shapely.geometry.base import BaseGeometry

from safeground.errors import SafeGroundError
from safeground.model import InfrastructureArea, InfrastructurePoint
from safeground.storage.base import Store


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # settlement, cemetery, checkpoint, spring …
    settlement: str | None  # the settlement it belongs to, when known
    lon: float
    lat: float


def area_point(g: BaseGeometry) -> Point:
    """Where a route to an area (or a point) ends: the centre of a village is where its roads meet;
    a point merely somewhere inside the area (GEOS's representative point) can fall on a back street
    that no one has verified, so the centroid is taken whenever it lies inside."""
    return g.centroid if g.geom_type == "Point" or g.contains(g.centroid) else g.representative_point()


class Gazetteer:
    """The store's named places, read once: routes, checks and maps look places up by name."""

    def __init__(self, places: list[Place]) -> None:
        self.places = places
        self._by_name = {p.name.lower(): p for p in reversed(places)}  # the first of a name wins

    @classmethod
    def from_store(cls, store: Store) -> Gazetteer:
        out: list[Place] = []
        for rc in (InfrastructureArea, InfrastructurePoint):
            frame = store.read_frame(rc)
            if not len(frame):
                continue
            named = frame[frame["name"].notna() & (frame["name"].astype(str).str.strip() != "")]
            for name, kind, st, g in zip(
                named["name"], named["kind"], named["settlement"], named.geometry, strict=True
            ):
                p = area_point(g)
                out.append(Place(str(name), str(kind), None if pd.isna(st) else str(st), p.x, p.y))
        return cls(out)

    def of_kind(self, kind: str) -> list[Place]:
        return [p for p in self.places if p.kind == kind]

    def kind_of(self, name: str) -> str | None:
        p = self._by_name.get(name.lower())
        return None if p is None else p.kind

    def lonlat(self, name: str) -> tuple[float, float]:
        p = self._by_name.get(name.lower())
        if p is None:
            raise SafeGroundError(
                f"no place named {name!r} in the store", hint="use the name of a settlement, cemetery or checkpoint"
            )
        return p.lon, p.lat


def place_lonlat(store: Store, name: str) -> tuple[float, float]:
    """A named place of the store as lon/lat: a point, or the centre of an area."""
    return Gazetteer.from_store(store).lonlat(name)
