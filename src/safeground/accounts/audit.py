"""The audit log's hash chain: append-only, and any change behind the server's back shows.

Each entry carries the SHA-256 of the previous entry and its own hash over a canonical JSON of
everything it says (who, when, from where, what, on which record, the state before and after).
Changing an entry breaks its own hash; removing one breaks the sequence or the next entry's link.
Removing the *last* entries cannot be seen from inside the log: ``verify`` therefore reports the
head hash and the count, which an authority keeps elsewhere (a printed weekly report, a second
server) and passes back as ``expect_head`` to prove nothing was cut off the end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str  # ISO 8601, UTC
    actor: str  # a person: a user name, or the operating-system account for the command line
    origin: str  # where from: "cli@host", "web 10.0.0.5", "kobo token 7f3a…"
    action: str  # "user.add", "user.role", "login.failed", "submission.approve", "import", …
    target: str  # what it acted on: "user:aliyev", "hazard_areas:HA-00012", …
    before: Any = None  # JSON-able state before (never a password hash)
    after: Any = None
    prev: str = GENESIS
    hash: str = ""

    def canonical(self) -> bytes:
        body = {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "origin": self.origin,
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "prev": self.prev,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()

    def computed_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def chained(entry: AuditEntry) -> AuditEntry:
    """The entry with its hash filled in (its ``prev`` must already be the previous hash)."""
    return AuditEntry(**{**entry.__dict__, "hash": entry.computed_hash()})


@dataclass
class AuditCheck:
    count: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(entries: list[AuditEntry], *, expect_head: str | None = None) -> AuditCheck:
    """Check the chain from the first entry: sequence, links and hashes; every break is listed."""
    check = AuditCheck()
    prev, expected_seq = GENESIS, 1
    for e in entries:
        if e.seq != expected_seq:
            missing = f"{expected_seq}" if e.seq == expected_seq + 1 else f"{expected_seq}–{e.seq - 1}"
            check.problems.append(f"entry {missing} is missing: removed from the log?")
        if e.prev != prev:
            check.problems.append(f"entry {e.seq} does not follow the entry before it (its link is {e.prev[:12]}…)")
        if e.computed_hash() != e.hash:
            check.problems.append(f"entry {e.seq} ({e.action} on {e.target}) was changed after it was written")
        prev, expected_seq = e.hash, e.seq + 1
        check.count += 1
    check.head = prev
    if expect_head is not None and expect_head != prev:
        check.problems.append(
            f"the log ends at {prev[:12]}…, not at the head you expected ({expect_head[:12]}…): entries were "
            "removed from the end, or the log was replaced"
        )
    return check
