"""How often is a grade-B correction within 10 m and 1.5° of what the demo generator applied? Per seed.

Run:  .venv/bin/python scripts/map_accuracy_seeds.py 2020 7 2021 11 42 99 5 123 --dir /tmp/seeds --json after.json
      .venv/bin/python scripts/map_accuracy_seeds.py ... --json after.json --compare before.json
      .venv/bin/python scripts/map_accuracy_seeds.py 2020 7 2021 11 42 99 5 123 --dir /tmp/seeds --evidence

Generates each seed's demo district (default size) into ``--dir`` unless it is already there, assesses
every record (``assess_store``) and compares the estimated correction of each record graded B with the
shift and rotation the generator applied (``generator.record_errors``), the way the demo test does.
To measure another version of the code (e.g. before a change), run this script with that version's
``src`` first on ``PYTHONPATH`` (``git archive <commit> src | tar -x -C /tmp/old``).

With ``--evidence`` it also saves the assessments into a copy of each seed's store (``seedN-evidence.gpkg``)
and prints the decision quality of what ``maps evidence`` proposes there against the ground truth
(``minemaps.evidence_quality.evidence_decision_quality``): confirmations and new SHAs with a true mine
inside, cancellations and reductions over a true uncleared mine, proposals without a reason.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from pyproj import Transformer

from safeground.generator.records import correction_error as applied_error
from safeground.minemaps.accuracy import AccuracyOptions, RecordResult, assess_store, save_results
from safeground.storage import open_store

SHIFT_TOL_M = 10.0
ROTATION_TOL_DEG = 1.5


def correction_error(r: RecordResult, e: dict, tr: Transformer) -> tuple[float, float]:
    """Distance (m, at the record's centre) and angle (°) between the estimated and the applied correction."""
    t = r.alignment.transform
    return applied_error(t.shift, t.rotation_deg, t.center, e, tr)


def assess_seed(path: Path) -> tuple[dict[str, dict], list[RecordResult]]:
    with open_store(str(path), readonly=True) as s:
        errors = json.loads(s.get_meta("generator.record_errors"))
        tr = Transformer.from_crs(4326, int(s.get_meta("metric_epsg")), always_xy=True)
        results = assess_store(s)
    out = {}
    for r in results:
        shift_err = rot_err = None
        if r.alignment is not None:
            shift_err, rot_err = correction_error(r, errors[r.uid], tr)
        ok = shift_err is not None and shift_err <= SHIFT_TOL_M and rot_err <= ROTATION_TOL_DEG
        out[r.uid] = {
            "grade": r.grade,
            "error_class": errors[r.uid]["error_class"],
            "shift_err_m": shift_err,
            "rotation_err_deg": rot_err,
            "within": ok,
            "reason": r.grade_reason,
        }
    return out, results


def evidence_quality(path: Path, results: list[RecordResult]) -> str:
    """Save the assessments into a copy of the seed's store and score what ``maps evidence`` proposes."""
    from safeground.minemaps.evidence_quality import evidence_decision_quality

    copy = path.with_name(f"{path.stem}-evidence.gpkg")
    shutil.copyfile(path, copy)
    with open_store(str(copy)) as s:
        save_results(s, results, AccuracyOptions(), entered_by="scripts/map_accuracy_seeds.py")
        return evidence_decision_quality(s).line()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("seeds", type=int, nargs="+")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/safeground-seeds"))
    ap.add_argument("--json", type=Path, help="write the per-record results here")
    ap.add_argument("--compare", type=Path, help="per-record results of another run (e.g. before a change)")
    ap.add_argument("--evidence", action="store_true", help="also score the proposals of maps evidence")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    from safeground.generator.config import DistrictConfig
    from safeground.generator.district import generate

    before = json.loads(args.compare.read_text()) if args.compare else {}
    runs: dict[str, dict] = {}
    for seed in args.seeds:
        path = args.dir / f"seed{seed}.gpkg"
        if not path.exists():
            with open_store(str(path)) as s:
                generate(s, DistrictConfig(seed=seed))
        rows, results = assess_seed(path)
        runs[str(seed)] = rows
        grades = "/".join(str(sum(v["grade"] == g for v in rows.values())) for g in "ABCU")
        b = [k for k, v in rows.items() if v["grade"] == "B"]
        line = f"seed {seed}: A/B/C/U {grades}; B within 10 m and 1.5°: {sum(rows[k]['within'] for k in b)} of {len(b)}"
        misses = [k for k in b if not rows[k]["within"]]
        if misses:
            line += "; outside: " + ", ".join(
                f"{k} ({rows[k]['shift_err_m']:.1f} m, {rows[k]['rotation_err_deg']:.2f}°)" for k in misses
            )
        if str(seed) in before:
            old = before[str(seed)]
            lost = [k for k, v in old.items() if v["grade"] == "B" and v["within"] and rows[k]["grade"] != "B"]
            gained = [k for k in b if old[k]["grade"] != "B"]
            line += f"; lost B although within: {len(lost)} {lost}; gained B: {len(gained)} {gained}"
        print(line, flush=True)
        if args.evidence:
            print(f"seed {seed} evidence: {evidence_quality(path, results)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
