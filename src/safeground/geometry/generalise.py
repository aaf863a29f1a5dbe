"""How public outputs blur positions: one grid for every report, map and export.

Exact positions of mines and accidents are restricted. Anything leaving the
authority without an explicit request shows a place no more precisely than the
cell of this grid, in the local metric projection. Which field of which layer is
generalised for whom is decided in :mod:`safeground.access.policy`; this module
only holds the geometry of it.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

#: Side (m) of the grid cells public outputs generalise positions to.
PUBLIC_GRID_M = 1000.0


def cell_centres(xy: np.ndarray, grid_m: float = PUBLIC_GRID_M) -> np.ndarray:
    """Metric coordinates (n, 2) moved to the centre of their grid cell."""
    return (np.floor(np.asarray(xy, dtype=float) / grid_m) + 0.5) * grid_m


#: Side (m) of the cells a public hazard footprint is drawn with when its shape would give away
#: the event that opened it (an emergency SHA is a circle around the accident).
FOOTPRINT_GRID_M = 250.0


def cell_footprint(geom: BaseGeometry, grid_m: float = FOOTPRINT_GRID_M) -> BaseGeometry:
    """The grid cells (metric) a geometry touches, merged: it covers the whole geometry, so a public
    map still warns of all the danger, but its vertices are grid corners and its centre the middle of
    the cells, so neither says where inside them the event that drew the original shape happened."""
    if geom is None or geom.is_empty:
        return geom
    x0, y0, x1, y1 = geom.bounds
    ix = np.arange(np.floor(x0 / grid_m), np.floor(x1 / grid_m) + 1)
    iy = np.arange(np.floor(y0 / grid_m), np.floor(y1 / grid_m) + 1)
    gx, gy = (a.ravel() for a in np.meshgrid(ix, iy))
    boxes = shapely.box(gx * grid_m, gy * grid_m, (gx + 1) * grid_m, (gy + 1) * grid_m)
    hit = boxes[shapely.intersects(boxes, geom) & ~shapely.touches(boxes, geom)]
    merged = shapely.union_all(hit, grid_size=1e-6 * grid_m)
    polys = [p for p in shapely.get_parts(merged) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys)
