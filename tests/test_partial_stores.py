"""Every command and every report on a store that holds only some of the layers.

A national authority's first store is never shaped like the demo district: it may
hold only hazard areas, or only accidents without their victims, no minefield
records, no roads, no survey or clearance history. Each partial store here is the
demo with layers taken out (and, like an imported store, without the generator's
metadata or its declared metric projection). Every command of the typer app runs
on each through the real CLI; the test fails on a traceback, a NaN in anything
written, a CSV without its header, or a casualty count that pretends accidents
without victim rows killed or injured nobody. A command that cannot run on such a
store may say so (exit 2, a message naming what is missing and a fix).

The command table is checked against ``safeground.cli.app``: a new command that
is not in it fails ``test_every_command_is_in_the_table``.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from tests.conftest import invoke_cli

DATA = Path(__file__).parent / "data"

#: layers the generator writes and an imported store would not hold (what the simulated ground really holds)
GENERATOR_ONLY = ("ground_truth_items",)
ALL_LAYERS = (
    "accidents", "activities", "admin_areas", "cluster_strikes", "corrected_mine_positions", "eo_items",
    "front_lines", "ground_truth_items", "hazard_areas", "human_remains_finds", "infrastructure_areas",
    "infrastructure_lines", "infrastructure_points", "minefield_record_assessments", "minefield_records",
    "organisations", "predicted_hazards", "victim_identities", "victims",
    "assistance_assessments", "assistance_services", "missing_persons", "remains_case_links", "remains_handovers",
    "eore_sessions", "qm_inspections",
)  # fmt: skip

#: kind → (layers kept: None = all but the dropped ones, layers dropped, area of interest kept)
KINDS: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...], bool]] = {
    "only_hazards": (("hazard_areas",), (), True),
    # no area of interest: the metric projection must come from where the accidents are
    "only_accidents": (("accidents",), (), False),
    "no_minefield_records": (
        None,
        ("minefield_records", "minefield_record_assessments", "corrected_mine_positions"),
        True,
    ),
    "no_roads": (None, ("infrastructure_lines",), True),
    "no_victims": (None, ("victims", "victim_identities", "assistance_assessments", "assistance_services"), True),
    "no_activities": (None, ("activities",), True),
    "empty": ((), (), True),
}
#: kinds whose accidents have no victim rows: outputs must say so rather than count nobody
WITHOUT_VICTIMS = {"only_accidents", "no_victims"}


def _make_partial(demo: Path, target: Path, kind: str) -> None:
    """The demo with layers emptied (and their history), as an imported store would look."""
    keep, drop, keep_area = KINDS[kind]
    shutil.copy(demo, target)
    emptied = [t for t in ALL_LAYERS if (keep is not None and t not in keep) or t in drop or t in GENERATOR_ONLY]
    con = sqlite3.connect(target)
    try:
        with con:
            for t in emptied:
                con.execute(f'DELETE FROM "{t}"')
                con.execute(f'DELETE FROM "{t}_history"')
            if "minefield_records" in emptied:  # the mines those records showed go with them
                # hazard areas still cite the record numbers, as a national map's attribute table does
                con.execute("DELETE FROM eo_items WHERE status = 'recorded'")
                con.execute("DELETE FROM eo_items_history WHERE status = 'recorded'")
            con.execute("DELETE FROM safeground_meta WHERE key LIKE 'generator%' OR key = 'metric_epsg'")
            if not keep_area:
                con.execute("DELETE FROM safeground_meta WHERE key = 'area_of_interest'")
    finally:
        con.close()


@pytest.fixture(scope="session")
def demo_facts(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Values the command table needs from the demo: a settlement, a point inside, a file to import."""
    d = tmp_path_factory.mktemp("facts")
    con = sqlite3.connect(demo_dir / "demo.gpkg")
    try:
        settlement = con.execute(
            "SELECT name FROM infrastructure_areas WHERE kind = 'settlement' ORDER BY uid"
        ).fetchone()[0]
        aoi = json.loads(con.execute("SELECT value FROM safeground_meta WHERE key = 'area_of_interest'").fetchone()[0])
        record = con.execute("SELECT uid FROM minefield_records ORDER BY uid").fetchone()[0]
        hazard = con.execute("SELECT uid FROM hazard_areas ORDER BY uid").fetchone()[0]
    finally:
        con.close()
    w, s, e, n = aoi
    res = invoke_cli(
        "export", "layer", "hazard_areas", "--out", str(d / "hazards.geojson"), "-s", str(demo_dir / "demo.gpkg")
    )
    assert res.returncode == 0, res.stderr
    return {
        "settlement": settlement,
        "lon": f"{(w + e) / 2:.5f}",
        "lat": f"{(s + n) / 2:.5f}",
        "a": f"{w + (e - w) * 0.3:.5f},{s + (n - s) * 0.3:.5f}",
        "b": f"{w + (e - w) * 0.6:.5f},{s + (n - s) * 0.6:.5f}",
        "record": record,
        "hazard": hazard,
        "hazards_file": str(d / "hazards.geojson"),
        "data": str(DATA),
    }


@pytest.fixture(scope="session")
def partial_dir(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("partial")


def partial_store(demo_dir: Path, partial_dir: Path, kind: str, tmp_path: Path) -> Path:
    """A private copy of the partial store of this kind (commands write into it)."""
    built = partial_dir / f"{kind}.gpkg"
    if not built.exists():
        _make_partial(demo_dir / "demo.gpkg", partial_dir / f".{kind}.gpkg", kind)
        (partial_dir / f".{kind}.gpkg").replace(built)
    mine = tmp_path / "store.gpkg"
    shutil.copy(built, mine)
    return mine


# -- the command table ---------------------------------------------------------------------------------
# Each command runs as one or more invocations, in order, on the same copy of the store.
# {store} is the store, {out} a fresh folder for what it writes; the others come from demo_facts.
S = ["--store", "{store}"]
COMMANDS: dict[str, list[list[str]]] = {
    "summary": [["summary", *S]],
    "map": [["map", *S, "--out", "{out}/map.png"]],
    "import": [
        ["import", "hazard_areas", "{hazards_file}", *S, "--dry-run"],
        ["import", "hazard_areas", "{hazards_file}", *S],
    ],
    "history": [["history", "hazard_areas", "{hazard}", *S]],
    "check": [["check", "{lon}", "{lat}", *S], ["check", "{lon}", "{lat}", *S, "--format", "json"]],
    "route": [["route", "{a}", "{b}", *S, "--out", "{out}/route.geojson"]],
    "village-map": [["village-map", "{settlement}", *S, "--out", "{out}/village.pdf", "--lang", "en"]],
    # the national report also as PDF (it holds every section); the others share its rendering code
    "report": [["report", "national", *S, "--out", "{out}/reports", "--simulations", "50"]]
    + [
        ["report", kind, *S, "--out", "{out}/reports", "--no-pdf", "--simulations", "50"]
        for kind in ("casualties", "land-release", "map-accuracy", "assistance")
    ]
    + [["report", "missing", *S, "--out", "{out}/reports", "--no-pdf", "--audience", "restricted"]],
    "mapping save": [["mapping", "save", "halo", "{data}/intake/halo_sheet.yaml", *S]],
    "mapping list": [["mapping", "save", "halo", "{data}/intake/halo_sheet.yaml", *S], ["mapping", "list", *S]],
    "mapping show": [["mapping", "save", "halo", "{data}/intake/halo_sheet.yaml", *S], ["mapping", "show", "halo", *S]],
    "maps accuracy": [
        ["maps", "accuracy", *S, "--format", "csv", "--out", "{out}/accuracy.csv"],
        ["maps", "accuracy", *S, "--format", "json", "--out", "{out}/accuracy.json", "--save"],
    ],
    "maps evidence": [
        ["maps", "accuracy", *S, "--save"],
        ["maps", "evidence", *S, "--out", "{out}/links.csv", "--proposals", "{out}/proposals.csv"],
    ],
    "maps dossier": [["maps", "dossier", "{record}", *S, "--out", "{out}/dossiers"]],
    "maps traverse": [["maps", "traverse", "{data}/records/handover_97.json", *S, "--save"]],
    # one model serves the three commands that need one (training is the slow part)
    "risk train": [
        ["risk", "train", *S, "--out", "{out}/model.lgb", "--cell", "250"],
        ["risk", "predict", "--model", "{out}/model.lgb", *S, "--out", "{out}/risk.tif", "--save"],
        ["risk", "explain", "--model", "{out}/model.lgb", *S, "--at", "{lon},{lat}"],
    ],
    "risk evaluate": [["risk", "evaluate", *S, "--cell", "250", "--out", "{out}/evaluation.json"]],
    "db current": [["db", "current", *S]],
    "db history": [["db", "history", *S]],
    "db upgrade": [["db", "upgrade", *S]],
    "db area": [["db", "area", *S]],
    "sync push": [["sync", "push", *S, "--server", "{out}/server.gpkg"]],
    "sync pull": [
        ["sync", "push", *S, "--server", "{out}/server.gpkg"],
        ["sync", "pull", *S, "--server", "{out}/server.gpkg"],
    ],
    "sync conflicts": [["sync", "conflicts", *S], ["sync", "conflicts", *S, "--all"]],
    "sync resolve": [["sync", "resolve", "{hazard}", *S, "--server", "{out}/server.gpkg", "--keep", "mine"]],
    "forms import": [["forms", "import", "eo_find", "{data}/forms/eo_find_kobo.json", *S]],
    "export layer": [
        ["export", "layer", layer, "--out", f"{{out}}/{layer}.{fmt}", *S, "--format", fmt]
        for layer, fmt in (("hazard_areas", "csv"), ("accidents", "csv"), ("eo_items", "geojson"), ("victims", "csv"))
    ],
    "export hdx": [["export", "hdx", *S, "--out", "{out}/hdx"]],
    "strikes to-hazards": [["strikes", "to-hazards", *S, "--dry-run"], ["strikes", "to-hazards", *S]],
    "accidents to-hazards": [["accidents", "to-hazards", *S], ["accidents", "to-hazards", *S, "--apply"]],
    "release propose": [["release", "propose", *S], ["release", "propose", *S, "--apply"]],
    "plan priorities": [
        ["plan", "priorities", *S],
        ["plan", "priorities", *S, "--format", "csv", "--out", "{out}/p.csv"],
    ],
    "plan forecast": [
        ["plan", "forecast", *S, "--simulations", "50"],
        ["plan", "forecast", *S, "--simulations", "50", "--format", "csv", "--out", "{out}/f.csv"],
    ],
    "plan backtest": [["plan", "backtest", *S, "--simulations", "50", "--png", "{out}/fan.png"]],
    "plan eore": [
        ["plan", "eore", *S],
        ["plan", "eore", *S, "--format", "csv", "--out", "{out}/e.csv", "--png", "{out}/e.png"],
    ],
    "qm list": [["qm", "list", *S], ["qm", "list", *S, "--format", "csv", "--out", "{out}/qm.csv"]],
    "qm check": [["qm", "check", *S]],
    "qm add": [
        [
            "qm",
            "add",
            "--kind",
            "quality_control",
            "--inspecting-body",
            "NMAA",
            "--organisation",
            "HDG",
            *S,
            "--date",
            "2022-06-01",
            "--nc",
            "marking:minor:no marking",
        ]
    ],
    "qm close": [["qm", "close", "QM-00001", *S, "--date", "2022-12-31", "--finding", "checked"]],
    "orgs add": [["orgs", "add", "Demining Group", "--type", "ngo", "--acronym", "DG", *S, "--by", "test"]],
    "orgs list": [["orgs", "list", *S]],
    "users list": [["users", "list", *S]],
    "users tokens": [["users", "tokens", *S]],
    "audit list": [["audit", "list", *S]],
    "audit verify": [["audit", "verify", *S]],
    "review list": [["review", "list", *S], ["review", "list", *S, "--state", "pending"]],
    "styles": [["styles", *S]],
    "public-info set": [["public-info", "set", *S, "--emergency", "Emergency=112", "--authority", "NMAA"]],
    "public-info show": [["public-info", "show", *S]],
    # victim assistance and the missing (issue 21); the uids are the demo's, absent from some partial stores
    "assistance list": [["assistance", "list", *S], ["assistance", "list", *S, "--include-restricted", "--unmet"]],
    "assistance stats": [["assistance", "stats", *S], ["assistance", "stats", *S, "--include-restricted"]],
    "assistance add": [
        [
            "assistance",
            "add",
            "VIC-00001",
            "--category",
            "pension_or_allowance",
            "--status",
            "referred",
            "--by",
            "test",
            "--needed-since",
            "2022-01-10",
            "--referred-on",
            "2022-02-01",
            *S,
        ]
    ],
    "assistance follow-up": [["assistance", "follow-up", "VAS-00002", "--status", "received", "--by", "test", *S]],
    "assistance import": [
        ["assistance", "import", "{data}/people/assistance_services.csv", *S, "--dry-run"],
        ["assistance", "import", "{data}/people/assistance_services.csv", *S],
    ],
    "missing list": [["missing", "list", *S, "--include-restricted"]],
    "missing candidates": [["missing", "candidates", "HRF-00001", *S, "--include-restricted"]],
    "missing confirm": [["missing", "confirm", "HRF-00003", "MP-00001", "--by", "test", *S]],
    "missing handover": [
        ["missing", "handover", "HRF-00001", "--to", "icrc", "--on", "2022-12-01", "--by", "test", *S]
    ],
    "missing import": [["missing", "import", "{data}/people/missing_persons.csv", *S]],
}
#: commands run in another command's entry above (after what they need)
RUN_WITH = {"risk predict": "risk train", "risk explain": "risk train"}
#: commands that do not read a store, each with why it is not run here (their own tests cover them)
NOT_ON_A_STORE = {
    "generate": "writes a new district; the demo fixture runs it",
    "demo": "writes a new district; the demo fixture runs it",
    "layers": "lists the layer types, reads no store",
    "version": "reads no store",
    "init": "makes a new store and refuses an existing one: tests/test_first_day.py runs both",
    "maps template": "writes an empty workbook",
    "scan georef": "georeferences an image, reads no store",
    "scan features": "imports digitised features through the path `import` takes (run above); needs a scan's GCPs",
    "forms export": "writes the XLSForms, reads no store",
    **{
        f"users {c}": "reads a password from the terminal or stdin: tests/test_accounts.py runs it on both backends"
        for c in ("add", "passwd", "role", "disable", "enable", "token")
    },
    **{
        c: "acts on an account, a token or an organisation a partial store has none of: tests/test_accounts.py runs it"
        for c in ("users org", "users revoke-token", "orgs edit")
    },
    **{
        f"review {c}": "acts on a submission, which a partial store has none of: tests/test_review.py runs it"
        for c in ("show", "reconcile", "approve", "reject")
    },
    "serve": "runs a server until it is stopped: tests/test_server.py runs it on a GeoPackage and on PostGIS",
}


def _app_commands(group: typer.Typer, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for cmd in group.registered_commands:
        names.add(prefix + (cmd.name or cmd.callback.__name__.replace("_", "-")))  # type: ignore[union-attr]
    for sub in group.registered_groups:
        names |= _app_commands(sub.typer_instance, f"{prefix}{sub.name} ")  # type: ignore[arg-type]
    return names


def test_every_command_is_in_the_table() -> None:
    from safeground.cli import app

    commands = _app_commands(app)
    missing = commands - set(COMMANDS) - set(NOT_ON_A_STORE) - set(RUN_WITH)
    assert not missing, f"add these commands to COMMANDS (or NOT_ON_A_STORE, with why) in {__file__}: {missing}"
    for cmd, host in RUN_WITH.items():
        assert any(" ".join(t[: len(cmd.split())]) == cmd for t in COMMANDS[host]), f"{host} does not run {cmd}"
    gone = (set(COMMANDS) | set(NOT_ON_A_STORE) | set(RUN_WITH)) - commands
    assert not gone, f"the table names commands the CLI no longer has: {gone}"


NAN = re.compile(r"\bnan\b", re.IGNORECASE)
TEXT_FILES = {".csv", ".html", ".json", ".geojson", ".txt", ".yaml", ".md"}


def _problems_in_files(out: Path) -> list[str]:
    problems = []
    for f in sorted(out.rglob("*")):
        if not f.is_file() or f.suffix.lower() not in TEXT_FILES:
            continue
        text = f.read_text(errors="replace")
        if NAN.search(text):
            line = next(ln for ln in text.splitlines() if NAN.search(ln))
            problems.append(f"{f.name} holds a NaN: {line.strip()[:200]}")
        if f.suffix == ".csv" and not text.strip():
            problems.append(f"{f.name} is an empty CSV without its header")
    return problems


def _check_result(args: list[str], res: object) -> list[str]:
    out = res.stdout + res.stderr  # type: ignore[attr-defined]
    shown = " ".join(args)
    problems = []
    if "Traceback" in out or res.returncode not in (0, 2):  # type: ignore[attr-defined]
        problems.append(f"`{shown}` crashed (exit {res.returncode}):\n{out[-3000:]}")  # type: ignore[attr-defined]
    elif "Usage:" in res.stderr:  # type: ignore[attr-defined]
        problems.append(f"`{shown}`: the table calls it wrongly:\n{res.stderr[-1500:]}")  # type: ignore[attr-defined]
    elif res.returncode == 2 and ("error" not in res.stderr or "fix" not in res.stderr):  # type: ignore[attr-defined]
        problems.append(f"`{shown}` refused without saying what to do (error: … fix: …):\n{out[-1500:]}")
    if NAN.search(res.stdout):  # type: ignore[attr-defined]
        problems.append(f"`{shown}` printed a NaN:\n{res.stdout[-1500:]}")  # type: ignore[attr-defined]
    return problems


#: what reports casualties; on a store whose accidents have no victim rows each must say how many
CASUALTY_OUTPUTS = {"summary", "report", "export hdx"}
NO_VICTIM_DETAILS = re.compile(r"\b(\d+) accidents? ha(?:ve|s) no victim details")


def _run_command(command: str, kind: str, store: Path, out: Path, facts: dict[str, str]) -> list[str]:
    problems: list[str] = []
    said = ""
    for template in COMMANDS[command]:
        args = [a.format(store=store, out=out, **facts) for a in template]
        res = invoke_cli(*args)
        problems += _check_result(args, res)
        said += res.stdout
    problems += _problems_in_files(out)
    if kind in WITHOUT_VICTIMS and command in CASUALTY_OUTPUTS:
        written = said + "".join(f.read_text() for f in out.rglob("*") if f.suffix in (".html", ".csv", ".txt"))
        con = sqlite3.connect(store)
        accidents = con.execute("SELECT count(*) FROM accidents").fetchone()[0]
        con.close()
        counts = {int(n) for n in NO_VICTIM_DETAILS.findall(re.sub(r"\s+", " ", written))}
        if accidents not in counts:
            problems.append(f"{command}: the {accidents} accidents without victim rows are not said to have "
                            f"no victim details (found {sorted(counts) or 'nothing'})")  # fmt: skip
    return problems


#: commands that read only the store's metadata (schema, mappings, sync state): the layers held do not matter
#: to them, so they run on the store with no layer and the one without an area of interest only
METADATA_ONLY = {"db current", "db history", "db upgrade", "db area", "mapping save", "mapping list",
                 "mapping show", "sync conflicts", "orgs add", "orgs list", "users list", "users tokens", "audit list",
                 "audit verify", "review list", "styles"}  # fmt: skip
CASES = [
    (command, kind)
    for command in COMMANDS
    for kind in KINDS
    if command not in METADATA_ONLY or kind in ("empty", "only_accidents")
]


@pytest.mark.parametrize(("command", "kind"), CASES)
def test_command_on_partial_store(
    command: str, kind: str, demo_dir: Path, partial_dir: Path, demo_facts: dict[str, str], tmp_path: Path
) -> None:
    store = partial_store(demo_dir, partial_dir, kind, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    problems = _run_command(command, kind, store, out, demo_facts)
    assert not problems, "\n\n".join(problems)


def test_partial_stores_are_what_they_say(demo_dir: Path, partial_dir: Path, tmp_path: Path) -> None:
    """The stores above really lack what they are named for (else the test above proves nothing)."""
    for kind, (keep, drop, keep_area) in KINDS.items():
        (tmp_path / kind).mkdir()
        store = partial_store(demo_dir, partial_dir, kind, tmp_path / kind)
        con = sqlite3.connect(store)
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ALL_LAYERS}
        area = con.execute("SELECT count(*) FROM safeground_meta WHERE key = 'area_of_interest'").fetchone()[0]
        con.close()
        held = {t for t, n in counts.items() if n}
        if keep is not None:
            assert held == set(keep), (kind, held)
        assert not held & set(drop), (kind, held & set(drop))
        assert bool(area) == keep_area, kind


# -- a country-sized store: two UTM zones ------------------------------------------------------------------
def _country_store(demo: Path, target: Path) -> None:
    """The demo's hazard areas and accidents (no victims) repeated over 6° × 2.5°, across UTM zones 38 and 39."""
    from shapely import affinity

    from safeground.model import Accident, HazardArea
    from safeground.storage import open_store

    with open_store(str(demo), readonly=True) as src, open_store(str(target)) as dst:
        hz, acc = list(src.find(HazardArea)), list(src.find(Accident))
        recs: list[object] = []
        k = 0
        for i in range(6):
            for j in range(3):
                if (i + j) % 4 == 3:
                    continue  # not every part of the country is contaminated
                dx, dy = -2.43 + i * 1.15, -0.93 + j * 1.0
                for r in [*hz, *acc]:
                    k += 1
                    uid = f"{r.UID_PREFIX}-{k:05d}"
                    moved = affinity.translate(r.geometry, dx, dy)
                    extra = {"minefield_record_uids": None} if isinstance(r, HazardArea) else {}
                    recs.append(r.model_copy(update={"uid": uid, "geometry": moved, "admin_area_uid": None, **extra}))
        dst.add_many(recs)  # type: ignore[arg-type]
        dst.set_meta("name", "Country test store")


@pytest.fixture(scope="session")
def country_store(demo_dir: Path, partial_dir: Path) -> Path:
    path = partial_dir / "country.gpkg"
    if not path.exists():
        _country_store(demo_dir / "demo.gpkg", partial_dir / ".country.gpkg")
        (partial_dir / ".country.gpkg").replace(path)
    return path


def test_country_areas_are_measured_equal_area(country_store: Path) -> None:
    """Across two UTM zones, area sums use the equal-area projection: they match the geodesic area on the
    ellipsoid, where the UTM zone of the centre would not."""
    import shapely
    from pyproj import Geod

    from safeground.geometry.projection import utm_epsg
    from safeground.model import HazardArea
    from safeground.storage import open_store
    from safeground.storage.base import area_crs, metric_epsg, store_extent

    with open_store(str(country_store), readonly=True) as s:
        west, _, east, _ = store_extent(s)
        assert utm_epsg(west, 40) != utm_epsg(east, 40)  # the store really spans two zones
        crs = area_crs(s)
        hz = s.read_frame(HazardArea)
        distances_in = metric_epsg(s)
    assert crs.to_epsg() is None
    assert crs.coordinate_operation.method_name == "Lambert Azimuthal Equal Area"
    assert distances_in == utm_epsg((west + east) / 2, 40)  # local distances: UTM of the centre
    east_most = hz[hz.geometry.bounds["minx"] > east - 0.3].geometry
    geodesic = sum(abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.make_valid(g))[0]) for g in east_most)
    equal_area = float(east_most.to_crs(crs).area.sum())
    utm_centre = float(east_most.to_crs(distances_in).area.sum())
    assert abs(equal_area / geodesic - 1) < 1e-4
    assert abs(utm_centre / geodesic - 1) > 1e-3  # why: UTM a zone away is off by more than 0.1 %


def test_country_map_summary_and_report(country_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "country.gpkg"
    shutil.copy(country_store, store)
    res = invoke_cli("map", "--store", str(store), "--out", str(tmp_path / "country.png"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "country.png").stat().st_size > 20_000
    res = invoke_cli("summary", "--store", str(store))
    assert res.returncode == 0, res.stdout + res.stderr
    text = re.sub(r"\s+", " ", res.stdout)
    assert "Lambert azimuthal equal-area" in text
    from safeground.model import Accident
    from safeground.storage import open_store

    with open_store(str(store), readonly=True) as s:
        accidents = s.count(Accident)
    assert accidents == 14 * 53  # the demo's 53 accidents (one on released land) in 14 parts of the country
    assert f"{accidents:,} accidents have no victim details" in text
    res = invoke_cli("report", "national", "--store", str(store), "--out", str(tmp_path / "r"), "--no-pdf",
                     "--simulations", "20")  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    html = (tmp_path / "r" / "national-public.html").read_text()
    assert not NAN.search(html)
    assert NO_VICTIM_DETAILS.search(re.sub(r"\s+", " ", html))


def test_metric_crs_comes_from_the_area_then_the_data_else_a_clear_error(store) -> None:  # type: ignore[no-untyped-def]
    """No store is measured in degrees: the declared area, else where the records are, else a fix to act on."""
    from shapely import affinity

    from safeground.errors import SafeGroundError
    from safeground.model import Accident
    from safeground.storage.base import metric_epsg
    from tests.samples import sample

    with pytest.raises(SafeGroundError) as refused:
        metric_epsg(store)
    assert "db area" in (refused.value.hint or "")
    acc = sample(Accident)
    store.add(acc.model_copy(update={"geometry": affinity.translate(acc.geometry, 10.0 - acc.geometry.x, 0)}))
    assert metric_epsg(store) == 32632 + (0 if acc.geometry.y >= 0 else 100)  # 10° E: UTM zone 32
    store.set_meta("area_of_interest", json.dumps([46.5, 39.3, 47.5, 40.0]))
    assert metric_epsg(store) == 32638  # the declared area wins over the data


@pytest.mark.parametrize("kind", sorted(WITHOUT_VICTIMS))
def test_accidents_without_victims_are_still_on_the_casualty_map(
    demo_dir: Path, partial_dir: Path, kind: str, tmp_path: Path
) -> None:
    """The casualty report's map draws every accident of the period, not only those with victim rows."""
    from safeground.casualties import statistics as cs
    from safeground.model import Accident
    from safeground.storage import open_store

    path = partial_store(demo_dir, partial_dir, kind, tmp_path)
    with open_store(str(path), readonly=True) as s:
        frame = cs.victims_frame(s)
        assert len(frame) == 0  # this kind has no victim rows
        points = cs.accident_points(frame, s)
        stored = s.read_frame(Accident)
        assert len(stored) > 0
        assert sorted(points["accident_uid"]) == sorted(stored["uid"])
        assert (points["victims"] == 0).all()
        import pandas as pd

        dates = pd.to_datetime(stored["accident_date"]).dropna()
        middle = (dates.min() + (dates.max() - dates.min()) / 2).date()
        later = cs.accident_points(frame, s, cs.Selection(start=middle))
        assert 0 < len(later) < len(points)
