"""The batch safe-check: the single check's answers for thousands of points, the input's own columns
kept, the nearest danger at any distance, buffers set per kind and said in the answer, and an accident
checked at its own place answered without itself."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from safeground.geometry.projection import project
from safeground.model import Accident, Activity, ClusterStrike, EOItem, HazardArea, MinefieldRecord
from safeground.safety.buffers import SafetyBuffers, load_buffers
from safeground.safety.check import Level, SafetyIndex
from safeground.storage import open_store
from safeground.storage.base import metric_epsg
from tests.conftest import invoke_cli

EPSG = 32638
X0, Y0 = 650_000.0, 4_386_000.0


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> dict:
    """The demo's index and its layers in the metric projection, read once."""
    with open_store(str(demo_dir / "demo.gpkg"), readonly=True) as s:
        epsg = metric_epsg(s)
        frames = {c: s.read_frame(c) for c in (HazardArea, MinefieldRecord, ClusterStrike, EOItem, Accident, Activity)}
        index = SafetyIndex.from_store(s)
    return {"index": index, "epsg": epsg, "frames": frames, "store": str(demo_dir / "demo.gpkg")}


def _points_around(demo: dict, n_uniform: int, n_near: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random points over the demo's area, and as many again within 300 m of its dangers and finds."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = demo["index"].region
    lon = list(rng.uniform(minx - 0.03, maxx + 0.03, n_uniform))
    lat = list(rng.uniform(miny - 0.03, maxy + 0.03, n_uniform))
    anchors = np.concatenate([f.to_crs(demo["epsg"]).geometry.representative_point().to_numpy()
                              for c, f in demo["frames"].items() if c is not Activity])  # fmt: skip
    pick = anchors[rng.integers(0, len(anchors), n_near)]
    ang, r = rng.uniform(0, 2 * np.pi, n_near), rng.uniform(0, 300, n_near)
    near = project(shapely.points(shapely.get_x(pick) + r * np.cos(ang), shapely.get_y(pick) + r * np.sin(ang)),
                   demo["epsg"], 4326)  # fmt: skip
    return np.r_[lon, shapely.get_x(near)], np.r_[lat, shapely.get_y(near)]


def test_batch_gives_every_point_the_single_checks_answer_on_the_demo(demo):
    index = demo["index"]
    lon, lat = _points_around(demo, 1500, 2500, seed=11)
    batch = index.check_many(lon, lat)
    singles = [index.check(a, b) for a, b in zip(lon, lat, strict=True)]
    assert list(batch["level"].astype(str)) == [s.level.name.lower() for s in singles]
    assert list(batch["reason"].astype(str)) == [s.reason for s in singles]
    assert list(batch["nearest_danger"].astype(str)) == [s.nearest_uid for s in singles]
    single_m = np.array([round(s.nearest_m, 1) for s in singles])
    assert np.abs(batch["nearest_danger_m"].to_numpy() - single_m).max() <= 0.1
    single_buf = np.array([s.buffer_m for s in singles])
    assert np.array_equal(batch["buffer_m"].to_numpy(), single_buf, equal_nan=True)
    # the sample reaches every level and every kind of reason, so the agreement says something
    assert set(batch["level"].astype(str)) == {"danger", "caution", "no_known_hazard"}
    reasons = " ".join(batch["reason"].astype(str).unique())
    for words in ("hazardous area", "minefield record", "strike footprint", "an item found here", "accident"):
        assert words in reasons, words


def _blocking_metric(demo: dict) -> tuple[np.ndarray, np.ndarray]:
    """Every blocking danger of the demo, read from the store here (not from the index): geometry, uid."""
    f, epsg = demo["frames"], demo["epsg"]
    hz = f[HazardArea][f[HazardArea]["status"] != "closed"]
    parts = [hz, f[MinefieldRecord], f[ClusterStrike]]
    geoms = np.concatenate([p.to_crs(epsg).geometry.to_numpy() for p in parts])
    uids = np.concatenate([p["uid"].to_numpy() for p in parts])
    return geoms, uids


def test_the_nearest_danger_is_given_at_any_distance_as_a_brute_force_distance_says(demo):
    index, epsg = demo["index"], demo["epsg"]
    geoms, _ = _blocking_metric(demo)
    rng = np.random.default_rng(3)
    # from inside the district out to 30 km beyond it, past the old 5 km cut-off
    minx, miny, maxx, maxy = index.region
    lon = rng.uniform(minx - 0.35, maxx + 0.35, 1500)
    lat = rng.uniform(miny - 0.3, maxy + 0.3, 1500)
    res = index.check_many(lon, lat)
    pts = project(shapely.points(lon, lat), 4326, epsg)
    brute = shapely.distance(geoms[None, :], pts[:, None]).min(axis=1)
    assert res["nearest_danger_m"].notna().all()
    assert np.abs(res["nearest_danger_m"].to_numpy() - brute).max() <= 0.051
    assert (brute > 5000).sum() > 300  # many points lie farther than the old search reached
    # --max-distance: the nearest only when within it
    capped = index.check_many(lon, lat, max_distance=1000.0)
    has = capped["nearest_danger_m"].notna().to_numpy()
    assert np.array_equal(has, brute <= 1000.0)
    assert (capped["nearest_danger"].astype(str)[~has] == "").all()
    assert np.array_equal(capped["level"].astype(str), res["level"].astype(str))  # levels do not depend on it
    single = index.check(lon[np.argmax(brute)], lat[np.argmax(brute)])
    assert f"{brute.max():,.0f} m away" in single.verdict


def test_the_nearest_danger_far_apart_and_ties_go_to_the_first_stored():
    """Sparse dangers (the square search widens many times) and two identical overlapping hazards."""
    sq = [shapely.box(X0 + dx, Y0 + dy, X0 + dx + s, Y0 + dy + s)
          for dx, dy, s in ((0, 0, 100), (0, 0, 100), (20_000, 3_000, 40), (-15_000, 25_000, 500))]  # fmt: skip
    hz = gpd.GeoDataFrame({"uid": ["HA-1", "HA-0", "HA-2", "HA-3"], "status": "open",
                           "classification": "confirmed_hazardous_area",
                           "contamination": ["antipersonnel_mines", "antipersonnel_mines", "antivehicle_mines",
                                             "cluster_munition_remnants"]},
                          geometry=project(np.array(sq), EPSG, 4326), crs=4326)  # fmt: skip
    index = SafetyIndex.from_frames(EPSG, hazards=hz)
    rng = np.random.default_rng(8)
    xy = np.column_stack([rng.uniform(X0 - 40_000, X0 + 40_000, 3000), rng.uniform(Y0 - 40_000, Y0 + 40_000, 3000)])
    xy = np.r_[xy, [[X0 + 50, Y0 + 50], [X0 + 100, Y0 + 30], [X0 - 30, Y0 + 50]]]
    ll = project(shapely.points(xy), EPSG, 4326)
    lon, lat = shapely.get_x(ll), shapely.get_y(ll)
    res = index.check_many(lon, lat)
    brute = shapely.distance(np.array(sq)[None, :], project(ll, 4326, EPSG)[:, None]).min(axis=1)
    assert np.abs(res["nearest_danger_m"].to_numpy() - brute).max() <= 0.051
    inside, edge, near = res.iloc[-3], res.iloc[-2], res.iloc[-1]
    assert inside["level"] == "danger" and inside["nearest_danger"] == "HA-1" and "HA-1" in inside["reason"]
    assert edge["level"] == "danger" and edge["nearest_danger"] == "HA-1"
    assert near["level"] == "caution" and "HA-1" in near["reason"] and near["buffer_m"] == 50.0
    for i in (len(xy) - 3, len(xy) - 1, 5, 17):
        s = index.check(lon[i], lat[i])
        assert (s.level.name.lower(), s.reason, s.nearest_uid) == (
            res["level"].iloc[i], res["reason"].iloc[i], res["nearest_danger"].iloc[i])  # fmt: skip


def _index_with(demo: dict, accidents: gpd.GeoDataFrame) -> SafetyIndex:
    """The demo's index with other accidents."""
    f = demo["frames"]
    return SafetyIndex.from_frames(demo["epsg"], hazards=f[HazardArea], records=f[MinefieldRecord],
                                   strikes=f[ClusterStrike], items=f[EOItem], accidents=accidents,
                                   activities=f[Activity])  # fmt: skip


def test_an_accident_checked_at_its_own_place_is_answered_without_itself(demo):
    index, f = demo["index"], demo["frames"]
    acc = f[Accident]
    lon, lat = shapely.get_x(acc.geometry.to_numpy()), shapely.get_y(acc.geometry.to_numpy())
    naive = index.check_many(lon, lat)  # ids not given: every accident meets itself
    res = index.check_many(lon, lat, ids=acc["uid"].to_numpy())
    own = [u in r for u, r in zip(acc["uid"], naive["reason"].astype(str), strict=True)]
    assert sum(own) > 5  # without ids, several accident places are "caution" only because of themselves
    assert not any(u in r for u, r in zip(acc["uid"], res["reason"].astype(str), strict=True))
    # the answer is the one of a district that never had that accident: dangerous only through what is around
    assert (res["level"] == "danger").sum() > 10
    for i in np.flatnonzero(own)[:6]:
        alone = _index_with(demo, acc.drop(acc.index[i])).check(lon[i], lat[i])
        row = res.iloc[i]
        assert (row["level"], row["reason"], row["nearest_danger"]) == (
            alone.level.name.lower(), alone.reason, alone.nearest_uid)  # fmt: skip
    # a second accident at the same place is another event: it still counts
    quiet = int(np.flatnonzero((res["level"] == "no_known_hazard").to_numpy())[0])
    twin = acc.iloc[[quiet]].assign(uid="ACC-TWIN")
    index2 = _index_with(demo, pd.concat([acc, twin]))
    again = index2.check_many(lon[[quiet]], lat[[quiet]], ids=acc["uid"].to_numpy()[[quiet]])
    assert again["level"].iloc[0] != "no_known_hazard" and "ACC-TWIN" in again["reason"].iloc[0]
    single = index2.check(lon[quiet], lat[quiet], exclude={acc["uid"].iloc[quiet]})
    assert single.reason == again["reason"].iloc[0]


def test_check_batch_csv_keeps_its_columns_and_says_its_buffers(demo, tmp_path):
    epsg = demo["epsg"]
    hz = demo["frames"][HazardArea]
    hz = hz[(hz["status"] != "closed") & (hz["contamination"] == "antipersonnel_mines")].to_crs(epsg)
    # a point 75 m outside an AP hazard, checked again until no other danger is within 150 m
    for geom in hz.geometry:
        ring = geom.buffer(75.0).exterior
        p = ring.interpolate(0.3, normalized=True)
        others = [g for g in _blocking_metric(demo)[0] if g.distance(p) < 150 and not g.equals(geom)]
        items = demo["frames"][EOItem].to_crs(epsg)
        acc = demo["frames"][Accident].to_crs(epsg)
        if not others and items.distance(p).min() > 150 and acc.distance(p).min() > 150:
            break
    ll = project(p, epsg, 4326)
    csv = tmp_path / "wells.csv"
    csv.write_text(f"well_no,Name,LON,LAT,notes\n007,Spring by the road,{ll.x},{ll.y},\"dug 1998, deep\"\n"
                   "012,School well,47.0,39.5,\n")  # fmt: skip
    res = invoke_cli("check", "--batch", str(csv), "--store", demo["store"])
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(tmp_path / "wells-checked.csv", dtype=str, keep_default_na=False)
    assert list(out.columns[:5]) == ["well_no", "Name", "LON", "LAT", "notes"]
    assert list(out["well_no"]) == ["007", "012"] and out["notes"].iloc[0] == "dug 1998, deep"
    assert out["level"].iloc[0] == "no_known_hazard"  # 75 m, beyond the 50 m buffer
    assert "antipersonnel_mines=50" in out["buffers"].iloc[0] and "antipersonnel_mines=50" in res.stdout
    res = invoke_cli("check", "--batch", str(csv), "--store", demo["store"], "--buffer", "mines=100",
                     "--buffer", "accident=80", "--out", str(tmp_path / "wide.csv"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    wide = pd.read_csv(tmp_path / "wide.csv", dtype=str, keep_default_na=False)
    assert wide["level"].iloc[0] == "caution" and wide["buffer_m"].iloc[0] == "100.0"
    for said in ("antipersonnel_mines=100", "antivehicle_mines=100", "accident=80", "cluster_strike=100"):
        assert said in wide["buffers"].iloc[0] and said in res.stdout
    # the same from a settings file, YAML or TOML; an option given as well wins over the file
    (tmp_path / "buffers.yaml").write_text("buffers:\n  antipersonnel_mines: 90\n  found_item: 60\n")
    (tmp_path / "safety.toml").write_text("[safety.buffers]\nantipersonnel_mines = 80\n")
    for settings, ap in (("buffers.yaml", "90"), ("safety.toml", "80")):
        res = invoke_cli("check", "--batch", str(csv), "--store", demo["store"], "--settings", str(tmp_path / settings),
                         "--out", str(tmp_path / "set.csv"))  # fmt: skip
        assert res.returncode == 0, res.stderr
        got = pd.read_csv(tmp_path / "set.csv", dtype=str, keep_default_na=False)
        assert (
            f"antipersonnel_mines={ap}" in got["buffers"].iloc[0] and "antivehicle_mines=25" in got["buffers"].iloc[0]
        )
        assert got["level"].iloc[0] == "caution" and got["buffer_m"].iloc[0] == f"{ap}.0"
    res = invoke_cli("check", "--batch", str(csv), "--store", demo["store"], "--settings",
                     str(tmp_path / "safety.toml"), "--buffer", "ap_mines=60",
                     "--out", str(tmp_path / "set.csv"))  # fmt: skip
    got = pd.read_csv(tmp_path / "set.csv", dtype=str, keep_default_na=False)
    assert "antipersonnel_mines=60" in got["buffers"].iloc[0] and got["level"].iloc[0] == "no_known_hazard"
    # the single check takes the same buffers and says them
    res = invoke_cli("check", str(ll.x), str(ll.y), "--store", demo["store"], "--buffer", "mines=100",
                     "--format", "json")  # fmt: skip
    answer = json.loads(res.stdout)
    assert answer["level"] == "caution" and answer["buffers"]["antipersonnel_mines"] == 100.0
    assert answer["nearest_danger_m"] == pytest.approx(75.0, abs=0.2)


def test_check_batch_of_a_geopackage_or_geojson_keeps_its_attributes(demo, tmp_path):
    acc = demo["frames"][Accident][["uid", "accident_date", "device_type", "geometry"]]
    acc = acc.assign(team=[f"T{i % 3}" for i in range(len(acc))])
    gpkg, geojson = tmp_path / "incidents.gpkg", tmp_path / "incidents.geojson"
    acc.to_crs(demo["epsg"]).to_file(gpkg, layer="incidents")  # another CRS: read in its own
    acc.to_file(geojson)
    res = invoke_cli("check", "--batch", str(gpkg), "--store", demo["store"])
    assert res.returncode == 0, res.stderr
    out = gpd.read_file(tmp_path / "incidents-checked.gpkg")
    assert out.crs.to_epsg() == 4326 and len(out) == len(acc)
    assert list(out.columns[:4]) == ["uid", "accident_date", "device_type", "team"]
    assert list(out["uid"]) == list(acc["uid"]) and list(out["team"]) == list(acc["team"])
    assert shapely.equals_exact(out.geometry.to_numpy(), acc.geometry.to_numpy(), 1e-7).all()
    # the uid column is the id: no accident is its own reason
    assert not any(u in r for u, r in zip(out["uid"], out["reason"].fillna(""), strict=True))
    expected = demo["index"].check_many(shapely.get_x(acc.geometry.to_numpy()), shapely.get_y(acc.geometry.to_numpy()),
                                        ids=acc["uid"].to_numpy())  # fmt: skip
    assert list(out["level"]) == list(expected["level"].astype(str))
    res = invoke_cli("check", "--batch", str(geojson), "--store", demo["store"], "--out", str(tmp_path / "inc.csv"))
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "inc.csv")
    assert list(table.columns[:6]) == ["uid", "accident_date", "device_type", "team", "lon", "lat"]
    assert list(table["level"]) == list(out["level"])
    assert table["nearest_danger_m"].notna().all()
    # --id-column names another column; a missing one is refused with the columns there are
    res = invoke_cli("check", "--batch", str(geojson), "--store", demo["store"], "--id-column", "incident_no")
    assert res.returncode == 2 and "incident_no" in res.stderr and "uid" in res.stderr


def test_check_batch_refuses_what_it_cannot_answer_with_the_row_and_the_fix(demo, tmp_path):
    store = demo["store"]
    csv = tmp_path / "bad.csv"
    csv.write_text("id,lon,lat\na,47.1,39.6\nb,,39.6\nc,47.1,north\n")
    res = invoke_cli("check", "--batch", str(csv), "--store", store)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "row 3" in res.stderr and "row 4" in res.stderr and "'lon'" in res.stderr and "'lat'" in res.stderr
    assert not (tmp_path / "bad-checked.csv").exists()
    (tmp_path / "nocoords.csv").write_text("id,x_deg,y_deg\na,47.1,39.6\n")
    res = invoke_cli("check", "--batch", str(tmp_path / "nocoords.csv"), "--store", store)
    assert res.returncode == 2 and "no longitude column" in res.stderr and "x_deg" in res.stderr
    gj = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame({"id": [1, 2]}, geometry=[shapely.Point(47.1, 39.6), shapely.box(47.1, 39.6, 47.11, 39.61)],
                     crs=4326).to_file(gj)  # fmt: skip
    res = invoke_cli("check", "--batch", str(gj), "--store", store)
    assert res.returncode == 2 and "feature 2" in res.stderr and "Polygon, not a point" in res.stderr
    for bad, words in ((["--buffer", "minez=100"], "minez"), (["--buffer", "mines=-5"], "0 to 100,000"),
                       (["--buffer", "mines"], "KIND=METRES")):  # fmt: skip
        res = invoke_cli("check", "--batch", str(gj), "--store", store, *bad)
        assert res.returncode == 2 and words in res.stderr and "Traceback" not in res.stderr, res.stderr
    (tmp_path / "s.yaml").write_text("priority:\n  returnees: 1\n")
    res = invoke_cli("check", "47.1", "39.6", "--store", store, "--settings", str(tmp_path / "s.yaml"))
    assert res.returncode == 2 and "s.yaml" in res.stderr and "no buffers table" in res.stderr


def test_buffers_load_from_options_and_files(tmp_path):
    assert load_buffers() == SafetyBuffers()
    b = load_buffers(options=["mines=120", "cluster=300", "items=10", "records=400"])
    assert b.for_hazard("antivehicle_mines") == 120 and b.for_hazard("improvised_mines") == 120
    assert b.for_hazard("cluster_munition_remnants") == 300 and b.for_hazard("other_erw") == 50
    assert (b.found_item_m, b.minefield_record_m, b.accident_m) == (10, 400, 50)
    assert load_buffers(options=[b.describe().replace(" ", "=").split("=")[0] + "=1"]).for_hazard(
        "antipersonnel_mines") == 1  # fmt: skip
    again = load_buffers(options=b.describe().split())  # the echo can be given back as options
    assert again == b
    (tmp_path / "b.json").write_text(json.dumps({"buffers": {"accident": 99}}))
    assert load_buffers(tmp_path / "b.json").accident_m == 99
    index = SafetyIndex.from_frames(EPSG, hazards=gpd.GeoDataFrame(
        {"uid": ["HA-1"], "status": ["open"], "classification": ["confirmed_hazardous_area"],
         "contamination": ["antivehicle_mines"]},
        geometry=[project(shapely.box(X0, Y0, X0 + 50, Y0 + 50), EPSG, 4326)], crs=4326), buffers=b)  # fmt: skip
    at_100 = project(shapely.Point(X0 - 100, Y0 + 25), EPSG, 4326)
    assert index.check(at_100.x, at_100.y).level == Level.CAUTION  # 120 m for every mine now
    assert index.check_many(np.array([at_100.x]), np.array([at_100.y]))["buffer_m"].iloc[0] == 120


def test_the_risk_map_raises_unrecorded_ground_to_caution_alike_in_batch_and_single(tmp_path):
    """A saved risk map (a real GeoTIFF, read by the store's RiskSampler): high-risk ground with no
    recorded hazard is a caution, with the model as its reason, in both checks."""
    import rasterio
    from rasterio.transform import from_origin

    from safeground.risk.output import RiskSampler

    tif = tmp_path / "risk.tif"
    cols = np.linspace(0.0, 1.0, 200, dtype="float32")
    with rasterio.open(tif, "w", driver="GTiff", width=200, height=200, count=1, dtype="float32", crs=f"EPSG:{EPSG}",
                       transform=from_origin(X0 - 1000, Y0 + 1000, 10.0, 10.0)) as dst:  # fmt: skip
        dst.write(np.tile(cols, (200, 1)), 1)
    square = project(shapely.box(X0, Y0, X0 + 200, Y0 + 200), EPSG, 4326)
    hz = gpd.GeoDataFrame({"uid": ["HA-1"], "status": ["open"], "classification": ["confirmed_hazardous_area"],
                           "contamination": ["antipersonnel_mines"]}, geometry=[square], crs=4326)  # fmt: skip
    index = SafetyIndex.from_frames(EPSG, hazards=hz)
    index.risk = RiskSampler({"raster": str(tif), "threshold": 0.5, "model_version": "t", "features_as_of": "2023"})
    rng = np.random.default_rng(2)
    ll = project(shapely.points(rng.uniform(X0 - 1200, X0 + 1200, 600), rng.uniform(Y0 - 900, Y0 + 900, 600)),
                 EPSG, 4326)  # fmt: skip
    lon, lat = shapely.get_x(ll), shapely.get_y(ll)
    res = index.check_many(lon, lat)
    singles = [index.check(a, b) for a, b in zip(lon, lat, strict=True)]
    assert list(res["level"].astype(str)) == [s.level.name.lower() for s in singles]
    assert list(res["reason"].astype(str)) == [s.reason for s in singles]
    by_model = res["reason"].astype(str).str.startswith("the risk model")
    assert by_model.sum() > 50 and (res.loc[by_model, "level"] == "caution").all()
    assert (res.loc[by_model, "predicted_risk"] >= 0.5).all()
    assert ((res["predicted_risk"] >= 0.5) & (res["level"] == "no_known_hazard")).sum() == 0
    assert res["predicted_risk"].isna().sum() > 20  # outside the map: no risk, no raise
