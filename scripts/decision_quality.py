"""Are the answers people act on right? Every decision-quality figure against the demo's ground truth, per seed.

Run:  .venv/bin/python scripts/decision_quality.py 2020 7 2021 11 42 99 5 123 --dir /tmp/safeground-seeds

For each seed it generates the demo district (default size) into ``--dir`` unless it is already there,
and prints, against the district's ground truth (``ground_truth_items``, which knows every mine):

* reclassification (``maps evidence`` after ``maps accuracy --save``): proposals to confirm an SHA, or to
  open a new one, with a true mine inside; cancellations and reductions over a true uncleared mine
  (``minemaps.evidence_quality``);
* safe routes over every named trip (entry checkpoint to each settlement and cemetery, settlement to its
  cemeteries): routes that come within an open hazard's buffer, routes with a true uncleared mine within
  a found item's buffer, and the share of trips with a safe route (``routing.quality``);
* the completion forecast backtest: forecast from the first half of the operations, and whether the area
  really released by the end lies inside P10–P90 (``landrelease.backtest``).

A table at the end gives the totals over the seeds.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from safeground.generator.config import DistrictConfig
from safeground.generator.district import generate
from safeground.landrelease.backtest import backtest
from safeground.minemaps.accuracy import AccuracyOptions, assess_store, save_results
from safeground.minemaps.evidence_quality import evidence_decision_quality
from safeground.routing.quality import check_routes, route_figures
from safeground.storage import open_store


def seed_store(directory: Path, seed: int) -> Path:
    path = directory / f"seed{seed}.gpkg"
    if not path.exists():
        with open_store(str(path)) as s:
            generate(s, DistrictConfig(seed=seed))
    return path


def assessed_copy(path: Path) -> Path:
    """A copy of the seed's store with every record assessed and saved, as ``maps accuracy --save`` does."""
    copy = path.with_name(f"{path.stem}-assessed.gpkg")
    if not copy.exists():
        with open_store(str(path), readonly=True) as s:
            results = assess_store(s)
        shutil.copyfile(path, copy)
        with open_store(str(copy)) as s:
            save_results(s, results, AccuracyOptions(), entered_by="scripts/decision_quality.py")
    return copy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("seeds", type=int, nargs="+")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/safeground-seeds"))
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    total = {"confirm": [0, 0], "release": [0, 0], "routes": [0, 0, 0, 0], "places": [0, 0], "forecast": [0, 0]}
    for seed in args.seeds:
        t0 = time.perf_counter()
        path = seed_store(args.dir, seed)
        with open_store(str(assessed_copy(path)), readonly=True) as s:
            ev = evidence_decision_quality(s)
        with open_store(str(path), readonly=True) as s:
            rf = route_figures(check_routes(s))
            fc = backtest(s)
        total["confirm"][0] += ev.confirmations_with_true_mine + ev.new_shas_with_true_mine
        total["confirm"][1] += ev.confirmations + ev.new_shas
        total["release"][0] += ev.releases_over_true_mine
        total["release"][1] += ev.releases
        total["routes"][0] += int(rf["safe_routes"])
        total["routes"][1] += int(rf["pairs"])
        total["routes"][2] += int(rf["routes_within_hazard_buffer"])
        total["routes"][3] += int(rf["routes_with_true_mine_within_buffer"])
        total["forecast"][0] += int(fc.inside)
        total["forecast"][1] += 1
        print(f"seed {seed} ({time.perf_counter() - t0:.0f} s)", flush=True)
        print(f"  reclassification: {ev.line()}")
        total["places"][0] += int(rf["places_reachable_from_an_entry"])
        total["places"][1] += int(rf["places"])
        print(
            f"  named places (settlements, cemeteries) reachable by a safe route from an entry checkpoint: "
            f"{rf['places_reachable_from_an_entry']} of {rf['places']}"
        )
        print(
            f"  safe routes: {rf['safe_routes']} of {rf['pairs']} named trips ({rf['reachable_share']:.0%}); "
            f"within an open hazard's buffer {rf['routes_within_hazard_buffer']}; "
            f"with a true uncleared mine within the buffer {rf['routes_with_true_mine_within_buffer']}"
        )
        print(f"  forecast backtest: {fc.line()}", flush=True)
    c, r, ro, f = total["confirm"], total["release"], total["routes"], total["forecast"]
    print("\nover all seeds:")
    print(f"  confirmations and new SHAs with a true mine inside: {c[0]} of {c[1]}")
    print(f"  cancellations and reductions over a true uncleared mine: {r[0]} of {r[1]}")
    pl = total["places"]
    print(f"  named places reachable by a safe route from an entry checkpoint: {pl[0]} of {pl[1]}")
    print(f"  named trips with a safe route: {ro[0]} of {ro[1]} ({ro[0] / max(ro[1], 1):.0%})")
    print(f"  safe routes within an open hazard's buffer: {ro[2]}")
    print(f"  safe routes with a true uncleared mine within the buffer: {ro[3]}")
    print(f"  forecast backtests with the released area inside P10–P90: {f[0]} of {f[1]}")


if __name__ == "__main__":
    main()
