"""What is stored and how it travels: one record's history, and field sync with the server.

A record's history is what a reviewer asks for first ("who changed what, when"); a record
deleted by another program (QGIS) still has it, and an identifier that was never stored gets
an answer that says how many the layer holds. Field sync opens both stores for the whole
exchange, so a push or pull is one run with one report, whichever front-end started it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from safeground.errors import RecordNotFound
from safeground.model.same import BOOKKEEPING
from safeground.storage import open_store

if TYPE_CHECKING:
    from safeground.model.base import Record
    from safeground.sync import Conflict, SyncReport


@dataclass(frozen=True)
class Version:
    """One version of a record and what it changed against the one before."""

    record: Record
    changed: str


@dataclass(frozen=True)
class RecordHistory:
    uid: str
    layer: str
    versions: list[Version]
    #: no current version: deleted outside SafeGround or by an approved deletion; the history table keeps the versions
    deleted: bool


def record_history(store: str, layer: str, uid: str) -> RecordHistory:
    """Every version of one record, oldest first, each with the fields it changed."""
    from safeground.model import record_type

    cls = record_type(layer)
    deleted = False
    with open_store(store, readonly=True) as s:
        try:
            versions = s.history(cls, uid)
        except RecordNotFound as exc:
            # no current version, but maybe a history: deleted by another program (QGIS), or never stored
            versions = s.chains(cls, [uid]).get(uid, [])
            if not versions:
                held = s.count(cls)
                raise RecordNotFound(
                    f"{exc.message} ({layer} holds {held:,} record(s))",
                    hint="list them with: safeground export layer "
                    f"{layer} --format csv --out {layer}.csv --store {store}"
                    if held
                    else f"import them first: safeground import {layer} FILE --store {store}",
                ) from None
            deleted = True
        else:  # an approved deletion keeps every version too: history() answers, the layer holds none
            deleted = not s.existing_uids(cls, [uid])
    out, previous = [], None
    for v in versions:
        out.append(Version(v, changed_fields(previous, v)))
        previous = v
    return RecordHistory(uid, layer, out, deleted)


def changed_fields(before: Any, after: Any) -> str:
    """Which fields a version changed (``status: open → closed``), short: what a reviewer looks for first."""
    if before is None:
        return ""
    old = before.model_dump(mode="json", exclude={"geometry"})
    new = after.model_dump(mode="json", exclude={"geometry"})
    out = []
    for k, v in new.items():
        if k in BOOKKEEPING or old.get(k) == v:
            continue
        simple = all(isinstance(x, str | int | float | bool) or x is None for x in (old.get(k), v))
        out.append(f"{k}: {old.get(k)} → {v}" if simple else k)
    geom_old, geom_new = getattr(before, "geometry", None), getattr(after, "geometry", None)
    if geom_old is not None and geom_new is not None and not geom_old.equals(geom_new):
        out.append("geometry")
    return "; ".join(out)


def sync_stores(
    direction: str,
    store: str,
    server: str,
    *,
    layers: list[str] | None = None,
    batch: int = 500,
    progress: Callable[[str, str], None] | None = None,
) -> SyncReport:
    """Push the field store's new versions to the server, or pull the server's (a new field file is created)."""
    from safeground.services.quality import after_write
    from safeground.sync import pull, push

    with open_store(store, create=direction == "pull") as field, open_store(server, create=False) as srv:
        done = (push if direction == "push" else pull)(field, srv, layers=layers, batch=batch, hook=progress)
        if direction == "push":  # the server opens the investigations; a field store pulls them from it
            after_write(srv, set(layers) if layers else None)
        return done


def sync_conflicts(store: str, *, include_resolved: bool = False) -> list[Conflict]:
    """Records edited both in the field and on the server since the last sync (read only)."""
    from safeground.sync import FieldState

    with open_store(store, readonly=True) as field:
        return list(FieldState(field).conflicts(include_resolved=include_resolved))


def resolve_conflict(store: str, server: str, uid: str, keep: str, *, layer: str | None = None) -> Conflict:
    """Keep the field edit (``mine``) or the server's (``theirs``); both sides then hold the same history."""
    from safeground.sync import resolve

    with open_store(store, create=False) as field, open_store(server, create=False) as srv:
        return resolve(field, srv, uid, keep, layer=layer)
