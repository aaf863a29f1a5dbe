"""Edits made by another program (QGIS, ogr, plain SQL) to a store (issue 16, point 8).

The README invites opening the GeoPackage in QGIS. A status changed there left no
history, and ``safeground history`` then crashed ("status is closed but the last
status change says open"). Now a trigger in the store keeps the previous version
and makes the edit a new version "by outside SafeGround"; every command reads it.

The edits here are real SQL UPDATEs on the store file or server, as QGIS issues
them: on a GeoPackage through an SQLite connection that has the GeoPackage
functions (``ST_IsEmpty``, ``ST_MinX``, …) which GDAL registers for QGIS and which
the R-tree triggers of every GeoPackage need.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy

from safeground.model import HazardArea
from safeground.model.hazards import OUTSIDE_STATUS_REASON
from safeground.storage import gpkg_binary, open_store
from safeground.storage.base import Store
from safeground.storage.gpkg_migrations import OUTSIDE_AUTHOR
from tests.conftest import PG_URL, invoke_cli
from tests.samples import sample


def _qgis_connection(path: str) -> sqlite3.Connection:
    """An SQLite connection with the functions GDAL gives QGIS for a GeoPackage."""
    con = sqlite3.connect(path)
    con.create_function("ST_IsEmpty", 1, gpkg_binary.is_empty)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, lambda b, i=i: None if (e := gpkg_binary.envelope(b)) is None else e[i])
    return con


def _outside_sql(store: Store, sql: str, params: dict) -> None:
    """Run one statement on the store as another program would (not through SafeGround)."""
    from safeground.storage.postgis import PostGISStore

    if isinstance(store, PostGISStore):
        eng = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.begin() as c:
            c.execute(sqlalchemy.text(f'SET search_path TO "{store.schema}", public'))
            c.execute(sqlalchemy.text(sql), params)
        eng.dispose()
        return
    con = _qgis_connection(store.location)
    con.execute(sql.replace(":status", "?").replace(":uid", "?"), (params["status"], params["uid"]))
    con.commit()
    con.close()


def test_a_status_changed_outside_is_kept_as_a_new_version_with_history(store: Store):
    ha = sample(HazardArea, 1)
    store.add(ha)
    assert ha.status.value == "open"
    _outside_sql(
        store, "UPDATE hazard_areas SET status = :status WHERE uid = :uid", {"status": "closed", "uid": ha.uid}
    )
    versions = store.history(HazardArea, ha.uid)  # crashed before: "status is closed but ... says open"
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].status.value == "open" and versions[0].entered_by == ha.entered_by
    now = versions[-1]
    assert now.status.value == "closed" and now.entered_by == OUTSIDE_AUTHOR
    assert now.status_history[-1].status.value == "closed" and now.status_history[-1].reason == OUTSIDE_STATUS_REASON
    # SafeGround's own update after it: a normal new version on top, history intact
    store.update(now.model_copy(update={"priority": 1}), expected_version=2)
    assert [v.version for v in store.history(HazardArea, ha.uid)] == [1, 2, 3]


def test_safeground_history_and_the_reports_read_an_outside_edit(tmp_path):
    path = str(tmp_path / "s.gpkg")
    with open_store(path) as s:
        s.add(sample(HazardArea, 1))
    con = _qgis_connection(path)
    con.execute("UPDATE hazard_areas SET status = 'closed', name = 'edited in QGIS' WHERE uid = 'HA-00001'")
    con.commit()
    con.close()
    res = invoke_cli("history", "hazard_areas", "HA-00001", "--store", path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert OUTSIDE_AUTHOR in res.stdout and "open → closed" in res.stdout
    for args in (("summary", "--store", path), ("export", "layer", "hazard_areas", "--format", "csv", "--out",
                                                str(tmp_path / "ha.csv"), "--store", path)):  # fmt: skip
        out = invoke_cli(*args)
        assert out.returncode == 0 and "Traceback" not in out.stderr, (args, out.stdout, out.stderr)
    assert "edited in QGIS" in (tmp_path / "ha.csv").read_text(encoding="utf-8")


def test_a_row_edited_into_something_unreadable_is_a_message_not_a_traceback(tmp_path):
    """Beyond what the trigger can make right (a remaining area above the estimate): said, by record and field."""
    path = str(tmp_path / "s.gpkg")
    with open_store(path) as s:
        s.add(sample(HazardArea, 1))
    con = _qgis_connection(path)
    con.execute("UPDATE hazard_areas SET remaining_area_m2 = estimated_area_m2 * 10 WHERE uid = 'HA-00001'")
    con.commit()
    con.close()
    res = invoke_cli("history", "hazard_areas", "HA-00001", "--store", path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "HA-00001" in res.stderr and "edited outside SafeGround" in res.stderr and "Traceback" not in res.stderr


def test_a_record_deleted_outside_shows_its_kept_history(tmp_path):
    path = str(tmp_path / "s.gpkg")
    with open_store(path) as s:
        s.add(sample(HazardArea, 1))
    con = _qgis_connection(path)
    con.execute("UPDATE hazard_areas SET status = 'closed' WHERE uid = 'HA-00001'")
    con.execute("DELETE FROM hazard_areas WHERE uid = 'HA-00001'")
    con.commit()
    con.close()
    res = invoke_cli("history", "hazard_areas", "HA-00001", "--store", path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "deleted outside SafeGround" in res.stdout


def test_an_upgraded_store_gets_the_trigger(tmp_path, monkeypatch):
    """A store of schema 2 (before the trigger) upgraded with ``db upgrade`` keeps outside edits from then on."""
    from safeground.storage import gpkg_migrations

    path = str(tmp_path / "old.gpkg")
    monkeypatch.setattr(gpkg_migrations, "MIGRATIONS", gpkg_migrations.MIGRATIONS[:1])
    with open_store(path) as s:
        assert s.schema_revision() == "2"
        s.add(sample(HazardArea, 1))
    monkeypatch.undo()
    res = invoke_cli("db", "upgrade", "--store", path)
    assert res.returncode == 0 and "to 3" in res.stdout, res.stdout + res.stderr
    con = _qgis_connection(path)
    con.execute("UPDATE hazard_areas SET priority = 4 WHERE uid = 'HA-00001'")
    con.commit()
    con.close()
    with open_store(path) as s:
        assert [(v.version, v.priority) for v in s.history(HazardArea, "HA-00001")] == [(1, 1), (2, 4)]
