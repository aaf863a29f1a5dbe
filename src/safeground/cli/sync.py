"""Field sync commands: push and pull between a field GeoPackage and the server, conflicts, resolution."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from safeground.cli.common import StoreOpt, console, err

sync_app = typer.Typer(
    help="Field sync between a field GeoPackage (--store) and the server (--server): records travel with "
    "their history; edits made apart are shown as conflicts, never overwritten."
)

ServerOpt = Annotated[str, typer.Option("--server", help="The server store: postgresql://…?schema=… (or a .gpkg).")]
LayerOpt = Annotated[
    list[str] | None, typer.Option("--layer", help="Only this layer (repeat for several); default every layer.")
]
BatchOpt = Annotated[int, typer.Option(min=1, help="Records per transaction.")]


def _print_report(report: object) -> None:
    from safeground.sync import SyncReport

    assert isinstance(report, SyncReport)
    verb = "sent to the server" if report.direction == "push" else "received from the server"
    moved = ", ".join(f"{layer} {n}" for layer, n in report.moved.items() if n) or "nothing new"
    typer.echo(f"{report.direction}: {report.total} record(s) {verb} ({moved})")
    if report.agreed:
        typer.echo(f"{report.agreed} record(s) were already the same on both sides")
    for layer, uid in report.busy:
        typer.echo(f"changed on the server during this sync, not sent: {layer} {uid} (run the sync again)")
    if report.conflicts:
        typer.echo(f"{len(report.conflicts)} CONFLICT(S): edited both here and on the server; nothing was overwritten:")
        for layer, uid in report.conflicts:
            typer.echo(f"  {layer} {uid}")
        typer.echo("see them with 'safeground sync conflicts', settle with 'safeground sync resolve UID --keep ...'")


def _run(direction: str, store: str, server: str, layer: list[str] | None, batch: int) -> None:
    from safeground.services.records import sync_stores

    def progress(layer_name: str, stage: str) -> None:
        if stage == "done":
            err.print(f"  {layer_name}: batch done", highlight=False)

    report = sync_stores(direction, store, server, layers=layer, batch=batch, progress=progress)
    _print_report(report)
    if report.conflicts:
        raise typer.Exit(3)


@sync_app.command("push")
def sync_push(store: StoreOpt, server: ServerOpt, layer: LayerOpt = None, batch: BatchOpt = 500) -> None:
    """Send new and changed field records, with every version since the last sync, to the server."""
    _run("push", store, server, layer, batch)


@sync_app.command("pull")
def sync_pull(store: StoreOpt, server: ServerOpt, layer: LayerOpt = None, batch: BatchOpt = 500) -> None:
    """Bring the server's new and changed records into the field GeoPackage (a new file is created)."""
    _run("pull", store, server, layer, batch)


@sync_app.command("conflicts")
def sync_conflicts(
    store: StoreOpt,
    all_: Annotated[bool, typer.Option("--all", help="Also show resolved conflicts.")] = False,
) -> None:
    """Records edited both in the field and on the server since the last sync, side by side."""
    from safeground.services.records import sync_conflicts

    found = sync_conflicts(store, include_resolved=all_)
    if not found:
        typer.echo("no open sync conflicts" if not all_ else "no sync conflicts")
        return
    for c in found:
        m, t = c.mine[-1], c.theirs[-1]
        status = f"resolved {c.resolved_at}, kept {c.kept}" if c.resolved_at else "OPEN"
        table = Table(
            title=f"{c.layer} {c.uid} ({status}): last agreed version {c.base_version or 'none'}", title_justify="left"
        )
        table.add_column("field")
        table.add_column(f"mine: v{c.mine_version} by {m.get('entered_by')} {m.get('entered_at')}", overflow="fold")
        table.add_column(f"theirs: v{c.theirs_version} by {t.get('entered_by')} {t.get('entered_at')}", overflow="fold")
        for name, (a, b) in c.differences().items():
            table.add_row(name, _short(a), _short(b))
        console.print(table)
        if c.base_version is None and not c.resolved_at:
            typer.echo(
                f"  {c.uid} was created on both sides independently: probably two different records. Rather than "
                "lose one, keep theirs and enter the field record again under a new identifier (the field version "
                "stays listed in 'sync conflicts --all')."
            )


def _short(value: object, limit: int = 90) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@sync_app.command("resolve")
def sync_resolve(
    uid: Annotated[str, typer.Argument(help="The record in conflict, e.g. HA-00012.")],
    store: StoreOpt,
    server: ServerOpt,
    keep: Annotated[str, typer.Option(help="mine (the field edit) or theirs (the server's).")],
    layer: Annotated[str | None, typer.Option(help="The layer, if the identifier is in conflict in several.")] = None,
) -> None:
    """Settle a conflict: keep the field edit or the server's; both sides then hold the same history."""
    from safeground.services.records import resolve_conflict

    c = resolve_conflict(store, server, uid, keep, layer=layer)
    typer.echo(
        f"resolved {c.layer} {c.uid}: kept {keep}; the other side's versions stay in the conflict list "
        "('safeground sync conflicts --all')"
    )
