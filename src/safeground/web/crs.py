"""Coordinate reference systems the server offers (OGC API Features Part 2): WGS 84 and the district's UTM zone.

Geometry is stored in WGS 84; a client may ask for it in the store's metric projection (the UTM zone
distances are measured in, :func:`safeground.storage.base.metric_epsg`), which is what a field team's
GPS and paper maps use. CRS84 is longitude, latitude; a UTM zone is easting, northing.
"""

from __future__ import annotations

import re

from safeground.web.errors import BadParameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
_FORMS = (
    re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d+)$"),
    re.compile(r"^\[?EPSG:(\d+)\]?$", re.IGNORECASE),
)


def epsg_uri(code: int) -> str:
    return _EPSG_URI.format(code)


def epsg_of(uri: str) -> int:
    """The EPSG code of a CRS URI (CRS84 → 4326, lon/lat axis order)."""
    if uri == CRS84:
        return 4326
    for form in _FORMS:
        m = form.match(uri.strip())
        if m:
            return int(m.group(1))
    raise BadParameter(f"{uri!r} is not a CRS URI", hint=f"use {CRS84} or {_EPSG_URI.format('<code>')}")


def choose(asked: str | None, offered: list[str], parameter: str) -> str:
    """The offered CRS URI a client asked for (None: CRS84); a 400 naming the offered ones otherwise."""
    if asked is None or asked.strip() in ("", CRS84, "[OGC:CRS84]", "OGC:CRS84"):
        return CRS84
    code = epsg_of(asked)
    for uri in offered:
        if uri != CRS84 and epsg_of(uri) == code:
            return uri
    raise BadParameter(
        f"{parameter}={asked} is not offered by this collection", hint=f"use one of: {', '.join(offered)}"
    )
