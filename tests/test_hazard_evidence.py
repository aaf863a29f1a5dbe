"""A record's assessment becomes evidence on the hazard areas that cite it (IMAS 07.11 direct/indirect)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import shapely

from safeground.minemaps.hazard_evidence import SOURCE, apply_updates, plan_updates
from safeground.model import HazardArea, MinefieldRecord, RecordAssessment
from safeground.model.hazards import Evidence
from safeground.model.vocab import Contamination, EvidenceKind, HazardClass
from safeground.storage.base import Store, open_store
from tests.conftest import run_cli

BOX = shapely.MultiPolygon([shapely.box(46.90, 39.90, 46.91, 39.91)])


def _assessment(uid: str, record: str, grade: str, as_of: date, confirmed: int = 40) -> RecordAssessment:
    return RecordAssessment(
        uid=uid, date_of_information=as_of, minefield_record_uid=record, source="Handover batch 1", as_of=as_of,
        method="test", recorded_mines=60, verified_mines=50, confirmed_mines=confirmed,
        precision=confirmed / 50, precision_ci_low=0.1, precision_ci_high=0.9, grade=grade,
        evidence_kind="direct" if grade in "AB" else "indirect", grade_reason=f"graded {grade} in a test",
        geometry=BOX,
    )  # fmt: skip


def _hazard(uid: str, records: list[str], cls: HazardClass = HazardClass.SHA) -> HazardArea:
    ev = [Evidence(kind=EvidenceKind.INDIRECT, description=f"minefield record {r}", source="handover", reference=r)
          for r in records]  # fmt: skip
    if cls == HazardClass.CHA:
        ev.append(Evidence(kind=EvidenceKind.DIRECT, description="mine found", source="EOD team"))
    return HazardArea(
        uid=uid, date_of_information=date(2021, 3, 1), classification=cls, contamination=Contamination.AP_MINES,
        evidence=ev, estimated_area_m2=1e5, remaining_area_m2=1e5, minefield_record_uids=records, geometry=BOX,
    )  # fmt: skip


def _fill(store: Store) -> None:
    store.add_many(
        [
            *[MinefieldRecord(uid=f"MFR-0000{k}", date_of_information=date(2021, 1, 5), source="Handover batch 1",
                              date_received=date(2020, 12, 1), geometry=BOX) for k in range(1, 5)],
            _hazard("HA-00001", ["MFR-00001"]),  # its record: B → direct → may be confirmed
            _hazard("HA-00002", ["MFR-00002"]),  # C → indirect: stays SHA
            _hazard("HA-00003", ["MFR-00003", "MFR-00004"], HazardClass.CHA),  # A, and one never assessed
            _assessment("MRA-00001", "MFR-00001", "C", date(2022, 1, 1), 5),  # superseded by the later one
            _assessment("MRA-00002", "MFR-00001", "B", date(2023, 1, 1)),
            _assessment("MRA-00003", "MFR-00002", "C", date(2023, 1, 1), 3),
            _assessment("MRA-00004", "MFR-00003", "A", date(2023, 1, 1)),
        ]
    )  # fmt: skip


def test_latest_assessment_sets_the_kind_of_evidence_and_the_suggestion(store: Store):
    _fill(store)
    ups = {(u.hazard.uid, u.record_uid): u for u in plan_updates(store)}
    assert set(ups) == {("HA-00001", "MFR-00001"), ("HA-00002", "MFR-00002"), ("HA-00003", "MFR-00003")}
    b = ups[("HA-00001", "MFR-00001")]
    assert b.assessment.uid == "MRA-00002" and b.item.kind == EvidenceKind.DIRECT and b.changed
    assert "graded B" in b.item.description and "40 of 50" in b.item.description
    assert b.suggestion.startswith("confirm as CHA")
    c = ups[("HA-00002", "MFR-00002")]
    assert c.item.kind == EvidenceKind.INDIRECT and c.suggestion == ""
    assert ups[("HA-00003", "MFR-00003")].suggestion == ""  # already a CHA


def test_apply_writes_new_versions_once_and_confirms_only_when_asked(store: Store):
    _fill(store)
    changed = apply_updates(store, plan_updates(store))
    assert sorted(changed) == ["HA-00001", "HA-00002", "HA-00003"]
    h1 = store.get(HazardArea, "HA-00001")
    assert h1.version == 2 and h1.classification == HazardClass.SHA  # not confirmed without confirm=True
    assert [e.kind for e in h1.evidence if e.source == SOURCE] == [EvidenceKind.DIRECT]
    assert h1.evidence[0].source == "handover"  # evidence from others is kept as it was
    # running again changes nothing: the assessment's own item is replaced, not added
    again = plan_updates(store)
    assert not any(u.changed for u in again)
    assert apply_updates(store, again) == []
    # with confirm: the SHA with direct evidence becomes a CHA, the one with an unreliable record does not
    assert apply_updates(store, again, confirm=True) == ["HA-00001"]
    assert store.get(HazardArea, "HA-00001").classification == HazardClass.CHA
    assert store.get(HazardArea, "HA-00002").classification == HazardClass.SHA
    old = store.history(HazardArea, "HA-00001")
    assert [h.version for h in old][:2] == [1, 2]


def test_a_newer_assessment_replaces_the_item(store: Store):
    _fill(store)
    apply_updates(store, plan_updates(store))
    store.add(_assessment("MRA-00009", "MFR-00002", "A", date(2024, 6, 1)))
    ups = [u for u in plan_updates(store) if u.hazard.uid == "HA-00002"]
    assert len(ups) == 1 and ups[0].changed and ups[0].item.kind == EvidenceKind.DIRECT
    apply_updates(store, ups)
    items = [e for e in store.get(HazardArea, "HA-00002").evidence if e.source == SOURCE]
    assert len(items) == 1 and "MRA-00009" in items[0].description


def test_evidence_command(tmp_path: Path):
    path = tmp_path / "s.gpkg"
    with open_store(str(path)) as s:
        _fill(s)
    res = run_cli("maps", "evidence", "--store", str(path), "--out", str(tmp_path / "ev.csv"))
    assert res.returncode == 0, res.stderr
    assert "nothing written" in res.stdout and "HA-00001" in res.stdout
    assert (tmp_path / "ev.csv").read_text().count("\n") == 4
    res = run_cli("maps", "evidence", "--store", str(path), "--confirm")
    assert res.returncode != 0 and "--confirm needs --apply" in res.stderr
    res = run_cli("maps", "evidence", "--store", str(path), "--apply", "--confirm")
    assert res.returncode == 0, res.stderr
    assert "updated 3 hazard areas" in res.stdout
    with open_store(str(path), readonly=True) as s:
        assert s.get(HazardArea, "HA-00001").classification == HazardClass.CHA


@pytest.mark.parametrize("grade", ["C", "U"])
def test_unreliable_records_are_indirect_evidence(store: Store, grade: str):
    _fill(store)
    store.add(_assessment("MRA-00010", "MFR-00001", grade, date(2025, 1, 1), 0))
    (u,) = [u for u in plan_updates(store) if u.hazard.uid == "HA-00001"]
    assert u.item.kind == EvidenceKind.INDIRECT and u.suggestion == ""
