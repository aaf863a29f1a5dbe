"""Safe routes on the demo district, checked against what the district really holds.

Every named trip (entry checkpoint to each settlement and cemetery, each settlement to its
cemeteries) is routed on several seeds. A route called safe must keep every open hazard area's
buffer and must not pass within a found item's buffer of a mine the ground truth still has in
the ground; most trips must have one, because route clearance opened the roads and the
cemetery paths as operators do.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy.sparse.csgraph import connected_components

from safeground.routing.build import network_from_store
from safeground.routing.places import Gazetteer
from safeground.routing.quality import check_routes, route_figures
from safeground.storage import open_store
from tests.conftest import DistrictFactory, invoke_cli


@pytest.fixture(scope="module", params=[7, 2021])
def seed_store(request: pytest.FixtureRequest, district: DistrictFactory) -> Path:
    return district(request.param)


def _check(path: Path) -> dict[str, float]:
    with open_store(str(path), readonly=True) as s:
        figures = route_figures(check_routes(s))
    assert figures["pairs"] >= 60
    assert figures["routes_within_hazard_buffer"] == 0, figures
    assert figures["routes_with_true_mine_within_buffer"] == 0, figures
    assert figures["reachable_share"] >= 0.8, figures
    return figures


def test_demo_safe_routes_are_right_and_most_trips_have_one(demo_dir: Path):
    _check(demo_dir / "demo.gpkg")


def test_safe_routes_are_right_on_other_seeds(seed_store: Path):
    _check(seed_store)


def test_the_readme_example_route_is_found(demo_dir: Path):
    res = invoke_cli("route", "Entry checkpoint 1", "Chaykend cemetery", "--store", str(demo_dir / "demo.gpkg"))
    assert res.returncode == 0, res.stderr
    assert "Safe route found" in res.stdout, res.stdout
    assert "verified by route clearance" in res.stdout.replace("\n", " "), res.stdout


def test_every_cemetery_path_joins_the_road_network(seed_store: Path):
    """Families walk to the graves from the road: every cemetery is on the checkpoints' network."""
    with open_store(str(seed_store), readonly=True) as s:
        net = network_from_store(s)
        places = Gazetteer.from_store(s)
    _, label = connected_components(net._graph(), directed=False)
    entry = {label[net._snap(p.lon, p.lat)[0]] for p in places.of_kind("checkpoint")}
    for cem in places.of_kind("cemetery"):
        node, dist, _ = net._snap(cem.lon, cem.lat)
        assert dist < 60.0 and label[node] in entry, cem.name
