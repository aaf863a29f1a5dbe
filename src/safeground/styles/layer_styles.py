"""Write the symbology into the store's ``layer_styles`` table, where QGIS looks for a default style.

QGIS (and GDAL) keep a layer's styles in a table named ``layer_styles`` beside the data: in the
GeoPackage file itself, or in the PostgreSQL database. A layer opened in QGIS from a store with
these rows comes up in the IMSMA symbology, with nothing to set by hand. Writing again replaces
SafeGround's own rows (``owner = 'safeground'``) and leaves styles a user saved from QGIS alone.
"""

from __future__ import annotations

from sqlalchemy import text

from safeground.model.base import RECORD_TYPES
from safeground.storage.side_tables import engine_for, schema_of
from safeground.styles.symbology import LAYER_STYLES
from safeground.styles.writers import to_qml, to_sld

OWNER = "safeground"
STYLE_NAME = "SafeGround (IMSMA)"

_GPKG_DDL = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""
_PG_DDL = """CREATE TABLE IF NOT EXISTS public.layer_styles (
  id SERIAL PRIMARY KEY, f_table_catalog varchar, f_table_schema varchar, f_table_name varchar,
  f_geometry_column varchar, stylename text, styleqml xml, stylesld xml, useasdefault boolean, description text,
  owner varchar(63) DEFAULT CURRENT_USER, ui xml, update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar)"""


def write_layer_styles(location: str) -> list[str]:
    """Store the default style of every styled layer the store has; the layers styled."""
    eng = engine_for(location)
    schema = schema_of(eng)
    layers = [name for name in LAYER_STYLES if name in RECORD_TYPES and RECORD_TYPES[name].GEOMETRY]
    try:
        with eng.begin() as c:
            if c.dialect.name == "postgresql":
                # QGIS keeps the styles of every schema in one public table; several stores may write it at once
                c.execute(text("SELECT pg_advisory_xact_lock(hashtext('safeground.layer_styles'))"))
                c.execute(text(_PG_DDL))
                catalog = c.execute(text("SELECT current_database()")).scalar()
                table, cols = "public.layer_styles", "stylename, styleqml, stylesld, useasdefault"
                qml_cast, sld_cast = "XMLPARSE(DOCUMENT :qml)", "XMLPARSE(DOCUMENT :sld)"
            else:
                c.execute(text(_GPKG_DDL))
                c.execute(text(
                    "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
                    "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles')"
                ))  # fmt: skip
                catalog, table, cols = "", "layer_styles", "styleName, styleQML, styleSLD, useAsDefault"
                qml_cast, sld_cast = ":qml", ":sld"
            c.execute(text(f"DELETE FROM {table} WHERE owner = :owner AND f_table_schema = :schema"),
                      {"owner": OWNER, "schema": schema or ""})  # fmt: skip
            for name in layers:
                style = LAYER_STYLES[name]
                c.execute(
                    text(f"INSERT INTO {table} (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                         f"{cols}, description, owner) VALUES (:cat, :schema, :name, 'geom', :style, {qml_cast}, "
                         f"{sld_cast}, TRUE, :title, :owner)"),
                    {"cat": catalog, "schema": schema or "", "name": name, "style": STYLE_NAME,
                     "qml": to_qml(style), "sld": to_sld(style),
                     "title": style.title, "owner": OWNER},
                )  # fmt: skip
    finally:
        eng.dispose()
    return layers
