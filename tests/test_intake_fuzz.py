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
from safeground.storage import open_store

_COORDISH = st.text(alphabet="0123456789 .,-+NSEW°'\"′″:dms", max_size=20)


@given(
    st.one_of(_COORDISH, st.text(max_size=20), st.floats(allow_nan=True), st.integers()),
    st.sampled_from(["lat", "lon"]),
)
@settings(max_examples=1500, deadline=None, derandomize=True)
def test_parse_angle_returns_a_degree_value_or_a_clear_error(value, axis):
    try:
        v = parse_angle(value, axis)
    except CoordinateError as exc:
        assert exc.message
        return
    assert abs(v) <= (90 if axis == "lat" else 180)


@given(st.integers(-90, 90), st.integers(0, 59), st.floats(0, 59.99, allow_nan=False), st.sampled_from("NS"))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_dms_written_any_way_reads_the_same(deg, minutes, seconds, hemi):
    deg = abs(deg) if deg != 90 or (minutes == 0 and seconds == 0) else 89
    want = (deg + minutes / 60 + round(seconds, 2) / 3600) * (1 if hemi == "N" else -1)
    if abs(want) > 90:
        return
    s = f"{round(seconds, 2):.2f}"
    for text in (f"{deg}°{minutes}'{s}\"{hemi}", f"{deg} {minutes} {s} {hemi}", f"{hemi}{deg}:{minutes}:{s}"):
        assert parse_angle(text, "lat") == pytest.approx(want, abs=1e-9)


@given(st.text(alphabet="0123456789CDEFGHJKLMNPQRSTUVWXYZ ", max_size=18))
@settings(max_examples=500, deadline=None, derandomize=True)
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
@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
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


# -- every file format the importers read (issue 16): bytes, text and structure, a fixed budget ----------

BUDGET = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
FORMATS = [".csv", ".tsv", ".txt", ".xlsx", ".geojson", ".json", ".kml", ".kmz", ".gpkg", ".zip", ".shp"]
_VALID_GEOJSON = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"date_of_information":"2021-04-02",'
    '"status":"found","eo_type":"av","how_found":"manual_clearance"},"geometry":{"type":"Point",'
    '"coordinates":[46.75,39.61]}}]}'
)


def _import_or_refuse(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp, open_store(str(Path(tmp) / "s.gpkg")) as store:
        try:
            import_features(store, "eo_items", path)
        except SafeGroundError as exc:
            assert exc.message
            assert store.count(EOItem) == 0


@BUDGET
@given(blob=st.binary(max_size=400), suffix=st.sampled_from(FORMATS))
def test_any_bytes_under_any_supported_suffix_import_or_fail_clearly(blob, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(blob)
        _import_or_refuse(path)


@BUDGET
@given(cut=st.integers(0, len(_VALID_GEOJSON)), noise=st.binary(max_size=8), encoding=st.sampled_from(
    ["utf-8", "latin-1", "utf-16", "utf-16-le"]))  # fmt: skip
def test_a_damaged_geojson_imports_or_fails_clearly(cut, noise, encoding):
    text = _VALID_GEOJSON[:cut].replace("found", "trouvé")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "finds.geojson"
        path.write_bytes(text.encode(encoding) + noise)
        _import_or_refuse(path)


_WORDS = ["46.75", "39.61", "found", "av", "2021-04-02", "0001-01-01"]
_CELLS = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12),  # what a cell can hold
    st.sampled_from(_WORDS),
)


@BUDGET
@given(header=st.lists(st.sampled_from(["date_of_information", "status", "eo_type", "how_found", "lon", "lat", "Lat",
                                        "uid", "x", "y", "mgrs", "geometry_wkt"]), max_size=8),
       rows=st.lists(st.lists(_CELLS, max_size=8), max_size=4))  # fmt: skip
def test_any_workbook_imports_or_fails_clearly(header, rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "finds.xlsx"
        wb.save(path)
        _import_or_refuse(path)


_YAMLISH = st.text(alphabet="ab:-&*[]{}, \n'\"!#|>0123456789.", max_size=120)


@BUDGET
@given(text=st.one_of(_YAMLISH, st.text(max_size=80)))
def test_any_yaml_text_loads_boundedly_or_fails_clearly(text):
    from safeground.intake.yamlsafe import load_json, load_yaml

    for fn in (load_yaml, load_json):
        try:
            fn(text, "f.yaml")
        except SafeGroundError as exc:
            assert exc.message


_DOC = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**10), 10**10), st.floats(), st.text(max_size=8)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["source", "date", "bearing_reference", "start", "legs", "rows", "label", "lon", "lat", "role", "bearing_deg",
         "distance_m", "from", "to", "mine_type", "mine_count", "layer", "columns", "values", "population"]),
        inner, max_size=5),
    max_leaves=12,
)  # fmt: skip


@BUDGET
@given(doc=_DOC, suffix=st.sampled_from([".yaml", ".json"]), encoding=st.sampled_from(["utf-8", "utf-16"]))
def test_any_traverse_mapping_or_weights_file_reads_or_fails_clearly(doc, suffix, encoding):
    import json

    import yaml

    from safeground.intake.mapping import load_mapping
    from safeground.landrelease.priority import load_weights
    from safeground.minemaps.traverse import read_record, solve

    text = json.dumps(doc, default=str) if suffix == ".json" else yaml.safe_dump(doc, allow_unicode=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(text.encode(encoding))
        for fn in (lambda p: solve(read_record(p)), lambda p: load_mapping(None, str(p)), load_weights):
            try:
                fn(path)
            except SafeGroundError as exc:
                assert exc.message


@BUDGET
@given(blob=st.binary(max_size=300), suffix=st.sampled_from([".png", ".jpg", ".tif"]), cut=st.integers(0, 400))
def test_any_scan_image_reads_or_fails_clearly(blob, suffix, cut):
    import io

    import numpy as np
    from PIL import Image

    from safeground.intake.geotiff import read_scan

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"scan{suffix}"
        good = io.BytesIO()
        kind = {".png": "PNG", ".jpg": "JPEG", ".tif": "TIFF"}[suffix]
        Image.fromarray(np.full((16, 16, 3), 200, dtype=np.uint8)).save(good, format=kind)
        data = good.getvalue()
        path.write_bytes(data[:cut] + blob if cut < len(data) else blob)
        try:
            pixels = read_scan(path)
            assert pixels.ndim == 3
        except SafeGroundError as exc:
            assert exc.message


def test_a_short_mgrs_reference_means_the_centre_of_its_square():
    """6 digits name a 100 m square: its centre, not its south-west corner, is the position."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    full = parse_mgrs("38SNJ5015086450")  # the centre of 38SNJ501864, written out to 1 m
    assert geod.inv(*full, *parse_mgrs("38SNJ501864"))[2] < 0.01
    assert geod.inv(*full, *parse_mgrs("38SNJ 501 864"))[2] < 0.01
    corner = parse_mgrs("38SNJ5010086400")
    assert 65 < geod.inv(*corner, *parse_mgrs("38SNJ501864"))[2] < 75  # half the diagonal of 100 m
