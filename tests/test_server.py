"""The OGC API Features server on a real uvicorn, on a GeoPackage and on PostGIS (same tests).

``safeground serve`` runs in a subprocess on a copy of the small generated district; the clients are
the ones users have: GDAL's OAPIF driver (what QGIS uses), owslib's Features client and plain HTTP.
What comes back is compared with the store's public view (:func:`safeground.access.view`) feature
by feature, and the response bodies are searched for the restricted positions and identities.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from safeground.access import Audience, view
from safeground.model import RECORD_TYPES, HazardArea, HumanRemainsFind, InfrastructurePoint, VictimIdentity
from safeground.storage import open_store
from safeground.storage.base import Store, metric_epsg
from tests.conftest import postgis_problem
from tests.test_public_outputs import Restricted, _vertices_and_centres, coordinates_in_text, restricted_positions
from tests.web_server import postgis_copy, serve_cli

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
PUBLIC = [name for name, cls in RECORD_TYPES.items() if not cls.RESTRICTED]
RESTRICTED = [name for name, cls in RECORD_TYPES.items() if cls.RESTRICTED]


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def served(
    request: pytest.FixtureRequest, small_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store]]:
    """(the server's URL, the store it serves, opened read-only here)."""
    copy = tmp_path_factory.mktemp("served") / "s.gpkg"
    shutil.copy(small_store, copy)
    with contextlib_for(request.param, copy) as location, serve_cli(location) as url:
        store = open_store(location, create=False, readonly=True)
        try:
            yield url, store
        finally:
            store.close()


def contextlib_for(backend: str, gpkg: Path):
    import contextlib

    if backend == "gpkg":
        return contextlib.nullcontext(str(gpkg))
    problem = postgis_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostGIS server tests: {problem}")
        pytest.skip(f"PostGIS server tests did NOT run: {problem}")
    return postgis_copy(gpkg)


def get(url: str, path: str, **params: object) -> httpx.Response:
    return httpx.get(url + path, params=params, timeout=60)  # type: ignore[arg-type]


def all_items(url: str, collection: str, **params: object) -> list[dict]:
    """Every feature of a collection, following the next links (as a client pages)."""
    out: list[dict] = []
    r = get(url, f"/collections/{collection}/items", limit=10_000, **params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["features"]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return out
        r = httpx.get(nxt[0], timeout=60)


def public(store: Store, layer: str) -> gpd.GeoDataFrame:
    return view(store, RECORD_TYPES[layer], Audience.PUBLIC).frame


# -- the OGC API documents ------------------------------------------------------------------------------
def test_landing_conformance_and_collections(served):
    url, _ = served
    landing = get(url, "/").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"service-desc", "service-doc", "http://www.opengis.net/def/rel/ogc/1.0/conformance",
            "http://www.opengis.net/def/rel/ogc/1.0/data"} <= rels  # fmt: skip
    conf = get(url, "/conformance").json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter", "cql2/1.0/conf/cql2-text",
                 "cql2/1.0/conf/cql2-json", "cql2/1.0/conf/basic-cql2"):  # fmt: skip
        assert any(c.endswith(part) for c in conf), part
    colls = get(url, "/collections").json()["collections"]
    assert [c["id"] for c in colls] == PUBLIC
    hz = get(url, "/collections/hazard_areas").json()
    assert hz["crs"] == [CRS84, "http://www.opengis.net/def/crs/EPSG/0/32638"]
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json" for link in hz["links"])


def test_gdal_reads_every_collection_as_the_public_view(served):
    """GDAL's OAPIF driver (QGIS's) lists the public layers and reads each one feature for feature."""
    url, store = served
    layers = {name for name, _ in pyogrio.list_layers(f"OAPIF:{url}")}
    assert layers == set(PUBLIC)
    compared = 0
    for layer in PUBLIC:
        expected = public(store, layer)
        if not len(expected):
            continue
        got = pyogrio.read_dataframe(f"OAPIF:{url}", layer=layer)
        assert len(got) == len(expected), layer
        key = "uid" if "uid" in expected else "cell" if "cell" in expected else None
        if key is not None:
            got = got.sort_values(key).reset_index(drop=True)
            expected = expected.sort_values(key).reset_index(drop=True)
            assert got[key].tolist() == expected[key].tolist(), layer
        else:  # k-anonymous victims: rows without identity, compared as a multiset
            cols = [c for c in expected.columns if c != "geometry"]
            assert sorted(map(tuple, got[cols].astype(str).to_numpy())) == sorted(
                map(tuple, expected[cols].astype(str).to_numpy())
            )
            continue
        for col in expected.columns:
            if col == "geometry":
                continue
            assert _plain(got[col]) == _plain(expected[col]), (layer, col)
        if "geometry" in expected and RECORD_TYPES[layer].GEOMETRY:
            same = shapely.equals_exact(got.geometry.to_numpy(), expected.geometry.to_numpy(), tolerance=1e-9)
            assert same.all(), (layer, int((~same).sum()))
        compared += 1
    assert compared >= 10


def _plain(col: pd.Series) -> list[object]:
    """Values as text, the way both sides write them (GDAL reads dates as dates, JSON text as text)."""
    out = []
    for v in col.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            out.append(None)
        elif isinstance(v, pd.Timestamp):
            out.append(v.date().isoformat() if v == v.normalize() and v.tzinfo is None else v.isoformat())
        elif isinstance(v, bool | np.bool_):
            out.append(int(v))
        elif isinstance(v, float | np.floating):
            out.append(round(float(v), 9))
        elif isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?", v):
            out.append(pd.Timestamp(v).isoformat())
        else:
            out.append(str(v) if not isinstance(v, int | np.integer) else int(v))
    return out


def test_owslib_reads_collections_items_and_queryables(served):
    from owslib.ogcapi.features import Features

    url, store = served
    w = Features(url)
    assert [c["id"] for c in w.collections()["collections"]] == PUBLIC
    items = w.collection_items("infrastructure_points", limit=5)
    assert items["numberMatched"] == store.count(InfrastructurePoint)
    assert items["numberReturned"] == len(items["features"]) == 5
    first = items["features"][0]
    one = w.collection_item("infrastructure_points", first["id"])
    assert one["id"] == first["id"] and one["geometry"] == first["geometry"]
    q = w.collection_queryables("hazard_areas")["properties"]
    assert q["priority"]["type"] == "integer" and q["date_of_information"]["format"] == "date"


# -- paging, bbox, datetime -----------------------------------------------------------------------------
def test_paging_with_next_and_prev_covers_every_feature_once(served):
    url, store = served
    r = get(url, "/collections/hazard_areas/items", limit=7)
    body = r.json()
    assert r.headers["content-type"].startswith("application/geo+json")
    assert body["numberMatched"] == len(public(store, "hazard_areas")) and body["numberReturned"] == 7
    ids, pages = [], 0
    while True:
        ids += [f["id"] for f in body["features"]]
        pages += 1
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert ("prev" in links) == (pages > 1)
        if "next" not in links:
            break
        body = httpx.get(links["next"], timeout=60).json()
    assert ids == sorted(store.read_frame(HazardArea)["uid"])
    assert pages == -(-len(ids) // 7)
    back = httpx.get(links["prev"], timeout=60).json()
    assert [f["id"] for f in back["features"]] == ids[(pages - 2) * 7 : (pages - 1) * 7]


def test_bbox_on_a_layer_served_as_stored_matches_the_store(served):
    url, store = served
    w, s, e, n = store.area_of_interest()
    box = (w, s, (w + e) / 2, (s + n) / 2)
    got = all_items(url, "infrastructure_points", bbox=",".join(map(str, box)))
    expected = store.read_frame(InfrastructurePoint, bbox=box)
    assert 0 < len(got) < store.count(InfrastructurePoint)
    assert sorted(f["id"] for f in got) == sorted(expected["uid"])


def test_paging_in_the_store_and_in_the_view_give_the_same_features(served):
    """A layer served as stored is paged by the store (``page_of``); with a filter it is paged in the view:
    both must answer the same."""
    url, _ = served
    for offset in (0, 1000, 4270):
        plain = get(url, "/collections/infrastructure_points/items", limit=50, offset=offset).json()
        filtered = get(url, "/collections/infrastructure_points/items", limit=50, offset=offset,
                       filter="uid IS NOT NULL").json()  # fmt: skip
        assert plain["features"] == filtered["features"] and plain["features"]
        assert plain["numberMatched"] == filtered["numberMatched"]


def test_bbox_on_a_generalised_layer_selects_on_what_is_shown(served):
    """The box meets the generalised outlines the response shows, never the stored ones."""
    url, store = served
    hz = public(store, "hazard_areas")
    w, s, e, n = store.area_of_interest()
    box = (w, s, (w + e) / 2, n)
    b = hz.geometry.bounds
    expected = hz["uid"][(b.minx <= box[2]) & (b.maxx >= box[0]) & (b.miny <= box[3]) & (b.maxy >= box[1])]
    got = all_items(url, "hazard_areas", bbox=",".join(map(str, box)))
    assert 0 < len(got) < len(hz)
    assert sorted(f["id"] for f in got) == sorted(expected)


def test_datetime_selects_on_the_records_date(served):
    url, store = served
    acts = public(store, "activities")
    start = pd.to_datetime(acts["start_date"])
    end = pd.to_datetime(acts["end_date"]).fillna(pd.Timestamp.max)
    mid = start.sort_values().iloc[len(start) // 2]
    lo, hi = mid - pd.Timedelta(days=30), mid + pd.Timedelta(days=30)
    expected = acts["uid"][(start <= hi) & (end >= lo)]
    got = all_items(url, "activities", datetime=f"{lo.date()}/{hi.date()}")
    assert 0 < len(got) < len(acts)
    assert sorted(f["id"] for f in got) == sorted(expected)
    before = all_items(url, "activities", datetime=f"../{hi.date()}")
    assert sorted(f["id"] for f in before) == sorted(acts["uid"][start <= hi])
    r = get(url, "/collections/accidents/items", datetime="2021-01-01")  # aggregated: no date to show
    assert r.status_code == 400 and r.json()["code"] == "invalid_parameter"


# -- CRS (Part 2) ---------------------------------------------------------------------------------------
def test_crs_utm_and_bbox_crs(served):
    url, store = served
    epsg = metric_epsg(store)
    uri = f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"
    r = get(url, "/collections/hazard_areas/items", limit=5, crs=uri)
    assert r.headers["content-crs"] == f"<{uri}>"
    assert get(url, "/collections/hazard_areas/items", limit=5).headers["content-crs"] == f"<{CRS84}>"
    hz = public(store, "hazard_areas").set_index("uid").to_crs(epsg)
    for f in r.json()["features"]:
        g = shapely.geometry.shape(f["geometry"])
        assert shapely.equals_exact(g, hz.geometry[f["id"]], tolerance=1e-6)
        assert g.bounds[0] > 1000  # metres, not degrees
    b = hz.total_bounds
    box = (b[0], b[1], (b[0] + b[2]) / 2, b[3])
    got = all_items(url, "hazard_areas", bbox=",".join(map(str, box)), **{"bbox-crs": uri})
    mb = hz.geometry.bounds
    expected = mb.index[(mb.minx <= box[2]) & (mb.maxx >= box[0]) & (mb.miny <= box[3]) & (mb.maxy >= box[1])]
    assert 0 < len(got) < len(hz) and sorted(f["id"] for f in got) == sorted(expected)
    bad = get(url, "/collections/hazard_areas/items", crs="http://www.opengis.net/def/crs/EPSG/0/3857")
    assert bad.status_code == 400 and uri in bad.json()["hint"]


# -- CQL2 (Part 3) --------------------------------------------------------------------------------------
def test_cql2_text_and_json_select_what_pandas_selects(served):
    url, store = served
    hz = public(store, "hazard_areas")
    status = hz["status"].value_counts().index[0]
    cases = {
        f"status = '{status}'": (hz["status"] == status),
        f"status <> '{status}' AND priority >= 2": (hz["status"] != status) & (hz["priority"] >= 2),
        "priority BETWEEN 2 AND 3 OR name LIKE '%1%'": hz["priority"].between(2, 3)
        | hz["name"].astype(str).str.contains("1"),
        f"NOT (status IN ('{status}'))": hz["status"] != status,
        "date_of_information > DATE('2021-06-01')": pd.to_datetime(hz["date_of_information"]) > "2021-06-01",
    }
    for text, mask in cases.items():
        got = sorted(f["id"] for f in all_items(url, "hazard_areas", filter=text))
        assert got == sorted(hz["uid"][mask]), text
    assert 0 < mask.sum() < len(hz)
    cql_json = {"op": "and", "args": [{"op": "=", "args": [{"property": "status"}, status]},
                                      {"op": ">=", "args": [{"property": "priority"}, 2]}]}  # fmt: skip
    got = all_items(url, "hazard_areas", filter=json.dumps(cql_json), **{"filter-lang": "cql2-json"})
    assert sorted(f["id"] for f in got) == sorted(hz["uid"][(hz["status"] == status) & (hz["priority"] >= 2)])
    for bad in ("nope = 1", "status = ", "S_INTERSECTS(geometry, POINT(47 39))"):
        r = get(url, "/collections/hazard_areas/items", filter=bad)
        assert r.status_code == 400 and r.json()["code"] == "invalid_parameter", (bad, r.text)


def test_a_filter_cannot_select_on_what_the_public_does_not_see(served):
    """eo_items are counted per cell for the public: a filter on the stored fields is refused."""
    url, _ = served
    r = get(url, "/collections/eo_items/items", filter="status = 'recorded'")
    assert r.status_code == 400 and "not a queryable" in r.json()["message"]
    assert "count" in r.json()["hint"]


# -- the public audience: nothing restricted in any body -------------------------------------------------
def coordinates_in_features(feats: list[dict], r: Restricted) -> np.ndarray:
    """Every vertex and polygon centre of the features' geometries, and any pair of numbers in their
    properties, as metric coordinates (geometries are read as geometries: pairs of numbers across two
    vertices of a GeoJSON text are not positions, and a road's vertices met mines that way by chance)."""
    to_m = Transformer.from_crs(4326, r.epsg, always_xy=True)
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in feats if f.get("geometry")], dtype=object)
    out = [coordinates_in_text(json.dumps([f["properties"] for f in feats]), r)]
    for lonlat in _vertices_and_centres(geoms) if len(geoms) else []:
        finite = np.isfinite(lonlat).all()
        out.append(np.column_stack(to_m.transform(lonlat[:, 0], lonlat[:, 1])) if len(lonlat) and finite else lonlat)
    return np.vstack([o for o in out if len(o)]) if any(len(o) for o in out) else np.zeros((0, 2))


def test_no_response_holds_a_restricted_position_or_identity(served):
    url, store = served
    r = restricted_positions(store)
    names = set(store.read_frame(VictimIdentity)["full_name"])
    remains = store.read_frame(HumanRemainsFind)
    assert names and len(remains)
    texts = [get(url, p).text for p in ("/", "/collections", "/api")]
    found: list[np.ndarray] = []
    for layer in PUBLIC:
        feats = all_items(url, layer)
        found.append(coordinates_in_features(feats, r))
        texts.append(json.dumps([f["properties"] for f in feats]))
        texts.append(get(url, f"/collections/{layer}/items", f="html", limit=10_000).text)
        for fid in [f["id"] for f in feats][:3]:
            one = get(url, f"/collections/{layer}/items/{fid}").json()
            found.append(coordinates_in_features([one], r))
        utm = get(
            url, f"/collections/{layer}/items", limit=10_000, crs=f"http://www.opengis.net/def/crs/EPSG/0/{r.epsg}"
        )
        for f in utm.json()["features"]:  # metric coordinates, held against the metric positions directly
            if f.get("geometry"):
                found.append(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
    for layer in RESTRICTED:
        for path in (f"/collections/{layer}", f"/collections/{layer}/items", f"/collections/{layer}/items/X-1"):
            res = get(url, path)
            assert res.status_code == 403 and res.json()["code"] == "restricted", path
            texts.append(res.text)
    text = "\n".join(texts)
    found.append(coordinates_in_text(text, r))
    leaks = r.near(np.vstack([f for f in found if len(f)]))
    assert leaks == {}, leaks
    assert not [n for n in names if n in text]
    assert not [d for d in remains["description"].dropna() if d in text]
    hr = shapely.get_coordinates(remains.geometry.to_numpy())
    assert not any(f"{x:.6f}" in text or f"{y:.6f}" in text for x, y in hr)
    # the search can fail: the exact accidents, as the server would write them, are found
    exact = store.read_frame(RECORD_TYPES["accidents"])
    probe = [{"geometry": json.loads(shapely.to_geojson(g)), "properties": {}} for g in exact.geometry]
    assert r.near(coordinates_in_features(probe, r)).get("accidents") == len(exact)


# -- errors and HTML ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/nowhere", {}, 404, "not_found"),
        ("/collections/nope", {}, 404, "not_found"),
        ("/collections/hazard_areas/items/HA-99999", {}, 404, "not_found"),
        ("/collections/victim_identities/items", {}, 403, "restricted"),
        ("/collections/hazard_areas/items", {"limit": 0}, 400, "invalid_parameter"),
        ("/collections/hazard_areas/items", {"limit": "ten"}, 400, "invalid_parameter"),
        ("/collections/hazard_areas/items", {"bbox": "1,2,3"}, 400, "invalid_parameter"),
        ("/collections/hazard_areas/items", {"datetime": "yesterday"}, 400, "invalid_parameter"),
        ("/collections/hazard_areas/items", {"filter-lang": "sql"}, 400, "invalid_parameter"),
        ("/collections/hazard_areas/items", {"f": "xml"}, 400, "invalid_parameter"),
    ],
)
def test_every_error_has_one_shape(served, path, params, status, code):
    url, _ = served
    r = get(url, path, **params)
    body = r.json()
    assert r.status_code == status and set(body) == {"code", "status", "message", "hint"}, body
    assert body["status"] == status and body["code"] == code and body["message"]


def test_a_write_method_is_refused_with_the_same_shape(served):
    url, _ = served
    r = httpx.patch(url + "/collections/hazard_areas/items/HA-00001", json={}, timeout=30)  # no PATCH in the API
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    r = httpx.delete(url + "/collections/hazard_areas/items/HA-00001", timeout=30)  # a deletion is reviewed
    assert r.status_code == 401 and r.json()["code"] == "not_logged_in"
    # a write the API has (Part 4 into the review queue) asks the public to log in, in the same shape
    r = httpx.post(url + "/collections/hazard_areas/items", json={}, timeout=30)
    assert r.status_code == 401 and set(r.json()) == {"code", "status", "message", "hint"}


def test_html_for_browsers_and_f_html(served):
    url, store = served
    r = httpx.get(url + "/collections/hazard_areas/items", headers={"Accept": "text/html,*/*"}, timeout=30)
    assert r.headers["content-type"].startswith("text/html") and "<table>" in r.text
    first = sorted(store.read_frame(HazardArea)["uid"])[0]
    assert f"<td>{first}</td>" in r.text
    for path in ("/", "/collections", "/conformance", "/api", "/collections/hazard_areas",
                 f"/collections/hazard_areas/items/{first}", "/collections/hazard_areas/queryables"):  # fmt: skip
        page = get(url, path, f="html")
        assert page.status_code == 200 and page.text.startswith("<!doctype html>"), path
