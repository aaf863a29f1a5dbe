"""``safeground users``, ``orgs`` and ``audit``: accounts managed from the command line.

The first admin of a server is made here (``users add NAME --role admin``), never by a default
password. Passwords are asked for twice with no echo, or read from standard input with
``--password-stdin`` for scripts; they never appear on a command line, where ``ps`` would show them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from safeground.cli.common import StoreOpt, console, err

users_app = typer.Typer(help="Accounts of the server: add, list, change password, role, disable.", no_args_is_help=True)
orgs_app = typer.Typer(
    help="Organisations (operators, NGOs, the authority) that users belong to.", no_args_is_help=True
)
audit_app = typer.Typer(
    help="The audit trail: every write, by whom; verify that nobody changed it.", no_args_is_help=True
)

ByOpt = Annotated[str | None, typer.Option("--by", help="Who makes this change (default: your system account).")]
StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@orgs_app.command("add")
def orgs_add(
    name: Annotated[str, typer.Argument(help="Full name, e.g. 'ANAMA' or 'The HALO Trust'.")],
    org_type: Annotated[str, typer.Option("--type", help="national_authority, ngo, commercial, military, un_agency.")],
    acronym: Annotated[str | None, typer.Option(help="Short name users are added with, e.g. HALO.")] = None,
    store: StoreOpt = "demo.gpkg",
    by: ByOpt = None,
) -> None:
    """Add an organisation."""
    from safeground.services.accounts import actor_or_os, add_organisation

    org = add_organisation(store, name, org_type, acronym=acronym, actor=actor_or_os(by))
    console.print(f"added {org.uid}: {org.name}" + (f" ({org.acronym})" if org.acronym else ""))


@orgs_app.command("edit")
def orgs_edit(
    organisation: Annotated[str, typer.Argument(help="Its uid (ORG-00003), acronym or name.")],
    name: Annotated[str | None, typer.Option(help="A new full name.")] = None,
    acronym: Annotated[str | None, typer.Option(help="A new acronym ('' removes it).")] = None,
    org_type: Annotated[str | None, typer.Option("--type", help="A new type: ngo, commercial, ….")] = None,
    accredited: Annotated[
        bool | None, typer.Option("--accredited/--not-accredited", help="Whether it is accredited.")
    ] = None,
    store: StoreOpt = "demo.gpkg",
    by: ByOpt = None,
) -> None:
    """Change an organisation: a new version of its record (the old one stays in its history), audited."""
    from safeground.services.accounts import actor_or_os, edit_organisation, resolve_organisation

    old = resolve_organisation(store, organisation)
    org = edit_organisation(
        store,
        old.uid,
        name=old.name if name is None else name,
        acronym=old.acronym if acronym is None else acronym,
        org_type=old.org_type.value if org_type is None else org_type,
        accredited=old.accredited if accredited is None else accredited,
        actor=actor_or_os(by),
        expected_version=old.version,
    )
    said = "unchanged" if org.version == old.version else f"now version {org.version}"
    console.print(f"{org.uid}: {org.name}" + (f" ({org.acronym})" if org.acronym else "") + f", {said}")


@orgs_app.command("list")
def orgs_list(store: StoreOpt = "demo.gpkg") -> None:
    """List the organisations."""
    from safeground.services.accounts import organisations

    t = Table(title="Organisations")
    for col in ("uid", "name", "acronym", "type"):
        t.add_column(col)
    for o in organisations(store):
        t.add_row(o.uid, o.name, o.acronym or "", o.org_type.value)
    console.print(t)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name, e.g. a.aliyev.")],
    full_name: Annotated[str, typer.Option("--name", help="The person's full name.")],
    org: Annotated[str, typer.Option("--org", help="Organisation: uid, acronym or name.")],
    role: Annotated[str, typer.Option(help="viewer, data_entry, reviewer, analyst or admin.")],
    store: StoreOpt = "demo.gpkg",
    password_stdin: StdinOpt = False,
    by: ByOpt = None,
) -> None:
    """Add a user (the first admin of a server is added this way)."""
    from safeground.services.accounts import actor_or_os, add_user

    user = add_user(
        store,
        username,
        full_name=full_name,
        organisation=org,
        role=role,
        password=_password(password_stdin),
        actor=actor_or_os(by),
    )
    console.print(f"added {user.username} ({user.full_name}), {user.role.value} of {user.organisation}")


@users_app.command("list")
def users_list(store: StoreOpt = "demo.gpkg") -> None:
    """List the users, their organisation, role and whether they may log in."""
    from safeground.services.accounts import users

    t = Table(title="Users")
    for col in ("user", "name", "organisation", "role", "active", "since"):
        t.add_column(col)
    for u in users(store):
        t.add_row(u.username, u.full_name, u.organisation, u.role.value, "yes" if u.active else "no", u.created_at)
    console.print(t)


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="Login name.")],
    store: StoreOpt = "demo.gpkg",
    password_stdin: StdinOpt = False,
    by: ByOpt = None,
) -> None:
    """Set a new password (ends the user's open sessions)."""
    from safeground.services.accounts import actor_or_os, set_password

    user = set_password(store, username, _password(password_stdin), actor=actor_or_os(by))
    console.print(f"new password set for {user.username}; their open sessions are closed")


@users_app.command("role")
def users_role(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Argument(help="viewer, data_entry, reviewer, analyst or admin.")],
    store: StoreOpt = "demo.gpkg",
    by: ByOpt = None,
) -> None:
    """Change a user's role."""
    from safeground.services.accounts import actor_or_os, set_role

    user = set_role(store, username, role, actor=actor_or_os(by))
    console.print(f"{user.username} is now {user.role.value} (reads as {user.role.audience.value})")


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="Login name.")], store: StoreOpt = "demo.gpkg", by: ByOpt = None
) -> None:
    """Stop a user from logging in (their sessions and tokens stop working; history keeps their name)."""
    from safeground.services.accounts import actor_or_os, set_active

    user = set_active(store, username, False, actor=actor_or_os(by))
    console.print(f"{user.username} is disabled")


@users_app.command("enable")
def users_enable(
    username: Annotated[str, typer.Argument(help="Login name.")], store: StoreOpt = "demo.gpkg", by: ByOpt = None
) -> None:
    """Let a disabled user log in again."""
    from safeground.services.accounts import actor_or_os, set_active

    user = set_active(store, username, True, actor=actor_or_os(by))
    console.print(f"{user.username} may log in again")


@users_app.command("token")
def users_token(
    username: Annotated[str, typer.Argument(help="The account the device or service acts as.")],
    label: Annotated[str | None, typer.Argument(help="What it is for, e.g. 'KoboToolbox REST service'.")] = None,
    label_opt: Annotated[str | None, typer.Option("--label", help="The same as LABEL (the older spelling).")] = None,
    days: Annotated[
        int,
        typer.Option(
            help="Days until it stops working (default 90; at most 3650); 0: it never expires, for a service "
            "you will revoke by hand.",
        ),
    ] = 90,
    role: Annotated[
        str | None,
        typer.Option(help="The most it may do: the user's role (default) or one that permits less, e.g. viewer."),
    ] = None,
    store: StoreOpt = "demo.gpkg",
    by: ByOpt = None,
) -> None:
    """Make an API token for a field device or KoboToolbox; it is shown once and stored only hashed.

    It acts as USER with ROLE (never more than USER's own role, and lowered when USER is demoted) until it
    expires after DAYS or is revoked (safeground users revoke-token)."""
    from safeground.services.accounts import actor_or_os, add_token, tokens

    what = label if label is not None else label_opt
    if not what:
        err.print("a token needs a label: safeground users token USER 'what it is for' --store STORE")
        raise typer.Exit(2)
    token = add_token(store, username, what, actor=actor_or_os(by), days=days, role=role)
    made = next(k for k in tokens(store, username) if k.prefix == token[:10])
    until = "never expires" if made.expires_at is None else f"expires {_when(made.expires_at)} UTC"
    console.print(
        f"token for {made.username} ({what}), role {made.role.value if made.role else '-'}, {until}; "
        f"shown only now:\n{token}",
        soft_wrap=True,
    )


def _when(stamp: str | None) -> str:
    return "" if stamp is None else stamp[:16].replace("T", " ")


@users_app.command("org")
def users_org(
    username: Annotated[str, typer.Argument(help="Login name.")],
    organisation: Annotated[str, typer.Argument(help="The organisation's uid, acronym or name.")],
    store: StoreOpt = "demo.gpkg",
    by: ByOpt = None,
) -> None:
    """Move a user to another organisation (they then see that organisation's submissions)."""
    from safeground.services.accounts import actor_or_os, set_organisation

    user = set_organisation(store, username, organisation, actor=actor_or_os(by))
    console.print(f"{user.username} now belongs to {user.organisation}")


@users_app.command("tokens")
def users_tokens(
    username: Annotated[str | None, typer.Argument(help="Only this user's tokens (default: everyone's).")] = None,
    store: StoreOpt = "demo.gpkg",
) -> None:
    """List the API tokens by their first characters (the secrets are not kept, so never shown), with the role
    each may use, when it expires (UTC) and its state: live, expired or revoked."""
    from safeground.services.accounts import tokens

    t = Table(title="API tokens")
    for col in ("token", "user", "label", "role", "made", "expires", "state"):
        t.add_column(col)
    for k in tokens(store, username):
        role = k.role.value if k.role else "user's role"
        if k.state == "live" and k.acts_as is None:
            role += " (acts as nobody: user disabled)"
        elif k.lowered and k.acts_as is not None:
            role += f" (acts as {k.acts_as.value}: user's role lowered)"
        t.add_row(k.prefix + "…", k.username, k.label, role, _when(k.created_at), _when(k.expires_at) or "never",
                  k.state)  # fmt: skip
    console.print(t)


@users_app.command("revoke-token")
def users_revoke_token(
    prefix: Annotated[str, typer.Argument(help="The token's first characters, as 'users tokens' lists them.")],
    store: StoreOpt = "demo.gpkg",
    by: ByOpt = None,
) -> None:
    """Revoke an API token: the next request made with it is refused (401)."""
    from safeground.services.accounts import actor_or_os, revoke_token

    revoke_token(store, prefix.rstrip("…"), actor=actor_or_os(by), owner=None)
    console.print(f"token {prefix} revoked")


@audit_app.command("list")
def audit_list(store: StoreOpt = "demo.gpkg", last: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """Show the latest entries of the audit log."""
    from safeground.services.accounts import audit_entries

    t = Table(title="Audit log")
    for col in ("#", "when", "who", "from", "what", "on", "after"):
        t.add_column(col)
    for e in audit_entries(store)[-last:]:
        t.add_row(str(e.seq), e.at[:16].replace("T", " "), e.actor, e.origin, e.action, e.target, _compact(e.after))
    console.print(t)


def _compact(value: object, limit: int = 60) -> str:
    if value is None:
        return ""
    text = ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@audit_app.command("verify")
def audit_verify(
    store: StoreOpt = "demo.gpkg",
    expect_head: Annotated[str | None, typer.Option(help="The head hash printed by an earlier verify.")] = None,
) -> None:
    """Check the audit log's hash chain: exit 1 naming every entry changed or removed."""
    from safeground.services.accounts import verify_audit

    check = verify_audit(store, expect_head=expect_head)
    if not check.ok:
        for p in check.problems:
            err.print(f"audit log: {p}")
        err.print(f"audit log of {store}: NOT intact ({len(check.problems)} problem(s) in {check.count} entries)")
        raise typer.Exit(1)
    console.print(f"audit log intact: {check.count} entries; head {check.head}")
