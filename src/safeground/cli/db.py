"""Commands about the store's schema: which version it is at, and upgrading it in place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from safeground.cli.common import StoreOpt, console

if TYPE_CHECKING:
    from safeground.storage.base import Store

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
    from safeground.storage import open_store

    if bbox is None:
        with open_store(store, create=False, readonly=True) as s:
            aoi, epsg = s.get_meta("area_of_interest"), s.get_meta("metric_epsg")
        if not aoi:
            typer.echo("no area of interest set: imports cannot check positions against it (set it with --bbox)")
            return
        typer.echo(f"area of interest (west, south, east, north): {aoi}; distances measured in EPSG:{epsg}")
        return
    area = parse_area(bbox, "--bbox")
    with open_store(store, create=False) as st:
        metric, outside, total = set_area(st, area, bbox)
    w, s_, e, n = area
    typer.echo(f"area of interest set to {w}, {s_}, {e}, {n}; distances measured in EPSG:{metric}")
    if outside:
        typer.echo(f"note: {outside:,} of {total:,} stored records lie more than 0.5° outside it")


def parse_area(text: str, option: str) -> tuple[float, float, float, float]:
    """west,south,east,north in WGS 84 degrees, checked (the order is the usual mistake)."""
    from safeground.errors import SafeGroundError

    try:
        w, s_, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise SafeGroundError(
            f"{option} {text!r} is not west,south,east,north", hint="e.g. 46.5,39.3,47.5,40.0"
        ) from None
    if not (-180 <= w < e <= 180 and -90 <= s_ < n <= 90):
        raise SafeGroundError(
            f"{option} {text!r}: need west < east within ±180 and south < north within ±90",
            hint="longitude first: e.g. 46.5,39.3,47.5,40.0 for Aghdam",
        )
    return w, s_, e, n


def set_area(st: Store, area: tuple[float, float, float, float], shown: str) -> tuple[int, int, int]:
    """Store the area of interest and its metric EPSG; returns (epsg, records outside, records).

    Records already stored are the check on the order of the four numbers: when
    most of them lie outside, the numbers are more likely swapped than the data wrong.
    """

    import shapely

    from safeground.errors import SafeGroundError
    from safeground.geometry.projection import metric_epsg_for
    from safeground.model import RECORD_TYPES

    box = shapely.box(*area)
    epsg = metric_epsg_for(box)
    outside = total = 0
    for cls in RECORD_TYPES.values():
        if cls.GEOMETRY is None or cls.RESTRICTED or not st.count(cls):
            continue
        geoms = st.read_frame(cls).geometry
        total += len(geoms)
        outside += int((~geoms.intersects(box.buffer(0.5))).sum())
    if total and outside > total / 2:
        raise SafeGroundError(
            f"{outside:,} of the {total:,} stored records lie more than 0.5° outside {shown}",
            hint="check the order: west,south,east,north (longitude first)",
        )
    with st.transaction():
        st.set_area_of_interest(area)
        st.set_meta("metric_epsg", str(epsg))
    return epsg, outside, total
