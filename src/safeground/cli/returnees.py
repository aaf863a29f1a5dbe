"""Commands for returnees and the people who advise them: safe-check, safe route, village risk map."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from safeground.cli.common import StoreOpt, console
from safeground.errors import SafeGroundError
from safeground.outputs import OverwriteOpt


def check(
    lon: Annotated[float | None, typer.Argument(help="Longitude (WGS 84 degrees).")] = None,
    lat: Annotated[float | None, typer.Argument(help="Latitude (WGS 84 degrees).")] = None,
    store: StoreOpt = "demo.gpkg",
    # -- batch and buffer options (issue 14): one block -----------------------------------------
    batch: Annotated[
        Path | None,
        typer.Option(
            help="CSV with lon,lat columns, or a GeoPackage/GeoJSON of points: check every row "
            "(its own columns are kept next to the answer)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the batch answer: .csv, .gpkg or .geojson (default: "
            "next to the input, NAME-checked in its format)."
        ),
    ] = None,
    layer: Annotated[str | None, typer.Option(help="The layer of a --batch file that holds several.")] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="The --batch column that identifies a row (default: uid or id). A row whose id is an "
            "accident's or a found item's uid is that record's place: answered without it."
        ),
    ] = None,
    buffer: Annotated[
        list[str] | None,
        typer.Option(
            help="A safety buffer, KIND=METRES (repeat): a contamination type (antipersonnel_mines, "
            "cluster_munition_remnants, … or mines for all mines), minefield_record, cluster_strike, "
            "found_item, accident."
        ),
    ] = None,
    settings: Annotated[
        Path | None, typer.Option(help="Settings file (.toml, .yaml, .json) with a buffers table; --buffer wins.")
    ] = None,
    max_distance: Annotated[
        float | None,
        typer.Option(min=0.0, help="Look for the nearest danger only this far (m); default: any distance."),
    ] = None,
    # --------------------------------------------------------------------------------------------
    fmt: Annotated[str, typer.Option("--format", help="text or json (single point).")] = "text",
    overwrite: OverwriteOpt = False,
) -> None:
    """Is it safe here? Checks a point (or a file of points) against every known danger."""
    from safeground.safety.buffers import DEFAULT_BUFFERS
    from safeground.services.returnees import check_point, check_points_file

    if batch is None and (lon is None or lat is None):
        raise SafeGroundError("give LON LAT, or --batch FILE.csv", hint="e.g. safeground check 47.10 39.62")
    if batch is not None:
        done = check_points_file(
            store, batch, out=out, layer=layer, id_column=id_column, settings=settings, buffer=buffer or (),
            max_distance=max_distance, overwrite=overwrite,
        )  # fmt: skip
        counts = done.levels()
        console.print(
            f"[green]checked[/] {len(done.answers):,} points → {done.out}: "
            + ", ".join(f"{k.replace('_', ' ')}: {n:,}" for k, n in counts.items()),
            soft_wrap=True,
        )
        reach = f"within {max_distance:,.0f} m" if max_distance is not None else "at any distance"
        console.print(f"  buffers (m): {done.buffers.describe()}; nearest danger searched {reach}", soft_wrap=True,
                      highlight=False)  # fmt: skip
        if done.renamed:
            console.print(f"  input columns kept under new names: {', '.join(done.renamed)}", highlight=False)
        return
    assert lon is not None and lat is not None
    checked = check_point(store, lon, lat, settings=settings, buffer=buffer or (), max_distance=max_distance)
    if fmt == "json":
        sys.stdout.write(json.dumps(checked.as_dict(), indent=1) + "\n")
        return
    ans = checked.answer
    colour = {2: "red", 1: "yellow", 0: "green"}[int(ans.level)]
    console.print(f"[bold {colour}]{ans.verdict}[/]")
    for f in ans.findings[:8]:
        where = "inside" if f.inside else f"{f.distance_m:.0f} m from"
        console.print(f"  • {where} {f.label} (safety buffer {f.buffer_m:.0f} m)")
    console.print(f"  Predicted risk: {ans.risk}")
    if checked.buffers != DEFAULT_BUFFERS:
        console.print(f"  Safety buffers used (m): {checked.buffers.describe()}", highlight=False)


def route(
    origin: Annotated[str, typer.Argument(help="'lon,lat' or a place name (e.g. 'Entry checkpoint 1').")],
    destination: Annotated[str, typer.Argument(help="'lon,lat' or a place name (e.g. 'Dashkend cemetery').")],
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path | None, typer.Option(help="Write the route as GeoJSON here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """A safe walking route that keeps out of hazard areas, records and strike footprints with their buffers."""
    from safeground.services.returnees import safe_route

    found = safe_route(store, origin, destination, out=out, overwrite=overwrite)
    ans = found.answer
    colour = "green" if ans.found else "red"
    console.print(f"[bold {colour}]{ans.explanation}[/]")
    for what, d in ans.near_danger[:10]:
        console.print(f"  • passes {d:.0f} m from {what}")
    if ans.snapped_from_m > 50 or ans.snapped_to_m > 50:
        console.print(
            f"  note: start is {ans.snapped_from_m:.0f} m, end {ans.snapped_to_m:.0f} m from the nearest road or path"
        )
    if found.written:
        console.print(f"[green]route written[/] to {found.written}")


def village_map(
    name: Annotated[str, typer.Argument(help="Settlement or cemetery, e.g. 'Chaykend' or 'Chaykend cemetery'.")],
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path | None, typer.Option(help="PDF file to write.")] = None,
    lang: Annotated[
        str, typer.Option(help="Languages, comma-separated: az, ru, en; the first names the places on the map.")
    ] = "az,en",
    overwrite: OverwriteOpt = False,
) -> None:
    """A one-page printable A4 risk map of a settlement or cemetery at a walking scale, in two or three languages."""
    from safeground.services.returnees import village_risk_map

    langs = tuple(x.strip() for x in lang.split(",") if x.strip())
    target, _ = village_risk_map(store, name, out=out, langs=langs, overwrite=overwrite)
    console.print(f"[green]written[/] {target}")
