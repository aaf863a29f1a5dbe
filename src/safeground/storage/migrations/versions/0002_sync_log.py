"""Field sync: the server's log of every sync session, and a stable store identifier.

A national authority must be able to say which field laptop sent or received
which records and when (``safeground sync push|pull`` writes one row per
session). ``store_id`` identifies the server store to field stores, so a field
GeoPackage synced with one server cannot silently be synced with another.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from safeground.storage.migrations import store_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = store_schema()
    op.execute(
        f"CREATE TABLE IF NOT EXISTS {schema}.safeground_sync_log ("
        "id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now(), peer_id TEXT NOT NULL, "
        "peer_location TEXT, direction TEXT NOT NULL CHECK (direction IN ('push', 'pull')), "
        "records INTEGER NOT NULL, conflicts INTEGER NOT NULL)"
    )
    op.execute(
        f"INSERT INTO {schema}.safeground_meta (key, value) VALUES ('store_id', gen_random_uuid()::text) "
        "ON CONFLICT (key) DO NOTHING"
    )


def downgrade() -> None:
    schema = store_schema()
    op.execute(f"DROP TABLE IF EXISTS {schema}.safeground_sync_log")
    op.execute(f"DELETE FROM {schema}.safeground_meta WHERE key = 'store_id'")
