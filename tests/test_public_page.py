"""The public returnee page (/safe/) on a phone: real ``safeground serve``, Debian's chromium, the demo district.

What a returnee does, checked against the store: a phone inside a confirmed hazard is told DANGER (in
Azerbaijani and in English, word for word what the server says); a phone on a cleared road is told no
known hazard; the route to a named cemetery is drawn and keeps out of every danger zone; with the
browser offline after one visit, the page still answers, the same as the server; nothing it receives
holds a restricted field or an exact position; and over 1,000 random points the phone's check equals
the server's. The screenshots in docs/img/ are made here.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from safeground.model import EOItem, GroundTruthItem, HazardArea
from safeground.routing.build import dangers_from_store, safe_network
from safeground.safety.buffers import DEFAULT_BUFFERS
from safeground.safety.check import SafetyIndex
from safeground.services.public import PublicData, build_public_data, public_check
from safeground.storage import open_store
from safeground.storage.base import metric_epsg
from tests.browser import offline_page
from tests.conftest import invoke_cli
from tests.web_server import serve_cli

# one browser at a time: with two chromiums and their servers on two cores a wait for MapLibre's 'idle' ran out
# (alone the test passes); pytest-xdist ``--dist loadgroup`` keeps this group on one worker
pytestmark = pytest.mark.xdist_group("browser")

IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                         "device_scale_factor": 1, "service_workers": "allow"}  # fmt: skip
RULES = {
    "en": ["Walk only on roads the authority has marked as cleared."],
    "az": ["Yalnız təmizlənmiş kimi işarələnmiş yollarla gedin."],
    "ru": ["Ходите только по дорогам, отмеченным как разминированные."],
}


@pytest.fixture(scope="module")
def site(demo_district: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo district with the authority's rules and numbers set, served as a user serves it."""
    d = tmp_path_factory.mktemp("public-page")
    store = d / "demo.gpkg"
    shutil.copy(demo_district, store)
    (d / "rules.json").write_text(json.dumps(RULES, ensure_ascii=False), encoding="utf-8")
    res = invoke_cli("public-info", "set", "--store", str(store), "--rules", str(d / "rules.json"),
                     "--emergency", "Emergency=112", "--emergency", "Mine action hotline=+994 12 555 00 00",
                     "--authority", "Mine Action Agency")  # fmt: skip
    assert res.returncode == 0, res.stderr
    s = open_store(str(store), create=False, readonly=True)
    data = build_public_data(s)
    with serve_cli(str(store)) as url:
        yield {"url": url, "store": s, "data": data, "path": store}
    s.close()


def _wait_ready(page: Any) -> None:
    page.wait_for_function("window.safeground && window.safeground.engine() !== null", timeout=60_000)


def _open(page: Any, url: str) -> None:
    page.goto(url)
    _wait_ready(page)


def _danger_point(s: Any) -> tuple[float, float, str]:
    """Inside an open confirmed hazard area that really holds mines (the ground truth), not opened by an
    accident, and more than 5 m from any mine, item or accident (the answer repeats the point asked about)."""
    from safeground.access.policy import _opened_by_accident
    from safeground.model import Accident

    hz = s.read_frame(HazardArea)
    hz = hz[(hz["status"] == "open") & (hz["classification"] == "confirmed_hazardous_area")]
    hz = hz[~_opened_by_accident(s, hz)]
    gt = s.read_frame(GroundTruthItem)
    gt = gt[gt["fate"] == "in_ground"]
    known = np.concatenate([f.geometry.to_numpy() for f in (gt, s.read_frame(EOItem), s.read_frame(Accident))])
    epsg = metric_epsg(s)
    from safeground.geometry.projection import project

    near = shapely.STRtree(project(known, 4326, epsg))
    for uid, g in zip(hz["uid"], hz.geometry, strict=True):
        if not shapely.contains(g, gt.geometry.to_numpy()).any():
            continue
        gm = project(g, 4326, epsg)
        x0, y0, x1, y1 = gm.bounds
        for p in [gm.representative_point(), *shapely.points(np.mgrid[x0:x1:10.0, y0:y1:10.0].reshape(2, -1).T)]:
            if gm.contains(p) and gm.boundary.distance(p) > 10 and not len(near.query(p, "dwithin", 5.0)):
                ll = project(p, epsg, 4326)
                return ll.x, ll.y, str(uid)
    raise AssertionError("the demo has no confirmed hazard holding mines")


def _cleared_road_point(s: Any, data: PublicData) -> tuple[float, float]:
    """The middle of a road edge route clearance verified where no mine lies within 50 m (truth) and both
    the public check and the command line's check (exact data) say no known hazard."""
    from safeground.geometry.projection import to_wgs84

    net = safe_network(s)
    exact = SafetyIndex.from_store(s)
    epsg = net.epsg
    gt = s.read_frame(GroundTruthItem)
    gt = gt[gt["fate"] == "in_ground"].to_crs(epsg)
    tree = shapely.STRtree(gt.geometry.to_numpy())
    assert net.verified is not None
    for e in np.flatnonzero(net.verified & (net.length > 20)):
        mid = (net.nodes[net.u[e]] + net.nodes[net.v[e]]) / 2
        if len(tree.query(shapely.Point(mid), predicate="dwithin", distance=50.0)):
            continue
        lon, lat = to_wgs84(epsg).transform(mid[0], mid[1])
        if public_check(data, lon, lat)["level"] == exact.check(lon, lat).level.name.lower() == "no_known_hazard":
            return float(lon), float(lat)
    raise AssertionError("no cleared road point with no known hazard")


# -- "Am I safe here?" -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["az", "en"])
def test_a_phone_inside_a_confirmed_hazard_is_told_danger(site: dict[str, Any], lang: str) -> None:
    lon, lat, uid = _danger_point(site["store"])
    server = httpx.get(f"{site['url']}/safe/api/check", params={"lon": lon, "lat": lat}, timeout=60).json()
    assert server["level"] == "danger"
    assert any(f["uid"] == uid and f["inside"] for f in server["findings"])
    locale = {"az": "az-AZ", "en": "en-GB"}[lang]
    with offline_page(**PHONE, locale=locale, geolocation={"longitude": lon, "latitude": lat},
                      permissions=["geolocation"]) as (page, blocked):  # fmt: skip
        page.goto(site["url"] + "/safe/")
        page.wait_for_function("(window.safeground && window.safeground.answered) >= 1", timeout=60_000)
        _wait_ready(page)
        page.wait_for_function("document.querySelector('#answer').classList.contains('danger')", timeout=30_000)
        assert page.evaluate("document.documentElement.lang") == lang
        text = page.inner_text("#answer-text")
        level = page.inner_text("#answer-level")
        if lang == "en":
            assert text == server["verdict"]  # word for word what the server (and `safeground check`) says
            assert level == "DANGER" and text.startswith("DANGER: you are inside confirmed hazardous area")
        else:
            assert level == "TƏHLÜKƏ" and text.startswith("TƏHLÜKƏ: siz təsdiqlənmiş təhlükəli ərazi")
            assert "Girməyin" in text
        assert page.evaluate("getComputedStyle(document.querySelector('#answer')).borderTopColor") == "rgb(176, 0, 32)"
        # the authority's numbers and rules are on the page, in its language
        assert "112" in page.inner_text("#emergency")
        assert RULES[lang][0] in page.inner_text("#rules")
        IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG / f"public-{lang}.png"), full_page=False)
        assert blocked == []


def test_a_phone_on_a_cleared_road_is_told_no_known_hazard(site: dict[str, Any]) -> None:
    lon, lat = _cleared_road_point(site["store"], site["data"])
    res = invoke_cli("check", str(lon), str(lat), "--store", str(site["path"]), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["level"] == "no_known_hazard"  # the command line says so on the exact data
    with offline_page(**PHONE, locale="en-GB", geolocation={"longitude": lon, "latitude": lat},
                      permissions=["geolocation"]) as (page, _):  # fmt: skip
        _open(page, site["url"] + "/safe/")
        page.click("#check-here")
        page.wait_for_function("document.querySelector('#answer').classList.contains('no_known_hazard')")
        text = page.inner_text("#answer-text")
        assert text.startswith("No known hazard here.")
        assert text == public_check(site["data"], lon, lat)["verdict"]
        assert page.inner_text("#answer-level") == "No known hazard"
        assert "Nearest known danger:" in page.inner_text("#answer-nearest")  # with its direction
        # another language, by the switch on the page
        page.click("#langs button[data-lang=ru]")
        assert page.inner_text("#answer-text").startswith("Известной опасности здесь нет.")
        assert page.inner_text("#data-date").startswith("Сведения об опасности на ")
        # a tap on the map asks about the place tapped (the map's grid back to degrees on the phone)
        box = page.locator("#map").bounding_box()
        n = page.evaluate("window.safeground.answered")
        page.locator("#map").tap(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
        page.wait_for_function(f"window.safeground.answered > {n}")
        tapped = page.evaluate("window.safeground.lastAnswer()")
        assert (tapped["lon"], tapped["lat"]) != (lon, lat)
        assert tapped["verdict"] == public_check(site["data"], tapped["lon"], tapped["lat"])["verdict"]
        assert page.locator("#you").count() == 1


# -- "How do I get there safely?" ----------------------------------------------------------------------------
def _route_keeps_out(s: Any, path_lonlat: list[list[float]]) -> None:
    """No point of the route inside an open hazard's buffer, or inside a danger zone of the route network."""
    epsg = metric_epsg(s)
    from safeground.geometry.projection import project

    line = project(shapely.LineString(path_lonlat), 4326, epsg)
    hz = s.read_frame(HazardArea)
    hz = hz[hz["status"] != "closed"].to_crs(epsg)
    for uid, c, g in zip(hz["uid"], hz["contamination"], hz.geometry, strict=True):
        d = line.distance(g)
        assert d >= DEFAULT_BUFFERS.for_hazard(c) - 0.5, f"the route passes {d:.1f} m from {uid}"
    zones = dangers_from_store(s, epsg)
    crossing = shapely.intersection(zones.geoms, line)
    worst = max((float(shapely.length(x)) for x in crossing), default=0.0)
    assert worst < 0.5, f"the route runs {worst:.1f} m inside a danger zone"


def test_the_route_to_a_named_cemetery_is_drawn_and_keeps_out_of_every_danger(site: dict[str, Any]) -> None:
    data: PublicData = site["data"]
    entry = data.place("Entry checkpoint 1")
    names = [p.name for p in data.places if p.kind == "cemetery"]
    found = []
    for n in names:
        r = httpx.get(f"{site['url']}/safe/api/route", params={"lon": entry.lon, "lat": entry.lat, "to": n},
                      timeout=60).json()  # fmt: skip
        if r["found"]:
            found.append((n, r))
    assert found, "no cemetery reachable from Entry checkpoint 1"
    name, server = max(found, key=lambda nr: nr[1]["length_m"])
    with offline_page(**PHONE, locale="en-GB") as (page, _):
        _open(page, site["url"] + "/safe/")
        assert page.eval_on_selector("#to optgroup", "g => g.label") == "Cemeteries"  # graves first
        page.select_option("#from", "Entry checkpoint 1")
        page.select_option("#to", name)
        page.click("#show-route")
        page.wait_for_selector("#route-line", state="attached")
        phone = page.evaluate("window.safeground.lastRoute()")
        assert phone["found"] and page.inner_text("#route-text") == server["explanation"]
        assert np.allclose(phone["path"], server["path"], atol=1e-9)
        assert len(page.get_attribute("#route-line", "d") or "") > 100
        page.locator("#map-wrap").scroll_into_view_if_needed()
        page.screenshot(path=str(IMG / "public-route.png"), full_page=False)
    _route_keeps_out(site["store"], server["path"])


# -- offline -------------------------------------------------------------------------------------------------
def test_offline_after_one_visit_the_phone_answers_as_the_server(site: dict[str, Any]) -> None:
    data: PublicData = site["data"]
    lon, lat, _ = _danger_point(site["store"])
    road = _cleared_road_point(site["store"], data)
    entry = data.place("Entry checkpoint 1")
    dest = next(p.name for p in data.places if p.kind == "cemetery")
    checks = [httpx.get(f"{site['url']}/safe/api/check", params={"lon": x, "lat": y}, timeout=60).json()
              for x, y in ((lon, lat), road)]  # fmt: skip
    route = httpx.get(f"{site['url']}/safe/api/route", params={"lon": entry.lon, "lat": entry.lat, "to": dest},
                      timeout=60).json()  # fmt: skip
    with offline_page(**PHONE, locale="az-AZ") as (page, _):
        _open(page, site["url"] + "/safe/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        _wait_ready(page)
        assert page.evaluate("!!navigator.serviceWorker.controller")  # the service worker holds the page
        assert page.evaluate("caches.match('/safe/bundle.json').then(r => !!r)")
        page.context.set_offline(True)
        # really offline: the server cannot be reached from the page
        reached = page.evaluate("fetch('/safe/api/check?lon=1&lat=1').then(() => 'reached', () => 'offline')")
        assert reached == "offline"
        page.reload()  # the page, its scripts and the district's data from the phone
        _wait_ready(page)
        assert "Siqnal yoxdur" in page.inner_text("#net")
        assert page.inner_text("#data-date").endswith("tarixli təhlükə məlumatı")
        for (x, y), server in zip(((lon, lat), road), checks, strict=True):
            phone = page.evaluate("([x, y]) => window.safeground.checkAt(x, y)", [x, y])
            assert phone["level"] == server["level"] and phone["verdict"] == server["verdict"]
            assert phone["nearest"] == server["nearest"] or (
                phone["nearest"]["uid"] == server["nearest"]["uid"]
                and abs(phone["nearest"]["distance_m"] - server["nearest"]["distance_m"]) < 1e-6
            )
        page.select_option("#from", "Entry checkpoint 1")
        page.select_option("#to", dest)
        page.click("#show-route")
        phone_route = page.evaluate("window.safeground.lastRoute()")
        assert phone_route["found"] == route["found"] and phone_route["explanation"] == route["explanation"]
        assert np.allclose(phone_route["path"], route["path"], atol=1e-9)
        # the signal comes back: the page asks for the district's data again at once
        with page.expect_response(lambda r: r.url.endswith("/safe/bundle.json"), timeout=30_000) as got:
            page.context.set_offline(False)
        assert got.value.status in (200, 304)
        page.wait_for_function("!document.querySelector('#net').classList.contains('off')")


# -- privacy -------------------------------------------------------------------------------------------------
def _keys(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


#: fields that are restricted, or that the public policy drops
RESTRICTED_FIELDS = {
    "place_description", "rows", "reference_points", "victims", "victim_uid", "full_name", "date_of_birth",
    "fate", "in_ground", "ground_truth_items", "victim_identities", "accident_uid",
}  # fmt: skip


def test_nothing_the_page_receives_holds_a_restricted_field_or_an_exact_position(site: dict[str, Any]) -> None:
    from tests.test_public_outputs import coordinates_in_text, restricted_positions

    s = site["store"]
    r = restricted_positions(s)
    bodies: list[tuple[str, str]] = []

    def keep(resp: Any) -> None:
        with contextlib.suppress(Exception):  # a redirect or an aborted request has no body
            bodies.append((resp.url, resp.body().decode("utf-8", errors="replace")))

    lon, lat, _ = _danger_point(s)
    with offline_page(**PHONE, locale="en-GB", geolocation={"longitude": lon, "latitude": lat},
                      permissions=["geolocation"]) as (page, _):  # fmt: skip
        page.on("response", keep)
        page.context.on("response", keep)
        _open(page, site["url"] + "/safe/")
        page.click("#check-here")
        page.select_option("#from", "Entry checkpoint 1")
        page.click("#show-route")
        page.wait_for_selector("#route-line", state="attached")
        page.evaluate("fetch('/safe/api/check?lon=' + 47.15 + '&lat=' + 39.62).then(r => r.text())")
    urls = {u.split("?")[0].rsplit("/", 1)[-1] for u, _ in bodies}
    assert {"bundle.json", "safe.mjs", "engine.mjs", "check"} <= urls, urls
    # every item, found or recorded (eo_items are public only per 1 km cell), but those at a public landmark:
    # a vertex of a road, a pole, a place, or where two public roads or paths meet (a node of the network)
    from tests.test_public_outputs import LANDMARKS

    to_m = Transformer.from_crs(4326, r.epsg, always_xy=True)
    items = shapely.get_coordinates(s.read_frame(EOItem).geometry.to_numpy())
    items = np.column_stack(to_m.transform(items[:, 0], items[:, 1]))
    marks = np.vstack([shapely.get_coordinates(s.read_frame(c).geometry.to_numpy()) for c in LANDMARKS])
    marks = np.vstack([np.column_stack(to_m.transform(marks[:, 0], marks[:, 1])), safe_network(s).nodes])
    at_mark, _ = shapely.STRtree(shapely.points(marks)).query(shapely.points(items), "dwithin", 1.0)
    every_item = shapely.STRtree(shapely.points(np.delete(items, np.unique(at_mark), axis=0)))
    for url, text in bodies:
        assert r.near(coordinates_in_text(text, r)) == {}, url  # the privacy test's own search, on every body
        if not url.split("?")[0].endswith((".json", "/check", "/route")):
            continue
        body = json.loads(text)
        assert not (_keys(body) & RESTRICTED_FIELDS), url
        xy = _json_positions(body, r.bbox, to_m)  # every position in it, read by its structure
        assert len(xy) or not url.endswith("bundle.json")
        hits, _ = every_item.query(shapely.points(xy), predicate="dwithin", distance=1.0)
        on_grid = np.all(np.abs(xy - np.round(xy / 25.0) * 25.0) < 1e-3, axis=1)  # nodes of the public grid
        assert not (~on_grid[hits]).any(), (url, xy[hits][~on_grid[hits]])


def _json_positions(obj: Any, bbox: tuple[float, float, float, float], to_m: Any) -> np.ndarray:
    """Every coordinate pair in a JSON answer: arrays of numbers read as x, y pairs, and lon/lat fields;
    in degrees where they fall in the district's box, else metric."""
    found: list[tuple[float, float]] = []

    def walk(o: Any) -> None:
        if isinstance(o, dict):
            if isinstance(o.get("lon"), float) and isinstance(o.get("lat"), float):
                found.append((o["lon"], o["lat"]))
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            if (
                len(o) >= 2
                and len(o) % 2 == 0
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in o)
            ):
                found.extend(zip(o[::2], o[1::2], strict=True))
            else:
                for v in o:
                    walk(v)

    walk(obj)
    xy = np.array(found, dtype=float).reshape(-1, 2)
    x0, y0, x1, y1 = bbox
    deg = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    if deg.any():
        xy[deg] = np.column_stack(to_m.transform(xy[deg, 0], xy[deg, 1]))
    return xy


# -- the phone and the server agree ------------------------------------------------------------------------------
def test_over_1000_random_points_the_phone_answers_as_the_server(site: dict[str, Any]) -> None:
    data: PublicData = site["data"]
    rng = np.random.default_rng(20)
    x0, y0, x1, y1 = data.index.region  # type: ignore[misc]
    pts = np.column_stack([rng.uniform(x0, x1, 1000), rng.uniform(y0, y1, 1000)])
    with offline_page(**PHONE, locale="en-GB") as (page, _):
        _open(page, site["url"] + "/safe/")
        phone = page.evaluate("(pts) => window.safeground.checkMany(pts)", pts.tolist())
    server = [public_check(data, float(a), float(b)) for a, b in pts]
    levels = [p["level"] for p in server]
    assert {"danger", "caution", "no_known_hazard"} <= set(levels)  # the sample meets every answer
    differ = [(p["verdict"], q["verdict"]) for p, q in zip(phone, server, strict=True)
              if p["level"] != q["level"] or p["verdict"] != q["verdict"]]  # fmt: skip
    assert differ == []
    # the served answer is the same function: a sample over HTTP
    for (a, b), q in list(zip(pts, server, strict=True))[:25]:
        assert httpx.get(f"{site['url']}/safe/api/check", params={"lon": a, "lat": b}, timeout=60).json() == q
    # the routes from each entry checkpoint to every named place, found or not, as the server finds them
    from safeground.services.public import public_route

    trips = [((e.lon, e.lat), p.name) for e in data.places if e.kind == "checkpoint" for p in data.places
             if p.kind in ("cemetery", "settlement")]  # fmt: skip
    with offline_page(**PHONE, locale="en-GB") as (page, _):
        _open(page, site["url"] + "/safe/")
        routes = page.evaluate("(t) => window.safeground.routeMany(t)", [[list(a), n] for a, n in trips])
    expected = [public_route(data, a, n) for a, n in trips]
    assert {r["found"] for r in expected} == {True, False}  # both answers are met
    for got, want in zip(routes, expected, strict=True):
        assert (got["found"], got["explanation"]) == (want["found"], want["explanation"])
        assert np.allclose(got["path"], want["path"], atol=1e-9)
        if not want["found"]:
            assert "The closest point you can reach safely is" in got["explanation"]
    # and never milder than `safeground check` on the exact data, but for items found (public only per 1 km cell)
    exact = SafetyIndex.from_store(site["store"])
    rank = {"no_known_hazard": 0, "caution": 1, "danger": 2}
    milder = []
    for (a, b), q in zip(pts, server, strict=True):
        e = exact.check(float(a), float(b))
        if rank[q["level"]] < int(e.level) and e.findings[0].kind != "found_item":
            milder.append((a, b, e.verdict))
    assert milder == []


def test_the_page_speaks_the_phones_language_and_installs(site: dict[str, Any]) -> None:
    url = site["url"]
    for accept, lang in (("ru-RU,ru;q=0.9", "ru"), ("en-US,en;q=0.8", "en"), ("de-DE", "az"), ("az", "az")):
        r = httpx.get(url + "/safe/", headers={"Accept-Language": accept}, timeout=60)
        assert r.status_code == 200 and f'<html lang="{lang}">' in r.text
    assert httpx.get(url + "/safe", timeout=60, follow_redirects=False).headers["location"] == "/safe/"
    sw = httpx.get(url + "/safe/sw.js", timeout=60)
    assert sw.status_code == 200 and "javascript" in sw.headers["content-type"]
    man = httpx.get(url + "/safe/manifest.webmanifest", timeout=60).json()
    assert man["start_url"] == "/safe/" and {i["sizes"] for i in man["icons"]} == {"192x192", "512x512"}
    for icon in man["icons"]:
        png = httpx.get(url + icon["src"], timeout=60)
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    raw = httpx.get(url + "/safe/bundle.json", headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert raw.headers.get("content-encoding") == "gzip"
    b = json.loads(raw.content if raw.content[:1] == b"{" else gzip.decompress(raw.content))
    assert b["constants"]["buffers"] == DEFAULT_BUFFERS.as_dict()  # from the Python source, not copied
    assert b["info"]["emergency"][0] == {"name": "Emergency", "number": "112"}
    again = httpx.get(url + "/safe/bundle.json", headers={"If-None-Match": raw.headers["etag"]}, timeout=60)
    assert again.status_code == 304


def test_a_settlements_risk_map_is_a_pdf(site: dict[str, Any]) -> None:
    name = next(p.name for p in site["data"].places if p.kind == "settlement")
    r = httpx.get(f"{site['url']}/safe/village-map/{name}", params={"lang": "az,en"}, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"
    bad = httpx.get(f"{site['url']}/safe/village-map/Nowhere", timeout=60)
    assert bad.status_code >= 400 and set(bad.json()) == {"code", "status", "message", "hint"}


def test_a_store_with_no_roads_and_no_hazards_still_answers(tmp_path: Path) -> None:
    from safeground.web.app import create_app
    from safeground.web.settings import ServerSettings
    from tests.web_server import serve_app

    store = tmp_path / "new.gpkg"
    res = invoke_cli("init", "--store", str(store), "--area", "47.0,39.5,47.3,39.7")
    assert res.returncode == 0, res.stderr
    s = open_store(str(store), create=False, readonly=True)
    try:
        with serve_app(create_app(ServerSettings(store=str(store)), s)) as url:
            b = httpx.get(url + "/safe/bundle.json", timeout=60).json()
            assert b["network"] is None and b["layers"] == [] and b["info"]["emergency"] == []
            a = httpx.get(url + "/safe/api/check", params={"lon": 47.1, "lat": 39.6}, timeout=60).json()
            assert a["level"] == "no_known_hazard" and a["nearest"] is None
            far = httpx.get(url + "/safe/api/check", params={"lon": 39.6, "lat": 47.1}, timeout=60)
            assert far.status_code == 422 and "swapped" in far.json()["message"]
            r = httpx.get(url + "/safe/api/route", params={"lon": 47.1, "lat": 39.6, "to": "x"}, timeout=60)
            assert r.status_code >= 400 and set(r.json()) == {"code", "status", "message", "hint"}
    finally:
        s.close()
