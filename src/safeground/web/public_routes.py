"""``/safe/``: the public returnee page, "Is it safe here?" on a phone, with no login and no signal.

The routes only parse, call :mod:`safeground.services.public` and render. The page itself is one
template and two small ES modules (``static/public/``); the service worker is served from ``/safe/sw.js``
so that its scope is the page's. The bundle (``/safe/bundle.json``) is what the phone computes with
offline; ``/safe/api/check`` and ``/safe/api/route`` give the server's answers from the same data (the
page uses them before the bundle has arrived, the tests hold the phone to them). Everything here reads
as the public, whoever is logged in: the page is made to be handed to anyone.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from functools import lru_cache
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from safeground.services.public import LANGS, PublicData, build_public_data, public_check, public_route, village_map_pdf
from safeground.web.permissions import requires
from safeground.web.static_routes import static_file

#: how long (s) the server reuses the public data before reading the store again
PUBLIC_TTL_S = 60.0
_lock = threading.Lock()


@lru_cache(maxsize=4)
def translations(lang: str) -> dict[str, Any]:
    node = files("safeground.web") / "i18n" / f"public.{lang}.json"
    return json.loads(node.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def negotiate(accept_language: str | None, default: str = "az") -> str:
    """The first of az, ru, en the browser asks for (by q-value), else ``default``."""
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGS and q > 0 and (best is None or (q, -i) > (best[0], best[1])):
            best = (q, -i, lang)
    return best[2] if best else default


def _data(request: Request) -> PublicData:
    state = request.app.state
    with _lock:
        cached: tuple[float, PublicData] | None = getattr(state, "public_data", None)
        if cached is None or time.monotonic() - cached[0] > PUBLIC_TTL_S:
            data = state.catalogue.reading(build_public_data)
            state.public_data = cached = (time.monotonic(), data)
        return cached[1]


def _gzipped(request: Request, body: bytes, media: str, headers: dict[str, str]) -> Response:
    if "gzip" in request.headers.get("accept-encoding", "") and len(body) > 1024:
        return Response(gzip.compress(body, 6), media_type=media,
                        headers={**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})  # fmt: skip
    return Response(body, media_type=media, headers=headers)


def add_public_routes(app: FastAPI) -> None:
    public = [Depends(requires("read:public"))]

    @app.get("/safe", tags=["public page"], summary="The public returnee page", dependencies=public)
    def safe_redirect() -> RedirectResponse:
        return RedirectResponse("/safe/", status_code=307)

    @app.get("/safe/", tags=["public page"], summary="Is it safe here? (the phone page)", dependencies=public,
             response_class=HTMLResponse)  # fmt: skip
    def safe_page(request: Request, lang: str | None = None) -> Response:
        default = request.app.state.catalogue.reading(lambda s: s.get_meta("language")) or "az"
        chosen = lang if lang in LANGS else negotiate(request.headers.get("accept-language"), default)
        env = request.app.state.templates
        html = env.get_template("public/safe.html.j2").render(
            lang=chosen,
            tr=translations(chosen),
            i18n=json.dumps({k: translations(k) for k in LANGS}, ensure_ascii=False).replace("</", "<\\/"),
        )
        return _gzipped(request, html.encode(), "text/html; charset=utf-8",
                        {"Cache-Control": "no-cache", "Content-Language": chosen})  # fmt: skip

    @app.get("/safe/sw.js", tags=["public page"], summary="The page's service worker (offline)", dependencies=public)
    def service_worker() -> Response:
        data, media, etag = static_file("public/sw.js")
        headers = {"ETag": etag, "Cache-Control": "no-cache", "Service-Worker-Allowed": "/safe/"}
        return Response(data, media_type=media, headers=headers)

    @app.get("/safe/assets/{name}", tags=["public page"], summary="The page's scripts, style and icons (gzip)",
             dependencies=public)  # fmt: skip
    def asset(request: Request, name: str) -> Response:
        data, media, etag = static_file(f"public/{name}")
        headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return _gzipped(request, data, media, headers)

    @app.get("/safe/manifest.webmanifest", tags=["public page"], summary="The page as an installable app",
             dependencies=public)  # fmt: skip
    def manifest(request: Request) -> Response:
        tr = translations(negotiate(request.headers.get("accept-language"), "az"))
        body = {
            "name": f"SafeGround: {tr['title']}",
            "short_name": "SafeGround",
            "start_url": "/safe/",
            "scope": "/safe/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#b00020",
            "icons": [
                {"src": f"/safe/assets/icon-{s}.png", "sizes": f"{s}x{s}", "type": "image/png"} for s in (192, 512)
            ],
        }
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json")

    @app.get("/safe/bundle.json", tags=["public page"], summary="What the phone computes with offline",
             dependencies=public)  # fmt: skip
    def bundle(request: Request) -> Response:
        data = _data(request)
        headers = {"ETag": data.etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == data.etag:
            return Response(status_code=304, headers=headers)
        return _gzipped(request, data.bundle_bytes, "application/json", headers)

    @app.get("/safe/api/check", tags=["public page"], summary="Is it safe here? (the server's answer)",
             dependencies=public)  # fmt: skip
    def check(request: Request, lon: float = Query(...), lat: float = Query(...)) -> JSONResponse:
        return JSONResponse(public_check(_data(request), lon, lat))

    @app.get("/safe/api/route", tags=["public page"], summary="A safe route to a named place (the server's answer)",
             dependencies=public)  # fmt: skip
    def route(request: Request, to: str, lon: float = Query(...), lat: float = Query(...)) -> JSONResponse:
        return JSONResponse(public_route(_data(request), (lon, lat), to))

    @app.get("/safe/village-map/{name}", tags=["public page"], summary="A settlement's risk map (PDF)",
             dependencies=public)  # fmt: skip
    def village_map(request: Request, name: str, lang: str = "az,en") -> Response:
        langs = tuple(x.strip() for x in lang.split(",") if x.strip())
        data = _data(request)
        place = data.place(name.removesuffix(".pdf"))
        cache: dict[tuple[str, tuple[str, ...]], bytes] | None = getattr(request.app.state, "village_pdfs", None)
        if cache is None:
            cache = request.app.state.village_pdfs = {}
        key = (place.name + data.etag, langs)
        if key not in cache:
            cache[key] = request.app.state.catalogue.reading(lambda s: village_map_pdf(s, place.name, langs))
        filename = place.name.lower().replace(" ", "-") + "-risk-map.pdf"
        return Response(cache[key], media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})  # fmt: skip
