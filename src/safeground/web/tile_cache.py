"""The encoded vector tiles already made, kept in memory up to a byte cap (least recently used out first).

A map asks for the same tiles again and again (every pan back, every reader of the same audience, every
page opened), and cutting one from a view costs a clip, a simplify and an encoding per feature. A tile
is kept under everything that decides its bytes: the collections it draws, the reader's *audience* (a
viewer's tile is cut from the generalised view, an analyst's from the exact one: two audiences never
share an entry), the CQL2 filter, ``z/y/x``, and the store's data fingerprint
(:meth:`safeground.storage.base.Store.fingerprint`). A write (an approved submission, an import) changes
the fingerprint, so the next request misses and is cut from the new data; the entries of the old
fingerprint are never asked for again and age out under the byte cap.

Each tile carries a strong ETag, a digest of its bytes: a client that sends it back in
``If-None-Match`` gets a 304 and no body.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from safeground.access.audience import Audience

#: what one entry costs beyond its bytes (the key, the digest, the dictionary's slot): an empty tile
#: is an entry too, and a cap of N bytes must hold no more than that
ENTRY_OVERHEAD = 256


@dataclass(frozen=True)
class TileKey:
    """Everything a tile's bytes depend on."""

    collections: tuple[str, ...]
    audience: Audience
    cql_filter: str | None
    z: int
    y: int
    x: int
    fingerprint: str


@dataclass(frozen=True)
class CachedTile:
    data: bytes
    etag: str  # a strong validator: the quoted digest of the bytes

    @classmethod
    def of(cls, data: bytes) -> CachedTile:
        return cls(data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')

    @property
    def size(self) -> int:
        return len(self.data) + ENTRY_OVERHEAD


class TileCache:
    """An LRU of encoded tiles holding at most ``max_bytes`` (0: keep nothing). Thread-safe: the server
    answers tiles from several threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[TileKey, CachedTile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def held(self) -> int:
        """The bytes held now (tiles and their overhead), never above ``max_bytes``."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: TileKey) -> CachedTile | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return hit

    def put(self, key: TileKey, data: bytes) -> CachedTile:
        """Keep the tile (a tile larger than the whole cap is answered, not kept) and drop the least
        recently used ones until the cache is within its cap again."""
        tile = CachedTile.of(data)
        if tile.size > self.max_bytes:
            return tile
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = tile
            self._bytes += tile.size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size
        return tile

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
