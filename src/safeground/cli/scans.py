"""Commands for scanned paper maps: georeference a scan, bring features digitised on it into the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from safeground.cli.common import console
from safeground.errors import InvalidInput, Problem, SafeGroundError
from safeground.outputs import OverwriteOpt, guard_output
from safeground.services.scans import (
    FitTooRough,
    UnknownControlPoints,
    fit_control_points,
    georeference_scan,
    import_placed,
    place_digitised,
)

scan_app = typer.Typer(help="Scanned paper maps: georeference from control points, digitised features to coordinates.")

GcpOpt = Annotated[Path, typer.Option("--gcps", help="Control points CSV: id,col,row,lon,lat or id,col,row,x,y.")]
CrsOpt = Annotated[str | None, typer.Option(help="CRS of x,y in the GCP file, e.g. EPSG:32638.")]
MethodOpt = Annotated[str, typer.Option("--method", help="affine (3+ points), polynomial (6+) or auto.")]
ExcludeOpt = Annotated[
    list[str] | None, typer.Option("--exclude", help="Leave out this control point (by id); repeat for more.")
]
MaxRmsOpt = Annotated[
    float | None, typer.Option(help="Refuse the fit (write nothing) if its RMS error is above this many metres.")
]
_MIN_POINTS = {"affine": 3, "polynomial": 6}


@contextmanager
def _refusals(max_rms: float | None) -> Iterator[None]:
    """The services' refusals of a fit in the words of this command's options (a rough fit shown first)."""
    try:
        yield
    except UnknownControlPoints as exc:
        raise SafeGroundError(
            f"--exclude {', '.join(exc.unknown)}: no such control point in {exc.source}", hint=exc.hint
        ) from None
    except FitTooRough as exc:
        geo = exc.georeference
        _show(geo)
        raise SafeGroundError(
            f"RMS error {geo.rms_m:.2f} m is above --max-rms {max_rms:g} m: nothing written "
            f"(worst control point: {geo.worst})",
            hint=f"check {geo.worst}'s pixel position and coordinates, or leave it out with --exclude {geo.worst}",
        ) from None


def _method(method: str) -> str:
    if method not in ("affine", "polynomial", "auto"):
        raise SafeGroundError(f"unknown --method {method!r}", hint="use affine, polynomial or auto")
    return method


def _show(geo: Any) -> None:
    t = Table(title=f"Control points ({geo.method} transform, working CRS EPSG:{geo.crs.to_epsg()})")
    for col in ("point", "col", "row", "residual m", "residual px", "leave-one-out m", "leave-one-out px", ""):
        t.add_column(col, justify="right" if col not in ("point", "") else "left")
    for r in geo.residuals:
        flag = "[red]SUSPECT: check this point[/]" if r.suspect else ("worst" if r.id == geo.worst else "")
        t.add_row(
            r.id,
            f"{r.col:g}",
            f"{r.row:g}",
            f"{r.residual_m:.2f}",
            f"{r.residual_px:.2f}",
            "-" if r.loo_residual_m is None else f"{r.loo_residual_m:.2f}",
            "-" if r.loo_residual_px is None else f"{r.loo_residual_px:.2f}",
            flag,
        )
    console.print(t)
    without = "" if geo.rms_without_worst_m is None else f" (RMS without it: {geo.rms_without_worst_m:.2f} m)"
    console.print(f"RMS error: {geo.rms_m:.2f} m ({geo.rms_px:.2f} px); worst point: {geo.worst}{without}")
    if len(geo.residuals) == _MIN_POINTS.get(geo.method, 0):
        console.print(
            f"[yellow]warning[/]: {len(geo.residuals)} control points are the fewest a {geo.method} fit needs: it "
            "passes through all of them, so the residuals are 0 by construction and a wrong point cannot show. "
            "Add at least one more control point"
        )
    if any(r.suspect for r in geo.residuals):
        console.print(
            "[yellow]warning[/]: a control point disagrees with all the others: check its pixel position "
            "and coordinates, or leave it out"
        )


@scan_app.command("georef")
def georef(
    image: Annotated[Path, typer.Argument(help="The scanned map: PNG, JPEG or TIFF.")],
    gcps: GcpOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="GeoTIFF to write.")],
    crs: CrsOpt = None,
    method: MethodOpt = "auto",
    residuals: Annotated[Path | None, typer.Option(help="Also write the residual table as CSV here.")] = None,
    exclude: ExcludeOpt = None,
    max_rms: MaxRmsOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Georeference a scanned map from control points and write it as a GeoTIFF (opens in QGIS in place)."""
    with _refusals(max_rms):
        done = georeference_scan(
            image, gcps, out, crs=crs, method=_method(method), exclude=exclude, max_rms_m=max_rms,
            residuals=residuals, overwrite=overwrite,
        )  # fmt: skip
    geo = done.georeference
    _show(geo)
    how = "resampled north-up" if done.resampled else "pixels kept, geotransform written"
    console.print(f"[green]wrote[/] {out} ({done.width} × {done.height} px, EPSG:{geo.crs.to_epsg()}, {how})")


@scan_app.command("features")
def features(
    file: Annotated[Path, typer.Argument(help="Features digitised on the scan: CSV of col,row or pixel GeoJSON.")],
    gcps: GcpOpt,
    crs: CrsOpt = None,
    method: MethodOpt = "auto",
    exclude: ExcludeOpt = None,
    max_rms: MaxRmsOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="GeoJSON (WGS 84) to write.")] = None,
    layer: Annotated[str | None, typer.Option(help="Import into this layer, e.g. eo_items, hazard_areas.")] = None,
    store: Annotated[str | None, typer.Option("--store", "-s", help="Store to import into.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="field=value for every feature.")] = None,
    date_of_information: Annotated[str | None, typer.Option("--date", help="Date of information (YYYY-MM-DD).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Check everything, write nothing.")] = False,
    problems_csv: Annotated[
        Path | None, typer.Option("--problems", help="Write the problems found as CSV here.")
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Turn features digitised on a scan (pixel coordinates) into real coordinates; optionally import them."""
    for path in (out, problems_csv):
        if path:
            guard_output(path, overwrite=overwrite, store_location=store)
    with _refusals(max_rms):
        geo = fit_control_points(gcps, crs, _method(method), exclude, max_rms)
    console.print(f"{geo.method} transform, RMS {geo.rms_m:.2f} m; worst control point {geo.worst}")
    placed = place_digitised(geo, file, out=out, store=store, overwrite=overwrite)
    if out:
        console.print(f"[green]wrote[/] {len(placed.features)} feature(s) in WGS 84 to {out}")
    if not layer:
        return
    if not store:
        raise SafeGroundError("--layer needs --store", hint="e.g. --store demo.gpkg")
    defaults: dict[str, Any] = {"entered_by": "safeground scan features"}
    problems = []
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("(command line)", "--set", "-", "write it as field=value", item))
        defaults[key.strip()] = value
    if date_of_information:
        try:
            defaults["date_of_information"] = date.fromisoformat(date_of_information)
        except ValueError:
            problems.append(Problem("(command line)", "--date", "date", "not a date (YYYY-MM-DD)", date_of_information))
    if problems:
        raise InvalidInput(problems)
    from safeground.cli.forms import _existing_store

    _existing_store(store)
    try:
        rep = import_placed(store, layer, placed, defaults, file.name, dry_run=dry_run)
    except InvalidInput as exc:
        if problems_csv:
            from safeground.cli.forms import write_problems_csv

            write_problems_csv(exc, problems_csv, overwrite=overwrite, store=store)
        raise
    c = rep.counts
    verb = "would import" if dry_run else "imported"
    console.print(
        f"[green]{verb}[/] {c['create'] + c['update']} record(s) into {layer}: {c['create']} new, "
        f"{c['update']} updated, {c['unchanged']} unchanged (already stored), {c['older']} older than stored"
        + (": " + ", ".join(rep.created[:20]) if rep.created else "")
    )
