"""OpenStreetMap extracts through the command line: roads, paths, settlements, cemeteries → routes and village maps."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import pytest
import shapely
from pyproj import Geod

from safeground.intake.osm import read_osm, tags
from safeground.model import HazardArea, InfrastructureArea, InfrastructureLine
from tests.conftest import CliResult, invoke_cli
from tests.samples import sample

PBF = Path(__file__).parent / "data" / "osm" / "sample.osm.pbf"
AREA = "47.0,39.5,47.3,39.7"
GEOD = Geod(ellps="WGS84")
#: the tertiary road between the villages, as drawn in tests/data/osm/make_sample.py
ROAD = [(47.1000, 39.6000), (47.1100, 39.6020), (47.1150, 39.6034), (47.1170, 39.6040), (47.1200, 39.6050),
        (47.1300, 39.6080), (47.1400, 39.6100)]  # fmt: skip


def imported(store) -> CliResult:
    res = invoke_cli("db", "area", "--store", store.test_url, "--bbox", AREA)
    assert res.returncode == 0, res.stderr
    res = invoke_cli("import", "osm", str(PBF), "--store", store.test_url)
    assert res.returncode == 0, res.stderr + res.stdout
    return res


def test_the_extract_is_read_with_gdal_and_mapped_to_the_layers_routes_and_maps_use():
    got = read_osm(PBF, area_of_interest=(47.0, 39.5, 47.3, 39.7))
    by_uid = {r.uid: r for r in got.records}
    assert got.imported == {"road": 4, "path": 4, "river": 1, "settlement": 3, "cemetery": 2}
    assert by_uid["INL-OSM-W5002"].kind.value == "road" and by_uid["INL-OSM-W5002"].name == "Qarakend–Tazakend road"
    assert by_uid["INL-OSM-W5006"].kind.value == "path"  # a track
    assert by_uid["INL-OSM-W5010"].kind.value == "river"
    # Qarakend's area is its residential landuse polygon; Tazakend (a point only) a 400 m circle
    qarakend, tazakend = by_uid["INA-OSM-N1000"], by_uid["INA-OSM-N1001"]
    assert qarakend.geometry.equals(shapely.box(47.096, 39.597, 47.104, 39.603))
    r = GEOD.inv(47.14, 39.61, tazakend.geometry.bounds[2], 39.61)[2]
    assert 395 < r < 401
    # the unnamed cemetery is Qarakend's, the grave-yard node Tazakend's
    cem = by_uid["INA-OSM-W5001"]
    assert (cem.kind.value, cem.name, cem.settlement) == ("cemetery", "Qarakend cemetery", "Qarakend")
    assert by_uid["INA-OSM-N1003"].settlement == "Tazakend"
    # what is left out is counted: the other district, the road under construction (the railway is no road)
    assert got.outside == {"road": 1, "settlement": 1}
    assert got.skipped == {"highway=construction (not a walkable road or path)": 1}
    assert not any("railway" in r.uid or (r.name or "").endswith("line") for r in got.records)


def test_other_tags_are_read():
    assert tags('"amenity"=>"grave_yard","name:ru"=>"Кладбище \\"Старое\\""') == {
        "amenity": "grave_yard",
        "name:ru": 'Кладбище "Старое"',
    }


def test_import_osm_through_the_cli_leaves_out_and_counts_what_is_outside_the_area(store):
    res = imported(store)
    out = " ".join(res.stdout.split())
    assert "sample.osm.pbf: 2 cemeteries, 4 paths, 1 river, 4 roads, 3 settlements" in out
    assert "outside the store's area of interest (47.0, 39.5, 47.3, 39.7): road: 1, settlement: 1" in out
    assert "created 14" in out
    assert store.count(InfrastructureLine) == 9 and store.count(InfrastructureArea) == 5
    names = {a.name for a in store.find(InfrastructureArea)}
    assert "Uzaqkend" not in names and {"Qarakend", "Tazakend", "Yuxari Mahalla", "Qarakend cemetery"} <= names
    again = invoke_cli("import", "osm", str(PBF), "--store", store.test_url)
    assert "created 0, updated 0, unchanged 14" in " ".join(again.stdout.split())
    assert store.count(InfrastructureLine) == 9


def test_a_route_between_two_osm_places_follows_the_osm_roads(store, tmp_path):
    imported(store)
    res = invoke_cli("route", "Qarakend", "Tazakend", "--store", store.test_url, "--out", str(tmp_path / "r.geojson"))
    assert res.returncode == 0, res.stderr + res.stdout
    feature = json.loads((tmp_path / "r.geojson").read_text())["features"][0]
    path = shapely.geometry.shape(feature["geometry"])
    road_m = sum(GEOD.inv(*a, *b)[2] for a, b in itertools.pairwise(ROAD))
    assert feature["properties"]["found"] is True
    assert feature["properties"]["length_m"] == pytest.approx(road_m, rel=0.01)  # ~3.6 km, along the road
    road = shapely.LineString(ROAD)
    assert max(road.distance(shapely.Point(c)) for c in path.coords) < 1e-5  # every vertex on the road (~1 m)


def test_a_hazard_on_the_road_sends_the_route_round_by_the_osm_track_and_footway(store, tmp_path):
    imported(store)
    hz = sample(HazardArea, 1).model_copy(
        update={"uid": "CHA-0001", "geometry": shapely.box(47.1280, 39.6060, 47.1320, 39.6100)}
    )
    store.add(HazardArea.model_validate(hz.model_dump()))
    res = invoke_cli("route", "Qarakend", "Tazakend", "--store", store.test_url, "--out", str(tmp_path / "r.geojson"))
    assert res.returncode == 0, res.stderr + res.stdout
    feature = json.loads((tmp_path / "r.geojson").read_text())["features"][0]
    path = shapely.geometry.shape(feature["geometry"])
    assert feature["properties"]["found"] is True
    assert path.distance(shapely.Point(47.1200, 39.6300)) < 1e-5  # by the hamlet
    assert not path.intersects(shapely.box(47.1280, 39.6060, 47.1320, 39.6100))
    assert feature["properties"]["length_m"] > 5000


def test_a_village_map_of_an_osm_village_with_its_cemetery(store, tmp_path):
    imported(store)
    pdf = tmp_path / "qarakend.pdf"
    res = invoke_cli("village-map", "Qarakend", "--store", store.test_url, "--out", str(pdf), "--lang", "en")
    assert res.returncode == 0, res.stderr + res.stdout
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Qarakend" in text and "Qarakend cemetery" in text
    assert "nan" not in text.split() and "None" not in text


def test_not_an_osm_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.osm.pbf"
    bad.write_bytes(b"this is not a protocol buffer")
    (tmp_path / "s.gpkg").touch()
    res = invoke_cli("import", "osm", str(bad), "--store", str(tmp_path / "s.gpkg"), "--new")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "x.osm.pbf" in res.stderr


def test_a_dry_run_writes_nothing(store):
    invoke_cli("db", "area", "--store", store.test_url, "--bbox", AREA)
    res = invoke_cli("import", "osm", str(PBF), "--store", store.test_url, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "would create 14" in " ".join(res.stdout.split()) and store.count(InfrastructureLine) == 0


def test_an_extract_of_several_zlib_blocks_is_read_although_gdal_fails_on_it(tmp_path, monkeypatch):
    """osmium's (and Geofabrik's) default output: the GDAL of the pyogrio wheel fails on its compressed blocks."""
    import tempfile

    grid = Path(__file__).parent / "data" / "osm" / "grid.osm.pbf"
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the uncompressed copy goes
    got = read_osm(grid, area_of_interest=(46.4, 39.2, 46.8, 39.6))
    assert got.imported["road"] + got.imported["path"] == 2 * 90 * 89  # every grid edge
    assert got.imported["road"] == 2 * (9 * 89 + 81 * 9)  # edges starting on every tenth row or column: tertiary
    assert got.imported["settlement"] == 81 and got.imported["cemetery"] == 81
    assert {r.settlement for r in got.records if r.kind.value == "cemetery"} == {
        f"Kend {i}-{j}" for i in range(5, 90, 10) for j in range(5, 90, 10)
    }
    assert list(tmp_path.iterdir()) == []  # the temporary copy is removed
