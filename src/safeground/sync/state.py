"""What a field GeoPackage remembers about its sync with the server (tables from schema step 2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from safeground.errors import Param, SafeGroundError, StoreUnavailable
from safeground.model.base import Record
from safeground.storage.base import Store, SyncConflictRow

_IGNORED = {"version", "entered_at", "entered_by", "change_reason"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump_chain(chain: list[Record]) -> str:
    return json.dumps([v.model_dump(mode="json") for v in chain], ensure_ascii=False)


@dataclass
class Conflict:
    """Two edits of one record made apart: the field's versions (mine) and the server's (theirs) since the base."""

    id: int
    layer: str
    uid: str
    base_version: int | None
    mine_version: int
    theirs_version: int
    mine: list[dict[str, Any]]
    theirs: list[dict[str, Any]]
    detected_at: str
    resolved_at: str | None = None
    kept: str | None = None

    def differences(self) -> dict[str, tuple[Any, Any]]:
        """field → (mine, theirs) for every field the two current versions disagree on."""
        a, b = self.mine[-1], self.theirs[-1]
        return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if k not in _IGNORED and a.get(k) != b.get(k)}


class FieldState:
    """The sync state of one field GeoPackage: base versions, open conflicts, the server it belongs to."""

    def __init__(self, store: Store) -> None:
        if not store.keeps_field_sync_state:
            raise SafeGroundError(
                f"the field store must be a GeoPackage file, not {store.location}",
                hint=f"give the laptop's .gpkg as {Param('store')} and the server URL as {Param('server')}",
            )
        if int(store.schema_revision() or 1) < 2:
            raise StoreUnavailable(
                f"{store.location} was made by an older SafeGround and has no sync tables",
                hint=f"run 'safeground db upgrade --store {store.location}' first (every record is kept)",
            )
        self.store = store

    # -- identity ---------------------------------------------------------------------
    def bind_server(self, server_id: str, server_location: str) -> None:
        """Refuse a different server than the one this GeoPackage synced with before."""
        known = self.store.get_meta("sync_server_id")
        if known is None:
            self.store.set_meta("sync_server_id", server_id)
            self.store.set_meta("sync_server_location", server_location)
        elif known != server_id:
            raise SafeGroundError(
                f"{self.store.location} syncs with server store {known} "
                f"({self.store.get_meta('sync_server_location')}), not with {server_location} ({server_id})",
                hint="sync with the server it came from, or start a fresh field GeoPackage with 'sync pull'",
            )

    # -- base versions ----------------------------------------------------------------
    def bases(self, layer: str) -> dict[str, int]:
        return self.store.sync_bases(layer)

    def set_bases(self, layer: str, bases: dict[str, int]) -> None:
        """Record agreed versions (inside the caller's GeoPackage transaction)."""
        self.store.set_sync_bases(layer, bases, _now())

    # -- conflicts --------------------------------------------------------------------
    def record_conflict(self, layer: str, base: int | None, mine: list[Record], theirs: list[Record]) -> None:
        """Remember (or refresh) the open conflict of a record: the versions above the base on each side."""
        floor = base or 0
        mine_new = [v for v in mine if v.version > floor] or mine[-1:]
        theirs_new = [v for v in theirs if v.version > floor] or theirs[-1:]
        self.store.open_sync_conflict(
            SyncConflictRow(
                id=0,
                layer=layer,
                uid=mine[-1].uid,
                base_version=base,
                mine_version=mine[-1].version,
                theirs_version=theirs[-1].version,
                mine=dump_chain(mine_new),
                theirs=dump_chain(theirs_new),
                detected_at=_now(),
            )
        )

    def conflicts(self, *, include_resolved: bool = False) -> list[Conflict]:
        return [
            Conflict(
                r.id,
                r.layer,
                r.uid,
                r.base_version,
                r.mine_version,
                r.theirs_version,
                json.loads(r.mine),
                json.loads(r.theirs),
                r.detected_at,
                r.resolved_at,
                r.kept,
            )
            for r in self.store.sync_conflicts(include_resolved=include_resolved)
        ]

    def mark_resolved(self, conflict: Conflict, kept: str) -> None:
        self.store.resolve_sync_conflict(conflict.id, kept, _now())

    def log(self, peer_id: str, peer_location: str, direction: str, records: int, conflicts: int) -> None:
        self.store.log_sync(peer_id, peer_location, direction, records, conflicts)
