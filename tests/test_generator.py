"""The demo district must behave like the real problem, read back from the store it wrote."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest
import shapely

from safeground.generator.config import CONTACT_ZONE_M, MATCH_TOLERANCE_M, DistrictConfig
from safeground.generator.district import build_district
from safeground.minemaps.matching import match_positions
from safeground.model import (
    Accident,
    Activity,
    ClusterStrike,
    EOItem,
    FrontLine,
    GroundTruthItem,
    HazardArea,
    InfrastructureArea,
    InfrastructurePoint,
    MinefieldRecord,
    Victim,
)
from safeground.model.vocab import EOType
from safeground.storage.base import Store, metric_epsg

CIVILIAN_PLACES = {
    "power_line_pole",
    "light_pole",
    "canal_bank",
    "riverbank",
    "road_junction",
    "courtyard_entrance",
    "cemetery",
    "path",
}


def metric(store: Store, cls):
    f = store.read_frame(cls)
    return f.to_crs(metric_epsg(store))


def test_same_seed_same_district_and_other_seed_other_district():
    a = build_district(DistrictConfig(seed=7, size_km=8))
    b = build_district(DistrictConfig(seed=7, size_km=8))
    c = build_district(DistrictConfig(seed=8, size_km=8))
    assert np.array_equal(a.truth.xy, b.truth.xy)
    assert a.truth.fate == b.truth.fate
    assert [r.rid for r in a.records] == [r.rid for r in b.records]
    assert [h.polygon.wkb for h in a.ops.hazards] == [h.polygon.wkb for h in b.ops.hazards]
    assert len(a.truth) != len(c.truth) or not np.array_equal(a.truth.xy, c.truth.xy)


def test_about_a_quarter_of_what_the_maps_show_is_right(demo_store: Store):
    """Recorded mine positions matched one-to-one to the mines really laid in that field."""
    errors = json.loads(demo_store.get_meta("generator.record_errors"))
    rec = metric(demo_store, EOItem)
    rec = rec[rec["status"] == "recorded"]
    truth = metric(demo_store, GroundTruthItem)
    right = shown = 0
    for rid, group in rec.groupby("minefield_record_uid"):
        field = truth[truth["minefield_id"] == errors[rid]["minefield"]]
        tol = np.array([MATCH_TOLERANCE_M[EOType(t)] for t in group["eo_type"]])
        m = match_positions(group.get_coordinates().to_numpy(), field.get_coordinates().to_numpy(), tol)
        right += len(m)
        shown += len(group)
    share = right / shown
    assert shown > 2000
    assert 0.15 <= share <= 0.38, share


def test_records_cover_only_part_of_the_minefields(demo_store: Store):
    errors = json.loads(demo_store.get_meta("generator.record_errors"))
    truth = demo_store.read_frame(GroundTruthItem)
    fields = set(truth.loc[truth["laid_context"] == "front_belt", "minefield_id"])
    recorded = {e["minefield"] for e in errors.values()}
    assert recorded < fields
    assert 0.3 < len(recorded) / len(fields) < 0.8
    # several records may describe the same ground
    assert len(errors) > len(recorded)
    classes = Counter(e["error_class"] for e in errors.values())
    assert set(classes) == {"accurate", "shifted", "wrong_reference"}


def test_mines_lie_at_the_civilian_places_named(demo_store: Store):
    truth = metric(demo_store, GroundTruthItem)
    contexts = Counter(truth["laid_context"])
    assert set(contexts) >= CIVILIAN_PLACES
    # nuisance mines at cemeteries are at (or inside) a real cemetery of the cemetery layer
    areas = metric(demo_store, InfrastructureArea)
    cemeteries = shapely.union_all(areas.loc[areas["kind"] == "cemetery"].geometry.to_numpy())
    at_cem = truth[truth["laid_context"] == "cemetery"]
    assert (at_cem.distance(cemeteries) < 10).all()
    points = metric(demo_store, InfrastructurePoint)
    poles = shapely.MultiPoint(points.loc[points["kind"] == "power_line_pole"].geometry.to_numpy())
    at_poles = truth[truth["laid_context"] == "power_line_pole"]
    assert (at_poles.distance(poles) < 3).all()


def test_most_accidents_are_off_the_former_contact_line(demo_store: Store):
    acc = metric(demo_store, Accident)
    front = metric(demo_store, FrontLine).geometry.iloc[0]
    off = (acc.distance(front) > CONTACT_ZONE_M).mean()
    assert off > 0.6, off


def test_about_forty_civilian_casualties_in_the_first_four_months(demo_store: Store):
    acc = demo_store.read_frame(Accident)
    vic = demo_store.read_frame(Victim).merge(acc[["uid", "accident_date"]], left_on="accident_uid", right_on="uid")
    first = date(2020, 11, 20)
    early = vic[
        (vic["victim_status"] == "civilian")
        & (vic["accident_date"].astype(str) < (first + timedelta(days=121)).isoformat())
    ]
    assert 30 <= len(early) <= 50, len(early)
    share = early["activity_at_time"].isin(["visiting_cemetery", "returning_to_former_home"]).mean()
    assert share >= 0.4, share


def test_cluster_strikes_hit_the_town_with_duds(demo_store: Store):
    strikes = metric(demo_store, ClusterStrike)
    areas = metric(demo_store, InfrastructureArea)
    town = areas[(areas["kind"] == "settlement") & (areas["name"] == "Yenishahar")].geometry.iloc[0]
    assert (strikes.centroid.distance(town) < 500).mean() > 0.8
    truth = demo_store.read_frame(GroundTruthItem)
    duds = (truth["eo_type"] == "submunition").sum()
    dropped = (strikes["submunition_count"]).sum()
    assert 0.02 < duds / dropped < 0.25


def test_hazard_areas_do_not_overlap_and_keep_their_history(demo_store: Store):
    hz = metric(demo_store, HazardArea)
    tree = shapely.STRtree(hz.geometry.to_numpy())
    left, right = tree.query(hz.geometry.to_numpy(), predicate="intersects")
    pairs = left < right
    inter = shapely.area(
        shapely.intersection(hz.geometry.to_numpy()[left[pairs]], hz.geometry.to_numpy()[right[pairs]])
    )
    assert inter.sum() < 10.0  # m², rounding at shared edges only
    assert (hz["version"] >= 3).any()
    uid = hz.loc[hz["version"].idxmax(), "uid"]
    versions = demo_store.history(HazardArea, uid)
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))
    assert versions[0].status.value == "open"
    assert len(versions[-1].status_history) >= 2
    assert (hz["classification"] == "confirmed_hazardous_area").any()
    assert (hz["status"] == "closed").any()


def test_records_are_refused_nowhere_and_readable_in_full(demo_store: Store):
    recs = list(demo_store.find(MinefieldRecord))
    assert recs
    r = recs[0]
    assert r.reference_points[0].role == "landmark"
    assert all(p.distance_m is not None for p in r.reference_points[1:])
    assert r.expected_total == sum(row.mine_count for row in r.rows)


@pytest.mark.parametrize("size_km", [5.0])
def test_small_district_still_has_every_ingredient(size_km):
    d = build_district(DistrictConfig(seed=3, size_km=size_km))
    assert d.records and d.accidents and d.strikes and d.ops.hazards and d.ops.activities


def test_no_accident_happens_in_ground_already_released(demo_store: Store):
    """Survey and clearance find items in the ground at their date, so later accidents lie elsewhere, but for
    the one mine a clearance missed (``generator/eore.py``), which opens a residual contamination investigation."""
    from safeground.model import QMInspection

    acc = metric(demo_store, Accident)
    act = metric(demo_store, Activity)
    done = act[act["end_date"].notna() & act["activity_type"].isin(["technical_survey", "clearance"])]
    inside = []
    for a in acc.itertuples():
        before = done[done["end_date"].astype(str) < str(a.accident_date)]
        inner = shapely.union_all(before.geometry.buffer(-10.0).to_numpy())
        if inner.contains(a.geometry):
            inside.append(a.uid)
    assert len(inside) == 1, inside
    (missed,) = inside
    assert demo_store.get(Accident, missed).place_description == "field released by clearance"
    assert [q.uid for q in demo_store.find(QMInspection) if f"accidents:{missed}" in q.opened_by]


def test_references_between_layers_resolve(demo_store: Store):
    hz = demo_store.read_frame(HazardArea)
    refs = {e["reference"] for ev in hz["evidence"] for e in json.loads(ev) if e.get("reference")}
    known = set(demo_store.read_frame(Accident)["uid"]) | set(demo_store.read_frame(ClusterStrike)["uid"])
    known |= set(demo_store.read_frame(MinefieldRecord)["uid"]) | set(demo_store.read_frame(Activity)["uid"])
    assert refs <= known
    assert hz["admin_area_uid"].notna().all()


def test_an_area_cut_into_a_polygon_and_a_sliver_line_is_written_as_its_polygon():
    # seed 99 cut a clearance area into a polygon and a line, which the activity layer refused
    from types import SimpleNamespace

    from safeground.generator.district import _Writer

    w = SimpleNamespace(d=SimpleNamespace(to_wgs84=lambda g: g))
    cut = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(1, 1), (2, 2)])])
    out = _Writer.g(w, cut)  # type: ignore[arg-type]
    assert out.geom_type == "Polygon" and out.equals(shapely.box(0, 0, 1, 1))
