"""The national report: hazards, casualties, land release and map accuracy in one document.

It is assembled from the three thematic reports (same figures, same privacy
rules), plus the hazard overview of the district summary, so a figure never
differs between the national report and the thematic one.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from safeground.casualties.statistics import Selection
from safeground.minemaps.accuracy import start_assessments
from safeground.model import RECORD_TYPES
from safeground.model.vocab import hazard_class_label
from safeground.reports.accuracy_report import accuracy_report
from safeground.reports.casualty_report import casualty_report
from safeground.reports.document import Audience, Report, Section, provenance, shared_provenance, table_html
from safeground.reports.land_release_report import PlanningInputs, land_release_report
from safeground.reports.summary import summarise
from safeground.storage.base import Store


def national_report(
    store: Store,
    audience: Audience = Audience.PUBLIC,
    *,
    start: date | None = None,
    end: date | None = None,
    plan: PlanningInputs | None = None,
) -> Report:
    """The three thematic reports and the hazard overview in one document; each layer hashed once for all four
    provenance blocks (:func:`shared_provenance`)."""
    with shared_provenance():
        return _national_report(store, audience, start=start, end=end, plan=plan)


def _national_report(
    store: Store,
    audience: Audience = Audience.PUBLIC,
    *,
    start: date | None = None,
    end: date | None = None,
    plan: PlanningInputs | None = None,
) -> Report:
    # the records' assessments are the longest part and need nothing else: started first, in local processes
    # (compute.start_local), they run while this process counts casualties and simulates land release
    assessing, _ = start_assessments(store)
    cas = casualty_report(store, audience, Selection(start=start, end=end))
    lr = land_release_report(store, audience, start=start, end=end, plan=plan)
    acc = accuracy_report(store, audience, results=assessing.result())
    summary = summarise(store)
    hz = summary.hazards.copy()
    hz["classification"] = hz["classification"].map(hazard_class_label)
    overview = Section(
        "Hazard areas",
        [
            "Suspected (SHA) and confirmed (CHA) hazardous areas by status, with their recorded and remaining area."
            if len(hz)
            else "No hazard area is stored.",
            *([summary.area_note] if summary.area_note else []),
        ],
        tables=[("Hazard areas", table_html(hz.set_index(["classification", "status"]), floats="{:,.2f}"))]
        if len(hz)
        else [],
    )
    sections = [overview]
    for title, rep, keep in (
        ("Casualties", cas, 5),
        ("Land release", lr, 4),
        ("Minefield records", acc, 1),
    ):
        for s in rep.sections[:keep]:
            s.heading = f"{title}: {s.heading}"
            sections.append(s)
    used = sorted(
        {layer for rep in (cas, lr, acc) for layer in rep.provenance.layers} | {"hazard_areas", "minefield_records"}
    )
    return Report(
        kind="national",
        title="Mine action: national report",
        subtitle=f"{start or 'first record'} to {end or 'last record'}",
        audience=audience,
        key_figures=cas.key_figures[:3] + cas.key_figures[5:] + lr.key_figures[2:] + acc.key_figures[1:2],
        sections=sections,
        provenance=provenance(store, [RECORD_TYPES[name] for name in used]),
        method_notes=cas.method_notes + lr.method_notes + acc.method_notes,
        figures_checked={
            **{f"casualties.{k}": v for k, v in cas.figures_checked.items()},
            **{f"land_release.{k}": v for k, v in lr.figures_checked.items()},
            **{f"map_accuracy.{k}": v for k, v in acc.figures_checked.items()},
            "hazard_areas": float(pd.to_numeric(summary.hazards["count"]).sum()) if len(summary.hazards) else 0.0,
        },
    )
