"""Importing a GIS file: every problem named at once, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from safeground.errors import InvalidInput, as_flag
from safeground.intake.features import import_features
from safeground.model import HazardArea
from safeground.storage.base import Store
from tests.samples import sample


def _feature(uid: str, geometry: dict, **props) -> dict:
    base = {
        "uid": uid,
        "date_of_information": "2021-03-04",
        "classification": "suspected_hazardous_area",
        "contamination": "antipersonnel_mines",
        "estimated_area_m2": 5000,
        "remaining_area_m2": 5000,
        "evidence": json.dumps([{"kind": "indirect", "description": "informant", "source": "returnee"}]),
    }
    base.update(props)
    return {"type": "Feature", "properties": base, "geometry": geometry}


def _square(x: float, y: float, d: float = 0.001) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def _write(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _state(store: Store) -> list[dict]:
    return [r.model_dump(mode="json") for r in store.find(HazardArea)]


def test_good_file_imports_every_feature(store: Store, tmp_path: Path):
    f = _write(tmp_path / "sha.geojson", [_feature(f"SHA-{i}", _square(47.1 + i * 0.01, 39.6)) for i in range(5)])
    rep = import_features(store, "hazard_areas", f)
    assert rep.created == [f"SHA-{i}" for i in range(5)]
    assert store.count(HazardArea) == 5
    assert store.get(HazardArea, "SHA-3").evidence[0].source == "returnee"


def test_every_problem_is_reported_with_file_feature_and_field_and_nothing_is_stored(store: Store, tmp_path: Path):
    store.add(sample(HazardArea, 1))
    before = _state(store)
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[47, 39], [47.01, 39.01], [47.01, 39], [47, 39.01], [47, 39]]],
    }
    feats = [
        _feature("OK-1", _square(47.1, 39.6)),
        _feature("BAD-GEOM", bowtie),
        _feature("BAD-NUMBER", _square(47.2, 39.6), estimated_area_m2="about five thousand"),
        _feature("BAD-TERM", _square(47.3, 39.6), contamination="landmines"),
        _feature("OK-1", _square(47.4, 39.6)),
        _feature("BAD-JSON", _square(47.5, 39.6), evidence="[{oops"),
        _feature("HA-00001", _square(47.6, 39.6)),
    ]
    f = _write(tmp_path / "survey-march.geojson", feats)
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "hazard_areas", f)
    text = str(exc.value)
    problems = {(p.item.split(" (")[0], p.field) for p in exc.value.problems}
    assert ("feature 2", "geometry") in problems
    assert ("feature 3", "estimated_area_m2") in problems
    assert ("feature 4", "contamination") in problems
    assert ("feature 5", "uid") in problems
    assert ("feature 6", "evidence") in problems
    assert "survey-march.geojson" in text and "nothing was stored" in text
    cli = exc.value.render_message(as_flag)  # the domain names the parameter; the command line says its flag
    assert "repairable with --repair" in cli and "repairable with repair" in text
    assert _state(store) == before


def test_repair_fixes_what_it_can_and_says_what_it_changed(store: Store, tmp_path: Path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[47, 39], [47.01, 39.01], [47.01, 39], [47, 39.01], [47, 39]]],
    }
    swapped = {
        "type": "Polygon",
        "coordinates": [[[39.6, 147.1], [39.6, 147.11], [39.61, 147.11], [39.6, 147.1]]],
    }
    f = _write(tmp_path / "f.geojson", [_feature("A", bowtie), _feature("B", swapped)])
    rep = import_features(store, "hazard_areas", f, repair=True)
    assert rep.created == ["A", "B"]
    said = " ".join(p.reason for p in rep.repairs)
    assert "make_valid" in said and "swapped" in said
    b = store.get(HazardArea, "B").geometry
    assert b.bounds[0] == pytest.approx(147.1) and b.bounds[1] == pytest.approx(39.6)


def test_dry_run_writes_nothing(store: Store, tmp_path: Path):
    f = _write(tmp_path / "f.geojson", [_feature("A", _square(47.1, 39.6))])
    rep = import_features(store, "hazard_areas", f, dry_run=True)
    assert rep.created == ["A"] and store.count(HazardArea) == 0


def test_truncated_file_is_refused_by_name(store: Store, tmp_path: Path):
    f = _write(tmp_path / "cut.geojson", [_feature("A", _square(47.1, 39.6))])
    f.write_text(f.read_text()[:120])
    with pytest.raises(InvalidInput, match=r"cut\.geojson.*cannot be read"):
        import_features(store, "hazard_areas", f)
    assert store.count(HazardArea) == 0


def test_projected_file_is_reprojected_and_unlabelled_metres_are_refused(store: Store, tmp_path: Path):
    utm = gpd.GeoDataFrame(
        {
            "uid": ["U1"],
            "date_of_information": ["2021-03-04"],
            "classification": ["suspected_hazardous_area"],
            "contamination": ["antivehicle_mines"],
            "estimated_area_m2": [10000.0],
            "remaining_area_m2": [10000.0],
        },
        geometry=[shapely.box(650000, 4386000, 650100, 4386100)],
        crs=32638,
    )
    shp = tmp_path / "utm.gpkg"  # Shapefile would truncate names: the mapping step of the intake issue
    utm.to_file(shp)
    rep = import_features(store, "hazard_areas", shp)
    assert any("reprojected" in n for n in rep.notes)
    g = store.get(HazardArea, "U1").geometry
    assert 46.7 < g.centroid.x < 46.8 and 39.5 < g.centroid.y < 39.7
    nocrs = tmp_path / "nocrs.geojson"
    nocrs.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature("U2", _square(650000, 4386000, 100))]}))  # fmt: skip
    with pytest.raises(InvalidInput, match=r"feature 1 .*projected CRS"):
        import_features(store, "hazard_areas", nocrs)
    bare = tmp_path / "bare.shp"
    utm[["uid", "geometry"]].to_file(bare)
    bare.with_suffix(".prj").unlink()  # a Shapefile sent without its .prj
    with pytest.raises(InvalidInput, match=r"bare\.shp.*declares no coordinate reference system"):
        import_features(store, "hazard_areas", bare)
    assert [r.uid for r in store.find(HazardArea)] == ["U1"]


def test_degrees_without_a_crs_are_refused_until_the_datum_is_declared(store: Store, tmp_path: Path):
    """A Shapefile without its .prj holding degrees: WGS 84 or Pulkovo 1942 differ by about 100 m here."""
    from pyproj import Geod

    frame = gpd.GeoDataFrame(
        {"uid": ["P1"], "date_of_information": ["2021-03-01"], "classification": ["suspected_hazardous_area"],
         "contamination": ["antivehicle_mines"], "estimated_area_m2": [10000.0], "remaining_area_m2": [10000.0]},
        geometry=[shapely.box(46.75, 39.80, 46.751, 39.801)], crs=4326,
    )  # fmt: skip
    shp = tmp_path / "soviet.shp"
    frame.to_file(shp)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(InvalidInput, match=r"soviet\.shp.*look like longitude/latitude degrees.*Pulkovo") as exc:
        import_features(store, "hazard_areas", shp)
    assert "--crs EPSG:4284" in exc.value.render_hint(as_flag) and "crs=EPSG:4284" in str(exc.value)
    assert store.count(HazardArea) == 0
    import_features(store, "hazard_areas", shp, crs="EPSG:4284")
    c = store.get(HazardArea, "P1").geometry.centroid
    moved = Geod(ellps="WGS84").inv(46.7505, 39.8005, c.x, c.y)[2]
    assert 80 < moved < 130, moved


def test_unknown_layer(store: Store, tmp_path: Path):
    with pytest.raises(InvalidInput, match="unknown layer"):
        import_features(store, "minefields", tmp_path / "x.geojson")


def test_geometry_and_field_problems_of_one_feature_are_reported_together(store: Store, tmp_path: Path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[47, 39], [47.01, 39.01], [47.01, 39], [47, 39.01], [47, 39]]],
    }
    f = _write(tmp_path / "f.geojson", [_feature("X", bowtie, contamination="mines", estimated_area_m2=-5)])
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "hazard_areas", f)
    fields = {p.field for p in exc.value.problems}
    assert {"geometry", "contamination", "estimated_area_m2"} <= fields


def test_repair_refuses_what_would_invent_or_lose_area(store: Store, tmp_path: Path):
    hole_outside = {"type": "Polygon", "coordinates": [
        [[47, 39], [47.01, 39], [47.01, 39.01], [47, 39.01], [47, 39]],
        [[47.1, 39.1], [47.11, 39.1], [47.11, 39.11], [47.1, 39.1]]]}  # fmt: skip
    flat = {"type": "Polygon", "coordinates": [[[47, 39], [47.01, 39.01], [47.02, 39.02], [47, 39]]]}
    f = _write(tmp_path / "f.geojson", [_feature("H", hole_outside), _feature("F", flat)])
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "hazard_areas", f, repair=True)
    by_item = {p.item.split(" (")[0]: p.reason for p in exc.value.problems}
    assert "Hole lies outside shell" in by_item["feature 1"]
    assert "no area" in by_item["feature 2"]
    assert store.count(HazardArea) == 0


def test_repaired_bowtie_that_splits_is_refused_for_a_single_polygon_layer(store: Store, tmp_path: Path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[47, 39], [47.01, 39.01], [47.01, 39], [47, 39.01], [47, 39]]],
    }
    feat = {"type": "Feature", "geometry": bowtie, "properties": {
        "date_of_information": "2020-12-01", "strike_date": "2020-10-20", "munition_type": "9M55K",
        "submunition_count": 72, "center_lon": 47.005, "center_lat": 39.005}}  # fmt: skip
    f = _write(tmp_path / "strikes.geojson", [feat])
    with pytest.raises(InvalidInput, match="after repair"):
        import_features(store, "cluster_strikes", f, repair=True)


def _accident(lon: float, lat: float, **kw) -> dict:
    props = {
        "date_of_information": "2021-01-05",
        "accident_date": "2021-01-02",
        "device_type": "antipersonnel_mine",
    }
    props.update(kw)
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def test_two_accidents_at_one_place_are_not_duplicates_but_identical_rows_are(store: Store, tmp_path: Path):
    f = _write(tmp_path / "a.geojson", [_accident(47.1, 39.6), _accident(47.1, 39.6, accident_date="2021-01-03")])
    assert len(import_features(store, "accidents", f).created) == 2
    g = _write(tmp_path / "b.geojson", [_accident(47.2, 39.6), _accident(47.2, 39.6)])
    with pytest.raises(InvalidInput, match="duplicate of feature 1"):
        import_features(store, "accidents", g)


def test_dates_and_references_are_checked(store: Store, tmp_path: Path):
    f = _write(tmp_path / "a.geojson", [_accident(47.1, 39.6, accident_date="2021-02-01")])
    with pytest.raises(InvalidInput, match="after date_of_information"):
        import_features(store, "accidents", f)
    v = tmp_path / "victims.csv"
    v.write_text(
        "uid,date_of_information,accident_uid,victim_status,outcome,sex,age,activity_at_time\n"
        "VIC-1,2021-01-05,ACC-404,civilian,injured,male,40,farming\n"
    )
    with pytest.raises(InvalidInput, match="refers to ACC-404, which is not in accidents"):
        import_features(store, "victims", v)
    finds = tmp_path / "finds.csv"  # a field form's hint once suggested 'CHA-00012': hazard areas are HA-…
    finds.write_text(
        "lon,lat,date_of_information,status,eo_type,how_found,hazard_area_uid\n"
        "47.1,39.6,2021-04-02,found,ap_blast,visual,CHA-00012\n"
    )
    with pytest.raises(InvalidInput, match=r"hazard_area_uid.*refers to CHA-00012, which is not in hazard_areas"):
        import_features(store, "eo_items", finds)


def test_csv_of_coordinates_and_area_of_interest(store: Store, tmp_path: Path):
    store.set_meta("area_of_interest", "[46.9, 39.4, 47.4, 39.8]")
    c = tmp_path / "accidents.csv"
    c.write_text(
        "lon,lat,date_of_information,accident_date,device_type\n"
        "47.12,39.61,2021-01-05,2021-01-02,antipersonnel_mine\n"
        "2.35,48.85,2021-01-05,2021-01-02,antipersonnel_mine\n"
        "39.61,47.12,2021-01-05,2021-01-02,antipersonnel_mine\n"
    )
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "accidents", c)
    reasons = {p.item.split(" (")[0]: p.reason for p in exc.value.problems}
    assert "row 2" not in reasons  # spreadsheet line numbers: the header is row 1
    assert "area of interest" in reasons["row 3"]
    assert "swapped" in reasons["row 4"]
    c.write_text(c.read_text().splitlines()[0] + "\n" + c.read_text().splitlines()[1] + "\n")
    assert len(import_features(store, "accidents", c).created) == 1


def test_file_with_several_layers_needs_a_choice(store: Store, tmp_path: Path):
    multi = tmp_path / "survey.gpkg"
    for name in ("sha", "notes"):
        gpd.GeoDataFrame({"uid": ["A"]}, geometry=[shapely.Point(47.1, 39.6)], crs=4326).to_file(multi, layer=name)
    with pytest.raises(InvalidInput, match="2 layers: sha, notes"):
        import_features(store, "accidents", multi)
