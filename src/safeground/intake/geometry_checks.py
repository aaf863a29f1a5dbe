"""Geometry checks of an import: each row's geometry in WGS 84, of the layer's type, valid, where it should be.

Points, the bulk of a large import, are checked with array operations (finite, on the
globe, within about 50 km of the store's area of interest); every other geometry goes
through ``safeground.geometry.validate``. Repair happens only when asked (``--repair``)
and every change is listed; heights and measures are dropped with a note.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from safeground.errors import Param, Problem
from safeground.geometry.validate import check_geometry, repair_geometry
from safeground.intake.locate import Locator, locate
from safeground.intake.outcome import ImportReport
from safeground.intake.sources import Batch, ToWGS84
from safeground.model.base import Record


class GeometryChecks:
    """The importer's geometry checks (a part of ``safeground.intake.features._Importer``)."""

    cls: type[Record]
    src: str
    report: ImportReport
    has_geom: bool
    locator: Locator | None
    to_wgs84: ToWGS84
    region: tuple[float, float, float, float] | None
    repair: bool
    dropped: dict[str, int]
    dropped_first: dict[str, str]
    problems: list[Problem]

    def _geometry(self, batch: Batch, items: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """WGS 84 geometry per row and a mask of rows whose geometry is good."""
        n = len(items)
        if not self.has_geom:
            return np.full(n, None, dtype=object), np.ones(n, dtype=bool)
        if self.locator is not None:
            geoms, problems = locate(batch.frame, items, self.locator, self.src)
            self.problems += problems
        else:
            geoms = batch.geometry if batch.geometry is not None else np.full(n, None, dtype=object)
            self._note_dropped_dimensions(geoms, items)
            geoms = self.to_wgs84(geoms)
        good = np.array([g is not None for g in geoms], dtype=bool)
        expected = self.cls.GEOMETRY or "GEOMETRY"
        if expected == "POINT":
            fast = good.copy()
            # an empty point (GDAL reads [46.75, NaN] as POINT EMPTY) has no coordinates: the slow path names it
            fast[good] = (shapely.get_type_id(geoms[good]) == 0) & ~shapely.is_empty(geoms[good])
            if fast.any():
                xy = shapely.get_coordinates(geoms[fast])
                ok = np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
                if self.region is not None:
                    minx, miny, maxx, maxy = self.region
                    m = 0.5
                    ok &= (
                        (xy[:, 0] >= minx - m)
                        & (xy[:, 0] <= maxx + m)
                        & (xy[:, 1] >= miny - m)
                        & (xy[:, 1] <= maxy + m)
                    )
                fast[np.flatnonzero(fast)[~ok]] = False
            slow = np.flatnonzero(good & ~fast)
        else:
            slow = np.flatnonzero(good)
        had_problem = {p.item for p in self.problems}
        for i in slow:
            geoms[i], good[i] = self._check_one(geoms[i], items[i], expected)
        for i in np.flatnonzero(~good):
            if geoms[i] is None and items[i] not in had_problem and self.locator is None:
                self.problems.append(Problem(self.src, items[i], "geometry", "no geometry"))
        if expected == "MULTIPOLYGON" or expected == "MULTILINESTRING":
            single = "Polygon" if expected == "MULTIPOLYGON" else "LineString"
            wrap = shapely.MultiPolygon if expected == "MULTIPOLYGON" else shapely.MultiLineString
            for i in np.flatnonzero(good):
                if geoms[i].geom_type == single:
                    geoms[i] = wrap([geoms[i]])
        return geoms, good

    def _note_dropped_dimensions(self, geoms: np.ndarray, items: list[str]) -> None:
        """Heights (Z) and measures (M) are not stored (positions are 2D): say so, once per import."""
        present = np.flatnonzero([g is not None for g in geoms])
        if not len(present):
            return
        for kind, test, what in (("Z", shapely.has_z, "heights"), ("M", shapely.has_m, "measures")):
            has = present[test(geoms[present])]
            if len(has):
                self.dropped[kind] = self.dropped.get(kind, 0) + len(has)
                first = self.dropped_first.setdefault(kind, items[int(has[0])])
                note = f"{what} ({kind} values) are not stored, SafeGround keeps 2D positions: dropped from "
                self.report.notes[:] = [x for x in self.report.notes if not x.startswith(note)]
                self.report.notes.append(note + f"{self.dropped[kind]} feature(s), the first {first}")

    def _check_one(self, geom: Any, item: str, expected: str) -> tuple[Any, bool]:
        issues = check_geometry(geom, expected=expected, region=self.region)  # type: ignore[arg-type]
        if not issues:
            return geom, True
        if self.repair and all(x.repairable for x in issues):
            try:
                fixed, changes = repair_geometry(geom, issues)
                after = check_geometry(fixed, expected=expected, region=self.region)  # type: ignore[arg-type]
                if after:
                    raise ValueError("after repair: " + "; ".join(x.reason for x in after))
                self.report.repairs += [Problem(self.src, item, "geometry", ch, repairable=True) for ch in changes]
                return fixed, True
            except ValueError as exc:
                self.problems.append(Problem(self.src, item, "geometry", str(exc)))
                return geom, False
        for x in issues:
            hint = f" (repairable with {Param('repair')})" if x.repairable else ""
            self.problems.append(Problem(self.src, item, "geometry", x.reason + hint, repairable=x.repairable))
        return geom, False
