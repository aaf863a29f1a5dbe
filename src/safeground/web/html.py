"""The HTML form of every page (``f=html``): minimal, readable in a browser, no script from elsewhere.

The templates live in ``web/templates``; the Jinja2 environment is made by ``create_app``
(:func:`environment`), not at import time.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
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
