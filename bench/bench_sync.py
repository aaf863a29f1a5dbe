"""Benchmark: field sync of a whole district between a GeoPackage and PostGIS.

Run:  .venv/bin/python bench/bench_sync.py [--size-km 10] [--pg postgresql://postgres@127.0.0.1/safeground_test]

Measures, in this run, on one generated district (every layer, hazard areas with history):
* push of the whole field GeoPackage to an empty server schema (new records go in bulk with
  their history), against the baseline of the same push one record at a time
  (``apply_versions`` per record, which is what changed records take);
* a push with nothing to send (the cost of comparing versions);
* pull of the whole district into a new field GeoPackage.
Each run checks both sides hold the same versions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from safeground.generator.config import DistrictConfig
from safeground.generator.district import build_district, write_district
from safeground.model.base import RECORD_TYPES
from safeground.storage import open_store
from safeground.storage.base import Store
from safeground.sync import pull, push


def versions(store: Store) -> dict[str, dict[str, int]]:
    return {layer: store.current_versions(cls) for layer, cls in RECORD_TYPES.items()}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-km", type=float, default=10.0)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/safeground_test")
    args = ap.parse_args()
    district = build_district(DistrictConfig(seed=2020, size_km=args.size_km))
    schemas = [f"{args.pg}?schema=bsync_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with tempfile.TemporaryDirectory() as tmp:
        field = open_store(str(Path(tmp) / "field.gpkg"))
        write_district(district, field)  # type: ignore[arg-type]
        records = sum(len(v) for v in versions(field).values())
        servers = [open_store(u) for u in schemas]
        try:
            report, t_push = timed(lambda: push(field, servers[0]))
            assert versions(servers[0]) == versions(field)
            _, t_noop = timed(lambda: push(field, servers[0]))

            def one_by_one() -> None:
                for cls in RECORD_TYPES.values():
                    uids = sorted(field.current_versions(cls))
                    for chain in field.chains(cls, uids).values():
                        servers[1].apply_versions(chain, expected_version=None)

            _, t_naive = timed(one_by_one)
            assert versions(servers[1]) == versions(field)
            fresh = open_store(str(Path(tmp) / "fresh.gpkg"))
            _, t_pull = timed(lambda: pull(fresh, servers[0]))
            assert versions(fresh) == versions(field)
            fresh.close()
        finally:
            for s in servers:
                s.drop()  # type: ignore[attr-defined]
                s.close()
            field.close()
    print(f"Sync benchmark: {args.size_km:g} × {args.size_km:g} km district, {records:,} records")
    print(f"{'push, whole district (bulk new records)':48}{t_push:8.2f} s")
    print(f"{'  baseline: the same, one record at a time':48}{t_naive:8.2f} s  ({t_naive / t_push:.1f}× slower)")
    print(f"{'push with nothing to send':48}{t_noop:8.2f} s")
    print(f"{'pull, whole district into a new GeoPackage':48}{t_pull:8.2f} s")
    print(f"({report.total:,} records pushed; both sides hold the same versions after each step)")


if __name__ == "__main__":
    main()
