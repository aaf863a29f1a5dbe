"""Alembic environment for the PostGIS store: always online, always one schema.

The caller (``safeground.storage.postgis``) passes the open connection and the
schema in ``config.attributes``; the version table is kept in that schema.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running the alembic command by hand
    raise RuntimeError("run SafeGround migrations with 'safeground db upgrade --store postgresql://…?schema=…'")
schema = context.config.attributes["schema"]

context.configure(
    connection=connection,
    target_metadata=None,
    version_table_schema=schema,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
