"""OGC API Tiles: vector tiles of each collection (and of several at once) as the reader may see them.

``/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}`` is one layer's tile, ``/tiles/WebMercatorQuad/{z}/{y}/{x}``
every collection's (or ``?collections=a,b``) in one tile, one MVT layer per collection. Both are cut from the
reader's view (:mod:`safeground.web.tiles`), so a public tile holds what the public items hold. A tile made for
a logged-in reader is marked ``private`` and every tile ``Vary: Authorization, Cookie``: a shared cache must
never hand an analyst's tile to the public.

Tiles made are kept (:mod:`safeground.web.tile_cache`) per collections, audience, filter, ``z/y/x`` and the
store's data fingerprint, up to ``tile_cache_bytes``; each answer has a strong ``ETag`` (a digest of its
bytes) and an ``If-None-Match`` holding it is answered 304.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from safeground.access.audience import Audience
from safeground.web.catalogue import Catalogue, Collection
from safeground.web.errors import BadParameter
from safeground.web.features import served_as_stored
from safeground.web.permissions import Principal, requires
from safeground.web.settings import ServerSettings
from safeground.web.tile_cache import CachedTile, TileCache, TileKey
from safeground.web.tiles import (
    LABELLED,
    LABELS_SUFFIX,
    MAX_ZOOM,
    MVT,
    TMS,
    check_tile,
    encode,
    stored_tile,
    tileset,
)

Reader = Annotated[Principal, Depends(requires("read:public"))]
Z = Annotated[int, Path(ge=0, le=MAX_ZOOM, description="the zoom level (tileMatrix)")]
Row = Annotated[int, Path(ge=0, description="the tile row (y), from the north")]
Collections = Annotated[
    str | None, Query(description="the collections to draw, comma-separated (default: every one with geometry)")
]
Col = Annotated[int, Path(ge=0, description="the tile column (x), from the west")]
Filter = Annotated[
    str | None,
    Query(alias="filter", description="a CQL2 filter (basic CQL2, as for items): only the features it selects"),
]
IfNoneMatch = Annotated[str | None, Header(description="an ETag of this tile the client holds: 304 if unchanged")]


def _cat(request: Request) -> Catalogue:
    return request.app.state.catalogue  # type: ignore[no-any-return]


Cat = Annotated[Catalogue, Depends(_cat)]


def _kind(kind: str) -> str:
    return {"integer": "Number", "real": "Number", "boolean": "Boolean"}.get(kind, "String")


def _matches(if_none_match: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` names this ETag (or is ``*``); weak ``W/`` forms compare by their value."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def add_tile_routes(app: FastAPI, settings: ServerSettings) -> None:
    cache = TileCache(settings.tile_cache_bytes)
    app.state.tile_cache = cache  # one per app, as the catalogue

    def base(request: Request) -> str:
        return settings.public_url or str(request.base_url).rstrip("/")

    def headers(audience: Audience) -> dict[str, str]:
        ttl = int(settings.view_ttl_s)
        scope = "public" if audience is Audience.PUBLIC else "private"
        return {"Cache-Control": f"{scope}, max-age={ttl}", "Vary": "Authorization, Cookie"}

    def drawable(cat: Catalogue, audience: Audience) -> list[Collection]:
        return [c for c in cat.collections(audience) if c.record_type.GEOMETRY]

    def vector_layers(cat: Catalogue, coll: Collection, audience: Audience) -> list[dict[str, Any]]:
        """The collection's layer in the tiles and, for a labelled polygon layer, its label points."""
        table = cat.table(coll, audience)
        out = [
            {
                "id": coll.id,
                "description": coll.title,
                "geometryType": (coll.record_type.GEOMETRY or "").lower().removeprefix("multi"),
                "fields": {"fid": "String", **{c: _kind(k) for c, k in table.kinds.items()}},
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
            }
        ]
        prop = LABELLED.get(coll.id)
        if prop is not None:
            out.append(
                {
                    "id": coll.id + LABELS_SUFFIX,
                    "description": f"{coll.title}: one label point per feature",
                    "geometryType": "point",
                    "fields": {"fid": "String", prop: _kind(table.kinds.get(prop, "text"))},
                    "minzoom": 0,
                    "maxzoom": MAX_ZOOM,
                }
            )
        return out

    def one_layer(
        cat: Catalogue,
        coll: Collection,
        audience: Audience,
        z: int,
        row: int,
        col: int,
        cql_filter: str | None,
        fingerprint: str,
    ) -> list[tuple]:
        """The collection's parts of a tile: its own layer (cut by the database when it may be) and, for the
        labelled polygon layers, the ``{id}_labels`` point layer (from the reader's view, whole geometries)."""
        parts: list[tuple] = []
        if served_as_stored(coll.record_type, audience) and not cql_filter:
            data = cat.reading(lambda s: stored_tile(s, coll.record_type, z, row, col))
            if data is not None:
                parts.append(("raw", data))
        if not parts or coll.id in LABELLED:
            layer = cat.tile_layer(coll, audience, cql_filter or None, fingerprint)
            if not parts:
                parts.append(("features", (coll.id, layer.features(z, row, col))))
            if coll.id in LABELLED:
                parts.append(("features", (coll.id + LABELS_SUFFIX, layer.labels(z, row, col))))
        return parts

    def tile_response(
        cat: Catalogue,
        colls: list[Collection],
        audience: Audience,
        z: int,
        row: int,
        col: int,
        cql_filter: str | None,
        if_none_match: str | None,
    ) -> Response:
        """The tile from the cache, or cut and kept; a 304 when the client holds it already."""
        fingerprint = cat.fingerprint()
        key = TileKey(tuple(c.id for c in colls), audience, cql_filter or None, z, row, col, fingerprint)
        tile = cache.get(key)
        if tile is None:
            parts = [p for c in colls for p in one_layer(cat, c, audience, z, row, col, cql_filter, fingerprint)]
            raw = b"".join(p[1] for p in parts if p[0] == "raw")  # MVT layers concatenate into one tile
            made = encode([p[1] for p in parts if p[0] == "features"], z, row, col)
            tile = cache.put(key, raw + made)
        return answer(tile, audience, if_none_match)

    def answer(tile: CachedTile, audience: Audience, if_none_match: str | None) -> Response:
        head = {**headers(audience), "ETag": tile.etag}
        if _matches(if_none_match, tile.etag):
            return Response(status_code=304, headers=head)
        return Response(tile.data, media_type=MVT, headers=head)

    def collection_of(cat: Catalogue, collection_id: str, audience: Audience) -> Collection:
        coll = cat.collection(collection_id, audience)
        if not coll.record_type.GEOMETRY:
            raise BadParameter(f"{coll.id} has no geometry to draw as tiles", hint="read it as items instead")
        return coll

    @app.get("/collections/{collection_id}/tiles", summary="The tilesets of a collection", tags=["OGC API Tiles"])
    def collection_tilesets(request: Request, collection_id: str, reader: Reader, cat: Cat) -> JSONResponse:
        coll = collection_of(cat, collection_id, reader.audience)
        path = f"/collections/{coll.id}/tiles/{TMS}"
        body = {
            "tilesets": [
                {
                    "title": f"{coll.title} (vector tiles)",
                    "dataType": "vector",
                    "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                    "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
                    "links": [
                        {"href": base(request) + path, "rel": "self", "type": "application/json"},
                        {
                            "href": base(request) + path + "/{tileMatrix}/{tileRow}/{tileCol}",
                            "rel": "item",
                            "type": MVT,
                            "templated": True,
                        },
                    ],
                }
            ]
        }
        return JSONResponse(body, headers=headers(reader.audience))

    @app.get(f"/collections/{{collection_id}}/tiles/{TMS}", summary="A collection's tileset", tags=["OGC API Tiles"])
    def collection_tileset(request: Request, collection_id: str, reader: Reader, cat: Cat) -> JSONResponse:
        coll = collection_of(cat, collection_id, reader.audience)
        body = tileset(
            coll.id,
            base(request),
            f"/collections/{coll.id}/tiles/{TMS}",
            coll.title,
            vector_layers(cat, coll, reader.audience),
        )
        return JSONResponse(body, headers=headers(reader.audience))

    @app.get(
        f"/collections/{{collection_id}}/tiles/{TMS}/{{z}}/{{y}}/{{x}}",
        summary="A vector tile of a collection (Mapbox Vector Tile)",
        tags=["OGC API Tiles"],
        response_class=Response,
        responses={200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}}},
    )
    def collection_tile(
        collection_id: str,
        z: Z,
        y: Row,
        x: Col,
        reader: Reader,
        cat: Cat,
        filter_: Filter = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response:
        check_tile(z, y, x)
        coll = collection_of(cat, collection_id, reader.audience)
        return tile_response(cat, [coll], reader.audience, z, y, x, filter_, if_none_match)

    def chosen(cat: Catalogue, names: str | None, audience: Audience) -> list[Collection]:
        if names is None or not names.strip():
            return drawable(cat, audience)
        return [collection_of(cat, n.strip(), audience) for n in dict.fromkeys(names.split(",")) if n.strip()]

    @app.get(f"/tiles/{TMS}", summary="The tileset of every collection", tags=["OGC API Tiles"])
    def dataset_tileset(request: Request, reader: Reader, cat: Cat, collections: Collections = None) -> JSONResponse:
        colls = chosen(cat, collections, reader.audience)
        body = tileset(
            "safeground",
            base(request),
            f"/tiles/{TMS}",
            settings.title,
            [v for c in colls for v in vector_layers(cat, c, reader.audience)],
        )
        if collections:
            body["tiles"] = [t + f"?collections={','.join(c.id for c in colls)}" for t in body["tiles"]]
        return JSONResponse(body, headers=headers(reader.audience))

    @app.get(
        f"/tiles/{TMS}/{{z}}/{{y}}/{{x}}",
        summary="A vector tile of several collections, one layer each (Mapbox Vector Tile)",
        tags=["OGC API Tiles"],
        response_class=Response,
        responses={200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}}},
    )
    def dataset_tile(
        z: Z,
        y: Row,
        x: Col,
        reader: Reader,
        cat: Cat,
        collections: Collections = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response:
        check_tile(z, y, x)
        colls = chosen(cat, collections, reader.audience)
        return tile_response(cat, colls, reader.audience, z, y, x, None, if_none_match)
