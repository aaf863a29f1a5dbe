"""The workspace's administration in a real browser: API tokens, organisations, the side panel's documents.

Debian's chromium (Playwright, every request off 127.0.0.1 blocked and listed) against a real
``safeground serve`` on a copy of a generated district. A token made in the browser is used by a real
HTTP request and stops working once revoked; a user sees only their own tokens and none of the
administrator's actions; an organisation is added, edited (a new version of its record) and refused
with an error that says what to do; a minefield record's dossier is a real PDF for a reader of exact
positions and neither a link nor a PDF for a viewer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from safeground.model import MinefieldRecord, Organisation
from safeground.services import accounts as acc_svc
from safeground.storage import open_store
from tests.browser import add_accounts, log_in, offline_page
from tests.web_server import serve_cli

# one browser at a time: with two chromiums and their servers on two cores a wait for MapLibre's 'idle' ran out
# (alone the test passes); pytest-xdist ``--dist loadgroup`` keeps this group on one worker
pytestmark = pytest.mark.xdist_group("browser")

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
PASSWORD = "the long road to Chaykend"
USERS = {
    "boss": ("NMAA", "admin"),
    "op.a": ("OPA", "data_entry"),
    "rev": ("NMAA", "reviewer"),
    "view": ("OPA", "viewer"),
}
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def site(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(URL, store location) of a server on a copy of the small district with the test's accounts."""
    location = str(tmp_path_factory.mktemp("workspace-admin") / "s.gpkg")
    shutil.copy(small_store, location)
    add_accounts(location, {"NMAA": "national_authority", "OPA": "ngo"}, USERS, PASSWORD)
    with serve_cli(location) as url:
        yield url, location


def _login(page: Any, url: str, user: str, then: str) -> None:
    log_in(page, url, user, PASSWORD, then)


def _cookies(page: Any) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}


def _post(page: Any, url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    """A change sent as the page sends it: the session cookie and the CSRF header."""
    cookies = _cookies(page)
    return httpx.post(url + path, json=body, cookies=cookies, headers={"X-CSRF-Token": cookies["sg_csrf"]}, timeout=60)


def _make_token(page: Any, label: str) -> str:
    page.fill('#sg-add-token [name="label"]', label)
    page.click('#sg-add-token button[type="submit"]')
    page.wait_for_selector("#sg-token-made:not([hidden])", timeout=30_000)
    secret = page.text_content("#sg-token-secret") or ""
    assert secret.startswith("sg_") and len(secret) > 30
    return secret


def _me(url: str, secret: str) -> httpx.Response:
    return httpx.get(url + "/me", headers={"Authorization": f"Bearer {secret}"}, timeout=30)


def test_a_token_made_in_the_browser_works_over_http_until_it_is_revoked(site) -> None:
    url, location = site
    IMG.mkdir(parents=True, exist_ok=True)
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "boss", "/workspace/tokens")
        secret = _make_token(page, "QGIS on the district laptop")
        me = _me(url, secret)
        assert me.status_code == 200 and me.json()["user"] == "boss" and me.json()["role"] == "admin"
        page.screenshot(path=str(IMG / "workspace-tokens.png"), full_page=True)
        with page.expect_navigation():
            page.click("#sg-token-done")
        assert secret not in page.content()  # shown once: the list has its first characters only
        row = page.locator(f'#sg-tokens tr[data-token="{secret[:10]}"]')
        assert "QGIS on the district laptop" in row.inner_text()
        with page.expect_navigation():
            row.locator("[data-revoke]").click()
        assert page.locator(f'#sg-tokens tr[data-token="{secret[:10]}"].sg-disabled').count() == 1
        assert _me(url, secret).status_code == 401
        # a token cannot make another token (a leaked one, once revoked, stays gone)
        other = acc_svc.add_token(location, "boss", "script", actor="setup")
        r = httpx.post(url + "/workspace/tokens", json={"label": "more"}, headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 403 and "cannot make another token" in r.json()["message"]
    assert blocked == []
    entries = [e for e in acc_svc.audit_entries(location) if e.action.startswith("token.")]
    web = [e for e in entries if e.origin == "web 127.0.0.1" and e.actor == "boss"]
    assert [e.action for e in web] == ["token.add", "token.revoke"]
    assert {k: web[0].after[k] for k in ("label", "prefix", "role")} == {
        "label": "QGIS on the district laptop", "prefix": secret[:10], "role": "admin"}  # fmt: skip
    assert web[0].after["expires_at"] > web[0].at  # 90 days unless chosen otherwise
    assert acc_svc.verify_audit(location).ok


def test_the_administrator_revokes_another_users_token_which_that_user_alone_sees(site) -> None:
    url, location = site
    boss_secret = acc_svc.add_token(location, "boss", "boss's own", actor="setup")
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "op.a", "/workspace/tokens")
        secret = _make_token(page, "Kobo REST service")
        assert _me(url, secret).json()["role"] == "data_entry"  # the user's role, never more
        page.reload()
        html = page.content()
        assert secret[:10] in html and boss_secret[:10] not in html  # only one's own tokens
        assert {r for r in page.locator("#sg-tokens tr[data-token-user]").evaluate_all(
            "rs => rs.map(r => r.dataset.tokenUser)")} == {"op.a"}  # fmt: skip
        # the administrator's actions are not theirs: the page, its revocation, another user's token
        r = page.goto(f"{url}/workspace/admin")
        assert r is not None and r.status == 403
        assert boss_secret[:10] not in page.content() and "sg-tokens" not in page.content()
        assert _post(page, url, f"/workspace/admin/tokens/{boss_secret[:10]}/revoke", {}).status_code == 403
        assert _post(page, url, f"/workspace/tokens/{boss_secret[:10]}/revoke", {}).status_code == 404
        assert _post(page, url, "/workspace/admin/organisations", {"name": "X", "org_type": "ngo"}).status_code == 403
        assert "nav_tokens" in page.locator(".sg-nav a").evaluate_all("as => as.map(a => a.dataset.nav)")
    assert blocked == []
    assert _me(url, boss_secret).status_code == 200  # untouched by the attempts
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "boss", "/workspace/admin")
        row = page.locator(f'#sg-tokens tr[data-token="{secret[:10]}"]')
        assert "op.a" in row.inner_text() and "Kobo REST service" in row.inner_text()
        with page.expect_navigation():
            row.locator("[data-revoke]").click()
        assert page.locator(f'#sg-tokens tr[data-token="{secret[:10]}"].sg-disabled').count() == 1
        assert page.locator("#sg-audit tr[data-action]").first.get_attribute("data-action") == "token.revoke"
    assert blocked == []
    assert _me(url, secret).status_code == 401


def _options(page: Any, select: str) -> list[tuple[str, bool]]:
    """(value, disabled) of each option of a select, as the page offers them."""
    return page.locator(f"{select} option").evaluate_all("os => os.map(o => [o.value, o.disabled])")


def test_a_user_chooses_a_tokens_expiry_and_only_roles_at_or_below_their_own(site) -> None:
    url, location = site
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "op.a", "/workspace/tokens")
        assert _options(page, '#sg-add-token [name="role"]') == [["viewer", False], ["data_entry", False]]
        assert page.locator('#sg-add-token [name="role"]').input_value() == "data_entry"
        assert page.locator('#sg-add-token [name="days"]').input_value() == "90"
        page.select_option('#sg-add-token [name="role"]', "viewer")
        page.select_option('#sg-add-token [name="days"]', "7")
        secret = _make_token(page, "district dashboard")
        assert "viewer" in (page.text_content("#sg-token-what") or "")
        me = _me(url, secret).json()
        assert (me["user"], me["role"]) == ("op.a", "viewer")
        gone = httpx.delete(url + "/collections/hazard_areas/items/HA-99999",
                            headers={"Authorization": f"Bearer {secret}"}, timeout=60)  # fmt: skip
        assert gone.status_code == 403  # op.a may submit a deletion; this token of theirs may not
        with page.expect_navigation():
            page.click("#sg-token-done")
        row = page.locator(f'#sg-tokens tr[data-token="{secret[:10]}"]')
        (made,) = [k for k in acc_svc.tokens(location, "op.a") if k.prefix == secret[:10]]
        assert made.expires_at is not None and made.expires_at[:16].replace("T", " ") in row.inner_text()
        assert row.get_attribute("data-token-state") == "live"
        # a role above their own, sent by a page changed in the browser's tools: refused, and said why
        before = len(acc_svc.tokens(location, "op.a"))
        page.evaluate("""() => { const s = document.querySelector('#sg-add-token [name="role"]');
                                 s.add(new Option('reviewer', 'reviewer')); s.value = 'reviewer'; }""")
        page.fill('#sg-add-token [name="label"]', "more than me")
        page.click('#sg-add-token button[type="submit"]')
        error = page.locator("#sg-errors .sg-error")
        error.wait_for(state="visible", timeout=30_000)
        assert "cannot have the role reviewer" in error.inner_text() and "viewer, data_entry" in error.inner_text()
        r = _post(page, url, "/workspace/tokens", {"label": "x", "role": "admin", "days": 30})
        assert r.status_code == 403 and "cannot have the role admin" in r.json()["message"]
        r = _post(page, url, "/workspace/tokens", {"label": "x", "days": -1})
        assert r.status_code == 400 and "days" in r.text, r.text
        assert len(acc_svc.tokens(location, "op.a")) == before  # nothing refused was stored
    assert blocked == []


def test_the_administrator_makes_a_token_for_another_user_which_acts_as_them_with_the_role_chosen(site) -> None:
    url, location = site
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "boss", "/workspace/admin")
        form = "#sg-admin-token"
        page.select_option(f'{form} [name="username"]', "op.a")
        offered = dict(_options(page, f'{form} [name="role"]'))
        assert offered == {"": False, "viewer": False, "data_entry": False, "reviewer": True, "analyst": True,
                           "admin": True}  # fmt: skip
        page.select_option(f'{form} [name="username"]', "rev")
        assert not dict(_options(page, f'{form} [name="role"]'))["reviewer"]
        page.select_option(f'{form} [name="username"]', "op.a")
        page.fill(f'{form} [name="label"]', "Kobo server of OPA")
        page.select_option(f'{form} [name="days"]', "30")
        page.select_option(f'{form} [name="role"]', "viewer")
        page.click(f'{form} button[type="submit"]')
        page.wait_for_selector("#sg-token-made:not([hidden])", timeout=30_000)
        secret = page.text_content("#sg-token-secret") or ""
        assert secret.startswith("sg_") and "op.a" in (page.text_content("#sg-token-what") or "")
        me = _me(url, secret).json()
        assert (me["user"], me["role"]) == ("op.a", "viewer")  # as that user, with the role chosen
        # a role above the user's own (the page's list changed in the browser's tools): refused, said why
        page.evaluate(f"""() => {{ const s = document.querySelector('{form} [name="role"]');
                                  for (const o of s.options) o.disabled = false; s.value = 'reviewer'; }}""")
        page.fill(f'{form} [name="label"]', "too much")
        page.click(f'{form} button[type="submit"]')
        error = page.locator("#sg-errors .sg-error")
        error.wait_for(state="visible", timeout=30_000)
        assert "cannot have the role reviewer" in error.inner_text()
        with page.expect_navigation():
            page.click("#sg-token-done")
        row = page.locator(f'#sg-tokens tr[data-token="{secret[:10]}"]')
        assert "op.a" in row.inner_text() and "Kobo server of OPA" in row.inner_text()
    assert blocked == []
    assert secret not in json.dumps([e.__dict__ for e in acc_svc.audit_entries(location)])
    made = [e for e in acc_svc.audit_entries(location) if e.action == "token.add" and e.after["prefix"] == secret[:10]]
    assert [(e.actor, e.origin, e.target, e.after["role"]) for e in made] == [
        ("boss", "web 127.0.0.1", "user:op.a", "viewer")]  # fmt: skip
    assert made[0].after["expires_at"][:10] > made[0].at[:10]
    assert not [k for k in acc_svc.tokens(location, "op.a") if k.label == "too much"]
    # a token (even the administrator's) cannot make one for someone else
    other = acc_svc.add_token(location, "boss", "script", actor="setup")
    r = httpx.post(url + "/workspace/admin/users/op.a/tokens", json={"label": "x"},
                   headers={"Authorization": f"Bearer {other}"}, timeout=30)  # fmt: skip
    assert r.status_code == 403 and "cannot make another token" in r.json()["message"]
    assert acc_svc.verify_audit(location).ok


def test_an_organisation_is_added_edited_and_refused_with_what_to_do(site) -> None:
    url, location = site
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "boss", "/workspace/admin")
        f = page.locator("#sg-add-org")
        f.locator('[name="name"]').fill("Mine Action Test Group")
        f.locator('[name="acronym"]').fill("MATG")
        f.locator('[name="org_type"]').select_option("ngo")
        with page.expect_navigation():
            f.locator('button[type="submit"]').click()
        uid = page.locator("#sg-orgs tr[data-org]").evaluate_all(
            "rs => rs.filter(r => r.querySelector('[data-org-field=acronym]').value === 'MATG').map(r => r.dataset.org)"
        )
        assert len(uid) == 1
        uid = uid[0]
        row = page.locator(f'#sg-orgs tr[data-org="{uid}"]')
        row.locator('[data-org-field="name"]').fill("Mine Action Test Group (Tartar)")
        row.locator('[data-org-field="org_type"]').select_option("commercial")
        row.locator('[data-org-field="accredited"]').uncheck()
        with page.expect_navigation():
            row.locator("[data-save-org]").click()
        row = page.locator(f'#sg-orgs tr[data-org="{uid}"]')
        assert row.get_attribute("data-version") == "2"
        assert row.locator('[data-org-field="name"]').input_value() == "Mine Action Test Group (Tartar)"
        # a user moved to it from the users table
        with page.expect_navigation():
            page.select_option("#org-of-view", uid)
        assert page.locator("#org-of-view").input_value() == uid
        page.screenshot(path=str(IMG / "workspace-admin.png"), full_page=True)
        # bad input: an acronym another organisation has, an empty name; the page says what to do
        f = page.locator("#sg-add-org")
        f.locator('[name="name"]').fill("Another group")
        f.locator('[name="acronym"]').fill("matg")
        f.locator('button[type="submit"]').click()
        error = page.locator("#sg-errors .sg-error")
        error.wait_for(state="visible", timeout=30_000)
        assert uid in error.inner_text() and "choose another name or acronym" in error.inner_text()
        row = page.locator(f'#sg-orgs tr[data-org="{uid}"]')
        row.locator('[data-org-field="name"]').fill("  ")
        row.locator("[data-save-org]").click()
        page.wait_for_function("document.querySelector('#sg-errors').innerText.includes('needs a name')")
    assert blocked == []
    with open_store(location, create=False, readonly=True) as s:
        org = s.get(Organisation, uid)
        assert (org.name, org.acronym, org.org_type.value, org.accredited, org.version) == (
            "Mine Action Test Group (Tartar)", "MATG", "commercial", False, 2)  # fmt: skip
        assert org.entered_by == "boss"
        assert len(list(s.find(Organisation, acronym="MATG"))) == 1  # the refused one was not stored
    assert next(u for u in acc_svc.users(location) if u.username == "view").organisation == uid
    actions = {e.action: e for e in acc_svc.audit_entries(location) if e.origin == "web 127.0.0.1"}
    assert actions["organisation.edit"].before == {"name": "Mine Action Test Group", "org_type": "ngo",
                                                   "accredited": True}  # fmt: skip
    assert actions["user.organisation"].after == {"organisation": uid}
    assert acc_svc.verify_audit(location).ok


def _open_record(page: Any, uid: str) -> None:
    page.wait_for_function("document.body.dataset.mapState === 'ready'", timeout=90_000)
    page.evaluate(f"window.sgOpenFeature('minefield_records', '{uid}')")
    page.wait_for_function(f"document.getElementById('sg-panel').dataset.feature === '{uid}'", timeout=30_000)
    page.wait_for_selector('#sg-panel-links a[data-doc="report"]', timeout=30_000)  # the documents are in


def test_a_minefield_records_dossier_is_a_pdf_for_a_reader_of_exact_positions_only(site, tmp_path: Path) -> None:
    url, location = site
    with open_store(location, create=False, readonly=True) as s:
        uid = sorted(r.uid for r in s.find(MinefieldRecord))[0]
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "rev", "/workspace")
        _open_record(page, uid)
        link = page.locator('#sg-panel-links a[data-doc="dossier"]')
        assert uid in link.inner_text()
        pdf = httpx.get(url + link.get_attribute("href"), cookies=_cookies(page), timeout=300)
        assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
        # made for this reader from the store as it is now: shown in the browser, kept by no cache
        assert pdf.headers["cache-control"] == "no-store"
        assert (
            pdf.headers["content-disposition"].startswith("inline; filename=")
            and uid in pdf.headers["content-disposition"]
        )
        (tmp_path / "d.pdf").write_bytes(pdf.content)
        text = subprocess.run(["pdftotext", str(tmp_path / "d.pdf"), "-"], capture_output=True, text=True, check=True)
        assert uid in text.stdout
        report = page.locator('#sg-panel-links a[data-doc="report"]').get_attribute("href")
        assert report == "/workspace/reports/map-accuracy.pdf"
        page.locator("#sg-panel-links").scroll_into_view_if_needed()
        page.screenshot(path=str(IMG / "workspace-panel-dossier.png"))
    assert blocked == []
    with offline_page(viewport=VIEWPORT) as (page, blocked):
        _login(page, url, "view", "/workspace")
        _open_record(page, uid)
        assert page.locator('#sg-panel-links a[data-doc="dossier"]').count() == 0
        assert "/workspace/dossiers/" not in page.locator("#sg-panel").inner_html()
        r = httpx.get(f"{url}/workspace/dossiers/{uid}.pdf", cookies=_cookies(page), timeout=60)
        assert r.status_code == 403 and not r.content.startswith(b"%PDF")
    assert blocked == []
    assert httpx.get(f"{url}/workspace/dossiers/{uid}.pdf", timeout=60).status_code == 401  # nobody logged in


def test_every_text_of_these_pages_is_in_each_language() -> None:
    """Each key the token and administration pages and the panel's links ask for is in English, and each text
    of this group (admin.<code>.json) is in Azerbaijani and Russian too, translated (not the English again)."""
    import json
    import re

    from safeground.web.i18n import strings

    web = ROOT / "src" / "safeground" / "web"
    pages = web / "templates" / "workspace"
    files = [pages / n for n in ("admin.html.j2", "tokens.html.j2", "token_table.html.j2", "token_secret.html.j2",
                                 "token_options.html.j2")]  # fmt: skip
    files += [web / "static" / "workspace" / n for n in ("tokens.mjs", "links.mjs", "admin.mjs")]
    used = {k for f in files for k in re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""", f.read_text("utf-8"))}
    used |= {f"org_type_{k}" for k in ("national_authority", "ngo", "commercial", "military", "un_agency")}
    used |= {f"report_{k}" for k in ("land_release", "map_accuracy", "casualties", "national")}
    en = strings("en")
    assert "token_once" in used and not sorted(used - set(en))
    own = json.loads((web / "i18n" / "admin.en.json").read_text("utf-8"))
    for code in ("az", "ru"):
        table = json.loads((web / "i18n" / f"admin.{code}.json").read_text("utf-8"))
        assert sorted(table) == sorted(own), code
        same = [k for k in own if table[k] == own[k] and k not in ("token_prefix",)]
        assert not same, (code, same)
