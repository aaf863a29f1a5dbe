"""The GeoPackage backend: a real file that GDAL (and so QGIS) reads as a GeoPackage."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pyogrio
import pytest
import shapely

from safeground.errors import StoreUnavailable
from safeground.model import RECORD_TYPES, EOItem, HazardArea
from safeground.storage.gpkg import GeoPackageStore
from tests.samples import ALL_TYPES, sample


def test_every_layer_opens_in_gdal_with_crs_and_spatial_index(tmp_path: Path):
    path = tmp_path / "s.gpkg"
    with GeoPackageStore(path) as s:
        s.add_many([sample(c, i) for c in ALL_TYPES for i in (1, 2)])
    layers = dict(pyogrio.list_layers(path))
    for name, cls in RECORD_TYPES.items():
        assert name in layers, name
        info = pyogrio.read_info(path, layer=name)
        assert info["features"] == 2
        assert info["driver"] == "GPKG"
        if cls.GEOMETRY:
            assert info["crs"] == "EPSG:4326"
            assert info["capabilities"]["fast_spatial_filter"], f"{name} has no R-tree index"
            frame = pyogrio.read_dataframe(path, layer=name)
            for i, geom in enumerate(frame.geometry, start=1):
                assert shapely.equals_exact(geom, sample(cls, i).geometry, tolerance=0)


def test_gdal_spatial_filter_uses_our_index(tmp_path: Path):
    path = tmp_path / "s.gpkg"
    with GeoPackageStore(path) as s:
        s.add_many([sample(EOItem, i) for i in range(1, 21)])
    p = sample(EOItem, 10).geometry
    got = pyogrio.read_dataframe(path, layer="eo_items", bbox=(p.x - 1e-4, p.y - 1e-4, p.x + 1e-4, p.y + 1e-4))
    assert list(got["uid"]) == ["EO-00010"]
    # the extent QGIS zooms to is kept up to date
    with sqlite3.connect(path) as con:
        minx, maxx = con.execute("SELECT min_x, max_x FROM gpkg_contents WHERE table_name='eo_items'").fetchone()
    assert minx == pytest.approx(sample(EOItem, 1).geometry.x)
    assert maxx == pytest.approx(sample(EOItem, 20).geometry.x)


def test_features_appended_by_gdal_are_read_back(tmp_path: Path):
    """A field officer edits the file in QGIS (GDAL), then SafeGround opens it again."""
    path = tmp_path / "s.gpkg"
    with GeoPackageStore(path) as s:
        s.add(sample(EOItem, 1))
    frame = pyogrio.read_dataframe(path, layer="eo_items")
    frame["uid"] = ["EO-00002"]
    frame.geometry = [sample(EOItem, 2).geometry]
    pyogrio.write_dataframe(frame, path, layer="eo_items", append=True)
    with GeoPackageStore(path) as s:
        assert s.get(EOItem, "EO-00002").geometry.equals(sample(EOItem, 2).geometry)
        g = sample(EOItem, 2).geometry
        assert [r.uid for r in s.find(EOItem, bbox=(g.x - 1e-4, g.y - 1e-4, g.x + 1e-4, g.y + 1e-4))] == ["EO-00002"]


def test_closed_store_is_one_plain_file(tmp_path: Path):
    path = tmp_path / "s.gpkg"
    with GeoPackageStore(path) as s:
        s.add(sample(HazardArea, 1))
    assert not Path(f"{path}-wal").exists()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_reader_in_another_process_never_sees_half_a_transaction(tmp_path: Path):
    path = tmp_path / "s.gpkg"
    writer = GeoPackageStore(path)
    writer.add(sample(HazardArea, 1))
    reader_code = textwrap.dedent(
        f"""
        from safeground.storage.gpkg import GeoPackageStore
        from safeground.model import HazardArea
        s = GeoPackageStore({str(path)!r}, create=False)
        print(s.count(HazardArea))
        s.close()
        """
    )

    def read_count() -> int:
        out = subprocess.run([sys.executable, "-c", reader_code], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return int(out.stdout.strip())

    with writer.transaction():
        writer.add_many([sample(HazardArea, i) for i in range(2, 50)])
        assert read_count() == 1  # not blocked, and sees the committed state only
    assert read_count() == 49
    writer.close()


def test_opening_something_that_is_not_a_geopackage(tmp_path: Path):
    bad = tmp_path / "notes.gpkg"
    bad.write_text("these are not map data\n" * 100)
    with pytest.raises(StoreUnavailable, match=r"notes\.gpkg"):
        GeoPackageStore(bad)


def test_opening_a_missing_store_without_create(tmp_path: Path):
    with pytest.raises(StoreUnavailable, match="no SafeGround store"):
        GeoPackageStore(tmp_path / "missing.gpkg", create=False)
