"""Evidence reports and HDX exports on the demo district: they render, their figures match the store,
and public editions never show a victim's name or an exact position."""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import shapely

from safeground.casualties import statistics as cs
from safeground.landrelease import accounting as la
from safeground.model import Accident, Activity, EOItem, FrontLine, HazardArea, Victim, VictimIdentity
from safeground.reports.document import Audience, suppress
from safeground.storage import open_store
from safeground.storage.base import metric_epsg
from tests.conftest import invoke_cli

KINDS = ["national", "casualties", "land-release", "map-accuracy"]


@pytest.fixture(scope="module")
def outputs(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every report (public), the restricted casualty report and both HDX exports, through the CLI."""
    out = tmp_path_factory.mktemp("reports")
    store = str(demo_dir / "demo.gpkg")
    for kind in KINDS:
        res = invoke_cli("report", kind, "--store", store, "--out", str(out), "--simulations", "200")
        assert res.returncode == 0, res.stderr + res.stdout
    res = invoke_cli("report", "casualties", "--store", store, "--out", str(out), "--audience", "restricted")
    assert res.returncode == 0, res.stderr
    for aud in ("public", "restricted"):
        res = invoke_cli("export", "hdx", "--store", store, "--out", str(out / f"hdx-{aud}"), "--audience", aud)
        assert res.returncode == 0, res.stderr
    return out


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("kind", KINDS)
def test_every_report_renders_a4_pages_that_are_not_blank(outputs, kind, tmp_path):
    pdf = outputs / f"{kind}-public.pdf"
    assert (outputs / f"{kind}-public.html").stat().st_size > 10_000
    subprocess.run(["pdftoppm", "-r", "30", "-gray", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p*.png"))
    assert len(pages) >= 1
    for page in pages:
        img = mpimg.imread(page)
        h, w = img.shape[:2]
        assert abs(w - 248) <= 1 and h == 351  # A4 at 30 dpi
        assert (img < 0.9).mean() > 0.01, f"{page.name} of {kind} is blank"
    text = _pdf_text(pdf)
    assert "Provenance" in text and "SHA-256" in text and "SafeGround" in text


def test_provenance_hash_is_the_content_of_the_data(outputs, demo_dir, tmp_path):
    """Same data → same hash; one changed record → another hash."""
    html = (outputs / "casualties-public.html").read_text()
    h1 = re.search(r'class="mono">([0-9a-f]{64})<', html).group(1)
    from safeground.reports.casualty_report import casualty_report

    copy = tmp_path / "copy.gpkg"
    copy.write_bytes((demo_dir / "demo.gpkg").read_bytes())
    with open_store(str(copy), create=False) as s:
        assert casualty_report(s).provenance.content_hash == h1
        v = next(s.find(Victim))
        s.update(v.model_copy(update={"version": v.version + 1, "age": (v.age or 30) + 1}), expected_version=v.version)
        assert casualty_report(s).provenance.content_hash != h1


def test_casualty_figures_match_counts_from_the_store(demo_store, outputs):
    vic = demo_store.read_frame(Victim)
    acc = demo_store.read_frame(Accident)
    frame = cs.victims_frame(demo_store)
    assert len(frame) == len(vic) > 0
    assert int((frame["outcome"] == "killed").sum()) == int((vic["outcome"] == "killed").sum())
    by_status = cs.by_category(frame, "victim_status")
    assert by_status.loc["civilian", "total"] == (vic["victim_status"] == "civilian").sum()
    assert by_status["total"].sum() == len(vic)
    assert cs.by_month(frame)["total"].sum() == len(vic)
    lm = cs.landmine_monitor_table(frame)
    assert lm["total"].sum() == len(vic) and lm["children"].sum() == (vic["age"] < 18).sum()
    # the share off the contact line, measured independently with shapely
    epsg = metric_epsg(demo_store)
    line = demo_store.read_frame(FrontLine).to_crs(epsg).geometry.union_all()
    d = np.array([line.distance(p) for p in acc.to_crs(epsg).geometry])
    share = cs.off_front_share(frame)
    assert share.accidents == len(acc) and share.off_contact_line == int((d > cs.CONTACT_ZONE_M).sum())
    # and the report prints them
    text = _pdf_text(outputs / "casualties-public.pdf")
    assert f"{share.off_contact_line} of {share.accidents} accidents" in text
    assert f"{len(vic)} people were killed or injured in {acc['uid'].nunique()} accidents" in text


def test_period_and_area_select_the_right_victims(demo_store):
    frame = cs.victims_frame(demo_store)
    sel = cs.Selection(start=pd.Timestamp("2021-01-01").date(), end=pd.Timestamp("2021-06-30").date())
    part = cs.victims_frame(demo_store, sel)
    dates = pd.to_datetime(frame["accident_date"])
    assert len(part) == int(((dates >= "2021-01-01") & (dates <= "2021-06-30")).sum()) > 0
    name = frame["settlement"].mode()[0] + " municipality"
    local = cs.victims_frame(demo_store, cs.Selection(admin_area=name))
    assert 0 < len(local) < len(frame)


def test_land_release_figures_match_the_store(demo_store, outputs):
    from safeground.reports.land_release_report import PlanningInputs, land_release_report

    acts = list(demo_store.find(Activity))
    rep = land_release_report(demo_store, plan=PlanningInputs(simulations=50))
    f = rep.figures_checked
    assert f["cleared_m2"] == pytest.approx(sum(a.area_cleared_m2 for a in acts))
    assert f["cancelled_m2"] == pytest.approx(sum(a.area_cancelled_m2 for a in acts))
    assert f["items_found"] == sum(a.items_found for a in acts)
    open_now = [h for h in demo_store.find(HazardArea) if h.status.value != "closed"]
    assert f["remaining_m2"] == pytest.approx(sum(h.remaining_area_m2 for h in open_now))
    assert f["open_areas"] == len(open_now)
    text = _pdf_text(outputs / "land-release-public.pdf")
    assert f"{f['cleared_m2'] / 1e6:,.2f} km²" in text
    # remaining area read from the history at an earlier date differs from today's
    versions = la.hazard_versions(demo_store)
    early = la.remaining_on(versions, pd.Timestamp("2021-01-31").date())
    assert len(early) < len(versions["uid"].unique())


def test_public_outputs_never_show_a_victim_name_or_an_exact_position(demo_store, outputs):
    names = [v.full_name for v in demo_store.find(VictimIdentity)]
    assert names
    points = []
    for cls in (Accident, EOItem):
        fr = demo_store.read_frame(cls)
        points.append(np.column_stack([fr.geometry.x, fr.geometry.y]))
    coords = np.vstack(points).ravel()
    texts: dict[str, str] = {}
    for kind in KINDS:
        texts[f"{kind}.html"] = (outputs / f"{kind}-public.html").read_text()
        texts[f"{kind}.pdf"] = _pdf_text(outputs / f"{kind}-public.pdf")
    for p in (outputs / "hdx-public").iterdir():
        texts[p.name] = p.read_text()
    assert len(texts) == 2 * len(KINDS) + 5  # the HDX set: 4 files and the victim assistance CSV

    def leaks(text: str) -> list[str]:
        found = [n for n in names if n in text]
        for num in re.findall(r"-?\d+\.\d{3,}", text):
            places = len(num.split(".")[1])
            if np.any(np.abs(coords - float(num)) <= 0.5 * 10.0**-places):
                found.append(num)
        return found

    for name, text in texts.items():
        assert leaks(text) == [], f"{name} leaks restricted data"
    # the check can fail: the restricted edition shows both
    restricted = (outputs / "casualties-restricted.html").read_text()
    assert any(n in restricted for n in names) and leaks(restricted)


def test_public_tables_suppress_small_cells_and_what_would_give_them_away():
    t = pd.DataFrame({"killed": [2, 0, 7], "injured": [12, 6, 8]})
    t["total"] = t.sum(axis=1)
    pub = suppress(t, Audience.PUBLIC)
    assert pub.loc[0, "killed"] == "<5"
    # 12 injured next to 2 killed and a total of 14 would give the 2 away: hidden too, marked c
    assert pub.loc[0, "injured"] == "c"
    hidden = pub.isin(["<5", "c"])
    assert (hidden.sum(axis=1) != 1).all() and (hidden.sum(axis=0) != 1).all()
    assert (pub[t == 0] == "0").sum().sum() == (t == 0).sum().sum()  # zeros stay visible
    assert suppress(t, Audience.RESTRICTED)["killed"].tolist() == ["2", "0", "7"]


def test_hdx_exports_carry_hxl_hashtags_and_match_the_store(demo_store, outputs):
    vic = demo_store.read_frame(Victim)
    for aud in ("public", "restricted"):
        for p in (outputs / f"hdx-{aud}").glob("*.csv"):
            rows = list(csv.reader(p.open()))
            assert all(tag.startswith("#") for tag in rows[1]), p.name
            assert len(rows) > 2
    rows = list(csv.reader((outputs / "hdx-restricted" / "casualties_landmine_monitor_by_year.csv").open()))
    head = rows[0]
    assert sum(int(r[head.index("total")]) for r in rows[2:]) == len(vic)
    assert sum(int(r[head.index("killed")]) for r in rows[2:]) == (vic["outcome"] == "killed").sum()
    monthly = list(csv.reader((outputs / "hdx-restricted" / "casualties_by_month_and_municipality.csv").open()))
    assert monthly[1][:3] == ["#date", "#adm1+name", "#adm2+name"]
    assert sum(int(r[monthly[0].index("total")]) for r in monthly[2:]) == len(vic)
    public = list(csv.reader((outputs / "hdx-public" / "casualties_by_month_and_municipality.csv").open()))
    cells = [c for r in public[2:] for c in r[4:]]
    assert "" in cells and all(c == "" or c == "0" or int(c) >= 5 for c in cells)


def test_report_errors_are_clear(demo_dir, tmp_path):
    store = str(demo_dir / "demo.gpkg")
    res = invoke_cli("report", "casualties", "--store", store, "--audience", "everyone", "--out", str(tmp_path))
    assert res.returncode == 2 and "unknown audience 'everyone'" in res.stderr
    res = invoke_cli("report", "land-release", "--store", store, "--teams", "manual=four", "--out", str(tmp_path))
    assert res.returncode == 2 and "--teams" in res.stderr and "manual=four" in res.stderr
    res = invoke_cli("report", "casualties", "--store", store, "--area", "Atlantis", "--out", str(tmp_path))
    assert res.returncode == 2 and "no admin area 'Atlantis'" in res.stderr


def test_cluster_strike_becomes_one_confirmed_footprint_once(store):
    from safeground.casualties.munitions import MUNITIONS_BY_NAME
    from safeground.casualties.strikes import strikes_to_hazards
    from safeground.errors import InvalidInput
    from safeground.model import ClusterStrike

    name = "9M55K rocket (Smerch 300 mm)"
    mun = MUNITIONS_BY_NAME[name]
    ell = shapely.Point(46.9, 39.7).buffer(0.002)
    store.set_meta("metric_epsg", "32638")
    store.add(
        ClusterStrike(
            uid="CMS-00001",
            date_of_information="2020-12-01",
            strike_date="2020-10-20",
            munition_type=name,
            submunition_count=72,
            center_lon=46.9,
            center_lat=39.7,
            direction_deg=45.0,
            geometry=ell,
        )
    )
    res = strikes_to_hazards(store, entered_by="test")
    assert len(res.created) == 1
    ha = store.get(HazardArea, res.created[0].uid)
    assert (
        ha.classification.value == "confirmed_hazardous_area" and ha.contamination.value == "cluster_munition_remnants"
    )
    assert ha.estimated_area_m2 == pytest.approx(np.pi * mun.semi_major_m * mun.semi_minor_m, rel=0.01)
    assert f"expected {72 * mun.dud_rate:.0f} unexploded" in ha.evidence[0].description
    # long axis along the direction of fire (north-east)
    from safeground.geometry.projection import project

    g = project(ha.geometry, 4326, 32638)
    c = g.centroid
    ne = shapely.LineString([(c.x, c.y), (c.x + 1000, c.y + 1000)]).intersection(g).length
    nw = shapely.LineString([(c.x, c.y), (c.x - 1000, c.y + 1000)]).intersection(g).length
    assert ne == pytest.approx(mun.semi_major_m, rel=0.02) and nw == pytest.approx(mun.semi_minor_m, rel=0.02)
    again = strikes_to_hazards(store, entered_by="test")
    assert again.created == [] and again.already_covered == {"CMS-00001": ha.uid}
    assert store.count(HazardArea) == 1
    store.add(
        ClusterStrike(
            uid="CMS-00002",
            date_of_information="2020-12-01",
            strike_date="2020-10-21",
            munition_type="Unknown rocket",
            submunition_count=10,
            center_lon=46.91,
            center_lat=39.7,
            geometry=ell,
        )
    )
    with pytest.raises(InvalidInput, match=r"CMS-00002.*munition_type.*Unknown rocket"):
        strikes_to_hazards(store, entered_by="test")
    assert store.count(HazardArea) == 1


def test_reports_give_the_same_figures_on_every_backend(store, tmp_path):
    """A small district generated into this backend and into a GeoPackage: same report figures."""
    from safeground.generator.config import DistrictConfig
    from safeground.generator.district import build_district, write_district
    from safeground.reports.casualty_report import casualty_report
    from safeground.reports.hdx import export_hdx
    from safeground.reports.land_release_report import PlanningInputs, land_release_report
    from safeground.storage.gpkg import GeoPackageStore

    d = build_district(DistrictConfig(seed=11, size_km=6))
    write_district(d, store)
    plan = PlanningInputs(simulations=50)
    with GeoPackageStore(tmp_path / "ref.gpkg") as ref:
        write_district(d, ref)
        for build in (lambda s: casualty_report(s), lambda s: land_release_report(s, plan=plan)):
            mine, theirs = build(store).figures_checked, build(ref).figures_checked
            assert mine.keys() == theirs.keys()
            for k in mine:
                assert mine[k] == pytest.approx(theirs[k], nan_ok=True), k
        export_hdx(store, tmp_path / "a", Audience.RESTRICTED)
        export_hdx(ref, tmp_path / "b", Audience.RESTRICTED)
        for name in ("casualties_landmine_monitor_by_year.csv", "land_release_by_month.csv"):
            assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_new_strike_in_the_demo_district_adds_one_area_and_changes_nothing_else(demo_dir, tmp_path):
    from safeground.casualties.strikes import strikes_to_hazards
    from safeground.model import ClusterStrike

    copy = tmp_path / "copy.gpkg"
    copy.write_bytes((demo_dir / "demo.gpkg").read_bytes())
    with open_store(str(copy), create=False) as s:
        before = {h.uid: h.version for h in s.find(HazardArea)}
        acc = next(s.find(Accident))
        s.add(
            ClusterStrike(
                uid=s.next_uid(ClusterStrike),
                date_of_information="2021-03-01",
                strike_date="2020-11-01",
                munition_type="M095 DPICM (160 mm rocket)",
                submunition_count=104,
                center_lon=acc.geometry.x,
                center_lat=acc.geometry.y,
                geometry=acc.geometry.buffer(0.001),
            )
        )
        res = strikes_to_hazards(s, entered_by="test")
        assert len(res.created) == 1 and len(res.already_covered) == s.count(ClusterStrike) - 1
        new = s.get(HazardArea, res.created[0].uid)
        assert new.uid not in before and new.admin_area_uid == acc.admin_area_uid
        assert {h.uid: h.version for h in s.find(HazardArea) if h.uid != new.uid} == before
        res = invoke_cli("strikes", "to-hazards", "--store", str(copy))
        assert res.returncode == 0 and "added 0 hazard areas" in res.stdout


def test_plan_commands_rank_and_forecast_from_the_store(demo_dir, tmp_path):
    store = str(demo_dir / "demo.gpkg")
    w = tmp_path / "weights.json"
    w.write_text('{"returnees": 0, "infrastructure": 0, "accidents": 1}')
    res = invoke_cli("plan", "priorities", "--store", store, "--weights", str(w), "--format", "csv")
    assert res.returncode == 0, res.stderr
    ranked = pd.read_csv(pd.io.common.StringIO(res.stdout))
    assert ranked["accidents_nearby"].is_monotonic_decreasing  # only accidents count
    assert ranked["c_accidents"].to_numpy() == pytest.approx(ranked["score"].to_numpy())
    # constant productivity large enough for everything in one working day: the start day itself
    total = ranked["remaining_m2"].sum()
    res = invoke_cli(
        "plan", "forecast", "--store", store, "--all-clearance", "--teams", "manual=1", "--productivity",
        f"manual={total * 1.01:.0f}:0", "--start", "2025-03-03",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "P10 2025-03-03, P50 2025-03-03, P90 2025-03-03" in res.stdout


def test_map_accuracy_and_national_reports_show_the_store_figures(demo_store, outputs):
    from safeground.model import MinefieldRecord

    uids = [r.uid for r in demo_store.find(MinefieldRecord)]
    html = (outputs / "map-accuracy-public.html").read_text()
    assert uids and all(f"<td>{u}</td>" in html for u in uids)
    nat = _pdf_text(outputs / "national-public.pdf")
    vic = demo_store.read_frame(Victim)
    cleared = sum(a.area_cleared_m2 for a in demo_store.find(Activity))
    assert f"{len(vic)} people were killed or injured" in nat
    assert f"{cleared / 1e6:,.2f} km²" in nat


def test_reports_on_an_empty_store_say_so_instead_of_failing(store, tmp_path):
    from safeground.reports.casualty_report import casualty_report
    from safeground.reports.document import render
    from safeground.reports.land_release_report import PlanningInputs, land_release_report

    for aud in Audience:
        rep = casualty_report(store, aud)
        assert rep.figures_checked["victims"] == 0
        html, _ = render(rep, tmp_path, pdf=False)
        assert "No one was recorded killed or injured" in html.read_text()
        lr = land_release_report(store, aud, plan=PlanningInputs(simulations=10))
        assert lr.figures_checked["released_m2"] == 0 and lr.figures_checked["open_areas"] == 0
        render(lr, tmp_path, pdf=False)
