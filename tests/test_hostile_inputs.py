"""The hostile corpus (issue 16): every file in ``tests/data/hostile`` through every importer.

Each named case is one probe of the issue that failed before the fix (a traceback, a
hang, a silent acceptance); the matrix below then runs every corpus file through
every importer, under its own name and renamed to the suffix each importer reads,
and accepts only a result or a ``SafeGroundError`` with a message. Big hostile files
(a 200 MB zipped CSV, 100,000-deep JSON, a 200,000-character field) are made at test
time in ``tmp_path`` and never committed. Add a file to the corpus (and its case
here) for every new way an input goes wrong.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from safeground.errors import InvalidInput, SafeGroundError
from safeground.model import EOItem
from safeground.storage import open_store
from tests.conftest import invoke_cli

HOSTILE = Path(__file__).parent / "data" / "hostile"
CORPUS = sorted(p for p in HOSTILE.iterdir() if p.name != "make_hostile.py" and not p.name.startswith("."))
AOI = (46.5, 39.3, 47.5, 40.0)


def _store(tmp_path: Path, name: str = "s.gpkg"):
    s = open_store(str(tmp_path / name))
    s.set_meta("area_of_interest", json.dumps(list(AOI)))
    return s


def _import(tmp_path: Path, path: Path, layer: str = "eo_items"):
    """Import into a fresh store of its own; a refusal must leave it empty."""
    from safeground.intake.features import import_features

    with _store(tmp_path, f"import-{path.stem}-{path.suffix[1:]}.gpkg") as s:
        try:
            return import_features(s, layer, path)
        except SafeGroundError:
            assert s.count(EOItem) == 0
            raise


def _refused(fn, *args) -> str:
    with pytest.raises(SafeGroundError) as exc:
        fn(*args)
    text = str(exc.value)
    assert text
    return text


# -- point 3: positions the importer cannot trust ----------------------------------------------


@pytest.mark.parametrize("name", ["nan_point.geojson", "two_nan_points.geojson"])
def test_a_nan_coordinate_is_refused_with_its_feature_and_field(tmp_path, name):
    text = _refused(_import, tmp_path, HOSTILE / name)
    assert "feature 1, field 'geometry'" in text and "NaN" in text
    if name.startswith("two"):
        assert "feature 2, field 'geometry'" in text  # both named, no IndexError


def test_an_infinite_latitude_is_refused_with_its_row(tmp_path):
    assert "row 2, field 'lat'" in _refused(_import, tmp_path, HOSTILE / "inf_lat.csv")


@pytest.mark.parametrize(
    ("name", "both"), [("lat_and_Lat.csv", ("'lat'", "'Lat'")), ("latitude_and_lat.csv", ("'latitude'", "'lat'"))]
)
def test_two_latitude_columns_are_refused_as_ambiguous_naming_both(tmp_path, name, both):
    text = _refused(_import, tmp_path, HOSTILE / name)
    assert all(b in text for b in both) and "latitude" in text


def test_a_mapping_that_names_the_latitude_settles_the_ambiguity(tmp_path):
    from safeground.intake.features import import_features
    from safeground.intake.mapping import parse_mapping

    fm = parse_mapping("layer: eo_items\ncoordinates: {lat: Lat, lon: lon}\n", "m.yaml")
    with _store(tmp_path) as s:
        import_features(s, "eo_items", HOSTILE / "lat_and_Lat.csv", mapping=fm)
        (item,) = s.find(EOItem)
        assert item.geometry.y == pytest.approx(39.65)


@pytest.mark.parametrize(
    ("reader", "name", "column"),
    [
        ("gcps", "gcps_repeated_header.csv", "lat"),
        ("digitised", "digitised_repeated_header.csv", "row"),
        ("forms", "form_repeated_header.csv", "team"),
        ("features", "repeated_header.csv", "status"),
    ],
)
def test_a_repeated_header_is_refused_by_name(tmp_path, reader, name, column):
    from safeground.intake.control_points import read_gcps
    from safeground.intake.digitised import read_digitised
    from safeground.intake.form_exports import form_definition, read_exports

    path = HOSTILE / name
    fn = {
        "gcps": lambda: read_gcps(path),
        "digitised": lambda: read_digitised(path),
        "forms": lambda: read_exports(form_definition("hazard_report"), [path]),
        "features": lambda: _import(tmp_path, path),
    }[reader]
    text = _refused(fn)
    assert f"field '{column}'" in text and "twice" in text


@pytest.mark.parametrize(
    ("name", "how"),
    [("traverse_repeated_key.yaml", "traverse"), ("mapping_repeated_key.yaml", "mapping"),
     ("weights_repeated_key.yaml", "weights")],
)  # fmt: skip
def test_a_repeated_yaml_key_is_refused_not_the_last_value_taken(name, how):
    text = _refused(_yaml_importers()[how], HOSTILE / name)
    assert "given twice" in text and "line" in text


def test_traverse_save_with_latitude_and_longitude_swapped_is_refused_outside_the_area(tmp_path):
    store = tmp_path / "s.gpkg"
    with _store(tmp_path):
        pass
    res = invoke_cli("maps", "traverse", str(HOSTILE / "traverse_swapped.json"), "--store", str(store), "--save")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "area of interest" in res.stderr and "39.6" in res.stderr  # says where it landed
    assert "Traceback" not in res.stderr
    with open_store(str(store)) as s:
        assert s.counts()["minefield_records"] == 0 and s.count(EOItem) == 0
    ok = invoke_cli("maps", "traverse", str(HOSTILE.parent / "records" / "handover_97.json"), "--store", str(store),
                    "--save")  # fmt: skip
    assert ok.returncode == 0, ok.stderr  # the same record the right way round is saved


# -- point 5: denial of service ------------------------------------------------------------------


def _yaml_importers():
    from safeground.intake.mapping import load_mapping
    from safeground.landrelease.priority import load_weights
    from safeground.minemaps.traverse import read_record

    return {
        "traverse": read_record,
        "mapping": lambda p: load_mapping(None, str(p)),
        "weights": load_weights,
    }


@pytest.mark.parametrize("how", ["traverse", "mapping", "weights"])
def test_a_yaml_alias_bomb_fails_fast(how):
    """Nine anchors of ten aliases each: 10⁹ values once walked. Refused while composing, in well under a second."""
    import time

    start = time.perf_counter()
    text = _refused(_yaml_importers()[how], HOSTILE / "alias_bomb.yaml")
    assert "aliases" in text
    assert time.perf_counter() - start < 10  # it hung for ever before; generous for a loaded CI machine


def test_a_deeply_nested_wkt_collection_is_refused_before_it_is_parsed(tmp_path):
    text = _refused(_import, tmp_path, HOSTILE / "deep_wkt.csv")
    assert "row 2, field 'geometry_wkt'" in text and "nested" in text
    deeper = tmp_path / "deeper.csv"  # 100,000 levels: crashed GEOS
    wkt = "GEOMETRYCOLLECTION (" * 100_000 + "POINT (46.75 39.61)" + ")" * 100_000
    deeper.write_text(f"date_of_information,status,eo_type,how_found,geometry_wkt\n2021-04-02,found,av,"
                      f'manual_clearance,"{wkt}"\n')  # fmt: skip
    assert "nested" in _refused(_import, tmp_path, deeper)


def test_a_huge_mine_count_is_refused_with_a_bound():
    from safeground.minemaps.traverse import read_record

    text = _refused(read_record, HOSTILE / "mine_count_huge.json")
    assert "row 1, field 'mine_count'" in text and "10000" in text


def test_a_crafted_uid_beyond_the_generated_range_does_not_break_later_imports(store):
    from safeground.intake.features import import_features

    import_features(store, "eo_items", HOSTILE / "uid_overflow.csv")
    import_features(store, "eo_items", HOSTILE.parent / "intake" / "eo_finds_dd.csv")  # OverflowError before
    uids = sorted(r.uid for r in store.find(EOItem))
    assert "EO-9223372036854775807" in uids and "EO-00001" in uids
    assert store.next_uid(EOItem) == "EO-00004"


# -- point 6: tracebacks where a message belongs ------------------------------------------------------


def test_latin1_geojson_is_refused_saying_which_encoding(tmp_path):
    text = _refused(_import, tmp_path, HOSTILE / "latin1.geojson")
    assert "not UTF-8" in text and "Latin-1" in text


@pytest.mark.parametrize("name", ["traverse_latin1.json", "traverse_utf16_nobom.yaml"])
def test_traverse_files_not_in_utf8_are_refused_saying_what_to_do(name):
    from safeground.minemaps.traverse import read_record

    text = _refused(read_record, HOSTILE / name)
    assert "not UTF-8" in text and ("Latin-1" in text or "UTF-16" in text) and "save the file as UTF-8" in text


def test_a_utf16_traverse_file_with_a_byte_order_mark_is_read():
    from safeground.minemaps.traverse import read_record

    assert read_record(HOSTILE / "traverse_utf16_bom.json").source == "Relevé de Sainte-Hélène"


def _deep(n: int) -> str:
    return "[" * n + "]" * n


def test_100000_deep_json_is_refused_by_every_json_reader(tmp_path):
    from safeground.intake.digitised import read_digitised
    from safeground.intake.form_exports import form_definition, read_exports
    from safeground.minemaps.traverse import read_record

    doc = _deep(100_000)
    for name, fn in [
        ("rec.json", read_record),
        ("pixels.geojson", read_digitised),
        ("export.json", lambda p: read_exports(form_definition("eo_find"), [p])),
        ("finds.geojson", lambda p: _import(tmp_path, p)),
    ]:
        (tmp_path / name).write_text(doc)
        assert "nested" in _refused(fn, tmp_path / name) or name == "finds.geojson"


def test_a_200000_character_field_is_refused_with_row_and_field(tmp_path):
    from safeground.intake.control_points import read_gcps
    from safeground.intake.form_exports import form_definition, read_exports

    big = "x" * 200_000
    finds = tmp_path / "finds.csv"
    finds.write_text(f"date_of_information,status,eo_type,how_found,lon,lat,eo_model\n"
                     f"2021-04-02,found,av,manual_clearance,46.75,39.61,{big}\n")  # fmt: skip
    assert "row 2, field 'eo_model'" in _refused(_import, tmp_path, finds)
    gcps = tmp_path / "gcps.csv"
    gcps.write_text(f"id,col,row,lon,lat\nA,0,0,46.7,39.6\nB,{big},0,46.8,39.6\n")
    assert "field larger" in _refused(read_gcps, gcps)
    form = tmp_path / "export.csv"
    form.write_text(f"_uuid,team\nabc,{big}\n")
    assert _refused(lambda: read_exports(form_definition("hazard_report"), [form]))


def test_a_uid_that_the_next_generated_one_would_repeat_gets_another(store, tmp_path):
    from safeground.intake.features import import_features

    path = tmp_path / "finds.csv"
    path.write_text("uid,date_of_information,status,eo_type,how_found,lon,lat\n"
                    "EO-00001,2021-04-02,found,av,manual_clearance,46.75,39.61\n"
                    ",2021-04-02,found,av,manual_clearance,46.76,39.61\n")  # fmt: skip
    import_features(store, "eo_items", path)  # IntegrityError before
    assert sorted(r.uid for r in store.find(EOItem)) == ["EO-00001", "EO-00002"]


def test_a_full_disk_is_a_message_and_the_store_is_unchanged(tmp_path):
    """RLIMIT_FSIZE in the importing process: the file may not grow, as on a full disk."""
    import os
    import resource
    import subprocess
    import sys

    store = tmp_path / "s.gpkg"
    with _store(tmp_path):
        pass
    rows = "".join(f"2021-04-02,found,av,manual_clearance,{46.6 + i * 1e-5:.6f},39.61\n" for i in range(20_000))
    (tmp_path / "many.csv").write_text("date_of_information,status,eo_type,how_found,lon,lat\n" + rows)
    size = os.path.getsize(store)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 200_000, size + 200_000))

    exe = Path(sys.executable).with_name("safeground")
    res = subprocess.run([str(exe), "import", "eo_items", str(tmp_path / "many.csv"), "--store", str(store)],
                         preexec_fn=limit, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "disk is full" in res.stderr and "nothing of this change was stored" in res.stderr
    assert "Traceback" not in res.stderr and "cannot rollback" not in res.stderr
    with open_store(str(store)) as s:
        assert s.count(EOItem) == 0


def test_a_store_locked_by_another_writer_is_a_message_after_waiting(tmp_path, monkeypatch):
    import sqlite3

    from safeground.storage import gpkg
    from tests.samples import sample

    monkeypatch.setattr(gpkg, "_BUSY_S", 0.5)  # the wait (30 s in use), short for the test
    with _store(tmp_path):
        pass
    path = str(tmp_path / "s.gpkg")
    with open_store(path) as s:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            text = _refused(s.add, sample(EOItem, 1))  # a write waits, then says so
            assert "locked" in text and "nothing of this change was stored" in text
        finally:
            other.execute("ROLLBACK")
            other.close()
        s.add(sample(EOItem, 1))  # the lock gone, the same write goes through
        assert s.count(EOItem) == 1


# -- point 9: smaller silent acceptances ----------------------------------------------------------


def test_dropped_heights_are_noted(tmp_path):
    rep = _import(tmp_path, HOSTILE / "z_values.geojson")
    assert any("Z values" in n and "dropped" in n for n in rep.notes)


def test_a_placeholder_date_is_refused(tmp_path):
    text = _refused(_import, tmp_path, HOSTILE / "date_0001.csv")
    assert "row 2, field 'date_of_information'" in text and "before 1900" in text


def test_a_zipped_csv_is_refused_with_what_to_do(tmp_path):
    assert "unzip it" in _refused(_import, tmp_path, HOSTILE / "zipped_csv.zip")
    big = tmp_path / "finds.zip"  # 200 MB of CSV, as in the probe ("imported 0 records")
    row = b"2021-04-02,found,av,manual_clearance,46.75,39.61\n" * 10_000
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z, z.open("finds.csv", "w") as f:
        f.write(b"date_of_information,status,eo_type,how_found,lon,lat\n")
        for _ in range(200_000_000 // len(row)):
            f.write(row)
    text = _refused(_import, tmp_path, big)
    assert "holds finds.csv" in text and "unzip it" in text


def test_a_truncated_png_never_becomes_a_geotiff(tmp_path):
    from safeground.intake.geotiff import read_scan

    assert "cut short" in _refused(read_scan, HOSTILE / "scan_truncated.png")


def test_a_truncated_png_is_refused_in_a_process_that_made_a_pdf(tmp_path):
    """weasyprint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process when imported (a server, any report):
    the check clears it for itself and puts it back (found when the suite's order put a report first)."""
    import weasyprint  # noqa: F401 - its import is the point
    from PIL import ImageFile

    from safeground.intake.geotiff import read_scan

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    assert "cut short" in _refused(read_scan, HOSTILE / "scan_truncated.png")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # weasyprint's own images still load as it wants


# -- the matrix: every corpus file through every importer ----------------------------------------------


def _importers(tmp_path: Path):
    from safeground.intake.control_points import read_gcps
    from safeground.intake.digitised import read_digitised
    from safeground.intake.features import import_features
    from safeground.intake.form_exports import form_definition, read_exports
    from safeground.intake.form_records import to_records
    from safeground.intake.georef import fit
    from safeground.intake.geotiff import read_scan
    from safeground.intake.mapping import load_mapping
    from safeground.landrelease.priority import load_weights
    from safeground.minemaps.traverse import read_record, solve

    def features(p: Path) -> None:
        with _store(tmp_path, f"{p.stem}-{p.suffix[1:]}.gpkg") as s:
            try:
                import_features(s, "eo_items", p)
            except SafeGroundError:
                assert s.count(EOItem) == 0  # refused: nothing stored
                raise

    return {  # importer → (function, the suffix it reads)
        "features import": (features, None),
        "forms": (lambda p: to_records("eo_find", read_exports(form_definition("eo_find"), [p]), AOI), ".csv"),
        "scan control points": (lambda p: fit(read_gcps(p), "auto"), ".csv"),
        "scan digitised features": (read_digitised, ".geojson"),
        "scan image": (read_scan, ".png"),
        "traverse text": (lambda p: solve(read_record(p)), ".yaml"),
        "traverse XLSX": (lambda p: solve(read_record(p)), ".xlsx"),
        "mapping YAML": (lambda p: load_mapping(None, str(p)), ".yaml"),
        "plan --weights YAML": (load_weights, ".yaml"),
    }


IMPORTERS = [
    "features import", "forms", "scan control points", "scan digitised features", "scan image", "traverse text",
    "traverse XLSX", "mapping YAML", "plan --weights YAML",
]  # fmt: skip


@pytest.mark.parametrize("importer", IMPORTERS)
def test_every_hostile_file_through_every_importer_gives_a_result_or_a_message(tmp_path, importer):
    fn, suffix = _importers(tmp_path)[importer]
    outcomes = {}
    for path in CORPUS:
        tries = [path]
        if suffix and path.suffix != suffix:  # also under the name the importer expects
            renamed = tmp_path / (path.stem + suffix)
            shutil.copy(path, renamed)
            tries.append(renamed)
        for p in tries:
            try:
                fn(p)
                outcomes[p.name] = "accepted"
            except SafeGroundError as exc:
                assert str(exc).strip(), p.name
                outcomes[p.name] = "refused"
            # anything else (a traceback) fails the test, naming the file
    assert outcomes, "the corpus is empty"


def test_the_cli_prints_messages_not_tracebacks_for_the_corpus(tmp_path):
    """A sample of the corpus through the installed command: exit status 2, a message, no traceback."""
    store = str(tmp_path / "s.gpkg")
    with _store(tmp_path):
        pass
    runs = [
        ("import", "eo_items", str(HOSTILE / "two_nan_points.geojson"), "--store", store),
        ("import", "eo_items", str(HOSTILE / "latin1.geojson"), "--store", store),
        ("maps", "traverse", str(HOSTILE / "alias_bomb.yaml")),
        ("maps", "traverse", str(HOSTILE / "traverse_latin1.json")),
        ("mapping", "save", "m", str(HOSTILE / "alias_bomb.yaml"), "--store", store),
        ("forms", "import", "hazard_report", str(HOSTILE / "form_repeated_header.csv"), "--store", store),
    ]
    for args in runs:
        res = invoke_cli(*args)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr and "error" in res.stderr, (args, res.stderr)
    with open_store(store) as s:
        assert sum(s.counts().values()) == 0


def test_the_corpus_is_what_its_generator_writes():
    """The committed files are reproducible (``python make_hostile.py``); none is a big file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    files = mod.files()
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        assert (HOSTILE / name).exists(), name
        if not name.endswith((".png", ".zip")):  # a PNG's and a zip's bytes carry encoder details
            assert (HOSTILE / name).read_bytes() == data, name
    assert all(p.stat().st_size < 100_000 for p in CORPUS)


def test_invalid_input_names_file_item_and_field_for_every_corpus_refusal(tmp_path):
    """Refusals of the table importer are InvalidInput with the file's name in every problem."""
    for path in CORPUS:
        try:
            _import(tmp_path, path)
        except InvalidInput as exc:
            assert all(p.source == path.name for p in exc.problems), path.name
        except SafeGroundError:
            pass
