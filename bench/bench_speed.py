"""Benchmark: where people wait (issue 22): maps accuracy, every report, and a national land release report.

Run:  .venv/bin/python bench/bench_speed.py [--demo demo.gpkg] [--national national.gpkg] [--base 609128e]
      [--only accuracy,national,casualties,land-release,map-accuracy,national-store]

Each figure is measured twice in this run, in processes of their own (so each peak memory is its own):
with this checkout's code, and with the previous implementation, the code of commit ``--base``
(before issue 22's work) taken out of git into a temporary folder, kept callable here only. Printed
per figure: wall time, CPU time (the machine is shared: CPU time is the steadier of the two), peak
resident memory (VmHWM), for both, and the target of the issue.

* ``accuracy``: ``maps accuracy`` on the demo district (assess every record, as the command does);
* ``national``, ``casualties``, ``land-release``, ``map-accuracy``: ``report KIND`` on the demo, HTML and PDF;
* ``national-store``: ``report land-release`` on a national store of 8,000 hazard areas
  (``bench/national_store.py`` builds it from the demo when ``--national`` is not given), HTML only.

The demo district is generated into a temporary GeoPackage unless ``--demo`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import json, resource, sys, time, shutil
from pathlib import Path
what, store, out = sys.argv[1], sys.argv[2], sys.argv[3]
t0, c0 = time.perf_counter(), time.process_time()
k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
if what == "accuracy":
    from safeground.minemaps.accuracy import AccuracyOptions, assess_store, results_table
    from safeground.storage import open_store
    with open_store(store, create=False, readonly=True) as s:
        table = results_table(assess_store(s, AccuracyOptions()))
    figure = table.to_csv(index=False)
else:
    from safeground.services.reports import write_report
    from safeground.access import Audience
    kind = "land-release" if what == "national-store" else what
    shutil.rmtree(out, ignore_errors=True)
    written = write_report(kind, store, Path(out), Audience.PUBLIC, pdf=what != "national-store")
    import hashlib, re
    html = written.html.read_text(encoding="utf-8")
    html = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", html)  # pictures: compared as figures below
    html = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "", html)  # when it was made
    figure = hashlib.sha256(html.encode()).hexdigest()
k1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the batch's worker processes, joined when it ends
wall = time.perf_counter() - t0
cpu = time.process_time() - c0 + (k1.ru_utime - k0.ru_utime) + (k1.ru_stime - k0.ru_stime)
peak = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) / 1024
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak, "workers_peak_mb": k1.ru_maxrss / 1024, "figure": figure}))
"""

TARGETS = {
    "accuracy": "< 10 s",
    "national": "< 10 s",
    "casualties": "< 10 s",
    "land-release": "< 10 s",
    "map-accuracy": "< 10 s",
    "national-store": "< 400 MB",
}
#: figures whose work is split among local processes (``compute.start_local``): also measured in one process
SPLIT = {"accuracy", "national", "map-accuracy"}
ISSUE = {  # what the issue measured, for when the previous code cannot be taken out of git
    "accuracy": "37–47 s",
    "national": "31–65 s",
    "national-store": "31 s, 852 MB",
}


def previous_code(base: str) -> Path | None:
    """The ``src`` folder of commit ``base``, from git, in a temporary folder (None without git)."""
    d = Path(tempfile.mkdtemp(prefix="sg-previous-"))
    tar = d / "src.tar"
    res = subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(tar), base, "src"], capture_output=True)
    if res.returncode != 0:
        print(f"(previous implementation {base} not available from git: {res.stderr.decode().strip()})")
        return None
    with tarfile.open(tar) as t:
        t.extractall(d, filter="data")
    return d / "src"


def run(what: str, store: str, src: Path, processes: str | None = None) -> dict:
    """One figure in a process of its own; ``processes``: SAFEGROUND_PROCESSES for it (None: the default)."""
    out = tempfile.mkdtemp(prefix=f"sg-bench-{what}-")
    env = {**os.environ, "PYTHONPATH": str(src), "SAFEGROUND_STATE_DIR": tempfile.mkdtemp(prefix="sg-state-")}
    env.pop("SAFEGROUND_PROCESSES", None)
    if processes is not None:
        env["SAFEGROUND_PROCESSES"] = processes
    res = subprocess.run([sys.executable, "-c", CHILD, what, store, out + "/r"], capture_output=True, text=True,
                         env=env, timeout=3600)  # fmt: skip
    if res.returncode != 0:
        raise SystemExit(f"{what} failed with {src}:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", default=None)
    ap.add_argument("--national", default=None)
    ap.add_argument("--base", default="609128e", help="the commit whose code is the baseline")
    ap.add_argument("--only", default=",".join(TARGETS))
    args = ap.parse_args()
    only = [w for w in args.only.split(",") if w]
    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-speed-"))
    demo = args.demo
    if demo is None:
        demo = str(tmp / "demo.gpkg")
        t = time.perf_counter()
        from safeground.generator.district import generate
        from safeground.storage import open_store

        with open_store(demo) as s:
            generate(s)
        print(f"demo district generated in {time.perf_counter() - t:.0f} s")
    national = args.national
    if "national-store" in only and national is None:
        sys.path.insert(0, str(HERE))
        from national_store import build

        national = str(tmp / "national.gpkg")
        t = time.perf_counter()
        counts = build(national, 8000, demo)
        print(f"national store built in {time.perf_counter() - t:.0f} s: {counts}")
    previous = previous_code(args.base)
    now = ROOT / "src"
    print(
        "CPU s counts the batch's worker processes too; peak MB is the main process's (+ the largest worker's).\n"
        "'now, 1 process': SAFEGROUND_PROCESSES=1, everything in one process as before session 12."
    )
    print(f"{'':28}{'wall s':>10}{'CPU s':>10}{'peak MB':>16}   target")
    for what in only:
        store = national if what == "national-store" else demo
        assert store is not None
        rows = []
        if previous is not None:
            rows.append((f"previous ({args.base})", run(what, store, previous)))
        else:
            print(f"{what:16}{'the issue measured':>20} {ISSUE.get(what, '—')}")
        if what in SPLIT:
            rows.append(("now, 1 process", run(what, store, now, "1")))
        rows.append(("now", run(what, store, now)))
        for k, (label, r) in enumerate(rows):
            same = ""
            if k:  # each against the row above: the previous code, then the same code in one process
                same = "same figures" if r["figure"] == rows[k - 1][1]["figure"] else "FIGURES DIFFER"
                same += f" as {rows[k - 1][0]}"
            workers = f" + {r['workers_peak_mb']:.0f}" if label == "now" and what in SPLIT else ""
            peak = f"{r['peak_mb']:.0f}{workers}"
            print(f"{what + ',':16}{label:<22}{r['wall']:10.1f}{r['cpu']:10.1f}{peak:>16}   {TARGETS[what]}  {same}")


if __name__ == "__main__":
    main()
