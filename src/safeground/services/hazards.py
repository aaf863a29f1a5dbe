"""Hazard areas from what happened: cluster strikes and accidents to hazard areas, finished work to release.

The three proposals an information management officer reviews before the record changes: one CHA
per strike not yet covered, an emergency SHA around each accident nobody has surveyed since, and
the new versions of the hazard areas that finished survey and clearance released. Each opens the
store read-only unless the change is confirmed (``apply`` / not ``dry_run``).
"""

from __future__ import annotations

from typing import Any

from safeground.storage import open_store


def strike_hazards(store: str, *, entered_by: str, dry_run: bool) -> Any:
    """``casualties.strikes.strikes_to_hazards`` on the store: footprints, created areas, strikes covered."""
    from safeground.casualties.strikes import strikes_to_hazards

    with open_store(store, create=False, readonly=dry_run) as s:
        return strikes_to_hazards(s, entered_by=entered_by, dry_run=dry_run)


def emergency_hazards(store: str, *, entered_by: str, apply: bool) -> list[Any]:
    """The emergency SHAs proposed (and stored when ``apply``) around accidents nobody surveyed since."""
    from safeground.casualties.emergency import propose_emergency_hazards

    with open_store(store, create=False, readonly=not apply) as s:
        return list(propose_emergency_hazards(s, entered_by=entered_by, apply=apply))


def release_changes(store: str, *, entered_by: str, apply: bool) -> tuple[list[Any], int]:
    """(the hazard changes finished survey and clearance make, how many were stored: 0 unless ``apply``)."""
    from safeground.landrelease.completion import apply_releases, propose_releases

    with open_store(store, create=False, readonly=not apply) as s:
        proposals = propose_releases(s, entered_by=entered_by)
        changed = apply_releases(s, proposals) if apply and proposals else 0
    return proposals, changed
