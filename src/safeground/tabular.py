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
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
        self._w = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh: IO[str], **kwargs: Any) -> SafeWriter:
    """A CSV writer for an output file (same arguments as ``csv.writer``)."""
    return SafeWriter(fh, **kwargs)


def safe_frame(frame: Any) -> Any:
    """A copy of a DataFrame with its text cells (and column names) neutralised; numeric columns untouched."""
    import pandas as pd

    df = pd.DataFrame(frame).copy()
    for c in df.columns:
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
            df[c] = df[c].map(safe_cell).astype(object)
    df.columns = [safe_cell(c) if isinstance(c, str) else c for c in df.columns]
    if not pd.api.types.is_numeric_dtype(df.index):
        df.index = pd.Index([safe_cell(v) for v in df.index], name=df.index.name)
    return df


def frame_to_csv(frame: Any, path: Any = None, **kwargs: Any) -> str | None:
    """``DataFrame.to_csv`` of the neutralised frame: the text, or written to ``path``."""
    df = safe_frame(frame)
    if "geometry" in df.columns and hasattr(frame, "geometry"):
        df["geometry"] = [None if g is None else g.wkt for g in frame.geometry]
    return df.to_csv(path, **kwargs)  # type: ignore[no-any-return]


def xlsx_value(value: Any) -> Any:
    """A cell value for openpyxl: text never becomes a formula (openpyxl stores ``=…`` text as one)."""
    return safe_cell(value)


@contextmanager
def csv_output(path: Any, *, overwrite: bool, store_location: str | None = None) -> Iterator[SafeWriter]:
    """A guarded, staged CSV output file (see :mod:`safeground.outputs`) and its neutralising writer."""
    from safeground.outputs import staged_file

    with (
        staged_file(path, overwrite=overwrite, store_location=store_location) as tmp,
        tmp.open("w", newline="", encoding="utf-8") as fh,
    ):
        yield SafeWriter(fh)
