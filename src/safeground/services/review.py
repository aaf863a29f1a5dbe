"""Review and approval: submit a change set, see it with its flags and diff, reconcile, approve, reject.

Called by ``safeground review`` and ``import|forms import --submit`` on the command line, and by
the server's review queue. Who may see which submission: a reviewer (or the command line on the
store itself) sees all of them; a data entry user only those of their own organisation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import shapely

from safeground.accounts.permissions import can_review, sees_submissions_of
from safeground.accounts.repository import Accounts, User
from safeground.errors import NotPermitted, RecordNotFound, SafeGroundError, VersionConflict
from safeground.intake.commit import WritePlan, commit
from safeground.model.base import Record
from safeground.review.changeset import dump_plan, load_plan
from safeground.review.flags import quality_flags
from safeground.review.queue import APPLIED_KEY, ReviewQueue, State, Submission, now
from safeground.services.quality import after_write
from safeground.storage import open_store
from safeground.storage.base import metric_epsg_if_located

#: fields every version changes: not part of what a reviewer compares
_BOOKKEEPING = {"version", "entered_at", "entered_by", "change_reason"}


def _summary(plan: WritePlan) -> str:
    parts = []
    for layer, n in sorted(plan.summary().items()):
        bits = [f"{n['create']} new" if n["create"] else "", f"{n['update']} changed" if n["update"] else ""]
        parts.append(f"{layer}: " + ", ".join(b for b in bits if b))
    deleted: dict[str, int] = {}
    for r, _ in plan.delete:
        deleted[r.LAYER] = deleted.get(r.LAYER, 0) + 1
    parts += [f"{layer}: {n} deleted" for layer, n in sorted(deleted.items())]
    return "; ".join(parts) or "no change"


def submit(
    location: str, plan: WritePlan, *, source: str, submitted_by: str, organisation: str | None, origin: str
) -> Submission:
    """Keep the change set in the review queue (nothing reaches the record), with its quality flags."""
    if not plan.create and not plan.update and not plan.delete:
        raise NotDecidable("nothing to submit: every record is already stored as it is")
    with open_store(location, create=False, readonly=True) as store:
        flags = quality_flags(store, plan)
    with ReviewQueue(location) as q:
        sid = q.add(
            source=source,
            submitted_by=submitted_by,
            organisation=organisation,
            summary=_summary(plan),
            payload=dump_plan(plan),
            flags=flags,
        )
        sub = q.get(sid)
    with Accounts(location) as acc:
        acc.record(
            submitted_by,
            origin,
            "submission.add",
            f"submission:{sid}",
            None,
            {"source": source, "summary": sub.summary, "flags": [f.code for f in flags]},
        )
    return sub


def recover(location: str) -> list[int]:
    """Finish approvals cut short after their records were written (see review/queue.py): their ids."""
    with ReviewQueue(location) as q:
        pending = q.all(state=State.PENDING)
        if not pending:
            return []
        with open_store(location, create=False, readonly=True) as store:
            marks = {s.id: store.get_meta(APPLIED_KEY.format(id=s.id)) for s in pending}
        done = []
        for s in pending:
            mark = marks[s.id]
            if mark and q.decide(
                s.id, State.APPROVED, by=json.loads(mark)["by"], at=json.loads(mark)["at"], reason=None
            ):
                with Accounts(location) as acc:
                    acc.record(
                        json.loads(mark)["by"],
                        "recovery",
                        "submission.approve",
                        f"submission:{s.id}",
                        None,
                        {"recovered": True},
                    )
                done.append(s.id)
        return done


def submissions(location: str, *, viewer: User | None = None, state: State | None = None) -> list[Submission]:
    """The submissions ``viewer`` may see (None: the command line on the store, which sees all)."""
    recover(location)
    with ReviewQueue(location) as q:
        if viewer is None or can_review(viewer):
            return q.all(state=state)
        org = sees_submissions_of(viewer)
        if org is None:
            return []
        return q.all(state=state, organisation=org)


def submission(location: str, sid: int, *, viewer: User | None = None) -> Submission:
    for s in submissions(location, viewer=viewer):
        if s.id == sid:
            return s
    # the same answer whether it does not exist or may not be seen: its existence is not leaked
    raise RecordNotFound(f"no submission {sid}", hint="list them with: safeground review list --store STORE")


class NotDecidable(SafeGroundError):
    """A request about a submission that cannot be carried out as asked (no reason, nothing to submit)."""

    code = "invalid_input"
    http_status = 422


@dataclass
class Change:
    layer: str
    uid: str
    kind: str  # create | update | delete
    base_version: int | None
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (stored, submitted)
    geometry_moved_m: float | None = None  # how far the centroid moves (updates)
    stored_version: int | None = None  # the version stored now (differs from base: changed since)


def diff(location: str, sub: Submission) -> list[Change]:
    """Field by field, what approving the submission would change in the record."""
    plan = load_plan(sub.payload)
    out = []
    with open_store(location, create=False, readonly=True) as store:
        epsg = metric_epsg_if_located(store)
        for r in plan.create:
            new = r.model_dump(mode="json")
            out.append(
                Change(
                    r.LAYER,
                    r.uid,
                    "create",
                    None,
                    {k: (None, v) for k, v in new.items() if k not in _BOOKKEEPING and v not in (None, [])},
                )
            )
        for r, base in plan.update:
            try:
                stored = store.get(type(r), r.uid)
            except RecordNotFound:
                out.append(Change(r.LAYER, r.uid, "update", base, {"(record)": ("deleted since", "updated")}))
                continue
            a, b = stored.model_dump(mode="json"), r.model_dump(mode="json")
            ch = Change(
                r.LAYER,
                r.uid,
                "update",
                base,
                {k: (a.get(k), b.get(k)) for k in b if k not in _BOOKKEEPING and a.get(k) != b.get(k)},
                stored_version=stored.version,
            )
            g0, g1 = getattr(stored, "geometry", None), getattr(r, "geometry", None)
            if g0 is not None and g1 is not None and epsg is not None and not g0.equals(g1):
                from pyproj import Transformer

                t = Transformer.from_crs(4326, epsg, always_xy=True)
                c0, c1 = (
                    shapely.transform(g0.centroid, t.transform, interleaved=False),
                    shapely.transform(g1.centroid, t.transform, interleaved=False),
                )
                ch.geometry_moved_m = float(c0.distance(c1))
            out.append(ch)
        for r, base in plan.delete:
            try:
                now_stored: int | None = store.get(type(r), r.uid).version
            except RecordNotFound:
                now_stored = None
            gone = {k: (v, None) for k, v in r.model_dump(mode="json").items() if k not in _BOOKKEEPING}
            out.append(Change(r.LAYER, r.uid, "delete", base, gone, stored_version=now_stored))
    return out


def reconcile(
    location: str, sid: int, uid: str, existing_uid: str, *, reviewer: User | None, by: str, origin: str
) -> Submission:
    """Make a submitted new record an update of a stored one ("this reported SHA is HA-0123")."""
    _may_review(reviewer)
    sub = submission(location, sid, viewer=reviewer)
    _pending(sub)
    plan = load_plan(sub.payload)
    match = [r for r in plan.create if r.uid == uid]
    if not match:
        raise RecordNotFound(
            f"submission {sid} creates no record {uid}", hint="the new records are listed by: safeground review show ID"
        )
    new = match[0]
    with open_store(location, create=False, readonly=True) as store:
        try:
            stored = store.get(type(new), existing_uid)
        except RecordNotFound:
            raise RecordNotFound(f"there is no {new.LAYER} record {existing_uid} to reconcile {uid} to") from None
        data = {
            **new.model_dump(),
            "uid": existing_uid,
            "version": stored.version + 1,
            "change_reason": f"reconciled from submission {sid} ({uid})",
        }
        updated = type(new).model_validate(data, context={"from_store": True})
        plan.create = [r for r in plan.create if r.uid != uid]
        plan.update.append((updated, stored.version))
        _retarget(plan.create, uid, existing_uid)
        flags = quality_flags(store, plan)
    with ReviewQueue(location) as q:
        q.replace_payload(sid, dump_plan(plan), flags, _summary(plan))
    with Accounts(location) as acc:
        acc.record(by, origin, "submission.reconcile", f"submission:{sid}", {"create": uid}, {"update": existing_uid})
    return submission(location, sid, viewer=reviewer)


def approve(location: str, sid: int, *, reviewer: User | None, by: str, origin: str) -> Submission:
    """Apply the whole submission in one transaction (with history), then record the decision."""
    _may_review(reviewer)
    sub = submission(location, sid, viewer=reviewer)
    _pending(sub)
    plan = load_plan(sub.payload)
    at = now()
    with open_store(location, create=False) as store:
        changed = []
        for r, base in [*plan.update, *plan.delete]:
            try:
                current = store.get(type(r), r.uid).version
            except RecordNotFound:
                current = None
            if current != base:
                changed.append(f"{r.uid} (version {current} stored, submitted against {base})")
        if changed:
            raise VersionConflict(
                f"submission {sid} changes records that were changed since it was submitted: {', '.join(changed)}",
                hint="reject it with the reason, or ask the submitter to send it again against the current record",
            )
        _renumber_taken(store, plan)
        for r, _ in plan.update:
            object.__setattr__(r, "entered_by", by)
        plan.meta[APPLIED_KEY.format(id=sid)] = json.dumps({"by": by, "at": at})
        try:
            with store.transaction():  # approved accidents or finds in released land open their investigation
                commit(store, plan)
                after_write(store, {r.LAYER for r in [*plan.create, *(u for u, _ in plan.update)]}, entered_by=by)
        except VersionConflict as exc:
            raise VersionConflict(f"submission {sid} could not be applied: {exc.message}") from exc
    with ReviewQueue(location) as q:
        q.decide(sid, State.APPROVED, by=by, at=at, reason=None)
    with Accounts(location) as acc:
        acc.record(
            by,
            origin,
            "submission.approve",
            f"submission:{sid}",
            None,
            {
                "created": [f"{r.LAYER}:{r.uid}" for r in plan.create],
                "updated": [f"{r.LAYER}:{r.uid}" for r, _ in plan.update],
                "deleted": [f"{r.LAYER}:{r.uid}" for r, _ in plan.delete],
            },
        )
    return submission(location, sid, viewer=reviewer)


def reject(location: str, sid: int, reason: str, *, reviewer: User | None, by: str, origin: str) -> Submission:
    _may_review(reviewer)
    if not reason.strip():
        raise NotDecidable("a rejection needs its reason: the submitter reads it")
    sub = submission(location, sid, viewer=reviewer)
    _pending(sub)
    with ReviewQueue(location) as q:
        q.decide(sid, State.REJECTED, by=by, at=now(), reason=reason.strip())
    with Accounts(location) as acc:
        acc.record(by, origin, "submission.reject", f"submission:{sid}", None, {"reason": reason.strip()})
    return submission(location, sid, viewer=reviewer)


def _may_review(user: User | None) -> None:
    if user is not None and not can_review(user):
        raise NotPermitted(f"{user.username} ({user.role.value}) may not review submissions")


def _pending(sub: Submission) -> None:
    if sub.state is not State.PENDING:
        raise VersionConflict(
            f"submission {sub.id} was already {sub.state.value} by {sub.decided_by} on {sub.decided_at}"
        )


def _retarget(records: list[Record], old: str, new: str) -> None:
    """Point references between submitted records at a uid that changed (victims of a reconciled accident)."""
    for r in records:
        for fld in r.REFERENCES:
            if getattr(r, fld, None) == old:
                object.__setattr__(r, fld, new)


def _renumber_taken(store: Any, plan: WritePlan) -> None:
    """A new record whose uid was taken since it was submitted gets the next free one."""
    by_type: dict[type[Record], list[Record]] = {}
    for r in plan.create:
        by_type.setdefault(type(r), []).append(r)
    for cls, recs in by_type.items():
        taken = store.existing_uids(cls, [r.uid for r in recs])
        for r in recs:
            if r.uid in taken:
                new = store.next_uid(cls)
                plan.notes.append(f"{r.uid} was taken since submission: stored as {new}")
                _retarget(plan.create, r.uid, new)
                object.__setattr__(r, "uid", new)
