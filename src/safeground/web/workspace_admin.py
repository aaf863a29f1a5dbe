"""The workspace's administration: ``/workspace/admin`` lists the accounts, the organisations and the
audit log (filtered by who, what and from when, with the result of the chain check), and the
administrator adds a user, changes a role or disables an account through the JSON routes below.
Each change is made by :mod:`safeground.services.workspace` with the administrator and their address
in its audit entry; a new role or a disabled account ends that user's open sessions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from safeground.accounts.repository import User
from safeground.services import workspace
from safeground.web.auth import client_address
from safeground.web.permissions import Principal, requires
from safeground.web.workspace_routes import page_requires, render_page


def _location(request: Request) -> str:
    return request.app.state.location  # type: ignore[no-any-return]


def _user(u: User) -> dict[str, Any]:
    return {"user": u.username, "name": u.full_name, "organisation": u.organisation, "role": u.role.value,
            "active": u.active}  # fmt: skip


def add_workspace_admin_routes(app: FastAPI) -> None:
    admin = Depends(requires("admin:users"))

    @app.get("/workspace/admin", tags=["workspace"], summary="Administration: accounts, organisations, audit log",
             response_class=HTMLResponse)  # fmt: skip
    def admin_page(
        request: Request,
        actor: str | None = None,
        action: str | None = None,
        since: str | None = None,
        principal: Principal = Depends(page_requires("admin:users")),  # noqa: B008
    ) -> HTMLResponse:
        view = workspace.admin_view(_location(request), actor=actor, action=action, since=since)
        return render_page(request, principal, "workspace/admin.html.j2", title_key="admin_title",
                           active="/workspace/admin", view=view,
                           filters={"actor": actor or "", "action": action or "", "since": since or ""})  # fmt: skip

    @app.post("/workspace/admin/users", tags=["workspace"], summary="Add a user account")
    def add_user(
        request: Request,
        username: Annotated[str, Body(max_length=64)],
        full_name: Annotated[str, Body(max_length=200)],
        organisation: Annotated[str, Body(max_length=200)],
        role: Annotated[str, Body(max_length=32)],
        password: Annotated[str, Body(max_length=1024)],
        principal: Principal = admin,
    ) -> dict[str, Any]:
        assert principal.user is not None
        u = workspace.add_user(_location(request), username, full_name=full_name, organisation=organisation,
                               role=role, password=password, actor=principal.user.username,
                               origin=f"web {client_address(request)}")  # fmt: skip
        return _user(u)

    @app.post("/workspace/admin/users/{username}/role", tags=["workspace"], summary="Change a user's role")
    def set_role(
        request: Request,
        username: str,
        role: Annotated[str, Body(embed=True, max_length=32)],
        principal: Principal = admin,
    ) -> dict[str, Any]:
        assert principal.user is not None
        u = workspace.set_role(_location(request), username, role, actor=principal.user.username,
                               origin=f"web {client_address(request)}")  # fmt: skip
        return _user(u)

    @app.post("/workspace/admin/users/{username}/active", tags=["workspace"], summary="Disable or enable an account")
    def set_active(
        request: Request, username: str, active: Annotated[bool, Body(embed=True)], principal: Principal = admin
    ) -> dict[str, Any]:
        assert principal.user is not None
        u = workspace.set_active(_location(request), username, active, actor=principal.user.username,
                                 origin=f"web {client_address(request)}")  # fmt: skip
        return _user(u)
