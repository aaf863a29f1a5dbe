"""Benchmark: the GeoPackage store and the PostGIS store side by side, on the same data.

Run:  .venv/bin/python bench/bench_stores.py [--size-km 20] [--pg postgresql://postgres@127.0.0.1/safeground_test]

Measures, in this run and for both backends:
* import: writing a whole generated district (every layer, one transaction);
* point check: 1,000 "what is around this point" look-ups (hazard areas whose
  bounding box holds a point), one by one as a field app asks them;
* bounding-box query: 200 reads of all found items in a 1 km window.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import shapely

from safeground.generator.config import DistrictConfig
from safeground.generator.district import build_district, write_district
from safeground.model import EOItem, HazardArea
from safeground.storage import open_store
from safeground.storage.base import Store


def measure(store: Store, district: object, rng_seed: int = 5) -> dict[str, float]:
    t0 = time.perf_counter()
    counts = write_district(district, store)  # type: ignore[arg-type]
    t_import = time.perf_counter() - t0
    size = district.land.size  # type: ignore[attr-defined]
    minx, miny, maxx, maxy = district.to_wgs84(shapely.box(0, 0, size, size)).bounds  # type: ignore[attr-defined]
    rng = np.random.default_rng(rng_seed)
    pts = np.column_stack([rng.uniform(minx, maxx, 1000), rng.uniform(miny, maxy, 1000)])
    t0 = time.perf_counter()
    hits = 0
    for x, y in pts:
        hits += len(list(store.find(HazardArea, bbox=(x, y, x, y))))
    t_point = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = 0
    for x, y in pts[:200]:
        rows += len(store.read_frame(EOItem, bbox=(x - 0.006, y - 0.0045, x + 0.006, y + 0.0045)))
    t_bbox = time.perf_counter() - t0
    return {
        "records": float(sum(counts.values())),
        "import_s": t_import,
        "point_ms": t_point,
        "bbox_ms": t_bbox,
        "hits": float(hits),
        "rows": float(rows),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-km", type=float, default=20.0)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/safeground_test")
    args = ap.parse_args()
    district = build_district(DistrictConfig(seed=2020, size_km=args.size_km))
    results = {}
    with tempfile.TemporaryDirectory() as tmp, open_store(str(Path(tmp) / "bench.gpkg")) as g:
        results["GeoPackage"] = measure(g, district)
    pg = open_store(f"{args.pg}?schema=bench_{uuid.uuid4().hex[:8]}")
    try:
        results["PostGIS"] = measure(pg, district)
    finally:
        pg.drop()  # type: ignore[attr-defined]
        pg.close()
    g, p = results["GeoPackage"], results["PostGIS"]
    assert g["hits"] == p["hits"] and g["rows"] == p["rows"], "the backends disagree"
    print(f"Store benchmark: {args.size_km:g} × {args.size_km:g} km district, {int(g['records']):,} records")
    print(f"{'':34}{'GeoPackage':>14}{'PostGIS':>14}")
    print(f"{'import, all layers (s)':34}{g['import_s']:14.2f}{p['import_s']:14.2f}")
    print(f"{'point check, per look-up (ms)':34}{g['point_ms']:14.3f}{p['point_ms']:14.3f}")
    print(f"{'1 km bbox query, per query (ms)':34}{g['bbox_ms'] * 5:14.2f}{p['bbox_ms'] * 5:14.2f}")
    print(f"(same answers from both: {int(g['hits'])} point hits, {int(g['rows'])} items in the windows)")


if __name__ == "__main__":
    main()
