"""The XLSX template for bearing-and-distance records: drop-downs, round trip, errors naming sheet/row/column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from safeground.errors import InvalidInput
from safeground.minemaps.traverse import read_record, solve
from safeground.minemaps.traverse_xlsx import write_template
from safeground.model import EOItem, MinefieldRecord
from tests.conftest import invoke_cli

RECORD = Path(__file__).parent / "data" / "records" / "handover_97.json"


def fill(path: Path, unit_bearing: str = "degrees", unit_distance: str = "metres") -> Path:
    """Fill the empty template cell by cell, as a clerk would, from the JSON record."""
    rec = read_record(RECORD)
    write_template(path)
    wb = load_workbook(path)
    ws = wb["Record"]
    values = {
        "Source": rec.source,
        "Record number": rec.source_reference,
        "Date of the record": rec.date,
        "Bearing reference": rec.bearing_reference,
        "Bearing unit": unit_bearing,
        "Distance unit": unit_distance,
    }
    for row in ws.iter_rows(min_row=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    wb["Reference point"].append([rec.start.label, rec.start.lon, rec.start.lat, rec.start.description])
    per_circle = {"degrees": 360.0, "mils (6400)": 6400.0, "thousandths (6000)": 6000.0}[unit_bearing]
    per_metre = {"metres": 1.0, "feet": 1 / 0.3048}[unit_distance]
    legs = wb["Legs"]
    for i, leg in enumerate(rec.legs):
        legs.append([leg.label, leg.role, leg.bearing_deg * per_circle / 360.0, leg.distance_m * per_metre])
        if i == 2:
            legs.append([None, None, None, None])  # an empty line in the middle is skipped
    for row in rec.rows:
        wb["Rows"].append([row.label, row.start, row.end, row.mine_type.value, row.mine_model, row.mine_count])
    wb.save(path)
    return path


def test_template_has_the_sheets_lists_and_instructions(tmp_path):
    res = invoke_cli("maps", "template", str(tmp_path / "t.xlsx"))
    assert res.returncode == 0, res.stderr
    wb = load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames == ["Instructions", "Record", "Reference point", "Legs", "Rows"]
    assert "FROM THE PREVIOUS POINT" in " ".join(str(c.value) for c in wb["Instructions"]["A"])
    lists = {dv.formula1 for ws in wb.worksheets for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert '"magnetic,grid,true"' in lists
    assert '"landmark,benchmark,start,turning,end"' in lists
    assert any("ap_blast" in f and "submunition" in f for f in lists)
    assert any("metres" in f and "feet" in f for f in lists)
    rec_rules = {str(dv.sqref): dv.formula1 for dv in wb["Record"].data_validations.dataValidation}
    assert rec_rules["B5"] == '"magnetic,grid,true"'  # on the bearing reference cell


@pytest.mark.parametrize(("bearing", "distance"), [("degrees", "metres"), ("thousandths (6000)", "feet")])
def test_a_filled_template_gives_the_same_points_as_the_json_record(tmp_path, bearing, distance):
    xlsx = fill(tmp_path / "rec.xlsx", bearing, distance)
    a, b = solve(read_record(RECORD)), solve(read_record(xlsx))
    assert a.points.keys() == b.points.keys()
    for label in a.points:
        assert np.allclose(a.points[label], b.points[label], atol=1e-9), label
    assert [m[0] for m in a.mines] == [m[0] for m in b.mines]
    for ma, mb in zip(a.mines, b.mines, strict=True):
        assert np.allclose(ma[3], mb[3], atol=1e-9)
    assert a.misclosure_m == pytest.approx(b.misclosure_m, abs=1e-6)
    assert a.bearing_note == b.bearing_note


def test_template_filled_from_a_record_round_trips(tmp_path):
    res = invoke_cli("maps", "template", str(tmp_path / "ex.xlsx"), "--example", str(RECORD))
    assert res.returncode == 0, res.stderr
    assert read_record(tmp_path / "ex.xlsx") == read_record(RECORD)


def test_traverse_command_reads_the_workbook_and_saves(tmp_path, store):
    xlsx = fill(tmp_path / "rec.xlsx")
    res = invoke_cli("maps", "traverse", str(xlsx), "--store", store.test_url, "--save")
    assert res.returncode == 0, res.stderr + res.stdout
    assert "WMM2020" in res.stdout and "45 mine positions" in res.stdout
    assert store.count(MinefieldRecord) == 1 and store.count(EOItem) == 45


def test_errors_name_sheet_row_and_column(tmp_path):
    path = fill(tmp_path / "bad.xlsx")
    wb = load_workbook(path)
    wb["Legs"]["C4"] = "north-east"  # text in the bearing column of TP2
    wb["Legs"]["D6"] = -20
    wb["Rows"]["D2"] = "butterfly"
    wb["Rows"]["F3"] = "many"
    for row in wb["Record"].iter_rows(min_row=2):
        if row[0].value == "Bearing reference":
            row[1].value = "compass"
    wb.save(path)
    with pytest.raises(InvalidInput) as exc:
        read_record(path)
    text = str(exc.value)
    assert "sheet 'Legs', row 4, column C (Bearing)" in text and "north-east" in text
    assert "sheet 'Legs', row 6, column D (Distance)" in text
    assert "sheet 'Rows', row 2, column D (Mine type)" in text and "butterfly" in text
    assert "sheet 'Rows', row 3, column F (Number of mines)" in text
    assert "sheet 'Record', row 5, column B (Bearing reference)" in text and "compass" in text
    assert len(exc.value.problems) == 5


def test_broken_workbooks_are_refused_clearly(tmp_path):
    (tmp_path / "trunc.xlsx").write_bytes(fill(tmp_path / "ok.xlsx").read_bytes()[:2000])
    with pytest.raises(InvalidInput, match="not a readable XLSX workbook"):
        read_record(tmp_path / "trunc.xlsx")
    wb = load_workbook(tmp_path / "ok.xlsx")
    del wb["Legs"]
    wb.save(tmp_path / "nolegs.xlsx")
    with pytest.raises(InvalidInput, match="missing sheet"):
        read_record(tmp_path / "nolegs.xlsx")
    wb = load_workbook(tmp_path / "ok.xlsx")
    wb["Reference point"].append(["LM2", 47.2, 39.6, "second"])
    wb.save(tmp_path / "two.xlsx")
    with pytest.raises(InvalidInput, match="one reference point is needed, found 2"):
        read_record(tmp_path / "two.xlsx")
