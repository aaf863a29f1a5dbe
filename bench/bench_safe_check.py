"""Benchmark: "is it safe here?" with 1,000,000 hazard polygons loaded.

Run:  .venv/bin/python bench/bench_safe_check.py [--polygons 1000000] [--points 1000000]

Prints, measured in this run: index build time, single in-process checks
(median and 99th percentile over 10,000 random points), a batch check of all
points, and the baseline: GeoPandas ``sjoin`` (dwithin the 50 m buffer) on the
same points and polygons.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely

from safeground.geometry.projection import project
from safeground.safety.check import SafetyIndex

EPSG = 32638
X0, Y0 = 500_000.0, 4_300_000.0
SIDE = 200_000.0  # a 200 × 200 km region


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--polygons", type=int, default=1_000_000)
    ap.add_argument("--points", type=int, default=1_000_000)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    n = args.polygons
    cx, cy = rng.uniform(X0, X0 + SIDE, n), rng.uniform(Y0, Y0 + SIDE, n)
    w, h = rng.uniform(20, 150, n), rng.uniform(20, 150, n)
    polys = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    hz = gpd.GeoDataFrame(
        {
            "uid": [f"HA-{i:07d}" for i in range(n)],
            "status": "open",
            "classification": "suspected_hazardous_area",
            "contamination": "antipersonnel_mines",
        },
        geometry=polys,
        crs=EPSG,
    )
    t0 = time.perf_counter()
    index = SafetyIndex.from_frames(EPSG, hazards=hz)
    t_build = time.perf_counter() - t0

    m = args.points
    px, py = rng.uniform(X0, X0 + SIDE, m), rng.uniform(Y0, Y0 + SIDE, m)
    ll = project(shapely.points(np.column_stack([px, py])), EPSG, 4326)
    lon, lat = shapely.get_x(ll), shapely.get_y(ll)

    times = []
    levels = []
    for i in range(10_000):
        t = time.perf_counter()
        ans = index.check(lon[i], lat[i])
        times.append(time.perf_counter() - t)
        levels.append(ans.level)
    times_ms = np.array(times) * 1000
    t0 = time.perf_counter()
    batch = index.check_many(lon, lat)
    t_batch = time.perf_counter() - t0
    assert [lv.name.lower() for lv in levels] == list(batch["level"].astype(str)[:10_000])

    pts = gpd.GeoDataFrame(geometry=shapely.points(np.column_stack([px, py])), crs=EPSG)
    t0 = time.perf_counter()
    joined = gpd.sjoin(pts, hz[["uid", "geometry"]], predicate="dwithin", distance=50.0)
    t_sjoin = time.perf_counter() - t0
    near = set(joined.index.unique())
    ours = set(np.flatnonzero(batch["level"].astype(str).to_numpy() != "no_known_hazard"))
    assert near == ours, "the baseline and SafeGround disagree"

    print(f"Safe-check benchmark: {n:,} hazard polygons, {m:,} points, 200 × 200 km")
    print(f"  index build: {t_build:.1f} s")
    print(
        f"  single check (10,000 points): median {np.median(times_ms):.3f} ms, "
        f"p99 {np.percentile(times_ms, 99):.3f} ms   (target p99 < 1 ms)"
    )
    print(f"  batch check of {m:,} points: {t_batch:.1f} s   (target < 30 s)")
    print(
        f"  baseline GeoPandas sjoin (dwithin 50 m) on the same data: {t_sjoin:.1f} s "
        f"(answers only 'near or not'; SafeGround also gives level, reason and nearest distance)"
    )
    print(f"  points in danger or caution: {len(ours):,} (both methods agree)")


if __name__ == "__main__":
    main()
