"""The HTML form of every page (``f=html``): minimal, readable in a browser, no script from elsewhere.

The templates live in ``web/templates``; the Jinja2 environment is made by ``create_app``
(:func:`environment`), not at import time.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, PackageLoader, select_autoescape


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("safeground.web", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(request: Request, *, title: str, body: dict[str, Any], **extra: Any) -> str:
    env: Environment = request.app.state.templates
    extra.pop("headers", None)
    return env.get_template("page.html.j2").render(title=title, body=body, **extra)


def pdf_response(data: bytes, name: str) -> Response:
    """A PDF the browser shows in its own viewer (``inline``) under ``name``, never kept by a cache.

    Reports and dossiers are made for one reader's audience from the store as it is now, so a shared
    or browser cache must not hand them to another reader or show yesterday's figures.
    """
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name) or "report.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{safe}"', "Cache-Control": "no-store"},
    )
