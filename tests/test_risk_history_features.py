"""Issue 15: the event-history features (trend shares, Gaussian kernel densities), events split by a column
(rural / urban), and the spatial ensemble, each checked on hand-made events with hand-computed values."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from safeground.risk.domain import range_checked
from safeground.risk.features import (
    NO_EVENTS,
    FeatureBuilder,
    FeatureSpec,
    gaussian_weights,
    kernel_density,
)
from safeground.risk.grid import Window
from safeground.risk.layers import POINT, Layer, from_files
from safeground.risk.models import SpatialEnsembleRisk, make_model
from safeground.risk.pipeline import _window_count, make_grid
from tests.conftest import invoke_cli
from tests.test_risk import DATA, centre, tiny_grid


def dated(name: str, g, cells: list[tuple[int, int]], days: list[str], as_of: date) -> Layer:
    pts = np.array([shapely.Point(*centre(g, r, c)) for r, c in cells])
    return Layer(name, POINT, pts, np.array(days, dtype="datetime64[D]")).known_on(as_of)


def test_trend_is_the_share_of_recent_events_in_the_window():
    g = tiny_grid()
    la = dated(
        "event:accident",
        g,
        [(2, 3), (2, 3), (2, 5), (2, 6)],
        ["2020-06-01", "2010-01-01", "2019-12-01", "2022-01-01"],  # the last one is not known yet
        date(2021, 1, 1),
    )
    spec = FeatureSpec(max_distance_m=50.0, radii_m=(), trend_years=(1.0, 3.0), trend_radii_m=(10.0,))
    fb = FeatureBuilder(g, [la], spec)
    assert fb.names == ["dist:event:accident", "trend:event:accident:1y:10m", "trend:event:accident:3y:10m"]
    feats = fb.window(Window(0, 0, 10, 10))
    one, three = feats[:, 1].reshape(10, 10), feats[:, 2].reshape(10, 10)
    # (2, 3): its 3 × 3 window holds the two events of that cell, one from 2020 and one from 2010
    assert one[2, 3] == pytest.approx(0.5) and three[2, 3] == pytest.approx(0.5)
    # (2, 4): all three known events; 2020-06 is within a year, 2019-12 within three
    assert one[2, 4] == pytest.approx(1 / 3) and three[2, 4] == pytest.approx(2 / 3)
    # (2, 6): only the 2019 event (the 2022 one is not known on the date): none in the last year
    assert one[2, 6] == 0.0 and three[2, 6] == 1.0
    assert one[8, 8] == NO_EVENTS and three[8, 8] == NO_EVENTS


def test_kernel_density_is_a_gaussian_per_km2_cut_at_three_sigma():
    g = tiny_grid(20)
    la = dated("event:accident", g, [(10, 10)], ["2020-01-01"], date(2021, 1, 1))
    fb = FeatureBuilder(g, [la], FeatureSpec(max_distance_m=50.0, radii_m=(), distance=False, kernel_m=(10.0,)))
    assert fb.names == ["kde:event:accident:10m"]
    k = fb.window(Window(0, 0, 20, 20))[:, 0].reshape(20, 20)
    # the 1-D kernel at 0, 1, 2, 3 cells (σ = 1 cell): round(1024 · exp(−d²/2)) = 1024, 621, 139, 11
    assert gaussian_weights(10.0, 10.0).tolist() == [11, 139, 621, 1024, 621, 139, 11]
    total = 1024 + 2 * (621 + 139 + 11)
    cell_km2 = 0.01**2
    assert k[10, 10] == pytest.approx((1024 / total) ** 2 / cell_km2, rel=1e-6)
    assert k[10, 10] == pytest.approx(1 / (2 * np.pi * 10.0**2) * 1e6, rel=0.002)  # the continuous Gaussian
    assert k[10, 11] / k[10, 10] == pytest.approx(621 / 1024, rel=1e-6)
    assert k[11, 12] / k[10, 10] == pytest.approx(621 * 139 / 1024**2, rel=1e-6)
    assert k[10, 14] == 0 and k[14, 10] == 0  # cut beyond 3 σ
    assert float(k.sum()) * cell_km2 == pytest.approx(1.0, rel=1e-5)  # one event's mass, whole


def test_history_features_are_the_same_in_any_tile_or_batch():
    rng = np.random.default_rng(3)
    g = tiny_grid(40)
    n = 60
    pts = shapely.points(g.x0 + rng.uniform(0, 400, n), g.y0 - rng.uniform(0, 400, n))
    days = np.datetime64("2010-01-01") + rng.integers(0, 365 * 10, n).astype("timedelta64[D]")
    la = Layer("event:accident", POINT, pts, days).known_on(date(2020, 1, 1))
    spec = FeatureSpec(
        max_distance_m=60.0, radii_m=(20.0,), trend_years=(1.0, 3.0), trend_radii_m=(30.0, 50.0), kernel_m=(15.0,)
    )
    fb = FeatureBuilder(g, [la], spec)
    whole = fb.window(Window(0, 0, 40, 40))
    assert (whole[:, fb.names.index("kde:event:accident:15m")] > 0).any()
    tiled = np.zeros_like(whole)
    for t in g.tiles(7, fb.halo):
        rows = np.arange(t.core.row0, t.core.row0 + t.core.height)
        cols = np.arange(t.core.col0, t.core.col0 + t.core.width)
        tiled[(rows[:, None] * 40 + cols[None, :]).ravel()] = fb.tile(t)
    np.testing.assert_array_equal(tiled, whole)  # bit for bit: one score per place
    some = np.array([0, 41, 999, 1599, 800, 433])
    np.testing.assert_array_equal(fb.cells(some, tile_cells=9), whole[some])


def test_kernel_sums_carry_no_residue_wherever_the_array_starts():
    rng = np.random.default_rng(5)
    w = np.zeros((60, 60))
    np.add.at(w, (rng.integers(0, 60, 300), rng.integers(0, 60, 300)), 1.0)
    whole = kernel_density(w, 3000.0, 1000.0)
    part = kernel_density(w[7:, 13:], 3000.0, 1000.0)
    # away from the cut edges (9 cells, 3 σ), the values agree exactly
    np.testing.assert_array_equal(part[9:-9, 9:-9], whole[16:-9, 22:-9])


def test_spec_round_trips_and_older_cards_load_with_the_new_features_off():
    spec = FeatureSpec(trend_years=(1.0,), trend_radii_m=(5000.0,), kernel_m=(2000.0, 8000.0))
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    old = {"max_distance_m": 2000.0, "radii_m": [250.0], "distance": True, "density": True, "dem_path": None}
    back = FeatureSpec.from_dict(old)
    assert back.trend_years == () and back.kernel_m == () and back.recency_radii_m == ()
    assert FeatureSpec(kernel_m=(8000.0,)).halo_cells(1000.0) == 25  # 3 σ = 24 cells, plus one
    # densities and shares are not held to their training range; ground measurements are
    assert not range_checked("kde:event:all:2000m") and not range_checked("trend:event:1:1y:5000m")
    assert range_checked("elevation_m")


def test_events_split_by_a_column_make_layers_without_doubling_the_baseline(tmp_path):
    csv = tmp_path / "ev.csv"
    pd.DataFrame(
        {
            "lon": [-73.10, -73.11, -73.30, -73.31, -73.32],
            "lat": [6.40, 6.41, 6.60, 6.61, 6.62],
            "year": [2001, 2002, 2003, 2004, 2005],
            "event_type": [1, 4, 8, 1, 6],
            "area_type": ["Rural", "Urbana", "Rural", " Rural", "Rural"],
        }
    ).to_csv(csv, index=False)
    plain = from_files(csv, "event_type in 1")
    split = from_files(csv, "event_type in 1", split_columns=("area_type",))
    sizes = {la.name: len(la) for la in split.layers}
    assert sizes["event:area_type=Rural"] == 4 and sizes["event:area_type=Urbana"] == 1
    assert split.provenance["split_columns"] == "area_type"
    grid = make_grid(plain, 1000.0, plain.crs_wkt)
    cells = np.arange(grid.size)
    np.testing.assert_array_equal(
        _window_count(grid, plain, None, 3000.0, cells), _window_count(grid, split, None, 3000.0, cells)
    )
    with pytest.raises(Exception, match="no column 'zone'"):
        from_files(csv, "event_type in 1", split_columns=("zone",))


def test_spatial_ensemble_leaves_out_blocks_and_explains_its_own_score():
    rng = np.random.default_rng(11)
    n = 3000
    xs = rng.normal(size=(n, 4))
    y = (xs[:, 0] + 0.3 * rng.normal(size=n) > 1.0).astype(int)
    groups = rng.integers(0, 10, n)
    m = make_model("lightgbm-spatial-ensemble", params={"n_estimators": 30})
    assert isinstance(m, SpatialEnsembleRisk)
    m.fit(xs, y, groups, calibrate=False)
    assert len(m.members) == 5
    # each member left out 2 of the 10 blocks, a different 2: together every block was left out once
    assert [len(b) for b in m.left_out] == [2] * 5
    assert sorted(b for bs in m.left_out for b in bs) == sorted(str(b) for b in range(10))
    raw = m._raw(xs)
    np.testing.assert_allclose(raw, np.mean([mem._raw(xs) for mem in m.members], axis=0))
    assert not np.allclose(m.members[0]._raw(xs), m.members[1]._raw(xs))
    np.testing.assert_allclose(m.contributions(xs).sum(axis=1), raw, atol=1e-6)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, raw) > 0.95
    # calibrated through the same out-of-fold path as every model
    cal = make_model("lightgbm-spatial-ensemble", params={"n_estimators": 30}).fit(xs, y, groups)
    assert cal.calibrator is not None
    p = cal.predict_proba(xs)
    assert abs(p.mean() - y.mean()) < 0.02


def test_cli_trains_and_predicts_with_history_features_split_events_and_the_ensemble(tmp_path):
    model = tmp_path / "col.joblib"
    common = ["--events", str(DATA / "colombia-sample.csv"), "--target", "event_type in 1,2"]
    res = invoke_cli(
        "risk", "train", "--out", str(model), *common, "--cell", "2000", "--as-of", "2008-12-31",
        "--block-column", "department", "--model", "lightgbm-spatial-ensemble", "--recency", "4000",
        "--trend-years", "1,3", "--trend-radii", "10000", "--kernel", "4000", "--split-column", "area_type",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    card = json.loads(model.with_suffix(".joblib.json").read_text())
    assert card["model"] == "lightgbm-spatial-ensemble"
    assert card["feature_spec"]["kernel_m"] == [4000.0] and card["feature_spec"]["trend_years"] == [1.0, 3.0]
    feats = set(card["features"])
    assert {"kde:event:1:4000m", "trend:event:all:3y:10000m", "dist:event:area_type=Rural"} <= feats
    assert "trend:event:1:last2y:1y:10000m" not in feats  # recent copies get no trend of their own
    pts = tmp_path / "pts.csv"
    pd.read_csv(DATA / "colombia-sample.csv").iloc[::150][["lon", "lat"]].to_csv(pts, index=False)
    out = tmp_path / "scores.csv"
    # predict is not told --split-column: the model's provenance carries it
    res = invoke_cli("risk", "predict", "--model", str(model), *common, "--at", str(pts), "--out", str(out))
    assert res.returncode == 0, res.stderr
    scores = pd.read_csv(out)
    assert scores["risk"].dropna().between(0, 1).all() and scores["risk"].notna().sum() > len(scores) // 2
    from safeground.risk.pipeline import TrainedModel
    from safeground.services.risk import RiskInputs, load_data

    tm = TrainedModel.load(model)
    data = load_data(RiskInputs(events=DATA / "colombia-sample.csv", target="event_type in 1,2"), tm.crs_wkt, tm)
    assert len(next(la for la in data.layers if la.name == "event:area_type=Rural")) > 1000
    res = invoke_cli("risk", "train", "--out", str(tmp_path / "x.joblib"), *common, "--trend-years", "1")
    assert res.returncode != 0 and "--trend-radii" in res.stderr


def test_store_events_get_history_features(demo_dir: Path):
    """The demo path: a store's accidents and finds are dated event layers, so they get the new features."""
    from safeground.risk.layers import from_store
    from safeground.risk.pipeline import aligned_layers, last_date
    from safeground.storage import open_store

    with open_store(str(demo_dir / "demo.gpkg"), readonly=True) as s:
        data = from_store(s)
    on = last_date(data)
    grid = make_grid(data, 50.0, data.crs_wkt)
    spec = FeatureSpec.for_cell(50.0)
    spec = FeatureSpec(**{**spec.__dict__, "trend_years": (1.0,), "trend_radii_m": (500.0,), "kernel_m": (200.0,)})
    fb = FeatureBuilder(grid, aligned_layers(data, on), spec)
    assert "trend:event:accident:1y:500m" in fb.names and "kde:event:find:200m" in fb.names
    rng = np.random.default_rng(2)
    cells = rng.choice(grid.size, 400, replace=False)
    a, b = fb.cells(cells), fb.cells(cells, tile_cells=37)
    np.testing.assert_array_equal(a, b)
    kde = a[:, fb.names.index("kde:event:find:200m")]
    assert (kde > 0).any() and (kde == 0).any()
