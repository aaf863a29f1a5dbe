"""Commands about minefield records: accuracy against clearance, dossier, bearing-and-distance records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from safeground.cli.common import SchedulerOpt, StoreOpt, WorkersOpt, console, err
from safeground.errors import SafeGroundError
from safeground.outputs import OverwriteOpt, csv_output, guard_output, write_text
from safeground.services.maps import assess_accuracy, carry_evidence, draw_traverse, save_traverse, write_dossier
from safeground.tabular import frame_to_csv

if TYPE_CHECKING:
    from safeground.minemaps.accuracy import AccuracyOptions

maps_app = typer.Typer(help="Minefield records (mine maps): accuracy against what clearance found.")


def _accuracy_options(as_of: str | None) -> AccuracyOptions:
    from datetime import date

    from safeground.minemaps.accuracy import AccuracyOptions

    if as_of is None:
        return AccuracyOptions()
    try:
        return AccuracyOptions(as_of=date.fromisoformat(as_of))
    except ValueError:
        raise SafeGroundError(f"--as-of {as_of!r} is not a date", hint="write it as YYYY-MM-DD") from None


class _RecordsProgress:
    """Records assessed here: a bar that disappears when done. On Dask: one line saying the work went there."""

    def __init__(self, *, on_dask: bool) -> None:
        self.on_dask = on_dask
        self.prog: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> _RecordsProgress:
        return self

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.on_dask:
            if done == 0:
                err.print(what)
            return
        if self.prog is None:
            self.prog = Progress(*Progress.get_default_columns(), console=err, transient=True)
            self.prog.start()
            self.task = self.prog.add_task(what, total=total)
        assert self.task is not None
        self.prog.update(self.task, description=what, completed=done, total=total)

    def __exit__(self, *_exc: object) -> None:
        if self.prog is not None:
            self.prog.stop()


@maps_app.command("accuracy")
def maps_accuracy(
    store: StoreOpt = "demo.gpkg",
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    as_of: Annotated[str | None, typer.Option(help="Use only what was known on this date (YYYY-MM-DD).")] = None,
    save: Annotated[bool, typer.Option(help="Store the assessments and corrected positions as new layers.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write csv/json here instead of the screen.")] = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """How good was each minefield record? Scores every record against clearance results."""
    from safeground.minemaps.accuracy import by_source, found_where_recorded, results_table, to_json
    from safeground.minemaps.accuracy import summarise as summarise_accuracy

    if fmt not in ("table", "csv", "json"):
        raise SafeGroundError(f"unknown --format {fmt!r}", hint="use table, csv or json")
    opts = _accuracy_options(as_of)
    if out:
        guard_output(out, overwrite=overwrite, store_location=store)
    with _RecordsProgress(on_dask=bool(scheduler or workers)) as progress:
        done = assess_accuracy(store, opts, save=save, scheduler=scheduler, workers=workers, progress=progress)
    results = done.results
    if done.saved is not None:
        console.print(
            f"[green]saved[/] {len(done.saved)} assessments "
            "(layers minefield_record_assessments and corrected_mine_positions)"
        )
    table = results_table(results)
    if fmt != "table":
        text = str(frame_to_csv(table, index=False)) if fmt == "csv" else to_json(results)
        if out:
            write_text(out, text, overwrite=overwrite, store_location=store)
            console.print(f"[green]written[/] {out}")
        else:
            sys.stdout.write(text + "\n")
        return
    t = Table(title=f"Minefield record accuracy ({len(results)} records)")
    for col in (
        "record",
        "source",
        "grade",
        "found where recorded",
        "95 % CI",
        "error median/p90 m",
        "shift m",
        "rot °",
    ):
        t.add_column(col)
    for r in results:
        e = r.error_stats()
        p = r.precision
        al = r.alignment
        t.add_row(
            r.uid,
            r.source,
            r.grade,
            found_where_recorded(r),
            f"{100 * p.low:.0f}–{100 * p.high:.0f}" if p.low is not None and p.high is not None else "",
            f"{e['median']:.1f} / {e['p90']:.1f}" if e["median"] is not None else "",
            f"{al.transform.shift_m:.0f}" if al else "",
            f"{al.transform.rotation_deg:+.1f}" if al else "",
        )
    console.print(t)
    t = Table(title="By source and overall")
    for col in (
        "source",
        "records",
        "A",
        "B",
        "C",
        "U",
        "found where recorded",
        "95 % CI",
        "finds the record showed",
    ):
        t.add_column(col)
    for sm in [*by_source(results), summarise_accuracy(results, "all records")]:
        p = sm.precision
        t.add_row(
            sm.label,
            str(sm.records),
            *[str(sm.grades[g]) for g in "ABCU"],
            f"{p.k}/{p.n}" + (f" ({100 * p.value:.0f} %)" if p.value is not None else ""),
            f"{100 * p.low:.0f}–{100 * p.high:.0f}" if p.low is not None and p.high is not None else "",
            f"{100 * sm.recall.value:.0f} %" if sm.recall.value is not None else "",
        )
    console.print(t)
    console.print(
        "Grades: [bold]A[/] reliable as recorded, [bold]B[/] displaced but reliable after "
        "correction (both direct evidence), [bold]C[/] unreliable, [bold]U[/] unverified. "
        "Only cleared ground counts as evidence."
    )


@maps_app.command("evidence")
def maps_evidence(
    store: StoreOpt = "demo.gpkg",
    apply: Annotated[bool, typer.Option(help="Write the evidence into the hazard areas (new versions).")] = False,
    confirm: Annotated[
        bool, typer.Option(help="With --apply: also reclassify as CHA the SHAs proposed for confirmation.")
    ] = False,
    release: Annotated[
        bool, typer.Option(help="With --apply: also take the proposed cancellations and reductions.")
    ] = False,
    create: Annotated[bool, typer.Option(help="With --apply: also add the proposed new SHAs.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write the hazard–record links as CSV here.")] = None,
    proposals_out: Annotated[
        Path | None, typer.Option("--proposals", help="Write the proposals as CSV here (geometry as WKT).")
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Carry each record's latest assessment into the hazard areas, as placed evidence, and propose decisions.

    A record verified by clearance (grade A, or B after correction) is direct evidence only where its
    not-yet-cleared mines lie: there it supports confirming an SHA (or a new SHA where no area covers
    them); an area that rested only on the recorded place of a record that puts no mine there may be
    cancelled or reduced. Each proposal says why; nothing is decided without its own flag.
    """
    from safeground.model.vocab import HazardClass

    for flag, asked in (("--confirm", confirm), ("--release", release), ("--create", create)):
        if asked and not apply:
            raise SafeGroundError(f"{flag} needs --apply", hint=f"review the list first, then add --apply {flag}")
    for path in (out, proposals_out):
        if path:
            guard_output(path, overwrite=overwrite, store_location=store)
    done = carry_evidence(store, apply=apply, confirm=confirm, release=release, create=create)
    planned, changed = done.plan, done.changed
    updates = planned.updates
    t = Table(title=f"Evidence from minefield record assessments ({len(updates)} hazard–record links)")
    for col in ("hazard", "class", "record", "grade", "evidence", "mines inside", "new"):
        t.add_column(col)
    for u in updates:
        t.add_row(
            u.hazard.uid,
            "CHA" if u.hazard.classification == HazardClass.CHA else "SHA",
            u.record_uid,
            u.assessment.grade,
            u.item.kind.value,
            str(u.remaining_inside) if u.assessment.grade in ("A", "B") else "",
            "yes" if u.changed else "",
        )  # fmt: skip
    console.print(t)
    t = Table(title=f"Proposals ({len(planned.proposals)})")
    for col in ("proposal", "hazard", "area m²", "records", "why"):
        t.add_column(col)
    for p in planned.proposals:
        t.add_row(p.action.value, p.hazard_uid or "(new)", f"{p.area_m2:,.0f}", ", ".join(p.record_uids), p.reason)
    console.print(t)
    if out:
        with csv_output(out, overwrite=overwrite, store_location=store) as w:
            w.writerow(["hazard", "classification", "record", "assessment", "grade", "evidence", "mines_inside", "new",
                        "suggestion"])  # fmt: skip
            for u in updates:
                w.writerow([u.hazard.uid, u.hazard.classification.value, u.record_uid, u.assessment.uid,
                            u.assessment.grade, u.item.kind.value, u.remaining_inside, int(u.changed),
                            u.suggestion])  # fmt: skip
        console.print(f"[green]written[/] {out}")
    if proposals_out:
        with csv_output(proposals_out, overwrite=overwrite, store_location=store) as w:
            w.writerow(["proposal", "hazard", "area_m2", "records", "reason", "geometry_wkt"])
            for p in planned.proposals:
                w.writerow([p.action.value, p.hazard_uid or "", round(p.area_m2, 1), " ".join(p.record_uids),
                            p.reason, p.geometry.wkt])  # fmt: skip
        console.print(f"[green]written[/] {proposals_out}")
    if apply:
        taken = [f for f, asked in (("--confirm", confirm), ("--release", release), ("--create", create)) if asked]
        console.print(
            f"[green]updated[/] {len(changed)} hazard areas (previous versions kept in history)"
            + (f"; decisions taken: {' '.join(taken)}" if taken else "; no decision taken (evidence items only)")
        )
    else:
        console.print(
            "nothing written; add --apply to write this evidence into the hazard areas, and --confirm, --release "
            "or --create to take the proposals of that kind"
        )


@maps_app.command("dossier")
def maps_dossier(
    record: Annotated[str, typer.Argument(help="Minefield record uid, e.g. MFR-00012.")],
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path, typer.Option(help="Folder for the HTML and PDF.")] = Path("dossiers"),
    as_of: Annotated[str | None, typer.Option(help="Use only what was known on this date (YYYY-MM-DD).")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Write the one-page accuracy dossier (HTML and PDF) of one minefield record."""
    dossier = write_dossier(store, record, out, _accuracy_options(as_of), overwrite=overwrite)
    console.print(f"[green]written[/] {dossier.html} and {dossier.pdf} (grade {dossier.grade})")


@maps_app.command("traverse")
def maps_traverse(
    file: Annotated[
        Path, typer.Argument(help="Record drawn by bearing and distance (JSON, YAML or the XLSX template).")
    ],
    max_misclosure: Annotated[float, typer.Option(help="Refuse a chain that misses closing by more (m).")] = 5.0,
    store: Annotated[str | None, typer.Option("--store", "-s", help="Store to save the record into.")] = None,
    save: Annotated[bool, typer.Option(help="Store the record and its recorded mines.")] = False,
) -> None:
    """Compute a minefield record drawn from a reference point with bearings and distances."""
    drawn = draw_traverse(file, max_misclosure)
    record, result = drawn.record, drawn.result
    console.print(f"[bold]{record.source}[/] {record.source_reference or ''}: {result.bearing_note}")
    if result.misclosure_m is not None:
        console.print(f"traverse misclosure: {result.misclosure_m:.2f} m (allowed {max_misclosure:g} m)")
    t = Table(title="Points")
    for col in ("point", "longitude", "latitude"):
        t.add_column(col)
    for label, (lon, lat) in result.points.items():
        t.add_row(label, f"{lon:.6f}", f"{lat:.6f}")
    console.print(t)
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {w}")
    n = sum(len(xy) for *_, xy in result.mines)
    console.print(f"{len(result.mines)} rows, {n} mine positions")
    if save:
        if not store:
            raise SafeGroundError("--save needs --store", hint="e.g. --store demo.gpkg")
        done = save_traverse(store, drawn)
        if done.action == "create":
            console.print(f"[green]saved[/] {done.uid} with {done.mines_created} recorded mines into {store}")
        elif done.action == "update":
            console.print(
                f"[green]updated[/] {done.uid} (new version; the old one kept in history): "
                f"{done.mines_updated} recorded mines moved, {done.mines_created} added"
            )
        for note in done.notes:
            console.print(f"[yellow]note[/]: {note}")
