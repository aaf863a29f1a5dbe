"""Scanned paper maps as an application: fit control points, write the georeferenced scan, place what was
digitised on it and import it.

A fit that is too rough, or control points left out that do not exist, are refused with errors that
carry what the caller needs to show them (the fit and its residuals, the ids there are), so that each
front-end can say which of its own options to change. The geometry is :mod:`safeground.intake.georef`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeground.errors import SafeGroundError
from safeground.outputs import guard_output, staged_file, write_text

if TYPE_CHECKING:
    from safeground.intake.digitised import DigitisedFeature
    from safeground.intake.georef import Georeference


class UnknownControlPoints(SafeGroundError):
    """Control points asked to be left out are not in the file."""

    def __init__(self, unknown: list[str], source: str, known: list[str]) -> None:
        super().__init__(
            f"no such control point in {source}: {', '.join(unknown)}",
            hint="the ids are in the first column: " + ", ".join(known),
        )
        self.unknown, self.source, self.known = unknown, source, known


class FitTooRough(SafeGroundError):
    """The fit's RMS error is above the limit the user set: nothing is written."""

    def __init__(self, georeference: Georeference, max_rms_m: float) -> None:
        geo = georeference
        super().__init__(
            f"RMS error {geo.rms_m:.2f} m is above the limit of {max_rms_m:g} m: nothing written "
            f"(worst control point: {geo.worst})",
            hint=f"check {geo.worst}'s pixel position and coordinates, or leave it out",
        )
        self.georeference, self.max_rms_m = geo, max_rms_m


def fit_control_points(
    gcps: Path,
    crs: str | None = None,
    method: str = "auto",
    exclude: list[str] | None = None,
    max_rms_m: float | None = None,
) -> Georeference:
    """The transform of a scan from its control points (``exclude`` left out); refused above ``max_rms_m``."""
    from safeground.intake.control_points import read_gcps
    from safeground.intake.georef import fit

    if method not in ("affine", "polynomial", "auto"):
        raise SafeGroundError(f"unknown transform {method!r}", hint="use affine, polynomial or auto")
    points = read_gcps(gcps, crs)
    if exclude:
        unknown = sorted(set(exclude) - {p.id for p in points.points})
        if unknown:
            raise UnknownControlPoints(unknown, gcps.name, [p.id for p in points.points])
        points = replace(points, points=[p for p in points.points if p.id not in exclude])
    geo = fit(points, method)  # type: ignore[arg-type]
    if max_rms_m is not None and geo.rms_m > max_rms_m:
        raise FitTooRough(geo, max_rms_m)
    return geo


@dataclass(frozen=True)
class GeoreferencedScan:
    georeference: Georeference
    out: Path
    width: int
    height: int
    resampled: bool  # resampled north-up, or pixels kept with a rotated geotransform


def georeference_scan(
    image: Path,
    gcps: Path,
    out: Path,
    *,
    crs: str | None = None,
    method: str = "auto",
    exclude: list[str] | None = None,
    max_rms_m: float | None = None,
    residuals: Path | None = None,
    overwrite: bool = False,
) -> GeoreferencedScan:
    """A scanned map (PNG, JPEG, TIFF) as a GeoTIFF in ``out`` from its control points, and with ``residuals``
    the residual table as CSV."""
    from safeground.intake.georef import residuals_csv
    from safeground.intake.geotiff import read_scan, write_geotiff

    for path in (out, residuals):
        if path:
            guard_output(path, overwrite=overwrite)
    pixels = read_scan(image)
    geo = fit_control_points(gcps, crs, method, exclude, max_rms_m)
    with staged_file(out, overwrite=overwrite) as tmp:
        info = write_geotiff(geo, pixels, tmp)
    if residuals:
        write_text(residuals, residuals_csv(geo), overwrite=overwrite)
    return GeoreferencedScan(geo, out, info["width"], info["height"], bool(info["resampled"]))


@dataclass(frozen=True)
class PlacedFeatures:
    georeference: Georeference
    features: list[DigitisedFeature]  # in WGS 84
    out: Path | None


def place_digitised(
    georeference: Georeference,
    file: Path,
    *,
    out: Path | None = None,
    store: str | None = None,
    overwrite: bool = False,
) -> PlacedFeatures:
    """Features digitised on a scan (pixel CSV or GeoJSON) in WGS 84 by a fit of its control points
    (:func:`fit_control_points`, apart so that the fit can be shown and checked first), and with ``out``
    written there as GeoJSON (never over ``store``)."""
    from safeground.intake.digitised import features_geojson, read_digitised, to_world_features

    feats = to_world_features(georeference, read_digitised(file))
    if out:
        write_text(out, json.dumps(features_geojson(feats)), overwrite=overwrite, store_location=store)
    return PlacedFeatures(georeference, feats, out)


def import_placed(
    store: str, layer: str, placed: PlacedFeatures, defaults: dict[str, Any], source: str, *, dry_run: bool = False
) -> Any:
    """The placed features into ``layer`` with every rule of an import (``defaults`` for every feature), all or
    nothing; apart from :func:`place_digitised` so that what was placed can be shown before it is stored."""
    from safeground.intake.digitised import import_digitised
    from safeground.storage import open_store

    with open_store(store) as s:
        return import_digitised(s, layer, placed.features, defaults, source, dry_run=dry_run)
