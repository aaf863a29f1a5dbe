"""Plain tables kept beside the layers: accounts, the audit log, the review queue.

They are not records (no versions, no geometry, never exported, never synced to a field copy) but
they belong with the store, so one backup holds the record, who may change it and who did. They
are written through SQLAlchemy Core, one table definition for SQLite (the GeoPackage file) and
PostgreSQL (the store's schema), and created by their first write, never by a read. A table made by
an older SafeGround gets the nullable columns added since when it is opened (:func:`add_missing_columns`),
so an old store keeps working: its old rows read the new columns as NULL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError

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


def _columns(conn: Connection, table: str, schema: str | None) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table, schema=schema)}


def add_missing_columns(engine: Engine, metadata: MetaData) -> list[str]:
    """Add to the tables that exist the nullable columns their definition gained since they were made.

    Only a nullable column without a default is added: old rows then hold NULL, which the code reads as "as
    before" (a token with no expiry, acting with its user's role). A missing column that may not be NULL
    cannot be made up for the old rows, so it is a clear error. The check is repeated inside the writing
    transaction (SQLite's BEGIN IMMEDIATE; PostgreSQL's ``ADD COLUMN IF NOT EXISTS``), so two servers opening
    the same old store at once add each column once. Answers the ``table.column`` names added."""
    schema = schema_of(engine)
    insp = inspect(engine)
    todo = []
    for table in metadata.sorted_tables:
        if not insp.has_table(table.name, schema=schema):
            continue
        have = {c["name"] for c in insp.get_columns(table.name, schema=schema)}
        for col in table.columns:
            if col.name in have:
                continue
            if not col.nullable or col.primary_key:
                raise SafeGroundError(
                    f"the table {table.name} lacks the column {col.name}, which may not be empty",
                    hint="this store was made by a SafeGround this version cannot upgrade; restore it into a new "
                    "store with the version that made it, or report this",
                )
            todo.append((table, col))
    if not todo:
        return []
    added = []
    try:
        with engine.begin() as c:
            for table, col in todo:
                kind = col.type.compile(dialect=c.dialect)
                if c.dialect.name == "postgresql":
                    where = f'"{schema}"."{table.name}"'
                    c.execute(text(f'ALTER TABLE {where} ADD COLUMN IF NOT EXISTS "{col.name}" {kind}'))
                elif col.name not in _columns(c, table.name, None):  # another process may have added it meanwhile
                    c.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {kind}'))
                added.append(f"{table.name}.{col.name}")
    except OperationalError as exc:
        raise SafeGroundError(
            f"the tables of {engine.url.render_as_string(hide_password=True)} need the new column(s) "
            f"{', '.join(f'{t.name}.{c.name}' for t, c in todo)} but could not be changed: {exc.orig}",
            hint="open the store once where it can be written (not read-only, with a database user who may ALTER "
            "its tables), then use it as before",
        ) from exc
    return added


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
        if self._ready:
            add_missing_columns(self._engine, self.METADATA)

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
            if self._ready:
                add_missing_columns(self._engine, self.METADATA)
        if not self._ready:
            yield None
            return
        with self._engine.connect() as c:
            yield c

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        if not self._ready:
            self.METADATA.create_all(self._engine, checkfirst=True)
            add_missing_columns(self._engine, self.METADATA)  # a table of an older version, beside new ones
            self._ready = True
        with self._engine.begin() as c:
            if self.LOCKED:
                lock_exclusive(c, self.LOCKED)
            yield c
