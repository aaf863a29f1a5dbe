"""The record follows the work: a finished clearance or survey, imported, changes the hazard it names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from safeground.geometry.projection import project
from safeground.landrelease.completion import propose_releases
from safeground.model import HazardArea
from safeground.safety.check import Level, SafetyIndex
from safeground.storage import open_store
from safeground.storage.base import metric_epsg
from tests.conftest import invoke_cli


def _open_hazard(store) -> HazardArea:
    """The largest open confirmed hazard area of a single polygon (a clearance report names one)."""
    cands = [h for h in store.find(HazardArea) if h.status == "open" and h.classification == "confirmed_hazardous_area"]
    return max(cands, key=lambda h: h.remaining_area_m2)


def _report(path: Path, uid: str, hazard: str, geom, kind: str = "clearance") -> Path:
    props = {"uid": uid, "activity_type": kind, "organisation_uid": "ORG-00002", "method": "manual",
             "start_date": "2023-01-05", "end_date": "2023-02-20", "hazard_area_uid": hazard,
             "date_of_information": "2023-02-21",
             ("area_cleared_m2" if kind == "clearance" else "area_reduced_m2"): round(geom.area, 1)}  # fmt: skip
    out = path.parent / f"{uid}.geojson"
    feature = {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))}
    out.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return out


def test_a_completed_clearance_closes_the_hazard_it_names(demo_copy: Path):
    with open_store(str(demo_copy), readonly=True) as s:
        assert propose_releases(s, entered_by="t") == []  # the demo's own history is already applied
        h = _open_hazard(s)
        epsg = metric_epsg(s)
        inside = h.geometry.representative_point()
        assert SafetyIndex.from_store(s).check(inside.x, inside.y).level == Level.DANGER
    # the completion report: the whole hazard cleared (its polygon drawn a little wider, as teams draw them)
    cleared = project(project(h.geometry, 4326, epsg).buffer(2.0), epsg, 4326)
    res = invoke_cli(
        "import", "activities", str(_report(demo_copy, "ACT-09100", h.uid, cleared)), "--store", str(demo_copy)
    )
    assert res.returncode == 0, res.stderr
    assert "release propose" in res.stdout and h.uid in res.stdout
    with open_store(str(demo_copy), readonly=True) as s:
        assert s.get(HazardArea, h.uid).status == "open"  # a proposal until a reviewer confirms
    res = invoke_cli("release", "propose", "--store", str(demo_copy), "--apply")
    assert res.returncode == 0, res.stderr
    assert f"{h.uid} ← ACT-09100" in res.stdout and "closed" in res.stdout
    with open_store(str(demo_copy), readonly=True) as s:
        now = s.get(HazardArea, h.uid)
        assert now.status == "closed" and now.remaining_area_m2 == 0.0
        assert now.status_history[-1].reason.endswith("(handover certificate HC-ACT-09100)")
        assert len(s.history(HazardArea, h.uid)) >= 2  # the open version is kept
        assert propose_releases(s, entered_by="t") == []  # applied once, never twice
        ans = SafetyIndex.from_store(s).check(inside.x, inside.y)
    assert not any(f.uid == h.uid and f.blocks for f in ans.findings), ans.verdict


def test_a_partial_technical_survey_reduces_the_hazard_to_what_is_left(demo_copy: Path):
    with open_store(str(demo_copy), readonly=True) as s:
        h = _open_hazard(s)
        epsg = metric_epsg(s)
    m = project(h.geometry, 4326, epsg)
    minx, miny, maxx, maxy = m.bounds
    west = shapely.box(minx - 5, miny - 5, (minx + maxx) / 2, maxy + 5).intersection(m.buffer(1.0))
    report = _report(demo_copy, "ACT-09101", h.uid, project(west, epsg, 4326), kind="technical_survey")
    assert invoke_cli("import", "activities", str(report), "--store", str(demo_copy)).returncode == 0
    with open_store(str(demo_copy)) as s:
        (p,) = propose_releases(s, entered_by="t")
        want = m.difference(west).area
        assert p.remaining_m2 == pytest.approx(want, rel=0.01)
        assert p.released_m2 == pytest.approx(m.area - want, rel=0.01) and not p.closes
        assert "reduced by technical survey ACT-09101" in p.reason
    res = invoke_cli("release", "propose", "--store", str(demo_copy), "--apply")
    assert res.returncode == 0, res.stderr
    with open_store(str(demo_copy), readonly=True) as s:
        now = s.get(HazardArea, h.uid)
        assert now.status == "open" and now.remaining_area_m2 == pytest.approx(want, rel=0.01)
        assert project(now.geometry, 4326, epsg).intersection(west).area < 50.0
