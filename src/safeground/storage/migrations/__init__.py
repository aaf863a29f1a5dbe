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


def steps_for(store: Any) -> list[tuple[str, str]]:
    """Every schema step of a store's backend, oldest first: (revision, what it does)."""
    from safeground.storage import gpkg_migrations
    from safeground.storage.postgis import PostGISStore

    if not isinstance(store, PostGISStore):
        base = [(gpkg_migrations.BASELINE, "baseline: the layout SafeGround 0.1 wrote")]
        return base + [(v, doc) for v, doc, _ in gpkg_migrations.MIGRATIONS]
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(None, store.schema))
    revs = list(reversed(list(script.walk_revisions())))
    return [(r.revision, (r.doc or "").strip().splitlines()[0]) for r in revs]
