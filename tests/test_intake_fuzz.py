"""Fuzzing the coordinate and table parsers: any input gives a value or a clear SafeGroundError, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeground.errors import SafeGroundError
from safeground.intake.coords import CoordinateError, parse_angle, parse_mgrs, parse_utm_zone
from safeground.intake.features import import_features
from safeground.model import EOItem
from safeground.storage.base import open_store

_COORDISH = st.text(alphabet="0123456789 .,-+NSEW°'\"′″:dms", max_size=20)


@given(
    st.one_of(_COORDISH, st.text(max_size=20), st.floats(allow_nan=True), st.integers()),
    st.sampled_from(["lat", "lon"]),
)
@settings(max_examples=1500, deadline=None)
def test_parse_angle_returns_a_degree_value_or_a_clear_error(value, axis):
    try:
        v = parse_angle(value, axis)
    except CoordinateError as exc:
        assert exc.message
        return
    assert abs(v) <= (90 if axis == "lat" else 180)


@given(st.integers(-90, 90), st.integers(0, 59), st.floats(0, 59.99, allow_nan=False), st.sampled_from("NS"))
@settings(max_examples=300, deadline=None)
def test_dms_written_any_way_reads_the_same(deg, minutes, seconds, hemi):
    deg = abs(deg) if deg != 90 or (minutes == 0 and seconds == 0) else 89
    want = (deg + minutes / 60 + round(seconds, 2) / 3600) * (1 if hemi == "N" else -1)
    if abs(want) > 90:
        return
    s = f"{round(seconds, 2):.2f}"
    for text in (f"{deg}°{minutes}'{s}\"{hemi}", f"{deg} {minutes} {s} {hemi}", f"{hemi}{deg}:{minutes}:{s}"):
        assert parse_angle(text, "lat") == pytest.approx(want, abs=1e-9)


@given(st.text(alphabet="0123456789CDEFGHJKLMNPQRSTUVWXYZ ", max_size=18))
@settings(max_examples=500, deadline=None)
def test_mgrs_and_zone_parsers_never_crash(text):
    for fn in (parse_mgrs, parse_utm_zone):
        try:
            fn(text)
        except CoordinateError as exc:
            assert exc.message


_CELL = st.one_of(
    st.text(max_size=12), st.sampled_from(["46.75", "39.61", "found", "av", "2021-04-02", "", '"', ",", "\n"])
)


@given(st.lists(st.lists(_CELL, min_size=0, max_size=8), min_size=0, max_size=6), st.booleans())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_csv_imports_or_fails_with_a_clear_error_and_stores_nothing(rows, with_header):
    header = "date_of_information,status,eo_type,how_found,lon,lat\n" if with_header else ""
    body = "\n".join(",".join(r) for r in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_text(header + body, encoding="utf-8")
        with open_store(str(Path(tmp) / "s.gpkg")) as store:
            try:
                import_features(store, "eo_items", path)
            except SafeGroundError as exc:
                assert exc.message
                assert store.count(EOItem) == 0


def test_a_short_mgrs_reference_means_the_centre_of_its_square():
    """6 digits name a 100 m square: its centre, not its south-west corner, is the position."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    full = parse_mgrs("38SNJ5015086450")  # the centre of 38SNJ501864, written out to 1 m
    assert geod.inv(*full, *parse_mgrs("38SNJ501864"))[2] < 0.01
    assert geod.inv(*full, *parse_mgrs("38SNJ 501 864"))[2] < 0.01
    corner = parse_mgrs("38SNJ5010086400")
    assert 65 < geod.inv(*corner, *parse_mgrs("38SNJ501864"))[2] < 75  # half the diagonal of 100 m
