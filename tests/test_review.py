"""The review queue on a generated own_store: flags checked against what the store really holds,
reconcile, approve (all or nothing, even when killed), reject, and who sees which submission."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import shapely

from safeground.accounts.repository import Accounts
from safeground.errors import SafeGroundError
from safeground.intake.commit import WritePlan
from safeground.landrelease.accounting import finished_release_work
from safeground.model import Accident, Activity, HazardArea
from safeground.review.queue import State
from safeground.services import accounts as acc_svc
from safeground.services import review
from safeground.storage import open_store

PASSWORD = "a long enough passphrase"


@pytest.fixture()
def own_store(small_store: Path, tmp_path: Path) -> str:
    path = tmp_path / "district.gpkg"
    shutil.copy(small_store, path)
    return str(path)


def _open_hazard(loc: str) -> HazardArea:
    with open_store(loc, readonly=True) as s:
        return next(h for h in s.find(HazardArea) if h.status.value == "open" and h.geometry.area > 0)


def _reported_again(loc: str, hz: HazardArea, uid: str) -> HazardArea:
    """The same hazard area reported by an operator as new (slightly differently drawn)."""
    data = {
        **hz.model_dump(),
        "uid": uid,
        "version": 1,
        "geometry": hz.geometry.buffer(0.0001),
        "date_of_information": date(2024, 5, 1),
        "change_reason": None,
        "status_history": [],
    }
    return HazardArea.model_validate(data)


def _accident_on_released_land(loc: str, uid: str) -> Accident:
    with open_store(loc, readonly=True) as s:
        done = finished_release_work(s.read_frame(Activity))
    spot = done.geometry.iloc[0].representative_point()
    return Accident(
        uid=uid,
        date_of_information=date(2024, 6, 2),
        accident_date=date(2024, 6, 1),
        device_type="antipersonnel_mine",
        geometry=spot,
        entered_by="field.1",
    )


def _submit(loc: str, plan: WritePlan, org: str | None = None, by: str = "field.1") -> int:
    return review.submit(loc, plan, source="test", submitted_by=by, organisation=org, origin="test").id


def test_flags_say_what_the_store_holds_and_nothing_reaches_the_record(own_store: str) -> None:
    hz = _open_hazard(own_store)
    dup = _reported_again(own_store, hz, "HA-90001")
    acc = _accident_on_released_land(own_store, "ACC-90001")
    far = Accident(
        uid="ACC-90002",
        date_of_information=date(2024, 6, 2),
        device_type="antipersonnel_mine",
        geometry=shapely.Point(39.6, 47.1),
    )  # latitude and longitude swapped
    older = HazardArea.model_validate(
        {
            **hz.model_dump(),
            "version": hz.version + 1,
            "date_of_information": hz.date_of_information - timedelta(days=30),
        }
    )
    with open_store(own_store, readonly=True) as s:
        before = s.counts()
    sub = review.submission(
        own_store, _submit(own_store, WritePlan(create=[dup, acc, far], update=[(older, hz.version)]))
    )
    codes = {(f.code, f.uid) for f in sub.flags}
    assert ("probable_duplicate", "HA-90001") in codes
    assert next(f for f in sub.flags if f.code == "probable_duplicate").related == f"hazard_areas:{hz.uid}"
    assert ("residual_contamination", "ACC-90001") in codes and ("residual_contamination", "ACC-90002") not in codes
    assert ("outside_area", "ACC-90002") in codes and ("outside_area", "ACC-90001") not in codes
    assert ("older_than_stored", hz.uid) in codes
    assert [f.uid for f in sub.sticky_flags] == ["ACC-90001"]
    with open_store(own_store, readonly=True) as s:
        assert s.counts() == before


def test_an_accident_on_ground_never_released_raises_no_residual_flag(own_store: str) -> None:
    with open_store(own_store, readonly=True) as s:
        done = finished_release_work(s.read_frame(Activity))
        bounds = s.area_of_interest()
    released = shapely.union_all(done.geometry.to_numpy())
    # a point of the district that no finished release touched
    candidates = (
        shapely.Point(bounds[0] + (bounds[2] - bounds[0]) * i / 20, bounds[1] + (bounds[3] - bounds[1]) * j / 20)
        for i in range(1, 20)
        for j in range(1, 20)
    )
    spot = next(p for p in candidates if not released.buffer(0.001).contains(p))
    acc = Accident(
        uid="ACC-90003", date_of_information=date(2024, 6, 2), device_type="antipersonnel_mine", geometry=spot
    )
    sub = review.submission(own_store, _submit(own_store, WritePlan(create=[acc])))
    assert not [f for f in sub.flags if f.code == "residual_contamination"]


def test_reconcile_then_approve_updates_the_stored_hazard_with_history(own_store: str) -> None:
    hz = _open_hazard(own_store)
    sid = _submit(own_store, WritePlan(create=[_reported_again(own_store, hz, "HA-90001")]))
    sub = review.reconcile(own_store, sid, "HA-90001", hz.uid, reviewer=None, by="r.huseynov", origin="test")
    assert sub.summary == "hazard_areas: 1 changed"
    assert not [f for f in sub.flags if f.code == "probable_duplicate"]  # an update of itself is no duplicate
    changes = review.diff(own_store, sub)
    assert changes[0].kind == "update" and "geometry" in changes[0].fields
    with open_store(own_store, readonly=True) as s:
        n_before = s.count(HazardArea)
    review.approve(own_store, sid, reviewer=None, by="r.huseynov", origin="test")
    with open_store(own_store, readonly=True) as s:
        stored = s.get(HazardArea, hz.uid)
        assert s.count(HazardArea) == n_before
        assert stored.version == hz.version + 1 and stored.entered_by == "r.huseynov"
        assert stored.geometry.area > hz.geometry.area
        assert [v.version for v in s.history(HazardArea, hz.uid)][-2:] == [hz.version, hz.version + 1]
    actions = [e.action for e in acc_svc.audit_entries(own_store)]
    assert actions == ["submission.add", "submission.reconcile", "submission.approve"]
    assert acc_svc.verify_audit(own_store).ok
    with pytest.raises(SafeGroundError, match=r"already approved by r\.huseynov"):
        review.approve(own_store, sid, reviewer=None, by="r.huseynov", origin="test")


def test_reject_needs_a_reason_and_keeps_the_record_as_it_was(own_store: str) -> None:
    acc = _accident_on_released_land(own_store, "ACC-90001")
    sid = _submit(own_store, WritePlan(create=[acc]))
    with pytest.raises(SafeGroundError, match="needs its reason"):
        review.reject(own_store, sid, "  ", reviewer=None, by="r", origin="test")
    sub = review.reject(own_store, sid, "duplicate of ACC-00004 reported by phone", reviewer=None, by="r", origin="t")
    assert sub.state is State.REJECTED and sub.reason.startswith("duplicate")
    with open_store(own_store, readonly=True) as s:
        assert not s.existing_uids(Accident, ["ACC-90001"])
    with pytest.raises(SafeGroundError, match="already rejected"):
        review.approve(own_store, sid, reviewer=None, by="r", origin="test")


def test_a_record_changed_since_submission_is_not_overwritten(own_store: str) -> None:
    hz = _open_hazard(own_store)
    mine = HazardArea.model_validate({**hz.model_dump(), "version": hz.version + 1, "priority": 1})
    sid = _submit(own_store, WritePlan(update=[(mine, hz.version)]))
    with open_store(own_store) as s:  # a reviewer edits the record meanwhile
        s.update(
            HazardArea.model_validate({**hz.model_dump(), "version": hz.version + 1, "priority": 2}),
            expected_version=hz.version,
        )
    with pytest.raises(SafeGroundError, match=rf"{hz.uid} \(version {hz.version + 1} stored, submitted against"):
        review.approve(own_store, sid, reviewer=None, by="r", origin="test")
    assert review.submission(own_store, sid).state is State.PENDING


def test_who_sees_and_decides_which_submission(own_store: str) -> None:
    acc_svc.add_organisation(own_store, "Operator A", "ngo", acronym="OPA", actor="t")
    acc_svc.add_organisation(own_store, "Operator B", "commercial", acronym="OPB", actor="t")
    orgs = {o.acronym: o.uid for o in acc_svc.organisations(own_store)}
    for name, org, role in (
        ("a.1", "OPA", "data_entry"),
        ("b.1", "OPB", "data_entry"),
        ("rev", "OPA", "reviewer"),
        ("view", "OPA", "viewer"),
    ):
        acc_svc.add_user(own_store, name, full_name=name, organisation=org, role=role, password=PASSWORD, actor="t")
    with Accounts(own_store) as a:
        users = {u.username: u for u in a.users()}
    sa = _submit(own_store, WritePlan(create=[_accident_on_released_land(own_store, "ACC-90001")]), orgs["OPA"], "a.1")
    sb = _submit(own_store, WritePlan(create=[_accident_on_released_land(own_store, "ACC-90002")]), orgs["OPB"], "b.1")
    assert [s.id for s in review.submissions(own_store, viewer=users["a.1"])] == [sa]
    assert [s.id for s in review.submissions(own_store, viewer=users["b.1"])] == [sb]
    assert [s.id for s in review.submissions(own_store, viewer=users["rev"])] == [sa, sb]
    assert review.submissions(own_store, viewer=users["view"]) == []
    with pytest.raises(SafeGroundError, match=f"no submission {sb}"):  # not "not yours": it is not there for a.1
        review.submission(own_store, sb, viewer=users["a.1"])
    with pytest.raises(SafeGroundError, match="may not review"):
        review.approve(own_store, sa, reviewer=users["a.1"], by="a.1", origin="test")
    review.approve(own_store, sa, reviewer=users["rev"], by="rev", origin="test")
    assert review.submission(own_store, sa, viewer=users["a.1"]).decided_by == "rev"  # the submitter sees it


_KILL_AT = """
import os, signal, sys
from safeground.services import review
target = sys.argv[2]
if target == "records":  # killed while the records are written, before the transaction commits
    import safeground.intake.commit as c
    real = c.Store.add_many if hasattr(c, "Store") else None
    from safeground.storage.gpkg import GeoPackageStore
    orig = GeoPackageStore.set_meta
    def die(self, key, value):
        if key.startswith("review.applied"):
            os.kill(os.getpid(), signal.SIGKILL)
        return orig(self, key, value)
    GeoPackageStore.set_meta = die
else:  # killed after the records are committed, before the queue row says so
    from safeground.review.queue import ReviewQueue
    ReviewQueue.decide = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
review.approve(sys.argv[1], int(sys.argv[3]), reviewer=None, by="rev", origin="test")
"""


@pytest.mark.parametrize("where", ["records", "queue"])
def test_sigkill_during_an_approval_leaves_the_store_before_or_after_never_between(own_store: str, where: str) -> None:
    hz = _open_hazard(own_store)
    acc = _accident_on_released_land(own_store, "ACC-90001")
    mine = HazardArea.model_validate({**hz.model_dump(), "version": hz.version + 1, "priority": 1})
    sid = _submit(own_store, WritePlan(create=[acc], update=[(mine, hz.version)]))
    done = subprocess.run(
        [sys.executable, "-c", _KILL_AT, own_store, where, str(sid)],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    with open_store(own_store, readonly=True) as s:
        created = bool(s.existing_uids(Accident, ["ACC-90001"]))
        version = s.get(HazardArea, hz.uid).version
    if where == "records":  # nothing of it was applied, and it is still waiting
        assert (created, version) == (False, hz.version)
        assert review.submission(own_store, sid).state is State.PENDING
    else:  # all of it was applied; the queue catches up, and nothing is applied twice
        assert (created, version) == (True, hz.version + 1)
        sub = review.submission(own_store, sid)
        assert sub.state is State.APPROVED and sub.decided_by == "rev"
        with pytest.raises(SafeGroundError, match="already approved"):
            review.approve(own_store, sid, reviewer=None, by="rev", origin="test")
        assert acc_svc.audit_entries(own_store)[-1].after == {"recovered": True}


def test_the_command_line_review_cycle(own_store: str) -> None:
    hz = _open_hazard(own_store)
    sid = _submit(
        own_store,
        WritePlan(
            create=[_reported_again(own_store, hz, "HA-90001"), _accident_on_released_land(own_store, "ACC-90001")]
        ),
    )
    exe = str(Path(sys.executable).with_name("safeground"))
    env = {**os.environ, "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, "review", *args, "--store", own_store], capture_output=True, text=True, env=env)

    listed = run("list")
    assert (
        listed.returncode == 0 and "RESIDUAL CONTAMINATION" in listed.stdout and "probable_duplicate" in listed.stdout
    )
    shown = run("show", str(sid))
    assert (
        f"overlaps the recorded hazard area {hz.uid}" in shown.stdout and "create accidents ACC-90001" in shown.stdout
    )
    assert run("reconcile", str(sid), "HA-90001", "--to", hz.uid, "--by", "rev").returncode == 0
    ok = run("approve", str(sid), "--by", "rev")
    assert ok.returncode == 0 and "approved by rev" in ok.stdout, ok.stderr
    again = run("approve", str(sid), "--by", "rev")
    assert again.returncode == 2 and "already approved" in again.stderr


def test_import_submit_queues_the_file_and_names_the_person(own_store: str, tmp_path: Path) -> None:
    """``import --submit``: the same import, into the review queue; approval stores it under the importer's name."""
    import json

    exe = str(Path(sys.executable).with_name("safeground"))
    env = {**os.environ, "COLUMNS": "200"}
    hz = _open_hazard(own_store)
    exported = tmp_path / "hz.geojson"
    subprocess.run(
        [
            exe,
            "export",
            "layer",
            "hazard_areas",
            "--format",
            "geojson",
            "--out",
            str(exported),
            "--store",
            own_store,
            "--include-restricted",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    data = json.loads(exported.read_text())
    again = next(f for f in data["features"] if f["properties"]["uid"] == hz.uid)
    for k in ("version", "entered_by", "entered_at", "change_reason"):  # a new report, not the stored record
        again["properties"].pop(k, None)
    again["properties"].update(uid=None, name="reported again by team 3")
    data["features"] = [again]
    sent = tmp_path / "report.geojson"
    sent.write_text(json.dumps(data))
    with open_store(own_store, readonly=True) as s:
        before = s.count(HazardArea)
    res = subprocess.run(
        [exe, "import", "hazard_areas", str(sent), "--store", own_store, "--submit", "--user", "team3.lead"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    assert "submitted as submission 1 for review: hazard_areas: 1 new" in res.stdout
    assert f"overlaps the recorded hazard area {hz.uid}" in res.stdout
    with open_store(own_store, readonly=True) as s:
        assert s.count(HazardArea) == before
    sub = review.submission(own_store, 1)
    assert sub.submitted_by == "team3.lead" and sub.source == "import report.geojson"
    review.approve(own_store, 1, reviewer=None, by="rev", origin="test")
    with open_store(own_store, readonly=True) as s:
        new = [h for h in s.find(HazardArea) if h.name == "reported again by team 3"]
    assert len(new) == 1 and new[0].entered_by == "team3.lead"


def test_a_plain_import_names_the_person_not_the_channel(own_store: str, tmp_path: Path) -> None:
    import json

    exe = str(Path(sys.executable).with_name("safeground"))
    hz = _open_hazard(own_store)
    feature = {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(hz.geometry.buffer(0.001))),
        "properties": {
            "name": "found by the survey",
            "classification": "suspected_hazardous_area",
            "contamination": "antipersonnel_mines",
            "date_of_information": "2024-07-01",
        },
    }
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    res = subprocess.run(
        [exe, "import", "hazard_areas", str(path), "--store", own_store, "--user", "s.mammadov"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    with open_store(own_store, readonly=True) as s:
        assert [h.entered_by for h in s.find(HazardArea) if h.name == "found by the survey"] == ["s.mammadov"]


def test_forms_import_submit_queues_the_phone_reports(own_store: str) -> None:
    from safeground.model import EOItem

    exe = str(Path(sys.executable).with_name("safeground"))
    export = Path(__file__).parent / "data" / "forms" / "eo_find_kobo.json"
    with open_store(own_store, readonly=True) as s:
        before = s.count(EOItem)
    res = subprocess.run(
        [exe, "forms", "import", "eo_find", str(export), "--store", own_store, "--submit", "--user", "eod.team"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert res.returncode == 0, res.stderr
    assert "submitted as submission 1 for review: eo_items: 2 new" in res.stdout
    with open_store(own_store, readonly=True) as s:
        assert s.count(EOItem) == before
    assert review.submission(own_store, 1).submitted_by == "eod.team"
