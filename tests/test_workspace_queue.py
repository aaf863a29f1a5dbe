"""The workspace's review queue, data entry, dashboards and administration, in a real browser.

Debian's chromium (Playwright, every request off 127.0.0.1 blocked and listed) against a real
``safeground serve`` on a copy of a generated district; the users are made with the services
``safeground users add`` calls. A data entry user draws an accident on the map and sends it; a
reviewer sees it in the queue (inside released land: the residual-contamination flag), compares and
approves it, and the record holds it; a rejection's reason reaches the submitter; another
organisation's user never sees it; what a role may not read never reaches its browser.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from safeground.model import Accident, Activity, EOItem, VictimIdentity
from safeground.review.queue import ReviewQueue, State
from safeground.services import accounts as acc_svc
from safeground.services import entry as entry_svc
from safeground.storage import open_store
from tests.browser import add_accounts, log_in, offline_page
from tests.web_server import serve_cli

# one browser at a time: with two chromiums and their servers on two cores a wait for MapLibre's 'idle' ran out
# (alone the test passes); pytest-xdist ``--dist loadgroup`` keeps this group on one worker
pytestmark = pytest.mark.xdist_group("browser")

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
PASSWORD = "the long road to Chaykend"
USERS = {  # user → (organisation acronym, role)
    "rev": ("NMAA", "reviewer"),
    "view": ("DONOR", "viewer"),
    "op.a": ("OPA", "data_entry"),
    "op.b": ("OPB", "data_entry"),
    "boss": ("NMAA", "admin"),
}
VICTIM_NAME = "Leyla Qarayeva-Testova"
VIEWPORT = {"width": 1280, "height": 860}


@pytest.fixture(scope="module")
def site(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(URL, store location) of a server on a copy of the small district with the test's accounts."""
    location = str(tmp_path_factory.mktemp("workspace-queue") / "s.gpkg")
    shutil.copy(small_store, location)
    orgs = {"NMAA": "national_authority", "DONOR": "un_agency", "OPA": "ngo", "OPB": "commercial"}
    add_accounts(location, orgs, USERS, PASSWORD)
    with serve_cli(location) as url:
        yield url, location


def _login(page: Any, url: str, user: str, then: str) -> None:
    log_in(page, url, user, PASSWORD, then)


def _released_point(location: str) -> tuple[float, float]:
    """A point inside land released by finished work: an accident there is residual contamination."""
    from safeground.landrelease.accounting import finished_release_work

    with open_store(location, create=False, readonly=True) as s:
        done = finished_release_work(s.read_frame(Activity))
    assert len(done), "the district has released land"
    p = done.geometry.iloc[0].representative_point()
    return p.x, p.y


def _bodies(page: Any) -> list[str]:
    """Every response body the page receives from now on (text), to look for what must not be there."""
    seen: list[str] = []

    def keep(response: Any) -> None:
        with contextlib.suppress(Exception):  # a redirect or an aborted request has no body
            seen.append(response.text())

    page.on("response", keep)
    return seen


def test_an_accident_drawn_in_the_browser_is_reviewed_and_approved_into_the_record(site) -> None:
    url, location = site
    lon, lat = _released_point(location)
    with open_store(location, create=False, readonly=True) as s:
        accidents_before = s.count(Accident)
    IMG.mkdir(parents=True, exist_ok=True)
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        bodies = _bodies(page)
        _login(page, url, "op.a", "/workspace/entry")
        page.wait_for_function("window.sgEntryReady === true", timeout=60_000)
        # sent without the device: the importer's own check names the field, shown next to it
        page.fill('[data-field="report_date"] input', "2026-11-20")
        page.fill('[data-field="accident_date"] input', "2026-11-18")
        page.click("#sg-entry-submit")
        device_error = page.locator('[data-error-for="device_type"]')
        device_error.wait_for(state="visible", timeout=30_000)
        assert "choice is required" in device_error.inner_text()
        assert "GPS" in page.locator('[data-error-for="location"]').inner_text()
        # the accident drawn on the map: a click where it happened
        page.click('[data-draw="location"]')
        x, y = page.evaluate(f"(() => {{ const p = window.sgDraw.map.project([{lon}, {lat}]); return [p.x, p.y]; }})()")
        box = page.locator("#sg-entry-map canvas").bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)
        drawn = json.loads(page.locator('input[data-geometry][name="location"]').input_value())
        assert drawn["type"] == "Point"
        assert abs(drawn["coordinates"][0] - lon) < 1e-4 and abs(drawn["coordinates"][1] - lat) < 1e-4
        page.select_option('[data-field="device_type"] select', "antipersonnel_mine")
        page.fill('[data-field="settlement"] input', "Chaykend")
        v = '[data-index="1"]'
        page.select_option(f'{v} [data-name="victim_status"] select', "civilian")
        page.select_option(f'{v} [data-name="outcome"] select', "injured")
        page.select_option(f'{v} [data-name="sex"] select', "female")
        page.fill(f'{v} [data-name="age"] input', "34")
        page.select_option(f'{v} [data-name="activity_at_time"] select', "farming")
        page.select_option(f'{v} [data-name="name_known"] select', "yes")
        page.fill(f'{v} [data-name="full_name"] input', VICTIM_NAME)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(IMG / "workspace-entry.png"))
        page.click("#sg-entry-submit")
        page.wait_for_function("window.sgSubmitted !== undefined", timeout=60_000)
        sid = page.evaluate("window.sgSubmitted")
        assert page.locator('[data-error-for="device_type"]').inner_text() == ""
        # the submitter's own page: flags, no restricted field (the victim's name, the exact position)
        page.click("#sg-entry-link")
        page.wait_for_selector("#sg-submission")
        assert page.locator('.sg-change[data-layer="victim_identities"] tr.sg-withheld').count() >= 1
        assert page.locator("#sg-approve").count() == 0  # a data entry user does not decide
    assert blocked == []
    text = "\n".join(bodies)
    assert VICTIM_NAME not in text  # typed by them, but their role does not read identities
    assert f"{drawn['coordinates'][0]}" not in text and f"{drawn['coordinates'][1]}" not in text  # nor the position

    with ReviewQueue(location) as q:
        sub = q.get(sid)
    assert sub.state is State.PENDING and sub.submitted_by == "op.a" and sub.source == "workspace accident_report"
    assert "residual_contamination" in {f.code for f in sub.flags}
    with open_store(location, create=False, readonly=True) as s:
        assert s.count(Accident) == accidents_before  # nothing reaches the record before review

    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "rev", "/workspace/review")
        row = page.locator(f'tr[data-sid="{sid}"]')
        assert row.get_attribute("class") == "sg-residual"  # the residual-contamination row stands out
        assert row.locator('[data-flag="residual_contamination"]').count() == 1
        page.screenshot(path=str(IMG / "workspace-queue.png"))
        row.locator("a").first.click()
        page.wait_for_selector('.sg-residual-banner[data-flag="residual_contamination"]')
        page.wait_for_function("window.sgDiffFeatures === 1 && window.sgMapIdle === true", timeout=60_000)
        assert (
            VICTIM_NAME in page.locator('.sg-change[data-layer="victim_identities"]').inner_text()
        )  # a reviewer reads it
        page.screenshot(path=str(IMG / "workspace-review.png"), full_page=True)
        page.click("#sg-approve")
        page.wait_for_selector('#sg-submission[data-state="approved"]', timeout=60_000)
        assert "rev" in page.locator("#sg-decided").inner_text()
        # and it is on the workspace's map (the accidents layer's vector tiles are cut from the record)
        page.goto(f"{url}/workspace")
        page.wait_for_function("document.body.dataset.mapState === 'ready'", timeout=120_000)
        on_map = page.evaluate(
            "JSON.stringify(window.sgMap.querySourceFeatures('accidents', {sourceLayer: 'accidents'})"
            ".map(f => f.properties.uid))"
        )
        with open_store(location, create=False, readonly=True) as s:
            uid = next(a.uid for a in s.find(Accident) if a.entered_by == "op.a")
        assert uid in on_map
    assert blocked == []
    with open_store(location, create=False, readonly=True) as s:
        assert s.count(Accident) == accidents_before + 1
        new = [a for a in s.find(Accident) if a.settlement == "Chaykend" and a.entered_by == "op.a"]
        assert len(new) == 1
        assert abs(new[0].geometry.x - drawn["coordinates"][0]) < 1e-9
        assert abs(new[0].geometry.y - drawn["coordinates"][1]) < 1e-9
        assert [i.full_name for i in s.find(VictimIdentity) if i.full_name == VICTIM_NAME]
    assert acc_svc.verify_audit(location).ok


def _eo_submission(location: str, user: str) -> int:
    """An EO find sent through the same service as the entry page (the browser part is tested above)."""
    lon, lat = _released_point(location)
    u = next(x for x in acc_svc.users(location) if x.username == user)
    sub = entry_svc.submit_entry(
        location,
        "eo_find",
        {
            "find_date": "2026-11-25",
            "location": {"type": "Point", "coordinates": [lon + 0.001, lat]},
            "eo_type": "uxo",
            "condition": "intact",
            "how_found": "eod_call_out",
        },
        user=u,
        origin="test",
    )
    return sub.id


def test_a_rejection_and_its_reason_reach_the_submitter_and_no_other_organisation(site) -> None:
    url, location = site
    sid = _eo_submission(location, "op.a")
    reason = "The position is the team's base camp, not the find: send it again with the GPS at the item."
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "rev", f"/workspace/review/{sid}")
        page.fill("#sg-reason", reason)
        page.click("#sg-reject")
        page.wait_for_selector('#sg-submission[data-state="rejected"]', timeout=60_000)
    assert blocked == []
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "op.a", "/workspace/review")
        row = page.locator(f'tr[data-sid="{sid}"]')
        assert row.get_attribute("data-state") == "rejected"
        assert reason in row.locator("[data-reason]").inner_text()
        row.locator("a").first.click()
        page.wait_for_selector("#sg-reject-reason")
        assert page.locator("#sg-reject-reason").inner_text() == reason
    assert blocked == []
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        bodies = _bodies(page)
        _login(page, url, "op.b", "/workspace/review?state=all")
        assert page.locator(f'tr[data-sid="{sid}"]').count() == 0
        shown = [int(s) for s in page.locator("tr[data-sid]").evaluate_all("rs => rs.map(r => r.dataset.sid)")]
        with ReviewQueue(location) as q:
            assert all(q.get(s).organisation == _org(location, "op.b") for s in shown)
        r = page.goto(f"{url}/workspace/review/{sid}")
        assert r is not None and r.status == 404  # as if it did not exist
        assert page.locator("#sg-submission-missing").count() == 1
        page.goto(f"{url}/workspace/review?lang=az")  # the queue's own text comes from the language's file
        assert page.locator("h1").inner_text() == "Yoxlama növbəsi"
        assert page.locator('[data-state="rejected"]').first.inner_text() == "rədd edilib"
    assert blocked == []
    assert not [b for b in bodies if reason in b]


def _org(location: str, user: str) -> str:
    return next(u.organisation for u in acc_svc.users(location) if u.username == user)


def test_a_viewer_never_receives_a_restricted_field(site) -> None:
    url, location = site
    with open_store(location, create=False, readonly=True) as s:
        names = [i.full_name for i in s.find(VictimIdentity)]
        exact = [f"{a.geometry.x!r}" for a in s.find(Accident)] + [f"{e.geometry.x!r}" for e in s.find(EOItem)]
    assert names and exact
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        bodies = _bodies(page)
        _login(page, url, "view", "/workspace/dashboards")
        page.wait_for_function("window.sgDashboards === true", timeout=120_000)
        for path in ("/workspace", "/workspace/review", "/workspace/entry", "/workspace/admin"):
            r = page.goto(url + path)
            assert r is not None and r.status in (200, 403), path
        page.goto(url + "/workspace")
        page.wait_for_timeout(3000)  # let the map page make its requests
    assert blocked == []
    text = "\n".join(bodies)
    assert len(text) > 1000
    assert not [n for n in names if n in text]
    assert not [x for x in exact if x in text]


def test_the_dashboards_draw_the_numbers_of_their_json(site) -> None:
    url, _ = site
    listed = httpx.get(url + "/dashboards", timeout=60)
    if listed.status_code == 404:
        pytest.skip("the dashboards' JSON (GET /dashboards, branch s7-speed) is not merged here: NOT tested")
    with offline_page(viewport={"width": 1280, "height": 1400}) as (page, blocked):
        _login(page, url, "rev", "/workspace/dashboards")
        page.wait_for_function("window.sgDashboards === true", timeout=180_000)
        page.wait_for_function(
            "[...document.querySelectorAll('.sg-dashboard')].every(d => d.dataset.loaded)", timeout=180_000
        )
        cards = page.locator(".sg-dashboard")
        names = cards.evaluate_all("cs => cs.map(c => c.dataset.dashboard)")
        assert {"casualties-by-month", "land-release-over-time", "remaining-area", "accuracy-by-source",
                "completion-forecast"} <= set(names)  # fmt: skip
        for name in names:
            card = page.locator(f'.sg-dashboard[data-dashboard="{name}"]')
            assert card.get_attribute("data-loaded") == "1", name
            dash = httpx.get(f"{url}/dashboards/{name}.json", timeout=120, cookies=_cookies(page)).json()
            cells = card.locator("table.sg-numbers tbody tr").evaluate_all(
                "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
            )
            assert cells == [["" if v is None else _js(v) for v in row] for row in dash["rows"]], name
            marks = card.locator(".sg-mark").evaluate_all(
                "ms => ms.map(m => [Number(m.dataset.row), m.dataset.column, m.dataset.value])"
            )
            assert len(marks) >= len(dash["rows"]), name  # every row drawn (the forecast: each area's P10/P50/P90)
            for row, column, value in marks:  # each mark is the number of its cell in the JSON
                assert value == _js(dash["rows"][row][dash["columns"].index(column)]), (name, row, column)
            assert card.locator(f'[data-csv="{name}"]').get_attribute("href")
            assert httpx.get(url + card.locator(f'[data-csv="{name}"]').get_attribute("href"), timeout=120,
                             cookies=_cookies(page)).status_code == 200  # fmt: skip
        page.screenshot(path=str(IMG / "workspace-dashboards.png"), full_page=True)
        href = page.locator('.sg-dashboard[data-dashboard="casualties-by-month"] [data-report]').get_attribute("href")
        pdf = httpx.get(url + href, timeout=300, cookies=_cookies(page))
        assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
        assert "restricted" in pdf.headers["content-disposition"]  # the reviewer's audience, not the public's
    assert blocked == []


def _cookies(page: Any) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}


def _js(v: Any) -> str:
    """A JSON value as the page's String(v) writes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def test_the_administrator_adds_a_user_changes_a_role_disables_and_sees_the_audit(site) -> None:
    url, location = site
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "boss", "/workspace/admin")
        assert page.locator("#sg-audit-check").get_attribute("class") == "sg-ok"
        f = page.locator("#sg-add-user")
        f.locator('[name="username"]').fill("new.clerk")
        f.locator('[name="full_name"]').fill("New Clerk")
        f.locator('[name="password"]').fill("a long enough passphrase 42")
        f.locator('[name="role"]').select_option("data_entry")
        with page.expect_navigation():  # the page is read again after each change
            f.locator('button[type="submit"]').click()
        page.wait_for_selector('tr[data-user="new.clerk"]', timeout=30_000)
        with page.expect_navigation():
            page.select_option("#role-new\\.clerk", "viewer")
        assert page.locator("#role-new\\.clerk").input_value() == "viewer"
        with page.expect_navigation():
            page.locator('[data-disable="new.clerk"]').click()
        page.wait_for_selector('tr[data-user="new.clerk"].sg-disabled', timeout=30_000)
        assert page.locator('[data-disable="boss"]').is_disabled()  # not one's own account
        actions = page.locator("#sg-audit tr[data-action]").evaluate_all("rs => rs.map(r => r.dataset.action)")
        assert actions[:3] == ["user.disable", "user.role", "user.add"]
        assert "web 127.0.0.1" in page.locator("#sg-audit tbody tr").first.inner_text()
        page.goto(f"{url}/workspace/admin?actor=boss&action=user.role")
        assert page.locator("#sg-audit tr[data-action]").evaluate_all("rs => rs.map(r => r.dataset.action)") == [
            "user.role"
        ]
    assert blocked == []
    clerk = next(u for u in acc_svc.users(location) if u.username == "new.clerk")
    assert clerk.role.value == "viewer" and not clerk.active
    assert acc_svc.verify_audit(location).ok
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "op.a", "/workspace/review")
        r = page.goto(f"{url}/workspace/admin")
        assert r is not None and r.status == 403
    assert blocked == []


def test_an_entry_is_read_as_the_forms_importer_reads_it_and_refused_field_by_field(site) -> None:
    """Over HTTP with an API token: a hazard area drawn as an area and as a line with its width; a refused
    entry answers 422 with one problem per field (the victim's fields named by their victim)."""
    url, location = site
    token = acc_svc.add_token(location, "op.b", "test", actor="setup")
    auth = {"Authorization": f"Bearer {token}"}
    lon, lat = _released_point(location)
    ring = [[lon, lat], [lon + 0.002, lat], [lon + 0.002, lat + 0.0015], [lon, lat + 0.0015], [lon, lat]]
    common = {
        "report_date": "2026-11-28",
        "classification": "suspected_hazardous_area",
        "contamination": "antipersonnel_mines",
        "evidence_kind": "indirect",
        "evidence_description": "a shepherd saw a PMN",
        "evidence_source": "informant",
    }
    area = httpx.post(
        url + "/workspace/entry/hazard_report",
        json={"values": {**common, "area_kind": "polygon", "area": {"type": "Polygon", "coordinates": [ring]}}},
        headers=auth,
        timeout=60,
    )
    assert area.status_code == 202, area.text
    assert area.headers["location"] == f"/workspace/review/{area.json()['id']}"
    line = httpx.post(
        url + "/workspace/entry/hazard_report",
        json={
            "values": {
                **common,
                "area_kind": "line",
                "line_width_m": "10",
                "hazard_line": {"type": "LineString", "coordinates": ring[:3]},
            }
        },
        headers=auth,
        timeout=60,
    )
    assert line.status_code == 202, line.text
    with ReviewQueue(location) as q:
        areas = []
        for sid in (area.json()["id"], line.json()["id"]):
            sub = q.get(sid)
            assert sub.organisation == _org(location, "op.b") and sub.submitted_by == "op.b"
            from safeground.review.changeset import load_plan

            (hazard,) = load_plan(sub.payload).create
            assert hazard.geometry.geom_type in {"Polygon", "MultiPolygon"} and hazard.entered_by == "op.b"
            areas.append(hazard.estimated_area_m2)
    # the area about 170 × 167 m; the line about 337 m long and 10 m wide (the importer's buffer)
    assert 20_000 < areas[0] < 36_000 and 2_500 < areas[1] < 4_500, areas
    bad = httpx.post(
        url + "/workspace/entry/accident_report",
        json={
            "values": {"report_date": "2026-11-28", "accident_date": "2026-12-01", "device_type": "mine"},
            "repeats": [{"victim_status": "civilian", "sex": "female"}],
        },
        headers=auth,
        timeout=60,
    )
    assert bad.status_code == 422
    assert "correct the fields" in bad.json()["hint"] and "workspace-" not in bad.json()["message"]
    problems = {
        (p["item"].split(", ")[-1] if "victim" in p["item"] else "", p["field"]) for p in bad.json()["problems"]
    }
    assert {("", "device_type"), ("", "location"), ("", "accident_date"), ("victim 1", "outcome"),
            ("victim 1", "activity_at_time")} <= problems  # fmt: skip
    assert ("victim 1", "sex") not in problems


def test_a_hazard_area_is_drawn_corner_by_corner_edited_and_sent(site) -> None:
    """Click to add a corner, drag a corner to move it, undo the last: the area sent is the one drawn."""
    url, location = site
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "op.b", "/workspace/entry?form=hazard_report")
        page.wait_for_function("window.sgEntryReady === true", timeout=60_000)
        page.select_option('[data-field="area_kind"] select', "polygon")
        assert page.locator('[data-field="hazard_line"]').is_hidden()  # relevant only to a line
        page.click('[data-draw="area"]')
        box = page.locator("#sg-entry-map canvas").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for dx, dy in ((-60, -40), (60, -40), (60, 40), (-60, 40), (0, 90)):
            page.mouse.click(cx + dx, cy + dy)
        page.click('[data-undo="area"]')  # the fifth corner was a slip
        page.mouse.move(cx + 60, cy + 40)  # drag the third corner out
        page.mouse.down()
        page.mouse.move(cx + 90, cy + 70, steps=5)
        page.mouse.up()
        area = json.loads(page.locator('input[data-geometry][name="area"]').input_value())
        ring = area["coordinates"][0]
        assert area["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
        moved = page.evaluate(
            f"(() => {{ const p = window.sgDraw.map.project({json.dumps(ring[2])}); return [p.x, p.y]; }})()"
        )
        assert abs(box["x"] + moved[0] - (cx + 90)) < 3 and abs(box["y"] + moved[1] - (cy + 70)) < 3
        page.fill('[data-field="report_date"] input', "2026-11-27")
        page.select_option('[data-field="classification"] select', "suspected_hazardous_area")
        page.select_option('[data-field="contamination"] select', "antipersonnel_mines")
        page.select_option('[data-field="evidence_kind"] select', "indirect")
        page.fill('[data-field="evidence_description"] input', "the herders avoid the slope since 1994")
        page.fill('[data-field="evidence_source"] input', "village elder")
        page.click("#sg-entry-submit")
        page.wait_for_function("window.sgSubmitted !== undefined", timeout=60_000)
        sid = page.evaluate("window.sgSubmitted")
        # from the keyboard: a line typed as GPS positions, "lat lon; lat lon"
        page.select_option('[data-field="area_kind"] select', "line")
        typed = page.locator('[data-coords="hazard_line"]')
        typed.fill("39.6201 47.1501; 39.6207 47.1512")
        typed.press("Tab")
        line = json.loads(page.locator('input[data-geometry][name="hazard_line"]').input_value())
        assert line == {"type": "LineString", "coordinates": [[47.1501, 39.6201], [47.1512, 39.6207]]}
    assert blocked == []
    from safeground.review.changeset import load_plan

    with ReviewQueue(location) as q:
        (hazard,) = load_plan(q.get(sid).payload).create
    import shapely.geometry

    assert hazard.geometry.equals(shapely.geometry.shape(area))  # the area drawn, corner for corner


def test_every_text_of_these_pages_is_in_each_language() -> None:
    """Each key the pages and their scripts ask for is in English, and every English text, question and
    choice of the entry forms is in Azerbaijani and Russian too (a missing one would show its key)."""
    import re

    from safeground.web.i18n import strings

    web = ROOT / "src" / "safeground" / "web"
    en = strings("en")
    pages = web / "templates" / "workspace"
    files = [*pages.glob("review*.j2"), *pages.glob("entry*.j2"), pages / "dashboards.html.j2", pages / "admin.html.j2"]
    files += [web / "static" / "workspace" / n for n in ("review.mjs", "entry.mjs", "dashboards.mjs", "admin.mjs")]
    used = {k for f in files for k in re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""", f.read_text("utf-8"))}
    assert used and not sorted(used - set(en))
    own = json.loads((web / "i18n" / "queue.en.json").read_text("utf-8"))
    for code in ("az", "ru"):
        table = strings(code)
        assert not sorted(
            k for k in own if k not in json.loads((web / "i18n" / f"queue.{code}.json").read_text("utf-8"))
        )
        for name in entry_svc.ENTRY_FORMS:
            f = entry_svc.entry_form(name)
            for q in [*f.questions, *f.repeat_questions]:
                assert f"q_{q.name}" in table, (code, q.name)
                assert not [v for v, _ in q.choices if f"c_{v}" not in table], (code, q.name)
        for key in ("state_pending", "state_approved", "state_rejected", "state_all", "form_accident_report"):
            assert table[key] != en[key], (code, key)


def test_a_new_version_shows_the_old_and_the_new_geometry(site) -> None:
    """An update sent through OGC API Features Part 4 (PUT): the reviewer's map draws both outlines."""
    url, location = site
    from safeground.model import HazardArea

    token = acc_svc.add_token(location, "op.a", "qgis", actor="setup")
    with open_store(location, create=False, readonly=True) as s:
        hz = next(h for h in s.find(HazardArea) if h.status.value == "open")
    props = {k: v for k, v in json.loads(hz.model_dump_json()).items()
             if k not in ("uid", "version", "geometry", "entered_at", "entered_by", "change_reason")}  # fmt: skip
    import shapely

    moved = shapely.affinity.translate(hz.geometry, xoff=0.0008)
    sent = httpx.put(
        f"{url}/collections/hazard_areas/items/{hz.uid}",
        json={
            "type": "Feature",
            "geometry": json.loads(shapely.to_geojson(moved)),
            "properties": {**props, "date_of_information": "2026-11-29"},
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert sent.status_code == 202, sent.text
    sid = sent.json()["id"]
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "rev", f"/workspace/review/{sid}")
        page.wait_for_function("window.sgDiffFeatures === 2 && window.sgMapIdle === true", timeout=60_000)
        change = page.locator(f'.sg-change[data-uid="{hz.uid}"]')
        import re

        metres = float(re.search(r"The geometry moves (\d+) m", change.inner_text()).group(1))
        assert 55 < metres < 80  # 0.0008° of longitude at 39.6° N: about 68 m
        assert change.locator('tr[data-field="date_of_information"]').count() == 1
    assert blocked == []


def test_a_reported_area_that_is_a_recorded_one_is_reconciled_to_it(site) -> None:
    """A hazard area reported again (a probable duplicate): the reviewer reconciles it to the recorded one
    in the browser, and the submission becomes a new version of that record."""
    url, location = site
    from safeground.model import HazardArea

    with open_store(location, create=False, readonly=True) as s:
        hz = next(h for h in s.find(HazardArea) if h.status.value == "open" and h.geometry.area > 1e-7)
    import shapely

    ring = [list(c) for c in shapely.geometry.mapping(hz.geometry.convex_hull)["coordinates"][0]]
    u = next(x for x in acc_svc.users(location) if x.username == "op.a")
    sub = entry_svc.submit_entry(
        location,
        "hazard_report",
        {
            "report_date": "2026-11-30",
            "classification": "suspected_hazardous_area",
            "area_kind": "polygon",
            "contamination": "antipersonnel_mines",
            "evidence_kind": "indirect",
            "evidence_description": "again",
            "evidence_source": "informant",
            "area": {"type": "Polygon", "coordinates": [ring]},
        },
        user=u,
        origin="test",
    )
    assert "probable_duplicate" in {f.code for f in sub.flags}
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "rev", f"/workspace/review/{sub.id}")
        form = page.locator("form.sg-reconcile").first
        candidates = form.locator("datalist option").evaluate_all("os => os.map(o => o.value)")
        assert hz.uid in candidates
        form.locator('input[name="to"]').fill(hz.uid)
        with page.expect_navigation():
            form.locator("button").click()
        change = page.locator(f'.sg-change[data-uid="{hz.uid}"]')
        assert change.count() == 1 and "new version" in change.inner_text()
    assert blocked == []
