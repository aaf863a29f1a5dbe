"""Accounts, roles and the hash-chained audit log, on both backends (issue 18).

Real stores (a GeoPackage file and a PostGIS schema), real Argon2 hashes, and tampering done the
way an insider would do it: an UPDATE or DELETE straight on the database, behind SafeGround's back.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy

from safeground.accounts import ROLES, Permission, Role, permissions_of
from safeground.accounts.repository import Accounts
from safeground.errors import InvalidInput, SafeGroundError
from safeground.services import accounts as svc
from safeground.storage.base import Store

PASSWORD = "the river below Chaykend"


def _raw(location: str, sql: str) -> None:
    """Run SQL directly on the store's database, as someone with database access could."""
    if location.startswith("postgresql"):
        from safeground.storage.postgis import _split_url

        url, schema = _split_url(location)
        eng = sqlalchemy.create_engine(url)
        with eng.begin() as c:
            c.execute(sqlalchemy.text(f'SET search_path TO "{schema}"'))
            c.execute(sqlalchemy.text(sql))
        eng.dispose()
    else:
        con = sqlite3.connect(location)
        con.execute(sql)
        con.commit()
        con.close()


@pytest.fixture()
def people(store: Store) -> str:
    """A store with the authority, one operator and three users."""
    loc = store.test_url  # type: ignore[attr-defined]
    svc.add_organisation(loc, "National Mine Action Agency", "national_authority", acronym="NMAA", actor="setup")
    svc.add_organisation(loc, "Demining Group", "ngo", acronym="DG", actor="setup")
    svc.add_user(
        loc, "admin", full_name="First Admin", organisation="NMAA", role="admin", password=PASSWORD, actor="setup"
    )
    svc.add_user(
        loc,
        "r.huseynov",
        full_name="Rauf Huseynov",
        organisation="NMAA",
        role="reviewer",
        password=PASSWORD + " 2",
        actor="admin",
    )
    svc.add_user(
        loc,
        "field.1",
        full_name="Field Team 1",
        organisation="DG",
        role="data_entry",
        password=PASSWORD + " 3",
        actor="admin",
    )
    return loc


def test_login_works_only_with_the_right_password_of_an_active_account(people: str) -> None:
    with Accounts(people) as acc:
        assert acc.authenticate("r.huseynov", PASSWORD + " 2", origin="test").role is Role.REVIEWER
        assert acc.authenticate("R.Huseynov ", PASSWORD + " 2", origin="test") is not None  # as typed on a phone
        assert acc.authenticate("r.huseynov", PASSWORD, origin="test") is None  # another user's password
        assert acc.authenticate("nobody", PASSWORD, origin="test") is None
        acc.set_active("r.huseynov", False, actor="admin", origin="test")
        assert acc.authenticate("r.huseynov", PASSWORD + " 2", origin="test") is None
        failures = [e for e in acc.entries() if e.action == "login.failed"]
        assert [e.target for e in failures] == ["user:r.huseynov", "user:nobody", "user:r.huseynov"]


def test_no_password_or_hash_is_kept_where_it_can_be_read(people: str) -> None:
    with Accounts(people) as acc:
        users = acc.users()
        logged = json.dumps([e.__dict__ for e in acc.entries()])
    assert [u.username for u in users] == ["admin", "field.1", "r.huseynov"]
    assert not any(hasattr(u, "password_hash") for u in users)
    assert "argon2" not in logged and PASSWORD not in logged
    assert users[0].organisation.startswith("ORG-")


def test_weak_passwords_and_bad_names_are_refused_and_nothing_is_stored(people: str) -> None:
    with pytest.raises(InvalidInput, match="shorter than 12"):
        svc.add_user(people, "short.pw", full_name="X", organisation="DG", role="viewer", password="abc", actor="a")
    with pytest.raises(InvalidInput, match="same as the user name"):
        svc.add_user(
            people,
            "longusername1",
            full_name="X",
            organisation="DG",
            role="viewer",
            password="LongUserName1",
            actor="a",
        )
    with pytest.raises(SafeGroundError, match="not usable"):
        svc.add_user(people, "ali veli", full_name="X", organisation="DG", role="viewer", password=PASSWORD, actor="a")
    with pytest.raises(SafeGroundError, match="no organisation 'HALO'"):
        svc.add_user(people, "h.1", full_name="X", organisation="HALO", role="viewer", password=PASSWORD, actor="a")
    with pytest.raises(SafeGroundError, match="unknown role"):
        svc.add_user(people, "h.2", full_name="X", organisation="DG", role="superuser", password=PASSWORD, actor="a")
    with pytest.raises(SafeGroundError, match="already a user"):
        svc.add_user(people, "admin", full_name="X", organisation="DG", role="viewer", password=PASSWORD, actor="a")
    assert [u.username for u in svc.users(people)] == ["admin", "field.1", "r.huseynov"]
    assert svc.verify_audit(people).count == 5  # two organisations, three users: no entry for a refusal


def test_a_new_role_or_password_ends_open_sessions(people: str) -> None:
    with Accounts(people) as acc:
        user = acc.user("field.1")
        sid = acc.open_session(user)
        assert acc.session_user(sid) == user
        assert acc.session_user(sid + "x") is None
        acc.set_role("field.1", Role.VIEWER, actor="admin", origin="test")
        assert acc.session_user(sid) is None
        sid = acc.open_session(acc.user("field.1"))
        acc.set_password("field.1", "a brand new passphrase", actor="field.1", origin="test")
        assert acc.session_user(sid) is None
        sid = acc.open_session(acc.user("field.1"))
        acc.close_session(sid)
        assert acc.session_user(sid) is None


def test_tokens_are_stored_hashed_and_stop_with_their_user(people: str) -> None:
    with Accounts(people) as acc:
        token = acc.add_token("field.1", "KoboToolbox REST service", actor="admin", origin="test")
        assert acc.token_user(token).username == "field.1"
        assert acc.token_user(token[:-1]) is None
        entries = json.dumps([e.__dict__ for e in acc.entries()])
        assert token not in entries
        acc.set_active("field.1", False, actor="admin", origin="test")
        assert acc.token_user(token) is None
        acc.set_active("field.1", True, actor="admin", origin="test")
        assert acc.revoke_token(token[:10], actor="admin", origin="test") == 1
        assert acc.token_user(token) is None


def test_every_account_change_is_audited_with_its_person(people: str) -> None:
    svc.set_role(people, "field.1", "viewer", actor="admin")
    svc.set_active(people, "field.1", False, actor="r.huseynov")
    entries = svc.audit_entries(people)
    assert [e.action for e in entries] == [
        "organisation.add",
        "organisation.add",
        "user.add",
        "user.add",
        "user.add",
        "user.role",
        "user.disable",
    ]
    assert [e.actor for e in entries[-3:]] == ["admin", "admin", "r.huseynov"]
    assert entries[-2].before == {"role": "data_entry"} and entries[-2].after == {"role": "viewer"}
    check = svc.verify_audit(people)
    assert check.ok and check.count == 7 and check.head == entries[-1].hash


def test_audit_verify_finds_an_entry_changed_behind_the_servers_back(people: str) -> None:
    assert svc.verify_audit(people).ok
    _raw(people, "UPDATE safeground_audit SET actor = 'someone else' WHERE seq = 3")
    check = svc.verify_audit(people)
    assert not check.ok
    assert check.problems == ["entry 3 (user.add on user:admin) was changed after it was written"]


def test_audit_verify_finds_an_entry_removed(people: str) -> None:
    _raw(people, "DELETE FROM safeground_audit WHERE seq = 2")
    problems = svc.verify_audit(people).problems
    assert problems[0] == "entry 2 is missing: removed from the log?"
    assert "entry 3 does not follow" in problems[1]


def test_entries_cut_off_the_end_are_found_against_a_kept_head(people: str) -> None:
    head = svc.verify_audit(people).head
    _raw(people, "DELETE FROM safeground_audit WHERE seq = 5")
    assert svc.verify_audit(people).ok  # the log alone cannot know it once had a fifth entry
    check = svc.verify_audit(people, expect_head=head)
    assert not check.ok and "removed from the end" in check.problems[0]


def test_reading_accounts_of_a_store_without_any_writes_nothing(tmp_path: Path) -> None:
    from safeground.storage import open_store

    path = tmp_path / "s.gpkg"
    open_store(str(path)).close()
    before = path.read_bytes()
    assert svc.users(str(path)) == [] and svc.verify_audit(str(path)).count == 0
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    assert "safeground_users" not in tables and path.read_bytes() == before


def test_roles_grant_what_imsma_practice_says_and_nothing_by_default() -> None:
    assert permissions_of(None) == {Permission.READ_PUBLIC}
    assert permissions_of("root") == {Permission.READ_PUBLIC}  # unknown: public, deny by default
    assert ROLES[Role.ADMIN] == set(Permission)
    assert Permission.REVIEW not in permissions_of("data_entry") and Permission.SUBMIT in permissions_of("data_entry")
    assert Permission.READ_RESTRICTED not in permissions_of("viewer")
    analyst = permissions_of("analyst")
    assert Permission.READ_RESTRICTED in analyst and Permission.REVIEW not in analyst
    for role, granted in ROLES.items():
        # what a role reads as (its Audience) and its read permissions say the same thing
        assert (Permission.READ_RESTRICTED in granted) == role.audience.exact, role
        assert (Permission.READ_PARTNER in granted) == (role.audience.rank >= 1), role


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("safeground")
    return subprocess.run(
        [str(exe), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_the_first_admin_from_the_command_line(tmp_path: Path) -> None:
    store = str(tmp_path / "country.gpkg")
    assert _cli("init", "--store", store, "--area", "46.5,39.2,47.5,40.2").returncode == 0
    res = _cli(
        "orgs",
        "add",
        "National Mine Action Agency",
        "--type",
        "national_authority",
        "--acronym",
        "NMAA",
        "--store",
        store,
        "--by",
        "installer",
    )
    assert res.returncode == 0 and "added ORG-00001" in res.stdout, res.stderr
    res = _cli(
        "users",
        "add",
        "first.admin",
        "--name",
        "First Admin",
        "--org",
        "NMAA",
        "--role",
        "admin",
        "--password-stdin",
        "--store",
        store,
        stdin=PASSWORD + "\n",
    )
    assert res.returncode == 0, res.stderr
    res = _cli("users", "list", "--store", store)
    assert "first.admin" in res.stdout and "argon2" not in res.stdout
    res = _cli(
        "users",
        "add",
        "second",
        "--name",
        "S",
        "--org",
        "NMAA",
        "--role",
        "viewer",
        "--password-stdin",
        "--store",
        store,
        stdin="weak\n",
    )
    assert res.returncode == 2 and "shorter than 12" in res.stderr
    res = _cli("audit", "verify", "--store", store)
    assert res.returncode == 0 and "intact: 2 entries" in res.stdout
    _raw(store, "UPDATE safeground_audit SET after = '{}' WHERE seq = 1")
    res = _cli("audit", "verify", "--store", store)
    assert res.returncode == 1 and "entry 1 (organisation.add on organisations:ORG-00001) was changed" in res.stderr


def test_tokens_are_listed_by_their_first_characters_and_revoked_by_their_owner_or_an_admin(people: str) -> None:
    """What the workspace's token page and the administration page do, on both backends."""
    mine = svc.add_token(people, "field.1", "Kobo", actor="field.1", origin="web 10.0.0.7")
    theirs = svc.add_token(people, "r.huseynov", "QGIS", actor="r.huseynov", origin="web 10.0.0.8")
    listed = svc.tokens(people, "field.1")
    assert [(k.prefix, k.label, k.revoked) for k in listed] == [(mine[:10], "Kobo", False)]
    assert {k.username for k in svc.tokens(people)} == {"field.1", "r.huseynov"}
    assert mine not in repr(svc.tokens(people))  # the secret is not kept, so never listed
    with pytest.raises(SafeGroundError, match="no live API token"):  # another user's token reads as not there
        svc.revoke_token(people, theirs[:10], actor="field.1", owner="field.1", origin="web 10.0.0.7")
    with Accounts(people) as acc:
        assert acc.token_user(theirs).username == "r.huseynov"
    svc.revoke_token(people, mine[:10], actor="field.1", owner="field.1", origin="web 10.0.0.7")
    svc.revoke_token(people, theirs[:10], actor="admin", owner=None, origin="web 10.0.0.9")
    with Accounts(people) as acc:
        assert acc.token_user(mine) is None and acc.token_user(theirs) is None
    assert all(k.revoked for k in svc.tokens(people))
    with pytest.raises(SafeGroundError, match="stays revoked"):
        svc.revoke_token(people, mine[:10], actor="admin", owner=None)
    with pytest.raises(SafeGroundError, match="needs a label"):
        svc.add_token(people, "field.1", "  ", actor="field.1")
    revoked = [(e.actor, e.origin, e.target) for e in svc.audit_entries(people) if e.action == "token.revoke"]
    assert revoked == [
        ("field.1", "web 10.0.0.7", f"token:{mine[:10]}"),
        ("admin", "web 10.0.0.9", f"token:{theirs[:10]}"),
    ]
    assert svc.verify_audit(people).ok


def test_an_organisation_edit_is_a_new_version_checked_as_an_added_one_and_audited(people: str) -> None:
    from safeground.errors import VersionConflict
    from safeground.model import Organisation
    from safeground.storage import open_store

    dg = svc.resolve_organisation(people, "DG")
    new = svc.edit_organisation(people, dg.uid, name="Demining Group (Azerbaijan)", acronym="DG", org_type="commercial",
                                accredited=False, actor="admin", origin="web 10.0.0.9")  # fmt: skip
    assert (new.version, new.name, new.org_type.value, new.accredited, new.entered_by) == (
        2, "Demining Group (Azerbaijan)", "commercial", False, "admin")  # fmt: skip
    with open_store(people, create=False, readonly=True) as s:
        assert [v.name for v in s.history(Organisation, dg.uid)] == ["Demining Group", "Demining Group (Azerbaijan)"]
    for bad, says in (
        ({"name": "National Mine Action Agency"}, "is already National Mine Action Agency"),
        ({"acronym": "nmaa"}, "is already National Mine Action Agency"),
        ({"name": " "}, "needs a name"),
        ({"org_type": "charity"}, "unknown organisation type"),
    ):
        values = {"name": new.name, "acronym": "DG", "org_type": "commercial", "accredited": False, **bad}
        with pytest.raises(SafeGroundError, match=says):
            svc.edit_organisation(people, dg.uid, **values, actor="admin")  # type: ignore[arg-type]
    with pytest.raises(VersionConflict):  # an edit made on the page read before the last one
        svc.edit_organisation(people, dg.uid, name="Old page", acronym="DG", org_type="ngo", accredited=True,
                              actor="admin", expected_version=1)  # fmt: skip
    with pytest.raises(SafeGroundError, match="no organisation 'ORG-99999'"):
        svc.edit_organisation(people, "ORG-99999", name="X", acronym=None, org_type="ngo", accredited=True, actor="a")
    assert svc.resolve_organisation(people, "DG").version == 2  # nothing refused was stored
    edits = [e for e in svc.audit_entries(people) if e.action == "organisation.edit"]
    assert [(e.before, e.after) for e in edits] == [
        ({"name": "Demining Group", "org_type": "ngo", "accredited": True},
         {"name": "Demining Group (Azerbaijan)", "org_type": "commercial", "accredited": False})
    ]  # fmt: skip
    moved = svc.set_organisation(people, "r.huseynov", "DG", actor="admin", origin="web 10.0.0.9")
    assert moved.organisation == dg.uid and svc.users(people)[1].organisation == dg.uid
    with pytest.raises(SafeGroundError, match="no organisation 'XYZ'"):
        svc.set_organisation(people, "r.huseynov", "XYZ", actor="admin")
    assert svc.verify_audit(people).ok


def test_organisations_and_tokens_from_the_command_line(tmp_path: Path) -> None:
    store = str(tmp_path / "country.gpkg")
    assert _cli("init", "--store", store, "--area", "46.5,39.2,47.5,40.2").returncode == 0
    svc.add_organisation(store, "National Mine Action Agency", "national_authority", acronym="NMAA", actor="setup")
    svc.add_organisation(store, "Demining Group", "ngo", acronym="DG", actor="setup")
    svc.add_user(store, "field.1", full_name="F", organisation="DG", role="data_entry", password=PASSWORD, actor="s")
    res = _cli("orgs", "edit", "DG", "--type", "commercial", "--not-accredited", "--store", store, "--by", "boss")
    assert res.returncode == 0 and "ORG-00002: Demining Group (DG), now version 2" in res.stdout, res.stderr
    res = _cli("orgs", "edit", "DG", "--acronym", "NMAA", "--store", store)
    assert res.returncode != 0 and "ORG-00001 is already National Mine Action Agency" in res.stderr
    res = _cli("users", "org", "field.1", "NMAA", "--store", store, "--by", "boss")
    assert res.returncode == 0 and "field.1 now belongs to ORG-00001" in res.stdout, res.stderr
    token = svc.add_token(store, "field.1", "Kobo", actor="boss")
    res = _cli("users", "tokens", "field.1", "--store", store)
    assert res.returncode == 0 and token[:10] in res.stdout and "live" in res.stdout and token not in res.stdout
    res = _cli("users", "revoke-token", token[:10], "--store", store, "--by", "boss")
    assert res.returncode == 0, res.stderr
    assert "revoked" in _cli("users", "tokens", "--store", store).stdout
    res = _cli("users", "revoke-token", token[:10], "--store", store)
    assert res.returncode != 0 and "stays revoked" in res.stderr
    with Accounts(store) as acc:
        assert acc.token_user(token) is None
    actions = [(e.actor, e.action) for e in svc.audit_entries(store)][-3:]
    assert actions == [("boss", "user.organisation"), ("boss", "token.add"), ("boss", "token.revoke")]


#: the API tokens table as SafeGround made it before tokens had an expiry and a role (session 9)
OLD_TOKENS_TABLE = """CREATE TABLE safeground_tokens (
    token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    prefix VARCHAR(12) NOT NULL,
    username VARCHAR(64) NOT NULL,
    label TEXT NOT NULL,
    created_at VARCHAR(32) NOT NULL,
    revoked BOOLEAN NOT NULL
)"""


def _columns(location: str, table: str) -> set[str]:
    from safeground.storage.side_tables import engine_for, schema_of

    eng = engine_for(location)
    try:
        return {c["name"] for c in sqlalchemy.inspect(eng).get_columns(table, schema=schema_of(eng))}
    finally:
        eng.dispose()


def test_a_tokens_table_of_an_older_version_gets_expiry_and_role_on_open_and_its_tokens_keep_working(
    people: str,
) -> None:
    """A store whose tokens table was made before tokens had an expiry and a role: opening it adds the two
    columns, its old token still lets its user in (no expiry, with the user's role, lowered with the user's),
    and new tokens with an expiry and a role go into the same table."""
    import hashlib

    old = "sg_" + "made-by-session-nine-" * 2
    _raw(people, "DROP TABLE safeground_tokens")
    _raw(people, OLD_TOKENS_TABLE)
    _raw(people, "INSERT INTO safeground_tokens (token_hash, prefix, username, label, created_at, revoked) VALUES "
                 f"('{hashlib.sha256(old.encode()).hexdigest()}', '{old[:10]}', 'r.huseynov', 'old Kobo', "
                 "'2026-01-05T08:00:00+00:00', false)")  # fmt: skip
    assert "expires_at" not in _columns(people, "safeground_tokens")
    with Accounts(people) as acc:  # opening is enough: a server only reads tokens
        assert {"expires_at", "role"} <= _columns(people, "safeground_tokens")
        user = acc.token_user(old)
        assert user is not None and user.username == "r.huseynov" and user.role is Role.REVIEWER
        (listed,) = acc.tokens("r.huseynov")
        assert (listed.prefix, listed.expires_at, listed.role, listed.state) == (old[:10], None, None, "live")
    svc.set_role(people, "r.huseynov", "viewer", actor="admin")
    with Accounts(people) as acc:
        assert acc.token_user(old).role is Role.VIEWER  # an old token follows its user's role
    new = svc.add_token(people, "r.huseynov", "QGIS", actor="admin", days=30, role="viewer")
    with Accounts(people) as acc:
        assert acc.token_user(new).role is Role.VIEWER and acc.token_user(old) is not None
    with Accounts(people) as acc:  # a second open finds nothing to add
        assert len(acc.tokens("r.huseynov")) == 2
    assert svc.verify_audit(people).ok


def test_a_tokens_role_is_at_most_its_owners_and_falls_when_the_owner_is_demoted(people: str) -> None:
    from safeground.errors import NotPermitted

    before = (len(svc.tokens(people)), len(svc.audit_entries(people)))
    for user, role in (("field.1", "reviewer"), ("field.1", "analyst"), ("r.huseynov", "admin")):
        with pytest.raises(NotPermitted, match=f"cannot have the role {role}") as refused:
            svc.add_token(people, user, "too much", actor="admin", role=role)
        assert "choose one of:" in (refused.value.hint or "")
    with pytest.raises(SafeGroundError, match="unknown role 'boss'"):
        svc.add_token(people, "field.1", "typo", actor="admin", role="boss")
    assert (len(svc.tokens(people)), len(svc.audit_entries(people))) == before  # nothing stored, nothing audited
    assert svc.token_roles(people, "field.1") == ["viewer", "data_entry"]
    assert svc.token_roles(people, "r.huseynov") == ["viewer", "data_entry", "reviewer", "analyst"]

    full = svc.add_token(people, "r.huseynov", "review tablet", actor="r.huseynov")
    reader = svc.add_token(people, "r.huseynov", "QGIS", actor="r.huseynov", role="analyst")
    viewer = svc.add_token(people, "r.huseynov", "dashboard", actor="admin", role="viewer")
    with Accounts(people) as acc:
        assert [acc.token_user(t).role for t in (full, reader, viewer)] == [Role.REVIEWER, Role.ANALYST, Role.VIEWER]
    svc.set_role(people, "r.huseynov", "data_entry", actor="admin")  # demoted: every token falls with them
    with Accounts(people) as acc:
        # an analyst's token of a data entry user may read neither restricted data nor submit: a viewer
        assert [acc.token_user(t).role for t in (full, reader, viewer)] == [Role.DATA_ENTRY, Role.VIEWER, Role.VIEWER]
    # the lists say what each token acts as now, not only the role it was made with
    listed = {k.prefix: k for k in svc.tokens(people, "r.huseynov")}
    assert [(listed[t[:10]].role, listed[t[:10]].acts_as, listed[t[:10]].lowered) for t in (full, reader, viewer)] == [
        (Role.REVIEWER, Role.DATA_ENTRY, True), (Role.ANALYST, Role.VIEWER, True), (Role.VIEWER, Role.VIEWER, False)
    ]  # fmt: skip
    row = next(ln for ln in _cli("users", "tokens", "--store", people).stdout.splitlines() if reader[:10] in ln)
    assert "acts as viewer" in row, row
    svc.set_active(people, "r.huseynov", False, actor="admin")
    assert {k.acts_as for k in svc.tokens(people, "r.huseynov")} == {None}  # a disabled user's tokens: nobody
    svc.set_active(people, "r.huseynov", True, actor="admin")
    svc.set_role(people, "r.huseynov", "admin", actor="admin")  # promoted: a token keeps the role it was made with
    with Accounts(people) as acc:
        assert [acc.token_user(t).role for t in (full, reader, viewer)] == [Role.REVIEWER, Role.ANALYST, Role.VIEWER]
    made = [e.after for e in svc.audit_entries(people) if e.action == "token.add"]
    assert [(a["role"], a["prefix"]) for a in made] == [
        ("reviewer", full[:10]), ("analyst", reader[:10]), ("viewer", viewer[:10])
    ]  # fmt: skip
    assert all(a["expires_at"] is not None for a in made)


def test_a_token_expires_after_its_days_and_then_lets_nobody_in(people: str) -> None:
    from datetime import UTC, datetime, timedelta

    from safeground.accounts.repository import TOKEN_EXPIRED

    default = svc.add_token(people, "field.1", "default", actor="admin")
    week = svc.add_token(people, "field.1", "a week", actor="admin", days=7)
    never = svc.add_token(people, "field.1", "Kobo server", actor="admin", days=0)
    listed = {k.prefix: k for k in svc.tokens(people, "field.1")}
    now = datetime.now(UTC)
    for token, days in ((default, svc.DEFAULT_TOKEN_DAYS), (week, 7)):
        until = datetime.fromisoformat(listed[token[:10]].expires_at)
        assert abs(until - (now + timedelta(days=days))) < timedelta(minutes=5)
    assert listed[never[:10]].expires_at is None
    for days in (-1, svc.MAX_TOKEN_DAYS + 1):
        with pytest.raises(SafeGroundError, match=f"not {days}"):
            svc.add_token(people, "field.1", "bad", actor="admin", days=days)
    # a day later than its expiry (the clock moved on: the stored expiry is set back, as time would)
    _raw(people, f"UPDATE safeground_tokens SET expires_at = '2026-01-01T00:00:00+00:00' WHERE prefix = '{week[:10]}'")
    with Accounts(people) as acc:
        assert acc.token_user(week) is None
        user, why, token = acc.token_check(week)
        assert (user, why, token.prefix) == (None, TOKEN_EXPIRED, week[:10])
        assert acc.token_user(default) is not None and acc.token_user(never) is not None
    states = {k.prefix: k.state for k in svc.tokens(people, "field.1")}
    assert states == {default[:10]: "live", week[:10]: "expired", never[:10]: "live"}
    svc.revoke_token(people, never[:10], actor="admin", owner=None)
    assert {k.prefix: k.state for k in svc.tokens(people, "field.1")}[never[:10]] == "revoked"


def test_tokens_with_an_expiry_and_a_role_from_the_command_line(tmp_path: Path) -> None:
    store = str(tmp_path / "country.gpkg")
    assert _cli("init", "--store", store, "--area", "46.5,39.2,47.5,40.2").returncode == 0
    svc.add_organisation(store, "Demining Group", "ngo", acronym="DG", actor="setup")
    svc.add_user(store, "field.1", full_name="F", organisation="DG", role="data_entry", password=PASSWORD, actor="s")
    res = _cli("users", "token", "field.1", "QGIS reader", "--days", "30", "--role", "viewer", "--store", store,
               "--by", "boss")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "role viewer" in res.stdout and "expires 20" in res.stdout
    secret = res.stdout.split()[-1]
    with Accounts(store) as acc:
        assert acc.token_user(secret).role is Role.VIEWER
    res = _cli("users", "token", "field.1", "Kobo server", "--days", "0", "--store", store, "--by", "boss")
    assert res.returncode == 0 and "role data_entry" in res.stdout and "never expires" in res.stdout, res.stderr
    res = _cli("users", "token", "field.1", "--label", "old spelling", "--store", store)  # as before: 90 days
    assert res.returncode == 0 and "expires 20" in res.stdout, res.stderr
    res = _cli("users", "token", "field.1", "too much", "--role", "reviewer", "--store", store)
    assert res.returncode != 0 and "cannot have the role reviewer" in res.stderr
    assert "viewer, data_entry" in res.stderr.replace("\n", " ")
    res = _cli("users", "token", "field.1", "past", "--days=-3", "--store", store)
    assert res.returncode != 0 and "a token lives 1 to 3650 days, not -3" in res.stderr, res.stderr
    assert len(svc.tokens(store)) == 3  # the refused ones were not stored
    _raw(store, f"UPDATE safeground_tokens SET expires_at = '2026-01-01T00:00:00+00:00' WHERE prefix = '{secret[:10]}'")
    listed = _cli("users", "tokens", "--store", store)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if secret[:10] in line)
    assert "viewer" in row and "2026-01-01 00:00" in row and "expired" in row
    kobo = next(line for line in listed.stdout.splitlines() if "Kobo server" in line)
    assert "never" in kobo and "live" in kobo
    added = [e.after for e in svc.audit_entries(store) if e.action == "token.add"]
    assert added[0]["role"] == "viewer" and added[1]["expires_at"] is None
