"""The ``safeground`` command: a thin layer over the domain packages, one module per domain.

Every SafeGroundError becomes a message with the fix and exit code 2, never a
traceback: the person at the keyboard may be a field officer, not a developer.
"""

from __future__ import annotations

import sys

import typer

from safeground import __version__
from safeground.cli import district, intake, maps, records, returnees
from safeground.cli.common import console, err
from safeground.errors import SafeGroundError

app = typer.Typer(
    name="safeground",
    help="SafeGround: mine action information system (mine maps, hazards, casualties, land release).",
    no_args_is_help=True,
    add_completion=False,
    # a traceback with local variables could print victims' names or mine positions
    pretty_exceptions_show_locals=False,
)

app.command()(district.generate)
app.command()(district.demo)
app.command()(district.summary)
app.command("map")(district.map_)
app.command("import")(intake.import_)
app.command()(intake.export)
app.add_typer(intake.mapping_app, name="mapping")
app.command()(records.layers)
app.command()(records.history)
app.command()(returnees.check)
app.command()(returnees.route)
app.command("village-map")(returnees.village_map)
app.add_typer(maps.maps_app, name="maps")


@app.command()
def version() -> None:
    """Print the SafeGround version."""
    console.print(__version__)


def main() -> None:
    try:
        app()
    except SafeGroundError as exc:
        err.print(f"[red]error[/]: {exc.message}")
        if exc.hint:
            err.print(f"[cyan]fix[/]: {exc.hint}")
        sys.exit(2)
    except OSError as exc:  # a file that cannot be read or written: the user can fix that
        err.print(f"[red]error[/]: {exc.strerror or exc}: {exc.filename or ''}")
        sys.exit(2)


if __name__ == "__main__":
    main()
