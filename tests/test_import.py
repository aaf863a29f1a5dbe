"""Importing a GIS file: every problem named at once, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from safeground.errors import InvalidInput
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
    f = _write(
        tmp_path / "sha.geojson", [_feature(f"SHA-{i}", _square(47.1 + i * 0.01, 39.6)) for i in range(5)]
    )
    rep = import_features(store, "hazard_areas", f)
    assert rep.created == [f"SHA-{i}" for i in range(5)]
    assert store.count(HazardArea) == 5
    assert store.get(HazardArea, "SHA-3").evidence[0].source == "returnee"


def test_every_problem_is_reported_with_file_feature_and_field_and_nothing_is_stored(
    store: Store, tmp_path: Path
):
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
    assert ("record HA-00001", "uid") in problems
    assert "survey-march.geojson" in text and "nothing was stored" in text
    assert "repairable with --repair" in text
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


def test_unknown_layer(store: Store, tmp_path: Path):
    with pytest.raises(InvalidInput, match="unknown layer"):
        import_features(store, "minefields", tmp_path / "x.geojson")
