"""Deny by default: every route names the permission it needs, and the app refuses to start otherwise.

A route declares its permission with a dependency, ``dependencies=[Depends(requires("read:public"))]``
or a parameter ``principal: Principal = Depends(requires(...))``. :func:`check_every_route` walks the
route table when the app is built and fails on a route that declares none, so a new endpoint cannot
be published to the world by forgetting it; ``tests/test_server_routes.py`` holds the same line.

Accounts and roles (issue 18's viewer, data entry, reviewer, analyst, admin) come next: they replace
:func:`current_principal` (today everyone is the public) and nothing else here changes. What a role
may read is its :class:`~safeground.access.Audience` (``ROLE_AUDIENCE``), so the API, the tiles and
the command line apply one policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from safeground.access.audience import Audience
from safeground.errors import SafeGroundError

#: every permission a route may ask for, and what it allows
PERMISSIONS: dict[str, str] = {
    "read:public": "read what anyone may read: the public, generalised form of every unrestricted layer",
    "read:partner": "read individual records as logged-in operators and donors do (positions still generalised)",
    "read:restricted": "read the store as it is: exact positions, identities, restricted layers",
}

#: each role → the permissions it holds (a role not listed holds none: deny by default)
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "public": frozenset({"read:public"}),
    "viewer": frozenset({"read:public", "read:partner"}),
    "data_entry": frozenset({"read:public", "read:partner"}),
    "reviewer": frozenset({"read:public", "read:partner", "read:restricted"}),
    "analyst": frozenset({"read:public", "read:partner", "read:restricted"}),
    "admin": frozenset({"read:public", "read:partner", "read:restricted"}),
}


class NotPermitted(SafeGroundError):
    code = "forbidden"
    http_status = 403


@dataclass(frozen=True)
class Principal:
    """Who is asking: a role (and, once accounts exist, a user and an organisation)."""

    role: str = "public"
    user: str | None = None

    @property
    def audience(self) -> Audience:
        return Audience.for_role(self.role)

    def holds(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())


def current_principal() -> Principal:
    """The reader of this request. No accounts yet: everyone reads as the public."""
    return Principal()


def requires(permission: str) -> Callable[..., Principal]:
    """A dependency that lets the request through only for a principal holding ``permission``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}: add it to PERMISSIONS with what it allows")
    from fastapi import Depends

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:  # noqa: B008
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
