"""Where records live: ``open_store(location)`` picks the backend from the location.

A location is a file path (a GeoPackage: one file on a field laptop) or a URL whose scheme
names a server backend (``postgresql://…?schema=name``: PostGIS on a national server). The
backends register here by scheme, so ``storage.base`` (the interface) never imports a backend
and a new backend is one ``register_backend`` call, not an edit of every caller.
"""

from __future__ import annotations

from collections.abc import Callable

from safeground.storage.base import BBox, Store

__all__ = ["BBox", "Store", "is_store_url", "open_store", "register_backend"]

#: opener(location, create, readonly) for each URL scheme; a location with no scheme is a file
Opener = Callable[[str, bool, bool], Store]
_BACKENDS: dict[str, Opener] = {}


def register_backend(schemes: tuple[str, ...], opener: Opener) -> None:
    """Make ``open_store`` open locations starting ``scheme://`` with ``opener``."""
    for scheme in schemes:
        _BACKENDS[scheme] = opener


def _scheme(location: str) -> str | None:
    head, sep, _ = location.partition("://")
    return head.lower() if sep and head.isidentifier() else None


def is_store_url(location: str) -> bool:
    """True for a server store (a registered URL scheme), False for a file path."""
    return _scheme(location) in _BACKENDS


def open_store(location: str, *, create: bool = True, readonly: bool = False) -> Store:
    """Open the store a location names: a file path means GeoPackage, a registered URL scheme
    (``postgresql://``, ``postgres://``) its server backend."""
    scheme = _scheme(location)
    if scheme in _BACKENDS:
        return _BACKENDS[scheme](location, create, readonly)
    from safeground.storage.gpkg import GeoPackageStore

    return GeoPackageStore(location, create=create, readonly=readonly)


def _open_postgis(location: str, create: bool, readonly: bool) -> Store:
    from safeground.storage.postgis import PostGISStore

    return PostGISStore(location.replace("postgres://", "postgresql://", 1), create=create, readonly=readonly)


register_backend(("postgresql", "postgres"), _open_postgis)
