"""Where a row of a table is: from its coordinate columns and the declared CRS, or refused.

A spreadsheet does not say which CRS its numbers are in. The rules, in order:

* columns named for what they hold settle the order: ``lon``/``lat`` (decimal
  degrees or degrees-minutes-seconds), ``easting``/``northing`` with a UTM
  ``zone`` column or option, ``mgrs``, ``geometry_wkt``;
* plain ``x``/``y`` columns need a declared CRS (``--crs``): degree-sized numbers
  fit both lon/lat and lat/lon, and metre-sized numbers fit every UTM zone;
* ``lat``/``lon`` with a declared projected CRS, or UTM numbers with no zone, are refused.

Nothing is guessed silently: every refusal says what to declare.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from safeground.errors import InvalidInput, Param, Problem
from safeground.intake.coords import (
    UTM_RANGE,
    CoordinateError,
    not_utm,
    parse_angle,
    parse_mgrs,
    parse_utm_zone,
    utm_to_lonlat,
)

_NAMES = {
    "wkt": ("geometry_wkt", "wkt", "geom_wkt", "geometry"),
    "lon": ("lon", "long", "longitude", "lng", "lon_dd", "longitude_dd"),
    "lat": ("lat", "latitude", "lat_dd", "latitude_dd"),
    "mgrs": ("mgrs", "mgrs_grid", "mgrs_ref", "grid_ref", "grid_reference"),
    "easting": ("easting", "utm_easting", "utm_e", "east"),
    "northing": ("northing", "utm_northing", "utm_n", "north"),
    "zone": ("zone", "utm_zone", "utmzone"),
    "x": ("x", "x_coord", "coord_x"),
    "y": ("y", "y_coord", "coord_y"),
}


@dataclass
class Locator:
    """How the rows of one table are located; decided once per file from header and options."""

    kind: str  # wkt | lonlat | xy | utm | mgrs
    columns: dict[str, str]
    crs: CRS | None = None
    utm_zone: str | None = None
    utm_letter: str | None = None
    region: tuple[float, float, float, float] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def consumed(self) -> set[str]:
        return set(self.columns.values())


def plan(
    columns: list[str],
    coordinates: dict[str, Any],
    declared_crs: str | None,
    src: str,
    region: tuple[float, float, float, float] | None,
) -> Locator:
    """Decide from the header (and mapping/options) how rows are located, or refuse the file."""
    opts = {k: v for k, v in coordinates.items() if v is not None}
    crs_text = declared_crs or opts.pop("crs", None)
    crs = _crs(crs_text, src) if crs_text else None
    lower = {c.strip().lower(): c for c in columns}
    found: dict[str, str] = {}
    _refuse_ambiguous(columns, opts, src)
    for role, names in _NAMES.items():
        if role in opts:
            col = str(opts[role])
            if col not in columns:
                raise InvalidInput(
                    [
                        Problem(
                            src,
                            "row 1",
                            col,
                            f"the mapping names column {col!r} for {role}, but the table has no such column",
                        )
                    ]
                )
            found[role] = col
            continue
        hit = next((lower[n] for n in names if n in lower), None)
        if hit is not None:
            found[role] = hit
    zone_opt = opts.get("utm_zone")
    letter = opts.get("utm_letter")
    loc: Locator
    if "wkt" in found:
        loc = Locator("wkt", {"wkt": found["wkt"]}, crs)
    elif "lon" in found and "lat" in found:
        if crs is not None and not crs.is_geographic:
            raise _refuse(
                src,
                "lon/lat",
                f"the columns are named lon/lat but the declared CRS {crs.name} is projected",
                "declare a geographic CRS (e.g. EPSG:4326) or name the columns x/y or easting/northing",
            )
        loc = Locator("lonlat", {"lon": found["lon"], "lat": found["lat"]}, crs)
    elif "mgrs" in found:
        loc = Locator("mgrs", {"mgrs": found["mgrs"]})
    elif "easting" in found and "northing" in found:
        cols = {"easting": found["easting"], "northing": found["northing"]}
        detected = None
        if "zone" in found:
            cols["zone"] = found["zone"]
        elif zone_opt is None and (crs is None or crs.is_geographic):
            zone_opt = _zone_of_region(region)
            if zone_opt is None:
                raise _refuse(
                    src,
                    "easting/northing",
                    "UTM easting/northing without a zone fit 60 zones and two hemispheres"
                    + ("; the store's area of interest spans more than one" if region else ""),
                    f"add a zone column (e.g. 38T or 38N), give {Param('utm_zone', '38N')}, declare "
                    f"{Param('crs', 'EPSG:32638')}, or set "
                    "the store's area of interest (safeground db area) so the zone can be detected",
                )
            detected = f"{zone_opt[:-1]} {'north' if zone_opt.endswith('N') else 'south'}"
        loc = Locator("utm", cols, crs, str(zone_opt) if zone_opt is not None else None, letter)
        if detected:
            loc.notes.append(f"no UTM zone given: zone {detected}, the only one the store's area of interest lies in")
    elif "x" in found and "y" in found:
        if crs is None:
            raise _refuse(
                src, "x/y",
                "the table has x/y columns and no declared CRS: degree-sized numbers fit both lon/lat and lat/lon, "
                "and metre-sized numbers fit every projected system",
                f"declare the CRS with {Param('crs')} (e.g. {Param('crs', 'EPSG:4326')} for x=longitude, y=latitude, "
                f"or {Param('crs', 'EPSG:32638')})",
            )  # fmt: skip
        loc = Locator("xy", {"x": found["x"], "y": found["y"]}, crs)
    else:
        lonish = [c for c in columns if c.strip().lower() in _NAMES["lon"] + _NAMES["lat"]]
        raise InvalidInput(
            [Problem(src, "row 1", "coordinates",
                     "no coordinate columns found" + (f" (only {', '.join(lonish)})" if lonish else "")
                     + f"; the table has: {', '.join(columns)}")],
            hint_text="name them lon/lat, easting/northing + zone, mgrs or x/y, or map them with a field mapping",
        )  # fmt: skip
    loc.region = region
    return loc


def _refuse_ambiguous(columns: list[str], opts: dict[str, Any], src: str) -> None:
    """Two columns that could both be the latitude (``lat`` and ``Lat``, ``latitude`` and ``lat``): refused.

    Taking one silently put a find 4.4 km from where the other said; which one is right
    only the author of the file knows. A mapping that names the column settles it.
    """
    problems = []
    for role, names in _NAMES.items():
        if role in opts:
            continue
        hits = [c for c in columns if c.strip().lower() in names]
        if len(hits) > 1:
            shown = " and ".join(repr(c) for c in hits)
            problems.append(
                Problem(src, "row 1", "/".join(hits), f"{shown} could each be the {_ROLE_WORD.get(role, role)}")
            )
    if problems:
        raise InvalidInput(
            problems,
            hint_text="remove or rename the column that is not the position, or name the right one in a field "
            "mapping (coordinates: {lat: <column>, lon: <column>})",
        )


_ROLE_WORD = {"wkt": "geometry", "lon": "longitude", "lat": "latitude", "mgrs": "MGRS reference",
              "easting": "UTM easting", "northing": "UTM northing", "zone": "UTM zone", "x": "x coordinate",
              "y": "y coordinate"}  # fmt: skip

#: WKT/GeoJSON nesting deeper than this is refused before GEOS parses it (a multipolygon needs 3;
#: a 100,000-deep geometry collection crashed the parser)
MAX_GEOMETRY_DEPTH = 16


def geometry_depth(text: str) -> int:
    """The deepest bracket nesting of a WKT or GeoJSON text, counted without parsing it."""
    data = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    step = np.isin(data, (40, 91, 123)).astype(np.int32) - np.isin(data, (41, 93, 125)).astype(np.int32)
    return int(np.cumsum(step).max(initial=0))


def _zone_of_region(region: tuple[float, float, float, float] | None) -> str | None:
    """The UTM zone (``38N``; ``38M`` for south, a latitude band south of the equator) holding the
    whole area of interest, or None when there is none or it spans two zones or the equator.

    Rows are then still checked against the area: a point the zone puts outside it is refused.
    """
    if region is None:
        return None
    west, south, east, north = region
    zones = {int((lon + 180.0) // 6.0) % 60 + 1 for lon in (west, east - 1e-9)}
    if len(zones) != 1 or (south < 0 < north):
        return None
    return f"{zones.pop()}{'N' if south >= 0 else 'M'}"


def _crs(text: str, src: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except Exception as exc:  # pyproj raises CRSError for every unknown code
        raise InvalidInput(
            [Problem("(command line)", str(Param("crs")), "crs", f"not a known CRS ({exc})", text)]
        ) from None


def _refuse(src: str, field_: str, reason: str, hint: str) -> InvalidInput:
    return InvalidInput([Problem(src, "file", field_, reason)], hint_text=hint)


def _numbers(series: pd.Series) -> np.ndarray:
    return np.array(pd.to_numeric(series, errors="coerce"), dtype=float)  # a writable copy


def locate(frame: pd.DataFrame, items: list[str], loc: Locator, src: str) -> tuple[np.ndarray, list[Problem]]:
    """Point (or WKT) geometries in WGS 84 for every row; ``None`` where a problem was found."""
    n = len(frame)
    out = np.full(n, None, dtype=object)
    problems: list[Problem] = []
    if loc.kind == "wkt":
        col = loc.columns["wkt"]
        for i, v in enumerate(frame[col].tolist()):
            if v is None:
                problems.append(Problem(src, items[i], col, "no geometry"))
                continue
            text = str(v).strip()
            depth = geometry_depth(text)
            limit = MAX_GEOMETRY_DEPTH + (4 if text.startswith("{") else 0)  # GeoJSON adds its object levels
            if depth > limit:
                why = f"geometry nested {depth} levels deep (at most {MAX_GEOMETRY_DEPTH}): not one SafeGround stores"
                problems.append(Problem(src, items[i], col, why, text[:40]))
                continue
            try:
                out[i] = shapely.from_geojson(text) if text.startswith("{") else shapely.from_wkt(text)
            except (shapely.errors.GEOSException, ValueError, json.JSONDecodeError) as exc:
                problems.append(Problem(src, items[i], col, f"not a WKT/GeoJSON geometry ({exc})", v))
        return _reproject(out, loc.crs, src, problems), problems
    if loc.kind == "mgrs":
        col = loc.columns["mgrs"]
        for i, v in enumerate(frame[col].tolist()):
            if v is None:
                problems.append(Problem(src, items[i], col, "no MGRS reference"))
                continue
            try:
                out[i] = shapely.Point(*parse_mgrs(v))
            except CoordinateError as exc:
                problems.append(Problem(src, items[i], col, exc.message, v))
        return out, problems
    if loc.kind == "lonlat":
        x = _angles(frame, loc.columns["lon"], "lon", items, src, problems)
        y = _angles(frame, loc.columns["lat"], "lat", items, src, problems)
        ok = np.isfinite(x) & np.isfinite(y)
        out[ok] = shapely.points(x[ok], y[ok])
        return _reproject(out, loc.crs, src, problems), problems
    if loc.kind == "xy":
        x = _plain(frame, loc.columns["x"], items, src, problems)
        y = _plain(frame, loc.columns["y"], items, src, problems)
        ok = np.isfinite(x) & np.isfinite(y)
        out[ok] = shapely.points(x[ok], y[ok])
        return _reproject(out, loc.crs, src, problems), problems
    # UTM
    e = _plain(frame, loc.columns["easting"], items, src, problems)
    nn = _plain(frame, loc.columns["northing"], items, src, problems)
    if "zone" in loc.columns:
        zcol = loc.columns["zone"]
        zones = frame[zcol].tolist()
    elif loc.utm_zone is not None:
        zcol, zones = str(Param("utm_zone")), [loc.utm_zone] * n
    else:  # a projected CRS was declared
        ok = np.isfinite(e) & np.isfinite(nn)
        out[ok] = shapely.points(e[ok], nn[ok])
        return _reproject(out, loc.crs, src, problems), problems
    groups: dict[Any, list[int]] = {}
    outside = not_utm(e, nn)
    for i, z in enumerate(zones):
        if not (np.isfinite(e[i]) and np.isfinite(nn[i])):
            continue
        if outside[i]:  # the row's own numbers, so the clerk finds the one bad row among thousands
            problems.append(
                Problem(src, items[i], f"{loc.columns['easting']}/{loc.columns['northing']}",
                        f"not a UTM coordinate ({UTM_RANGE})", f"{float(e[i]):.10g} / {float(nn[i]):.10g}")
            )  # fmt: skip
            continue
        if z is None:
            problems.append(Problem(src, items[i], zcol, "no UTM zone"))
            continue
        groups.setdefault(str(z), []).append(i)
    for z, idx in groups.items():
        try:
            zone, south = parse_utm_zone(z, letter_means=loc.utm_letter)  # type: ignore[arg-type]
        except CoordinateError as exc:
            problems += [Problem(src, items[i], zcol, exc.message, z) for i in idx]
            continue
        ix = np.asarray(idx)
        try:
            if south is None:
                south = _hemisphere_from_region(z, zone, e[ix], nn[ix], loc.region)
            lon, lat = utm_to_lonlat(e[ix], nn[ix], zone, south)
        except CoordinateError as exc:
            problems += [Problem(src, items[i], zcol, exc.message, z) for i in idx]
            continue
        out[ix] = shapely.points(lon, lat)
    return out, problems


def _hemisphere_from_region(
    label: str, zone: int, e: np.ndarray, n: np.ndarray, region: tuple[float, float, float, float] | None
) -> bool:
    """Settle north/south of an ambiguous zone label by the store's area of interest, or refuse."""
    why = (
        f"UTM zone {label!r} does not say the hemisphere"
        if label.strip().isdigit()
        else f"UTM zone {label!r} is ambiguous: latitude band S (north of the equator) or 'south'"
    )
    if region is None:
        raise CoordinateError(
            why + f"; set utm_letter: band or hemisphere in the mapping ({Param('utm_letter')}), or write 38N / 38T"
        )
    fits = []
    for south in (False, True):
        lon, lat = utm_to_lonlat(e, n, zone, south)
        minx, miny, maxx, maxy = region
        if np.all((lon >= minx - 0.5) & (lon <= maxx + 0.5) & (lat >= miny - 0.5) & (lat <= maxy + 0.5)):
            fits.append(south)
    if len(fits) != 1:
        raise CoordinateError(why + "; neither reading falls in the store's area of interest")
    return fits[0]


def _angles(
    frame: pd.DataFrame, col: str, axis: str, items: list[str], src: str, problems: list[Problem]
) -> np.ndarray:
    raw = frame[col]
    values = _numbers(raw)
    todo = np.flatnonzero(~np.isfinite(values))
    cells = raw.to_numpy(dtype=object)
    for i in todo:
        v = cells[i]
        if v is None:
            problems.append(Problem(src, items[i], col, "no " + ("latitude" if axis == "lat" else "longitude")))
            continue
        try:
            values[i] = parse_angle(v, axis)  # type: ignore[arg-type]
        except CoordinateError as exc:
            problems.append(Problem(src, items[i], col, exc.message, v))
            values[i] = np.nan
    return values


def _plain(frame: pd.DataFrame, col: str, items: list[str], src: str, problems: list[Problem]) -> np.ndarray:
    raw = frame[col]
    values = _numbers(raw)
    cells = raw.to_numpy(dtype=object)
    for i in np.flatnonzero(~np.isfinite(values)):
        v = cells[i]
        problems.append(Problem(src, items[i], col, "no value" if v is None else "not a number", v))
    return values


def _reproject(geoms: np.ndarray, crs: CRS | None, src: str, problems: list[Problem]) -> np.ndarray:
    if crs is None or crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return geoms
    present = np.array([g is not None for g in geoms], dtype=bool)
    if present.any():
        t = Transformer.from_crs(crs, 4326, always_xy=True)
        geoms[present] = shapely.transform(geoms[present], lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return geoms


#: how far (degrees) outside the store's area of interest a saved position may lie, as the importers allow
AREA_MARGIN_DEG = 0.5


def refuse_outside_area(store: Any, geometries: list[Any], what: str) -> None:
    """Raise ``OutsideArea`` when a geometry to be saved lies beyond the store's area of interest.

    Every path that saves positions checks this (the table importers per row, the form
    import per submission, ``maps traverse --save`` here): a record drawn from a start
    point with latitude and longitude swapped lands in another country, and a store
    of one district must not silently hold it. A store without an area of interest
    has nothing to check against.
    """
    from safeground.errors import OutsideArea

    aoi = store.area_of_interest()
    if not aoi:
        return
    minx, miny, maxx, maxy = aoi
    m = AREA_MARGIN_DEG
    area = shapely.box(minx - m, miny - m, maxx + m, maxy + m)
    for geom in geometries:
        if geom is None or geom.is_empty or area.contains(geom):
            continue
        c = geom.centroid
        swapped = area.contains(shapely.Point(c.y, c.x))
        raise OutsideArea(
            f"{what}: position {c.x:.5f}, {c.y:.5f} (lon, lat) lies outside this store's area of interest "
            f"(lon {minx:.2f}…{maxx:.2f}, lat {miny:.2f}…{maxy:.2f}); nothing was saved"
            + ("; latitude and longitude look swapped" if swapped else ""),
            hint="swap lon and lat of the reference point in the record"
            if swapped
            else "check the coordinates, or save it into the store of that region",
        )
