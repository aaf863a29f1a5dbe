"""Geometry checks and explicit repair.

A wrong polygon in a mine action database is not a cosmetic problem: a
self-intersecting hazard area has an undefined area, and a point with latitude
and longitude swapped lands in another continent while its minefield stays
unmarked. So every geometry is checked on the way in, every problem is named,
and repair only happens when the user asks for it and is told what changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry

# Geometry type families that a layer may declare.
_FAMILIES = {
    "POINT": {"Point"},
    "MULTIPOINT": {"MultiPoint", "Point"},
    "LINESTRING": {"LineString"},
    "MULTILINESTRING": {"MultiLineString", "LineString"},
    "POLYGON": {"Polygon"},
    "MULTIPOLYGON": {"MultiPolygon", "Polygon"},
    "GEOMETRY": {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
    },
}


@dataclass(frozen=True)
class GeometryIssue:
    """One problem found in a geometry; ``repairable`` says whether ``repair`` can fix it."""

    code: str
    reason: str
    repairable: bool


def _coords(geom: BaseGeometry) -> np.ndarray:
    xy: np.ndarray = shapely.get_coordinates(geom)
    return xy


def _looks_swapped(xy: np.ndarray, region: tuple[float, float, float, float] | None) -> bool:
    """Latitude/longitude swapped: impossible latitudes that are fine longitudes, or
    points outside the area of interest whose swap falls inside it."""
    x, y = xy[:, 0], xy[:, 1]
    if np.any(np.abs(y) > 90) and np.all(np.abs(x) <= 90) and np.all(np.abs(y) <= 180):
        return True
    if region is None:
        return False
    minx, miny, maxx, maxy = region
    inside = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
    swapped_inside = (y >= minx) & (y <= maxx) & (x >= miny) & (x <= maxy)
    return bool(not inside.any() and swapped_inside.all())


def check_geometry(
    geom: BaseGeometry | None,
    *,
    expected: str = "GEOMETRY",
    region: tuple[float, float, float, float] | None = None,
) -> list[GeometryIssue]:
    """All problems of a WGS 84 geometry, in the order a user should fix them.

    ``region`` is the area of interest (lon/lat bounds); it lets the check spot a
    swapped coordinate pair that is still inside the valid degree range.
    """
    if geom is None:
        return [GeometryIssue("missing", "no geometry", False)]
    if geom.is_empty:
        why = "geometry is empty: a missing, NaN or infinite coordinate in the file (nothing to store)"
        return [GeometryIssue("empty", why, False)]
    issues: list[GeometryIssue] = []
    allowed = _FAMILIES[expected.upper()]
    if geom.geom_type not in allowed:
        issues.append(GeometryIssue("wrong_type", f"{geom.geom_type} where {expected.lower()} expected", False))
    xy = _coords(geom)
    if not np.all(np.isfinite(xy)):
        return [*issues, GeometryIssue("not_finite", "coordinate is NaN or infinite", False)]
    if _looks_swapped(xy, region):
        issues.append(
            GeometryIssue(
                "swapped_lat_lon",
                "latitude and longitude appear swapped (x must be longitude, y latitude)",
                True,
            )
        )
    elif np.any(np.abs(xy[:, 0]) > 180) or np.any(np.abs(xy[:, 1]) > 90):
        issues.append(
            GeometryIssue(
                "out_of_range",
                "coordinate outside longitude −180…180 / latitude −90…90: "
                "is the file in a projected CRS (e.g. UTM metres) without saying so?",
                False,
            )
        )
    elif region is not None and not _near_region(xy, region):
        minx, miny, maxx, maxy = region
        issues.append(
            GeometryIssue(
                "outside_area_of_interest",
                f"lies outside this store's area of interest (lon {minx:.2f}…{maxx:.2f}, "
                f"lat {miny:.2f}…{maxy:.2f}): wrong coordinates, or a record of another region?",
                False,
            )
        )
    if geom.geom_type in ("LineString", "MultiLineString", "Polygon", "MultiPolygon"):
        try:
            repeated = shapely.remove_repeated_points(geom, 0.0)
            reason = shapely.is_valid_reason(repeated)
        except shapely.errors.GEOSException:  # e.g. every vertex the same point
            return [*issues, GeometryIssue("too_few_vertices", "all vertices are the same point", False)]
        if shapely.get_num_coordinates(repeated) < shapely.get_num_coordinates(geom):
            issues.append(GeometryIssue("duplicate_vertices", "consecutive duplicate vertices", True))
        if reason.startswith("Too few points"):
            issues.append(
                GeometryIssue(
                    "too_few_vertices",
                    "too few distinct vertices (a polygon needs 3, a line 2)",
                    False,
                )
            )
        elif reason != "Valid Geometry":
            # only a crossing outline has one obvious fix; a hole outside its shell or
            # nested shells would make repair invent or drop hazard area
            crossing = reason.startswith(("Self-intersection", "Ring Self-intersection"))
            kind = "self_intersection" if crossing else "invalid"
            issues.append(GeometryIssue(kind, f"invalid geometry: {reason}", crossing))
    return issues


def _near_region(xy: np.ndarray, region: tuple[float, float, float, float], margin: float = 0.5) -> bool:
    minx, miny, maxx, maxy = region
    x, y = xy[:, 0], xy[:, 1]
    return bool(np.all((x >= minx - margin) & (x <= maxx + margin) & (y >= miny - margin) & (y <= maxy + margin)))


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(polys) if polys else shapely.Polygon()
    return geom


def repair_geometry(
    geom: BaseGeometry,
    issues: list[GeometryIssue],
) -> tuple[BaseGeometry, list[str]]:
    """Fix what ``check_geometry`` found repairable and say exactly what changed.

    Raises ``ValueError`` if an unrepairable issue is present: repair must never
    invent a position the source did not give.
    """
    blocking = [i for i in issues if not i.repairable]
    if blocking:
        raise ValueError("; ".join(i.reason for i in blocking))
    changes: list[str] = []
    codes = {i.code for i in issues}
    if "swapped_lat_lon" in codes:
        geom = shapely.transform(geom, lambda c: c[:, ::-1])
        changes.append("swapped x/y so that x is longitude and y latitude")
    if "duplicate_vertices" in codes:
        before = shapely.get_num_coordinates(geom)
        geom = shapely.remove_repeated_points(geom, 0.0)
        changes.append(f"removed {before - shapely.get_num_coordinates(geom)} duplicate vertices")
    if not geom.is_valid:
        from safeground.geometry.projection import area_m2

        polygonal = geom.geom_type in ("Polygon", "MultiPolygon")
        fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        geom = _polygonal_part(fixed) if polygonal else fixed
        if geom.is_empty:
            raise ValueError("the outline has no area (all vertices on one line): it cannot be repaired")
        parts = len(shapely.get_parts(geom))
        what = f"{parts} polygons" if parts > 1 else "one polygon"
        changes.append(
            f"rebuilt the crossing outline with make_valid into {what} of {area_m2(geom):,.0f} m²"
            if polygonal
            else "rebuilt invalid geometry with make_valid"
        )
    return geom, changes
