"""Soviet-era grid coordinates: SK-42 (Pulkovo 1942) on the 6° Gauss–Krüger zones, to and from WGS 84.

Minefield records and traverses of the former Soviet Union are drawn on SK-42
topographic maps: a point is written as X (the northing, metres from the equator)
and Y (the easting) with the zone number in front of the easting, e.g.
``X = 4387215, Y = 8676186`` is zone 8, 176 186 m east of the zone's false
origin (500 000 m at the central meridian). Zone ``n`` spans ``6n − 6`` to ``6n``
degrees east, central meridian ``6n − 3``: Karabakh and the west of Azerbaijan
(42–48°E) are in zone 8 (central meridian 45°E, EPSG:28408), the east of
Azerbaijan (48–54°E) in zone 9 (51°E, EPSG:28409).

SK-42 sits on the Krassovsky ellipsoid with its own datum: the same grid value
read as if it were WGS 84 is about 100 m off in the Caucasus. The datum shift
is applied with EPSG's transformation **EPSG:15865 "Pulkovo 1942 to WGS 84
(16)"** (the GOST R 51794 parameters for the whole former USSR, stated accuracy
4.5 m), chosen explicitly among the transformations PROJ knows so the answer
does not change with the PROJ database; it is the one PROJ itself ranks first
for these zones. A point is checked against its zone (an easting whose zone
prefix is another zone, a point far outside the zone's 6° band) and against the
zone's area of use, so a mistyped or swapped X/Y is an error, not a mine 500 km
away.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS, Proj, Transformer
from pyproj.transformer import TransformerGroup

#: EPSG's Pulkovo 1942 → WGS 84 transformation used (see the module docstring)
TRANSFORMATION = 15865
TRANSFORMATION_NAME = "EPSG:15865 Pulkovo 1942 to WGS 84 (16)"
#: Gauss–Krüger 6° zones of SK-42 with an EPSG definition (EPSG:28404 … EPSG:28432, zone prefix in the easting)
ZONES = range(4, 33)
#: how far outside its 6° band a point may lie (map sheets at a zone edge overlap the next zone by ~0.5°)
ZONE_OVERLAP_DEG = 0.5

#: "SK-42", "SK-42 zone 8", "СК-42 8", "Pulkovo 1942 / Gauss-Kruger zone 8", or "EPSG:28408"
_CRS_TEXT = re.compile(
    r"^\s*(?:(?:sk|ск)[-\s]?42|pulkovo\s*1942)\s*/?\s*(?:gauss[-\s]?kr(?:u|ü|ue)ger)?\s*(?:zone)?\s*"
    r"(?P<zone>\d{1,2})?\s*$|^\s*epsg:\s*(?P<epsg>\d{4,6})\s*$",
    re.IGNORECASE,
)


class GridError(ValueError):
    """A grid coordinate that cannot be placed: the message says what to correct."""


@dataclass(frozen=True)
class GridPosition:
    """A converted SK-42 point: WGS 84 longitude/latitude, its zone and the CRS it was read in."""

    lon: float
    lat: float
    zone: int
    epsg: int

    @property
    def note(self) -> str:
        return (
            f"SK-42 (Pulkovo 1942) Gauss–Krüger zone {self.zone} (EPSG:{self.epsg}), datum shift {TRANSFORMATION_NAME}"
        )


def zone_epsg(zone: int) -> int:
    """The EPSG code of SK-42 Gauss–Krüger zone ``zone`` (easting with the zone prefix)."""
    if zone not in ZONES:
        raise GridError(
            f"unknown SK-42 Gauss–Krüger zone {zone}: zones are {ZONES.start}–{ZONES.stop - 1} "
            "(zone = the first digit(s) of the Y easting; Karabakh/west Azerbaijan 8, east Azerbaijan 9)"
        )
    return 28400 + zone


def parse_crs(crs: str | None, zone: int | None) -> int:
    """The zone a record names: ``crs`` "SK-42" / "Pulkovo 1942 zone 8" / "EPSG:28408", or ``zone``."""
    from_text: int | None = None
    if crs is not None:
        m = _CRS_TEXT.match(crs)
        if m is None:
            raise GridError(
                f"unknown grid {crs!r}: write 'SK-42' with a zone, 'SK-42 zone 8' or 'EPSG:28408' "
                "(Pulkovo 1942 / Gauss-Kruger zone 8); WGS 84 degrees go in lon/lat"
            )
        if m["epsg"]:
            code = int(m["epsg"])
            if not 28400 + ZONES.start <= code < 28400 + ZONES.stop:
                raise GridError(
                    f"EPSG:{code} is not an SK-42 Gauss–Krüger zone: use EPSG:28404 … EPSG:28432 "
                    "(EPSG:28408 = zone 8, EPSG:28409 = zone 9)"
                )
            from_text = code - 28400
        elif m["zone"]:
            from_text = int(m["zone"])
    if from_text is not None and zone is not None and from_text != zone:
        raise GridError(f"the grid {crs!r} is zone {from_text} but zone {zone} is given: give one zone")
    chosen = from_text if from_text is not None else zone
    if chosen is None:
        raise GridError("an SK-42 position needs its Gauss–Krüger zone: 'zone: 8' or 'crs: EPSG:28408'")
    zone_epsg(chosen)
    return chosen


@lru_cache(maxsize=32)
def _to_wgs84(zone: int) -> Transformer:
    """SK-42 zone grid (easting, northing) → WGS 84 (lon, lat) through EPSG:15865, pinned."""
    group = TransformerGroup(zone_epsg(zone), 4326, always_xy=True)
    for t in group.transformers:
        codes = {(op.to_json_dict().get("id") or {}).get("code") for op in t.operations or ()}
        if TRANSFORMATION in codes:
            return t
    raise GridError(f"PROJ has no {TRANSFORMATION_NAME} for zone {zone}: update pyproj")  # pragma: no cover


@lru_cache(maxsize=32)
def _from_wgs84(zone: int) -> Transformer:
    group = TransformerGroup(4326, zone_epsg(zone), always_xy=True)
    for t in group.transformers:
        codes = {(op.to_json_dict().get("id") or {}).get("code") for op in t.operations or ()}
        if TRANSFORMATION in codes:
            return t
    raise GridError(f"PROJ has no {TRANSFORMATION_NAME} for zone {zone}: update pyproj")  # pragma: no cover


def to_wgs84(northing: float, easting: float, zone: int) -> GridPosition:
    """An SK-42 X (northing) / Y (easting) of ``zone`` as WGS 84, or GridError saying what is wrong.

    The easting may carry the zone prefix (8 676 186 in zone 8) or not (676 186): without it the
    zone is added; with another zone's prefix it is an error.
    """
    epsg = zone_epsg(zone)
    if not (math.isfinite(northing) and math.isfinite(easting)):
        raise GridError("X and Y must be numbers")
    if easting_zone(northing) == zone and easting_zone(easting) != zone and 1_000_000 <= easting < 10_000_000:
        raise GridError(
            f"X {northing:.0f} looks like an easting of zone {zone} and Y {easting:.0f} like a northing: "
            "X is the northing (distance from the equator), Y the easting with the zone number in front"
        )
    if not 1_000_000 <= northing < 10_000_000:
        raise GridError(f"X (northing) {northing:.0f} m is not a northing (7 digits, metres from the equator)")
    if 100_000 <= easting < 1_000_000:
        easting += zone * 1_000_000  # written without the zone prefix
    prefix = easting_zone(easting)
    if prefix is None:
        raise GridError(
            f"Y (easting) {easting:.0f} m is not an SK-42 easting: the zone number then six digits "
            f"(e.g. {zone}676186 in zone {zone})"
        )
    if prefix != zone:
        raise GridError(f"Y (easting) {easting:.0f} starts with zone {prefix}, not the record's zone {zone}")
    lon, lat = _to_wgs84(zone).transform(easting, northing)
    cm = 6 * zone - 3
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon - cm) > 3 + ZONE_OVERLAP_DEG:
        raise GridError(
            f"X {northing:.0f} / Y {easting:.0f} lies at {lon:.3f}°E, outside zone {zone} "
            f"({cm - 3}–{cm + 3}°E): wrong zone, or a mistyped X or Y?"
        )
    w, s, e, n = CRS.from_epsg(epsg).area_of_use.bounds  # type: ignore[union-attr]
    if not (
        w - ZONE_OVERLAP_DEG <= lon <= e + ZONE_OVERLAP_DEG and s - ZONE_OVERLAP_DEG <= lat <= n + ZONE_OVERLAP_DEG
    ):
        raise GridError(
            f"X {northing:.0f} / Y {easting:.0f} lies at {lat:.4f}°N {lon:.4f}°E, outside the area where SK-42 "
            f"zone {zone} is used (lat {s:.1f}…{n:.1f}, lon {w:.1f}…{e:.1f}): a mistyped X?"
        )
    return GridPosition(float(lon), float(lat), zone, epsg)


def easting_zone(easting: float) -> int | None:
    """The zone prefix of an SK-42 easting (8 676 186 → 8), if it is one."""
    if not math.isfinite(easting) or easting < 1_000_000:
        return None
    zone, rest = divmod(easting, 1_000_000)
    return int(zone) if int(zone) in ZONES and 100_000 <= rest < 900_000 else None


def from_wgs84(lon: float, lat: float, zone: int) -> tuple[float, float]:
    """WGS 84 lon/lat as the SK-42 X (northing), Y (easting with zone prefix) of ``zone`` (for templates, tests)."""
    easting, northing = _from_wgs84(zone).transform(lon, lat)
    return float(northing), float(easting)


def grid_convergence(lon: float, lat: float, zone: int) -> float:
    """How far the zone's grid north is from true north at a point (degrees; grid bearing + this = true)."""
    return float(Proj(f"EPSG:{zone_epsg(zone)}").get_factors(lon, lat).meridian_convergence)
