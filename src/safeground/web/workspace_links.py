"""The documents the map's side panel links to: a minefield record's dossier, each layer's evidence report.

``GET /workspace/links/{collection}/{uid}`` says which links the reader may follow (the panel draws
those and no others); ``GET /workspace/dossiers/{uid}.pdf`` makes the record's accuracy dossier, what
``safeground maps dossier UID`` writes. A dossier draws the record's rows and mines where they were laid,
so it needs ``read:restricted``: a reader below gets neither the link nor the PDF (403). The reports
(``/workspace/reports/{kind}.pdf``) are made for the reader's own audience.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from safeground.accounts.roles import Permission
from safeground.services import workspace
from safeground.web.html import pdf_response
from safeground.web.permissions import Principal, requires


def add_workspace_link_routes(app: FastAPI) -> None:
    @app.get("/workspace/links/{collection}/{uid}", tags=["workspace"],
             summary="The dossier and reports a feature's side panel offers this reader")  # fmt: skip
    def feature_links(
        collection: str,
        uid: str,
        principal: Principal = Depends(requires("read:partner")),  # noqa: B008
    ) -> dict[str, Any]:
        exact = principal.holds(Permission.READ_RESTRICTED)
        return {"collection": collection, "uid": uid, "links": workspace.feature_links(collection, uid, exact=exact)}

    @app.get("/workspace/dossiers/{uid}.pdf", tags=["workspace"],
             summary="A minefield record's accuracy dossier (PDF; exact positions, so restricted)")  # fmt: skip
    def dossier(
        request: Request,
        uid: str,
        _: Principal = Depends(requires("read:restricted")),  # noqa: B008
    ) -> Response:
        data, name = workspace.dossier_pdf(request.app.state.location, uid)
        return pdf_response(data, name)
