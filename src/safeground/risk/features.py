"""Features of every grid cell: how far to, and how much of, each kind of evidence around it.

Mines were laid at poles, canals, junctions, cemeteries and along the front,
so the distance to each kind of place and its density within a few radii are
what a model can learn the laying pattern from. Everything is computed on
rasters tile by tile (Euclidean distance transform, box sums), which costs the
same per cell whether a region has ten features or ten million: the only way a
country at 10 m fits on a laptop.

Conventions, so that hand-computed values can check them:
- ``dist:<layer>`` metres from the cell centre to the centre of the nearest cell
  holding the layer (0 inside), capped at ``max_distance_m``.
- ``dens:<layer>:<r>m`` over the square window of ``2k+1`` cells, ``k = round(r / cell)``:
  points per km², line km per km², or the weighted share of the window a polygon layer covers.
- ``since:<layer>:<r>m`` years from the layer's date back to its latest event in that window (capped at 50).
- ``trend:<layer>:<y>y:<r>m`` the share of the window's events that happened in the last ``y`` years
  (``NO_EVENTS`` = -1 where the window holds none): rising or fading conflict at the same count.
- ``kde:<layer>:<s>m`` events per km² under a Gaussian kernel of standard deviation ``s`` (cut at 3 s):
  evidence counts the less the farther it lies, instead of all-or-nothing at a window's edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from rasterio.features import rasterize
from scipy import ndimage

from safeground.risk.grid import Grid, Tile, Window
from safeground.risk.layers import LINE, POINT, POLYGON, Layer


@dataclass(frozen=True)
class FeatureSpec:
    """Which features, at which scales: stored with every model so prediction repeats training."""

    max_distance_m: float = 2000.0
    radii_m: tuple[float, ...] = (250.0, 1000.0)
    distance: bool = True
    density: bool = True
    dem_path: str | None = None  # a DEM (any CRS GDAL reads) adds elevation and slope
    # years since the latest dated event within each radius (``since:<layer>:<r>m``): conflict moves on, and
    # ground quiet for ten years differs from ground with last year's accident at the same count
    recency_radii_m: tuple[float, ...] = ()
    # the share of the events within each radius that are recent (``trend:``), for each look-back in years: a
    # place whose events are all from the last two years differs from one whose events stopped long ago
    trend_years: tuple[float, ...] = ()
    trend_radii_m: tuple[float, ...] = ()
    # Gaussian kernel densities (``kde:``) at these standard deviations: distance decay of the evidence
    kernel_m: tuple[float, ...] = ()
    # monotone constraints for the tree model (``monotone_directions``): more past events nearby never lowers a
    # cell's risk, and nor does being nearer to one. A tree fitted to one period learns wiggles (a dip at some
    # count) that the next period does not repeat; the constraint forbids those, whatever the period
    monotone: bool = False

    @property
    def terrain(self) -> bool:
        return self.dem_path is not None

    @classmethod
    def for_cell(
        cls,
        cell_m: float,
        radii_m: tuple[float, ...] | None = None,
        max_distance_m: float | None = None,
        dem_path: str | None = None,
    ) -> FeatureSpec:
        """Scales that suit the cell, unless given: densities within 2, 5, 10, 20 and 40 cells, the years since
        the last event within 2 and 10 cells, distances up to 80 cells.

        At 25 m that is 50 m to 1 km (a village's courtyards, paths and poles) and 2 km; at 1 km, 2 to 40 km and
        80 km, the scales at which a country's conflict zones show. Chosen in session 12 inside the training
        period of the Colombian events (``bench/bench_risk_colombia.py --select``: features as of 1999, accidents
        of 2006–2012, departments held out), with 60 balanced trees (``LightGBMRisk.DEFAULTS``), before any test
        figure was seen; the default before (densities at 3, 10, 40 cells, no recency, 120 trees) came second
        to last of 19 there, and lost to the 5 × 5 window count on the test (docs/risk-honest.md)."""
        return cls(
            max_distance_m=max_distance_m or 80 * cell_m,
            radii_m=tuple(radii_m) if radii_m else tuple(k * cell_m for k in (2, 5, 10, 20, 40)),
            recency_radii_m=(2 * cell_m, 10 * cell_m),
            dem_path=dem_path,
        )

    def halo_cells(self, cell: float) -> int:
        reach = max(
            [
                self.max_distance_m if self.distance else 0.0,
                *(self.radii_m if self.density else ()),
                *self.recency_radii_m,
                *(self.trend_radii_m if self.trend_years else ()),
                *(KERNEL_REACH * s for s in self.kernel_m),
            ]
        )
        return math.ceil(reach / cell) + 1

    def window_half(self, r: float, cell: float) -> int:
        return max(0, round(r / cell))

    def names(self, layer_names: list[str], kinds: list[str] | None = None) -> list[str]:
        out = []
        for i, n in enumerate(layer_names):
            if self.distance:
                out.append(f"dist:{n}")
            if self.density:
                out.extend(f"dens:{n}:{r:g}m" for r in self.radii_m)
            kind = kinds[i] if kinds else POINT
            if self.recency_radii_m and is_dated_event(n, kind):
                out.extend(f"since:{n}:{r:g}m" for r in self.recency_radii_m)
            if self.trend_years and self.trend_radii_m and is_history(n, kind):
                out.extend(f"trend:{n}:{y:g}y:{r:g}m" for y in self.trend_years for r in self.trend_radii_m)
            if self.kernel_m and is_history(n, kind):
                out.extend(f"kde:{n}:{s:g}m" for s in self.kernel_m)
        if self.terrain:
            out += ["elevation_m", "slope_deg"]
        return out

    def to_dict(self) -> dict:
        return {
            "max_distance_m": self.max_distance_m,
            "radii_m": list(self.radii_m),
            "distance": self.distance,
            "density": self.density,
            "dem_path": self.dem_path,
            "recency_radii_m": list(self.recency_radii_m),
            "trend_years": list(self.trend_years),
            "trend_radii_m": list(self.trend_radii_m),
            "kernel_m": list(self.kernel_m),
            "monotone": self.monotone,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FeatureSpec:
        """Read a spec back (older model cards lack the later fields: those features were off)."""

        def floats(key: str) -> tuple[float, ...]:
            return tuple(float(v) for v in d.get(key, ()))

        return cls(
            max_distance_m=float(d["max_distance_m"]),
            radii_m=floats("radii_m"),
            distance=bool(d["distance"]),
            density=bool(d["density"]),
            dem_path=d.get("dem_path"),
            recency_radii_m=floats("recency_radii_m"),
            trend_years=floats("trend_years"),
            trend_radii_m=floats("trend_radii_m"),
            kernel_m=floats("kernel_m"),
            monotone=bool(d.get("monotone", False)),
        )

    def monotone_directions(self, names: list[str]) -> list[int] | None:
        """Per feature: +1 where the risk may only rise with it, -1 where only fall, 0 free; None when off.

        Only the past events' own features are held (layers ``event:…``, their ``:lastNy`` copies and split
        layers included): densities and kernel densities rise (``dens:``, ``kde:``), distances fall (``dist:``).
        Years since the last event, trend shares, terrain and every other layer (roads, poles, released ground)
        stay free: nothing says which way they act."""
        if not self.monotone:
            return None
        return [monotone_direction(n) for n in names]


@dataclass
class FeatureBuilder:
    """Computes the feature matrix of any window of a grid from a fixed set of layers."""

    grid: Grid
    layers: list[Layer]
    spec: FeatureSpec = field(default_factory=FeatureSpec)

    def __post_init__(self) -> None:
        self._trees = [shapely.STRtree(la.geoms) if len(la) and la.kind != LINE else None for la in self.layers]
        # lines become weighted vertices once, for the whole layer: clipping them per tile would move the
        # vertices and make a cell's value depend on where the tile edges fall
        self._lines = [_line_vertices(la, self.grid.cell / 2) if la.kind == LINE else None for la in self.layers]

    @property
    def names(self) -> list[str]:
        return self.spec.names([la.name for la in self.layers], [la.kind for la in self.layers])

    @property
    def halo(self) -> int:
        return self.spec.halo_cells(self.grid.cell)

    def tile(self, tile: Tile) -> np.ndarray:
        """Features of the core cells of a tile, row-major, float32."""
        h = tile.halo
        inner = tile.inner
        # column-major: each feature is written as one contiguous run (row-major writes were half the time)
        out = np.empty((tile.core.size, len(self.names)), np.float32, order="F")
        j = 0
        cell = self.grid.cell
        for la, tree, lines in zip(self.layers, self._trees, self._lines, strict=True):
            weight, present = self._rasterise(la, tree, lines, h)
            if self.spec.distance:
                out[:, j] = self._distance(present, cell)[inner].ravel()
                j += 1
            if self.spec.density:
                ks = [self.spec.window_half(r, cell) for r in self.spec.radii_m]
                sums = box_sums(weight, ks) if weight.any() else [None] * len(ks)
                for k, total in zip(ks, sums, strict=True):
                    out[:, j] = self._density(total, la.kind, k, cell, weight.shape)[inner].ravel()
                    j += 1
            if self.spec.recency_radii_m and is_dated_event(la.name, la.kind):
                for since in self._since(la, h):
                    out[:, j] = since[inner].ravel()
                    j += 1
            if self.spec.trend_years and self.spec.trend_radii_m and is_history(la.name, la.kind):
                for share in self._trend(la, weight, h):
                    out[:, j] = share[inner].ravel()
                    j += 1
            if self.spec.kernel_m and is_history(la.name, la.kind):
                for s in self.spec.kernel_m:
                    out[:, j] = kernel_density(weight, s, cell)[inner].ravel()
                    j += 1
        if self.spec.terrain:
            elev, slope = self._terrain(h)
            out[:, j] = elev[inner].ravel()
            out[:, j + 1] = slope[inner].ravel()
        return out

    def window(self, w: Window) -> np.ndarray:
        halo = self.halo
        g = self.grid
        hr, hc = max(0, w.row0 - halo), max(0, w.col0 - halo)
        he, we = min(g.nrows, w.row0 + w.height + halo), min(g.ncols, w.col0 + w.width + halo)
        return self.tile(Tile(-1, w, Window(hr, hc, he - hr, we - hc)))

    def cells(self, flat: np.ndarray, tile_cells: int = 1024) -> np.ndarray:
        """Features of chosen cells only, computed tile by tile over the tiles that hold them."""
        flat = np.asarray(flat, dtype=np.int64)
        out = np.zeros((len(flat), len(self.names)), np.float32)
        rows, cols = flat // self.grid.ncols, flat % self.grid.ncols
        key = (rows // tile_cells) * (self.grid.ncols // tile_cells + 1) + cols // tile_cells
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for part in np.split(order, bounds):
            if not len(part):
                continue
            r0, c0 = rows[part].min(), cols[part].min()
            w = Window(int(r0), int(c0), int(rows[part].max() - r0 + 1), int(cols[part].max() - c0 + 1))
            feats = self.window(w)
            out[part] = feats[(rows[part] - r0) * w.width + (cols[part] - c0)]
        return out

    # ------------------------------------------------------------ pieces

    def _rasterise(
        self, la: Layer, tree: shapely.STRtree | None, lines: tuple[np.ndarray, np.ndarray] | None, h: Window
    ) -> tuple[np.ndarray, np.ndarray]:
        """Weight raster (count, metres of line, or covered share) and presence mask of a halo window."""
        weight = np.zeros((h.height, h.width), np.float64)
        g = self.grid
        x0, y1 = g.x0 + h.col0 * g.cell, g.y0 - h.row0 * g.cell
        if lines is not None:
            xy, metres = lines
            lo, hi = np.searchsorted(xy[:, 0], [x0, x0 + h.width * g.cell])
            self._add_points(weight, xy[lo:hi], metres[lo:hi], h)
            return weight, weight > 0
        if tree is None:
            return weight, weight > 0
        box = shapely.box(x0, y1 - h.height * g.cell, x0 + h.width * g.cell, y1)
        idx = tree.query(box)
        if not len(idx):
            return weight, weight > 0
        geoms = la.geoms[idx]
        w = np.ones(len(idx)) if la.weights is None else la.weights[idx]
        if la.kind == POINT:
            xy = shapely.get_coordinates(geoms)
            ww = np.repeat(w, shapely.get_num_coordinates(geoms))
            self._add_points(weight, xy, ww, h)
            return weight, weight > 0
        # polygons: the weighted share of each cell centre covered, plus boundary cells for thin shapes
        transform = g.window_transform(h)
        # drawn lightest first, so where hazards overlap the strongest evidence wins
        shapes = [(geoms[i], float(w[i])) for i in np.argsort(w, kind="stable") if not geoms[i].is_empty]
        cover = rasterize(shapes, out_shape=(h.height, h.width), transform=transform, fill=0.0, dtype="float64")
        edge = np.zeros_like(cover)
        bxy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(geoms), g.cell / 2))
        self._add_points(edge, bxy, np.ones(len(bxy)), h)
        return cover, (cover > 0) | (edge > 0)

    def _add_points(self, arr: np.ndarray, xy: np.ndarray, w: np.ndarray, h: Window) -> None:
        if not len(xy):
            return
        r, c, _ = self.grid.cell_of(xy[:, 0], xy[:, 1])
        r, c = r - h.row0, c - h.col0
        ok = (r >= 0) & (r < h.height) & (c >= 0) & (c < h.width)
        np.add.at(arr, (r[ok], c[ok]), w[ok])

    def _distance(self, present: np.ndarray, cell: float) -> np.ndarray:
        cap = self.spec.max_distance_m
        if not present.any():
            return np.full(present.shape, cap, np.float32)
        d = ndimage.distance_transform_edt(~present, sampling=cell)
        return np.minimum(d, cap).astype(np.float32)

    @staticmethod
    def _density(total: np.ndarray | None, kind: str, k: int, cell: float, shape: tuple[int, int]) -> np.ndarray:
        """Window sums (``box_sums``; None for an empty layer) as points or line km per km², or covered share."""
        n = 2 * k + 1
        if total is None:
            return np.zeros(shape, np.float32)
        if kind == POLYGON:
            return (total / (n * n)).astype(np.float32)
        area_km2 = (n * cell / 1000.0) ** 2
        if kind == LINE:
            total = total / 1000.0  # metres → km
        return (total / area_km2).astype(np.float32)

    def _since(self, la: Layer, h: Window) -> list[np.ndarray]:
        """Years from the layer's date back to its latest event within each recency radius (capped).

        A maximum over a window is exact, so this too is the same in any tile or batch."""
        shape = (h.height, h.width)
        cap = SINCE_CAP_YEARS
        if la.dates is None or not len(la) or la.as_of is None:
            return [np.full(shape, cap, np.float32) for _ in self.spec.recency_radii_m]
        days = la.dates.astype("datetime64[D]").astype(np.int64)
        ok = ~np.isnat(la.dates)
        xy = shapely.get_coordinates(la.geoms[ok])
        r, c, _ = self.grid.cell_of(xy[:, 0], xy[:, 1])
        r, c = r - h.row0, c - h.col0
        inside = (r >= 0) & (r < h.height) & (c >= 0) & (c < h.width)
        never = np.iinfo(np.int64).min // 2
        latest = np.full(shape, never, np.int64)
        np.maximum.at(latest, (r[inside], c[inside]), days[ok][inside])
        now = np.datetime64(la.as_of, "D").astype(np.int64)
        out = []
        for rad in self.spec.recency_radii_m:
            k = self.spec.window_half(rad, self.grid.cell)
            m = ndimage.maximum_filter(latest, size=2 * k + 1, mode="constant", cval=never)
            years = np.where(m == never, cap, np.minimum((now - m) / 365.25, cap))
            out.append(years.astype(np.float32))
        return out

    def _trend(self, la: Layer, weight: np.ndarray, h: Window) -> list[np.ndarray]:
        """Per look-back and radius: the share of the window's events dated within the look-back of the layer's
        date (``NO_EVENTS`` where the window holds none). Both counts are exact box sums, so the share is too."""
        spec = self.spec
        ks = [spec.window_half(r, self.grid.cell) for r in spec.trend_radii_m]
        shape = (h.height, h.width)
        if not weight.any():
            return [np.full(shape, NO_EVENTS, np.float32) for _ in spec.trend_years for _ in ks]
        totals = box_sums(weight, ks)
        out = []
        for years in spec.trend_years:
            recent = np.zeros(shape, np.float64)
            if la.dates is not None and la.as_of is not None:
                lo = np.datetime64(la.as_of, "D") - np.timedelta64(round(365.25 * years), "D")
                keep = ~np.isnat(la.dates) & (la.dates > lo)
                if keep.any():
                    xy = shapely.get_coordinates(la.geoms[keep])
                    w = np.ones(int(keep.sum())) if la.weights is None else la.weights[keep]
                    self._add_points(recent, xy, w, h)
            parts = box_sums(recent, ks) if recent.any() else [np.zeros(shape)] * len(ks)
            for total, part in zip(totals, parts, strict=True):
                share = np.divide(part, total, out=np.full(shape, NO_EVENTS, np.float64), where=total > 0)
                out.append(share.astype(np.float32))
        return out

    def _terrain(self, h: Window) -> tuple[np.ndarray, np.ndarray]:
        import rasterio
        from rasterio.warp import Resampling, reproject

        elev = np.full((h.height, h.width), np.nan, np.float32)
        from safeground.intake.confine import check_raster_file

        dem = self.spec.dem_path
        assert dem is not None  # terrain features are built only with an elevation model
        check_raster_file(Path(dem), what="elevation model")
        with rasterio.open(dem) as src:
            reproject(
                rasterio.band(src, 1),
                elev,
                dst_transform=self.grid.window_transform(h),
                dst_crs=self.grid.crs_wkt,
                resampling=Resampling.bilinear,
                dst_nodata=np.nan,
            )
        gy, gx = np.gradient(elev.astype(np.float64), self.grid.cell)
        slope = np.degrees(np.arctan(np.hypot(gx, gy)))
        return elev, slope.astype(np.float32)


SINCE_CAP_YEARS = 50.0  # "never, as far as the record goes"
NO_EVENTS = -1.0  # the trend share of a window that holds no event
KERNEL_REACH = 3.0  # a Gaussian kernel is cut at this many standard deviations
KERNEL_UNITS = 2**10  # kernel weights are whole multiples of 1/1024 (exact sums, as for ``box_sums``)


def is_dated_event(name: str, kind: str) -> bool:
    """Layers that get a "years since" feature: dated point events."""
    return kind == POINT and name.startswith("event:")


def monotone_direction(feature: str) -> int:
    """+1, -1 or 0 for one feature name (``FeatureSpec.monotone_directions``)."""
    kind, _, rest = feature.partition(":")
    if not rest.startswith("event:"):
        return 0
    return {"dens": 1, "kde": 1, "dist": -1}.get(kind, 0)


def is_history(name: str, kind: str) -> bool:
    """Event layers over the whole record (not the ``:lastNy`` copies, whose share of recent events is always
    1 and whose kernel density repeats the window counts): they get trend and kernel features."""
    return is_dated_event(name, kind) and ":last" not in name


def gaussian_weights(sigma_m: float, cell: float) -> np.ndarray:
    """The 1-D kernel: whole units of 1/1024, cut at ``KERNEL_REACH`` standard deviations (at least one cell)."""
    k = max(1, math.ceil(KERNEL_REACH * sigma_m / cell))
    d = np.arange(-k, k + 1) * cell
    return np.rint(np.exp(-0.5 * (d / sigma_m) ** 2) * KERNEL_UNITS)


def kernel_density(weight: np.ndarray, sigma_m: float, cell: float) -> np.ndarray:
    """Gaussian kernel density of a point weight raster, in (weighted) events per km².

    Separable, so two 1-D passes. Exact whatever the window: weights rounded to 1/65536 and the kernel to
    1/1024 are whole numbers, their products and sums stay below 2^53, so the double sums carry no residue
    and a cell gets the same value alone, in a batch or in any tile (the one-score rule)."""
    if not weight.any():
        return np.zeros(weight.shape, np.float32)
    q = np.rint(np.asarray(weight, np.float64) * 2**8)  # whole 1/256 units: the sums must stay below 2^53
    g = gaussian_weights(sigma_m, cell)
    s = ndimage.correlate1d(ndimage.correlate1d(q, g, axis=0, mode="constant"), g, axis=1, mode="constant")
    per_event_km2 = float(g.sum()) ** 2 * 2**8 * (cell / 1000.0) ** 2
    return (s / per_event_km2).astype(np.float32)


WEIGHT_UNITS = 2**16  # weights are summed as whole multiples of 1/65536: exact, so in any order or window


def box_sums(weight: np.ndarray, ks: list[int]) -> list[np.ndarray]:
    """Sums of ``weight`` over the (2k+1)² window around every cell (zero outside), for each k, computed exactly.

    Why not ``ndimage.uniform_filter``: its running mean adds and subtracts floating-point values as it slides,
    leaving residues (±1e-17 where the true sum is 0) that depend on where the array starts. A tree model
    splits at 0, so a cell scored alone and the same cell inside a tile got different risks (0.011 against
    0.084), and the residues ran along rows as stripes. Weights are rounded to whole units of 1/65536 and
    summed as integers in one summed-area table: every window gets the same sum wherever it sits."""
    if not ks:
        return []
    big = max(ks)
    q = np.rint(np.asarray(weight, np.float64) * WEIGHT_UNITS).astype(np.int64)
    h, w = q.shape
    sat = np.pad(q, ((big + 1, big), (big + 1, big))).cumsum(axis=0).cumsum(axis=1)
    out = []
    for k in ks:
        hi, lo = big + 1 + k, big - k
        total = sat[hi : hi + h, hi : hi + w] - sat[lo : lo + h, hi : hi + w]
        total -= sat[hi : hi + h, lo : lo + w]
        total += sat[lo : lo + h, lo : lo + w]
        out.append(total.astype(np.float64) / WEIGHT_UNITS)
    return out


def _line_vertices(la: Layer, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices every ``step`` metres along the lines, each carrying the metres of line around it, sorted by x."""
    if not len(la):
        return np.zeros((0, 2)), np.zeros(0)
    w = np.ones(len(la)) if la.weights is None else la.weights
    parts, owner = shapely.get_parts(shapely.segmentize(la.geoms, step), return_index=True)
    xys, ms = [], []
    for p, o in zip(parts, owner, strict=True):
        xy = shapely.get_coordinates(p)
        if len(xy) < 2:
            continue
        seg = np.hypot(*np.diff(xy, axis=0).T)
        xys.append(xy)
        ms.append((np.concatenate([[0.0], seg / 2]) + np.concatenate([seg / 2, [0.0]])) * w[o])
    if not xys:
        return np.zeros((0, 2)), np.zeros(0)
    xy, m = np.concatenate(xys), np.concatenate(ms)
    order = np.argsort(xy[:, 0], kind="stable")
    return xy[order], m[order]
