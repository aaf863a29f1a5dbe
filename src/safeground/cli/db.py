"""Commands about the store's schema: which version it is at, and upgrading it in place."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from safeground.cli.common import StoreOpt, console

db_app = typer.Typer(help="The store's schema: current version, migration history, upgrade (keeps every record).")


@db_app.command("current")
def db_current(store: StoreOpt = "demo.gpkg") -> None:
    """Print the schema version (GeoPackage) or Alembic revision (PostGIS) the store is at."""
    from safeground.storage import open_store
    from safeground.storage.migrations import steps_for

    with open_store(store, create=False, readonly=True) as s:
        current = s.schema_revision()
        latest = steps_for(s)[-1][0]
    shown = current or "none (made before migrations: the baseline)"
    state = "up to date" if current == latest else f"upgrade available to {latest}: safeground db upgrade"
    typer.echo(f"{store.split('@')[-1]}: {shown} ({state})")


@db_app.command("history")
def db_history(store: StoreOpt = "demo.gpkg") -> None:
    """List every schema step of the store's backend, marking the one the store is at."""
    from safeground.storage import open_store
    from safeground.storage.migrations import steps_for

    with open_store(store, create=False, readonly=True) as s:
        current = s.schema_revision()
        steps = steps_for(s)
    t = Table(title="Schema steps (oldest first)")
    for col in ("revision", "what it does", ""):
        t.add_column(col)
    for rev, doc in steps:
        t.add_row(rev, doc, "← current" if rev == current else "")
    console.print(t)


@db_app.command("upgrade")
def db_upgrade(store: StoreOpt = "demo.gpkg") -> None:
    """Bring the store's schema to the latest version in one transaction; every record is kept."""
    from safeground.storage import open_store

    with open_store(store, create=False) as s:
        before = s.schema_revision()
        applied = s.upgrade()
        after = s.schema_revision()
        added = s.model_changes  # type: ignore[attr-defined]
        layers = getattr(s, "layers_added", [])
    if layers:
        typer.echo(f"added the layers of this version: {', '.join(layers)} (and their history)")
    if not applied and not added:
        if not layers:
            typer.echo(f"already at {after}: nothing to do")
        return
    typer.echo(f"upgraded from {before or 'baseline'} to {after}: applied {', '.join(applied) or 'none'}")
    if added:
        typer.echo(f"added from the model: {', '.join(added)}")


@db_app.command("area")
def db_area(
    store: StoreOpt = "demo.gpkg",
    bbox: Annotated[
        str | None, typer.Option(help="Set it: west,south,east,north in WGS 84 degrees, e.g. 46.5,39.3,47.5,40.0.")
    ] = None,
) -> None:
    """Show or set the store's area of interest.

    Imports check positions against it (a point far outside, or with latitude and
    longitude swapped, is refused), it settles the hemisphere of a zone like 38S,
    and its UTM zone is where distances and areas are measured.
    """
    from safeground.services.store_admin import change_area, show_area

    if bbox is None:
        shown = show_area(store)
        if not shown.area:
            typer.echo("no area of interest set: imports cannot check positions against it (set it with --bbox)")
            return
        typer.echo(
            f"area of interest (west, south, east, north): {shown.area}; distances measured in EPSG:{shown.epsg}"
        )
        return
    done = change_area(store, bbox, "--bbox")
    w, s_, e, n = done.area
    typer.echo(f"area of interest set to {w}, {s_}, {e}, {n}; distances measured in EPSG:{done.epsg}")
    if done.outside:
        typer.echo(f"note: {done.outside:,} of {done.total:,} stored records lie more than 0.5° outside it")
