"""Victim assistance and the missing: ``safeground assistance …`` and ``safeground missing …``.

Listing a person's record prints restricted data to the terminal, so it needs ``--include-restricted``
(as ``export layer`` does); the figures are printed as the public may see them unless it is given.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeground.access import Audience
from safeground.cli.common import StoreOpt, console
from safeground.errors import SafeGroundError

assistance_app = typer.Typer(help="Victim assistance: needs and services of survivors and families (restricted).")
missing_app = typer.Typer(help="The missing: the registry, human remains finds matched to cases, handovers.")

RestrictedOpt = Annotated[
    bool, typer.Option("--include-restricted", help="Show people's records (restricted: a protected screen only).")
]
ByOpt = Annotated[str, typer.Option("--by", help="Who records it (name and organisation).")]


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SafeGroundError(f"{option} {text!r} is not a date", hint="write it as YYYY-MM-DD") from None


def _audience(include_restricted: bool) -> Audience:
    return Audience.RESTRICTED if include_restricted else Audience.PUBLIC


def _print(frame: object, title: str) -> None:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    t = Table(title=title)
    for c in frame.columns:
        t.add_column(str(c).replace("_", " "))
    for row in frame.itertuples(index=False):
        t.add_row(*["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in row])
    console.print(t)


def _imported(counts: dict[str, int], dry_run: bool, layer: str) -> None:
    verb = "would create" if dry_run else "created"
    tail = " (dry run: nothing written)" if dry_run else ""
    made, updated, same = counts.get("create", 0), counts.get("update", 0), counts.get("unchanged", 0)
    console.print(f"{layer}: {verb} {made}, updated {updated}, unchanged {same}{tail}")


# -- assistance -----------------------------------------------------------------------------------------
@assistance_app.command("list")
def assistance_list(
    store: StoreOpt = "demo.gpkg",
    victim: Annotated[str | None, typer.Option(help="Only this victim (VIC-…).")] = None,
    unmet: Annotated[bool, typer.Option(help="Only unmet needs (needed, referred, not available).")] = False,
    include_restricted: RestrictedOpt = False,
) -> None:
    """Needs and services, one row per need (restricted: needs --include-restricted)."""
    from safeground.services.people import list_services

    t = list_services(store, _audience(include_restricted), victim=victim, unmet=unmet)
    _print(t[["uid", "victim_uid", "category", "status", "provider", "next_follow_up"]],
           f"Victim assistance: {len(t)} need(s)")  # fmt: skip


@assistance_app.command("stats")
def assistance_stats(store: StoreOpt = "demo.gpkg", include_restricted: RestrictedOpt = False) -> None:
    """The headline figures: survivors reached, without any assessed need, time to assistance, unmet needs."""
    import pandas as pd

    from safeground.reports.document import suppress
    from safeground.services.people import assistance_figures

    f = assistance_figures(store)
    aud = _audience(include_restricted)

    def n(v: int) -> str:
        return str(suppress(pd.DataFrame({"n": [v]}), aud).iloc[0, 0])

    console.print(f"survivors (injured): {n(f.survivors)}; assessed {n(f.survivors_assessed)}; "
                  f"without any assessed need or service: {n(f.survivors_without_service)}")  # fmt: skip
    console.print(f"families of people killed assessed: {n(f.families)} of {n(f.killed)}")
    console.print(f"people with an unmet need: {n(f.people_with_unmet_need)}")
    for label, d in (("any assistance", f.first), ("assistance beyond emergency care", f.continuing)):
        med = "—" if d.median_days is None else f"{d.median_days:g} days"
        console.print(f"median time from the accident to {label}: {med} ({n(d.helped)} of {n(d.people)} assessed)")
    if not aud.exact:
        console.print("counts of 1 to 4 people shown as <5 (--include-restricted shows them)")


@assistance_app.command("add")
def assistance_add(
    victim: Annotated[str, typer.Argument(help="The victim (VIC-…): a survivor, or a person killed (for the family).")],
    category: Annotated[str, typer.Option(help="e.g. prosthetics_and_assistive_devices, pension_or_allowance.")],
    status: Annotated[str, typer.Option(help="needed, referred, receiving, received, not_available, declined.")],
    by: ByOpt,
    store: StoreOpt = "demo.gpkg",
    needed_since: Annotated[str | None, typer.Option(help="Day the need was assessed (default today).")] = None,
    recipient: Annotated[str, typer.Option(help="survivor or family.")] = "survivor",
    provider: Annotated[str | None, typer.Option(help="Who provides it.")] = None,
    referred_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    started_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    completed_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    next_follow_up: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
) -> None:
    """Record a need assessed for a victim, and the service received or referred for it."""
    from safeground.services.people import add_service

    rec = add_service(
        store,
        victim,
        category=category,
        status=status,
        needed_since=_date(needed_since, "--needed-since") or date.today(),
        by=by,
        recipient=recipient,
        provider=provider,
        referred_on=_date(referred_on, "--referred-on"),
        started_on=_date(started_on, "--started-on"),
        completed_on=_date(completed_on, "--completed-on"),
        next_follow_up=_date(next_follow_up, "--next-follow-up"),
    )
    console.print(f"[green]added[/] {rec.uid}: {rec.victim_uid} {rec.category.value} ({rec.status.value})")


@assistance_app.command("follow-up")
def assistance_follow_up(
    service: Annotated[str, typer.Argument(help="The need (VAS-…).")],
    by: ByOpt,
    store: StoreOpt = "demo.gpkg",
    status: Annotated[str | None, typer.Option(help="Its new status.")] = None,
    on: Annotated[str | None, typer.Option(help="Day of the follow-up (default today).")] = None,
    provider: Annotated[str | None, typer.Option(help="Who provides it.")] = None,
    next_follow_up: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
) -> None:
    """A follow-up of one need: a new version with its status (the earlier ones stay in history)."""
    from safeground.services.people import follow_up

    rec = follow_up(store, service, by=by, status=status, on=_date(on, "--on"), provider=provider,
                    next_follow_up=_date(next_follow_up, "--next-follow-up"))  # fmt: skip
    console.print(f"[green]followed up[/] {rec.uid} (version {rec.version}): {rec.status.value}")


@assistance_app.command("import")
def assistance_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX of needs and services (columns as the layer's fields).")],
    store: StoreOpt = "demo.gpkg",
    mapping: Annotated[str | None, typer.Option(help="A saved field mapping.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Check everything; write nothing.")] = False,
) -> None:
    """Import needs and services into assistance_services, all or nothing (re-imports update, never duplicate)."""
    from safeground.services.people import import_services

    res = import_services(store, file, dry_run=dry_run, mapping=mapping)
    _imported(res.report.counts, dry_run, res.report.layer)


# -- the missing ----------------------------------------------------------------------------------------
@missing_app.command("list")
def missing_list(
    store: StoreOpt = "demo.gpkg",
    state: Annotated[str | None, typer.Option(help="open, remains_found_candidate, identified or closed.")] = None,
    include_restricted: RestrictedOpt = False,
) -> None:
    """The missing-persons registry (restricted: needs --include-restricted)."""
    from safeground.services.people import list_cases

    t = list_cases(store, _audience(include_restricted), state=state)
    _print(t[["uid", "full_name", "year_missing", "circumstances", "place_uncertainty_m", "case_state"]],
           f"Missing persons: {len(t)} case(s)")  # fmt: skip


@missing_app.command("candidates")
def missing_candidates(
    find: Annotated[str, typer.Argument(help="The human remains find (HRF-…).")],
    store: StoreOpt = "demo.gpkg",
    top: Annotated[int, typer.Option(min=1, help="Candidates shown.")] = 10,
    include_restricted: RestrictedOpt = False,
) -> None:
    """The missing persons a remains find may be, best first, with each factor and the reasons.

    Matching remains is the commission's restricted work, so this needs --include-restricted."""
    from safeground.services.people import find_candidates

    res = find_candidates(store, find, _audience(include_restricted), top=top)
    r = res.ranking
    console.print(f"{find}: found {r.context.find_date}, {r.context.describe()}")
    t = Table(title=f"Candidate cases for {find} (SafeGround proposes; a person confirms)")
    for col in ("rank", "case", "name", "share", "distance", "precision", "date", "circumstances"):
        t.add_column(col)
    for c in r.candidates:
        t.add_row(str(c.rank), c.case_uid, res.names.get(c.case_uid, ""), f"{c.share:.0%}", f"{c.f_distance:.2f}",
                  f"{c.f_precision:.2f}", f"{c.f_date:.2f}", f"{c.f_circumstances:.2f}")  # fmt: skip
    console.print(t)
    for c in r.candidates:
        console.print(f"  {c.rank}. {c.case_uid}: {c.reasons_text()}")
    for why, n in r.left_out.items():
        console.print(f"left out: {n} case(s), {why}")
    console.print(f"confirm with: safeground missing confirm {find} CASE --by NAME [--identified] --store {store}")


@missing_app.command("confirm")
def missing_confirm(
    find: Annotated[str, typer.Argument(help="The human remains find (HRF-…).")],
    case: Annotated[str, typer.Argument(help="The missing person's case (MP-…).")],
    by: ByOpt,
    store: StoreOpt = "demo.gpkg",
    identified: Annotated[bool, typer.Option(help="Identification (e.g. DNA) confirmed it.")] = False,
    reject: Annotated[bool, typer.Option(help="Examined and excluded.")] = False,
    on: Annotated[str | None, typer.Option(help="Day of the decision (default today).")] = None,
    note: Annotated[str | None, typer.Option(help="Note (restricted).")] = None,
) -> None:
    """A person's decision: this find is a candidate for (or identified as, or not) this missing person."""
    from safeground.services.people import confirm_match

    link, c = confirm_match(store, find, case, by=by, identified=identified, reject=reject, on=_date(on, "--on"),
                            note=note)  # fmt: skip
    rank = f"SafeGround's rank {link.proposed_rank}" if link.proposed_rank else "not among SafeGround's candidates"
    console.print(f"[green]recorded[/] {link.uid}: {find} → {case} {link.state.value} ({rank}); "
                  f"case now {c.case_state.value.replace('_', ' ')}")  # fmt: skip


@missing_app.command("handover")
def missing_handover(
    find: Annotated[str, typer.Argument(help="The human remains find (HRF-…).")],
    to: Annotated[str, typer.Option(help="state_commission_on_missing_persons, icrc, forensic_team, …")],
    by: ByOpt,
    store: StoreOpt = "demo.gpkg",
    on: Annotated[str | None, typer.Option(help="Day of the handover (default today).")] = None,
    received_by: Annotated[str | None, typer.Option(help="Who received the remains (restricted).")] = None,
    reference: Annotated[str | None, typer.Option(help="The act's reference.")] = None,
) -> None:
    """Record the handover of a find's remains: date and receiving body."""
    from safeground.services.people import record_handover

    h = record_handover(store, find, to=to, on=_date(on, "--on") or date.today(), by=by, received_by=received_by,
                        reference=reference)  # fmt: skip
    console.print(f"[green]recorded[/] {h.uid}: {find} handed to {h.receiving_body.value} on {h.handed_on}")


@missing_app.command("import")
def missing_import(
    file: Annotated[Path, typer.Argument(help="The registry: CSV/XLSX with coordinates, GeoPackage or GeoJSON.")],
    store: StoreOpt = "demo.gpkg",
    mapping: Annotated[str | None, typer.Option(help="A saved field mapping.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Check everything; write nothing.")] = False,
) -> None:
    """Import missing persons' cases into missing_persons, all or nothing (re-imports update, never duplicate)."""
    from safeground.services.people import import_cases

    res = import_cases(store, file, dry_run=dry_run, mapping=mapping)
    _imported(res.report.counts, dry_run, res.report.layer)
