"""Exports: GeoPackage and GeoJSON for GIS, KML for Google Earth, CSV with HXL hashtags for HDX.

Restricted layers (victims' identities, human remains, the ground truth) and
restricted fields are left out unless the caller asks for them explicitly. Exact
positions of mines and accidents are restricted too: without the explicit request
the layer is aggregated to its 1 km grid cells (the same grid the public reports
use): one point per cell at the cell's centre, with how many records it holds and
of which types. Stacking every record on its cell centre would look like one
point in Google Earth while hiding hundreds, and each stacked record would still
carry its own fields; a count per cell says what is there and no more, so an
export for HDX cannot lead anyone to a mine.
Every export with exact positions can be imported back unchanged (``safeground
import``): columns keep SafeGround's field names, nested fields are JSON text, and
the CSV carries the geometry as WKT in full precision (plus lon/lat for points).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from safeground import tabular
from safeground.errors import InvalidInput, Problem
from safeground.geometry.generalise import PUBLIC_GRID_M, cell_centres
from safeground.storage.base import Store
from safeground.storage.schema import layout_of

FORMATS = {
    "gpkg": ("GPKG", ".gpkg"),
    "geojson": ("GeoJSON", ".geojson"),
    "kml": ("LIBKML", ".kml"),
    "csv": ("CSV", ".csv"),
}

#: HXL hashtags (https://hxlstandard.org) for the fields HDX users look for; others get #meta+<field>
_HXL = {
    "uid": "#meta+id",
    "date_of_information": "#date+reported",
    "entered_by": "#meta+entered_by",
    "name": "#loc+name",
    "status": "#status",
    "classification": "#status+class",
    "contamination": "#impact+type",
    "eo_type": "#item+type",
    "device_type": "#item+type",
    "accident_date": "#date+occurred",
    "estimated_area_m2": "#indicator+area_m2",
    "remaining_area_m2": "#indicator+remaining_m2",
    "organisation_uid": "#org+id",
    "admin_area_uid": "#adm2+code",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
    "geometry_wkt": "#geo+wkt",
}


def hxl_tag(name: str) -> str:
    return _HXL.get(name, f"#meta+{name.lower()}")


def export_layer(
    store: Store, layer: str, out: Path, *, fmt: str | None = None, include_restricted: bool = False
) -> tuple[int, list[str]]:
    """Write the current records of one layer; returns (records written, restricted fields left out)."""
    from safeground.intake.features import record_type_for

    cls = record_type_for(layer)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    fmt = {"json": "geojson", "kmz": "kml"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise InvalidInput(
            [Problem("(command line)", "--format", "format", f"choose one of: {', '.join(FORMATS)}", fmt)]
        )
    if cls.RESTRICTED and not include_restricted:
        raise InvalidInput(
            [Problem("(command line)", "layer", "layer", "is restricted (identities or exact positions)", layer)],
            hint_text="add --include-restricted only for an authorised, protected destination",
        )
    lay = layout_of(cls)
    frame = store.read_frame(cls)
    left_out = [] if include_restricted else [c.name for c in lay.columns if c.restricted]
    frame = frame.drop(columns=[c for c in left_out if c in frame.columns])
    cols = [c.name for c in lay.columns if c.name in frame.columns]
    if cls.SENSITIVE_POSITION and not include_restricted and len(frame):
        frame = _per_cell(store, frame, layer)
        cols = [c for c in frame.columns if c != "geometry"]
        left_out.append(
            f"exact positions and individual records (aggregated: one point per {PUBLIC_GRID_M / 1000:g} km cell "
            "with the number of records and their types)"
        )
    for c in lay.columns:
        if c.name in frame.columns and c.kind in ("date", "datetime"):
            frame[c.name] = frame[c.name].map(lambda v: None if v is None else str(v))
        if c.name in frame.columns and c.kind == "json":
            frame[c.name] = frame[c.name].map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    if fmt == "csv":
        _write_csv(frame, cols, out, cls.GEOMETRY is not None)
        return len(frame), left_out
    driver = FORMATS[fmt][0]
    if cls.GEOMETRY is None:
        raise InvalidInput(
            [Problem("(command line)", "--format", "format", f"{layer} has no geometry: export it as csv")]
        )
    if driver == "LIBKML" and "LIBKML" not in pyogrio.list_drivers(write=True):
        driver = "KML"
    frame = frame[[*cols, "geometry"]]
    opts = {"layer": layer} if fmt in ("gpkg", "kml") else {}
    kwargs = {"COORDINATE_PRECISION": 17} if fmt == "geojson" else {}  # exact round trip of doubles
    pyogrio.write_dataframe(frame, out, driver=driver, **opts, **kwargs)
    return len(frame), left_out


#: per layer, the field whose values a public cell counts (what kind of thing is there)
_TYPE_FIELD = {"eo_items": "eo_type", "accidents": "device_type"}


def _per_cell(store: Store, frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """One point per public grid cell at its centre: how many records it holds and of which types."""
    from safeground.storage.base import metric_epsg

    epsg = metric_epsg(store, frame)
    m = frame.to_crs(epsg)
    m = m[~(m.geometry.isna() | m.geometry.is_empty).to_numpy()]
    xy = shapely.get_coordinates(m.geometry.representative_point().to_numpy())
    centres = cell_centres(xy)
    key = [f"E{x:.0f} N{y:.0f}" for x, y in centres]
    kind = _TYPE_FIELD.get(layer)
    types = m[kind].astype(str).to_numpy() if kind in m else np.full(len(m), "records")
    rows: dict[str, dict[str, object]] = {}
    for k, c, t in zip(key, centres, types, strict=True):
        r = rows.setdefault(k, {"cell": k, "count": 0, "types": {}, "x": c[0], "y": c[1]})
        r["count"] = int(r["count"]) + 1  # type: ignore[call-overload]
        r["types"][t] = r["types"].get(t, 0) + 1  # type: ignore[index, union-attr]
    noun = {"eo_items": "items", "accidents": "accidents"}.get(layer, "records")
    out = pd.DataFrame(
        {
            "name": [f"{r['count']} {noun}" for r in rows.values()],  # the label Google Earth shows
            "cell": [r["cell"] for r in rows.values()],
            "count": [r["count"] for r in rows.values()],
            "types": [
                ", ".join(f"{t.replace('_', ' ')}: {n}" for t, n in sorted(r["types"].items(), key=lambda kv: -kv[1]))  # type: ignore[union-attr]
                for r in rows.values()
            ],
        }
    )
    pts = shapely.points([r["x"] for r in rows.values()], [r["y"] for r in rows.values()])
    return gpd.GeoDataFrame(out, geometry=pts, crs=epsg).to_crs(4326)


def _write_csv(frame: object, cols: list[str], out: Path, has_geom: bool) -> None:
    header = list(cols)
    if has_geom:
        header += ["lon", "lat", "geometry_wkt"]
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = tabular.writer(fh)  # text that would start a spreadsheet formula is neutralised
        w.writerow(header)
        w.writerow([hxl_tag(h) for h in header])
        data = [frame[c].tolist() for c in cols]  # type: ignore[index]
        geoms = frame.geometry.to_numpy() if has_geom else None  # type: ignore[attr-defined]
        wkts = shapely.to_wkt(geoms, rounding_precision=-1) if has_geom else None
        for i in range(len(frame)):  # type: ignore[arg-type]
            row = ["" if d[i] is None or (isinstance(d[i], float) and d[i] != d[i]) else d[i] for d in data]
            if has_geom:
                g = geoms[i]  # type: ignore[index]
                pt = g is not None and g.geom_type == "Point"
                row += [repr(g.x) if pt else "", repr(g.y) if pt else "", wkts[i]]  # type: ignore[index]
            w.writerow(row)
