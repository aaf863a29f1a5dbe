"""The scan's image in, a GeoTIFF that opens in QGIS in the right place out.

A scan is read through GDAL (PNG, JPEG, TIFF), refusing one that is damaged or cut short
rather than georeferencing half a sheet. An affine fit keeps the scan's pixels and writes
the geotransform; a polynomial one is resampled onto a north-up grid (bilinear, in strips
so memory stays bounded for an A0 sheet) with an alpha band outside the scan.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from safeground.errors import InvalidInput, Problem, SafeGroundError
from safeground.intake.georef import Georeference


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
    rows with black and carry on, so half a scan became a GeoTIFF. Pillow decodes every row and says so, unless
    ``ImageFile.LOAD_TRUNCATED_IMAGES`` is set: importing weasyprint (any report's PDF, the server) sets it for the
    whole process, after which a cut PNG loaded without a word. It is cleared for this check and put back."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        return  # TIFF: GDAL reports a missing strip or tile as an error itself
    Image.MAX_IMAGE_PIXELS = 1_000_000_000  # an A0 sheet at 600 dpi is 560 million pixels
    lenient = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
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
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient


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
