"""History kept for edits made outside SafeGround (QGIS, ogr2ogr, plain SQL): a trigger on every record table.

An update that leaves ``version`` as it was cannot come from SafeGround (its
``update`` always raises it): the trigger keeps the previous row in the history
table and makes the edit a new version by "outside SafeGround".

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from safeground.storage.migrations import store_schema
from safeground.storage.outside_edits import attach_sql, function_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _record_tables() -> list[str]:
    """Tables with a ``<name>_history`` twin and a version column: the record layers of this store."""
    rows = op.get_bind().execute(
        text(
            "SELECT t.table_name FROM information_schema.columns t WHERE t.table_schema = :s "
            "AND t.column_name = 'version' AND EXISTS (SELECT 1 FROM information_schema.tables h "
            "WHERE h.table_schema = :s AND h.table_name = t.table_name || '_history')"
        ),
        {"s": store_schema(quoted=False)},
    )
    return sorted(r[0] for r in rows)


def upgrade() -> None:
    schema = store_schema()
    op.execute(function_sql(schema))
    for table in _record_tables():
        for ddl in attach_sql(schema, table):
            op.execute(ddl)


def downgrade() -> None:
    schema = store_schema()
    for table in _record_tables():
        op.execute(f'DROP TRIGGER IF EXISTS "safeground_outside_edit_{table}" ON {schema}."{table}"')
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.safeground_outside_edit()")
