"""``/workspace/tokens``: a person's own API tokens (for QGIS, a field device, a KoboToolbox REST service).

Anyone with an account lists their tokens, makes one and revokes one here; the administrator sees and
revokes everyone's (and makes one for another user) on the administration page. A token acts as its
user, with the role chosen for it (the user's, or one that permits less) and never more than the user's
current role, so it reads and changes only what its user may; it expires after the days chosen (90 unless
told otherwise, or never). The secret is answered once, by the request
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


def made_token(
    request: Request, username: str, label: str, *, days: int, role: str | None, actor: str
) -> dict[str, Any]:
    """Make a token for ``username`` by ``actor`` (the same person, or an administrator) and answer its secret,
    once, with what it may do and until when."""
    location = request.app.state.location
    secret = account_services.add_token(location, username, label, actor=actor, origin=change_origin(request),
                                        days=days, role=role)  # fmt: skip
    made = next(k for k in account_services.tokens(location, username) if k.prefix == secret[:10])
    return {"token": secret, "prefix": made.prefix, "label": made.label, "user": made.username,
            "role": made.role.value if made.role else None, "expires_at": made.expires_at}  # fmt: skip


def add_workspace_token_routes(app: FastAPI) -> None:
    account = Depends(requires("account"))

    @app.get("/workspace/tokens", tags=["workspace"], summary="One's own API tokens", response_class=HTMLResponse)
    def tokens_page(
        request: Request,
        principal: Principal = Depends(page_requires("account")),  # noqa: B008
    ) -> HTMLResponse:
        assert principal.user is not None
        location = request.app.state.location
        mine = account_services.tokens(location, principal.user.username)
        return render_page(request, principal, "workspace/tokens.html.j2", title_key="tokens_title",
                           active="/workspace/tokens", tokens=mine,
                           token_roles=account_services.token_roles(location, principal.user.username),
                           token_days=account_services.DEFAULT_TOKEN_DAYS)  # fmt: skip

    @app.post("/workspace/tokens", tags=["workspace"], summary="Make an API token (its secret is answered once)")
    def add_token(
        request: Request,
        label: Annotated[str, Body(max_length=200)],
        days: Annotated[int, Body(ge=0, le=account_services.MAX_TOKEN_DAYS)] = account_services.DEFAULT_TOKEN_DAYS,
        role: Annotated[str | None, Body(max_length=32)] = None,
        principal: Principal = account,
    ) -> dict[str, Any]:
        assert principal.user is not None
        if principal.via != "session":
            raise NotPermitted(
                "an API token cannot make another token",
                hint="log in to the workspace in a browser and make it on the page /workspace/tokens",
            )
        return made_token(request, principal.user.username, label, days=days, role=role,
                          actor=principal.user.username)  # fmt: skip

    @app.post("/workspace/tokens/{prefix}/revoke", tags=["workspace"], summary="Revoke one of one's own API tokens")
    def revoke_token(request: Request, prefix: str, principal: Principal = account) -> dict[str, str]:
        assert principal.user is not None
        account_services.revoke_token(request.app.state.location, prefix, actor=principal.user.username,
                                      owner=principal.user.username, origin=change_origin(request))  # fmt: skip
        return {"revoked": prefix}
