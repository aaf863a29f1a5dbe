"""Plain tables kept beside the layers: accounts, the audit log, the review queue.

They are not records (no versions, no geometry, never exported, never synced to a field copy) but
they belong with the store, so one backup holds the record, who may change it and who did. They
are written through SQLAlchemy Core, one table definition for SQLite (the GeoPackage file) and
PostgreSQL (the store's schema), and created by their first write, never by a read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, inspect, text

from safeground.errors import SafeGroundError


def engine_for(location: str) -> Engine:
    """An engine on the store's database, with the store's PostGIS schema as the default schema."""
    from safeground.storage import is_store_url

    if is_store_url(location):
        from safeground.storage.postgis import _split_url

        url, schema = _split_url(location.replace("postgres://", "postgresql://", 1))
        return create_engine(url, pool_pre_ping=True).execution_options(schema_translate_map={None: schema})
    if not Path(location).exists():
        raise SafeGroundError(f"no store at {location}", hint="create it first: safeground init --store FILE --area …")
    eng = create_engine(f"sqlite:///{location}", connect_args={"timeout": 30})

    # pysqlite opens transactions lazily; an append to a chain must hold the write lock from its first read
    @event.listens_for(eng, "connect")
    def _no_autobegin(dbapi_con: Any, _rec: Any) -> None:
        dbapi_con.isolation_level = None

    @event.listens_for(eng, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return eng


def location_of(store: Any) -> str:
    """The full location of an open store (a PostGIS store shows a password-free ``location``)."""
    engine = getattr(store, "_engine", None)
    if engine is not None and getattr(store, "schema", None):
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return f"{url}{'&' if '?' in url else '?'}schema={store.schema}"
    return str(store.location)


def schema_of(engine: Engine) -> str | None:
    """The PostGIS schema the engine writes to (None for a GeoPackage)."""
    return (engine.get_execution_options().get("schema_translate_map") or {}).get(None)


def has_tables(engine: Engine, metadata: MetaData) -> bool:
    insp = inspect(engine)
    return all(insp.has_table(t.name, schema=schema_of(engine)) for t in metadata.sorted_tables)


def lock_exclusive(conn: Connection, table: str) -> None:
    """Serialise writers of a table for the rest of the transaction (SQLite's BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f'LOCK TABLE "{schema_of(conn.engine)}"."{table}" IN EXCLUSIVE MODE'))


class SideTables:
    """A repository of plain tables beside a store's layers: made by the first write, never by a read.

    Subclasses name their tables in ``METADATA``; ``_read`` gives None while none was ever written (a
    listing then writes nothing), ``_tx`` makes the tables if needed and opens one transaction, with the
    writers of ``LOCKED`` serialised (an append-only chain needs one appender at a time).
    """

    METADATA: MetaData
    LOCKED: str | None = None

    def __init__(self, location: str) -> None:
        self.location = location
        self._engine = engine_for(location)
        self._ready = has_tables(self._engine, self.METADATA)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Connection | None]:
        if not self._ready:
            self._ready = has_tables(self._engine, self.METADATA)  # made since by another process
        if not self._ready:
            yield None
            return
        with self._engine.connect() as c:
            yield c

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        if not self._ready:
            self.METADATA.create_all(self._engine, checkfirst=True)
            self._ready = True
        with self._engine.begin() as c:
            if self.LOCKED:
                lock_exclusive(c, self.LOCKED)
            yield c
