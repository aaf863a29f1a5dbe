"""Roles and permissions, modelled on IMSMA practice; deny by default.

A permission is what a route or a command checks; a role is a named set of them. The server
never tests a role by name: it asks ``Permission.X in permissions_of(role)``, so adding a role
(or a country splitting "reviewer" in two) is a change to this table only.
"""

from __future__ import annotations

from enum import StrEnum

from safeground.access.audience import ROLE_AUDIENCE, Audience
from safeground.errors import SafeGroundError


class Permission(StrEnum):
    READ_PUBLIC = "read:public"  # generalised hazards, aggregated casualties: anyone, no login
    READ_PARTNER = "read:partner"  # individual records, positions to their 1 km cell
    READ_RESTRICTED = "read:restricted"  # exact positions, identities, human remains, ground truth
    SUBMIT = "submit"  # send survey, clearance and accident reports into the review queue
    SEE_OWN_SUBMISSIONS = "submissions:own"
    REVIEW = "review"  # reconcile, approve, reject submissions; edit the record directly
    MANAGE_USERS = "admin:users"  # accounts, roles, organisations, tokens


class Role(StrEnum):
    PUBLIC = "public"
    VIEWER = "viewer"
    DATA_ENTRY = "data_entry"
    REVIEWER = "reviewer"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def audience(self) -> Audience:
        return ROLE_AUDIENCE[self.value]

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower().replace("-", "_").replace(" ", "_"))
        except ValueError:
            raise SafeGroundError(
                f"unknown role {text!r}", hint=f"use one of: {', '.join(r.value for r in cls if r is not cls.PUBLIC)}"
            ) from None


_P = Permission
ROLES: dict[Role, frozenset[Permission]] = {
    Role.PUBLIC: frozenset({_P.READ_PUBLIC}),
    Role.VIEWER: frozenset({_P.READ_PUBLIC, _P.READ_PARTNER}),
    Role.DATA_ENTRY: frozenset({_P.READ_PUBLIC, _P.READ_PARTNER, _P.SUBMIT, _P.SEE_OWN_SUBMISSIONS}),
    Role.REVIEWER: frozenset(
        {_P.READ_PUBLIC, _P.READ_PARTNER, _P.READ_RESTRICTED, _P.SUBMIT, _P.SEE_OWN_SUBMISSIONS, _P.REVIEW}
    ),
    Role.ANALYST: frozenset({_P.READ_PUBLIC, _P.READ_PARTNER, _P.READ_RESTRICTED}),
    Role.ADMIN: frozenset(set(_P)),
}


def permissions_of(role: Role | str | None) -> frozenset[Permission]:
    """What a role may do; an unknown role or no login may do only what the public may."""
    if role is None:
        return ROLES[Role.PUBLIC]
    try:
        return ROLES[Role.parse(str(role))]
    except SafeGroundError:
        return ROLES[Role.PUBLIC]


def at_or_below(role: Role, ceiling: Role) -> bool:
    """Whether ``role`` may do nothing ``ceiling`` may not (roles are ordered by what they permit, not by name:
    an analyst and a data entry user are neither above nor below each other)."""
    return ROLES[role] <= ROLES[ceiling]


def lower_of(a: Role, b: Role) -> Role:
    """The highest role that permits nothing beyond either: what a token of role ``a`` of a user now ``b`` may do.

    For two roles neither of which contains the other (an analyst's token of a user made data entry) it is the
    largest role within both (a viewer), never one that holds a permission one of them lacks."""
    if at_or_below(a, b):
        return a
    if at_or_below(b, a):
        return b
    common = ROLES[a] & ROLES[b]
    return max((r for r in Role if ROLES[r] <= common), key=lambda r: len(ROLES[r]))


def roles_at_or_below(ceiling: Role) -> list[Role]:
    """The account roles a token of a user with role ``ceiling`` may carry (``public`` is not an account role)."""
    return [r for r in Role if r is not Role.PUBLIC and at_or_below(r, ceiling)]
