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
    sk42_zone: Annotated[
        int | None,
        typer.Option(
            "--sk42-zone",
            help="Set the reference point up for SK-42 (Pulkovo 1942) Gauss-Kruger X/Y of this zone "
            "(8: 42-48°E, Karabakh; 9: 48-54°E).",
        ),
    ] = None,
) -> None:
    """Write the XLSX template for a minefield record drawn by bearing and distance (drop-down lists, instructions)."""
    from safeground.errors import SafeGroundError
    from safeground.minemaps.sk42 import GridError
    from safeground.minemaps.traverse import read_record
    from safeground.minemaps.traverse_xlsx import write_template

    record = read_record(example) if example else None
    try:
        with staged_file(out, overwrite=overwrite) as tmp:
            write_template(tmp, record, sk42_zone=sk42_zone)
    except GridError as exc:
        raise SafeGroundError(str(exc), hint="e.g. --sk42-zone 8") from None
    console.print(f"[green]wrote[/] {out}: fill it in, then check it with 'safeground maps traverse {out.name}'")
