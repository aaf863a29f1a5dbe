"""``safeground review``: the review queue from the command line (the server's queue, same services)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from safeground.cli.common import StoreOpt, console

if TYPE_CHECKING:
    from safeground.review.queue import Submission

review_app = typer.Typer(
    help="Submissions waiting for review: list, show (diff and flags), reconcile, approve, reject.",
    no_args_is_help=True,
)
ByOpt = Annotated[str | None, typer.Option("--by", help="Who decides (default: your system account).")]
IdArg = Annotated[int, typer.Argument(help="Submission number (from review list).")]


def print_submitted(sub: Submission, store: str) -> None:
    """What ``import --submit`` and ``forms import --submit`` say: the submission, its flags, the next step."""
    console.print(f"submitted as submission {sub.id} for review: {sub.summary}")
    for f in sub.flags:
        console.print(f"  [{'bold red' if f.sticky else 'yellow'}]{f.code}[/]: {f.message}")
    console.print(f"a reviewer decides with: safeground review show {sub.id} --store {store}")


@review_app.command("list")
def review_list(
    store: StoreOpt = "demo.gpkg",
    state: Annotated[str | None, typer.Option(help="pending, approved or rejected (default: all).")] = None,
) -> None:
    """List submissions, with their quality flags (residual contamination stands out)."""
    from safeground.review.queue import State
    from safeground.services.review import submissions

    wanted = None if state is None else State(state.strip().lower())
    t = Table(title="Submissions")
    for col in ("#", "state", "from", "by", "when", "what", "flags"):
        t.add_column(col)
    for s in submissions(store, state=wanted):
        codes = ", ".join(sorted({f.code for f in s.flags}))
        if s.sticky_flags and s.state.value == "pending":
            codes = f"[bold red]RESIDUAL CONTAMINATION[/] {codes}"
        t.add_row(
            str(s.id), s.state.value, s.source, s.submitted_by, s.submitted_at[:16].replace("T", " "), s.summary, codes
        )
    console.print(t)
    from safeground.services.quality import open_residual_investigations

    for qm in open_residual_investigations(store):  # on the queue until someone closes them (safeground qm close)
        console.print(
            f"[bold red]residual contamination investigation {qm.uid} open[/]: "
            f"{qm.non_conformities[0].description if qm.non_conformities else ', '.join(qm.opened_by)}",
            soft_wrap=True,
            highlight=False,
        )


@review_app.command("show")
def review_show(sid: IdArg, store: StoreOpt = "demo.gpkg") -> None:
    """One submission: its flags and, field by field, what approving it would change."""
    from safeground.services.review import diff, submission

    s = submission(store, sid)
    console.print(
        f"submission {s.id} ({s.state.value}) from {s.source} by {s.submitted_by} "
        f"({s.organisation or 'no organisation'}) on {s.submitted_at}: {s.summary}"
    )
    if s.decided_by:
        console.print(f"  decided by {s.decided_by} on {s.decided_at}" + (f": {s.reason}" if s.reason else ""))
    for f in s.flags:
        console.print(f"  [{'bold red' if f.sticky else 'yellow'}]{f.code}[/]: {f.message}")
    for ch in diff(store, s):
        head = f"{ch.kind} {ch.layer} {ch.uid}"
        if ch.kind == "update":
            head += f" (submitted against version {ch.base_version}"
            head += f", version {ch.stored_version} stored now)" if ch.stored_version != ch.base_version else ")"
        console.print(head)
        for name, (old, new) in ch.fields.items():
            shown = [str(v) if v is None or len(str(v)) <= 70 else str(v)[:69] + "…" for v in (old, new)]
            console.print(f"    {name}: {shown[0]} → {shown[1]}" if ch.kind == "update" else f"    {name}: {shown[1]}")
        if ch.geometry_moved_m is not None:
            console.print(f"    geometry: centre moves {ch.geometry_moved_m:,.0f} m")


@review_app.command("reconcile")
def review_reconcile(
    sid: IdArg,
    uid: Annotated[str, typer.Argument(help="The new record in the submission, e.g. HA-00345.")],
    to: Annotated[str, typer.Option("--to", help="The stored record it really is, e.g. HA-00123.")],
    store: StoreOpt = "demo.gpkg",
    by: ByOpt = None,
) -> None:
    """Make a submitted new record an update of a stored one."""
    from safeground.accounts.repository import cli_origin
    from safeground.services.accounts import actor_or_os
    from safeground.services.review import reconcile

    s = reconcile(store, sid, uid, to, reviewer=None, by=actor_or_os(by), origin=cli_origin())
    console.print(f"submission {s.id}: {uid} now updates {to}; {s.summary}")


@review_app.command("approve")
def review_approve(sid: IdArg, store: StoreOpt = "demo.gpkg", by: ByOpt = None) -> None:
    """Apply the whole submission to the record in one transaction."""
    from safeground.accounts.repository import cli_origin
    from safeground.services.accounts import actor_or_os
    from safeground.services.review import approve

    s = approve(store, sid, reviewer=None, by=actor_or_os(by), origin=cli_origin())
    console.print(f"submission {s.id} approved by {s.decided_by}: {s.summary}")


@review_app.command("reject")
def review_reject(
    sid: IdArg,
    reason: Annotated[str, typer.Option(help="Why: the submitter reads it.")],
    store: StoreOpt = "demo.gpkg",
    by: ByOpt = None,
) -> None:
    """Reject a submission with the reason (nothing reaches the record)."""
    from safeground.accounts.repository import cli_origin
    from safeground.services.accounts import actor_or_os
    from safeground.services.review import reject

    s = reject(store, sid, reason, reviewer=None, by=actor_or_os(by), origin=cli_origin())
    console.print(f"submission {s.id} rejected by {s.decided_by}: {s.reason}")
