"""The embedded store: one GeoPackage file (OGC 12-128r18) that QGIS opens as is.

Written with the standard library's ``sqlite3`` rather than through GDAL so
that an import spanning several layers is one SQLite transaction: GDAL writes
layer by layer and cannot roll back a half-finished multi-layer import. The file
follows the spec (geometry blobs, ``gpkg_contents``, ``gpkg_geometry_columns``,
R-tree spatial index extension with its triggers); the tests read every layer
back with GDAL to prove it.

The file's tables are laid out in ``gpkg_tables``, its R-tree index in ``gpkg_rtree``, its
geometry blobs in ``gpkg_binary``, its schema steps in ``gpkg_migrations`` and the bulk import in
``gpkg_bulk``; this module is the store: opening, transactions, reads and the versioning steps.

Concurrency: the file runs in WAL mode while open, so readers never block and
never see half a transaction while one process writes. On close it is folded
back into a single plain file for copying to a USB stick.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safeground.errors import RecordNotFound, StoreUnavailable
from safeground.model.base import RECORD_TYPES, Record
from safeground.storage import gpkg_binary, gpkg_bulk, gpkg_migrations, gpkg_rtree
from safeground.storage.base import UID_DIGITS, BBox, Progress, R, RowBatch, Store, SyncConflictRow
from safeground.storage.gpkg_tables import APPLICATION_ID, CORE_DDL, SRS_ROWS, USER_VERSION, create_layer, iso, now_iso
from safeground.storage.gpkg_tables import q as _q
from safeground.storage.schema import GPKG_TYPES, Layout, layout_of

#: how long a write waits for another process's transaction before it says so (seconds)
_BUSY_S = 30.0


def _exact_bbox(geoms: Any, bbox: BBox) -> Any:
    """The R-tree keeps 32-bit boxes rounded outwards: refine its candidates on the exact envelope,
    so a bounding-box query answers the same as on PostGIS."""
    b = shapely.bounds(np.asarray(geoms, dtype=object))
    minx, miny, maxx, maxy = bbox
    return (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)


class GeoPackageStore(Store):
    """A SafeGround store in one GeoPackage file."""

    def __init__(self, path: str | Path, *, create: bool = True, readonly: bool = False) -> None:
        """Open (or with ``create`` make) a store.

        ``readonly`` opens an existing SafeGround store without ever writing to
        the file: for summaries, maps and reports, and for files on read-only media.
        """
        self.path = Path(path)
        self.location = str(self.path)
        self.readonly = readonly
        if (readonly or not create) and not self.path.exists():
            raise StoreUnavailable(
                f"no SafeGround store at {self.path}",
                hint="check the path, or run 'safeground demo' or 'safeground generate' to create one",
            )
        try:
            if readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._con = sqlite3.connect(
                    uri, uri=True, isolation_level=None, timeout=_BUSY_S, check_same_thread=False
                )
            else:
                self._con = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_S, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._depth = 0
        self._touched: set[str] = set()
        self.model_changes: list[str] = []  # what the last upgrade() added from the model
        self.layers_added: list[str] = []  # layers of a newer model that opening an older store created
        gpkg_rtree.register_functions(self._con)
        try:
            tables = {r[0] for r in self._con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            self._con.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise self._write_failed(exc) from exc  # another writer, not another kind of file
            raise StoreUnavailable(
                f"{self.path} is not a GeoPackage/SQLite file ({exc})",
                hint="give the path of a .gpkg written by SafeGround, or a new file name",
            ) from exc
        if tables and "safeground_meta" not in tables:
            # someone else's database: never turn it into a store (that would add a dozen tables to it)
            self._con.close()
            what = "a GeoPackage" if "gpkg_contents" in tables else "an SQLite database"
            raise StoreUnavailable(
                f"{self.path} is {what} but not a SafeGround store; SafeGround leaves it as it is",
                hint="import its layers with 'safeground import' into a SafeGround store, or give a new file name",
            )
        if not readonly:
            self._refuse_newer_schema()  # both checks before the first write (WAL mode changes the file's header)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
        if readonly:
            missing = [c.LAYER for c in RECORD_TYPES.values() if c.LAYER not in tables]
            if missing:
                self._con.close()
                raise StoreUnavailable(
                    f"{self.path} was written by an older SafeGround and lacks: {', '.join(missing)}",
                    hint=f"add the new layers (nothing else changes): safeground db upgrade --store {self.path}",
                )
            return
        self._ensure_schema()

    # -- setup ------------------------------------------------------------------------
    def _refuse_newer_schema(self) -> None:
        """A store a newer SafeGround has migrated may hold tables and rules this code does not know: writing
        to it could break them. Reading stays allowed (``readonly``)."""
        try:
            row = self._con.execute("SELECT value FROM safeground_meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.Error:
            return  # a new file: the schema is created below
        version = row[0] if row else None
        if version is not None and str(version).isdigit() and int(version) > int(gpkg_migrations.LATEST):
            self._con.close()
            from safeground import __version__

            raise StoreUnavailable(
                f"{self.path} is at schema version {version}, written by a newer SafeGround; this SafeGround "
                f"({__version__}) knows versions up to {gpkg_migrations.LATEST} and will not write to it",
                hint="update SafeGround on this computer to use this store (reading it, e.g. summary, still works)",
            )

    def _ensure_schema(self) -> None:
        c = self._con
        app_id = c.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and app_id not in (APPLICATION_ID, 0):
            raise StoreUnavailable(f"{self.path} is an SQLite file but not a GeoPackage")
        missing = [cls for cls in RECORD_TYPES.values() if cls.LAYER not in tables]
        if "gpkg_contents" in tables and not missing:
            return
        with self.transaction():
            c.execute(f"PRAGMA application_id={APPLICATION_ID}")
            c.execute(f"PRAGMA user_version={USER_VERSION}")
            for ddl in CORE_DDL:
                c.execute(ddl)
            c.executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", SRS_ROWS)
            fresh = "safeground_meta" not in tables
            c.execute(
                "INSERT OR IGNORE INTO safeground_meta VALUES ('schema_version', ?)",
                (gpkg_migrations.BASELINE,),
            )
            if fresh:  # a new store is born at the latest version
                for version, _, step in gpkg_migrations.pending(gpkg_migrations.BASELINE):
                    step(c)
                    c.execute("UPDATE safeground_meta SET value = ? WHERE key = 'schema_version'", (version,))
            if tables and "gpkg_contents" in tables:  # an existing store: say what opening it added
                self.layers_added = [cls.LAYER for cls in missing]
            for cls in missing:
                lay = layout_of(cls)
                create_layer(c, lay, lay.table, cls.TITLE, history=False)
                create_layer(c, lay, lay.history_table, f"History of {lay.table}", history=True)
            if missing and int(self.get_meta("schema_version") or gpkg_migrations.BASELINE) >= 3:
                gpkg_migrations.add_outside_edit_triggers(c)  # new layers get the outside-edit history too

    # -- transactions -----------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.readonly:
            raise StoreUnavailable(f"{self.path} is open read-only", hint="open it for writing to change it")
        with self._lock:
            outer = self._depth == 0
            sp = f"sp{self._depth}"
            try:
                self._con.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT {sp}")
            except sqlite3.OperationalError as exc:
                raise self._write_failed(exc) from exc
            self._depth += 1
            try:
                yield
                if outer:
                    self._refresh_contents()
            except BaseException as exc:
                self._depth -= 1
                if outer:
                    self._rollback()
                    self._touched.clear()
                elif self._con.in_transaction:
                    self._con.execute(f"ROLLBACK TO {sp}")
                    self._con.execute(f"RELEASE {sp}")
                if outer and isinstance(exc, sqlite3.OperationalError):
                    raise self._write_failed(exc) from exc
                raise
            self._depth -= 1
            if outer:
                try:
                    self._con.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._rollback()
                    raise self._write_failed(exc) from exc
            else:
                self._con.execute(f"RELEASE {sp}")

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already: on a full disk it rolls back by itself,
        and a second ROLLBACK ("cannot rollback - no transaction is active") hid the real cause."""
        if self._con.in_transaction:
            # if this fails too, the journal undoes it on the next open; the cause is what the user must see
            with contextlib.suppress(sqlite3.Error):
                self._con.execute("ROLLBACK")

    def _write_failed(self, exc: sqlite3.Error) -> Exception:
        """SQLite's reasons a write fails, as a message a field officer can act on."""
        text = str(exc).lower()
        if "full" in text or "disk i/o" in text or "too large" in text:
            return StoreUnavailable(
                f"cannot write to {self.path}: the disk is full or the file may not grow ({exc}); "
                "nothing of this change was stored",
                hint="free space on the disk (or copy the store to a larger one) and run the command again",
            )
        if "locked" in text or "busy" in text:
            return StoreUnavailable(
                f"{self.path} is being written by another program and stayed locked for {_BUSY_S:g} s; "
                "nothing of this change was stored",
                hint="wait until the other import or sync has finished (or close the store in QGIS) and try again",
            )
        return exc if isinstance(exc, Exception) else StoreUnavailable(str(exc))

    def _refresh_contents(self) -> None:
        """Keep gpkg_contents' extent and last_change true, as QGIS zooms to it."""
        for table in self._touched:
            ext = self._con.execute(
                f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {_q('rtree_' + table + '_geom')}"
            ).fetchone()
            self._con.execute(
                "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, last_change=? WHERE table_name=?",
                (*ext, now_iso(), table),
            )
        self._touched.clear()

    # -- writes -----------------------------------------------------------------------
    def _insert(self, lay: Layout, recs: list[Record], progress: Progress | None) -> int:
        names = ([] if not lay.geometry_type else ["geom"]) + lay.column_names
        sql = f"INSERT INTO {_q(lay.table)} ({', '.join(map(_q, names))}) VALUES ({', '.join('?' * len(names))})"
        batch = 5000
        for start in range(0, len(recs), batch):
            chunk = recs[start : start + batch]
            rows = [lay.encode(r) for r in chunk]
            if lay.geometry_type:
                blobs = gpkg_binary.encode([getattr(r, "geometry", None) for r in chunk])
                rows = [[b, *row] for b, row in zip(blobs, rows, strict=True)]
            self._con.executemany(sql, rows)
            if progress:
                progress(len(chunk))
        if lay.geometry_type:
            self._touched.add(lay.table)
        return len(recs)

    def insert_stream(self, lay: Layout, batches: Iterable[RowBatch]) -> int:
        """Bulk insert of validated column values in one transaction (``gpkg_bulk.insert_stream``)."""
        with self.transaction():
            total = gpkg_bulk.insert_stream(self._con, lay, batches)
            if total and lay.geometry_type:
                self._touched.add(lay.table)
        return total

    def existing_uids(self, record_type: type[Record], uids: list[str]) -> set[str]:
        table = record_type.LAYER
        found: set[str] = set()
        for start in range(0, len(uids), 900):
            part = uids[start : start + 900]
            rows = self._rows(f"SELECT uid FROM {_q(table)} WHERE uid IN ({','.join('?' * len(part))})", part)
            found.update(r[0] for r in rows)
        return found

    # -- the steps of versioning (the algorithm is Store.update / Store.apply_versions) ----
    def _lock_version(self, lay: Layout, uid: str) -> int | None:
        # BEGIN IMMEDIATE already holds the file's write lock: no row lock needed
        row = self._con.execute(f"SELECT version FROM {_q(lay.table)} WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else int(row[0])

    def _copy_to_history(self, lay: Layout, uid: str, superseded_at: datetime | None) -> None:
        cols = ", ".join(map(_q, self._stored_names(lay)))
        self._con.execute(
            f"INSERT INTO {_q(lay.history_table)} ({cols}, superseded_at) "
            f"SELECT {cols}, ? FROM {_q(lay.table)} WHERE uid = ?",
            (now_iso() if superseded_at is None else iso(superseded_at), uid),
        )
        if lay.geometry_type:
            self._touched.add(lay.history_table)

    def _replace_current(self, lay: Layout, uid: str, record: Record) -> None:
        values = lay.encode(record)
        if lay.geometry_type:
            values = [gpkg_binary.encode([getattr(record, "geometry", None)])[0], *values]
            self._touched.add(lay.table)
        sets = ", ".join(f"{_q(n)} = ?" for n in self._stored_names(lay))
        self._con.execute(f"UPDATE {_q(lay.table)} SET {sets} WHERE uid = ?", (*values, uid))

    def _delete_current(self, lay: Layout, uid: str) -> None:
        self._con.execute(f"DELETE FROM {_q(lay.table)} WHERE uid = ?", (uid,))

    def _drop_history_above(self, lay: Layout, uid: str, version: int) -> None:
        self._con.execute(f"DELETE FROM {_q(lay.history_table)} WHERE uid = ? AND version > ?", (uid, version))
        if lay.geometry_type:
            self._touched.add(lay.history_table)

    def _history_versions(self, lay: Layout, uid: str) -> set[int]:
        rows = self._con.execute(f"SELECT version FROM {_q(lay.history_table)} WHERE uid = ?", (uid,))
        return {int(r[0]) for r in rows}

    @staticmethod
    def _stored_names(lay: Layout) -> list[str]:
        """The columns of a layer's row as stored: the geometry first, then the model's fields."""
        return ([] if not lay.geometry_type else ["geom"]) + lay.column_names

    def _insert_history(self, lay: Layout, versions: list[tuple[Record, Any]]) -> None:
        names = ([] if not lay.geometry_type else ["geom"]) + lay.column_names + ["superseded_at"]
        sql = (
            f"INSERT INTO {_q(lay.history_table)} ({', '.join(map(_q, names))}) VALUES ({', '.join('?' * len(names))})"
        )
        rows = [[*lay.encode(v), iso(at)] for v, at in versions]
        if lay.geometry_type:
            blobs = gpkg_binary.encode([getattr(v, "geometry", None) for v, _ in versions])
            rows = [[b, *row] for b, row in zip(blobs, rows, strict=True)]
            self._touched.add(lay.history_table)
        self._con.executemany(sql, rows)

    def current_versions(self, record_type: type[Record]) -> dict[str, int]:
        return {u: int(v) for u, v in self._rows(f"SELECT uid, version FROM {_q(record_type.LAYER)}")}

    def chains(self, record_type: type[Record], uids: list[str]) -> dict[str, list[Record]]:
        lay = layout_of(record_type)
        out: dict[str, list[Record]] = {u: [] for u in uids}
        for start in range(0, len(uids), 900):
            part = uids[start : start + 900]
            marks = ",".join("?" * len(part))
            for table in (lay.history_table, lay.table):
                for rec in self._select(lay, table, f"WHERE uid IN ({marks}) ORDER BY version", part):
                    out[rec.uid].append(rec)
        return {u: c for u, c in out.items() if c}

    def log_sync(self, peer_id: str, peer_location: str, direction: str, records: int, conflicts: int) -> None:
        with self.transaction():
            self._con.execute(
                "INSERT INTO safeground_sync_log (peer_id, peer_location, direction, records, conflicts) "
                "VALUES (?, ?, ?, ?, ?)",
                (peer_id, peer_location, direction, records, conflicts),
            )

    # -- field sync state (tables of schema step 2) --------------------------------------
    keeps_field_sync_state = True

    def sync_bases(self, layer: str) -> dict[str, int]:
        rows = self._rows("SELECT uid, base_version FROM safeground_sync_state WHERE layer = ?", (layer,))
        return {u: int(v) for u, v in rows}

    def set_sync_bases(self, layer: str, bases: dict[str, int], synced_at: str) -> None:
        with self.transaction():
            self._con.executemany(
                "INSERT INTO safeground_sync_state VALUES (?, ?, ?, ?) ON CONFLICT (layer, uid) "
                "DO UPDATE SET base_version = excluded.base_version, synced_at = excluded.synced_at",
                [(layer, uid, version, synced_at) for uid, version in bases.items()],
            )

    def open_sync_conflict(self, conflict: SyncConflictRow) -> None:
        c = conflict
        with self.transaction():
            self._con.execute(
                "DELETE FROM safeground_sync_conflicts WHERE layer = ? AND uid = ? AND resolved_at IS NULL",
                (c.layer, c.uid),
            )
            self._con.execute(
                "INSERT INTO safeground_sync_conflicts (layer, uid, base_version, mine_version, theirs_version, "
                "mine, theirs, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (c.layer, c.uid, c.base_version, c.mine_version, c.theirs_version, c.mine, c.theirs, c.detected_at),
            )

    def sync_conflicts(self, *, include_resolved: bool = False) -> list[SyncConflictRow]:
        where = "" if include_resolved else "WHERE resolved_at IS NULL"
        rows = self._rows(
            "SELECT id, layer, uid, base_version, mine_version, theirs_version, mine, theirs, detected_at, "
            f"resolved_at, kept FROM safeground_sync_conflicts {where} ORDER BY layer, uid, id"
        )
        return [SyncConflictRow(*r) for r in rows]

    def resolve_sync_conflict(self, conflict_id: int, kept: str, resolved_at: str) -> None:
        with self.transaction():
            self._con.execute(
                "UPDATE safeground_sync_conflicts SET resolved_at = ?, kept = ? WHERE id = ?",
                (resolved_at, kept, conflict_id),
            )

    # -- migrations -------------------------------------------------------------------
    def schema_revision(self) -> str | None:
        return self.get_meta("schema_version")

    def migration_steps(self) -> list[tuple[str, str]]:
        return gpkg_migrations.steps()

    def upgrade(self, target: str = "head") -> list[str]:
        """Run the pending migration steps (all of them, or up to ``target``) in one transaction."""
        current = self.schema_revision() or gpkg_migrations.BASELINE
        done: list[str] = []
        with self.transaction():
            for version, _, step in gpkg_migrations.pending(current):
                if target != "head" and int(version) > int(target):
                    break
                step(self._con)
                self._con.execute("UPDATE safeground_meta SET value = ? WHERE key = 'schema_version'", (version,))
                done.append(version)
            self.model_changes = self._add_model_changes()
            if self.model_changes and int(self.get_meta("schema_version") or gpkg_migrations.BASELINE) >= 3:
                gpkg_migrations.add_outside_edit_triggers(self._con)  # the copy into history carries new columns
        return done

    def _add_model_changes(self) -> list[str]:
        """New fields of the model as nullable columns (new layers are created on open), and
        fields that became optional (an accident's date may be unknown) lose NOT NULL:
        the additive part of a model change needs no migration step."""
        added: list[str] = []
        for cls in RECORD_TYPES.values():
            lay = layout_of(cls)
            for table in (lay.table, lay.history_table):
                info = {r[1]: bool(r[3]) for r in self._con.execute(f"PRAGMA table_info({_q(table)})")}
                for col in lay.columns:
                    if col.name not in info:
                        self._con.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(col.name)} {GPKG_TYPES[col.kind]}")
                        added.append(f"{table}.{col.name}")
                relax = [c.name for c in lay.columns if c.nullable and info.get(c.name)]
                if relax:
                    self._drop_not_null(table, relax)
                    added += [f"{table}.{name} (may now be empty)" for name in relax]
        return added

    def _drop_not_null(self, table: str, columns: list[str]) -> None:
        """SQLite's documented way to remove a NOT NULL constraint: edit the stored CREATE TABLE
        (the rows on disk do not change), inside the caller's transaction."""
        import re

        c = self._con
        sql = c.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
        for name in columns:
            sql = re.sub(rf"({re.escape(_q(name))}\s+\w+)\s+NOT NULL", r"\1", sql)
        version = c.execute("PRAGMA schema_version").fetchone()[0]
        c.execute("PRAGMA writable_schema = ON")
        try:
            c.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
            c.execute(f"PRAGMA schema_version = {int(version) + 1}")
        finally:
            c.execute("PRAGMA writable_schema = OFF")

    # -- reads ------------------------------------------------------------------------
    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Reads wait for another thread's open transaction, so no thread sees half of it."""
        with self._lock:
            return self._con.execute(sql, tuple(params)).fetchall()

    def _select(self, lay: Layout, table: str, where: str = "", params: Iterable[Any] = ()) -> list[Record]:
        names = (["geom"] if lay.geometry_type else []) + lay.column_names
        return self._decode(lay, self._rows(f"SELECT {', '.join(map(_q, names))} FROM {_q(table)} {where}", params))

    @staticmethod
    def _decode(lay: Layout, rows: list[Any]) -> list[Record]:
        """Records from stored rows (the geometry blob first, as ``_stored_names`` orders them)."""
        if not rows:
            return []
        if lay.geometry_type:
            geoms = gpkg_binary.decode([r[0] for r in rows])
            return [lay.decode(r[1:], g) for r, g in zip(rows, geoms, strict=True)]
        return [lay.decode(r) for r in rows]

    def get(self, record_type: type[R], uid: str) -> R:
        lay = layout_of(record_type)
        found = self._select(lay, lay.table, "WHERE uid = ?", (uid,))
        if not found:
            raise RecordNotFound(f"{lay.table}: no record {uid}")
        return found[0]  # type: ignore[return-value]

    @staticmethod
    def _equals(lay: Layout, equals: dict[str, Any], prefix: str = "") -> tuple[list[str], list[Any]]:
        """Equality filters on the model's columns (an enum compares by its value)."""
        clauses: list[str] = []
        params: list[Any] = []
        known = set(lay.column_names)
        for key, value in equals.items():
            if key not in known:
                raise ValueError(f"{lay.table} has no column {key!r}")
            clauses.append(f"{prefix}{_q(key)} = ?")
            params.append(value.value if hasattr(value, "value") else value)
        return clauses, params

    def _where(self, lay: Layout, bbox: BBox | None, equals: dict[str, Any]) -> tuple[str, list[Any]]:
        clauses, params = self._equals(lay, equals)
        if bbox is not None:
            if not lay.geometry_type:
                raise ValueError(f"{lay.table} has no geometry to filter by bounding box")
            minx, miny, maxx, maxy = bbox
            clauses.append(
                f"fid IN (SELECT id FROM {_q('rtree_' + lay.table + '_geom')} "
                "WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"
            )
            params += [maxx, minx, maxy, miny]
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def find(self, record_type: type[R], *, bbox: BBox | None = None, **equals: Any) -> Iterator[R]:
        lay = layout_of(record_type)
        where, params = self._where(lay, bbox, equals)
        found = self._select(lay, lay.table, where + " ORDER BY fid", params)
        if bbox is not None and found:
            keep = _exact_bbox([r.geometry for r in found], bbox)  # type: ignore[attr-defined]
            found = [r for r, k in zip(found, keep, strict=True) if k]
        yield from found  # type: ignore[misc]

    def count(self, record_type: type[Record]) -> int:
        return int(self._rows(f"SELECT count(*) FROM {_q(record_type.LAYER)}")[0][0])

    def _matching(self, lay: Layout, bbox: BBox | None, equals: dict[str, Any]) -> tuple[str, list[Any]]:
        """``FROM … WHERE …`` of the rows ``find`` yields, with the exact bounding-box test in SQL too.

        The R-tree gives candidates in 32-bit boxes rounded outwards. A candidate whose rounded box
        lies inside the query box certainly intersects it; only the others, on the box's edge, are
        tested on the exact envelope of their geometry blob (``ST_MinX`` … on the header), so a page
        or a count never decodes the rows it does not return."""
        clauses, params = self._equals(lay, equals, "t.")
        source = f"{_q(lay.table)} t"
        if bbox is not None:
            if not lay.geometry_type:
                raise ValueError(f"{lay.table} has no geometry to filter by bounding box")
            minx, miny, maxx, maxy = bbox
            source += f" JOIN {_q('rtree_' + lay.table + '_geom')} r ON r.id = t.fid"
            clauses.append("r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?")
            clauses.append(
                "((r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?) OR (ST_MinX(t.geom) <= ? "
                "AND ST_MaxX(t.geom) >= ? AND ST_MinY(t.geom) <= ? AND ST_MaxY(t.geom) >= ?))"
            )
            params += [maxx, minx, maxy, miny, minx, maxx, miny, maxy, maxx, minx, maxy, miny]
        return f"FROM {source}" + (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def page(
        self, record_type: type[R], *, bbox: BBox | None = None, limit: int = 10, offset: int = 0, **equals: Any
    ) -> list[R]:
        self._check_page(limit, offset)
        lay = layout_of(record_type)
        source, params = self._matching(lay, bbox, equals)
        names = ", ".join("t." + _q(n) for n in self._stored_names(lay))
        rows = self._rows(f"SELECT {names} {source} ORDER BY t.uid LIMIT ? OFFSET ?", [*params, limit, offset])
        return self._decode(lay, rows)  # type: ignore[return-value]

    def count_matching(self, record_type: type[Record], *, bbox: BBox | None = None, **equals: Any) -> int:
        source, params = self._matching(layout_of(record_type), bbox, equals)
        return int(self._rows(f"SELECT count(*) {source}", params)[0][0])

    def history(self, record_type: type[R], uid: str) -> list[R]:
        lay = layout_of(record_type)
        old = self._select(lay, lay.history_table, "WHERE uid = ? ORDER BY version", (uid,))
        try:
            current = [self.get(record_type, uid)]
        except RecordNotFound:
            if not old:
                raise
            current = []  # deleted (an approved deletion): its versions stay, the last one is what was deleted
        return [*old, *current]  # type: ignore[list-item]

    def layer_state(self, record_type: type[Record]) -> tuple[int, ...]:
        lay = layout_of(record_type)
        try:
            cur = self._rows(f"SELECT count(*), coalesce(sum(version), 0), coalesce(max(fid), 0) FROM {_q(lay.table)}")
            old = self._rows(f"SELECT count(*), coalesce(max(fid), 0) FROM {_q(lay.history_table)}")
        except sqlite3.OperationalError:  # a store of an older version, opened read-only, without this layer
            return (0, 0, 0, 0)
        return (*(int(v) for v in cur[0]), *(int(v) for v in old[0]))

    def read_frames(
        self,
        record_type: type[Record],
        columns: Sequence[str],
        *,
        chunk_rows: int = 50_000,
        geometry: bool = True,
    ) -> Iterator[gpd.GeoDataFrame]:
        lay = layout_of(record_type)
        lay.require_columns(columns)
        with_geom = bool(lay.geometry_type) and geometry
        names = ["fid", *(["geom"] if with_geom else []), *columns]
        sql = f"SELECT {', '.join(map(_q, names))} FROM {_q(lay.table)} WHERE fid > ? ORDER BY fid LIMIT ?"
        last = -(2**63)
        while True:
            rows = self._rows(sql, (last, chunk_rows))
            if not rows:
                return
            last = rows[-1][0]
            df = pd.DataFrame.from_records(rows, columns=names).drop(columns="fid")
            del rows
            if with_geom:
                geoms = gpkg_binary.decode(list(df.pop("geom")))
                yield gpd.GeoDataFrame(df, geometry=geoms, crs=4326)
            else:
                yield gpd.GeoDataFrame(df)
            if len(df) < chunk_rows:
                return

    def version_rows(self, record_type: type[Record], columns: Sequence[str]) -> list[tuple[Any, ...]]:
        lay = layout_of(record_type)
        lay.require_columns(columns)
        cols = ", ".join(map(_q, columns))
        return [
            tuple(r)
            for r in self._rows(
                f"SELECT {cols} FROM {_q(lay.history_table)} UNION ALL SELECT {cols} FROM {_q(lay.table)}"
            )
        ]

    def read_frame(self, record_type: type[Record], *, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        lay = layout_of(record_type)
        where, params = self._where(lay, bbox, {})
        names = (["geom"] if lay.geometry_type else []) + lay.column_names
        rows = self._rows(f"SELECT {', '.join(map(_q, names))} FROM {_q(lay.table)} {where} ORDER BY fid", params)
        df = pd.DataFrame.from_records(rows, columns=names)
        if not lay.geometry_type:
            return gpd.GeoDataFrame(df)
        geoms = gpkg_binary.decode(list(df.pop("geom")))
        frame = gpd.GeoDataFrame(df, geometry=geoms, crs=4326)
        if bbox is not None and len(frame):
            frame = frame[_exact_bbox(geoms, bbox)].reset_index(drop=True)
        return frame

    def max_uid_number(self, record_type: type[Record]) -> int:
        prefix = record_type.UID_PREFIX + "-"
        # only uids of the generated form count: digits after the prefix, at most UID_DIGITS of them
        rows = self._rows(
            f"SELECT max(CAST(substr(uid, ?) AS INTEGER)) FROM {_q(record_type.LAYER)} WHERE uid LIKE ? || '%' "
            "AND length(uid) - ? BETWEEN 1 AND ? AND substr(uid, ?) NOT GLOB '*[^0-9]*'",
            (len(prefix) + 1, prefix, len(prefix), UID_DIGITS, len(prefix) + 1),
        )
        return int(rows[0][0] or 0)

    # -- metadata ---------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._rows("SELECT value FROM safeground_meta WHERE key = ?", (key,))
        return default if not rows else rows[0][0]

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._con.execute(
                "INSERT INTO safeground_meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def drop(self) -> None:
        """Close the store and remove its file, with the files SQLite keeps beside it while it is open
        (``-wal``, ``-shm``; a ``-journal`` left behind would be rolled into a new file of the same name)."""
        if self.readonly:
            raise StoreUnavailable(f"{self.path} is open read-only", hint="open it for writing to remove it")
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        con = getattr(self, "_con", None)
        if con is None:
            return
        if self.readonly:
            con.close()
            self._con = None  # type: ignore[assignment]
            return
        try:
            # never wait at close: if another process is busy, leave the WAL to it
            con.execute("PRAGMA busy_timeout=0")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # Fold the WAL back so the file at rest is one self-contained file.
            # Fails harmlessly (stays WAL) while another connection has it open.
            con.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error:
            pass
        con.close()
        self._con = None  # type: ignore[assignment]
