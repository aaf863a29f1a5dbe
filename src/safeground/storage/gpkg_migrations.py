"""Schema migrations of the GeoPackage store: simple ordered Python steps.

A field GeoPackage has no Alembic: it carries its schema version in
``safeground_meta.schema_version`` ("1" is the layout SafeGround 0.1 wrote) and
each step below takes it one version further inside the caller's transaction.
The steps mirror the PostGIS revisions in ``storage/migrations/versions`` where
the two backends need the same thing (a store identifier and the sync log), and
add what only a field store needs (the sync state and the conflict list).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable

BASELINE = "1"


def _v2_field_sync(con: sqlite3.Connection) -> None:
    """Field sync: what was last agreed with the server per record, open conflicts, the session log."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS safeground_sync_state ("
        "layer TEXT NOT NULL, uid TEXT NOT NULL, base_version INTEGER NOT NULL, synced_at DATETIME NOT NULL, "
        "PRIMARY KEY (layer, uid))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS safeground_sync_conflicts ("
        "id INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, uid TEXT NOT NULL, base_version INTEGER, "
        "mine_version INTEGER NOT NULL, theirs_version INTEGER NOT NULL, mine TEXT NOT NULL, theirs TEXT NOT NULL, "
        "detected_at DATETIME NOT NULL, resolved_at DATETIME, kept TEXT CHECK (kept IN ('mine', 'theirs')))"
    )
    con.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS safeground_sync_conflicts_open "
        "ON safeground_sync_conflicts (layer, uid) WHERE resolved_at IS NULL"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS safeground_sync_log ("
        "id INTEGER PRIMARY KEY AUTOINCREMENT, at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
        "peer_id TEXT NOT NULL, peer_location TEXT, direction TEXT NOT NULL CHECK (direction IN ('push', 'pull')), "
        "records INTEGER NOT NULL, conflicts INTEGER NOT NULL)"
    )
    con.execute("INSERT OR IGNORE INTO safeground_meta VALUES ('store_id', ?)", (str(uuid.uuid4()),))


#: who an edit made by another program is attributed to, and why, in the history it leaves
OUTSIDE_AUTHOR = "outside SafeGround"
OUTSIDE_REASON = "edited outside SafeGround (QGIS, ogr or SQL): the previous version is kept in history"


def outside_edit_ddl(table: str, history_table: str, columns: list[str]) -> list[str]:
    """The trigger that keeps history for an edit made by another program (QGIS, ogr2ogr, plain SQL).

    SafeGround's own ``update`` raises the version and writes history itself; an
    edit that leaves the version as it was came from outside. The trigger copies
    the previous row into the history table and makes the edit a new version,
    attributed to "outside SafeGround". It uses core SQL only, so it runs in any
    program's SQLite (QGIS, GDAL, the sqlite3 shell) without SafeGround's functions.
    """

    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    name = q(f"safeground_outside_edit_{table}")
    cols = ", ".join(q(c) for c in columns)
    old = ", ".join(f"OLD.{q(c)}" for c in columns)
    now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} AFTER UPDATE ON {q(table)} WHEN NEW.version = OLD.version BEGIN "
        f"INSERT INTO {q(history_table)} ({cols}, superseded_at) VALUES ({old}, {now}); "
        f"UPDATE {q(table)} SET version = OLD.version + 1, entered_at = strftime('%Y-%m-%dT%H:%M:%SZ','now'), "
        f"entered_by = '{OUTSIDE_AUTHOR}', change_reason = '{OUTSIDE_REASON}' WHERE fid = NEW.fid; END",
    ]


def add_outside_edit_triggers(con: sqlite3.Connection) -> None:
    """The trigger of ``outside_edit_ddl`` on every record layer of the store (again after columns are added,
    so the copy into history carries them)."""
    from safeground.model.base import RECORD_TYPES
    from safeground.storage.schema import layout_of

    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for cls in RECORD_TYPES.values():
        lay = layout_of(cls)
        if lay.table in tables and lay.history_table in tables:
            have = {r[1] for r in con.execute(f'PRAGMA table_info("{lay.history_table}")')}
            columns = [c for c in (["geom"] if lay.geometry_type else []) + lay.column_names if c in have]
            for ddl in outside_edit_ddl(lay.table, lay.history_table, columns):
                con.execute(ddl)


#: (version reached, what it does, the step) in order; append only, never edit a released step
MIGRATIONS: list[tuple[str, str, Callable[[sqlite3.Connection], None]]] = [
    ("2", "field sync: sync state, conflicts, sync log, store identifier", _v2_field_sync),
    ("3", "history kept for edits made outside SafeGround (triggers on every record layer)", add_outside_edit_triggers),
]
LATEST = MIGRATIONS[-1][0]


def pending(current: str) -> list[tuple[str, str, Callable[[sqlite3.Connection], None]]]:
    """The steps still to run on a store at version ``current``."""
    return [m for m in MIGRATIONS if int(m[0]) > int(current)]


def steps() -> list[tuple[str, str]]:
    """Every schema version of a GeoPackage store, oldest first: (version, what it brought)."""
    return [(BASELINE, "baseline: the layout SafeGround 0.1 wrote")] + [(v, doc) for v, doc, _ in MIGRATIONS]
