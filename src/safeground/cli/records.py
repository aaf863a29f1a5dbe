"""Commands that show what is stored: layers, history (import and export are in cli/intake.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from safeground.cli.common import StoreOpt, console


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
    from safeground.services.records import record_history

    found = record_history(store, layer, uid)
    t = Table(title=f"History of {uid}")
    for col in ("version", "date of information", "entered by", "change", "fields changed"):
        t.add_column(col)
    for v in found.versions:
        r = v.record
        t.add_row(str(r.version), str(r.date_of_information), r.entered_by, r.change_reason or "", v.changed)
    console.print(t)
    if found.deleted:
        console.print(
            f"[yellow]note[/]: {uid} has no current version: it was deleted outside SafeGround (e.g. in QGIS) "
            "or by an approved deletion (safeground audit list); "
            f"the versions above are what {layer}_history keeps"
        )
