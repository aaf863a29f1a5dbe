"""Hazard areas from what happened: cluster strikes and accidents to hazard areas, finished work to release.

The three proposals an information management officer reviews before the record changes: one CHA
per strike not yet covered, an emergency SHA around each accident nobody has surveyed since, and
the new versions of the hazard areas that finished survey and clearance released. Each opens the
store read-only unless the change is confirmed (``apply`` / not ``dry_run``).
"""

from __future__ import annotations

from typing import Any

from safeground.storage import open_store


def _audit(store: str, action: str, entered_by: str, changed: dict[str, list[str]]) -> None:
    """The audit entry of a direct edit: the person at the command line (the operating-system account; the
    records' own ``entered_by`` names the tool), and the records it created or changed."""
    from safeground.services.accounts import actor_or_os, record_write

    if any(changed.values()):
        record_write(store, actor_or_os(None), action, "hazard_areas", {"entered_by": entered_by, **changed})


def strike_hazards(store: str, *, entered_by: str, dry_run: bool) -> Any:
    """``casualties.strikes.strikes_to_hazards`` on the store: footprints, created areas, strikes covered."""
    from safeground.casualties.strikes import strikes_to_hazards

    with open_store(store, create=False, readonly=dry_run) as s:
        res = strikes_to_hazards(s, entered_by=entered_by, dry_run=dry_run)
    if not dry_run:
        _audit(store, "strikes.to_hazards", entered_by, {"created": [h.uid for h in res.created]})
    return res


def emergency_hazards(store: str, *, entered_by: str, apply: bool) -> list[Any]:
    """The emergency SHAs proposed (and stored when ``apply``) around accidents nobody surveyed since."""
    from safeground.casualties.emergency import propose_emergency_hazards

    with open_store(store, create=False, readonly=not apply) as s:
        proposals = list(propose_emergency_hazards(s, entered_by=entered_by, apply=apply))
    if apply:
        _audit(store, "accidents.to_hazards", entered_by, {"created": [p.hazard.uid for p in proposals]})
    return proposals


def release_changes(store: str, *, entered_by: str, apply: bool) -> tuple[list[Any], int]:
    """(the hazard changes finished survey and clearance make, how many were stored: 0 unless ``apply``)."""
    from safeground.landrelease.completion import apply_releases, propose_releases

    with open_store(store, create=False, readonly=not apply) as s:
        proposals = propose_releases(s, entered_by=entered_by)
        changed = apply_releases(s, proposals) if apply and proposals else 0
    if changed:
        _audit(store, "release.apply", entered_by, {"updated": sorted({p.hazard_uid for p in proposals})})
    return proposals, changed
