"""Commands about the district as a whole: generate the test bed, demo, summary, overview map."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeground.cli.common import SizeOpt, StoreOpt, console, progress
from safeground.errors import SafeGroundError
from safeground.outputs import (
    OutputRefused,
    OverwriteOpt,
    generated_only,
    guard_output,
    is_store_file,
    mark_generated,
    record_made,
    staged_file,
)
from safeground.storage import is_store_url


def _generate(store_path: str, seed: int, size_km: float, force: bool) -> float:
    """Build the district into a temporary file and move it into place only when complete,
    so a failure never costs the user the store that was there before."""
    from safeground.generator.config import DistrictConfig
    from safeground.generator.district import build_district, write_district
    from safeground.storage import open_store

    if is_store_url(store_path):
        return _generate_into_server(store_path, DistrictConfig(seed=seed, size_km=size_km), force)
    path = Path(store_path)
    if path.exists():
        if not force:
            raise OutputRefused(
                f"{path} already exists; SafeGround will not overwrite a store",
                hint="add --overwrite (or --force) to replace a store of generated data, or choose another --store",
            )
        _refuse_to_replace_real_data(path, overwrite=True)
    if not path.parent.exists():
        raise SafeGroundError(f"the folder {path.parent} does not exist", hint="create it or choose another --store")
    cfg = DistrictConfig(seed=seed, size_km=size_km)
    tmp = path.with_name(f".{path.name}.partial")
    t0 = time.perf_counter()
    try:
        with progress() as prog:
            task = prog.add_task("building district", total=None)

            def step(msg: str) -> None:
                prog.update(task, description=msg)

            district = build_district(cfg, step)
            for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                p.unlink(missing_ok=True)
            with open_store(str(tmp)) as store:
                write_district(district, store, step)
                mark_generated(store)
            prog.update(task, description="district written")
        for p in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        os.replace(tmp, path)
        record_made(path)
    finally:
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
    return time.perf_counter() - t0


def _generate_into_server(url: str, cfg: object, force: bool) -> float:
    """On PostGIS the district goes into one schema, in one transaction."""
    from safeground.generator.district import build_district, write_district
    from safeground.storage import open_store

    t0 = time.perf_counter()
    store = open_store(url)
    try:
        if any(store.counts().values()):
            if not force:
                raise SafeGroundError(
                    f"the store at {store.location} is not empty; SafeGround will not overwrite it",
                    hint="add --overwrite to replace it, or give another ?schema=",
                )
            if not generated_only(store):
                raise OutputRefused(
                    f"the store at {store.location} holds data that was not generated; SafeGround will not replace it",
                    hint="give another ?schema=",
                )
            store.drop()  # type: ignore[attr-defined]
            store.close()
            store = open_store(url)
        with progress() as prog:
            task = prog.add_task("building district", total=None)

            def step(msg: str) -> None:
                prog.update(task, description=msg)

            write_district(build_district(cfg, step), store, step)  # type: ignore[arg-type]
            mark_generated(store)
    finally:
        store.close()
    return time.perf_counter() - t0


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
    took = _generate(store, seed, size_km, force)
    console.print(f"[green]Generated[/] {store} in {took:.1f} s")


def _print_summary(store_path: str) -> None:
    from safeground.reports.summary import summarise
    from safeground.storage import open_store

    with open_store(store_path, readonly=True) as store:
        s = summarise(store)

    def none_stored(what: str, layer: str) -> None:
        console.print(f"{what}: none stored (import them: safeground import {layer} FILE --store {store_path})")

    if len(s.hazards):
        t = Table(title="Hazard areas (IMAS classification and status)")
        for col in ("class", "status", "areas", "estimated km²", "polygon km² now", "remaining km²"):
            t.add_column(col, justify="right" if col not in ("class", "status") else "left")
        for r in s.hazards.itertuples(index=False):
            t.add_row(
                {"confirmed_hazardous_area": "CHA", "suspected_hazardous_area": "SHA"}.get(
                    str(r.classification), str(r.classification)
                ),
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
    _print_summary(store)


def map_(
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path, typer.Option(help="PNG file to write.")] = Path("district-map.png"),
    overwrite: OverwriteOpt = False,
) -> None:
    """Draw the overview map of a store (PNG): a district, or a whole country at its own scale."""
    from safeground.reports.district_map import draw_district_map
    from safeground.storage import open_store

    with open_store(store, readonly=True) as s, staged_file(out, overwrite=overwrite, store_location=store) as tmp:
        draw_district_map(s, tmp)
    console.print(f"[green]Map written[/] to {out}")


def _refuse_to_replace_real_data(path: Path, overwrite: bool) -> None:
    """The demo and the generator replace a store of generated data only, never one holding anything a person
    entered (imports, forms, edits, syncs); a file that is not a store only with --overwrite."""
    if not path.exists():
        return
    if not is_store_file(path):
        guard_output(path, overwrite=overwrite)
        return
    from safeground.storage import open_store

    try:
        with open_store(str(path), readonly=True) as s:
            generated = generated_only(s)
    except SafeGroundError:
        generated = False
    if not generated:
        raise OutputRefused(
            f"{path} holds data that was not generated (imported, entered or edited records); "
            "SafeGround will not replace it",
            hint="choose another file with --store; delete it yourself only if you are sure it is a copy",
        )


def demo(
    store: StoreOpt = "demo.gpkg",
    png: Annotated[Path, typer.Option(help="Map picture to write.")] = Path("demo-map.png"),
    seed: Annotated[int, typer.Option(help="Random seed of the demo district.")] = 2020,
    size_km: SizeOpt = 20.0,
    overwrite: OverwriteOpt = False,
) -> None:
    """Generate the demo district, summarise it and draw its map (replaces the demo files, never real data)."""
    from safeground.reports.district_map import draw_district_map
    from safeground.storage import open_store

    t0 = time.perf_counter()
    if not is_store_url(store):
        guard_output(png, overwrite=overwrite, store_location=store)
        _refuse_to_replace_real_data(Path(store), overwrite)
    _generate(store, seed, size_km, force=True)
    _print_summary(store)
    with open_store(store, readonly=True) as s, progress() as prog, staged_file(png, overwrite=overwrite) as tmp:
        prog.add_task("drawing the district map", total=None)
        draw_district_map(s, tmp, title=f"SafeGround demo district (seed {seed}, {size_km:g} × {size_km:g} km)")
    took = time.perf_counter() - t0
    size_mb = Path(store).stat().st_size / 1e6
    console.print(f"\n[green]Done in {took:.1f} s.[/] Open next:")
    console.print(f"  • [bold]{store}[/] ({size_mb:.1f} MB) in QGIS: every layer is a GeoPackage layer in WGS 84")
    console.print(f"  • [bold]{png}[/]: the district map (hazards, records, finds, accidents)")
    console.print(f"  • [bold]safeground summary --store {store}[/] to print this summary again")
