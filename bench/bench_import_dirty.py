"""Benchmark: importing dirty real-world files, next to clean files of the same size (same run).

Run:  .venv/bin/python bench/bench_import_dirty.py [--polygons 10000] [--points 1000000]

Two data sets, each written twice as a GeoPackage, clean and dirty:

* hazard polygons (10,000): clean: every field given; dirty, as a national hazard map
  vectorised from paper: a third without geometry, 1 % empty geometry, 3 % self-intersecting,
  0.5 % exact duplicates, no areas (measured from the polygons) and no dates (a mapping's
  constants), imported with ``--skip-invalid --repair --quarantine``;
* recorded mine positions (1,000,000 points, as in ``bench_import.py``): dirty: 5 % without
  geometry, 1 % empty, 0.5 % exact duplicates, 1 % with a term not in the vocabulary,
  imported with ``--skip-invalid --quarantine``.

Each case runs in its own process so its peak memory (VmHWM) is its own. The dirty
imports include keeping the rows left out and writing the quarantine GeoPackage.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

CHILD = r"""
import json, sys, time
from datetime import date
from pathlib import Path
layer, src, out, dirty = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "dirty"
import shapely
from safeground.intake.features import import_features
from safeground.intake.mapping import FieldMapping
from safeground.model import MinefieldRecord
from safeground.storage import open_store
store = open_store(out)
if layer == "eo_items":
    store.add_many([
        MinefieldRecord(uid=f"MFR-{k:05d}", date_of_information=date(2021, 1, 5), source="handover",
                        date_received=date(2020, 12, 1), geometry=shapely.box(47.0, 39.5, 47.3, 39.8))
        for k in range(1, 51)
    ])
mapping = None
if dirty and layer == "hazard_areas":
    mapping = FieldMapping(name="m", layer=layer, columns={"type": "contamination"},
                           values={"contamination": {"AP": "antipersonnel_mines", "AT": "antivehicle_mines"}},
                           constants={"classification": "suspected_hazardous_area",
                                      "date_of_information": "2024-05-01"})
t = time.perf_counter()
rep = import_features(store, layer, src, list_limit=0, mapping=mapping, repair=dirty,
                      skip_invalid=dirty, quarantine=dirty)
if dirty:
    rep.left_out.write(Path(out).with_name(Path(out).stem + "-quarantine.gpkg"), layer, None)
seconds = time.perf_counter() - t
store.close()
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "count": rep.counts["create"], "left_out": rep.left_out.items,
                  "kinds": dict(rep.left_out.kinds), "max_rss_mb": hwm / 1024}))
"""


def _polygons(rng: np.random.Generator, n: int) -> np.ndarray:
    lon = 44.8 + rng.random(n) * 5.6  # across UTM zones 38 and 39
    lat = 38.4 + rng.random(n) * 3.5
    d = 0.001 + rng.random(n) * 0.003
    return shapely.box(lon, lat, lon + d, lat + d * 0.8)


def make_polygons(n: int, d: Path) -> tuple[Path, Path]:
    import geopandas as gpd
    import pandas as pd

    from safeground.geometry.projection import area_m2

    rng = np.random.default_rng(14)
    geoms = _polygons(rng, n)
    kind = rng.choice(["AP", "AT"], n)
    clean = gpd.GeoDataFrame(
        {
            "date_of_information": "2024-05-01",
            "classification": "suspected_hazardous_area",
            "contamination": np.where(kind == "AP", "antipersonnel_mines", "antivehicle_mines"),
            "estimated_area_m2": [round(area_m2(g), 1) for g in geoms],
        },
        geometry=geoms,
        crs=4326,
    )
    clean["remaining_area_m2"] = clean["estimated_area_m2"]
    clean_path = d / "hazards-clean.gpkg"
    clean.to_file(clean_path, driver="GPKG")

    dirty_geoms = geoms.copy()
    k = np.arange(n)
    bow = k % 33 == 1
    b = shapely.bounds(dirty_geoms[bow])
    dirty_geoms[bow] = [
        shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)]) for x0, y0, x1, y1 in b
    ]  # self-intersecting
    dirty_geoms[k % 100 == 7] = shapely.Polygon()  # empty
    dirty_geoms[k % 3 == 2] = None  # never vectorised
    dirty = gpd.GeoDataFrame({"hazard_no": [f"SHA/{i:05d}" for i in k], "type": kind}, geometry=dirty_geoms, crs=4326)
    dup = dirty[(k % 200 == 0) & dirty.geometry.notna() & ~dirty.geometry.is_empty]
    dirty = pd.concat([dirty.iloc[: n - len(dup)], dup], ignore_index=True)  # as many rows as the clean file
    dirty_path = d / "hazards-dirty.gpkg"
    gpd.GeoDataFrame(dirty, geometry="geometry", crs=4326).to_file(dirty_path, driver="GPKG")
    return clean_path, dirty_path


def make_points(n: int, d: Path) -> tuple[Path, Path]:
    import geopandas as gpd
    import pandas as pd

    rng = np.random.default_rng(2020)
    lon = np.round(47.0 + rng.random(n) * 0.3, 7)
    lat = np.round(39.5 + rng.random(n) * 0.3, 7)
    attrs = pd.DataFrame(
        {
            "date_of_information": "2021-01-05",
            "status": "recorded",
            "eo_type": rng.choice(["ap_blast", "ap_fragmentation", "av"], n),
            "eo_model": rng.choice(["PMN-2", "OZM-72", "TM-62M"], n),
            "minefield_record_uid": [f"MFR-{k:05d}" for k in rng.integers(1, 51, n)],
            "row_label": rng.choice(list("ABCDEFGH"), n),
        }
    )
    geoms = shapely.points(lon, lat)
    clean_path = d / "mines-clean.gpkg"
    gpd.GeoDataFrame(attrs, geometry=geoms, crs=4326).to_file(clean_path, driver="GPKG")
    k = np.arange(n)
    dirty_geoms = geoms.copy()
    dirty_geoms[k % 20 == 3] = None
    dirty_geoms[k % 100 == 11] = shapely.Point()
    dirty = attrs.copy()
    dirty.loc[k % 100 == 17, "eo_type"] = "XX"  # a term of its own, not in the vocabulary
    frame = gpd.GeoDataFrame(dirty, geometry=dirty_geoms, crs=4326)
    dup = frame[(k % 200 == 0) & (k % 20 != 3) & (k % 100 != 11) & (k % 100 != 17)]  # 0.5 % entered twice
    frame = pd.concat([frame.iloc[: n - len(dup)], dup], ignore_index=True)  # as many rows as the clean file
    dirty_path = d / "mines-dirty.gpkg"
    gpd.GeoDataFrame(frame, geometry="geometry", crs=4326).to_file(dirty_path, driver="GPKG")
    return clean_path, dirty_path


def run(layer: str, src: Path, out: Path, kind: str) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, layer, str(src), str(out), kind], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{layer} {kind} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--polygons", type=int, default=10_000)
    ap.add_argument("--points", type=int, default=1_000_000)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for label, layer, make, n in (
            ("hazard polygons", "hazard_areas", make_polygons, args.polygons),
            ("mine points", "eo_items", make_points, args.points),
        ):
            if n <= 0:
                continue
            t = time.perf_counter()
            clean, dirty = make(n, d)
            print(f"{n:,} {label} written clean and dirty in {time.perf_counter() - t:.1f} s", flush=True)
            for kind, src in (("clean", clean), ("dirty", dirty)):
                r = run(layer, src, d / f"store-{layer}-{kind}.gpkg", kind)
                rows.append((label, kind, n, r))
                print(f"  {kind}: {json.dumps(r)}", flush=True)
    print()
    print(f"{'data':<16} {'file':<6} {'rows':>10} {'imported':>10} {'left out':>9} {'seconds':>8} "
          f"{'rows/s':>9} {'peak MB':>8}")  # fmt: skip
    for label, kind, n, r in rows:
        print(
            f"{label:<16} {kind:<6} {n:>10,} {int(r['count']):>10,} {int(r['left_out']):>9,} {r['seconds']:>8.2f} "
            f"{n / r['seconds']:>9,.0f} {r['max_rss_mb']:>8.0f}"
        )
    for label in dict.fromkeys(lbl for lbl, *_ in rows):
        c = next(r for lbl, k, _, r in rows if lbl == label and k == "clean")
        x = next(r for lbl, k, _, r in rows if lbl == label and k == "dirty")
        print(
            f"{label}: dirty file {x['seconds'] / c['seconds']:.2f}× the clean file's time, "
            f"{x['max_rss_mb'] / c['max_rss_mb']:.2f}× its peak memory; left out: {x['kinds']}"
        )


if __name__ == "__main__":
    main()
