"""The server's route table: deny by default, every endpoint in the OpenAPI, settings typed.

These build the app from the factory (no HTTP needed to read a route table); the one test that
checks a refusal over HTTP runs the app on a real uvicorn.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi import Depends
from fastapi.routing import APIRoute

from safeground.storage import open_store
from safeground.web import ServerSettings, create_app
from safeground.web.permissions import PERMISSIONS, check_every_route, requires, route_permission
from tests.web_server import serve_app

#: every endpoint of the public server (method, path)
ENDPOINTS = {
    ("GET", "/"),
    ("GET", "/conformance"),
    ("GET", "/api"),
    ("GET", "/collections"),
    ("GET", "/collections/{collection_id}"),
    ("GET", "/collections/{collection_id}/queryables"),
    ("GET", "/collections/{collection_id}/items"),
    ("GET", "/collections/{collection_id}/items/{feature_id}"),
    ("POST", "/collections/{collection_id}/items"),
    ("PUT", "/collections/{collection_id}/items/{feature_id}"),
    ("DELETE", "/collections/{collection_id}/items/{feature_id}"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/me"),
    ("GET", "/submissions"),
    ("GET", "/submissions/{sid}"),
    ("POST", "/submissions/{sid}/approve"),
    ("POST", "/submissions/{sid}/reject"),
    ("POST", "/submissions/{sid}/reconcile"),
    ("POST", "/kobo/{form}"),
    ("GET", "/static/{path:path}"),
    ("GET", "/collections/{collection_id}/tiles"),
    ("GET", "/collections/{collection_id}/tiles/WebMercatorQuad"),
    ("GET", "/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{y}/{x}"),
    ("GET", "/tiles/WebMercatorQuad"),
    ("GET", "/tiles/WebMercatorQuad/{z}/{y}/{x}"),
    ("GET", "/collections/{collection_id}/styles"),
    ("GET", "/collections/{collection_id}/styles/{style_id}"),
    ("GET", "/risk/tiles"),
    ("GET", "/risk/tiles/{z}/{x}/{y}.png"),
    ("GET", "/risk/legend"),
    ("GET", "/safe"),
    ("GET", "/safe/"),
    ("GET", "/safe/sw.js"),
    ("GET", "/safe/assets/{name}"),
    ("GET", "/safe/manifest.webmanifest"),
    ("GET", "/safe/bundle.json"),
    ("GET", "/safe/api/check"),
    ("GET", "/safe/api/route"),
    ("GET", "/safe/village-map/{name}"),
    ("GET", "/workspace/login"),
    ("GET", "/workspace"),
    ("GET", "/workspace/places"),
    ("GET", "/workspace/review"),
    ("GET", "/workspace/review/{sid}"),
    ("GET", "/workspace/entry"),
    ("POST", "/workspace/entry/{form}"),
    ("GET", "/workspace/dashboards"),
    ("GET", "/workspace/reports/{kind}.pdf"),
    ("GET", "/workspace/admin"),
    ("POST", "/workspace/admin/users"),
    ("POST", "/workspace/admin/users/{username}/role"),
    ("POST", "/workspace/admin/users/{username}/active"),
    ("POST", "/workspace/admin/users/{username}/organisation"),
    ("POST", "/workspace/admin/organisations"),
    ("POST", "/workspace/admin/organisations/{uid}"),
    ("POST", "/workspace/admin/users/{username}/tokens"),
    ("POST", "/workspace/admin/tokens/{prefix}/revoke"),
    ("GET", "/workspace/tokens"),
    ("POST", "/workspace/tokens"),
    ("POST", "/workspace/tokens/{prefix}/revoke"),
    ("GET", "/workspace/links/{collection}/{uid}"),
    ("GET", "/workspace/dossiers/{uid}.pdf"),
    ("GET", "/collections/{collection_id}/items/{feature_id}/history"),
    ("GET", "/collections/{collection_id}/history"),
    ("GET", "/dashboards"),
    ("GET", "/dashboards/{name}.json"),
    ("GET", "/dashboards/{name}.csv"),
}


@pytest.fixture
def app(small_store: Path, tmp_path: Path):
    copy = tmp_path / "s.gpkg"
    shutil.copy(small_store, copy)
    store = open_store(str(copy), create=False, readonly=True)
    yield create_app(ServerSettings(store=str(copy)), store)
    store.close()


def test_every_route_declares_a_permission(app):
    routes = list(app.routes)
    assert {(m, r.path) for r in routes if isinstance(r, APIRoute) for m in r.methods} == ENDPOINTS
    missing = [getattr(r, "path", r) for r in routes if route_permission(r) is None]
    assert not missing, f"routes without a permission (deny by default): {missing}"
    assert all(route_permission(r) in PERMISSIONS for r in routes)


def test_an_app_with_an_unprotected_route_is_not_built(app):
    @app.get("/forgotten")
    def forgotten() -> dict:
        return {}

    with pytest.raises(RuntimeError, match="/forgotten"):
        check_every_route(app)


def test_the_openapi_lists_every_endpoint_with_its_permission(app):
    doc = app.openapi()
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert listed == {(m, p.replace(":path}", "}")) for m, p in ENDPOINTS}  # OpenAPI has no path converters
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["x-permission"] in PERMISSIONS
    items = doc["paths"]["/collections/{collection_id}/items"]["get"]["parameters"]
    limit = next(p for p in items if p["name"] == "limit")
    assert limit["schema"]["maximum"] == ServerSettings().max_limit  # GDAL pages by it
    assert {"bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang", "f"} <= {p["name"] for p in items}


def test_a_permission_the_reader_lacks_is_refused_with_the_error_shape(app):
    @app.get("/restricted-probe", dependencies=[Depends(requires("read:restricted"))])
    def probe() -> dict:
        return {"secret": True}

    check_every_route(app)
    with serve_app(app) as url:
        r = httpx.get(url + "/restricted-probe", timeout=30)
        assert r.status_code == 401  # the public: nobody is logged in, so the answer is "log in", not "never"
        assert r.json() == {
            "code": "not_logged_in",
            "status": 401,
            "message": f"this needs an account ({PERMISSIONS['read:restricted']})",
            "hint": "log in first: POST /login",
        }
        assert httpx.get(url + "/collections", timeout=30).status_code == 200


def test_a_limit_above_the_maximum_gives_the_maximum(small_store: Path, tmp_path: Path):
    """QGIS asks for its own page size: more than the server's maximum is served at the maximum, not refused."""
    copy = tmp_path / "s.gpkg"
    shutil.copy(small_store, copy)
    with open_store(str(copy), create=False, readonly=True) as store:
        app = create_app(ServerSettings(max_limit=20), store)
        with serve_app(app) as url:
            for layer in ("hazard_areas", "infrastructure_points"):  # paged in the view, and in the store
                page = httpx.get(url + f"/collections/{layer}/items", params={"limit": 50_000}, timeout=30).json()
                assert page["numberReturned"] == 20 < page["numberMatched"]
                nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
                assert nxt.endswith("limit=20&offset=20")


def test_an_unknown_permission_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown permission"):
        requires("read:everything")


def test_settings_come_from_the_environment_with_the_prefix(monkeypatch):
    monkeypatch.setenv("SAFEGROUND_PORT", "8123")
    monkeypatch.setenv("SAFEGROUND_PUBLIC_URL", "https://safeground.example.org/")
    monkeypatch.setenv("SAFEGROUND_MAX_LIMIT", "500")
    s = ServerSettings()
    assert (s.port, s.public_url, s.max_limit) == (8123, "https://safeground.example.org", 500)
    with pytest.raises(ValueError, match="default_limit"):
        ServerSettings(default_limit=600, max_limit=500)


def test_links_are_built_on_the_public_url(small_store: Path, tmp_path: Path):
    """Behind a reverse proxy the links must name the address clients use, not the one uvicorn listens on."""
    copy = tmp_path / "s.gpkg"
    shutil.copy(small_store, copy)
    with open_store(str(copy), create=False, readonly=True) as store:
        app = create_app(ServerSettings(public_url="https://mine-action.example.org/api/"), store)
        with serve_app(app) as url:
            links = httpx.get(url + "/", timeout=30).json()["links"]
            page = httpx.get(url + "/collections/hazard_areas/items", params={"limit": 2}, timeout=30).json()
    assert all(link["href"].startswith("https://mine-action.example.org/api/") for link in links)
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert nxt == "https://mine-action.example.org/api/collections/hazard_areas/items?limit=2&offset=2"


def test_an_unexpected_failure_is_a_500_in_the_same_shape_without_detail(app):
    @app.get("/broken", dependencies=[Depends(requires("read:public"))])
    def broken() -> dict:
        raise RuntimeError("victim Ali Aliyev at 47.1234,39.5678")  # what a traceback could carry

    with serve_app(app) as url:
        r = httpx.get(url + "/broken", timeout=30)
    assert r.status_code == 500
    assert r.json() == {
        "code": "internal_error",
        "status": 500,
        "message": "the server failed to answer this request",
        "hint": "the server's log says why",
    }


def test_an_empty_store_is_served(tmp_path: Path):
    """A store with nothing located yet: WGS 84 only, no extent, every collection empty, no error."""
    with open_store(str(tmp_path / "empty.gpkg")) as store:
        app = create_app(ServerSettings(), store)
        with serve_app(app) as url:
            colls = httpx.get(url + "/collections", timeout=30).json()
            items = httpx.get(url + "/collections/hazard_areas/items", timeout=30).json()
            victims = httpx.get(url + "/collections/victims/items", timeout=30).json()
    assert colls["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    assert all("extent" not in c for c in colls["collections"])
    assert (items["numberMatched"], items["features"]) == (0, [])
    assert (victims["numberMatched"], victims["features"]) == (0, [])


def test_a_change_to_the_store_is_served_after_the_view_ttl(small_store: Path, tmp_path: Path):
    """The server reads the store as it is: an import made by the command line while it runs is served
    (at once with ``view_ttl_s=0``; a layer paged in the store is never cached)."""
    from safeground.model import HazardArea, InfrastructurePoint

    copy = tmp_path / "s.gpkg"
    shutil.copy(small_store, copy)
    with open_store(str(copy), create=False, readonly=True) as store:
        app = create_app(ServerSettings(view_ttl_s=0), store)
        with serve_app(app) as url:

            def priority(uid: str) -> int:
                return httpx.get(url + f"/collections/hazard_areas/items/{uid}", timeout=30).json()["properties"][
                    "priority"
                ]

            with open_store(str(copy)) as writer:
                ha = writer.read_frame(HazardArea)["uid"].iloc[0]
                ip = writer.read_frame(InfrastructurePoint)["uid"].iloc[0]
                before = priority(ha)
                cur = writer.get(HazardArea, ha)
                writer.update(cur.model_copy(update={"priority": before % 5 + 1}), expected_version=cur.version)
                point = writer.get(InfrastructurePoint, ip)
                writer.update(point.model_copy(update={"name": "renamed spring"}), expected_version=point.version)
            assert priority(ha) == before % 5 + 1
            page = httpx.get(url + "/collections/infrastructure_points/items", params={"limit": 10_000}, timeout=30)
            assert {f["id"]: f["properties"]["name"] for f in page.json()["features"]}[ip] == "renamed spring"


def test_serve_takes_the_store_from_the_environment_and_refuses_a_missing_one(tmp_path: Path):
    import os
    import subprocess
    import sys

    missing = tmp_path / "nowhere.gpkg"
    exe = Path(sys.executable).with_name("safeground")
    res = subprocess.run(
        [str(exe), "serve", "--port", "0"],
        env={**os.environ, "SAFEGROUND_STORE": str(missing), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2 and f"no SafeGround store at {missing}" in res.stderr, res.stderr
    assert not missing.exists()  # serving never creates a store


def test_an_error_naming_a_parameter_names_the_query_parameter(app):
    """A domain error refers to a parameter (``Param``); the API says ``as_of``, as the CLI says ``--as-of``."""
    from safeground.errors import Param, SafeGroundError

    @app.get("/param-probe", dependencies=[Depends(requires("read:public"))])
    def probe() -> dict:
        raise SafeGroundError(
            f"nothing was known on {Param('as_of', '1990-01-01')}", hint=f"choose a later {Param('as_of')}"
        )

    check_every_route(app)
    with serve_app(app) as url:
        body = httpx.get(url + "/param-probe", timeout=30).json()
    assert body["message"] == "nothing was known on as_of=1990-01-01" and body["hint"] == "choose a later as_of"
    assert "\ue000" not in json.dumps(body)


def test_static_files_are_served_with_an_etag_and_nothing_else(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        ok = client.get("/static/vendor/maplibre-gl/maplibre-gl.css")
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/css")
        again = client.get("/static/vendor/maplibre-gl/maplibre-gl.css", headers={"If-None-Match": ok.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        for bad in ("vendor/../../app.py", "../app.py", "vendor/VENDOR.json/x", "vendor", "web/app.py", "nothing.css"):
            refused = client.get(f"/static/{bad}")
            assert refused.status_code == 404, (bad, refused.status_code)
            assert refused.json()["code"] == "not_found"
