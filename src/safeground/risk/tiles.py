"""Web map tiles of the stored risk map (its Cloud-Optimized GeoTIFF), read with rio-tiler, per audience.

The model learns from accidents and finds, so its map at 25 m shows a peak where each accident happened and
where mines were found: at full resolution it is as exact as the positions the access policy keeps from the
public. Below the restricted audience the map is therefore served in the policy's public cells
(:data:`~safeground.geometry.generalise.PUBLIC_GRID_M`, where accidents and finds are counted for the public
and snapped for partners), each cell at the *highest* risk inside it: generalised, never reassuring (a cell
with one dangerous corner is a dangerous cell). The classes are then the shares of those cells ranked by it.
The restricted audience reads the map as predicted.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.windows import Window

from safeground.access.audience import Audience
from safeground.errors import RecordNotFound
from safeground.geometry.generalise import PUBLIC_GRID_M
from safeground.styles.risk import thresholds

TILE_PX = 256
#: the cell of the map a reader below ``restricted`` gets
GENERAL_CELL_M = PUBLIC_GRID_M


def block_max(path: Path, cell_m: float) -> tuple[np.ndarray, Any, Any, int]:
    """The raster in blocks of about ``cell_m`` metres, each the highest value inside it (NaN where none):
    (values, transform, crs, block size in cells). Read one band of blocks at a time."""
    with rasterio.open(path) as src:
        f = max(1, round(cell_m / abs(src.transform.a)))
        rows, cols = -(-src.height // f), -(-src.width // f)
        out = np.full((rows, cols), np.nan, np.float32)
        for r in range(rows):
            win = Window(0, r * f, src.width, min(f, src.height - r * f))
            band = src.read(1, window=win).astype(np.float32)
            pad = np.full((f, cols * f), np.nan, np.float32)
            pad[: band.shape[0], : band.shape[1]] = band
            blocks = pad.reshape(f, cols, f).transpose(1, 0, 2).reshape(cols, f * f)
            has = np.isfinite(blocks).any(axis=1)
            out[r, has] = np.nanmax(blocks[has], axis=1)
        return out, src.transform * rasterio.Affine.scale(f), src.crs, f


@dataclass
class _Open:
    key: tuple[str, float, bool]
    reader: Any  # rio_tiler Reader
    memfile: MemoryFile | None
    cell_m: float
    edges: list[float]  # the class thresholds of the map as served (its own quantiles)


#: at most this many cells are read to find the map's class thresholds (a national map is sampled evenly)
QUANTILE_CELLS = 4_000_000


def map_thresholds(path: Path) -> list[float]:
    """The class thresholds (``safeground.styles.risk.thresholds``) of the map as predicted."""
    with rasterio.open(path) as src:
        k = max(1, int(np.ceil(np.sqrt(src.width * src.height / QUANTILE_CELLS))))
        values = src.read(1, out_shape=(max(1, src.height // k), max(1, src.width // k)))
    return thresholds(values.astype(np.float64))


class RiskTiles:
    """The stored risk map's tiles, one open reader per map and audience kind (exact or generalised), reused
    until the map file changes. rasterio datasets are not thread-safe: reads are serialised."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[bool, _Open] = {}

    def _reader(self, raster: Path, exact: bool) -> _Open:
        from rio_tiler.io import Reader

        key = (str(raster), os.stat(raster).st_mtime, exact)
        hit = self._open.get(exact)
        if hit is not None and hit.key == key:
            return hit
        if hit is not None:
            hit.reader.close()
            if hit.memfile is not None:
                hit.memfile.close()
        if exact:
            reader = Reader(str(raster))
            assert reader.transform is not None
            opened = _Open(key, reader, None, abs(reader.transform.a), map_thresholds(raster))
        else:
            values, transform, crs, _f = block_max(raster, GENERAL_CELL_M)
            mem = MemoryFile()
            with mem.open(driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                          dtype="float32", crs=crs, transform=transform, nodata=np.nan) as dst:  # fmt: skip
                dst.write(values, 1)
            reader = Reader(str(raster), dataset=mem.open())
            opened = _Open(key, reader, mem, abs(transform.a), thresholds(values.astype(np.float64)))
        self._open[exact] = opened
        return opened

    def cell_m(self, raster: Path, audience: Audience) -> float:
        """The cell of the map as this audience is served it, in metres."""
        with self._lock:
            return self._reader(raster, audience.exact).cell_m

    def thresholds(self, raster: Path, audience: Audience) -> list[float]:
        """The risk at which each class above the lowest begins, on the map as this audience is served it."""
        with self._lock:
            return self._reader(raster, audience.exact).edges

    def values(self, raster: Path, audience: Audience, z: int, x: int, y: int) -> np.ndarray:
        """The tile's risk values (TILE_PX × TILE_PX, NaN where the map has none), each pixel the value of the
        map cell under its centre (no smoothing: a legend class is a class)."""
        from rio_tiler.errors import TileOutsideBounds

        with self._lock:
            opened = self._reader(raster, audience.exact)
            try:
                img = opened.reader.tile(x, y, z, tilesize=TILE_PX, resampling_method="nearest")
            except TileOutsideBounds:
                return np.full((TILE_PX, TILE_PX), np.nan, np.float32)
        data = np.asarray(img.array[0].filled(np.nan) if np.ma.isMaskedArray(img.array) else img.data[0], np.float32)
        return data


def latest_raster(info: dict[str, Any] | None) -> Path:
    """The file of the store's latest saved risk map, or a 404 that says how one is made."""
    if not info:
        raise RecordNotFound(
            "this store holds no saved risk map",
            hint="a risk map is saved into the store by the risk model's prediction (risk predict with save)",
        )
    return Path(info["raster"])
