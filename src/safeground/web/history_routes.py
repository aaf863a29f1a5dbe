"""The record through time over HTTP: a feature's versions, and a collection as it stood on a day.

* ``GET /collections/{id}/items/{fid}/history``: every version of one feature, oldest first, each
  as the reader's audience may read it, with the day it came into force, the day the next one
  replaced it and the fields it changed (what the map's side panel shows).
* ``GET /collections/{id}/history?as_of=YYYY-MM-DD[&filter=CQL2]``: the collection as it stood on that
  day, as a GeoJSON FeatureCollection (what the map's date slider draws), optionally filtered like
  ``/items`` (on what the reader sees). With ``labels=true``: one point per feature on its surface, holding only
  its ``uid``, where a map writes the id once (a GeoJSON polygon's own label repeats in every internal tile a
  large area spans, as the vector tiles' ``{id}_labels`` layer avoids for today's record).

Both read the store through :mod:`safeground.services.timeline`, which hands the versions to the
same audience policy as ``/items``: a layer the reader may not read is refused the same way, and a
field withheld today is withheld from every old version too.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from safeground.services import timeline
from safeground.web import cql
from safeground.web.catalogue import Catalogue
from safeground.web.features import Table, feature_collection_json, features, label_points, selected
from safeground.web.ogc import GEOJSON, GeoJSONResponse
from safeground.web.permissions import Principal, requires

Reader = Annotated[Principal, Depends(requires("read:public"))]


def _catalogue(request: Request) -> Catalogue:
    return request.app.state.catalogue  # type: ignore[no-any-return]


class _AsOfCache:
    """The last answers of ``/history?as_of``, each kept ``ttl_s`` seconds (a slider asks for the same days
    again and again while it is dragged back and forth)."""

    def __init__(self, ttl_s: float, size: int = 64) -> None:
        self.ttl_s, self.size = ttl_s, size
        self._hits: dict[tuple[str, str, str, str, bool], tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str, str, bool]) -> bytes | None:
        with self._lock:
            hit = self._hits.get(key)
            return hit[1] if hit is not None and time.monotonic() - hit[0] < self.ttl_s else None

    def put(self, key: tuple[str, str, str, str, bool], data: bytes) -> None:
        with self._lock:
            if len(self._hits) >= self.size:
                self._hits.pop(min(self._hits, key=lambda k: self._hits[k][0]))
            self._hits[key] = (time.monotonic(), data)


def add_history_routes(app: FastAPI) -> None:
    cache = _AsOfCache(max(app.state.settings.view_ttl_s, 0.0))

    @app.get(
        "/collections/{collection_id}/items/{feature_id}/history",
        summary="Every version of one feature, as this reader may read each",
        tags=["history"],
    )
    def feature_history(request: Request, collection_id: str, feature_id: str, reader: Reader) -> Response:
        cat = _catalogue(request)
        coll = cat.collection(collection_id, reader.audience)
        seen = cat.reading(lambda s: timeline.view_history(s, coll.record_type, feature_id, reader.audience))
        table = Table.of_view(seen, coll.record_type)
        feats = features(table)
        geoms = list(table.frame.geometry) if table.has_geometry else [None] * len(feats)
        changed = timeline.changes([f["properties"] for f in feats], geoms)
        versions: list[dict[str, Any]] = []
        for i, f in enumerate(feats):
            p = f["properties"]
            nxt = feats[i + 1]["properties"].get("date_of_information") if i + 1 < len(feats) else None
            versions.append({
                "version": p.get("version"),
                "valid_from": p.get("date_of_information"),
                "valid_to": nxt,
                "entered_by": p.get("entered_by"),
                "entered_at": p.get("entered_at"),
                "change_reason": p.get("change_reason"),
                "changed": changed[i],
                "feature": f,
            })  # fmt: skip
        body = {
            "collection": coll.id,
            "id": feature_id,
            "versions": versions,
            "left_out": seen.left_out,
            "links": [
                {"href": f"/collections/{coll.id}/items/{feature_id}", "rel": "item", "type": GEOJSON},
                {"href": f"/collections/{coll.id}", "rel": "collection", "type": "application/json"},
            ],
        }
        return JSONResponse(body)

    @app.get(
        "/collections/{collection_id}/history",
        summary="The collection as it stood on a day (as_of), as this reader may read it",
        tags=["history"],
        response_class=GeoJSONResponse,
    )
    def collection_as_of(
        request: Request,
        collection_id: str,
        reader: Reader,
        as_of: Annotated[str, Query(description="the day, YYYY-MM-DD: each record's version in force then")],
        filter_: Annotated[str | None, Query(alias="filter", description="a CQL2 text filter (basic CQL2)")] = None,
        labels: Annotated[
            bool, Query(description="one point per feature on its surface, with only its uid (where to write its id)")
        ] = False,
    ) -> Response:
        cat = _catalogue(request)
        coll = cat.collection(collection_id, reader.audience)
        day = timeline.parse_day(as_of)
        tree = cql.parse(filter_, "cql2-text") if filter_ else None
        key = (coll.id, reader.audience.value, day.isoformat(), filter_ or "", labels)
        data = cache.get(key)
        if data is None:
            seen = cat.reading(lambda s: timeline.view_as_of(s, coll.record_type, reader.audience, day))
            table = Table.of_view(seen, coll.record_type)
            mask = selected(table, coll.id, box=None, box_epsg=4326, period=None, tree=tree)
            if mask is not None:
                table = table.take(mask, len(table.ids), 0)[0]
            members = {"numberMatched": len(table.ids), "numberReturned": len(table.ids), "asOf": day.isoformat()}
            if labels:
                table = label_points(table)
            data = feature_collection_json(table, 4326, members).encode("utf-8")
            cache.put(key, data)
        return Response(data, media_type=GEOJSON)
