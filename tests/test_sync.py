"""Field sync between a real GeoPackage and a real PostGIS server: history travels, conflicts are kept,
interrupted runs are safe to repeat."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from safeground.errors import SafeGroundError, StoreUnavailable
from safeground.model import EOItem, Organisation, VictimIdentity
from safeground.storage import gpkg_migrations, open_store
from safeground.storage.base import Store
from safeground.sync import FieldState, pull, push, resolve
from tests.conftest import PG_URL, invoke_cli, postgis_problem
from tests.samples import sample


@pytest.fixture()
def server_url():
    problem = postgis_problem()
    if problem:
        pytest.fail(f"the sync tests need the PostGIS server at {PG_URL}: {problem}")
    url = f"{PG_URL}?schema=srv_{uuid.uuid4().hex[:10]}"
    s = open_store(url)
    s.close()
    yield url
    s = open_store(url)
    s.drop()


@pytest.fixture()
def server(server_url):
    s = open_store(server_url)
    yield s
    s.close()


@pytest.fixture()
def field(tmp_path):
    s = open_store(str(tmp_path / "field.gpkg"))
    yield s
    s.close()


def chains(store: Store, cls, uids=None) -> dict[str, list[dict]]:
    uids = uids or sorted(store.current_versions(cls))
    return {u: [v.model_dump(mode="json") for v in c] for u, c in store.chains(cls, uids).items()}


def edit(store: Store, cls, uid: str, **changes):
    cur = store.get(cls, uid)
    return store.update(cur.model_copy(update=changes), expected_version=cur.version)


def test_push_sends_new_and_changed_records_with_their_history(field, server):
    field.add_many([sample(Organisation, i) for i in (1, 2, 3)])
    edit(field, Organisation, "ORG-00001", acronym="A")
    edit(field, Organisation, "ORG-00001", acronym="B", entered_by="team 4")
    report = push(field, server)
    assert report.moved == {"organisations": 3} and not report.conflicts
    assert chains(server, Organisation) == chains(field, Organisation)
    assert [v.version for v in server.history(Organisation, "ORG-00001")] == [1, 2, 3]
    assert server.get(Organisation, "ORG-00001").entered_by == "team 4"  # exactly as made in the field
    assert FieldState(field).bases("organisations") == {"ORG-00001": 3, "ORG-00002": 1, "ORG-00003": 1}
    again = push(field, server)
    assert again.total == 0 and again.agreed == 0
    edit(field, Organisation, "ORG-00002", acronym="Z")  # a later field edit travels on its own
    assert push(field, server).moved == {"organisations": 1}
    assert [v.acronym for v in server.history(Organisation, "ORG-00002")] == [None, "Z"]


def test_pull_brings_server_changes_and_keeps_field_work(field, server):
    server.add_many([sample(Organisation, 1), sample(Organisation, 2)])
    first = pull(field, server)
    assert first.moved == {"organisations": 2}
    edit(server, Organisation, "ORG-00001", acronym="SRV")
    field.add(sample(Organisation, 3))  # field work not yet pushed
    second = pull(field, server)
    assert second.moved == {"organisations": 1} and not second.conflicts
    assert [v.acronym for v in field.history(Organisation, "ORG-00001")] == [None, "SRV"]
    assert field.get(Organisation, "ORG-00003")  # untouched by the pull
    assert "ORG-00003" not in server.current_versions(Organisation)


def _diverge(field: Store, server: Store) -> None:
    """Both sides hold ORG-00001 v1 (synced), then each edits it apart."""
    field.add(sample(Organisation, 1))
    push(field, server)
    edit(field, Organisation, "ORG-00001", acronym="FIELD", entered_by="field team")
    edit(server, Organisation, "ORG-00001", acronym="HQ", entered_by="hq officer")


def test_edits_made_apart_are_a_conflict_and_nothing_is_overwritten(field, server):
    _diverge(field, server)
    report = push(field, server)
    assert report.conflicts == [("organisations", "ORG-00001")] and report.total == 0
    assert server.get(Organisation, "ORG-00001").acronym == "HQ"
    assert pull(field, server).conflicts == [("organisations", "ORG-00001")]
    assert field.get(Organisation, "ORG-00001").acronym == "FIELD"
    (c,) = FieldState(field).conflicts()
    assert (c.base_version, c.mine_version, c.theirs_version) == (1, 2, 2)
    assert c.differences() == {"acronym": ("FIELD", "HQ")}


def test_resolve_keep_theirs(field, server):
    _diverge(field, server)
    push(field, server)
    resolve(field, server, "ORG-00001", "theirs")
    assert chains(field, Organisation) == chains(server, Organisation)
    assert field.get(Organisation, "ORG-00001").acronym == "HQ"
    (c,) = FieldState(field).conflicts(include_resolved=True)
    assert c.kept == "theirs" and c.mine[-1]["acronym"] == "FIELD"  # the discarded edit is still on record
    assert not FieldState(field).conflicts()
    assert push(field, server).total == 0 and pull(field, server).total == 0
    assert not push(field, server).conflicts


def test_resolve_keep_mine(field, server):
    _diverge(field, server)
    pull(field, server)
    resolve(field, server, "ORG-00001", "mine")
    hist = server.history(Organisation, "ORG-00001")
    assert [(v.version, v.acronym) for v in hist] == [(1, None), (2, "HQ"), (3, "FIELD")]
    assert "kept the field edit" in (hist[-1].change_reason or "")
    assert chains(field, Organisation) == chains(server, Organisation)
    assert push(field, server).total == 0 and not pull(field, server).conflicts


class Interrupt(Exception):
    pass


def test_push_interrupted_between_server_commit_and_sync_state_is_safe_to_rerun(field, server):
    field.add_many([sample(EOItem, i) for i in range(1, 31)])
    calls: list[str] = []

    def hook(layer: str, stage: str) -> None:
        calls.append(stage)
        if stage == "server-committed" and calls.count("server-committed") == 2:
            raise Interrupt  # the laptop dies after the server committed batch 2, before the GeoPackage knew

    with pytest.raises(Interrupt):
        push(field, server, batch=10, hook=hook)
    assert server.count(EOItem) == 20
    assert len(FieldState(field).bases("eo_items")) == 10
    again = push(field, server, batch=10)
    assert again.agreed == 10 and again.moved == {"eo_items": 10} and not again.conflicts
    assert chains(server, EOItem) == chains(field, EOItem)
    assert all(len(c) == 1 for c in chains(server, EOItem).values())  # no duplicated versions


def test_pull_interrupted_keeps_whole_batches(field, server):
    server.add_many([sample(EOItem, i) for i in range(1, 26)])

    def hook(layer: str, stage: str) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        pull(field, server, batch=10, hook=hook)
    assert field.count(EOItem) == 10 and len(FieldState(field).bases("eo_items")) == 10
    rest = pull(field, server, batch=10)
    assert rest.moved == {"eo_items": 15} and rest.agreed == 0
    assert chains(field, EOItem) == chains(server, EOItem)


PUSHER = textwrap.dedent(
    """
    import sys
    from safeground.storage import open_store
    from safeground.sync import push

    def hook(layer, stage):
        print(stage, flush=True)

    with open_store(sys.argv[1]) as f, open_store(sys.argv[2]) as s:
        push(f, s, batch=50, hook=hook)
    print("finished", flush=True)
    """
)


def test_push_killed_mid_sync_is_safe_to_rerun(tmp_path, server_url):
    path = tmp_path / "killed.gpkg"
    with open_store(str(path)) as f:
        f.add_many([sample(EOItem, i) for i in range(1, 2001)])
        for i in range(1, 40):
            edit(f, EOItem, f"EO-{i:05d}", entered_by="second visit")
    proc = subprocess.Popen([sys.executable, "-c", PUSHER, str(path), server_url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = 0
    while seen < 3:  # let a few batches land, then pull the plug wherever it is
        line = proc.stdout.readline()
        assert line, "the push ended before it could be killed"
        seen += line.strip() == "done"
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with open_store(server_url) as s:
        landed = s.count(EOItem)
    assert 150 <= landed < 2000
    res = invoke_cli("sync", "push", "--store", str(path), "--server", server_url, "--batch", "50")
    assert res.returncode == 0, res.stderr + res.stdout
    with open_store(str(path)) as f, open_store(server_url) as s:
        assert chains(s, EOItem) == chains(f, EOItem)
        assert [v.version for v in s.history(EOItem, "EO-00001")] == [1, 2]
        assert not FieldState(f).conflicts()
        assert FieldState(f).bases("eo_items") == f.current_versions(EOItem)


def test_restricted_layers_sync_too(field, server):
    field.add(sample(VictimIdentity, 1))
    assert push(field, server).moved == {"victim_identities": 1}
    assert server.get(VictimIdentity, "VID-00001").full_name == "Test Person"
    assert push(field, server, layers=["organisations"]).total == 0


def test_only_the_named_layers_travel(field, server):
    field.add_many([sample(Organisation, 1), sample(EOItem, 1)])
    assert push(field, server, layers=["eo_items"]).moved == {"eo_items": 1}
    assert "ORG-00001" not in server.current_versions(Organisation)
    with pytest.raises(SafeGroundError, match="unknown layer"):
        push(field, server, layers=["mines"])


def test_a_field_store_syncs_with_one_server_only(field, server, tmp_path):
    push(field, server)
    with open_store(str(tmp_path / "other-server.gpkg")) as other, pytest.raises(SafeGroundError, match="syncs with"):
        push(field, other)


def test_old_field_geopackage_is_told_to_upgrade(tmp_path, server, monkeypatch):
    monkeypatch.setattr(gpkg_migrations, "MIGRATIONS", [])
    old = open_store(str(tmp_path / "old.gpkg"))
    monkeypatch.undo()
    with pytest.raises(StoreUnavailable, match="db upgrade"):
        push(old, server)
    old.close()


def test_cli_push_conflicts_resolve(tmp_path, server_url):
    path = tmp_path / "f.gpkg"
    with open_store(str(path)) as f:
        f.add(sample(Organisation, 1))
    assert invoke_cli("sync", "push", "--store", str(path), "--server", server_url).returncode == 0
    with open_store(str(path)) as f, open_store(server_url) as s:
        _ = (edit(f, Organisation, "ORG-00001", acronym="FIELD"), edit(s, Organisation, "ORG-00001", acronym="HQ"))
    res = invoke_cli("sync", "push", "--store", str(path), "--server", server_url)
    assert res.returncode == 3
    assert "1 CONFLICT" in res.stdout and "organisations ORG-00001" in res.stdout
    shown = invoke_cli("sync", "conflicts", "--store", str(path))
    assert shown.returncode == 0 and "FIELD" in shown.stdout and "HQ" in shown.stdout and "acronym" in shown.stdout
    res = invoke_cli("sync", "resolve", "ORG-00001", "--store", str(path), "--server", server_url, "--keep", "mine")
    assert res.returncode == 0, res.stderr + res.stdout
    assert "no open sync conflicts" in invoke_cli("sync", "conflicts", "--store", str(path)).stdout
    res = invoke_cli("sync", "pull", "--store", str(path), "--server", server_url)
    assert res.returncode == 0 and "0 record(s)" in res.stdout
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM safeground_sync_log").fetchone()[0] == 3
    con.close()
    bad = invoke_cli("sync", "resolve", "ORG-00001", "--store", str(path), "--server", server_url, "--keep", "mine")
    assert bad.returncode == 2 and "no open sync conflict" in bad.stderr


def test_pull_into_a_new_file_makes_a_geopackage_gdal_reads(tmp_path, server):
    import pyogrio

    server.add_many([sample(EOItem, i) for i in (1, 2)])
    edit(server, EOItem, "EO-00001", entered_by="qa")
    path = Path(tmp_path / "new.gpkg")
    with open_store(str(path)) as f:
        pull(f, server)
    assert len(pyogrio.read_dataframe(path, layer="eo_items")) == 2
    assert len(pyogrio.read_dataframe(path, layer="eo_items_history")) == 1


def test_same_identifier_created_on_both_sides_is_a_conflict(tmp_path, server_url):
    """Two teams offline both number their new record ORG-00001: never merged silently."""
    path = tmp_path / "f.gpkg"
    with open_store(str(path)) as f, open_store(server_url) as s:
        push(f, s)  # bind the field store to this server, nothing else
        s.add(sample(Organisation, 1).model_copy(update={"name": "HQ's NGO"}))
        f.add(sample(Organisation, 1).model_copy(update={"name": "Field NGO"}))
        report = push(f, s)
        assert report.conflicts == [("organisations", "ORG-00001")]
        assert s.get(Organisation, "ORG-00001").name == "HQ's NGO"
        (c,) = FieldState(f).conflicts()
        assert c.base_version is None
    shown = invoke_cli("sync", "conflicts", "--store", str(path))
    assert "created on both sides independently" in shown.stdout
    assert "Field NGO" in shown.stdout and "HQ's NGO" in shown.stdout
