"""Georeference a scanned paper mine map from ground control points (GCPs).

Much of the handed-over record is paper: a sketch map, a photocopy of a
topographic sheet with the minefield drawn on it. Scanned, it becomes useful
only once every pixel has a place on the ground. The clerk picks ground control
points (a road junction, a bridge, a church) whose pixel position on the scan
and whose coordinates are both known; this module fits the transform, tells
how well each point agrees with the others, and writes a GeoTIFF that opens in
QGIS in the right place.

Why the residuals matter more than the fit: one mistyped coordinate pulls the
whole transform towards itself and hides among small residuals. The
leave-one-out residual (fit without the point, then see how far the point is
from where the others put it) is large for the wrong point and small for the
good ones, so the worst point is named and flagged when it stands out.

GCP file (CSV, UTF-8, one header line; lines starting with ``#`` are comments)::

    id,col,row,lon,lat            # world coordinates in WGS 84 degrees
    church,412.5,233.0,47.15123,39.62031
    bridge,1820,960.5,47.17011,39.60877
    ...

or with projected coordinates (the CRS is given to the command, e.g. ``--crs EPSG:32638``)::

    id,col,row,x,y
    church,412.5,233.0,598231.4,4386112.9

A GCP file saved by the QGIS georeferencer (``.points``: a ``#CRS:`` line, then
``mapX,mapY,sourceX,sourceY,enable,…`` with the pixel row negated) is read as it
is; points switched off there (``enable`` 0) are left out.

``col``/``row`` follow GDAL and the QGIS georeferencer: pixel coordinates from
the top-left corner of the image, ``row`` growing downwards; the centre of the
first pixel is (0.5, 0.5). ``id`` is optional (the line number is used).

Transforms: ``affine`` (6 parameters, 3+ points; scale, rotation, shear: a
flat scan of an accurate map) and ``polynomial`` (second order, 12 parameters,
6+ points; a photocopy or a folded, stretched sheet). The affine GeoTIFF keeps
the scan's pixels and writes the geotransform; the polynomial one is resampled
onto a north-up grid (bilinear) with an alpha band outside the scan.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from safeground import tabular
from safeground.errors import InvalidInput, Problem, SafeGroundError
from safeground.geometry.projection import utm_epsg
from safeground.intake.textin import decode, refuse_repeated_headers

Method = Literal["affine", "polynomial"]
MIN_POINTS: dict[str, int] = {"affine": 3, "polynomial": 6}
#: a point whose leave-one-out residual exceeds this many times the spread of the
#: others (and at least ``BLUNDER_FLOOR_PX`` pixels) is flagged as probably wrong
BLUNDER_FACTOR = 4.0
BLUNDER_FLOOR_PX = 2.0


@dataclass(frozen=True)
class ControlPoint:
    id: str
    col: float
    row: float
    x: float  # in the GCP CRS (lon for geographic)
    y: float


@dataclass
class GcpSet:
    """Control points as read, and the CRS their world coordinates are in."""

    points: list[ControlPoint]
    crs: CRS
    source: str


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


# -- reading GCPs -------------------------------------------------------------------------


def read_gcps(path: str | Path, crs: str | None = None) -> GcpSet:
    """Read a GCP CSV file; every bad line is reported with its line number, field and value."""
    path = Path(path)
    src = path.name
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    return parse_gcps(decode(path.read_bytes(), src), src, crs)  # UTF-8, or UTF-16/32 with a byte order mark


def parse_gcps(text: str, src: str = "gcps.csv", crs: str | None = None) -> GcpSet:
    """Parse the text of a GCP CSV file or a QGIS georeferencer ``.points`` file (see the module docstring)."""
    file_crs = None
    for ln in text.splitlines():
        if ln.strip().upper().startswith("#CRS:"):  # QGIS 3 writes the CRS of mapX/mapY here
            file_crs = ln.split(":", 1)[1].strip() or None
    lines = [
        (i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not lines:
        raise InvalidInput([Problem(src, "file", "-", "no header and no control points: the file is empty")])
    try:
        rows = [next(csv.reader([ln]), []) for _, ln in lines]  # line by line: line numbers stay true
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072-character limit
        raise InvalidInput([Problem(src, "file", "-", f"not a readable CSV file: {exc}")]) from None
    header = [h.strip().lower() for h in rows[0]]
    refuse_repeated_headers(header, src, f"line {lines[0][0]} (header)")
    problems: list[Problem] = []
    qgis = {"mapx", "mapy", "sourcex", "sourcey"} <= set(header)
    geographic = {"lon", "lat"} <= set(header)
    projected = {"x", "y"} <= set(header)
    missing = [c for c in ("col", "row") if c not in header]
    if not geographic and not projected:
        missing.append("lon,lat or x,y")
    if missing and not qgis:
        raise InvalidInput(
            [Problem(src, f"line {lines[0][0]} (header)", ", ".join(missing), "missing column(s)", ",".join(header))],
            hint_text="the header must be id,col,row,lon,lat (WGS 84) or id,col,row,x,y (with --crs), "
            "or a QGIS georeferencer .points file",
        )
    cname, rname, flip = ("sourcex", "sourcey", -1.0) if qgis else ("col", "row", 1.0)  # QGIS: row as -y
    if qgis:
        wx, wy = "mapx", "mapy"
        crs = crs or file_crs
        if crs is None:
            raise InvalidInput(
                [Problem(src, "file", "mapX,mapY", "a QGIS .points file without a #CRS line and no CRS given")],
                hint_text="give the CRS of mapX/mapY, e.g. --crs EPSG:32638",
            )
    if geographic and crs is None:
        gcp_crs = CRS.from_epsg(4326)
        wx, wy = "lon", "lat"
    else:
        if not qgis:
            wx, wy = ("x", "y") if projected else ("lon", "lat")
        if crs is None:
            raise InvalidInput(
                [Problem(src, "file", "x,y", "projected coordinates but no CRS given")],
                hint_text="give the CRS of x,y, e.g. --crs EPSG:32638 (UTM 38N)",
            )
        try:
            gcp_crs = CRS.from_user_input(crs)
        except Exception as exc:
            raise InvalidInput([Problem("(command line)", "--crs", "crs", f"unknown CRS: {exc}", crs)]) from None
    idx = {h: i for i, h in enumerate(header)}
    points: list[ControlPoint] = []
    seen: set[str] = set()
    for (lineno, _), values in zip(lines[1:], rows[1:], strict=True):
        item = f"line {lineno}"
        if len(values) != len(header):
            problems.append(
                Problem(src, item, "-", f"{len(values)} values for {len(header)} columns", ",".join(values))
            )
            continue
        if qgis and "enable" in idx and values[idx["enable"]].strip() == "0":
            continue  # switched off in the QGIS georeferencer
        pid = values[idx["id"]].strip() if "id" in idx else ""
        pid = pid or f"line {lineno}"
        nums: dict[str, float] = {}
        for name in (cname, rname, wx, wy):
            raw = values[idx[name]].strip()
            try:
                v = float(raw)
            except ValueError:
                problems.append(Problem(src, item, name, "not a number", raw))
                continue
            if not math.isfinite(v):
                problems.append(Problem(src, item, name, "not a finite number", raw))
                continue
            nums[name] = v
        if len(nums) < 4:
            continue
        nums["col"], nums["row"] = nums.pop(cname), flip * nums.pop(rname)
        if gcp_crs.is_geographic and not (-180 <= nums[wx] <= 180 and -90 <= nums[wy] <= 90):
            problems.append(Problem(src, item, f"{wx},{wy}", "not a longitude/latitude", f"{nums[wx]},{nums[wy]}"))
            continue
        if nums["col"] < -1e6 or nums["row"] < -1e6 or nums["col"] > 1e7 or nums["row"] > 1e7:
            problems.append(
                Problem(src, item, "col,row", "pixel position far outside any scan", (nums["col"], nums["row"]))
            )
            continue
        if pid in seen:
            problems.append(Problem(src, item, "id", "the same control point twice", pid))
            continue
        seen.add(pid)
        points.append(ControlPoint(pid, nums["col"], nums["row"], nums[wx], nums[wy]))
    if problems:
        raise InvalidInput(problems)
    return GcpSet(points, gcp_crs, src)


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


# -- images -------------------------------------------------------------------------------


def read_scan(path: str | Path) -> np.ndarray:
    """The scan's pixels as (bands, rows, cols); PNG, JPEG and TIFF through GDAL."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    path = Path(path)
    if not path.exists():
        raise InvalidInput([Problem(path.name, "file", "-", "file not found")])
    from safeground.intake.confine import check_raster_file

    check_raster_file(path, what="scan")
    _refuse_truncated(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                return ds.read()
    except RasterioIOError as exc:
        raise InvalidInput([Problem(path.name, "file", "-", f"not a readable image: {exc}")]) from None


def _refuse_truncated(path: Path) -> None:
    """A PNG or JPEG cut short (a copy interrupted, a download stopped): GDAL's drivers fill the missing
    rows with black and carry on, so half a scan became a GeoTIFF. Pillow decodes every row and says so."""
    from PIL import Image, UnidentifiedImageError

    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        return  # TIFF: GDAL reports a missing strip or tile as an error itself
    Image.MAX_IMAGE_PIXELS = 1_000_000_000  # an A0 sheet at 600 dpi is 560 million pixels
    try:
        with Image.open(path) as im:
            im.load()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise InvalidInput(
            [Problem(path.name, "file", "-", f"the image is damaged or cut short ({exc}); nothing was written")],
            hint_text="copy or scan the map again; a part of a scan cannot be georeferenced as the whole",
        ) from None
    except Image.DecompressionBombError as exc:
        raise InvalidInput([Problem(path.name, "file", "-", f"too large to be a scan: {exc}")]) from None


def write_geotiff(geo: Georeference, pixels: np.ndarray, out: str | Path) -> dict[str, Any]:
    """Write the georeferenced scan; returns what was written (size, CRS, transform, resampled or not)."""
    import rasterio

    bands, height, width = pixels.shape
    out = Path(out)
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "dtype": pixels.dtype,
        "crs": geo.crs,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if geo.method == "affine":
        transform = geo.affine()
        with rasterio.open(out, "w", width=width, height=height, count=bands, transform=transform, **profile) as ds:
            ds.write(pixels)
        return {"width": width, "height": height, "transform": transform, "resampled": False}
    data, transform = _warp_north_up(geo, pixels)
    ob, oh, ow = data.shape
    with rasterio.open(out, "w", width=ow, height=oh, count=ob, transform=transform, **profile) as ds:
        ds.write(data)
        ds.colorinterp = _colour_interp(ob)
    return {"width": ow, "height": oh, "transform": transform, "resampled": True}


def _colour_interp(bands: int) -> list[Any]:
    from rasterio.enums import ColorInterp as C

    if bands == 4:
        return [C.red, C.green, C.blue, C.alpha]
    if bands == 2:
        return [C.gray, C.alpha]
    return [C.gray] * (bands - 1) + [C.alpha]


def _warp_north_up(geo: Georeference, pixels: np.ndarray) -> tuple[np.ndarray, Any]:
    """Resample the scan onto a north-up grid of about its own resolution, alpha outside the scan."""
    from affine import Affine

    bands, h, w = pixels.shape
    edge = np.linspace(0, 1, 65)
    bc = np.concatenate([edge * w, np.full(65, w), edge[::-1] * w, np.zeros(65)])
    br = np.concatenate([np.zeros(65), edge * h, np.full(65, h), edge[::-1] * h])
    ex, ey = geo.to_world(bc, br)
    res = float(np.median(geo.pixel_size_m(np.array([w / 2]), np.array([h / 2])))) / (
        geo.crs.axis_info[0].unit_conversion_factor or 1.0
    )
    minx, maxx, miny, maxy = ex.min(), ex.max(), ey.min(), ey.max()
    ow, oh = math.ceil((maxx - minx) / res), math.ceil((maxy - miny) / res)
    if ow * oh > 400_000_000:
        raise SafeGroundError(f"the resampled scan would be {ow} × {oh} pixels", hint="check the control points")
    transform = Affine(res, 0, minx, 0, -res, maxy)
    node_col, node_row, cell = _inverse_grid(geo, minx, maxy, res, ow, oh)
    keep = [b for b in range(bands) if not (bands in (2, 4) and b == bands - 1)]  # drop an alpha band of the input
    out = np.zeros((len(keep) + 1, oh, ow), dtype=pixels.dtype)
    alpha_max = np.iinfo(pixels.dtype).max if np.issubdtype(pixels.dtype, np.integer) else 1.0
    step = max(1, 2_000_000 // max(ow, 1))
    nx = node_col.shape[1]
    node_x = np.arange(nx) * float(cell)  # node positions in output pixel-edge units
    centres = np.arange(ow) + 0.5
    for r0 in range(0, oh, step):  # in strips: memory stays bounded for big sheets
        r1 = min(oh, r0 + step)
        col = np.empty((r1 - r0, ow))
        row = np.empty((r1 - r0, ow))
        for i, r in enumerate(range(r0, r1)):  # bilinear between nodes: vertical blend, then np.interp along the row
            fy = (r + 0.5) / cell
            j = min(int(fy), node_col.shape[0] - 2)
            t = fy - j
            col[i] = np.interp(centres, node_x, (1 - t) * node_col[j] + t * node_col[j + 1])
            row[i] = np.interp(centres, node_x, (1 - t) * node_row[j] + t * node_row[j + 1])
        inside = (col >= 0) & (col <= w) & (row >= 0) & (row <= h)
        vals = _bilinear(pixels, keep, row - 0.5, col - 0.5)
        out[:-1, r0:r1] = np.where(inside, vals, 0).round().astype(pixels.dtype)
        out[-1, r0:r1] = np.where(inside, alpha_max, 0)
    return out, transform


def _bilinear(pixels: np.ndarray, bands: list[int], row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Bilinear samples of the given bands at fractional (row, col) pixel centres, edges clamped."""
    _, h, w = pixels.shape
    r = np.clip(row, 0, h - 1)
    c = np.clip(col, 0, w - 1)
    r0 = np.minimum(r.astype(np.intp), h - 2) if h > 1 else np.zeros(r.shape, np.intp)
    c0 = np.minimum(c.astype(np.intp), w - 2) if w > 1 else np.zeros(c.shape, np.intp)
    fr = (r - r0).astype(np.float32)
    fc = (c - c0).astype(np.float32)
    dr = (r0 + 1 < h).astype(np.intp) * w  # flat offsets of the neighbours below and right
    dc = (c0 + 1 < w).astype(np.intp)
    i00 = r0 * w + c0
    i01, i10 = i00 + dc, i00 + dr
    i11 = i10 + dc
    out = np.empty((len(bands), *row.shape), np.float32)
    for k, b in enumerate(bands):
        p = pixels[b].ravel()
        top = p.take(i00).astype(np.float32)
        top += (p.take(i01) - top) * fc
        bottom = p.take(i10).astype(np.float32)
        bottom += (p.take(i11) - bottom) * fc
        out[k] = top + (bottom - top) * fr
    return out


def _inverse_grid(
    geo: Georeference, minx: float, maxy: float, res: float, ow: int, oh: int, tolerance_px: float = 0.05
) -> tuple[np.ndarray, np.ndarray, int]:
    """Exact world → pixel on a grid of nodes every ``cell`` output pixels, interpolated in between.

    Newton's method for every output pixel is slow (minutes for a large sheet);
    the inverse of a second-order polynomial is smooth, so bilinear interpolation
    between exact nodes is as good to within ``tolerance_px`` (checked at the
    cell centres, and the grid refined until it holds), as GDAL's approximate
    transformer does.
    """
    cell = 32
    while True:
        ny, nx = oh // cell + 2, ow // cell + 2
        gy, gx = np.mgrid[0:ny, 0:nx] * float(cell)
        col, row = geo.to_pixel(np.ravel(minx + gx * res), np.ravel(maxy - gy * res))
        node_col, node_row = col.reshape(ny, nx), row.reshape(ny, nx)
        if cell == 1:
            return node_col, node_row, cell
        cy, cx = (np.mgrid[0 : ny - 1, 0 : nx - 1] + 0.5) * float(cell)  # cell centres: worst case for bilinear
        ec, er = geo.to_pixel(np.ravel(minx + cx * res), np.ravel(maxy - cy * res))
        ic = 0.25 * (node_col[:-1, :-1] + node_col[1:, :-1] + node_col[:-1, 1:] + node_col[1:, 1:]).ravel()
        ir = 0.25 * (node_row[:-1, :-1] + node_row[1:, :-1] + node_row[:-1, 1:] + node_row[1:, 1:]).ravel()
        if float(np.nanmax(np.hypot(ic - ec, ir - er), initial=0.0)) <= tolerance_px:
            return node_col, node_row, cell
        cell //= 2


# -- digitised features -------------------------------------------------------------------


@dataclass
class DigitisedFeature:
    item: str  # "line 3" / "feature 2": where it is in the source file
    geometry: BaseGeometry  # pixel space as read, WGS 84 after ``to_world_features``
    properties: dict[str, Any]


def read_digitised(path: str | Path) -> list[DigitisedFeature]:
    """Features digitised on the scan in pixel coordinates: CSV of col,row (+ any columns) or GeoJSON."""
    path = Path(path)
    src = path.name
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    text = decode(path.read_bytes(), src)  # never "errors=replace": a name read wrongly is a wrong name
    if path.suffix.lower() in (".geojson", ".json"):
        return _digitised_geojson(text, src)
    return _digitised_csv(text, src)


def _digitised_csv(text: str, src: str) -> list[DigitisedFeature]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        refuse_repeated_headers([(k or "").strip().lower() for k in reader.fieldnames or []], src)  # read lowercased
        rows = list(reader)
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072-character limit
        raise InvalidInput([Problem(src, f"line {reader.line_num}", "-", f"not a readable CSV: {exc}")]) from None
    if not rows or not {"col", "row"} <= {(k or "").strip().lower() for k in rows[0]}:
        raise InvalidInput([Problem(src, "header", "col,row", "missing column(s): a point CSV needs col and row")])
    out, problems = [], []
    for i, r in enumerate(rows, start=2):
        r = {(k or "").strip().lower(): (v or "").strip() for k, v in r.items() if k is not None}
        raw = f"{r.get('col')},{r.get('row')}"
        try:
            c, w = float(r.pop("col")), float(r.pop("row"))
            if not (math.isfinite(c) and math.isfinite(w)):
                raise ValueError
        except ValueError:
            problems.append(Problem(src, f"line {i}", "col,row", "not a number", raw))
            continue
        out.append(DigitisedFeature(f"line {i}", shapely.Point(c, w), {k: v for k, v in r.items() if v != ""}))
    if problems:
        raise InvalidInput(problems)
    return out


def _digitised_geojson(text: str, src: str) -> list[DigitisedFeature]:
    from safeground.intake.yamlsafe import load_json

    data = load_json(text, src, max_bytes=None)  # depth-bounded: a 100,000-deep document is refused
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list):
        raise InvalidInput([Problem(src, "file", "features", "not a GeoJSON FeatureCollection")])
    out, problems = [], []
    for i, f in enumerate(feats, start=1):
        try:
            geom = shapely.from_geojson(json.dumps(f["geometry"]))
            if geom is None or geom.is_empty:
                raise ValueError("empty geometry")
        except Exception as exc:
            problems.append(Problem(src, f"feature {i}", "geometry", f"not a geometry: {exc}"))
            continue
        props = f.get("properties") or {}
        out.append(DigitisedFeature(f"feature {i}", geom, dict(props) if isinstance(props, dict) else {}))
    if problems:
        raise InvalidInput(problems)
    return out


def to_world_features(geo: Georeference, feats: list[DigitisedFeature]) -> list[DigitisedFeature]:
    """The same features in WGS 84 lon/lat."""
    return [DigitisedFeature(f.item, geo.pixel_to_wgs84(f.geometry), f.properties) for f in feats]


def features_geojson(feats: list[DigitisedFeature]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": f.properties, "geometry": json.loads(shapely.to_geojson(f.geometry))}
            for f in feats
        ],
    }


def import_digitised(
    store: Any,
    layer: str,
    feats: list[DigitisedFeature],
    defaults: dict[str, Any],
    src: str,
    *,
    dry_run: bool = False,
    entered_by: str = "safeground scan features",
) -> Any:
    """Import georeferenced features with every rule of ``safeground import`` (properties over ``defaults``).

    The features are written to a scratch file of the same kind and name as the
    digitised one (a CSV with WKT, or GeoJSON), so problems name the same row or
    feature the user digitised, and the import path does the rest: one
    transaction, references and the area of interest checked, a second run
    skipped as unchanged instead of duplicating. A hazard area without a given
    area gets the area of its polygon (measured in UTM).
    """
    import csv
    import tempfile

    from safeground.geometry.projection import area_m2
    from safeground.intake.features import import_features
    from safeground.model import record_type

    cls = record_type(layer)
    if cls.GEOMETRY is None:
        raise InvalidInput([Problem("(command line)", "--layer", "layer", "this layer has no geometry", layer)])
    rows = []
    for f in feats:
        data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in {**defaults, **f.properties}.items()}
        if "estimated_area_m2" in cls.model_fields and "estimated_area_m2" not in data:
            data["estimated_area_m2"] = round(area_m2(f.geometry), 1)
            data.setdefault("remaining_area_m2", data["estimated_area_m2"])
        rows.append(data)
    with tempfile.TemporaryDirectory() as tmp:
        if src.lower().endswith(".csv"):
            path = Path(tmp) / src
            names = list(dict.fromkeys(k for r in rows for k in r))
            with path.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow([*names, "geometry_wkt"])
                for r, f in zip(rows, feats, strict=True):
                    w.writerow([*("" if r.get(k) is None else r[k] for k in names),
                                shapely.to_wkt(f.geometry, rounding_precision=-1)])  # fmt: skip
        else:
            path = Path(tmp) / (Path(src).stem + ".geojson")
            fc = {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": r, "geometry": json.loads(shapely.to_geojson(f.geometry))}
                    for r, f in zip(rows, feats, strict=True)
                ],
            }
            path.write_text(json.dumps(fc), encoding="utf-8")
        return import_features(store, layer, path, dry_run=dry_run, entered_by=entered_by)
