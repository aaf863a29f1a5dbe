"""The ``safeground`` command: a thin layer over the domain packages, one module per domain.

Every SafeGroundError becomes a message with the fix and exit code 2, never a
traceback: the person at the keyboard may be a field officer, not a developer.
"""

from __future__ import annotations

import sys

import typer

from safeground import __version__
from safeground.cli import (
    accounts,
    db,
    district,
    forms,
    intake,
    maps,
    people,
    records,
    reports,
    returnees,
    review,
    scans,
    serve,
    start,
    styles,
    sync,
    templates,
)
from safeground.cli.common import console, err
from safeground.cli.public import public_app
from safeground.cli.risk import risk_app
from safeground.errors import SafeGroundError, as_flag

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
app.command()(start.init)
app.command()(serve.serve)
app.command("map")(district.map_)
app.command("import")(intake.import_)

app.add_typer(intake.mapping_app, name="mapping")
app.command()(records.layers)
app.command()(records.history)
app.command()(returnees.check)
app.command()(returnees.route)
app.command("village-map")(returnees.village_map)
maps.maps_app.command("template")(templates.maps_template)
app.add_typer(maps.maps_app, name="maps")
app.add_typer(risk_app, name="risk")
app.add_typer(db.db_app, name="db")
app.add_typer(sync.sync_app, name="sync")
app.add_typer(scans.scan_app, name="scan")
app.add_typer(forms.forms_app, name="forms")
app.command()(reports.report)
reports.export_app.command("layer")(intake.export)  # one "export" group: a layer, or the HDX set
app.add_typer(reports.export_app, name="export")
app.add_typer(reports.strikes_app, name="strikes")
app.add_typer(reports.accidents_app, name="accidents")
app.add_typer(reports.release_app, name="release")
app.add_typer(reports.plan_app, name="plan")
app.add_typer(accounts.users_app, name="users")
app.add_typer(accounts.orgs_app, name="orgs")
app.add_typer(accounts.audit_app, name="audit")
app.add_typer(review.review_app, name="review")
app.command()(styles.styles)
app.add_typer(public_app, name="public-info")
app.add_typer(people.assistance_app, name="assistance")
app.add_typer(people.missing_app, name="missing")


@app.command()
def version() -> None:
    """Print the SafeGround version."""
    console.print(__version__)


def main() -> None:
    try:
        app()
    except SafeGroundError as exc:
        # the domain names parameters; on the command line they are flags (--as-of, not as_of)
        err.print(f"[red]error[/]: {exc.render_message(as_flag)}")
        if hint := exc.render_hint(as_flag):
            err.print(f"[cyan]fix[/]: {hint}")
        sys.exit(2)
    except OSError as exc:  # a file that cannot be read or written: the user can fix that
        err.print(f"[red]error[/]: {exc.strerror or exc}: {exc.filename or ''}")
        sys.exit(2)


if __name__ == "__main__":
    main()
