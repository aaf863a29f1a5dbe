"""``/workspace/tokens``: a person's own API tokens (for QGIS, a field device, a KoboToolbox REST service).

Anyone with an account lists their tokens, makes one and revokes one here; the administrator sees and
revokes everyone's on the administration page. A token acts as its user, with that user's role and
never more, so it reads and changes only what its user may. The secret is answered once, by the request
that made it (only its hash is stored), and a token is made only from a logged-in browser session: a
token cannot make more tokens, so a leaked one can be revoked and stays gone. Every change goes through
:mod:`safeground.services.accounts` (what ``safeground users token`` calls) into the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from safeground.services import accounts as account_services
from safeground.web.auth import change_origin
from safeground.web.permissions import NotPermitted, Principal, requires
from safeground.web.workspace_routes import page_requires, render_page


def add_workspace_token_routes(app: FastAPI) -> None:
    account = Depends(requires("account"))

    @app.get("/workspace/tokens", tags=["workspace"], summary="One's own API tokens", response_class=HTMLResponse)
    def tokens_page(
        request: Request,
        principal: Principal = Depends(page_requires("account")),  # noqa: B008
    ) -> HTMLResponse:
        assert principal.user is not None
        mine = account_services.tokens(request.app.state.location, principal.user.username)
        return render_page(request, principal, "workspace/tokens.html.j2", title_key="tokens_title",
                           active="/workspace/tokens", tokens=mine)  # fmt: skip

    @app.post("/workspace/tokens", tags=["workspace"], summary="Make an API token (its secret is answered once)")
    def add_token(
        request: Request, label: Annotated[str, Body(embed=True, max_length=200)], principal: Principal = account
    ) -> dict[str, Any]:
        assert principal.user is not None
        if principal.via != "session":
            raise NotPermitted(
                "an API token cannot make another token",
                hint="log in to the workspace in a browser and make it on the page /workspace/tokens",
            )
        secret = account_services.add_token(request.app.state.location, principal.user.username, label,
                                            actor=principal.user.username, origin=change_origin(request))  # fmt: skip
        return {"token": secret, "prefix": secret[:10], "label": label.strip(), "user": principal.user.username,
                "role": principal.user.role.value}  # fmt: skip

    @app.post("/workspace/tokens/{prefix}/revoke", tags=["workspace"], summary="Revoke one of one's own API tokens")
    def revoke_token(request: Request, prefix: str, principal: Principal = account) -> dict[str, str]:
        assert principal.user is not None
        account_services.revoke_token(request.app.state.location, prefix, actor=principal.user.username,
                                      owner=principal.user.username, origin=change_origin(request))  # fmt: skip
        return {"revoked": prefix}
