"""Commands for field reports from phones: the XLSForms to deploy, and importing their submissions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeground.cli.common import StoreOpt, console, err
from safeground.errors import InvalidInput
from safeground.intake.problems import write_problems
from safeground.outputs import OverwriteOpt
from safeground.services.forms import require_store as _existing_store  # noqa: F401  (cli/scans uses it)

forms_app = typer.Typer(help="Field reports from phones (KoboToolbox / ODK): the forms and their submissions.")


@forms_app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the XLSForm workbooks into.")],
    overwrite: OverwriteOpt = False,
) -> None:
    """Write the SafeGround XLSForms (hazard report, accident and victims, EO find) to upload to Kobo/ODK."""
    from safeground.services.forms import export_form_files

    for f in export_form_files(directory, overwrite=overwrite):
        console.print(f"[green]wrote[/] {f.path}  ({f.name}: {f.title}, form_id {f.form_id})")


def write_problems_csv(exc: InvalidInput, path: Path, *, overwrite: bool = False, store: str | None = None) -> None:
    """The problems report of a refused input (``safeground.intake.problems``: one writer, one column order)."""
    write_problems(path, exc.problems, overwrite=overwrite, store=store)


@forms_app.command("import")
def import_(
    form: Annotated[str, typer.Argument(help="hazard_report, accident_report or eo_find.")],
    files: Annotated[
        list[Path], typer.Argument(help="The export: Kobo/ODK CSV (+ repeat-group CSVs), Kobo XLSX or JSON.")
    ],
    store: StoreOpt,
    dry_run: Annotated[bool, typer.Option(help="Check everything and show what would change; write nothing.")] = False,
    problems: Annotated[Path | None, typer.Option(help="Write the problems found as CSV here.")] = None,
    new: Annotated[bool, typer.Option(help="Create the store if it does not exist yet.")] = False,
    overwrite: OverwriteOpt = False,
    submit: Annotated[
        bool, typer.Option("--submit", help="Send them to the review queue: a reviewer approves them into the record.")
    ] = False,
    user: Annotated[str | None, typer.Option("--user", help="Who submits (default: your system account).")] = None,
) -> None:
    """Import form submissions: every record or none; the same submission twice is not duplicated."""
    from safeground.services.forms import import_form_files

    if submit:
        from safeground.accounts.repository import cli_origin
        from safeground.cli.review import print_submitted
        from safeground.services.accounts import actor_or_os
        from safeground.services.forms import submit_form_files

        sub = submit_form_files(store, form, files, submitted_by=actor_or_os(user), origin=cli_origin())
        print_submitted(sub, store)
        return

    try:
        plan = import_form_files(store, form, files, dry_run=dry_run, problems=problems, new=new, overwrite=overwrite)
    except InvalidInput:
        if problems:
            err.print(f"problems written to {problems}")
        raise
    t = Table(title=("Would change" if dry_run else "Changed") + f" ({form}, {', '.join(f.name for f in files)})")
    for col in ("layer", "created", "updated"):
        t.add_column(col)
    for layer, n in plan.summary().items():
        t.add_row(layer, str(n["create"]), str(n["update"]))
    console.print(t)
    for rec in plan.create:
        console.print(f"  {'would create' if dry_run else 'created'} {rec.LAYER} {rec.uid}")
    for rec, _ in plan.update:
        console.print(f"  {'would update' if dry_run else 'updated'} {rec.LAYER} {rec.uid}")
    if plan.unchanged:
        console.print(f"{len(plan.unchanged)} record(s) already stored and unchanged: not duplicated")
    for note in plan.notes:
        console.print(f"[yellow]note[/]: {note}")
    if dry_run:
        console.print("[cyan]dry run[/]: nothing was written")
