"""Georeference a scanned paper mine map: the pixel → world transform fitted to its control points.

Much of the handed-over record is paper: a sketch map, a photocopy of a
topographic sheet with the minefield drawn on it. Scanned, it becomes useful
only once every pixel has a place on the ground. From the clerk's ground control
points (``safeground.intake.control_points``) this module fits the transform and
tells how well each point agrees with the others; ``safeground.intake.geotiff``
writes the GeoTIFF that opens in QGIS in the right place, and
``safeground.intake.digitised`` brings what was drawn on the scan into the store.

Why the residuals matter more than the fit: one mistyped coordinate pulls the
whole transform towards itself and hides among small residuals. The
leave-one-out residual (fit without the point, then see how far the point is
from where the others put it) is large for the wrong point and small for the
good ones, so the worst point is named and flagged when it stands out.

Transforms: ``affine`` (6 parameters, 3+ points; scale, rotation, shear: a
flat scan of an accurate map) and ``polynomial`` (second order, 12 parameters,
6+ points; a photocopy or a folded, stretched sheet). The affine GeoTIFF keeps
the scan's pixels and writes the geotransform; the polynomial one is resampled
onto a north-up grid (bilinear) with an alpha band outside the scan.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from safeground import tabular
from safeground.errors import InvalidInput, Problem, SafeGroundError
from safeground.geometry.projection import utm_epsg
from safeground.intake.control_points import GcpSet

Method = Literal["affine", "polynomial"]
MIN_POINTS: dict[str, int] = {"affine": 3, "polynomial": 6}
#: a point whose leave-one-out residual exceeds this many times the spread of the
#: others (and at least ``BLUNDER_FLOOR_PX`` pixels) is flagged as probably wrong
BLUNDER_FACTOR = 4.0
BLUNDER_FLOOR_PX = 2.0


@dataclass
class PointResidual:
    id: str
    col: float
    row: float
    dx_m: float  # fitted minus given, in the working CRS (metres)
    dy_m: float
    residual_m: float
    residual_px: float
    loo_residual_m: float | None  # leave-one-out: distance to where the other points put it
    loo_residual_px: float | None
    suspect: bool = False


@dataclass
class Georeference:
    """A fitted pixel → world transform in a metric working CRS."""

    method: Method
    coef: np.ndarray  # (terms, 2)
    centre: np.ndarray  # pixel normalisation: (col, row) centre
    scale: float  # and scale
    crs: CRS  # working CRS (projected, metres)
    residuals: list[PointResidual] = field(default_factory=list)
    rms_m: float = 0.0
    rms_px: float = 0.0
    worst: str | None = None
    rms_without_worst_m: float | None = None  # what the fit would be if the worst point were left out
    source: str = "gcps"

    # -- the transform ------------------------------------------------------------------
    def to_world(self, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates → working CRS coordinates."""
        design = _design(
            self.method,
            (np.asarray(col, float) - self.centre[0]) / self.scale,
            (np.asarray(row, float) - self.centre[1]) / self.scale,
        )
        xy = design @ self.coef
        return xy[..., 0], xy[..., 1]

    def jacobian(self, col: np.ndarray, row: np.ndarray, h: float = 0.5) -> np.ndarray:
        """d(x, y)/d(col, row) at each pixel: (n, 2, 2), by central differences (exact for a quadratic)."""
        col, row = np.atleast_1d(np.asarray(col, float)), np.atleast_1d(np.asarray(row, float))
        xc1, yc1 = self.to_world(col + h, row)
        xc0, yc0 = self.to_world(col - h, row)
        xr1, yr1 = self.to_world(col, row + h)
        xr0, yr0 = self.to_world(col, row - h)
        j = np.empty((len(col), 2, 2))
        j[:, 0, 0], j[:, 1, 0] = (xc1 - xc0) / (2 * h), (yc1 - yc0) / (2 * h)
        j[:, 0, 1], j[:, 1, 1] = (xr1 - xr0) / (2 * h), (yr1 - yr0) / (2 * h)
        return j

    def pixel_size_m(self, col: np.ndarray, row: np.ndarray) -> np.ndarray:
        """Ground size of one pixel (square root of the local area scale) at each pixel."""
        return np.sqrt(np.abs(np.linalg.det(self.jacobian(col, row))))

    def to_pixel(self, x: np.ndarray, y: np.ndarray, iterations: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """World → pixel: exact for affine, Newton iterations on the polynomial otherwise."""
        x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        aff = self.affine()
        inv = ~aff
        col, row = inv.a * x + inv.b * y + inv.c, inv.d * x + inv.e * y + inv.f
        if self.method == "affine":
            return col, row
        for _ in range(iterations):
            fx, fy = self.to_world(col, row)
            j = self.jacobian(col, row)
            rhs = np.stack([x - fx, y - fy], axis=-1)[..., None]
            step = np.linalg.solve(j, rhs)[..., 0]
            col, row = col + step[:, 0], row + step[:, 1]
            if np.nanmax(np.abs(step), initial=0.0) < 1e-6:
                break
        return col, row

    def affine(self) -> Any:
        """The affine part as a rasterio ``Affine`` (pixel corner convention)."""
        from affine import Affine

        # evaluate the linear terms at the origin: x = a*col + b*row + c
        c0 = self.coef
        s = self.scale
        cx, cy = self.centre
        a, b = c0[1, 0] / s, c0[2, 0] / s
        d, e = c0[1, 1] / s, c0[2, 1] / s
        c = c0[0, 0] - a * cx - b * cy
        f = c0[0, 1] - d * cx - e * cy
        return Affine(a, b, c, d, e, f)

    def pixel_to_wgs84(self, geom: BaseGeometry) -> BaseGeometry:
        """A geometry digitised on the scan (col, row) → WGS 84 lon/lat."""
        to84 = Transformer.from_crs(self.crs, 4326, always_xy=True)

        def _xy(coords: np.ndarray) -> np.ndarray:
            x, y = self.to_world(coords[:, 0], coords[:, 1])
            lon, lat = to84.transform(x, y)
            return np.column_stack([lon, lat])

        return shapely.transform(geom, _xy)


def _design(method: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    one = np.ones_like(u)
    if method == "affine":
        return np.stack([one, u, v], axis=-1)
    return np.stack([one, u, v, u * u, u * v, v * v], axis=-1)


# -- fitting ------------------------------------------------------------------------------


def working_crs(gcps: GcpSet) -> CRS:
    """Fit in metres: the GCPs' CRS when projected, otherwise the UTM zone of their centre."""
    if gcps.crs.is_projected:
        return gcps.crs
    lon = float(np.mean([p.x for p in gcps.points]))
    lat = float(np.mean([p.y for p in gcps.points]))
    if gcps.crs.to_epsg() != 4326:
        lon, lat = Transformer.from_crs(gcps.crs, 4326, always_xy=True).transform(lon, lat)
    return CRS.from_epsg(utm_epsg(lon, lat))


def _solve(
    method: str, col: np.ndarray, row: np.ndarray, x: np.ndarray, y: np.ndarray, centre: np.ndarray, scale: float
) -> np.ndarray:
    design = _design(method, (col - centre[0]) / scale, (row - centre[1]) / scale)
    coef, *_ = np.linalg.lstsq(design, np.column_stack([x, y]), rcond=None)
    return coef


def fit(gcps: GcpSet, method: Method | Literal["auto"] = "auto") -> Georeference:
    """Least-squares fit with residuals, leave-one-out residuals, RMS and the worst point.

    ``auto`` takes the affine transform unless there are 6+ points and the
    polynomial halves the leave-one-out RMS (a distorted copy, not just noise).
    """
    pts = gcps.points
    n = len(pts)
    if method == "auto":
        aff = fit(gcps, "affine")
        if n < MIN_POINTS["polynomial"] + 1:
            return aff
        poly = fit(gcps, "polynomial")
        return poly if _loo_rms(poly) < 0.5 * _loo_rms(aff) else aff
    if method not in MIN_POINTS:
        raise SafeGroundError(f"unknown transform {method!r}", hint="use affine, polynomial or auto")
    if n < MIN_POINTS[method]:
        raise InvalidInput(
            [
                Problem(
                    gcps.source,
                    "file",
                    "-",
                    f"{n} control point(s): the {method} transform needs at least {MIN_POINTS[method]}",
                )
            ],
            hint_text="add control points spread over the whole scan",
        )
    wcrs = working_crs(gcps)
    col = np.array([p.col for p in pts])
    row = np.array([p.row for p in pts])
    x, y = np.array([p.x for p in pts]), np.array([p.y for p in pts])
    if not gcps.crs.equals(wcrs):
        x, y = Transformer.from_crs(gcps.crs, wcrs, always_xy=True).transform(x, y)
        x, y = np.asarray(x, float), np.asarray(y, float)
    unit = wcrs.axis_info[0].unit_conversion_factor or 1.0  # metres per CRS unit
    centre = np.array([col.mean(), row.mean()])
    scale = float(max(np.ptp(col), np.ptp(row), 1.0))
    design = _design(method, (col - centre[0]) / scale, (row - centre[1]) / scale)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise InvalidInput(
            [
                Problem(
                    gcps.source,
                    "file",
                    "col,row",
                    f"the control points are in a line or repeated: the {method} transform cannot be determined",
                )
            ],
            hint_text="pick control points spread over the scan, not along one road",
        )
    coef = _solve(method, col, row, x, y, centre, scale)
    geo = Georeference(method, coef, centre, scale, wcrs, source=gcps.source)
    fx, fy = geo.to_world(col, row)
    px = geo.pixel_size_m(col, row) * unit
    if np.any(px <= 0) or not np.all(np.isfinite(px)):
        raise InvalidInput(
            [
                Problem(
                    gcps.source,
                    "file",
                    "-",
                    "the fitted transform has no area: control points with the same world coordinates?",
                )
            ]
        )
    dx, dy = (fx - x) * unit, (fy - y) * unit
    res = np.hypot(dx, dy)
    loo = np.full(n, np.nan)
    if n > MIN_POINTS[method]:
        for i in range(n):
            keep = np.arange(n) != i
            d_i = _design(method, (col[keep] - centre[0]) / scale, (row[keep] - centre[1]) / scale)
            if np.linalg.matrix_rank(d_i) < d_i.shape[1]:
                continue
            c_i = _solve(method, col[keep], row[keep], x[keep], y[keep], centre, scale)
            pi = _design(method, (col[i : i + 1] - centre[0]) / scale, (row[i : i + 1] - centre[1]) / scale) @ c_i
            loo[i] = math.hypot(pi[0, 0] - x[i], pi[0, 1] - y[i]) * unit
    geo.rms_m = float(np.sqrt(np.mean(res**2)))  # as QGIS and ArcGIS report it: root mean square of the residuals
    geo.rms_px = float(np.sqrt(np.mean((res / px) ** 2)))
    for i, p in enumerate(pts):
        geo.residuals.append(
            PointResidual(
                p.id,
                p.col,
                p.row,
                float(dx[i]),
                float(dy[i]),
                float(res[i]),
                float(res[i] / px[i]),
                None if np.isnan(loo[i]) else float(loo[i]),
                None if np.isnan(loo[i]) else float(loo[i] / px[i]),
            )
        )
    _flag_worst(geo, col, row, x, y, px)
    return geo


def _loo_rms(geo: Georeference) -> float:
    vals = [r.loo_residual_m for r in geo.residuals if r.loo_residual_m is not None]
    return float(np.sqrt(np.mean(np.square(vals)))) if vals else math.inf


def _flag_worst(
    geo: Georeference, col: np.ndarray, row: np.ndarray, x: np.ndarray, y: np.ndarray, px: np.ndarray
) -> None:
    """Name the worst point; flag it when it stands far out from how well the others agree.

    The yardstick is the RMS of the fit *without* the worst point: with the
    blunder inside, every other point's residual is inflated by it.
    """
    rs = geo.residuals
    if not rs:
        return
    key = [r.loo_residual_px if r.loo_residual_px is not None else r.residual_px for r in rs]
    i = int(np.argmax(key))
    geo.worst = rs[i].id
    n, terms = len(rs), geo.coef.shape[0]
    if rs[i].loo_residual_px is None or n - 1 - terms < 1:
        return
    keep = np.arange(n) != i
    c_i = _solve(geo.method, col[keep], row[keep], x[keep], y[keep], geo.centre, geo.scale)
    pred = _design(geo.method, (col[keep] - geo.centre[0]) / geo.scale, (row[keep] - geo.centre[1]) / geo.scale) @ c_i
    unit = geo.crs.axis_info[0].unit_conversion_factor or 1.0
    res_px = np.hypot(pred[:, 0] - x[keep], pred[:, 1] - y[keep]) * unit / px[keep]
    sigma = float(np.sqrt(np.sum(res_px**2) / (n - 1 - terms)))
    res_m = np.hypot(pred[:, 0] - x[keep], pred[:, 1] - y[keep]) * unit
    geo.rms_without_worst_m = float(np.sqrt(np.mean(res_m**2)))
    if key[i] > BLUNDER_FACTOR * sigma and key[i] > BLUNDER_FLOOR_PX:
        rs[i].suspect = True


def residuals_csv(geo: Georeference) -> str:
    """The residual table as CSV (for the clerk's spreadsheet)."""
    out = io.StringIO()
    w = tabular.writer(out)
    w.writerow(
        [
            "id",
            "col",
            "row",
            "dx_m",
            "dy_m",
            "residual_m",
            "residual_px",
            "loo_residual_m",
            "loo_residual_px",
            "suspect",
        ]
    )
    for r in geo.residuals:
        w.writerow(
            [
                r.id,
                r.col,
                r.row,
                f"{r.dx_m:.3f}",
                f"{r.dy_m:.3f}",
                f"{r.residual_m:.3f}",
                f"{r.residual_px:.3f}",
                "" if r.loo_residual_m is None else f"{r.loo_residual_m:.3f}",
                "" if r.loo_residual_px is None else f"{r.loo_residual_px:.3f}",
                "yes" if r.suspect else "",
            ]
        )
    return out.getvalue()
