"""``create_app(settings, store)``: the one place the server is put together.

Nothing runs at import time: the store is opened by the caller (the ``serve`` command, a test) and
passed in, the templates and the catalogue are made here, and the app refuses to be built if a
route declares no permission (:func:`safeground.web.permissions.check_every_route`).
FastAPI's own /docs, /redoc and /openapi.json are off: they would be routes without a permission
(and /docs loads its script from a CDN a field laptop cannot reach); the OpenAPI description is
served at /api, like every OGC API.
"""

from __future__ import annotations

from fastapi import FastAPI

from safeground import __version__
from safeground.accounts.repository import Accounts
from safeground.storage.base import Store
from safeground.storage.side_tables import location_of
from safeground.web.account_routes import add_account_routes
from safeground.web.auth import LoginLimiter, RequestLimiter
from safeground.web.catalogue import Catalogue
from safeground.web.dashboard_routes import add_dashboard_routes
from safeground.web.errors import document_errors, install_error_handlers
from safeground.web.history_routes import add_history_routes
from safeground.web.html import environment
from safeground.web.ogc import add_ogc_routes
from safeground.web.permissions import check_every_route
from safeground.web.public_routes import add_public_routes
from safeground.web.review_routes import add_review_routes
from safeground.web.risk_routes import add_risk_routes
from safeground.web.settings import ServerSettings
from safeground.web.static_routes import add_static_routes
from safeground.web.style_routes import add_style_routes
from safeground.web.tile_routes import add_tile_routes
from safeground.web.workspace_admin import add_workspace_admin_routes
from safeground.web.workspace_dashboards import add_workspace_dashboard_routes
from safeground.web.workspace_entry import add_workspace_entry_routes
from safeground.web.workspace_links import add_workspace_link_routes
from safeground.web.workspace_review import add_workspace_review_routes
from safeground.web.workspace_routes import add_workspace_routes
from safeground.web.workspace_tokens import add_workspace_token_routes


def create_app(settings: ServerSettings, store: Store) -> FastAPI:
    app = FastAPI(
        title=settings.title,
        version=__version__,
        description="SafeGround's OGC API Features: what the public may read of a mine action store.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.catalogue = Catalogue(store, view_ttl_s=settings.view_ttl_s)
    app.state.templates = environment()
    app.state.location = location_of(store)  # where services open the store to write (review, accounts)
    app.state.accounts = Accounts(app.state.location)
    app.state.login_limiter = LoginLimiter(settings.login_attempts, settings.login_window_s)
    app.state.token_limiter = RequestLimiter(settings.token_requests, settings.token_window_s)
    install_error_handlers(app)
    add_account_routes(app)
    add_review_routes(app)
    add_ogc_routes(app, settings)
    add_tile_routes(app, settings)
    add_style_routes(app, settings)
    add_risk_routes(app, settings)
    add_static_routes(app)
    add_history_routes(app)
    add_workspace_routes(app)
    add_workspace_review_routes(app)
    add_workspace_entry_routes(app)
    add_workspace_dashboard_routes(app)
    add_workspace_admin_routes(app)
    add_workspace_token_routes(app)
    add_workspace_link_routes(app)
    add_dashboard_routes(app)
    add_public_routes(app)
    check_every_route(app)
    document_errors(app)
    return app
