"""The tables of a GeoPackage (OGC 12-128r18) that SafeGround writes: the core tables every
GeoPackage has (``gpkg_spatial_ref_sys``, ``gpkg_contents``, ``gpkg_geometry_columns``,
``gpkg_extensions``), the SRS rows the spec requires, and one feature or attribute table per
record layer with its history twin.

Kept apart from the store class so the file layout a GeoPackage reader relies on is read in one
place; ``gpkg_migrations`` changes it step by step afterwards.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from safeground.storage.gpkg_rtree import rtree_ddl
from safeground.storage.schema import GPKG_TYPES, Layout

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400  # GeoPackage 1.4.0

WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

CORE_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
        organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
        definition TEXT NOT NULL, scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
    """CREATE TABLE IF NOT EXISTS safeground_meta (
        key TEXT NOT NULL PRIMARY KEY, value TEXT)""",
]

SRS_ROWS = [
    (
        "Undefined Cartesian SRS",
        -1,
        "NONE",
        -1,
        "undefined",
        "undefined Cartesian coordinate reference system",
    ),
    (
        "Undefined geographic SRS",
        0,
        "NONE",
        0,
        "undefined",
        "undefined geographic coordinate reference system",
    ),
    (
        "WGS 84 geodetic",
        4326,
        "EPSG",
        4326,
        WGS84_WKT,
        "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
    ),
]


def q(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def now_iso() -> str:
    """Now as GeoPackage writes DATETIME values (ISO 8601, UTC, milliseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso(moment: datetime) -> str:
    """A moment as GeoPackage writes DATETIME values."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def create_layer(c: sqlite3.Connection, lay: Layout, table: str, title: str, *, history: bool) -> None:
    """A record layer as a GeoPackage table: a feature table (geometry column, R-tree index and its
    triggers) or an attribute table, registered in ``gpkg_contents``; or its history twin, which
    also carries ``superseded_at``."""
    cols = ['"fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL']
    if lay.geometry_type:
        cols.append(f'"geom" {lay.geometry_type}')
    cols += lay.column_sql(GPKG_TYPES, q)
    if history:
        cols.append('"superseded_at" DATETIME NOT NULL')
    c.execute(f"CREATE TABLE {q(table)} ({', '.join(cols)})")
    if history:
        c.execute(f"CREATE INDEX {q(table + '_uid')} ON {q(table)} (uid, version)")
    else:
        c.execute(f"CREATE UNIQUE INDEX {q(table + '_uid')} ON {q(table)} (uid)")
    data_type = "features" if lay.geometry_type else "attributes"
    c.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change, srs_id) VALUES (?,?,?,?,?,?)",
        (table, data_type, table, title, now_iso(), 4326 if lay.geometry_type else None),
    )
    if lay.geometry_type:
        c.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?,?,?,?,0,0)",
            (table, "geom", lay.geometry_type, 4326),
        )
        c.execute(
            "INSERT INTO gpkg_extensions VALUES (?,?,?,?,?)",
            (
                table,
                "geom",
                "gpkg_rtree_index",
                "http://www.geopackage.org/spec120/#extension_rtree",
                "write-only",
            ),
        )
        for ddl in rtree_ddl(table):
            c.execute(ddl)
