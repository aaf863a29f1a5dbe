"""Evidence reports, HDX exports and strike footprints: ``safeground report``, ``export``, ``strikes``."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeground.access import Audience
from safeground.cli.common import StoreOpt, console
from safeground.errors import SafeGroundError, as_flag
from safeground.outputs import OverwriteOpt, guard_output, write_text
from safeground.services.reports import (
    completion_forecast,
    forecast_backtest,
    hazard_priorities,
    write_hdx,
    write_report,
)
from safeground.tabular import frame_to_csv

if TYPE_CHECKING:
    pass

export_app = typer.Typer(help="Data exports: one layer (GeoPackage, GeoJSON, KML, CSV with HXL), or the HDX set.")
release_app = typer.Typer(help="Land release: finished surveys and clearances applied to their hazard areas.")
accidents_app = typer.Typer(help="Accidents: emergency hazard areas for survey.")
strikes_app = typer.Typer(help="Cluster munition strikes.")


class Kind(StrEnum):
    national = "national"
    casualties = "casualties"
    land_release = "land-release"
    map_accuracy = "map-accuracy"
    assistance = "assistance"
    missing = "missing"


AudienceOpt = Annotated[
    str,
    typer.Option(
        help="public (default: no identities, no exact positions, cells <5 suppressed), partner (the same in "
        "reports) or restricted."
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Directory for the HTML and PDF.")]


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SafeGroundError(f"{option} {text!r} is not a date", hint="write it as YYYY-MM-DD") from None


def report(
    kind: Annotated[
        Kind, typer.Argument(help="national, casualties, land-release, map-accuracy, assistance, missing (restricted).")
    ],
    store: StoreOpt = "demo.gpkg",
    out: OutOpt = Path("reports"),
    audience: AudienceOpt = "public",
    start: Annotated[str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day of the period (YYYY-MM-DD).")] = None,
    area: Annotated[str | None, typer.Option(help="Casualties: an admin area (name or uid).")] = None,
    weights: Annotated[Path | None, typer.Option(help="Priority weights: a TOML, YAML or JSON file.")] = None,
    risk: Annotated[Path | None, typer.Option(help="Predicted risk per hazard area: CSV with uid,risk.")] = None,
    teams: Annotated[
        str | None, typer.Option(help="Clearance teams by method (default: measured), e.g. manual=4,mechanical=1.")
    ] = None,
    productivity: Annotated[
        str | None, typer.Option(help="m² per team per day by method, e.g. manual=60,mechanical=1500:0.3 (:cv).")
    ] = None,
    simulations: Annotated[int, typer.Option(min=1, max=100000, help="Forecast simulations.")] = 1000,
    pdf: Annotated[bool, typer.Option(help="Also write the PDF.")] = True,
    overwrite: OverwriteOpt = False,
) -> None:
    """Write an evidence report (national, casualties, land-release, map-accuracy, assistance, missing) as HTML and PDF
    with provenance."""
    from safeground.landrelease import forecast as lf

    aud = Audience.parse(audience)
    written = write_report(
        kind.value,
        store,
        out,
        aud,
        start=_date(start, "--from"),
        end=_date(end, "--to"),
        area=area,
        weights=weights,
        risk=risk,
        teams=None if teams is None else lf.parse_teams(teams),
        productivity=None if productivity is None else lf.parse_productivity(productivity),
        simulations=simulations,
        pdf=pdf,
        overwrite=overwrite,
        param_style=as_flag,
    )
    console.print(f"[green]written[/] {written.html}" + (f" and {written.pdf}" if written.pdf else ""))
    console.print(f"data hash {written.content_hash[:16]}… · {written.seconds:.1f} s")


@export_app.command("hdx")
def export_hdx(
    store: StoreOpt = "demo.gpkg",
    out: OutOpt = Path("hdx"),
    audience: AudienceOpt = "public",
    overwrite: OverwriteOpt = False,
) -> None:
    """CSV files with HXL hashtags for the Humanitarian Data Exchange (and the Landmine Monitor table)."""
    for p in write_hdx(store, out, Audience.parse(audience), overwrite=overwrite):
        console.print(f"[green]written[/] {p}")


@strikes_app.command("to-hazards")
def strikes_to_hazards(
    store: StoreOpt = "demo.gpkg",
    dry_run: Annotated[bool, typer.Option(help="Show what would be added; store nothing.")] = False,
    entered_by: Annotated[str, typer.Option(help="Who records the new hazard areas.")] = "safeground strikes",
) -> None:
    """One confirmed hazard area per strike not yet covered: typical footprint and expected duds."""
    from safeground.services.hazards import strike_hazards

    res = strike_hazards(store, entered_by=entered_by, dry_run=dry_run)
    for fp in res.footprints:
        where = res.already_covered.get(fp.strike_uid)
        state = f"already covered by {where}" if where else ("would add" if dry_run else "added")
        console.print(
            f"{fp.strike_uid}: {fp.munition.name}, footprint {fp.area_m2:,.0f} m², "
            f"expected {fp.expected_duds:.0f} duds ({fp.note}) — {state}"
        )
    verb = "would add" if dry_run else "added"
    console.print(f"{verb} {len(res.created)} hazard areas; {len(res.already_covered)} strikes already covered")


@accidents_app.command("to-hazards")
def accidents_to_hazards(
    store: StoreOpt = "demo.gpkg",
    apply: Annotated[bool, typer.Option(help="Store the proposed emergency SHAs (a reviewer's decision).")] = False,
    entered_by: Annotated[str, typer.Option(help="Who records the new hazard areas.")] = "safeground accidents",
) -> None:
    """An emergency SHA for survey around each accident at a place nobody has surveyed since."""
    from safeground.services.hazards import emergency_hazards

    proposals = emergency_hazards(store, entered_by=entered_by, apply=apply)
    for p in proposals:
        console.print(
            f"{p.accident_uid}: {'opened' if apply else 'proposed'} {p.hazard.uid} "
            f"({p.hazard.estimated_area_m2:,.0f} m²) — {p.reason}"
        )
    if not proposals:
        console.print("every accident lies in a hazard area or in ground surveyed since: nothing to propose")
    elif not apply:
        console.print(f"{len(proposals)} emergency SHA(s) proposed; nothing stored. Confirm with --apply.")


@release_app.command("propose")
def release_propose(
    store: StoreOpt = "demo.gpkg",
    apply: Annotated[bool, typer.Option(help="Store the new hazard versions (a reviewer's decision).")] = False,
    entered_by: Annotated[str, typer.Option(help="Who records the change.")] = "safeground release",
) -> None:
    """Apply finished surveys and clearances to the hazard areas they name: what is left, or closed."""
    from safeground.services.hazards import release_changes

    proposals, changed = release_changes(store, entered_by=entered_by, apply=apply)
    for p in proposals:
        state = "closed" if p.closes else f"{p.remaining_m2:,.0f} m² remain"
        console.print(f"{p.hazard_uid} ← {p.activity_uid}: {p.released_m2:,.0f} m² of {p.before_m2:,.0f} released, "
                      f"{state} — {p.reason}")  # fmt: skip
    if not proposals:
        console.print("every finished survey and clearance is already applied to its hazard area")
    elif apply:
        console.print(f"[green]applied[/]: {changed} hazard area(s) updated (previous versions kept in history)")
    else:
        console.print(f"{len(proposals)} change(s) proposed; nothing stored. Confirm with --apply.")


plan_app = typer.Typer(help="Clearance planning: priorities by impact and the completion forecast.")
WeightsOpt = Annotated[Path | None, typer.Option(help="Priority weights: a TOML, YAML or JSON file.")]
RiskOpt = Annotated[Path | None, typer.Option(help="Predicted risk per hazard area: CSV with uid,risk.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table or csv.")]


def _show(frame: object, fmt: str, title: str, out: Path | None, overwrite: bool, store: str) -> None:
    import sys

    import pandas as pd
    from rich.table import Table

    assert isinstance(frame, pd.DataFrame)
    if fmt == "csv":
        text = str(frame_to_csv(frame, index=False))
        if out:
            write_text(out, text, overwrite=overwrite, store_location=store)
            console.print(f"[green]written[/] {out}")
        else:
            sys.stdout.write(text)
        return
    if fmt != "table":
        raise SafeGroundError(f"unknown --format {fmt!r}", hint="use table or csv")
    t = Table(title=title)
    for c in frame.columns:
        t.add_column(str(c).replace("_", " "), justify="right")
    for row in frame.itertuples(index=False):
        t.add_row(*[f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row])
    console.print(t)


@plan_app.command("priorities")
def plan_priorities(
    store: StoreOpt = "demo.gpkg",
    weights: WeightsOpt = None,
    risk: RiskOpt = None,
    top: Annotated[int, typer.Option(min=1, help="Rows shown in the table.")] = 20,
    fmt: FormatOpt = "table",
    out: Annotated[Path | None, typer.Option(help="Write csv here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Open hazard areas ranked by impact, with each factor's contribution to the score."""
    if out:
        guard_output(out, overwrite=overwrite, store_location=store)
    prio = hazard_priorities(store, weights, risk)
    ranking = prio.ranking
    cols = ["rank", "uid", "remaining_m2", "homes_nearby", "blocked", "accidents_nearby"]
    cols += [c for c in ranking.columns if c.startswith("c_")] + ["score"]
    frame = ranking if fmt == "csv" else ranking[cols].head(top)
    _show(frame, fmt, "Hazard areas by impact (c_: contribution of each factor)", out, overwrite, store)
    if fmt == "table":
        console.print(prio.note)


@plan_app.command("forecast")
def plan_forecast(
    store: StoreOpt = "demo.gpkg",
    teams: Annotated[
        str | None, typer.Option(help="Clearance teams by method (default: measured), e.g. manual=4,mechanical=1.")
    ] = None,
    survey_teams: Annotated[
        str | None, typer.Option(help="Technical survey teams by method (default: measured), e.g. manual=2.")
    ] = None,
    productivity: Annotated[
        str | None, typer.Option(help="Clearance m²/team/day by method (default: measured), e.g. manual=60:0.3.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First working day (default: after the last record).")] = None,
    all_clearance: Annotated[
        bool, typer.Option(help="Plan every remaining m² as clearance (the old reading, for comparison).")
    ] = False,
    simulations: Annotated[int, typer.Option(min=1, max=100000)] = 1000,
    weights: WeightsOpt = None,
    risk: RiskOpt = None,
    top: Annotated[int, typer.Option(min=1)] = 20,
    fmt: FormatOpt = "table",
    out: Annotated[Path | None, typer.Option(help="Write csv here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """When each area and the district will be released: P10/P50/P90 dates, from what the record shows.

    Each open area goes through the steps it still needs (NTS, TS, clearance)
    at the shares and paces measured on the record; the assumptions are printed
    with what they were measured on.
    """
    from safeground.landrelease import forecast as lf

    if out:
        guard_output(out, overwrite=overwrite, store_location=store)
    fc = completion_forecast(
        store,
        weights=weights,
        risk=risk,
        teams=None if teams is None else lf.parse_teams(teams),
        survey_teams=None if survey_teams is None else lf.parse_teams(survey_teams),
        productivity=lf.parse_productivity(productivity) if productivity else None,
        start=_date(start, "--start"),
        simulations=simulations,
        all_clearance=all_clearance,
    )
    first = fc.settings.start
    areas = fc.areas if fmt == "csv" else fc.areas.head(top)
    _show(areas, fmt, f"Completion forecast from {first}", out, overwrite, store)
    if fmt == "table":
        for line in fc.notes:
            console.print(line)
        d = fc.district
        console.print(f"[bold]all open areas released[/]: P10 {d['p10']}, P50 {d['p50']}, P90 {d['p90']}")


@plan_app.command("backtest")
def plan_backtest(
    store: StoreOpt = "demo.gpkg",
    cut: Annotated[str | None, typer.Option(help="Forecast as of (default: mid-operations).")] = None,
    simulations: Annotated[int, typer.Option(min=1, max=100000)] = 1000,
    png: Annotated[Path | None, typer.Option(help="Write the fan chart (forecast band and the record) here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Is the forecast honest? Forecast from the record up to --cut and compare with what was released by the end."""
    done = forecast_backtest(store, cut=_date(cut, "--cut"), simulations=simulations, png=png, overwrite=overwrite)
    b = done.backtest
    for line in b.notes:
        console.print(line)
    console.print(f"[bold]{b.line()}[/]")
    if done.chart is not None:
        console.print(f"fan chart: {png}")
