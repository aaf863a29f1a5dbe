"""Who is asking (a :class:`Principal`) and the two refusals: not logged in (401), not permitted (403)."""

from __future__ import annotations

from dataclasses import dataclass

from safeground.access.audience import Audience
from safeground.accounts.repository import User
from safeground.accounts.roles import permissions_of
from safeground.errors import NotPermitted, SafeGroundError

__all__ = ["NotLoggedIn", "NotPermitted", "Principal"]


class NotLoggedIn(SafeGroundError):
    code = "not_logged_in"
    http_status = 401


@dataclass(frozen=True)
class Principal:
    """Who is asking: the public (no login), or a user with a role and an organisation."""

    role: str = "public"
    user: User | None = None
    #: how the request proved who it is: "session" (a cookie: needs the CSRF header to change data), "token"
    via: str | None = None

    @property
    def audience(self) -> Audience:
        return Audience.for_role(self.role)

    def holds(self, permission: str) -> bool:
        if permission == "account":
            return self.user is not None
        return permission in permissions_of(self.role)
