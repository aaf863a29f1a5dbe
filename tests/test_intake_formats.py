"""Every intake format on small real-looking files kept in tests/data/intake, good and malformed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyogrio
import pytest

from safeground.errors import InvalidInput, as_flag
from safeground.intake.features import import_features
from safeground.intake.mapping import load_mapping, parse_mapping, save_mapping
from safeground.model import EOItem, HazardArea
from safeground.storage.base import Store
from tests.conftest import invoke_cli

DATA = Path(__file__).parent / "data" / "intake"
AOI = "[46.5, 39.3, 47.5, 40.0]"  # Aghdam district
# where the three finds are, in decimal degrees (the CSV, DMS, UTM and MGRS files describe the same points)
FINDS = [(46.7521, 39.6102), (46.7534, 39.6110), (46.7549, 39.6121)]


def _positions(store: Store) -> list[tuple[float, float]]:
    return sorted((r.geometry.x, r.geometry.y) for r in store.find(EOItem))


def _state(store: Store) -> list[dict]:
    return sorted((r.model_dump(mode="json") for r in store.find(EOItem)), key=lambda d: d["uid"])


@pytest.mark.parametrize(
    ("name", "tolerance"),
    [
        ("eo_finds_dd.csv", 1e-9),
        ("eo_finds_dms.csv", 2e-5),  # a tenth of a second of arc is 3 m
        ("eo_finds.xlsx", 2e-5),
        ("eo_finds_utm.csv", 2e-6),
        ("eo_finds_mgrs.csv", 2e-5),  # 1 m squares: the south-west corner
    ],
)
def test_tables_in_every_notation_give_the_same_positions(store: Store, name: str, tolerance: float):
    store.set_meta("area_of_interest", AOI)
    rep = import_features(store, "eo_items", DATA / name)
    assert rep.counts["create"] == 3
    got = _positions(store)
    for (x, y), (ex, ey) in zip(got, sorted(FINDS), strict=True):
        assert abs(x - ex) < tolerance and abs(y - ey) < tolerance, (name, got)


def test_utm_zone_38s_is_refused_as_ambiguous_unless_settled(store: Store):
    with pytest.raises(InvalidInput, match=r"38S.*ambiguous.*band"):
        import_features(store, "eo_items", DATA / "eo_finds_utm_band.csv")
    assert store.count(EOItem) == 0
    rep = import_features(store, "eo_items", DATA / "eo_finds_utm_band.csv", coordinates={"utm_letter": "band"})
    assert rep.counts["create"] == 2 and abs(_positions(store)[0][1] - 39.6102) < 1e-5


def test_one_bad_utm_row_is_named_alone(store: Store, tmp_path: Path):
    """A clerk with 5,000 rows must be told which one is wrong, not every row of its zone."""
    text = (DATA / "eo_finds_utm.csv").read_text() + "2021-04-03,found,av,visual,38N,65064.4,4386176.8\n"
    (tmp_path / "utm.csv").write_text(text)
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "eo_items", tmp_path / "utm.csv")
    problems = exc.value.problems
    assert [p.item for p in problems] == ["row 5"], problems
    assert problems[0].field == "easting/northing" and problems[0].value == "65064.4 / 4386176.8"
    assert "np.float64" not in str(exc.value)
    assert store.count(EOItem) == 0


def test_utm_38s_settled_by_the_area_of_interest(store: Store):
    store.set_meta("area_of_interest", AOI)
    assert import_features(store, "eo_items", DATA / "eo_finds_utm_band.csv").counts["create"] == 2


def test_x_y_without_crs_is_refused_and_accepted_once_declared(store: Store):
    with pytest.raises(InvalidInput, match=r"x/y columns and no declared CRS") as exc:
        import_features(store, "eo_items", DATA / "eo_finds_xy_no_crs.csv")
    assert "--crs" in exc.value.render_hint(as_flag) and "crs=EPSG:4326" in str(exc.value)
    import_features(store, "eo_items", DATA / "eo_finds_xy_no_crs.csv", crs="EPSG:32638")
    assert abs(_positions(store)[0][0] - 46.7521) < 1e-5


@pytest.mark.parametrize("name", ["hazard_areas.gpkg", "hazard_areas_utm.gpkg", "hazard_areas_shp.zip",
                                  "hazard_areas.kml", "hazard_areas.kmz"])  # fmt: skip
def test_gis_formats(store: Store, name: str):
    rep = import_features(store, "hazard_areas", DATA / name)
    assert rep.counts["create"] == 2
    a = store.get(HazardArea, "SHA-AGD-001")
    assert a.estimated_area_m2 == 12000 and a.contamination.value == "antipersonnel_mines"
    minx, _, _, maxy = a.geometry.bounds
    assert abs(minx - 46.750) < 1e-6 and abs(maxy - 39.611) < 1e-6
    if name.endswith("utm.gpkg"):
        assert any("reprojected" in n for n in rep.notes)


def test_declared_crs_that_contradicts_the_file_is_refused(store: Store):
    with pytest.raises(InvalidInput, match="the file says WGS 84 / UTM zone 38N but crs says WGS 84") as exc:
        import_features(store, "hazard_areas", DATA / "hazard_areas_utm.gpkg", crs="EPSG:4326")
    assert "but --crs says WGS 84" in exc.value.render_message(as_flag)
    assert store.count(HazardArea) == 0


def test_broken_geometry_names_each_feature(store: Store):
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "hazard_areas", DATA / "broken_geometry.geojson")
    by_item = {p.item: p.reason for p in exc.value.problems}
    assert "Self-intersection" in by_item["feature 2 (SHA-BOWTIE)"]
    assert "too few" in by_item["feature 3 (SHA-TWO-POINTS)"]
    assert store.count(HazardArea) == 0


@pytest.mark.parametrize("name", ["truncated.geojson", "truncated.gpkg", "truncated.xlsx", "truncated.csv"])
def test_truncated_files_are_refused_by_name(store: Store, name: str):
    layer = "hazard_areas" if "geojson" in name or "gpkg" in name else "eo_items"
    with pytest.raises(InvalidInput, match=rf"{name.replace('.', '[.]')}.*(cannot be read|truncated|cut)"):
        import_features(store, layer, DATA / name)
    assert store.count(HazardArea) == 0 and store.count(EOItem) == 0


def test_swapped_lat_lon_row_is_named(store: Store):
    store.set_meta("area_of_interest", AOI)
    with pytest.raises(InvalidInput, match=r"row 3.*swapped"):
        import_features(store, "eo_items", DATA / "eo_finds_swapped.csv")
    assert store.count(EOItem) == 0


def test_every_bad_value_is_listed_with_row_field_and_value(store: Store):
    store.add(EOItem(uid="EO-KEEP", date_of_information="2021-01-01", status="found", eo_type="av",
                     how_found="visual", geometry="POINT (46.7 39.6)"))  # fmt: skip
    before = _state(store)
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "eo_items", DATA / "eo_finds_bad_values.csv")
    got = {(p.item, p.field): p.value for p in exc.value.problems}
    assert got[("row 2", "depth_cm")] == "five"
    assert got[("row 3", "eo_type")] == "landmine"
    assert got[("row 4", "lon")] == "46.75x"
    assert got[("row 4", "date_of_information")] == "2021-04-31"
    assert ("row 5", "lat") in got
    assert _state(store) == before


def test_a_missing_column_is_reported_once_with_the_rows_it_hits(store: Store, tmp_path: Path):
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "eo_items", DATA / "eo_finds_missing_columns.csv")
    fields = {(p.item, p.field) for p in exc.value.problems}
    assert ("row 2, row 3", "status") in fields
    assert store.count(EOItem) == 0
    # 3,000 rows without the column: one line, the first rows named and how many more
    lines = ["date_of_information,eo_type,lon,lat"] + [
        f"2021-04-02,{('ap_blast', 'av')[k % 2]},{46.75 + k * 1e-5:.5f},39.61" for k in range(3000)
    ]
    (tmp_path / "big.csv").write_text("\n".join(lines))
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "eo_items", tmp_path / "big.csv")
    status = [p for p in exc.value.problems if p.field == "status"]
    assert len(status) == 1 and status[0].item == "row 2, row 3, row 4, row 5, row 6 and 2,995 more"


def test_mapping_renames_columns_values_and_dates_and_reimport_follows_the_rules(store: Store):
    fm = parse_mapping((DATA / "halo_sheet.yaml").read_text(), "halo_sheet.yaml", name="halo")
    save_mapping(store, fm)
    fm = load_mapping(store, "halo")
    rep = import_features(store, "eo_items", DATA / "halo_sheet.csv", mapping=fm)
    assert rep.created == ["AGD-17-001", "AGD-17-002", "AGD-17-003"]
    a = store.get(EOItem, "AGD-17-002")
    assert (
        a.eo_type.value == "av"
        and a.how_found.value == "manual_clearance"
        and str(a.date_of_information) == "2021-04-02"
    )
    # the same file again: nothing new
    again = import_features(store, "eo_items", DATA / "halo_sheet.csv", mapping=fm)
    assert again.counts == {"create": 0, "update": 0, "unchanged": 3, "older": 0}
    # a newer sheet: 002 updated with history kept, 003 older and reported
    dry = import_features(store, "eo_items", DATA / "halo_sheet_v2.csv", mapping=fm, dry_run=True)
    assert dry.updated == ["AGD-17-002"] and [c.uid for c in dry.older] == ["AGD-17-003"]
    assert store.get(EOItem, "AGD-17-002").version == 1
    rep2 = import_features(store, "eo_items", DATA / "halo_sheet_v2.csv", mapping=fm)
    assert rep2.updated == ["AGD-17-002"] and rep2.unchanged == ["AGD-17-001"]
    assert "older than the stored 2021-04-03" in rep2.older[0].detail
    new = store.get(EOItem, "AGD-17-002")
    assert new.version == 2 and new.depth_cm == 25 and "halo_sheet_v2.csv" in (new.change_reason or "")
    assert [v.depth_cm for v in store.history(EOItem, "AGD-17-002")] == [20, 25]
    assert store.get(EOItem, "AGD-17-003").depth_cm == 0  # the older sheet did not overwrite


def test_rows_without_uid_are_not_duplicated_on_reimport(store: Store):
    import_features(store, "eo_items", DATA / "eo_finds_dd.csv")
    rep = import_features(store, "eo_items", DATA / "eo_finds_dd.csv")
    assert rep.counts["unchanged"] == 3 and rep.counts["create"] == 0
    assert store.count(EOItem) == 3


def test_mapping_to_unknown_field_or_value_is_refused():
    bad = "layer: eo_items\ncolumns: {Kind: kind}\nvalues:\n  eo_type: {AP: antipersonnel}\n"
    with pytest.raises(InvalidInput) as exc:
        parse_mapping(bad, "bad.yaml")
    reasons = " ".join(p.reason for p in exc.value.problems)
    assert "no field 'kind'" in reasons and "'antipersonnel'" in reasons


def test_cli_mapping_import_dry_run_and_problem_report(tmp_path: Path):
    db = str(tmp_path / "s.gpkg")
    sheet = tmp_path / "halo_sheet.csv"
    shutil.copy(DATA / "halo_sheet.csv", sheet)
    res = invoke_cli("import", "eo_items", str(DATA / "eo_finds_dd.csv"), "--store", db, "--new")
    assert res.returncode == 0, res.stderr
    res = invoke_cli("mapping", "save", "halo", str(DATA / "halo_sheet.yaml"), "--store", db)
    assert res.returncode == 0 and "saved" in res.stdout, res.stderr
    res = invoke_cli("mapping", "list", "--store", db)
    assert "halo: eo_items, 6 columns" in res.stdout
    res = invoke_cli("mapping", "show", "halo", "--store", db)
    assert "Mine ID: uid" in res.stdout
    res = invoke_cli("import", "eo_items", str(sheet), "--store", db, "--mapping", "halo", "--dry-run")
    assert res.returncode == 0 and "would create: row 2 → AGD-17-001" in res.stdout, res.stdout
    report = tmp_path / "problems.csv"
    res = invoke_cli(
        "import", "eo_items", str(DATA / "eo_finds_bad_values.csv"), "--store", db, "--report", str(report)
    )
    assert res.returncode == 2 and "nothing was stored" in res.stderr
    lines = report.read_text().splitlines()
    assert lines[0] == "file,item,field,value,reason"
    assert "eo_finds_bad_values.csv,row 2,depth_cm,five," in lines[1]
    assert len(lines) >= 6


def test_kml_reads_back_in_google_earth_terms(tmp_path: Path):
    info = pyogrio.read_info(DATA / "hazard_areas.kmz")
    assert info["features"] == 2


def test_area_of_interest_set_from_the_command_line_turns_on_position_checks(tmp_path: Path):
    db = tmp_path / "s.gpkg"
    res = invoke_cli("import", "eo_items", str(DATA / "eo_finds_dd.csv"), "--store", str(db), "--new")
    assert res.returncode == 0, res.stderr
    res = invoke_cli("db", "area", "--store", str(db))
    assert "no area of interest set" in res.stdout
    res = invoke_cli("db", "area", "--store", str(db), "--bbox", "39.3,46.5,40.0,47.5")  # latitude first: refused
    assert res.returncode != 0 and "3 of the 3 stored records" in res.stderr and "longitude first" in res.stderr
    res = invoke_cli("db", "area", "--store", str(db), "--bbox", "46.5,39.3,47.5,40.0")
    assert res.returncode == 0 and "EPSG:32638" in res.stdout
    res = invoke_cli("import", "eo_items", str(DATA / "eo_finds_swapped.csv"), "--store", str(db))
    assert res.returncode == 2 and "appear swapped" in res.stderr


def test_utm_zone_is_detected_from_the_area_of_interest(store: Store, tmp_path: Path):
    rows = (DATA / "eo_finds_utm.csv").read_text().splitlines()
    no_zone = [",".join(c for i, c in enumerate(r.split(",")) if i != 4) for r in rows]  # drop the zone column
    (tmp_path / "nozone.csv").write_text("\n".join(no_zone) + "\n")
    with pytest.raises(InvalidInput, match=r"without a zone.*") as exc:
        import_features(store, "eo_items", tmp_path / "nozone.csv")
    assert "safeground db area" in str(exc.value)
    store.set_meta("area_of_interest", "[44.5, 39.3, 48.5, 40.0]")  # zones 38 and 39
    with pytest.raises(InvalidInput, match="spans more than one"):
        import_features(store, "eo_items", tmp_path / "nozone.csv")
    store.set_meta("area_of_interest", AOI)  # Aghdam: all in zone 38, north
    rep = import_features(store, "eo_items", tmp_path / "nozone.csv")
    assert rep.counts["create"] == 3 and any("zone 38 north" in n for n in rep.notes)
    for (x, y), (ex, ey) in zip(_positions(store), sorted(FINDS), strict=True):
        assert abs(x - ex) < 2e-6 and abs(y - ey) < 2e-6
