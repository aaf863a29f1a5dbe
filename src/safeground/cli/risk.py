"""Commands of the contamination risk model: train, evaluate, predict, explain."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from safeground.cli.common import console, err
from safeground.errors import SafeGroundError
from safeground.outputs import OverwriteOpt, guard_output, staged_file, staged_folder, write_text
from safeground.tabular import frame_to_csv

if TYPE_CHECKING:
    from safeground.risk.pipeline import RiskData, RiskSettings

risk_app = typer.Typer(help="Where are the mines when nobody says? Contamination risk model.", no_args_is_help=True)

StoreIn = Annotated[str | None, typer.Option("--store", "-s", help="SafeGround store to learn from.")]
EventsIn = Annotated[Path | None, typer.Option(help="Or: a table of dated, typed events (CSV with lon/lat, or GPKG).")]
TargetIn = Annotated[
    str | None, typer.Option(help="Which events are the target, e.g. 'event_type in 1,2' (with --events).")
]
ContextIn = Annotated[
    list[Path] | None, typer.Option(help="Extra context layer (points/lines/polygons with a category column).")
]
CellIn = Annotated[float, typer.Option(help="Cell size in metres (10 m for a village … 1000 m for a country).")]
ModelName = Annotated[str, typer.Option("--model", help="lightgbm (default) or logistic.")]
RegionIn = Annotated[
    str | None, typer.Option(help="With --events: keep only events inside west,south,east,north (WGS 84).")
]
AsOf = Annotated[str | None, typer.Option(help="Features from what was known on this date (YYYY-MM-DD).")]


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


def _data(
    store: str | None,
    events: Path | None,
    target: str | None,
    context: list[Path] | None,
    date_column: str | None = None,
    block_column: str | None = None,
    crs_wkt: str | None = None,
    region: str | None = None,
) -> RiskData:
    from safeground.risk.sources import from_files, from_store
    from safeground.storage import open_store

    if (store is None) == (events is None):
        raise SafeGroundError("give either --store or --events", hint="e.g. --store demo.gpkg")
    if events is not None:
        if not target:
            raise SafeGroundError("--events needs --target", hint="e.g. --target 'event_type in 1,2'")
        box = None
        if region:
            try:
                west, south, east, north = (float(v) for v in region.split(","))
                box = (west, south, east, north)
            except ValueError:
                raise SafeGroundError(
                    f"--region {region!r} is not west,south,east,north", hint="e.g. -82,-5,-66,14"
                ) from None
        return from_files(
            events,
            target,
            context=context,
            date_column=date_column,
            block_column=block_column,
            crs_wkt=crs_wkt,
            region=box,
        )
    assert store is not None
    with open_store(store, readonly=True) as s:
        return from_store(s, crs_wkt)


def _settings(
    cell: float,
    model: str,
    block_km: float | None,
    domain_buffer_m: float | None,
    radii: str | None = None,
    max_distance: float | None = None,
    dem: Path | None = None,
) -> RiskSettings:
    from safeground.risk.features import FeatureSpec
    from safeground.risk.pipeline import RiskSettings

    spec = None
    if dem is not None and not dem.exists():
        raise SafeGroundError(f"no DEM file {dem}", hint="give a GeoTIFF (or any raster GDAL reads) of elevations")
    if radii or max_distance or dem:
        try:
            r = tuple(float(v) for v in radii.split(",")) if radii else None
        except ValueError:
            raise SafeGroundError(f"--radii {radii!r} is not a list of metres", hint="e.g. --radii 250,1000") from None
        spec = FeatureSpec.for_cell(cell, r, max_distance, str(dem.resolve()) if dem else None)
    return RiskSettings(cell_m=cell, model=model, block_km=block_km, domain_buffer_m=domain_buffer_m, spec=spec)


Radii = Annotated[str | None, typer.Option(help="Density radii in metres, e.g. 250,1000 (default 10 and 40 cells).")]
DemIn = Annotated[Path | None, typer.Option(help="Elevation raster: adds elevation and slope features.")]
MaxDist = Annotated[float | None, typer.Option(help="Distances capped at this many metres (default 80 cells).")]


def _step(prog: Progress) -> Callable[[str, int, int], None]:
    task = prog.add_task("starting", total=None)

    def step(msg: str, done: int, total: int) -> None:
        prog.update(task, description=msg, completed=done, total=total or None)

    return step


@risk_app.command("train")
def train_cmd(
    out: Annotated[Path, typer.Option(help="Model file to write (a .json model card is written beside it).")],
    store: StoreIn = None,
    events: EventsIn = None,
    target: TargetIn = None,
    context: ContextIn = None,
    date_column: Annotated[str | None, typer.Option(help="Date or year column of --events.")] = None,
    region: RegionIn = None,
    block_column: Annotated[str | None, typer.Option(help="Admin area column of --events (for blocks).")] = None,
    cell: CellIn = 25.0,
    model: ModelName = "lightgbm",
    as_of: AsOf = None,
    until: Annotated[str | None, typer.Option(help="Use labels up to this date.")] = None,
    block_km: Annotated[float | None, typer.Option(help="Calibration blocks: square tiles of this size.")] = None,
    domain_buffer_m: Annotated[float | None, typer.Option(help="Negatives only this close to earlier events.")] = None,
    radii: Radii = None,
    max_distance: MaxDist = None,
    dem: DemIn = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Learn where contamination is from what was known on a date and what was found after it."""
    from safeground.risk.pipeline import train

    for path in (out, out.with_suffix(out.suffix + ".json")):  # the model and its card
        guard_output(path, overwrite=overwrite, store_location=store)
    data = _data(store, events, target, context, date_column, block_column, region=region)
    with _bar() as prog:
        tm = train(
            data, _settings(cell, model, block_km, domain_buffer_m, radii, max_distance, dem), as_of, until, _step(prog)
        )
    with staged_folder(out.parent, overwrite=overwrite, store_location=store, folder=False) as stage:
        tm.save(stage / out.name)
    console.print(
        f"[green]model {tm.version}[/] written to {out}: {len(tm.feature_names)} features, "
        f"features as of {tm.trained_as_of}, {tm.provenance['positive_cells']} positive / "
        f"{tm.provenance['negative_cells']} negative cells"
    )


@risk_app.command("evaluate")
def evaluate_cmd(
    store: StoreIn = None,
    events: EventsIn = None,
    target: TargetIn = None,
    context: ContextIn = None,
    date_column: Annotated[str | None, typer.Option(help="Date or year column of --events.")] = None,
    region: RegionIn = None,
    block_column: Annotated[str | None, typer.Option(help="Admin area column of --events (for blocks).")] = None,
    cell: CellIn = 25.0,
    model: ModelName = "lightgbm",
    method: Annotated[str, typer.Option(help="blocks (spatial block CV) or temporal (after --cut).")] = "blocks",
    as_of: AsOf = None,
    cut: Annotated[str | None, typer.Option(help="Temporal holdout: test on what happened after this date.")] = None,
    until: Annotated[str | None, typer.Option(help="Temporal holdout: end of the test period.")] = None,
    block_km: Annotated[float | None, typer.Option(help="Blocks as square tiles of this size (km).")] = None,
    domain_buffer_m: Annotated[float | None, typer.Option(help="Evaluate cells this close to earlier events.")] = None,
    radii: Radii = None,
    max_distance: MaxDist = None,
    dem: DemIn = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Also write the evaluation as JSON here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Honest validation: spatial blocks or a later period, never random cells. ROC-AUC, PR-AUC, capture rates."""
    from safeground.risk.pipeline import evaluate_blocks, evaluate_temporal

    if method not in ("blocks", "temporal"):
        raise SafeGroundError(f"unknown --method {method!r}", hint="use blocks or temporal")
    if method == "temporal" and not cut:
        raise SafeGroundError("--method temporal needs --cut DATE", hint="e.g. --cut 2012-12-31")
    if out:
        guard_output(out, overwrite=overwrite, store_location=store)
    data = _data(store, events, target, context, date_column, block_column, region=region)
    settings = _settings(cell, model, block_km, domain_buffer_m, radii, max_distance, dem)
    t0 = time.perf_counter()
    with _bar() as prog:
        step = _step(prog)
        if method == "blocks":
            ev = evaluate_blocks(data, settings, as_of, step)
        else:
            ev = evaluate_temporal(data, settings, cut, until, step)  # type: ignore[arg-type]
    result = {**ev.as_dict(), "seconds": round(time.perf_counter() - t0, 1)}
    if out:
        write_text(out, json.dumps(result, indent=1), overwrite=overwrite, store_location=store)
    if fmt == "json":
        sys.stdout.write(json.dumps(result, indent=1) + "\n")
        return
    t = Table(title=f"{ev.method} ({result['seconds']} s)")
    for col in ("", "ROC-AUC", "PR-AUC", "capture top 5 %", "capture top 10 %"):
        t.add_column(col, justify="right")
    for name, s in ((ev.details.get("model_name", "model"), ev.model), (ev.details["baseline_name"], ev.baseline)):
        if s is None:
            continue
        t.add_row(
            str(name),
            *(f"{v:.3f}" if v is not None else "–" for v in (s.roc_auc, s.pr_auc, s.capture_5, s.capture_10)),
        )
    console.print(t)
    for k, v in ev.details.items():
        if k not in ("model_name", "baseline_name"):
            console.print(f"  {k.replace('_', ' ')}: {v}")


@risk_app.command("predict")
def predict_cmd(
    model_file: Annotated[Path, typer.Option("--model", help="Model file from 'safeground risk train'.")],
    store: StoreIn = None,
    events: EventsIn = None,
    target: TargetIn = None,
    context: ContextIn = None,
    date_column: Annotated[str | None, typer.Option(help="Date or year column of --events.")] = None,
    region: RegionIn = None,
    as_of: AsOf = None,
    out: Annotated[Path | None, typer.Option(help="Risk raster (COG) to write, or CSV of scores with --at.")] = None,
    at: Annotated[Path | None, typer.Option(help="CSV with lon,lat: write one score per location instead.")] = None,
    top: Annotated[float, typer.Option(help="Predicted hazard polygons: the riskiest share of the area.")] = 0.05,
    threshold: Annotated[float | None, typer.Option(help="Or: polygons where risk ≥ this probability.")] = None,
    save: Annotated[bool, typer.Option(help="Store the polygons and make this the store's current risk map.")] = False,
    tile: Annotated[int, typer.Option(help="Tile side in cells (memory per tile).")] = 1024,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786.")] = None,
    workers: Annotated[int | None, typer.Option(help="Run on a local Dask cluster of this many processes.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Score every cell of the region (Cloud-Optimized GeoTIFF + predicted hazard polygons), or given locations."""
    import pandas as pd

    from safeground.risk.distributed import dask_client, predict_tiles
    from safeground.risk.output import (
        now_id,
        register_latest,
        store_polygons,
        trace_polygons,
        write_risk_raster,
    )
    from safeground.risk.pipeline import TrainedModel, _as_date, aligned_layers, make_grid, score_points

    as_of_d = _as_date(as_of) or date.today()
    target_out = out or (at.with_name(at.stem + "-risk.csv") if at is not None else Path(f"risk-{as_of_d}.tif"))
    guard_output(target_out, overwrite=overwrite, store_location=store)
    tm = TrainedModel.load(model_file)
    data = _data(store, events, target, context, date_column, crs_wkt=tm.crs_wkt, region=region)
    if at is not None:
        pts = pd.read_csv(at)
        if not {"lon", "lat"} <= set(pts.columns):
            raise SafeGroundError(f"{at.name}: needs lon and lat columns")
        pts["risk"] = score_points(tm, data, pts["lon"].to_numpy(), pts["lat"].to_numpy(), as_of_d)
        pts["model_version"] = tm.version
        target_csv = target_out
        with staged_file(target_csv, overwrite=overwrite, store_location=store) as tmp:
            frame_to_csv(pts, tmp, index=False)
        console.print(f"[green]scored[/] {len(pts):,} locations → {target_csv}")
        return
    grid = make_grid(data, tm.cell_m, tm.crs_wkt)
    layers = aligned_layers(data, as_of_d, tm.layers)
    raster = target_out
    run_id = f"{tm.version}@{as_of_d}#{now_id()}"
    tags = {
        "model_version": tm.version,
        "data_fingerprint": data.fingerprint(),
        "features_as_of": str(as_of_d),
        "run_id": run_id,
        "safeground": tm.safeground_version,
    }
    n_tiles = sum(1 for _ in grid.tiles(tile))
    t0 = time.perf_counter()
    with dask_client(scheduler, workers) as client, _bar() as prog:
        task = prog.add_task(f"predicting {grid.size:,} cells", total=n_tiles)
        tiles = predict_tiles(tm.model, grid, layers, tm.spec, tile, client)
        with staged_file(raster, overwrite=overwrite, store_location=store) as tmp:
            res = write_risk_raster(tmp, grid, tiles, tags, lambda d, _t: prog.update(task, completed=d), n_tiles)
        res.path = raster
    thr = threshold if threshold is not None else res.quantile_threshold(top)
    polys = trace_polygons(raster, thr, min_cells=4)
    area_km2 = sum(p.cells for p in polys) * tm.cell_m**2 / 1e6
    console.print(
        f"[green]risk map[/] {raster} ({grid.nrows:,} × {grid.ncols:,} cells of {tm.cell_m:g} m) in "
        f"{time.perf_counter() - t0:.1f} s; {len(polys)} predicted hazard polygons ≥ {thr:.3f}, {area_km2:.2f} km²"
    )
    if save:
        if store is None:
            raise SafeGroundError("--save needs --store")
        from safeground.storage import open_store

        with open_store(store) as s:
            n = store_polygons(
                s,
                polys,
                grid,
                run_id=run_id,
                model_version=tm.version,
                data_fingerprint=tags["data_fingerprint"],
                as_of=as_of_d,
                threshold=thr,
                raster=raster.resolve(),
                entered_by="safeground risk predict",
            )
            register_latest(
                s, {"raster": str(raster.resolve()), **tags, "threshold": thr, "cell_m": tm.cell_m, "polygons": n}
            )
        console.print(f"[green]saved[/] {n} polygons to predicted_hazards; the safe-check and routes now use this map")


@risk_app.command("explain")
def explain_cmd(
    model_file: Annotated[Path, typer.Option("--model", help="Model file from 'safeground risk train'.")],
    at: Annotated[str, typer.Option(help="'lon,lat' or a CSV with lon,lat columns.")],
    store: StoreIn = None,
    events: EventsIn = None,
    target: TargetIn = None,
    context: ContextIn = None,
    date_column: Annotated[str | None, typer.Option(help="Date or year column of --events.")] = None,
    region: RegionIn = None,
    as_of: AsOf = None,
    top_n: Annotated[int, typer.Option("--top", help="How many features up and down.")] = 5,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Why is this cell risky? The features that pushed its score up or down."""
    import numpy as np
    import pandas as pd

    from safeground.risk.pipeline import TrainedModel, _as_date, explain_points

    tm = TrainedModel.load(model_file)
    data = _data(store, events, target, context, date_column, crs_wkt=tm.crs_wkt, region=region)
    if Path(at).exists():
        pts = pd.read_csv(at)
        lon, lat = pts["lon"].to_numpy(float), pts["lat"].to_numpy(float)
    else:
        try:
            lo, la = (float(v) for v in at.split(","))
        except ValueError:
            raise SafeGroundError(f"--at {at!r} is neither 'lon,lat' nor a CSV file") from None
        lon, lat = np.array([lo]), np.array([la])
    res = explain_points(tm, data, lon, lat, _as_date(as_of) or date.today(), top_n)
    if fmt == "json":
        sys.stdout.write(json.dumps(res, indent=1) + "\n")
        return
    for r in res:
        console.print(f"[bold]{r['lon']:.5f}, {r['lat']:.5f}[/]: risk {r['risk']:.3f} (model {tm.version})")
        for name, value, c in r["up"]:
            console.print(f"  [red]▲ {c:+.2f}[/] {name} = {value:.4g}")
        for name, value, c in r["down"]:
            console.print(f"  [green]▼ {c:+.2f}[/] {name} = {value:.4g}")
