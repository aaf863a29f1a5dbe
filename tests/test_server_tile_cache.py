"""The tile cache on a real uvicorn over a copy of the small district: the same bytes the second time, a
strong ETag and 304, a new tile once an approved submission changed the record, a byte cap that holds, a
bad tile filter named in its 400, and never one audience's tile for another's reader."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import mapbox_vector_tile
import pytest

from safeground.access.audience import Audience
from safeground.intake.commit import WritePlan
from safeground.model import HazardArea
from safeground.services import accounts as acc_svc
from safeground.services import review
from safeground.storage import open_store
from safeground.web import ServerSettings, create_app
from safeground.web.tile_cache import ENTRY_OVERHEAD, TileCache, TileKey
from safeground.web.tiles import lonlat_to_tile
from tests.web_server import serve_app

PASSWORD = "the long road to Chaykend"
ROLES = {"view": "viewer", "ana": "analyst"}
Z = 14


@pytest.fixture()
def site(small_store: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, str, dict, object]]:
    """(URL, store, role user → token, the app): a copy of the small district, served in this process so the
    test can look at the app's cache; ``tile_cache_bytes`` the test's parameter if it gives one (indirect)."""
    location = str(tmp_path / "s.gpkg")
    shutil.copy(small_store, location)
    if not [o for o in acc_svc.organisations(location) if o.acronym == "NMAA"]:
        acc_svc.add_organisation(location, "Org NMAA", "national_authority", acronym="NMAA", actor="setup")
    tokens = {}
    for name, role in ROLES.items():
        acc_svc.add_user(location, name, full_name=name, organisation="NMAA", role=role, password=PASSWORD,
                         actor="setup")  # fmt: skip
        tokens[name] = acc_svc.add_token(location, name, "map", actor="setup")
    cap = getattr(request, "param", None)
    settings = ServerSettings(store=location, **({"tile_cache_bytes": cap} if cap is not None else {}))
    store = open_store(location, create=False, readonly=True)
    try:
        app = create_app(settings, store)
        with serve_app(app) as url:
            yield url, location, tokens, app
    finally:
        store.close()


def _get(url: str, path: str, token: str | None = None, **headers: str) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(url + path, headers=headers, timeout=120)


def _hazard(location: str) -> HazardArea:
    with open_store(location, create=False, readonly=True) as s:
        return next(h for h in s.find(HazardArea) if h.geometry.area > 0)


def _tile_of(hz: HazardArea) -> str:
    p = hz.geometry.representative_point()
    row, col = lonlat_to_tile(Z, p.x, p.y)
    return f"/collections/hazard_areas/tiles/WebMercatorQuad/{Z}/{row}/{col}"


def _fids(data: bytes) -> set[str]:
    return {f["properties"]["fid"] for f in mapbox_vector_tile.decode(data).get("hazard_areas", {}).get("features", [])}


def test_a_tile_comes_from_the_cache_with_the_same_bytes_a_strong_etag_and_a_304(site):
    url, location, _, app = site
    cache: TileCache = app.state.tile_cache
    path = _tile_of(_hazard(location))
    first = _get(url, path)
    assert first.status_code == 200 and first.content and cache.misses == 1 and cache.hits == 0
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")  # strong
    again = _get(url, path)
    assert again.status_code == 200 and cache.hits == 1 and cache.misses == 1
    assert again.content == first.content and again.headers["etag"] == etag
    unchanged = _get(url, path, **{"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == etag
    assert unchanged.headers["vary"] == "Authorization, Cookie"
    assert _get(url, path, **{"If-None-Match": '"another"'}).status_code == 200
    # the tile of every collection is kept too, under its own key
    row_col = path.rsplit(f"/{Z}/", 1)[1]
    every = _get(url, f"/tiles/WebMercatorQuad/{Z}/{row_col}")
    assert every.status_code == 200 and _get(url, f"/tiles/WebMercatorQuad/{Z}/{row_col}").content == every.content
    assert every.headers["etag"] != etag and len(cache) == 2


def test_an_approved_submission_changes_the_tile_at_once(site):
    """The views are reused for ``view_ttl_s`` seconds (10): a cache keyed on the fingerprint alone would cut
    the new entry from the old view. The new area is in the very next tile, under a new ETag."""
    url, location, _, _ = site
    hz = _hazard(location)
    path = _tile_of(hz)
    before = _get(url, path)
    assert hz.uid in _fids(before.content) and "HA-90001" not in _fids(before.content)
    copy = HazardArea.model_validate(
        {
            **hz.model_dump(),
            "uid": "HA-90001",
            "version": 1,
            "geometry": hz.geometry.buffer(0.0001),
            "date_of_information": date(2024, 5, 1),
            "change_reason": None,
            "status_history": [],
        }
    )
    sid = review.submit(location, WritePlan(create=[copy]), source="test", submitted_by="field.1", organisation=None,
                        origin="test").id  # fmt: skip
    assert _get(url, path).content == before.content  # submitted, not approved: nothing reached the record
    review.approve(location, sid, reviewer=None, by="r.huseynov", origin="test")
    after = _get(url, path, **{"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200, "the client's old tile was called current"
    assert "HA-90001" in _fids(after.content) and after.headers["etag"] != before.headers["etag"]


@pytest.mark.parametrize("site", [40_000], indirect=True)
def test_the_cache_keeps_within_its_byte_cap_dropping_the_least_recently_used(site):
    url, location, _, app = site
    cache: TileCache = app.state.tile_cache
    assert cache.max_bytes == 40_000
    path = _tile_of(_hazard(location))
    _, rc = path.rsplit(f"/{Z}/", 1)
    row, col = map(int, rc.split("/"))
    sizes = []
    for dr in range(-3, 4):
        for dc in range(-3, 4):
            r = _get(url, f"/tiles/WebMercatorQuad/{Z}/{row + dr}/{col + dc}")
            assert r.status_code == 200
            sizes.append(len(r.content) + ENTRY_OVERHEAD)
            assert cache.held <= cache.max_bytes
    assert sum(sizes) > cache.max_bytes, "the tiles asked for fit: the cap was not tested"
    assert 0 < len(cache) < len(sizes)
    hits = cache.hits
    _get(url, f"/tiles/WebMercatorQuad/{Z}/{row + 3}/{col + 3}")  # the last one made: kept
    assert cache.hits == hits + 1
    _get(url, f"/tiles/WebMercatorQuad/{Z}/{row - 3}/{col - 3}")  # the first one made: dropped, made again
    assert cache.hits == hits + 1


def test_an_lru_of_tiles_drops_the_oldest_and_keeps_no_tile_larger_than_itself():
    cache = TileCache(3 * (100 + ENTRY_OVERHEAD))
    keys = [TileKey(("hazard_areas",), Audience.PUBLIC, None, 10, 0, x, "fp") for x in range(4)]
    for k in keys[:3]:
        cache.put(k, b"x" * 100)
    assert cache.get(keys[0]) is not None  # used: now the most recent
    cache.put(keys[3], b"y" * 100)
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is not None and len(cache) == 3
    assert cache.held == 3 * (100 + ENTRY_OVERHEAD)
    big = cache.put(TileKey((), Audience.PUBLIC, None, 0, 0, 0, "fp"), b"z" * 10_000)
    assert big.data == b"z" * 10_000 and len(cache) == 3 and cache.held <= cache.max_bytes
    other = TileKey(("hazard_areas",), Audience.RESTRICTED, None, 10, 0, 3, "fp")
    assert cache.get(other) is None  # the same tile for another audience is another entry


def test_a_viewer_never_gets_the_analysts_cached_tile(site):
    """The analyst's tile is made and kept first; the viewer asking for the same tile gets the viewer's own
    (the generalised outlines), the same bytes a fresh cut gives, never the analyst's."""
    url, location, tokens, app = site
    cache: TileCache = app.state.tile_cache
    path = _tile_of(_hazard(location))
    analyst = _get(url, path, tokens["ana"])
    assert _get(url, path, tokens["ana"]).content == analyst.content and cache.hits == 1
    viewer = _get(url, path, tokens["view"])
    public = _get(url, path)
    assert viewer.status_code == public.status_code == 200 and cache.hits == 1  # two new entries, no hit
    assert viewer.content != analyst.content and viewer.headers["etag"] != analyst.headers["etag"]
    assert _get(url, path, tokens["view"], **{"If-None-Match": analyst.headers["etag"]}).status_code == 200
    cache.clear()
    assert _get(url, path, tokens["view"]).content == viewer.content  # what a fresh cut gives the viewer
    assert _get(url, path).content == public.content
    assert viewer.headers["cache-control"].startswith("private") and public.headers["cache-control"].startswith(
        "public"
    )


@pytest.mark.parametrize(
    "bad", ["status LIKE 5", "nope='x'", "status = 'open' OR", "S_INTERSECTS(geometry, POINT(1 2))"]
)
def test_a_bad_tile_filter_is_a_400_naming_the_filter(site, bad):
    url, location, _, _ = site
    path = _tile_of(_hazard(location))
    r = httpx.get(url + path, params={"filter": bad}, timeout=60)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "invalid_parameter" and repr(bad) in body["message"] and body["hint"], body
    good = httpx.get(url + path, params={"filter": "status='open'"}, timeout=60)
    assert good.status_code == 200 and good.headers["etag"]
