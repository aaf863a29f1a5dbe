"""Quality management: residual contamination investigations opened once by every write path, and
QA/QC inspections recorded and closed, on GeoPackage and PostGIS."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import shapely

from safeground.model import Accident, Activity, EOItem, Organisation, QMInspection
from safeground.model.quality import InspectionKind, QMStatus
from safeground.model.vocab import (
    ActivityType,
    ClearanceMethod,
    DeviceType,
    EOStatus,
    EOType,
    HowFound,
    OrganisationType,
)
from safeground.quality.inspections import add_inspection, close, parse_non_conformity
from safeground.quality.residual import open_investigations
from safeground.storage import open_store
from tests.conftest import invoke_cli

FIELD = shapely.box(47.100, 39.600, 47.102, 39.602)
INSIDE = shapely.Point(47.101, 39.601)


def _scene(store) -> None:
    store.set_area_of_interest((47.0, 39.5, 47.3, 39.7))
    orgs = [
        ("ORG-00001", "Authority", "NMAA", OrganisationType.NATIONAL_AUTHORITY),
        ("ORG-00002", "Op", "OP", OrganisationType.NGO),
    ]
    store.add_many(
        [
            Organisation(uid=u, date_of_information=date(2021, 1, 1), name=n, acronym=a, org_type=t)
            for u, n, a, t in orgs
        ]
    )
    store.add(
        Activity(
            uid="ACT-00001", date_of_information=date(2021, 5, 1), activity_type=ActivityType.CLEARANCE,
            organisation_uid="ORG-00002", method=ClearanceMethod.MANUAL, start_date=date(2021, 4, 1),
            end_date=date(2021, 5, 1), area_cleared_m2=40000, geometry=FIELD,
        )
    )  # fmt: skip

    def acc(uid: str, when: date | None, where: shapely.Point = INSIDE) -> Accident:
        return Accident(uid=uid, date_of_information=date(2022, 1, 1), accident_date=when,
                        device_type=DeviceType.AP_MINE, geometry=where)  # fmt: skip

    store.add_many(
        [
            acc("ACC-00001", date(2021, 4, 15)),  # during the clearance: not residual
            acc("ACC-00002", date(2021, 9, 1)),  # after the release, inside: residual
            acc("ACC-00003", None),  # undated: cannot be judged
            acc("ACC-00004", date(2021, 9, 1), shapely.Point(47.2, 39.65)),  # after, outside
        ]
    )

    def eo(uid: str, when: date, activity: str | None) -> EOItem:
        return EOItem(uid=uid, date_of_information=when, status=EOStatus.FOUND, eo_type=EOType.AP_BLAST,
                      how_found=HowFound.MANUAL_CLEARANCE, activity_uid=activity, geometry=INSIDE)  # fmt: skip

    store.add_many([eo("EO-00001", date(2021, 5, 1), "ACT-00001"), eo("EO-00002", date(2022, 3, 1), None)])


def test_an_accident_or_find_in_released_land_opens_one_investigation(store) -> None:
    _scene(store)
    done = open_investigations(store)
    assert sorted(e.key for e in done.events) == ["accidents:ACC-00002", "eo_items:EO-00002"]
    assert done.undated_accidents == 1
    by = {tuple(r.opened_by): r for r in store.find(QMInspection)}
    assert set(by) == {("accidents:ACC-00002",), ("eo_items:EO-00002",)}
    inv = by[("accidents:ACC-00002",)]
    assert (inv.activity_uid, inv.organisation_uid, inv.inspecting_body_uid) == ("ACT-00001", "ORG-00002", "ORG-00001")
    assert inv.kind == InspectionKind.RESIDUAL_INVESTIGATION and inv.status == QMStatus.OPEN
    assert inv.non_conformities[0].severity.value == "critical"
    assert open_investigations(store).opened == []  # idempotent
    closed = close(store, inv.uid, closed_on=date(2021, 10, 1), entered_by="qm", finding="missed mine at 15 cm")
    assert closed.status == QMStatus.CLOSED and closed.version == 2
    assert open_investigations(store).opened == []  # a closed one is not reopened
    assert store.count(QMInspection) == 2


def test_inspections_are_recorded_and_closed_one_action_at_a_time(store) -> None:
    _scene(store)
    nc = parse_non_conformity("marking:minor:no marking on the south side", corrective_action="mark it")
    ncs = [nc, parse_non_conformity("documentation:major:no depth")]
    rec = add_inspection(store, kind=InspectionKind.QUALITY_CONTROL, inspection_date=date(2021, 6, 1),
                         inspecting_body="NMAA", organisation="OP", activity_uid="ACT-00001",
                         non_conformities=ncs, entered_by="t")  # fmt: skip
    assert rec.uid == "QM-00001" and rec.open_non_conformities == 2
    one = close(store, rec.uid, closed_on=date(2021, 6, 5), entered_by="t", non_conformity=1, closure_note="marked")
    assert one.status == QMStatus.OPEN and one.open_non_conformities == 1
    whole = close(store, rec.uid, closed_on=date(2021, 6, 9), entered_by="t", finding="corrected")
    assert whole.status == QMStatus.CLOSED and whole.open_non_conformities == 0
    assert [h.version for h in store.history(QMInspection, rec.uid)] == [1, 2, 3]
    from safeground.errors import InvalidInput, SafeGroundError

    with pytest.raises(InvalidInput):
        parse_non_conformity("marking:tiny:x")
    with pytest.raises(SafeGroundError):
        close(store, rec.uid, closed_on=date(2021, 6, 9), entered_by="t", finding="again")


def _accident_file(path: Path, demo: Path) -> tuple[Path, str]:
    """A new accident inside land the demo released, months after the release."""
    with open_store(str(demo), readonly=True) as s:
        act = next(a for a in s.find(Activity) if a.activity_type == ActivityType.CLEARANCE and a.hazard_area_uid
                   and a.end_date and a.end_date < date(2022, 6, 1) and a.geometry.area > 1e-8)  # fmt: skip
        where = act.geometry.representative_point()
    feature = {"type": "Feature", "geometry": json.loads(shapely.to_geojson(where)),
               "properties": {"uid": "ACC-09001", "date_of_information": "2022-12-01", "accident_date": "2022-11-30",
                              "device_type": "antipersonnel_mine"}}  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path, act.uid


def test_every_write_path_opens_the_investigation_once(demo_district: Path, tmp_path: Path) -> None:
    from safeground.services import review
    from safeground.services.imports import submit_file

    src, act = _accident_file(tmp_path / "acc.geojson", demo_district)
    # file import (twice: no duplicate)
    one = tmp_path / "one.gpkg"
    shutil.copy(demo_district, one)
    for _ in range(2):
        res = invoke_cli("import", "accidents", str(src), "--store", str(one))
        assert res.returncode == 0, res.stderr
    with open_store(str(one), readonly=True) as s:
        inv = [r for r in s.find(QMInspection) if "accidents:ACC-09001" in r.opened_by]
    assert len(inv) == 1 and inv[0].activity_uid == act and inv[0].status == QMStatus.OPEN
    # the review queue: flagged when submitted, opened when approved, listed until closed
    two = tmp_path / "two.gpkg"
    shutil.copy(demo_district, two)
    _, sub = submit_file(str(two), "accidents", src, submitted_by="field", origin="test")
    assert "residual_contamination" in [f.code for f in sub.flags]
    review.approve(str(two), sub.id, reviewer=None, by="reviewer", origin="test")
    res = invoke_cli("review", "list", "--store", str(two))
    assert res.returncode == 0 and "residual contamination" in res.stdout and "ACC-09001" in res.stdout
    with open_store(str(two), readonly=True) as s:
        inv2 = [r for r in s.find(QMInspection) if "accidents:ACC-09001" in r.opened_by]
    assert len(inv2) == 1
    res = invoke_cli(
        "qm", "close", inv2[0].uid, "--store", str(two), "--date", "2022-12-31", "--finding", "missed mine"
    )
    assert res.returncode == 0, res.stderr
    assert "ACC-09001" not in invoke_cli("review", "list", "--store", str(two)).stdout


def test_the_demo_has_one_open_investigation_the_accident_on_released_land(demo_district: Path) -> None:
    with open_store(str(demo_district), readonly=True) as s:
        open_ = [
            r
            for r in s.find(QMInspection)
            if r.status == QMStatus.OPEN and r.kind == InspectionKind.RESIDUAL_INVESTIGATION
        ]
        assert len(open_) == 1 and open_[0].opened_by[0].startswith("accidents:")
        acc = s.get(Accident, open_[0].opened_by[0].split(":")[1])
        act = s.get(Activity, open_[0].activity_uid)
        assert act.geometry.contains(acc.geometry) and acc.accident_date > act.end_date
        # the generator's ground truth: a mine really was there (missed by that clearance)
        from safeground.model import GroundTruthItem

        missed = [g for g in s.find(GroundTruthItem, laid_context="missed_in_clearance")]
        assert len(missed) == 1 and missed[0].geometry.distance(acc.geometry) < 1e-6
    res = invoke_cli("qm", "list", "--store", str(demo_district), "--status", "open")
    assert res.returncode == 0 and "1 residual contamination investigation(s) open" in res.stdout


def _qm_export(path: Path) -> Path:
    sub = {
        "_uuid": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "_submitted_by": "qa.officer", "today": "2021-06-02",
        "inspection_date": "2021-06-02", "kind": "quality_control", "inspecting_body_uid": "ORG-00001",
        "organisation_uid": "ORG-00002", "activity_uid": "ACT-00001",
        "non_conformities": [
            {"non_conformities/nc_type": "marking", "non_conformities/severity": "minor",
             "non_conformities/description": "no marking on the south side",
             "non_conformities/corrective_action": "mark it", "non_conformities/due_date": "2021-06-30"},
            {"non_conformities/nc_type": "clearance_depth", "non_conformities/severity": "major",
             "non_conformities/description": "sample lane at 10 cm"},
        ],
    }  # fmt: skip
    path.write_text(json.dumps({"results": [sub]}))
    return path


def test_qm_inspection_form_validates_and_imports_with_its_non_conformities(store, tmp_path: Path) -> None:
    from pyxform.xls2xform import convert

    from safeground.intake.forms import FORMS, export_forms
    from safeground.intake.submissions import import_submissions

    export_forms(tmp_path)
    warnings: list[str] = []
    xform = convert(str(tmp_path / "qm_inspection.xlsx"), warnings=warnings).xform
    assert warnings == [] and f'id="{FORMS["qm_inspection"].form_id}"' in xform
    _scene(store)
    plan = import_submissions(store, "qm_inspection", [_qm_export(tmp_path / "qm.json")])
    (rec,) = plan.create
    got = store.get(QMInspection, rec.uid)
    kinds = [(n.nc_type.value, n.severity.value) for n in got.non_conformities]
    assert kinds == [("marking", "minor"), ("clearance_depth", "major")]
    assert got.non_conformities[0].due_date == date(2021, 6, 30) and got.status == QMStatus.OPEN
    assert import_submissions(store, "qm_inspection", [tmp_path / "qm.json"]).create == []  # never twice


def test_the_servers_review_queue_shows_open_investigations_to_reviewers(demo_district: Path, tmp_path: Path) -> None:
    import httpx

    from safeground.services import accounts as acc_svc
    from tests.web_server import serve_cli

    own = tmp_path / "own.gpkg"
    shutil.copy(demo_district, own)
    loc = str(own)
    tokens = {}
    for name, role in (("rev", "reviewer"), ("entry", "data_entry")):
        acc_svc.add_user(loc, name, full_name=name, organisation="HDG", role=role, password="a long password 1",
                         actor="setup")  # fmt: skip
        tokens[name] = acc_svc.add_token(loc, name, "test", actor="setup")
    with open_store(loc, readonly=True) as s:
        still_open = [q.uid for q in s.find(QMInspection) if q.status == QMStatus.OPEN
                      and q.kind == InspectionKind.RESIDUAL_INVESTIGATION]  # fmt: skip
    assert len(still_open) == 1
    with serve_cli(loc) as url:
        seen = httpx.get(url + "/submissions", headers={"Authorization": f"Bearer {tokens['rev']}"}, timeout=60)
        assert seen.status_code == 200, seen.text
        assert [q["uid"] for q in seen.json()["residual_investigations"]] == still_open
        entry = httpx.get(url + "/submissions", headers={"Authorization": f"Bearer {tokens['entry']}"}, timeout=60)
        assert entry.status_code == 200 and "residual_investigations" not in entry.json()
