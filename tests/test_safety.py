"""Is it safe here? Verdicts for points inside, at the edge, near and far from known dangers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from safeground.geometry.projection import project
from safeground.safety.check import Level, SafetyIndex
from tests.conftest import invoke_cli

EPSG = 32638
X0, Y0 = 650_000.0, 4_386_000.0  # near 46.75 E, 39.6 N


def index_with_square(size: float, contamination: str = "antipersonnel_mines", status: str = "open") -> SafetyIndex:
    sq = shapely.box(X0, Y0, X0 + size, Y0 + size)
    hz = gpd.GeoDataFrame(
        {
            "uid": ["HA-00123"],
            "status": [status],
            "classification": ["confirmed_hazardous_area"],
            "contamination": [contamination],
        },
        geometry=[project(sq, EPSG, 4326)],
        crs=4326,
    )
    return SafetyIndex.from_frames(EPSG, hazards=hz)


def lonlat(x: float, y: float) -> tuple[float, float]:
    p = project(shapely.Point(x, y), EPSG, 4326)
    return p.x, p.y


sizes = st.floats(20.0, 2000.0)
frac = st.floats(0.01, 0.99)


@settings(max_examples=60, deadline=None)
@given(sizes, frac, frac)
def test_inside_is_danger_and_names_the_area(size, fx, fy):
    idx = index_with_square(size)
    ans = idx.check(*lonlat(X0 + fx * size, Y0 + fy * size))
    assert ans.level == Level.DANGER
    assert "HA-00123" in ans.verdict and "antipersonnel mines" in ans.verdict and "Do not enter" in ans.verdict


@settings(max_examples=60, deadline=None)
@given(sizes, st.integers(0, 3), frac)
def test_on_the_edge_counts_as_inside(size, side, f):
    corners = [(X0, Y0), (X0 + size, Y0), (X0 + size, Y0 + size), (X0, Y0 + size)]
    (ax, ay), (bx, by) = corners[side], corners[(side + 1) % 4]
    idx = index_with_square(size)
    assert idx.check(*lonlat(ax, ay)).level == Level.DANGER  # a vertex
    assert idx.check(*lonlat(ax + f * (bx - ax), ay + f * (by - ay))).level == Level.DANGER  # along an edge


@settings(max_examples=60, deadline=None)
@given(sizes, st.floats(0.5, 49.0), st.sampled_from(["left", "right", "below", "above"]))
def test_near_is_caution_with_the_true_distance(size, d, where):
    x, y = {
        "left": (X0 - d, Y0 + size / 2),
        "right": (X0 + size + d, Y0 + size / 2),
        "below": (X0 + size / 2, Y0 - d),
        "above": (X0 + size / 2, Y0 + size + d),
    }[where]
    ans = index_with_square(size).check(*lonlat(x, y))
    assert ans.level == Level.CAUTION
    assert ans.findings[0].distance_m == pytest.approx(d, abs=0.05)
    assert f"{ans.findings[0].distance_m:.0f} m from" in ans.verdict


@settings(max_examples=30, deadline=None)
@given(sizes, st.floats(50.5, 3000.0))
def test_beyond_the_buffer_is_no_known_hazard_but_never_called_safe(size, d):
    ans = index_with_square(size).check(*lonlat(X0 - d, Y0 + size / 2))
    assert ans.level == Level.NO_KNOWN_HAZARD
    assert "does not prove the ground is safe" in ans.verdict
    assert "HA-00123" in ans.verdict  # the nearest known danger is named


def test_buffers_follow_the_contamination_type():
    av = index_with_square(100.0, contamination="antivehicle_mines")
    cluster = index_with_square(100.0, contamination="cluster_munition_remnants")
    at_40 = lonlat(X0 - 40.0, Y0 + 50.0)
    assert av.check(*at_40).level == Level.NO_KNOWN_HAZARD  # 25 m buffer
    assert cluster.check(*at_40).level == Level.CAUTION  # 100 m buffer


def test_released_ground_is_not_a_danger_but_is_said():
    idx = index_with_square(100.0, status="closed")
    ans = idx.check(*lonlat(X0 + 50, Y0 + 50))
    assert ans.level == Level.NO_KNOWN_HAZARD and "released" in ans.verdict


def test_batch_agrees_with_single_checks():
    idx = index_with_square(300.0)
    rng = np.random.default_rng(4)
    xy = np.column_stack([rng.uniform(X0 - 200, X0 + 500, 400), rng.uniform(Y0 - 200, Y0 + 500, 400)])
    ll = np.array([lonlat(x, y) for x, y in xy])
    batch = idx.check_many(ll[:, 0], ll[:, 1])
    single = [idx.check(lo, la).level.name.lower() for lo, la in ll]
    assert list(batch["level"].astype(str)) == single
    assert set(single) == {"danger", "caution", "no_known_hazard"}


def test_check_command_on_the_demo(demo_dir, tmp_path):
    from safeground.model import HazardArea
    from safeground.storage import open_store

    with open_store(str(demo_dir / "demo.gpkg"), readonly=True) as s:
        hz = next(h for h in s.find(HazardArea) if h.status.value == "open")
    p = hz.geometry.representative_point()
    res = invoke_cli("check", str(p.x), str(p.y), "--store", str(demo_dir / "demo.gpkg"))
    assert res.returncode == 0 and "DANGER" in res.stdout and hz.uid in res.stdout
    csv = tmp_path / "points.csv"
    csv.write_text(f"lon,lat\n{p.x},{p.y}\n47.0,39.5\n")
    res = invoke_cli("check", "--batch", str(csv), "--store", str(demo_dir / "demo.gpkg"))
    assert res.returncode == 0, res.stderr
    out = (tmp_path / "points-checked.csv").read_text().splitlines()
    assert out[1].split(",")[2] == "danger"
    res = invoke_cli("check", "39.6", "147.1", "--store", str(demo_dir / "demo.gpkg"))
    assert res.returncode == 2 and "longitude first" in res.stderr
