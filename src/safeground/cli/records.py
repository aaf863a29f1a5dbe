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
    from safeground.errors import RecordNotFound
    from safeground.intake.features import record_type_for
    from safeground.storage.base import open_store

    cls = record_type_for(layer)
    with open_store(store, readonly=True) as s:
        try:
            versions = s.history(cls, uid)
        except RecordNotFound as exc:
            held = s.count(cls)
            raise RecordNotFound(
                f"{exc.message} ({layer} holds {held:,} record(s))",
                hint=f"list them with: safeground export layer {layer} --format csv --out {layer}.csv --store {store}"
                if held
                else f"import them first: safeground import {layer} FILE --store {store}",
            ) from None
    t = Table(title=f"History of {uid}")
    for col in ("version", "date of information", "entered by", "change"):
        t.add_column(col)
    for v in versions:
        t.add_row(str(v.version), str(v.date_of_information), v.entered_by, v.change_reason or "")
    console.print(t)
