"""The map-accuracy report: how the handed-over minefield records compare with what clearance found."""

from __future__ import annotations

import numpy as np
import pandas as pd

from safeground.figures import subplots
from safeground.minemaps.accuracy import (
    METHOD,
    AccuracyOptions,
    Proportion,
    RecordResult,
    Summary,
    assess_store,
    by_source,
    results_table,
    summarise,
)
from safeground.model import Activity, AdminArea, EOItem, FrontLine, InfrastructureArea, MinefieldRecord
from safeground.reports.document import Audience, Report, Section, figure, provenance, table_html
from safeground.reports.dossier import GRADE_TEXT
from safeground.reports.evidence_maps import records_map
from safeground.storage.base import Store, metric_epsg


def _pct(p: Proportion) -> str:
    if p.value is None:
        return "—"
    ci = "" if p.low is None or p.high is None else f" ({100 * p.low:.0f}–{100 * p.high:.0f} %)"
    return f"{100 * p.value:.0f} %{ci}"


def _summary_rows(summaries: list[Summary]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "source": s.label,
                "records": s.records,
                **{f"grade {g}": n for g, n in s.grades.items()},
                "found where recorded (95 % CI)": _pct(s.precision),
                "finds shown by the record (95 % CI)": _pct(s.recall),
                "median error (m)": "—" if s.error_median_m is None else f"{s.error_median_m:.1f}",
                "90th pct error (m)": "—" if s.error_p90_m is None else f"{s.error_p90_m:.1f}",
            }
            for s in summaries
        ]
    )


def _grade_chart(results: list[RecordResult]) -> str:
    fig, ax = subplots(figsize=(6.0, 2.4))
    sources = sorted({r.source for r in results})
    bottom = np.zeros(len(sources))
    colours = {"A": "#1a9850", "B": "#91cf60", "C": "#d73027", "U": "#bbbbbb"}
    for g in "ABCU":
        n = np.array([sum(1 for r in results if r.source == s and r.grade == g) for s in sources])
        ax.barh(sources, n, left=bottom, color=colours[g], label=f"{g}: {GRADE_TEXT[g]}")
        bottom += n
    ax.set_xlabel("records", fontsize=8)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=5.5, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    ax.set_title("Grades by source of the record", fontsize=9)
    return figure(fig)


def accuracy_report(
    store: Store,
    audience: Audience = Audience.PUBLIC,
    opts: AccuracyOptions | None = None,
    *,
    results: list[RecordResult] | None = None,
) -> Report:
    """The map accuracy report; ``results`` are the store's assessments when the caller has them already (the
    national report starts them first, to run beside its other parts)."""
    opts = opts or AccuracyOptions()
    if results is None:
        results = assess_store(store, opts)
    overall = summarise(results, "all records")
    table = results_table(results)
    per_record = table[
        ["record", "source", "grade", "recorded", "verified", "confirmed", "precision", "recall", "error_median_m"]
    ].copy()
    if len(per_record):
        per_record["precision"] = per_record["precision"].map(lambda v: "—" if pd.isna(v) else f"{100 * v:.0f} %")
        per_record["recall"] = per_record["recall"].map(lambda v: "—" if pd.isna(v) else f"{100 * v:.0f} %")
    sections = [
        Section(
            "By source",
            [
                "A recorded mine is confirmed when clearance found an item of its type within the tolerance of its "
                "recorded position; only recorded mines in cleared ground are counted (verifiable). Confidence "
                "intervals are exact (Clopper–Pearson)."
            ],
            tables=[("Accuracy by source of the record", table_html(_summary_rows(by_source(results)), index=False))],
            figures=[
                ("Grades", _grade_chart(results)),
                (
                    "Where the records are: perimeters as recorded, coloured by grade; red dashed: former front line",
                    records_map(store, {r.uid: r.grade for r in results}, metric_epsg(store)),
                ),
            ]
            if results
            else [],
        ),
        Section(
            "Record by record",
            [
                "Systematic shifts and rotations, and corrected positions, are in each record's dossier "
                "(safeground maps dossier), which is restricted because it shows exact positions."
            ],
            tables=[("Every record", table_html(per_record, index=False, floats="{:,.1f}"))],
        ),
    ]
    if not results:
        held = store.count(MinefieldRecord)
        sections = [
            Section(
                "No minefield record to assess",
                [
                    f"The store holds {held:,} minefield records"
                    + (f" (none received by {opts.as_of})" if held and opts.as_of else "")
                    + ", so there is nothing to compare with clearance. Records come in with "
                    "`safeground import minefield_records FILE` and their recorded mines with "
                    "`safeground import eo_items FILE` (status recorded), or one record drawn by bearing and "
                    "distance with `safeground maps traverse FILE --store STORE --save`."
                ],
            )
        ]
    return Report(
        kind="map-accuracy",
        title="How good were the handed-over minefield records?",
        subtitle=f"evidence: {', '.join(opts.evidence_activities)} activities; "
        f"as of {opts.as_of or 'the last record in the store'}",
        audience=audience,
        key_figures=[
            ("records assessed", str(overall.records)),
            ("recorded mines found where recorded", _pct(overall.precision)),
            ("finds the records showed", _pct(overall.recall)),
            ("grade C (unreliable)", str(overall.grades["C"])),
        ],
        sections=sections,
        provenance=provenance(store, [MinefieldRecord, EOItem, Activity, AdminArea, FrontLine, InfrastructureArea]),
        method_notes=[METHOD[0].upper() + METHOD[1:] + "."],
        figures_checked={
            "records": overall.records,
            "confirmed": overall.precision.k,
            "verified": overall.precision.n,
        },
    )
