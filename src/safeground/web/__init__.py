"""The SafeGround server: a thin web adapter over the stores, the access policy and (next) the services.

``create_app(settings, store)`` (:mod:`safeground.web.app`) builds one FastAPI application; nothing
here runs at import time. What the server publishes is what :func:`safeground.access.view` gives
the reader's :class:`~safeground.access.Audience`, never the store itself, and every route declares
the permission it needs (:mod:`safeground.web.permissions`): a route without one stops the app from
being built. Domain packages never import this package.
"""

from safeground.web.app import create_app
from safeground.web.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
