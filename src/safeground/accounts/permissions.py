"""Questions the services ask about a user, answered from the role table (never from role names)."""

from __future__ import annotations

from safeground.accounts.repository import User
from safeground.accounts.roles import Permission, permissions_of


def can_review(user: User) -> bool:
    return user.active and Permission.REVIEW in permissions_of(user.role)


def sees_submissions_of(user: User) -> str | None:
    """The organisation whose submissions the user may see (their own), or None for none."""
    if user.active and Permission.SEE_OWN_SUBMISSIONS in permissions_of(user.role):
        return user.organisation
    return None
