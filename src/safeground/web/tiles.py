"""Mapbox Vector Tiles of a reader's view: the web map draws what the items endpoint serves, nothing more.

A tile is cut from the *view* the reader's audience may see (:class:`~safeground.web.features.Table`,
made by :func:`safeground.access.view`), never from the stored records: a public tile holds the
generalised outlines and cell counts the public GeoJSON holds, so zooming in to level 22 shows a
1 km cell's centre, not a mine. The features of a tile are the view's features whose envelope meets
the tile (as ``bbox`` selects items), clipped to the tile and a small buffer around it, simplified to
the tile's resolution and encoded by ``mapbox-vector-tile``. A layer the audience reads exactly as
stored may instead be cut by the database itself (PostGIS ``ST_AsMVT``, :func:`stored_tile`).

Tiles use the ``WebMercatorQuad`` tile matrix set of OGC API Tiles (EPSG:3857, the one every web map
draws), addressed ``{tileMatrix}/{tileRow}/{tileCol}`` = ``{z}/{y}/{x}``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from safeground.errors import RecordNotFound
from safeground.web.errors import BadParameter
from safeground.web.features import Table

TMS = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MVT = "application/vnd.mapbox-vector-tile"
#: tile coordinates per side (the MVT default) and the buffer kept around a tile, in those units
EXTENT = 4096
BUFFER = 64
#: the deepest level served: a tile of about 10 m, finer than any generalised position
MAX_ZOOM = 22
#: half the side of the Web Mercator square, metres
HALF = 20037508.342789244
#: polygon layers whose id is drawn as a label, and the property the label shows: each gets a point layer
#: ``{name}_labels`` of one point per feature, in exactly one tile of a level (see :meth:`TileLayer.labels`)
LABELLED = {"hazard_areas": "uid", "minefield_records": "uid"}
LABELS_SUFFIX = "_labels"

_TO_3857 = Transformer.from_crs(4326, 3857, always_xy=True)


def check_tile(z: int, row: int, col: int) -> None:
    """A tile of the matrix set, or a 404 that says which ones exist (OGC API Tiles: outside the limits)."""
    if not 0 <= z <= MAX_ZOOM:
        raise RecordNotFound(f"there is no tile level {z}", hint=f"tile levels go from 0 to {MAX_ZOOM}")
    n = 1 << z
    if not (0 <= row < n and 0 <= col < n):
        raise RecordNotFound(
            f"there is no tile {z}/{row}/{col}", hint=f"at level {z} rows and columns go from 0 to {n - 1}"
        )


def tile_bounds(z: int, row: int, col: int) -> tuple[float, float, float, float]:
    """The tile's bounds in EPSG:3857 metres (west, south, east, north)."""
    size = 2 * HALF / (1 << z)
    west, north = -HALF + col * size, HALF - row * size
    return west, north - size, west + size, north


def tile_lonlat(z: int, row: int, col: int) -> tuple[float, float, float, float]:
    """The tile's bounds in WGS 84 degrees (west, south, east, north)."""
    w, s, e, n = tile_bounds(z, row, col)
    t = Transformer.from_crs(3857, 4326, always_xy=True)
    (lon0, lon1), (lat0, lat1) = t.transform([w, e], [s, n])
    return lon0, lat0, lon1, lat1


def lonlat_to_tile(z: int, lon: float, lat: float) -> tuple[int, int]:
    """The (row, col) of the tile holding a point at level ``z``."""
    x, y = _TO_3857.transform(lon, lat)
    size = 2 * HALF / (1 << z)
    return int((HALF - y) // size), int((x + HALF) // size)


def _value(v: Any) -> Any:
    """A property value as MVT carries it (text, number, boolean), or None to leave it out."""
    if v is None or v is pd.NaT or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, np.generic):
        return _value(v.item())
    if isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dt.datetime) and v.utcoffset() == dt.timedelta(0):
        return v.replace(tzinfo=None).isoformat() + "Z"
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, list | dict | tuple):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


@dataclass
class TileLayer:
    """One view's features ready to be cut into tiles: geometries in EPSG:3857 and an index over them."""

    name: str
    table: Table
    geoms: np.ndarray = field(repr=False)  # shapely geometries in EPSG:3857 (None where missing)
    tree: shapely.STRtree = field(repr=False)
    _points: np.ndarray | None = field(default=None, repr=False)  # label points (EPSG:3857), made when asked

    @classmethod
    def of(cls, name: str, table: Table) -> TileLayer:
        if not table.has_geometry:
            raise BadParameter(f"{name} has no geometry to draw as tiles", hint="read it as items instead")
        arr = table.frame.geometry.to_numpy()
        geoms = shapely.transform(arr, lambda xy: np.column_stack(_TO_3857.transform(xy[:, 0], xy[:, 1])))
        return cls(name, table, geoms, shapely.STRtree(geoms))

    def selected(self, z: int, row: int, col: int) -> np.ndarray:
        """Rows whose envelope meets the tile (what ``bbox`` of the tile's bounds selects), in id order."""
        return np.sort(self.tree.query(shapely.box(*tile_bounds(z, row, col))))

    def features(self, z: int, row: int, col: int) -> list[dict[str, Any]]:
        w, s, e, n = tile_bounds(z, row, col)
        pad = (e - w) * BUFFER / EXTENT
        rows = self.selected(z, row, col)
        if not len(rows):
            return []
        geoms = shapely.clip_by_rect(self.geoms[rows], w - pad, s - pad, e + pad, n + pad)
        geoms = shapely.simplify(geoms, (e - w) / EXTENT / 2, preserve_topology=True)
        frame, ids, columns = self.table.frame, self.table.ids, self.table.columns
        values = frame[columns].iloc[rows].to_numpy(dtype=object) if columns else np.empty((len(rows), 0))
        out = []
        for k, g in enumerate(geoms):
            if g is None or g.is_empty:
                continue
            props = {"fid": str(ids[rows[k]])}
            for c, v in zip(columns, values[k], strict=True):
                pv = _value(v)
                if pv is not None:
                    props[c] = pv
            out.append({"geometry": g, "properties": props})
        return out

    @property
    def label_points(self) -> np.ndarray:
        """One point per feature, on its surface (shapely ``point_on_surface``), in EPSG:3857.

        Computed from the *whole* geometry of the reader's view, never from a tile's clipped piece: the
        piece's label would repeat once per tile a large area spans, and its point would move from level
        to level. From the view, so it is never more precise than what the reader may see: a public or
        viewer's point lies on the generalised outline's surface, not on the stored one."""
        if self._points is None:
            self._points = shapely.point_on_surface(self.geoms)
        return self._points

    def labels(self, z: int, row: int, col: int) -> list[dict[str, Any]]:
        """The label points that fall in this tile, with the feature's ``fid`` and label property only.

        A point belongs to the one tile whose row and column it rounds down to (as :func:`lonlat_to_tile`),
        so a point on a tile's edge is in one tile, not in both, and MapLibre draws each id once."""
        prop = LABELLED.get(self.name)
        if prop is None:
            return []
        points = self.label_points
        rows = self.tree.query(shapely.box(*tile_bounds(z, row, col)))  # envelopes meet the tile
        if not len(rows):
            return []
        rows = np.sort(rows)
        pts = points[rows]
        ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
        rows, pts = rows[ok], pts[ok]
        size = 2 * HALF / (1 << z)
        x, y = shapely.get_x(pts), shapely.get_y(pts)
        mine = (np.floor((HALF - y) / size) == row) & (np.floor((x + HALF) / size) == col)
        frame, ids = self.table.frame, self.table.ids
        values = frame[prop].to_numpy(dtype=object) if prop in self.table.columns else None
        out = []
        for k, p in zip(rows[mine], pts[mine], strict=True):
            props: dict[str, Any] = {"fid": str(ids[k])}
            v = _value(values[k]) if values is not None else None
            if v is not None:
                props[prop] = v
            out.append({"geometry": p, "properties": props})
        return out


def encode(layers: list[tuple[str, list[dict[str, Any]]]], z: int, row: int, col: int) -> bytes:
    """The tile holding ``layers`` (name, features in EPSG:3857); an empty tile is zero bytes."""
    present = [{"name": name, "features": feats} for name, feats in layers if feats]
    if not present:
        return b""
    options = {
        "quantize_bounds": tile_bounds(z, row, col),
        "extents": EXTENT,
        "on_invalid_geometry": mapbox_vector_tile.encoder.on_invalid_geometry_make_valid,
    }
    data: bytes = mapbox_vector_tile.encode(present, default_options=options)
    return data


def stored_tile(store: Any, record_type: Any, z: int, row: int, col: int) -> bytes | None:
    """The tile cut by the database (PostGIS ``ST_AsMVT``) for a layer served as stored, or None when the
    store cannot (a GeoPackage): then the caller cuts it from the view."""
    cut = getattr(store, "vector_tile", None)
    if cut is None:
        return None
    data: bytes = cut(record_type, z, col, row, extent=EXTENT, buffer=BUFFER)
    return data


def tileset(name: str, base: str, path: str, title: str, vector_layers: list[dict[str, Any]]) -> dict[str, Any]:
    """The tileset's metadata: OGC API Tiles' tileset document, with the TileJSON members MapLibre reads
    (``tiles``, ``minzoom``, ``maxzoom``, ``vector_layers``), so a map source may name it as its ``url``."""
    template = f"{base}{path}/{{z}}/{{y}}/{{x}}"
    return {
        "title": title,
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": [
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": (1 << z) - 1,
                "minTileCol": 0,
                "maxTileCol": (1 << z) - 1,
            }
            for z in range(MAX_ZOOM + 1)
        ],
        "layers": [{"id": v["id"], "dataType": "vector", "geometryType": v.get("geometryType")} for v in vector_layers],
        "links": [
            {"href": f"{base}{path}", "rel": "self", "type": "application/json", "title": f"{title}: this tileset"},
            {
                "href": TMS_URI,
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                "type": "application/json",
                "title": "the WebMercatorQuad tile matrix set",
            },
            {
                "href": f"{base}{path}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
                "rel": "item",
                "type": MVT,
                "templated": True,
                "title": "a tile (Mapbox Vector Tile)",
            },
        ],
        # TileJSON 3.0 (MapLibre: "source": {"type": "vector", "url": this document})
        "tilejson": "3.0.0",
        "name": name,
        "tiles": [template],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "vector_layers": vector_layers,
    }
