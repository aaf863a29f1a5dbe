"""The workspace in the browser: server-rendered pages (Jinja2) with small ES modules.

Every workspace page is made by :func:`render_page`: the shell (``workspace/base.html.j2``) with the
header (who is logged in, their organisation and role), the language switch and the navigation,
in the reader's language (:mod:`safeground.web.i18n`). A page declares its permission with
:func:`page_requires` instead of :func:`~safeground.web.permissions.requires`: the same deny by
default (the route table shows the permission), but a person who is not logged in is sent to the
login page instead of being answered with JSON, and one whose role lacks it gets a page that says
what to do. The data itself comes from the JSON API (OGC API Features and the rest), which filters
by the reader's audience: a page never holds more than its reader may read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from safeground.web.i18n import LANG_COOKIE, Translator, language_of, languages, strings
from safeground.web.permissions import PERMISSIONS, Principal, current_principal, requires

#: the navigation: (translation key, address, permissions of which the reader must hold one)
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("nav_map", "/workspace", ("read:public",)),
    ("nav_review", "/workspace/review", ("review", "submissions:own")),
    ("nav_dashboards", "/workspace/dashboards", ("account",)),
    ("nav_entry", "/workspace/entry", ("submit",)),
    ("nav_admin", "/workspace/admin", ("admin:users",)),
    ("nav_tokens", "/workspace/tokens", ("account",)),
)


class LoginFirst(Exception):
    """A workspace page asked for by someone not logged in: answered with the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageNotPermitted(Exception):
    """A workspace page the reader's role may not open: answered with a page saying so (403)."""

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.permission = permission


def page_requires(permission: str) -> Callable[..., Principal]:
    """Like :func:`requires` for an HTML page: not logged in → the login page; lacking it → a 403 page."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}: add it to PERMISSIONS with what it allows")

    def dependency(request: Request, principal: Principal = Depends(current_principal)) -> Principal:  # noqa: B008
        if principal.user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginFirst(target)
        if not principal.holds(permission):
            raise PageNotPermitted(permission)
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"page_requires_{permission.replace(':', '_')}"
    return dependency


def safe_next(next_url: str | None) -> str:
    """Where to go after logging in: a workspace address on this server, never another site."""
    if next_url and next_url.startswith("/workspace") and "//" not in next_url and "\\" not in next_url:
        return next_url
    return "/workspace"


def _lang_links(request: Request) -> list[dict[str, str]]:
    out = []
    for code in languages():
        q = {k: v for k, v in request.query_params.items() if k != "lang"}
        q["lang"] = code
        out.append({"code": code, "name": str(strings(code).get("language_name", code)),
                    "href": request.url.path + "?" + urlencode(q)})  # fmt: skip
    return out


def organisation_label(request: Request, uid: str) -> str:
    """An organisation as people name it (its acronym, else its name), read from the open store."""
    from safeground.model import Organisation

    found = request.app.state.catalogue.reading(lambda s: [o for o in s.find(Organisation) if o.uid == uid])
    if not found:
        return uid
    return str(found[0].acronym or found[0].name)


def _me(request: Request, principal: Principal) -> dict[str, str] | None:
    u = principal.user
    if u is None:
        return None
    return {"user": u.username, "name": u.full_name, "organisation": organisation_label(request, u.organisation),
            "organisation_uid": u.organisation, "role": u.role.value}  # fmt: skip


def render_page(
    request: Request,
    principal: Principal,
    template: str,
    *,
    title_key: str,
    status_code: int = 200,
    active: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """A workspace page for ``principal``: ``template`` (which extends ``workspace/base.html.j2``) in the
    reader's language, with the header, the language switch and the navigation their role may use.

    The template gets ``t`` (the translator), ``lang``, ``me``, ``nav``, ``languages`` and ``i18n`` (every
    string, for the page's scripts: ``common.mjs`` reads it), and whatever ``context`` adds."""
    code = language_of(request)
    t = Translator(code)
    nav = [
        {"key": key, "href": href, "label": t(key), "active": href == (active or request.url.path)}
        for key, href, perms in NAV
        if any(principal.holds(p) for p in perms)
    ]
    env = request.app.state.templates
    html = env.get_template(template).render(
        t=t,
        lang=code,
        i18n=t.table,
        me=_me(request, principal),
        nav=nav if principal.user is not None else [],
        languages=_lang_links(request),
        title=t(title_key),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"  # a page names its reader: never cached for the next one
    if request.query_params.get("lang") == code:
        response.set_cookie(LANG_COOKIE, code, samesite="strict", path="/", max_age=365 * 24 * 3600)
    return response


def add_workspace_routes(app: FastAPI) -> None:
    """The login page and the map; the redirects for workspace pages a reader may not open yet."""

    async def _login_first(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginFirst)
        return RedirectResponse("/workspace/login?next=" + quote(exc.next_url, safe="/"), status_code=303)

    async def _not_permitted(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageNotPermitted)
        principal = current_principal(request)
        return render_page(request, principal, "workspace/forbidden.html.j2", title_key="forbidden_title",
                           status_code=403, permission=exc.permission,
                           what=PERMISSIONS.get(exc.permission, ""))  # fmt: skip

    app.add_exception_handler(LoginFirst, _login_first)
    app.add_exception_handler(PageNotPermitted, _not_permitted)

    @app.get("/workspace/login", tags=["workspace"], summary="The workspace's login page", response_class=HTMLResponse)
    def login_page(
        request: Request,
        next: str | None = None,
        principal: Principal = Depends(requires("read:public")),  # noqa: B008 - anyone may see the login form
    ) -> HTMLResponse:
        return render_page(request, principal, "workspace/login.html.j2", title_key="login_title",
                           next_url=safe_next(next))  # fmt: skip

    @app.get("/workspace", tags=["workspace"], summary="The map of the record", response_class=HTMLResponse)
    def map_page(request: Request, principal: Principal = Depends(page_requires("read:partner"))) -> HTMLResponse:  # noqa: B008
        return render_page(request, principal, "workspace/map.html.j2", title_key="map_title",
                           config=map_config(request, principal))  # fmt: skip

    @app.get("/workspace/places", tags=["workspace"], summary="Place names for the map's search, with their extents")
    def places(request: Request, principal: Principal = Depends(requires("read:public"))) -> JSONResponse:  # noqa: B008
        return JSONResponse(
            {"places": place_names(request, principal)}, headers={"Cache-Control": "private, max-age=60"}
        )


#: where the map's search finds place names: (collection, CQL2 filter of the features that are places)
PLACE_LAYERS: tuple[tuple[str, str | None], ...] = (
    ("infrastructure_areas", "kind='settlement'"),
    ("admin_areas", None),
)


def place_names(request: Request, principal: Principal) -> list[dict[str, Any]]:
    """The named settlements and admin areas of the reader's view, each with its extent: what the search
    by place name needs, a few kilobytes, where the map no longer holds whole layers (it reads tiles)."""
    from safeground.access.policy import may_read_layer
    from safeground.model.base import RECORD_TYPES
    from safeground.web import cql
    from safeground.web.features import selected

    cat = request.app.state.catalogue
    out: list[dict[str, Any]] = []
    for coll_id, flt in PLACE_LAYERS:
        if not may_read_layer(RECORD_TYPES[coll_id], principal.audience):
            continue  # a layer this reader may not read names no place for them
        coll = cat.collection(coll_id, principal.audience)
        table = cat.table(coll, principal.audience)
        if "name" not in table.columns or not table.has_geometry:
            continue
        tree = cql.parse(flt, None) if flt else None
        mask = selected(table, coll_id, box=None, box_epsg=4326, period=None, tree=tree)
        chosen = table.take(mask, len(table.ids), 0)[0]
        bounds = chosen.frame.geometry.bounds.to_numpy()
        for fid, name, b in zip(chosen.ids, chosen.frame["name"], bounds, strict=True):
            if isinstance(name, str) and name and all(map(math.isfinite, b)):
                out.append(
                    {"name": name, "collection": coll_id, "id": str(fid), "bbox": [round(float(v), 6) for v in b]}
                )
    return out


#: the map's thematic layers: (collection, translation key, on at first, CQL filter of the items asked for)
MAP_LAYERS: tuple[tuple[str, str, bool, str | None], ...] = (
    ("predicted_hazards", "layer_risk", False, None),
    ("cluster_strikes", "layer_cluster_strikes", False, None),
    ("minefield_records", "layer_minefield_records", False, None),
    ("minefield_record_assessments", "layer_minefield_record_assessments", False, None),
    ("activities", "layer_released", True, None),
    ("hazard_areas", "layer_hazard_areas", True, None),
    ("eo_items", "layer_eo_items", False, "status='found'"),
    ("accidents", "layer_accidents", True, None),
)


def _timeline(request: Request) -> Any:
    """The date slider's ends, kept a minute in the app's state (reading every timed layer's dates costs
    a few tenths of a second, and the map page is the workspace's front page)."""
    from safeground.services.timeline import timeline_bounds

    hit = getattr(request.app.state, "timeline_bounds", None)
    if hit is not None and time.monotonic() - hit[0] < 60:
        return hit[1]
    found = request.app.state.catalogue.reading(timeline_bounds)
    request.app.state.timeline_bounds = (time.monotonic(), found)
    return found


def map_config(request: Request, principal: Principal) -> dict[str, Any]:
    """What map.mjs needs: the layers this reader may read with their IMSMA styles (from
    :mod:`safeground.styles`, the symbology QGIS and the printed maps use), the uid prefixes for
    the search, the store's extent and the date slider's ends."""
    from safeground.access.policy import may_read_layer
    from safeground.model.base import RECORD_TYPES
    from safeground.styles import LAYER_STYLES
    from safeground.styles.writers import maplibre_filter, to_maplibre

    audience = principal.audience
    layers = []
    for coll, key, on, cql in MAP_LAYERS:
        cls = RECORD_TYPES[coll]
        if not may_read_layer(cls, audience):
            continue
        style = LAYER_STYLES[coll]
        rules = [{"label": r.label, "kind": r.symbol.kind, "fill": r.symbol.fill, "stroke": r.symbol.stroke,
                  "fill_opacity": r.symbol.fill_opacity, "dash": r.symbol.dash, "filter": maplibre_filter(r)}
                 for r in style.rules]  # fmt: skip
        layers.append({"id": coll, "label": Translator(language_of(request))(key), "on": on, "filter": cql,
                       "style": to_maplibre(style, coll), "rules": rules})  # fmt: skip
    prefixes = {c.UID_PREFIX: k for k, c in RECORD_TYPES.items() if c.UID_PREFIX and may_read_layer(c, audience)}
    bounds = _timeline(request)
    extent = request.app.state.catalogue.extent()
    return {
        "layers": layers,
        "prefixes": prefixes,
        "extent": list(extent) if extent else None,
        "timeline": [bounds[0].isoformat(), bounds[1].isoformat()] if bounds else None,
        "audience": audience.value,
        # the risk map's PNG tiles and legend (risk_routes), where this server has them
        "risk_tiles": any(getattr(r, "path", "") == "/risk/legend" for r in request.app.routes),
        "lang": language_of(request),
    }
