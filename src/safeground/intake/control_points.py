"""Ground control points (GCPs) of a scanned paper mine map: the file a clerk writes, read and checked.

The clerk picks ground control points (a road junction, a bridge, a church) whose pixel
position on the scan and whose coordinates are both known. Every bad line of the file is
reported with its line number, field and value, so the file is corrected once.

GCP file (CSV, UTF-8, one header line; lines starting with ``#`` are comments)::

    id,col,row,lon,lat            # world coordinates in WGS 84 degrees
    church,412.5,233.0,47.15123,39.62031
    bridge,1820,960.5,47.17011,39.60877
    ...

or with projected coordinates (the CRS is given to the command, e.g. ``--crs EPSG:32638``)::

    id,col,row,x,y
    church,412.5,233.0,598231.4,4386112.9

A GCP file saved by the QGIS georeferencer (``.points``: a ``#CRS:`` line, then
``mapX,mapY,sourceX,sourceY,enable,…`` with the pixel row negated) is read as it
is; points switched off there (``enable`` 0) are left out.

``col``/``row`` follow GDAL and the QGIS georeferencer: pixel coordinates from
the top-left corner of the image, ``row`` growing downwards; the centre of the
first pixel is (0.5, 0.5). ``id`` is optional (the line number is used).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from pyproj import CRS

from safeground.errors import InvalidInput, Param, Problem
from safeground.intake.textin import decode, refuse_repeated_headers


@dataclass(frozen=True)
class ControlPoint:
    id: str
    col: float
    row: float
    x: float  # in the GCP CRS (lon for geographic)
    y: float


@dataclass
class GcpSet:
    """Control points as read, and the CRS their world coordinates are in."""

    points: list[ControlPoint]
    crs: CRS
    source: str


def read_gcps(path: str | Path, crs: str | None = None) -> GcpSet:
    """Read a GCP CSV file; every bad line is reported with its line number, field and value."""
    path = Path(path)
    src = path.name
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    return parse_gcps(decode(path.read_bytes(), src), src, crs)  # UTF-8, or UTF-16/32 with a byte order mark


def parse_gcps(text: str, src: str = "gcps.csv", crs: str | None = None) -> GcpSet:
    """Parse the text of a GCP CSV file or a QGIS georeferencer ``.points`` file (see the module docstring)."""
    file_crs = None
    for ln in text.splitlines():
        if ln.strip().upper().startswith("#CRS:"):  # QGIS 3 writes the CRS of mapX/mapY here
            file_crs = ln.split(":", 1)[1].strip() or None
    lines = [
        (i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not lines:
        raise InvalidInput([Problem(src, "file", "-", "no header and no control points: the file is empty")])
    try:
        rows = [next(csv.reader([ln]), []) for _, ln in lines]  # line by line: line numbers stay true
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072-character limit
        raise InvalidInput([Problem(src, "file", "-", f"not a readable CSV file: {exc}")]) from None
    header = [h.strip().lower() for h in rows[0]]
    refuse_repeated_headers(header, src, f"line {lines[0][0]} (header)")
    problems: list[Problem] = []
    qgis = {"mapx", "mapy", "sourcex", "sourcey"} <= set(header)
    geographic = {"lon", "lat"} <= set(header)
    projected = {"x", "y"} <= set(header)
    missing = [c for c in ("col", "row") if c not in header]
    if not geographic and not projected:
        missing.append("lon,lat or x,y")
    if missing and not qgis:
        raise InvalidInput(
            [Problem(src, f"line {lines[0][0]} (header)", ", ".join(missing), "missing column(s)", ",".join(header))],
            hint_text=f"the header must be id,col,row,lon,lat (WGS 84) or id,col,row,x,y (with {Param('crs')}), "
            "or a QGIS georeferencer .points file",
        )
    cname, rname, flip = ("sourcex", "sourcey", -1.0) if qgis else ("col", "row", 1.0)  # QGIS: row as -y
    if qgis:
        wx, wy = "mapx", "mapy"
        crs = crs or file_crs
        if crs is None:
            raise InvalidInput(
                [Problem(src, "file", "mapX,mapY", "a QGIS .points file without a #CRS line and no CRS given")],
                hint_text=f"give the CRS of mapX/mapY, e.g. {Param('crs', 'EPSG:32638')}",
            )
    if geographic and crs is None:
        gcp_crs = CRS.from_epsg(4326)
        wx, wy = "lon", "lat"
    else:
        if not qgis:
            wx, wy = ("x", "y") if projected else ("lon", "lat")
        if crs is None:
            raise InvalidInput(
                [Problem(src, "file", "x,y", "projected coordinates but no CRS given")],
                hint_text=f"give the CRS of x,y, e.g. {Param('crs', 'EPSG:32638')} (UTM 38N)",
            )
        try:
            gcp_crs = CRS.from_user_input(crs)
        except Exception as exc:
            raise InvalidInput(
                [Problem("(command line)", str(Param("crs")), "crs", f"unknown CRS: {exc}", crs)]
            ) from None
    idx = {h: i for i, h in enumerate(header)}
    points: list[ControlPoint] = []
    seen: set[str] = set()
    for (lineno, _), values in zip(lines[1:], rows[1:], strict=True):
        item = f"line {lineno}"
        if len(values) != len(header):
            problems.append(
                Problem(src, item, "-", f"{len(values)} values for {len(header)} columns", ",".join(values))
            )
            continue
        if qgis and "enable" in idx and values[idx["enable"]].strip() == "0":
            continue  # switched off in the QGIS georeferencer
        pid = values[idx["id"]].strip() if "id" in idx else ""
        pid = pid or f"line {lineno}"
        nums: dict[str, float] = {}
        for name in (cname, rname, wx, wy):
            raw = values[idx[name]].strip()
            try:
                v = float(raw)
            except ValueError:
                problems.append(Problem(src, item, name, "not a number", raw))
                continue
            if not math.isfinite(v):
                problems.append(Problem(src, item, name, "not a finite number", raw))
                continue
            nums[name] = v
        if len(nums) < 4:
            continue
        nums["col"], nums["row"] = nums.pop(cname), flip * nums.pop(rname)
        if gcp_crs.is_geographic and not (-180 <= nums[wx] <= 180 and -90 <= nums[wy] <= 90):
            problems.append(Problem(src, item, f"{wx},{wy}", "not a longitude/latitude", f"{nums[wx]},{nums[wy]}"))
            continue
        if nums["col"] < -1e6 or nums["row"] < -1e6 or nums["col"] > 1e7 or nums["row"] > 1e7:
            problems.append(
                Problem(src, item, "col,row", "pixel position far outside any scan", (nums["col"], nums["row"]))
            )
            continue
        if pid in seen:
            problems.append(Problem(src, item, "id", "the same control point twice", pid))
            continue
        seen.add(pid)
        points.append(ControlPoint(pid, nums["col"], nums["row"], nums[wx], nums[wy]))
    if problems:
        raise InvalidInput(problems)
    return GcpSet(points, gcp_crs, src)
