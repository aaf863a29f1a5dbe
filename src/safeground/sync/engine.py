"""Push and pull between a field GeoPackage and the server, batch by batch, conflicts kept for the user."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from safeground.errors import Param, RecordNotFound, SafeGroundError, StoreUnavailable, VersionConflict
from safeground.model.base import RECORD_TYPES, Record
from safeground.model.same import same_record
from safeground.storage.base import Store
from safeground.sync.state import Conflict, FieldState

#: called after each batch with (layer, stage), stage "server-committed" (push only) or "done";
#: lets the CLI show progress and the tests interrupt a sync exactly between two steps
BatchHook = Callable[[str, str], None]


@dataclass
class SyncReport:
    direction: str
    moved: dict[str, int] = field(default_factory=dict)  # layer → records whose new versions travelled
    agreed: int = 0  # already identical on both sides (e.g. after an interrupted run): base recorded
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (layer, uid)
    busy: list[tuple[str, str]] = field(default_factory=list)  # changed on the server during this run

    @property
    def total(self) -> int:
        return sum(self.moved.values())


def _same(a: Record, b: Record) -> bool:
    """The same version on both sides: every field, bookkeeping included (its version and who entered it)."""
    return same_record(a, b, ignore=())


def _layers(names: Iterable[str] | None) -> list[type[Record]]:
    if not names:
        return list(RECORD_TYPES.values())
    unknown = [n for n in names if n not in RECORD_TYPES]
    if unknown:
        raise SafeGroundError(f"unknown layer(s): {', '.join(unknown)}", hint="see 'safeground layers'")
    return [RECORD_TYPES[n] for n in names]


def _same_store(field_store: Store, server: Store) -> bool:
    """One store given as both sides (the same file or schema, or a copy that kept its identifier)."""
    a, b = field_store.location, server.location
    if "://" not in a and "://" not in b and Path(a).exists() and Path(b).exists():
        if os.path.samefile(a, b):
            return True
    elif a == b:
        return True
    sid = field_store.get_meta("store_id")
    return sid is not None and sid == server.get_meta("store_id")


def _server_id(server: Store, field_store: Store) -> str:
    if _same_store(field_store, server):
        raise SafeGroundError(
            f"{field_store.location} and {server.location} are the same store (same file, or a copy with the same "
            "store identifier): a sync between them would record changes that never travelled",
            hint=f"give the field GeoPackage as {Param('store')} and the server as {Param('server')}; "
            "a field copy is made with "
            "'safeground sync pull', not by copying the file",
        )
    sid = server.get_meta("store_id")
    if not sid:
        raise StoreUnavailable(
            f"the server store {server.location} has no store identifier: it predates field sync",
            hint=f"run 'safeground db upgrade --store {server.location}' on the server first",
        )
    return sid


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def push(
    field_store: Store,
    server: Store,
    *,
    layers: Iterable[str] | None = None,
    batch: int = 500,
    hook: BatchHook | None = None,
) -> SyncReport:
    """Send the field's new and changed records (every version since the base) to the server."""
    state = FieldState(field_store)
    server_id = _server_id(server, field_store)
    state.bind_server(server_id, server.location)
    report = SyncReport("push")
    for cls in _layers(layers):
        layer = cls.LAYER
        bases = state.bases(layer)
        local = field_store.current_versions(cls)
        todo = sorted(u for u, v in local.items() if v > bases.get(u, 0))
        if not todo:
            continue
        remote = server.current_versions(cls)
        for uids in _chunks(todo, batch):
            mine = field_store.chains(cls, uids)
            theirs = server.chains(cls, [u for u in uids if u in remote and remote[u] != bases.get(u)])
            new: list[list[Record]] = []
            newer: list[tuple[list[Record], int]] = []
            agreed: dict[str, int] = {}
            conflicts: list[tuple[int | None, list[Record], list[Record]]] = []
            for uid in uids:
                chain, base, at_server = mine[uid], bases.get(uid), remote.get(uid)
                if at_server is None:
                    new.append(chain)
                elif at_server == base:
                    newer.append(([v for v in chain if v.version > at_server], at_server))
                elif _same(chain[-1], theirs[uid][-1]):
                    agreed[uid] = chain[-1].version
                else:
                    conflicts.append((base, chain, theirs[uid]))
            sent: dict[str, int] = {}
            with server.transaction():
                if new:
                    server.add_chains(new)
                    sent.update({c[-1].uid: c[-1].version for c in new})
                for chain, expected in newer:
                    try:
                        server.apply_versions(chain, expected_version=expected)
                        sent[chain[-1].uid] = chain[-1].version
                    except VersionConflict:  # someone on the server saved it a moment ago
                        report.busy.append((layer, chain[-1].uid))
            if hook:
                hook(layer, "server-committed")
            with field_store.transaction():
                state.set_bases(layer, {**sent, **agreed})
                for base, chain, their_chain in conflicts:
                    state.record_conflict(layer, base, chain, their_chain)
            report.moved[layer] = report.moved.get(layer, 0) + len(sent)
            report.agreed += len(agreed)
            report.conflicts += [(layer, c[1][-1].uid) for c in conflicts]
            if hook:
                hook(layer, "done")
    _log(state, server, server_id, report)
    return report


def pull(
    field_store: Store,
    server: Store,
    *,
    layers: Iterable[str] | None = None,
    batch: int = 500,
    hook: BatchHook | None = None,
) -> SyncReport:
    """Bring the server's new and changed records (every version since the base) into the field GeoPackage.

    Each batch is one GeoPackage transaction holding both the records and their new
    base versions: an interrupted pull leaves whole batches, never half of one.
    """
    state = FieldState(field_store)
    server_id = _server_id(server, field_store)
    state.bind_server(server_id, server.location)
    report = SyncReport("pull")
    for cls in _layers(layers):
        layer = cls.LAYER
        bases = state.bases(layer)
        remote = server.current_versions(cls)
        todo = sorted(u for u, v in remote.items() if v > bases.get(u, 0))
        if not todo:
            continue
        local = field_store.current_versions(cls)
        for uids in _chunks(todo, batch):
            theirs = server.chains(cls, uids)
            mine = field_store.chains(cls, [u for u in uids if u in local and local[u] != bases.get(u)])
            received: dict[str, int] = {}
            agreed: dict[str, int] = {}
            found: list[str] = []
            with field_store.transaction():
                new = [theirs[u] for u in uids if u not in local]
                if new:
                    field_store.add_chains(new)
                    received.update({c[-1].uid: c[-1].version for c in new})
                for uid in uids:
                    chain, base, here = theirs[uid], bases.get(uid), local.get(uid)
                    if here is None:
                        continue
                    if here == base:
                        field_store.apply_versions([v for v in chain if v.version > here], expected_version=here)
                        received[uid] = chain[-1].version
                    elif _same(mine[uid][-1], chain[-1]):
                        agreed[uid] = chain[-1].version
                    else:
                        state.record_conflict(layer, base, mine[uid], chain)
                        found.append(uid)
                state.set_bases(layer, {**received, **agreed})
            report.moved[layer] = report.moved.get(layer, 0) + len(received)
            report.agreed += len(agreed)
            report.conflicts += [(layer, u) for u in found]
            if hook:
                hook(layer, "done")
    _log(state, server, server_id, report)
    return report


def _log(state: FieldState, server: Store, server_id: str, report: SyncReport) -> None:
    field_id = state.store.get_meta("store_id") or "unknown"
    server.log_sync(field_id, state.store.location, report.direction, report.total, len(report.conflicts))
    state.log(server_id, server.location, report.direction, report.total, len(report.conflicts))


def resolve(field_store: Store, server: Store, uid: str, keep: str, *, layer: str | None = None) -> Conflict:
    """Settle an open conflict: ``theirs`` takes the server's versions, ``mine`` saves the field's
    current version on the server as a new version on top of the server's. Either way both sides
    end with the same history; the field versions that did not survive stay in the conflict list."""
    if keep not in ("mine", "theirs"):
        raise SafeGroundError(f"{Param('keep', repr(keep))}: say mine or theirs")
    state = FieldState(field_store)
    server_id = _server_id(server, field_store)
    state.bind_server(server_id, server.location)
    open_ = [c for c in state.conflicts() if c.uid == uid and (layer is None or c.layer == layer)]
    if not open_:
        raise RecordNotFound(f"no open sync conflict for {uid}", hint="'safeground sync conflicts' lists them")
    if len(open_) > 1:
        raise SafeGroundError(f"{uid} is in conflict in several layers", hint=f"add {Param('layer')} to say which")
    conflict = open_[0]
    cls = RECORD_TYPES[conflict.layer]
    mine = field_store.chains(cls, [uid])[uid]
    theirs = server.chains(cls, [uid])[uid]
    if keep == "mine":
        current = mine[-1]
        note = f"sync conflict resolved: kept the field edit (field version {current.version}) over server version"
        server.update(
            current.model_copy(update={"change_reason": f"{note} {theirs[-1].version}"}),
            expected_version=theirs[-1].version,
        )
        theirs = server.chains(cls, [uid])[uid]
    floor = conflict.base_version or 0
    if theirs[-1].version <= floor:
        raise SafeGroundError(
            f"the server holds {uid} only up to version {theirs[-1].version}, below the last agreed version {floor}",
            hint="the server store was restored from an older copy: push from the field instead of resolving",
        )
    with field_store.transaction():
        field_store.apply_versions(
            [v for v in theirs if v.version > floor], expected_version=mine[-1].version, rewind_to=floor
        )
        state.set_bases(conflict.layer, {uid: theirs[-1].version})
        state.mark_resolved(conflict, keep)
    return conflict
