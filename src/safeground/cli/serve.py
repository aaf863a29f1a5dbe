"""``safeground serve``: the OGC API Features server over one store (read-only, public audience)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from safeground.cli.common import console


def serve(
    store: Annotated[
        str | None,
        typer.Option(
            "--store", "-s", help="Store: a GeoPackage file, or postgresql://…?schema=… (default: SAFEGROUND_STORE)."
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1: this machine only).")
    ] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="Port to listen on (default 8000).")] = None,
    public_url: Annotated[
        str | None, typer.Option(help="The address clients use, when behind a reverse proxy (links are built on it).")
    ] = None,
) -> None:
    """Serve the store as OGC API Features (QGIS, GDAL, a browser), as the public may read it."""
    import uvicorn

    from safeground.storage import open_store
    from safeground.web import ServerSettings, create_app

    given: dict[str, Any] = {"store": store, "host": host, "port": port, "public_url": public_url}
    # what the command line gives wins; the rest comes from SAFEGROUND_* variables, then the defaults
    settings = ServerSettings(**{k: v for k, v in given.items() if v is not None})
    with open_store(settings.store, create=False, readonly=True) as s:
        app = create_app(settings, s)
        address = settings.public_url or f"http://{settings.host}:{settings.port}"
        console.print(f"SafeGround serves {settings.store} at {address}", soft_wrap=True)
        console.print(f"QGIS: Layer → Add Layer → Add WFS / OGC API Features Layer, URL {address}", soft_wrap=True)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
