"""OGC API Features, Parts 1 (core, GeoJSON, HTML), 2 (CRS) and 3 (CQL2 filters), read-only.

The routes parse the request, ask the :class:`~safeground.web.catalogue.Catalogue` for the reader's
view and render it; what a reader sees is decided by their audience alone. Every route declares the
permission it needs (:func:`~safeground.web.permissions.requires`). QGIS and GDAL connect with the
server's address (``OAPIF:http://host:port``; QGIS: Layer → Add Layer → Add WFS / OGC API Features
layer).
"""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from safeground.web import cql
from safeground.web.catalogue import Catalogue, Collection
from safeground.web.crs import CRS84, choose, epsg_of
from safeground.web.errors import BadParameter
from safeground.web.features import (
    Table,
    feature_collection_json,
    features,
    page_of,
    parse_bbox,
    selected,
    served_as_stored,
    stored_columns,
)
from safeground.web.html import render
from safeground.web.permissions import Principal, requires
from safeground.web.settings import ServerSettings

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
]
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
REL = "http://www.opengis.net/def/rel/ogc/1.0/"

Reader = Annotated[Principal, Depends(requires("read:public"))]


def _content(*media: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route answering in these media types (``f`` or Accept chooses)."""
    return {200: {"description": "the document", "content": {m: {} for m in media}}}


JSON_OR_HTML = _content("application/json", "text/html")
GEOJSON_OR_HTML = _content("application/geo+json", "text/html")
Format = Annotated[str | None, Query(pattern="^(json|html)$", description="json (GeoJSON for features) or html")]


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def catalogue(request: Request) -> Catalogue:
    return request.app.state.catalogue  # type: ignore[no-any-return]


Cat = Annotated[Catalogue, Depends(catalogue)]


def wants_html(request: Request, f: str | None) -> bool:
    """``f`` decides; without it, a browser (text/html before any JSON type in Accept) gets HTML."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    html = accept.find("text/html")
    json_at = [i for i in (accept.find("json"),) if i >= 0]
    return html >= 0 and (not json_at or html < json_at[0])


def add_ogc_routes(router: FastAPI | APIRouter, settings: ServerSettings) -> None:
    """Add the OGC API Features routes, with the limits of ``settings`` in their OpenAPI description.

    Added to the app itself rather than included as a router: then ``app.routes`` is the route table,
    which the permission check walks."""

    def base(request: Request) -> str:
        return settings.public_url or str(request.base_url).rstrip("/")

    def url(request: Request, path: str, **params: Any) -> str:
        q = {k: v for k, v in params.items() if v is not None}
        return base(request) + path + (f"?{urlencode(q)}" if q else "")

    def links(request: Request, path: str, title: str, json_type: str = "application/json") -> list[dict[str, str]]:
        return [
            {"href": url(request, path, f="json"), "rel": "self", "type": json_type, "title": f"{title} (JSON)"},
            {"href": url(request, path, f="html"), "rel": "alternate", "type": "text/html", "title": f"{title} (HTML)"},
        ]

    def answer(request: Request, f: str | None, body: dict[str, Any], title: str, **extra: Any) -> Response:
        if wants_html(request, f):
            return HTMLResponse(render(request, title=title, body=body, **extra))
        cls = GeoJSONResponse if body.get("type") in ("FeatureCollection", "Feature") else JSONResponse
        return cls(body, headers=extra.get("headers"))

    @router.get("/", summary="Landing page", tags=["OGC API Features"], responses=JSON_OR_HTML)
    def landing(request: Request, _reader: Reader, f: Format = None) -> Response:
        body = {
            "title": settings.title,
            "description": "Mine action information (hazard areas, land release, context layers) as anyone may "
            "read it: exact mine and accident positions are generalised, victims are k-anonymous.",
            "links": [
                *links(request, "/", "this document"),
                {"href": url(request, "/api", f="json"), "rel": "service-desc", "type": OPENAPI, "title": "OpenAPI"},
                {"href": url(request, "/api", f="html"), "rel": "service-doc", "type": "text/html", "title": "API"},
                {"href": url(request, "/conformance"), "rel": f"{REL}conformance", "type": "application/json",
                 "title": "conformance classes"},
                {"href": url(request, "/collections"), "rel": f"{REL}data", "type": "application/json",
                 "title": "collections"},
            ],
        }  # fmt: skip
        return answer(request, f, body, settings.title)

    @router.get("/conformance", summary="Conformance classes", tags=["OGC API Features"], responses=JSON_OR_HTML)
    def conformance(request: Request, _reader: Reader, f: Format = None) -> Response:
        return answer(request, f, {"conformsTo": CONFORMANCE}, "Conformance")

    @router.get(
        "/api",
        summary="This API's OpenAPI description",
        tags=["OGC API Features"],
        responses=_content(OPENAPI, "text/html"),
    )
    def api(request: Request, _reader: Reader, f: Format = None) -> Response:
        doc = request.app.openapi()
        if wants_html(request, f):
            ops = [
                {"path": p, "method": m.upper(), "summary": op.get("summary", ""), "permission": op.get("x-permission")}
                for p, item in doc["paths"].items()
                for m, op in item.items()
            ]
            return HTMLResponse(render(request, title="API", body={}, operations=ops))
        return JSONResponse(doc, media_type=OPENAPI)

    def describe(request: Request, coll: Collection, cat: Catalogue) -> dict[str, Any]:
        path = f"/collections/{coll.id}"
        extent = cat.extent()
        out: dict[str, Any] = {
            "id": coll.id,
            "title": coll.title,
            "description": coll.description,
            "itemType": "feature",
            "crs": cat.crs_offered(),
            "storageCrs": CRS84,
            "links": [
                *links(request, path, coll.title),
                {"href": url(request, f"{path}/items", f="json"), "rel": "items", "type": GEOJSON,
                 "title": f"{coll.title} (GeoJSON)"},
                {"href": url(request, f"{path}/items", f="html"), "rel": "items", "type": "text/html",
                 "title": f"{coll.title} (HTML)"},
                {"href": url(request, f"{path}/queryables"), "rel": f"{REL}queryables",
                 "type": "application/schema+json", "title": "what a filter may name"},
            ],
        }  # fmt: skip
        if extent is not None:
            out["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
        return out

    @router.get("/collections", summary="The collections", tags=["OGC API Features"], responses=JSON_OR_HTML)
    def collections(request: Request, reader: Reader, cat: Cat, f: Format = None) -> Response:
        body = {
            "links": links(request, "/collections", "collections"),
            "crs": cat.crs_offered(),
            "collections": [describe(request, c, cat) for c in cat.collections(reader.audience)],
        }
        return answer(request, f, body, "Collections")

    @router.get(
        "/collections/{collection_id}", summary="One collection", tags=["OGC API Features"], responses=JSON_OR_HTML
    )
    def collection(request: Request, collection_id: str, reader: Reader, cat: Cat, f: Format = None) -> Response:
        coll = cat.collection(collection_id, reader.audience)
        return answer(request, f, describe(request, coll, cat), coll.title)

    @router.get(
        "/collections/{collection_id}/queryables",
        summary="What a filter may name",
        tags=["OGC API Features"],
        responses=_content("application/schema+json", "text/html"),
    )
    def queryables(request: Request, collection_id: str, reader: Reader, cat: Cat, f: Format = None) -> Response:
        coll = cat.collection(collection_id, reader.audience)
        table = cat.table(coll, reader.audience)
        props: dict[str, Any] = {c: _json_schema(k) for c, k in table.kinds.items()}
        if table.has_geometry:
            props["geometry"] = {"$ref": "https://geojson.org/schema/Geometry.json"}
        body = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": url(request, f"/collections/{coll.id}/queryables"),
            "type": "object",
            "title": coll.title,
            "properties": props,
        }
        if wants_html(request, f):
            return answer(request, f, body, f"{coll.title}: queryables")
        return JSONResponse(body, media_type="application/schema+json")

    @router.get(
        "/collections/{collection_id}/items",
        summary="The features of a collection",
        tags=["OGC API Features"],
        response_class=GeoJSONResponse,
        responses=GEOJSON_OR_HTML,
    )
    def items(
        request: Request,
        collection_id: str,
        reader: Reader,
        cat: Cat,
        limit: Annotated[
            int,
            Query(
                ge=1,
                description=f"features per page; more than {settings.max_limit} gives {settings.max_limit}",
                json_schema_extra={"maximum": settings.max_limit},
            ),
        ] = settings.default_limit,
        offset: Annotated[int, Query(ge=0, description="features skipped (the next and prev links carry it)")] = 0,
        bbox: Annotated[str | None, Query(description="west,south,east,north (in bbox-crs)")] = None,
        bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
        datetime: Annotated[str | None, Query(description="a date or an interval a/b, ../b, a/..")] = None,
        crs: Annotated[str | None, Query(description="the CRS of the geometry returned")] = None,
        filter_: Annotated[str | None, Query(alias="filter", description="a CQL2 filter (basic CQL2)")] = None,
        filter_lang: Annotated[str | None, Query(alias="filter-lang", pattern="^cql2-(text|json)$")] = None,
        filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
        f: Format = None,
    ) -> Response:
        audience = reader.audience
        limit = min(limit, settings.max_limit)  # OGC API: a server may return fewer than asked, never an error
        coll = cat.collection(collection_id, audience)
        offered = cat.crs_offered()
        out_crs = choose(crs, offered, "crs")
        box_crs = choose(bbox_crs, offered, "bbox-crs")
        if filter_crs is not None and choose(filter_crs, offered, "filter-crs") != CRS84:
            raise BadParameter("filters are evaluated in CRS84 only", hint=f"leave filter-crs out or use {CRS84}")
        box = parse_bbox(bbox)
        tree = cql.parse(filter_, filter_lang) if filter_ else None
        if served_as_stored(coll.record_type, audience) and box_crs == CRS84 and not datetime and tree is None:
            frame, matched = cat.reading(lambda s: page_of(s, coll.record_type, box, limit, offset))
            page = Table.of(frame, stored_columns(coll.record_type), coll.record_type, aggregated=False)
        else:
            table = cat.table(coll, audience)
            mask = selected(table, coll.id, box=box, box_epsg=epsg_of(box_crs), period=datetime, tree=tree)
            page, matched = table.take(mask, limit, offset)
        path = f"/collections/{coll.id}/items"
        keep = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit", "f")}
        page_links = [
            {"href": url(request, path, **keep, limit=limit, offset=offset or None, f="json"), "rel": "self",
             "type": GEOJSON, "title": "this page"},
            {"href": url(request, path, **keep, limit=limit, offset=offset or None, f="html"), "rel": "alternate",
             "type": "text/html", "title": "this page (HTML)"},
            {"href": url(request, f"/collections/{coll.id}"), "rel": "collection", "type": "application/json",
             "title": coll.title},
        ]  # fmt: skip
        if offset + len(page.ids) < matched:
            page_links.append(
                {"href": url(request, path, **keep, limit=limit, offset=offset + limit), "rel": "next", "type": GEOJSON}
            )
        if offset > 0:
            prev = max(0, offset - limit)
            page_links.append(
                {"href": url(request, path, **keep, limit=limit, offset=prev or None), "rel": "prev", "type": GEOJSON}
            )
        members = {"numberMatched": int(matched), "numberReturned": len(page.ids), "links": page_links}
        headers = {"Content-Crs": f"<{out_crs}>"}
        if wants_html(request, f):
            body = {"type": "FeatureCollection", "features": features(page), **members}
            return answer(request, f, body, coll.title, columns=page.columns)
        text = feature_collection_json(page, epsg_of(out_crs), members)
        return Response(text.encode("utf-8"), media_type=GEOJSON, headers=headers)

    @router.get(
        "/collections/{collection_id}/items/{feature_id}",
        summary="One feature",
        tags=["OGC API Features"],
        response_class=GeoJSONResponse,
        responses=GEOJSON_OR_HTML,
    )
    def item(
        request: Request,
        collection_id: str,
        feature_id: str,
        reader: Reader,
        cat: Cat,
        crs: Annotated[str | None, Query(description="the CRS of the geometry returned")] = None,
        f: Format = None,
    ) -> Response:
        from safeground.errors import RecordNotFound

        coll = cat.collection(collection_id, reader.audience)
        out_crs = choose(crs, cat.crs_offered(), "crs")
        found = cat.table(coll, reader.audience).find(feature_id)
        if found is None:
            raise RecordNotFound(
                f"{coll.id} has no feature {feature_id!r}", hint=f"/collections/{coll.id}/items lists its features"
            )
        body = features(found, epsg_of(out_crs))[0]
        path = f"/collections/{coll.id}/items/{feature_id}"
        body["links"] = [
            *links(request, path, feature_id, GEOJSON),
            {"href": url(request, f"/collections/{coll.id}"), "rel": "collection", "type": "application/json",
             "title": coll.title},
        ]  # fmt: skip
        return answer(request, f, body, f"{coll.title}: {feature_id}", headers={"Content-Crs": f"<{out_crs}>"})


def _json_schema(kind: str) -> dict[str, str]:
    return {
        "integer": {"type": "integer"},
        "real": {"type": "number"},
        "boolean": {"type": "boolean"},
        "date": {"type": "string", "format": "date"},
        "datetime": {"type": "string", "format": "date-time"},
    }.get(kind, {"type": "string"})
