"""One JSON shape for every error the server returns, mapped once from the error hierarchy.

``{"code": …, "status": …, "message": …, "hint": …}`` (and ``problems``, one per field, for invalid
input): ``code`` and ``status`` come from the
:class:`~safeground.errors.SafeGroundError` subclass (``code``, ``http_status``), the message and
the hint are the ones the command line prints. FastAPI's own errors (a bad query parameter, an
unknown path, a method not allowed) get the same shape, and anything unexpected becomes a 500 with
a message that says nothing about the store (the detail goes to the server's log: a traceback could
hold a victim's name or a mine's position).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeground.errors import InvalidInput, SafeGroundError, as_query

log = logging.getLogger("safeground.web")

#: HTTP errors that do not come from SafeGround → their machine code
_HTTP_CODES = {
    400: "bad_request",
    401: "not_logged_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
}


class BadParameter(SafeGroundError):
    """A query parameter the server cannot use (OGC API: 400)."""

    code = "invalid_parameter"
    http_status = 400


def error_body(code: str, status: int, message: str, hint: str | None = None) -> dict[str, Any]:
    return {"code": code, "status": status, "message": message, "hint": hint}


def _respond(code: str, status: int, message: str, hint: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, status, message, hint), status_code=status)


async def _safeground_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SafeGroundError)
    status = exc.http_status
    message, hint = exc.render_message(as_query), exc.render_hint(as_query)  # `cell`, never `--cell`
    if status >= 500:
        log.error("%s: %s", exc.code, message)
    body = error_body(exc.code, status, message, hint)
    if isinstance(exc, InvalidInput):  # each problem apart too, so a form can show it next to its field
        body["problems"] = [{"item": p.item, "field": p.field, "reason": p.reason} for p in exc.problems[:200]]
    response = JSONResponse(body, status_code=status)
    for k, v in (getattr(exc, "headers", None) or {}).items():  # e.g. Retry-After of a 429
        response.headers[k] = v
    return response


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
    return _respond(
        "invalid_parameter", 400, "; ".join(parts) or "invalid request", "see /api for every parameter and its values"
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    hint = "the landing page (/) links to every collection" if status == 404 else None
    message = str(exc.detail) if exc.detail else "error"
    if status == 404 and message == "Not Found":
        message = f"nothing at {request.url.path}"
    response = _respond(_HTTP_CODES.get(status, "http_error"), status, message, hint)
    for k, v in (exc.headers or {}).items():
        response.headers[k] = v
    return response


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return _respond("internal_error", 500, "the server failed to answer this request", "the server's log says why")


def install_error_handlers(app: FastAPI) -> None:
    """The one mapping from exceptions to responses (installed once, on the app)."""
    app.add_exception_handler(SafeGroundError, _safeground_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


#: the one error shape, as the OpenAPI describes it
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["code", "status", "message", "hint"],
    "properties": {
        "code": {"type": "string", "description": "a machine code (not_found, invalid_parameter, restricted, …)"},
        "status": {"type": "integer", "description": "the HTTP status"},
        "message": {"type": "string", "description": "what went wrong, in words a user can act on"},
        "hint": {"type": ["string", "null"], "description": "how to fix it"},
        "problems": {
            "type": "array",
            "description": "an invalid input's problems one by one (item, field, reason)",
            "items": {"type": "object"},
        },
    },
}


def document_errors(app: FastAPI) -> None:
    """Write the one error shape into the OpenAPI of every operation (FastAPI's own 422 body is never sent:
    a bad parameter is a 400 in this shape), so a client generated from /api reads every error."""
    make = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = make()
        error = {
            "description": "an error (one shape for all)",
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
        for item in doc.get("paths", {}).values():
            for op in item.values():
                responses = op.setdefault("responses", {})
                responses.pop("422", None)
                responses["default"] = error
        for name in ("HTTPValidationError", "ValidationError"):
            doc.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
