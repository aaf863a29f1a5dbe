"""Reading every file an import accepts, in batches, so memory does not grow with the file.

GIS formats go through GDAL (pyogrio's Arrow stream): GeoJSON, GeoPackage,
Shapefile (also zipped), KML and KMZ (LIBKML driver); nothing else, and nothing
that makes GDAL read other files or the network (``safeground.intake.confine``).
Tables of coordinates (CSV, XLSX) are read as text cells, row by row, so that
``39°37'12.5"N`` or ``38S`` is never turned into a number by a guess; the
position is worked out later (``safeground.intake.locate``). A CSV exported by
SafeGround carries HXL hashtags in its second row, which is recognised and skipped.
"""

from __future__ import annotations

import csv
import io
import itertools
import warnings
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from safeground.errors import InvalidInput, Param, Problem
from safeground.intake.confine import check_gis_file

TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
_UNREADABLE_HINT = "check that the file is complete (not truncated) and is a GIS file GDAL reads, a CSV or an XLSX"


@dataclass
class Batch:
    """Consecutive features or rows: source columns, their geometry (GIS files) and their labels."""

    frame: pd.DataFrame
    geometry: np.ndarray | None
    items: list[str]
    numbers: np.ndarray | None = None  # the number in each item's label, when the reader knows it

    def item_numbers(self) -> np.ndarray:
        if self.numbers is not None:
            return self.numbers
        return np.fromiter((int(it.split()[1]) for it in self.items), dtype=np.int64, count=len(self.items))


@dataclass
class Source:
    """One input file, opened for reading."""

    path: Path
    layer: str | None = None
    is_table: bool = False
    crs: CRS | None = None
    columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _tmp: Any = None

    @property
    def name(self) -> str:
        return self.path.name

    def batches(self, size: int = 50_000) -> Iterator[Batch]:
        if self.is_table:
            yield from _table_batches(self, size)
        else:
            yield from _gis_batches(self, size)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _unreadable(src: str, exc: Exception | str) -> InvalidInput:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InvalidInput([Problem(src, "file", "-", f"cannot be read: {text}")], hint_text=_UNREADABLE_HINT)


def open_source(path: str | Path, source_layer: str | None = None) -> Source:
    """Open a file for import and check it can be read at all (layers, CRS, header)."""
    path = Path(path)
    src = path.name
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    if path.suffix.lower() in TABLE_SUFFIXES:
        source = Source(path, layer=source_layer, is_table=True)
        source.columns = _table_header(source)
        return source
    check_gis_file(path)  # only the documented formats, and nothing that makes GDAL read elsewhere
    source = Source(path)
    read_path = path
    if path.suffix.lower() == ".zip":
        _refuse_zip_without_shapefile(path)
    if path.suffix.lower() in (".geojson", ".json"):
        from safeground.intake.textin import check_utf8

        check_utf8(path, src)
    if path.suffix.lower() == ".kmz":
        # GDAL's LIBKML opens a KMZ but loses the <Schema> of its attributes: read the document itself
        read_path = _unzip_kml(source)
        check_gis_file(read_path, as_suffix=".kml")
    try:
        layers = [name for name, _ in pyogrio.list_layers(read_path)]
    except Exception as exc:  # GDAL reports truncated/corrupt files in many ways
        raise _unreadable(src, exc) from exc
    if path.suffix.lower() in (".kml", ".kmz") and len(layers) > 1 and source_layer is None:
        # Google Earth puts each folder in its own layer; only the non-empty ones matter
        layers = [n for n in layers if pyogrio.read_info(read_path, layer=n)["features"] > 0] or layers
    if source_layer is None and len(layers) > 1:
        raise InvalidInput(
            [Problem(src, "file", "layer", f"holds {len(layers)} layers: {', '.join(layers)}")],
            hint_text=f"say which one to import with {Param('source_layer')}",
        )
    if source_layer is not None and source_layer not in layers:
        raise InvalidInput(
            [Problem(src, "file", "layer", f"has no layer {source_layer!r}; it has: {', '.join(layers)}")]
        )
    if not layers:
        raise InvalidInput([Problem(src, "file", "layer", "holds no layer")])
    source.layer = source_layer or layers[0]
    source.path = read_path
    try:
        info = pyogrio.read_info(read_path, layer=source.layer)
    except Exception as exc:
        raise _unreadable(src, exc) from exc
    source.crs = CRS.from_user_input(info["crs"]) if info.get("crs") else None
    source.columns = list(info["fields"])
    return source


def _refuse_zip_without_shapefile(path: Path) -> None:
    """A .zip is read as a zipped Shapefile; GDAL read a zipped CSV as a table without geometry,
    so a 200 MB sheet of finds became "no geometry" on every row (or "0 records"). Say what to do."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile as exc:
        raise _unreadable(path.name, exc) from exc
    if any(n.lower().endswith(".shp") for n in names):
        return
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    raise InvalidInput(
        [Problem(path.name, "file", "-", f"a .zip must hold a Shapefile (.shp with .dbf, .shx, .prj); "
                 f"this one holds {shown or 'nothing'}")],
        hint_text="unzip it and import the file inside (e.g. the .csv or .xlsx) directly",
    )  # fmt: skip


def _unzip_kml(source: Source) -> Path:
    import tempfile

    try:
        with zipfile.ZipFile(source.path) as z:
            names = [n for n in z.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise InvalidInput([Problem(source.name, "file", "-", "the KMZ holds no .kml document")])
            source._tmp = tempfile.TemporaryDirectory()
            out = Path(source._tmp.name) / "doc.kml"
            out.write_bytes(z.read("doc.kml" if "doc.kml" in names else names[0]))
            return out
    except zipfile.BadZipFile as exc:
        raise _unreadable(source.name, exc) from exc


def _gis_batches(source: Source, size: int) -> Iterator[Batch]:
    number = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # GDAL's notes on the file, not problems of it
            with pyogrio.open_arrow(source.path, layer=source.layer, batch_size=size, use_pyarrow=True) as (
                meta,
                reader,
            ):
                geom_name = meta.get("geometry_name") or "wkb_geometry"
                for rb in reader:
                    names = rb.schema.names
                    geoms = None
                    if geom_name in names:
                        col = rb.column(names.index(geom_name))
                        geoms = shapely.from_wkb(np.asarray(col.to_numpy(zero_copy_only=False), dtype=object))
                    frame = rb.drop_columns([geom_name]).to_pandas() if geom_name in names else rb.to_pandas()
                    numbers = np.arange(number + 1, number + 1 + len(frame), dtype=np.int64)
                    items = [f"feature {k}" for k in numbers.tolist()]
                    number += len(frame)
                    yield Batch(frame, geoms, items, numbers)
    except InvalidInput:
        raise
    except Exception as exc:  # a file truncated in the middle fails only when that part is read
        raise _unreadable(source.name, exc) from exc


# -- tables of coordinates ---------------------------------------------------------------
def _table_header(source: Source) -> list[str]:
    rows = _table_rows(source)
    try:
        header = next(rows)
    except StopIteration:
        raise InvalidInput([Problem(source.name, "file", "-", "the table is empty (no header row)")]) from None
    finally:
        rows.close()
    names = [str(h).strip() if h is not None else "" for h in header]
    problems = [
        Problem(source.name, "row 1", f"column {i + 1}", "header cell is empty") for i, n in enumerate(names) if not n
    ]
    seen: set[str] = set()
    for n in names:
        if n and n in seen:
            problems.append(Problem(source.name, "row 1", n, "column name appears twice"))
        seen.add(n)
    if problems:
        raise InvalidInput(problems, hint_text="give every column a unique name in the first row")
    return names


def _table_rows(source: Source) -> Generator[list[Any], None, None]:
    """Every row of the table as a list of cells (text for CSV, typed cells for XLSX)."""
    suffix = source.path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        yield from _xlsx_rows(source)
        return
    try:
        if source.path.stat().st_size == 0:
            return
        with source.path.open(encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(64 * 1024)
            fh.seek(0)
            delimiter = "\t" if suffix == ".tsv" else _sniff_delimiter(sample)
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            yield from reader
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            [Problem(source.name, "file", "-", f"is not UTF-8 text (byte {exc.start})")],
            hint_text="save the table as CSV UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)')",
        ) from None
    except csv.Error as exc:
        raise _unreadable(source.name, f"line {reader.line_num}: {exc}") from None


def _sniff_delimiter(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _xlsx_rows(source: Source) -> Iterator[list[Any]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _unreadable(source.name, exc) from None
    try:
        sheets = wb.sheetnames
        if source.layer is not None and source.layer not in sheets:
            raise InvalidInput(
                [Problem(source.name, "file", "sheet", f"has no sheet {source.layer!r}; it has: {', '.join(sheets)}")]
            )
        ws = wb[source.layer] if source.layer else wb[sheets[0]]
        for row in ws.iter_rows(values_only=True):
            yield list(row)
    except InvalidInput:
        raise
    except Exception as exc:  # a damaged sheet inside an intact zip
        raise _unreadable(source.name, exc) from None
    finally:
        wb.close()


def _is_hxl_row(row: list[Any]) -> bool:
    cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
    return bool(cells) and all(c.startswith("#") for c in cells)


def _has_blank_lines(path: Path) -> bool:
    """Blank lines shift Arrow's row count away from the spreadsheet's row numbers."""
    tail = b""
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            text = (tail + block).replace(b"\r\n", b"\n")
            if b"\n\n" in text:
                return True
            tail = block[-2:]
    return False


def _arrow_csv_batches(source: Source, size: int) -> Iterator[Batch]:
    """CSV read by Arrow's C++ reader, every cell as text; row numbers as the spreadsheet shows them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    names = source.columns
    with source.path.open(encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(64 * 1024)
    delimiter = "\t" if source.path.suffix.lower() == ".tsv" else _sniff_delimiter(sample)
    try:  # a lone carriage return in a cell is the reader's to report, with its line, not the HXL check's
        second = list(itertools.islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), 1, 2))
    except csv.Error:
        second = []
    hxl = bool(second) and _is_hxl_row(second[0])
    if hxl:
        source.notes.append("row 2 holds HXL hashtags; read as a second header")
    bad: list[Problem] = []

    def invalid(row: Any) -> str:
        bad.append(
            Problem(
                source.name,
                f"row {row.number}" if row.number else "a row",
                "-",
                f"has {row.actual_columns} cells but the header has {row.expected_columns} columns",
                row.text[:80],
            )
        )
        return "error"

    read = pacsv.ReadOptions(column_names=names, skip_rows=1, skip_rows_after_names=int(hxl), block_size=1 << 22)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=invalid)
    conv = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=True, null_values=[""]
    )
    first = 3 if hxl else 2
    pending: list[Any] = []
    count = 0
    try:
        reader = pacsv.open_csv(source.path, read_options=read, parse_options=parse, convert_options=conv)
        for rb in reader:
            pending.append(rb)
            count += rb.num_rows
            if count >= size:
                yield _arrow_batch(pa.Table.from_batches(pending), first, pc)
                first += count
                pending, count = [], 0
        if pending:
            yield _arrow_batch(pa.Table.from_batches(pending), first, pc)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        # Arrow does not know row numbers when values may hold line breaks: find the row the careful way
        for _ in _python_rows_checked(source):
            pass
        if bad:
            raise InvalidInput(bad, hint_text="a value with a comma must be in quotes; or the file was cut") from None
        raise _unreadable(source.name, exc) from None


def _arrow_batch(table: Any, first: int, pc: Any) -> Batch:
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        blank = pc.equal(pc.utf8_trim_whitespace(col), "")
        cols[name] = pc.if_else(blank, None, col)
    frame = pd.DataFrame({n: c.to_numpy(zero_copy_only=False) for n, c in cols.items()}, dtype=object)
    frame = frame.where(frame.notna(), None)
    empty = frame.isna().all(axis=1).to_numpy()
    numbers = np.arange(first, first + len(frame), dtype=np.int64)
    if empty.any():  # rows of empty cells (",,,,") are blank lines too
        keep = np.flatnonzero(~empty)
        frame = frame.iloc[keep].reset_index(drop=True)
        numbers = numbers[keep]
    return Batch(frame, None, [f"row {k}" for k in numbers.tolist()], numbers)


def _python_rows_checked(source: Source) -> Iterator[list[Any]]:
    """Every row through Python's csv module, which names the row of a cut or malformed line."""
    rows = _table_rows(source)
    header = next(rows)
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header) and any(row):
            raise InvalidInput(
                [
                    Problem(
                        source.name,
                        f"row {line}",
                        "-",
                        f"has {len(row)} cells but the header has {len(header)} columns",
                    )
                ],
                hint_text="a value with a comma must be in quotes; or the file was cut",
            )
        yield row


def _table_batches(source: Source, size: int) -> Iterator[Batch]:
    if source.path.suffix.lower() in (".csv", ".txt", ".tsv") and not _has_blank_lines(source.path):
        yield from _arrow_csv_batches(source, size)
        return
    rows = _table_rows(source)
    header = next(rows)
    width = len(header)
    names = source.columns
    chunk: list[list[Any]] = []
    items: list[str] = []
    line = 1
    for row in rows:
        line += 1
        if line == 2 and _is_hxl_row(row):
            source.notes.append("row 2 holds HXL hashtags; read as a second header")
            continue
        # a cell of spaces is an empty cell; CSV cells are all text, so the common case is one pass
        cells = [c if c and (type(c) is not str or not c.isspace()) else (c if c == 0 else None) for c in row]
        if cells.count(None) == len(cells):
            continue  # blank lines between blocks are common in hand-made sheets
        if len(cells) > width:
            if any(c is not None for c in cells[width:]):
                raise InvalidInput(
                    [
                        Problem(
                            source.name, f"row {line}", "-", f"has {len(row)} cells but the header has {width} columns"
                        )
                    ],
                    hint_text="a value with a comma must be in quotes; or the file was cut",
                )
            cells = cells[:width]
        elif len(cells) < width:
            cells += [None] * (width - len(cells))
        chunk.append(cells)
        items.append(f"row {line}")
        if len(chunk) >= size:
            yield Batch(pd.DataFrame(chunk, columns=names, dtype=object), None, items)
            chunk, items = [], []
    if chunk:
        yield Batch(pd.DataFrame(chunk, columns=names, dtype=object), None, items)


def csv_text(rows: list[list[Any]]) -> str:
    """CSV text of rows (used by exports and tests)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


class ToWGS84:
    """The geometry of a GIS file in WGS 84, its CRS checked once (on the first batch).

    A file without a CRS is refused, even when its numbers look like degrees: degrees
    on Pulkovo 1942 lie about 100 m from the same numbers on WGS 84.
    """

    def __init__(self, source: Source, declared_crs: str | None, notes: list[str]) -> None:
        self.source, self.declared_crs, self.notes = source, declared_crs, notes
        self.crs_checked = False
        self.transformer: Transformer | None = None

    def __call__(self, geoms: np.ndarray) -> np.ndarray:
        src = self.source.name
        if not self.crs_checked:
            self.crs_checked = True
            crs = self.source.crs
            declared = CRS.from_user_input(self.declared_crs) if self.declared_crs else None
            if crs is None and declared is None:
                present = [g for g in geoms if g is not None]
                xy = shapely.get_coordinates(np.asarray(present, dtype=object)) if present else np.empty((0, 2))
                if len(xy) and (np.abs(xy[:, 0]).max() > 180 or np.abs(xy[:, 1]).max() > 90):
                    why = "its coordinates are not longitude/latitude degrees"
                    hint = f"declare it with {Param('crs')} (e.g. {Param('crs', 'EPSG:32638')} for UTM zone 38N)"
                else:
                    # degrees, but of which datum: Soviet-era maps use Pulkovo 1942, about 100 m from WGS 84
                    why = (
                        "its coordinates look like longitude/latitude degrees, but not which datum: degrees on "
                        "Pulkovo 1942 (Soviet-era maps) lie about 100 m from the same numbers on WGS 84"
                    )
                    hint = (
                        f"declare it with {Param('crs', 'EPSG:4326')} (GPS, WGS 84) or "
                        f"{Param('crs', 'EPSG:4284')} (Pulkovo 1942)"
                    )
                raise InvalidInput(
                    [Problem(src, "file", "CRS", f"the file declares no coordinate reference system and {why}")],
                    hint_text=hint + ", or save the file with its CRS (e.g. the .prj beside a Shapefile)",
                )  # fmt: skip
            elif crs is not None and declared is not None and not crs.equals(declared, ignore_axis_order=True):
                raise InvalidInput(
                    [Problem(src, "file", "CRS", f"the file says {crs.name} but {Param('crs')} says {declared.name}")],
                    hint_text=f"leave out {Param('crs')} when the file declares its CRS, or correct the file",
                )
            use = crs or declared
            if use is not None and not use.equals(CRS.from_epsg(4326), ignore_axis_order=True):
                self.notes.append(f"reprojected from {use.name} to WGS 84 (EPSG:4326)")
                self.transformer = Transformer.from_crs(use, 4326, always_xy=True)
        if self.transformer is not None:
            t = self.transformer
            has_geom = np.array([g is not None for g in geoms], dtype=bool)
            geoms = geoms.copy()
            geoms[has_geom] = shapely.transform(
                geoms[has_geom], lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
            )
        return geoms
