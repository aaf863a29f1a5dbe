"""A national authority's first day: its own dirty data in, with the command line alone (issue 14).

The data set (``tests/data/national``, made by ``make_national.py`` there) behaves like
real national data: hazard polygons of which a third have no geometry, some empty,
some self-intersecting, a few exact duplicates, no dates and no areas, over a
country-sized extent across two UTM zones; incidents mostly without a date, some at
the same place with the same values, a few entered twice. Every step is the CLI, on
a GeoPackage and on PostGIS.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyogrio
import pytest
import shapely
import sqlalchemy
from pyproj import Geod

from safeground.casualties import statistics as cs
from safeground.model import Accident, HazardArea
from safeground.storage import open_store
from tests.conftest import PG_URL, invoke_cli, postgis_problem

DATA = Path(__file__).parent / "data" / "national"
AREA = "44.8,38.4,50.4,41.9"


@pytest.fixture(params=["gpkg", "postgis"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a new store will be made (nothing there yet); dropped afterwards."""
    if request.param == "gpkg":
        yield str(tmp_path / "national.gpkg")
        return
    problem = postgis_problem()
    if problem:
        pytest.skip(f"PostGIS tests did NOT run: {problem}")
    url = f"{PG_URL}?schema=t_{uuid.uuid4().hex[:12]}"
    try:
        yield url
    finally:
        if _schema_exists(url):
            with open_store(url, create=False) as s:
                s.drop()  # type: ignore[attr-defined]


def _schema_exists(url: str) -> bool:
    schema = url.split("schema=")[1]
    eng = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.connect() as c:
        found = c.execute(
            sqlalchemy.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"), {"s": schema}
        ).first()
    eng.dispose()
    return found is not None


def _ok(res) -> str:  # type: ignore[no-untyped-def]
    assert res.returncode == 0, res.stderr + res.stdout
    return res.stdout


def _features(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text())["features"]


def _expected_hazards() -> dict[str, int]:
    """What the hazard file holds, counted from the file itself."""
    feats = _features("hazards.geojson")
    seen: set[str] = set()
    dup = 0
    for f in feats:
        text = json.dumps(f, sort_keys=True)
        if f["geometry"] and f["geometry"]["coordinates"]:
            dup += text in seen
            seen.add(text)
    return {
        "total": len(feats),
        "no geometry": sum(f["geometry"] is None for f in feats),
        "empty geometry": sum(bool(f["geometry"]) and not f["geometry"]["coordinates"] for f in feats),
        "duplicate": dup,
    }


def _init(loc: str) -> None:
    _ok(invoke_cli("init", "--store", loc, "--area", AREA, "--name", "National test authority", "--language", "az"))
    _ok(invoke_cli("mapping", "save", "hazards", str(DATA / "hazards_mapping.yaml"), "--store", loc))
    _ok(invoke_cli("mapping", "save", "incidents", str(DATA / "incidents_mapping.yaml"), "--store", loc))


def test_init_makes_an_empty_store_with_its_area_and_never_touches_an_existing_one(location: str, tmp_path: Path):
    out = _ok(invoke_cli("init", "--store", location, "--area", AREA, "--name", "ANAMA", "--language", "az"))
    assert "EPSG:32638" in out
    shown = _ok(invoke_cli("db", "area", "--store", location))
    assert "[44.8, 38.4, 50.4, 41.9]" in shown
    with open_store(location, create=False) as s:
        assert s.get_meta("store_name") == "ANAMA" and s.get_meta("language") == "az"
        assert s.count(HazardArea) == 0
    # a mapping that cannot fill a required field is saved with a warning naming it
    partial = tmp_path / "partial.yaml"
    partial.write_text("layer: accidents\ncolumns: {device: device_type}\n")
    saved = _ok(invoke_cli("mapping", "save", "partial", str(partial), "--store", location))
    assert "warning" in saved and "date_of_information" in saved and "constants" in saved
    assert "accident_date" not in saved  # an accident's date may be unknown: not required
    full = _ok(invoke_cli("mapping", "save", "incidents", str(DATA / "incidents_mapping.yaml"), "--store", location))
    assert "warning" not in full
    again = invoke_cli("init", "--store", location, "--area", "1,2,3,4")
    assert again.returncode == 2 and "exists already" in again.stderr
    assert "[44.8, 38.4, 50.4, 41.9]" in _ok(invoke_cli("db", "area", "--store", location))
    bad = invoke_cli("init", "--store", str(tmp_path / "y.gpkg"), "--area", "50.4,38.4,44.8,41.9")
    assert bad.returncode == 2 and "west < east" in bad.stderr and not (tmp_path / "y.gpkg").exists()


def test_dry_run_writes_nothing_not_even_a_new_store(location: str, tmp_path: Path):
    hazards = str(DATA / "hazards.geojson")
    mapping = str(DATA / "hazards_mapping.yaml")
    args = ("--mapping", mapping, "--skip-invalid", "--repair", "--dry-run", "--new")
    out = _ok(invoke_cli("import", "hazard_areas", hazards, "--store", location, *args))
    assert "would import" in out
    if location.startswith("postgresql"):
        assert not _schema_exists(location)
    else:
        assert not Path(location).exists()
        assert not list(Path(location).parent.glob("national.gpkg*"))
    # an existing store: not a byte changes
    _init(location)
    before = _fingerprint(location)
    _ok(invoke_cli("import", "hazard_areas", hazards, "--store", location, *args))
    assert _fingerprint(location) == before


def _fingerprint(location: str) -> str:
    if location.startswith("postgresql"):
        with open_store(location, create=False, readonly=True) as s:
            return f"{s.count(HazardArea)}"
    return hashlib.sha256(Path(location).read_bytes()).hexdigest()


def test_dirty_hazards_refused_by_default_then_imported_with_every_left_out_feature_kept(location: str, tmp_path: Path):
    _init(location)
    hazards = str(DATA / "hazards.geojson")
    want = _expected_hazards()
    refused = invoke_cli("import", "hazard_areas", hazards, "--store", location, "--mapping", "hazards", "--repair")
    assert refused.returncode == 2
    assert f"{want['no geometry']:,} no geometry" in refused.stderr
    assert f"{want['duplicate']} duplicate" in refused.stderr and "--skip-invalid" in refused.stderr
    with open_store(location, create=False) as s:
        assert s.count(HazardArea) == 0

    q, report = tmp_path / "left-out.gpkg", tmp_path / "left-out.csv"
    dirty = ("--mapping", "hazards", "--repair", "--quarantine", str(q), "--report", str(report))
    out = _ok(invoke_cli("import", "hazard_areas", hazards, "--store", location, *dirty))
    skipped = want["no geometry"] + want["empty geometry"] + want["duplicate"]
    imported = want["total"] - skipped
    assert f"imported {imported:,} record(s)" in out
    assert (
        f"{skipped:,} skipped ({want['no geometry']:,} no geometry, {want['empty geometry']} empty geometry, "
        f"{want['duplicate']} duplicate)" in " ".join(out.split())
    )
    # nothing lost: every feature is stored or in the quarantine, which keeps its own columns and a reason
    left = pyogrio.read_dataframe(q, layer="quarantine_hazard_areas")
    assert len(left) == skipped
    assert (left["quarantine_reason"].str.contains("no geometry")).sum() == want["no geometry"]
    assert (left["quarantine_reason"].str.contains("geometry is empty")).sum() == want["empty geometry"]
    assert (left["quarantine_reason"].str.contains("duplicate of feature")).sum() == want["duplicate"]
    no_geom = {f["properties"]["hazard_no"] for f in _features("hazards.geojson") if f["geometry"] is None}
    assert no_geom <= set(left["hazard_no"])
    assert len(report.read_text().splitlines()) == skipped + 1
    with open_store(location, create=False) as s:
        stored = s.read_frame(HazardArea)
    assert len(stored) == imported
    assert stored.geometry.is_valid.all()  # self-intersections were repaired (and listed)
    assert "repaired" in out

    # areas measured from the polygons in their own UTM zone (both zones of the country), said in the report
    note = " ".join(out.split())
    assert "measured from the polygons" in note and "EPSG:32638" in note and "EPSG:32639" in note
    geod = Geod(ellps="WGS84")
    for _, row in stored.iloc[::50].iterrows():
        geodesic = abs(geod.geometry_area_perimeter(row.geometry)[0])
        assert row.estimated_area_m2 == pytest.approx(geodesic, rel=3e-3)
        assert row.remaining_area_m2 == row.estimated_area_m2
    east = stored[shapely.get_x(shapely.centroid(stored.geometry.to_numpy())) > 48.0]
    assert len(east) and len(east) < len(stored)

    # importing the same file again duplicates nothing
    again = _ok(invoke_cli("import", "hazard_areas", hazards, "--store", location, "--mapping", "hazards",
                           "--repair", "--skip-invalid"))  # fmt: skip
    assert "0 new" in again
    with open_store(location, create=False) as s:
        assert s.count(HazardArea) == imported


def test_incidents_key_decides_duplicates_and_undated_accidents_stay_undated(location: str):
    _init(location)
    incidents = str(DATA / "incidents.geojson")
    feats = _features("incidents.geojson")
    numbers = [f["properties"]["incident_no"] for f in feats]
    entered_twice = len(numbers) - len(set(numbers))
    without_key = invoke_cli("import", "accidents", incidents, "--store", location, "--mapping", "incidents")
    assert without_key.returncode == 2 and "same place and values" in without_key.stderr
    with_key = invoke_cli("import", "accidents", incidents, "--store", location, "--mapping", "incidents",
                          "--key", "incident_no")  # fmt: skip
    assert with_key.returncode == 2
    assert with_key.stderr.count("same incident_no") == entered_twice
    assert "same place and values" not in with_key.stderr
    out = _ok(invoke_cli("import", "accidents", incidents, "--store", location, "--mapping", "incidents",
                         "--key", "incident_no", "--skip-invalid"))  # fmt: skip
    kept = len(set(numbers))
    assert f"imported {kept} record(s)" in out and f"{entered_twice} skipped ({entered_twice} duplicate)" in out

    first = {}
    for f in feats:
        first.setdefault(f["properties"]["incident_no"], f["properties"]["date"])
    undated = sum(d is None for d in first.values())
    with open_store(location, create=False) as s:
        acc = s.read_frame(Accident)
        assert len(acc) == kept
        assert int(acc["accident_date"].isna().sum()) == undated  # "date unknown", never an invented date
        dated = sorted(str(d) for d in acc["accident_date"].dropna())
        assert dated == sorted(datetime.strptime(d, "%d.%m.%Y").date().isoformat() for d in first.values() if d)

    _ok(invoke_cli("import", "victims", str(DATA / "victims.csv"), "--store", location))
    with open_store(location, create=False) as s:
        frame = cs.victims_frame(s)
        acc = s.read_frame(Accident).set_index("uid")
    victims_undated = int(acc.loc[frame["accident_uid"], "accident_date"].isna().sum())
    assert 0 < victims_undated < len(frame)
    monthly = cs.by_month(frame)
    assert monthly.loc[cs.DATE_UNKNOWN, "total"] == victims_undated
    assert monthly["total"].sum() == len(frame)
    lm = cs.landmine_monitor_table(frame)
    assert lm.loc[cs.DATE_UNKNOWN, "total"] == victims_undated and lm["total"].sum() == len(frame)
    assert cs.undated(frame)[1] == victims_undated


def test_missing_required_field_names_the_mappings_constants(tmp_path: Path):
    loc = str(tmp_path / "n.gpkg")
    _ok(invoke_cli("init", "--store", loc, "--area", AREA))
    undated = tmp_path / "no-date.yaml"
    undated.write_text((DATA / "hazards_mapping.yaml").read_text().replace("  date_of_information: 2024-05-01\n", ""))
    res = invoke_cli("import", "hazard_areas", str(DATA / "hazards.geojson"), "--store", loc, "--mapping", str(undated),
                     "--skip-invalid")  # fmt: skip
    assert res.returncode == 2
    line = next(x for x in res.stderr.splitlines() if "'date_of_information'" in x)
    assert "missing" in line and "constants" in line
    with open_store(loc, create=False) as s:
        assert s.count(HazardArea) == 0


def test_skip_invalid_leaves_out_rows_referring_to_missing_records_and_empty_points(tmp_path: Path):
    from safeground.errors import InvalidInput
    from safeground.intake.features import import_features
    from safeground.intake.mapping import parse_mapping

    mapping = parse_mapping((DATA / "incidents_mapping.yaml").read_text(), "incidents_mapping.yaml")
    few = pyogrio.read_dataframe(DATA / "incidents.geojson").iloc[:5].copy()
    few.loc[3, "geometry"] = shapely.Point()  # an empty point (GeoPackage keeps it empty, not null)
    src = tmp_path / "few.gpkg"
    pyogrio.write_dataframe(few, src)
    with open_store(str(tmp_path / "s.gpkg")) as s:
        with pytest.raises(InvalidInput) as refused:
            import_features(s, "accidents", src, mapping=mapping)
        assert [p.reason.split(":")[0] for p in refused.value.problems] == ["geometry is empty"]
        assert s.count(Accident) == 0
        rep = import_features(s, "accidents", src, mapping=mapping, skip_invalid=True, key=["incident_no"])
        assert rep.counts["create"] == 4 and dict(rep.left_out.kinds) == {"empty geometry": 1}
        victims = tmp_path / "victims.csv"
        lines = (DATA / "victims.csv").read_text().splitlines()[:4]
        victims.write_text("\n".join([*lines, lines[1].replace("ACC-00001", "ACC-00099")]) + "\n")
        with pytest.raises(InvalidInput) as missing:
            import_features(s, "victims", victims)
        assert "refers to ACC-00099" in missing.value.problems[0].reason
        rep = import_features(s, "victims", victims, skip_invalid=True)
        assert rep.counts["create"] == 3
        assert [p.item for p in rep.left_out.problems] == ["row 5"]
        assert "refers to ACC-00099, which is not in accidents" in rep.left_out.problems[0].reason


def _as_older_safeground_wrote_it(location: str) -> None:
    """Put back the NOT NULL an older SafeGround gave accidents.accident_date (both tables)."""
    if location.startswith("postgresql"):
        schema = location.split("schema=")[1]
        eng = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.begin() as c:
            for t in ("accidents", "accidents_history"):
                c.execute(sqlalchemy.text(f'ALTER TABLE "{schema}"."{t}" ALTER COLUMN accident_date SET NOT NULL'))
        eng.dispose()
        return
    import sqlite3

    con = sqlite3.connect(location, isolation_level=None)
    version = con.execute("PRAGMA schema_version").fetchone()[0]
    con.execute("PRAGMA writable_schema = ON")
    for t in ("accidents", "accidents_history"):
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0]
        sql = sql.replace('"accident_date" DATE', '"accident_date" DATE NOT NULL')
        con.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (sql, t))
    con.execute(f"PRAGMA schema_version = {version + 1}")
    con.execute("PRAGMA writable_schema = OFF")
    con.close()


def test_an_older_store_is_told_to_upgrade_and_then_takes_undated_accidents(location: str):
    _ok(invoke_cli("init", "--store", location, "--area", AREA))
    _as_older_safeground_wrote_it(location)
    args = ("--mapping", str(DATA / "incidents_mapping.yaml"), "--key", "incident_no", "--skip-invalid")
    res = invoke_cli("import", "accidents", str(DATA / "incidents.geojson"), "--store", location, *args)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "older SafeGround" in res.stderr and "safeground db upgrade" in res.stderr
    with open_store(location, create=False) as s:
        assert s.count(Accident) == 0
    upgraded = _ok(invoke_cli("db", "upgrade", "--store", location))
    assert "accidents.accident_date (may now be empty)" in upgraded
    _ok(invoke_cli("import", "accidents", str(DATA / "incidents.geojson"), "--store", location, *args))
    with open_store(location, create=False) as s:
        acc = s.read_frame(Accident)
    assert len(acc) and acc["accident_date"].isna().any()
