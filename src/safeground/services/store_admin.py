"""A store of one's own: create it with its area of interest, show or change that area.

The area of interest is set first because everything after it leans on it: imports check
positions against it (a swapped latitude/longitude is refused), it settles the hemisphere of a
zone like 38S, and its UTM zone is where areas and distances are measured. The command line
(``init``, ``db area``) and a server's set-up page do the same checks through these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from safeground.errors import SafeGroundError, StoreUnavailable
from safeground.storage import is_store_url, open_store

if TYPE_CHECKING:
    from safeground.storage.base import Store

Area = tuple[float, float, float, float]

#: languages the reports are written in (safeground/reports/i18n)
LANGUAGES = sorted(p.stem for p in (Path(__file__).parent.parent / "reports" / "i18n").glob("*.json"))


@dataclass(frozen=True)
class AreaSet:
    """What setting an area of interest did: its metric EPSG, and how many stored records lie outside it."""

    area: Area
    epsg: int
    outside: int
    total: int


@dataclass(frozen=True)
class AreaShown:
    """The stored area of interest as it is kept (text), and the metric EPSG; both None when none is set."""

    area: str | None
    epsg: str | None


@dataclass(frozen=True)
class StoreCreated:
    location: str  # never with a password
    name: str | None
    area: Area
    epsg: int
    language: str


def parse_area(text: str, option: str) -> Area:
    """west,south,east,north in WGS 84 degrees, checked (the order is the usual mistake).

    ``option`` is how the caller names the value to its user (a flag, or a form field)."""
    try:
        w, s_, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise SafeGroundError(
            f"{option} {text!r} is not west,south,east,north", hint="e.g. 46.5,39.3,47.5,40.0"
        ) from None
    if not (-180 <= w < e <= 180 and -90 <= s_ < n <= 90):
        raise SafeGroundError(
            f"{option} {text!r}: need west < east within ±180 and south < north within ±90",
            hint="longitude first: e.g. 46.5,39.3,47.5,40.0 for Aghdam",
        )
    return w, s_, e, n


def set_area(st: Store, area: Area, shown: str) -> AreaSet:
    """Store the area of interest and its metric EPSG.

    Records already stored are the check on the order of the four numbers: when
    most of them lie outside, the numbers are more likely swapped than the data wrong.
    """
    import shapely

    from safeground.geometry.projection import metric_epsg_for
    from safeground.model import RECORD_TYPES

    box = shapely.box(*area)
    epsg = metric_epsg_for(box)
    outside = total = 0
    for cls in RECORD_TYPES.values():
        if cls.GEOMETRY is None or cls.RESTRICTED or not st.count(cls):
            continue
        geoms = st.read_frame(cls).geometry
        total += len(geoms)
        outside += int((~geoms.intersects(box.buffer(0.5))).sum())
    if total and outside > total / 2:
        raise SafeGroundError(
            f"{outside:,} of the {total:,} stored records lie more than 0.5° outside {shown}",
            hint="check the order: west,south,east,north (longitude first)",
        )
    with st.transaction():
        st.set_area_of_interest(area)
        st.set_meta("metric_epsg", str(epsg))
    return AreaSet(area, epsg, outside, total)


def show_area(store: str) -> AreaShown:
    """The store's area of interest as stored, read without writing anything."""
    with open_store(store, create=False, readonly=True) as s:
        return AreaShown(s.get_meta("area_of_interest"), s.get_meta("metric_epsg"))


def change_area(store: str, bbox: str, option: str = "bbox") -> AreaSet:
    """Check ``bbox`` (west,south,east,north) and make it the area of interest of an existing store."""
    area = parse_area(bbox, option)
    with open_store(store, create=False) as st:
        return set_area(st, area, bbox)


def store_exists(url: str) -> bool:
    """Whether a PostGIS schema already holds a SafeGround store (opened read-only: nothing created)."""
    try:
        open_store(url, create=False, readonly=True).close()
    except StoreUnavailable as exc:
        if "cannot connect" in exc.message:
            raise
        return False
    return True


def create_store(
    store: str,
    area_text: str,
    *,
    name: str | None = None,
    language: str = "en",
    area_option: str = "area",
    language_option: str = "language",
) -> StoreCreated:
    """A new, empty store with its area of interest, name and report language; never touches an existing one."""
    if language not in LANGUAGES:
        raise SafeGroundError(f"{language_option} {language!r} is not one of {', '.join(LANGUAGES)}")
    bbox = parse_area(area_text, area_option)
    if not is_store_url(store):
        path = Path(store)
        if path.exists():
            raise SafeGroundError(
                f"{store} exists already: init makes a new store and never touches an existing file",
                hint=f"choose a new file name, or set the area of an existing store with "
                f"`safeground db area --store {store} --bbox {area_text}`",
            )
        if not path.parent.exists():
            raise SafeGroundError(f"no folder {path.parent} for the store", hint="create the folder first")
    elif store_exists(store):
        raise SafeGroundError(
            f"a SafeGround store exists already at {store.split('@')[-1]}: init never touches it",
            hint="choose another ?schema=…, or set its area with `safeground db area --bbox …`",
        )
    with open_store(store, create=True) as s:
        done = set_area(s, bbox, area_text)
        with s.transaction():
            if name:
                s.set_meta("store_name", name)
            s.set_meta("language", language)
    return StoreCreated(store.split("@")[-1], name, bbox, done.epsg, language)
