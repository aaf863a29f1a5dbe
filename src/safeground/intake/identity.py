"""Which rows of an import are the same record: 64-bit fingerprints, compared as arrays.

Without a key, two rows are the same when their place and every value are the
same. Real data breaks that: two accidents at one spot years apart, recorded
alike. With a key (``--key incident_no``, or a mapping's ``key``) only the key
says which rows are one record, and a second row with the same key is a duplicate
whatever its other values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit."""
    h = h ^ (h >> np.uint64(30))
    h = h * _M2
    h = h ^ (h >> np.uint64(27))
    h = h * _M3
    return h ^ (h >> np.uint64(31))


def row_hashes(geoms: np.ndarray | None, contents: np.ndarray) -> np.ndarray:
    """A 64-bit fingerprint of (geometry, attribute content) per row, to find identical rows.

    Points, nearly all of a large import, are hashed from the bits of their
    coordinates with array operations; other geometry from its WKB.
    """
    with np.errstate(over="ignore"):
        h = _mix(np.asarray(contents, dtype=np.int64).view(np.uint64) ^ _M1)
        if geoms is None or len(geoms) == 0:
            return h.view(np.int64)
        g = np.zeros(len(h), dtype=np.uint64)
        missing = shapely.is_missing(geoms)
        point = (shapely.get_type_id(geoms) == 0) & ~missing
        point[point] = ~shapely.is_empty(geoms[point])
        if point.any():
            bits = np.ascontiguousarray(shapely.get_coordinates(geoms[point])).view(np.uint64)
            g[point] = _mix(bits[:, 0] ^ _M2) ^ _mix(bits[:, 1] ^ _M3) * _M1
        other = ~point & ~missing
        if other.any():
            wkbs = shapely.to_wkb(geoms[other], byte_order=1, flavor="iso", output_dimension=2)
            g[other] = np.fromiter((hash(w) & 0xFFFFFFFFFFFFFFFF for w in wkbs), dtype=np.uint64, count=len(wkbs))
        return _mix(h ^ g ^ _M3).view(np.int64)


def key_hashes(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per row: a fingerprint of its key values, and whether the key is empty (no identity given).

    Values are compared as trimmed text, so ``12`` and ``12.0`` from two
    spreadsheets are not told apart by their type but ``12`` and ``012`` are.
    """
    n = len(frame)
    h = np.full(n, np.uint64(0x51ED270B27A3E5F1), dtype=np.uint64)
    empty = np.ones(n, dtype=bool)
    with np.errstate(over="ignore"):
        for c in columns:
            text = frame[c].astype(object).map(_key_text)
            empty &= text.isna().to_numpy()
            col = pd.util.hash_pandas_object(text.fillna("\x00"), index=False).to_numpy(dtype=np.uint64)
            h = _mix(h ^ col) * _M1
    return _mix(h ^ _M2).view(np.int64), empty


def _key_text(v: object) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    t = str(v).strip()
    return t or None
