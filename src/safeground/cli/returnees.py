"""Commands for returnees and the people who advise them: safe-check, safe route, village risk map."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from safeground.cli.common import StoreOpt, console
from safeground.errors import SafeGroundError
from safeground.outputs import OverwriteOpt, guard_output, staged_file, write_text


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
    import json as _json

    import numpy as np

    from safeground.safety.buffers import DEFAULT_BUFFERS, load_buffers
    from safeground.safety.check import SafetyIndex
    from safeground.storage import open_store

    if batch is None and (lon is None or lat is None):
        raise SafeGroundError("give LON LAT, or --batch FILE.csv", hint="e.g. safeground check 47.10 39.62")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SafeGroundError(f"{lon}, {lat} is not a longitude/latitude", hint="longitude first, then latitude")
    buffers = load_buffers(settings, buffer or ())
    if batch is not None:
        from safeground.safety.batchfile import default_output, joined, read_points, write_answers

        points = read_points(batch, layer)
        ids = points.ids(id_column)
        target = out or default_output(batch)
        guard_output(target, overwrite=overwrite, store_location=store)
        with open_store(store, readonly=True) as s:
            index = SafetyIndex.from_store(s, buffers)
        far = np.flatnonzero(index.outside(points.lon, points.lat))
        if len(far):
            first = int(far[0])
            more = f" (and {len(far) - 1} more)" if len(far) > 1 else ""
            cols = "/".join(points.lonlat_columns) if points.lonlat_columns else "geometry"
            index.refuse_outside(
                float(points.lon[first]), float(points.lat[first]),
                where=f"{batch.name}, {points.where(first)}{more}, fields {cols}: ",
            )  # fmt: skip
        res = index.check_many(points.lon, points.lat, ids=ids, max_distance=max_distance)
        table, renamed = joined(points, res, buffers.describe())
        with staged_file(target, overwrite=overwrite, store_location=store) as tmp:
            write_answers(points, table, tmp)
        counts = res["level"].value_counts()
        console.print(
            f"[green]checked[/] {len(res):,} points → {target}: "
            + ", ".join(f"{k.replace('_', ' ')}: {counts[k]:,}" for k in ("danger", "caution", "no_known_hazard")),
            soft_wrap=True,
        )
        reach = f"within {max_distance:,.0f} m" if max_distance is not None else "at any distance"
        console.print(f"  buffers (m): {buffers.describe()}; nearest danger searched {reach}", soft_wrap=True,
                      highlight=False)  # fmt: skip
        if renamed:
            console.print(f"  input columns kept under new names: {', '.join(renamed)}", highlight=False)
        return
    with open_store(store, readonly=True) as s:
        index = SafetyIndex.from_store(s, buffers)
    ans = index.check(lon, lat, max_distance=max_distance)  # type: ignore[arg-type]
    if fmt == "json":
        sys.stdout.write(
            _json.dumps(
                {
                    "lon": ans.lon,
                    "lat": ans.lat,
                    "level": ans.level.name.lower(),
                    "verdict": ans.verdict,
                    "findings": [f.__dict__ for f in ans.findings],
                    "released": [f.__dict__ for f in ans.released],
                    "nearest_danger": ans.nearest_uid or None,
                    "nearest_danger_m": round(ans.nearest_m, 1) if ans.nearest_uid else None,
                    "risk": ans.risk,
                    "risk_probability": ans.risk_probability,
                    "buffers": buffers.as_dict(),
                },
                indent=1,
            )
            + "\n"
        )
        return
    colour = {2: "red", 1: "yellow", 0: "green"}[int(ans.level)]
    console.print(f"[bold {colour}]{ans.verdict}[/]")
    for f in ans.findings[:8]:
        where = "inside" if f.inside else f"{f.distance_m:.0f} m from"
        console.print(f"  • {where} {f.label} (safety buffer {f.buffer_m:.0f} m)")
    console.print(f"  Predicted risk: {ans.risk}")
    if buffers != DEFAULT_BUFFERS:
        console.print(f"  Safety buffers used (m): {buffers.describe()}", highlight=False)


def _lonlat(text_: str) -> tuple[float, float]:
    try:
        lon_s, lat_s = text_.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        raise SafeGroundError(f"{text_!r} is neither 'lon,lat' nor a known place") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SafeGroundError(f"{text_!r} is not a longitude/latitude", hint="longitude first, then latitude")
    return lon, lat


def route(
    origin: Annotated[str, typer.Argument(help="'lon,lat' or a place name (e.g. 'Entry checkpoint 1').")],
    destination: Annotated[str, typer.Argument(help="'lon,lat' or a place name (e.g. 'Dashkend cemetery').")],
    store: StoreOpt = "demo.gpkg",
    out: Annotated[Path | None, typer.Option(help="Write the route as GeoJSON here.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """A safe walking route that keeps out of hazard areas, records and strike footprints with their buffers."""
    import json as _json

    import shapely

    from safeground.routing.build import safe_network
    from safeground.routing.places import place_lonlat
    from safeground.storage import open_store

    if out:
        guard_output(out, overwrite=overwrite, store_location=store)
    with open_store(store, readonly=True) as s:
        a = _lonlat(origin) if "," in origin else place_lonlat(s, origin)
        b = _lonlat(destination) if "," in destination else place_lonlat(s, destination)
        net = safe_network(s)
    ans = net.route(a, b)
    colour = "green" if ans.found else "red"
    console.print(f"[bold {colour}]{ans.explanation}[/]")
    for what, d in ans.near_danger[:10]:
        console.print(f"  • passes {d:.0f} m from {what}")
    if ans.snapped_from_m > 50 or ans.snapped_to_m > 50:
        console.print(
            f"  note: start is {ans.snapped_from_m:.0f} m, end {ans.snapped_to_m:.0f} m from the nearest road or path"
        )
    if out and ans.path is not None:
        feature = {
            "type": "Feature",
            "properties": {"found": ans.found, "length_m": round(ans.length_m, 1), "explanation": ans.explanation},
            "geometry": _json.loads(shapely.to_geojson(ans.path)),
        }
        write_text(out, _json.dumps({"type": "FeatureCollection", "features": [feature]}), overwrite=overwrite,
                   store_location=store)  # fmt: skip
        console.print(f"[green]route written[/] to {out}")


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
    from safeground.reports.village_map import render_village_map
    from safeground.storage import open_store

    target = out or Path(f"{name.lower().replace(' ', '-')}-risk-map.pdf")
    with open_store(store, readonly=True) as s, staged_file(target, overwrite=overwrite, store_location=store) as tmp:
        render_village_map(s, name, tmp, tuple(x.strip() for x in lang.split(",") if x.strip()))
    console.print(f"[green]written[/] {target}")
