"""Data entry in the workspace: ``/workspace/entry`` (a hazard area report, an accident with its
victims, an explosive ordnance find: the geometry drawn on a map, the form filled) and
``POST /workspace/entry/{form}``, which reads the answers with the forms importer's own validation
(:func:`safeground.services.entry.submit_entry`) and queues them for review (``202`` with the
submission's page as ``Location``). A refused entry answers ``422`` with one problem per field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse

from safeground.services import entry, workspace
from safeground.web.auth import client_address
from safeground.web.permissions import Principal, requires
from safeground.web.workspace_routes import page_requires, render_page


def _location(request: Request) -> str:
    return request.app.state.location  # type: ignore[no-any-return]


def add_workspace_entry_routes(app: FastAPI) -> None:
    @app.get("/workspace/entry", tags=["workspace"], summary="Data entry: a report drawn and typed in the browser",
             response_class=HTMLResponse)  # fmt: skip
    def entry_page(
        request: Request,
        form: str = entry.ENTRY_FORMS[0],
        principal: Principal = Depends(page_requires("submit")),  # noqa: B008
    ) -> HTMLResponse:
        chosen = form if form in entry.ENTRY_FORMS else entry.ENTRY_FORMS[0]
        return render_page(
            request,
            principal,
            "workspace/entry.html.j2",
            title_key="entry_title",
            active="/workspace/entry",
            forms=entry.ENTRY_FORMS,
            form=entry.entry_form(chosen),
            area=workspace.area_of(_location(request)),
        )

    @app.post("/workspace/entry/{form}", tags=["workspace"], status_code=202,
              summary="A report from the data entry page, checked as the forms importer does, into review")  # fmt: skip
    def submit_entry(
        request: Request,
        response: Response,
        form: str,
        values: Annotated[dict[str, Any], Body()],
        repeats: Annotated[list[dict[str, Any]] | None, Body(max_length=100)] = None,
        principal: Principal = Depends(requires("submit")),  # noqa: B008
    ) -> dict[str, Any]:
        assert principal.user is not None
        sub = entry.submit_entry(
            _location(request), form, values, repeats, user=principal.user, origin=f"web {client_address(request)}"
        )
        response.headers["Location"] = f"/workspace/review/{sub.id}"
        return {
            "id": sub.id,
            "state": sub.state.value,
            "summary": sub.summary,
            "flags": workspace.flags_for(sub, principal.audience),
            "page": f"/workspace/review/{sub.id}",
        }
