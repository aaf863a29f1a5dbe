"""Commands for returnees and the people who advise them: safe-check, safe route, village risk map."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from safeground.cli.common import StoreOpt, console
from safeground.errors import SafeGroundError
from safeground.outputs import OverwriteOpt, guard_output, staged_file, write_text
from safeground.tabular import frame_to_csv


def check(
    lon: Annotated[float | None, typer.Argument(help="Longitude (WGS 84 degrees).")] = None,
    lat: Annotated[float | None, typer.Argument(help="Latitude (WGS 84 degrees).")] = None,
    store: StoreOpt = "demo.gpkg",
    batch: Annotated[Path | None, typer.Option(help="CSV with lon,lat columns: check every row.")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the batch results (CSV).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json (single point).")] = "text",
    overwrite: OverwriteOpt = False,
) -> None:
    """Is it safe here? Checks a point (or a CSV of points) against every known danger."""
    import json as _json

    import numpy as np
    import pandas as pd

    from safeground.safety.check import SafetyIndex
    from safeground.storage.base import open_store

    if batch is None and (lon is None or lat is None):
        raise SafeGroundError("give LON LAT, or --batch FILE.csv", hint="e.g. safeground check 47.10 39.62")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SafeGroundError(f"{lon}, {lat} is not a longitude/latitude", hint="longitude first, then latitude")
    target = out or (batch.with_name(batch.stem + "-checked.csv") if batch is not None else None)
    if target is not None:
        guard_output(target, overwrite=overwrite, store_location=store)
    with open_store(store, readonly=True) as s:
        index = SafetyIndex.from_store(s)
    if batch is not None and target is not None:
        pts = pd.read_csv(batch)
        missing = {"lon", "lat"} - set(pts.columns)
        if missing:
            raise SafeGroundError(f"{batch.name}: no column {', '.join(sorted(missing))}", hint="name them lon and lat")
        bad = pts[~pts["lon"].between(-180, 180) | ~pts["lat"].between(-90, 90)]
        if len(bad):
            raise SafeGroundError(f"{batch.name}, row {int(bad.index[0]) + 2}: not a longitude/latitude")
        far = np.flatnonzero(index.outside(pts["lon"].to_numpy(), pts["lat"].to_numpy()))
        if len(far):
            first = int(far[0])
            more = f" (and {len(far) - 1} more rows)" if len(far) > 1 else ""
            index.refuse_outside(
                float(pts["lon"].iloc[first]), float(pts["lat"].iloc[first]),
                where=f"{batch.name}, row {first + 2}{more}, fields lon/lat: ",
            )  # fmt: skip
        res = index.check_many(pts["lon"].to_numpy(), pts["lat"].to_numpy())
        with staged_file(target, overwrite=overwrite, store_location=store) as tmp:
            frame_to_csv(res, tmp, index=False)
        counts = res["level"].value_counts()
        console.print(
            f"[green]checked[/] {len(res):,} points → {target}: " + ", ".join(f"{k}: {v:,}" for k, v in counts.items())
        )
        return
    ans = index.check(lon, lat)  # type: ignore[arg-type]
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
                    "risk": ans.risk,
                    "risk_probability": ans.risk_probability,
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
    from safeground.storage.base import open_store

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
    from safeground.storage.base import open_store

    target = out or Path(f"{name.lower().replace(' ', '-')}-risk-map.pdf")
    with open_store(store, readonly=True) as s, staged_file(target, overwrite=overwrite, store_location=store) as tmp:
        render_village_map(s, name, tmp, tuple(x.strip() for x in lang.split(",") if x.strip()))
    console.print(f"[green]written[/] {target}")
