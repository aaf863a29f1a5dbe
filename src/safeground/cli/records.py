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
    from safeground.model import record_type
    from safeground.storage import open_store

    cls = record_type(layer)
    deleted = False
    with open_store(store, readonly=True) as s:
        try:
            versions = s.history(cls, uid)
        except RecordNotFound as exc:
            # no current version, but maybe a history: deleted by another program (QGIS), or never stored
            versions = s.chains(cls, [uid]).get(uid, [])
            if not versions:
                held = s.count(cls)
                raise RecordNotFound(
                    f"{exc.message} ({layer} holds {held:,} record(s))",
                    hint="list them with: safeground export layer "
                    f"{layer} --format csv --out {layer}.csv --store {store}"
                    if held
                    else f"import them first: safeground import {layer} FILE --store {store}",
                ) from None
            deleted = True
    t = Table(title=f"History of {uid}")
    for col in ("version", "date of information", "entered by", "change", "fields changed"):
        t.add_column(col)
    previous = None
    for v in versions:
        change = _changed(previous, v)
        t.add_row(str(v.version), str(v.date_of_information), v.entered_by, v.change_reason or "", change)
        previous = v
    console.print(t)
    if deleted:
        console.print(
            f"[yellow]note[/]: {uid} has no current version: it was deleted outside SafeGround (e.g. in QGIS); "
            f"the versions above are what {layer}_history keeps"
        )


_BOOKKEEPING = {"version", "entered_at", "entered_by", "change_reason"}


def _changed(before: object, after: object) -> str:
    """Which fields a version changed (``status: open → closed``), short: what a reviewer looks for first."""
    if before is None:
        return ""
    old = before.model_dump(mode="json", exclude={"geometry"})  # type: ignore[attr-defined]
    new = after.model_dump(mode="json", exclude={"geometry"})  # type: ignore[attr-defined]
    out = []
    for k, v in new.items():
        if k in _BOOKKEEPING or old.get(k) == v:
            continue
        simple = all(isinstance(x, str | int | float | bool) or x is None for x in (old.get(k), v))
        out.append(f"{k}: {old.get(k)} → {v}" if simple else k)
    geom_old, geom_new = getattr(before, "geometry", None), getattr(after, "geometry", None)
    if geom_old is not None and geom_new is not None and not geom_old.equals(geom_new):
        out.append("geometry")
    return "; ".join(out)
