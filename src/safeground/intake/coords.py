"""Coordinates as people write them: decimal degrees, degrees-minutes-seconds, UTM, MGRS.

Minefield records and survey sheets carry positions in whatever notation the
author used: ``39.62``, ``39°37'12.5"N``, ``39 37 12.5 N``, ``N39°37.208'``,
UTM ``38S 650123 4386456`` or MGRS ``38SNJ5012386456``. A misread position is a
mine in the wrong place, so every parser here either returns the exact value or
raises ``CoordinateError`` saying what is wrong; nothing is guessed. The one
real ambiguity of UTM zone labels (is the ``S`` of ``38S`` the latitude band S,
north of the equator, or "south"?) is refused unless the caller settles it.
"""

from __future__ import annotations

import math
import re
import warnings
from functools import cache
from typing import Literal

import numpy as np
from pyproj import Transformer

from safeground.errors import SafeGroundError

Axis = Literal["lat", "lon"]
UtmLetter = Literal["band", "hemisphere"]


class CoordinateError(SafeGroundError):
    """A coordinate that cannot be read exactly; the message says why."""

    code = "invalid_coordinate"
    http_status = 422


_HEMI = {"lat": {"N": 1, "S": -1}, "lon": {"E": 1, "W": -1}}
_LIMIT = {"lat": 90.0, "lon": 180.0}
_NAME = {"lat": "latitude", "lon": "longitude"}
# degree, minute and second marks people type, including the look-alikes word processors insert
_DEG = "°º˚"
_MIN = "'′’‘"
_SEC = '"″”“'
_NUM = r"\d+(?:[.,]\d+)?|[.,]\d+"
_DMS = re.compile(
    rf"^(?P<deg>{_NUM})\s*[{_DEG}:]?\s*"
    rf"(?:(?P<min>{_NUM})\s*[{_MIN}:]?\s*"
    rf"(?:(?P<sec>{_NUM})\s*(?:[{_SEC}]|'')?\s*)?)?$",
    re.IGNORECASE,
)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def parse_angle(value: object, axis: Axis) -> float:
    """Read a latitude or longitude in decimal degrees or degrees-minutes-seconds.

    Accepted: ``39.62``, ``-47.1``, ``39.62N``, ``N39.62``, ``39°37'12.5"N``,
    ``39 37 12.5 N``, ``N39°37.208'``, ``39:37:12.5``. A hemisphere
    letter must fit the axis (no ``E`` on a latitude) and may not contradict a
    minus sign; minutes and seconds must be below 60.
    """
    if isinstance(value, bool):
        raise CoordinateError(f"{_NAME[axis]}: {value!r} is not a coordinate")
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return _in_range(number, axis, value)
    if not isinstance(value, str):
        raise CoordinateError(f"{_NAME[axis]}: {type(value).__name__} is not a coordinate")
    text = value.strip().upper().replace("\u2212", "-")
    if not text:
        raise CoordinateError(f"{_NAME[axis]} is empty")
    sign = 1
    hemi = None
    if text[-1] in "NSEW":
        hemi, text = text[-1], text[:-1].strip()
    elif text[0] in "NSEW":
        hemi, text = text[0], text[1:].strip()
    if hemi is not None:
        if hemi not in _HEMI[axis]:
            other = "latitude" if axis == "lon" else "longitude"
            raise CoordinateError(
                f"{_NAME[axis]} {value!r} has hemisphere {hemi}, which belongs to a {other}: are the columns swapped?"
            )
        sign = _HEMI[axis][hemi]
    if text.startswith(("-", "+")):
        if text[0] == "-":
            if hemi is not None:
                raise CoordinateError(f"{_NAME[axis]} {value!r} has both a minus sign and a hemisphere letter")
            sign = -1
        text = text[1:].strip()
    match = _DMS.match(text)
    if not match:
        raise CoordinateError(
            f"{_NAME[axis]} {value!r} is not a coordinate "
            "(expected e.g. 39.62, 39°37'12.5\"N, 39 37 12.5 N or N39°37.208')"
        )
    deg = _number(match["deg"])
    minutes = _number(match["min"]) if match["min"] else 0.0
    seconds = _number(match["sec"]) if match["sec"] else 0.0
    if match["min"] and deg != int(deg):
        raise CoordinateError(f"{_NAME[axis]} {value!r}: degrees with a fraction cannot be followed by minutes")
    if match["sec"] and minutes != int(minutes):
        raise CoordinateError(f"{_NAME[axis]} {value!r}: minutes with a fraction cannot be followed by seconds")
    if minutes >= 60 or seconds >= 60:
        raise CoordinateError(f"{_NAME[axis]} {value!r}: minutes and seconds must be below 60")
    return _in_range(sign * (deg + minutes / 60 + seconds / 3600), axis, value)


def _in_range(number: float, axis: Axis, shown: object) -> float:
    if not math.isfinite(number):
        raise CoordinateError(f"{_NAME[axis]} {shown!r} is not a finite number")
    if abs(number) > _LIMIT[axis]:
        hint = " (latitude and longitude swapped?)" if axis == "lat" and abs(number) <= 180 else ""
        raise CoordinateError(
            f"{_NAME[axis]} {shown!r} is outside −{_LIMIT[axis]:g}…{_LIMIT[axis]:g}{hint}: "
            "projected metres need a declared CRS or UTM zone"
        )
    return number


def parse_utm_zone(value: object, *, letter_means: UtmLetter | None = None) -> tuple[int, bool | None]:
    """A UTM zone label (``38``, ``38N``, ``38S``, ``38T``) as (zone number, south?).

    ``south`` is ``None`` when the label alone cannot tell: ``S`` is the latitude
    band S (32–40° north) to an MGRS user and "south" to others. ``letter_means``
    settles it; otherwise the caller decides (from the area of interest) or refuses.
    """
    text = str(value).strip().upper().replace(" ", "")
    if text.endswith(".0"):  # spreadsheets turn 38 into 38.0
        text = text[:-2]
    m = re.fullmatch(r"(\d{1,2})([C-HJ-NP-X])?", text)
    if not m:
        raise CoordinateError(f"UTM zone {value!r} is not a zone (expected e.g. 38, 38N, 38S or 38T)")
    zone = int(m[1])
    if not 1 <= zone <= 60:
        raise CoordinateError(f"UTM zone {value!r}: zones run from 1 to 60")
    letter = m[2]
    if letter is None:
        return zone, None
    if letter == "N":
        return zone, False  # north as a hemisphere and as band N (0–8° N)
    if letter == "S" and letter_means is None:
        return zone, None
    if letter == "S" and letter_means == "hemisphere":
        return zone, True
    return zone, letter < "N"  # latitude bands C–M are south of the equator


@cache
def _utm_transformer(zone: int, south: bool) -> Transformer:
    return Transformer.from_crs(32700 + zone if south else 32600 + zone, 4326, always_xy=True)


UTM_RANGE = "easting 100 000…900 000 m, northing 0…10 000 000 m"


def not_utm(easting: np.ndarray, northing: np.ndarray) -> np.ndarray:
    """Which (easting, northing) pairs cannot be UTM coordinates at all."""
    e = np.asarray(easting, dtype=float)
    n = np.asarray(northing, dtype=float)
    return ~np.isfinite(e) | ~np.isfinite(n) | (e < 100_000) | (e > 900_000) | (n < 0) | (n > 10_000_000)


def utm_to_lonlat(easting: np.ndarray, northing: np.ndarray, zone: int, south: bool) -> tuple[np.ndarray, np.ndarray]:
    """UTM (WGS 84) metres to longitude/latitude; raises if a value cannot be a UTM coordinate."""
    e = np.asarray(easting, dtype=float)
    n = np.asarray(northing, dtype=float)
    bad = not_utm(e, n)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CoordinateError(
            f"UTM easting {float(e[i]):.10g} / northing {float(n[i]):.10g} is not a UTM coordinate ({UTM_RANGE})"
        )
    lon, lat = _utm_transformer(zone, south).transform(e, n)
    return np.asarray(lon), np.asarray(lat)


_MGRS = re.compile(r"^(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})(\d*)$")


def parse_mgrs(value: object) -> tuple[float, float]:
    """An MGRS reference (``38SNJ5012386456``, spaces allowed) as (lon, lat) of the centre of its square.

    The precision is what the digits give (10 digits: a 1 m square; 6 digits: 100 m).
    MGRS names the south-west corner of that square; the centre is the honest
    position, at most half a diagonal from the truth instead of a whole one.
    """
    import mgrs

    text = re.sub(r"\s+", "", str(value).strip().upper())
    m = _MGRS.match(text)
    if not m or len(m[4]) % 2 or len(m[4]) > 10:
        raise CoordinateError(
            f"MGRS reference {value!r} is not valid (expected zone, band, square and an even number of "
            "digits, e.g. 38SNJ5012386456)"
        )
    digits = len(m[4]) // 2
    centre = text  # the square's centre: each half of the digits extended with 5, then 0s
    if digits < 5:
        e, n = m[4][:digits], m[4][digits:]
        centre = text[: len(text) - len(m[4])] + (e + "5").ljust(5, "0") + (n + "5").ljust(5, "0")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lat, lon = mgrs.MGRS().toLatLon(centre)
    except Exception as exc:  # the C library reports every bad reference the same way
        raise CoordinateError(f"MGRS reference {value!r} does not exist ({exc})") from None
    if caught:  # e.g. "Latitude Warning": the point is not in the latitude band the reference names
        raise CoordinateError(f"MGRS reference {value!r} is not in its own latitude band ({caught[0].message})")
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise CoordinateError(f"MGRS reference {value!r} does not exist")
    # the library accepts a square letter pair that is not in the zone; check the round trip
    back = mgrs.MGRS().toMGRS(lat, lon, MGRSPrecision=max(len(m[4]) // 2, 0))
    if back.replace(" ", "")[:5].lstrip("0") != text[:5].lstrip("0"):
        raise CoordinateError(f"MGRS reference {value!r} does not exist (its 100 km square is not in zone {m[1]})")
    return float(lon), float(lat)
