"""Soviet-era SK-42 (Pulkovo 1942) Gauss–Krüger coordinates in traverse records and the XLSX template."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from pyproj import Geod, Transformer

from safeground.errors import InvalidInput
from safeground.minemaps import sk42
from safeground.minemaps.traverse import TraverseRecord, read_record, solve
from safeground.minemaps.traverse_xlsx import write_template
from tests.conftest import invoke_cli

RECORD = Path(__file__).parent / "data" / "records" / "handover_97.json"
GEOD = Geod(ellps="WGS84")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def sk42_record(tmp_path: Path, **start: object) -> Path:
    """The handover record with its landmark written as on an SK-42 map (X, Y rounded to 0.1 m, as copied)."""
    data = json.loads(RECORD.read_text())
    s = data["start"]
    x, y = sk42.from_wgs84(s["lon"], s["lat"], 8)
    data["start"] = {"label": s["label"], "crs": "SK-42", "zone": 8, "x": round(x, 1), "y": round(y, 1), **start}
    path = tmp_path / "handover_97_sk42.json"
    path.write_text(json.dumps(data))
    return path


def test_a_known_point_converts_as_pyproj_does_with_the_datum_shift_applied():
    # 39.6 N 47.05 E (near Horadiz) is X 4 387 215.29, Y 8 676 186.25 on SK-42 zone 8 (central meridian 45 E)
    pos = sk42.to_wgs84(4387215.29, 8676186.25, sk42.parse_crs("EPSG:28408", None))
    assert (pos.zone, pos.epsg) == (8, 28408)
    default = Transformer.from_crs("EPSG:28408", "EPSG:4326", always_xy=True).transform(8676186.25, 4387215.29)
    assert metres((pos.lon, pos.lat), default) < 0.01  # PROJ's own best choice is the same transformation
    assert metres((pos.lon, pos.lat), (47.05, 39.60)) < 0.05
    # the same grid value without the Pulkovo → WGS 84 shift (Krassovsky lat/lon read as WGS 84) is ~100 m off
    naive = Transformer.from_crs("EPSG:28408", "EPSG:4284", always_xy=True).transform(8676186.25, 4387215.29)
    assert 60 < metres((pos.lon, pos.lat), naive) < 200
    # the zone prefix may be left out of the easting
    bare = sk42.to_wgs84(4387215.29, 676186.25, 8)
    assert metres((bare.lon, bare.lat), (pos.lon, pos.lat)) < 1e-6
    # zone 9 (east Azerbaijan, central meridian 51 E): Baku
    x, y = sk42.from_wgs84(49.867, 40.409, 9)
    baku = sk42.to_wgs84(x, y, 9)
    assert sk42.easting_zone(y) == 9 and metres((baku.lon, baku.lat), (49.867, 40.409)) < 0.01


@pytest.mark.parametrize(
    ("crs", "zone", "x", "y", "expected"),
    [
        ("SK-42", 40, 4387215.0, 8676186.0, "unknown SK-42 Gauss–Krüger zone 40"),
        ("EPSG:32638", None, 4387215.0, 8676186.0, "EPSG:32638 is not an SK-42 Gauss–Krüger zone"),
        ("UTM", None, 4387215.0, 8676186.0, "unknown grid 'UTM'"),
        ("SK-42", 8, 4387215.0, 9676186.0, "starts with zone 9, not the record's zone 8"),
        ("EPSG:28409", 8, 4387215.0, 8676186.0, "is zone 9 but zone 8 is given"),
        ("SK-42", 8, 8676186.0, 4387215.0, "X is the northing"),
        ("SK-42", 8, 4387215.0, 8876186.0, "outside zone 8 (42–48°E)"),
        ("SK-42", 8, 3887215.0, 8576186.0, "outside the area where SK-42 zone 8 is used"),
        ("SK-42", None, 4387215.0, 8676186.0, "needs its Gauss–Krüger zone"),
    ],
)
def test_a_wrong_zone_or_coordinate_is_a_clear_error_naming_the_file_and_field(tmp_path, crs, zone, x, y, expected):
    data = json.loads(RECORD.read_text())
    data["start"] = {"label": "LM", "crs": crs, "zone": zone, "x": x, "y": y}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput) as err:
        read_record(path)
    (problem,) = err.value.problems
    assert (problem.source, problem.field) == ("bad.json", "start")
    assert expected in problem.reason


def test_a_traverse_entered_in_sk42_gives_the_record_entered_in_wgs84(tmp_path):
    wgs, grid = solve(read_record(RECORD)), solve(read_record(sk42_record(tmp_path)))
    assert wgs.points.keys() == grid.points.keys()
    for label in wgs.points:
        assert metres(wgs.points[label], grid.points[label]) < 1.0, label
    for (_, _, _, a), (_, _, _, b) in zip(wgs.mines, grid.mines, strict=True):
        assert max(metres(p, q) for p, q in zip(a, b, strict=True)) < 1.0
    assert grid.misclosure_m == pytest.approx(wgs.misclosure_m, abs=0.01)
    assert "SK-42 Gauss–Krüger zone 8 (EPSG:28408)" in grid.bearing_note and "EPSG:15865" in grid.bearing_note


def test_grid_bearings_of_an_sk42_record_are_on_the_gauss_krueger_grid(tmp_path):
    """Grid north of zone 8 is 1.4° from true north at 47°E: the record's grid bearings are turned by it.

    (UTM zone 38 shares its central meridian, 45°E, so both grids agree here; they differ at a zone edge.)"""
    data = json.loads(sk42_record(tmp_path).read_text())
    start = read_record(RECORD).start
    gamma = sk42.grid_convergence(start.lon, start.lat, 8)
    assert 1.0 < gamma < 2.0
    true = {**json.loads(RECORD.read_text()), "bearing_reference": "true"}
    data["bearing_reference"] = "grid"
    for leg in data["legs"]:  # the same bearings read off the zone's grid (grid = true − convergence)
        leg["bearing_deg"] = (leg["bearing_deg"] - gamma) % 360
    a, b = solve(TraverseRecord.model_validate(true)), solve(TraverseRecord.model_validate(data))
    for label in a.points:
        assert metres(a.points[label], b.points[label]) < 1.0, label
    assert "grid bearings on SK-42 Gauss–Krüger zone 8" in b.bearing_note


def test_lon_lat_and_sk42_given_together_must_agree(tmp_path):
    start = json.loads(RECORD.read_text())["start"]
    ok = read_record(sk42_record(tmp_path, lon=start["lon"], lat=start["lat"]))
    assert ok.start.grid_zone == 8
    with pytest.raises(InvalidInput, match="apart: give one of them"):
        read_record(sk42_record(tmp_path, lon=start["lon"] + 0.01, lat=start["lat"]))


def test_the_xlsx_template_takes_sk42_and_round_trips_it(tmp_path):
    rec = read_record(sk42_record(tmp_path))
    xlsx = write_template(tmp_path / "sk42.xlsx", rec)
    ws = load_workbook(xlsx)["Reference point"]
    assert [c.value for c in ws[1]][4:] == ["Grid", "SK-42 zone", "X: northing (m)", "Y: easting (m)"]
    assert [c.value for c in ws[2]][4:6] == ["SK-42", 8]
    back = read_record(xlsx)
    assert (back.start.x, back.start.y, back.start.grid_zone) == (rec.start.x, rec.start.y, 8)
    a, b = solve(read_record(RECORD)), solve(back)
    for label in a.points:
        assert metres(a.points[label], b.points[label]) < 1.0
    res = invoke_cli("maps", "traverse", str(xlsx))
    assert res.returncode == 0, res.stderr
    assert "SK-42" in res.stdout and "EPSG:15865" in res.stdout


def test_an_xlsx_reference_point_with_a_bad_zone_names_its_cell(tmp_path):
    xlsx = write_template(tmp_path / "bad.xlsx", read_record(sk42_record(tmp_path)))
    wb = load_workbook(xlsx)
    wb["Reference point"]["F2"].value = 12
    wb.save(xlsx)
    res = invoke_cli("maps", "traverse", str(xlsx))
    assert res.returncode == 2
    assert "sheet 'Reference point', row 2" in res.stdout + res.stderr
    assert "not the record's zone 12" in res.stdout + res.stderr
    assert "Traceback" not in res.stderr


def test_a_template_without_the_sk42_columns_still_reads(tmp_path):
    xlsx = write_template(tmp_path / "old.xlsx", read_record(RECORD))
    wb = load_workbook(xlsx)
    ws = wb["Reference point"]
    ws.delete_cols(5, 4)  # the template before SK-42: Label, Longitude, Latitude, Description
    wb.save(xlsx)
    a, b = solve(read_record(RECORD)), solve(read_record(xlsx))
    assert np.allclose(a.points["TP1"], b.points["TP1"], atol=1e-9)


def test_the_template_cli_sets_up_an_sk42_reference_point_and_refuses_an_unknown_zone(tmp_path):
    res = invoke_cli("maps", "template", str(tmp_path / "t.xlsx"), "--sk42-zone", "8")
    assert res.returncode == 0, res.stderr
    ws = load_workbook(tmp_path / "t.xlsx")["Reference point"]
    assert [c.value for c in ws[2]][4:6] == ["SK-42", 8]
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert '"WGS 84,SK-42"' in lists
    bad = invoke_cli("maps", "template", str(tmp_path / "u.xlsx"), "--sk42-zone", "40")
    assert bad.returncode == 2 and "unknown SK-42 Gauss–Krüger zone 40" in bad.stdout + bad.stderr
    assert not (tmp_path / "u.xlsx").exists()


def test_saving_a_record_outside_the_store_area_is_refused(tmp_path):
    """A mistyped X still inside zone 8 puts the record 150 km away: the store's area of interest catches it."""
    from safeground.model import MinefieldRecord
    from safeground.storage import open_store

    path = tmp_path / "s.gpkg"
    with open_store(str(path)) as s:
        s.set_meta("area_of_interest", json.dumps([46.5, 39.3, 47.5, 40.0]))
    ok = invoke_cli("maps", "traverse", str(sk42_record(tmp_path)), "--store", str(path), "--save")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(sk42_record(tmp_path).read_text())
    data["source_reference"] = "No. 98"
    data["start"]["x"] += 150_000  # 1.35° further north: a mistyped X that is still inside zone 8
    far = tmp_path / "far.json"
    far.write_text(json.dumps(data))
    res = invoke_cli("maps", "traverse", str(far), "--store", str(path), "--save")
    out = " ".join((res.stdout + res.stderr).split())
    assert res.returncode == 2 and "outside the store's area of interest" in out and "SK-42 zone 8" in out
    with open_store(str(path)) as s:
        assert s.count(MinefieldRecord) == 1
