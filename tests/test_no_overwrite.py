"""No silent overwrite: no command writes an output over its store, another store, or a file it did not make.

Issue 16, point 1: ``export layer … --out s.gpkg --store s.gpkg`` turned the store
into a CSV. Every command's file options are enumerated from the typer app; each
output option is run with the store's own path and must be refused (even with
``--overwrite``) with the store unchanged byte for byte. A new command whose file
option is in neither list below fails ``test_every_file_option_is_classified``.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import typing
from pathlib import Path

import pytest
import typer

from tests.conftest import invoke_cli

S = "{store}"  # placeholder for the store's path in the argv below

#: every output option of every command, with an argv that reaches its guard; the output is the store itself.
#: "store" = the command knows the store (refused even with --overwrite), "content" = the command has no store
#: and recognises one by its content (refused without --overwrite).
OUTPUT_CASES: dict[tuple[str, str], tuple[list[str], str]] = {
    ("map", "out"): (["map", "--store", S, "--out", S], "store"),
    ("demo", "png"): (["demo", "--store", S, "--png", S], "store"),
    ("import", "report"): (["import", "hazard_areas", "{input}", "--store", S, "--report", S], "store"),
    ("import", "changes"): (["import", "hazard_areas", "{input}", "--store", S, "--changes", S], "store"),
    ("import", "quarantine"): (["import", "hazard_areas", "{input}", "--store", S, "--quarantine", S], "store"),
    ("check", "out"): (["check", "--batch", "{points}", "--store", S, "--out", S], "store"),
    ("route", "out"): (["route", "47.1,39.6", "47.2,39.7", "--store", S, "--out", S], "store"),
    ("village-map", "out"): (["village-map", "Nowhere", "--store", S, "--out", S], "store"),
    ("report", "out"): (["report", "national", "--store", S, "--out", S], "store"),
    ("maps accuracy", "out"): (["maps", "accuracy", "--store", S, "--format", "csv", "--out", S], "store"),
    ("maps evidence", "out"): (["maps", "evidence", "--store", S, "--out", S], "store"),
    ("maps evidence", "proposals_out"): (["maps", "evidence", "--store", S, "--proposals", S], "store"),
    ("maps dossier", "out"): (["maps", "dossier", "MFR-00001", "--store", S, "--out", S], "store"),
    ("maps template", "out"): (["maps", "template", S], "content"),
    ("risk train", "out"): (["risk", "train", "--store", S, "--out", S], "store"),
    ("risk evaluate", "out"): (["risk", "evaluate", "--store", S, "--out", S], "store"),
    ("risk predict", "out"): (["risk", "predict", "--model", "{input}", "--store", S, "--out", S], "store"),
    ("scan georef", "out"): (["scan", "georef", "{input}", "--gcps", "{input}", "--out", S], "content"),
    ("scan georef", "residuals"): (
        ["scan", "georef", "{input}", "--gcps", "{input}", "--out", "{free}", "--residuals", S],
        "content",
    ),
    ("scan features", "out"): (
        ["scan", "features", "{input}", "--gcps", "{input}", "--store", S, "--out", S],
        "store",
    ),
    ("scan features", "problems_csv"): (
        ["scan", "features", "{input}", "--gcps", "{input}", "--store", S, "--problems", S],
        "store",
    ),
    ("forms export", "directory"): (["forms", "export", S], "folder"),
    ("forms import", "problems"): (
        ["forms", "import", "hazard_report", "{input}", "--store", S, "--problems", S],
        "store",
    ),
    ("export hdx", "out"): (["export", "hdx", "--store", S, "--out", S], "store"),
    ("export layer", "out"): (
        ["export", "layer", "hazard_areas", "--store", S, "--format", "csv", "--out", S],
        "store",
    ),
    ("plan priorities", "out"): (["plan", "priorities", "--store", S, "--format", "csv", "--out", S], "store"),
    ("plan forecast", "out"): (["plan", "forecast", "--store", S, "--format", "csv", "--out", S], "store"),
    ("plan backtest", "png"): (["plan", "backtest", "--store", S, "--png", S], "store"),
}

#: file options that are read, never written (plus generate/demo's --store, tested on their own below)
INPUTS = {
    ("generate", "store"), ("demo", "store"), ("import", "file"), ("check", "batch"), ("check", "settings"),
    ("report", "weights"),
    ("report", "risk"), ("mapping save", "file"), ("maps traverse", "file"), ("maps template", "example"),
    ("risk train", "events"), ("risk train", "context"), ("risk train", "dem"), ("risk evaluate", "events"),
    ("risk evaluate", "context"), ("risk evaluate", "dem"), ("risk predict", "model_file"),
    ("risk predict", "events"), ("risk predict", "context"), ("risk predict", "at"), ("risk explain", "model_file"),
    ("risk explain", "events"), ("risk explain", "context"), ("scan georef", "image"), ("scan georef", "gcps"),
    ("scan features", "file"), ("scan features", "gcps"), ("forms import", "files"), ("plan priorities", "weights"),
    ("plan priorities", "risk"), ("plan forecast", "weights"), ("plan forecast", "risk"), ("public-info set", "rules"),
    ("assistance import", "file"), ("missing import", "file"),
}  # fmt: skip


def _commands() -> list[tuple[str, object]]:
    from safeground.cli import app

    out: list[tuple[str, object]] = []

    def walk(c: object, prefix: list[str]) -> None:
        subs = getattr(c, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*prefix, name])
        else:
            out.append((" ".join(prefix), c))

    walk(typer.main.get_command(app), [])
    return out


def _is_path(hint: object) -> bool:
    return hint is Path or any(_is_path(a) for a in typing.get_args(hint))


def _file_options() -> list[tuple[str, str, bool]]:
    """(command, parameter, has --overwrite) for every Path-typed parameter of every command."""
    found = []
    for name, cmd in _commands():
        hints = typing.get_type_hints(cmd.callback)  # type: ignore[attr-defined]
        names = {p.name for p in cmd.params}  # type: ignore[attr-defined]
        for p in cmd.params:  # type: ignore[attr-defined]
            if _is_path(hints.get(p.name)) or (name in ("generate", "demo") and p.name == "store"):
                found.append((name, p.name, "overwrite" in names))
    return found


def test_every_file_option_is_classified_and_every_output_has_overwrite():
    options = _file_options()
    assert len(options) > 40  # the enumeration sees the whole app
    unclassified = [(c, p) for c, p, _ in options if (c, p) not in OUTPUT_CASES and (c, p) not in INPUTS]
    assert not unclassified, f"new file options: add them to OUTPUT_CASES (and guard them) or INPUTS: {unclassified}"
    without = sorted({c for c, p, has in options if (c, p) in OUTPUT_CASES and not has})
    assert not without, f"commands that write files but have no --overwrite: {without}"
    stale = [k for k in OUTPUT_CASES if k not in {(c, p) for c, p, _ in options}]
    assert not stale, stale


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path) -> list[str]:
    """Every table's rows: what a store holds, whatever SQLite's header says about the last opening."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What SafeGround wrote is remembered per test, not in the user's home."""
    monkeypatch.setenv("SAFEGROUND_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def store_copy(small_store: Path, tmp_path: Path) -> Path:
    p = tmp_path / "s.gpkg"
    shutil.copy(small_store, p)
    return p


@pytest.mark.parametrize("case", sorted(OUTPUT_CASES), ids=lambda k: f"{k[0]}--{k[1]}")
def test_an_output_over_the_store_is_refused_and_the_store_unchanged(case, store_copy: Path, tmp_path: Path):
    argv, kind = OUTPUT_CASES[case]
    inp = tmp_path / "in.csv"
    inp.write_text("lon,lat\n47.1,39.6\n", encoding="utf-8")
    sub = {S: str(store_copy), "{input}": str(inp), "{points}": str(inp), "{free}": str(tmp_path / "free.tif")}
    args = [sub.get(a, a) for a in argv]
    if kind == "store":
        args.append("--overwrite")  # the store itself is never an output, whatever the flags
    before = _digest(store_copy)
    res = invoke_cli(*args, cwd=tmp_path)
    assert res.returncode == 2, (args, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    expected = {
        "store": "is the store this command reads",
        "content": "is a SafeGround store",
        "folder": "is a file, not a folder",
    }[kind]
    assert expected in res.stderr, res.stderr
    assert _digest(store_copy) == before
    assert not list(tmp_path.glob(".safeground-*")), "a staging folder was left behind"


def test_the_issue_cases_word_for_word(store_copy: Path, tmp_path: Path):
    """The reported commands: each said it had written, and the store was gone."""
    s = str(store_copy)
    before = _digest(store_copy)
    for fmt in ("csv", "gpkg"):
        res = invoke_cli("export", "layer", "hazard_areas", "--format", fmt, "--out", s, "--store", s)
        assert res.returncode == 2 and "never writes an output over it" in res.stderr
        assert "exported" not in res.stdout
    res = invoke_cli("maps", "template", s)
    assert res.returncode == 2 and "is a SafeGround store" in res.stderr
    assert _digest(store_copy) == before
    # the store is still a store: it opens and has its records
    res = invoke_cli("summary", "--store", s)
    assert res.returncode == 0, res.stderr


def test_the_store_is_recognised_by_content_and_its_journal_files_too(store_copy: Path, tmp_path: Path):
    disguised = tmp_path / "notes.txt"
    shutil.copy(store_copy, disguised)
    before = _digest(disguised)
    res = invoke_cli("maps", "template", str(disguised))
    assert res.returncode == 2 and "is a SafeGround store" in res.stderr
    assert _digest(disguised) == before
    res = invoke_cli("export", "layer", "hazard_areas", "-f", "csv", "--out", f"{store_copy}-wal", "--store",
                     str(store_copy), "--overwrite")  # fmt: skip
    assert res.returncode == 2 and "is the store this command reads" in res.stderr
    assert not Path(f"{store_copy}-wal").exists()


def test_another_store_is_replaced_only_with_overwrite(store_copy: Path, small_store: Path, tmp_path: Path):
    other = tmp_path / "other.gpkg"
    shutil.copy(small_store, other)
    before = _digest(other)
    args = ["export", "layer", "hazard_areas", "-f", "gpkg", "--out", str(other), "--store", str(store_copy)]
    res = invoke_cli(*args)
    assert res.returncode == 2 and "is a SafeGround store" in res.stderr and "--overwrite" in res.stderr
    assert _digest(other) == before
    res = invoke_cli(*args, "--overwrite")
    assert res.returncode == 0, res.stderr
    con = sqlite3.connect(other)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert "hazard_areas" in tables and "safeground_meta" not in tables  # now the export asked for


def test_own_outputs_are_rewritten_but_a_strangers_or_an_edited_file_is_not(store_copy: Path, tmp_path: Path):
    out = tmp_path / "hazards.csv"
    args = ["export", "layer", "hazard_areas", "-f", "csv", "--out", str(out), "--store", str(store_copy)]
    assert invoke_cli(*args).returncode == 0
    assert invoke_cli(*args).returncode == 0  # SafeGround wrote it and nobody changed it: a rerun needs no flag
    out.write_text(out.read_text(encoding="utf-8") + "a note the analyst added\n", encoding="utf-8")
    edited = out.read_bytes()
    res = invoke_cli(*args)
    assert res.returncode == 2 and "did not write it (or it was changed since)" in res.stderr
    assert out.read_bytes() == edited
    stranger = tmp_path / "budget.csv"
    stranger.write_text("item,cost\nfuel,12\n", encoding="utf-8")
    res = invoke_cli("export", "layer", "hazard_areas", "-f", "csv", "--out", str(stranger), "--store", str(store_copy))
    assert res.returncode == 2 and stranger.read_text(encoding="utf-8") == "item,cost\nfuel,12\n"
    res = invoke_cli("export", "layer", "hazard_areas", "-f", "csv", "--out", str(stranger), "--store", str(store_copy),
                     "--overwrite")  # fmt: skip
    assert res.returncode == 0 and stranger.read_text(encoding="utf-8").startswith("uid,version,")


def test_import_report_is_refused_before_anything_is_imported(store_copy: Path, tmp_path: Path):
    stranger = tmp_path / "problems.csv"
    stranger.write_text("keep me\n", encoding="utf-8")
    data = tmp_path / "eo.csv"
    data.write_text("lon,lat,eo_type\n47.1,39.6,antipersonnel_mine\n", encoding="utf-8")
    before = _digest(store_copy)
    res = invoke_cli("import", "eo_items", str(data), "--store", str(store_copy), "--report", str(stranger))
    assert res.returncode == 2 and "did not write it" in res.stderr
    assert stranger.read_text(encoding="utf-8") == "keep me\n"
    assert _digest(store_copy) == before  # refused first: nothing imported, then a complaint about the report


def test_a_failed_write_leaves_the_old_file_and_no_half_file(tmp_path: Path):
    from safeground.outputs import staged_file

    target = tmp_path / "report.csv"
    target.write_text("the old report\n", encoding="utf-8")
    with pytest.raises(RuntimeError), staged_file(target, overwrite=True) as tmp:
        tmp.write_text("half of the new", encoding="utf-8")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_a_failing_command_leaves_the_previous_output(store_copy: Path, tmp_path: Path):
    pdf = tmp_path / "map.pdf"
    pdf.write_bytes(b"%PDF-1.4 the map printed last week")
    res = invoke_cli("village-map", "No such village", "--store", str(store_copy), "--out", str(pdf), "--overwrite")
    assert res.returncode == 2
    assert pdf.read_bytes() == b"%PDF-1.4 the map printed last week"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "state") == ["map.pdf", "s.gpkg"]


def _edit_a_record(path: Path) -> None:
    """What a form import, a sync or a field edit does: a new version of a record, through the store API."""
    from safeground.model import HazardArea
    from safeground.storage import open_store

    with open_store(str(path)) as s:
        rec = next(iter(s.find(HazardArea)))
        s.update(rec.model_copy(update={"name": "surveyed by the field team"}), expected_version=rec.version)


def test_demo_and_generate_never_replace_a_store_with_real_data(store_copy: Path, tmp_path: Path):
    _edit_a_record(store_copy)
    before = _digest(store_copy)
    for args in (
        ["demo", "--store", str(store_copy), "--size-km", "4", "--png", str(tmp_path / "m.png"), "--overwrite"],
        ["generate", "--store", str(store_copy), "--size-km", "4", "--overwrite"],
        ["generate", "--store", str(store_copy), "--size-km", "4", "--force"],
    ):
        res = invoke_cli(*args, cwd=tmp_path)
        assert res.returncode == 2, res.stdout
        assert "holds data that was not generated" in res.stderr
        assert _digest(store_copy) == before


def test_demo_replaces_its_own_generated_store_but_not_an_imported_one(store_copy: Path, tmp_path: Path):
    res = invoke_cli("generate", "--store", str(store_copy), "--size-km", "4")
    assert res.returncode == 2 and "--overwrite" in res.stderr  # generate asks before replacing anything
    res = invoke_cli("generate", "--store", str(store_copy), "--size-km", "4", "--seed", "7", "--overwrite")
    assert res.returncode == 0, res.stderr  # generated data only: may be replaced when asked
    import json

    from safeground.storage import open_store

    with open_store(str(store_copy), readonly=True) as s:
        w, so, e, n = json.loads(s.get_meta("area_of_interest") or "[]")
    data = tmp_path / "eo.csv"
    data.write_text(
        f"date_of_information,status,eo_type,how_found,lon,lat\n2021-04-02,found,ap_blast,manual_clearance,"
        f"{(w + e) / 2},{(so + n) / 2}\n",
        encoding="utf-8",
    )
    res = invoke_cli("import", "eo_items", str(data), "--store", str(store_copy))
    assert res.returncode == 0, res.stderr
    before = _digest(store_copy)
    res = invoke_cli("demo", "--store", str(store_copy), "--size-km", "4", cwd=tmp_path)
    assert res.returncode == 2 and "holds data that was not generated" in res.stderr
    assert _digest(store_copy) == before


def test_demo_will_not_replace_a_file_that_is_not_a_store_without_overwrite(tmp_path: Path):
    thesis = tmp_path / "demo.gpkg"
    thesis.write_text("my thesis, saved under the wrong name", encoding="utf-8")
    res = invoke_cli("demo", "--size-km", "4", cwd=tmp_path)
    assert res.returncode == 2 and "SafeGround did not write it" in res.stderr
    assert thesis.read_text(encoding="utf-8") == "my thesis, saved under the wrong name"


def test_a_foreign_sqlite_file_is_not_turned_into_a_store(tmp_path: Path):
    foreign = tmp_path / "inventory.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE stock (item TEXT, qty INTEGER)")
    con.execute("INSERT INTO stock VALUES ('detectors', 12)")
    con.commit()
    con.close()
    before = _digest(foreign)
    data = tmp_path / "eo.csv"
    data.write_text("lon,lat,eo_type\n47.1,39.6,antipersonnel_mine\n", encoding="utf-8")
    res = invoke_cli("import", "eo_items", str(data), "--store", str(foreign))
    assert res.returncode == 2 and "an SQLite database but not a SafeGround store" in res.stderr
    assert _digest(foreign) == before


def test_a_store_of_a_newer_schema_is_refused_for_writing_but_still_read(store_copy: Path, tmp_path: Path):
    con = sqlite3.connect(store_copy)
    con.execute("UPDATE safeground_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    before = _digest(store_copy)
    data = tmp_path / "eo.csv"
    data.write_text("lon,lat,eo_type\n47.1,39.6,antipersonnel_mine\n", encoding="utf-8")
    res = invoke_cli("import", "eo_items", str(data), "--store", str(store_copy))
    assert res.returncode == 2 and "written by a newer SafeGround" in res.stderr and "Traceback" not in res.stderr
    assert _digest(store_copy) == before
    res = invoke_cli("summary", "--store", str(store_copy))
    assert res.returncode == 0, res.stderr


def test_sync_push_to_itself_or_to_a_copy_of_itself_is_refused(store_copy: Path, tmp_path: Path):
    before = _rows(store_copy)
    res = invoke_cli("sync", "push", "--store", str(store_copy), "--server", str(store_copy))
    assert res.returncode == 2 and "are the same store" in res.stderr, res.stderr
    twin = tmp_path / "server.gpkg"
    shutil.copy(store_copy, twin)
    res = invoke_cli("sync", "push", "--store", str(store_copy), "--server", str(twin))
    assert res.returncode == 2 and "are the same store" in res.stderr
    assert _rows(store_copy) == before
