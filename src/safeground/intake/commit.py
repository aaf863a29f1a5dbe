"""Write a batch of new and changed records in one transaction, or show what would be written.

A dry run goes through exactly the same writes inside the transaction and then
rolls it back, so what it reports is what a real run would do (identifiers
checked against the store, database constraints applied), not a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from safeground.model.base import Record
from safeground.storage.base import Store


class _RollBack(Exception):
    """Raised inside the transaction of a dry run to undo it."""


@dataclass
class WritePlan:
    """What an import creates and updates; filled by ``commit``."""

    create: list[Record] = field(default_factory=list)
    update: list[tuple[Record, int]] = field(default_factory=list)  # new version, expected (stored) version
    #: records to take out of the layer (the stored version, as it was read): their history stays
    delete: list[tuple[Record, int]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # "layer uid": already stored, same or newer
    notes: list[str] = field(default_factory=list)
    #: store metadata written in the same transaction (e.g. which record an edited submission's instance id is)
    meta: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.create:
            out.setdefault(r.LAYER, {"create": 0, "update": 0}).__setitem__("create", out[r.LAYER]["create"] + 1)
        for r, _ in self.update:
            out.setdefault(r.LAYER, {"create": 0, "update": 0}).__setitem__("update", out[r.LAYER]["update"] + 1)
        return out


def commit(store: Store, plan: WritePlan, *, dry_run: bool = False) -> WritePlan:
    """All creates, updates and deletions of the plan in one transaction (rolled back when ``dry_run``)."""
    try:
        with store.transaction():
            if plan.create:
                store.add_many(_ordered(plan.create))
            for rec, expected in plan.update:
                store.update(rec, expected_version=expected)
            for rec, expected in plan.delete:
                store.delete(type(rec), rec.uid, expected_version=expected)
            for key, value in plan.meta.items():
                store.set_meta(key, value)
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    return plan


def _ordered(records: Sequence[Record]) -> list[Record]:
    """Parents before children (accidents before victims before identities), for stores that check references."""
    order = {"accidents": 0, "victims": 1, "victim_identities": 2}
    return sorted(records, key=lambda r: order.get(r.LAYER, -1))
