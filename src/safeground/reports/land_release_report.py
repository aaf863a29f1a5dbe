"""The land release report: what was released, what remains, what to do next, and when it ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from safeground.compute import release_memory
from safeground.errors import InvalidInput, ParamStyle, as_query
from safeground.landrelease import accounting as la
from safeground.landrelease import forecast as lf
from safeground.landrelease import pipeline as pl
from safeground.landrelease import priority as lp
from safeground.model import (
    Accident,
    Activity,
    AdminArea,
    FrontLine,
    HazardArea,
    InfrastructureArea,
    InfrastructureLine,
    InfrastructurePoint,
    Organisation,
    QMInspection,
)
from safeground.model.vocab import HazardClass, hazard_class_label
from safeground.reports.document import Audience, Report, Section, provenance, table_html
from safeground.reports.evidence_maps import bars, hazard_rank_map, lines
from safeground.storage.base import Store, metric_epsg_if_located


@dataclass
class PlanningInputs:
    """What the planning part needs beyond the store; all optional with documented defaults."""

    weights: lp.PriorityWeights = field(default_factory=lp.PriorityWeights)
    risk: pd.Series | None = None  # mean predicted risk per hazard uid, from the risk model
    teams: dict[str, int] | None = None  # clearance teams; None: as many as the record shows at work
    productivity: dict[str, lf.Productivity] | None = None  # None: measured from the activities
    start: date | None = None  # None: the day after the remaining area was read
    simulations: int = 1000
    top: int = 20
    #: how the report names a parameter to change (the teams, their pace): the front-end's words, flags on the CLI
    param_style: ParamStyle = as_query


def km2(m2: float) -> str:
    return f"{m2 / 1e6:,.2f} km²"


def land_release_report(
    store: Store,
    audience: Audience = Audience.PUBLIC,
    *,
    start: date | None = None,
    end: date | None = None,
    plan: PlanningInputs | None = None,
) -> Report:
    plan = plan or PlanningInputs()
    act = la.activities_frame(store, start=start, end=end)
    tot = la.totals(act)
    monthly = la.by_month(act)
    versions = la.hazard_versions(store)
    as_of = end or (max(versions["date_of_information"]) if len(versions) else date.today())
    now = la.remaining_on(versions, as_of)
    open_now = now[now["status"] != "closed"] if len(now) else now
    remaining = float(open_now["remaining_m2"].sum()) if len(open_now) else 0.0
    rem_month = la.remaining_by_month(versions, list(monthly.index)) if len(monthly) else pd.DataFrame()
    org = la.by_organisation_and_method(act)

    release_memory()  # each phase's freed memory back to the system, so phases' peaks do not stack (national store)
    factors = lp.impact_factors(store, plan.weights)
    release_memory()
    ranking, rank_note = lp.rank(factors, plan.weights, plan.risk)
    hist = pl.history_of(store, as_of)
    release_memory()
    no_forecast = ""
    try:
        fc: lf.Forecast | None = lf.forecast_from_history(
            hist,
            list(ranking["uid"]),
            teams=plan.teams,
            productivity=plan.productivity,
            start=plan.start,
            simulations=plan.simulations,
            keep_samples=False,  # the report shows dates, not the release curve: a fraction of the memory
        )
    except InvalidInput as exc:  # nothing on record to measure teams or pace from: no forecast, say why
        fc, no_forecast = (
            None,
            (
                f"No forecast: {exc.render_message(plan.param_style).split(':', 1)[-1].strip()}; "
                f"{exc.render_hint(plan.param_style)}."
            ),
        )
    release_memory()
    if not len(open_now):
        fc, no_forecast = None, "No forecast: no open hazard area is stored."
    key = [
        ("cancelled by non-technical survey", km2(tot["cancelled_m2"])),
        ("reduced by technical survey", km2(tot["reduced_m2"])),
        ("cleared", km2(tot["cleared_m2"])),
        *([("items found per hectare searched", f"{tot['items_per_ha']:.2f}")] if "items_per_ha" in tot else []),
        (f"remaining contaminated area on {as_of}", km2(remaining)),
    ]
    if fc is not None:
        key.append(("all open areas released (P10–P90)", f"{fc.district['p10']} – {fc.district['p90']}"))
    residual = _residual_section(store, audience)
    key.append(("residual contamination investigations open", str(residual.open)))
    km = monthly[la.RELEASE_COLUMNS] / 1e6 if len(monthly) else monthly
    km = km.rename(columns={"cancelled_m2": "cancelled (NTS)", "reduced_m2": "reduced (TS)", "cleared_m2": "cleared"})
    sections = [
        Section(
            "Land released over time",
            [
                f"{len(act)} activities released {km2(tot['released_m2'])} and found {int(tot['items_found'])} items. "
                "Cancelled land was never searched, so items per hectare are counted over land reduced or cleared."
            ],
            figures=[
                ("Land released per month (km²)", bars(km, "Released per month", "km²")) if len(km) else ("", ""),
                (
                    "Remaining suspected (SHA) and confirmed (CHA) area at the end of each month (km²)",
                    lines(
                        rem_month[["sha_remaining_m2", "cha_remaining_m2"]].set_axis(
                            [HazardClass.SHA.short, HazardClass.CHA.short], axis=1
                        )
                        / 1e6,
                        "Remaining area",
                        "km²",
                    ),
                )
                if len(rem_month)
                else ("", ""),
            ],
            tables=[("Released per month (m²)", table_html(monthly))],
            figures_first=True,
        ),
        Section(
            "By organisation and method",
            tables=[("Activities, area and items by organisation and method", table_html(org, index=False))],
        ),
        Section(
            "Priorities by impact",
            [
                rank_note,
                "Each factor is scaled 0–1 over the open areas; a contribution is weight share × factor, and the "
                "score is their sum. Homes: buildings within "
                f"{plan.weights.near_m:,.0f} m; blocked: weighted infrastructure within "
                f"{plan.weights.blocked_m:,.0f} m "
                f"(kinds and weights: {', '.join(f'{k} {v:g}' for k, v in lp.INFRASTRUCTURE_WEIGHTS.items())}; "
                f"lines per km); accidents within {plan.weights.near_m:,.0f} m.",
            ],
            tables=[
                (
                    f"The {plan.top} highest priorities",
                    table_html(_ranking_table(ranking).head(plan.top), index=False, floats="{:,.2f}"),
                )
            ],
            figures=[("Highest priorities on the map", hazard_rank_map(store, ranking, epsg, plan.top, audience))]
            if (epsg := metric_epsg_if_located(store)) is not None
            else [],
        ),
        _forecast_section(fc, hist, plan) if fc is not None else Section("Completion forecast", [no_forecast]),
        residual.section,  # last: the national report carries the first four sections
    ]
    for s in sections:
        s.figures = [f for f in s.figures if f[1]]
    release_memory()
    return Report(
        kind="land-release",
        title="Land release",
        subtitle=f"activities {start or 'from the first record'} to {end or 'the last record'}; "
        f"remaining as of {as_of}",
        audience=audience,
        key_figures=key,
        sections=sections,
        provenance=provenance(
            store,
            [
                Activity,
                Organisation,
                HazardArea,
                Accident,
                InfrastructureArea,
                InfrastructureLine,
                InfrastructurePoint,
                AdminArea,
                FrontLine,
                QMInspection,
            ],
        ),
        method_notes=[
            "Areas in m² measured in the local UTM zone; released land from each activity's recorded outcome "
            "(IMAS 07.11): cancelled by non-technical survey, reduced by technical survey, cleared.",
            "Remaining area read from each hazard area's version history as known on the date shown.",
            "The forecast follows each open area through non-technical survey, technical survey and clearance "
            "at the shares and paces the record shows (see the forecast's assumptions); `safeground plan "
            "backtest` checks it against the record's own second half.",
        ],
        figures_checked={
            **tot,
            "remaining_m2": remaining,
            "open_areas": float(len(open_now)),
            "residual_investigations_open": float(residual.open),
        },
    )


def _forecast_section(fc: lf.Forecast, hist: pl.History, plan: PlanningInputs) -> Section:
    settings = fc.settings
    return Section(
        "Completion forecast",
        [
            "Each open area goes through the steps of land release it still needs: non-technical survey "
            "cancels a share of suspected area, technical survey reduces a share of what is left, and only "
            "the rest is cleared. The shares, the pace of each step and the teams are measured on this "
            f"record (as of {hist.as_of}); each simulation draws them within the range the record allows. "
            f"Working days Monday–Saturday; start {settings.start}; {settings.simulations} simulations; "
            "the areas are worked in priority order.",
            *fc.notes,
            f"All open areas are released between {fc.district['p10']} (P10) and {fc.district['p90']} (P90), "
            f"most likely around {fc.district['p50']} (P50).",
        ],
        tables=[
            (
                f"Completion dates of the {plan.top} highest priorities",
                table_html(fc.areas.head(plan.top), index=False),
            )
        ],
    )


def _ranking_table(r: pd.DataFrame) -> pd.DataFrame:
    cols = ["rank", "uid", "classification", "remaining_m2", "homes_nearby", "blocked", "accidents_nearby"]
    cols += [c for c in r.columns if c.startswith("c_")] + ["score"]
    out = r[cols].copy()
    out["classification"] = out["classification"].map(hazard_class_label)
    out["remaining_m2"] = out["remaining_m2"].round(0).astype(int)
    return out.rename(columns={c: "from " + c[2:] for c in cols if c.startswith("c_")})


@dataclass
class _Residual:
    section: Section
    open: int


def _residual_section(store: Store, audience: Audience) -> _Residual:
    """Residual contamination investigations: every one still open (IMAS 07.11 asks that each accident or find
    in released land be investigated), and those closed, with the organisation and the release they concern.
    Read through the audience's view: the public edition never names the accident or find, nor its day."""
    from safeground.access.policy import view

    frame = view(store, QMInspection, audience).frame
    if len(frame):
        frame = frame[frame["kind"] == "residual_contamination_investigation"]
    if not len(frame):
        return _Residual(
            Section(
                "Residual contamination",
                ["No accident or find has been recorded inside land released before it: no investigation is open."],
            ),
            0,
        )
    orgs = {o.uid: o.acronym or o.name for o in store.find(Organisation)}
    rows = pd.DataFrame(
        {
            "investigation": frame["uid"],
            "status": frame["status"],
            "opened": frame["inspection_date"].astype(str),
            "organisation": frame["organisation_uid"].map(orgs).fillna(frame["organisation_uid"]),
            "activity": frame["activity_uid"].fillna(""),
            "hazard area": frame["hazard_area_uid"].fillna(""),
            "closed": frame["closed_on"].fillna("").astype(str),
        }
    ).sort_values(["status", "opened"], ascending=[False, True])
    n_open = int((rows["status"] == "open").sum())
    text = [
        f"{len(rows)} residual contamination investigation(s), {n_open} still open. SafeGround opens one by itself "
        "when an accident or a find is recorded inside land released before it (the items one activity found "
        "in the same released land are one investigation); each stays here until the national authority "
        "closes it with its finding (safeground qm close)."
    ]
    if not audience.exact:
        text.append("This edition names neither the accident or find nor its day: dates are given to the month.")
    return _Residual(
        Section("Residual contamination", text, tables=[("Investigations", table_html(rows, index=False))]),
        n_open,
    )
