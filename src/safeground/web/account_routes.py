"""``/login``, ``/logout``, ``/me``: sessions for people in a browser (see :mod:`safeground.web.auth`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request, Response

from safeground.web.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    accounts,
    client_address,
    csrf_token,
)
from safeground.web.permissions import NotLoggedIn, Principal, requires


def _me(principal: Principal) -> dict[str, Any]:
    u = principal.user
    assert u is not None
    return {
        "user": u.username,
        "name": u.full_name,
        "organisation": u.organisation,
        "role": u.role.value,
        "audience": principal.audience.value,
    }


def add_account_routes(app: FastAPI) -> None:
    @app.post("/login", tags=["accounts"], summary="Log in: a session cookie and the CSRF token")
    def login(
        request: Request,
        response: Response,
        username: Annotated[str, Body(max_length=64)],
        password: Annotated[str, Body(max_length=1024)],
        _: Principal = Depends(requires("read:public")),  # noqa: B008 - anyone may try to log in
    ) -> dict[str, Any]:
        address = client_address(request)
        limiter = request.app.state.login_limiter
        limiter.check(address, username)
        acc = accounts(request)
        user = acc.authenticate(username, password, origin=f"web {address}")
        if user is None:
            limiter.failed(address, username)
            raise NotLoggedIn("wrong user name or password, or the account is disabled")
        sid = acc.open_session(user)
        secure = request.url.scheme == "https"
        response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict", secure=secure, path="/")
        response.set_cookie(CSRF_COOKIE, csrf_token(sid), httponly=False, samesite="strict", secure=secure, path="/")
        return {**_me(Principal(role=user.role.value, user=user, via="session")), "csrf": csrf_token(sid)}

    @app.post("/logout", tags=["accounts"], summary="End this session")
    def logout(
        request: Request,
        response: Response,
        principal: Principal = Depends(requires("account")),  # noqa: B008
    ) -> dict[str, str]:
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            accounts(request).close_session(sid)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return {"logged_out": principal.user.username if principal.user else ""}

    @app.get("/me", tags=["accounts"], summary="Who this request is authenticated as")
    def me(principal: Principal = Depends(requires("account"))) -> dict[str, Any]:  # noqa: B008
        return _me(principal)
