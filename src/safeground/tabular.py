"""The one writer of CSV and XLSX cells: text that a spreadsheet would run as a formula is neutralised.

An organisation's acronym, a village name or a field note typed as
``=HYPERLINK(…)`` or ``@SUM(1+1)*cmd|' /C calc'!A0`` is stored as typed, but in
a CSV or workbook that a clerk opens in Excel or LibreOffice it would run. As
OWASP recommends ("CSV Injection"), every *text* cell that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is written with a leading single
quote, which spreadsheets show as text. Numbers stay numbers: ``-12.5`` as a
float is written as is, and so is a text cell that is only a plain number
(``-12.5``, ``+3``), which no spreadsheet runs. Stored values never change; only
what is written to the file does.

Every CSV and XLSX output of SafeGround goes through :func:`writer`,
:func:`frame_to_csv` or :func:`xlsx_value`; ``tests/test_formula_injection.py``
fails when code writes CSV or workbook cells another way.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import IO, Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """The value to write in a cell: text that would start a formula gets a leading ``'``, all else as is."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every cell passes :func:`safe_cell`."""

    def __init__(self, fh: IO[str], **kwargs: Any) -> None:
        # rows end in CRLF (RFC 4180): the csv module quotes a field only for the characters of its line ending,
        # and a bare carriage return left unquoted would split the row and start a new cell with what follows
        kwargs["lineterminator"] = "\r\n"
        self._w = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh: IO[str], **kwargs: Any) -> SafeWriter:
    """A CSV writer for an output file (same arguments as ``csv.writer``)."""
    return SafeWriter(fh, **kwargs)


def _blank(value: Any) -> Any:
    """Missing values as empty cells, as ``DataFrame.to_csv`` writes them."""
    if value is None:
        return ""
    if hasattr(value, "to_pydatetime") and value == value:  # a pandas Timestamp: a date alone when it has no time
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    try:
        if value != value:  # NaN, NaT
            return ""
    except (TypeError, ValueError):
        pass
    return value


def frame_to_csv(frame: Any, path: Any = None, *, index: bool = False) -> str | None:
    """A DataFrame as CSV with neutralised text: the text, or written to ``path``.

    Written with Python's ``csv`` module, not ``DataFrame.to_csv``: pandas leaves a
    field with a bare carriage return unquoted, which splits the row and puts the
    rest of the cell (``=1+1``) at the start of a new line (see :class:`SafeWriter`)."""
    import pandas as pd

    df = pd.DataFrame(frame)
    if "geometry" in df.columns and hasattr(frame, "geometry"):
        df = df.assign(geometry=[None if g is None else g.wkt for g in frame.geometry])
    header = ([df.index.name or ""] if index else []) + [str(c) for c in df.columns]
    buf = io.StringIO() if path is None else None
    fh = buf if buf is not None else open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
    try:
        w = SafeWriter(fh)
        w.writerow(header)
        for idx, row in zip(df.index, df.itertuples(index=False, name=None), strict=True):
            w.writerow(([idx] if index else []) + [_blank(v) for v in row])
    finally:
        if buf is None:
            fh.close()
    return None if buf is None else buf.getvalue()


def xlsx_value(value: Any) -> Any:
    """A cell value for openpyxl: text never becomes a formula (openpyxl stores ``=…`` text as one)."""
    return safe_cell(value)
