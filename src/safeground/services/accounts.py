"""Accounts and organisations: what ``safeground users|orgs|audit`` and the server's admin pages do.

Organisations are records of the ``organisations`` layer (versioned, with history, like any
record); users, sessions and tokens are the accounts tables (:mod:`safeground.accounts`). Every
change is made by a named person: the command line passes ``--by`` or the operating-system
account, the server its logged-in user, and the audit log keeps who, when and from where.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Any

from safeground.accounts.audit import AuditCheck, AuditEntry
from safeground.accounts.repository import Accounts, User, cli_origin
from safeground.accounts.roles import Role
from safeground.errors import SafeGroundError
from safeground.model import Organisation
from safeground.model.vocab import OrganisationType
from safeground.storage import open_store


def actor_or_os(actor: str | None) -> str:
    """The person behind a command-line change: ``--by``, else the operating-system account."""
    return (actor or "").strip() or getpass.getuser()


def add_organisation(location: str, name: str, org_type: str, *, acronym: str | None, actor: str) -> Organisation:
    try:
        kind = OrganisationType(org_type.strip().lower())
    except ValueError:
        raise SafeGroundError(
            f"unknown organisation type {org_type!r}",
            hint=f"use one of: {', '.join(t.value for t in OrganisationType)}",
        ) from None
    with open_store(location, create=False) as store:
        for existing in store.find(Organisation):
            if existing.name.casefold() == name.strip().casefold() or (
                acronym and existing.acronym and existing.acronym.casefold() == acronym.strip().casefold()
            ):
                raise SafeGroundError(f"{existing.uid} is already {existing.name} ({existing.acronym or 'no acronym'})")
        org = Organisation(
            uid=store.next_uid(Organisation),
            name=name.strip(),
            acronym=(acronym or "").strip() or None,
            org_type=kind,
            date_of_information=datetime.now(UTC).date(),
            entered_by=actor,
            change_reason="organisation added",
        )
        store.add(org)
    with Accounts(location) as acc:
        acc.record(
            actor,
            cli_origin(),
            "organisation.add",
            f"organisations:{org.uid}",
            None,
            {"name": org.name, "acronym": org.acronym, "org_type": kind.value},
        )
    return org


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


def add_token(location: str, username: str, label: str, *, actor: str) -> str:
    with Accounts(location) as acc:
        return acc.add_token(username, label, actor=actor, origin=cli_origin())


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
