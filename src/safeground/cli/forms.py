"""Commands for field reports from phones: the XLSForms to deploy, and importing their submissions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeground import tabular
from safeground.cli.common import StoreOpt, console, err
from safeground.errors import InvalidInput, SafeGroundError
from safeground.outputs import OverwriteOpt, guard_output, staged_folder
from safeground.storage import is_store_url

forms_app = typer.Typer(help="Field reports from phones (KoboToolbox / ODK): the forms and their submissions.")


@forms_app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the XLSForm workbooks into.")],
    overwrite: OverwriteOpt = False,
) -> None:
    """Write the SafeGround XLSForms (hazard report, accident and victims, EO find) to upload to Kobo/ODK."""
    from safeground.intake.forms import FORMS, export_forms

    with staged_folder(directory, overwrite=overwrite) as stage:
        written = export_forms(stage)
    for path, (name, form) in zip(written, FORMS.items(), strict=True):
        console.print(f"[green]wrote[/] {directory / path.name}  ({name}: {form.title}, form_id {form.form_id})")


def write_problems_csv(exc: InvalidInput, path: Path, *, overwrite: bool = False, store: str | None = None) -> None:
    """The validation report as CSV, for the clerk's spreadsheet."""
    with tabular.csv_output(path, overwrite=overwrite, store_location=store) as w:
        w.writerow(["source", "item", "field", "reason", "value"])
        for p in exc.problems:
            w.writerow([p.source, p.item, p.field, p.reason, "" if p.value is None else str(p.value)])


def _existing_store(store: str, new: bool = False) -> None:
    """A mistyped path must not silently create a new, empty store."""
    if not new and not is_store_url(store) and not Path(store).exists():
        raise SafeGroundError(f"no SafeGround store at {store}", hint="check the path, or add --new to create it")


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
) -> None:
    """Import form submissions: every record or none; the same submission twice is not duplicated."""
    from safeground.intake.form_exports import form_definition
    from safeground.intake.submissions import import_submissions
    from safeground.storage import open_store

    form_definition(form)
    if problems:
        guard_output(problems, overwrite=overwrite, store_location=store)
    _existing_store(store, new)
    with open_store(store) as s:
        try:
            plan = import_submissions(s, form, files, dry_run=dry_run)
        except InvalidInput as exc:
            if problems:
                write_problems_csv(exc, problems, overwrite=overwrite, store=store)
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
