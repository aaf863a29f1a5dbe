"""The workspace's review queue: ``/workspace/review`` (the submissions with their quality flags) and
``/workspace/review/{sid}`` (the diff field by field, the old and new geometry on a map, and the
reviewer's reconcile, approve and reject).

The pages are rendered here from :mod:`safeground.services.workspace` (the same service functions the
JSON routes of :mod:`safeground.web.review_routes` call); the decisions are sent by ``review.mjs`` to
those JSON routes, with the CSRF header. A data entry user sees the submissions of their own
organisation and, on a submission's page, not what their role may not read.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from safeground.errors import RecordNotFound
from safeground.review.queue import State
from safeground.services import workspace
from safeground.web.permissions import Principal
from safeground.web.workspace_routes import page_requires, render_page

STATES = ("pending", "approved", "rejected", "all")


def _location(request: Request) -> str:
    return request.app.state.location  # type: ignore[no-any-return]


def add_workspace_review_routes(app: FastAPI) -> None:
    see = Depends(page_requires("submissions:own"))

    @app.get("/workspace/review", tags=["workspace"], summary="The review queue", response_class=HTMLResponse)
    def review_page(request: Request, state: str | None = None, principal: Principal = see) -> HTMLResponse:
        assert principal.user is not None
        reviewer = principal.holds("review")
        shown = state if state in STATES else ("pending" if reviewer else "all")
        rows = workspace.queue(
            _location(request),
            principal.user,
            state=None if shown == "all" else State(shown),
            audience=principal.audience,
        )
        return render_page(
            request,
            principal,
            "workspace/review.html.j2",
            title_key="review_title",
            active="/workspace/review",
            rows=rows,
            state=shown,
            states=STATES,
            reviewer=reviewer,
        )

    @app.get(
        "/workspace/review/{sid}",
        tags=["workspace"],
        summary="One submission: its flags, the diff and the geometry, and the decision",
        response_class=HTMLResponse,
    )
    def submission_page(request: Request, sid: int, principal: Principal = see) -> HTMLResponse:
        assert principal.user is not None
        try:
            view = workspace.submission_view(_location(request), sid, principal.user, principal.audience)
        except RecordNotFound:  # not there, or another organisation's: the same page either way
            return render_page(request, principal, "workspace/review_missing.html.j2", title_key="submission_missing",
                               status_code=404, active="/workspace/review", sid=sid)  # fmt: skip
        geometries = [
            {"uid": c.uid, "layer": c.layer, "old": c.old_geometry, "new": c.new_geometry}
            for c in view.changes
            if c.old_geometry or c.new_geometry
        ]
        return render_page(
            request,
            principal,
            "workspace/review_submission.html.j2",
            title_key="submission_title",
            active="/workspace/review",
            view=view,
            sub=view.submission,
            geometries=geometries,
            related=view.related,
            area=workspace.area_of(_location(request)),
            reviewer=principal.holds("review"),
        )
