"""The application layer's services for stores, imports, forms, the district and returnees, called without the CLI.

What the command line promises must hold for any caller (a server, a script): a dry run writes
nothing anywhere, a refused file still leaves its problems report in one column order, a store
with real data is never replaced, and the route a service returns is the one ``route`` prints.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

from safeground.access import Audience
from safeground.errors import InvalidInput, SafeGroundError
from safeground.outputs import OutputRefused
from safeground.services import district, forms, imports, returnees, store_admin
from safeground.storage import open_store
from tests.conftest import PG_URL, postgis_problem, run_cli

DATA = Path(__file__).parent / "data"
EO_CSV = DATA / "intake" / "eo_finds_dd.csv"
AREA = "44.8,38.4,50.4,41.9"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_dry_run_into_a_new_store_leaves_no_file(tmp_path: Path):
    target = tmp_path / "new.gpkg"
    done = imports.import_file(str(target), "eo_items", EO_CSV, new=True, dry_run=True)
    assert done.report.counts["create"] == 3 and done.report.dry_run
    assert list(tmp_path.iterdir()) == []  # no store, no -wal/-shm, no scratch copy


def test_a_dry_run_on_an_existing_store_leaves_its_bytes_and_writes_no_journal(tmp_path: Path):
    made = store_admin.create_store(str(tmp_path / "c.gpkg"), "46.5,39.3,47.5,40.0")
    assert made.epsg == 32638
    path = tmp_path / "c.gpkg"
    before = _digest(path)
    done = imports.import_file(str(path), "eo_items", EO_CSV, dry_run=True)
    assert done.report.counts["create"] == 3
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.gpkg"]
    with open_store(str(path), readonly=True) as s:
        assert sum(s.counts().values()) == 0
    real = imports.import_file(str(path), "eo_items", EO_CSV)
    assert real.report.counts["create"] == 3 and _digest(path) != before


def test_a_dry_run_into_a_new_postgis_schema_creates_no_schema():
    if postgis_problem():
        pytest.skip(f"PostGIS tests did NOT run: {postgis_problem()}")
    schema = "t_" + uuid.uuid4().hex[:12]
    url = f"{PG_URL}?schema={schema}"
    done = imports.import_file(url, "eo_items", EO_CSV, dry_run=True)
    assert done.report.counts["create"] == 3
    assert not store_admin.store_exists(url)
    import sqlalchemy

    eng = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.connect() as c:
        found = c.execute(
            sqlalchemy.text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"), {"s": schema}
        ).scalar()
    eng.dispose()
    assert found == 0


def test_a_mistyped_store_is_never_created(tmp_path: Path):
    with pytest.raises(SafeGroundError, match="no SafeGround store"):
        imports.import_file(str(tmp_path / "typo.gpkg"), "eo_items", EO_CSV)
    with pytest.raises(SafeGroundError, match="no SafeGround store"):
        forms.import_form_files(str(tmp_path / "typo.gpkg"), "hazard_report", [DATA / "forms" / "hazard_kobo.csv"])
    assert list(tmp_path.iterdir()) == []


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def test_files_and_form_submissions_report_problems_in_one_column_order(tmp_path: Path):
    store = tmp_path / "s.gpkg"
    store_admin.create_store(str(store), "46.5,39.3,47.5,40.0")
    file_report, form_report = tmp_path / "file.csv", tmp_path / "form.csv"
    with pytest.raises(imports.ImportRefused) as refused:
        imports.import_file(str(store), "eo_items", DATA / "intake" / "eo_finds_bad_values.csv", report=file_report)
    assert refused.value.report == file_report
    with pytest.raises(InvalidInput) as bad_form:
        forms.import_form_files(str(store), "hazard_report", [DATA / "forms" / "hazard_bad.csv"], problems=form_report)
    assert _header(file_report) == _header(form_report) == ["file", "item", "field", "value", "reason"]
    rows = list(csv.DictReader(form_report.open(newline="", encoding="utf-8")))
    assert len(rows) == len(bad_form.value.problems) == 5
    assert rows[1]["field"] == "priority" and rows[1]["value"] == "high" and rows[1]["reason"] == "not a whole number"
    with open_store(str(store), readonly=True) as s:
        assert sum(s.counts().values()) == 0


def test_a_bad_option_is_refused_before_the_file_is_read_and_writes_no_report(tmp_path: Path):
    store = tmp_path / "s.gpkg"
    store_admin.create_store(str(store), "46.5,39.3,47.5,40.0")
    report = tmp_path / "r.csv"
    with pytest.raises(InvalidInput) as exc:
        imports.import_file(str(store), "eo_items", EO_CSV, report=report, quarantine=tmp_path / "q.txt")
    assert not isinstance(exc.value, imports.ImportRefused)
    assert not report.exists()


def test_the_area_of_interest_is_checked_against_what_is_stored(tmp_path: Path):
    store = str(tmp_path / "s.gpkg")
    store_admin.create_store(store, "46.5,39.3,47.5,40.0", name="Aghdam", language="az")
    imports.import_file(store, "eo_items", EO_CSV)
    with pytest.raises(SafeGroundError, match=re.escape("3 of the 3 stored records lie more than 0.5° outside")):
        store_admin.change_area(store, "39.3,46.5,40.0,47.5")  # latitude first: the usual mistake
    assert store_admin.show_area(store).area == "[46.5, 39.3, 47.5, 40.0]"
    done = store_admin.change_area(store, "46.0,39.0,48.0,40.5")
    assert (done.outside, done.total, done.epsg) == (0, 3, 32638)
    with pytest.raises(SafeGroundError, match="exists already"):
        store_admin.create_store(store, AREA)
    with pytest.raises(SafeGroundError, match="is not one of"):
        store_admin.create_store(str(tmp_path / "t.gpkg"), AREA, language="xx")
    assert not (tmp_path / "t.gpkg").exists()


def test_generate_reports_its_steps_and_never_replaces_real_data(tmp_path: Path):
    steps: list[str] = []
    target = tmp_path / "d.gpkg"
    district.generate_district(str(target), size_km=4, progress=steps.append)
    assert steps[-1] == "district written" and len(steps) > 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.gpkg"]  # the partial file and its journal are gone
    with pytest.raises(OutputRefused, match="already exists"):
        district.generate_district(str(target), size_km=4)
    real = tmp_path / "real.gpkg"
    store_admin.create_store(str(real), "46.5,39.3,47.5,40.0")
    imports.import_file(str(real), "eo_items", EO_CSV)
    before = _digest(real)
    with pytest.raises(OutputRefused, match="not generated"):
        district.generate_district(str(real), size_km=4, overwrite=True)
    assert _digest(real) == before


def test_the_route_service_returns_what_route_prints(small_store: Path, tmp_path: Path):
    with open_store(str(small_store), readonly=True) as s:
        from safeground.routing.places import Gazetteer

        gaz = Gazetteer.from_store(s)
        start = gaz.of_kind("checkpoint")[0].name
        end = gaz.of_kind("cemetery")[0].name
    out = tmp_path / "route.geojson"
    found = returnees.safe_route(str(small_store), start, end, out=out)
    res = run_cli("route", start, end, "--store", str(small_store))
    assert res.returncode == 0, res.stderr
    printed = " ".join(res.stdout.split())
    assert " ".join(found.answer.explanation.split()) in printed
    for what, d in found.answer.near_danger[:10]:
        assert f"passes {d:.0f} m from {what}" in printed
    if found.answer.path is not None:
        assert found.written == out
        written = json.loads(out.read_text())
        assert written == found.geojson()
        assert written["features"][0]["properties"]["explanation"] == found.answer.explanation
    else:
        assert found.written is None and not out.exists()


def test_a_place_is_a_name_or_lon_lat_and_swapped_numbers_are_refused(small_store: Path):
    with open_store(str(small_store), readonly=True) as s:
        assert returnees.place(s, "47.1,39.6") == (47.1, 39.6)
        with pytest.raises(SafeGroundError, match="not a longitude/latitude"):
            returnees.place(s, "39.6,147.1")
        with pytest.raises(SafeGroundError, match="no place named"):
            returnees.place(s, "Nowhere at all")


def test_check_answers_as_json_data_and_refuses_a_swapped_point(small_store: Path):
    checked = returnees.check_point(str(small_store), 47.15, 39.62, buffer=["mines=300"])
    data = checked.as_dict()
    assert data["level"] in ("danger", "caution", "no_known_hazard")
    assert data["buffers"]["antipersonnel_mines"] == 300
    res = run_cli("check", "47.15", "39.62", "--store", str(small_store), "--buffer", "mines=300", "--format", "json")
    assert json.loads(res.stdout) == json.loads(json.dumps(data))
    with pytest.raises(SafeGroundError, match="not a longitude/latitude"):
        returnees.check_point(str(small_store), 39.62, 147.15)


def test_an_export_applies_the_audience_it_is_given(small_store: Path, tmp_path: Path):
    public = imports.export_layer_file(
        str(small_store), "accidents", tmp_path / "pub.csv", fmt="csv", audience=Audience.PUBLIC
    )
    restricted = imports.export_layer_file(
        str(small_store), "accidents", tmp_path / "all.csv", fmt="csv", audience=Audience.RESTRICTED
    )
    assert public.aggregated and public.left_out
    assert not restricted.aggregated and not restricted.left_out
    with open_store(str(small_store), readonly=True) as s:
        from safeground.model import Accident

        assert restricted.written == s.count(Accident)
    assert public.written <= restricted.written


def test_the_demo_hands_over_its_summary_before_the_map_is_drawn(tmp_path: Path):
    seen: list[str] = []
    store, png = tmp_path / "demo.gpkg", tmp_path / "demo.png"

    def summary_ready(summary: object) -> None:
        seen.append("summary")
        assert not png.exists()

    made = district.demo_district(
        str(store), png, size_km=4, progress=lambda m: seen.append(m), summary_ready=summary_ready
    )
    assert seen.index("summary") < seen.index("drawing the district map")
    assert png.exists() and made.store_mb > 0 and made.summary.totals["hazard_areas"] > 0
    copy = tmp_path / "copy.gpkg"
    shutil.copy(store, copy)
    imports.import_file(str(copy), "eo_items", EO_CSV)
    with pytest.raises(OutputRefused, match="not generated"):
        district.demo_district(str(copy), tmp_path / "again.png", size_km=4)
    assert not (tmp_path / "again.png").exists()
