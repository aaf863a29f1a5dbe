"""``/dashboards``: the dashboards' figures as JSON and CSV, for the browser page and anyone's own charts.

``GET /dashboards`` lists them (``name``, ``title`` and the addresses of its ``json`` and ``csv``);
``GET /dashboards/{name}.json`` is ``{"name", "title", "columns", "rows", "fingerprint", "generated"}``;
``GET /dashboards/{name}.csv`` the same table as CSV. Anyone may read them (``read:public``): what a
reader gets is decided by its audience in :mod:`safeground.services.dashboards` (the public sees the
casualty counts with small cells hidden, a restricted reader every count). The figures are cached by
the store's data fingerprint, which is also the answer's ETag: a client that has it gets a 304.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request, Response

from safeground.services.dashboards import Dashboard, dashboard, list_dashboards
from safeground.web.permissions import requires
from safeground.web.principal import Principal

#: anyone may read the dashboards; what they see is their audience's (see the module docstring)
READ_PUBLIC = Depends(requires("read:public"))


def _answer(d: Dashboard, request: Request, body: bytes, media: str, principal: Principal) -> Response:
    etag = f'"{d.fingerprint}-{principal.audience.value}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate", "Vary": "Cookie, Authorization"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media, headers=headers)


def add_dashboard_routes(app: FastAPI) -> None:
    @app.get("/dashboards", tags=["dashboards"], summary="The dashboards and where to get each")
    def dashboards(request: Request, principal: Principal = READ_PUBLIC) -> list[dict[str, str]]:
        return [
            {"name": n, "title": t, "json": f"/dashboards/{n}.json", "csv": f"/dashboards/{n}.csv"}
            for n, t in list_dashboards()
        ]

    @app.get("/dashboards/{name}.json", tags=["dashboards"], summary="One dashboard's table as JSON")
    def dashboard_json(name: str, request: Request, principal: Principal = READ_PUBLIC) -> Response:
        d = dashboard(request.app.state.catalogue.store, name, principal.audience)
        return _answer(d, request, d.json_bytes(), "application/json", principal)

    @app.get("/dashboards/{name}.csv", tags=["dashboards"], summary="One dashboard's table as CSV")
    def dashboard_csv(name: str, request: Request, principal: Principal = READ_PUBLIC) -> Response:
        d = dashboard(request.app.state.catalogue.store, name, principal.audience)
        return _answer(d, request, d.csv_bytes(), "text/csv; charset=utf-8", principal)
