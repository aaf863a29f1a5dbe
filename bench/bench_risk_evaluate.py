"""`risk evaluate` on the demo district: this tree against an earlier commit, in the same run.

Run:  .venv/bin/python bench/bench_risk_evaluate.py [--store demo.gpkg] [--old REV]

The previous implementation is kept callable here only: the source of ``--old`` (a git revision,
by default the commit before the evaluation was sped up) is unpacked to a temporary folder and run
in a subprocess exactly as a user runs the command (``safeground risk evaluate --store … --format
json``), then this tree is run the same way. Printed: wall time of each, and whether the figures are
the same to the printed precision (three decimals; the target of issue 22 is under 60 s with the
same figures). Without ``--store`` the demo is generated first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OLD_COMMIT = "49b53ec"  # the last commit before the speed work (same figures, same features)


def _run(src: Path, store: Path) -> tuple[float, dict]:
    code = "import sys; from safeground.cli import main; sys.argv[0] = 'safeground'; sys.exit(main())"
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", code, "risk", "evaluate", "--store", str(store), "--format", "json"],
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{src}: {res.stderr[-2000:]}")
    return seconds, json.loads(res.stdout)


def printed(d: dict) -> dict:
    """The figures as the table prints them (three decimals), model, baseline and ground truth."""
    out = {}
    for who in ("model", "baseline"):
        for k in ("roc_auc", "pr_auc", "capture_5", "capture_10"):
            v = d[who][k]
            out[f"{who}.{k}"] = None if v is None else f"{v:.3f}"
    for k, v in (d.get("ground_truth") or {}).items():
        if isinstance(v, float):
            out[f"ground_truth.{k}"] = f"{v:.3f}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path)
    ap.add_argument("--old", default=OLD_COMMIT, help="git revision of the previous implementation")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        store = args.store
        if store is None:
            store = t / "demo.gpkg"
            code = "import sys; from safeground.cli import main; sys.argv[0] = 'safeground'; sys.exit(main())"
            subprocess.run(
                [sys.executable, "-c", code, "demo", "--store", str(store)],
                env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
                check=True,
                capture_output=True,
            )
        old = t / "old"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.old, "src"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        s_old, d_old = _run(old / "src", store)
        s_new, d_new = _run(ROOT / "src", store)
    p_old, p_new = printed(d_old), printed(d_new)
    same = p_old == p_new
    print(f"risk evaluate on {store.name} (block CV, 25 m), wall time including start-up:")
    print(f"  previous ({args.old}): {s_old:6.1f} s")
    print(f"  this tree          : {s_new:6.1f} s   ({s_old / s_new:.1f}× faster; target < 60 s)")
    print(f"  figures to the printed precision: {'the same' if same else 'DIFFERENT'}")
    for k in p_new:
        mark = "" if p_old.get(k) == p_new[k] else "   <-- differs"
        print(f"    {k:40s} {p_old.get(k)!s:>7s} {p_new[k]!s:>7s}{mark}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
