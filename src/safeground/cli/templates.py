"""Templates a data clerk fills in: the XLSX workbook for bearing-and-distance minefield records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeground.cli.common import console
from safeground.outputs import OverwriteOpt, staged_file


def maps_template(
    out: Annotated[Path, typer.Argument(help="Workbook to write, e.g. record.xlsx.")],
    example: Annotated[Path | None, typer.Option(help="Fill it from an existing record (JSON, YAML or XLSX).")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Write the XLSX template for a minefield record drawn by bearing and distance (drop-down lists, instructions)."""
    from safeground.minemaps.traverse import read_record
    from safeground.minemaps.traverse_xlsx import write_template

    record = read_record(example) if example else None
    with staged_file(out, overwrite=overwrite) as tmp:
        write_template(tmp, record)
    console.print(f"[green]wrote[/] {out}: fill it in, then check it with 'safeground maps traverse {out.name}'")
