"""The predicted risk map as PNG tiles for the web map, and its legend, as the reader may see it.

``/risk/tiles/{z}/{x}/{y}.png`` (XYZ, Web Mercator, 256 px) draws the store's latest saved risk map in the
ramp of :mod:`safeground.styles.risk`; ``/risk/legend`` gives the classes (labels in English, Azerbaijani and
Russian) and the cell the reader is served. The public and partners get the map in 1 km cells at the highest
risk inside each (:mod:`safeground.risk.tiles`); the restricted audience gets it as predicted.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response

from safeground.access.audience import Audience
from safeground.risk.output import latest_risk
from safeground.risk.tiles import TILE_PX, RiskTiles, latest_raster
from safeground.styles.risk import RISK_CLASSES, TITLE, rgba
from safeground.web.catalogue import Catalogue
from safeground.web.permissions import Principal, requires
from safeground.web.settings import ServerSettings
from safeground.web.tiles import MAX_ZOOM, check_tile

Reader = Annotated[Principal, Depends(requires("read:public"))]
Z = Annotated[int, Path(ge=0, le=MAX_ZOOM, description="the zoom level")]
XY = Annotated[int, Path(ge=0, description="the tile column (x, from the west) or row (y, from the north)")]


def _cat(request: Request) -> Catalogue:
    return request.app.state.catalogue  # type: ignore[no-any-return]


Cat = Annotated[Catalogue, Depends(_cat)]


def png(rgba_image: Any) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba_image, "RGBA").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def add_risk_routes(app: FastAPI, settings: ServerSettings) -> None:
    tiles = RiskTiles()

    def base(request: Request) -> str:
        return settings.public_url or str(request.base_url).rstrip("/")

    def headers(audience: Audience) -> dict[str, str]:
        scope = "public" if audience is Audience.PUBLIC else "private"
        return {"Cache-Control": f"{scope}, max-age={int(settings.view_ttl_s)}", "Vary": "Authorization, Cookie"}

    @app.get("/risk/tiles", summary="The risk map's tiles (TileJSON)", tags=["risk map"])
    def risk_tilejson(request: Request, reader: Reader, cat: Cat) -> JSONResponse:
        info = cat.reading(latest_risk)
        latest_raster(info)
        extent = cat.extent()
        body: dict[str, Any] = {
            "tilejson": "3.0.0",
            "name": "risk",
            "description": TITLE["en"],
            "tiles": [base(request) + "/risk/tiles/{z}/{x}/{y}.png"],
            "minzoom": 0,
            "maxzoom": MAX_ZOOM,
            "tileSize": TILE_PX,
            "legend": base(request) + "/risk/legend",
        }
        if extent is not None:
            body["bounds"] = list(extent)
        return JSONResponse(body, headers=headers(reader.audience))

    @app.get(
        "/risk/tiles/{z}/{x}/{y}.png",
        summary="A tile of the predicted risk map (PNG, Web Mercator)",
        tags=["risk map"],
        response_class=Response,
        responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}},
    )
    def risk_tile(z: Z, x: XY, y: XY, reader: Reader, cat: Cat) -> Response:
        check_tile(z, y, x)
        raster = latest_raster(cat.reading(latest_risk))
        values = tiles.values(raster, reader.audience, z, x, y)
        edges = tiles.thresholds(raster, reader.audience)
        return Response(png(rgba(values, edges)), media_type="image/png", headers=headers(reader.audience))

    @app.get("/risk/legend", summary="The risk map's classes and colours, and its cell", tags=["risk map"])
    def risk_legend(reader: Reader, cat: Cat) -> JSONResponse:
        info = cat.reading(latest_risk)
        raster = latest_raster(info)
        assert info is not None
        edges = [0.0, *tiles.thresholds(raster, reader.audience), 1.0]
        body = {
            "title": TITLE,
            "cell_m": tiles.cell_m(raster, reader.audience),
            "generalised": not reader.audience.exact,
            "model_version": info.get("model_version"),
            "features_as_of": info.get("features_as_of"),
            "classes": [
                {
                    "top_share": c.top_share,
                    "min": edges[i],
                    "max": edges[i + 1],
                    "colour": c.colour,
                    "opacity": round(c.alpha / 255, 3),
                    "label": c.label,
                }
                for i, c in enumerate(RISK_CLASSES)
            ],
        }
        return JSONResponse(body, headers=headers(reader.audience))
