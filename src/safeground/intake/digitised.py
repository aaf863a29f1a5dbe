"""Features digitised on a georeferenced scan: read in pixel coordinates, placed on the ground, imported.

A clerk draws the minefield's rows, mines or boundary on the scan (CSV of col,row, or GeoJSON
in pixel coordinates); the fitted transform puts them in WGS 84, and they are imported with
every rule of ``safeground import`` (one transaction, problems naming the digitised row).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from safeground.errors import InvalidInput, Param, Problem
from safeground.intake.georef import Georeference
from safeground.intake.textin import decode, refuse_repeated_headers


@dataclass
class DigitisedFeature:
    item: str  # "line 3" / "feature 2": where it is in the source file
    geometry: BaseGeometry  # pixel space as read, WGS 84 after ``to_world_features``
    properties: dict[str, Any]


def read_digitised(path: str | Path) -> list[DigitisedFeature]:
    """Features digitised on the scan in pixel coordinates: CSV of col,row (+ any columns) or GeoJSON."""
    path = Path(path)
    src = path.name
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    text = decode(path.read_bytes(), src)  # never "errors=replace": a name read wrongly is a wrong name
    if path.suffix.lower() in (".geojson", ".json"):
        return _digitised_geojson(text, src)
    return _digitised_csv(text, src)


def _digitised_csv(text: str, src: str) -> list[DigitisedFeature]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        refuse_repeated_headers([(k or "").strip().lower() for k in reader.fieldnames or []], src)  # read lowercased
        rows = list(reader)
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072-character limit
        raise InvalidInput([Problem(src, f"line {reader.line_num}", "-", f"not a readable CSV: {exc}")]) from None
    if not rows or not {"col", "row"} <= {(k or "").strip().lower() for k in rows[0]}:
        raise InvalidInput([Problem(src, "header", "col,row", "missing column(s): a point CSV needs col and row")])
    out, problems = [], []
    for i, r in enumerate(rows, start=2):
        r = {(k or "").strip().lower(): (v or "").strip() for k, v in r.items() if k is not None}
        raw = f"{r.get('col')},{r.get('row')}"
        try:
            c, w = float(r.pop("col")), float(r.pop("row"))
            if not (math.isfinite(c) and math.isfinite(w)):
                raise ValueError
        except ValueError:
            problems.append(Problem(src, f"line {i}", "col,row", "not a number", raw))
            continue
        out.append(DigitisedFeature(f"line {i}", shapely.Point(c, w), {k: v for k, v in r.items() if v != ""}))
    if problems:
        raise InvalidInput(problems)
    return out


def _digitised_geojson(text: str, src: str) -> list[DigitisedFeature]:
    from safeground.intake.yamlsafe import load_json

    data = load_json(text, src, max_bytes=None)  # depth-bounded: a 100,000-deep document is refused
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list):
        raise InvalidInput([Problem(src, "file", "features", "not a GeoJSON FeatureCollection")])
    out, problems = [], []
    for i, f in enumerate(feats, start=1):
        try:
            geom = shapely.from_geojson(json.dumps(f["geometry"]))
            if geom is None or geom.is_empty:
                raise ValueError("empty geometry")
        except Exception as exc:
            problems.append(Problem(src, f"feature {i}", "geometry", f"not a geometry: {exc}"))
            continue
        props = f.get("properties") or {}
        out.append(DigitisedFeature(f"feature {i}", geom, dict(props) if isinstance(props, dict) else {}))
    if problems:
        raise InvalidInput(problems)
    return out


def to_world_features(geo: Georeference, feats: list[DigitisedFeature]) -> list[DigitisedFeature]:
    """The same features in WGS 84 lon/lat."""
    return [DigitisedFeature(f.item, geo.pixel_to_wgs84(f.geometry), f.properties) for f in feats]


def features_geojson(feats: list[DigitisedFeature]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": f.properties, "geometry": json.loads(shapely.to_geojson(f.geometry))}
            for f in feats
        ],
    }


def import_digitised(
    store: Any,
    layer: str,
    feats: list[DigitisedFeature],
    defaults: dict[str, Any],
    src: str,
    *,
    dry_run: bool = False,
    entered_by: str = "safeground scan features",
) -> Any:
    """Import georeferenced features with every rule of ``safeground import`` (properties over ``defaults``).

    The features are written to a scratch file of the same kind and name as the
    digitised one (a CSV with WKT, or GeoJSON), so problems name the same row or
    feature the user digitised, and the import path does the rest: one
    transaction, references and the area of interest checked, a second run
    skipped as unchanged instead of duplicating. A hazard area without a given
    area gets the area of its polygon (measured in UTM).
    """
    import csv
    import tempfile

    from safeground.geometry.projection import area_m2
    from safeground.intake.features import import_features
    from safeground.model import record_type

    cls = record_type(layer)
    if cls.GEOMETRY is None:
        raise InvalidInput(
            [Problem("(command line)", str(Param("layer")), "layer", "this layer has no geometry", layer)]
        )
    rows = []
    for f in feats:
        data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in {**defaults, **f.properties}.items()}
        if "estimated_area_m2" in cls.model_fields and "estimated_area_m2" not in data:
            data["estimated_area_m2"] = round(area_m2(f.geometry), 1)
            data.setdefault("remaining_area_m2", data["estimated_area_m2"])
        rows.append(data)
    with tempfile.TemporaryDirectory() as tmp:
        if src.lower().endswith(".csv"):
            path = Path(tmp) / src
            names = list(dict.fromkeys(k for r in rows for k in r))
            with path.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow([*names, "geometry_wkt"])
                for r, f in zip(rows, feats, strict=True):
                    w.writerow([*("" if r.get(k) is None else r[k] for k in names),
                                shapely.to_wkt(f.geometry, rounding_precision=-1)])  # fmt: skip
        else:
            path = Path(tmp) / (Path(src).stem + ".geojson")
            fc = {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": r, "geometry": json.loads(shapely.to_geojson(f.geometry))}
                    for r, f in zip(rows, feats, strict=True)
                ],
            }
            path.write_text(json.dumps(fc), encoding="utf-8")
        return import_features(store, layer, path, dry_run=dry_run, entered_by=entered_by)
