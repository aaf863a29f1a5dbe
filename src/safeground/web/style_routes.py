"""OGC API Styles (read): each collection's IMSMA symbology as SLD, a MapLibre style and a QGIS QML.

The documents are written by :mod:`safeground.styles` from the one declaration of the symbology, so the
web map, QGIS connecting to the API and QGIS opening the GeoPackage draw a hazard area alike. The MapLibre
style draws the collection's vector tiles (:mod:`safeground.web.tile_routes`), as the reader may see them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from safeground.errors import RecordNotFound
from safeground.styles import LAYER_STYLES, LayerStyle
from safeground.styles.writers import to_maplibre, to_qml, to_sld
from safeground.web.catalogue import Catalogue
from safeground.web.permissions import Principal, requires
from safeground.web.settings import ServerSettings
from safeground.web.tiles import MAX_ZOOM, TMS

STYLE_ID = "imsma"
#: format → media type (OGC API Styles' names for them)
MEDIA = {
    "sld": "application/vnd.ogc.sld+xml;version=1.1",
    "mapbox": "application/vnd.mapbox.style+json",
    "qml": "application/vnd.qgis.qml",
}
Reader = Annotated[Principal, Depends(requires("read:public"))]
StyleFormat = Annotated[
    str, Query(pattern="^(sld|mapbox|qml)$", description="sld (SLD 1.1), mapbox (a MapLibre style) or qml (QGIS)")
]


def _cat(request: Request) -> Catalogue:
    return request.app.state.catalogue  # type: ignore[no-any-return]


Cat = Annotated[Catalogue, Depends(_cat)]


def maplibre_style(style: LayerStyle, tiles: str) -> dict[str, Any]:
    """A whole MapLibre style (version 8) drawing the layer's vector tiles with the symbology."""
    layers = [{**lyr, "source-layer": style.layer} for lyr in to_maplibre(style, "safeground")]
    return {
        "version": 8,
        "name": style.title,
        "sources": {
            "safeground": {"type": "vector", "tiles": [tiles], "minzoom": 0, "maxzoom": MAX_ZOOM, "promoteId": "fid"}
        },
        "layers": layers,
    }


def add_style_routes(app: FastAPI, settings: ServerSettings) -> None:
    def base(request: Request) -> str:
        return settings.public_url or str(request.base_url).rstrip("/")

    def style_of(cat: Catalogue, collection_id: str, principal: Principal) -> LayerStyle | None:
        coll = cat.collection(collection_id, principal.audience)  # 404 / 403 as the items are
        return LAYER_STYLES.get(coll.id)

    @app.get("/collections/{collection_id}/styles", summary="The styles of a collection", tags=["OGC API Styles"])
    def styles(request: Request, collection_id: str, reader: Reader, cat: Cat) -> JSONResponse:
        style = style_of(cat, collection_id, reader)
        path = f"{base(request)}/collections/{collection_id}/styles/{STYLE_ID}"
        listed = (
            []
            if style is None
            else [
                {
                    "id": STYLE_ID,
                    "title": style.title,
                    "links": [
                        {"href": f"{path}?f={f}", "rel": "stylesheet", "type": media, "title": f"{style.title} ({f})"}
                        for f, media in MEDIA.items()
                    ],
                }
            ]
        )
        return JSONResponse({"default": STYLE_ID if listed else None, "styles": listed})

    @app.get(
        "/collections/{collection_id}/styles/{style_id}",
        summary="A style of a collection as SLD, a MapLibre style or QGIS QML",
        tags=["OGC API Styles"],
        response_class=Response,
    )
    def style(
        request: Request, collection_id: str, style_id: str, reader: Reader, cat: Cat, f: StyleFormat = "sld"
    ) -> Response:
        found = style_of(cat, collection_id, reader)
        if found is None or style_id != STYLE_ID:
            raise RecordNotFound(
                f"{collection_id} has no style {style_id!r}", hint=f"/collections/{collection_id}/styles lists them"
            )
        if f == "mapbox":
            tiles = f"{base(request)}/collections/{collection_id}/tiles/{TMS}/{{z}}/{{y}}/{{x}}"
            text = json.dumps(maplibre_style(found, tiles), ensure_ascii=False)
        else:
            text = to_sld(found) if f == "sld" else to_qml(found)
        return Response(text.encode("utf-8"), media_type=MEDIA[f])
