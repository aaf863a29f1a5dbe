"""Field reports from phones: the XLSForms (checked with pyxform) and importing Kobo/ODK submissions."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import shapely
from openpyxl import Workbook, load_workbook
from pyxform.xls2xform import convert

from safeground.errors import InvalidInput
from safeground.geometry.projection import metric_epsg_for, project
from safeground.intake.form_exports import form_definition, read_exports
from safeground.intake.forms import CHOICE_LISTS, FORMS, export_forms
from safeground.intake.odk_values import parse_odk_geometry
from safeground.intake.submissions import import_submissions
from safeground.model import Accident, EOItem, HazardArea, Victim, VictimIdentity
from tests.conftest import invoke_cli

DATA = Path(__file__).parent / "data" / "forms"
ACC1 = "0f8e6c2a-5d41-4b7e-9a3c-1e2f3a4b5c6d"


@pytest.fixture(scope="module")
def form_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("forms")
    export_forms(d)
    return d


@pytest.mark.parametrize("name", list(FORMS))
def test_each_xlsform_converts_to_an_xform_without_errors_or_warnings(form_dir, name):
    warnings: list[str] = []
    result = convert(str(form_dir / f"{name}.xlsx"), warnings=warnings)
    assert warnings == []
    assert f'id="{FORMS[name].form_id}"' in result.xform
    for q in FORMS[name].survey:
        if q["type"] not in ("end_group", "end_repeat"):
            assert f"/{q['name']}" in result.xform, q["name"]


@pytest.mark.parametrize(
    ("name", "list_name", "model", "field"),
    [
        ("accident_report", "victim_status", Victim, "victim_status"),
        ("accident_report", "outcome", Victim, "outcome"),
        ("accident_report", "sex", Victim, "sex"),
        ("accident_report", "activity_at_time", Victim, "activity_at_time"),
        ("accident_report", "device_type", Accident, "device_type"),
        ("hazard_report", "hazard_class", HazardArea, "classification"),
        ("hazard_report", "contamination", HazardArea, "contamination"),
        ("eo_find", "eo_type", EOItem, "eo_type"),
        ("eo_find", "how_found", EOItem, "how_found"),
    ],
)
def test_choice_lists_in_the_workbook_are_exactly_the_model_vocabulary(form_dir, name, list_name, model, field):
    wb = load_workbook(form_dir / f"{name}.xlsx")
    names = {r[1] for r in wb["choices"].iter_rows(min_row=2, values_only=True) if r[0] == list_name}
    annotation = model.model_fields[field].annotation
    enum = next(a for a in (annotation, *getattr(annotation, "__args__", ())) if isinstance(a, type))
    assert enum is CHOICE_LISTS[list_name]
    assert names == {m.value for m in enum}
    survey = [r for r in wb["survey"].iter_rows(min_row=2, values_only=True)]
    assert any(r[0] == f"select_one {list_name}" for r in survey)


def test_accident_form_has_a_victims_repeat_with_restricted_names_only_when_known(form_dir):
    rows = list(load_workbook(form_dir / "accident_report.xlsx")["survey"].iter_rows(min_row=2, values_only=True))
    names = [r[1] for r in rows]
    start, end = names.index("victims"), len(names) - 1 - names[::-1].index("victims")
    assert rows[start][0] == "begin_repeat" and rows[end][0] == "end_repeat"
    assert {"victim_status", "outcome", "sex", "age", "activity_at_time", "full_name"} <= set(names[start:end])
    assert rows[names.index("full_name")][4] == "${name_known} = 'yes'"


def test_forms_export_cli(tmp_path):
    res = invoke_cli("forms", "export", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "accident_report.xlsx",
        "assistance_followup.xlsx",
        "eo_find.xlsx",
        "hazard_report.xlsx",
    ]


# -- submissions ----------------------------------------------------------------------------


def kobo_xlsx(path: Path) -> Path:
    """Kobo's XLSX export of the sample: the main sheet and a 'victims' sheet joined by _index/_parent_index."""
    wb = Workbook()
    for i, (name, src) in enumerate(
        [("safeground_accident_report", "accident_kobo.csv"), ("victims", "accident_kobo-victims.csv")]
    ):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name
        for row in csv.reader((DATA / src).read_text().splitlines(), delimiter=";"):
            ws.append([int(x) if x.isdigit() and len(x) < 4 else x for x in row])
    wb.save(path)
    return path


def test_accident_reports_from_kobo_json_with_victims_and_restricted_identities(store):
    plan = import_submissions(store, "accident_report", [DATA / "accident_kobo.json"])
    assert plan.summary() == {
        "accidents": {"create": 2, "update": 0},
        "victims": {"create": 3, "update": 0},
        "victim_identities": {"create": 1, "update": 0},
    }
    acc = store.get(Accident, f"ACC-{ACC1}")
    assert acc.geometry.equals_exact(shapely.Point(47.13377, 39.61842), 1e-9)  # "lat lon alt acc", lat first
    assert acc.accident_date.isoformat() == "2021-03-12" and acc.entered_by == "form:anama_nts_team3"
    v1, v2 = store.get(Victim, f"VIC-{ACC1}-1"), store.get(Victim, f"VIC-{ACC1}-2")
    assert (v1.outcome.value, v1.age, v2.outcome.value, v2.age) == ("killed", 54, "injured", 17)
    assert v2.is_child and v1.accident_uid == acc.uid
    ident = store.get(VictimIdentity, f"VID-{ACC1}-1")
    assert ident.full_name == "Elchin Mammadov" and ident.victim_uid == v1.uid
    assert store.count(VictimIdentity) == 1  # the second victim's name was not known


@pytest.mark.parametrize(
    "files",
    [
        ["accident_kobo.json"],
        ["accident_kobo.csv", "accident_kobo-victims.csv"],
        ["accident_central.csv", "accident_central-victims.csv"],
        ["kobo.xlsx"],
    ],
)
def test_the_same_submissions_in_every_export_format_give_the_same_records(store, files, tmp_path):
    import_submissions(store, "accident_report", [DATA / "accident_kobo.json"])
    before = {cls: store.count(cls) for cls in (Accident, Victim, VictimIdentity)}
    paths = [kobo_xlsx(tmp_path / f) if f.endswith("xlsx") else DATA / f for f in files]
    plan = import_submissions(store, "accident_report", paths)
    assert plan.create == [] and plan.update == [] and plan.notes == []
    assert len(plan.unchanged) == 6  # 2 accidents, 3 victims, 1 identity: same values, not duplicated
    assert {cls: store.count(cls) for cls in (Accident, Victim, VictimIdentity)} == before


def test_a_newer_submission_updates_and_an_older_conflicting_one_is_reported(store, tmp_path):
    import_submissions(store, "accident_report", [DATA / "accident_kobo.json"])
    data = json.loads((DATA / "accident_kobo.json").read_text())
    data["results"][0]["report_date"] = "2021-03-20"
    data["results"][0]["accident/device_type"] = "improvised_mine"  # the EOD report came in
    (tmp_path / "newer.json").write_text(json.dumps(data))
    plan = import_submissions(store, "accident_report", [tmp_path / "newer.json"])
    assert {r.uid for r, _ in plan.update} >= {f"ACC-{ACC1}"}
    history = store.history(Accident, f"ACC-{ACC1}")
    assert [h.device_type.value for h in history] == ["antipersonnel_mine", "improvised_mine"]
    assert store.count(Accident) == 2
    again = import_submissions(store, "accident_report", [tmp_path / "newer.json"])  # the same newer export again
    assert again.update == [] and again.notes == [] and len(again.unchanged) == 6
    # the old export again: older information is reported, not applied and not silently dropped
    plan = import_submissions(store, "accident_report", [DATA / "accident_kobo.json"])
    assert plan.update == [] and any(f"ACC-{ACC1}" in n and "not changed" in n for n in plan.notes)
    assert store.get(Accident, f"ACC-{ACC1}").device_type.value == "improvised_mine"


def test_hazard_reports_polygon_and_walked_line_with_width(store):
    import_submissions(store, "hazard_report", [DATA / "hazard_kobo.csv"])
    orchard = store.get(HazardArea, "HA-c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5")
    assert orchard.classification.value == "suspected_hazardous_area" and orchard.priority == 2
    assert orchard.evidence[0].source == "Shepherd (informant) R. Aliyev"
    assert orchard.evidence[0].reference == "submission c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5"
    assert 40_000 < orchard.estimated_area_m2 < 60_000  # about 250 m × 190 m
    canal = store.get(HazardArea, "HA-d2e3f4a5-b6c7-4d8e-9fa0-b1c2d3e4f5a6")
    line = parse_odk_geometry(
        "39.6101 47.1610 290.0 4.0;39.6132 47.1622 291.0 4.0;39.6170 47.1641 292.5 3.9", "geotrace"
    )

    metres = project(line, 4326, metric_epsg_for(line)).length
    assert canal.estimated_area_m2 == pytest.approx(metres * 20.0, rel=0.01)  # a 20 m strip along the walked line
    assert canal.geometry.contains(shapely.Point(47.1622, 39.6132))


def test_eo_finds_from_kobo_json(store):
    import_submissions(store, "eo_find", [DATA / "eo_find_kobo.json"])
    items = {i.uid: i for i in store.find(EOItem)}
    m77 = items["EO-e3f4a5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7"]
    assert (m77.status.value, m77.eo_type.value, m77.how_found.value, m77.depth_cm) == (
        "found",
        "submunition",
        "eod_call_out",
        0.0,
    )
    pmn = items["EO-f4a5b6c7-d8e9-4fa0-b1c2-d3e4f5a6b7c8"]
    assert pmn.hazard_area_uid == "CHA-00012" and pmn.depth_cm == 4.5


@pytest.mark.parametrize(
    ("form", "files", "expected"),
    [
        (
            "accident_report",
            ["accident_bad.json"],
            [
                "submission 1a2b3c4d-0000-4000-8000-000000000001, field 'device_type': not one of the form's choices",
                "submission 1a2b3c4d-0000-4000-8000-000000000001, field 'accident_date': after the report date",
                "submission 1a2b3c4d-0000-4000-8000-000000000001, victim 1, field 'sex'",
                "victim 1, field 'age': not a whole number (value: 'twelve')",
                "submission 1a2b3c4d-0000-4000-8000-000000000002, field 'report_date': not a date",
                "field 'location': missing: a GPS geopoint is required",
                "field 'victims': an accident report needs at least one victim",
                "entry 3, field '_uuid/instanceID': no submission identifier",
                "entry 3, victim 1, field 'age': Input should be less than or equal to 120",
            ],
        ),
        ("eo_find", ["eo_find_truncated.json"], ["eo_find_truncated.json, line 10, field '-': not JSON (truncated?)"]),
        (
            "hazard_report",
            ["hazard_bad.csv"],
            [
                "field 'area': the area crosses itself",
                "field 'priority': not a whole number (value: 'high')",
                "a confirmed hazardous area needs at least one item of direct evidence",
                "field 'hazard_line': a geotrace needs at least 2 points",
                "field 'line_width_m': a positive width is needed",
            ],
        ),
        (
            "accident_report",
            ["accident_kobo.csv", "accident_orphan-victims.csv"],
            ["accident_orphan-victims.csv, row 2, field '_parent_index/PARENT_KEY': no such submission (value: '7')"],
        ),
    ],
)
def test_malformed_exports_list_every_problem_and_store_nothing(store, form, files, expected):
    with pytest.raises(InvalidInput) as exc:
        import_submissions(store, form, [DATA / f for f in files])
    text = str(exc.value)
    for needle in expected:
        assert needle in text
    assert len(exc.value.problems) == len(expected)
    assert all(n == 0 for n in store.counts().values())


def test_swapped_lat_lon_is_caught_against_the_area_of_interest(store, tmp_path):
    store.set_meta("area_of_interest", json.dumps([46.9, 39.4, 47.4, 39.9]))
    data = json.loads((DATA / "eo_find_kobo.json").read_text())
    data["results"][1]["location"] = "47.13877 39.61005 306 4"  # lon lat: a phone app that writes x y
    (tmp_path / "swapped.json").write_text(json.dumps(data))
    with pytest.raises(InvalidInput, match=r"latitude and longitude swapped\?"):
        import_submissions(store, "eo_find", [tmp_path / "swapped.json"])
    assert store.count(EOItem) == 0
    import_submissions(store, "eo_find", [DATA / "eo_find_kobo.json"])
    assert store.count(EOItem) == 2


def test_one_main_file_and_known_repeats_are_required():
    definition = form_definition("accident_report")
    with pytest.raises(InvalidInput, match="give one main export"):
        read_exports(definition, [DATA / "accident_kobo.csv", DATA / "accident_central.csv"])


def test_cli_import_dry_run_then_real_then_again(store, tmp_path):
    args = [
        "forms",
        "import",
        "accident_report",
        str(DATA / "accident_central.csv"),
        str(DATA / "accident_central-victims.csv"),
        "--store",
        store.test_url,
    ]
    res = invoke_cli(*args, "--dry-run")
    assert res.returncode == 0, res.stderr + res.stdout
    assert f"would create victim_identities VID-{ACC1}-1" in res.stdout and "nothing was written" in res.stdout
    assert store.count(Accident) == 0
    res = invoke_cli(*args)
    assert res.returncode == 0, res.stderr + res.stdout
    assert store.count(Accident) == 2 and store.count(Victim) == 3
    res = invoke_cli(*args)
    assert "6 record(s) already stored and unchanged: not duplicated" in res.stdout
    assert store.count(Victim) == 3
    bad = invoke_cli(
        "forms",
        "import",
        "hazard_report",
        str(DATA / "hazard_bad.csv"),
        "--store",
        store.test_url,
        "--problems",
        str(tmp_path / "p.csv"),
    )
    assert bad.returncode == 2 and "5 problems found; nothing was stored" in bad.stderr
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert len(rows) == 5 and rows[1]["field"] == "priority" and rows[1]["value"] == "high"
    assert store.count(HazardArea) == 0


def test_submissions_rejected_by_a_reviewer_are_skipped_and_said_so(store, tmp_path):
    central = (DATA / "accident_central.csv").read_text().splitlines()
    header = central[0].split(",")
    row = next(csv.reader([central[2]]))
    row[header.index("ReviewState")] = "rejected"
    out = [central[0], central[1], ",".join(f'"{v}"' for v in row)]
    (tmp_path / "central.csv").write_text("\n".join(out) + "\n")
    (tmp_path / "central-victims.csv").write_text((DATA / "accident_central-victims.csv").read_text())
    plan = import_submissions(store, "accident_report", [tmp_path / "central.csv", tmp_path / "central-victims.csv"])
    assert store.count(Accident) == 1 and store.count(Victim) == 2
    assert plan.notes == [
        "central.csv, submission 7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d: skipped, rejected in ODK Central (ReviewState)"
    ]
    data = json.loads((DATA / "eo_find_kobo.json").read_text())
    data["results"][0]["_validation_status"] = {"uid": "validation_status_not_approved", "label": "Not Approved"}
    (tmp_path / "eo.json").write_text(json.dumps(data))
    plan = import_submissions(store, "eo_find", [tmp_path / "eo.json"])
    assert store.count(EOItem) == 1 and "not approved in KoboToolbox" in plan.notes[0]


def test_odk_central_odata_json_with_geojson_points(store):
    plan = import_submissions(store, "eo_find", [DATA / "eo_find_central_odata.json"])
    (item,) = list(store.find(EOItem))
    assert item.uid == "EO-0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9" and item.eo_model == "122 mm rocket (9M22)"
    assert item.geometry.equals_exact(shapely.Point(47.13012, 39.61544), 1e-9) and not item.geometry.has_z
    assert "rejected in ODK Central" in plan.notes[0] and "1c2d3e4f" in plan.notes[0]


def test_odk_central_half_given_position_is_an_error_not_latitude_zero(store, tmp_path):
    lines = (DATA / "accident_central.csv").read_text().splitlines()
    (tmp_path / "c.csv").write_text("\n".join([lines[0], lines[1].replace(",47.13377,", ",,")]) + "\n")
    (tmp_path / "c-victims.csv").write_text(
        "\n".join((DATA / "accident_central-victims.csv").read_text().splitlines()[:3])
    )
    with pytest.raises(InvalidInput) as exc:
        import_submissions(store, "accident_report", [tmp_path / "c.csv", tmp_path / "c-victims.csv"])
    assert f"submission {ACC1}, field 'location': a GPS point must be numbers" in str(exc.value)
    assert store.count(Accident) == 0 and store.count(Victim) == 0


def test_cli_refuses_a_mistyped_store_path_instead_of_creating_it(tmp_path):
    res = invoke_cli(
        "forms", "import", "eo_find", str(DATA / "eo_find_kobo.json"), "--store", str(tmp_path / "typo.gpkg")
    )
    assert res.returncode == 2 and "no SafeGround store at" in res.stderr and "--new" in res.stderr
    assert not (tmp_path / "typo.gpkg").exists()
    res = invoke_cli(
        "forms", "import", "eo_find", str(DATA / "eo_find_kobo.json"), "--store", str(tmp_path / "n.gpkg"), "--new"
    )
    assert res.returncode == 0, res.stderr
    assert "created eo_items EO-e3f4a5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7" in res.stdout


def test_odk_central_zip_export(store, tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "safeground_accident_report.zip", "w") as z:
        z.write(DATA / "accident_central.csv", "safeground_accident_report.csv")
        z.write(DATA / "accident_central-victims.csv", "safeground_accident_report-victims.csv")
        z.writestr("media/photo.jpg", b"\xff\xd8")
    import_submissions(store, "accident_report", [tmp_path / "safeground_accident_report.zip"])
    assert store.count(Accident) == 2 and store.count(Victim) == 3 and store.count(VictimIdentity) == 1
    (tmp_path / "trunc.zip").write_bytes((tmp_path / "safeground_accident_report.zip").read_bytes()[:200])
    with pytest.raises(InvalidInput, match="not a readable zip export"):
        import_submissions(store, "accident_report", [tmp_path / "trunc.zip"])


def _answer(q: dict[str, str], form) -> object:
    """A valid answer to one question of the form, as ODK Collect would send it."""
    kind = q["type"].split()[0]
    if kind == "select_one":
        choices = [c["name"] for c in form.choices() if c["list_name"] == q["type"].split()[1]]
        wanted = {"classification": "suspected_hazardous_area", "area_kind": "polygon", "name_known": "yes"}
        return wanted.get(q["name"], choices[0])
    if kind == "select_multiple":  # one choice, space-separated as ODK sends several
        return next(c["name"] for c in form.choices() if c["list_name"] == q["type"].split()[1])
    if q["name"] in ("service_uid", "victim_uid"):  # identifiers the form's constraint holds to the uid pattern
        return {"service_uid": "VAS-00001", "victim_uid": "VIC-00001"}[q["name"]]
    return {
        "date": "2021-05-01",
        "integer": "3",
        "decimal": "12.5",
        "text": f"{q['name']} text",
        "geopoint": "39.6101 47.1610 290.0 4.0",
        "geotrace": "39.6101 47.1610 0 4;39.6132 47.1622 0 4",
        "geoshape": "39.6221 47.1502 0 5;39.6221 47.1531 0 5;39.6204 47.1533 0 5;39.6221 47.1502 0 5",
    }.get(kind)


@pytest.mark.parametrize("name", list(FORMS))
def test_a_submission_answering_every_question_of_the_form_imports(store, tmp_path, name):
    """The forms and the importer agree: every field name and choice the phone can send is understood."""
    form = FORMS[name]
    sub: dict[str, object] = {"_uuid": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", "_submitted_by": "tester"}
    group, victim = [], {}
    for q in form.survey:
        if q["type"] in ("begin_group", "begin_repeat"):
            group.append(q["name"])
        elif q["type"] in ("end_group", "end_repeat"):
            group.pop()
        elif (value := _answer(q, form)) is not None:
            key = "/".join([*group, q["name"]])
            (victim if group[:1] == ["victims"] else sub)[key] = value
    if victim:
        sub["victims"] = [victim, victim]
    (tmp_path / "one.json").write_text(json.dumps({"results": [sub]}))
    plan = import_submissions(store, name, [tmp_path / "one.json"])
    layers = {r.LAYER for r in plan.create}
    expected = {
        "hazard_report": {"hazard_areas"},
        "accident_report": {"accidents", "victims", "victim_identities"},
        "eo_find": {"eo_items"},
        "assistance_followup": {"assistance_services", "assistance_assessments"},
    }[name]
    assert layers == expected
    if name == "accident_report":
        assert store.count(Victim) == 2 and store.get(Victim, "VIC-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-2").age == 3


# -- stable identities: victims, edited submissions, the wrong form ----------------------------


def test_eo_find_hint_gives_a_hazard_area_id_as_the_store_writes_them():
    label = next(q["label"] for q in FORMS["eo_find"].survey if q["name"] == "hazard_area_uid")
    example = re.search(r"e\.g\. ([A-Za-z]+)-\d+", label)
    assert example and example.group(1) == HazardArea.UID_PREFIX


def test_each_victim_carries_a_stable_hidden_id(form_dir):
    rows = list(load_workbook(form_dir / "accident_report.xlsx")["survey"].iter_rows(min_row=1, values_only=True))
    header, rows = rows[0], rows[1:]
    names = [r[1] for r in rows]
    start, end = names.index("victims"), len(names) - 1 - names[::-1].index("victims")
    row = dict(zip(header, rows[names.index("victim_id")], strict=True))
    assert start < names.index("victim_id") < end
    assert (row["type"], row["calculation"]) == ("calculate", "once(uuid())")


VA, VB = "3c1d0e9f-8a7b-4c6d-9e5f-4a3b2c1d0e9f", "a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c6d"


def _kobo_victims(tmp_path: Path, name: str, victims: list[int], *, ids: bool, report_date: str) -> Path:
    """The first sample accident with a choice of its two victims (1: named, 2: not), with or without victim_id."""
    data = json.loads((DATA / "accident_kobo.json").read_text())
    sub = data["results"][0]
    both = sub["victims"]
    if ids:
        both[0]["victims/victim_id"], both[1]["victims/victim_id"] = VA, VB
    sub["victims"] = [both[i - 1] for i in victims]
    sub["report_date"] = report_date
    data["results"] = [sub]
    (tmp_path / name).write_text(json.dumps(data))
    return tmp_path / name


def test_victims_keyed_by_their_victim_id_survive_the_removal_of_another_victim(store, tmp_path):
    import_submissions(
        store, "accident_report", [_kobo_victims(tmp_path, "a.json", [1, 2], ids=True, report_date="2021-03-14")]
    )
    va, vb = f"VIC-{ACC1}-{VA[:8]}", f"VIC-{ACC1}-{VB[:8]}"
    assert {v.uid for v in store.find(Victim)} == {va, vb}
    assert store.get(VictimIdentity, f"VID-{ACC1}-{VA[:8]}").victim_uid == va
    # the named victim 1 was a mistake, deleted in Kobo: the newer version has only the (unnamed) second victim
    plan = import_submissions(
        store, "accident_report", [_kobo_victims(tmp_path, "b.json", [2], ids=True, report_date="2021-03-20")]
    )
    assert {r.uid for r, _ in plan.update} == {f"ACC-{ACC1}", vb}
    assert (store.get(Victim, vb).age, store.get(Victim, va).age) == (17, 54)  # nobody took anybody's data
    assert store.get(VictimIdentity, f"VID-{ACC1}-{VA[:8]}").victim_uid == va  # the name stays on its own victim
    stale = [n for n in plan.notes if va in n]
    assert len(stale) == 1 and f"submission {ACC1}" in stale[0] and "not in this version" in stale[0]
    assert f"VID-{ACC1}-{VA[:8]}" in stale[0]


def test_victims_matched_by_position_are_not_silently_remapped_when_their_number_changes(store, tmp_path):
    import_submissions(
        store, "accident_report", [_kobo_victims(tmp_path, "a.json", [1, 2], ids=False, report_date="2021-03-14")]
    )
    newer = _kobo_victims(tmp_path, "b.json", [2], ids=False, report_date="2021-03-20")
    with pytest.raises(InvalidInput) as exc:
        import_submissions(store, "accident_report", [newer])
    (problem,) = exc.value.problems
    assert (problem.source, problem.item, problem.field) == ("b.json", f"submission {ACC1}", "victims")
    assert "the stored version had 2 victims" in problem.reason and "this one has 1" in problem.reason
    assert f"VIC-{ACC1}-1" in problem.reason and f"VIC-{ACC1}-2" in problem.reason
    assert "by position" in problem.reason
    v1 = store.get(Victim, f"VIC-{ACC1}-1")
    assert (v1.age, v1.version) == (54, 1) and store.get(VictimIdentity, f"VID-{ACC1}-1").victim_uid == v1.uid


def test_two_victims_with_the_same_victim_id_are_a_problem(store, tmp_path):
    path = _kobo_victims(tmp_path, "a.json", [1, 2], ids=True, report_date="2021-03-14")
    data = json.loads(path.read_text())
    data["results"][0]["victims"][1]["victims/victim_id"] = VA
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput, match=r"victim 2, field 'victim_id': the same victim_id as victim 1"):
        import_submissions(store, "accident_report", [path])


EDIT1, EDIT2 = "e1e1e1e1-0000-4000-8000-000000000001", "e2e2e2e2-0000-4000-8000-000000000002"


def _edit(tmp_path: Path, name: str, instance: str, deprecated: str, report_date: str, device: str, **extra) -> Path:
    """The first sample accident as Kobo exports it after an edit: a new _uuid, and the previous one as deprecatedID."""
    data = json.loads((DATA / "accident_kobo.json").read_text())
    sub = data["results"][0]
    sub.update({"_uuid": instance, "meta/instanceID": f"uuid:{instance}", "meta/deprecatedID": f"uuid:{deprecated}"})
    sub.update({"report_date": report_date, "accident/device_type": device, **extra})
    data["results"] = [sub]
    (tmp_path / name).write_text(json.dumps(data))
    return tmp_path / name


def test_an_edited_kobo_submission_updates_its_record_through_a_chain_of_edits(store, tmp_path):
    import_submissions(store, "accident_report", [DATA / "accident_kobo.json"])
    edit1 = _edit(tmp_path, "e1.json", EDIT1, ACC1, "2021-03-20", "improvised_mine")
    dry = import_submissions(store, "accident_report", [edit1], dry_run=True)
    assert {r.uid for r, _ in dry.update} == {f"ACC-{ACC1}", f"VIC-{ACC1}-1", f"VIC-{ACC1}-2", f"VID-{ACC1}-1"}
    assert dry.create == [] and store.get_meta(f"form_instance:{EDIT1}") is None  # a dry run writes nothing
    import_submissions(store, "accident_report", [edit1])
    assert store.count(Accident) == 2 and store.count(Victim) == 3  # not duplicated as ACC-<edit 1>
    assert store.get(Accident, f"ACC-{ACC1}").device_type.value == "improvised_mine"
    # edit 2 names only edit 1 (its deprecatedID), not the original: the stored mapping finds the record
    edit2 = _edit(tmp_path, "e2.json", EDIT2, EDIT1, "2021-03-25", "antivehicle_mine")
    plan = import_submissions(store, "accident_report", [edit2])
    assert plan.create == [] and f"ACC-{ACC1}" in {r.uid for r, _ in plan.update}
    assert [h.device_type.value for h in store.history(Accident, f"ACC-{ACC1}")] == [
        "antipersonnel_mine",
        "improvised_mine",
        "antivehicle_mine",
    ]
    again = import_submissions(store, "accident_report", [edit2])  # the same export again: nothing new
    assert again.create == [] and again.update == [] and store.count(Accident) == 2


def test_an_edited_submission_in_kobo_csv_is_matched_by_its_deprecated_id(store, tmp_path):
    import_submissions(store, "accident_report", [DATA / "accident_kobo.json"])
    main = list(csv.reader((DATA / "accident_kobo.csv").read_text().splitlines(), delimiter=";"))
    header = [*main[0], "meta/deprecatedID"]
    row = main[1]
    row[header.index("_uuid")], row[header.index("meta/instanceID")] = EDIT1, f"uuid:{EDIT1}"
    row[header.index("report_date")], row[header.index("accident/device_type")] = "2021-03-20", "improvised_mine"
    with (tmp_path / "edit.csv").open("w", newline="") as f:
        csv.writer(f, delimiter=";").writerows([header, [*row, f"uuid:{ACC1}"]])
    victims = (DATA / "accident_kobo-victims.csv").read_text().replace(ACC1, EDIT1).splitlines()[:3]
    (tmp_path / "edit-victims.csv").write_text("\n".join(victims) + "\n")
    import_submissions(store, "accident_report", [tmp_path / "edit.csv", tmp_path / "edit-victims.csv"])
    assert store.count(Accident) == 2 and store.count(Victim) == 3
    assert store.get(Accident, f"ACC-{ACC1}").device_type.value == "improvised_mine"


def test_an_edited_odk_central_submission_keeps_its_key(store, tmp_path):
    """Central's KEY (and OData __id) is the first instanceID of the submission; meta-instanceID is the edit's."""
    import_submissions(store, "accident_report", [DATA / "accident_kobo.json"])
    lines = (DATA / "accident_central.csv").read_text().splitlines()
    header = lines[0] + ",meta-deprecatedID"
    edited = lines[1].replace("2021-03-14,2021-03-14,2021-03-12", "2021-03-14,2021-03-20,2021-03-12")
    edited = edited.replace(f"Family visit to graves,uuid:{ACC1}", f"Family visit to graves,uuid:{EDIT1}")
    (tmp_path / "c.csv").write_text("\n".join([header, edited + f",uuid:{ACC1}"]) + "\n")
    (tmp_path / "c-victims.csv").write_text(
        "\n".join((DATA / "accident_central-victims.csv").read_text().splitlines()[:3]) + "\n"
    )
    plan = import_submissions(store, "accident_report", [tmp_path / "c.csv", tmp_path / "c-victims.csv"])
    assert plan.create == [] and f"ACC-{ACC1}" in {r.uid for r, _ in plan.update}
    assert store.count(Accident) == 2


def test_root_uuid_wins_over_deprecated_id(store, tmp_path):
    import_submissions(store, "accident_report", [DATA / "accident_kobo.json"])
    root = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"  # the second sample accident, deliberately
    path = _edit(tmp_path, "e.json", EDIT1, ACC1, "2021-04-05", "improvised_mine", **{"meta/rootUuid": f"uuid:{root}"})
    data = json.loads(path.read_text())
    data["results"][0]["accident/accident_date"] = "2021-04-01"
    data["results"][0]["victims"] = data["results"][0]["victims"][1:]  # the second sample has one victim
    path.write_text(json.dumps(data))
    plan = import_submissions(store, "accident_report", [path])
    assert f"ACC-{root}" in {r.uid for r, _ in plan.update} and f"ACC-{ACC1}" not in {r.uid for r, _ in plan.update}


def test_the_export_of_another_form_is_named_instead_of_listing_every_missing_field(store):
    with pytest.raises(InvalidInput) as exc:
        import_submissions(store, "eo_find", [DATA / "accident_kobo.json"])
    (problem,) = exc.value.problems
    assert "safeground_accident_report" in problem.reason and "safeground_eo_find" in problem.reason
    assert "safeground forms import accident_report" in problem.reason
    with pytest.raises(InvalidInput) as exc:  # ODK Central CSV: no form id column, but the fields tell
        import_submissions(store, "hazard_report", [DATA / "accident_central.csv"])
    (problem,) = exc.value.problems
    assert "accident_report" in problem.reason and "hazard_report" in problem.reason
    assert store.count(Accident) == 0


def test_an_edit_of_a_submission_never_imported_is_imported_as_new_and_said_so(store, tmp_path):
    plan = import_submissions(
        store, "accident_report", [_edit(tmp_path, "e.json", EDIT1, ACC1, "2021-03-20", "other_erw")]
    )
    assert {r.uid for r in plan.create if isinstance(r, Accident)} == {f"ACC-{EDIT1}"}
    assert any(f"an edit of instance {ACC1}, which was never imported" in n for n in plan.notes)
