"""The casualty report: who was killed and injured, when, by what, doing what, and where."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from safeground.casualties import statistics as cs
from safeground.figures import subplots
from safeground.model import Accident, AdminArea, FrontLine, HazardArea, InfrastructureArea, Victim, VictimIdentity
from safeground.reports.document import (
    MIN_CELL,
    Audience,
    Report,
    Section,
    figure,
    provenance,
    suppress,
    table_html,
)
from safeground.reports.evidence_maps import accidents_map
from safeground.reports.summary import accidents_without_victims, no_victim_details
from safeground.storage.base import Store, metric_epsg_if_located

LABELS = {
    "victim_status": "Status",
    "outcome": "Outcome",
    "sex": "Sex",
    "age_group": "Age (child: under 18)",
    "device_type": "Device type",
    "activity_at_time": "Activity at the time of the accident",
}


def monthly_chart(monthly: pd.DataFrame, audience: Audience) -> str:
    """Killed and injured per month (restricted) or per quarter with small counts hidden (public)."""
    fig, ax = subplots(figsize=(7.0, 2.6))
    monthly = monthly.drop(index=cs.DATE_UNKNOWN, errors="ignore")  # no place on a time axis: in the table
    if not len(monthly):
        ax.text(0.5, 0.5, "no casualties recorded in this period", ha="center", transform=ax.transAxes)
    elif audience == Audience.RESTRICTED:
        monthly[["killed", "injured"]].plot(kind="bar", stacked=True, ax=ax, color=["#67001f", "#f4a582"], width=0.8)
        ax.set_title("Victims per month", fontsize=9)
    else:
        q = monthly["total"].copy()
        q.index = pd.PeriodIndex(q.index, freq="M").asfreq("Q").astype(str)
        q = q.groupby(level=0).sum()
        small = (q > 0) & (q < MIN_CELL)
        shown = q.where(~small, MIN_CELL)
        ax.bar(q.index, shown, color=["#bbbbbb" if s else "#67001f" for s in small])
        for k, s in enumerate(small):
            if s:
                ax.text(k, MIN_CELL, "<5", ha="center", va="bottom", fontsize=6)
        ax.set_title("Victims per quarter (grey: fewer than 5, not shown exactly)", fontsize=9)
    ax.set_ylabel("victims", fontsize=8)
    ax.tick_params(labelsize=6)
    ax.tick_params(axis="x", rotation=90)
    return figure(fig)


def casualty_report(store: Store, audience: Audience = Audience.PUBLIC, sel: cs.Selection | None = None) -> Report:
    sel = sel or cs.Selection()
    frame = cs.victims_frame(store, sel)
    epsg = metric_epsg_if_located(store)  # None: nothing located and no area, so no map
    off = cs.off_front_share(frame)
    monthly = cs.by_month(frame)
    total = len(frame)
    killed = int((frame["outcome"] == "killed").sum())
    civil = int((frame["victim_status"] == "civilian").sum())
    children = int((frame["age_group"] == "child").sum())

    missing = accidents_without_victims(store, sel)

    def people(n: int) -> str:
        if not total and missing:  # accidents without victim rows: not "0 killed"
            return "not recorded"
        return suppress(pd.DataFrame({"n": [n]}), audience).iloc[0, 0]

    share = "—" if off.share is None else f"{off.share:.0%}"
    key = [
        ("people killed or injured", people(total)),
        ("killed", people(killed)),
        ("injured", people(total - killed)),
        ("civilians", people(civil)),
        ("children", people(children)),
        (f"accidents more than {off.contact_zone_m / 1000:g} km from the former contact line", share),
    ]
    if missing:
        key.append(("accidents without victim details", f"{missing:,}"))
    unknown = [f"{no_victim_details(missing)}."] if missing else []
    sections = [
        Section(
            "Over time",
            [
                f"{total} people were killed or injured in {frame['accident_uid'].nunique()} accidents "
                f"({sel.describe()})."
                if total and (audience == Audience.RESTRICTED or total >= MIN_CELL)
                else f"Fewer than {MIN_CELL} people were killed or injured ({sel.describe()})."
                if total
                else f"No victim is recorded ({sel.describe()})."
                if missing
                else f"No one was recorded killed or injured ({sel.describe()}).",
                *unknown,
            ],
            tables=[("Victims per month", table_html(suppress(monthly, audience)))],
            figures=[("Victims over time", monthly_chart(monthly, audience))],
            figures_first=True,
        ),
        Section(
            "By category (Landmine Monitor)",
            ["Each person counts once; categories as the Landmine and Cluster Munition Monitor tabulates them."],
            tables=[(LABELS[c], table_html(suppress(cs.by_category(frame, c), audience))) for c in cs.CATEGORIES],
        )
        if total or not missing
        else Section("By category (Landmine Monitor)", [f"Not counted: {no_victim_details(missing)}."]),
        Section(
            "Distance from the former front line",
            [
                f"{off.off_contact_line} of {off.accidents} accidents ({share}) happened more than "
                f"{off.contact_zone_m / 1000:g} km from the former contact line, where people do not expect mines: "
                "cemeteries, former homes, paths and fields behind the old front."
                if off.accidents
                else "No former front line is stored (layer front_lines), so distances to it are not measured."
                if not store.count(FrontLine)
                else "No accident with victims to measure."
            ],
            tables=[
                (
                    "Accidents and victims by distance from the former front line",
                    table_html(suppress(cs.by_distance(frame), audience)),
                )
            ]
            if off.accidents
            else [],
        ),
        Section(
            "Country casualty table (Landmine Monitor layout)",
            [] if total or not missing else [f"Not counted: {no_victim_details(missing)}."],
            tables=[("Casualties per year", _lm_html(frame, audience))] if total or not missing else [],
        ),
        Section(
            "Where",
            [
                "Exact accident positions."
                if audience == Audience.RESTRICTED
                else "Accidents counted per 1 km grid cell; exact positions are in the restricted edition only."
            ],
            figures=[
                (
                    "Accidents on the map; orange: open hazard areas; red dashed: former front line",
                    accidents_map(store, cs.accident_points(frame, store, sel), epsg, audience),
                )
            ]
            if epsg is not None
            else [],
        ),
    ]
    layers: list[type] = [Accident, Victim, FrontLine, AdminArea, HazardArea, InfrastructureArea]
    if audience == Audience.RESTRICTED:
        sections.append(_victim_list(store, frame))
        layers.append(VictimIdentity)
    notes = [
        f"On the contact line means within {cs.CONTACT_ZONE_M / 1000:g} km of the former front line (the depth of "
        "the defensive minefield belts); distances measured in the local UTM zone.",
        "A child is a person under 18 at the time of the accident; unknown ages are counted as unknown.",
        f"Public edition: table cells counting 1 to {MIN_CELL - 1} people are shown as <{MIN_CELL}; zeros are shown. "
        "Where a hidden cell could be worked out from a total and the other cells of its row or column, the "
        "smallest other cell is hidden too and shown as c (5 or more).",
    ]
    return Report(
        kind="casualties",
        title="Mine and ERW casualties",
        subtitle=sel.describe(),
        audience=audience,
        key_figures=key,
        sections=sections,
        provenance=provenance(store, layers),
        method_notes=notes,
        figures_checked={
            "victims": total,
            "killed": killed,
            "civilians": civil,
            "children": children,
            "accidents": off.accidents,
            "accidents_off_contact_line": off.off_contact_line,
            "accidents_without_victims": missing,
        },
    )


def lm_lines(years: list[object]) -> list[list[tuple[object, object]]]:
    """Cells of the (transposed) Monitor table whose sums are published: each group with its total, per year,
    and each category across the years."""
    lines: list[list[tuple[object, object]]] = []
    for y in years:
        for group in cs.LM_GROUPS:
            lines.append([(c, y) for c in ("total", *group)])
    for c in ["total", *(c for g in cs.LM_GROUPS for c in g)]:
        lines.append([(c, y) for y in years])
    return lines


def _lm_html(frame: pd.DataFrame, audience: Audience) -> Markup:
    t = cs.landmine_monitor_table(frame).T
    return table_html(suppress(t, audience, lines=lm_lines(list(t.columns))).rename_axis("category"))


def _victim_list(store: Store, frame: pd.DataFrame) -> Section:
    """Restricted only: each victim with name, age, sex, date and the accident's exact position."""
    ids = pd.DataFrame(store.read_frame(VictimIdentity).drop(columns="geometry", errors="ignore"))
    names = dict(zip(ids["victim_uid"], ids["full_name"], strict=True)) if len(ids) else {}
    t = frame.assign(name=frame["victim_uid"].map(names))[
        ["victim_uid", "name", "accident_date", "victim_status", "outcome", "sex", "age", "settlement", "lon", "lat"]
    ].copy()
    t["lon"] = t["lon"].map(lambda v: f"{v:.6f}")
    t["lat"] = t["lat"].map(lambda v: f"{v:.6f}")
    return Section(
        "Victims (restricted)",
        ["Names come from the restricted victim_identities layer; positions are the accidents' recorded positions."],
        tables=[("Victim list", table_html(t.set_index("victim_uid")))],
    )
