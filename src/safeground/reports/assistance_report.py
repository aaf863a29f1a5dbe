"""The victim assistance report: who has been helped, how soon, and what is still missing, by area and need.

Public and partner editions show only counts of people, with cells of 1–4 hidden (and the secondary
cells that would give them away); the restricted edition adds the list of people with their unmet
needs and the follow-ups that are due, for the victim assistance focal point. The HXL CSV for the
Humanitarian Data Exchange (``assistance_hdx``) carries the same suppressed counts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from safeground.casualties import statistics as cs
from safeground.figures import subplots
from safeground.model import Accident, AdminArea, Victim, VictimIdentity
from safeground.model.assistance import AssistanceAssessment, AssistanceService
from safeground.people import assistance as va
from safeground.reports.document import (
    MIN_CELL,
    Audience,
    Report,
    Section,
    figure,
    provenance,
    suppress,
    suppression_mask,
    table_html,
)
from safeground.storage.base import Store


def _label(text: str) -> str:
    return str(text).replace("_", " ")


#: column headings short enough for an A4 table of every category
SHORT = {
    "emergency_medical_care": "emergency",
    "continuing_medical_care": "medical",
    "physical_rehabilitation": "rehabilitation",
    "prosthetics_and_assistive_devices": "prosthetics",
    "psychological_and_psychosocial_support": "psychosocial",
    "education": "education",
    "employment_and_livelihood": "employment",
    "pension_or_allowance": "pension",
    "people with an unmet need": "people",
}


def _short(text: str) -> str:
    return SHORT.get(str(text), _label(text))


def _delay_chart(first: va.Delay, continuing: va.Delay, audience: Audience) -> str:
    fig, ax = subplots(figsize=(7.0, 2.6))
    labels = list(first.bands.index)
    x = range(len(labels))
    for k, (d, name, colour) in enumerate(((first, "any assistance", "#2166ac"),
                                            (continuing, "beyond emergency care", "#f4a582"))):  # fmt: skip
        vals = d.bands["people"].astype(int).to_numpy()
        small = (vals > 0) & (vals < MIN_CELL) & (not audience.exact)
        shown = [MIN_CELL if s else v for v, s in zip(vals, small, strict=True)]
        pos = [i + (k - 0.5) * 0.4 for i in x]
        ax.bar(pos, shown, width=0.4, label=name, color=["#bbbbbb" if s else colour for s in small])
        for p, s in zip(pos, small, strict=True):
            if s:
                ax.text(p, MIN_CELL, "<5", ha="center", va="bottom", fontsize=6)
    ax.set_xticks(list(x), labels, fontsize=7)
    ax.set_ylabel("survivors", fontsize=8)
    ax.legend(fontsize=7)
    ax.set_title("Time from the accident to the first assistance (survivors assessed)", fontsize=9)
    return figure(fig)


def _n(n: int, audience: Audience) -> str:
    return str(suppress(pd.DataFrame({"n": [n]}), audience).iloc[0, 0])


def assistance_report(store: Store, audience: Audience = Audience.PUBLIC, sel: cs.Selection | None = None) -> Report:
    sel = sel or cs.Selection()
    frame = va.people_frame(store, sel)
    f = va.figures(store, frame)
    med = "—" if f.first.median_days is None else f"{f.first.median_days:g} days"
    med2 = "—" if f.continuing.median_days is None else f"{f.continuing.median_days:g} days"
    key = [
        ("survivors (injured)", _n(f.survivors, audience)),
        ("survivors without any assessed need or service", _n(f.survivors_without_service, audience)),
        ("people with an unmet need", _n(f.people_with_unmet_need, audience)),
        ("median time to assistance beyond emergency care", med2),
        ("families of people killed assessed", _n(f.families, audience)),
    ]
    bands = pd.concat(
        [
            f.first.bands.rename(columns={"people": "any assistance"}),
            f.continuing.bands.rename(columns={"people": "beyond emergency care"}),
        ],
        axis=1,
    )
    bands.loc[va.NOT_ASSESSED] = [f.survivors_without_service] * 2
    surv = frame[frame["survivor"]] if len(frame) else frame
    sections = [
        Section(
            "Survivors reached",
            [
                f"Of the {_n(f.survivors, audience)} people injured ({sel.describe()}), "
                f"{_n(f.survivors_without_service, audience)} have no assessed need or service recorded: no victim "
                "assistance programme is known to have seen them. Families of people killed are counted apart.",
                f"Median time from the accident to the first assistance: {med} (emergency care is usually the same "
                f"day); to the first assistance beyond emergency care: {med2}.",
            ],
            tables=[
                ("Survivors by time from the accident to the first assistance", table_html(suppress(bands, audience)))
            ],
            figures=[("Time to assistance", _delay_chart(f.first, f.continuing, audience))],
        ),
        Section(
            "Needs and services by category (Landmine Monitor / CRPD)",
            [
                "People (survivors and families) by category and status; unmet: needed, referred or not available. "
                "Categories: emergency and continuing medical care, physical rehabilitation and prosthetics, "
                "psychological and psychosocial support, socio-economic inclusion (education, employment, pension)."
            ],
            tables=[
                (
                    "People per category and status",
                    table_html(suppress(va.by_category(store, frame).rename(index=_label), audience)),
                )
            ],
        ),
        Section(
            "Unmet needs by area",
            [
                "People with at least one unmet need, by the area of the accident (municipality) and the need; "
                "people: with any unmet need (a person with two counts once)."
            ],
            tables=[
                (
                    "Unmet needs by area and category",
                    table_html(suppress(va.unmet_by_area(store, frame).rename(columns=_short), audience)),
                )
            ],
        ),
        Section(
            "Survivors by disability, sex and age",
            ["From the latest needs assessment; a survivor with two impairments counts in both rows."],
            tables=[
                (
                    "Survivors by disability and sex",
                    table_html(suppress(va.by_disability(frame, "sex").rename(index=_label), audience)),
                ),
                (
                    "Survivors by disability and age (child: under 18)",
                    table_html(suppress(va.by_disability(frame, "age_group").rename(index=_label), audience)),
                ),
            ],
        ),
    ]
    layers: list[type] = [Accident, Victim, AdminArea, AssistanceAssessment, AssistanceService]
    if audience.exact:
        sections.append(_people_list(store, surv if len(surv) else frame, frame))
        layers.append(VictimIdentity)
    notes = [
        "A survivor is a person injured in an accident; the families of people killed are assessed and assisted "
        "as recipients of their own (pension, psychosocial support, their children's schooling).",
        "Time to assistance counts days from the accident to the day a service started (or was completed, when "
        "no start is recorded); survivors without an assessment are not in the median.",
        f"Public edition: cells counting 1 to {MIN_CELL - 1} people are shown as <{MIN_CELL}; where a hidden cell "
        "could be worked out from a total and the other cells of its row or column, the smallest other cell is "
        "hidden too and shown as c. No name, place or date of a person is shown.",
    ]
    return Report(
        kind="assistance",
        title="Victim assistance",
        subtitle=sel.describe(),
        audience=audience,
        key_figures=key,
        sections=sections,
        provenance=provenance(store, layers),
        method_notes=notes,
        figures_checked={
            "survivors": f.survivors,
            "survivors_assessed": f.survivors_assessed,
            "survivors_without_service": f.survivors_without_service,
            "people_with_unmet_need": f.people_with_unmet_need,
            "median_days_first": -1.0 if f.first.median_days is None else f.first.median_days,
            "median_days_continuing": -1.0 if f.continuing.median_days is None else f.continuing.median_days,
        },
    )


def _people_list(store: Store, surv: pd.DataFrame, frame: pd.DataFrame) -> Section:
    """Restricted only: each person with an unmet need, and the follow-ups due."""
    ids = pd.DataFrame(store.read_frame(VictimIdentity).drop(columns="geometry", errors="ignore"))
    names = dict(zip(ids["victim_uid"], ids["full_name"], strict=True)) if len(ids) else {}
    svc = va.services_frame(store)
    rows = []
    for _, p in frame[frame["unmet_needs"] > 0].iterrows() if len(frame) else []:
        s = svc[(svc["victim_uid"] == p["victim_uid"]) & svc["status"].isin(va.UNMET)]
        rows.append({
            "victim_uid": p["victim_uid"],
            "name": names.get(p["victim_uid"], ""),
            "outcome": p["outcome"],
            "area": p["area"],
            "unmet needs": ", ".join(f"{_label(c)} ({_label(st)})" for c, st in zip(s["category"], s["status"],
                                                                                  strict=True)),
        })  # fmt: skip
    t = pd.DataFrame(rows, columns=["victim_uid", "name", "outcome", "area", "unmet needs"]).set_index("victim_uid")
    last = pd.to_datetime(svc["date_of_information"]).max() if len(svc) else pd.Timestamp.today()
    due = va.follow_ups_due(store, frame, last)
    due = due.assign(name=due["victim_uid"].map(names), category=due["category"].map(_label))
    return Section(
        "People with unmet needs and follow-ups due (restricted)",
        [
            "Names from the restricted victim_identities layer; follow-ups due on or before the latest record "
            f"({last.date() if not pd.isna(last) else '—'})."
        ],
        tables=[
            ("People with an unmet need", table_html(t)),
            ("Follow-ups due", table_html(due.set_index("uid"))),
        ],
    )


#: HXL hashtags of the assistance CSV (counts of people are #affected: the export suppresses them)
HXL = {
    "adm2_name": "#adm2+name",
    "category": "#sector+va+category",
    "people_assessed": "#affected+assessed",
    "people_received": "#affected+reached",
    "people_unmet": "#affected+unmet",
}


def assistance_hxl(store: Store) -> pd.DataFrame:
    """People per area and category: assessed (a need recorded), received or receiving, unmet."""
    frame = va.people_frame(store)
    svc = va.services_frame(store)
    cols = list(HXL)
    if not len(svc) or not len(frame):
        return pd.DataFrame(columns=cols)
    s = svc.merge(frame[["victim_uid", "area"]], on="victim_uid")
    rows = []
    for (area, cat), g in s.groupby(["area", "category"]):
        rows.append({
            "adm2_name": area,
            "category": cat,
            "people_assessed": g["victim_uid"].nunique(),
            "people_received": g.loc[g["status"].isin(["receiving", "received"]), "victim_uid"].nunique(),
            "people_unmet": g.loc[g["status"].isin(va.UNMET), "victim_uid"].nunique(),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def write_assistance_hxl(store: Store, path: Path, audience: Audience) -> int:
    """The HXL CSV (header, hashtag row, rows; public: people counts of 1–4 and their secondary cells empty)."""
    from safeground import tabular

    t = assistance_hxl(store)
    people = [c for c in t.columns if HXL[c].startswith("#affected")]
    hide = pd.DataFrame(False, index=t.index, columns=t.columns)
    if not audience.exact and len(t):
        lines = [[(r, c) for r in t.index] for c in people] + [[(r, c) for c in people] for r in t.index]
        hide[people] = suppression_mask(t[people], lines=lines)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = tabular.writer(fh)
        w.writerow(list(t.columns))
        w.writerow([HXL[c] for c in t.columns])
        for idx, row in zip(t.index, t.itertuples(index=False), strict=True):
            w.writerow(["" if hide.at[idx, c] else v for c, v in zip(t.columns, row, strict=True)])
    return int(hide.to_numpy().sum())
