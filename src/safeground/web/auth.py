"""Who is asking: API tokens, sessions, login with a rate limit, and CSRF protection.

* **API tokens** (``Authorization: Bearer sg_…``) for field devices and the KoboToolbox REST
  service: random, stored only as their SHA-256 (:mod:`safeground.accounts.repository`).
* **Sessions** for people in a browser: ``POST /login`` sets an ``HttpOnly``, ``SameSite=Strict``
  cookie whose value only the server knows the meaning of; sessions are stored server-side and end
  on logout, on a new password or role, and when the account is disabled.
* **CSRF**: a request that changes data and is authenticated by the cookie must carry the header
  ``X-CSRF-Token``, derived from the session id (``csrf_token``) and returned by the login; a page on
  another site can make the browser send the cookie, but cannot read the token. Token-authenticated
  requests need none (no credential is sent by the browser on its own).
* **Login attempts** are limited per client address and user name (:class:`LoginLimiter`), and
  every failure is written to the audit log; **requests** per API token (:class:`RequestLimiter`).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque

from fastapi import Request

from safeground.accounts.repository import (
    TOKEN_EXPIRED,
    TOKEN_REVOKED,
    TOKEN_USER_DISABLED,
    Accounts,
    Token,
)
from safeground.errors import SafeGroundError
from safeground.web.principal import NotLoggedIn, NotPermitted, Principal

SESSION_COOKIE = "sg_session"
CSRF_COOKIE = "sg_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TooManyAttempts(SafeGroundError):
    code = "too_many_attempts"
    http_status = 429


def csrf_token(session_id: str) -> str:
    return hashlib.sha256(b"safeground-csrf:" + session_id.encode()).hexdigest()


class LoginLimiter:
    """At most ``attempts`` failed logins per (address, user name) in ``window_s`` seconds."""

    def __init__(self, attempts: int = 5, window_s: float = 900.0) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] < now - self.window_s:
            q.popleft()
        return q

    def check(self, address: str, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            q = self._recent((address, username.strip().lower()), now)
            if len(q) >= self.attempts:
                wait = int(q[0] + self.window_s - now) + 1
                raise TooManyAttempts(
                    f"too many failed logins for {username!r} from this address",
                    hint=f"wait {wait // 60 + 1} minutes, or ask an administrator to set a new password",
                )

    def failed(self, address: str, username: str) -> None:
        with self._lock:
            self._recent((address, username.strip().lower()), time.monotonic()).append(time.monotonic())


class TooManyRequests(SafeGroundError):
    code = "too_many_requests"
    http_status = 429

    def __init__(self, message: str, *, hint: str, retry_after_s: int) -> None:
        super().__init__(message, hint=hint)
        self.headers = {"Retry-After": str(retry_after_s)}


class RequestLimiter:
    """At most ``requests`` requests per API token in ``window_s`` seconds (0: no limit): a field device or a
    script gone wrong cannot take the server from everyone else. Counted per token (its hash), after the
    token is known to be valid, so made-up tokens cannot fill the table."""

    def __init__(self, requests: int, window_s: float) -> None:
        self.requests, self.window_s = requests, window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, token: str) -> None:
        if not self.requests:
            return
        key = hashlib.sha256(token.encode()).hexdigest()[:32]
        now = time.monotonic()
        with self._lock:
            q = self._seen.setdefault(key, deque())
            while q and q[0] < now - self.window_s:
                q.popleft()
            if len(q) >= self.requests:
                wait = int(q[0] + self.window_s - now) + 1
                raise TooManyRequests(
                    f"this API token made more than {self.requests} requests in {self.window_s:g} s",
                    hint=f"wait {wait} s (the Retry-After header), or spread the requests out",
                    retry_after_s=wait,
                )
            q.append(now)


def accounts(request: Request) -> Accounts:
    return request.app.state.accounts  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def change_origin(request: Request) -> str:
    """Where a change made through the server came from, as its audit entry says it (``web`` and the address)."""
    return f"web {client_address(request)}"


def _token_refusal(why: str | None, token: Token | None) -> tuple[str, str]:
    """The 401's message and hint for a token that lets nobody in: what is wrong with it, and what to do."""
    renew = "make a new one on the page /workspace/tokens (or: safeground users token USER LABEL --days N --store " \
            "STORE) and put it into the device"  # fmt: skip
    if why == TOKEN_EXPIRED and token is not None:
        when = (token.expires_at or "")[:16].replace("T", " ")
        return f"this API token ({token.prefix}…) expired on {when} UTC", renew
    if why == TOKEN_REVOKED and token is not None:
        return f"this API token ({token.prefix}…) was revoked", renew
    if why == TOKEN_USER_DISABLED:
        return "this API token's user is disabled", "ask an administrator to enable the account, or use another"
    return "this API token is not valid: mistyped, or not of this server", "copy it again, or " + renew


def principal_of(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user, why, token = accounts(request).token_check(header[7:].strip())
        if user is None:
            message, hint = _token_refusal(why, token)
            raise NotLoggedIn(message, hint=hint)
        limiter = getattr(request.app.state, "token_limiter", None)
        if limiter is not None:
            limiter.check(header[7:].strip())
        return Principal(role=user.role.value, user=user, via="token")
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return Principal()
    user = accounts(request).session_user(sid)
    if user is None:
        return Principal()  # an ended or expired session reads as the public; the page offers the login
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, csrf_token(sid)):
            raise NotPermitted(
                "this change was not sent by a SafeGround page (no valid CSRF token)",
                hint=f"send the token the login returned in the {CSRF_HEADER} header",
            )
    return Principal(role=user.role.value, user=user, via="session")
