"""The report for the missing-persons commission: human remains finds by area and date, their candidate
cases and where each stands. Restricted only: it names the missing, their families' places and the
positions of the finds, so no public or partner edition exists (asking for one is refused)."""

from __future__ import annotations

import pandas as pd

from safeground.access.policy import RestrictedLayer
from safeground.figures import subplots
from safeground.model import AdminArea, FrontLine, HumanRemainsFind, InfrastructureArea
from safeground.model.missing import MissingPerson, RemainsCaseLink, RemainsHandover
from safeground.people import missing as mp
from safeground.reports.document import Audience, Report, Section, figure, provenance, table_html
from safeground.storage.base import Store


def _finds_chart(table: pd.DataFrame) -> str:
    fig, ax = subplots(figsize=(7.0, 2.4))
    if not len(table):
        ax.text(0.5, 0.5, "no human remains find recorded", ha="center", transform=ax.transAxes)
    else:
        q = pd.PeriodIndex(pd.to_datetime(table["find_date"]), freq="Q").astype(str)
        linked = table["linked_case"] != ""
        t = pd.crosstab(q, linked).reindex(columns=[True, False], fill_value=0)
        t.columns = ["linked to a case", "not yet linked"]
        t.plot(kind="bar", stacked=True, ax=ax, color=["#1b7837", "#bbbbbb"], width=0.8)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("")
    ax.set_ylabel("finds", fontsize=8)
    ax.set_title("Human remains finds per quarter", fontsize=9)
    return figure(fig)


def missing_report(store: Store, audience: Audience = Audience.RESTRICTED) -> Report:
    if not audience.exact:
        raise RestrictedLayer(
            "the missing-persons report is restricted: it names the missing and where remains were found",
            hint="make it for the commission with audience restricted, for an authorised, protected destination",
        )
    table = mp.commission_table(store)
    cases = pd.DataFrame(store.read_frame(MissingPerson).drop(columns="geometry", errors="ignore"))
    states = (
        cases["case_state"].value_counts().reindex([s.value for s in mp.CaseState], fill_value=0)
        if len(cases)
        else pd.Series(0, index=[s.value for s in mp.CaseState])
    )
    states.index = [str(s).replace("_", " ") for s in states.index]
    ranks = mp.rank_finds(store, top=5)
    finds = store.read_frame(HumanRemainsFind)
    pos = {str(u): (g.x, g.y) for u, g in zip(finds["uid"], finds.geometry, strict=True)} if len(finds) else {}
    cand_rows = []
    names = dict(zip(cases["uid"], cases["full_name"], strict=True)) if len(cases) else {}
    for fuid, r in ranks.items():
        for c in r.candidates:
            cand_rows.append({
                "find": fuid, "rank": c.rank, "case": c.case_uid, "name": names.get(c.case_uid, ""),
                "share": f"{c.share:.0%}", "state": c.case_state.replace("_", " "), "reasons": c.reasons_text(),
            })  # fmt: skip
    cand = pd.DataFrame(cand_rows, columns=["find", "rank", "case", "name", "share", "state", "reasons"])
    by_area = (
        table.assign(year=table["find_date"].str[:4]).pivot_table(
            index="area", columns="year", values="find_uid", aggfunc="count", fill_value=0
        )
        if len(table)
        else pd.DataFrame()
    )
    unlinked = int((table["linked_case"] == "").sum()) if len(table) else 0
    not_handed = int((table["handed_on"] == "").sum()) if len(table) else 0
    shown = (
        table.assign(
            position=table["find_uid"].map(lambda u: f"{pos[u][1]:.6f} N {pos[u][0]:.6f} E"),
            receiving_body=table["receiving_body"].str.replace(" on missing persons", ""),
        )
        .drop(columns=["setting"])
        .rename(columns={"find_date": "found", "handed_on": "handed over", "receiving_body": "to"})
        .set_index("find_uid")
    )
    sections = [
        Section(
            "Finds by area and date",
            [
                f"{len(table)} human remains finds; {unlinked} not yet linked to a case; {not_handed} without a "
                "recorded handover."
            ],
            tables=[("Finds per area (municipality) and year", table_html(by_area))] if len(by_area) else [],
            figures=[("Finds per quarter", _finds_chart(table))],
        ),
        Section(
            "Each find: handover, linked case, candidates",
            [
                "The linked case is the commission's decision; the candidates are SafeGround's proposals (share of "
                "the evidence among the registered cases): a person confirms with safeground missing confirm."
            ],
            tables=[("Finds", table_html(shown))],
        ),
        Section(
            "Candidate cases and the reasons",
            [
                "Ranked by distance from the last known place (against how precisely it is known), the date and "
                "the circumstances of the disappearance; people missing after a find are left out."
            ],
            tables=[("Candidates (top 5 per find)", table_html(cand, index=False))],
        ),
        Section(
            "The registry",
            [f"{len(cases)} missing persons registered."],
            tables=[("Cases by state", table_html(states.rename("cases").to_frame()))],
        ),
    ]
    return Report(
        kind="missing",
        title="Human remains finds and the missing",
        subtitle="for the State Commission on Missing Persons",
        audience=audience,
        key_figures=[
            ("human remains finds", f"{len(table):,}"),
            ("not yet linked to a case", f"{unlinked:,}"),
            ("missing persons registered", f"{len(cases):,}"),
            ("identified", f"{int(states.get('identified', 0)):,}"),
        ],
        sections=sections,
        provenance=provenance(
            store,
            [
                HumanRemainsFind,
                MissingPerson,
                RemainsCaseLink,
                RemainsHandover,
                AdminArea,
                FrontLine,
                InfrastructureArea,
            ],
        ),
        method_notes=[
            "Positions are the finds' recorded positions (WGS 84). Distances are measured in the local UTM zone.",
            "The score of a candidate is the product of its distance, precision, date and circumstances factors "
            "(safeground.people.missing); it proposes, it does not identify.",
        ],
        figures_checked={"finds": len(table), "unlinked": unlinked, "cases": len(cases)},
    )
