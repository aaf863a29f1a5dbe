"""Importing and re-importing KoboToolbox submissions (accident reports with victims and names).

    .venv/bin/python bench/bench_form_submissions.py [N] [--pg postgresql://…]

Builds N submissions from the sample in tests/data/forms (each: one accident, two
victims, one restricted identity), imports them into a new GeoPackage (and PostGIS
when reachable), then imports the same export again. The re-import reads the
stored records in one pass over each layer; the baseline measured in the same run
reads them one by one with ``store.get`` (one round trip each on a server).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from safeground.intake.form_exports import form_definition, read_exports
from safeground.intake.form_records import to_records
from safeground.intake.submissions import plan
from safeground.model.base import Record
from safeground.model.same import same_record
from safeground.storage import open_store
from safeground.storage.base import Store

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "forms" / "accident_kobo.json"


def export(n: int, path: Path) -> Path:
    rnd = random.Random(1)
    base = json.loads(SAMPLE.read_text())["results"][0]
    out = []
    for _ in range(n):
        s = json.loads(json.dumps(base))
        u = str(uuid.UUID(int=rnd.getrandbits(128)))
        s["_uuid"], s["meta/instanceID"] = u, f"uuid:{u}"
        s["accident/location"] = f"{39.5 + rnd.random() * 0.3:.6f} {47.0 + rnd.random() * 0.3:.6f} 300 5"
        out.append(s)
    path.write_text(json.dumps({"count": n, "results": out}))
    return path


def naive_plan(store: Store, records: list[Record]) -> int:
    """The baseline: one ``get`` per stored record."""
    same = 0
    for rec in records:
        if store.existing_uids(type(rec), [rec.uid]):
            same += same_record(store.get(type(rec), rec.uid), rec)
    return same


def run(label: str, store: Store, path: Path) -> None:
    from safeground.intake.commit import commit

    t = time.perf_counter()
    records = to_records("accident_report", read_exports(form_definition("accident_report"), [path]))
    parse = time.perf_counter() - t
    t = time.perf_counter()
    commit(store, plan(store, records))
    first = time.perf_counter() - t
    t = time.perf_counter()
    again = plan(store, records)
    replan = time.perf_counter() - t
    t = time.perf_counter()
    same = naive_plan(store, records)
    naive = time.perf_counter() - t
    assert len(again.unchanged) == same == len(records) and not again.create
    n = len(records)
    print(
        f"{label:<9} {n} records: parse+check {parse:5.2f} s ({n / parse:7.0f}/s), store {first:5.2f} s "
        f"({n / first:6.0f}/s); re-import check {replan:5.2f} s vs one-by-one baseline {naive:5.2f} s"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2000
    pg = sys.argv[sys.argv.index("--pg") + 1] if "--pg" in sys.argv else None
    with tempfile.TemporaryDirectory() as d:
        path = export(n, Path(d) / "export.json")
        print(f"{n} Kobo submissions (JSON, {path.stat().st_size / 1e6:.1f} MB)")
        with open_store(str(Path(d) / "bench.gpkg")) as s:
            run("GeoPackage", s, path)
        if pg:
            with open_store(f"{pg}?schema=bench_forms_{uuid.uuid4().hex[:8]}") as s:
                try:
                    run("PostGIS", s, path)
                finally:
                    s.drop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
