"""The dashboards' figures as tables: what the browser page and the public page draw, live.

Each dashboard is one small table (``columns`` and ``rows``) computed from the same functions the
reports use, so a dashboard and a report can never say two things:

* ``casualties-by-month``: victims per month, killed and injured (the casualty report's "Victims per
  month" table) and in the Landmine Monitor's categories (status, age, sex);
* ``land-release-over-time``: land cancelled, reduced and cleared per month, with the running total
  (the land release report's "Released per month" table);
* ``remaining-area``: open areas and remaining suspected (SHA) and confirmed (CHA) area at the end of
  each month (the land release report's "Remaining area" chart);
* ``accuracy-by-source``: minefield records by source, their grades and how often a recorded mine was
  found where recorded (the map accuracy report's "Accuracy by source");
* ``completion-forecast``: P10/P50/P90 dates of all open areas and of each, in priority order (the land
  release report's forecast, with the same defaults).

Who reads decides what is shown: a public (or partner) reader gets the casualty counts with the
reports' small-cell suppression ("<5", and "c" where a hidden cell could be worked out); only an
audience that reads the store as it is gets every count. Nothing else in these tables is restricted
(they are aggregates; no position, no person).

A dashboard is computed once per store content: the result is cached under the store's fingerprint
of the layers it reads (:meth:`safeground.storage.base.Store.fingerprint`, a few aggregate queries),
so a repeated request costs a fingerprint and a dictionary look-up until the data changes, and the
JSON and CSV bytes are made once.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from safeground.access import Audience
from safeground.errors import InvalidInput, RecordNotFound
from safeground.model import (
    Accident,
    Activity,
    AdminArea,
    EOItem,
    FrontLine,
    HazardArea,
    MinefieldRecord,
    Organisation,
    Victim,
)
from safeground.model.base import Record
from safeground.storage.base import Store

Cell = str | int | float | None
Compute = Callable[[Store, Audience], tuple[list[str], list[list[Cell]]]]


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    compute: Compute
    #: the layers it reads (None: all of them); its cache is kept until one of them changes
    layers: tuple[type[Record], ...] | None
    #: whether what it shows depends on who reads (small-cell suppression); if not, one table serves all
    by_audience: bool = False


@dataclass(frozen=True)
class Dashboard:
    """One dashboard's table as computed for one audience from one state of the store."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    fingerprint: str
    generated: str  # when it was computed (UTC, ISO 8601)
    _bytes: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "fingerprint": self.fingerprint,
            "generated": self.generated,
        }

    def json_bytes(self) -> bytes:
        """The JSON answer, serialised once."""
        if "json" not in self._bytes:
            self._bytes["json"] = json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":")).encode()
        return self._bytes["json"]

    def csv_bytes(self) -> bytes:
        """The table as CSV (a header row, then the rows; formula-like text made inert), made once."""
        if "csv" not in self._bytes:
            from safeground.tabular import writer

            buf = io.StringIO()
            w = writer(buf)
            w.writerow(self.columns)
            w.writerows([["" if v is None else v for v in row] for row in self.rows])
            self._bytes["csv"] = buf.getvalue().encode("utf-8")
        return self._bytes["csv"]


# -- the figures -----------------------------------------------------------------------------------------
#: the Landmine Monitor's category columns of casualties-by-month, with the groups that add up to the total
LM_MONTH_GROUPS: tuple[tuple[str, ...], ...] = (
    ("civilian", "military", "deminer"),
    ("children", "adults", "age_unknown"),
    ("female", "male", "sex_unknown"),
)
_LM_SOURCE = {
    "civilian": ("victim_status", "civilian"),
    "military": ("victim_status", "military"),
    "deminer": ("victim_status", "deminer"),
    "children": ("age_group", "child"),
    "adults": ("age_group", "adult"),
    "age_unknown": ("age_group", "unknown"),
    "female": ("sex", "female"),
    "male": ("sex", "male"),
    "sex_unknown": ("sex", "unknown"),
}


def _casualties_by_month(store: Store, audience: Audience) -> tuple[list[str], list[list[Cell]]]:
    """Victims per month: killed, injured, total (as the casualty report's table), then the Monitor's categories.

    Public: the first three columns are hidden exactly as the report hides them; the category cells then get
    the same rule along each month's groups (each adds up to the month's total) and along each column."""
    from safeground.casualties import statistics as cs
    from safeground.reports.document import MIN_CELL, SECONDARY, SUPPRESSED, suppression_mask

    frame = cs.victims_frame(store)
    monthly = cs.by_month(frame)  # month × killed, injured, total: the report's table
    cats = list(_LM_SOURCE)
    columns = ["month", "killed", "injured", "total", *cats]
    if not len(monthly):
        return columns, []
    table = monthly[["killed", "injured", "total"]].astype(int).copy()
    for c, (col, level) in _LM_SOURCE.items():
        table[c] = (frame[col] == level).groupby(frame["month"]).sum().reindex(table.index, fill_value=0)
    table = table.fillna(0).astype(int)
    if audience.exact:
        mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    else:
        mask = pd.DataFrame(False, index=table.index, columns=table.columns)
        mask[["killed", "injured", "total"]] = suppression_mask(table[["killed", "injured", "total"]])
        mask[cats] = (table[cats] > 0) & (table[cats] < MIN_CELL)
        lines = [[(m, c) for c in ("total", *g)] for m in table.index for g in LM_MONTH_GROUPS]
        lines += [[(m, c) for m in table.index] for c in cats]
        _second_cells(table, mask, lines, allowed=set(cats))
    rows: list[list[Cell]] = []
    for m in table.index:
        row: list[Cell] = [str(m)]
        for c in table.columns:
            v = int(table.at[m, c])
            row.append((SUPPRESSED if 0 < v < MIN_CELL else SECONDARY) if mask.at[m, c] else v)
        rows.append(row)
    return columns, rows


def _second_cells(
    table: pd.DataFrame, mask: pd.DataFrame, lines: list[list[tuple[Any, Any]]], allowed: set[str]
) -> None:
    """Along every line with one hidden cell, hide the smallest non-zero cell still shown among ``allowed``
    columns (the report's secondary suppression, without touching the cells the report already decided)."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if mask.at[cell]]
            if len(hidden) != 1:
                continue
            shown = [cell for cell in line if cell[1] in allowed and not mask.at[cell] and table.at[cell] > 0]
            if shown:
                mask.at[min(shown, key=lambda cell: table.at[cell])] = True
                changed = True


def _land_release_over_time(store: Store, audience: Audience) -> tuple[list[str], list[list[Cell]]]:
    """The land release report's "Released per month (m²)" table."""
    from safeground.landrelease import accounting as la

    monthly = la.by_month(la.activities_frame(store))
    cols = ["cancelled_m2", "reduced_m2", "cleared_m2", "released_m2", "cumulative_released_m2", "items_found"]
    return ["month", *cols], [[str(m), *(_number(monthly.at[m, c], 1) for c in cols)] for m in monthly.index]


def _remaining_area(store: Store, audience: Audience) -> tuple[list[str], list[list[Cell]]]:
    """Open areas and remaining SHA and CHA area at the end of each month of the record (the report's chart)."""
    from safeground.landrelease import accounting as la

    monthly = la.by_month(la.activities_frame(store))
    versions = la.hazard_versions(store)
    cols = ["open_areas", "sha_remaining_m2", "cha_remaining_m2"]
    if not len(monthly) or not len(versions):
        return ["month", *cols], []
    rem = la.remaining_by_month(versions, list(monthly.index))
    return ["month", *cols], [[str(m), *(_number(rem.at[m, c], 1) for c in cols)] for m in rem.index]


def _accuracy_by_source(store: Store, audience: Audience) -> tuple[list[str], list[list[Cell]]]:
    """Records by source: grades, found where recorded (with its exact 95 % interval), errors (the report's table)."""
    from safeground.minemaps.accuracy import AccuracyOptions, assess_store, by_source, summarise

    results = assess_store(store, AccuracyOptions())
    columns = ["source", "records", "grade_A", "grade_B", "grade_C", "grade_U", "verified", "confirmed",
               "precision", "precision_ci_low", "precision_ci_high", "finds_in_perimeter", "finds_shown", "recall",
               "error_median_m", "error_p90_m"]  # fmt: skip
    rows: list[list[Cell]] = []
    for s in [*by_source(results), *([summarise(results, "all records")] if results else [])]:
        p, r = s.precision, s.recall
        rows.append(
            [s.label, s.records, *(s.grades[g] for g in "ABCU"), p.n, p.k, _number(p.value), _number(p.low),
             _number(p.high), r.n, r.k, _number(r.value), _number(s.error_median_m), _number(s.error_p90_m)]
        )  # fmt: skip
    return columns, rows


def _completion_forecast(store: Store, audience: Audience) -> tuple[list[str], list[list[Cell]]]:
    """When all open areas, and each in priority order, are released: P10/P50/P90, as the land release report says."""
    from safeground.landrelease import forecast as lf
    from safeground.landrelease import pipeline as pl
    from safeground.landrelease import priority as lp
    from safeground.risk.output import risk_per_hazard

    columns = ["area", "rank", "step", "remaining_m2", "p10", "p50", "p90"]
    weights = lp.PriorityWeights()
    ranking, _ = lp.rank(lp.impact_factors(store, weights), weights, risk_per_hazard(store))
    hist = pl.history_of(store, _report_as_of(store))
    if not len(hist.work):
        return columns, []
    try:
        fc = lf.forecast_from_history(hist, list(ranking["uid"]), simulations=1000)
    except InvalidInput:  # nothing on record to measure teams or pace from: no forecast (the report says why)
        return columns, []
    d = fc.district
    total = _number(float(hist.work["remaining_m2"].sum()), 1)
    rows: list[list[Cell]] = [["all open areas", None, None, total, *(str(d[k]) for k in ("p10", "p50", "p90"))]]
    for k, r in enumerate(fc.areas.itertuples(index=False), start=1):
        rows.append([str(r.uid), k, str(r.step), _number(r.remaining_m2, 1), str(r.p10), str(r.p50), str(r.p90)])
    return columns, rows


def _report_as_of(store: Store) -> date:
    """The date the land release report reads the remaining area and the forecast on (its ``as_of``)."""
    from safeground.landrelease import accounting as la

    versions = la.hazard_versions(store)
    return max(versions["date_of_information"]) if len(versions) else date.today()


def _number(v: Any, digits: int | None = None) -> Cell:
    """A JSON number (None for a missing one), rounded to ``digits`` if given (m² to 0.1), an integer when whole."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    f = float(v) if digits is None else round(float(v), digits)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


DASHBOARDS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec("casualties-by-month", "Casualties by month (Landmine Monitor categories)", _casualties_by_month,
             (Victim, Accident, FrontLine, AdminArea), by_audience=True),
        Spec("land-release-over-time", "Land released per month (m²)", _land_release_over_time,
             (Activity, Organisation)),
        Spec("remaining-area", "Remaining suspected and confirmed area at the end of each month (m²)",
             _remaining_area, (Activity, Organisation, HazardArea)),
        Spec("accuracy-by-source", "Minefield record accuracy by source", _accuracy_by_source,
             (MinefieldRecord, EOItem, Activity)),
        Spec("completion-forecast", "Completion forecast (P10/P50/P90)", _completion_forecast, None),
    )
}  # fmt: skip


# -- the cache -------------------------------------------------------------------------------------------
_CACHE: dict[tuple[str, str, str], Dashboard] = {}
_LOCK = threading.Lock()
_COMPUTING: dict[tuple[str, str, str], threading.Lock] = {}


def list_dashboards() -> list[tuple[str, str]]:
    """(name, title) of every dashboard, in order."""
    return [(s.name, s.title) for s in DASHBOARDS.values()]


def dashboard(store: Store, name: str, audience: Audience = Audience.PUBLIC) -> Dashboard:
    """The dashboard ``name`` for ``audience``: from the cache while the layers it reads are unchanged."""
    spec = DASHBOARDS.get(name)
    if spec is None:
        raise RecordNotFound(f"no dashboard {name!r}", hint=f"use one of: {', '.join(DASHBOARDS)}")
    # partners read aggregates as the public does; a table that hides nothing is the same for everyone
    shown = Audience.RESTRICTED if audience.exact and spec.by_audience else Audience.PUBLIC
    fp = _fingerprint(store, spec.layers)
    key = (store.location, name, shown.value)
    hit = _CACHE.get(key)
    if hit is not None and hit.fingerprint == fp:
        return hit
    with _LOCK:
        gate = _COMPUTING.setdefault(key, threading.Lock())
    with gate:  # one computation per dashboard at a time: a burst of requests waits for it instead of repeating it
        hit = _CACHE.get(key)
        if hit is not None and hit.fingerprint == fp:
            return hit
        columns, rows = spec.compute(store, shown)
        made = Dashboard(spec.name, spec.title, columns, rows, fp, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        _CACHE[key] = made
        return made


def _fingerprint(store: Store, layers: Sequence[type[Record]] | None) -> str:
    """The layers' fingerprint and the store's area of interest (it sets the metric projection)."""
    fp = store.fingerprint(layers)
    aoi = store.get_meta("area_of_interest") or ""
    return fp if not aoi else f"{fp}-{hashlib.sha256(aoi.encode()).hexdigest()[:6]}"
