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


#: (version reached, what it does, the step) in order; append only, never edit a released step
MIGRATIONS: list[tuple[str, str, Callable[[sqlite3.Connection], None]]] = [
    ("2", "field sync: sync state, conflicts, sync log, store identifier", _v2_field_sync),
]
LATEST = MIGRATIONS[-1][0]


def pending(current: str) -> list[tuple[str, str, Callable[[sqlite3.Connection], None]]]:
    """The steps still to run on a store at version ``current``."""
    return [m for m in MIGRATIONS if int(m[0]) > int(current)]
