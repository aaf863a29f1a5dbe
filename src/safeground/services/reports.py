"""Evidence reports, the HDX export and clearance planning as an application.

Each function is one product a user asks for, start to finish: the report of a kind for an
``Audience`` (HTML and PDF with provenance), the HDX set for an audience, hazard areas ranked by
impact, the completion forecast and its backtest. The content is made by :mod:`safeground.reports`
and :mod:`safeground.landrelease`; what is shown to whom is the ``Audience``'s policy there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from safeground.access import Audience
from safeground.compute import imports_out_of_collections
from safeground.errors import ParamStyle, SafeGroundError, as_query
from safeground.outputs import guard_output, staged_file, staged_folder
from safeground.risk.keys import LATEST_META

if TYPE_CHECKING:
    import pandas as pd

    from safeground.landrelease.backtest import Backtest
    from safeground.landrelease.forecast import Forecast, Productivity
    from safeground.reports.document import Report

REPORT_KINDS = ("national", "casualties", "land-release", "map-accuracy", "assistance", "missing")


def risk_per_hazard_area(path: Path | None, store: str | None = None) -> pd.Series | None:
    """Mean predicted risk per hazard uid from a CSV with columns uid,risk, or else from the store's current
    risk map (the one ``predict_map(save=True)`` registered); None when there is neither."""
    if path is None:
        if store is None:
            return None
        from safeground.storage import open_store

        with open_store(store, create=False, readonly=True) as s:
            if not s.get_meta(LATEST_META):
                return None  # no risk map: the raster library (some 30 MB of a report's memory) is not loaded
            from safeground.risk.output import risk_per_hazard

            return risk_per_hazard(s)
    import pandas as pd

    from safeground.errors import InvalidInput, Problem

    df = pd.read_csv(path)
    missing = [c for c in ("uid", "risk") if c not in df.columns]
    if missing:
        raise InvalidInput([Problem(str(path), "header", c, "column missing", list(df.columns)) for c in missing])
    bad = df[pd.to_numeric(df["risk"], errors="coerce").isna()]
    if len(bad):
        raise InvalidInput(
            [Problem(str(path), f"row {i + 2}", "risk", "not a number", v) for i, v in bad["risk"].items()]
        )
    return df.set_index("uid")["risk"].astype(float)


@dataclass(frozen=True)
class ReportWritten:
    html: Path
    pdf: Path | None
    content_hash: str  # the provenance hash of the data the report was made from
    seconds: float


def write_report(
    kind: str,
    store: str,
    out: Path,
    audience: Audience = Audience.PUBLIC,
    *,
    start: date | None = None,
    end: date | None = None,
    area: str | None = None,
    weights: Path | None = None,
    risk: Path | None = None,
    teams: dict[str, int] | None = None,
    productivity: dict[str, Productivity] | None = None,
    simulations: int = 1000,
    pdf: bool = True,
    overwrite: bool = False,
    param_style: ParamStyle = as_query,
) -> ReportWritten:
    """The evidence report of ``kind`` (one of :data:`REPORT_KINDS`) for ``audience``, as HTML (and PDF) in ``out``.

    ``start``/``end`` bound the period; ``area`` is the admin area of a casualty report; ``weights``,
    ``risk``, ``teams``, ``productivity`` and ``simulations`` are the planning inputs of the national
    and land-release reports (``risk`` defaults to the store's current risk map).
    """
    from safeground.casualties.statistics import Selection
    from safeground.landrelease.priority import load_weights
    from safeground.reports.document import render
    from safeground.reports.land_release_report import PlanningInputs
    from safeground.storage import open_store

    if kind not in REPORT_KINDS:
        raise SafeGroundError(f"unknown report {kind!r}", hint=f"use one of: {', '.join(REPORT_KINDS)}")
    guard_output(out, overwrite=overwrite, store_location=store, folder=True)
    t0 = time.perf_counter()
    plan = PlanningInputs(
        weights=load_weights(weights),
        risk=risk_per_hazard_area(risk, store),
        teams=teams,
        productivity=productivity,
        simulations=simulations,
        param_style=param_style,  # how a report names a setting it could not use: --teams, or teams=
    )
    with open_store(store, create=False, readonly=True) as s:
        make: Callable[[], Report]
        if kind == "casualties":
            from safeground.reports.casualty_report import casualty_report

            make = partial(casualty_report, s, audience, Selection(start=start, end=end, admin_area=area))
        elif kind == "land-release":
            from safeground.reports.land_release_report import land_release_report

            make = partial(land_release_report, s, audience, start=start, end=end, plan=plan)
        elif kind == "assistance":
            from safeground.reports.assistance_report import assistance_report

            make = partial(assistance_report, s, audience, Selection(start=start, end=end, admin_area=area))
        elif kind == "missing":
            from safeground.reports.missing_report import missing_report

            make = partial(missing_report, s, audience)
        elif kind == "map-accuracy":
            from safeground.minemaps.accuracy import AccuracyOptions
            from safeground.reports.accuracy_report import accuracy_report

            make = partial(accuracy_report, s, audience, AccuracyOptions(as_of=end))
        else:
            from safeground.reports.national_report import national_report

            make = partial(national_report, s, audience, start=start, end=end, plan=plan)
        # made with everything imported so far (the report's own modules too) out of the collector's walks
        with imports_out_of_collections():
            rep = make()
        with staged_folder(out, overwrite=overwrite, store_location=store) as stage:
            html, pdf_path = render(rep, stage, pdf=pdf)
    return ReportWritten(
        out / html.name,
        out / pdf_path.name if pdf_path else None,
        rep.provenance.content_hash,
        time.perf_counter() - t0,
    )


def write_hdx(store: str, out: Path, audience: Audience = Audience.PUBLIC, *, overwrite: bool = False) -> list[Path]:
    """The CSV files with HXL hashtags for the Humanitarian Data Exchange, for ``audience``, written into ``out``."""
    from safeground.reports.hdx import export_hdx as run
    from safeground.storage import open_store

    with (
        open_store(store, create=False, readonly=True) as s,
        staged_folder(out, overwrite=overwrite, store_location=store) as stage,
    ):
        written = run(s, stage, audience)
    return [out / p.name for p in written]


@dataclass(frozen=True)
class Priorities:
    ranking: pd.DataFrame  # open hazard areas by impact, with each factor's contribution (c_ columns)
    note: str  # what the ranking rests on


def hazard_priorities(store: str, weights: Path | None = None, risk: Path | None = None) -> Priorities:
    """Open hazard areas ranked by impact; ``risk`` (uid,risk CSV) defaults to the store's current risk map."""
    from safeground.landrelease.priority import impact_factors, load_weights, rank
    from safeground.storage import open_store

    w = load_weights(weights)
    with open_store(store, create=False, readonly=True) as s:
        ranking, note = rank(impact_factors(s, w), w, risk_per_hazard_area(risk, store))
    return Priorities(ranking, note)


def completion_forecast(
    store: str,
    *,
    weights: Path | None = None,
    risk: Path | None = None,
    teams: dict[str, int] | None = None,
    survey_teams: dict[str, int] | None = None,
    productivity: dict[str, Productivity] | None = None,
    start: date | None = None,
    simulations: int = 1000,
    all_clearance: bool = False,
) -> Forecast:
    """When each open area (in priority order) and the district will be released, P10/P50/P90, from the
    shares and paces measured on the record."""
    from safeground.landrelease import forecast as lf
    from safeground.landrelease import pipeline as lp
    from safeground.storage import open_store

    ranking = hazard_priorities(store, weights, risk).ranking
    with open_store(store, create=False, readonly=True) as s:
        hist = lp.history_of(s)
    return lf.forecast_from_history(
        hist,
        list(ranking["uid"]),
        teams=teams,
        survey_teams=survey_teams,
        productivity=productivity,
        start=start,
        simulations=simulations,
        all_clearance=all_clearance,
    )


@dataclass(frozen=True)
class BacktestResult:
    backtest: Backtest
    chart: Path | None  # the fan chart, when asked for and there was a forecast to draw


def forecast_backtest(
    store: str,
    *,
    cut: date | None = None,
    simulations: int = 1000,
    png: Path | None = None,
    overwrite: bool = False,
) -> BacktestResult:
    """The forecast made on ``cut`` from the record up to then, against what was really released; with
    ``png`` the fan chart (forecast band and the record) is drawn there."""
    from safeground.landrelease.backtest import backtest
    from safeground.storage import open_store

    if png is not None:
        guard_output(png, overwrite=overwrite, store_location=store)
    with open_store(store, create=False, readonly=True) as s:
        b = backtest(s, cut=cut, simulations=simulations)
    if png is None or b.forecast is None:
        return BacktestResult(b, None)
    from safeground.landrelease.charts import fan_chart

    title = f"Backtest: forecast on {b.cut} from the record up to then, and what was released"
    fig = fan_chart(b.forecast, b.end, truth=b.truth_curve, open_m2=b.open_m2, title=title)
    with staged_file(png, overwrite=overwrite, store_location=store) as tmp:
        fig.savefig(tmp, dpi=130)  # an Agg figure of its own (safeground.figures): nothing to close
    return BacktestResult(b, png)
