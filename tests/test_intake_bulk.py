"""The bulk path: many rows in batches, the GeoPackage R-tree packed at once, all or nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from safeground.errors import InvalidInput
from safeground.intake.features import import_features
from safeground.intake.mapping import parse_mapping
from safeground.model import EOItem, HazardArea
from safeground.storage import open_store
from safeground.storage.base import Store


def _finds(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "date_of_information": "2021-04-02",
            "status": "found",
            "how_found": "manual_clearance",
            "eo_type": rng.choice(["ap_blast", "av", "uxo"], n),
            "depth_cm": rng.integers(0, 30, n).astype(float),
        },
        geometry=shapely.points(46.7 + rng.random(n) * 0.1, 39.6 + rng.random(n) * 0.1),
        crs=4326,
    )


def test_many_rows_in_several_batches_and_a_packed_rtree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from safeground.intake import sources

    monkeypatch.setattr(sources.Source, "batches", lambda self, size=50_000: _orig(self, 1_000))
    frame = _finds(5_000)
    frame.to_file(tmp_path / "finds.gpkg")
    db = tmp_path / "s.gpkg"
    with open_store(str(db)) as s:
        rep = import_features(s, "eo_items", tmp_path / "finds.gpkg", list_limit=10)
        assert rep.counts["create"] == 5_000 and len(rep.created) == 10
        hits = list(s.find(EOItem, bbox=(46.70, 39.60, 46.72, 39.62)))
        xy = shapely.get_coordinates(frame.geometry.to_numpy())
        inside = ((xy[:, 0] >= 46.70) & (xy[:, 0] <= 46.72) & (xy[:, 1] >= 39.60) & (xy[:, 1] <= 39.62)).sum()
        assert len(hits) == inside > 0
        # a second import into the now non-empty layer goes entry by entry, through the same index
        _finds(50, seed=2).to_file(tmp_path / "more.gpkg")
        assert import_features(s, "eo_items", tmp_path / "more.gpkg").counts["create"] == 50
    con = sqlite3.connect(db)
    assert con.execute("SELECT rtreecheck('rtree_eo_items_geom')").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM rtree_eo_items_geom").fetchone()[0] == 5_050
    trig = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'rtree_eo_items_geom_insert'").fetchone()[0]
    assert trig == 1  # the insert trigger is back
    con.close()


_orig = __import__("safeground.intake.sources", fromlist=["Source"]).Source.batches


def test_problem_in_a_late_batch_leaves_the_store_unchanged(store: Store, tmp_path: Path, monkeypatch):
    from safeground.intake import sources

    monkeypatch.setattr(sources.Source, "batches", lambda self, size=50_000: _orig(self, 500))
    frame = _finds(3_000)
    frame.loc[2_900, "eo_type"] = "landmine"
    frame.to_file(tmp_path / "finds.gpkg")
    with pytest.raises(InvalidInput, match=r"feature 2901, field 'eo_type'"):
        import_features(store, "eo_items", tmp_path / "finds.gpkg")
    assert store.count(EOItem) == 0
    frame.loc[2_900, "eo_type"] = "av"
    frame.to_file(tmp_path / "finds.gpkg")
    assert import_features(store, "eo_items", tmp_path / "finds.gpkg").counts["create"] == 3_000
    assert store.count(EOItem) == 3_000


def test_duplicate_rows_across_batches_are_named(store: Store, tmp_path: Path, monkeypatch):
    from safeground.intake import sources

    monkeypatch.setattr(sources.Source, "batches", lambda self, size=50_000: _orig(self, 100))
    frame = _finds(300)
    frame = gpd.GeoDataFrame(gpd.pd.concat([frame, frame.iloc[[5]]], ignore_index=True), geometry="geometry", crs=4326)
    frame.to_file(tmp_path / "finds.gpkg")
    with pytest.raises(InvalidInput, match=r"feature 301, field '\(all\)': duplicate of feature 6"):
        import_features(store, "eo_items", tmp_path / "finds.gpkg")
    assert store.count(EOItem) == 0


def test_mapping_key_finds_the_stored_record_without_a_uid(store: Store, tmp_path: Path):
    fm = parse_mapping("layer: hazard_areas\nkey: [name]\n", "m.yaml")
    csv1 = tmp_path / "sha.csv"
    head = "name,date_of_information,classification,contamination,estimated_area_m2,remaining_area_m2,geometry_wkt\n"
    wkt = '"POLYGON ((46.75 39.61, 46.751 39.61, 46.751 39.611, 46.75 39.611, 46.75 39.61))"'
    csv1.write_text(head + f"Orchard,2021-03-04,suspected_hazardous_area,antipersonnel_mines,5000,5000,{wkt}\n")
    uid = import_features(store, "hazard_areas", csv1, mapping=fm).created[0]
    csv1.write_text(head + f"Orchard,2021-06-01,suspected_hazardous_area,antipersonnel_mines,5000,3000,{wkt}\n")
    rep = import_features(store, "hazard_areas", csv1, mapping=fm)
    assert rep.updated == [uid] and store.count(HazardArea) == 1
    assert store.get(HazardArea, uid).remaining_area_m2 == 3000 and store.get(HazardArea, uid).version == 2
