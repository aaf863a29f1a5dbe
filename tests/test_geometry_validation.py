"""Geometry checks and repair, property-based: the checks must hold for any input."""

from __future__ import annotations

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from safeground.geometry.projection import area_m2, utm_epsg
from safeground.geometry.validate import check_geometry, repair_geometry

lon = st.floats(-179.0, 179.0, allow_nan=False)
lat = st.floats(-89.0, 89.0, allow_nan=False)
size = st.floats(1e-4, 0.5, allow_nan=False)


def codes(geom, **kw) -> set[str]:
    return {i.code for i in check_geometry(geom, **kw)}


@given(lon, lat, size, size)
def test_valid_rectangles_have_no_issue(x, y, w, h):
    poly = shapely.box(x, y, min(x + w, 180), min(y + h, 90))
    assert check_geometry(poly, expected="POLYGON") == []


@given(lon, lat, size)
def test_bowtie_is_reported_and_repaired_into_a_valid_polygon(x, y, w):
    bowtie = shapely.Polygon([(x, y), (x + w, y + w), (x + w, y), (x, y + w), (x, y)])
    issues = check_geometry(bowtie, expected="MULTIPOLYGON")
    assert "self_intersection" in {i.code for i in issues}
    fixed, changes = repair_geometry(bowtie, issues)
    assert fixed.is_valid and fixed.area > 0
    assert fixed.geom_type in ("Polygon", "MultiPolygon")
    assert any("make_valid" in c for c in changes)


@given(
    st.floats(91.0, 179.0) | st.floats(-179.0, -91.0),
    st.floats(-89.0, 89.0, allow_nan=False),
)
def test_swapped_lat_lon_is_detected_and_swapped_back(true_lon, true_lat):
    swapped = shapely.Point(true_lat, true_lon)  # y is an impossible latitude
    issues = check_geometry(swapped, expected="POINT")
    assert [i.code for i in issues] == ["swapped_lat_lon"]
    fixed, changes = repair_geometry(swapped, issues)
    assert (fixed.x, fixed.y) == (true_lon, true_lat)
    assert changes


@given(st.floats(44.8, 50.5), st.floats(38.4, 41.9))
def test_swap_inside_the_area_of_interest_is_caught_with_a_region(x, y):
    aoi = (44.7, 38.3, 50.6, 41.95)  # Azerbaijan, roughly
    pt = shapely.Point(y, x)  # both numbers are legal degrees: only the region tells
    assert "swapped_lat_lon" not in codes(pt)
    assert "swapped_lat_lon" in codes(pt, region=aoi)
    assert codes(shapely.Point(x, y), region=aoi) == set()


@given(lon, lat, size, st.lists(st.integers(0, 3), min_size=1, max_size=4))
def test_duplicate_vertices_are_reported_and_removed_without_moving_anything(x, y, w, dup_at):
    ring = [(x, y), (x + w, y), (x + w, y + w), (x, y + w)]
    for i in sorted(dup_at, reverse=True):
        ring.insert(i, ring[i])
    poly = shapely.Polygon([*ring, ring[0]])
    issues = check_geometry(poly, expected="POLYGON")
    assert "duplicate_vertices" in {i.code for i in issues}
    fixed, _ = repair_geometry(poly, issues)
    assert shapely.equals(fixed, shapely.box(x, y, x + w, y + w))
    assert shapely.get_num_coordinates(fixed) == 5


@settings(max_examples=50)
@given(st.floats(181.0, 1e7), st.floats(91.0, 1e7))
def test_projected_numbers_are_not_repairable(x, y):
    pt = shapely.Point(x, y)
    issues = check_geometry(pt)
    assert [i.code for i in issues] == ["out_of_range"]
    assert "projected CRS" in issues[0].reason
    with pytest.raises(ValueError):
        repair_geometry(pt, issues)


def test_too_few_vertices_and_wrong_type_and_empty():
    sliver = shapely.from_wkt("POLYGON ((47 39, 47.1 39.1, 47 39))")
    assert "too_few_vertices" in codes(sliver)
    assert "wrong_type" in codes(shapely.Point(47, 39), expected="POLYGON")
    assert codes(shapely.Polygon()) == {"empty"}
    assert codes(None) == {"missing"}


def test_area_is_measured_in_metres_in_the_local_utm_zone():
    # 0.01° × 0.01° at 39.6° N is about 1,113 m × 857 m
    poly = shapely.box(47.15, 39.6, 47.16, 39.61)
    assert utm_epsg(47.15, 39.6) == 32638
    assert area_m2(poly) == pytest.approx(1113.2 * 857.5, rel=0.01)
