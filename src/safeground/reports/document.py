"""What every evidence report shares: audience rules, provenance, tables, figures, rendering.

A report for an international organisation must be checkable (which data, as of
when, which software) and must not hurt anyone it describes. So every report is
built from the same pieces:

* an :class:`~safeground.access.Audience` — ``public`` (the default) and
  ``partner`` never read victim identities, never print an exact position,
  generalise places to a 1 km grid or the settlement, draw hazard areas as the
  policy gives them (:func:`safeground.access.policy.public_hazards`) and
  suppress table cells counting 1–4 people; ``restricted`` may show them;
* a :class:`Provenance` block — a SHA-256 content hash of every layer the report
  read, the date-of-information range of that data, the SafeGround version and
  the time of generation;
* sections of text, tables and matplotlib figures, rendered by one Jinja2
  template to HTML and, through weasyprint, to PDF.

Named ``document`` (it was ``evidence``) because "evidence" in SafeGround is what a hazard area
rests on (``model.hazards.Evidence``, ``minemaps.hazard_evidence``), not the report it appears in.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure

from safeground import __version__
from safeground.access.audience import Audience
from safeground.compute import release_memory
from safeground.geometry.generalise import PUBLIC_GRID_M
from safeground.model.base import Record
from safeground.storage.base import Store
from safeground.storage.schema import layout_of

#: Cells counting fewer people than this are suppressed in public outputs.
MIN_CELL = 5
SUPPRESSED = "<5"
#: a cell of 5 or more hidden so that a "<5" cell in the same row or column cannot be worked out
SECONDARY = "c"


# -- provenance --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Provenance:
    content_hash: str
    layers: dict[str, int]  # layer → records read
    information_from: str | None
    information_to: str | None
    version: str
    generated_at: str
    store_name: str


def _frame_digest(frame: pd.DataFrame) -> bytes:
    """Stable bytes of a frame: rows sorted by uid, geometry as WKB hex, every column."""
    h = _Collect()
    _digest_frame(h, frame)
    return b"".join(h.parts)


class _Collect:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def update(self, data: bytes) -> None:
        self.parts.append(data)


#: rows turned into text at a time by ``_digest_frame``
_DIGEST_ROWS = 2_000


def _digest_frame(h: Any, frame: pd.DataFrame, *, header: bool = True) -> None:
    """Feed :func:`_frame_digest`'s bytes to ``h`` a block of rows at a time: the same bytes (the header, then
    the rows in uid order, each block formatted with the whole frame's column types), without the CSV text and
    the WKB of a whole national layer in memory at once."""
    if not len(frame):
        return
    geometry = frame["geometry"].to_numpy() if "geometry" in frame else None
    df = pd.DataFrame(frame.drop(columns="geometry") if geometry is not None else frame)
    columns = sorted([*df.columns, *(["geometry"] if geometry is not None else [])])
    ordered = df.sort_values("uid")
    pos = df.index.get_indexer(ordered.index)
    for start in range(0, len(ordered), _DIGEST_ROWS):
        block = ordered.iloc[start : start + _DIGEST_ROWS].copy()
        if geometry is not None:
            geoms = geometry[pos[start : start + _DIGEST_ROWS]]
            block["geometry"] = [None if g is None else shapely.to_wkb(g, hex=True) for g in geoms]
        block = block.reindex(columns, axis=1)
        h.update(block.to_csv(index=False, header=header and start == 0).encode())


@dataclass(frozen=True)
class _LayerDigest:
    """What provenance takes from one layer: records read, its digest bytes (kept only for a small layer, so a
    report made of other reports hashes it once), the date-of-information range."""

    count: int
    parts: list[bytes] | None
    lo: str | None
    hi: str | None


#: layers of up to this many records are read in one piece (as before), larger ones in chunks of this many: a
#: national layer of 8,000 activities' polygons with every column is 200 MB in one piece
_ONE_PIECE = 5_000
#: a chunked layer of up to this many records keeps its digest bytes to share (a district's points)
_SHARE_ROWS = 20_000
#: digest bytes of a layer kept for the other reports of the same document, at most (a district's layers)
_SHARE_BYTES = 16_000_000
_shared: ContextVar[dict[tuple[int, str], _LayerDigest] | None] = ContextVar("provenance_shared", default=None)


@contextmanager
def shared_provenance() -> Iterator[None]:
    """Within this block every report's provenance reads and hashes each (small) layer of a store once.

    The national report is made of three reports and hashes the union of their layers again: without this
    each layer of the demo district is read and turned into text up to four times. Only for one document's
    making (the store is not written meanwhile), never across calls: a cached hash would outlive an edit."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def _dates(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    if not len(frame):
        return None, None
    d = pd.to_datetime(frame["date_of_information"])
    lo, hi = d.min(), d.max()
    if pd.isna(lo) or pd.isna(hi):
        return None, None
    return lo.date().isoformat(), hi.date().isoformat()


def _chunk_dtypes(store: Store, cls: type[Record], names: list[str]) -> dict[str, Any] | None:
    """The column types ``read_frame`` would give the whole layer, found from its chunks (one pass, nothing
    kept), or None when the chunks do not come in uid order or hold types this cannot combine.

    ``pandas`` types a column from all its values: an integer column with one empty value is a float
    column, printed ``5.0`` where a chunk without an empty value prints ``5``; the digest must see the
    whole layer's types, so each chunk is cast to them before it is hashed."""
    kinds: dict[str, set[str]] = {n: set() for n in names}
    nulls: dict[str, bool] = dict.fromkeys(names, False)
    last: str | None = None
    for chunk in store.read_frames(cls, names, chunk_rows=_ONE_PIECE, geometry=False):  # column types only
        uids = chunk["uid"].to_numpy()
        if len(uids) and ((last is not None and not last < uids[0]) or not (uids[1:] > uids[:-1]).all()):
            return None  # not in uid order: the digest needs the whole layer sorted
        if len(uids):
            last = uids[-1]
        for n in names:
            col = chunk[n]
            na = col.isna()
            nulls[n] = nulls[n] or bool(na.any())
            if bool(na.all()):
                continue
            kind = col.dtype.kind
            if kind == "O" and pd.api.types.infer_dtype(col, skipna=True) != "string":
                return None  # mixed Python types: leave it to the whole-layer read
            kinds[n].add(kind)
    out: dict[str, Any] = {}
    for n in names:
        k = kinds[n]
        if not k or k == {"O"}:
            out[n] = None  # text (or nothing): the same in every chunk
        elif k <= {"i", "f"}:
            out[n] = "float64" if ("f" in k or nulls[n]) else "int64"
        elif k == {"b"}:
            out[n] = object if nulls[n] else bool
        else:
            return None
    return out


class _Tee:
    """Feeds the report's hash and, for a layer small enough to share, keeps the bytes."""

    def __init__(self, h: Any, keep: bool) -> None:
        self.h = h
        self.parts: list[bytes] | None = [] if keep else None

    def update(self, data: bytes) -> None:
        self.h.update(data)
        if self.parts is not None:
            self.parts.append(data)


def _layer_digest(store: Store, cls: type[Record], h: Any) -> _LayerDigest:
    """Feed ``h`` the layer's digest bytes as ``_digest_frame`` of ``read_frame`` gives them, a large layer a
    chunk at a time (only a small layer's bytes are kept, for :func:`shared_provenance`)."""
    dtypes = None
    if store.count(cls) > _ONE_PIECE:
        dtypes = _chunk_dtypes(store, cls, layout_of(cls).column_names)
    if dtypes is None:  # a district's layer, or one whose chunks cannot be hashed apart: the whole layer at once
        frame = store.read_frame(cls)
        tee = _Tee(h, keep=len(frame) <= _ONE_PIECE)
        _digest_frame(tee, frame)
        return _LayerDigest(len(frame), tee.parts, *_dates(frame))
    tee = _Tee(h, keep=store.count(cls) <= _SHARE_ROWS)
    count, lo, hi = 0, [], []
    for chunk in store.read_frames(cls, layout_of(cls).column_names, chunk_rows=_ONE_PIECE):
        for n, t in dtypes.items():
            if t is not None and chunk[n].dtype != t:
                chunk[n] = chunk[n].astype(t)
        _digest_frame(tee, chunk, header=count == 0)
        count += len(chunk)
        a, b = _dates(chunk)
        if a is not None and b is not None:
            lo.append(a)
            hi.append(b)
        del chunk
        release_memory()
    return _LayerDigest(count, tee.parts, min(lo) if lo else None, max(hi) if hi else None)


def provenance(store: Store, layers: list[type[Record]]) -> Provenance:
    """Content hash and date-of-information range of exactly the layers a report read.

    The hash is of every column of every record, rows in uid order; a layer larger than ``_ONE_PIECE``
    records is read and hashed a chunk at a time (the same bytes), so a country's buildings are never
    all in memory with every column; inside :func:`shared_provenance` a small layer is hashed once."""
    h = hashlib.sha256()
    counts: dict[str, int] = {}
    lo: list[str] = []
    hi: list[str] = []
    shared = _shared.get()
    for cls in sorted(layers, key=lambda c: c.LAYER):
        key = (id(store), cls.LAYER)
        got = shared.get(key) if shared is not None else None
        h.update(cls.LAYER.encode() + b"\n")
        if got is None or got.parts is None:
            got = _layer_digest(store, cls, h)
            if shared is not None and got.parts is not None and sum(map(len, got.parts)) <= _SHARE_BYTES:
                shared[key] = got
        else:
            for part in got.parts:
                h.update(part)
        counts[cls.LAYER] = got.count
        if got.lo is not None and got.hi is not None:
            lo.append(got.lo)
            hi.append(got.hi)
    return Provenance(
        h.hexdigest(),
        counts,
        min(lo) if lo else None,
        max(hi) if hi else None,
        __version__,
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        Path(store.location).name if not store.location.startswith("postgres") else "PostGIS store",
    )


# -- privacy ------------------------------------------------------------------------------------------
Cell = tuple[object, object]  # (row label, column label)


def default_lines(table: pd.DataFrame) -> list[list[Cell]]:
    """Sets of cells whose sum is published: every row (with its total) and every column (its total is a
    key figure or another table's cell)."""
    rows = [[(r, c) for c in table.columns] for r in table.index]
    cols = [[(r, c) for r in table.index] for c in table.columns]
    return rows + cols


def suppression_mask(
    table: pd.DataFrame, *, min_cell: int = MIN_CELL, lines: list[list[Cell]] | None = None
) -> pd.DataFrame:
    """Which cells a public table hides: primary (1 to ``min_cell - 1`` people) and secondary.

    Primary suppression alone is not enough: when one cell of a row is hidden but the
    row total and the other cells are shown, subtraction gives it back. So along every
    line of cells whose sum is published (``lines``), a lone hidden cell gets a second
    one: the smallest non-zero cell still shown. Repeated until no line has a lone
    hidden cell (the usual "at least two per line" rule of statistical disclosure control).
    """
    vals = table.apply(pd.to_numeric, errors="coerce").fillna(0)
    mask = (vals > 0) & (vals < min_cell)
    lines = default_lines(table) if lines is None else lines
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if mask.at[cell]]
            if len(hidden) != 1:
                continue
            shown = [cell for cell in line if not mask.at[cell] and vals.at[cell] > 0]
            if shown:
                mask.at[min(shown, key=lambda cell: vals.at[cell])] = True
                changed = True
    return mask


def suppress(
    table: pd.DataFrame, audience: Audience, *, min_cell: int = MIN_CELL, lines: list[list[Cell]] | None = None
) -> pd.DataFrame:
    """Counts of people as text; in public outputs hidden cells (see :func:`suppression_mask`) read
    "<5" (1 to 4 people) or "c" (5 or more, hidden so that a "<5" cell cannot be worked out).

    Zero stays zero (no one to identify). Restricted outputs show every count.
    """
    mask = (
        suppression_mask(table, min_cell=min_cell, lines=lines)
        if not audience.exact
        else pd.DataFrame(False, index=table.index, columns=table.columns)
    )
    out = table.copy().astype(object)
    for c in out.columns:
        vals = pd.to_numeric(table[c], errors="coerce")
        out[c] = [
            (SUPPRESSED if 0 < v < min_cell else SECONDARY) if s else ("" if pd.isna(v) else f"{int(v):,}")
            for v, s in zip(vals, mask[c], strict=True)
        ]
    return out


def generalise(points: gpd.GeoDataFrame, epsg: int, grid_m: float = PUBLIC_GRID_M) -> gpd.GeoDataFrame:
    """Points counted per grid cell (metric grid, returned as cell squares in the metric CRS)."""
    pm = points.to_crs(epsg)
    ix = np.floor(pm.geometry.x / grid_m).astype(int)
    iy = np.floor(pm.geometry.y / grid_m).astype(int)
    cells = pd.DataFrame({"ix": ix, "iy": iy}).value_counts().rename("count").reset_index()
    boxes = shapely.box(
        cells["ix"] * grid_m, cells["iy"] * grid_m, (cells["ix"] + 1) * grid_m, (cells["iy"] + 1) * grid_m
    )
    return gpd.GeoDataFrame(cells, geometry=boxes, crs=epsg)


# -- building blocks -----------------------------------------------------------------------------------
def figure(fig: Figure) -> str:
    """A matplotlib figure as base64 PNG (embedded: the report is one self-contained file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def table_html(df: pd.DataFrame, *, index: bool = True, floats: str = "{:,.0f}") -> Markup:
    shown = df.copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = [("—" if pd.isna(v) else floats.format(v)) for v in shown[c]]
    shown.columns = [str(c).replace("_", " ") for c in shown.columns]
    if index and shown.index.name:
        shown.index.name = str(shown.index.name).replace("_", " ")
    return Markup(shown.to_html(index=index, na_rep="—", border=0, classes="t", escape=True))


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[str, Markup]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    figures_first: bool = False


@dataclass
class Report:
    kind: str
    title: str
    subtitle: str
    audience: Audience
    key_figures: list[tuple[str, str]]
    sections: list[Section]
    provenance: Provenance
    method_notes: list[str] = field(default_factory=list)
    figures_checked: dict[str, float] = field(default_factory=dict)  # machine-readable key figures


def render(report: Report, out_dir: str | Path, *, pdf: bool = True) -> tuple[Path, Path | None]:
    """Write ``<kind>-<audience>.html`` (and ``.pdf``) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = Environment(loader=PackageLoader("safeground.reports", "templates"), autoescape=select_autoescape())
    html = env.get_template("evidence_report.html.j2").render(r=report, p=report.provenance)
    stem = f"{report.kind}-{report.audience.value}"
    html_path = out / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    if not pdf:
        return html_path, None
    from weasyprint import HTML

    pdf_path = out / f"{stem}.pdf"
    HTML(string=html, base_url=str(out)).write_pdf(pdf_path)
    return html_path, pdf_path
