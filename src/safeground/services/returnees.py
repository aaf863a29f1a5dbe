"""For returnees and the people who advise them: is it safe here, a safe route, a village risk map.

These are the answers a returnee page, a phone and the command line must give alike: the
same buffers, the same refusal of a point far outside the store (latitude and longitude
swapped), the same route and its explanation. Each function opens the store read-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeground.errors import SafeGroundError
from safeground.outputs import guard_output, staged_file, write_text
from safeground.storage import open_store

if TYPE_CHECKING:
    import pandas as pd

    from safeground.reports.village_map import VillageMap
    from safeground.routing.network import RouteAnswer
    from safeground.safety.buffers import SafetyBuffers
    from safeground.safety.check import SafetyAnswer
    from safeground.storage.base import Store


@dataclass(frozen=True)
class PointChecked:
    answer: SafetyAnswer
    buffers: SafetyBuffers

    def as_dict(self) -> dict[str, Any]:
        """The answer as JSON data (what ``check --format json`` prints and an API returns)."""
        ans = self.answer
        return {
            "lon": ans.lon,
            "lat": ans.lat,
            "level": ans.level.name.lower(),
            "verdict": ans.verdict,
            "findings": [f.__dict__ for f in ans.findings],
            "released": [f.__dict__ for f in ans.released],
            "nearest_danger": ans.nearest_uid or None,
            "nearest_danger_m": round(ans.nearest_m, 1) if ans.nearest_uid else None,
            "risk": ans.risk,
            "risk_probability": ans.risk_probability,
            "buffers": self.buffers.as_dict(),
        }


@dataclass(frozen=True)
class PointsChecked:
    """A file of points checked: where the answers went, how many at each level, the buffers used."""

    out: Path
    answers: pd.DataFrame
    buffers: SafetyBuffers
    renamed: list[str]

    def levels(self) -> dict[str, int]:
        counts = self.answers["level"].value_counts()
        return {k: int(counts[k]) for k in ("danger", "caution", "no_known_hazard")}


@dataclass(frozen=True)
class RouteFound:
    """A route (or the closest safe point), and the file it was written to."""

    answer: RouteAnswer
    written: Path | None = None

    def geojson(self) -> dict[str, Any] | None:
        """The route as a GeoJSON FeatureCollection (None when there is no path to draw)."""
        import shapely

        ans = self.answer
        if ans.path is None:
            return None
        feature = {
            "type": "Feature",
            "properties": {"found": ans.found, "length_m": round(ans.length_m, 1), "explanation": ans.explanation},
            "geometry": json.loads(shapely.to_geojson(ans.path)),
        }
        return {"type": "FeatureCollection", "features": [feature]}


def _buffers(settings: Path | None, buffer: list[str] | tuple[str, ...]) -> SafetyBuffers:
    from safeground.safety.buffers import load_buffers

    return load_buffers(settings, buffer or ())


def check_point(
    store: str,
    lon: float,
    lat: float,
    *,
    settings: Path | None = None,
    buffer: list[str] | tuple[str, ...] = (),
    max_distance: float | None = None,
) -> PointChecked:
    """Is it safe at ``lon``, ``lat``? Danger, caution or no known hazard, with the reason and the buffers used."""
    from safeground.safety.check import SafetyIndex

    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SafeGroundError(f"{lon}, {lat} is not a longitude/latitude", hint="longitude first, then latitude")
    buffers = _buffers(settings, buffer)
    with open_store(store, readonly=True) as s:
        index = SafetyIndex.from_store(s, buffers)
    return PointChecked(index.check(lon, lat, max_distance=max_distance), buffers)


def check_points_file(
    store: str,
    batch: Path,
    *,
    out: Path | None = None,
    layer: str | None = None,
    id_column: str | None = None,
    settings: Path | None = None,
    buffer: list[str] | tuple[str, ...] = (),
    max_distance: float | None = None,
    overwrite: bool = False,
) -> PointsChecked:
    """Check every point of a file; the answers, with the file's own columns, go to ``out`` (or beside it)."""
    import numpy as np

    from safeground.safety.batchfile import default_output, joined, read_points, write_answers
    from safeground.safety.check import SafetyIndex

    buffers = _buffers(settings, buffer)
    points = read_points(batch, layer)
    ids = points.ids(id_column)
    target = out or default_output(batch)
    guard_output(target, overwrite=overwrite, store_location=store)
    with open_store(store, readonly=True) as s:
        index = SafetyIndex.from_store(s, buffers)
    far = np.flatnonzero(index.outside(points.lon, points.lat))
    if len(far):
        first = int(far[0])
        more = f" (and {len(far) - 1} more)" if len(far) > 1 else ""
        cols = "/".join(points.lonlat_columns) if points.lonlat_columns else "geometry"
        index.refuse_outside(
            float(points.lon[first]), float(points.lat[first]),
            where=f"{batch.name}, {points.where(first)}{more}, fields {cols}: ",
        )  # fmt: skip
    res = index.check_many(points.lon, points.lat, ids=ids, max_distance=max_distance)
    table, renamed = joined(points, res, buffers.describe())
    with staged_file(target, overwrite=overwrite, store_location=store) as tmp:
        write_answers(points, table, tmp)
    return PointsChecked(target, res, buffers, renamed)


def parse_lonlat(text: str) -> tuple[float, float]:
    """'lon,lat' in WGS 84 degrees, checked."""
    try:
        lon_s, lat_s = text.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        raise SafeGroundError(f"{text!r} is neither 'lon,lat' nor a known place") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SafeGroundError(f"{text!r} is not a longitude/latitude", hint="longitude first, then latitude")
    return lon, lat


def place(store: Store, text: str) -> tuple[float, float]:
    """Where ``text`` is: 'lon,lat', or the name of a settlement, cemetery or checkpoint in the store."""
    from safeground.routing.places import place_lonlat

    return parse_lonlat(text) if "," in text else place_lonlat(store, text)


def safe_route(
    store: str, origin: str, destination: str, *, out: Path | None = None, overwrite: bool = False
) -> RouteFound:
    """A safe walking route between two places (names or 'lon,lat'); with ``out`` also written as GeoJSON."""
    from safeground.routing.build import safe_network

    if out:
        guard_output(out, overwrite=overwrite, store_location=store)
    with open_store(store, readonly=True) as s:
        a = place(s, origin)
        b = place(s, destination)
        net = safe_network(s)
    found = RouteFound(net.route(a, b))
    collection = found.geojson()
    if out and collection is not None:
        write_text(out, json.dumps(collection), overwrite=overwrite, store_location=store)
        return RouteFound(found.answer, written=out)
    return found


def village_risk_map(
    store: str, name: str, *, out: Path | None = None, langs: tuple[str, ...] = ("az", "en"), overwrite: bool = False
) -> tuple[Path, VillageMap]:
    """The one-page A4 risk map of a settlement or cemetery (PDF); returns where it went and what was drawn."""
    from safeground.reports.village_map import render_village_map

    target = out or Path(f"{name.lower().replace(' ', '-')}-risk-map.pdf")
    with open_store(store, readonly=True) as s, staged_file(target, overwrite=overwrite, store_location=store) as tmp:
        drawn = render_village_map(s, name, tmp, langs)
    return target, drawn
