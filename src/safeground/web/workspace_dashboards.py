"""The workspace's dashboards: ``/workspace/dashboards`` draws each chart from the dashboards' JSON
(``GET /dashboards``, ``GET /dashboards/{name}.json``: the numbers behind it, the same ones its CSV
holds), and ``/workspace/reports/{kind}.pdf`` makes the chart's evidence report for the reader's
audience, one click away.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from safeground.services import workspace
from safeground.web.html import pdf_response
from safeground.web.permissions import Principal, requires
from safeground.web.workspace_routes import page_requires, render_page


def add_workspace_dashboard_routes(app: FastAPI) -> None:
    @app.get("/workspace/dashboards", tags=["workspace"], summary="Dashboards: casualties, land release, "
             "map accuracy, the completion forecast", response_class=HTMLResponse)  # fmt: skip
    def dashboards_page(
        request: Request,
        principal: Principal = Depends(page_requires("account")),  # noqa: B008
    ) -> HTMLResponse:
        return render_page(
            request,
            principal,
            "workspace/dashboards.html.j2",
            title_key="dashboards_title",
            active="/workspace/dashboards",
            reports=workspace.DASHBOARD_REPORTS,
        )

    @app.get("/workspace/reports/{kind}.pdf", tags=["workspace"],
             summary="An evidence report (PDF) for the reader's audience, made now from the store")  # fmt: skip
    def report(
        request: Request,
        kind: str,
        principal: Principal = Depends(requires("account")),  # noqa: B008
    ) -> Response:
        data, name = workspace.report_pdf(request.app.state.location, kind, principal.audience)
        return pdf_response(data, name)
