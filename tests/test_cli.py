"""The command line, run as a user runs it.

The demo runs the installed ``safeground`` in a process of its own (the ``demo_dir`` fixture); the
other commands here run in-process through the same ``main()``: their exit codes and output do not
depend on a process boundary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib.image as mpimg
import pyogrio
import pytest

from safeground.model import RECORD_TYPES
from tests.conftest import invoke_cli


def test_demo_prints_the_manager_summary_and_writes_a_map(demo_dir: Path):
    out = (demo_dir / "stdout.txt").read_text()
    for heading in (
        "Hazard areas",
        "Minefield records received",
        "Explosive ordnance",
        "Casualties",
        "Land released",
        "Open next",
    ):
        assert heading in out, heading
    img = mpimg.imread(demo_dir / "demo-map.png")
    assert img.shape[0] > 1000 and img.shape[1] > 1000
    assert img[..., :3].std() > 0.05  # a picture, not a blank page
    layers = {name for name, _ in pyogrio.list_layers(demo_dir / "demo.gpkg")}
    assert set(RECORD_TYPES) <= layers


def test_summary_of_a_missing_store_is_a_clear_error(tmp_path: Path):
    res = invoke_cli("summary", "--store", str(tmp_path / "nowhere.gpkg"))
    assert res.returncode == 2
    assert "no SafeGround store" in res.stderr and "safeground demo" in res.stderr
    assert "Traceback" not in res.stderr


def test_generate_refuses_to_overwrite(tmp_path: Path):
    target = tmp_path / "x.gpkg"
    target.write_bytes(b"precious field data")
    res = invoke_cli("generate", "--store", str(target), "--size-km", "4")
    assert res.returncode == 2 and "--force" in res.stderr
    assert target.read_bytes() == b"precious field data"


def test_import_bad_file_names_feature_and_field_and_keeps_store(tmp_path: Path):
    store = tmp_path / "s.gpkg"
    bad = tmp_path / "accidents.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"date_of_information": "2021-01-02", "accident_date": "2021-01-02",
                       "device_type": "landmine"},
        "geometry": {"type": "Point", "coordinates": [47.1, 39.6]},
    }]}))  # fmt: skip
    res = invoke_cli("import", "accidents", str(bad), "--store", str(store))
    assert res.returncode == 2 and "--new" in res.stderr  # no silent store from a typo
    assert not store.exists()
    res = invoke_cli("import", "accidents", str(bad), "--store", str(store), "--new")
    assert res.returncode == 2, res.stdout
    assert "accidents.geojson" in res.stderr and "feature 1" in res.stderr and "device_type" in res.stderr
    assert "Traceback" not in res.stderr
    good = tmp_path / "ok.geojson"
    good.write_text(bad.read_text().replace('"landmine"', '"antipersonnel_mine"'))
    before = store.read_bytes()
    res = invoke_cli("import", "accidents", str(good), "--store", str(store), "--dry-run")
    assert res.returncode == 0 and "would import 1" in res.stdout, res.stderr
    assert store.read_bytes() == before
    res = invoke_cli("import", "accidents", str(good), "--store", str(store))
    assert res.returncode == 0, res.stderr
    assert "imported 1 record" in res.stdout
    res = invoke_cli("history", "accidents", "ACC-00001", "--store", str(store))
    assert res.returncode == 0 and "ACC-00001" in res.stdout


def test_layers_lists_restricted_layers():
    res = invoke_cli("layers")
    assert res.returncode == 0
    assert "victim_identities" in res.stdout and "ground_truth_items" in res.stdout


def test_reading_commands_never_write_to_the_store(demo_dir: Path, tmp_path: Path):
    before = (demo_dir / "demo.gpkg").read_bytes()
    for args in (
        ["summary"],
        ["map", "--out", str(tmp_path / "m.png")],
        ["history", "hazard_areas", "HA-00001"],
    ):
        res = invoke_cli(*args, "--store", str(demo_dir / "demo.gpkg"))
        assert res.returncode == 0, res.stderr
    assert (demo_dir / "demo.gpkg").read_bytes() == before


def test_foreign_geopackage_is_refused_not_converted(tmp_path: Path):
    import geopandas as gpd
    import shapely

    foreign = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(47, 39)], crs=4326).to_file(foreign)
    before = foreign.read_bytes()
    res = invoke_cli("summary", "--store", str(foreign))
    assert res.returncode == 2 and "not a SafeGround store" in res.stderr
    assert foreign.read_bytes() == before


def test_bad_options_and_unwritable_output_are_errors_not_tracebacks(demo_dir: Path, tmp_path: Path):
    res = invoke_cli("generate", "--size-km", "abc", "--store", str(tmp_path / "g.gpkg"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    res = invoke_cli("generate", "--size-km", "1", "--store", str(tmp_path / "g.gpkg"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    res = invoke_cli("map", "--store", str(demo_dir / "demo.gpkg"), "--out", str(tmp_path / "no" / "such" / "m.png"))
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_every_command_works_on_a_postgis_store(tmp_path):
    import uuid

    from tests.conftest import PG_URL, postgis_problem

    problem = postgis_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostGIS tests: {problem}")
        pytest.skip(f"PostGIS tests did NOT run: {problem}")
    url = f"{PG_URL}?schema=cli_{uuid.uuid4().hex[:8]}"
    try:
        assert invoke_cli("generate", "--store", url, "--size-km", "5").returncode == 0
        res = invoke_cli("summary", "--store", url)
        assert res.returncode == 0 and "Hazard areas" in res.stdout, res.stderr
        res = invoke_cli("maps", "accuracy", "--store", url, "--format", "csv")
        assert res.returncode == 0 and res.stdout.startswith("record,"), res.stderr
        res = invoke_cli("check", "47.15", "39.62", "--store", url)
        assert res.returncode == 0 and ("DANGER" in res.stdout or "CAUTION" in res.stdout or "No known" in res.stdout)
        res = invoke_cli("map", "--store", url, "--out", str(tmp_path / "m.png"))
        assert res.returncode == 0 and (tmp_path / "m.png").stat().st_size > 10_000
        res = invoke_cli("generate", "--store", url, "--size-km", "5")
        assert res.returncode == 2 and "not empty" in res.stderr
    finally:
        from safeground.storage import open_store

        s = open_store(url)
        s.drop()  # type: ignore[attr-defined]
        s.close()
