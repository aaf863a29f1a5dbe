"""OpenStreetMap roads, paths, rivers, settlements and cemeteries from an ``.osm.pbf`` extract.

Routes (``safeground.routing``) walk the ``infrastructure_lines`` of kind ``road``
and ``path``; the village map (``safeground.reports.village_map``) draws roads,
paths, rivers and canals, and finds its settlement or cemetery among the
``infrastructure_areas`` (a cemetery belongs to the settlement named in its
``settlement`` field). This module fills exactly those from OpenStreetMap, so a
national authority gets routes and village maps for its whole country from a
Geofabrik extract without writing any code.

The extract is read with GDAL's OSM driver through pyogrio (layers ``lines``,
``points`` and ``multipolygons``), tags mapped as follows:

* ``highway=*``: walkable roads (``motorway``/``trunk`` … ``service``) → ``road``;
  ``track``, ``path``, ``footway``, ``bridleway``, ``steps``, ``pedestrian``,
  ``cycleway`` → ``path``; ``motorway`` (fenced, not walkable), ``proposed``,
  ``construction``, ``platform`` … are left out and counted;
* ``waterway=river|stream`` → ``river``; ``canal|ditch|drain`` → ``canal``;
* ``place=city|town|village|hamlet|isolated_dwelling`` with a name → a
  ``settlement`` area: the place's own polygon when OSM maps it as an area, else
  the ``landuse=residential`` polygons at its node, else (OSM has only the point)
  a circle whose radius depends on the kind of place, said in the report;
* ``landuse=cemetery`` / ``amenity=grave_yard`` (areas, or nodes drawn as a
  30 m circle) → ``cemetery``, belonging to the nearest settlement within 3 km;
  an unnamed one is called after it ("Qarakend cemetery").

Identifiers come from the OSM ids (``INL-OSM-W5002`` for way 5002, ``INA-OSM-N1000``
for a node's settlement), so importing a newer extract updates the features it
changed and duplicates nothing. With an area of interest in the store, features
that do not reach it are left out and counted. The date of information is the
extract file's date (the day it was downloaded or cut).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from safeground.errors import InvalidInput, Problem
from safeground.geometry.projection import project, utm_epsg
from safeground.intake.commit import WritePlan, commit
from safeground.model import InfrastructureArea, InfrastructureLine
from safeground.model.base import Record
from safeground.storage.base import Store

ROADS = {
    "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
    "unclassified", "residential", "living_street", "service", "road", "busway",
}  # fmt: skip
PATHS = {"track", "path", "footway", "bridleway", "steps", "pedestrian", "cycleway"}
WATERWAYS = {"river": "river", "stream": "river", "canal": "canal", "ditch": "canal", "drain": "canal"}
#: radius (m) of the circle drawn for a place OSM has only as a point, by kind of place
PLACE_RADIUS_M = {"city": 3000.0, "town": 1200.0, "village": 400.0, "hamlet": 150.0, "isolated_dwelling": 50.0}
GRAVE_YARD_NODE_RADIUS_M = 30.0
#: a cemetery belongs to the nearest settlement within this distance
CEMETERY_TO_SETTLEMENT_M = 3000.0
#: residential polygons this close to a place node are its settlement's area
RESIDENTIAL_NEAR_M = 100.0
ENTERED_BY = "osm import"

_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


@dataclass
class OsmImport:
    """What an extract gave: the records, and what was left out and why (nothing is dropped silently)."""

    source: str
    records: list[Record] = field(default_factory=list)
    imported: Counter[str] = field(default_factory=Counter)  # "road", "settlement" … → number
    outside: Counter[str] = field(default_factory=Counter)  # same keys: left out, outside the area of interest
    skipped: Counter[str] = field(default_factory=Counter)  # reason → number
    notes: list[str] = field(default_factory=list)
    plan: WritePlan | None = None

    def summary(self) -> str:
        plural = {"cemetery": "cemeteries"}
        parts = [f"{n:,} {k if n == 1 else plural.get(k, k + 's')}" for k, n in sorted(self.imported.items())]
        return ", ".join(parts) or "nothing"


def tags(other: Any) -> dict[str, str]:
    """GDAL's ``other_tags`` column (``"k"=>"v","k2"=>"v2"``) as a dict."""
    if not isinstance(other, str):
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _HSTORE.findall(other)}


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


class _Extract:
    """Reads the layers of one extract with GDAL, through an uncompressed copy if GDAL needs one.

    The GDAL of pyogrio's wheels (3.12) fails with "An error occurred during the parsing of data
    around byte N" on valid extracts whose zlib-compressed blocks are large (osmium's default
    output, as Geofabrik's), while it reads the same blocks stored uncompressed. Such a file is
    then copied block by block with the zlib data inflated (``_inflate_pbf``: only the PBF
    framing is touched, the OSM data is GDAL's to read) into a temporary file, about three times
    the extract's size, removed afterwards.
    """

    def __init__(self, path: Path) -> None:
        self.path, self.name = path, path.name
        self._tmp: Any = None

    def read(self, layer: str, columns: list[str], where: str | None = None) -> gpd.GeoDataFrame:
        """One layer's features that pass ``where`` (an OGR SQL filter: a country's buildings stay on disk)."""
        import pyogrio

        try:
            frame = pyogrio.read_dataframe(self.path, layer=layer, columns=columns, where=where)
        except Exception as exc:  # pyogrio/GDAL raise several kinds for a file that is not an OSM extract
            if self._tmp is None and "parsing of data" in str(exc) and self.path.suffix.lower() == ".pbf":
                import tempfile

                self._tmp = tempfile.TemporaryDirectory(prefix="safeground-osm-")
                try:
                    self.path = _inflate_pbf(self.path, Path(self._tmp.name) / "extract.osm.pbf")
                except ValueError:
                    pass  # not a PBF file after all: GDAL's message says so below
                else:
                    return self.read(layer, columns, where)
            raise InvalidInput(
                [Problem(self.name, "file", layer, f"not a readable OpenStreetMap extract: {exc}")],
                hint_text="give an .osm.pbf file, e.g. a country extract from download.geofabrik.de",
            ) from None
        return frame.set_crs(4326, allow_override=True) if len(frame) else frame

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protobuf message with varint and length-delimited fields."""
    out, i = [], 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            n, i = _varint(data, i)
            value, i = data[i : i + n], i + n
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
        out.append((number, wire, value))
    return out


def _message(fields: list[tuple[int, int, Any]]) -> bytes:
    def varint(v: int) -> bytes:
        out = bytearray()
        while True:
            out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
            v >>= 7
            if not v:
                return bytes(out)

    return b"".join(varint(n << 3 | w) + (varint(v) if w == 0 else varint(len(v)) + v) for n, w, v in fields)


def _inflate_pbf(src: Path, dst: Path) -> Path:
    """A copy of an .osm.pbf whose zlib blobs are stored raw (OSM PBF: BlobHeader datasize=3; Blob raw=1,
    raw_size=2, zlib_data=3), for the GDAL that cannot read the compressed ones (see ``_Extract``)."""
    import struct
    import zlib

    with src.open("rb") as f, dst.open("wb") as out:
        while head := f.read(4):
            if len(head) < 4:
                raise ValueError("truncated")
            header = _fields(f.read(struct.unpack(">I", head)[0]))
            size = next((v for n, w, v in header if n == 3 and w == 0), None)
            if size is None:
                raise ValueError("not a PBF blob header")
            blob = _fields(f.read(size))
            zdata = next((v for n, w, v in blob if n == 3 and w == 2), None)
            body = _message([(1, 2, zlib.decompress(zdata))]) if zdata is not None else _message(blob)
            header = [(n, w, len(body) if n == 3 else v) for n, w, v in header]
            encoded = _message(header)
            out.write(struct.pack(">I", len(encoded)) + encoded + body)
    return dst


def _metric(geom: BaseGeometry) -> int:
    c = geom.centroid
    return utm_epsg(c.x, c.y)


def _circle(point: BaseGeometry, radius_m: float) -> BaseGeometry:
    epsg = _metric(point)
    return project(project(point, 4326, epsg).buffer(radius_m, quad_segs=16), epsg, 4326)


def _distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    epsg = _metric(a)
    return float(project(a, 4326, epsg).distance(project(b, 4326, epsg)))


def read_osm(
    path: str | Path, *, area_of_interest: tuple[float, float, float, float] | None = None, when: date | None = None
) -> OsmImport:
    """The store records of an ``.osm.pbf`` extract (nothing written): see the module docstring."""
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InvalidInput([Problem(path.name, "file", "-", "file not found")])
    if "OSM" not in pyogrio.list_drivers():
        raise InvalidInput(
            [Problem(path.name, "file", "-", "this GDAL has no OpenStreetMap (OSM) driver")],
            hint_text="install pyogrio's wheels (their GDAL reads .osm.pbf) or a GDAL built with SQLite and expat",
        )
    when = when or datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
    out = OsmImport(path.name)
    region = None if area_of_interest is None else shapely.box(*area_of_interest)

    def inside(geom: BaseGeometry, what: str) -> bool:
        if region is None or geom.intersects(region):
            return True
        out.outside[what] += 1
        return False

    def make(cls: type[Record], uid: str, what: str, **values: Any) -> None:
        try:
            rec = cls.model_validate(
                {"uid": uid, "date_of_information": when, "entered_by": ENTERED_BY, "kind": what, **values}
            )
        except ValidationError as exc:
            out.skipped[f"{what}: unusable geometry"] += 1
            if len(out.notes) < 20:
                reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
                out.notes.append(f"{path.name}, {uid.split('-', 1)[1]}: {what} left out: {reason}")
            return
        out.records.append(rec)
        out.imported[what] += 1

    extract = _Extract(path)
    try:
        _lines(extract, out, inside, make)
        _areas(extract, out, inside, make)
    finally:
        extract.close()
    if out.outside and area_of_interest is not None:
        w, s, e, n = area_of_interest
        left = ", ".join(f"{k}: {v:,}" for k, v in sorted(out.outside.items()))
        out.notes.append(f"left out, outside the store's area of interest ({w}, {s}, {e}, {n}): {left}")
    if area_of_interest is None:
        out.notes.append(
            "the store has no area of interest: every feature of the extract was taken "
            "(set one first with 'safeground db area --bbox W,S,E,N' to take only your area)"
        )
    return out


def _lines(extract: _Extract, out: OsmImport, inside: Any, make: Any) -> None:
    lines = extract.read(
        "lines", ["osm_id", "name", "highway", "waterway"], "highway IS NOT NULL OR waterway IS NOT NULL"
    )
    for osm_id, name, highway, waterway, geom in zip(
        lines.get("osm_id", []), lines.get("name", []), lines.get("highway", []), lines.get("waterway", []),
        lines.geometry if len(lines) else [], strict=True,
    ):  # fmt: skip
        highway, waterway = _text(highway), _text(waterway)
        kind = None
        if highway in ROADS:
            kind = "road"
        elif highway in PATHS:
            kind = "path"
        elif highway is not None:
            out.skipped[f"highway={highway} (not a walkable road or path)"] += 1
            continue
        elif waterway in WATERWAYS:
            kind = WATERWAYS[waterway]
        if kind is None or geom is None or not inside(geom, kind):
            continue
        make(InfrastructureLine, f"INL-OSM-W{osm_id}", kind, name=_text(name), geometry=geom)


def _areas(extract: _Extract, out: OsmImport, inside: Any, make: Any) -> None:
    polys = extract.read(
        "multipolygons",
        ["osm_id", "osm_way_id", "name", "amenity", "landuse", "place"],
        "landuse IN ('residential', 'cemetery') OR amenity = 'grave_yard' OR place IS NOT NULL",
    )
    points = extract.read(
        "points",
        ["osm_id", "name", "place", "other_tags"],
        "place IS NOT NULL OR other_tags LIKE '%grave_yard%' OR other_tags LIKE '%cemetery%'",
    )

    def poly_uid(row: Any) -> str:
        way = _text(row.get("osm_way_id"))
        return f"INA-OSM-W{way}" if way else f"INA-OSM-R{row.get('osm_id')}"

    # settlements: the place's own polygon, else its residential landuse, else a circle
    settlements: list[tuple[str, BaseGeometry]] = []
    residential = polys[polys["landuse"] == "residential"].geometry if len(polys) else gpd.GeoSeries([])
    res_tree = shapely.STRtree(residential.to_numpy()) if len(residential) else None
    place_polys = polys[polys["place"].isin(list(PLACE_RADIUS_M)) & polys["name"].notna()] if len(polys) else polys
    for _, row in place_polys.iterrows():
        if inside(row.geometry, "settlement"):
            settlements.append((str(row["name"]), row.geometry))
            make(InfrastructureArea, poly_uid(row), "settlement", name=str(row["name"]), geometry=row.geometry)
    circles = 0
    for _, row in points.iterrows() if len(points) else []:
        place, name, g = _text(row.get("place")), _text(row.get("name")), row.geometry
        if place not in PLACE_RADIUS_M:
            continue
        if name is None:
            out.skipped[f"place={place} without a name"] += 1
            continue
        if not inside(g, "settlement"):
            continue
        if any(n == name and a.intersects(g) for n, a in settlements):
            continue  # OSM maps it as an area too: that one is taken
        area = None
        if res_tree is not None:
            near = res_tree.query(g, predicate="dwithin", distance=RESIDENTIAL_NEAR_M / 80_000.0)
            near = [residential.iloc[i] for i in near if _distance_m(g, residential.iloc[i]) <= RESIDENTIAL_NEAR_M]
            if near:
                area = shapely.union_all(near)
        if area is None:
            area = _circle(g, PLACE_RADIUS_M[place])
            circles += 1
        settlements.append((name, area))
        make(InfrastructureArea, f"INA-OSM-N{row['osm_id']}", "settlement", name=name, geometry=area)
    if circles:
        out.notes.append(
            f"{circles:,} settlement(s) are only a point in OpenStreetMap: drawn as a circle "
            f"({', '.join(f'{k} {v:g} m' for k, v in PLACE_RADIUS_M.items())} radius)"
        )

    # cemeteries, each belonging to the nearest settlement
    cems: list[tuple[str, str | None, BaseGeometry]] = []
    if len(polys):
        for _, row in polys[(polys["landuse"] == "cemetery") | (polys["amenity"] == "grave_yard")].iterrows():
            cems.append((poly_uid(row), _text(row.get("name")), row.geometry))
    for _, row in points.iterrows() if len(points) else []:
        t = tags(row.get("other_tags"))
        if t.get("amenity") == "grave_yard" or t.get("landuse") == "cemetery":
            cems.append(
                (f"INA-OSM-N{row['osm_id']}", _text(row.get("name")), _circle(row.geometry, GRAVE_YARD_NODE_RADIUS_M))
            )
    unnamed: Counter[str] = Counter()
    tree = shapely.STRtree([a for _, a in settlements]) if settlements else None
    for uid, name, g in cems:
        if not inside(g, "cemetery"):
            continue
        owner = _nearest(g, settlements, tree)
        if name is None and owner is not None:
            unnamed[owner] += 1
            name = f"{owner} cemetery" + (f" {unnamed[owner]}" if unnamed[owner] > 1 else "")
        make(InfrastructureArea, uid, "cemetery", name=name, settlement=owner, geometry=g)


def _nearest(g: BaseGeometry, settlements: list[tuple[str, BaseGeometry]], tree: shapely.STRtree | None) -> str | None:
    """The settlement nearest a cemetery, within CEMETERY_TO_SETTLEMENT_M (measured in metres)."""
    if tree is None:
        return None
    best, best_d = None, CEMETERY_TO_SETTLEMENT_M
    for i in tree.query(g, predicate="dwithin", distance=CEMETERY_TO_SETTLEMENT_M / 50_000.0):
        name, area = settlements[int(i)]
        d = _distance_m(g, area)
        if d <= best_d:
            best, best_d = name, d
    return best


def import_osm(store: Store, path: str | Path, *, dry_run: bool = False, when: date | None = None) -> OsmImport:
    """Read an extract and store its features in one transaction (or only show what would change)."""
    from safeground.intake.submissions import plan

    result = read_osm(path, area_of_interest=store.area_of_interest(), when=when)
    if not result.records:
        raise InvalidInput(
            [Problem(result.source, "file", "-", "no road, path, river, settlement or cemetery to import")],
            hint_text="is it the extract of your area? (features outside the store's area of interest are left out)"
            if result.outside
            else "give an OpenStreetMap extract of your area",
        )
    todo = plan(store, result.records)
    todo.notes[:0] = result.notes
    result.plan = commit(store, todo, dry_run=dry_run)
    return result
