"""When two versions of a record are the same record: one test, one tolerance, for every layer.

A re-import, a re-saved traverse sheet, a form submission sent twice and a sync that was
interrupted all ask the same question: did anything a field officer would call a change
happen? If one of them answered with another tolerance than the others, a record could be
"unchanged" on import and "changed" on sync, and the history would fill with versions that
differ by a rounding. So the answer is written once here.

Two parts decide it:

* the **bookkeeping** a store or a clerk adds (version, when and by whom it was entered, why
  it changed) is not what was observed and never makes two versions differ; a caller that
  does care (sync compares whole versions) passes ``ignore=()``;
* **geometry** is compared vertex by vertex within :data:`SAME_PLACE_DEG`, because files keep
  fewer digits than a store does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

#: Stored coordinates closer than this (degrees, about 1.1 mm at the equator) are the same place.
#:
#: Why 1e-8 and not the 1e-9 form submissions used: KML writes coordinates with fewer digits
#: than a GeoPackage keeps, and a record that went out and came back must not look changed;
#: no positioning a mine action programme uses (handheld GNSS, a total station, a drawn
#: record) resolves a millimetre, so nothing observed is lost either. 1e-9 (0.1 mm) only ever
#: guarded the one caller that never round-trips through a lossy file, and every test that
#: checks re-imports, re-saved records, submissions and sync passes with 1e-8. Coarser (1e-7,
#: about 1 cm) would start to merge positions an RTK survey tells apart.
SAME_PLACE_DEG = 1e-8

#: Fields a store or a clerk fills in on every version; they say nothing about the ground.
BOOKKEEPING: frozenset[str] = frozenset({"version", "entered_at", "entered_by", "change_reason"})


def same_geometry(a: BaseGeometry | None, b: BaseGeometry | None) -> bool:
    """Whether two WGS 84 geometries are the same, vertex by vertex, within :data:`SAME_PLACE_DEG`.

    Both missing is the same (a plain table, or a record without a position); one missing is not.
    Vertex by vertex, not "covers the same ground": a polygon redrawn from another corner is a new
    drawing, and the store keeps it as one.
    """
    if a is None or b is None:
        return a is b
    return bool(shapely.equals_exact(a, b, tolerance=SAME_PLACE_DEG))


def same_record(a: Any, b: Any, *, ignore: Iterable[str] = BOOKKEEPING) -> bool:
    """Whether two versions hold the same information: every field but ``ignore`` equal, geometry the same place.

    ``a`` and ``b`` are records (pydantic models with an optional ``geometry``). Fields compare as
    their values (``model_dump``): dates and times by the instant, enumerations by their term.
    """
    skip = {*ignore, "geometry"}
    if a.model_dump(exclude=skip) != b.model_dump(exclude=skip):
        return False
    return same_geometry(getattr(a, "geometry", None), getattr(b, "geometry", None))
