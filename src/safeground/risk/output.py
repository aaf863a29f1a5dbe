"""What a prediction leaves behind: a Cloud-Optimized GeoTIFF and predicted hazard polygons.

The raster is written tile by tile (memory bounded by a tile) and converted
to a COG so QGIS and web maps can read any part of a national map without the
whole file. Polygons are traced in a second pass over the written raster, so
the threshold can be a share of the area ("the riskiest 5 %"), which only the
finished map can tell.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.shutil
import shapely
from rasterio.features import shapes
from rasterio.windows import Window as RWindow
from scipy import ndimage

from safeground.errors import Param, SafeGroundError
from safeground.risk.grid import Grid, Window
from safeground.risk.keys import LATEST_META

if TYPE_CHECKING:
    from safeground.storage.base import Store

HIST_BINS = 10_000
Progress = Callable[[int, int], None]


@dataclass
class RasterResult:
    path: Path
    cells: int
    histogram: np.ndarray  # counts over [0, 1] in HIST_BINS bins
    out_of_domain: dict[int, int] = field(default_factory=dict)  # reason code → cells the model cannot say

    def quantile_threshold(self, top_share: float) -> float:
        """The probability above which the riskiest ``top_share`` of the area lies."""
        if not 0 < top_share < 1:
            raise SafeGroundError(
                f"{Param('top', top_share)} is not a share between 0 and 1", hint=f"e.g. {Param('top', 0.05)}"
            )
        cum = np.cumsum(self.histogram[::-1])
        idx = int(np.searchsorted(cum, top_share * cum[-1]))
        return float(1.0 - (idx + 1) / HIST_BINS)


def write_risk_raster(
    path: Path,
    grid: Grid,
    tiles: Iterable[tuple[Window, np.ndarray, np.ndarray]],
    tags: dict[str, str],
    progress: Progress | None = None,
    total: int = 0,
) -> RasterResult:
    """Write tiles into a tiled GeoTIFF, then copy it to a COG; the partial file never takes the final name.

    Band 1 is the probability, nodata (NaN) where the model cannot say; band 2 says why (``domain`` codes:
    0 scored, 1 no evidence near, 2 unlike the training ground), so no blank is silent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial.tif")
    profile = {
        "driver": "GTiff",
        "width": grid.ncols,
        "height": grid.nrows,
        "count": 2,
        "dtype": "float32",
        "crs": grid.crs_wkt,
        "transform": grid.transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 3,
        "nodata": np.nan,
        "BIGTIFF": "IF_SAFER",
    }
    hist = np.zeros(HIST_BINS, np.int64)
    out_of_domain = np.zeros(256, np.int64)
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            for i, (w, arr, why) in enumerate(tiles):
                win = RWindow(w.col0, w.row0, w.width, w.height)
                dst.write(arr.astype(np.float32, copy=False), 1, window=win)
                dst.write(why.astype(np.float32), 2, window=win)
                out_of_domain += np.bincount(why.ravel(), minlength=256)
                ok = arr[np.isfinite(arr)]
                hist += np.bincount(np.minimum((ok * HIST_BINS).astype(np.int64), HIST_BINS - 1), minlength=HIST_BINS)
                if progress:
                    progress(i + 1, total)
            dst.update_tags(**tags, out_of_domain_cells=str(int(out_of_domain[1:].sum())))
            dst.set_band_description(1, "probability of contamination")
            dst.set_band_description(2, "why the model cannot say: 0 scored, 1 no evidence near, 2 unlike training")
        rasterio.shutil.copy(
            tmp, path, driver="COG", COMPRESS="DEFLATE", PREDICTOR="YES", OVERVIEWS="AUTO", BIGTIFF="IF_SAFER"
        )
    finally:
        for p in (tmp, Path(f"{tmp}.aux.xml")):
            p.unlink(missing_ok=True)
    return RasterResult(path, grid.size, hist, {k: int(v) for k, v in enumerate(out_of_domain) if v and k})


@dataclass
class HazardPolygon:
    geometry: shapely.Geometry  # grid CRS
    cells: int
    risk_sum: float
    risk_max: float


def trace_polygons(raster: Path, threshold: float, min_cells: int = 4, block: int = 2048) -> list[HazardPolygon]:
    """Connected areas at or above the threshold, traced window by window and joined across window edges."""
    inner: list[HazardPolygon] = []
    edge: list[HazardPolygon] = []
    with rasterio.open(raster) as src:
        for r0 in range(0, src.height, block):
            for c0 in range(0, src.width, block):
                win = RWindow(c0, r0, min(block, src.width - c0), min(block, src.height - r0))
                arr = src.read(1, window=win)
                mask = np.isfinite(arr) & (arr >= threshold)
                if not mask.any():
                    continue
                lab, n = ndimage.label(mask)
                idx = np.arange(1, n + 1)
                count = ndimage.sum_labels(mask, lab, idx)
                total = ndimage.sum_labels(np.where(mask, arr, 0), lab, idx)
                top = ndimage.maximum(np.where(mask, arr, 0), lab, idx)
                border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
                for geom, value in shapes(lab.astype(np.int32), mask=mask, transform=src.window_transform(win)):
                    k = int(value) - 1
                    poly = HazardPolygon(shapely.geometry.shape(geom), int(count[k]), float(total[k]), float(top[k]))
                    (edge if int(value) in border else inner).append(poly)
    if edge:
        merged = shapely.get_parts(shapely.union_all([p.geometry for p in edge]))
        tree = shapely.STRtree(merged)
        reps = shapely.point_on_surface([p.geometry for p in edge])
        ei, mi = tree.query(reps, predicate="within")
        acc = [HazardPolygon(m, 0, 0.0, 0.0) for m in merged]
        for e, m in zip(ei, mi, strict=True):
            acc[m].cells += edge[e].cells
            acc[m].risk_sum += edge[e].risk_sum
            acc[m].risk_max = max(acc[m].risk_max, edge[e].risk_max)
        inner += acc
    return [p for p in inner if p.cells >= min_cells]


def store_polygons(
    store: Store,
    polygons: list[HazardPolygon],
    grid: Grid,
    *,
    run_id: str,
    model_version: str,
    data_fingerprint: str,
    as_of: date,
    threshold: float,
    raster: Path,
    entered_by: str,
) -> int:
    """Save the polygons (WGS 84) and point the store at the latest risk map, in one transaction."""
    from safeground.model import PredictedHazard

    if not polygons:
        return 0
    geoms = np.array([p.geometry for p in polygons], dtype=object)
    t = grid.to_wgs84()
    wgs = shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    wgs = shapely.make_valid(wgs)
    start = store.max_uid_number(PredictedHazard)
    cell_area = grid.cell * grid.cell
    recs = []
    for i, (p, g) in enumerate(zip(polygons, wgs, strict=True)):
        if g.geom_type == "Polygon":
            g = shapely.MultiPolygon([g])
        elif g.geom_type != "MultiPolygon":
            g = shapely.MultiPolygon([x for x in shapely.get_parts(g) if x.geom_type == "Polygon"])
        recs.append(
            PredictedHazard(
                uid=f"{PredictedHazard.UID_PREFIX}-{start + i + 1:06d}",
                date_of_information=date.today(),
                entered_by=entered_by,
                change_reason=f"risk model run {run_id}",
                run_id=run_id,
                model_version=model_version,
                data_fingerprint=data_fingerprint,
                features_as_of=as_of,
                threshold=round(threshold, 6),
                mean_risk=min(1.0, p.risk_sum / max(p.cells, 1)),
                max_risk=min(1.0, p.risk_max),
                area_m2=p.cells * cell_area,
                raster=str(raster),
                geometry=g,
            )
        )
    store.add_many(recs)
    return len(recs)


def register_latest(store: Store, info: dict[str, Any]) -> None:
    """The risk map the safe-check and routing read from, named in the store's metadata."""
    store.set_meta(LATEST_META, json.dumps(info))


def latest_risk(store: Store) -> dict[str, Any] | None:
    raw = store.get_meta(LATEST_META)
    if not raw:
        return None
    info = json.loads(raw)
    return info if Path(info.get("raster", "")).exists() else None


class RiskSampler:
    """Reads the stored risk map at WGS 84 points (for the safe-check and route costs)."""

    def __init__(self, info: dict) -> None:
        self.info = info
        self._src = rasterio.open(info["raster"])
        from pyproj import Transformer

        self._t = Transformer.from_crs(4326, self._src.crs, always_xy=True)

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        x, y = self._t.transform(np.asarray(lon, float), np.asarray(lat, float))
        rows, cols = rasterio.transform.rowcol(self._src.transform, x, y)
        rows, cols = np.asarray(rows), np.asarray(cols)
        out = np.full(len(rows), np.nan)
        ok = (rows >= 0) & (rows < self._src.height) & (cols >= 0) & (cols < self._src.width)
        if ok.any():
            # one read of the covering window: cheaper than point reads for batches
            r0, r1, c0, c1 = rows[ok].min(), rows[ok].max(), cols[ok].min(), cols[ok].max()
            if (r1 - r0 + 1) * (c1 - c0 + 1) <= 50_000_000:
                arr = self._src.read(1, window=RWindow(c0, r0, c1 - c0 + 1, r1 - r0 + 1))
                out[ok] = arr[rows[ok] - r0, cols[ok] - c0]
            else:
                out[ok] = [v[0] for v in self._src.sample(zip(np.asarray(x)[ok], np.asarray(y)[ok], strict=True))]
        return out

    def why_not(self, lon: float, lat: float) -> str:
        """Why the map has no score at a point: outside it, or the model's reason (band 2)."""
        from safeground.risk.domain import REASONS

        x, y = self._t.transform(float(lon), float(lat))
        row, col = rasterio.transform.rowcol(self._src.transform, x, y)
        if not (0 <= row < self._src.height and 0 <= col < self._src.width):
            return "outside the area of the risk map"
        if self._src.count < 2:
            return "no score here"
        code = int(self._src.read(2, window=RWindow(col, row, 1, 1))[0, 0])
        return REASONS.get(code) or "no score here"

    def close(self) -> None:
        self._src.close()


def now_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S")


def risk_per_hazard(store: Store) -> pd.Series | None:
    """Mean predicted risk inside each hazard area, from the store's current risk map (None without one).

    What the prioritisation weighs: a hazard area the model rates riskier, other things equal, goes first."""
    from rasterio.features import geometry_mask

    from safeground.model import HazardArea

    info = latest_risk(store)
    if info is None:
        return None
    parts = list(store.read_frames(HazardArea, ["uid"]))  # the identifiers and shapes only
    if not parts:
        return pd.Series({}, name="risk", dtype=float)
    hz = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    out: dict[str, float] = {}
    with rasterio.open(info["raster"]) as src:
        geoms = hz.to_crs(src.crs).geometry
        for uid, g in zip(hz["uid"], geoms, strict=True):
            if g is None or g.is_empty:
                continue
            win = rasterio.windows.from_bounds(*g.bounds, transform=src.transform).round_offsets().round_lengths()
            win = win.intersection(RWindow(0, 0, src.width, src.height)) if win.width and win.height else None
            if win is None:
                continue
            arr = src.read(1, window=win, boundless=False)
            if not arr.size:
                continue
            inside = ~geometry_mask([g], out_shape=arr.shape, transform=src.window_transform(win), all_touched=True)
            vals = arr[inside & np.isfinite(arr)]
            if len(vals):
                out[str(uid)] = float(vals.mean())
    return pd.Series(out, name="risk", dtype=float)
