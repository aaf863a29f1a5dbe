"""Vector tiles on a real uvicorn, on a GeoPackage (Python encoder) and PostGIS (ST_AsMVT), per role.

A tile is decoded (mapbox-vector-tile, and GDAL's MVT driver) and held against the items endpoint for the
tile's bounds, for the same reader: the same features, the same properties, the same places to the tile's
resolution. The public's and a viewer's tiles are searched for the restricted positions as the items are.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import mapbox_vector_tile
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from safeground.access import Audience, view
from safeground.geometry.generalise import OUTLINE_GRID_M
from safeground.model import RECORD_TYPES
from safeground.services import accounts as acc_svc
from safeground.storage import open_store
from safeground.web.tiles import EXTENT, LABELLED, lonlat_to_tile, tile_bounds, tile_lonlat
from tests.test_public_outputs import CENTRE, END, restricted_positions
from tests.test_server import PUBLIC, RESTRICTED, contextlib_for
from tests.web_server import serve_cli

MVT = "application/vnd.mapbox-vector-tile"
PASSWORD = "the long road to Chaykend"
DRAWN = [n for n in PUBLIC if RECORD_TYPES[n].GEOMETRY]
#: the label point layers the tiles of the labelled polygon layers carry (one point per feature)
LABELS = [f"{n}_labels" for n in DRAWN if n in LABELLED]
ROLES = {"public": None, "view": "viewer", "ana": "analyst"}
TO_LONLAT = Transformer.from_crs(3857, 4326, always_xy=True)


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def served(
    request: pytest.FixtureRequest, small_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, dict[str, str | None]]]:
    """(URL, store location, role user → API token; the public has none)."""
    copy = tmp_path_factory.mktemp("tiles") / "s.gpkg"
    shutil.copy(small_store, copy)
    with contextlib_for(request.param, copy) as location:
        if not [o for o in acc_svc.organisations(location) if o.acronym == "NMAA"]:
            acc_svc.add_organisation(location, "Org NMAA", "national_authority", acronym="NMAA", actor="setup")
        tokens: dict[str, str | None] = {"public": None}
        for name, role in ROLES.items():
            if role is None:
                continue
            acc_svc.add_user(location, name, full_name=name, organisation="NMAA", role=role, password=PASSWORD,
                             actor="setup")  # fmt: skip
            tokens[name] = acc_svc.add_token(location, name, "map", actor="setup")
        with serve_cli(location) as url:
            yield url, location, tokens


def _get(url: str, path: str, token: str | None, **params: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url + path, params=params, headers=headers, timeout=120)  # type: ignore[arg-type]


def _decode(data: bytes) -> dict[str, list[dict]]:
    return {k: v["features"] for k, v in mapbox_vector_tile.decode(data).items()}


def _to_lonlat(coords: np.ndarray, z: int, row: int, col: int) -> np.ndarray:
    w, s, e, n = tile_bounds(z, row, col)
    x = w + coords[:, 0] / EXTENT * (e - w)
    y = s + coords[:, 1] / EXTENT * (n - s)  # decoded with the y axis up
    return np.column_stack(TO_LONLAT.transform(x, y))


def _tiles_over(store_location: str, z: int) -> list[tuple[int, int]]:
    with open_store(store_location, create=False, readonly=True) as store:
        w, s, e, n = store.area_of_interest()
    (r0, c0), (r1, c1) = lonlat_to_tile(z, w, n), lonlat_to_tile(z, e, s)
    return [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


def _items(url: str, layer: str, token: str | None, bbox: tuple[float, ...]) -> dict[str, dict]:
    r = _get(url, f"/collections/{layer}/items", token, limit=10_000, bbox=",".join(map(str, bbox)))
    assert r.status_code == 200, r.text
    return {f["id"]: f for f in r.json()["features"]}


@pytest.mark.parametrize("user", list(ROLES))
def test_a_tile_holds_the_items_of_its_bounds_as_the_reader_reads_them(served, user):
    url, location, tokens = served
    token = tokens[user]
    z = 14
    corner = _tiles_over(location, z)[0]
    r0, c0 = lonlat_to_tile(z, *_centre(location))
    compared = 0
    for row, col in ((r0, c0), corner):
        r = _get(url, f"/tiles/WebMercatorQuad/{z}/{row}/{col}", token)
        assert r.status_code == 200 and r.headers["content-type"] == MVT
        assert r.headers["vary"] == "Authorization, Cookie"
        assert r.headers["cache-control"].startswith("public" if token is None else "private")
        layers = _decode(r.content)
        box = tile_lonlat(z, row, col)
        readable = DRAWN + ([n for n in RESTRICTED if RECORD_TYPES[n].GEOMETRY] if user == "ana" else [])
        assert set(layers) <= set(readable) | {f"{n}_labels" for n in readable if n in LABELLED}
        for layer in readable:
            items = _items(url, layer, token, box)
            feats = layers.get(layer, [])
            fids = [f["properties"]["fid"] for f in feats]
            assert len(fids) == len(set(fids)) and set(fids) <= set(items), layer
            # every item that really meets the tile is in it (an envelope meeting it may clip to nothing)
            tile_box = shapely.box(*box)
            meets = {i for i, f in items.items() if shapely.geometry.shape(f["geometry"]).intersects(tile_box)}
            assert meets <= set(fids), (layer, sorted(meets - set(fids))[:5])
            for f in feats:
                item = items[f["properties"]["fid"]]
                want = {k: v for k, v in item["properties"].items() if v is not None}
                got = {k: v for k, v in f["properties"].items() if k != "fid"}
                assert got == {k: _as_mvt(v) for k, v in want.items()}, (layer, f["properties"]["fid"])
                if f["geometry"]["type"] == "Point":
                    (lon, lat), *_ = _to_lonlat(np.array([f["geometry"]["coordinates"]], float), z, row, col)
                    x, y = item["geometry"]["coordinates"]
                    assert abs(lon - x) < 1e-4 and abs(lat - y) < 1e-4, (layer, f["properties"]["fid"])
                compared += 1
    assert compared > 50
    collection = _get(url, f"/collections/hazard_areas/tiles/WebMercatorQuad/{z}/{r0}/{c0}", token)
    assert set(_decode(collection.content)) == {"hazard_areas", "hazard_areas_labels"}
    assert sorted(f["properties"]["fid"] for f in _decode(collection.content)["hazard_areas"]) == sorted(
        f["properties"]["fid"]
        for f in _decode(_get(url, f"/tiles/WebMercatorQuad/{z}/{r0}/{c0}", token).content)["hazard_areas"]
    )


def _centre(location: str) -> tuple[float, float]:
    with open_store(location, create=False, readonly=True) as store:
        w, s, e, n = store.area_of_interest()
    return (w + e) / 2, (s + n) / 2


def _as_mvt(v: object) -> object:
    """A GeoJSON property value as an MVT tile carries it (lists and objects as JSON text)."""
    import json

    return json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v


@pytest.mark.parametrize("user", ["public", "view"])
def test_no_tile_a_reader_below_restricted_gets_holds_a_restricted_position(served, user):
    url, location, tokens = served
    token = tokens[user]
    with open_store(location, create=False, readonly=True) as store:
        r = restricted_positions(store)
    to_m = Transformer.from_crs(4326, r.epsg, always_xy=True)
    z, found, n_vertices = 16, [], 0
    for row, col in _tiles_over(location, z):
        for layer, feats in _decode(_get(url, f"/tiles/WebMercatorQuad/{z}/{row}/{col}", token).content).items():
            assert layer in DRAWN or layer in LABELS, layer
            for f in feats:
                coords = np.array(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])), float)
                inside = ((coords >= 0) & (coords <= EXTENT)).all(axis=1)  # not a vertex the clipping made
                lonlat = _to_lonlat(coords[inside], z, row, col)
                xy = np.column_stack(to_m.transform(lonlat[:, 0], lonlat[:, 1]))
                # a label point is a point on an area's surface: held as a centre is (Restricted.near: against
                # the accidents an area may be drawn around; the middle of a minefield is among its mines)
                found += [CENTRE[None, :], xy, END[None, :]] if layer in LABELS else [xy]
                n_vertices += int(inside.sum())
    xy = np.vstack(found)
    # a tile keeps a position to a few centimetres at this level: a vertex that close to a node of the
    # policy's 25 m grid is that node (the search leaves grid nodes out)
    node = np.round(xy / OUTLINE_GRID_M) * OUTLINE_GRID_M
    xy = np.where((np.abs(xy - node) < 0.5).all(axis=1)[:, None], node, xy)
    assert n_vertices > 1000
    assert r.near(xy) == {}
    for layer in RESTRICTED:
        refused = _get(url, f"/collections/{layer}/tiles/WebMercatorQuad/{z}/0/0", token)
        assert refused.status_code == 403 and refused.json()["code"] == "restricted", layer
        listed = _get(url, "/tiles/WebMercatorQuad", token, collections=layer)
        assert listed.status_code == 403, layer


def test_the_analysts_tiles_hold_the_exact_accidents(served):
    """The search above can fail: the analyst's tiles, read the same way, find every exact accident."""
    url, location, tokens = served
    with open_store(location, create=False, readonly=True) as store:
        r = restricted_positions(store)
        exact = len(store.read_frame(RECORD_TYPES["accidents"]))
    to_m = Transformer.from_crs(4326, r.epsg, always_xy=True)
    z, found = 18, []
    with open_store(location, create=False, readonly=True) as store:
        points = shapely.get_coordinates(store.read_frame(RECORD_TYPES["accidents"]).geometry.to_numpy())
    for lon, lat in points:
        row, col = lonlat_to_tile(z, lon, lat)
        tile = _get(url, f"/collections/accidents/tiles/WebMercatorQuad/{z}/{row}/{col}", tokens["ana"])
        for f in _decode(tile.content)["accidents"]:
            lonlat = _to_lonlat(np.array([f["geometry"]["coordinates"]], float), z, row, col)
            found.append(np.column_stack(to_m.transform(lonlat[:, 0], lonlat[:, 1])))
    assert r.near(np.vstack(found)).get("accidents") == exact


TO_3857 = Transformer.from_crs(4326, 3857, always_xy=True)


@pytest.mark.parametrize("user", list(ROLES))
def test_a_large_hazard_areas_label_point_is_in_exactly_one_tile(served, user):
    """The id of an area spanning many tiles is one point in one tile of a level (the ``_labels`` layer), on
    the area as this reader reads it: the polygon itself is in every tile it spans."""
    url, _, tokens = served
    token = tokens[user]
    items = _items(url, "hazard_areas", token, tile_lonlat(0, 0, 0))
    shapes = {uid: shapely.geometry.shape(f["geometry"]) for uid, f in items.items()}
    uid = max(
        shapes, key=lambda u: (shapes[u].bounds[2] - shapes[u].bounds[0]) * (shapes[u].bounds[3] - shapes[u].bounds[1])
    )
    z, (w, s, e, n) = 16, shapes[uid].bounds
    (r0, c0), (r1, c1) = lonlat_to_tile(z, w, n), lonlat_to_tile(z, e, s)
    tiles = [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
    polygon_in, label_in = [], []
    for row, col in tiles:
        layers = _decode(_get(url, f"/collections/hazard_areas/tiles/WebMercatorQuad/{z}/{row}/{col}", token).content)
        if any(f["properties"]["fid"] == uid for f in layers.get("hazard_areas", [])):
            polygon_in.append((row, col))
        for f in layers.get("hazard_areas_labels", []):
            assert f["geometry"]["type"] == "Point" and set(f["properties"]) == {"fid", "uid"}, f
            assert f["properties"]["uid"] == f["properties"]["fid"]
            if f["properties"]["fid"] == uid:
                label_in.append((row, col, f["geometry"]["coordinates"]))
    assert len(polygon_in) >= 4, (uid, polygon_in)  # large: the old per-piece label repeated in each of these
    assert len(label_in) == 1, (uid, label_in)
    row, col, xy = label_in[0]
    assert (row, col) in polygon_in
    # the point is the one on the surface of the reader's own (whole) outline, to the tile's resolution
    (lon, lat), *_ = _to_lonlat(np.array([xy], float), z, row, col)
    got = shapely.Point(TO_3857.transform(lon, lat))
    want = shapely.point_on_surface(
        shapely.transform(shapes[uid], lambda c: np.column_stack(TO_3857.transform(c[:, 0], c[:, 1])))
    )
    resolution = (tile_bounds(z, row, col)[2] - tile_bounds(z, row, col)[0]) / EXTENT
    assert got.distance(want) < 2 * resolution, (uid, got, want)
    # the tile of every collection carries the same label, once
    every = _decode(_get(url, f"/tiles/WebMercatorQuad/{z}/{row}/{col}", token).content)
    assert [f["properties"]["fid"] for f in every["hazard_areas_labels"]].count(uid) == 1


@pytest.mark.parametrize("user", list(ROLES))
def test_a_past_days_labels_are_one_point_on_each_area_as_the_reader_reads_it(served, user):
    """``/history?as_of=D&labels=true`` (the date slider's ids): for every area of that day one point, inside the
    outline this reader gets from the same request without ``labels``, carrying its uid and nothing else."""
    url, _, tokens = served
    token = tokens[user]
    day = "2022-06-01"
    areas = _get(url, "/collections/hazard_areas/history", token, as_of=day).json()
    points = _get(url, "/collections/hazard_areas/history", token, as_of=day, labels="true").json()
    assert areas["features"] and points["numberMatched"] == areas["numberMatched"]
    outline = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in areas["features"]}
    assert [f["id"] for f in points["features"]] == list(outline)
    for f in points["features"]:
        assert f["geometry"]["type"] == "Point" and f["properties"] == {"uid": f["id"]}, f
        assert outline[f["id"]].buffer(1e-9).contains(shapely.geometry.shape(f["geometry"])), f["id"]


def test_gdal_reads_a_tile_and_the_tileset_names_its_layers(served, tmp_path):
    url, location, _ = served
    z = 13
    row, col = lonlat_to_tile(z, *_centre(location))
    tile = _get(url, f"/tiles/WebMercatorQuad/{z}/{row}/{col}", None)
    path = tmp_path / f"{z}-{col}-{row}.pbf"
    path.write_bytes(tile.content)
    opts = {"X": col, "Y": row, "Z": z}
    layers = {name for name, _ in pyogrio.list_layers(f"MVT:{path}")}
    decoded = _decode(tile.content)
    assert layers == set(decoded)
    hz = pyogrio.read_dataframe(f"MVT:{path}", layer="hazard_areas", **opts)  # X/Y/Z: placed in EPSG:3857
    assert sorted(hz["fid"]) == sorted(f["properties"]["fid"] for f in decoded["hazard_areas"])
    w, s, e, n = tile_bounds(z, row, col)
    b = hz.total_bounds
    pad = (e - w) * 80 / EXTENT
    assert w - pad <= b[0] and b[2] <= e + pad and s - pad <= b[1] and b[3] <= n + pad
    meta = _get(url, "/tiles/WebMercatorQuad", None).json()
    assert {v["id"] for v in meta["vector_layers"]} == set(DRAWN) | set(LABELS)
    assert meta["tiles"] == [url + "/tiles/WebMercatorQuad/{z}/{y}/{x}"]
    one = _get(url, "/collections/eo_items/tiles/WebMercatorQuad", None).json()
    with open_store(location, create=False, readonly=True) as store:
        public = view(store, RECORD_TYPES["eo_items"], Audience.PUBLIC).columns
    assert set(one["vector_layers"][0]["fields"]) == {"fid", *public} and "status" not in public  # counts per cell
    assert _get(url, "/collections/eo_items/tiles", None).json()["tilesets"][0]["links"][1]["templated"] is True


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/tiles/WebMercatorQuad/3/8/0", 404),
        ("/tiles/WebMercatorQuad/23/0/0", 400),
        ("/collections/victims/tiles/WebMercatorQuad/0/0/0", 400),
        ("/collections/nope/tiles/WebMercatorQuad/0/0/0", 404),
        ("/tiles/WorldCRS84Quad/0/0/0", 404),
    ],
)
def test_a_tile_that_does_not_exist_is_an_error_in_the_one_shape(served, path, status):
    url, _, _ = served
    r = _get(url, path, None)
    assert r.status_code == status and set(r.json()) == {"code", "status", "message", "hint"}, r.text


# -- styles (OGC API Styles) ----------------------------------------------------------------------------
def test_styles_are_served_as_sld_qml_and_a_maplibre_style_over_the_tiles(served):
    import json
    import xml.etree.ElementTree as ET

    from safeground.styles import LAYER_STYLES

    url, location, _ = served
    listed = _get(url, "/collections/hazard_areas/styles", None).json()
    assert listed["default"] == "imsma" and {
        link["href"].rsplit("=", 1)[1] for link in listed["styles"][0]["links"]
    } == {
        "sld",
        "mapbox",
        "qml",
    }
    style = LAYER_STYLES["hazard_areas"]
    sld = _get(url, "/collections/hazard_areas/styles/imsma", None, f="sld")
    assert sld.headers["content-type"].startswith("application/vnd.ogc.sld+xml")
    se = "{http://www.opengis.net/se}"
    names = [n.text for n in ET.fromstring(sld.content).iter(f"{se}Rule") for n in n.findall(f"{se}Name")]
    assert names == [r.label for r in style.rules]
    qml = ET.fromstring(_get(url, "/collections/hazard_areas/styles/imsma", None, f="qml").content)
    assert qml.tag == "qgis" and len(list(qml.iter("rule"))) == len(style.rules)
    doc = json.loads(_get(url, "/collections/hazard_areas/styles/imsma", None, f="mapbox").content)
    assert doc["version"] == 8 and all(lyr["source-layer"] == "hazard_areas" for lyr in doc["layers"])
    template = doc["sources"]["safeground"]["tiles"][0]
    assert template == url + "/collections/hazard_areas/tiles/WebMercatorQuad/{z}/{y}/{x}"
    # every field a filter names is in the tiles, and the first rule (open CHAs) selects features of a tile
    fields = _get(url, "/collections/hazard_areas/tiles/WebMercatorQuad", None).json()["vector_layers"][0]["fields"]
    assert {f for r in style.rules for f in r.where} <= set(fields)
    z = 12
    row, col = lonlat_to_tile(z, *_centre(location))
    feats = _decode(httpx.get(template.format(z=z, y=row, x=col), timeout=60).content)["hazard_areas"]
    first = style.rules[0].where
    assert any(all(f["properties"].get(k) in v for k, v in first.items()) for f in feats)
    assert _get(url, "/collections/hazard_areas/styles/other", None).status_code == 404
    assert _get(url, "/collections/victim_identities/styles", None).status_code == 403
    assert _get(url, "/collections/victims/styles", None).json() == {"default": None, "styles": []}
