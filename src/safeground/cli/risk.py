"""Commands of the contamination risk model: train, evaluate, predict, explain."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from safeground.cli.common import console, err
from safeground.errors import SafeGroundError
from safeground.outputs import OverwriteOpt
from safeground.services.risk import (
    RiskInputs,
    evaluate_model,
    explain_cells,
    predict_map,
    score_locations,
    train_model,
)

if TYPE_CHECKING:
    from safeground.risk.pipeline import RiskSettings

if TYPE_CHECKING:
    from safeground.risk.pipeline import RiskSettings

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
ModelName = Annotated[str, typer.Option("--model", help="lightgbm (default), lightgbm-spatial-ensemble or logistic.")]
RegionIn = Annotated[
    str | None, typer.Option(help="With --events: keep only events inside west,south,east,north (WGS 84).")
]
AsOf = Annotated[
    str | None,
    typer.Option(
        help="Features from what was known on this date (YYYY-MM-DD). Default: train picks the latest date "
        "that leaves a labelled period; predict and explain use the data's last date."
    ),
]


class _Bar:
    """The rich progress bar of a service's steps, drawn from its first step on (nothing before the work
    starts, so an error in reading the inputs prints no bar) and closed when the command's work ends."""

    def __init__(self) -> None:
        self.prog: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> _Bar:
        return self

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.prog is None:
            self.prog = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
            )
            self.prog.start()
            self.task = self.prog.add_task(what, total=total or None)
        assert self.task is not None
        self.prog.update(self.task, description=what, completed=done, total=total or None)

    def __exit__(self, *_exc: object) -> None:
        if self.prog is not None:
            self.prog.stop()


def _inputs(
    store: str | None,
    events: Path | None,
    target: str | None,
    context: list[Path] | None,
    date_column: str | None = None,
    block_column: str | None = None,
    region: str | None = None,
    split_columns: list[str] | None = None,
) -> RiskInputs:
    if (store is None) == (events is None):
        raise SafeGroundError("give either --store or --events", hint="e.g. --store demo.gpkg")
    box = None
    if events is not None:
        if not target:
            raise SafeGroundError("--events needs --target", hint="e.g. --target 'event_type in 1,2'")
        if region:
            try:
                west, south, east, north = (float(v) for v in region.split(","))
                box = (west, south, east, north)
            except ValueError:
                raise SafeGroundError(
                    f"--region {region!r} is not west,south,east,north", hint="e.g. -82,-5,-66,14"
                ) from None
    if split_columns and events is None:
        raise SafeGroundError("--split-column needs --events", hint="a store's events are already split by kind")
    return RiskInputs(
        store,
        events,
        target,
        context,
        date_column,
        block_column,
        box,
        tuple(split_columns or ()),  # type: ignore[arg-type]
    )


def _metres(option: str, text: str | None) -> tuple[float, ...]:
    if not text or text.strip().lower() == "none":
        return ()
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise SafeGroundError(f"{option} {text!r} is not a list of numbers", hint=f"e.g. {option} 2000,10000") from None


def _settings(
    cell: float,
    model: str,
    block_km: float | None,
    domain_buffer_m: float | None,
    radii: str | None = None,
    max_distance: float | None = None,
    dem: Path | None = None,
    recency: str | None = None,
    trend_years: str | None = None,
    trend_radii: str | None = None,
    kernel: str | None = None,
    monotone: bool = False,
) -> RiskSettings:
    from dataclasses import replace

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
    if recency or trend_years or trend_radii or kernel:
        if bool(trend_years) != bool(trend_radii):
            raise SafeGroundError("--trend-years and --trend-radii go together", hint="e.g. 1,3 and 5000,20000")
        spec = spec or FeatureSpec.for_cell(cell)
        spec = replace(
            spec,
            recency_radii_m=_metres("--recency", recency) if recency else spec.recency_radii_m,
            trend_years=_metres("--trend-years", trend_years),
            trend_radii_m=_metres("--trend-radii", trend_radii),
            kernel_m=_metres("--kernel", kernel),
        )
    if monotone:
        spec = replace(spec or FeatureSpec.for_cell(cell), monotone=True)
    return RiskSettings(cell_m=cell, model=model, block_km=block_km, domain_buffer_m=domain_buffer_m, spec=spec)


Radii = Annotated[str | None, typer.Option(help="Density radii in metres, e.g. 250,1000 (default 10 and 40 cells).")]
DemIn = Annotated[Path | None, typer.Option(help="Elevation raster: adds elevation and slope features.")]
MaxDist = Annotated[float | None, typer.Option(help="Distances capped at this many metres (default 80 cells).")]
Recency = Annotated[
    str | None,
    typer.Option(help="Years since the last event within these radii (metres); default 2 and 10 cells; none: off."),
]
TrendYears = Annotated[str | None, typer.Option(help="Share of recent events: look-backs in years, e.g. 1,3.")]
TrendRadii = Annotated[str | None, typer.Option(help="Share of recent events within these radii (metres).")]
Kernel = Annotated[str | None, typer.Option(help="Gaussian kernel densities of events, sigmas in metres.")]
Monotone = Annotated[
    bool,
    typer.Option(
        "--monotone", help="LightGBM: more past events nearby never lowers risk (densities up, distances down)."
    ),
]
SplitColumns = Annotated[
    list[str] | None,
    typer.Option("--split-column", help="Column of --events whose values become event layers (e.g. area_type)."),
]


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
    recency: Recency = None,
    trend_years: TrendYears = None,
    trend_radii: TrendRadii = None,
    kernel: Kernel = None,
    monotone: Monotone = False,
    split_column: SplitColumns = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Learn where contamination is from what was known on a date and what was found after it."""
    inputs = _inputs(store, events, target, context, date_column, block_column, region, split_column)
    settings = _settings(
        cell, model, block_km, domain_buffer_m, radii, max_distance, dem, recency, trend_years, trend_radii, kernel,
        monotone,
    )  # fmt: skip
    with _Bar() as bar:
        tm = train_model(inputs, settings, out, as_of=as_of, until=until, overwrite=overwrite, progress=bar)
    console.print(
        f"[green]model {tm.version}[/] written to {out}: {tm.features} features, "
        f"features as of {tm.trained_as_of}, {tm.positive_cells} positive / {tm.negative_cells} negative cells"
    )
    if tm.as_of_chosen:
        console.print(f"  as of {tm.trained_as_of}: {tm.as_of_chosen}; give --as-of to choose another date")
    if tm.positive_cells_outside_domain:
        console.print(
            f"  [yellow]{tm.positive_cells_outside_domain:,} cells with later events lie beyond the domain buffer "
            "(farther from any earlier evidence) and were left out[/]: the model cannot say there; "
            "a larger --domain-buffer-m takes them in"
        )
    v = tm.validation
    if v and v.get("roc_auc") is not None:
        console.print(
            f"  validation ({v['blocks']}, whole blocks held out): ROC-AUC {v['roc_auc']:.3f}, "
            f"PR-AUC {v['pr_auc']:.3f} on {v['cells']:,} labelled cells (in the model card)"
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
    recency: Recency = None,
    trend_years: TrendYears = None,
    trend_radii: TrendRadii = None,
    kernel: Kernel = None,
    monotone: Monotone = False,
    split_column: SplitColumns = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Also write the evaluation as JSON here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Honest validation: spatial blocks or a later period, never random cells. ROC-AUC, PR-AUC, capture rates."""
    if method not in ("blocks", "temporal"):
        raise SafeGroundError(f"unknown --method {method!r}", hint="use blocks or temporal")
    if method == "temporal" and not cut:
        raise SafeGroundError("--method temporal needs --cut DATE", hint="e.g. --cut 2012-12-31")
    inputs = _inputs(store, events, target, context, date_column, block_column, region, split_column)
    settings = _settings(
        cell, model, block_km, domain_buffer_m, radii, max_distance, dem, recency, trend_years, trend_radii, kernel,
        monotone,
    )  # fmt: skip
    with _Bar() as bar:
        done = evaluate_model(
            inputs, settings, method=method, as_of=as_of, cut=cut, until=until, out=out, overwrite=overwrite,
            progress=bar,
        )  # fmt: skip
    ev, result = done.evaluation, done.as_dict()
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
    from safeground.risk.pipeline import _as_date

    as_of_d = _as_date(as_of)  # None: the data's last date
    target_out = out or (
        at.with_name(at.stem + "-risk.csv") if at is not None else Path(f"risk-{as_of_d or 'latest'}.tif")
    )
    inputs = _inputs(store, events, target, context, date_column, region=region)
    if at is not None:
        scored = score_locations(model_file, inputs, at, target_out, as_of=as_of_d, overwrite=overwrite)
        unscored = sum(scored.cannot_say.values())
        console.print(
            f"[green]scored[/] {scored.count - unscored:,} of {scored.count:,} locations → {scored.out} "
            f"(evidence as of {scored.as_of})"
        )
        for why, n in scored.cannot_say.items():
            console.print(f"  [yellow]{n:,} without a score[/]: {why} (column cannot_say)")
        return
    with _Bar() as bar:
        rm = predict_map(
            model_file,
            inputs,
            target_out,
            as_of=as_of_d,
            top=top,
            threshold=threshold,
            save=save and store is not None,
            tile=tile,
            scheduler=scheduler,
            workers=workers,
            overwrite=overwrite,
            progress=bar,
        )
    console.print(
        f"[green]risk map[/] {rm.raster} ({rm.nrows:,} × {rm.ncols:,} cells of {rm.cell_m:g} m) in "
        f"{rm.seconds:.1f} s; {len(rm.polygons)} predicted hazard polygons ≥ {rm.threshold:.3f}, {rm.area_km2:.2f} km²"
    )
    console.print(f"  evidence as of {rm.as_of}" + ("" if as_of_d else " (the data's last date)"))
    for why, n in rm.out_of_domain.items():
        console.print(f"  [yellow]{n:,} cells without a score[/] (nodata, reason in band 2): {why}")
    if save and store is None:  # refused after the map is written, as it always was
        raise SafeGroundError("--save needs --store")
    if rm.saved is not None:
        console.print(
            f"[green]saved[/] {rm.saved} polygons to predicted_hazards; the safe-check and routes now use this map"
        )


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
    from safeground.risk.pipeline import _as_date

    inputs = _inputs(store, events, target, context, date_column, region=region)
    where: Path | tuple[float, float]
    if Path(at).exists():
        where = Path(at)
    else:
        try:
            lo, la = (float(v) for v in at.split(","))
        except ValueError:
            raise SafeGroundError(f"--at {at!r} is neither 'lon,lat' nor a CSV file") from None
        where = (lo, la)
    explained = explain_cells(model_file, inputs, where, as_of=_as_date(as_of), top_n=top_n)
    res, version = explained.cells, explained.model_version
    if fmt == "json":
        sys.stdout.write(json.dumps(res, indent=1) + "\n")
        return
    for r in res:
        if r["out_of_domain"]:
            console.print(
                f"[bold]{r['lon']:.5f}, {r['lat']:.5f}[/]: [yellow]{r['out_of_domain']}[/] "
                f"(the model would say {r['model_output']:.3f}; model {version})"
            )
        else:
            console.print(f"[bold]{r['lon']:.5f}, {r['lat']:.5f}[/]: risk {r['risk']:.3f} (model {version})")
        for name, value, c in r["up"]:
            console.print(f"  [red]▲ {c:+.2f}[/] {name} = {value:.4g}")
        for name, value, c in r["down"]:
            console.print(f"  [green]▼ {c:+.2f}[/] {name} = {value:.4g}")
