"""Bulk writes into a GeoPackage: the import path, a million mines in one transaction.

Apart from the store class because it bypasses the row-by-row path on purpose (staging tables, the
R-tree trigger dropped and the index packed afterwards) and must stay readable as one piece.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import numpy as np
import shapely

from safeground.storage import gpkg_binary, gpkg_rtree
from safeground.storage.base import RowBatch
from safeground.storage.gpkg_tables import q
from safeground.storage.schema import Layout


def insert_stream(con: sqlite3.Connection, lay: Layout, batches: Iterable[RowBatch]) -> int:
    """Bulk insert of validated column values of one layer, batch by batch, with the R-tree built at
    the end; the caller holds the transaction open (``GeoPackageStore.insert_stream``).

    Binding every value of every row costs Python more than SQLite takes to
    write it. So each distinct combination of attribute values is staged once
    in a temporary table, each row only as (fid, geometry, uid, combination),
    and one ``INSERT … SELECT`` per batch joins them inside SQLite.

    The R-tree insert trigger calls Python functions for every row; during a
    bulk insert it is dropped, and the index is filled afterwards: packed in one
    go when the layer's index was empty (``gpkg_rtree.bulk_load``), entry by
    entry otherwise. Everything, the staging tables and the trigger included,
    happens inside the caller's transaction, so a rollback restores the layer as it was.
    """
    keep = [i for i, c in enumerate(lay.column_names) if c != "uid"]
    attrs = [lay.column_names[i] for i in keep]
    attr_cols = ", ".join(map(q, attrs))
    total = 0
    # a bigger page cache for the bulk write: a uid index of the file's own uids is written all over
    cache = con.execute("PRAGMA cache_size").fetchone()[0]
    con.execute("PRAGMA cache_size=-65536")
    con.execute(f"CREATE TEMP TABLE sg_combos (id INTEGER PRIMARY KEY, {attr_cols})")
    con.execute("CREATE TEMP TABLE sg_rows (fid INTEGER PRIMARY KEY, geom BLOB, uid TEXT, num INTEGER, cid INTEGER)")
    stage_combo = f"INSERT INTO temp.sg_combos VALUES (?, {', '.join('?' * len(attrs))})"
    geom_col = "geom, " if lay.geometry_type else ""
    move = (
        f"INSERT INTO {q(lay.table)} (fid, {geom_col}uid, {attr_cols}) "
        f"SELECT r.fid, {'r.geom, ' if lay.geometry_type else ''}coalesce(r.uid, printf('%s-%05d', ?, r.num)), "
        f"{', '.join('c.' + q(a) for a in attrs)} "
        "FROM temp.sg_rows r JOIN temp.sg_combos c ON c.id = r.cid ORDER BY r.fid"
    )
    staged = 0
    rtree = f"rtree_{lay.table}_geom"
    trigger = f"{rtree}_insert"
    ddl = None
    bulk = False
    if lay.geometry_type:
        ddl = con.execute("SELECT sql FROM sqlite_master WHERE type='trigger' AND name=?", (trigger,)).fetchone()
        bulk = gpkg_rtree.is_empty(con, rtree)
        if ddl:
            con.execute(f"DROP TRIGGER {q(trigger)}")
    seq = con.execute("SELECT seq FROM sqlite_sequence WHERE name=?", (lay.table,)).fetchone()
    top = con.execute(f"SELECT max(fid) FROM {q(lay.table)}").fetchone()[0]
    start = max(seq[0] if seq else 0, top or 0) + 1
    all_ids: list[np.ndarray] = []
    all_bounds: list[np.ndarray] = []
    for batch in batches:
        if not len(batch):
            continue
        if len(batch.combos) > staged:
            new = range(staged, len(batch.combos))
            rows = ((k, batch.combos[k]) for k in new)
            con.executemany(
                stage_combo,
                ([k, *((c[i] for i in keep) if c is not None else [None] * len(keep))] for k, c in rows),
            )
            staged = len(batch.combos)
        fids = np.arange(start, start + len(batch), dtype=np.int64)
        start += len(batch)
        if lay.geometry_type:
            garr = np.asarray(batch.geoms, dtype=object)
            blobs = gpkg_binary.encode(garr)
        else:
            blobs = [None] * len(batch)
        if batch.uids is None:  # generated uids: staged as numbers, written by SQLite's printf
            con.executemany(
                "INSERT INTO temp.sg_rows (fid, geom, num, cid) VALUES (?, ?, ?, ?)",
                zip(fids.tolist(), blobs, batch.uid_numbers.tolist(), batch.combo.tolist(), strict=True),  # type: ignore[union-attr]
            )
        else:
            con.executemany(
                "INSERT INTO temp.sg_rows (fid, geom, uid, cid) VALUES (?, ?, ?, ?)",
                zip(fids.tolist(), blobs, batch.uids, batch.combo.tolist(), strict=True),
            )
        con.execute(move, (batch.uid_prefix,))
        con.execute("DELETE FROM temp.sg_rows")
        if lay.geometry_type:
            present = ~(shapely.is_missing(garr) | shapely.is_empty(garr))
            ids, bounds = fids[present], shapely.bounds(garr[present])
            if bulk:
                all_ids.append(ids)
                all_bounds.append(bounds)
            else:
                con.executemany(
                    f"INSERT INTO {q(rtree)} VALUES (?,?,?,?,?)",
                    zip(ids.tolist(), *(bounds[:, k].tolist() for k in (0, 2, 1, 3)), strict=True),
                )
        total += len(batch)
    con.execute("DROP TABLE temp.sg_rows")
    con.execute("DROP TABLE temp.sg_combos")
    if bulk and all_ids:
        gpkg_rtree.bulk_load(con, rtree, np.concatenate(all_ids), np.concatenate(all_bounds))
    if ddl:
        con.execute(ddl[0])
    con.execute(f"PRAGMA cache_size={int(cache)}")
    if total:
        con.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT ?, 0 WHERE NOT EXISTS "
            "(SELECT 1 FROM sqlite_sequence WHERE name = ?)",
            (lay.table, lay.table),
        )
        con.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (start - 1, lay.table))
    return total
