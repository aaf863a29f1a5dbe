"""The review queue: submissions kept in the store until a reviewer decides.

Approval must be all or nothing even if the server is killed in the middle. The records and a
marker (``review.applied.<id>`` in the store's metadata) are written in ONE store transaction; the
queue row and the audit entry follow. A submission whose marker exists is approved whatever its
row says, and :meth:`ReviewQueue.recover` finishes the row and the audit entry of an approval
that was cut short, so the record and the queue can never disagree for long and nothing is
applied twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select, update

from safeground.errors import SafeGroundError
from safeground.review.flags import Flag
from safeground.storage.side_tables import SideTables

_md = MetaData()
SUBMISSIONS = Table(
    "safeground_submissions",
    _md,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(16), nullable=False),
    Column("source", String(64), nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("organisation", String(64)),
    Column("submitted_at", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("flags", Text, nullable=False),
    Column("decided_by", Text),
    Column("decided_at", String(32)),
    Column("reason", Text),
)

APPLIED_KEY = "review.applied.{id}"


class State(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass
class Submission:
    id: int
    state: State
    source: str
    submitted_by: str
    organisation: str | None
    submitted_at: str
    summary: str
    payload: str
    flags: list[Flag] = field(default_factory=list)
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None

    @property
    def sticky_flags(self) -> list[Flag]:
        return [f for f in self.flags if f.sticky]


def _row(r: Any) -> Submission:
    flags = [Flag(**f) for f in json.loads(r.flags)]
    return Submission(
        r.id,
        State(r.state),
        r.source,
        r.submitted_by,
        r.organisation,
        r.submitted_at,
        r.summary,
        r.payload,
        flags,
        r.decided_by,
        r.decided_at,
        r.reason,
    )


class ReviewQueue(SideTables):
    """The submissions of one store, pending and decided."""

    METADATA = _md

    def add(
        self, *, source: str, submitted_by: str, organisation: str | None, summary: str, payload: str, flags: list[Flag]
    ) -> int:
        with self._tx() as c:
            res = c.execute(
                insert(SUBMISSIONS).values(
                    state=State.PENDING.value,
                    source=source,
                    submitted_by=submitted_by,
                    organisation=organisation,
                    submitted_at=now(),
                    summary=summary,
                    payload=payload,
                    flags=json.dumps([f.as_dict() for f in flags], ensure_ascii=False),
                )
            )
            key = res.inserted_primary_key
            assert key is not None
            return int(key[0])

    def get(self, sid: int) -> Submission:
        found = self.all(ids=[sid])
        if not found:
            raise SafeGroundError(f"no submission {sid}", hint="list them with: safeground review list --store STORE")
        return found[0]

    def all(
        self, *, state: State | None = None, organisation: str | None = None, ids: list[int] | None = None
    ) -> list[Submission]:
        q = select(SUBMISSIONS).order_by(SUBMISSIONS.c.id)
        if state is not None:
            q = q.where(SUBMISSIONS.c.state == state.value)
        if organisation is not None:
            q = q.where(SUBMISSIONS.c.organisation == organisation)
        if ids is not None:
            q = q.where(SUBMISSIONS.c.id.in_(ids))
        with self._read() as c:
            return [] if c is None else [_row(r) for r in c.execute(q).all()]

    def replace_payload(self, sid: int, payload: str, flags: list[Flag], summary: str) -> None:
        with self._tx() as c:
            n = c.execute(
                update(SUBMISSIONS)
                .where(SUBMISSIONS.c.id == sid, SUBMISSIONS.c.state == "pending")
                .values(
                    payload=payload,
                    summary=summary,
                    flags=json.dumps([f.as_dict() for f in flags], ensure_ascii=False),
                )
            ).rowcount
        if not n:
            raise SafeGroundError(f"submission {sid} is no longer pending")

    def decide(self, sid: int, state: State, *, by: str, at: str, reason: str | None) -> bool:
        """Record the decision; False when it was already decided (a second reviewer, a recovered approval)."""
        with self._tx() as c:
            n = c.execute(
                update(SUBMISSIONS)
                .where(SUBMISSIONS.c.id == sid, SUBMISSIONS.c.state == "pending")
                .values(state=state.value, decided_by=by, decided_at=at, reason=reason)
            ).rowcount
        return bool(n)
