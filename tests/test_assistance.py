"""Victim assistance: the figures against the records, the public and restricted reports (HTML, PDF, HXL),
the commands, the follow-up form, and the same on GeoPackage and PostGIS."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from pyxform.xls2xform import convert

from safeground.access import Audience
from safeground.access.policy import RestrictedLayer
from safeground.intake.forms import FORMS, export_forms
from safeground.model.assistance import AssistanceCategory, AssistanceService, AssistanceStatus
from safeground.people import assistance as va
from safeground.reports.assistance_report import assistance_report
from safeground.services import people as svc
from safeground.storage import open_store
from tests.conftest import invoke_cli
from tests.test_server import contextlib_for

DATA = Path(__file__).parent / "data" / "people"


def _sql(path: Path, q: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(q).fetchall()
    finally:
        con.close()


def test_the_figures_count_people_as_the_records_say(demo_district: Path) -> None:
    """Each headline figure recomputed from the tables with SQL, independently of the pandas code."""
    with open_store(str(demo_district), create=False, readonly=True) as s:
        frame = va.people_frame(s)
        f = va.figures(s, frame)
    injured = {r[0] for r in _sql(demo_district, "SELECT uid FROM victims WHERE outcome = 'injured'")}
    seen = {r[0] for r in _sql(demo_district, "SELECT victim_uid FROM assistance_services UNION "
                                              "SELECT victim_uid FROM assistance_assessments")}  # fmt: skip
    unmet = {r[0] for r in _sql(demo_district, "SELECT victim_uid FROM assistance_services "
                                               "WHERE status IN ('needed', 'referred', 'not_available')")}  # fmt: skip
    assert f.survivors == len(injured) > 20
    assert f.survivors_without_service == len(injured - seen) > 0  # partial assistance: some never seen
    assert f.survivors_assessed == len(injured & seen)
    assert f.people_with_unmet_need == len(unmet) > 0
    # time to the first assistance beyond emergency care, per survivor, in SQL
    rows = _sql(demo_district, "SELECT s.victim_uid, min(julianday(coalesce(s.started_on, s.completed_on)) - "
                "julianday(a.accident_date)) FROM assistance_services s JOIN victims v ON v.uid = s.victim_uid "
                "JOIN accidents a ON a.uid = v.accident_uid WHERE v.outcome = 'injured' AND "
                "s.category != 'emergency_medical_care' AND coalesce(s.started_on, s.completed_on) IS NOT NULL "
                "GROUP BY s.victim_uid")  # fmt: skip
    days = pd.Series([r[1] for r in rows])
    assert f.continuing.median_days == pytest.approx(days.median())
    assert f.continuing.helped == len(rows) < f.survivors_assessed  # some still wait
    assert f.first.median_days is not None and f.first.median_days <= 1  # emergency care: the same day


def test_unmet_needs_by_area_and_category_add_up(demo_district: Path) -> None:
    with open_store(str(demo_district), create=False, readonly=True) as s:
        frame = va.people_frame(s)
        by_area = va.unmet_by_area(s, frame)
        by_cat = va.by_category(s, frame)
        sex = va.by_disability(frame, "sex")
    n_unmet = _sql(demo_district, "SELECT count(*) FROM assistance_services WHERE status IN "
                                  "('needed', 'referred', 'not_available')")[0][0]  # fmt: skip
    assert int(by_area[[c.value for c in AssistanceCategory]].to_numpy().sum()) == n_unmet
    assert int(by_cat["unmet"].sum()) == n_unmet
    assert by_area["people with an unmet need"].sum() == int((frame["unmet_needs"] > 0).sum())
    surv = frame[frame["survivor"]]
    assert int(sex.loc[va.NOT_ASSESSED].sum()) == int((~surv["assessed"]).sum())


def test_public_report_suppresses_small_cells_and_names_nobody(demo_district: Path, tmp_path: Path) -> None:
    store = str(demo_district)
    pub = invoke_cli("report", "assistance", "--store", store, "--out", str(tmp_path / "pub"))
    res = invoke_cli("report", "assistance", "--store", store, "--out", str(tmp_path / "res"), "--audience",
                     "restricted", "--no-pdf")  # fmt: skip
    assert pub.returncode == 0 and res.returncode == 0, pub.stderr + res.stderr
    public = (tmp_path / "pub" / "assistance-public.html").read_text()
    restricted = (tmp_path / "res" / "assistance-restricted.html").read_text()
    names = {r[0] for r in _sql(demo_district, "SELECT full_name FROM victim_identities")}
    uids = {r[0] for r in _sql(demo_district, "SELECT victim_uid FROM assistance_services")}
    assert not [n for n in names if n in public] and not [u for u in uids if u in public]
    assert "&lt;5" in public and "People with unmet needs" not in public
    assert [n for n in names if n in restricted] and "People with unmet needs and follow-ups due" in restricted
    with open_store(store, create=False, readonly=True) as s:
        rep = assistance_report(s, Audience.PUBLIC)
    assert rep.figures_checked["survivors_without_service"] > 0
    # the PDF renders: its first page as a PNG (pdftoppm), not blank
    pdf = tmp_path / "pub" / "assistance-public.pdf"
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p-*.png"))
    from PIL import Image

    img = Image.open(png).convert("L")
    assert img.getextrema()[0] < 100  # ink on the page


def test_hxl_csv_is_in_the_hdx_set_with_small_counts_empty(demo_district: Path, tmp_path: Path) -> None:
    for aud in ("public", "restricted"):
        res = invoke_cli("export", "hdx", "--store", str(demo_district), "--out", str(tmp_path / aud), "--audience",
                         aud)  # fmt: skip
        assert res.returncode == 0, res.stderr
    rows = {}
    for aud in ("public", "restricted"):
        with (tmp_path / aud / "victim_assistance_by_area.csv").open(encoding="utf-8") as fh:
            rows[aud] = list(csv.reader(fh))
    head, tags = rows["public"][0], rows["public"][1]
    assert head[:2] == ["adm2_name", "category"] and tags[2:] == ["#affected+assessed", "#affected+reached",
                                                                   "#affected+unmet"]  # fmt: skip
    pub = [r[2:] for r in rows["public"][2:]]
    res = [r[2:] for r in rows["restricted"][2:]]
    assert len(pub) == len(res) > 5
    small = [(p, r) for pr, rr in zip(pub, res, strict=True) for p, r in zip(pr, rr, strict=True) if 0 < int(r) < 5]
    assert small and all(p == "" for p, _ in small)
    assert "victim_assistance_by_area.csv" in (tmp_path / "public" / "README.txt").read_text()


def test_the_commands_refuse_personal_records_without_the_restricted_flag(demo_copy: Path) -> None:
    store = str(demo_copy)
    bare = invoke_cli("assistance", "list", "--store", store)
    assert bare.returncode == 2 and "restricted" in bare.stderr and "VIC-" not in bare.stdout
    shown = invoke_cli("assistance", "list", "--store", store, "--include-restricted", "--unmet")
    assert shown.returncode == 0 and "VIC-" in shown.stdout
    stats = invoke_cli("assistance", "stats", "--store", store)
    assert stats.returncode == 0 and "without any assessed need or service" in stats.stdout


@pytest.fixture(params=["gpkg", "postgis"])
def va_store(request: pytest.FixtureRequest, demo_district: Path, tmp_path: Path) -> Iterator[str]:
    copy = tmp_path / "demo.gpkg"
    shutil.copy(demo_district, copy)
    with contextlib_for(request.param, copy) as location:
        yield location


def test_add_and_follow_up_keep_history_on_both_backends(va_store: str) -> None:
    loc = va_store
    with pytest.raises(RestrictedLayer):
        svc.list_services(loc, Audience.PUBLIC)
    before = svc.assistance_figures(loc)
    victim = svc.list_services(loc, Audience.RESTRICTED)["victim_uid"].iloc[0]
    rec = svc.add_service(loc, victim, category="employment_and_livelihood", status="needed",
                          needed_since=pd.Timestamp("2022-06-01").date(), by="VA focal point",
                          on=pd.Timestamp("2022-06-01").date())  # fmt: skip
    assert rec.status is AssistanceStatus.NEEDED
    after = svc.assistance_figures(loc)
    assert after.people_with_unmet_need >= before.people_with_unmet_need
    done = svc.follow_up(loc, rec.uid, by="VA focal point", status="receiving", on=pd.Timestamp("2022-09-01").date())
    assert done.version == 2 and done.started_on == pd.Timestamp("2022-09-01").date()
    with open_store(loc, create=False, readonly=True) as s:
        versions = s.history(AssistanceService, rec.uid)
    assert [v.status for v in versions] == [AssistanceStatus.NEEDED, AssistanceStatus.RECEIVING]
    with pytest.raises(Exception, match="unknown status"):
        svc.add_service(loc, victim, category="pension_or_allowance", status="maybe",
                        needed_since=pd.Timestamp("2022-06-01").date(), by="x")  # fmt: skip


def test_the_follow_up_form_is_a_valid_xlsform_and_imports_once(demo_copy: Path, tmp_path: Path) -> None:
    export_forms(tmp_path)
    warnings: list[str] = []
    xform = convert(str(tmp_path / "assistance_followup.xlsx"), warnings=warnings).xform
    assert warnings == [] and 'id="safeground_assistance_followup"' in xform
    assert "prosthetics_and_assistive_devices" in json.dumps(FORMS["assistance_followup"].choices())
    store = str(demo_copy)
    first = invoke_cli("forms", "import", "assistance_followup", str(DATA / "assistance_followup_kobo.json"),
                       "--store", store)  # fmt: skip
    assert first.returncode == 0, first.stderr + first.stdout
    assert "updated assistance_services VAS-00003" in first.stdout
    again = invoke_cli("forms", "import", "assistance_followup", str(DATA / "assistance_followup_kobo.json"),
                       "--store", store)  # fmt: skip
    assert again.returncode == 0 and "already stored and unchanged" in again.stdout
    with open_store(store, create=False, readonly=True) as s:
        hist = s.history(AssistanceService, "VAS-00003")
    assert hist[-1].status is AssistanceStatus.RECEIVED and hist[0].status is AssistanceStatus.NEEDED
    assert hist[-1].completed_on is not None and len(hist) == 2
