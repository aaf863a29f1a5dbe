"""GeoPackage geometry blobs (OGC 12-128r18, §2.1.3), vectorised.

A blob is a small header (magic ``GP``, version, flags, SRS id, optional
envelope) followed by ISO WKB. Writing the envelope for every non-point geometry
lets the R-tree triggers and any reader get the bounding box without parsing the
WKB. Encoding and decoding go through shapely's array functions so that a
million mine positions cost one C loop, not a million Python calls.
"""

from __future__ import annotations

import struct

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

_HEADER_NO_ENV = struct.Struct("<2sBBi")
_ENV_XY = struct.Struct("<4d")
_ENV_XY_BE = struct.Struct(">4d")
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}

FLAG_LITTLE_ENDIAN = 0x01
FLAG_ENVELOPE_XY = 0x02  # envelope contents indicator 1 in bits 1-3
FLAG_EMPTY = 0x10


def encode(geoms: np.ndarray | list[BaseGeometry | None], srs_id: int = 4326) -> list[bytes | None]:
    """Encode many shapely geometries as GeoPackage blobs (``None`` stays ``None``)."""
    arr = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(arr)
    if len(arr) == 0:
        return out
    present = np.array([g is not None for g in arr], dtype=bool)
    idx = np.flatnonzero(present)
    if len(idx) == 0:
        return out
    geo = arr[idx]
    if len(geo) > 64 and bool(np.all(shapely.get_type_id(geo) == 0)) and not bool(np.any(shapely.is_empty(geo))):
        for at, blob in zip(idx.tolist(), _encode_points(geo, srs_id), strict=True):
            out[at] = blob
        return out
    wkb = shapely.to_wkb(geo, byte_order=1, flavor="iso", output_dimension=2)
    bounds = shapely.bounds(geo)
    empty = shapely.is_empty(geo)
    for k, i in enumerate(idx):
        if empty[k]:
            head = _HEADER_NO_ENV.pack(b"GP", 0, FLAG_LITTLE_ENDIAN | FLAG_EMPTY, srs_id)
            out[i] = head + wkb[k]
            continue
        minx, miny, maxx, maxy = bounds[k]
        head = _HEADER_NO_ENV.pack(b"GP", 0, FLAG_LITTLE_ENDIAN | FLAG_ENVELOPE_XY, srs_id)
        out[i] = head + _ENV_XY.pack(minx, maxx, miny, maxy) + wkb[k]
    return out


_POINT_BLOB = np.dtype(
    [("head", "S8"), ("env", "<f8", (4,)), ("order", "u1"), ("type", "<u4"), ("xy", "<f8", (2,))], align=False
)


def _encode_points(geo: np.ndarray, srs_id: int) -> list[bytes]:
    """Many non-empty points at once: the same bytes as the general path, built as one array."""
    xy = shapely.get_coordinates(geo)
    rec = np.zeros(len(xy), dtype=_POINT_BLOB)
    rec["head"] = _HEADER_NO_ENV.pack(b"GP", 0, FLAG_LITTLE_ENDIAN | FLAG_ENVELOPE_XY, srs_id)
    rec["env"] = np.column_stack([xy[:, 0], xy[:, 0], xy[:, 1], xy[:, 1]])
    rec["order"] = 1
    rec["type"] = 1
    rec["xy"] = xy
    buf = rec.tobytes()
    size = _POINT_BLOB.itemsize
    return [buf[i : i + size] for i in range(0, len(buf), size)]


def _wkb_offset(blob: bytes) -> int:
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob (missing 'GP' magic)")
    flags = blob[3]
    env = (flags >> 1) & 0x07
    if env not in _ENVELOPE_BYTES:
        raise ValueError(f"invalid envelope indicator {env} in GeoPackage geometry blob")
    return 8 + _ENVELOPE_BYTES[env]


def decode(blobs: list[bytes | None]) -> np.ndarray:
    """Decode many GeoPackage blobs to a shapely array (``None`` for NULL)."""
    out = np.empty(len(blobs), dtype=object)
    wkbs: list[bytes] = []
    where: list[int] = []
    for i, b in enumerate(blobs):
        if b is None:
            out[i] = None
            continue
        wkbs.append(bytes(b[_wkb_offset(b) :]))
        where.append(i)
    if wkbs:
        out[where] = shapely.from_wkb(np.asarray(wkbs, dtype=object))
    return out


def envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the header, or from the WKB if the header has none.

    Used by the SQL functions that the GeoPackage R-tree triggers call; files
    edited by other software may store points without an envelope.
    """
    if blob is None:
        return None
    flags = blob[3]
    if flags & FLAG_EMPTY:
        return None
    if (flags >> 1) & 0x07:
        env = _ENV_XY if flags & FLAG_LITTLE_ENDIAN else _ENV_XY_BE
        return env.unpack_from(blob, 8)
    g = shapely.from_wkb(bytes(blob[_wkb_offset(blob) :]))
    if g.is_empty:
        return None
    minx, miny, maxx, maxy = g.bounds
    return (minx, maxx, miny, maxy)


def is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if envelope(blob) is None else 0
