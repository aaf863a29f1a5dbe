"""A layer as the server serves it: the reader's view, its feature ids, filtering, paging and GeoJSON.

Every filter (``bbox``, ``datetime``, CQL2) is applied to the *view* the reader's audience may see
(:func:`safeground.access.view`), never to the stored records: a bounding box or a filter applied to
exact positions would let a reader locate a mine by bisecting the box, whatever geometry came back.
Only a layer the audience reads exactly as stored (no policy rule, no restricted field) is paged in
the store itself, by :func:`page_of`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safeground.access.audience import Audience
from safeground.access.policy import View, may_read_layer, rules_for
from safeground.model.base import Record
from safeground.storage.base import BBox, Store
from safeground.storage.schema import layout_of
from safeground.web.errors import BadParameter

#: the date a layer's features are filtered on with ``datetime``: (start field, end field or None).
#: A layer not listed is filtered on the date its information was true.
TIME_FIELDS: dict[str, tuple[str, str | None]] = {
    "accidents": ("accident_date", None),
    "activities": ("start_date", "end_date"),
    "cluster_strikes": ("strike_date", None),
    "front_lines": ("valid_from", "valid_to"),
}


def time_fields(layer: str) -> tuple[str, str | None]:
    return TIME_FIELDS.get(layer, ("date_of_information", None))


def page_of(
    store: Store, cls: type[Record], bbox: BBox | None, limit: int, offset: int
) -> tuple[gpd.GeoDataFrame, int]:
    """One page of a layer's current records as stored, in uid order, and how many match the box.

    The database skips and orders (``Store.page``) and counts (``Store.count_matching``), so page
    1,000 of a national layer costs one page; the records come back in the columns ``read_frame``
    gives, as the layer's ``Layout`` encodes them."""
    lay = layout_of(cls)
    records = store.page(cls, bbox=bbox, limit=limit, offset=offset)
    frame = pd.DataFrame([lay.encode(r) for r in records], columns=lay.column_names)
    if lay.geometry_type:
        frame = gpd.GeoDataFrame(frame, geometry=[r.geometry for r in records], crs=4326)  # type: ignore[attr-defined]
    else:
        frame = gpd.GeoDataFrame(frame)
    return frame, store.count_matching(cls, bbox=bbox)


def served_as_stored(cls: type[Record], audience: Audience) -> bool:
    """True when ``view`` gives this audience the layer exactly as stored (so the store may page it)."""
    if not may_read_layer(cls, audience):
        return False
    if audience.exact:
        return True
    return not rules_for(cls.LAYER) and not any(c.restricted for c in layout_of(cls).columns)


def stored_columns(cls: type[Record]) -> list[str]:
    """The attribute columns of a layer served as stored (what ``view`` lists for it)."""
    return [c.name for c in layout_of(cls).columns]


@dataclass
class Table:
    """Features of one collection, sorted by id: what filters and pages work on."""

    frame: pd.DataFrame  # a GeoDataFrame in WGS 84 when the layer has geometry
    ids: np.ndarray  # str per row
    columns: list[str]  # the properties, in order
    kinds: dict[str, str]  # column → text, integer, real, boolean, date, datetime (queryables)
    has_geometry: bool

    @classmethod
    def of(cls, frame: pd.DataFrame, columns: list[str], record_type: type[Record], aggregated: bool) -> Table:
        if "uid" in frame.columns:
            ids = frame["uid"].astype(str).to_numpy()
        elif "cell" in frame.columns and aggregated:
            ids = frame["cell"].astype(str).to_numpy()
        else:  # rows without an identifier (k-anonymous victims): their place in the sorted view
            ids = np.array([str(i + 1) for i in range(len(frame))], dtype=object)
        order = np.argsort(ids, kind="stable") if "uid" in frame.columns or aggregated else np.arange(len(ids))
        frame = frame.iloc[order].reset_index(drop=True)
        has_geometry = record_type.GEOMETRY is not None and isinstance(frame, gpd.GeoDataFrame) and "geometry" in frame
        return cls(frame, ids[order], columns, _kinds(frame, columns, record_type), has_geometry)

    @classmethod
    def of_view(cls, seen: View, record_type: type[Record]) -> Table:
        return cls.of(seen.frame, seen.columns, record_type, seen.aggregated)

    def take(self, mask: np.ndarray | None, limit: int, offset: int) -> tuple[Table, int]:
        frame, ids = (self.frame, self.ids) if mask is None else (self.frame[mask], self.ids[mask])
        sl = slice(offset, offset + limit)
        page = Table(frame.iloc[sl].reset_index(drop=True), ids[sl], self.columns, self.kinds, self.has_geometry)
        return page, len(ids)

    def find(self, fid: str) -> Table | None:
        hit = self.ids == fid
        return None if not hit.any() else self.take(hit, 1, 0)[0]


def _kinds(frame: pd.DataFrame, columns: list[str], record_type: type[Record]) -> dict[str, str]:
    stored = {c.name: c.kind for c in layout_of(record_type).columns}
    out = {}
    for c in columns:
        kind = stored.get(c)
        if kind is None or kind == "json":
            s = frame[c] if c in frame else pd.Series(dtype=object)
            kind = (
                "integer" if pd.api.types.is_integer_dtype(s)
                else "real" if pd.api.types.is_float_dtype(s)
                else "boolean" if pd.api.types.is_bool_dtype(s)
                else "text"
            )  # fmt: skip
        out[c] = kind
    return out


# -- filters ----------------------------------------------------------------------------------------------
def parse_bbox(text: str | None) -> BBox | None:
    if text is None or not text.strip():
        return None
    try:
        nums = [float(v) for v in text.split(",")]
    except ValueError:
        nums = []
    if len(nums) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights are not stored
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums) or nums[0] > nums[2] or nums[1] > nums[3]:
        raise BadParameter(
            f"bbox={text} is not four numbers west,south,east,north", hint="e.g. bbox=46.70,39.60,46.80,39.70"
        )
    return nums[0], nums[1], nums[2], nums[3]


def in_box(table: Table, bbox: BBox, epsg: int) -> np.ndarray:
    """Features whose envelope meets the box (in the box's CRS): what the stores' bbox queries answer."""
    if not table.has_geometry:
        raise BadParameter("this collection has no geometry to filter with bbox", hint="leave bbox out")
    geoms = table.frame.geometry
    if epsg != 4326:
        geoms = geoms.to_crs(epsg)
    b = shapely.bounds(geoms.to_numpy())
    minx, miny, maxx, maxy = bbox
    with np.errstate(invalid="ignore"):
        inside: np.ndarray = (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
    return inside


def parse_datetime(text: str) -> tuple[dt.date | None, dt.date | None]:
    """An instant or an interval (``a/b``, ``../b``, ``a/..``) as the dates it covers (None: open)."""

    def one(part: str) -> dt.date | None:
        part = part.strip()
        if part in ("..", ""):
            return None
        try:
            day: dt.date = pd.Timestamp(part).date()
            return day
        except ValueError:
            raise BadParameter(
                f"datetime={text} is not a date, a date-time or an interval",
                hint="e.g. datetime=2021-03-01, datetime=2021-01-01/2021-06-30 or datetime=../2021-06-30",
            ) from None

    if "/" in text:
        a, b = text.split("/", 1)
        return one(a), one(b)
    d = one(text)
    if d is None:
        raise BadParameter(f"datetime={text} is not a date", hint="e.g. datetime=2021-03-01")
    return d, d


def in_period(table: Table, layer: str, text: str) -> np.ndarray:
    start_f, end_f = time_fields(layer)
    if start_f not in table.frame.columns:
        raise BadParameter(
            f"the features of {layer} carry no date this audience may filter on",
            hint="leave datetime out for this collection",
        )
    lo, hi = parse_datetime(text)
    start = pd.to_datetime(table.frame[start_f], errors="coerce")
    end = pd.to_datetime(table.frame[end_f], errors="coerce") if end_f and end_f in table.frame else start
    end = end.fillna(pd.Timestamp.max) if end_f else end  # an activity not finished goes on
    keep: np.ndarray = start.notna().to_numpy().copy()
    if hi is not None:
        keep &= (start <= pd.Timestamp(hi)).to_numpy()
    if lo is not None:
        keep &= (end >= pd.Timestamp(lo)).to_numpy()
    return keep


def selected(
    table: Table, layer: str, *, box: BBox | None, box_epsg: int, period: str | None, tree: Any
) -> np.ndarray | None:
    """The features of the view that ``bbox`` (in ``box_epsg``), ``datetime`` and a CQL2 tree select
    (None: all of them)."""
    from safeground.web import cql

    mask: np.ndarray | None = None
    for m in (
        None if box is None else in_box(table, box, box_epsg),
        None if not period else in_period(table, layer, period),
        None if tree is None else cql.matches(tree, table.frame, table.kinds).to_numpy(),
    ):
        if m is not None:
            mask = m if mask is None else mask & m
    return mask


# -- GeoJSON ----------------------------------------------------------------------------------------------
def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, np.generic):
        return _plain(v.item())
    if isinstance(v, dt.datetime) and v.utcoffset() == dt.timedelta(0):
        # UTC as SafeGround stores it ("…Z"), whichever backend's driver turned it into an object
        return v.replace(tzinfo=None).isoformat() + "Z"
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return v


def _parts(table: Table, epsg: int) -> tuple[list[str | None], list[dict[str, Any]]]:
    """Each feature's geometry as GeoJSON text (GEOS writes it, exactly) and its properties."""
    frame = table.frame
    geojson: list[str | None] = [None] * len(frame)
    if table.has_geometry and len(frame):
        geoms = frame.geometry if epsg == 4326 else frame.geometry.to_crs(epsg)
        arr = geoms.to_numpy()
        missing = shapely.is_missing(arr)
        texts = shapely.to_geojson(np.where(missing, None, arr))
        geojson = [None if m else t for t, m in zip(texts, missing, strict=True)]
    records = frame[table.columns].to_dict("records") if table.columns else [{} for _ in range(len(frame))]
    return geojson, [{k: _plain(v) for k, v in props.items()} for props in records]


def features(table: Table, epsg: int = 4326) -> list[dict[str, Any]]:
    """GeoJSON features as objects (geometry in ``epsg``; 4326 means CRS84: longitude, latitude)."""
    geojson, props = _parts(table, epsg)
    return [
        {"type": "Feature", "id": str(fid), "geometry": None if g is None else json.loads(g), "properties": p}
        for fid, g, p in zip(table.ids, geojson, props, strict=True)
    ]


def label_points(table: Table) -> Table:
    """The features as one point each on their surface (shapely ``point_on_surface``: inside the polygon, unlike
    a centroid of an L-shaped area), with only their ``uid``: where a map writes each id once. A table without
    geometry, or a feature without one, stays without."""
    frame = table.frame
    if not table.has_geometry:
        return Table(frame[[]], table.ids, [], {}, False)
    points = shapely.point_on_surface(np.asarray(frame.geometry.values))
    out = gpd.GeoDataFrame({"uid": table.ids}, geometry=points, crs=frame.crs)
    return Table(out, table.ids, ["uid"], {"uid": "text"}, True)


def feature_collection_json(table: Table, epsg: int, members: dict[str, Any]) -> str:
    """The FeatureCollection as JSON text, the geometry written once by GEOS instead of being parsed
    into Python lists and written again (three times faster on generalised outlines)."""
    geojson, props = _parts(table, epsg)
    feats = ",".join(
        f'{{"type":"Feature","id":{json.dumps(str(fid))},"geometry":{g or "null"},'
        f'"properties":{json.dumps(p, ensure_ascii=False, allow_nan=False)}}}'
        for fid, g, p in zip(table.ids, geojson, props, strict=True)
    )
    rest = json.dumps(members, ensure_ascii=False, allow_nan=False)
    return f'{{"type":"FeatureCollection","features":[{feats}]' + ("," + rest[1:] if members else "}")
