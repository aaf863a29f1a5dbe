"""The dashboards (issue 22): the same figures as the reports, small cells hidden for the public, cached by the
store's fingerprint until the data changes, served at /dashboards by a real uvicorn."""

from __future__ import annotations

import csv
import io
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from safeground.access import Audience
from safeground.casualties import statistics as cs
from safeground.landrelease import accounting as la
from safeground.model import HazardArea, Victim
from safeground.reports.accuracy_report import accuracy_report
from safeground.reports.document import MIN_CELL, suppress
from safeground.reports.land_release_report import PlanningInputs, land_release_report
from safeground.services.dashboards import DASHBOARDS, dashboard
from safeground.storage import open_store
from safeground.web.app import create_app
from safeground.web.settings import ServerSettings
from tests.web_server import serve_app

NAMES = ["casualties-by-month", "land-release-over-time", "remaining-area", "accuracy-by-source", "completion-forecast"]


@pytest.fixture(scope="module")
def demo(demo_district: Path):
    s = open_store(str(demo_district), create=False, readonly=True)
    yield s
    s.close()


def _table(d) -> pd.DataFrame:
    return pd.DataFrame(d.rows, columns=d.columns)


def test_the_dashboards_are_the_five_the_page_draws():
    assert list(DASHBOARDS) == NAMES


def test_casualties_by_month_are_the_casualty_reports_counts(demo):
    frame = cs.victims_frame(demo)
    monthly = cs.by_month(frame)
    exact = _table(dashboard(demo, "casualties-by-month", Audience.RESTRICTED)).set_index("month")
    assert list(exact.index) == list(monthly.index)
    for c in ("killed", "injured", "total"):
        assert exact[c].tolist() == monthly[c].astype(int).tolist()
    assert exact["total"].sum() == len(frame) > 0
    for group in (("civilian", "military", "deminer"), ("children", "adults", "age_unknown"),
                  ("female", "male", "sex_unknown")):  # fmt: skip
        assert (exact[list(group)].sum(axis=1) == exact["total"]).all(), group
    assert exact["civilian"].sum() == (frame["victim_status"] == "civilian").sum()
    assert exact["children"].sum() == (frame["age_group"] == "child").sum()

    public = _table(dashboard(demo, "casualties-by-month", Audience.PUBLIC)).set_index("month")
    report = suppress(monthly, Audience.PUBLIC)  # the report's table, as it prints it
    for c in ("killed", "injured", "total"):
        assert [str(v) for v in public[c]] == [v.replace(",", "") for v in report[c]]
    cells = public.to_numpy().ravel()
    assert not [v for v in cells if isinstance(v, int) and 0 < v < MIN_CELL], "a small count reached the public"
    assert "<5" in set(cells)
    # a partner reads aggregates as the public does
    assert (
        dashboard(demo, "casualties-by-month", Audience.PARTNER).rows
        == dashboard(demo, "casualties-by-month", Audience.PUBLIC).rows
    )


def test_land_release_and_remaining_area_are_the_land_release_reports(demo):
    rep = land_release_report(demo, Audience.PUBLIC, plan=PlanningInputs(simulations=1000))
    released = _table(dashboard(demo, "land-release-over-time")).set_index("month")
    monthly = la.by_month(la.activities_frame(demo))
    assert list(released.index) == list(monthly.index)
    for c in ("cancelled_m2", "reduced_m2", "cleared_m2", "items_found"):
        assert released[c].sum() == pytest.approx(rep.figures_checked[c], abs=1.0)
        assert (released[c] - monthly[c]).abs().max() <= 0.05
    remaining = _table(dashboard(demo, "remaining-area")).set_index("month")
    rem = la.remaining_by_month(la.hazard_versions(demo), list(monthly.index))
    assert remaining["open_areas"].tolist() == rem["open_areas"].tolist()
    assert (remaining["sha_remaining_m2"] - rem["sha_remaining_m2"].to_numpy()).abs().max() <= 0.05
    forecast = _table(dashboard(demo, "completion-forecast"))
    district = forecast.iloc[0]
    assert district["area"] == "all open areas"
    key = dict(rep.key_figures)
    assert key["all open areas released (P10–P90)"] == f"{district['p10']} – {district['p90']}"
    assert district["remaining_m2"] == pytest.approx(rep.figures_checked["remaining_m2"], abs=0.1)
    assert len(forecast) - 1 == rep.figures_checked["open_areas"]
    assert (forecast["p10"].iloc[1:] <= forecast["p90"].iloc[1:]).all()


def test_accuracy_by_source_is_the_map_accuracy_reports(demo):
    rep = accuracy_report(demo, Audience.PUBLIC)
    t = _table(dashboard(demo, "accuracy-by-source")).set_index("source")
    total = t.loc["all records"]
    assert total["records"] == rep.figures_checked["records"] > 0
    assert total["confirmed"] == rep.figures_checked["confirmed"]
    assert total["verified"] == rep.figures_checked["verified"]
    by = t.drop(index="all records")
    assert by["records"].sum() == total["records"]
    assert (by[["grade_A", "grade_B", "grade_C", "grade_U"]].sum(axis=1) == by["records"]).all()
    assert (by["precision_ci_low"] <= by["precision"]).all() and (by["precision"] <= by["precision_ci_high"]).all()


def test_a_repeated_request_is_the_cached_table_until_the_data_changes(small_store: Path, tmp_path: Path):
    path = tmp_path / "s.gpkg"
    shutil.copy(small_store, path)
    with open_store(str(path)) as s:
        first = dashboard(s, "remaining-area")
        assert dashboard(s, "remaining-area") is first  # nothing changed: the same object, nothing recomputed
        victims_fp = s.fingerprint([Victim])
        hz = next(h for h in s.find(HazardArea) if h.status.value != "closed" and h.remaining_area_m2 > 10)
        s.update(hz.model_copy(update={"remaining_area_m2": 1.0}), expected_version=hz.version)
        assert s.fingerprint([Victim]) == victims_fp  # another layer's change leaves it alone
        again = dashboard(s, "remaining-area")
        assert again is not first and again.fingerprint != first.fingerprint


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def test_the_server_answers_the_dashboards_contract(demo_district: Path):
    store = open_store(str(demo_district), create=False, readonly=True)
    try:
        app = create_app(ServerSettings(store=str(demo_district)), store)
        with serve_app(app) as url:
            status, body, _ = _get(f"{url}/dashboards")
            assert status == 200
            listed = json.loads(body)
            assert [d["name"] for d in listed] == NAMES
            assert all(set(d) == {"name", "title", "json", "csv"} for d in listed)
            for d in listed:
                status, body, headers = _get(url + d["json"])
                assert status == 200, body
                got = json.loads(body)
                assert set(got) == {"name", "title", "columns", "rows", "fingerprint", "generated"}
                assert got["name"] == d["name"] and got["title"] == d["title"]
                assert got["rows"] == json.loads(json.dumps(dashboard(store, d["name"], Audience.PUBLIC).rows))
                assert all(len(r) == len(got["columns"]) for r in got["rows"])
                status, text, _ = _get(url + d["csv"])
                assert status == 200
                rows = list(csv.reader(io.StringIO(text.decode())))
                assert rows[0] == got["columns"] and len(rows) == len(got["rows"]) + 1
                req = urllib.request.Request(url + d["json"], headers={"If-None-Match": headers["etag"]})
                with pytest.raises(urllib.error.HTTPError) as cached:
                    urllib.request.urlopen(req, timeout=60)
                assert cached.value.code == 304
            status, body, _ = _get(f"{url}/dashboards/nothing-here.json")
            assert status == 404
            assert set(json.loads(body)) >= {"code", "status", "message", "hint"}
    finally:
        store.close()
