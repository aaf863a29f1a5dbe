"""The GeoPackage R-tree spatial index extension: its table and triggers (``rtree_ddl``), the SQL
functions the triggers call (``register_functions``), and bulk loading.

Bulk loading: a million envelopes packed at once instead of inserted one by one.

SQLite's R*-tree inserts one entry at a time (about 25 µs each, with node
splits and reinsertions); GDAL builds its index in bulk for the same reason.
When an import fills an empty layer, SafeGround packs the envelopes into full
nodes along a Z-order curve (sort-tile packing) and writes the R-tree's own
shadow tables (``_node``, ``_rowid``, ``_parent``) in the format SQLite's
rtree module defines; ``rtreecheck()`` verifies the result in the tests.

Node layout (sqlite/ext/rtree): a node is a blob of fixed size; bytes 0–1 hold
the tree depth (root only), bytes 2–3 the number of cells, then each cell is an
8-byte big-endian id followed by minx, maxx, miny, maxy as big-endian float32,
rounded outwards so the box still contains the geometry.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np

from safeground.storage import gpkg_binary

_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _outward(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo32 = lo.astype(np.float32)
    hi32 = hi.astype(np.float32)
    lo32 = np.where(lo32.astype(np.float64) > lo, np.nextafter(lo32, np.float32(-np.inf)), lo32)
    hi32 = np.where(hi32.astype(np.float64) < hi, np.nextafter(hi32, np.float32(np.inf)), hi32)
    return lo32, hi32


def _zorder(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    def spread(v: np.ndarray) -> np.ndarray:
        span = float(np.ptp(v)) or 1.0
        u = ((v - v.min()) / span * 65535).astype(np.uint64)
        u = (u | (u << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
        u = (u | (u << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
        u = (u | (u << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        u = (u | (u << np.uint64(2))) & np.uint64(0x3333333333333333)
        return (u | (u << np.uint64(1))) & np.uint64(0x5555555555555555)

    return spread(x) | (spread(y) << np.uint64(1))


def is_empty(con: sqlite3.Connection, rtree: str) -> bool:
    return con.execute(f"SELECT count(*) FROM {_q(rtree + '_rowid')}").fetchone()[0] == 0


def bulk_load(con: sqlite3.Connection, rtree: str, ids: np.ndarray, bounds: np.ndarray) -> None:
    """Fill an empty R-tree with (id, minx, miny, maxx, maxy) rows; runs inside the caller's transaction."""
    if len(ids) == 0:
        return
    node_size = con.execute(f"SELECT length(data) FROM {_q(rtree + '_node')} WHERE nodeno = 1").fetchone()[0]
    fanout = (node_size - 4) // _CELL.itemsize
    order = np.argsort(_zorder((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2), kind="stable")
    ids = np.asarray(ids, dtype=np.int64)[order]
    minx, maxx = _outward(bounds[order, 0], bounds[order, 2])
    miny, maxy = _outward(bounds[order, 1], bounds[order, 3])
    boxes = np.column_stack([minx, maxx, miny, maxy])
    cell_ids, cell_boxes = ids, boxes
    next_node = 2
    node_rows: list[tuple[int, bytes]] = []
    parent_rows: list[tuple[int, int]] = []
    depth = 0
    while True:
        n_nodes = -(-len(cell_ids) // fanout)
        root = n_nodes == 1
        numbers = np.array([1]) if root else np.arange(next_node, next_node + n_nodes)
        if not root:
            next_node += n_nodes
        parent_boxes = np.empty((n_nodes, 4), dtype=np.float32)
        for k in range(n_nodes):
            sl = slice(k * fanout, (k + 1) * fanout)
            cells = np.zeros(len(cell_ids[sl]), dtype=_CELL)
            cells["id"] = cell_ids[sl]
            cells["box"] = cell_boxes[sl]
            head = (depth if root else 0).to_bytes(2, "big") + len(cells).to_bytes(2, "big")
            blob = head + cells.tobytes()
            node_rows.append((int(numbers[k]), blob + bytes(node_size - len(blob))))
            b = cell_boxes[sl]
            parent_boxes[k] = (b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max())
            if depth > 0:
                parent_rows.extend(zip(cell_ids[sl].tolist(), [int(numbers[k])] * len(cells), strict=True))
        if depth == 0:  # which leaf holds each entry: leaves are numbered in order, fanout entries each
            # passed as one JSON array per slice and inserted in rowid order by SQLite itself: binding two
            # values per entry from Python cost twice as long, and random rowid order thrashes the B-tree
            for start in range(0, len(cell_ids), 200_000):
                part = cell_ids[start : start + 200_000]
                con.execute(
                    f"INSERT INTO {_q(rtree + '_rowid')} (rowid, nodeno) "
                    "SELECT value, ? + (? + key) / ? FROM json_each(?) ORDER BY value",
                    (int(numbers[0]), start, fanout, "[" + ",".join(map(str, part.tolist())) + "]"),
                )
        if root:
            break
        cell_ids, cell_boxes = numbers.astype(np.int64), parent_boxes
        depth += 1
    # the root was written with the depth it had when its level was built: set the real one
    number, blob = node_rows[-1]
    node_rows[-1] = (number, depth.to_bytes(2, "big") + blob[2:])
    con.execute(f"DELETE FROM {_q(rtree + '_node')}")
    con.executemany(f"INSERT INTO {_q(rtree + '_node')} (nodeno, data) VALUES (?, ?)", node_rows)
    con.executemany(f"INSERT INTO {_q(rtree + '_parent')} (nodeno, parentnode) VALUES (?, ?)", parent_rows)


def rtree_ddl(table: str, geom: str = "geom", pk: str = "fid") -> list[str]:
    """R-tree index and its triggers, as the GeoPackage 1.4 extension defines them."""
    rt = f"rtree_{table}_{geom}"
    t, g, r = _q(table), _q(geom), _q(rt)
    nonempty_new = f"NEW.{g} NOTNULL AND NOT ST_IsEmpty(NEW.{g})"
    nonempty_old = f"OLD.{g} NOTNULL AND NOT ST_IsEmpty(OLD.{g})"
    vals = f"NEW.{pk}, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g})"
    return [
        f"CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy)",
        f"CREATE TRIGGER {_q(rt + '_insert')} AFTER INSERT ON {t} WHEN ({nonempty_new}) "
        f"BEGIN INSERT OR REPLACE INTO {r} VALUES ({vals}); END",
        f"CREATE TRIGGER {_q(rt + '_update6')} AFTER UPDATE OF {g} ON {t} "
        f"WHEN OLD.{pk} = NEW.{pk} AND ({nonempty_new}) AND ({nonempty_old}) BEGIN "
        f"UPDATE {r} SET minx = ST_MinX(NEW.{g}), maxx = ST_MaxX(NEW.{g}), "
        f"miny = ST_MinY(NEW.{g}), maxy = ST_MaxY(NEW.{g}) WHERE id = NEW.{pk}; END",
        f"CREATE TRIGGER {_q(rt + '_update7')} AFTER UPDATE OF {g} ON {t} "
        f"WHEN OLD.{pk} = NEW.{pk} AND ({nonempty_new}) AND (OLD.{g} ISNULL OR ST_IsEmpty(OLD.{g})) "
        f"BEGIN INSERT INTO {r} VALUES ({vals}); END",
        f"CREATE TRIGGER {_q(rt + '_update2')} AFTER UPDATE OF {g} ON {t} "
        f"WHEN OLD.{pk} = NEW.{pk} AND (NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g})) "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{pk}; END",
        f"CREATE TRIGGER {_q(rt + '_update5')} AFTER UPDATE ON {t} "
        f"WHEN OLD.{pk} != NEW.{pk} AND ({nonempty_new}) BEGIN "
        f"DELETE FROM {r} WHERE id = OLD.{pk}; INSERT OR REPLACE INTO {r} VALUES ({vals}); END",
        f"CREATE TRIGGER {_q(rt + '_update4')} AFTER UPDATE ON {t} "
        f"WHEN OLD.{pk} != NEW.{pk} AND (NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g})) "
        f"BEGIN DELETE FROM {r} WHERE id IN (OLD.{pk}, NEW.{pk}); END",
        f"CREATE TRIGGER {_q(rt + '_delete')} AFTER DELETE ON {t} WHEN OLD.{g} NOT NULL "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{pk}; END",
    ]


def _st_func(index: int) -> Any:
    def f(blob: bytes | None) -> float | None:
        env = gpkg_binary.envelope(blob)
        return None if env is None else env[index]

    return f


def register_functions(c: sqlite3.Connection) -> None:
    """The SQL functions the R-tree triggers call (GDAL provides them; a plain connection must register
    them itself), computed from the envelope in the geometry blob's header."""
    c.create_function("ST_MinX", 1, _st_func(0), deterministic=True)
    c.create_function("ST_MaxX", 1, _st_func(1), deterministic=True)
    c.create_function("ST_MinY", 1, _st_func(2), deterministic=True)
    c.create_function("ST_MaxY", 1, _st_func(3), deterministic=True)
    c.create_function("ST_IsEmpty", 1, gpkg_binary.is_empty, deterministic=True)
