"""The contamination risk model as an application: train, evaluate, map, score and explain.

Each function here is one thing a user asks of the risk model, start to finish: check that
its outputs may be written, read the data (a store, or a table of dated events), run the
model with progress, write the model, the evaluation or the risk map, and for a map trace and
register the predicted hazard polygons. The command line and the server call these with
parsed values; the modelling itself is :mod:`safeground.risk`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeground.errors import Param, SafeGroundError
from safeground.outputs import guard_output, staged_file, staged_folder, write_text
from safeground.services.progress import Progress, no_progress
from safeground.tabular import frame_to_csv

if TYPE_CHECKING:
    from safeground.risk.layers import RiskData
    from safeground.risk.output import HazardPolygon
    from safeground.risk.pipeline import Evaluation, RiskSettings, TrainedModel


@dataclass(frozen=True)
class RiskInputs:
    """Where the model's data come from: a store, or a table of dated, typed events with context layers."""

    store: str | None = None
    events: Path | None = None
    target: str | None = None  # which events are the target, e.g. "event_type in 1,2" (with events)
    context: list[Path] | None = None
    date_column: str | None = None
    block_column: str | None = None
    region: tuple[float, float, float, float] | None = None  # west, south, east, north (WGS 84)
    # columns of --events whose values become event layers of their own (e.g. area_type: rural / urban)
    split_columns: tuple[str, ...] = ()


def load_data(inputs: RiskInputs, crs_wkt: str | None = None, model: TrainedModel | None = None) -> RiskData:
    """The layers and target events, projected to ``crs_wkt`` (a saved model's) when given.

    With the ``model`` that will use them, the events are split by the columns it was trained with (its
    provenance says which), so a model never meets its split layers empty."""
    from safeground.risk.layers import from_files, from_store
    from safeground.storage import open_store

    if inputs.events is not None:
        assert inputs.target is not None
        return from_files(
            inputs.events,
            inputs.target,
            context=inputs.context,
            date_column=inputs.date_column,
            block_column=inputs.block_column,
            crs_wkt=crs_wkt,
            region=inputs.region,
            split_columns=inputs.split_columns or _trained_splits(model),
        )
    assert inputs.store is not None
    with open_store(inputs.store, readonly=True) as s:
        return from_store(s, crs_wkt)


def _trained_splits(model: TrainedModel | None) -> tuple[str, ...]:
    text = (model.provenance.get("split_columns") or "") if model is not None else ""
    return tuple(c for c in text.split(",") if c)


@dataclass(frozen=True)
class TrainedModelFile:
    path: Path
    version: str
    features: int
    trained_as_of: str
    positive_cells: int
    negative_cells: int
    as_of_chosen: str | None = None  # why the date was chosen, when the user gave none
    validation: dict[str, Any] | None = None
    # cells with later accidents or finds beyond the domain buffer: left out, the model cannot learn them
    positive_cells_outside_domain: int = 0


def train_model(
    inputs: RiskInputs,
    settings: RiskSettings,
    out: Path,
    *,
    as_of: str | None = None,
    until: str | None = None,
    overwrite: bool = False,
    progress: Progress = no_progress,
) -> TrainedModelFile:
    """Learn from what was known on ``as_of`` and found after it; write the model and its card beside it."""
    from safeground.risk.pipeline import latest_as_of, train

    for path in (out, out.with_suffix(out.suffix + ".json")):  # the model and its card
        guard_output(path, overwrite=overwrite, store_location=inputs.store)
    data = load_data(inputs)
    chosen = None
    if as_of is None:
        picked, later = latest_as_of(data)
        as_of = str(picked)
        chosen = f"the latest date that leaves a labelled period ({later:,} later accidents and finds)"
    progress("starting", 0, 0)
    tm = train(data, settings, as_of, until, progress)
    with staged_folder(out.parent, overwrite=overwrite, store_location=inputs.store, folder=False) as stage:
        tm.save(stage / out.name)
    return TrainedModelFile(
        out,
        tm.version,
        len(tm.feature_names),
        tm.trained_as_of,
        tm.provenance["positive_cells"],
        tm.provenance["negative_cells"],
        chosen,
        tm.validation,
        int(tm.provenance.get("positive_cells_outside_domain", 0)),
    )


@dataclass(frozen=True)
class EvaluationResult:
    evaluation: Evaluation
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """What ``--format json`` prints and ``out`` keeps: the evaluation and how long it took."""
        return {**self.evaluation.as_dict(), "seconds": self.seconds}


def evaluate_model(
    inputs: RiskInputs,
    settings: RiskSettings,
    *,
    method: str = "blocks",
    as_of: str | None = None,
    cut: str | None = None,
    until: str | None = None,
    out: Path | None = None,
    overwrite: bool = False,
    progress: Progress = no_progress,
) -> EvaluationResult:
    """Honest validation: spatial blocks (``method="blocks"``) or the period after ``cut`` ("temporal")."""
    from safeground.risk.pipeline import evaluate_blocks, evaluate_temporal

    if method not in ("blocks", "temporal"):
        raise SafeGroundError(f"unknown evaluation method {method!r}", hint="use blocks or temporal")
    if out:
        guard_output(out, overwrite=overwrite, store_location=inputs.store)
    data = load_data(inputs)
    t0 = time.perf_counter()
    progress("starting", 0, 0)
    if method == "blocks":
        ev = evaluate_blocks(data, settings, as_of, progress)
    else:
        if cut is None:
            raise SafeGroundError(f"a temporal evaluation needs the date it tests after: {Param('cut')}")
        ev = evaluate_temporal(data, settings, cut, until, progress)
    result = EvaluationResult(ev, round(time.perf_counter() - t0, 1))
    if out:
        write_text(out, json.dumps(result.as_dict(), indent=1), overwrite=overwrite, store_location=inputs.store)
    return result


@dataclass(frozen=True)
class RiskMap:
    raster: Path
    nrows: int
    ncols: int
    cell_m: float
    seconds: float
    threshold: float
    polygons: list[HazardPolygon]
    area_km2: float
    saved: int | None  # polygons stored in predicted_hazards, None when not asked to save
    as_of: date
    out_of_domain: dict[str, int] = field(default_factory=dict)  # reason → cells left without a score


def predict_map(
    model_file: Path,
    inputs: RiskInputs,
    out: Path,
    *,
    as_of: date | None = None,
    top: float = 0.05,
    threshold: float | None = None,
    save: bool = False,
    tile: int = 1024,
    scheduler: str | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    progress: Progress = no_progress,
) -> RiskMap:
    """Score every cell tile by tile (in this process or on Dask) into a COG, trace the riskiest ``top`` share
    (or the cells at or above ``threshold``) as predicted hazard polygons, and with ``save`` store them in
    ``inputs.store`` and make this the map the safe-check and routing use."""
    from safeground.risk.distributed import dask_client, predict_tiles
    from safeground.risk.output import now_id, register_latest, store_polygons, trace_polygons, write_risk_raster
    from safeground.risk.pipeline import TrainedModel, aligned_layers, model_grid

    if save and inputs.store is None:
        raise SafeGroundError("saving the predicted hazards needs a store")
    guard_output(out, overwrite=overwrite, store_location=inputs.store)
    from safeground.risk.pipeline import last_date

    tm = TrainedModel.load(model_file)
    data = load_data(inputs, tm.crs_wkt, tm)
    as_of = as_of or last_date(data)  # by default the map knows everything the data knows
    grid = model_grid(tm, data)
    layers = aligned_layers(data, as_of, tm.layers)
    run_id = f"{tm.version}@{as_of}#{now_id()}"
    tags = {
        "model_version": tm.version,
        "data_fingerprint": data.fingerprint(),
        "features_as_of": str(as_of),
        "run_id": run_id,
        "safeground": tm.safeground_version,
    }
    n_tiles = sum(1 for _ in grid.tiles(tile))
    what = f"predicting {grid.size:,} cells"
    t0 = time.perf_counter()
    with dask_client(scheduler, workers) as client:
        progress(what, 0, n_tiles)
        tiles = predict_tiles(tm.model, grid, layers, tm.spec, tile, client, tm.domain)
        with staged_file(out, overwrite=overwrite, store_location=inputs.store) as tmp:
            res = write_risk_raster(tmp, grid, tiles, tags, lambda d, _t: progress(what, d, n_tiles), n_tiles)
        res.path = out
    seconds = time.perf_counter() - t0
    thr = threshold if threshold is not None else res.quantile_threshold(top)
    polys = trace_polygons(out, thr, min_cells=4)
    area_km2 = sum(p.cells for p in polys) * tm.cell_m**2 / 1e6
    saved = None
    if save:
        assert inputs.store is not None
        from safeground.storage import open_store

        with open_store(inputs.store) as s:
            saved = store_polygons(
                s,
                polys,
                grid,
                run_id=run_id,
                model_version=tm.version,
                data_fingerprint=tags["data_fingerprint"],
                as_of=as_of,
                threshold=thr,
                raster=out.resolve(),
                entered_by="safeground risk predict",
            )
            info = {"raster": str(out.resolve()), **tags, "threshold": thr, "cell_m": tm.cell_m, "polygons": saved}
            register_latest(s, info)
    from safeground.risk.domain import REASONS

    ood = {REASONS[k]: v for k, v in res.out_of_domain.items()}
    return RiskMap(out, grid.nrows, grid.ncols, tm.cell_m, seconds, thr, polys, area_km2, saved, as_of, ood)


@dataclass(frozen=True)
class ScoredLocations:
    out: Path
    count: int
    as_of: date
    cannot_say: dict[str, int] = field(default_factory=dict)  # reason → locations left without a score


def score_locations(
    model_file: Path, inputs: RiskInputs, at: Path, out: Path, *, as_of: date | None = None, overwrite: bool = False
) -> ScoredLocations:
    """One risk score per location of a CSV with lon,lat columns, written as a CSV with the model version."""
    import pandas as pd

    from safeground.risk.domain import REASONS
    from safeground.risk.pipeline import TrainedModel, last_date, score_and_flag

    guard_output(out, overwrite=overwrite, store_location=inputs.store)
    tm = TrainedModel.load(model_file)
    data = load_data(inputs, tm.crs_wkt, tm)
    as_of = as_of or last_date(data)
    pts = pd.read_csv(at)
    if not {"lon", "lat"} <= set(pts.columns):
        raise SafeGroundError(f"{at.name}: needs lon and lat columns")
    risk, why = score_and_flag(tm, data, pts["lon"].to_numpy(), pts["lat"].to_numpy(), as_of)
    pts["risk"] = risk
    pts["cannot_say"] = [REASONS[int(w)] for w in why]  # empty where scored: no blank without a reason
    pts["model_version"] = tm.version
    with staged_file(out, overwrite=overwrite, store_location=inputs.store) as tmp:
        frame_to_csv(pts, tmp, index=False)
    counts = pts.loc[pts["cannot_say"] != "", "cannot_say"].value_counts()
    return ScoredLocations(out, len(pts), as_of, {str(k): int(v) for k, v in counts.items()})


@dataclass(frozen=True)
class Explanations:
    model_version: str
    cells: list[dict[str, Any]]  # per location: lon, lat, risk, and the features that pushed it up and down
    as_of: date | None = None


def explain_cells(
    model_file: Path,
    inputs: RiskInputs,
    locations: Path | tuple[float, float],
    *,
    as_of: date | None = None,
    top_n: int = 5,
) -> Explanations:
    """Why these cells are risky: for each location (one, or a CSV of lon,lat), the ``top_n`` features that
    pushed its score up and down."""
    import numpy as np
    import pandas as pd

    from safeground.risk.pipeline import TrainedModel, explain_points, last_date

    tm = TrainedModel.load(model_file)
    data = load_data(inputs, tm.crs_wkt, tm)
    as_of = as_of or last_date(data)
    if isinstance(locations, Path):
        pts = pd.read_csv(locations)
        lon, lat = pts["lon"].to_numpy(float), pts["lat"].to_numpy(float)
    else:
        lon, lat = np.array([locations[0]]), np.array([locations[1]])
    return Explanations(tm.version, explain_points(tm, data, lon, lat, as_of, top_n), as_of)
