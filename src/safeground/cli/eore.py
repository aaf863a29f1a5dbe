"""Risk education: ``safeground plan eore`` (settlements ranked by need, a table, a CSV and a map)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from safeground.cli.common import StoreOpt, console
from safeground.cli.reports import FormatOpt, _show
from safeground.errors import SafeGroundError
from safeground.outputs import OverwriteOpt, guard_output


def plan_eore(
    store: StoreOpt = "demo.gpkg",
    as_of: Annotated[str | None, typer.Option(help="Rank as known on this date (default: the last record).")] = None,
    population: Annotated[
        Path | None, typer.Option(help="CSV with settlement,population (else buildings count the returnees).")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Rows shown in the table, settlements labelled on the map.")] = 15,
    fmt: FormatOpt = "table",
    out: Annotated[Path | None, typer.Option(help="Write csv here.")] = None,
    png: Annotated[Path | None, typer.Option(help="Write the map of the ranking here (PNG).")] = None,
    lang: Annotated[str, typer.Option(help="Language of the map: en, az or ru.")] = "en",
    overwrite: OverwriteOpt = False,
) -> None:
    """Settlements ranked by need for explosive ordnance risk education, with each factor's contribution."""
    from safeground.services.eore import draw_targeting_map, eore_targets

    for path in (out, png):
        if path:
            guard_output(path, overwrite=overwrite, store_location=store)
    when = None
    if as_of is not None:
        try:
            when = date.fromisoformat(as_of)
        except ValueError:
            raise SafeGroundError(f"--as-of {as_of!r} is not a date", hint="write it as YYYY-MM-DD") from None
    targets = eore_targets(store, as_of=when, population=population)
    r = targets.ranking
    frame = r
    if fmt != "csv":  # a table says "no map" and "never" rather than nan and None
        frame = r.drop(columns=["people_from"]).head(top).astype({"predicted_risk": object, "last_session": object})
        frame["predicted_risk"] = [("no map" if v != v else f"{v:.3f}") for v in frame["predicted_risk"]]
        frame["last_session"] = [("never" if v is None or v != v else str(v)) for v in frame["last_session"]]
    _show(frame, fmt, f"Settlements by need for risk education on {targets.as_of} (c_: contribution)", out,
          overwrite, store)  # fmt: skip
    if fmt == "table":
        console.print(targets.note)
    if png:
        draw_targeting_map(store, targets, png, top=top, lang=lang, overwrite=overwrite)
        console.print(f"[green]map written[/] {png}")
