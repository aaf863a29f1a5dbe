"""What every command module shares: the consoles, common options, progress display."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console()
err = Console(stderr=True, soft_wrap=True)  # error lines stay whole for logs and grep

StoreOpt = Annotated[
    str, typer.Option("--store", "-s", help="Store: a GeoPackage file, or postgresql://…?schema=… for PostGIS.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="Run on this Dask cluster (tcp://host:8786; see docs/deployment.md) instead of in-process."),
]
WorkersOpt = Annotated[
    int | None, typer.Option(min=1, help="Run on a local Dask cluster of this many worker processes.")
]
SizeOpt = Annotated[float, typer.Option(min=4.0, max=200.0, help="Side of the square district in km (4–200).")]


def progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console)
