"""Writes that do not pass through the review queue leave an audit entry: who (a person), what, when.

A plain import (``--user`` or the operating-system account), a forms import, and the direct edits of the
hazard areas (strikes and accidents to hazard areas, release applied) each append one entry to the
hash-chained log; a dry run appends none.
"""

from __future__ import annotations

import getpass
import json
import shutil
from pathlib import Path

import shapely

from safeground.model import HazardArea
from safeground.services import accounts as acc_svc
from safeground.storage import open_store
from tests.conftest import invoke_cli


def _store(small_store: Path, tmp_path: Path) -> str:
    copy = tmp_path / "s.gpkg"
    shutil.copy(small_store, copy)
    return str(copy)


def test_an_import_and_a_direct_edit_are_audited_with_the_person(small_store: Path, tmp_path: Path) -> None:
    store = _store(small_store, tmp_path)
    with open_store(store, readonly=True) as s:
        hz = next(h for h in s.find(HazardArea) if h.status.value == "open")
    feature = {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(hz.geometry.buffer(0.001))),
        "properties": {"name": "found by the survey", "classification": "suspected_hazardous_area",
                       "contamination": "antipersonnel_mines", "date_of_information": "2024-07-01"},
    }  # fmt: skip
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    args = ("import", "hazard_areas", str(path), "--store", store, "--user", "s.mammadov")
    assert invoke_cli(*args, "--dry-run").returncode == 0
    assert [e for e in acc_svc.audit_entries(store) if e.action == "import"] == []  # a dry run writes nothing
    res = invoke_cli(*args)
    assert res.returncode == 0, res.stderr
    with open_store(store, readonly=True) as s:
        uid = next(h.uid for h in s.find(HazardArea) if h.name == "found by the survey")
    (entry,) = [e for e in acc_svc.audit_entries(store) if e.action == "import"]
    assert (entry.actor, entry.target) == ("s.mammadov", "hazard_areas") and entry.origin.startswith("cli@")
    assert entry.after["file"] == "one.geojson" and entry.after["created_uids"] == [uid]
    assert entry.after["created"] == 1 and entry.after["updated"] == 0
    again = invoke_cli(*args)  # the same file again: nothing changes, nothing is audited
    assert again.returncode == 0 and len([e for e in acc_svc.audit_entries(store) if e.action == "import"]) == 1
    res = invoke_cli("strikes", "to-hazards", "--store", store)
    assert res.returncode == 0, res.stderr
    edits = [e for e in acc_svc.audit_entries(store) if e.action == "strikes.to_hazards"]
    with open_store(store, readonly=True) as s:
        made = sorted(h.uid for h in s.find(HazardArea) if h.entered_by == "safeground strikes")
    if made:
        assert len(edits) == 1 and edits[0].actor == getpass.getuser() and sorted(edits[0].after["created"]) == made
    else:
        assert edits == []
    assert acc_svc.verify_audit(store).ok


def test_a_forms_import_is_audited(small_store: Path, tmp_path: Path) -> None:
    store = _store(small_store, tmp_path)
    export = Path(__file__).parent / "data" / "forms" / "eo_find_kobo.json"
    res = invoke_cli("forms", "import", "eo_find", str(export), "--store", store)
    assert res.returncode == 0, res.stderr
    (entry,) = [e for e in acc_svc.audit_entries(store) if e.action == "forms.import"]
    assert entry.actor == getpass.getuser() and entry.target == "eo_find" and entry.after["files"] == [export.name]
    assert entry.after["created"] and all(c.startswith("eo_items:") for c in entry.after["created"])
    assert acc_svc.verify_audit(store).ok
