"""The server store: PostgreSQL with PostGIS, for a national authority with many users.

Same contract as the GeoPackage store (``tests/test_store_contract.py`` runs
unchanged against both). Geometry is ``geometry(<type>, 4326)`` with a GiST
index; every table has its ``<layer>_history`` twin. Concurrency is PostgreSQL's:
a write locks the row it updates (``SELECT … FOR UPDATE``) and checks the version
it was based on, so two editors can never silently overwrite each other.

The URL may name a schema (``postgresql://host/db?schema=district7``) so that
several districts or a test run can live side by side in one database.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, Transaction
from sqlalchemy.exc import OperationalError, ProgrammingError

from safeground.errors import RecordNotFound, StoreUnavailable
from safeground.model.base import RECORD_TYPES, Record
from safeground.storage.base import UID_DIGITS, BBox, Progress, R, RowBatch, Store
from safeground.storage.schema import Layout, layout_of

PG_TYPES = {
    "text": "TEXT",
    "integer": "BIGINT",
    "real": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMPTZ",
    "json": "TEXT",  # JSON text, exactly as the GeoPackage keeps it: one layout, one round trip
}
BASELINE_REVISION = "0001"
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _split_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", "public")
    if not _SCHEMA_RE.match(schema):
        raise StoreUnavailable(
            f"invalid schema name {schema!r} in the store URL", hint="use lower-case letters, digits, _"
        )
    scheme = "postgresql+psycopg"
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment)), schema


def _iso_text(v: Any) -> str | None:
    """A date or time as the GeoPackage keeps it (what ``model_dump(mode="json")`` writes): UTC as ``…Z``."""
    if v is None:
        return None
    if isinstance(v, datetime) and v.utcoffset() == timedelta(0):
        return v.replace(tzinfo=None).isoformat() + "Z"
    return str(v.isoformat())


def _to_db(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind == "datetime" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind == "boolean":
        return bool(value)
    return value


class PostGISStore(Store):
    """A SafeGround store in a PostgreSQL/PostGIS database (one schema)."""

    def __init__(self, url: str, *, create: bool = True, readonly: bool = False) -> None:
        self.location = url.split("@")[-1]  # never echo a password
        self.readonly = readonly
        sa_url, self.schema = _split_url(url)
        try:
            self._engine: Engine = create_engine(sa_url, pool_pre_ping=True)
            with self._engine.connect() as c:
                c.execute(text("SELECT 1"))
        except (OperationalError, ProgrammingError) as exc:
            raise StoreUnavailable(
                f"cannot connect to the PostGIS store at {self.location}: {exc.orig}",
                hint="check that PostgreSQL runs and the database exists (createdb …)",
            ) from exc
        self._lock = threading.RLock()
        self.model_changes: list[str] = []  # what the last upgrade() added from the model
        self._conn: Connection | None = None
        self._depth = 0
        if not readonly:
            if self._has_table("safeground_meta"):
                self._refuse_newer_schema()
            self._ensure_schema(create)
        elif not self._has_table("safeground_meta"):
            raise StoreUnavailable(f"no SafeGround store in schema {self.schema} at {self.location}")

    # -- setup ------------------------------------------------------------------------
    def _t(self, table: str) -> str:
        return f"{_q(self.schema)}.{_q(table)}"

    def _has_table(self, table: str) -> bool:
        with self._engine.connect() as c:
            return bool(
                c.execute(
                    text("SELECT 1 FROM information_schema.tables WHERE table_schema = :s AND table_name = :t"),
                    {"s": self.schema, "t": table},
                ).first()
            )

    def _tables(self) -> set[str]:
        with self._engine.connect() as c:
            rows = c.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": self.schema}
            )
            return {r[0] for r in rows}

    def _ensure_schema(self, create: bool) -> None:
        """A new schema is built by running every migration (``alembic upgrade head``); an existing
        one is left at its revision (upgrades are explicit: ``safeground db upgrade``). Layers of
        record types newer than the last revision are created from the model as before."""
        tables = self._tables()
        if "safeground_meta" not in tables and not create:
            raise StoreUnavailable(f"no SafeGround store in schema {self.schema} at {self.location}")
        wanted = {"safeground_meta"} | {t for c in RECORD_TYPES.values() for t in (c.LAYER, c.LAYER + "_history")}
        if wanted <= tables:
            return  # no DDL on a complete store: DDL locks would collide with other users' writes
        with self._engine.begin() as c:
            c.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": "safeground-schema-" + self.schema})
            try:
                c.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            except ProgrammingError as exc:  # pragma: no cover - needs a non-superuser role
                raise StoreUnavailable(
                    f"PostGIS is not available in this database: {exc.orig}",
                    hint="install postgresql-15-postgis-3 and run CREATE EXTENSION postgis as a superuser",
                ) from exc
            c.execute(text(f"CREATE SCHEMA IF NOT EXISTS {_q(self.schema)}"))
            fresh = not c.execute(
                text("SELECT 1 FROM information_schema.tables WHERE table_schema = :s AND table_name = :t"),
                {"s": self.schema, "t": "safeground_meta"},
            ).first()
            if fresh:
                self._run_alembic(c, "upgrade", "head")
            self._add_model_changes(c)

    def _refuse_newer_schema(self) -> None:
        """A schema a newer SafeGround has migrated (an Alembic revision this code does not ship) may hold
        tables and rules this code does not know: writing could break them. Reading stays allowed."""
        from alembic.script import ScriptDirectory

        from safeground.storage.migrations import alembic_config

        current = self.schema_revision()
        if current is None:
            return
        known = {r.revision for r in ScriptDirectory.from_config(alembic_config(None, self.schema)).walk_revisions()}
        if current not in known:
            from safeground import __version__

            self._engine.dispose()
            raise StoreUnavailable(
                f"the store in schema {self.schema} at {self.location} is at schema revision {current}, written by "
                f"a newer SafeGround; this SafeGround ({__version__}) knows revisions up to "
                f"{max(known)} and will not write to it",
                hint="update SafeGround on this computer to use this store (reading it, e.g. summary, still works)",
            )

    def _add_model_changes(self, c: Connection) -> list[str]:
        """The additive part of a model change, applied without a revision: layers of new record
        types and new fields (as nullable columns: existing rows have no value). Renames, type
        changes and data moves need an Alembic revision. Returns what was added."""
        added: list[str] = []
        rows = c.execute(
            text("SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = :s"),
            {"s": self.schema},
        ).fetchall()
        have: dict[str, set[str]] = {}
        not_null: set[tuple[str, str]] = set()
        for table, column, nullable in rows:
            have.setdefault(table, set()).add(column)
            if nullable == "NO":
                not_null.add((table, column))
        for cls in RECORD_TYPES.values():
            lay = layout_of(cls)
            for table, history in ((lay.table, False), (lay.history_table, True)):
                if table not in have:
                    self._create_layer(c, lay, table, history=history)
                    added.append(table)
                    continue
                for col in lay.columns:
                    if col.name not in have[table]:
                        c.execute(text(f"ALTER TABLE {self._t(table)} ADD COLUMN {_q(col.name)} {PG_TYPES[col.kind]}"))
                        added.append(f"{table}.{col.name}")
                    elif col.nullable and (table, col.name) in not_null:  # a field that became optional
                        c.execute(text(f"ALTER TABLE {self._t(table)} ALTER COLUMN {_q(col.name)} DROP NOT NULL"))
                        added.append(f"{table}.{col.name} (may now be empty)")
        return added

    # -- migrations -------------------------------------------------------------------
    def _run_alembic(self, c: Connection, command_name: str, target: str) -> None:
        from alembic import command

        from safeground.storage.migrations import alembic_config

        getattr(command, command_name)(alembic_config(c, self.schema), target)

    def schema_revision(self) -> str | None:
        """The Alembic revision this store's schema is at (None: made before migrations existed)."""
        from alembic.runtime.migration import MigrationContext

        with self._engine.connect() as c:
            ctx = MigrationContext.configure(c, opts={"version_table_schema": self.schema})
            return ctx.get_current_revision()

    def upgrade(self, target: str = "head") -> list[str]:
        """Run the migrations up to ``target`` in this store's schema, in one transaction; returns
        the revisions applied. A store without a version table is taken to be at the baseline."""
        from alembic.script import ScriptDirectory

        from safeground.storage.migrations import alembic_config

        before = self.schema_revision()
        with self._engine.begin() as c:
            c.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": "safeground-schema-" + self.schema})
            if before is None:
                self._run_alembic(c, "stamp", BASELINE_REVISION)
            self._run_alembic(c, "upgrade", target)
            self.model_changes = self._add_model_changes(c)
        after = self.schema_revision()
        script = ScriptDirectory.from_config(alembic_config(None, self.schema))
        path = [r.revision for r in script.iterate_revisions(after, before or BASELINE_REVISION)]
        return [r for r in reversed(path) if r != (before or BASELINE_REVISION)]

    def migration_steps(self) -> list[tuple[str, str]]:
        from alembic.script import ScriptDirectory

        from safeground.storage.migrations import alembic_config

        script = ScriptDirectory.from_config(alembic_config(None, self.schema))
        revs = list(reversed(list(script.walk_revisions())))
        return [(r.revision, (r.doc or "").strip().splitlines()[0]) for r in revs]

    def _create_layer(self, c: Connection, lay: Layout, table: str, *, history: bool) -> None:
        cols = ["fid BIGSERIAL PRIMARY KEY"]
        if lay.geometry_type:
            cols.append(f"geom geometry({lay.geometry_type}, 4326)")
        cols += lay.column_sql(PG_TYPES, _q)
        if history:
            cols.append("superseded_at TIMESTAMPTZ NOT NULL")
        c.execute(text(f"CREATE TABLE IF NOT EXISTS {self._t(table)} ({', '.join(cols)})"))
        unique = "" if history else "UNIQUE "
        key = "(uid, version)" if history else "(uid)"
        c.execute(text(f"CREATE {unique}INDEX IF NOT EXISTS {_q(table + '_uid')} ON {self._t(table)} {key}"))
        if not history and c.execute(
            text("SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                 "WHERE n.nspname = :s AND p.proname = 'safeground_outside_edit'"),
            {"s": self.schema},
        ).first():  # fmt: skip
            from safeground.storage.outside_edits import attach_sql

            for ddl in attach_sql(_q(self.schema), table):  # a new layer keeps outside edits like the others
                c.execute(text(ddl))
        if lay.geometry_type:
            c.execute(text(f"CREATE INDEX IF NOT EXISTS {_q(table + '_geom')} ON {self._t(table)} USING GIST (geom)"))

    # -- connections and transactions -------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """Inside a transaction read through it (see its own writes); otherwise a fresh snapshot."""
        with self._lock:
            if self._conn is not None:
                yield self._conn
                return
        with self._engine.connect() as c:
            yield c

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.readonly:
            raise StoreUnavailable(f"{self.location} is open read-only", hint="open it for writing to change it")
        with self._lock:
            outer = self._depth == 0
            tx: Transaction
            if outer:
                self._conn = self._engine.connect()
                tx = self._conn.begin()
            else:
                assert self._conn is not None
                tx = self._conn.begin_nested()
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                tx.rollback()
                if outer:
                    self._conn.close()
                    self._conn = None
                raise
            self._depth -= 1
            try:
                tx.commit()
            finally:
                if outer:
                    self._conn.close()
                    self._conn = None

    def _exec(self, sql: str, params: Any = None) -> Any:
        assert self._conn is not None, "writes happen inside transaction()"
        return self._conn.execute(text(sql), params or {})

    # -- writes -----------------------------------------------------------------------
    def _params(self, lay: Layout, rec: Record) -> dict[str, Any]:
        values = lay.encode(rec)
        out = {f"c{i}": _to_db(col.kind, v) for i, (col, v) in enumerate(zip(lay.columns, values, strict=True))}
        if lay.geometry_type:
            g = getattr(rec, "geometry", None)
            out["geom"] = None if g is None else shapely.to_wkb(g, output_dimension=2)
        return out

    def insert_stream(self, lay: Layout, batches: Iterable[RowBatch]) -> int:
        """Bulk insert of validated column values (the import path): no record objects rebuilt."""
        names = [_q(c.name) for c in lay.columns]
        binds = [f":c{i}" for i in range(len(lay.columns))]
        if lay.geometry_type:
            names.insert(0, "geom")
            binds.insert(0, "ST_SetSRID(ST_GeomFromWKB(:geom), 4326)")
        sql = f"INSERT INTO {self._t(lay.table)} ({', '.join(names)}) VALUES ({', '.join(binds)})"
        kinds = [c.kind for c in lay.columns]
        total = 0
        with self.transaction():
            for batch in batches:
                if not len(batch):
                    continue
                wkbs = shapely.to_wkb(batch.geoms, output_dimension=2) if lay.geometry_type else None
                params = []
                for i, row in enumerate(batch.rows()):
                    p = {f"c{k}": _to_db(kinds[k], v) for k, v in enumerate(row)}
                    if wkbs is not None:
                        p["geom"] = wkbs[i]
                    params.append(p)
                for start in range(0, len(params), 5000):
                    self._exec(sql, params[start : start + 5000])
                total += len(batch)
        return total

    def _insert(self, lay: Layout, recs: list[Record], progress: Progress | None) -> int:
        names = [_q(c.name) for c in lay.columns]
        binds = [f":c{i}" for i in range(len(lay.columns))]
        if lay.geometry_type:
            names.insert(0, "geom")
            binds.insert(0, "ST_SetSRID(ST_GeomFromWKB(:geom), 4326)")
        sql = f"INSERT INTO {self._t(lay.table)} ({', '.join(names)}) VALUES ({', '.join(binds)})"
        for start in range(0, len(recs), 5000):
            chunk = recs[start : start + 5000]
            self._exec(sql, [self._params(lay, r) for r in chunk])
            if progress:
                progress(len(chunk))
        return len(recs)

    # -- the steps of versioning (the algorithm is Store.update / Store.apply_versions) ----
    def _lock_version(self, lay: Layout, uid: str) -> int | None:
        # FOR UPDATE: a second editor waits here until this transaction ends, then sees the new version
        row = self._exec(f"SELECT version FROM {self._t(lay.table)} WHERE uid = :uid FOR UPDATE", {"uid": uid}).first()
        return None if row is None else int(row[0])

    def _copy_to_history(self, lay: Layout, uid: str, superseded_at: datetime | None) -> None:
        cols = ", ".join(self._stored_names(lay))
        at = "now()" if superseded_at is None else ":at"
        self._exec(
            f"INSERT INTO {self._t(lay.history_table)} ({cols}, superseded_at) "
            f"SELECT {cols}, {at} FROM {self._t(lay.table)} WHERE uid = :uid",
            {"uid": uid} if superseded_at is None else {"uid": uid, "at": superseded_at},
        )

    def _replace_current(self, lay: Layout, uid: str, record: Record) -> None:
        params = self._params(lay, record)
        sets = [f"{_q(c.name)} = :c{i}" for i, c in enumerate(lay.columns)]
        if lay.geometry_type:
            sets.insert(0, "geom = ST_SetSRID(ST_GeomFromWKB(:geom), 4326)")
        params["uid_key"] = uid
        self._exec(f"UPDATE {self._t(lay.table)} SET {', '.join(sets)} WHERE uid = :uid_key", params)

    def _delete_current(self, lay: Layout, uid: str) -> None:
        self._exec(f"DELETE FROM {self._t(lay.table)} WHERE uid = :uid", {"uid": uid})

    def _drop_history_above(self, lay: Layout, uid: str, version: int) -> None:
        self._exec(
            f"DELETE FROM {self._t(lay.history_table)} WHERE uid = :uid AND version > :v", {"uid": uid, "v": version}
        )

    def _history_versions(self, lay: Layout, uid: str) -> set[int]:
        rows = self._exec(f"SELECT version FROM {self._t(lay.history_table)} WHERE uid = :uid", {"uid": uid})
        return {int(r[0]) for r in rows}

    @staticmethod
    def _stored_names(lay: Layout) -> list[str]:
        """The columns of a layer's row as stored (quoted): the geometry first, then the model's fields."""
        return ([] if not lay.geometry_type else ["geom"]) + [_q(c.name) for c in lay.columns]

    def _insert_history(self, lay: Layout, versions: list[tuple[Record, Any]]) -> None:
        names = [_q(c.name) for c in lay.columns]
        binds = [f":c{i}" for i in range(len(lay.columns))]
        if lay.geometry_type:
            names.insert(0, "geom")
            binds.insert(0, "ST_SetSRID(ST_GeomFromWKB(:geom), 4326)")
        sql = (
            f"INSERT INTO {self._t(lay.history_table)} ({', '.join(names)}, superseded_at) "
            f"VALUES ({', '.join(binds)}, :superseded_at)"
        )
        for start in range(0, len(versions), 5000):
            chunk = versions[start : start + 5000]
            self._exec(sql, [{**self._params(lay, v), "superseded_at": at} for v, at in chunk])

    def current_versions(self, record_type: type[Record]) -> dict[str, int]:
        with self._reading() as c:
            rows = c.execute(text(f"SELECT uid, version FROM {self._t(record_type.LAYER)}")).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def chains(self, record_type: type[Record], uids: list[str]) -> dict[str, list[Record]]:
        lay = layout_of(record_type)
        out: dict[str, list[Record]] = {u: [] for u in uids}
        for table in (lay.history_table, lay.table):
            for rec in self._select(lay, table, "WHERE uid = ANY(:u) ORDER BY version", {"u": list(uids)}):
                out[rec.uid].append(rec)
        return {u: c for u, c in out.items() if c}

    def log_sync(self, peer_id: str, peer_location: str, direction: str, records: int, conflicts: int) -> None:
        with self.transaction():
            self._exec(
                f"INSERT INTO {self._t('safeground_sync_log')} (peer_id, peer_location, direction, records, conflicts) "
                "VALUES (:p, :l, :d, :r, :c)",
                {"p": peer_id, "l": peer_location, "d": direction, "r": records, "c": conflicts},
            )

    # -- reads ------------------------------------------------------------------------
    def _select_sql(self, lay: Layout, table: str, where: str) -> str:
        cols = ([] if not lay.geometry_type else ["ST_AsBinary(geom)"]) + [_q(c.name) for c in lay.columns]
        return f"SELECT {', '.join(cols)} FROM {self._t(table)} {where}"

    def _select(self, lay: Layout, table: str, where: str = "", params: dict[str, Any] | None = None) -> list[Record]:
        with self._reading() as c:
            rows = c.execute(text(self._select_sql(lay, table, where)), params or {}).fetchall()
        if not rows:
            return []
        if lay.geometry_type:
            geoms = shapely.from_wkb([None if r[0] is None else bytes(r[0]) for r in rows])
            return [lay.decode(r[1:], g) for r, g in zip(rows, geoms, strict=True)]
        return [lay.decode(r) for r in rows]

    def get(self, record_type: type[R], uid: str) -> R:
        lay = layout_of(record_type)
        found = self._select(lay, lay.table, "WHERE uid = :uid", {"uid": uid})
        if not found:
            raise RecordNotFound(f"{lay.table}: no record {uid}")
        return found[0]  # type: ignore[return-value]

    def _where(self, lay: Layout, bbox: BBox | None, equals: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        known = {c.name: c for c in lay.columns}
        for i, (key, value) in enumerate(equals.items()):
            if key not in known:
                raise ValueError(f"{lay.table} has no column {key!r}")
            clauses.append(f"{_q(key)} = :e{i}")
            params[f"e{i}"] = _to_db(known[key].kind, value.value if hasattr(value, "value") else value)
        if bbox is not None:
            if not lay.geometry_type:
                raise ValueError(f"{lay.table} has no geometry to filter by bounding box")
            # && uses the index's float4 boxes (rounded outwards); refine on the exact float8 envelope
            env = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
            clauses.append(f"geom && {env} AND ST_Intersects(ST_Envelope(geom), {env})")
            params.update(dict(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True)))
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def find(self, record_type: type[R], *, bbox: BBox | None = None, **equals: Any) -> Iterator[R]:
        lay = layout_of(record_type)
        where, params = self._where(lay, bbox, equals)
        yield from self._select(lay, lay.table, where + " ORDER BY fid", params)  # type: ignore[misc]

    def count(self, record_type: type[Record]) -> int:
        with self._reading() as c:
            return int(c.execute(text(f"SELECT count(*) FROM {self._t(record_type.LAYER)}")).scalar_one())

    def page(
        self, record_type: type[R], *, bbox: BBox | None = None, limit: int = 10, offset: int = 0, **equals: Any
    ) -> list[R]:
        self._check_page(limit, offset)
        lay = layout_of(record_type)
        where, params = self._where(lay, bbox, equals)
        # ORDER BY uid in the column's own collation: the unique uid index gives the order, no sort
        where += " ORDER BY uid LIMIT :page_limit OFFSET :page_offset"
        return self._select(lay, lay.table, where, {**params, "page_limit": limit, "page_offset": offset})  # type: ignore[return-value]

    def vector_tile(self, record_type: type[Record], z: int, x: int, y: int, *, extent: int, buffer: int) -> bytes:
        """The layer's current records in the Web Mercator tile z/x/y as a Mapbox Vector Tile layer named after
        it, cut by PostGIS (``ST_AsMVT``): for a layer its reader sees exactly as stored. The features are those
        whose envelope meets the tile (what a ``bbox`` selects), each with its uid as ``fid`` and its columns as
        text, numbers and booleans the way the API writes them (dates ISO 8601, times in UTC with ``Z``)."""
        lay = layout_of(record_type)
        if not lay.geometry_type:
            raise ValueError(f"{lay.table} has no geometry to draw as tiles")
        props: list[str] = []
        for column in lay.columns:
            col = _q(column.name)
            if column.kind == "date":
                props.append(f"to_char({col}, 'YYYY-MM-DD') AS {col}")
            elif column.kind == "datetime":
                props.append(f"""to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS {col}""")
            else:
                props.append(col)
        sql = (  # a layer may have a column named like any alias: the row is named sg_tile_rows, q
            f"WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e), "
            f"sg_tile_rows AS (SELECT uid AS fid, {', '.join(props)}, "
            f"ST_AsMVTGeom(ST_Transform(geom, 3857), env.e, :extent, :buffer, true) AS mvt_geom "
            f"FROM {self._t(lay.table)}, env "
            f"WHERE geom && ST_Transform(env.e, 4326) AND ST_Intersects(ST_Envelope(geom), ST_Transform(env.e, 4326)) "
            f"ORDER BY uid) "
            f"SELECT ST_AsMVT(q, :name, :extent, 'mvt_geom') "
            f"FROM (SELECT * FROM sg_tile_rows WHERE mvt_geom IS NOT NULL) AS q"
        )
        params = {"z": z, "x": x, "y": y, "extent": extent, "buffer": buffer, "name": lay.table}
        with self._reading() as c:
            data = c.execute(text(sql), params).scalar_one()
        return bytes(data) if data is not None else b""

    def count_matching(self, record_type: type[Record], *, bbox: BBox | None = None, **equals: Any) -> int:
        lay = layout_of(record_type)
        where, params = self._where(lay, bbox, equals)
        with self._reading() as c:
            return int(c.execute(text(f"SELECT count(*) FROM {self._t(lay.table)} {where}"), params).scalar_one())

    def history(self, record_type: type[R], uid: str) -> list[R]:
        lay = layout_of(record_type)
        old = self._select(lay, lay.history_table, "WHERE uid = :uid ORDER BY version", {"uid": uid})
        try:
            current = [self.get(record_type, uid)]
        except RecordNotFound:
            if not old:
                raise
            current = []  # deleted (an approved deletion): its versions stay, the last one is what was deleted
        return [*old, *current]  # type: ignore[list-item]

    def layer_state(self, record_type: type[Record]) -> tuple[int, ...]:
        lay = layout_of(record_type)
        if not self._has_table(lay.table):
            return (0, 0, 0, 0)
        with self._reading() as c:
            row = c.execute(
                text(
                    f"SELECT (SELECT count(*) FROM {self._t(lay.table)}), "
                    f"(SELECT coalesce(sum(version), 0) FROM {self._t(lay.table)}), "
                    f"(SELECT coalesce(max(fid), 0) FROM {self._t(lay.table)}), "
                    f"(SELECT count(*) FROM {self._t(lay.history_table)}), "
                    f"(SELECT coalesce(max(fid), 0) FROM {self._t(lay.history_table)})"
                )
            ).fetchone()
        return tuple(int(v) for v in row) if row is not None else (0, 0, 0, 0)

    def layer_states(self, record_types: Sequence[type[Record]]) -> dict[str, tuple[int, ...]]:
        """One round trip for all the layers (a dashboard asks on every request)."""
        with self._reading() as c:
            have = {
                r[0]
                for r in c.execute(
                    text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": self.schema}
                )
            }
            parts = []
            for cls in record_types:
                lay = layout_of(cls)
                if lay.table not in have or lay.history_table not in have:
                    continue
                t, h = self._t(lay.table), self._t(lay.history_table)
                parts.append(
                    f"SELECT '{lay.table}', (SELECT count(*) FROM {t}), (SELECT coalesce(sum(version), 0) FROM {t}), "
                    f"(SELECT coalesce(max(fid), 0) FROM {t}), (SELECT count(*) FROM {h}), "
                    f"(SELECT coalesce(max(fid), 0) FROM {h})"
                )
            rows = c.execute(text(" UNION ALL ".join(parts))).fetchall() if parts else []
        found = {str(r[0]): tuple(int(v) for v in r[1:]) for r in rows}
        return {cls.LAYER: found.get(layout_of(cls).table, (0, 0, 0, 0)) for cls in record_types}

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
        known = {c.name: c for c in lay.columns}
        with_geom = bool(lay.geometry_type) and geometry
        cols = ["fid", *(["ST_AsBinary(geom)"] if with_geom else []), *map(_q, columns)]
        sql = f"SELECT {', '.join(cols)} FROM {self._t(lay.table)} WHERE fid > :last ORDER BY fid LIMIT :n"
        names = ["fid", *(["geom"] if with_geom else []), *columns]
        last = -(2**63)
        while True:
            with self._reading() as c:
                rows = c.execute(text(sql), {"last": last, "n": chunk_rows}).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            df = pd.DataFrame.from_records(rows, columns=names).drop(columns="fid")
            del rows
            for name in columns:  # the same column types and text as the GeoPackage frame
                if known[name].kind in ("date", "datetime"):
                    df[name] = df[name].map(_iso_text)
            if with_geom:
                geoms = shapely.from_wkb([None if g is None else bytes(g) for g in df.pop("geom")])
                yield gpd.GeoDataFrame(df, geometry=geoms, crs=4326)
            else:
                yield gpd.GeoDataFrame(df)
            if len(df) < chunk_rows:
                return

    def version_rows(self, record_type: type[Record], columns: Sequence[str]) -> list[tuple[Any, ...]]:
        lay = layout_of(record_type)
        lay.require_columns(columns)
        cols = ", ".join(map(_q, columns))
        sql = f"SELECT {cols} FROM {self._t(lay.history_table)} UNION ALL SELECT {cols} FROM {self._t(lay.table)}"
        with self._reading() as c:
            return [tuple(r) for r in c.execute(text(sql)).fetchall()]

    def read_frame(self, record_type: type[Record], *, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        lay = layout_of(record_type)
        where, params = self._where(lay, bbox, {})
        with self._reading() as c:
            rows = c.execute(text(self._select_sql(lay, lay.table, where + " ORDER BY fid")), params).fetchall()
        names = (["geom"] if lay.geometry_type else []) + lay.column_names
        df = pd.DataFrame.from_records(rows, columns=names)
        for col in lay.columns:  # the same column types and text as the GeoPackage frame
            if col.kind in ("date", "datetime") and len(df):
                df[col.name] = df[col.name].map(_iso_text)
        if not lay.geometry_type:
            return gpd.GeoDataFrame(df)
        geoms = shapely.from_wkb([None if g is None else bytes(g) for g in df.pop("geom")])
        return gpd.GeoDataFrame(df, geometry=geoms, crs=4326)

    def existing_uids(self, record_type: type[Record], uids: list[str]) -> set[str]:
        if not uids:
            return set()
        with self._reading() as c:
            rows = c.execute(
                text(f"SELECT uid FROM {self._t(record_type.LAYER)} WHERE uid = ANY(:u)"), {"u": list(uids)}
            ).fetchall()
        return {r[0] for r in rows}

    def max_uid_number(self, record_type: type[Record]) -> int:
        prefix = record_type.UID_PREFIX + "-"
        with self._reading() as c:
            v = c.execute(
                text(
                    f"SELECT max(substr(uid, :n)::bigint) FROM {self._t(record_type.LAYER)} "
                    f"WHERE uid ~ ('^' || :p || '[0-9]{{1,{UID_DIGITS}}}$')"  # the generated form only
                ),
                {"n": len(prefix) + 1, "p": re.escape(prefix)},
            ).scalar_one()
        return int(v or 0)

    # -- metadata ---------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self._reading() as c:
            row = c.execute(text(f"SELECT value FROM {self._t('safeground_meta')} WHERE key = :k"), {"k": key}).first()
        return default if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._exec(
                f"INSERT INTO {self._t('safeground_meta')} VALUES (:k, :v) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                {"k": key, "v": value},
            )

    def drop(self) -> None:
        """Remove this store's schema and everything in it, and close the store (tests, re-generation)."""
        with self._engine.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {_q(self.schema)} CASCADE"))
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()
