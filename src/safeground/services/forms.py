"""Field reports from phones (KoboToolbox / ODK): the forms to deploy, and importing their submissions.

The command line and a server's upload page share this: a mistyped store path never creates
an empty store, the problems report is refused before anything is read (not after), and a
refused export still leaves the clerk the report to fix it from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from safeground.errors import InvalidInput, Param, SafeGroundError
from safeground.intake.problems import write_problems
from safeground.outputs import guard_output, staged_folder
from safeground.review.queue import Submission
from safeground.services.quality import after_write
from safeground.storage import is_store_url, open_store

if TYPE_CHECKING:
    from safeground.intake.commit import WritePlan


@dataclass(frozen=True)
class FormWritten:
    """One XLSForm workbook written: where, and which form it is."""

    path: Path
    name: str
    title: str
    form_id: str


def require_store(store: str, new: bool = False) -> None:
    """A mistyped path must not silently create a new, empty store."""
    if not new and not is_store_url(store) and not Path(store).exists():
        raise SafeGroundError(
            f"no SafeGround store at {store}", hint=f"check the path, or add {Param('new')} to create it"
        )


def export_form_files(directory: Path, *, overwrite: bool = False) -> list[FormWritten]:
    """Write the SafeGround XLSForms into ``directory`` (staged: the folder appears complete or not at all)."""
    from safeground.intake.forms import FORMS, export_forms

    with staged_folder(directory, overwrite=overwrite) as stage:
        written = export_forms(stage)
    return [
        FormWritten(directory / path.name, name, form.title, form.form_id)
        for path, (name, form) in zip(written, FORMS.items(), strict=True)
    ]


def import_form_files(
    store: str,
    form: str,
    files: list[Path],
    *,
    dry_run: bool = False,
    problems: Path | None = None,
    new: bool = False,
    overwrite: bool = False,
) -> WritePlan:
    """Import form submissions, every record or none; ``problems`` receives the report of a refused export
    (then the ``InvalidInput`` is raised after it is written)."""
    from safeground.intake.form_exports import form_definition
    from safeground.intake.submissions import import_submissions

    form_definition(form)
    if problems:
        guard_output(problems, overwrite=overwrite, store_location=store)
    require_store(store, new)
    with open_store(store) as s:
        try:
            if dry_run:
                plan = import_submissions(s, form, files, dry_run=True)
            else:
                with s.transaction():  # the investigation an accident or find in released land opens goes with it
                    plan = import_submissions(s, form, files)
                    after_write(s, {r.LAYER for r in [*plan.create, *(u for u, _ in plan.update)]})
        except InvalidInput as exc:
            if problems:
                write_problems(problems, exc.problems, overwrite=overwrite, store=store)
            raise
    if not dry_run and (plan.create or plan.update):
        from safeground.services.accounts import actor_or_os, record_write

        record_write(store, actor_or_os(None), "forms.import", form, {
            "files": [f.name for f in files],
            "created": [f"{r.LAYER}:{r.uid}" for r in plan.create],
            "updated": [f"{r.LAYER}:{r.uid}" for r, _ in plan.update],
        })  # fmt: skip
    return plan


def submit_form_files(store: str, form: str, files: list[Path], *, submitted_by: str, origin: str) -> Submission:
    """Form submissions into the review queue (``forms import --submit``): read and checked exactly as an
    import reads them (``plan_submissions``), kept as one submission until a reviewer decides."""
    from safeground.intake.submissions import plan_submissions
    from safeground.services import review
    from safeground.services.accounts import organisation_of

    require_store(store, False)
    with open_store(store, create=False, readonly=True) as s:
        plan = plan_submissions(s, form, files)
    organisation = organisation_of(store, submitted_by)
    return review.submit(store, plan, source=f"forms import {form}", submitted_by=submitted_by,
                         organisation=organisation, origin=origin)  # fmt: skip
