"""The collections a reader may list, and each layer's view for an audience, made once and reused.

One :class:`Catalogue` per app (in ``app.state``, given by a dependency, never a module global)
holds the store, serialises the server's calls into it (a GeoPackage connection is one SQLite
connection) and keeps each audience's view of a layer for ``view_ttl_s`` seconds: a view of the
hazard areas generalises every outline, and GDAL pages a layer in many requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from safeground.access.audience import Audience
from safeground.access.policy import may_read_layer, view
from safeground.errors import RecordNotFound, SafeGroundError
from safeground.model.base import RECORD_TYPES, Record
from safeground.storage.base import BBox, Store, metric_epsg_if_located, store_extent
from safeground.web.crs import CRS84, epsg_uri
from safeground.web.errors import BadParameter
from safeground.web.features import Table
from safeground.web.tiles import TileLayer

T = TypeVar("T")


@dataclass(frozen=True)
class Collection:
    id: str
    record_type: type[Record]

    @property
    def title(self) -> str:
        return self.record_type.TITLE or self.id.replace("_", " ")

    @property
    def description(self) -> str:
        doc = (self.record_type.__doc__ or "").strip().split("\n\n")[0]
        return " ".join(doc.split()) or self.title


#: filtered tile layers kept at once (a map asks for a few; a client inventing filters must not fill memory)
MAX_FILTERED_TILE_LAYERS = 32


class Catalogue:
    def __init__(self, store: Store, *, view_ttl_s: float) -> None:
        self.store = store
        self.view_ttl_s = view_ttl_s
        self._lock = threading.RLock()
        self._views: dict[tuple[str, Audience], tuple[float, str | None, Table]] = {}
        self._tiles: dict[tuple[str, Audience, str | None], tuple[Table, TileLayer]] = {}

    def reading(self, read: Callable[[Store], T]) -> T:
        """Run ``read`` on the store, one request at a time."""
        with self._lock:
            return read(self.store)

    def collections(self, audience: Audience) -> list[Collection]:
        """Every layer the audience may read, in the registry's order (restricted layers are not listed)."""
        return [Collection(k, c) for k, c in RECORD_TYPES.items() if may_read_layer(c, audience)]

    def collection(self, collection_id: str, audience: Audience) -> Collection:
        cls = RECORD_TYPES.get(collection_id)
        if cls is None:
            raise RecordNotFound(
                f"there is no collection {collection_id!r}", hint="/collections lists every collection"
            )
        if not may_read_layer(cls, audience):
            view(self.store, cls, audience)  # raises RestrictedLayer (403) with its message and hint
        return Collection(collection_id, cls)

    def fingerprint(self) -> str:
        """The store's data fingerprint (every layer: a view may read others, the victims' the accidents'):
        it changes with any write, so what is cached under it is never stale (web.tile_cache)."""
        return self.reading(lambda s: s.fingerprint())

    def table(self, coll: Collection, audience: Audience, fingerprint: str | None = None) -> Table:
        """The audience's view of the layer, sorted by feature id (reused for ``view_ttl_s`` seconds).

        With the store's ``fingerprint`` (:meth:`fingerprint`), a view not made under that very one is made
        again at once: a tile cached under the new fingerprint must not be cut from the view of the old data."""
        key = (coll.id, audience)
        now = time.monotonic()
        with self._lock:
            hit = self._views.get(key)
            fresh = hit is not None and now - hit[0] < self.view_ttl_s
            if hit is not None and fresh and (fingerprint is None or hit[1] == fingerprint):
                return hit[2]
            table = Table.of_view(view(self.store, coll.record_type, audience), coll.record_type)
            self._views[key] = (now, fingerprint, table)
            return table

    def tile_layer(
        self, coll: Collection, audience: Audience, cql_filter: str | None = None, fingerprint: str | None = None
    ) -> TileLayer:
        """The audience's view of the layer indexed for tiles (made again whenever the view is); with a
        CQL2 filter, only the features it selects (a map's base layer draws the settlements of the
        infrastructure areas, not their four thousand buildings: a tile of those costs a second).

        A filter that does not parse or cannot be evaluated on the view is a 400 naming the filter."""
        from safeground.web import cql
        from safeground.web.features import selected

        table = self.table(coll, audience, fingerprint)
        key = (coll.id, audience, cql_filter)
        with self._lock:
            hit = self._tiles.get(key)
            if hit is not None and hit[0] is table:
                return hit[1]
            chosen = table
            if cql_filter:
                try:
                    tree = cql.parse(cql_filter, None)
                    mask = selected(table, coll.id, box=None, box_epsg=4326, period=None, tree=tree)
                except BadParameter as exc:
                    raise BadParameter(
                        f"the tile filter {cql_filter!r} cannot be used: {exc.message}", hint=exc.hint
                    ) from None
                except (TypeError, ValueError) as exc:  # pygeofilter's own, on a value of the wrong type
                    raise BadParameter(f"the tile filter {cql_filter!r} cannot be used: {exc}", hint=cql.HINT) from None
                chosen = table.take(mask, len(table.ids), 0)[0]
            layer = TileLayer.of(coll.id, chosen)
            filtered = [k for k in self._tiles if k[2] is not None]
            if cql_filter and len(filtered) >= MAX_FILTERED_TILE_LAYERS:  # filters come from clients: bounded
                del self._tiles[filtered[0]]
            self._tiles[key] = (table, layer)
            return layer

    def crs_offered(self) -> list[str]:
        """CRS84 and, for a store that can be placed on the earth, its UTM zone."""
        epsg = self.reading(metric_epsg_if_located)
        return [CRS84] if epsg is None else [CRS84, epsg_uri(epsg)]

    def extent(self) -> BBox | None:
        """The store's area of interest (else the extent of what it holds): every collection's spatial extent."""
        try:
            return self.reading(store_extent)
        except SafeGroundError:  # a store with nothing located has no extent to declare
            return None
