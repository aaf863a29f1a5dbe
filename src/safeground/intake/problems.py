"""The problems report: every problem of a refused or partly imported input, one CSV line each.

One writer for every input a clerk sends (files, form submissions, digitised scans), so the
spreadsheet they open always has the same columns in the same order:
``file, item, field, value, reason`` (what, where, which field, the value found, why it is wrong).
Cells a spreadsheet would run as a formula are neutralised by ``outputs.csv_output``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from safeground.errors import ParamStyle, Problem, as_flag, render_params
from safeground.outputs import csv_output

COLUMNS = ("file", "item", "field", "value", "reason")


def write_problems(
    path: Path,
    problems: Iterable[Problem],
    *,
    overwrite: bool = False,
    store: str | None = None,
    style: ParamStyle = as_flag,
) -> None:
    """Write the problems report to ``path`` (refused over a store or a file SafeGround did not write).

    A problem naming a setting (``Param``) says it in ``style``: the report goes with a command-line
    import, so ``--crs`` by default; the server lists problems in its own answer instead."""
    with csv_output(path, overwrite=overwrite, store_location=store) as w:
        w.writerow(list(COLUMNS))
        for p in problems:
            row = [p.source, p.item, p.field, "" if p.value is None else p.value, p.reason]
            w.writerow([render_params(v, style) if isinstance(v, str) else v for v in row])
