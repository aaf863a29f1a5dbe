"""KoboToolbox exports as downloaded with the defaults: labels, groups in headers, repeat files known by content.

``accident_kobo_labels.csv`` and ``kobo_labels_repeat_1.csv`` were made (not downloaded: there is no
network here) from ``accident_kobo.csv`` / ``accident_kobo-victims.csv`` the way KoboToolbox's exporter
(formpack) writes "Value and header format: Labels" with "Include groups in headers" (separator ``/``):
the question labels of the uploaded form as headers (``The accident/Date of the accident``,
geopoint parts as ``The accident/_<label>_latitude``), choice labels as answers
(``Anti-personnel mine``, ``Killed``), Kobo's own ``_`` columns unchanged.
``hazard_kobo_labels.csv`` is ``hazard_kobo.csv`` made the same way, and
``accident_kobo_labels_az.csv`` is the same with the labels of a form translated on
the server (Azerbaijani), which SafeGround cannot know.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from safeground.errors import InvalidInput
from safeground.intake.form_exports import read_exports
from safeground.intake.form_records import to_records
from safeground.intake.forms import FORMS
from safeground.model import Accident, Victim
from tests.conftest import invoke_cli

DATA = Path(__file__).parent / "data" / "forms"
ACC = FORMS["accident_report"]


def records(paths: list[Path]) -> list[dict]:
    recs = to_records("accident_report", read_exports(ACC, paths))
    return sorted((r.model_dump(exclude={"entered_at"}) for r in recs), key=lambda d: d["uid"])


def reference() -> list[dict]:
    return records([DATA / "accident_kobo.csv", DATA / "accident_kobo-victims.csv"])


def xlsx(path: Path, sheets: list[tuple[str, Path, str]]) -> Path:
    wb = Workbook()
    for i, (title, src, delimiter) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        for row in csv.reader(src.read_text().splitlines(), delimiter=delimiter):
            ws.append([int(x) if x.isdigit() and len(x) < 4 else x for x in row])
    wb.save(path)
    return path


def test_a_labels_export_reads_as_the_xml_values_export(tmp_path):
    got = records([DATA / "accident_kobo_labels.csv", DATA / "kobo_labels_repeat_1.csv"])
    want = reference()
    assert len(want) == 6 and got == want  # 2 accidents, 3 victims, 1 restricted identity
    acc = next(r for r in got if r["uid"].startswith("ACC-"))
    assert acc["device_type"].value == "antipersonnel_mine"  # from the label "Anti-personnel mine"


def test_a_labels_export_of_the_hazard_form_with_a_group_without_label():
    """Choice labels with punctuation ('Suspected hazardous area (SHA: indirect evidence)'), the unlabelled
    group 'evidence' written by its name, a walked polygon and a walked line."""
    form = FORMS["hazard_report"]
    want = to_records("hazard_report", read_exports(form, [DATA / "hazard_kobo.csv"]))
    got = to_records("hazard_report", read_exports(form, [DATA / "hazard_kobo_labels.csv"]))
    assert len(want) == 2
    assert [r.model_dump(exclude={"entered_at"}) for r in got] == [r.model_dump(exclude={"entered_at"}) for r in want]
    assert got[0].classification.value == "suspected_hazardous_area"


def test_a_labels_xlsx_export_with_its_repeat_sheet_renamed(tmp_path):
    book = xlsx(
        tmp_path / "export.xlsx",
        [
            ("SafeGround accident report", DATA / "accident_kobo_labels.csv", ","),
            ("Victim rows", DATA / "kobo_labels_repeat_1.csv", ","),  # found by its _parent_index column
        ],
    )
    assert records([book]) == reference()


@pytest.mark.parametrize("separator", [".", ":", " > "])
def test_groups_in_headers_with_any_group_separator(tmp_path, separator):
    for src in ("accident_kobo.csv", "accident_kobo-victims.csv"):
        text = (DATA / src).read_text()
        head, rest = text.split("\n", 1)
        head = ";".join(h if h.startswith(("_", "meta/")) else h.replace("/", separator) for h in head.split(";"))
        (tmp_path / src).write_text(head + "\n" + rest)
    assert records([tmp_path / "accident_kobo.csv", tmp_path / "accident_kobo-victims.csv"]) == reference()


def test_the_repeat_file_is_found_by_its_columns_not_its_name(tmp_path):
    """A main export whose name ends in 'victims' and a repeat file named anything."""
    main = shutil.copy(DATA / "accident_kobo.csv", tmp_path / "mine_victims.csv")
    rep = shutil.copy(DATA / "accident_kobo-victims.csv", tmp_path / "sheet2.csv")
    assert records([Path(rep), Path(main)]) == reference()


def test_a_repeat_file_for_a_form_without_repeats_is_named(tmp_path):
    with pytest.raises(InvalidInput) as err:
        read_exports(FORMS["hazard_report"], [DATA / "hazard_kobo.csv", DATA / "accident_kobo-victims.csv"])
    (problem,) = err.value.problems
    assert problem.source == "accident_kobo-victims.csv" and "not of a repeat of safeground_hazard_report" in str(
        problem.reason
    )


def test_labels_safeground_does_not_know_are_refused_with_the_export_settings(store):
    res = invoke_cli(
        "forms",
        "import",
        "accident_report",
        str(DATA / "accident_kobo_labels_az.csv"),
        str(DATA / "accident_kobo-victims.csv"),
        "--store",
        store.test_url,
    )
    out = " ".join((res.stdout + res.stderr).split())
    assert res.returncode == 2 and "Traceback" not in out
    assert "accident_kobo_labels_az.csv" in out and "'Hesabatın tarixi'" in out
    assert "neither the question names nor the question labels of safeground_accident_report" in out
    assert "'Value and header format': 'XML values and headers'" in out and "'Include groups in headers'" in out
    assert store.count(Accident) == 0 and store.count(Victim) == 0


def test_a_labels_export_imports_through_the_cli(store):
    args = ["forms", "import", "accident_report", str(DATA / "accident_kobo_labels.csv")]
    res = invoke_cli(*args, str(DATA / "kobo_labels_repeat_1.csv"), "--store", store.test_url)
    assert res.returncode == 0, res.stdout + res.stderr
    assert store.count(Accident) == 2 and store.count(Victim) == 3
    assert {v.outcome.value for v in store.find(Victim)} == {"killed", "injured"}
