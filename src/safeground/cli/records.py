"""Commands that put records in and show what is stored: import, layers, history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeground.cli.common import StoreOpt, console, is_url
from safeground.errors import SafeGroundError


def import_(
    layer: Annotated[str, typer.Argument(help="Target layer, e.g. hazard_areas, eo_items, accidents.")],
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile, KML, CSV with lon/lat …")],
    store: Annotated[str, typer.Option("--store", "-s", help="GeoPackage file of the store.")],
    repair: Annotated[bool, typer.Option(help="Fix repairable geometry problems and list the changes.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check everything, write nothing.")] = False,
    new: Annotated[bool, typer.Option(help="Create the store if it does not exist yet.")] = False,
    source_layer: Annotated[str | None, typer.Option(help="Layer to read from a file with several.")] = None,
) -> None:
    """Import a GIS file into one layer: all features or none."""
    from safeground.intake.features import import_features
    from safeground.storage.base import open_store

    url = is_url(store)
    if not url and not Path(store).exists() and not new:
        raise SafeGroundError(f"no SafeGround store at {store}", hint="check the path, or add --new to create it")
    with open_store(store, create=new or not url, readonly=dry_run and not url and Path(store).exists()) as s:
        if dry_run and s.readonly:
            rep = _dry_run(s, layer, file, repair, source_layer)
        else:
            rep = import_features(s, layer, file, repair=repair, dry_run=dry_run, source_layer=source_layer)
            if not dry_run:
                s.set_meta("imported", "yes")
    for note in rep.notes:
        console.print(f"[yellow]note[/]: {note}")
    for p in rep.repairs:
        console.print(f"[yellow]repaired[/]: {p.describe()}")
    verb = "would import" if dry_run else "imported"
    console.print(f"[green]{verb}[/] {len(rep.created)} record(s) into {layer} from {file.name}")


def _dry_run(store: object, layer: str, file: Path, repair: bool, source_layer: str | None) -> object:
    """A dry run must not touch the file: validate against a scratch copy."""
    import shutil
    import tempfile

    from safeground.intake.features import import_features
    from safeground.storage.base import open_store

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "dry-run.gpkg"
        shutil.copy(store.location, copy)  # type: ignore[attr-defined]
        with open_store(str(copy)) as scratch:
            return import_features(scratch, layer, file, repair=repair, dry_run=True, source_layer=source_layer)


def layers() -> None:
    """List the layers of a SafeGround store and what each holds."""
    from safeground.model import RECORD_TYPES

    t = Table(title="SafeGround layers")
    for col in ("layer", "geometry", "restricted", "what it holds"):
        t.add_column(col)
    for name, cls in RECORD_TYPES.items():
        t.add_row(name, cls.GEOMETRY or "(table)", "yes" if cls.RESTRICTED else "", cls.TITLE)
    console.print(t)


def history(
    layer: Annotated[str, typer.Argument(help="Layer name, e.g. hazard_areas.")],
    uid: Annotated[str, typer.Argument(help="Record identifier, e.g. HA-00012.")],
    store: StoreOpt = "demo.gpkg",
) -> None:
    """Show every version of one record: nothing is ever overwritten."""
    from safeground.intake.features import record_type_for
    from safeground.storage.base import open_store

    cls = record_type_for(layer)
    with open_store(store, readonly=True) as s:
        versions = s.history(cls, uid)
    t = Table(title=f"History of {uid}")
    for col in ("version", "date of information", "entered by", "change"):
        t.add_column(col)
    for v in versions:
        t.add_row(str(v.version), str(v.date_of_information), v.entered_by, v.change_reason or "")
    console.print(t)
