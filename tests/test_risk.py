"""The contamination risk model: grid, features against hand-computed values, learning a planted
pattern, honest validation, external files, outputs, and the CLI on the demo district."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from safeground.errors import SafeGroundError, as_flag
from safeground.risk.features import FeatureBuilder, FeatureSpec
from safeground.risk.grid import Grid, Window
from safeground.risk.layers import LINE, POINT, POLYGON, Events, Layer, RiskData, from_files, parse_filter
from safeground.risk.metrics import capture_rate, evaluate_scores
from safeground.risk.pipeline import RiskSettings, evaluate_blocks, evaluate_temporal, score_points, train
from tests.conftest import invoke_cli

DATA = Path(__file__).parent / "data" / "risk"
UTM38 = "EPSG:32638"


def tiny_grid(n: int = 10, cell: float = 10.0) -> Grid:
    from pyproj import CRS

    return Grid(CRS.from_user_input(UTM38).to_wkt(), 500_000.0, 4_400_000.0, cell, n, n)


def centre(g: Grid, row: int, col: int) -> tuple[float, float]:
    return g.x0 + (col + 0.5) * g.cell, g.y0 - (row + 0.5) * g.cell


# ------------------------------------------------------------------ grid


def test_grid_picks_utm_for_a_district_and_equal_area_for_a_country():
    district = Grid.covering((46.9, 39.6, 47.1, 39.8), 25)
    assert district.crs.to_epsg() == 32638
    # 0.2° of longitude at 39.7° N ≈ 17.1 km; the box is rotated in UTM by grid convergence, so a little more
    assert 17_100 <= district.ncols * 25 <= 18_500
    country = Grid.covering((-79.0, -4.2, -66.9, 12.5), 1000)  # Colombia spans UTM zones 17–19
    assert "Lambert Azimuthal Equal Area" in country.crs.to_wkt() or "laea" in country.crs.to_proj4()
    # cell centres map back into their own cells
    x, y = country.centres(Window(10, 20, 3, 4))
    r, c, ok = country.cell_of(x, y)
    assert ok.all() and r.min() == 10 and c.max() == 23


def test_grid_refuses_nonsense():
    with pytest.raises(SafeGroundError, match="not positive"):
        Grid.covering((46.9, 39.6, 47.1, 39.8), 0)
    with pytest.raises(SafeGroundError, match="larger cell") as exc:
        Grid.covering((-80, -5, -60, 13), 1)
    assert "larger --cell" in (exc.value.render_hint(as_flag) or "")


# ------------------------------------------------------------------ features by hand


def test_point_distance_and_density_match_hand_computed_values():
    g = tiny_grid()
    pole = Layer("infra:light_pole", POINT, np.array([shapely.Point(*centre(g, 2, 3))]))
    spec = FeatureSpec(max_distance_m=50.0, radii_m=(10.0,))
    fb = FeatureBuilder(g, [pole], spec)
    assert fb.names == ["dist:infra:light_pole", "dens:infra:light_pole:10m"]
    X = fb.window(Window(0, 0, 10, 10))
    dist = X[:, 0].reshape(10, 10)
    dens = X[:, 1].reshape(10, 10)
    assert dist[2, 3] == 0
    assert dist[2, 7] == pytest.approx(40.0)
    assert dist[5, 3] == pytest.approx(30.0)
    assert dist[5, 6] == pytest.approx(np.hypot(30, 30))
    assert dist[9, 9] == 50.0  # capped
    # one point in a 3 × 3 window of 10 m cells: 1 / 0.0009 km²
    assert dens[1:4, 2:5] == pytest.approx(np.full((3, 3), 1 / 0.0009), rel=1e-5)
    assert dens[5, 3] == 0 and dens[2, 6] == 0


def test_line_density_is_km_per_km2_and_polygon_density_is_covered_share():
    g = tiny_grid()
    y = centre(g, 5, 0)[1]
    path = Layer("infra:path", LINE, np.array([shapely.LineString([(g.x0, y), (g.x0 + 100, y)])]))
    field = Layer(
        "hazard_area", POLYGON, np.array([shapely.box(g.x0, g.y0 - 100, g.x0 + 48, g.y0)]), weights=np.array([0.5])
    )
    fb = FeatureBuilder(g, [path, field], FeatureSpec(max_distance_m=100.0, radii_m=(10.0,)))
    X = fb.window(Window(0, 0, 10, 10))
    line_dens = X[:, 1].reshape(10, 10)
    # 30 m of path in a 30 × 30 m window: 0.03 km / 0.0009 km²
    assert line_dens[5, 5] == pytest.approx(0.03 / 0.0009, rel=0.02)
    assert line_dens[4, 5] == pytest.approx(0.03 / 0.0009, rel=0.02)
    assert line_dens[2, 5] == 0
    dist_field = X[:, 2].reshape(10, 10)
    cover = X[:, 3].reshape(10, 10)
    assert dist_field[5, 2] == 0 and dist_field[5, 4] == 0
    assert dist_field[5, 7] == pytest.approx(30.0)  # cols 5 … 7 from the boundary cell 4
    assert cover[5, 2] == pytest.approx(0.5)  # fully inside, weight 0.5
    assert cover[5, 4] == pytest.approx(0.5 * 6 / 9)  # two of three window columns inside
    assert cover[5, 6] == 0


def test_tiles_with_halos_give_the_same_features_as_one_window():
    rng = np.random.default_rng(1)
    g = tiny_grid(40)
    pts = shapely.points(g.x0 + rng.uniform(0, 400, 30), g.y0 - rng.uniform(0, 400, 30))
    lines = np.array([shapely.LineString([(g.x0 + 5, g.y0 - 7), (g.x0 + 390, g.y0 - 333)])])
    fb = FeatureBuilder(
        g, [Layer("a", POINT, pts), Layer("b", LINE, lines)], FeatureSpec(max_distance_m=80.0, radii_m=(20.0, 50.0))
    )
    whole = fb.window(Window(0, 0, 40, 40))
    tiled = np.zeros_like(whole)
    for t in g.tiles(7, fb.halo):
        rows = np.arange(t.core.row0, t.core.row0 + t.core.height)
        cols = np.arange(t.core.col0, t.core.col0 + t.core.width)
        flat = (rows[:, None] * 40 + cols[None, :]).ravel()
        tiled[flat] = fb.tile(t)
    np.testing.assert_allclose(tiled, whole, rtol=1e-5, atol=1e-4)
    some = np.array([0, 41, 999, 1599, 800])
    np.testing.assert_allclose(fb.cells(some, tile_cells=9), whole[some], rtol=1e-5, atol=1e-4)


def test_events_are_only_known_from_their_date():
    la = Layer(
        "event:accident",
        POINT,
        np.array([shapely.Point(0, 0), shapely.Point(1, 1)]),
        np.array(["2021-05-01", "2023-01-01"], dtype="datetime64[D]"),
    )
    assert len(la.known_on(date(2022, 1, 1))) == 1
    assert len(la.known_on(date(2023, 1, 1))) == 2
    assert len(la.known_on(None)) == 2


# ------------------------------------------------------------------ metrics


def test_capture_rate_shares_ties_at_the_cut():
    score = np.array([0.9, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    events = np.array([3, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    assert capture_rate(score, events, 0.10) == pytest.approx(0.75)
    assert capture_rate(score, events, 0.20) == pytest.approx(0.75)
    # 3 of 8 tied slots at 0.1 → 3/8 of the one event there
    assert capture_rate(score, events, 0.50) == pytest.approx((3 + 3 / 8) / 4)
    s = evaluate_scores(score, events)
    assert s.positive_cells == 2 and s.events == 4 and s.roc_auc is not None


# ------------------------------------------------------------------ learning a planted pattern


def planted(seed: int = 3, n_poles: int = 120) -> RiskData:
    """Mines around light poles near the former front (the west edge) only; finds and clearance after 2022-01-01."""
    rng = np.random.default_rng(seed)
    from pyproj import CRS

    crs = CRS.from_epsg(32638).to_wkt()
    x0, y0, side = 500_000.0, 4_400_000.0, 6000.0
    px, py = x0 + rng.uniform(0, side, n_poles), y0 + rng.uniform(0, side, n_poles)
    mined = px < x0 + 1500
    fx = np.repeat(px[mined], 3) + rng.normal(0, 8, 3 * mined.sum())
    fy = np.repeat(py[mined], 3) + rng.normal(0, 8, 3 * mined.sum())
    dates = np.array(["2022-06-01"] * len(fx), dtype="datetime64[D]")
    cleared = shapely.buffer(shapely.points(px, py), 60)  # teams cleared around every pole after 2022
    released = gpd.GeoDataFrame({"date": np.full(n_poles, np.datetime64("2022-09-01"))}, geometry=cleared, crs=crs)
    distractor = shapely.points(x0 + rng.uniform(0, side, 200), y0 + rng.uniform(0, side, 200))
    from pyproj import Transformer

    t = Transformer.from_crs(crs, 4326, always_xy=True)
    w, s = t.transform(x0 - 100, y0 - 100)
    e, n = t.transform(x0 + side + 100, y0 + side + 100)
    return RiskData(
        layers=[
            Layer("infra:light_pole", POINT, shapely.points(px, py)),
            Layer("infra:spring", POINT, distractor),
            Layer(
                "front_line", LINE, np.array([shapely.LineString([(x0 + side / 2, y0), (x0 + side / 2, y0 + side)])])
            ),
        ],
        targets=Events(fx, fy, dates),
        crs_wkt=crs,
        bounds_wgs84=(w, s, e, n),
        released=released,
    )


@pytest.mark.parametrize("model", ["lightgbm", "logistic"])
def test_model_finds_the_planted_pattern(model):
    data = planted()
    settings = RiskSettings(cell_m=25, model=model, block_km=1.5, background_ratio=1.0)
    tm = train(data, settings, as_of="2022-01-01")
    g = Grid.covering(data.bounds_wgs84, 25, data.crs_wkt)
    poles = data.layers[0].geoms
    xy = shapely.get_coordinates(poles)
    lon, lat = g.to_wgs84().transform(xy[:, 0], xy[:, 1])
    risk = score_points(tm, data, np.asarray(lon), np.asarray(lat), date(2022, 1, 1))
    west = xy[:, 0] < 501_500
    # poles near the front (where mines were laid) score far above poles elsewhere; probabilities stay in [0, 1]
    assert np.median(risk[west]) > 3 * np.median(risk[~west])
    assert risk.min() >= 0 and risk.max() <= 1
    ev = evaluate_blocks(data, settings, as_of="2022-01-01")
    assert ev.model.roc_auc is not None and ev.model.roc_auc > 0.8
    assert ev.model.capture_10 is not None and ev.model.capture_10 > 0.5


def test_explanations_name_the_feature_that_matters():
    from safeground.risk.pipeline import explain_points

    data = planted()
    tm = train(data, RiskSettings(cell_m=25, block_km=1.5), as_of="2022-01-01")
    xy = shapely.get_coordinates(data.layers[0].geoms)
    west = int(np.flatnonzero(xy[:, 0] < 502_000)[0])
    g = Grid.covering(data.bounds_wgs84, 25, data.crs_wkt)
    lon, lat = g.to_wgs84().transform(xy[west : west + 1, 0], xy[west : west + 1, 1])
    (res,) = explain_points(tm, data, np.asarray(lon), np.asarray(lat), date(2022, 1, 1), top=3)
    names = [n for n, _v, _c in res["up"]]
    assert any("light_pole" in n or "front_line" in n for n in names), res
    assert res["risk"] > 0.2


def test_training_without_labels_after_the_date_says_what_to_do():
    data = planted()
    with pytest.raises(SafeGroundError, match="earlier as_of") as exc:
        train(data, RiskSettings(cell_m=25), as_of="2023-01-01")
    assert "earlier --as-of" in (exc.value.render_hint(as_flag) or "")


# ------------------------------------------------------------------ external files (real Colombian events)


def test_target_filter_parsing():
    assert parse_filter("event_type in 1,2") == ("event_type", "in", ["1", "2"])
    assert parse_filter("kind == accident") == ("kind", "in", ["accident"])
    assert parse_filter("event_type not in (4, 5)") == ("event_type", "not in", ["4", "5"])
    with pytest.raises(SafeGroundError, match="target filter"):
        parse_filter("accidents please")


def test_external_events_temporal_holdout_on_real_colombian_sample():
    data = from_files(DATA / "colombia-sample.csv", "event_type in 1,2", block_column="department")
    assert "Lambert" in data.crs_wkt or "laea" in data.crs_wkt.lower() or "UTM" in data.crs_wkt
    ev = evaluate_temporal(data, RiskSettings(cell_m=2000), "2006-12-31")
    d = ev.as_dict()
    assert d["test_labels"].startswith("2006-12-31")
    for s in (ev.model, ev.baseline):
        assert s.roc_auc is not None and 0 <= s.roc_auc <= 1
        assert s.capture_10 is not None
    assert ev.model.positive_cells > 15
    assert ev.model.roc_auc > 0.6


def test_external_events_errors_name_file_row_and_field(tmp_path):
    bad = tmp_path / "events.csv"
    bad.write_text("lon,lat,year,event_type\n-73.1,6.4,2001,1\nabc,6.5,2002,2\n")
    from safeground.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        from_files(bad, "event_type in 1")
    p = exc.value.problems[0]
    assert p.source == "events.csv" and p.item == "row 3" and p.field == "lon/lat"
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("x,y\n1,2\n")
    with pytest.raises(InvalidInput) as exc:
        from_files(nocol, "event_type in 1")
    assert {p.field for p in exc.value.problems} == {"lon", "lat"}
    with pytest.raises(SafeGroundError, match="no event matches"):
        from_files(DATA / "colombia-sample.csv", "event_type in 99")


def test_cli_external_train_and_score_at_locations(tmp_path):
    model = tmp_path / "col.joblib"
    common = ["--events", str(DATA / "colombia-sample.csv"), "--target", "event_type in 1,2"]
    res = invoke_cli(
        "risk",
        "train",
        "--out",
        str(model),
        *common,
        "--cell",
        "2000",
        "--model",
        "logistic",
        "--as-of",
        "2008-12-31",
        "--block-column",
        "department",
    )
    assert res.returncode == 0, res.stderr
    card = json.loads(model.with_suffix(".joblib.json").read_text())
    assert card["model"] == "logistic" and card["trained_as_of"] == "2008-12-31"
    pts = tmp_path / "pts.csv"
    sample = pd.read_csv(DATA / "colombia-sample.csv").iloc[::200][["lon", "lat"]]
    sample.to_csv(pts, index=False)
    out = tmp_path / "scores.csv"
    res = invoke_cli("risk", "predict", "--model", str(model), *common, "--at", str(pts), "--out", str(out))
    assert res.returncode == 0, res.stderr
    scores = pd.read_csv(out)
    assert len(scores) == len(sample) and scores["risk"].between(0, 1).all()
    assert (scores["model_version"] == card["version"]).all()


# ------------------------------------------------------------------ the demo district, end to end


@pytest.fixture(scope="module")
def demo_model(demo_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("risk") / "demo.joblib"
    res = invoke_cli("risk", "train", "--store", str(demo_dir / "demo.gpkg"), "--out", str(out), "--cell", "50")
    assert res.returncode == 0, res.stderr
    return out


def test_demo_blocks_evaluation_reports_all_metrics_and_beats_chance_on_truth(demo_dir):
    res = invoke_cli("risk", "evaluate", "--store", str(demo_dir / "demo.gpkg"), "--cell", "50", "--format", "json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["method"] == "spatial block cross-validation"
    for key in ("roc_auc", "pr_auc", "capture_5", "capture_10"):
        assert d["model"][key] is not None and 0 <= d["model"][key] <= 1
    # the generator knows where every mine still is: mined uncleared cells must rank well above clean ones
    truth = d["ground_truth"]
    assert truth["roc_auc"] > 0.75, truth
    # mined cells above the riskiest tenth of clean ground: at least three times chance (0.10). Ranks, not
    # mean probabilities, because the calibrated level follows the share of positives among the labels
    assert truth["mined_in_top_10pct_of_clean"] > 0.3, truth
    assert d["model"]["capture_10"] > 0.15  # chance: 0.10


def test_demo_predict_writes_a_cog_and_stores_labelled_polygons(demo_dir, demo_model, tmp_path):
    import shutil

    store = tmp_path / "copy.gpkg"
    shutil.copy(demo_dir / "demo.gpkg", store)
    cog = tmp_path / "risk.tif"
    res = invoke_cli(
        "risk",
        "predict",
        "--model",
        str(demo_model),
        "--store",
        str(store),
        "--out",
        str(cog),
        "--top",
        "0.05",
        "--save",
    )
    assert res.returncode == 0, res.stderr
    with rasterio.open(cog) as src:
        assert src.crs.to_epsg() == 32638
        assert src.profile["tiled"] and src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.tags()["model_version"] and src.tags()["data_fingerprint"]
        arr = src.read(1)
        assert np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1
        top = (arr >= np.quantile(arr, 0.95)).mean()
        assert 0.03 < top < 0.08
    from safeground.model import PredictedHazard
    from safeground.storage import open_store

    with open_store(str(store), readonly=True) as s:
        polys = s.read_frame(PredictedHazard)
        latest = json.loads(s.get_meta("risk.latest"))
    assert len(polys) > 0
    assert polys["model_version"].nunique() == 1 and polys["raster"].iloc[0] == str(cog.resolve())
    assert (polys["mean_risk"] >= polys["threshold"] - 1e-6).all()
    assert latest["raster"] == str(cog.resolve())
    # the safe-check now reports the predicted risk of the cell
    p = polys.geometry.iloc[0].representative_point()
    res = invoke_cli("check", f"{p.x}", f"{p.y}", "--store", str(store), "--format", "json")
    assert res.returncode == 0, res.stderr
    risk = json.loads(res.stdout)["risk"]
    assert "not available" not in str(risk)
    # the prioritisation of hazard areas takes the map's mean risk per area
    res = invoke_cli("plan", "priorities", "--store", str(store), "--format", "csv")
    assert res.returncode == 0, res.stderr
    ranking = pd.read_csv(io.StringIO(res.stdout))
    assert "c_predicted_risk" in ranking.columns and ranking["predicted_risk"].notna().sum() > 10
    # and routes weigh the predicted risk of the ground they cross
    res = invoke_cli("route", "Entry checkpoint 1", "Chaykend cemetery", "--store", str(store))
    assert res.returncode == 0, res.stderr
    assert "Predicted contamination along it" in res.stdout or "No safe route" in res.stdout


def test_dask_local_cluster_gives_the_same_map(demo_store, demo_model):
    from safeground.risk.distributed import dask_client, predict_tiles
    from safeground.risk.layers import from_store
    from safeground.risk.pipeline import TrainedModel, aligned_layers, make_grid

    tm = TrainedModel.load(demo_model)
    data = from_store(demo_store, tm.crs_wkt)
    grid = make_grid(data, tm.cell_m, tm.crs_wkt)
    layers = aligned_layers(data, date(2026, 1, 1), tm.layers)
    local = {(w.row0, w.col0): a for w, a, _why in predict_tiles(tm.model, grid, layers, tm.spec, 128, None)}
    with dask_client(None, 2) as client:
        dist = {(w.row0, w.col0): a for w, a, _why in predict_tiles(tm.model, grid, layers, tm.spec, 128, client)}
    assert local.keys() == dist.keys() and len(local) > 4
    for k, a in local.items():
        np.testing.assert_array_equal(a, dist[k])


def test_dem_gives_elevation_and_slope(tmp_path):
    """A plane rising 1 m every 10 m eastwards: elevation follows x, slope is atan(0.1) = 5.71° everywhere inside."""
    from rasterio.transform import from_origin

    g = tiny_grid(20)
    dem = tmp_path / "dem.tif"
    cols = np.arange(40)
    z = np.tile(100.0 + (cols + 0.5) * 5 * 0.1, (40, 1)).astype("float32")  # 5 m pixels over the grid
    with rasterio.open(dem, "w", driver="GTiff", width=40, height=40, count=1, dtype="float32",
                       crs=UTM38, transform=from_origin(g.x0, g.y0, 5, 5)) as dst:  # fmt: skip
        dst.write(z, 1)
    spec = FeatureSpec(max_distance_m=50.0, radii_m=(10.0,), dem_path=str(dem))
    fb = FeatureBuilder(g, [Layer("p", POINT, np.array([shapely.Point(*centre(g, 3, 3))]))], spec)
    assert fb.names[-2:] == ["elevation_m", "slope_deg"]
    X = fb.window(Window(0, 0, 20, 20))
    elev = X[:, -2].reshape(20, 20)
    slope = X[:, -1].reshape(20, 20)
    assert elev[5, 4] == pytest.approx(100.0 + (4 * 10 + 5) * 0.1, abs=0.05)
    assert elev[5, 12] - elev[5, 2] == pytest.approx(10 * 10 * 0.1, abs=0.05)
    assert slope[2:18, 2:18] == pytest.approx(np.full((16, 16), np.degrees(np.arctan(0.1))), abs=0.05)
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
