"""The analysis grid: square cells in a metric projection chosen for the region, cut into tiles.

A risk map is only comparable cell to cell if every cell has the same area, so
the grid lives in metres. One UTM zone serves a district; a region that spans
several zones (a country) gets a Lambert azimuthal equal-area projection centred
on it, because UTM scale error grows quickly outside its zone while LAEA keeps
every cell's area true everywhere in the region.

Tiles are what keeps memory bounded: every computation reads a tile plus a halo
(margin) wide enough for its largest distance or window, so results do not
depend on where tile edges fall.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer

from safeground.errors import Param, SafeGroundError
from safeground.geometry.projection import utm_epsg

MAX_CELLS = 10**10  # beyond this the user surely meant km, not m


def crs_for_region(west: float, south: float, east: float, north: float) -> CRS:
    """UTM when the region fits one zone, equal-area LAEA centred on it otherwise."""
    z_w = utm_epsg(max(west, -180.0), (south + north) / 2)
    z_e = utm_epsg(min(east, 179.999), (south + north) / 2)
    if z_w == z_e and south >= -80 and north <= 84 and (south >= 0) == (north >= 0):
        return CRS.from_epsg(z_w)
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    return CRS.from_proj4(f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +datum=WGS84 +units=m +no_defs")


@dataclass(frozen=True)
class Window:
    """A block of cells: rows [row0, row0+height), cols [col0, col0+width)."""

    row0: int
    col0: int
    height: int
    width: int

    @property
    def size(self) -> int:
        return self.height * self.width


@dataclass(frozen=True)
class Tile:
    """A core window and the larger halo window read around it (clipped to the grid)."""

    index: int
    core: Window
    halo: Window

    @property
    def inner(self) -> tuple[slice, slice]:
        """Where the core sits inside the halo array."""
        r, c = self.core.row0 - self.halo.row0, self.core.col0 - self.halo.col0
        return slice(r, r + self.core.height), slice(c, c + self.core.width)


@dataclass(frozen=True)
class Grid:
    """North-up grid: cell (row, col) has its top-left corner at (x0 + col·cell, y0 − row·cell)."""

    crs_wkt: str
    x0: float
    y0: float
    cell: float
    nrows: int
    ncols: int

    @classmethod
    def covering(
        cls,
        bounds_wgs84: tuple[float, float, float, float],
        cell_m: float,
        crs_wkt: str | None = None,
        margin_m: float = 0.0,
    ) -> Grid:
        """The grid of ``cell_m`` cells that covers a WGS 84 bounding box (in ``crs_wkt`` if given), widened by
        ``margin_m`` on every side: ground within a domain buffer of an edge event is ground to score too."""
        west, south, east, north = bounds_wgs84
        if not (cell_m > 0):
            raise SafeGroundError(f"cell size {cell_m} m is not positive", hint=f"e.g. {Param('cell', 25)}")
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise SafeGroundError(f"{bounds_wgs84} is not a WGS 84 bounding box (west, south, east, north)")
        crs = CRS.from_wkt(crs_wkt) if crs_wkt else crs_for_region(west, south, east, north)
        t = Transformer.from_crs(4326, crs, always_xy=True)
        # sample the edges densely: a projected lon/lat box is curved
        s = np.linspace(0, 1, 41)
        lon = np.concatenate([west + (east - west) * s, np.full(41, east), west + (east - west) * s, np.full(41, west)])
        lat = np.concatenate(
            [np.full(41, south), south + (north - south) * s, np.full(41, north), south + (north - south) * s]
        )
        x, y = t.transform(lon, lat)
        m = max(0.0, float(margin_m))
        x0 = np.floor((np.min(x) - m) / cell_m) * cell_m
        y0 = np.ceil((np.max(y) + m) / cell_m) * cell_m
        ncols = int(np.ceil((np.max(x) + m - x0) / cell_m))
        nrows = int(np.ceil((y0 - np.min(y) + m) / cell_m))
        if nrows * ncols > MAX_CELLS:
            raise SafeGroundError(
                f"a {cell_m:g} m grid over this region has {nrows * ncols:,} cells",
                hint=f"use a larger {Param('cell')} for a region this size",
            )
        return cls(crs.to_wkt(), float(x0), float(y0), float(cell_m), max(nrows, 1), max(ncols, 1))

    @cached_property
    def crs(self) -> CRS:
        return CRS.from_wkt(self.crs_wkt)

    @property
    def transform(self) -> Affine:
        return Affine(self.cell, 0.0, self.x0, 0.0, -self.cell, self.y0)

    @property
    def size(self) -> int:
        return self.nrows * self.ncols

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0 - self.nrows * self.cell, self.x0 + self.ncols * self.cell, self.y0)

    def window_transform(self, w: Window) -> Affine:
        return Affine(self.cell, 0.0, self.x0 + w.col0 * self.cell, 0.0, -self.cell, self.y0 - w.row0 * self.cell)

    def centres(self, w: Window) -> tuple[np.ndarray, np.ndarray]:
        """Projected x, y of every cell centre of a window, row-major."""
        xs = self.x0 + (np.arange(w.col0, w.col0 + w.width) + 0.5) * self.cell
        ys = self.y0 - (np.arange(w.row0, w.row0 + w.height) + 0.5) * self.cell
        xx, yy = np.meshgrid(xs, ys)
        return xx.ravel(), yy.ravel()

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, column and an inside-the-grid mask for projected points."""
        col = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell).astype(np.int64)
        row = np.floor((self.y0 - np.asarray(y, dtype=float)) / self.cell).astype(np.int64)
        ok = (row >= 0) & (row < self.nrows) & (col >= 0) & (col < self.ncols)
        return row, col, ok

    def flat_index(self, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        return row.astype(np.int64) * self.ncols + col.astype(np.int64)

    def tiles(self, tile_cells: int = 1024, halo_cells: int = 0) -> Iterator[Tile]:
        """Tiles in row-major order; the halo is clipped at the grid edge."""
        i = 0
        for r in range(0, self.nrows, tile_cells):
            for c in range(0, self.ncols, tile_cells):
                core = Window(r, c, min(tile_cells, self.nrows - r), min(tile_cells, self.ncols - c))
                hr, hc = max(0, r - halo_cells), max(0, c - halo_cells)
                he = min(self.nrows, r + core.height + halo_cells)
                we = min(self.ncols, c + core.width + halo_cells)
                yield Tile(i, core, Window(hr, hc, he - hr, we - hc))
                i += 1

    def to_wgs84(self) -> Transformer:
        return Transformer.from_crs(self.crs, 4326, always_xy=True)

    def from_wgs84(self) -> Transformer:
        return Transformer.from_crs(4326, self.crs, always_xy=True)
