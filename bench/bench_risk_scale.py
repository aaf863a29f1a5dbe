"""Scale: features plus prediction over a 100 km × 100 km region at 10 m (10^8 cells).

Run:  .venv/bin/python bench/bench_risk_scale.py [--km 100] [--cell 10] [--workers 2]

The region is the demo district (generator seed 2020, 20 km) repeated 5 × 5, every
layer shifted in metres, so it has the generator's density of poles, paths,
courtyards, hazards and finds everywhere. A model is trained on the demo at the
same cell size, then the whole region is predicted tile by tile into a COG.
Printed next to it, measured in the same run: the naive method (per-cell
distances and window counts with shapely on a 1 % sample of cells, scaled up).
Peak memory is the largest resident set of this process and of each worker.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import shapely

from safeground.generator.config import DistrictConfig
from safeground.generator.district import build_district, write_district
from safeground.risk.distributed import dask_client, predict_tiles
from safeground.risk.grid import Grid
from safeground.risk.layers import Layer, RiskData, from_store
from safeground.risk.output import write_risk_raster
from safeground.risk.pipeline import RiskSettings, aligned_layers, train
from safeground.storage import open_store


def tiled_region(data: RiskData, reps: int, side_m: float) -> RiskData:
    """The district repeated reps × reps times, shifted by its side."""
    layers = []
    for la in data.layers:
        parts, dates, weights = [], [], []
        for i in range(reps):
            for j in range(reps):
                parts.append(shapely.transform(la.geoms, lambda xy, i=i, j=j: xy + np.array([i * side_m, -j * side_m])))
                if la.dates is not None:
                    dates.append(la.dates)
                if la.weights is not None:
                    weights.append(la.weights)
        layers.append(
            Layer(
                la.name,
                la.kind,
                np.concatenate(parts),
                np.concatenate(dates) if dates else None,
                np.concatenate(weights) if weights else None,
            )
        )
    return RiskData(layers, data.targets, data.crs_wkt, data.bounds_wgs84)


class TreeMemory:
    """Samples the resident memory of this process and all its children (the Dask workers) together."""

    def __init__(self, every_s: float = 0.5) -> None:
        import threading

        import psutil

        self.peak = 0
        self._stop = threading.Event()
        me = psutil.Process()

        def run() -> None:
            while not self._stop.is_set():
                total = 0
                for p in [me, *me.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                self.peak = max(self.peak, total)
                self._stop.wait(every_s)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop_mb(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def peak_mb() -> float:
    """The largest resident set of this process or of a finished child (getrusage)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def naive_sample(grid: Grid, layers: list[Layer], spec: object, share: float, seed: int = 1) -> tuple[float, int]:
    """Per-cell shapely: distance to the nearest geometry of each layer and counts within each radius."""
    rng = np.random.default_rng(seed)
    n = int(grid.size * share)
    flat = rng.choice(grid.size, n, replace=False)
    x = grid.x0 + (flat % grid.ncols + 0.5) * grid.cell
    y = grid.y0 - (flat // grid.ncols + 0.5) * grid.cell
    pts = shapely.points(x, y)
    t0 = time.perf_counter()
    for la in layers:
        if not len(la):
            continue
        tree = shapely.STRtree(la.geoms)
        tree.query_nearest(pts, max_distance=spec.max_distance_m, return_distance=True)  # type: ignore[attr-defined]
        for r in spec.radii_m:  # type: ignore[attr-defined]
            tree.query(pts, predicate="dwithin", distance=r)
    return time.perf_counter() - t0, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--km", type=float, default=100.0)
    ap.add_argument("--cell", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2, help="local Dask processes (0: in this process)")
    ap.add_argument("--tile", type=int, default=1024)
    ap.add_argument("--naive-share", type=float, default=0.01)
    args = ap.parse_args()
    reps = max(1, round(args.km / 20))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        store_path = Path(tmp) / "demo.gpkg"
        with open_store(str(store_path)) as store:
            write_district(build_district(DistrictConfig(seed=2020, size_km=20)), store)
            data = from_store(store)
        print(f"demo district built in {time.perf_counter() - t:.0f} s")
        settings = RiskSettings(cell_m=args.cell)
        t = time.perf_counter()
        tm = train(data, settings)
        print(f"model trained at {args.cell:g} m in {time.perf_counter() - t:.0f} s ({len(tm.feature_names)} features)")
        g0 = Grid.covering(data.bounds_wgs84, args.cell, data.crs_wkt)
        side = 20_000.0
        region = tiled_region(data, reps, side)
        grid = Grid(g0.crs_wkt, g0.x0, g0.y0, args.cell, int(reps * side / args.cell), int(reps * side / args.cell))
        layers = aligned_layers(region, date(2026, 1, 1), tm.layers)
        print(
            f"region {reps * side / 1000:.0f} km × {reps * side / 1000:.0f} km: {grid.nrows:,} × {grid.ncols:,} = "
            f"{grid.size:,} cells; {sum(len(la) for la in layers):,} geometries in {len(layers)} layers"
        )
        n_tiles = sum(1 for _ in grid.tiles(args.tile))
        t = time.perf_counter()
        done = 0

        def progress(d: int, total: int) -> None:
            nonlocal done
            done = d
            if d % max(1, total // 20) == 0 or d == total:
                el = time.perf_counter() - t
                print(f"  {d}/{total} tiles, {el:.0f} s, eta {el / d * (total - d):.0f} s", flush=True)

        mem = TreeMemory()
        with dask_client(None, args.workers or None) as client:
            tiles = predict_tiles(tm.model, grid, layers, tm.spec, args.tile, client)
            write_risk_raster(Path(tmp) / "risk.tif", grid, tiles, {"bench": "scale"}, progress, n_tiles)
        ours = time.perf_counter() - t
        size_mb = (Path(tmp) / "risk.tif").stat().st_size / 1e6
        tree_peak = mem.stop_mb()
        print(
            f"\nSafeGround tiled features + prediction: {ours:.0f} s for {grid.size:,} cells "
            f"({grid.size / ours / 1e6:.2f} M cells/s), COG {size_mb:.0f} MB; peak memory of all processes "
            f"together {tree_peak:.0f} MB (largest single process {peak_mb():.0f} MB)"
        )
        naive_t, n = naive_sample(grid, layers, tm.spec, args.naive_share)
        scaled = naive_t / args.naive_share
        print(
            f"naive per-cell shapely (features only) on {n:,} cells: {naive_t:.1f} s → scaled to the region "
            f"{scaled:.0f} s ({scaled / 3600:.1f} h); SafeGround is {scaled / ours:.1f}× faster, prediction included"
        )


if __name__ == "__main__":
    main()
