"""Quality management: ``safeground qm add|list|close|check`` (QA/QC inspections, residual investigations)."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from safeground.cli.common import StoreOpt, console
from safeground.cli.reports import FormatOpt, _show
from safeground.errors import SafeGroundError
from safeground.outputs import OverwriteOpt, guard_output

qm_app = typer.Typer(help="Quality management: QA/QC inspections and residual contamination investigations.")


def _day(text: str | None, option: str) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SafeGroundError(f"{option} {text!r} is not a date", hint="write it as YYYY-MM-DD") from None


@qm_app.command("add")
def qm_add(
    kind: Annotated[str, typer.Option(help="quality_assurance (during the work) or quality_control (after it).")],
    inspecting_body: Annotated[str, typer.Option(help="Who inspected: organisation uid or acronym (NMAA).")],
    organisation: Annotated[str, typer.Option(help="The organisation inspected: uid or acronym.")],
    store: StoreOpt = "demo.gpkg",
    inspection_date: Annotated[
        str | None, typer.Option("--date", help="Date of the inspection (default today).")
    ] = None,
    activity: Annotated[str | None, typer.Option(help="The activity inspected (ACT-…).")] = None,
    hazard_area: Annotated[str | None, typer.Option(help="The hazard area (default: the activity's).")] = None,
    non_conformity: Annotated[
        list[str] | None,
        typer.Option(
            "--nc",
            help="A non-conformity TYPE:SEVERITY:DESCRIPTION (repeat), e.g. "
            "marking:minor:'no marking on the south side'.",
        ),
    ] = None,
    corrective_action: Annotated[str | None, typer.Option(help="The corrective action asked for.")] = None,
    due: Annotated[str | None, typer.Option(help="Date the corrective action is due.")] = None,
    notes: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record a QA or QC inspection of an activity, with its non-conformities."""
    from safeground.model.quality import InspectionKind
    from safeground.quality.inspections import parse_non_conformity
    from safeground.services.quality import record_inspection

    try:
        k = InspectionKind(kind)
    except ValueError:
        raise SafeGroundError(f"--kind {kind!r}", hint="use quality_assurance or quality_control") from None
    due_day = _day(due, "--due") if due else None
    ncs = [parse_non_conformity(t, corrective_action=corrective_action, due=due_day) for t in non_conformity or []]
    rec = record_inspection(
        store, kind=k, inspection_date=_day(inspection_date, "--date"), inspecting_body=inspecting_body,
        organisation=organisation, activity_uid=activity, hazard_area_uid=hazard_area, non_conformities=ncs,
        notes=notes, entered_by=getpass.getuser(),
    )  # fmt: skip
    console.print(f"[green]recorded[/] {rec.uid}: {rec.kind.value}, {len(ncs)} non-conformit(ies), open")


@qm_app.command("list")
def qm_list(
    store: StoreOpt = "demo.gpkg",
    status: Annotated[str | None, typer.Option(help="open or closed (default: both).")] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="quality_assurance, quality_control or residual_contamination_investigation."),
    ] = None,
    fmt: FormatOpt = "table",
    out: Annotated[Path | None, typer.Option(help="Write csv here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Inspections and investigations, newest first, with their open non-conformities."""
    from safeground.model.quality import InspectionKind, QMStatus
    from safeground.services.quality import list_inspections

    if out:
        guard_output(out, overwrite=overwrite, store_location=store)
    try:
        st = QMStatus(status) if status else None
        kd = InspectionKind(kind) if kind else None
    except ValueError as exc:
        raise SafeGroundError(str(exc), hint="see --help for the values") from None
    done = list_inspections(store, status=st, kind=kd)
    frame = done.table if fmt == "csv" else done.table.drop(columns=["opened_by", "hazard_area_uid"])
    _show(frame, fmt, "Quality management", out, overwrite, store)
    if fmt == "table":
        console.print(f"{done.open_investigations} residual contamination investigation(s) open")


@qm_app.command("close")
def qm_close(
    uid: Annotated[str, typer.Argument(help="The inspection or investigation (QM-…).")],
    store: StoreOpt = "demo.gpkg",
    closed_on: Annotated[str | None, typer.Option("--date", help="Date closed (default today).")] = None,
    finding: Annotated[str | None, typer.Option(help="What it concluded (needed to close it whole).")] = None,
    nc: Annotated[int | None, typer.Option("--nc", min=1, help="Close only this non-conformity (its number).")] = None,
    note: Annotated[str | None, typer.Option(help="How the corrective action was verified.")] = None,
) -> None:
    """Close one non-conformity, or the whole inspection with its finding (a new version; history kept)."""
    from safeground.services.quality import close_inspection

    rec = close_inspection(
        store, uid, closed_on=_day(closed_on, "--date"), entered_by=getpass.getuser(), finding=finding,
        non_conformity=nc, closure_note=note,
    )  # fmt: skip
    console.print(f"[green]{rec.uid}[/]: {rec.status.value}, {rec.open_non_conformities} non-conformit(ies) open")


@qm_app.command("check")
def qm_check(store: StoreOpt = "demo.gpkg") -> None:
    """Open the residual contamination investigations a store lacks (accidents or finds in released land)."""
    from safeground.services.quality import check_residual

    done = check_residual(store)
    console.print(
        f"{len(done.events)} accident(s) or find(s) inside land released before them; "
        f"{len(done.opened)} investigation(s) opened now"
        + (f"; {done.undated_accidents} undated accident(s) could not be judged" if done.undated_accidents else "")
    )
    for r in done.opened:
        console.print(f"  {r.uid}: {r.non_conformities[0].description}", highlight=False)
