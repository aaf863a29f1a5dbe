"""``/static/…``: the scripts, styles and icons shipped inside the package, served to anyone.

A Starlette ``StaticFiles`` mount would be a route without a permission (deny by default refuses
it), so the files are served by one ordinary route that declares ``read:public``. Only files under
``safeground/web/static`` inside the installed package are served (importlib.resources, so a wheel
works like a checkout); a path that climbs out, a directory or a missing file is a 404. Each answer
carries a strong ETag from the file's bytes, so a browser or the returnee page's service worker
revalidates with a 304 instead of downloading again.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.resources import files
from pathlib import PurePosixPath

from fastapi import Depends, FastAPI, Request, Response

from safeground.errors import RecordNotFound
from safeground.web.permissions import requires

#: file types served; anything else is not served at all (no .py, no dotfiles)
TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".pbf": "application/x-protobuf",
}


@lru_cache(maxsize=512)
def _read(path: str) -> tuple[bytes, str] | None:
    parts = PurePosixPath(path).parts
    if not parts or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    suffix = PurePosixPath(path).suffix.lower()
    if suffix not in TYPES:
        return None
    node = files("safeground.web") / "static"
    for p in parts:
        node = node / p
    if not node.is_file():
        return None
    data = node.read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def static_file(path: str) -> tuple[bytes, str, str]:
    """(bytes, media type, etag) of a shipped file, or RecordNotFound."""
    found = _read(path)
    if found is None:
        raise RecordNotFound(
            f"no such file: /static/{path}", hint="the page asked for a file this version does not ship"
        )
    data, etag = found
    media = TYPES[PurePosixPath(path).suffix.lower()]
    return data, media, etag


def add_static_routes(app: FastAPI) -> None:
    @app.get(
        "/static/{path:path}",
        tags=["pages"],
        summary="A script, style or icon shipped in the package",
        dependencies=[Depends(requires("read:public"))],
    )
    def static(path: str, request: Request) -> Response:
        data, media, etag = static_file(path)
        headers = {"ETag": etag, "Cache-Control": "public, max-age=3600, must-revalidate",
                   "X-Content-Type-Options": "nosniff"}  # fmt: skip
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(data, media_type=media, headers=headers)
