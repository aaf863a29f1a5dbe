"""Out of domain is said, not guessed: a model trained near events says "the model cannot say" far from
them, in the map (nodata plus a reason band), in `predict --at` (a column) and in `check`; the grid
covers the domain buffer around edge events, and a location off the grid is named, never left blank."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from safeground.risk.domain import NO_EVIDENCE, REASONS
from tests.conftest import invoke_cli

DATA = Path(__file__).parent / "data" / "risk"
SAMPLE = DATA / "colombia-sample.csv"
COMMON = ["--events", str(SAMPLE), "--target", "event_type in 1,2"]


@pytest.fixture(scope="module")
def near_events_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like the README's Colombia command: negatives only within a domain buffer of earlier events."""
    out = tmp_path_factory.mktemp("domain") / "col.joblib"
    res = invoke_cli(
        "risk", "train", "--out", str(out), *COMMON, "--cell", "2000", "--as-of", "2008-12-31",
        "--domain-buffer-m", "10000", "--block-column", "department",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return out


def test_the_map_says_where_the_model_cannot_speak(near_events_model, tmp_path):
    out = tmp_path / "risk.tif"
    res = invoke_cli("risk", "predict", "--model", str(near_events_model), *COMMON, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "without a score" in res.stdout and REASONS[NO_EVIDENCE] in res.stdout
    card = json.loads(near_events_model.with_suffix(".joblib.json").read_text())
    # negatives lie within the buffer; a few later accidents fell farther from earlier events
    assert 10_000 <= card["domain"]["farthest_training_cell_from_evidence_m"] <= 20_000
    assert card["grid_margin_m"] == 10_000
    with rasterio.open(out) as src:
        risk, why = src.read(1), src.read(2)
        transform, crs = src.transform, src.crs
    # every cell without a score has a reason; every cell with a reason has no score
    assert np.array_equal(np.isnan(risk), why > 0)
    # cells far from every event (here: > 30 km) are all "no evidence near here"; most cells near them are scored
    ev = pd.read_csv(SAMPLE)
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(ev["lon"].to_numpy(), ev["lat"].to_numpy())
    tree = shapely.STRtree(shapely.points(x, y))
    rows, cols = np.indices(risk.shape)
    cx, cy = rasterio.transform.xy(transform, rows.ravel(), cols.ravel())
    _idx, dist = tree.query_nearest(shapely.points(cx, cy), return_distance=True, all_matches=False)
    dist = dist.reshape(risk.shape)
    far, near = dist > 30_000, dist < 4_000
    assert far.sum() > 100 and (why[far] == NO_EVIDENCE).all()
    assert (why[near] == 0).mean() > 0.9
    # the grid reaches the domain buffer past the outermost events (no silent blank at the edge)
    assert dist[0, :].min() > 8_000 or dist[:, 0].min() > 8_000


def _emptiest(ev: pd.DataFrame) -> tuple[float, float]:
    """The point of the events' box farthest from every event (degrees are near enough at 5–11° N)."""
    lon, lat = np.meshgrid(np.linspace(ev.lon.min(), ev.lon.max(), 60), np.linspace(ev.lat.min(), ev.lat.max(), 60))
    tree = shapely.STRtree(shapely.points(ev.lon, ev.lat))
    _i, d = tree.query_nearest(shapely.points(lon.ravel(), lat.ravel()), return_distance=True, all_matches=False)
    k = int(np.argmax(d))
    assert d[k] > 0.4  # over 40 km from any event
    return float(lon.ravel()[k]), float(lat.ravel()[k])


def test_at_locations_get_a_reason_column_and_the_count_is_honest(near_events_model, tmp_path):
    ev = pd.read_csv(SAMPLE)
    empty = _emptiest(ev)
    pts = pd.DataFrame(
        {
            "lon": [ev["lon"].iloc[0], empty[0], -60.0, ev["lon"].min() - 0.05],
            "lat": [ev["lat"].iloc[0], empty[1], 0.0, ev["lat"].iloc[ev["lon"].idxmin()]],
        }
    )  # an event; 40+ km from every event; far off the grid; just past the westernmost event
    at = tmp_path / "pts.csv"
    pts.to_csv(at, index=False)
    out = tmp_path / "scores.csv"
    res = invoke_cli("risk", "predict", "--model", str(near_events_model), *COMMON, "--at", str(at), "--out", str(out))
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(out, keep_default_na=False)
    assert "cannot_say" in got.columns
    assert got["cannot_say"].iloc[0] == "" and 0 <= float(got["risk"].iloc[0]) <= 1
    assert got["cannot_say"].iloc[1] == REASONS[NO_EVIDENCE] and got["risk"].iloc[1] == ""
    assert "outside the model's grid" in got["cannot_say"].iloc[2]
    assert got["cannot_say"].iloc[3] == "" and got["risk"].iloc[3] != ""  # the margin covers it
    assert "scored 2 of 4 locations" in res.stdout
    # explain says the same instead of explaining a guess
    res = invoke_cli(
        "risk",
        "explain",
        "--model",
        str(near_events_model),
        *COMMON,
        "--at",
        f"{empty[0]},{empty[1]}",
        "--format",
        "json",
    )
    assert res.returncode == 0, res.stderr
    (ex,) = json.loads(res.stdout)
    assert ex["risk"] is None and ex["out_of_domain"] == REASONS[NO_EVIDENCE]
    res = invoke_cli("risk", "explain", "--model", str(near_events_model), *COMMON, "--at", "-60.0,0.0")
    assert res.returncode != 0 and "-60.0, 0.0" in (res.stdout + res.stderr)


def test_check_says_the_model_cannot_say_where_the_map_has_no_evidence(small_store, tmp_path):
    """A saved map whose western half is out of the model's domain: `check` there says so."""
    from safeground.risk.layers import from_store
    from safeground.risk.output import register_latest, write_risk_raster
    from safeground.risk.pipeline import make_grid
    from safeground.storage import open_store

    store = tmp_path / "s.gpkg"
    shutil.copy(small_store, store)
    with open_store(str(store)) as s:
        data = from_store(s)
        grid = make_grid(data, 50.0)
        from safeground.risk.grid import Window

        risk = np.full((grid.nrows, grid.ncols), 0.01, np.float32)
        why = np.zeros(risk.shape, np.uint8)
        half = grid.ncols // 2
        why[:, :half] = NO_EVIDENCE
        risk[why > 0] = np.nan
        raster = tmp_path / "risk.tif"
        write_risk_raster(raster, grid, [(Window(0, 0, grid.nrows, grid.ncols), risk, why)], {"model_version": "t"})
        register_latest(s, {"raster": str(raster), "model_version": "t", "threshold": 0.5, "features_as_of": "x"})
    t = grid.to_wgs84()
    west = t.transform(grid.x0 + 3.5 * grid.cell, grid.y0 - (grid.nrows // 2 + 0.5) * grid.cell)
    east = t.transform(grid.x0 + (grid.ncols - 3.5) * grid.cell, grid.y0 - (grid.nrows // 2 + 0.5) * grid.cell)
    res = invoke_cli("check", f"{west[0]}", f"{west[1]}", "--store", str(store), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["risk"] == "no evidence near here: the model cannot say"
    res = invoke_cli("check", f"{east[0]}", f"{east[1]}", "--store", str(store), "--format", "json")
    assert json.loads(res.stdout)["risk_probability"] == pytest.approx(0.01)


# ------------------------------------------------------------------ dates chosen, validation recorded


def test_train_picks_the_latest_labelled_date_and_the_card_keeps_its_validation(tmp_path):
    out = tmp_path / "m.joblib"
    res = invoke_cli("risk", "train", "--out", str(out), *COMMON, "--cell", "2000", "--block-column", "department")
    assert res.returncode == 0, res.stderr
    ev = pd.read_csv(SAMPLE)
    years = ev.loc[ev["event_type"].isin([1, 2]), "year"].to_numpy()
    need = max(20, int(np.ceil(0.25 * len(years))))
    latest = max(y for y in np.unique(years) if (years > y).sum() >= need)
    card = json.loads(out.with_suffix(".joblib.json").read_text())
    assert card["trained_as_of"] == f"{latest}-12-31"
    assert f"as of {latest}-12-31: the latest date that leaves a labelled period" in res.stdout
    v = card["validation"]
    assert v is not None and 0.5 < v["roc_auc"] <= 1 and v["positive_cells"] > 10
    assert "department" in v["blocks"] or "admin" in v["blocks"]
    assert f"ROC-AUC {v['roc_auc']:.3f}" in res.stdout
    # predict applies it at the data's last date, not at today's
    tif = tmp_path / "r.tif"
    res = invoke_cli("risk", "predict", "--model", str(out), *COMMON, "--out", str(tif))
    assert res.returncode == 0, res.stderr
    with rasterio.open(tif) as src:
        assert src.tags()["features_as_of"] == f"{ev['year'].max()}-12-31"  # the last event of any type
    assert "(the data's last date)" in res.stdout


def test_training_takes_its_accident_cells_from_the_domain_too(near_events_model: Path):
    """The negatives come from within the domain buffer of earlier events, so must the positives: taken from
    anywhere, a cell far from all evidence was labelled only when it had an accident (the model learnt that
    remoteness means accidents) and the training domain's reach grew to take those cells in."""
    card = json.loads(near_events_model.with_suffix(".joblib.json").read_text())
    reach = card["domain"]["farthest_training_cell_from_evidence_m"]
    assert reach is not None and reach <= 10_000 + 1000  # half a cell; with the accident cells from anywhere: 18 km
    assert card["provenance"]["positive_cells_outside_domain"] > 0


def test_train_says_how_many_cells_with_later_events_it_left_out(tmp_path: Path):
    out = tmp_path / "m.joblib"
    res = invoke_cli(
        "risk", "train", "--out", str(out), *COMMON, "--cell", "2000", "--as-of", "2008-12-31",
        "--domain-buffer-m", "10000", "--block-column", "department",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    card = json.loads(out.with_suffix(".joblib.json").read_text())
    n = card["provenance"]["positive_cells_outside_domain"]
    assert f"{n:,} cells with later events lie beyond the domain buffer" in " ".join(res.stdout.split())
