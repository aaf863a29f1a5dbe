"""Real data: predict where mine accidents happened in Colombia in 2013–2019 from what was known by 2012.

Run:  .venv/bin/python bench/bench_risk_colombia.py [--events ../shared/data/colombia-mine-events/events.csv]

The same as ``safeground risk evaluate --events … --target 'event_type in 1,2' --method temporal
--cut 2012-12-31 --cell 1000 --block-column department``, for both models, printed next to the
window-count baseline of the data's README (earlier events within 5 km of each 1 km cell),
measured in the same run on the same cells. Two domains: every cell of the region's grid, and
only cells within 25 km of an earlier event (the ground where the question is hard).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from safeground.risk.layers import from_files
from safeground.risk.pipeline import RiskSettings, evaluate_temporal

HERE = Path(__file__).resolve().parent
COLOMBIA = (-82.0, -5.0, -66.0, 14.0)
DEFAULT = HERE.parent.parent / "shared" / "data" / "colombia-mine-events" / "events.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=Path, default=DEFAULT)
    ap.add_argument("--cell", type=float, default=1000.0)
    ap.add_argument("--cut", default="2012-12-31")
    ap.add_argument("--models", default="lightgbm,logistic")
    ap.add_argument("--json", type=Path, help="also write all results here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    # one record has a flipped longitude sign (74.23 E for Bogotá): the region keeps Colombia only
    data = from_files(
        args.events, "event_type in 1,2", type_column="event_type", block_column="department", region=COLOMBIA
    )
    n_events = next(len(la) for la in data.layers if la.name == "event:all")
    print(f"{len(data.targets):,} accidents (types 1, 2) among {n_events:,} events")
    rows = []
    for domain in (None, 25_000.0):
        for name in args.models.split(","):
            t = time.perf_counter()
            ev = evaluate_temporal(data, RiskSettings(cell_m=args.cell, model=name, domain_buffer_m=domain), args.cut)
            d = ev.as_dict()
            d["seconds"] = round(time.perf_counter() - t, 1)
            rows.append(d)
            label = "every cell" if domain is None else "within 25 km of earlier events"
            print(
                f"\n[{label}] {name}: {d['seconds']} s, test {d['test_labels']}, {ev.model.cells:,} cells, "
                f"{ev.model.positive_cells:,} with accidents"
            )
            for who, s in ((name, ev.model), ("window baseline", ev.baseline)):
                print(
                    f"  {who:18s} ROC-AUC {s.roc_auc:.3f}  PR-AUC {s.pr_auc:.3f}  "
                    f"capture top 5 % {s.capture_5:.3f}  top 10 % {s.capture_10:.3f}"
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ntotal {time.perf_counter() - t0:.0f} s, peak memory {peak:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
