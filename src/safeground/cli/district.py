"""Commands about the district as a whole: generate the test bed, demo, summary, overview map."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from safeground.cli.common import SizeOpt, StoreOpt, console, progress
from safeground.model.vocab import hazard_class_label
from safeground.outputs import OverwriteOpt

if TYPE_CHECKING:
    from safeground.reports.summary import DistrictSummary


class _Steps:
    """The spinner of a long step, shown from the first step on: a refusal before any work prints none."""

    def __init__(self) -> None:
        self._prog: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, msg: str) -> None:
        if self._prog is None:
            self._prog = progress()
            self._prog.start()
            self._task = self._prog.add_task(msg, total=None)
        assert self._task is not None
        self._prog.update(self._task, description=msg)

    def stop(self) -> None:
        if self._prog is not None:
            self._prog.stop()
        self._prog = self._task = None


def generate(
    store: StoreOpt = "district.gpkg",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same district.")] = 2020,
    size_km: SizeOpt = 20.0,
    force: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            "--force",
            help="Replace an existing file or a store of generated data only (never one "
            "with imported or edited records).",
        ),
    ] = False,
) -> None:
    """Generate a synthetic post-conflict district (the test bed) into a GeoPackage store."""
    from safeground.services.district import generate_district

    steps = _Steps()
    try:
        took = generate_district(store, seed=seed, size_km=size_km, overwrite=force, progress=steps)
    finally:
        steps.stop()
    console.print(f"[green]Generated[/] {store} in {took:.1f} s")


def _print_summary(s: DistrictSummary, store_path: str) -> None:
    def none_stored(what: str, layer: str) -> None:
        console.print(f"{what}: none stored (import them: safeground import {layer} FILE --store {store_path})")

    if len(s.hazards):
        t = Table(title="Hazard areas (IMAS classification and status)")
        for col in ("class", "status", "areas", "estimated km²", "polygon km² now", "remaining km²"):
            t.add_column(col, justify="right" if col not in ("class", "status") else "left")
        for r in s.hazards.itertuples(index=False):
            t.add_row(
                hazard_class_label(r.classification),
                str(r.status).replace("_", " "),
                str(r.count),
                f"{r.estimated_km2:.2f}",
                f"{r.area_km2:.2f}",
                f"{r.remaining_km2:.2f}",
            )
        console.print(t)
        if s.area_note:
            console.print(s.area_note)
    else:
        none_stored("Hazard areas", "hazard_areas")
    if len(s.records_by_source):
        t = Table(title="Minefield records received")
        for col in ("source", "records", "mines shown", "received"):
            t.add_column(col)
        for r in s.records_by_source.itertuples(index=False):
            t.add_row(str(r.source), str(r.records), f"{r.expected_mines:,}", str(r.first_received))
        console.print(t)
    else:
        none_stored("Minefield records", "minefield_records")
    if len(s.items):
        t = Table(title="Explosive ordnance: recorded on maps vs found on the ground")
        for col in ("type", "recorded", "found"):
            t.add_column(col)
        for eo_type, r in s.items.iterrows():
            t.add_row(str(eo_type).replace("_", " "), f"{int(r['recorded']):,}", f"{int(r['found']):,}")
        console.print(t)
    else:
        none_stored("Explosive ordnance items", "eo_items")
    if len(s.casualties):
        first, last = s.casualty_period or ("?", "?")
        t = Table(title=f"Casualties {first} … {last} (Landmine Monitor categories)")
        t.add_column("")
        for col in s.casualties.columns:
            t.add_column(str(col))
        for idx, r in s.casualties.iterrows():
            t.add_row(str(idx), *[str(int(v)) for v in r])
        console.print(t)
        t = Table(title="Casualties by year")
        t.add_column("year")
        for col in s.casualties_by_year.columns:
            t.add_column(str(col), justify="right")
        for year, r in s.casualties_by_year.iterrows():
            t.add_row(str(year), *[str(int(v)) for v in r])
        console.print(t)
        t = Table(title="Civilian casualties by activity at the time")
        t.add_column("activity")
        t.add_column("victims", justify="right")
        for r in s.civilian_activity.itertuples(index=False):
            t.add_row(str(r.activity_at_time).replace("_", " "), str(r.victims))
        console.print(t)
    if s.accidents_without_victims:
        from safeground.reports.summary import no_victim_details

        console.print(f"Casualties: {no_victim_details(s.accidents_without_victims)}.")
    lr = s.land_release
    remain = (
        f"[bold]{s.totals['remaining_km2']:.2f} km²[/] remain suspected or confirmed."
        if s.totals["hazard_areas"]
        else "no hazard area is stored, so nothing is known to remain."
    )
    if not s.totals.get("activities"):
        console.print(f"[bold]Land released[/]: no survey or clearance activity is stored; {remain}")
        return
    console.print(
        f"[bold]Land released[/]: {lr['cancelled_km2']:.2f} km² cancelled (NTS), "
        f"{lr['reduced_km2']:.2f} km² reduced (TS), {lr['cleared_km2']:.2f} km² cleared; {remain}"
    )


def summary(store: StoreOpt = "demo.gpkg") -> None:
    """Print the manager's summary of a store."""
    from safeground.services.district import district_summary

    _print_summary(district_summary(store), store)


def map_(
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path, typer.Option(help="PNG file to write.")] = Path("district-map.png"),
    overwrite: OverwriteOpt = False,
) -> None:
    """Draw the overview map of a store (PNG): a district, or a whole country at its own scale."""
    from safeground.services.district import draw_overview_map

    draw_overview_map(store, out, overwrite=overwrite)
    console.print(f"[green]Map written[/] to {out}")


def demo(
    store: StoreOpt = "demo.gpkg",
    png: Annotated[Path, typer.Option(help="Map picture to write.")] = Path("demo-map.png"),
    seed: Annotated[int, typer.Option(help="Random seed of the demo district.")] = 2020,
    size_km: SizeOpt = 20.0,
    overwrite: OverwriteOpt = False,
) -> None:
    """Generate the demo district, summarise it and draw its map (replaces the demo files, never real data)."""
    from safeground.services.district import demo_district

    steps = _Steps()

    def summary_ready(summary: DistrictSummary) -> None:
        steps.stop()
        _print_summary(summary, store)

    try:
        made = demo_district(
            store, png, seed=seed, size_km=size_km, overwrite=overwrite, progress=steps, summary_ready=summary_ready
        )
    finally:
        steps.stop()
    console.print(f"\n[green]Done in {made.seconds:.1f} s.[/] Open next:")
    console.print(f"  • [bold]{store}[/] ({made.store_mb:.1f} MB) in QGIS: every layer is a GeoPackage layer in WGS 84")
    console.print(f"  • [bold]{png}[/]: the district map (hazards, records, finds, accidents)")
    console.print(f"  • [bold]safeground summary --store {store}[/] to print this summary again")
