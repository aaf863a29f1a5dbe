"""Fields an import measures from the geometry when the file does not give them.

A national hazard map vectorised from paper has polygons but no areas; asking the
clerk to compute them outside SafeGround would only add a step where errors come
in. A hazard area's ``estimated_area_m2`` and ``remaining_area_m2`` are measured
from its polygon, in the UTM zone of the polygon (the local metric projection, as
``safeground.geometry.projection.area_m2`` does everywhere else), and the import
report says so and how many were measured. A value the file gives is never replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from safeground.geometry.projection import project

#: per layer: the fields measured from the geometry, the first one the whole area
MEASURED: dict[str, tuple[str, ...]] = {"hazard_areas": ("estimated_area_m2", "remaining_area_m2")}


@dataclass
class Measured:
    """How many values were measured, per field, and in which projections."""

    counts: dict[str, int] = field(default_factory=dict)
    epsg: set[int] = field(default_factory=set)

    def note(self) -> str | None:
        if not self.counts:
            return None
        what = ", ".join(f"{f} of {n:,} feature(s)" for f, n in self.counts.items())
        zones = ", ".join(f"EPSG:{e}" for e in sorted(self.epsg))
        return f"measured from the polygons (not in the file): {what}, in the local UTM zone ({zones})"


def utm_epsg_array(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The UTM zone's EPSG code per point, as ``projection.utm_epsg`` but for arrays."""
    zone = np.minimum(((lon + 180.0) // 6.0).astype(np.int64) + 1, 60)
    return np.where(lat >= 0, 32600, 32700) + zone


def polygon_areas(geoms: np.ndarray, good: np.ndarray, measured: Measured) -> np.ndarray:
    """Area in m² of each good polygon in its own UTM zone (NaN where there is none)."""
    out = np.full(len(geoms), np.nan)
    rows = np.flatnonzero(good)
    if not len(rows):
        return out
    c = shapely.centroid(geoms[rows])
    epsg = utm_epsg_array(shapely.get_x(c), shapely.get_y(c))
    for code in np.unique(epsg).tolist():
        sel = rows[epsg == code]
        out[sel] = shapely.area(project(geoms[sel], 4326, int(code)))
        measured.epsg.add(int(code))
    return np.round(out, 1)


def fill_measured(
    layer: str, frame: pd.DataFrame, geoms: np.ndarray, good: np.ndarray, measured: Measured
) -> pd.DataFrame:
    """The frame (columns already SafeGround field names) with measured fields filled where empty."""
    fields = MEASURED.get(layer)
    if not fields:
        return frame
    empty = {f: _empty(frame, f) for f in fields}
    if not any(e.any() for e in empty.values()):
        return frame
    areas = polygon_areas(geoms, good & np.logical_or.reduce(list(empty.values())), measured)
    # a row without a good polygon is refused (or left out) for its geometry: its area is not a second problem
    areas[~good] = 0.0
    frame = frame.copy()
    whole = fields[0]
    given = pd.to_numeric(frame[whole], errors="coerce").to_numpy() if whole in frame.columns else None
    for f in fields:
        if not empty[f].any():
            continue
        value = areas
        if f != whole and given is not None:
            # the remaining area cannot exceed the estimated area the file gives
            value = np.where(np.isnan(given), areas, np.fmin(areas, given))
        column = frame[f].astype(object) if f in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        column[empty[f]] = value[empty[f]]
        frame[f] = column
        measured.counts[f] = measured.counts.get(f, 0) + int((empty[f] & good).sum())
    return frame


def _empty(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    col = frame[column]
    blank = np.array(col.isna(), dtype=bool)
    if col.dtype == object:
        blank |= np.array(col.map(lambda v: isinstance(v, str) and not v.strip()), dtype=bool)
    return blank
