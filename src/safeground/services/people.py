"""Victim assistance and the missing, as an application: what ``safeground assistance`` and ``missing`` do.

Every function that returns a person's record (a need, a service, a missing person, a candidate with
its name) takes the ``Audience`` it is for and refuses any below ``restricted`` (``RestrictedLayer``,
403 on a server): the layers are restricted like the victims' identities. The public gets the
aggregated figures only (:func:`assistance_figures`, the public report).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from safeground.access import Audience
from safeground.access.policy import RestrictedLayer
from safeground.errors import SafeGroundError

if TYPE_CHECKING:
    import pandas as pd

    from safeground.model.assistance import AssistanceService
    from safeground.model.missing import MissingPerson, RemainsCaseLink, RemainsHandover
    from safeground.people.assistance import AssistanceFigures
    from safeground.people.missing import Ranking
    from safeground.services.imports import FileImported
    from safeground.storage.base import Store


def _restricted(audience: Audience, what: str) -> None:
    if not audience.exact:
        raise RestrictedLayer(
            f"{what} is restricted (a person's needs, identity or last known place)",
            hint="only the restricted audience may read it, for an authorised, protected destination",
        )


def _open(store: str, *, write: bool = False) -> Store:
    from safeground.services.forms import require_store
    from safeground.storage import open_store

    require_store(store)
    return open_store(store, create=False, readonly=not write)


# -- victim assistance ------------------------------------------------------------------------------------
def assistance_figures(store: str) -> AssistanceFigures:
    """The headline figures (counts of people; a front-end shows them suppressed for the public)."""
    from safeground.people import assistance as va

    with _open(store) as s:
        return va.figures(s, va.people_frame(s))


def list_services(store: str, audience: Audience, *, victim: str | None = None, unmet: bool = False) -> pd.DataFrame:
    """Needs and services, one row per need (restricted)."""
    from safeground.people import assistance as va

    _restricted(audience, "victim assistance")
    with _open(store) as s:
        t = va.services_frame(s)
    if victim is not None and len(t):
        t = t[t["victim_uid"] == victim]
    if unmet and len(t):
        t = t[t["status"].isin(va.UNMET)]
    cols = ["uid", "victim_uid", "recipient", "category", "status", "provider", "needed_since", "started_on",
            "completed_on", "last_follow_up", "next_follow_up"]  # fmt: skip
    return t.reindex(columns=cols).sort_values(["victim_uid", "category"]) if len(t) else t.reindex(columns=cols)


def add_service(
    store: str,
    victim: str,
    *,
    category: str,
    status: str,
    needed_since: date,
    by: str,
    recipient: str = "survivor",
    provider: str | None = None,
    referred_on: date | None = None,
    started_on: date | None = None,
    completed_on: date | None = None,
    next_follow_up: date | None = None,
    on: date | None = None,
) -> AssistanceService:
    """Record a need assessed for a victim (and the service received or referred for it)."""
    from pydantic import ValidationError

    from safeground.errors import InvalidInput, Problem, RecordNotFound
    from safeground.model import Victim
    from safeground.model.assistance import AssistanceCategory, AssistanceService, AssistanceStatus, Recipient

    for value, enum, name in ((category, AssistanceCategory, "category"), (status, AssistanceStatus, "status"),
                              (recipient, Recipient, "recipient")):  # fmt: skip
        if value not in {e.value for e in enum}:
            raise SafeGroundError(f"unknown {name} {value!r}", hint=f"use one of: {', '.join(e.value for e in enum)}")
    with _open(store, write=True) as s:
        try:
            s.get(Victim, victim)
        except RecordNotFound:
            raise RecordNotFound(
                f"no victim {victim}", hint="give a victim's uid (VIC-…) from the victims layer"
            ) from None
        try:
            rec = AssistanceService(
                uid=s.next_uid(AssistanceService),
                date_of_information=on or date.today(),
                entered_by=by,
                victim_uid=victim,
                recipient=Recipient(recipient),
                category=AssistanceCategory(category),
                status=AssistanceStatus(status),
                needed_since=needed_since,
                provider=provider,
                referred_on=referred_on,
                started_on=started_on,
                completed_on=completed_on,
                last_follow_up=on or date.today(),
                next_follow_up=next_follow_up,
            )
        except ValidationError as exc:
            raise InvalidInput(
                [
                    Problem(
                        "(command line)",
                        victim,
                        ".".join(map(str, e["loc"])) or "-",
                        e["msg"].removeprefix("Value error, "),
                        e.get("input"),
                    )
                    for e in exc.errors()
                ]
            ) from None
        added: AssistanceService = s.add(rec)
        return added


def follow_up(
    store: str,
    service: str,
    *,
    by: str,
    status: str | None = None,
    on: date | None = None,
    provider: str | None = None,
    next_follow_up: date | None = None,
) -> AssistanceService:
    """A follow-up of one need: its new status (a new version; the earlier ones stay in history)."""
    from pydantic import ValidationError

    from safeground.errors import InvalidInput, Problem, RecordNotFound
    from safeground.model.assistance import AssistanceService, AssistanceStatus

    day = on or date.today()
    with _open(store, write=True) as s:
        try:
            cur = s.get(AssistanceService, service)
        except RecordNotFound:
            raise RecordNotFound(
                f"no assistance service {service}", hint="list them: safeground assistance list"
            ) from None
        update: dict[str, object] = {"last_follow_up": day, "date_of_information": max(day, cur.date_of_information),
                                     "entered_by": by, "change_reason": "follow-up"}  # fmt: skip
        if status is not None:
            new = AssistanceStatus(status)
            update["status"] = new
            if new.started and cur.started_on is None:
                update["started_on"] = day
            if new is AssistanceStatus.RECEIVED and cur.completed_on is None:
                update["completed_on"] = day
            if new is AssistanceStatus.REFERRED and cur.referred_on is None:
                update["referred_on"] = day
        if provider is not None:
            update["provider"] = provider
        if next_follow_up is not None:
            update["next_follow_up"] = next_follow_up
        try:
            rec = AssistanceService.model_validate({**cur.model_dump(), **update})
        except ValidationError as exc:
            raise InvalidInput(
                [
                    Problem(
                        "(command line)",
                        service,
                        ".".join(map(str, e["loc"])) or "-",
                        e["msg"].removeprefix("Value error, "),
                        e.get("input"),
                    )
                    for e in exc.errors()
                ]
            ) from None
        updated: AssistanceService = s.update(rec, expected_version=cur.version)
        return updated


def import_services(store: str, file: Path, *, dry_run: bool = False, mapping: str | None = None) -> FileImported:
    """A table of needs and services (CSV, XLSX) into ``assistance_services``, all or nothing."""
    from safeground.services.imports import import_file

    return import_file(store, "assistance_services", file, dry_run=dry_run, mapping=mapping)


# -- the missing ------------------------------------------------------------------------------------------
def list_cases(store: str, audience: Audience, *, state: str | None = None) -> pd.DataFrame:
    """The missing-persons registry (restricted)."""
    from safeground.model.missing import MissingPerson

    _restricted(audience, "the missing-persons registry")
    with _open(store) as s:
        t = s.read_frame(MissingPerson)
    if len(t):
        t = t.assign(lon=t.geometry.x.round(6), lat=t.geometry.y.round(6))
    cols = ["uid", "case_reference", "full_name", "sex", "birth_year", "date_missing", "year_missing",
            "circumstances", "last_known_place", "place_uncertainty_m", "case_state", "lon", "lat"]  # fmt: skip
    t = t.reindex(columns=cols)
    if state is not None:
        t = t[t["case_state"] == state]
    return t.sort_values("uid")


@dataclass(frozen=True)
class Candidates:
    ranking: Ranking
    names: dict[str, str]  # case uid → name: only for the restricted audience


def find_candidates(store: str, find: str, audience: Audience, *, top: int = 10) -> Candidates:
    """The cases a human remains find may be, best first, with the reasons (restricted)."""
    from safeground.model.missing import MissingPerson
    from safeground.people.missing import candidates

    _restricted(audience, "human remains and the missing")
    with _open(store) as s:
        r = candidates(s, find, top=top)
        cases = s.read_frame(MissingPerson)
    names = dict(zip(cases["uid"], cases["full_name"], strict=True)) if len(cases) else {}
    return Candidates(r, {c.case_uid: names.get(c.case_uid, "") for c in r.candidates})


def confirm_match(
    store: str,
    find: str,
    case: str,
    *,
    by: str,
    identified: bool = False,
    reject: bool = False,
    on: date | None = None,
    note: str | None = None,
) -> tuple[RemainsCaseLink, MissingPerson]:
    """A person's decision on a find and a case, stored with what SafeGround proposed."""
    from safeground.people.missing import confirm

    with _open(store, write=True) as s:
        return confirm(s, find, case, by=by, identified=identified, reject=reject, on=on, note=note)


def record_handover(
    store: str,
    find: str,
    *,
    to: str,
    on: date,
    by: str,
    received_by: str | None = None,
    reference: str | None = None,
) -> RemainsHandover:
    from safeground.model.missing import ReceivingBody
    from safeground.people.missing import hand_over

    try:
        body = ReceivingBody(to)
    except ValueError:
        raise SafeGroundError(
            f"unknown receiving body {to!r}", hint=f"use one of: {', '.join(b.value for b in ReceivingBody)}"
        ) from None
    with _open(store, write=True) as s:
        return hand_over(s, find, to=body, on=on, by=by, received_by=received_by, reference=reference)


def import_cases(store: str, file: Path, *, dry_run: bool = False, mapping: str | None = None) -> FileImported:
    """A registry export (CSV/XLSX with coordinates, GeoPackage, GeoJSON) into ``missing_persons``, all or nothing."""
    from safeground.services.imports import import_file

    return import_file(store, "missing_persons", file, dry_run=dry_run, mapping=mapping)
