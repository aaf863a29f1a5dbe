"""Peak memory of each phase of ``report land-release``, in one process (issue 22: under 400 MB on a national store).

Run:  PYTHONPATH=src .venv/bin/python bench/land_release_phases.py [STORE.gpkg] [--demo demo.gpkg] [--hazards 8000]

Without a store, a national store is built first (``bench/national_store.py``, from ``--demo`` or a generated
demo district) into a temporary folder. The phases are those of
:func:`safeground.reports.land_release_report.land_release_report` and of ``write_report`` around it, called one
after the other as the report calls them, with what each returns kept for the next (as in the report). Before
each phase the process's peak resident memory is reset to what it holds (``/proc/self/clear_refs``, Linux) and
after it ``VmHWM`` is read: a phase's peak is the process's peak while it ran, memory held from earlier phases
included, so the largest phase peak is the whole report's peak. Printed per phase: peak MB, RSS left after it
(after ``release_memory()``, as the report does between phases), CPU seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _status(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS


ROWS: list[tuple[str, float, float, float]] = []


def phase(name: str, fn: Callable[[], Any]) -> Any:
    from safeground.compute import release_memory

    release_memory()
    _reset_peak()
    c = time.process_time()
    out = fn()
    cpu = time.process_time() - c
    peak = _status("VmHWM")
    release_memory()
    ROWS.append((name, peak, _status("VmRSS"), cpu))
    print(f"{name:28}{peak:10.0f}{ROWS[-1][2]:10.0f}{cpu:9.1f}", flush=True)
    return out


def _PROVENANCE_LAYERS() -> list[type]:  # noqa: N802 - the report's list, for code that does not export it
    from safeground import model as m

    return [m.Activity, m.Organisation, m.HazardArea, m.Accident, m.InfrastructureArea, m.InfrastructureLine,
            m.InfrastructurePoint, m.AdminArea, m.FrontLine, m.QMInspection]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", nargs="?", default=None, help="a national store (else one is built)")
    ap.add_argument("--demo", default=None, help="the demo store to build the national store from")
    ap.add_argument("--hazards", type=int, default=8000)
    args = ap.parse_args()
    store_path = args.store
    if store_path is None:
        sys.path.insert(0, str(HERE))
        from national_store import build

        store_path = str(Path(tempfile.mkdtemp(prefix="sg-phases-")) / "national.gpkg")
        print("national store:", build(store_path, args.hazards, args.demo), flush=True)

    print(f"{'phase':28}{'peak MB':>10}{'RSS MB':>10}{'CPU s':>9}")
    ROWS.append(("imports (before)", _status("VmHWM"), _status("VmRSS"), time.process_time()))

    def imports() -> None:
        import safeground.reports.land_release_report
        import safeground.services.reports  # noqa: F401

    phase("imports", imports)
    from safeground.access import Audience
    from safeground.landrelease import accounting as la
    from safeground.landrelease import forecast as lf
    from safeground.landrelease import pipeline as pl
    from safeground.landrelease import priority as lp
    from safeground.reports import land_release_report as lrr
    from safeground.reports.document import Report, provenance, render
    from safeground.reports.evidence_maps import bars, hazard_rank_map, lines
    from safeground.services.reports import risk_per_hazard_area
    from safeground.storage import open_store
    from safeground.storage.base import metric_epsg_if_located

    audience = Audience.PUBLIC
    plan = lrr.PlanningInputs(risk=phase("risk per hazard area", lambda: risk_per_hazard_area(None, store_path)))
    with open_store(store_path, create=False, readonly=True) as s:

        def accounting() -> dict[str, Any]:
            act = la.activities_frame(s)
            monthly = la.by_month(act)
            versions = la.hazard_versions(s)
            as_of = max(versions["date_of_information"])
            now = la.remaining_on(versions, as_of)
            return {
                "act": act,
                "tot": la.totals(act),
                "monthly": monthly,
                "as_of": as_of,
                "open_now": now[now["status"] != "closed"],
                "rem_month": la.remaining_by_month(versions, list(monthly.index)),
                "org": la.by_organisation_and_method(act),
            }

        acc = phase("accounting", accounting)
        factors = phase("impact factors", lambda: lp.impact_factors(s, plan.weights))
        ranking, _ = lp.rank(factors, plan.weights, plan.risk)
        hist = phase("pipeline history", lambda: pl.history_of(s, acc["as_of"]))
        fc = phase(
            "forecast",
            lambda: lf.forecast_from_history(
                hist, list(ranking["uid"]), simulations=plan.simulations, keep_samples=False
            ),
        )
        residual = phase("residual contamination", lambda: lrr._residual_section(s, audience))

        def charts() -> list[str]:
            km = acc["monthly"][la.RELEASE_COLUMNS] / 1e6
            rem = acc["rem_month"][["sha_remaining_m2", "cha_remaining_m2"]] / 1e6
            return [bars(km, "Released per month", "km²"), lines(rem, "Remaining area", "km²")]

        phase("charts", charts)
        epsg = metric_epsg_if_located(s)
        assert epsg is not None
        phase("priority map", lambda: hazard_rank_map(s, ranking, epsg, plan.top, audience))
        layers = getattr(lrr, "PROVENANCE_LAYERS", None) or _PROVENANCE_LAYERS()
        prov = phase("provenance", lambda: provenance(s, layers))

        def whole() -> Report:  # the report as the command makes it, every phase again, for the figure
            return lrr.land_release_report(s, audience, plan=plan)

        rep = phase("whole report (again)", whole)
        assert rep.provenance.content_hash == prov.content_hash
        out = Path(tempfile.mkdtemp(prefix="sg-phases-out-"))
        phase("render HTML", lambda: render(rep, out, pdf=False))
        del fc, residual
    top = max(ROWS[1:], key=lambda r: r[1])
    print(f"highest phase peak: {top[1]:.0f} MB ({top[0]})")


if __name__ == "__main__":
    main()
