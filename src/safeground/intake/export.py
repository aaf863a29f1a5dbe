"""Exports: GeoPackage and GeoJSON for GIS, KML for Google Earth, CSV with HXL hashtags for HDX.

What an export holds is decided by its :class:`~safeground.access.Audience`
through the one policy of :mod:`safeground.access.policy`: below the restricted
audience, restricted layers (victims' identities, human remains, the ground truth)
are refused, restricted fields are left out, exact positions of mines and
accidents are aggregated to their 1 km grid cells (one point per cell at its
centre, with how many records it holds and of which types), minefield rows are
left out, hazard areas opened by an accident are drawn as the cells they touch,
and victims become k-anonymous rows, so an export for HDX cannot lead anyone to a
mine or a person.
Every export with exact positions can be imported back unchanged (``safeground
import``): columns keep SafeGround's field names, nested fields are JSON text, and
the CSV carries the geometry as WKT in full precision (plus lon/lat for points).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import shapely

from safeground import tabular
from safeground.access.audience import Audience
from safeground.access.policy import may_read_layer, view
from safeground.errors import InvalidInput, Param, Problem
from safeground.model import record_type
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
    store: Store, layer: str, out: Path, *, fmt: str | None = None, audience: Audience = Audience.PUBLIC
) -> tuple[int, list[str]]:
    """Write the current records of one layer as ``audience`` may read them (:func:`safeground.access.view`);
    returns (records written, what was left out or generalised, in words)."""
    cls = record_type(layer)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    fmt = {"json": "geojson", "kmz": "kml"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise InvalidInput(
            [Problem("(command line)", str(Param("format")), "format", f"choose one of: {', '.join(FORMATS)}", fmt)]
        )
    if not may_read_layer(cls, audience):
        raise InvalidInput(
            [Problem("(command line)", "layer", "layer", "is restricted (identities or exact positions)", layer)],
            hint_text=f"add {Param('include_restricted')} only for an authorised, protected destination",
        )
    lay = layout_of(cls)
    seen = view(store, cls, audience)
    frame, cols, left_out = seen.frame, seen.columns, seen.left_out
    has_geom = cls.GEOMETRY is not None and "geometry" in frame
    for c in lay.columns:
        if c.name in frame.columns and c.kind in ("date", "datetime"):
            frame[c.name] = frame[c.name].map(lambda v: None if v is None else str(v))
        if c.name in frame.columns and c.kind == "json":
            frame[c.name] = frame[c.name].map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    if fmt == "csv":
        _write_csv(frame, cols, out, has_geom)
        return len(frame), left_out
    driver = FORMATS[fmt][0]
    if not has_geom:
        raise InvalidInput(
            [Problem("(command line)", str(Param("format")), "format", f"{layer} has no geometry: export it as csv")]
        )
    if driver == "LIBKML" and "LIBKML" not in pyogrio.list_drivers(write=True):
        driver = "KML"
    frame = frame[[*cols, "geometry"]]
    opts = {"layer": layer} if fmt in ("gpkg", "kml") else {}
    kwargs = {"COORDINATE_PRECISION": 17} if fmt == "geojson" else {}  # exact round trip of doubles
    pyogrio.write_dataframe(frame, out, driver=driver, **opts, **kwargs)
    return len(frame), left_out


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
