"""Deny by default: every route names the permission it needs, and the app refuses to start otherwise.

A route declares its permission with a dependency, ``dependencies=[Depends(requires("read:public"))]``
or a parameter ``principal: Principal = Depends(requires(...))``. :func:`check_every_route` walks the
route table when the app is built and fails on a route that declares none, so a new endpoint cannot
be published to the world by forgetting it; ``tests/test_server_routes.py`` holds the same line.

Who is asking comes from :mod:`safeground.web.auth` (an API token, a session cookie, or nobody: the
public); what a role may do is the one table of :mod:`safeground.accounts.roles`, and what it may
read is its :class:`~safeground.access.Audience`, so the API, the tiles and the command line apply
one policy.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from safeground.accounts.roles import Permission
from safeground.web.principal import NotLoggedIn, NotPermitted, Principal

#: every permission a route may ask for, and what it allows (the role table is ``safeground.accounts.roles``)
PERMISSIONS: dict[str, str] = {
    Permission.READ_PUBLIC: "read what anyone may read: the public, generalised form of every unrestricted layer",
    Permission.READ_PARTNER: "read individual records as logged-in operators and donors do (positions generalised)",
    Permission.READ_RESTRICTED: "read the store as it is: exact positions, identities, restricted layers",
    Permission.SUBMIT: "send reports into the review queue",
    Permission.SEE_OWN_SUBMISSIONS: "see the submissions of one's own organisation and their decisions",
    Permission.REVIEW: "reconcile, approve and reject submissions",
    Permission.MANAGE_USERS: "manage accounts, roles and organisations",
    "account": "see and end one's own session (any logged-in user)",
}


def current_principal(request: Request) -> Principal:
    """The reader of this request: a bearer token, else a session cookie, else the public."""
    from safeground.web.auth import principal_of

    return principal_of(request)


def requires(permission: str) -> Callable[..., Principal]:
    """A dependency that lets the request through only for a principal holding ``permission``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}: add it to PERMISSIONS with what it allows")
    from fastapi import Depends

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:  # noqa: B008
        if not principal.holds(permission) and principal.user is None and permission != Permission.READ_PUBLIC:
            raise NotLoggedIn(f"this needs an account ({PERMISSIONS[permission]})", hint="log in first: POST /login")
        if not principal.holds(permission):
            raise NotPermitted(
                f"this needs the permission {permission!r} ({PERMISSIONS[permission]})",
                hint="log in with an account whose role holds it",
            )
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"requires_{permission.replace(':', '_')}"
    return dependency


def _permissions(dep: Dependant) -> list[str]:
    found = [dep.call.permission] if dep.call is not None and hasattr(dep.call, "permission") else []
    for sub in dep.dependencies:
        found += _permissions(sub)
    return found


def route_permission(route: object) -> str | None:
    """The permission a route declares, or None. A route that is not an API route (a mount, a plain
    Starlette route such as FastAPI's own /docs) declares none."""
    if not isinstance(route, APIRoute):
        return None
    found = _permissions(route.dependant)
    return found[0] if found else None


def check_every_route(app: FastAPI) -> None:
    """Refuse to build an app with a route that declares no permission; write each into the OpenAPI."""
    missing = [getattr(r, "path", repr(r)) for r in app.routes if route_permission(r) is None]
    if missing:
        raise RuntimeError(f"routes without a permission (deny by default): {missing}")
    for r in app.routes:
        assert isinstance(r, APIRoute)
        r.openapi_extra = {**(r.openapi_extra or {}), "x-permission": route_permission(r)}
