"""Fuzzing the form-submission parser and the GCP reader: whatever arrives, a clear error or a result, never a crash."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeground.errors import SafeGroundError
from safeground.intake.control_points import parse_gcps
from safeground.intake.form_exports import form_definition, read_exports
from safeground.intake.form_records import to_records
from safeground.intake.forms import FORMS
from safeground.intake.georef import fit

# a fixed budget: derandomized (the same examples every run, so CI time is bounded and a failure repeats)
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

GPS = st.one_of(
    st.lists(
        st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True), st.integers(-10, 3000), st.integers(0, 99)),
        max_size=6,
    ).map(lambda pts: ";".join(f"{a} {b} {c} {d}" for a, b, c, d in pts)),
    st.text(alphabet="0123456789 .;-eE", max_size=40),
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["2021-03-12", "2031-01-01", "civilian", "killed", "polygon", "line", "yes", "", "n/a"]),
    GPS,
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def field_names(form: str) -> list[str]:
    names = [q["name"] for q in FORMS[form].survey if not q["type"].startswith(("begin", "end"))]
    return [*names, "_uuid", "meta/instanceID", "_index", "_parent_index", "KEY", "PARENT_KEY"]


def _submission(form: str) -> st.SearchStrategy[dict]:
    keys = st.sampled_from(field_names(form)).flatmap(
        lambda n: st.sampled_from([n, f"grp/{n}", f"accident/{n}", f"grp-{n}", f"{n}-Latitude"])
    )
    victims = st.lists(st.dictionaries(keys, VALUE, max_size=8), max_size=3)
    return st.fixed_dictionaries(
        {"_uuid": st.one_of(st.uuids().map(str), st.text(max_size=12), st.none())},
        optional={"victims": victims},
    ).flatmap(lambda base: st.dictionaries(keys, VALUE, max_size=12).map(lambda d: {**base, **d}))


def _run(form: str, files: dict[str, str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for name, content in files.items():
            p = Path(d) / name
            p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
            paths.append(p)
        try:
            to_records(form, read_exports(form_definition(form), paths), (46.0, 39.0, 48.0, 40.5))
        except SafeGroundError as exc:
            assert str(exc)  # a message for the user, never empty


@FUZZ
@given(form=st.sampled_from(list(FORMS)), data=st.data())
def test_fuzzed_json_exports(form, data):
    subs = data.draw(st.lists(_submission(form), max_size=4))
    wrapper = data.draw(st.sampled_from(["results", "value", "list", "junk"]))
    doc = subs if wrapper == "list" else ({wrapper: subs} if wrapper != "junk" else data.draw(VALUE))
    _run(form, {"export.json": json.dumps(doc, default=str)})


@FUZZ
@given(form=st.sampled_from(list(FORMS)), data=st.data())
def test_fuzzed_csv_exports(form, data):
    sep = data.draw(st.sampled_from([",", ";", "\t"]))
    cols = data.draw(st.lists(st.sampled_from(field_names(form)), min_size=1, max_size=10, unique=True))
    cell = st.one_of(SCALAR.map(lambda v: "" if v is None else str(v)), st.text(alphabet=' ",;\n\r\t\\x', max_size=6))
    rows = data.draw(st.lists(st.lists(cell, min_size=0, max_size=len(cols) + 2), max_size=5))

    def line(values: list[str]) -> str:
        return sep.join('"' + v.replace('"', '""') + '"' if data.draw(st.booleans()) else v for v in values)

    text = "\n".join([line(cols), *(line(r) for r in rows)])
    files: dict[str, str | bytes] = {"export.csv": text}
    if form == "accident_report" and data.draw(st.booleans()):
        files["export-victims.csv"] = "\n".join(
            [line(["victim_status", "_parent_index", "age"]), *(line(r) for r in rows)]
        )
    _run(form, files)


@FUZZ
@given(
    form=st.sampled_from(list(FORMS)),
    blob=st.binary(max_size=300),
    suffix=st.sampled_from([".csv", ".json", ".xlsx", ".zip"]),
)
def test_fuzzed_bytes(form, blob, suffix):
    _run(form, {f"export{suffix}": blob})


# -- ground control points ---------------------------------------------------------------------

NUM = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e4, 1e4),
    st.sampled_from(["", "x", "1e400", "-0", "nan", "47.1", "39.6"]),
)


@FUZZ
@given(data=st.data())
def test_fuzzed_gcp_files(data):
    geographic = data.draw(st.booleans())
    header = data.draw(st.sampled_from(["id,col,row,lon,lat", "id,col,row,x,y", "col,row,lon,lat", "col,lon,lat", ""]))
    rows = data.draw(st.lists(st.tuples(st.text(max_size=4), NUM, NUM, NUM, NUM), max_size=9))
    body = "\n".join(",".join(str(v).replace(",", "") for v in r) for r in rows)
    text = header + "\n" + body
    crs = None if geographic else data.draw(st.sampled_from(["EPSG:32638", "EPSG:4326", "EPSG:3857", "nonsense"]))
    for method in ("affine", "polynomial", "auto"):
        try:
            geo = fit(parse_gcps(text, "g.csv", crs), method)
        except SafeGroundError as exc:
            assert str(exc)
            continue
        assert np.isfinite(geo.rms_m) and geo.worst is not None


@FUZZ
@given(text=st.text(max_size=400))
def test_fuzzed_gcp_text(text):
    try:
        fit(parse_gcps(text, "g.csv", "EPSG:32638"), "auto")
    except SafeGroundError as exc:
        assert str(exc)


# -- the clerk's XLSX template for bearing-and-distance records ---------------------------------

CELL = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=10),  # what a cell can hold
    st.sampled_from(
        ["TP1", "TP2", "BM", "end", "turning", "start", "ap_blast", "magnetic", "grid", "mils (6400)", "feet"]
    ),
    st.dates().map(lambda d: d.isoformat()),
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_traverse_workbooks(data):
    from openpyxl import load_workbook

    from safeground.minemaps.traverse import read_record, solve
    from safeground.minemaps.traverse_xlsx import write_template

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rec.xlsx"
        write_template(path, read_record(Path(__file__).parent / "data" / "records" / "handover_97.json"))
        wb = load_workbook(path)
        for _ in range(data.draw(st.integers(1, 8))):
            sheet = data.draw(st.sampled_from(["Record", "Reference point", "Legs", "Rows"]))
            row, col = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 6))
            value = data.draw(CELL)
            wb[sheet].cell(row, col).value = value
        wb.save(path)
        try:
            solve(read_record(path), max_misclosure_m=data.draw(st.sampled_from([None, 5.0])))
        except SafeGroundError as exc:
            assert str(exc)
