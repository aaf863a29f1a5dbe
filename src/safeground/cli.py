"""The ``safeground`` command: a thin layer over the domain packages.

Every SafeGroundError becomes a message with the fix and exit code 2, never a
traceback: the person at the keyboard may be a field officer, not a developer.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from safeground import __version__
from safeground.errors import SafeGroundError

app = typer.Typer(
    name="safeground",
    help="SafeGround: mine action information system (mine maps, hazards, casualties, land release).",
    no_args_is_help=True,
    add_completion=False,
    # a traceback with local variables could print victims' names or mine positions
    pretty_exceptions_show_locals=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)  # error lines stay whole for logs and grep

StoreOpt = Annotated[str, typer.Option("--store", "-s", help="GeoPackage file of the store.")]


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console)


def _generate(store_path: str, seed: int, size_km: float, force: bool) -> float:
    """Build the district into a temporary file and move it into place only when complete,
    so a failure never costs the user the store that was there before."""
    from safeground.generator.config import DistrictConfig
    from safeground.generator.district import build_district, write_district
    from safeground.storage.base import open_store

    if _is_url(store_path):
        return _generate_into_server(store_path, DistrictConfig(seed=seed, size_km=size_km), force)
    path = Path(store_path)
    if path.exists() and not force:
        raise SafeGroundError(
            f"{path} already exists; SafeGround will not overwrite a store",
            hint="add --force to replace it, or choose another file with --store",
        )
    if not path.parent.exists():
        raise SafeGroundError(f"the folder {path.parent} does not exist", hint="create it or choose another --store")
    cfg = DistrictConfig(seed=seed, size_km=size_km)
    tmp = path.with_name(f".{path.name}.partial")
    t0 = time.perf_counter()
    try:
        with _progress() as prog:
            task = prog.add_task("building district", total=None)

            def step(msg: str) -> None:
                prog.update(task, description=msg)

            district = build_district(cfg, step)
            for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                p.unlink(missing_ok=True)
            with open_store(str(tmp)) as store:
                write_district(district, store, step)
            prog.update(task, description="district written")
        for p in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        os.replace(tmp, path)
    finally:
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
    return time.perf_counter() - t0


def _is_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def _generate_into_server(url: str, cfg: object, force: bool) -> float:
    """On PostGIS the district goes into one schema, in one transaction."""
    from safeground.generator.district import build_district, write_district
    from safeground.storage.base import open_store

    t0 = time.perf_counter()
    store = open_store(url)
    try:
        if any(store.counts().values()):
            if not force:
                raise SafeGroundError(
                    f"the store at {store.location} is not empty; SafeGround will not overwrite it",
                    hint="add --force to replace it, or give another ?schema=",
                )
            store.drop()  # type: ignore[attr-defined]
            store.close()
            store = open_store(url)
        with _progress() as prog:
            task = prog.add_task("building district", total=None)

            def step(msg: str) -> None:
                prog.update(task, description=msg)

            write_district(build_district(cfg, step), store, step)  # type: ignore[arg-type]
    finally:
        store.close()
    return time.perf_counter() - t0


SizeOpt = Annotated[float, typer.Option(min=4.0, max=200.0, help="Side of the square district in km (4–200).")]


@app.command()
def generate(
    store: StoreOpt = "district.gpkg",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same district.")] = 2020,
    size_km: SizeOpt = 20.0,
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Generate a synthetic post-conflict district (the test bed) into a GeoPackage store."""
    took = _generate(store, seed, size_km, force)
    console.print(f"[green]Generated[/] {store} in {took:.1f} s")


def _print_summary(store_path: str) -> None:
    from safeground.reports.summary import summarise
    from safeground.storage.base import open_store

    with open_store(store_path, readonly=True) as store:
        s = summarise(store)
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
    t = Table(title="Minefield records received")
    for col in ("source", "records", "mines shown", "received"):
        t.add_column(col)
    for r in s.records_by_source.itertuples(index=False):
        t.add_row(str(r.source), str(r.records), f"{r.expected_mines:,}", str(r.first_received))
    console.print(t)
    t = Table(title="Explosive ordnance: recorded on maps vs found on the ground")
    for col in ("type", "recorded", "found"):
        t.add_column(col)
    for eo_type, r in s.items.iterrows():
        t.add_row(str(eo_type).replace("_", " "), f"{int(r['recorded']):,}", f"{int(r['found']):,}")
    console.print(t)
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
    lr = s.land_release
    console.print(
        f"[bold]Land released[/]: {lr['cancelled_km2']:.2f} km² cancelled (NTS), "
        f"{lr['reduced_km2']:.2f} km² reduced (TS), {lr['cleared_km2']:.2f} km² cleared; "
        f"[bold]{s.totals['remaining_km2']:.2f} km²[/] remain suspected or confirmed."
    )


@app.command()
def summary(store: StoreOpt = "demo.gpkg") -> None:
    """Print the manager's summary of a store."""
    _print_summary(store)


@app.command("map")
def map_(
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path, typer.Option(help="PNG file to write.")] = Path("district-map.png"),
) -> None:
    """Draw the district overview map (PNG)."""
    from safeground.reports.district_map import draw_district_map
    from safeground.storage.base import open_store

    with open_store(store, readonly=True) as s:
        draw_district_map(s, out)
    console.print(f"[green]Map written[/] to {out}")


def _refuse_to_replace_real_data(path: Path) -> None:
    """The demo replaces its own file, never a store that holds anything but a generated district."""
    if not path.exists():
        return
    from safeground.storage.base import open_store

    try:
        with open_store(str(path), readonly=True) as s:
            generated = s.get_meta("generator") is not None
            imported = s.get_meta("imported") is not None
    except SafeGroundError:
        generated, imported = False, False
    if not generated or imported:
        raise SafeGroundError(
            f"{path} holds data that the demo did not generate; the demo will not replace it",
            hint="run the demo with another --store, e.g. --store demo2.gpkg",
        )


@app.command()
def demo(
    store: StoreOpt = "demo.gpkg",
    png: Annotated[Path, typer.Option(help="Map picture to write.")] = Path("demo-map.png"),
    seed: Annotated[int, typer.Option(help="Random seed of the demo district.")] = 2020,
    size_km: SizeOpt = 20.0,
) -> None:
    """Generate the demo district, summarise it and draw its map (replaces the demo files)."""
    from safeground.reports.district_map import draw_district_map
    from safeground.storage.base import open_store

    t0 = time.perf_counter()
    _refuse_to_replace_real_data(Path(store))
    _generate(store, seed, size_km, force=True)
    _print_summary(store)
    with open_store(store, readonly=True) as s, _progress() as prog:
        prog.add_task("drawing the district map", total=None)
        draw_district_map(s, png, title=f"SafeGround demo district (seed {seed}, {size_km:g} × {size_km:g} km)")
    took = time.perf_counter() - t0
    size_mb = Path(store).stat().st_size / 1e6
    console.print(f"\n[green]Done in {took:.1f} s.[/] Open next:")
    console.print(f"  • [bold]{store}[/] ({size_mb:.1f} MB) in QGIS: every layer is a GeoPackage layer in WGS 84")
    console.print(f"  • [bold]{png}[/]: the district map (hazards, records, finds, accidents)")
    console.print(f"  • [bold]safeground summary --store {store}[/] to print this summary again")


@app.command("import")
def import_(
    layer: Annotated[str, typer.Argument(help="Target layer, e.g. hazard_areas, eo_items, accidents.")],
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile, KML, CSV with lon/lat …")],
    store: Annotated[str, typer.Option("--store", "-s", help="GeoPackage file of the store.")],
    repair: Annotated[bool, typer.Option(help="Fix repairable geometry problems and list the changes.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check everything, write nothing.")] = False,
    new: Annotated[bool, typer.Option(help="Create the store if it does not exist yet.")] = False,
    source_layer: Annotated[str | None, typer.Option(help="Layer to read from a file with several.")] = None,
) -> None:
    """Import a GIS file into one layer: all features or none."""
    from safeground.intake.features import import_features
    from safeground.storage.base import open_store

    url = _is_url(store)
    if not url and not Path(store).exists() and not new:
        raise SafeGroundError(f"no SafeGround store at {store}", hint="check the path, or add --new to create it")
    with open_store(store, create=new or not url, readonly=dry_run and not url and Path(store).exists()) as s:
        if dry_run and s.readonly:
            rep = _dry_run(s, layer, file, repair, source_layer)
        else:
            rep = import_features(s, layer, file, repair=repair, dry_run=dry_run, source_layer=source_layer)
            if not dry_run:
                s.set_meta("imported", "yes")
    for note in rep.notes:
        console.print(f"[yellow]note[/]: {note}")
    for p in rep.repairs:
        console.print(f"[yellow]repaired[/]: {p.describe()}")
    verb = "would import" if dry_run else "imported"
    console.print(f"[green]{verb}[/] {len(rep.created)} record(s) into {layer} from {file.name}")


def _dry_run(store: object, layer: str, file: Path, repair: bool, source_layer: str | None) -> object:
    """A dry run must not touch the file: validate against a scratch copy."""
    import shutil
    import tempfile

    from safeground.intake.features import import_features
    from safeground.storage.base import open_store

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "dry-run.gpkg"
        shutil.copy(store.location, copy)  # type: ignore[attr-defined]
        with open_store(str(copy)) as scratch:
            return import_features(scratch, layer, file, repair=repair, dry_run=True, source_layer=source_layer)


@app.command()
def layers() -> None:
    """List the layers of a SafeGround store and what each holds."""
    from safeground.model import RECORD_TYPES

    t = Table(title="SafeGround layers")
    for col in ("layer", "geometry", "restricted", "what it holds"):
        t.add_column(col)
    for name, cls in RECORD_TYPES.items():
        t.add_row(name, cls.GEOMETRY or "(table)", "yes" if cls.RESTRICTED else "", cls.TITLE)
    console.print(t)


@app.command()
def history(
    layer: Annotated[str, typer.Argument(help="Layer name, e.g. hazard_areas.")],
    uid: Annotated[str, typer.Argument(help="Record identifier, e.g. HA-00012.")],
    store: StoreOpt = "demo.gpkg",
) -> None:
    """Show every version of one record: nothing is ever overwritten."""
    from safeground.intake.features import record_type_for
    from safeground.storage.base import open_store

    cls = record_type_for(layer)
    with open_store(store, readonly=True) as s:
        versions = s.history(cls, uid)
    t = Table(title=f"History of {uid}")
    for col in ("version", "date of information", "entered by", "change"):
        t.add_column(col)
    for v in versions:
        t.add_row(str(v.version), str(v.date_of_information), v.entered_by, v.change_reason or "")
    console.print(t)


@app.command()
def check(
    lon: Annotated[float | None, typer.Argument(help="Longitude (WGS 84 degrees).")] = None,
    lat: Annotated[float | None, typer.Argument(help="Latitude (WGS 84 degrees).")] = None,
    store: StoreOpt = "demo.gpkg",
    batch: Annotated[Path | None, typer.Option(help="CSV with lon,lat columns: check every row.")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the batch results (CSV).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json (single point).")] = "text",
) -> None:
    """Is it safe here? Checks a point (or a CSV of points) against every known danger."""
    import json as _json

    import pandas as pd

    from safeground.safety.check import SafetyIndex
    from safeground.storage.base import open_store

    if batch is None and (lon is None or lat is None):
        raise SafeGroundError("give LON LAT, or --batch FILE.csv", hint="e.g. safeground check 47.10 39.62")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SafeGroundError(f"{lon}, {lat} is not a longitude/latitude", hint="longitude first, then latitude")
    with open_store(store, readonly=True) as s:
        index = SafetyIndex.from_store(s)
    if batch is not None:
        pts = pd.read_csv(batch)
        missing = {"lon", "lat"} - set(pts.columns)
        if missing:
            raise SafeGroundError(f"{batch.name}: no column {', '.join(sorted(missing))}", hint="name them lon and lat")
        bad = pts[~pts["lon"].between(-180, 180) | ~pts["lat"].between(-90, 90)]
        if len(bad):
            raise SafeGroundError(f"{batch.name}, row {int(bad.index[0]) + 2}: not a longitude/latitude")
        res = index.check_many(pts["lon"].to_numpy(), pts["lat"].to_numpy())
        target = out or batch.with_name(batch.stem + "-checked.csv")
        res.to_csv(target, index=False)
        counts = res["level"].value_counts()
        console.print(
            f"[green]checked[/] {len(res):,} points → {target}: " + ", ".join(f"{k}: {v:,}" for k, v in counts.items())
        )
        return
    ans = index.check(lon, lat)  # type: ignore[arg-type]
    if fmt == "json":
        sys.stdout.write(
            _json.dumps(
                {
                    "lon": ans.lon,
                    "lat": ans.lat,
                    "level": ans.level.name.lower(),
                    "verdict": ans.verdict,
                    "findings": [f.__dict__ for f in ans.findings],
                    "released": [f.__dict__ for f in ans.released],
                    "risk": ans.risk,
                },
                indent=1,
            )
            + "\n"
        )
        return
    colour = {2: "red", 1: "yellow", 0: "green"}[int(ans.level)]
    console.print(f"[bold {colour}]{ans.verdict}[/]")
    for f in ans.findings[:8]:
        where = "inside" if f.inside else f"{f.distance_m:.0f} m from"
        console.print(f"  • {where} {f.label} (safety buffer {f.buffer_m:.0f} m)")
    console.print(f"  Predicted risk: {ans.risk}")


def _place(store: object, name: str) -> tuple[float, float]:
    """A named settlement, cemetery, checkpoint … of the store, as lon/lat."""
    from safeground.model import InfrastructureArea, InfrastructurePoint

    for cls in (InfrastructureArea, InfrastructurePoint):
        frame = store.read_frame(cls)  # type: ignore[attr-defined]
        hit = frame[frame["name"].fillna("").str.lower() == name.lower()]
        if len(hit):
            p = hit.geometry.iloc[0].representative_point()
            return p.x, p.y
    raise SafeGroundError(
        f"no place named {name!r} in the store", hint="use the name of a settlement, cemetery or checkpoint"
    )


def _lonlat(text_: str) -> tuple[float, float]:
    try:
        lon_s, lat_s = text_.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        raise SafeGroundError(f"{text_!r} is neither 'lon,lat' nor a known place") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SafeGroundError(f"{text_!r} is not a longitude/latitude", hint="longitude first, then latitude")
    return lon, lat


@app.command()
def route(
    origin: Annotated[str, typer.Argument(help="'lon,lat' or a place name (e.g. 'Entry checkpoint 1').")],
    destination: Annotated[str, typer.Argument(help="'lon,lat' or a place name (e.g. 'Dashkend cemetery').")],
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path | None, typer.Option(help="Write the route as GeoJSON here.")] = None,
) -> None:
    """A safe walking route that keeps out of hazard areas, records and strike footprints with their buffers."""
    import json as _json

    import shapely

    from safeground.routing.build import dangers_from_store, network_from_store
    from safeground.storage.base import open_store

    with open_store(store, readonly=True) as s:
        a = _lonlat(origin) if "," in origin else _place(s, origin)
        b = _lonlat(destination) if "," in destination else _place(s, destination)
        net = network_from_store(s)
        net.apply_dangers(dangers_from_store(s, net.epsg))
    ans = net.route(a, b)
    colour = "green" if ans.found else "red"
    console.print(f"[bold {colour}]{ans.explanation}[/]")
    for what, d in ans.near_danger[:10]:
        console.print(f"  • passes {d:.0f} m from {what}")
    if ans.snapped_from_m > 50 or ans.snapped_to_m > 50:
        console.print(
            f"  note: start is {ans.snapped_from_m:.0f} m, end {ans.snapped_to_m:.0f} m from the nearest road or path"
        )
    if out and ans.path is not None:
        feature = {
            "type": "Feature",
            "properties": {"found": ans.found, "length_m": round(ans.length_m, 1), "explanation": ans.explanation},
            "geometry": _json.loads(shapely.to_geojson(ans.path)),
        }
        out.write_text(_json.dumps({"type": "FeatureCollection", "features": [feature]}))
        console.print(f"[green]route written[/] to {out}")


@app.command("village-map")
def village_map(
    name: Annotated[str, typer.Argument(help="Settlement or cemetery, e.g. 'Chaykend' or 'Chaykend cemetery'.")],
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path | None, typer.Option(help="PDF file to write.")] = None,
    lang: Annotated[str, typer.Option(help="Languages, comma-separated (files in reports/i18n).")] = "az,en",
) -> None:
    """A one-page printable A4 risk map of a settlement or cemetery, in two languages."""
    from safeground.reports.village_map import render_village_map
    from safeground.storage.base import open_store

    target = out or Path(f"{name.lower().replace(' ', '-')}-risk-map.pdf")
    with open_store(store, readonly=True) as s:
        render_village_map(s, name, target, tuple(x.strip() for x in lang.split(",") if x.strip()))
    console.print(f"[green]written[/] {target}")


maps_app = typer.Typer(help="Minefield records (mine maps): accuracy against what clearance found.")
app.add_typer(maps_app, name="maps")


def _accuracy_options(as_of: str | None) -> object:
    from datetime import date

    from safeground.minemaps.accuracy import AccuracyOptions

    if as_of is None:
        return AccuracyOptions()
    try:
        return AccuracyOptions(as_of=date.fromisoformat(as_of))
    except ValueError:
        raise SafeGroundError(f"--as-of {as_of!r} is not a date", hint="write it as YYYY-MM-DD") from None


@maps_app.command("accuracy")
def maps_accuracy(
    store: StoreOpt = "demo.gpkg",
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    as_of: Annotated[str | None, typer.Option(help="Use only what was known on this date (YYYY-MM-DD).")] = None,
    save: Annotated[bool, typer.Option(help="Store the assessments and corrected positions as new layers.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write csv/json here instead of the screen.")] = None,
) -> None:
    """How good was each minefield record? Scores every record against clearance results."""
    from safeground.minemaps.accuracy import (
        assess_record,
        by_source,
        gather_evidence,
        results_table,
        save_results,
        to_json,
    )
    from safeground.minemaps.accuracy import summarise as summarise_accuracy
    from safeground.storage.base import open_store

    if fmt not in ("table", "csv", "json"):
        raise SafeGroundError(f"unknown --format {fmt!r}", hint="use table, csv or json")
    opts = _accuracy_options(as_of)
    with open_store(store, readonly=not save) as s:
        evidence = gather_evidence(s, opts)  # type: ignore[arg-type]
        results = []
        with Progress(*Progress.get_default_columns(), console=err, transient=True) as prog:
            task = prog.add_task("assessing records", total=len(evidence))
            for ev in evidence:
                results.append(assess_record(ev, opts))  # type: ignore[arg-type]
                prog.advance(task)
        if save:
            saved = save_results(s, results, opts, entered_by="safeground maps accuracy")  # type: ignore[arg-type]
            console.print(
                f"[green]saved[/] {len(saved)} assessments "
                "(layers minefield_record_assessments and corrected_mine_positions)"
            )
    table = results_table(results)
    if fmt != "table":
        text = table.to_csv(index=False) if fmt == "csv" else to_json(results)
        if out:
            out.write_text(text)
            console.print(f"[green]written[/] {out}")
        else:
            sys.stdout.write(text + "\n")
        return
    t = Table(title=f"Minefield record accuracy ({len(results)} records)")
    for col in (
        "record",
        "source",
        "grade",
        "found where recorded",
        "95 % CI",
        "error median/p90 m",
        "shift m",
        "rot °",
    ):
        t.add_column(col)
    for r in results:
        e = r.error_stats()
        p = r.precision
        al = r.alignment
        t.add_row(
            r.uid,
            r.source,
            r.grade,
            f"{p.k}/{p.n}" + (f" ({100 * p.value:.0f} %)" if p.value is not None else ""),
            f"{100 * p.low:.0f}–{100 * p.high:.0f}" if p.low is not None and p.high is not None else "",
            f"{e['median']:.1f} / {e['p90']:.1f}" if e["median"] is not None else "",
            f"{al.transform.shift_m:.0f}" if al else "",
            f"{al.transform.rotation_deg:+.1f}" if al else "",
        )
    console.print(t)
    t = Table(title="By source and overall")
    for col in (
        "source",
        "records",
        "A",
        "B",
        "C",
        "U",
        "found where recorded",
        "95 % CI",
        "finds the record showed",
    ):
        t.add_column(col)
    for sm in [*by_source(results), summarise_accuracy(results, "all records")]:
        p = sm.precision
        t.add_row(
            sm.label,
            str(sm.records),
            *[str(sm.grades[g]) for g in "ABCU"],
            f"{p.k}/{p.n}" + (f" ({100 * p.value:.0f} %)" if p.value is not None else ""),
            f"{100 * p.low:.0f}–{100 * p.high:.0f}" if p.low is not None and p.high is not None else "",
            f"{100 * sm.recall.value:.0f} %" if sm.recall.value is not None else "",
        )
    console.print(t)
    console.print(
        "Grades: [bold]A[/] reliable as recorded (direct evidence), [bold]B[/] displaced but reliable after "
        "correction, [bold]C[/] unreliable, [bold]U[/] unverified. Only cleared ground counts as evidence."
    )


@maps_app.command("dossier")
def maps_dossier(
    record: Annotated[str, typer.Argument(help="Minefield record uid, e.g. MFR-00012.")],
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path, typer.Option(help="Folder for the HTML and PDF.")] = Path("dossiers"),
    as_of: Annotated[str | None, typer.Option(help="Use only what was known on this date (YYYY-MM-DD).")] = None,
) -> None:
    """Write the one-page accuracy dossier (HTML and PDF) of one minefield record."""
    from safeground.errors import RecordNotFound
    from safeground.minemaps.accuracy import assess_record, gather_evidence
    from safeground.reports.dossier import render_dossier
    from safeground.storage.base import open_store

    opts = _accuracy_options(as_of)
    with open_store(store, readonly=True) as s:
        evidence = [ev for ev in gather_evidence(s, opts) if ev.uid == record]  # type: ignore[arg-type]
    if not evidence:
        raise RecordNotFound(
            f"no minefield record {record} in {store}", hint="list them with 'safeground maps accuracy'"
        )
    result = assess_record(evidence[0], opts)  # type: ignore[arg-type]
    html, pdf = render_dossier(result, out, store_name=Path(store).name, opts=opts)  # type: ignore[arg-type]
    console.print(f"[green]written[/] {html} and {pdf} (grade {result.grade})")


@maps_app.command("traverse")
def maps_traverse(
    file: Annotated[Path, typer.Argument(help="Record drawn by bearing and distance (JSON or YAML).")],
    max_misclosure: Annotated[float, typer.Option(help="Refuse a chain that misses closing by more (m).")] = 5.0,
    store: Annotated[str | None, typer.Option("--store", "-s", help="Store to save the record into.")] = None,
    save: Annotated[bool, typer.Option(help="Store the record and its recorded mines.")] = False,
) -> None:
    """Compute a minefield record drawn from a reference point with bearings and distances."""
    from safeground.minemaps.traverse import read_record, solve, to_records
    from safeground.storage.base import open_store

    record = read_record(file)
    result = solve(record, max_misclosure_m=max_misclosure, src=file.name)
    console.print(f"[bold]{record.source}[/] {record.source_reference or ''}: {result.bearing_note}")
    if result.misclosure_m is not None:
        console.print(f"traverse misclosure: {result.misclosure_m:.2f} m (allowed {max_misclosure:g} m)")
    t = Table(title="Points")
    for col in ("point", "longitude", "latitude"):
        t.add_column(col)
    for label, (lon, lat) in result.points.items():
        t.add_row(label, f"{lon:.6f}", f"{lat:.6f}")
    console.print(t)
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {w}")
    n = sum(len(xy) for *_, xy in result.mines)
    console.print(f"{len(result.mines)} rows, {n} mine positions")
    if save:
        if not store:
            raise SafeGroundError("--save needs --store", hint="e.g. --store demo.gpkg")
        with open_store(store) as s:
            recs = to_records(record, result, s, entered_by="safeground maps traverse")
            s.add_many(recs)
        console.print(f"[green]saved[/] {recs[0].uid} with {len(recs) - 1} recorded mines into {store}")


@app.command()
def version() -> None:
    """Print the SafeGround version."""
    console.print(__version__)


def main() -> None:
    try:
        app()
    except SafeGroundError as exc:
        err.print(f"[red]error[/]: {exc.message}")
        if exc.hint:
            err.print(f"[cyan]fix[/]: {exc.hint}")
        sys.exit(2)
    except OSError as exc:  # a file that cannot be read or written: the user can fix that
        err.print(f"[red]error[/]: {exc.strerror or exc}: {exc.filename or ''}")
        sys.exit(2)


if __name__ == "__main__":
    main()
