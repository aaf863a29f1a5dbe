"""Benchmark: importing 1,000,000 recorded mine positions from GeoPackage and from CSV.

Run:  .venv/bin/python bench/bench_import.py [--n 1000000]

Compares, in this run and on the same files:
* baseline: plain ``geopandas.read_file`` + ``GeoDataFrame.to_file`` (GeoPackage), which
  checks nothing and holds the whole file in memory;
* SafeGround: ``import_features`` into a new store: every row validated against the
  model, identifiers assigned, references to the minefield records checked, one transaction,
  read in batches of 50,000.

Each case runs in its own process so its peak memory (VmHWM) is its own. SafeGround is
also run on a quarter of the file, to show that its peak memory does not grow with the file.
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

CHILD = r"""
import json, sys, time
case, src, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if case.startswith("baseline"):
    import geopandas as gpd
    t = time.perf_counter()
    kw = {"X_POSSIBLE_NAMES": "lon", "Y_POSSIBLE_NAMES": "lat"} if src.endswith(".csv") else {}
    frame = gpd.read_file(src, **kw)
    if src.endswith(".csv"):
        frame = frame.set_crs(4326, allow_override=True)
    frame.to_file(out, driver="GPKG")
    count = len(frame)
else:
    import shapely
    from datetime import date
    from safeground.intake.features import import_features
    from safeground.model import MinefieldRecord
    from safeground.storage import open_store
    store = open_store(out)
    store.add_many([
        MinefieldRecord(uid=f"MFR-{k:05d}", date_of_information=date(2021, 1, 5), source="handover",
                        date_received=date(2020, 12, 1), geometry=shapely.box(47.0, 39.5, 47.3, 39.8))
        for k in range(1, 51)
    ])
    t = time.perf_counter()
    rep = import_features(store, "eo_items", src, list_limit=0)
    count = rep.counts["create"]
    store.close()
seconds = time.perf_counter() - t
# VmHWM: this process's own peak resident memory (ru_maxrss would include the parent it was forked from)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "count": count, "max_rss_mb": hwm / 1024}))
"""


def make_files(n: int, d: Path) -> tuple[Path, Path]:
    """n recorded mine positions in rows, as a GeoPackage and as a CSV of lon/lat."""
    import geopandas as gpd
    import pandas as pd
    import shapely

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
    gpkg = d / "mines.gpkg"
    gpd.GeoDataFrame(attrs, geometry=shapely.points(lon, lat), crs=4326).to_file(gpkg, driver="GPKG")
    csv = d / "mines.csv"
    attrs.assign(lon=lon, lat=lat).to_csv(csv, index=False)
    return gpkg, csv


def run(case: str, src: Path, out: Path, n: int) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, case, str(src), str(out), str(n)], capture_output=True, text=True
    )
    if res.returncode != 0:
        raise SystemExit(f"{case} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        gpkg, csv = make_files(args.n, d)
        q_gpkg, q_csv = make_files(args.n // 4, d / "quarter") if (d / "quarter").mkdir() is None else (None, None)
        print(f"{args.n:,} mine positions written as GeoPackage and CSV in {time.perf_counter() - t:.1f} s\n")
        rows = []
        for fmt, src, qsrc in (("GeoPackage", gpkg, q_gpkg), ("CSV", csv, q_csv)):
            base = run("baseline", src, d / f"base-{fmt}.gpkg", args.n)
            ours = run("safeground", src, d / f"store-{fmt}.gpkg", args.n)
            quarter = run("safeground", qsrc, d / f"store-q-{fmt}.gpkg", args.n // 4)  # type: ignore[arg-type]
            assert ours["count"] == args.n, ours
            rows.append((fmt, "geopandas read_file + to_file", base))
            rows.append((fmt, "safeground import (validated)", ours))
            rows.append((fmt, f"safeground import, {args.n // 4:,} rows", quarter))
        print(f"{'from':<11} {'method':<34} {'records':>10} {'seconds':>8} {'records/s':>11} {'peak MB':>8}")
        for fmt, name, r in rows:
            print(
                f"{fmt:<11} {name:<34} {int(r['count']):>10,} {r['seconds']:>8.2f} "
                f"{r['count'] / r['seconds']:>11,.0f} {r['max_rss_mb']:>8.0f}"
            )
        for fmt in ("GeoPackage", "CSV"):
            b = next(r for f, n, r in rows if f == fmt and n.startswith("geopandas"))
            o = next(r for f, n, r in rows if f == fmt and n.startswith("safeground import (validated)"))
            print(f"{fmt}: SafeGround {b['seconds'] / o['seconds']:.2f}× the baseline's speed, "
                  f"{o['max_rss_mb'] / b['max_rss_mb']:.2f}× its peak memory")  # fmt: skip


if __name__ == "__main__":
    main()
