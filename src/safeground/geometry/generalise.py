"""How public outputs blur positions: one grid for every report, map and export.

Exact positions of mines and accidents are restricted. Anything leaving the
authority without an explicit request shows a place no more precisely than the
cell of this grid, in the local metric projection. Which field of which layer is
generalised for whom is decided in :mod:`safeground.access.policy`; this module
only holds the geometry of it.
"""

from __future__ import annotations

import hashlib

import numpy as np
import shapely
import shapely.affinity
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


#: Grid (m) the outline of a public area (hazard, record perimeter, released land) is snapped to: a
#: perimeter drawn through mines or row ends must not give them away to the metre.
OUTLINE_GRID_M = 25.0
#: How far (m) a public outline is grown (danger) or shrunk (released land) before it is moved and snapped.
OUTLINE_MARGIN_M = 40.0
#: How far (m) it is moved, in a direction fixed per record: its centre is not the original's centre
#: (an area drawn around a row of mines has the middle mine at its centre).
OUTLINE_SHIFT_M = 12.5


def generalised_outline(
    geom: BaseGeometry, *, outward: bool, key: str = "", grid_m: float = OUTLINE_GRID_M
) -> BaseGeometry:
    """A polygon grown (``outward``: danger, the public must see all of it) or shrunk (released land, never
    more than was released) by :data:`OUTLINE_MARGIN_M`, moved by :data:`OUTLINE_SHIFT_M` in a direction
    drawn from ``key`` (the record's uid: the same record always looks the same), then with every vertex
    snapped to the grid. Margin − shift − the snap (at most grid·√2/2) stays positive, so the outline still
    covers (or stays inside) the original; no vertex is nearer than the grid to an original one, and the
    centre is moved."""
    if geom is None or geom.is_empty:
        return geom
    moved = geom.buffer(OUTLINE_MARGIN_M if outward else -OUTLINE_MARGIN_M, join_style="mitre", mitre_limit=2.0)
    angle = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") / 2**32 * 2 * np.pi
    moved = shapely.affinity.translate(moved, OUTLINE_SHIFT_M * np.cos(angle), OUTLINE_SHIFT_M * np.sin(angle))
    snapped = shapely.make_valid(shapely.set_precision(moved, grid_m))
    polys = [p for p in shapely.get_parts(snapped) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.MultiPolygon(polys)
