"""Benchmark: evidence report generation time on the demo district.

Run:  .venv/bin/python bench/bench_reports.py [--store demo.gpkg] [--repeat 1]

Generates the demo district into a temporary GeoPackage unless ``--store`` is
given, then times, in this run: each report (computing its figures, rendering
HTML, rendering PDF), the HDX export, and two baselines on the same store:
reading every layer the reports use into memory (the floor set by I/O), the
existing district summary (``safeground summary``'s computation) and assessing
every minefield record (``safeground maps accuracy``), which the map-accuracy and
national reports include.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from safeground.generator.district import generate
from safeground.minemaps.accuracy import assess_store
from safeground.model import RECORD_TYPES
from safeground.reports.accuracy_report import accuracy_report
from safeground.reports.casualty_report import casualty_report
from safeground.reports.document import Audience, Report, render
from safeground.reports.hdx import export_hdx
from safeground.reports.land_release_report import land_release_report
from safeground.reports.national_report import national_report
from safeground.reports.summary import summarise
from safeground.storage import open_store
from safeground.storage.base import Store


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default=None)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-reports-"))
    location = args.store
    if location is None:
        location = str(tmp / "demo.gpkg")
        t = time.perf_counter()
        with open_store(location) as s:
            generate(s)
        print(f"demo district generated in {time.perf_counter() - t:.1f} s")
    s: Store = open_store(location, create=False, readonly=True)
    used = [
        "accidents", "victims", "front_lines", "admin_areas", "hazard_areas", "infrastructure_areas",
        "infrastructure_lines", "infrastructure_points", "activities", "organisations", "minefield_records",
        "eo_items",
    ]  # fmt: skip
    t_read, _ = timed(lambda: [s.read_frame(RECORD_TYPES[name]) for name in used], args.repeat)
    t_summary, _ = timed(lambda: summarise(s), args.repeat)
    t_assess, _ = timed(lambda: assess_store(s), args.repeat)
    print(f"baseline: read the {len(used)} layers the reports use   {t_read:6.2f} s")
    print(f"baseline: district summary (safeground summary)       {t_summary:6.2f} s")
    print(f"baseline: assess every record (maps accuracy)         {t_assess:6.2f} s")
    print(f"{'report':<28}{'figures':>9}{'HTML':>8}{'PDF':>8}{'total':>8}{'× read':>8}")
    builders: dict[str, Callable[[Audience], Report]] = {
        "casualties": lambda a: casualty_report(s, a),
        "land-release": lambda a: land_release_report(s, a),
        "map-accuracy": lambda a: accuracy_report(s, a),
        "national": lambda a: national_report(s, a),
    }
    for name, build in builders.items():
        for aud in (Audience.PUBLIC, Audience.RESTRICTED) if name == "casualties" else (Audience.PUBLIC,):
            t_fig, rep = timed(lambda b=build, a=aud: b(a), args.repeat)
            t_html, _ = timed(lambda r=rep: render(r, tmp, pdf=False), args.repeat)  # type: ignore[arg-type]
            t_all, _ = timed(lambda r=rep: render(r, tmp, pdf=True), args.repeat)  # type: ignore[arg-type]
            total = t_fig + t_all
            print(
                f"{name + ' (' + aud.value + ')':<28}{t_fig:8.2f}s{t_html:7.2f}s{t_all - t_html:7.2f}s"
                f"{total:7.2f}s{total / t_read:7.1f}×"
            )
    t_hdx, _ = timed(lambda: export_hdx(s, tmp / "hdx"), args.repeat)
    print(f"{'HDX export (public)':<28}{t_hdx:8.2f}s{'':>24}{t_hdx / t_read:7.1f}×")
    s.close()
    print(f"outputs in {tmp}")


if __name__ == "__main__":
    main()
