"""Schema migrations of the PostGIS store, run with Alembic, one store schema at a time.

Every SafeGround store on a server is one PostgreSQL schema (``?schema=district7``),
so every migration runs *per schema*: Alembic's version table
(``alembic_version``) lives inside the store's own schema, and the revisions
qualify every table with :func:`store_schema`. Two districts in one database can
therefore sit at different revisions and be upgraded one after the other.

The environment is shipped inside the package (``env.py`` and ``versions/``
next to this file), so ``safeground db upgrade`` works from an installed wheel
without an ``alembic.ini``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config

from safeground.storage.base import Store

HERE = Path(__file__).resolve().parent


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def alembic_config(connection: Any, schema: str) -> Config:
    """An Alembic configuration bound to an open SQLAlchemy connection and one store schema."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    cfg.attributes["schema"] = schema
    return cfg


def store_schema(quoted: bool = True) -> str:
    """The schema the running migration upgrades (for use inside revision files)."""
    from alembic import context

    schema = context.config.attributes["schema"]
    return _q(schema) if quoted else schema


def steps_for(store: Store) -> list[tuple[str, str]]:
    """Every schema step of a store's backend, oldest first: (revision, what it does)."""
    return store.migration_steps()
