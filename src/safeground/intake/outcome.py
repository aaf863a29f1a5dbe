"""What an import did (or would do) with each feature or row: the report the command prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from safeground.errors import Problem
from safeground.intake.quarantine import LeftOut


@dataclass
class Change:
    """What an import does (or would do) with one feature or row."""

    item: str
    uid: str
    action: str  # create | update | unchanged | older
    detail: str = ""


@dataclass
class ImportReport:
    layer: str
    source: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    older: list[Change] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"create": 0, "update": 0, "unchanged": 0, "older": 0})
    repairs: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: rows left out with --skip-invalid/--quarantine, each with its reasons
    left_out: LeftOut = field(default_factory=LeftOut)
    dry_run: bool = False
    #: keep at most this many uids per action in the lists above (None: all); counts are always exact
    list_limit: int | None = None

    def room(self, action: str) -> int | None:
        """How many more changes of this kind are listed (None: all)."""
        return None if self.list_limit is None else max(self.list_limit - self.counts[action], 0)

    def add_many(self, action: str, items: list[str], uids: list[str], count: int | None = None) -> None:
        """``count`` changes of one kind; only the first ``room(action)`` need their item and uid given."""
        count = len(uids) if count is None else count
        room = self.room(action)
        room = count if room is None else min(room, count)
        for item, uid in zip(items[:room], uids[:room], strict=True):
            self.add(Change(item, uid, action))
        self.counts[action] += count - room

    def add(self, change: Change) -> None:
        self.counts[change.action] += 1
        if self.list_limit is not None and self.counts[change.action] > self.list_limit:
            return
        self.changes.append(change)
        {"create": self.created, "update": self.updated, "unchanged": self.unchanged}.get(change.action, []).append(
            change.uid
        )
        if change.action == "older":
            self.older.append(change)
