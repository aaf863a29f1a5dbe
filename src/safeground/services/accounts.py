"""Accounts and organisations: what ``safeground users|orgs|audit`` and the server's admin pages do.

Organisations are records of the ``organisations`` layer (versioned, with history, like any
record); users, sessions and tokens are the accounts tables (:mod:`safeground.accounts`). Every
change is made by a named person: the command line passes ``--by`` or the operating-system
account, the server its logged-in user, and the audit log keeps who, when and from where.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from typing import Any

from safeground.accounts.audit import AuditCheck, AuditEntry
from safeground.accounts.repository import Accounts, Token, User, cli_origin
from safeground.accounts.roles import Role, roles_at_or_below
from safeground.errors import RecordNotFound, SafeGroundError
from safeground.model import Organisation
from safeground.model.vocab import OrganisationType
from safeground.storage import open_store


def actor_or_os(actor: str | None) -> str:
    """The person behind a command-line change: ``--by``, else the operating-system account."""
    return (actor or "").strip() or getpass.getuser()


def _org_type(text: str) -> OrganisationType:
    try:
        return OrganisationType(text.strip().lower())
    except ValueError:
        raise SafeGroundError(
            f"unknown organisation type {text!r}",
            hint=f"use one of: {', '.join(t.value for t in OrganisationType)}",
        ) from None


def _org_name(name: str) -> str:
    if not name.strip():
        raise SafeGroundError("an organisation needs a name", hint="give its full name, e.g. 'The HALO Trust'")
    return name.strip()


def _refuse_same_name(store: Any, name: str, acronym: str | None, *, other_than: str | None = None) -> None:
    """Two organisations may not share a name or an acronym: users are added by them."""
    for existing in store.find(Organisation):
        if existing.uid == other_than:
            continue
        if existing.name.casefold() == name.casefold() or (
            acronym and existing.acronym and existing.acronym.casefold() == acronym.casefold()
        ):
            raise SafeGroundError(
                f"{existing.uid} is already {existing.name} ({existing.acronym or 'no acronym'})",
                hint="choose another name or acronym, or edit that organisation instead",
            )


def add_organisation(
    location: str, name: str, org_type: str, *, acronym: str | None, actor: str, origin: str | None = None
) -> Organisation:
    kind = _org_type(org_type)
    name, short = _org_name(name), (acronym or "").strip() or None
    with open_store(location, create=False) as store:
        _refuse_same_name(store, name, short)
        org = Organisation(
            uid=store.next_uid(Organisation),
            name=name,
            acronym=short,
            org_type=kind,
            date_of_information=datetime.now(UTC).date(),
            entered_by=actor,
            change_reason="organisation added",
        )
        store.add(org)
    with Accounts(location) as acc:
        acc.record(
            actor,
            origin or cli_origin(),
            "organisation.add",
            f"organisations:{org.uid}",
            None,
            {"name": org.name, "acronym": org.acronym, "org_type": kind.value},
        )
    return org


def edit_organisation(
    location: str,
    uid: str,
    *,
    name: str,
    acronym: str | None,
    org_type: str,
    accredited: bool,
    actor: str,
    origin: str | None = None,
    expected_version: int | None = None,
) -> Organisation:
    """A new version of an organisation (the old one stays in its history), checked as an added one is;
    a direct write by an administrator, so it is audited with what changed (before and after)."""
    kind = _org_type(org_type)
    name, short = _org_name(name), (acronym or "").strip() or None
    with open_store(location, create=False) as store:
        try:
            old = store.get(Organisation, uid.strip())
        except RecordNotFound:
            raise RecordNotFound(
                f"no organisation {uid!r} in the store", hint="the organisations list shows each one's uid (ORG-…)"
            ) from None
        _refuse_same_name(store, name, short, other_than=old.uid)
        after = {"name": name, "acronym": short, "org_type": kind.value, "accredited": accredited}
        before = {
            "name": old.name,
            "acronym": old.acronym,
            "org_type": old.org_type.value,
            "accredited": old.accredited,
        }
        changed = [k for k in after if after[k] != before[k]]
        if not changed:
            return old
        new = old.model_copy(
            update={
                "name": name,
                "acronym": short,
                "org_type": kind,
                "accredited": accredited,
                "date_of_information": datetime.now(UTC).date(),
                "entered_by": actor,
                "change_reason": "organisation edited: " + ", ".join(changed),
            }
        )
        new = store.update(new, expected_version=expected_version if expected_version is not None else old.version)
    with Accounts(location) as acc:
        acc.record(
            actor,
            origin or cli_origin(),
            "organisation.edit",
            f"organisations:{old.uid}",
            {k: before[k] for k in changed},
            {k: after[k] for k in changed},
        )
    return new


def organisations(location: str) -> list[Organisation]:
    with open_store(location, create=False, readonly=True) as store:
        return sorted(store.find(Organisation), key=lambda o: o.uid)


def resolve_organisation(location: str, ref: str) -> Organisation:
    """An organisation by its uid (ORG-00003) or its acronym or name, as a person would type it."""
    wanted = ref.strip().casefold()
    orgs = organisations(location)
    for org in orgs:
        if wanted in {org.uid.casefold(), (org.acronym or "").casefold(), org.name.casefold()}:
            return org
    known = ", ".join(f"{o.uid} ({o.acronym or o.name})" for o in orgs[:8]) or "none yet"
    raise SafeGroundError(
        f"no organisation {ref!r} in the store (known: {known})",
        hint="add it first: safeground orgs add NAME --type ngo --acronym SHORT --store STORE",
    )


def add_user(
    location: str, username: str, *, full_name: str, organisation: str, role: str, password: str, actor: str
) -> User:
    org = resolve_organisation(location, organisation)
    with Accounts(location) as acc:
        return acc.add_user(
            username,
            full_name=full_name,
            organisation=org.uid,
            role=Role.parse(role),
            password=password,
            actor=actor,
            origin=cli_origin(),
        )


def organisation_of(location: str, username: str) -> str | None:
    """The organisation of an account of this store; None for a person who has no account here
    (a command-line submission then names the person only)."""
    with Accounts(location) as acc:
        try:
            return acc.user(username).organisation
        except SafeGroundError:
            return None


def users(location: str) -> list[User]:
    with Accounts(location) as acc:
        return acc.users()


def set_role(location: str, username: str, role: str, *, actor: str) -> User:
    with Accounts(location) as acc:
        return acc.set_role(username, Role.parse(role), actor=actor, origin=cli_origin())


def set_active(location: str, username: str, active: bool, *, actor: str) -> User:
    with Accounts(location) as acc:
        return acc.set_active(username, active, actor=actor, origin=cli_origin())


def set_password(location: str, username: str, password: str, *, actor: str) -> User:
    with Accounts(location) as acc:
        return acc.set_password(username, password, actor=actor, origin=cli_origin())


def set_organisation(location: str, username: str, organisation: str, *, actor: str, origin: str | None = None) -> User:
    """Move a user to another organisation (named by uid, acronym or name, as when adding a user)."""
    org = resolve_organisation(location, organisation)
    with Accounts(location) as acc:
        return acc.set_organisation(username, org.uid, actor=actor, origin=origin or cli_origin())


#: how long a new token lives unless told otherwise: a device's token is renewed a few times a year, and a
#: forgotten one (a lost phone, a KoboToolbox project closed) stops by itself
DEFAULT_TOKEN_DAYS = 90
#: the longest a token may be made for by days; 0 days (never expires) is a deliberate choice, not a big number
MAX_TOKEN_DAYS = 3650


def token_expiry(days: int) -> datetime | None:
    """When a token made now for ``days`` days expires; 0: never. Fewer than 0, or more than ten years, is refused."""
    if days == 0:
        return None
    if days < 0 or days > MAX_TOKEN_DAYS:
        raise SafeGroundError(
            f"a token lives 1 to {MAX_TOKEN_DAYS} days, not {days}",
            hint=f"give --days between 1 and {MAX_TOKEN_DAYS} (default {DEFAULT_TOKEN_DAYS}), or 0 for a token "
            "that never expires",
        )
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


def add_token(
    location: str,
    username: str,
    label: str,
    *,
    actor: str,
    origin: str | None = None,
    days: int = DEFAULT_TOKEN_DAYS,
    role: str | None = None,
) -> str:
    """A new API token acting as ``username``, for ``days`` days (0: never expiring) with ``role`` (None: the
    user's role; never above it, and lowered with the user's): the secret is returned once here and stored
    only hashed."""
    if not label.strip():
        raise SafeGroundError("a token needs a label", hint="say what it is for, e.g. 'KoboToolbox REST service'")
    until = token_expiry(days)
    wanted = None if role is None or not role.strip() else Role.parse(role)
    with Accounts(location) as acc:
        return acc.add_token(username, label.strip(), actor=actor, origin=origin or cli_origin(), expires_at=until,
                             role=wanted)  # fmt: skip


def token_roles(location: str, username: str) -> list[str]:
    """The roles a token of ``username`` may carry: theirs and those that permit nothing more."""
    with Accounts(location) as acc:
        return [r.value for r in roles_at_or_below(acc.user(username).role)]


def tokens(location: str, username: str | None = None) -> list[Token]:
    """The API tokens of ``username`` (None: of everyone), newest first, by their first characters."""
    with Accounts(location) as acc:
        return acc.tokens(username)


def revoke_token(location: str, prefix: str, *, actor: str, owner: str | None, origin: str | None = None) -> None:
    """Revoke a token by its first characters; with ``owner``, only a token of that user (a person revoking
    their own: another user's token reads as not there, so its existence is not told)."""
    with Accounts(location) as acc:
        n = acc.revoke_token(prefix.strip(), actor=actor, origin=origin or cli_origin(), owner=owner)
    if not n:
        raise RecordNotFound(
            f"no live API token {prefix!r}" + (f" of {owner}" if owner else ""),
            hint="the token list shows each token's first characters; a revoked one stays revoked",
        )


def record_write(
    location: str, actor: str, action: str, target: str, after: Any, *, origin: str | None = None, before: Any = None
) -> None:
    """One audit entry for a write that did not pass through the review queue (an import, a direct edit):
    who (a person: a user name or the operating-system account), from where, what, on which layer."""
    with Accounts(location) as acc:
        acc.record(actor, origin or cli_origin(), action, target, before, after)


def audit_entries(location: str) -> list[AuditEntry]:
    with Accounts(location) as acc:
        return acc.entries()


def verify_audit(location: str, *, expect_head: str | None = None) -> AuditCheck:
    with Accounts(location) as acc:
        return acc.verify(expect_head=expect_head)
