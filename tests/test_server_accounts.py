"""Accounts on the server, on both backends: login, sessions, tokens, CSRF, the login limit, what
each role reads, and the review queue fed through OGC API Features Part 4.

A real ``safeground serve`` on 127.0.0.1, real httpx clients; the users are made with the same
services ``safeground users add`` calls.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import shapely

from safeground.model import Accident, HazardArea, VictimIdentity
from safeground.services import accounts as acc_svc
from safeground.storage import open_store
from tests.test_public_outputs import restricted_positions
from tests.test_server import PUBLIC, RESTRICTED, contextlib_for, coordinates_in_features
from tests.web_server import serve_cli

PASSWORD = "the long road to Chaykend"
USERS = {  # user → (organisation acronym, role)
    "rev": ("NMAA", "reviewer"),
    "ana": ("NMAA", "analyst"),
    "view": ("DONOR", "viewer"),
    "op.a": ("OPA", "data_entry"),
    "op.b": ("OPB", "data_entry"),
}


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def server(
    request: pytest.FixtureRequest, small_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(URL, store location, user → API token)."""
    copy = tmp_path_factory.mktemp("accounts") / "s.gpkg"
    shutil.copy(small_store, copy)
    with contextlib_for(request.param, copy) as location:
        for acronym, kind in (
            ("NMAA", "national_authority"),
            ("DONOR", "un_agency"),
            ("OPA", "ngo"),
            ("OPB", "commercial"),
        ):
            if not [o for o in acc_svc.organisations(location) if o.acronym == acronym]:  # the demo has the authority
                acc_svc.add_organisation(location, f"Org {acronym}", kind, acronym=acronym, actor="setup")
        tokens = {}
        for name, (org, role) in USERS.items():
            acc_svc.add_user(
                location, name, full_name=name, organisation=org, role=role, password=PASSWORD, actor="setup"
            )
            tokens[name] = acc_svc.add_token(location, name, "test device", actor="setup")
        with serve_cli(location) as url:
            yield url, location, tokens


def _get(url: str, path: str, token: str | None = None, **params: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url + path, params=params, headers=headers, timeout=60)  # type: ignore[arg-type]


def _items(url: str, layer: str, token: str | None) -> list[dict]:
    r = _get(url, f"/collections/{layer}/items", token, limit=10_000)
    assert r.status_code == 200, r.text
    return r.json()["features"]


def test_login_sets_a_strict_httponly_session_and_wrong_passwords_are_audited(server) -> None:
    url, location, _ = server
    bad = httpx.post(url + "/login", json={"username": "rev", "password": "not it at all"}, timeout=30)
    assert bad.status_code == 401 and bad.json()["code"] == "not_logged_in"
    with httpx.Client(base_url=url, timeout=30) as c:
        ok = c.post("/login", json={"username": "rev", "password": PASSWORD})
        assert ok.status_code == 200, ok.text
        cookie = next(h for h in ok.headers.get_list("set-cookie") if h.startswith("sg_session="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert c.get("/me").json()["role"] == "reviewer"
        assert c.post("/logout", headers={"X-CSRF-Token": ok.json()["csrf"]}).status_code == 200
        assert c.get("/me").status_code == 401
    failed = [e for e in acc_svc.audit_entries(location) if e.action == "login.failed"]
    assert failed and failed[-1].origin.startswith("web 127.0.0.1") and "not it" not in json.dumps(failed[-1].__dict__)


def test_a_change_by_cookie_needs_the_csrf_token(server) -> None:
    url, _, _ = server
    with httpx.Client(base_url=url, timeout=30) as c:
        csrf = c.post("/login", json={"username": "op.a", "password": PASSWORD}).json()["csrf"]
        feature = {"type": "Feature", "geometry": None, "properties": {}}
        forged = c.post("/collections/accidents/items", json=feature)
        assert forged.status_code == 403 and "CSRF" in forged.json()["message"]
        sent = c.post("/collections/accidents/items", json=feature, headers={"X-CSRF-Token": csrf})
        assert sent.status_code == 422  # past the CSRF check: the feature itself is refused, field by field


def test_failed_logins_are_limited(server) -> None:
    url, _, _ = server
    for _ in range(5):
        assert httpx.post(url + "/login", json={"username": "view", "password": "wrong one"}).status_code == 401
    locked = httpx.post(url + "/login", json={"username": "view", "password": PASSWORD}, timeout=30)
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"


def test_a_bad_token_is_refused_not_read_as_the_public(server) -> None:
    url, _, tokens = server
    r = _get(url, "/collections", tokens["ana"][:-2] + "xx")
    assert r.status_code == 401 and "not valid" in r.json()["message"]


def test_an_expired_token_is_refused_with_401_saying_so_and_what_to_do(server) -> None:
    from tests.test_accounts import _raw

    url, location, _ = server
    token = acc_svc.add_token(location, "view", "a week on a tablet", actor="setup", days=7)
    assert _get(url, "/me", token).json()["user"] == "view"
    # the week is over (the stored expiry set back, as the clock would move on)
    _raw(location, f"UPDATE safeground_tokens SET expires_at = '2026-01-02T03:04:00+00:00' "
                   f"WHERE prefix = '{token[:10]}'")  # fmt: skip
    for path in ("/me", "/collections", "/collections/hazard_areas/items"):
        r = _get(url, path, token)
        assert r.status_code == 401, (path, r.text)
        body = r.json()
        assert body["code"] == "not_logged_in" and "expired on 2026-01-02 03:04 UTC" in body["message"]
        assert token[:10] in body["message"] and token not in r.text
        assert "/workspace/tokens" in body["hint"] and "--days" in body["hint"]
    assert [k.state for k in acc_svc.tokens(location, "view") if k.prefix == token[:10]] == ["expired"]


def test_a_token_with_a_lower_role_than_its_user_may_do_only_what_that_role_may(server) -> None:
    url, location, tokens = server
    low = acc_svc.add_token(location, "rev", "dashboard screen", actor="setup", role="viewer")
    entry = acc_svc.add_token(location, "rev", "field tablet", actor="setup", role="data_entry")
    me = _get(url, "/me", low).json()
    assert (me["user"], me["role"], me["audience"]) == ("rev", "viewer", "partner")
    for layer in RESTRICTED:  # the user reads them; this token of theirs does not
        assert _get(url, f"/collections/{layer}/items", tokens["rev"], limit=1).status_code == 200
        assert _get(url, f"/collections/{layer}/items", low, limit=1).status_code == 403
    item = "/collections/hazard_areas/items/HA-99999"
    r = httpx.delete(url + item, headers={"Authorization": f"Bearer {low}"}, timeout=60)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"  # submitting a change needs data entry
    approve = "/submissions/SUB-99999/approve"
    full = httpx.post(url + approve, headers={"Authorization": f"Bearer {tokens['rev']}"}, timeout=60)
    assert full.status_code != 403 and full.json()["code"] != "forbidden"  # the user's own token passes the check
    for token in (low, entry):  # reviewing needs the reviewer's role, which neither token carries
        r = httpx.post(url + approve, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    assert _get(url, "/submissions", entry).status_code == 200  # what data entry may, it may


def test_demoting_a_user_lowers_their_tokens_at_once_over_http(server) -> None:
    """A reviewer's own-role token and their analyst's token; the reviewer made data entry: the first does what
    data entry may, the second neither reads restricted data (the user may no longer) nor submits (the token
    never could): it reads as a viewer."""
    url, location, _ = server
    acc_svc.add_user(location, "demoted", full_name="D", organisation="NMAA", role="reviewer", password=PASSWORD,
                     actor="setup")  # fmt: skip
    own = acc_svc.add_token(location, "demoted", "review tablet", actor="setup")
    reader = acc_svc.add_token(location, "demoted", "QGIS", actor="setup", role="analyst")
    assert [_get(url, "/me", t).json()["role"] for t in (own, reader)] == ["reviewer", "analyst"]
    assert _get(url, "/collections/victim_identities/items", reader, limit=1).status_code == 200
    acc_svc.set_role(location, "demoted", "data_entry", actor="setup")
    assert [_get(url, "/me", t).json()["role"] for t in (own, reader)] == ["data_entry", "viewer"]
    for token in (own, reader):
        assert _get(url, "/collections/victim_identities/items", token, limit=1).status_code == 403
        assert _get(url, "/collections/hazard_areas/items", token, limit=1).status_code == 200
    assert _get(url, "/submissions", own).status_code == 200
    assert _get(url, "/submissions", reader).status_code == 403
    # their tokens page says what each token acts as now, beside the role it was made with
    page = _get(url, "/workspace/tokens", own)
    assert page.status_code == 200, page.text
    for token, made, now in ((own, "reviewer", "data_entry"), (reader, "analyst", "viewer")):
        row = page.text.split(f'data-token="{token[:10]}"', 1)[1].split("</tr>", 1)[0]
        assert f'data-token-role="{made}" data-token-acts-as="{now}"' in row, row
        assert "acts as" in row, row


def test_each_role_reads_what_its_audience_may_and_not_a_byte_more(server) -> None:
    url, location, tokens = server
    with open_store(location, create=False, readonly=True) as store:
        r = restricted_positions(store)
        names = set(store.read_frame(VictimIdentity)["full_name"])
        exact = len(store.read_frame(Accident))
    for user in ("view", "op.a"):  # partners: individual records, but no exact position and no identity
        listed = {c["id"] for c in _get(url, "/collections", tokens[user]).json()["collections"]}
        assert listed == set(PUBLIC)
        for layer in RESTRICTED:
            assert _get(url, f"/collections/{layer}/items", tokens[user]).status_code == 403
        found, text = [], []
        for layer in PUBLIC:
            feats = _items(url, layer, tokens[user])
            found.append(coordinates_in_features(feats, r))
            text.append(json.dumps([f["properties"] for f in feats]))
        leaks = r.near(np.vstack([f for f in found if len(f)]))
        assert leaks == {}, (user, leaks)
        assert not [n for n in names if n in "".join(text)]
    # the analyst reads the store as it is: the same search finds every exact accident (it can fail)
    feats = _items(url, "accidents", tokens["ana"])
    assert r.near(coordinates_in_features(feats, r)).get("accidents") == exact
    ids = _items(url, "victim_identities", tokens["ana"])
    assert {f["properties"]["full_name"] for f in ids} == names


def test_a_data_entry_report_goes_to_review_and_only_a_reviewer_applies_it(server) -> None:
    url, location, tokens = server
    with open_store(location, create=False, readonly=True) as store:
        hz = next(h for h in store.find(HazardArea) if h.status.value == "open")
        before = store.count(HazardArea)
    props = {
        k: v
        for k, v in json.loads(hz.model_dump_json()).items()
        if k not in ("uid", "version", "geometry", "entered_at", "entered_by", "change_reason", "status_history")
    }
    feature = {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(hz.geometry.buffer(0.0002))),
        "properties": {**props, "date_of_information": "2024-05-02", "name": "reported again by OPA"},
    }
    sent = httpx.post(
        url + "/collections/hazard_areas/items",
        json=feature,
        timeout=60,
        headers={"Authorization": f"Bearer {tokens['op.a']}"},
    )
    assert sent.status_code == 202, sent.text
    sid = sent.json()["id"]
    assert sent.headers["location"].endswith(f"/submissions/{sid}")
    assert "probable_duplicate" in {f["code"] for f in sent.json()["flags"]}
    with open_store(location, create=False, readonly=True) as store:
        assert store.count(HazardArea) == before  # nothing reached the record
    assert sid in [s["id"] for s in _get(url, "/submissions", tokens["op.a"]).json()["submissions"]]
    assert sid not in [s["id"] for s in _get(url, "/submissions", tokens["op.b"]).json()["submissions"]]
    assert _get(url, f"/submissions/{sid}", tokens["op.b"]).status_code == 404  # as if it did not exist
    assert _get(url, "/submissions", tokens["view"]).status_code == 403
    no = httpx.post(url + f"/submissions/{sid}/approve", headers={"Authorization": f"Bearer {tokens['op.a']}"})
    assert no.status_code == 403
    shown = _get(url, f"/submissions/{sid}", tokens["rev"]).json()
    assert shown["changes"][0]["kind"] == "create" and shown["changes"][0]["layer"] == "hazard_areas"
    yes = httpx.post(
        url + f"/submissions/{sid}/approve", headers={"Authorization": f"Bearer {tokens['rev']}"}, timeout=60
    )
    assert yes.status_code == 200 and yes.json()["state"] == "approved" and yes.json()["decided_by"] == "rev"
    with open_store(location, create=False, readonly=True) as store:
        assert store.count(HazardArea) == before + 1
        new = [h for h in store.find(HazardArea) if h.name == "reported again by OPA"]
        assert len(new) == 1 and new[0].entered_by == "op.a"
    assert _get(url, f"/submissions/{sid}", tokens["op.a"]).json()["decided_by"] == "rev"  # the submitter sees it
    assert acc_svc.verify_audit(location).ok


def test_a_kobo_rest_service_post_becomes_a_submission_and_its_find_a_record(server) -> None:
    """The JSON KoboToolbox posts for one submission (an entry of its data export), authenticated by token."""
    from safeground.model import EOItem

    url, location, tokens = server
    entry = json.loads((Path(__file__).parent / "data" / "forms" / "eo_find_kobo.json").read_text())["results"][0]
    with httpx.Client(base_url=url, timeout=60) as c:  # from a browser session it is refused: Kobo sends a token
        csrf = c.post("/login", json={"username": "op.b", "password": PASSWORD}).json()["csrf"]
        assert c.post("/kobo/eo_find", json=entry, headers={"X-CSRF-Token": csrf}).status_code == 403
    auth = {"Authorization": f"Bearer {tokens['op.b']}"}
    bad = httpx.post(url + "/kobo/eo_find", json={**entry, "location": "not a place"}, headers=auth, timeout=60)
    assert bad.status_code == 422 and "location" in bad.text
    sent = httpx.post(url + "/kobo/eo_find", json=entry, headers=auth, timeout=60)
    assert sent.status_code == 202, sent.text
    sub = sent.json()
    assert sub["source"] == "kobo eo_find" and sub["submitted_by"] == "op.b" and sub["summary"] == "eo_items: 1 new"
    with open_store(location, create=False, readonly=True) as store:
        before = store.count(EOItem)
    ok = httpx.post(
        url + f"/submissions/{sub['id']}/approve", headers={"Authorization": f"Bearer {tokens['rev']}"}, timeout=60
    )
    assert ok.status_code == 200, ok.text
    with open_store(location, create=False, readonly=True) as store:
        assert store.count(EOItem) == before + 1
        found = [e for e in store.find(EOItem) if e.eo_model == "M77 DPICM" and abs(e.geometry.y - 39.60412) < 1e-6]
        assert len(found) == 1 and found[0].entered_by != "import"


def test_a_data_entry_user_reads_their_own_accident_report_without_names_or_the_exact_place(server) -> None:
    """``GET /submissions/{sid}`` gives a partner-audience submitter the diff as the workspace page shows it:
    the victim's name, contact and the accident's exact position withheld; a reviewer reads them as sent."""
    url, _location, tokens = server
    entry = json.loads((Path(__file__).parent / "data" / "forms" / "accident_kobo.json").read_text())["results"][0]
    sent = httpx.post(
        url + "/kobo/accident_report", json=entry, headers={"Authorization": f"Bearer {tokens['op.a']}"}, timeout=60
    )
    assert sent.status_code == 202, sent.text
    sid = sent.json()["id"]
    mine = _get(url, f"/submissions/{sid}", tokens["op.a"])
    assert mine.status_code == 200, mine.text
    layers = {c["layer"] for c in mine.json()["changes"]}
    assert {"accidents", "victims", "victim_identities"} <= layers  # the diff is there, not dropped
    for secret in ("Elchin Mammadov", "+994 50 000 00 00", "39.61842", "47.13377"):
        assert secret not in mine.text, secret
    assert "(restricted)" in mine.text
    listed = _get(url, "/submissions", tokens["op.a"]).text
    assert "39.61842" not in listed and "47.13377" not in listed
    reviewer = _get(url, f"/submissions/{sid}", tokens["rev"]).text
    assert "Elchin Mammadov" in reviewer and "39.61842" in reviewer  # the test can fail: the secrets are sent


def test_a_deletion_through_the_api_is_reviewed_and_keeps_the_history(server) -> None:
    """OGC API Features Part 4 DELETE: a submission like any other; approved, the record leaves the layer and
    its versions stay in the history; nobody's DELETE removes a record at once, not even a reviewer's."""
    url, location, tokens = server
    with open_store(location, create=False, readonly=True) as store:
        hz = sorted(store.find(HazardArea), key=lambda h: h.uid)[-1]
        before = store.count(HazardArea)
    path = f"/collections/hazard_areas/items/{hz.uid}"
    for who in ("op.a", "rev"):
        sent = httpx.delete(url + path, headers={"Authorization": f"Bearer {tokens[who]}"}, timeout=60)
        assert sent.status_code == 202, sent.text
        assert sent.json()["summary"] == "hazard_areas: 1 deleted"
        assert _get(url, path, tokens["rev"]).status_code == 200  # still there: a deletion waits for review
    sid, twice = sent.json()["id"], sent.json()["id"] - 1
    shown = _get(url, f"/submissions/{twice}", tokens["rev"]).json()
    assert [(c["kind"], c["uid"], c["base_version"]) for c in shown["changes"]] == [("delete", hz.uid, hz.version)]
    assert shown["changes"][0]["fields"]["status"][0] == hz.status.value  # what leaves, field by field
    refused = httpx.post(url + f"/submissions/{twice}/approve", headers={"Authorization": f"Bearer {tokens['op.a']}"})
    assert refused.status_code == 403
    approved = httpx.post(
        url + f"/submissions/{twice}/approve", headers={"Authorization": f"Bearer {tokens['rev']}"}, timeout=60
    )
    assert approved.status_code == 200 and approved.json()["state"] == "approved", approved.text
    with open_store(location, create=False, readonly=True) as store:
        assert store.count(HazardArea) == before - 1
        assert hz.uid not in store.current_versions(HazardArea)
        kept = store.history(HazardArea, hz.uid)  # every version stays, the last one is the one deleted
        assert kept[-1].version == hz.version and kept[-1].model_dump() == hz.model_dump()
    # the second deletion of the same record cannot be applied any more: a conflict, nothing changes
    late = httpx.post(url + f"/submissions/{sid}/approve", headers={"Authorization": f"Bearer {tokens['rev']}"})
    assert late.status_code == 409
    entry = [e for e in acc_svc.audit_entries(location) if e.action == "submission.approve"][-1]
    assert entry.actor == "rev" and entry.after["deleted"] == [f"hazard_areas:{hz.uid}"]
    missing = httpx.delete(
        url + "/collections/hazard_areas/items/HA-99999", headers={"Authorization": f"Bearer {tokens['op.a']}"}
    )
    assert missing.status_code == 404


def test_requests_per_api_token_are_limited(small_store: Path, tmp_path: Path) -> None:
    """A token past its requests in the window gets 429 with Retry-After, in the one error shape; another
    token and the public are not held back by it."""
    from safeground.web import ServerSettings, create_app
    from tests.web_server import serve_app

    copy = tmp_path / "s.gpkg"
    shutil.copy(small_store, copy)
    location = str(copy)
    acc_svc.add_organisation(location, "Org OPA", "ngo", acronym="OPA", actor="setup")
    tokens = {}
    for name in ("dev1", "dev2"):
        acc_svc.add_user(location, name, full_name=name, organisation="OPA", role="viewer", password=PASSWORD,
                         actor="setup")  # fmt: skip
        tokens[name] = acc_svc.add_token(location, name, "field device", actor="setup")
    with open_store(location, create=False, readonly=True) as store:
        app = create_app(ServerSettings(store=location, token_requests=5, token_window_s=600), store)
        with serve_app(app) as url:
            codes = [_get(url, "/collections", tokens["dev1"]).status_code for _ in range(6)]
            refused = _get(url, "/collections/hazard_areas/items", tokens["dev1"])
            assert codes == [200] * 5 + [429] and refused.status_code == 429
            body = refused.json()
            assert set(body) == {"code", "status", "message", "hint"} and body["code"] == "too_many_requests"
            assert 0 < int(refused.headers["retry-after"]) <= 601
            assert _get(url, "/collections", tokens["dev2"]).status_code == 200
            assert _get(url, "/collections", None).status_code == 200
