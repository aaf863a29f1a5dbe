"""The workspace's administration: ``/workspace/admin`` lists the accounts, the organisations, every
user's API tokens and the audit log (filtered by who, what and from when, with the result of the chain
check), and the administrator adds a user, changes a role or an organisation, disables an account,
adds or edits an organisation, makes a token for a user (its secret shown once, to the administrator)
and revokes a token through the JSON routes below. Each change is made by
the services the command line uses (:mod:`safeground.services.workspace`, :mod:`safeground.services.accounts`)
with the administrator and their address in its audit entry; a new role or a disabled account ends that
user's open sessions. An organisation is a versioned record: an edit is a new version (the old one stays
in its history), a direct write by an administrator, audited like every direct write.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from safeground.accounts.repository import User
from safeground.model import Organisation
from safeground.services import accounts as account_services
from safeground.services import workspace
from safeground.web.auth import change_origin
from safeground.web.permissions import NotPermitted, Principal, requires
from safeground.web.workspace_routes import page_requires, render_page
from safeground.web.workspace_tokens import made_token


def _location(request: Request) -> str:
    return request.app.state.location  # type: ignore[no-any-return]


def _user(u: User) -> dict[str, Any]:
    return {"user": u.username, "name": u.full_name, "organisation": u.organisation, "role": u.role.value,
            "active": u.active}  # fmt: skip


def _org(o: Organisation) -> dict[str, Any]:
    return {"uid": o.uid, "name": o.name, "acronym": o.acronym, "org_type": o.org_type.value,
            "accredited": o.accredited, "version": o.version}  # fmt: skip


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
                           active="/workspace/admin", view=view, token_days=account_services.DEFAULT_TOKEN_DAYS,
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
                               origin=change_origin(request))  # fmt: skip
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
                               origin=change_origin(request))  # fmt: skip
        return _user(u)

    @app.post("/workspace/admin/users/{username}/active", tags=["workspace"], summary="Disable or enable an account")
    def set_active(
        request: Request, username: str, active: Annotated[bool, Body(embed=True)], principal: Principal = admin
    ) -> dict[str, Any]:
        assert principal.user is not None
        u = workspace.set_active(_location(request), username, active, actor=principal.user.username,
                                 origin=change_origin(request))  # fmt: skip
        return _user(u)

    @app.post("/workspace/admin/users/{username}/organisation", tags=["workspace"],
              summary="Move a user to another organisation")  # fmt: skip
    def set_organisation(
        request: Request,
        username: str,
        organisation: Annotated[str, Body(embed=True, max_length=200)],
        principal: Principal = admin,
    ) -> dict[str, Any]:
        assert principal.user is not None
        u = account_services.set_organisation(_location(request), username, organisation,
                                              actor=principal.user.username, origin=change_origin(request))  # fmt: skip
        return _user(u)

    @app.post("/workspace/admin/organisations", tags=["workspace"], summary="Add an organisation")
    def add_organisation(
        request: Request,
        name: Annotated[str, Body(max_length=200)],
        org_type: Annotated[str, Body(max_length=32)],
        acronym: Annotated[str | None, Body(max_length=32)] = None,
        principal: Principal = admin,
    ) -> dict[str, Any]:
        assert principal.user is not None
        o = account_services.add_organisation(_location(request), name, org_type, acronym=acronym,
                                              actor=principal.user.username, origin=change_origin(request))  # fmt: skip
        return _org(o)

    @app.post("/workspace/admin/organisations/{uid}", tags=["workspace"],
              summary="Edit an organisation (a new version of its record)")  # fmt: skip
    def edit_organisation(
        request: Request,
        uid: str,
        name: Annotated[str, Body(max_length=200)],
        org_type: Annotated[str, Body(max_length=32)],
        acronym: Annotated[str | None, Body(max_length=32)] = None,
        accredited: Annotated[bool, Body()] = True,
        version: Annotated[int | None, Body(ge=1)] = None,
        principal: Principal = admin,
    ) -> dict[str, Any]:
        assert principal.user is not None
        o = account_services.edit_organisation(
            _location(request), uid, name=name, acronym=acronym, org_type=org_type, accredited=accredited,
            actor=principal.user.username, origin=change_origin(request), expected_version=version,
        )  # fmt: skip
        return _org(o)

    @app.post("/workspace/admin/users/{username}/tokens", tags=["workspace"],
              summary="Make an API token for a user (its secret is answered once, to the administrator)")  # fmt: skip
    def add_token_for(
        request: Request,
        username: str,
        label: Annotated[str, Body(max_length=200)],
        days: Annotated[int, Body(ge=0, le=account_services.MAX_TOKEN_DAYS)] = account_services.DEFAULT_TOKEN_DAYS,
        role: Annotated[str | None, Body(max_length=32)] = None,
        principal: Principal = admin,
    ) -> dict[str, Any]:
        """For a device set up by the administrator (a KoboToolbox server, a shared field tablet): the token acts
        as ``username``, within that user's role; its audit entry names the administrator as the actor."""
        assert principal.user is not None
        if principal.via != "session":
            raise NotPermitted(
                "an API token cannot make another token",
                hint="log in to the workspace in a browser and make it on the administration page",
            )
        return made_token(request, username, label, days=days, role=role, actor=principal.user.username)

    @app.post("/workspace/admin/tokens/{prefix}/revoke", tags=["workspace"], summary="Revoke any user's API token")
    def revoke_any_token(request: Request, prefix: str, principal: Principal = admin) -> dict[str, str]:
        assert principal.user is not None
        account_services.revoke_token(_location(request), prefix, actor=principal.user.username, owner=None,
                                      origin=change_origin(request))  # fmt: skip
        return {"revoked": prefix}
