"""History for edits made by other programs, on PostGIS: one trigger function for every record table.

The README invites opening the store in QGIS. A status changed there left no
history, and SafeGround's own ``update`` (which raises the version and writes
history itself) never saw it. SafeGround never updates a record without raising
its version, so an update that keeps the version came from outside: the trigger
copies the previous row into ``<layer>_history`` and makes the edit a new
version attributed to "outside SafeGround". The GeoPackage twin is in
``gpkg_migrations.outside_edit_ddl``.
"""

from __future__ import annotations

from safeground.storage.gpkg_migrations import OUTSIDE_AUTHOR, OUTSIDE_REASON


def function_sql(schema: str) -> str:
    """The trigger function in ``schema`` (quoted): columns are looked up per edit, so tables that gain
    columns later need nothing new."""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.safeground_outside_edit() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    cols text;
    vals text;
BEGIN
    IF NEW.version IS DISTINCT FROM OLD.version OR NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;  -- SafeGround's own update, or a save that changed nothing
    END IF;
    SELECT string_agg(quote_ident(h.column_name), ', ' ORDER BY h.ordinal_position),
           string_agg('($1).' || quote_ident(h.column_name), ', ' ORDER BY h.ordinal_position)
      INTO cols, vals
      FROM information_schema.columns h
      JOIN information_schema.columns t
        ON t.table_schema = h.table_schema AND t.table_name = TG_TABLE_NAME AND t.column_name = h.column_name
     WHERE h.table_schema = TG_TABLE_SCHEMA AND h.table_name = TG_TABLE_NAME || '_history'
       AND h.column_name NOT IN ('fid', 'superseded_at');
    EXECUTE format('INSERT INTO %I.%I (%s, superseded_at) SELECT %s, now()',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME || '_history', cols, vals) USING OLD;
    NEW.version := OLD.version + 1;
    NEW.entered_at := date_trunc('second', now());
    NEW.entered_by := '{OUTSIDE_AUTHOR}';
    NEW.change_reason := '{OUTSIDE_REASON}';
    RETURN NEW;
END
$fn$
"""


def attach_sql(schema: str, table: str) -> list[str]:
    """The trigger on one record table (``table`` unquoted; ``schema`` quoted)."""
    name = f'"safeground_outside_edit_{table}"'
    return [
        f'DROP TRIGGER IF EXISTS {name} ON {schema}."{table}"',
        f'CREATE TRIGGER {name} BEFORE UPDATE ON {schema}."{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION {schema}.safeground_outside_edit()",
    ]
