"""Schema migrations keep every record: a store made with the baseline layout is upgraded in place.

PostGIS: the store is built with the frozen baseline DDL (exactly what SafeGround
0.1 created, no Alembic version table), filled, then ``safeground db upgrade``
runs revision 0002 inside that schema. GeoPackage: the store is created by the
code with no migration steps (schema_version 1), filled, then upgraded.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import uuid

import pytest
import sqlalchemy

from safeground.model import Organisation
from safeground.storage import gpkg_migrations, open_store
from safeground.storage.base import Store
from safeground.storage.migrations import HERE
from safeground.storage.schema import layout_of
from tests.conftest import PG_URL, postgis_problem, run_cli
from tests.samples import ALL_TYPES, sample


def _baseline_ddl() -> list[str]:
    spec = importlib.util.spec_from_file_location("baseline", HERE / "versions" / "0001_baseline.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.BASELINE_DDL


def _fill(store: Store) -> None:
    store.add_many([sample(c, i) for c in ALL_TYPES for i in (1, 2)])
    org = store.get(Organisation, "ORG-00001")
    store.update(org.model_copy(update={"acronym": "NEW"}), expected_version=1)


def _everything(store: Store) -> dict[str, object]:
    out: dict[str, object] = {}
    for cls in ALL_TYPES:
        out[cls.LAYER] = sorted(
            ([r.model_dump(mode="json") for r in store.history(cls, rec.uid)] for rec in store.find(cls)),
            key=lambda chain: chain[0]["uid"],
        )
    return out


@pytest.fixture()
def pg_baseline():
    problem = postgis_problem()
    if problem:
        pytest.fail(f"PostGIS needed for the migration tests: {problem}")
    schema = "mig_" + uuid.uuid4().hex[:10]
    eng = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as c:
        c.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
        for ddl in _baseline_ddl():
            c.execute(sqlalchemy.text(ddl.replace("{schema}", f'"{schema}"')))
    yield f"{PG_URL}?schema={schema}", eng, schema
    with eng.begin() as c:
        c.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    eng.dispose()


def test_postgis_baseline_store_upgrades_and_keeps_every_record(pg_baseline):
    url, eng, schema = pg_baseline
    with open_store(url) as s:
        assert s.schema_revision() is None  # made before migrations existed
        _fill(s)
        before = _everything(s)
    res = run_cli("db", "current", "--store", url)
    assert res.returncode == 0, res.stderr
    assert "baseline" in res.stdout and "upgrade available to 0003" in res.stdout
    res = run_cli("db", "upgrade", "--store", url)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "applied 0002, 0003" in res.stdout
    with open_store(url) as s:
        assert s.schema_revision() == "0003"
        assert _everything(s) == before
        assert len(s.history(Organisation, "ORG-00001")) == 2
        assert s.get_meta("store_id")
        s.log_sync("field-1", "laptop.gpkg", "push", 3, 0)  # the new table works
    with eng.connect() as c:
        version_tables = c.execute(
            sqlalchemy.text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'alembic_version'")
        ).fetchall()
        assert (schema,) in version_tables  # the version table lives in the store's own schema
        assert c.execute(sqlalchemy.text(f'SELECT records FROM "{schema}".safeground_sync_log')).scalar_one() == 3
    again = run_cli("db", "upgrade", "--store", url)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    hist = run_cli("db", "history", "--store", url)
    assert "0001" in hist.stdout and "0003" in hist.stdout and "← current" in hist.stdout


def test_upgrade_runs_per_schema(pg_baseline):
    """Two stores in one database: upgrading one leaves the other at its revision."""
    url, _, _ = pg_baseline
    other = f"{PG_URL}?schema=mig_{uuid.uuid4().hex[:10]}"
    with open_store(other) as fresh:
        try:
            assert fresh.schema_revision() == "0003"  # new stores are born at head
            with open_store(url) as old:
                assert old.schema_revision() is None
                assert old.upgrade() == ["0002", "0003"]
                assert old.schema_revision() == "0003"
                assert old.upgrade() == []
        finally:
            fresh.drop()


def test_new_postgis_store_matches_the_model(store: Store):
    """A store created now has every column of the model (baseline + revisions + additive changes)."""
    from safeground.storage.postgis import PostGISStore

    if not isinstance(store, PostGISStore):
        cols = {
            cls.LAYER: {r[1] for r in sqlite3.connect(store.location).execute(f"PRAGMA table_info({cls.LAYER})")}
            for cls in ALL_TYPES
        }
    else:
        eng = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.connect() as c:
            rows = c.execute(
                sqlalchemy.text(
                    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = :s"
                ),
                {"s": store.schema},  # type: ignore[attr-defined]
            ).fetchall()
        eng.dispose()
        cols = {}
        for t, col in rows:
            cols.setdefault(t, set()).add(col)
    for cls in ALL_TYPES:
        assert set(layout_of(cls).column_names) <= cols[cls.LAYER], cls.LAYER


def test_geopackage_baseline_store_upgrades_and_keeps_every_record(tmp_path, monkeypatch):
    path = tmp_path / "old.gpkg"
    monkeypatch.setattr(gpkg_migrations, "MIGRATIONS", [])  # what SafeGround 0.1 wrote: no steps at all
    with open_store(str(path)) as s:
        assert s.schema_revision() == "1"
        _fill(s)
        before = _everything(s)
    monkeypatch.undo()
    con = sqlite3.connect(path)
    assert not con.execute("SELECT name FROM sqlite_master WHERE name = 'safeground_sync_state'").fetchall()
    con.close()
    res = run_cli("db", "upgrade", "--store", str(path))
    assert res.returncode == 0, res.stderr + res.stdout
    assert "from 1 to 3" in res.stdout
    with open_store(str(path)) as s:
        assert s.schema_revision() == "3"
        assert _everything(s) == before
        assert s.get_meta("store_id")
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"safeground_sync_state", "safeground_sync_conflicts", "safeground_sync_log"} <= tables
    con.close()
    import pyogrio

    assert len(pyogrio.read_dataframe(path, layer="hazard_areas")) == 2  # still a GeoPackage GDAL reads
    assert "nothing to do" in run_cli("db", "upgrade", "--store", str(path)).stdout


def test_upgrade_adds_a_new_model_field_as_a_column(tmp_path, monkeypatch):
    """The additive part of a model change (a new field) reaches an existing store through db upgrade."""
    from safeground.storage.schema import Column, Layout

    path = tmp_path / "s.gpkg"
    with open_store(str(path)) as s:
        s.add(sample(Organisation, 1))
    lay = layout_of(Organisation)
    wider = Layout(
        lay.record_type, lay.table, lay.geometry_type, (*lay.columns, Column("radio_call", "text", True, False))
    )
    import safeground.storage.gpkg as gpkg_mod

    monkeypatch.setattr(gpkg_mod, "layout_of", lambda cls: wider if cls is Organisation else layout_of(cls))
    with open_store(str(path)) as s:
        s.upgrade()
        assert s.model_changes == ["organisations.radio_call", "organisations_history.radio_call"]  # type: ignore[attr-defined]


def test_an_older_geopackage_without_a_new_layer_is_refused_read_only_and_upgraded(tmp_path):
    """A store written before a layer existed: reading commands say how to upgrade; the upgrade adds it."""
    path = tmp_path / "old.gpkg"
    with open_store(str(path)) as s:
        s.add(sample(Organisation))
    c = sqlite3.connect(path)
    for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name LIKE 'predicted_%'"):
        c.execute(f'DROP TRIGGER "{name}"')
    for t in ("predicted_hazards", "predicted_hazards_history"):
        c.execute(f'DROP TABLE IF EXISTS "rtree_{t}_geom"')
        c.execute(f'DROP TABLE "{t}"')
        for meta in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions"):
            c.execute(f"DELETE FROM {meta} WHERE table_name = ?", (t,))
    c.commit()
    c.close()
    res = run_cli("maps", "accuracy", "--store", str(path))
    assert res.returncode != 0
    assert "lacks: predicted_hazards" in res.stderr and f"safeground db upgrade --store {path}" in res.stderr
    res = run_cli("db", "upgrade", "--store", str(path))
    assert res.returncode == 0, res.stderr
    assert "added the layers of this version: predicted_hazards" in res.stdout
    with open_store(str(path), readonly=True) as s:
        assert s.count(Organisation) == 1


def test_postgis_store_of_a_newer_revision_is_refused_for_writing_but_still_read():
    """A schema migrated by a newer SafeGround (an Alembic revision this code does not ship) is not written."""
    from safeground.errors import StoreUnavailable
    from safeground.model import HazardArea

    problem = postgis_problem()
    if problem:
        pytest.fail(f"PostGIS needed for the migration tests: {problem}")
    schema = "mig_" + uuid.uuid4().hex[:10]
    url = f"{PG_URL}?schema={schema}"
    eng = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with open_store(url):
            pass
        with eng.begin() as c:
            c.execute(sqlalchemy.text(f"UPDATE \"{schema}\".alembic_version SET version_num = '9999_future'"))
        with pytest.raises(StoreUnavailable, match="written by a newer SafeGround"):
            open_store(url)
        with open_store(url, readonly=True) as s:
            assert s.count(HazardArea) == 0
    finally:
        with eng.begin() as c:
            c.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()
