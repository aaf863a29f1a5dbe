"""The review queue over HTTP, and OGC API Features Part 4 writes into it.

Thin: every route calls :mod:`safeground.services.review`, the same functions ``safeground review``
calls. A data entry user's create or replace of a feature (Part 4) never reaches the record: it
becomes a submission (``202 Accepted`` with its ``Location``), approved or rejected by a reviewer; so does a
deletion (``DELETE``): approved, it takes the record out of the layer and keeps its history.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import shapely.geometry
from fastapi import Body, Depends, FastAPI, Request, Response
from pydantic import ValidationError

from safeground.accounts.permissions import can_review
from safeground.errors import InvalidInput, Problem, RecordNotFound
from safeground.intake.commit import WritePlan
from safeground.model.base import RECORD_TYPES, Record
from safeground.review.queue import State, Submission
from safeground.services import review
from safeground.services.quality import open_residual_investigations
from safeground.services.workspace import flags_for, submission_view
from safeground.web.auth import client_address
from safeground.web.permissions import Principal, requires
from safeground.web.principal import NotPermitted


def _location(request: Request) -> str:
    return request.app.state.location  # type: ignore[no-any-return]


def _out(sub: Submission, changes: list[Any] | None = None) -> dict[str, Any]:
    data = {
        "id": sub.id,
        "state": sub.state.value,
        "source": sub.source,
        "submitted_by": sub.submitted_by,
        "organisation": sub.organisation,
        "submitted_at": sub.submitted_at,
        "summary": sub.summary,
        "flags": [f.as_dict() for f in sub.flags],
        "decided_by": sub.decided_by,
        "decided_at": sub.decided_at,
        "reason": sub.reason,
    }
    if changes is not None:
        data["changes"] = [asdict(c) for c in changes]
    return data


def _who(principal: Principal) -> str:
    assert principal.user is not None
    return principal.user.username


def _writable(layer: str) -> type[Record]:
    """The record type of a collection a submission may write to (a restricted layer is never written over HTTP)."""
    cls = RECORD_TYPES.get(layer)
    if cls is None or cls.RESTRICTED:
        raise RecordNotFound(f"no collection {layer!r} to write to")
    return cls


def _stored(request: Request, layer: str, uid: str) -> Record:
    """The current version of the feature a replacement or a deletion names."""
    from safeground.storage import open_store

    with open_store(_location(request), create=False, readonly=True) as s:
        return s.get(_writable(layer), uid)


def _record_from_feature(
    request: Request, layer: str, feature: dict[str, Any], uid: str | None, version: int, by: str
) -> Record:
    """A GeoJSON Feature as the layer's record, with every problem named (field by field)."""
    cls = _writable(layer)
    props = dict(feature.get("properties") or {})
    data: dict[str, Any] = {**props, "version": version}
    if cls.GEOMETRY:
        try:
            data["geometry"] = shapely.geometry.shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                [Problem("request body", "feature", "geometry", f"not a GeoJSON geometry ({exc})")]
            ) from None
    data.setdefault("date_of_information", datetime.now(UTC).date())
    data["entered_by"] = by  # the person, never the channel
    data["entered_at"] = datetime.now(UTC).replace(microsecond=0)
    if uid is None:
        from safeground.storage import open_store

        with open_store(_location(request), create=False, readonly=True) as s:
            data["uid"] = s.next_uid(cls)  # provisional: renumbered at approval if taken meanwhile
    else:
        data["uid"] = uid
    try:
        return cls.model_validate(data)
    except ValidationError as exc:  # one problem per field, as the importers report them
        errors = exc.errors()
        raise InvalidInput(
            [Problem("request body", data["uid"], ".".join(map(str, e["loc"])) or "?", e["msg"]) for e in errors]
        ) from None


def add_review_routes(app: FastAPI) -> None:
    see = Depends(requires("submissions:own"))
    decide = Depends(requires("review"))
    submit = Depends(requires("submit"))

    @app.get("/submissions", tags=["review"], summary="Submissions the caller may see (own organisation, or all)")
    def list_submissions(request: Request, state: State | None = None, principal: Principal = see) -> dict[str, Any]:
        subs = review.submissions(_location(request), viewer=principal.user, state=state)
        out: dict[str, Any] = {"submissions": [_out(s) for s in subs]}
        if not principal.audience.exact:  # some flags quote a position (the released land, the duplicate)
            for row, s in zip(out["submissions"], subs, strict=True):
                row["flags"] = flags_for(s, principal.audience)
        if principal.user is None or can_review(principal.user):  # on the queue until someone closes them
            out["residual_investigations"] = [
                {"uid": q.uid, "opened": q.inspection_date.isoformat(), "organisation": q.organisation_uid,
                 "activity": q.activity_uid, "hazard_area": q.hazard_area_uid, "opened_by": q.opened_by,
                 "description": q.non_conformities[0].description if q.non_conformities else ""}
                for q in open_residual_investigations(_location(request))
            ]  # fmt: skip
        return out

    @app.get("/submissions/{sid}", tags=["review"], summary="One submission: flags and the diff field by field")
    def show_submission(request: Request, sid: int, principal: Principal = see) -> dict[str, Any]:
        location = _location(request)
        sub = review.submission(location, sid, viewer=principal.user)
        if principal.audience.exact:
            return _out(sub, review.diff(location, sub))
        # below restricted (a data entry user reading their organisation's submission): the diff and the flags
        # as the workspace page shows them, identities and exact positions withheld, never the raw change set
        assert principal.user is not None  # `submissions:own` needs an account
        view = submission_view(location, sid, principal.user, principal.audience)
        out = _out(sub)
        out["flags"] = view.flags
        out["changes"] = [
            {"layer": c.layer, "uid": c.uid, "kind": c.kind, "base_version": c.base_version,
             "stored_version": c.stored_version, "fields": {f.name: [f.old, f.new] for f in c.fields},
             "geometry_moved_m": c.geometry_moved_m}
            for c in view.changes
        ]  # fmt: skip
        return out

    @app.post("/submissions/{sid}/approve", tags=["review"], summary="Apply the submission to the record")
    def approve(request: Request, sid: int, principal: Principal = decide) -> dict[str, Any]:
        return _out(
            review.approve(
                _location(request),
                sid,
                reviewer=principal.user,
                by=_who(principal),
                origin=f"web {client_address(request)}",
            )
        )

    @app.post("/submissions/{sid}/reject", tags=["review"], summary="Reject the submission with its reason")
    def reject(
        request: Request,
        sid: int,
        reason: Annotated[str, Body(embed=True, max_length=2000)],
        principal: Principal = decide,
    ) -> dict[str, Any]:
        return _out(
            review.reject(
                _location(request),
                sid,
                reason,
                reviewer=principal.user,
                by=_who(principal),
                origin=f"web {client_address(request)}",
            )
        )

    @app.post("/submissions/{sid}/reconcile", tags=["review"], summary="A new record is really a stored one")
    def reconcile(
        request: Request,
        sid: int,
        uid: Annotated[str, Body()],
        to: Annotated[str, Body()],
        principal: Principal = decide,
    ) -> dict[str, Any]:
        return _out(
            review.reconcile(
                _location(request),
                sid,
                uid,
                to,
                reviewer=principal.user,
                by=_who(principal),
                origin=f"web {client_address(request)}",
            )
        )

    def _queue(
        request: Request, response: Response, principal: Principal, plan: WritePlan, source: str = "api"
    ) -> dict[str, Any]:
        assert principal.user is not None
        sub = review.submit(
            _location(request),
            plan,
            source=source,
            submitted_by=principal.user.username,
            organisation=principal.user.organisation,
            origin=f"web {client_address(request)}",
        )
        response.status_code = 202
        response.headers["Location"] = str(request.base_url).rstrip("/") + f"/submissions/{sub.id}"
        return _out(sub)

    @app.post(
        "/collections/{collection_id}/items",
        tags=["review"],
        status_code=202,
        summary="OGC API Features Part 4: a new feature, into the review queue",
    )
    def create_item(
        request: Request,
        response: Response,
        collection_id: str,
        feature: Annotated[dict[str, Any], Body()],
        principal: Principal = submit,
    ) -> dict[str, Any]:
        rec = _record_from_feature(request, collection_id, feature, None, 1, _who(principal))
        return _queue(request, response, principal, WritePlan(create=[rec]))

    @app.put(
        "/collections/{collection_id}/items/{feature_id}",
        tags=["review"],
        status_code=202,
        summary="OGC API Features Part 4: a new version of a feature, into the review queue",
    )
    def replace_item(
        request: Request,
        response: Response,
        collection_id: str,
        feature_id: str,
        feature: Annotated[dict[str, Any], Body()],
        principal: Principal = submit,
    ) -> dict[str, Any]:
        stored = _stored(request, collection_id, feature_id)
        rec = _record_from_feature(request, collection_id, feature, feature_id, stored.version + 1, _who(principal))
        return _queue(request, response, principal, WritePlan(update=[(rec, stored.version)]))

    @app.delete(
        "/collections/{collection_id}/items/{feature_id}",
        tags=["review"],
        status_code=202,
        summary="OGC API Features Part 4: the deletion of a feature, into the review queue (never deleted at once)",
    )
    def delete_item(
        request: Request, response: Response, collection_id: str, feature_id: str, principal: Principal = submit
    ) -> dict[str, Any]:
        stored = _stored(request, collection_id, feature_id)
        return _queue(request, response, principal, WritePlan(delete=[(stored, stored.version)]))

    @app.post(
        "/kobo/{form}",
        tags=["review"],
        status_code=202,
        summary="KoboToolbox REST Services: one form submission (its JSON), into the review queue",
    )
    def kobo_webhook(
        request: Request,
        response: Response,
        form: str,
        payload: Annotated[dict[str, Any], Body()],
        principal: Principal = submit,
    ) -> dict[str, Any]:
        """Kobo posts each submission as the JSON object of its data export; it is read by the same reader
        as ``safeground forms import`` (an export of one), so a webhook and a file import cannot differ."""
        import tempfile
        from pathlib import Path

        from safeground.intake.submissions import plan_submissions
        from safeground.storage import open_store

        if principal.via != "token":
            raise NotPermitted(
                "the KoboToolbox webhook is called by Kobo with an API token, not from a browser session",
                hint="in Kobo: Project → Settings → REST Services, header Authorization: Bearer <token>",
            )
        with tempfile.TemporaryDirectory(prefix="safeground-kobo-") as tmp:
            path = Path(tmp) / f"kobo-{form}-{payload.get('_id', 'submission')}.json"
            path.write_text(json.dumps([payload], ensure_ascii=False), encoding="utf-8")
            with open_store(_location(request), create=False, readonly=True) as s:
                plan = plan_submissions(s, form, [path])
        return _queue(request, response, principal, plan, source=f"kobo {form}")
