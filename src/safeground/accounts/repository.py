"""Accounts, sessions, API tokens and the audit log, kept in the store's own database.

The tables live beside the layers (in the GeoPackage file, or in the PostGIS schema), so one
backup holds the record and who changed it. They are plain tables written through SQLAlchemy
Core, one definition for SQLite and PostgreSQL, created on first use. Every change to an account
appends its audit entry in the same transaction: there is no account change without its entry.
Password hashes never leave this module: :class:`User` does not carry them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from safeground.accounts.audit import GENESIS, AuditCheck, AuditEntry, chained, verify
from safeground.accounts.passwords import check_new_password, hash_password, needs_rehash, verify_password
from safeground.accounts.roles import Role, at_or_below, lower_of, roles_at_or_below
from safeground.errors import NotPermitted, SafeGroundError
from safeground.storage.side_tables import SideTables

_md = MetaData()
USERS = Table(
    "safeground_users",
    _md,
    Column("username", String(64), primary_key=True),
    Column("full_name", Text, nullable=False),
    Column("organisation", String(64), nullable=False),  # uid of a record in the organisations layer
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", String(32), nullable=False),
)
SESSIONS = Table(
    "safeground_sessions",
    _md,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("username", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)
TOKENS = Table(
    "safeground_tokens",
    _md,
    Column("token_hash", String(64), primary_key=True),
    Column("prefix", String(12), nullable=False),  # shown in lists, so a person can tell tokens apart
    Column("username", String(64), nullable=False),
    Column("label", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    # added in session 10 (an older store gets them on open, NULL for its tokens): NULL is no expiry, and
    # acting with whatever role the user has; otherwise the role is a ceiling the user's own role lowers further
    Column("expires_at", String(32), nullable=True),
    Column("role", String(32), nullable=True),
)
AUDIT = Table(
    "safeground_audit",
    _md,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False),
    Column("before", Text),
    Column("after", Text),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

_USERNAME_OK = "abcdefghijklmnopqrstuvwxyz0123456789._-"
SESSION_HOURS = 12


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def cli_origin() -> str:
    return f"cli@{socket.gethostname()}"


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    organisation: str
    role: Role
    active: bool
    created_at: str


@dataclass(frozen=True)
class Token:
    """An API token as a list shows it: its first characters, never the secret (only its hash is kept)."""

    prefix: str
    username: str
    label: str
    created_at: str
    revoked: bool
    expires_at: str | None = None  # UTC, ISO 8601; None: never expires
    role: Role | None = None  # the most it may do; None: its user's role (a token made before roles on tokens)
    #: the role it acts with now: the lower of ``role`` and its user's current role (None: the user is gone or
    #: disabled, so it acts as nobody). A list shows this, since a demotion lowers a token without rewriting it
    acts_as: Role | None = None

    @property
    def lowered(self) -> bool:
        """Whether its user's demotion lowered it below the role it was made with."""
        return self.role is not None and self.acts_as is not None and self.acts_as != self.role

    @property
    def state(self) -> str:
        """``revoked``, ``expired`` or ``live`` (a revocation is said first: it was someone's decision)."""
        if self.revoked:
            return "revoked"
        return "expired" if self.expires_at is not None and self.expires_at <= _now() else "live"


#: why a token does not let its bearer in, as :meth:`Accounts.token_check` says it
TOKEN_UNKNOWN, TOKEN_REVOKED, TOKEN_EXPIRED, TOKEN_USER_DISABLED = "unknown", "revoked", "expired", "user disabled"


def _user(row: Any) -> User:
    return User(row.username, row.full_name, row.organisation, Role(row.role), bool(row.active), row.created_at)


class Accounts(SideTables):
    """The accounts and audit log of one store (a GeoPackage path or a ``postgresql://`` URL)."""

    METADATA = _md
    LOCKED = "safeground_audit"  # one appender at a time, or two entries share a link

    def __init__(self, location: str) -> None:
        from safeground.storage import open_store

        open_store(location, create=False, readonly=True).close()  # a SafeGround store, or its clear error
        super().__init__(location)

    # -- the audit log -----------------------------------------------------------------------------
    def _append(
        self, c: Connection, actor: str, origin: str, action: str, target: str, before: Any = None, after: Any = None
    ) -> AuditEntry:
        last = c.execute(select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)).first()
        entry = chained(
            AuditEntry(
                seq=(last.seq + 1) if last else 1,
                at=_now(),
                actor=actor,
                origin=origin,
                action=action,
                target=target,
                before=before,
                after=after,
                prev=last.hash if last else GENESIS,
            )
        )
        row = {**entry.__dict__, "before": _dump(before), "after": _dump(after)}
        c.execute(insert(AUDIT).values(**row))
        return entry

    def record(self, actor: str, origin: str, action: str, target: str, before: Any = None, after: Any = None) -> None:
        """Append one entry for a write made elsewhere (an import, an approval)."""
        with self._tx() as c:
            self._append(c, actor, origin, action, target, before, after)

    def entries(self) -> list[AuditEntry]:
        with self._read() as c:
            rows = [] if c is None else c.execute(select(AUDIT).order_by(AUDIT.c.seq)).all()
        return [
            AuditEntry(
                r.seq, r.at, r.actor, r.origin, r.action, r.target, _load(r.before), _load(r.after), r.prev, r.hash
            )
            for r in rows
        ]

    def verify(self, *, expect_head: str | None = None) -> AuditCheck:
        return verify(self.entries(), expect_head=expect_head)

    # -- users ---------------------------------------------------------------------------------------
    def add_user(
        self, username: str, *, full_name: str, organisation: str, role: Role, password: str, actor: str, origin: str
    ) -> User:
        name = username.strip().lower()
        if not name or any(ch not in _USERNAME_OK for ch in name) or len(name) > 64:
            raise SafeGroundError(
                f"user name {username!r} is not usable",
                hint="use lower-case letters, digits, '.', '_' or '-' (at most 64), e.g. a.aliyev",
            )
        if role is Role.PUBLIC:
            raise SafeGroundError("'public' is what people without an account read as; it is not an account role")
        check_new_password(password, username=name)
        with self._tx() as c:
            if c.execute(select(USERS.c.username).where(USERS.c.username == name)).first():
                raise SafeGroundError(f"there is already a user {name}", hint="choose another name, or change its role")
            row = {
                "username": name,
                "full_name": full_name,
                "organisation": organisation,
                "role": role.value,
                "password_hash": hash_password(password),
                "active": True,
                "created_at": _now(),
            }
            c.execute(insert(USERS).values(**row))
            self._append(c, actor, origin, "user.add", f"user:{name}", None, _public(row))
        return self.user(name)

    def user(self, username: str) -> User:
        with self._read() as c:
            row = (
                None
                if c is None
                else c.execute(select(USERS).where(USERS.c.username == username.strip().lower())).first()
            )
        if row is None:
            raise SafeGroundError(f"no user {username!r}", hint="list them with: safeground users list --store STORE")
        return _user(row)

    def users(self) -> list[User]:
        with self._read() as c:
            return [] if c is None else [_user(r) for r in c.execute(select(USERS).order_by(USERS.c.username)).all()]

    def _change(self, username: str, values: dict[str, Any], action: str, actor: str, origin: str) -> User:
        before = self.user(username)
        with self._tx() as c:
            c.execute(update(USERS).where(USERS.c.username == before.username).values(**values))
            if values.get("active") is False or "password_hash" in values or "role" in values:
                # a disabled user, a new password or a new role ends every open session
                c.execute(update(SESSIONS).where(SESSIONS.c.username == before.username).values(revoked=True))
            shown = {k: v for k, v in values.items() if k != "password_hash"} or {"password": "changed"}
            self._append(
                c,
                actor,
                origin,
                action,
                f"user:{before.username}",
                {k: _public(before.__dict__).get(k) for k in shown},
                shown,
            )
        return self.user(before.username)

    def set_role(self, username: str, role: Role, *, actor: str, origin: str) -> User:
        if role is Role.PUBLIC:
            raise SafeGroundError("'public' is not an account role", hint="disable the account instead")
        return self._change(username, {"role": role.value}, "user.role", actor, origin)

    def set_organisation(self, username: str, organisation: str, *, actor: str, origin: str) -> User:
        """Move a user to another organisation (the uid of a record in the organisations layer)."""
        return self._change(username, {"organisation": organisation}, "user.organisation", actor, origin)

    def set_active(self, username: str, active: bool, *, actor: str, origin: str) -> User:
        return self._change(username, {"active": active}, "user.enable" if active else "user.disable", actor, origin)

    def set_password(self, username: str, password: str, *, actor: str, origin: str) -> User:
        check_new_password(password, username=self.user(username).username)
        return self._change(username, {"password_hash": hash_password(password)}, "user.password", actor, origin)

    def authenticate(self, username: str, password: str, *, origin: str) -> User | None:
        """The user for a right password of an active account; a failure is audited (never the password)."""
        name = username.strip().lower()
        with self._read() as c:
            row = None if c is None else c.execute(select(USERS).where(USERS.c.username == name)).first()
        ok = row is not None and bool(row.active) and verify_password(row.password_hash, password)
        if not ok:
            self.record(name or "?", origin, "login.failed", f"user:{name}")
            return None
        assert row is not None  # ok implies a row
        if needs_rehash(row.password_hash):
            with self._tx() as c:
                c.execute(update(USERS).where(USERS.c.username == name).values(password_hash=hash_password(password)))
        return _user(row)

    # -- sessions and API tokens -------------------------------------------------------------------
    def open_session(self, user: User, *, hours: float = SESSION_HOURS) -> str:
        """A new session id (the cookie value); only its hash is stored, so a copy of the database
        does not let anyone log in as its users."""
        sid = secrets.token_urlsafe(32)
        now = datetime.now(UTC).replace(microsecond=0)
        with self._tx() as c:
            row = {
                "id_hash": _sha(sid),
                "username": user.username,
                "created_at": now.isoformat(),
                "expires_at": (now + timedelta(hours=hours)).isoformat(),
                "revoked": False,
            }
            c.execute(insert(SESSIONS).values(**row))
        return sid

    def session_user(self, sid: str) -> User | None:
        with self._read() as c:
            if c is None:
                return None
            row = c.execute(select(SESSIONS).where(SESSIONS.c.id_hash == _sha(sid))).first()
            if row is None or row.revoked or row.expires_at <= _now():
                return None
            user = c.execute(select(USERS).where(USERS.c.username == row.username)).first()
        return _user(user) if user is not None and user.active else None

    def close_session(self, sid: str) -> None:
        with self._tx() as c:
            c.execute(update(SESSIONS).where(SESSIONS.c.id_hash == _sha(sid)).values(revoked=True))

    def add_token(
        self,
        username: str,
        label: str,
        *,
        actor: str,
        origin: str,
        expires_at: datetime | None = None,
        role: Role | None = None,
    ) -> str:
        """A new API token for a field device or a KoboToolbox REST service; shown once, stored hashed.

        ``expires_at`` None: it never expires. ``role`` None: the owner's role now. The role is stored, so a
        user promoted later does not promote the tokens they already handed to devices; a role above the
        owner's is refused (a token never does more than its user)."""
        user = self.user(username)
        role = user.role if role is None else role
        if role is Role.PUBLIC or not at_or_below(role, user.role):
            allowed = ", ".join(r.value for r in roles_at_or_below(user.role))
            raise NotPermitted(
                f"a token of {user.username} cannot have the role {role.value}: it would do more than "
                f"{user.username}'s own role ({user.role.value}) allows",
                hint=f"choose one of: {allowed}",
            )
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise SafeGroundError(f"a token cannot expire in the past ({expires_at.isoformat()})",
                                  hint="give a number of days of at least 1")  # fmt: skip
        until = None if expires_at is None else expires_at.astimezone(UTC).replace(microsecond=0).isoformat()
        token = "sg_" + secrets.token_urlsafe(32)
        with self._tx() as c:
            c.execute(
                insert(TOKENS).values(
                    token_hash=_sha(token),
                    prefix=token[:10],
                    username=user.username,
                    label=label,
                    created_at=_now(),
                    revoked=False,
                    expires_at=until,
                    role=role.value,
                )
            )
            self._append(
                c,
                actor,
                origin,
                "token.add",
                f"user:{user.username}",
                None,
                {"label": label, "prefix": token[:10], "expires_at": until, "role": role.value},
            )
        return token

    def token_check(self, token: str) -> tuple[User | None, str | None, Token | None]:
        """(the user the token acts as, with the role it may use; None and why not; the token when found).

        The role is the lower of the token's and the user's current one, so demoting a user lowers their
        tokens at once; a token of a disabled user, a revoked or an expired one lets nobody in."""
        with self._read() as c:
            if c is None:
                return None, TOKEN_UNKNOWN, None
            row = c.execute(select(TOKENS).where(TOKENS.c.token_hash == _sha(token))).first()
            if row is None:
                return None, TOKEN_UNKNOWN, None
            user = c.execute(select(USERS).where(USERS.c.username == row.username)).first()
        owner = None if user is None else _user(user)
        found = _token(row, owner)
        if found.state != "live":
            return None, found.state, found
        if owner is None or found.acts_as is None:
            return None, TOKEN_USER_DISABLED, found
        return replace(owner, role=found.acts_as), None, found

    def token_user(self, token: str) -> User | None:
        """The user a live token acts as, with the role it may use (see :meth:`token_check`); None otherwise."""
        return self.token_check(token)[0]

    def tokens(self, username: str | None = None) -> list[Token]:
        """The API tokens of one user (or of everyone), newest first; revoked ones too, marked."""
        with self._read() as c:
            if c is None:
                return []
            q = select(TOKENS).order_by(TOKENS.c.created_at.desc(), TOKENS.c.prefix)
            if username is not None:
                q = q.where(TOKENS.c.username == username.strip().lower())
            rows = c.execute(q).all()
            owners = {u.username: _user(u) for u in c.execute(select(USERS).where(
                USERS.c.username.in_({r.username for r in rows}))).all()}  # fmt: skip
        return [_token(r, owners.get(r.username)) for r in rows]

    def revoke_token(self, prefix: str, *, actor: str, origin: str, owner: str | None = None) -> int:
        """Revoke the live tokens starting ``prefix`` (only ``owner``'s when given); how many were."""
        where = [TOKENS.c.prefix == prefix, TOKENS.c.revoked.is_(False)]
        if owner is not None:
            where.append(TOKENS.c.username == owner.strip().lower())
        with self._tx() as c:
            n = c.execute(update(TOKENS).where(*where).values(revoked=True)).rowcount
            if n:
                self._append(c, actor, origin, "token.revoke", f"token:{prefix}")
        return int(n or 0)


def _token(r: Any, owner: User | None = None) -> Token:
    """A token row as a list shows it; with its ``owner``, the role it acts with now (as :meth:`token_check`)."""
    role = None if r.role is None else Role(r.role)
    acts_as = None
    if owner is not None and owner.active:
        acts_as = owner.role if role is None else lower_of(role, owner.role)
    return Token(r.prefix, r.username, r.label, r.created_at, bool(r.revoked), r.expires_at, role, acts_as)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "password_hash"}
    if isinstance(out.get("role"), Role):
        out["role"] = out["role"].value
    return out


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _load(value: str | None) -> Any:
    return None if value is None else json.loads(value)
