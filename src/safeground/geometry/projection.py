"""Metric projections: geometry is stored in WGS 84, but metres are measured in UTM.

Areas of hazard polygons and distances between mines are only meaningful in a
conformal metric projection; the local UTM zone keeps scale error under 0.1 %
inside a zone, which is far below survey accuracy.

Which projection, for what (the choice a country-sized store needs):

* **Distances** (buffers, nearest danger, alignment of mine rows) are local: they are
  measured in the UTM zone of the centre of the store's area (``metric_epsg_for``). A
  country spanning two zones keeps its distances in the zone of its centre; a point a
  whole zone away is off by about 0.3 % at 40° N, far below any safety buffer's margin.
* **Area sums** over a whole store (km² suspected, released, remaining) add up polygons
  from the whole extent, so they use an equal-area projection when the extent crosses a
  UTM zone boundary: a Lambert azimuthal equal-area projection centred on the extent
  (``area_crs_for``), whose areas are exact wherever the polygon lies (UTM's area error
  grows with the square of the distance from the zone's central meridian: about 0.6 % at
  the far side of a neighbouring zone). A store inside one zone keeps its UTM zone for
  areas too, so local figures do not change.
"""

from __future__ import annotations

from functools import lru_cache
from typing import overload

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the UTM zone holding a point (WGS 84 datum)."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"not a WGS 84 longitude/latitude: {lon}, {lat}")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=64)
def _transformer(src: int, dst: int) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def to_wgs84(epsg: int) -> Transformer:
    return _transformer(epsg, 4326)


def from_wgs84(epsg: int) -> Transformer:
    return _transformer(4326, epsg)


@overload
def project(geom: np.ndarray, src: int, dst: int) -> np.ndarray: ...
@overload
def project(geom: BaseGeometry, src: int, dst: int) -> BaseGeometry: ...


def project(geom: BaseGeometry | np.ndarray, src: int, dst: int) -> BaseGeometry | np.ndarray:
    """Reproject one geometry or an array of geometries (vectorised through shapely)."""
    t = _transformer(src, dst)

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = t.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, _xy)


def metric_epsg_for(geom: BaseGeometry) -> int:
    """The UTM zone of the centre of a geometry's extent (not its centroid: a country's
    mass of features in one corner should not pull the zone away from the middle)."""
    if geom.is_empty:
        raise ValueError("an empty geometry has no place to measure in")
    minx, miny, maxx, maxy = geom.bounds
    return utm_epsg((minx + maxx) / 2, (miny + maxy) / 2)


def in_one_zone(bounds: tuple[float, float, float, float]) -> bool:
    """Whether an extent lies in a single UTM zone (and hemisphere)."""
    minx, miny, maxx, maxy = bounds
    return utm_epsg(minx, miny) == utm_epsg(maxx, maxy)


def area_crs_for(bounds: tuple[float, float, float, float]) -> CRS:
    """The CRS area sums over an extent are measured in: its UTM zone when the extent lies in
    one zone, else a Lambert azimuthal equal-area projection centred on it."""
    minx, miny, maxx, maxy = bounds
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    if in_one_zone(bounds):
        return CRS.from_epsg(utm_epsg(lon, lat))
    return CRS.from_proj4(f"+proj=laea +lat_0={lat:.4f} +lon_0={lon:.4f} +datum=WGS84 +units=m +no_defs")


def crs_label(crs: CRS | int) -> str:
    """How a report names the projection it measured in: EPSG:32638, or the equal-area one."""
    if isinstance(crs, int):
        return f"EPSG:{crs}"
    code = crs.to_epsg()
    if code:
        return f"EPSG:{code}"
    op = crs.coordinate_operation
    params = {p.name: p.value for p in op.params} if op is not None else {}
    lon, lat = params.get("Longitude of natural origin"), params.get("Latitude of natural origin")
    return f"Lambert azimuthal equal-area centred on {lon:.2f}° E, {lat:.2f}° N"


def area_m2(geom: BaseGeometry, epsg: int | None = None) -> float:
    """Area in square metres of a WGS 84 geometry, measured in its UTM zone."""
    if geom.is_empty:
        return 0.0
    epsg = epsg or metric_epsg_for(geom)
    return float(project(geom, 4326, epsg).area)
