"""Automatic quality flags on a submission: what a reviewer must look at before approving.

The flags are the ones information management officers raise by hand today: a geometry that is
invalid, a position outside the area the authority covers (swapped coordinates, another region),
a reported hazard area that overlaps one already recorded (a probable duplicate: reconcile it),
an accident or a find inside land already released (residual contamination: IMAS 07.11 asks for
an investigation, so the flag stays on the submission until a reviewer decides), and an update
whose date of information is older than the version stored (it would overwrite newer knowledge).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import shapely

from safeground.errors import RecordNotFound
from safeground.geometry.validate import check_geometry
from safeground.intake.commit import WritePlan
from safeground.model import Accident, EOItem, HazardArea
from safeground.model.base import Record
from safeground.model.vocab import HazardStatus
from safeground.storage.base import Store, metric_epsg_if_located

#: a reported hazard overlapping this share of a recorded one (or of itself) is a probable duplicate
DUPLICATE_OVERLAP = 0.10
#: degrees around the area of interest still accepted (as the importers do)
AREA_MARGIN_DEG = 0.05


@dataclass(frozen=True)
class Flag:
    code: str  # invalid_geometry, outside_area, probable_duplicate, residual_contamination, older_than_stored
    uid: str  # the submitted record it is about
    message: str
    related: str | None = None  # the stored record it points to (the duplicate, the released activity)
    #: must a reviewer act on it explicitly (residual contamination: an investigation)
    sticky: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _records(plan: WritePlan) -> list[Record]:
    return [*plan.create, *(r for r, _ in plan.update)]


def quality_flags(store: Store, plan: WritePlan) -> list[Flag]:
    """Every flag on the change set, computed against the store as it is now."""
    flags: list[Flag] = []
    recs = _records(plan)
    aoi = store.area_of_interest()
    area = None if aoi is None else shapely.box(*aoi).buffer(AREA_MARGIN_DEG, join_style="mitre")
    for r in recs:
        geom = getattr(r, "geometry", None)
        if geom is None or r.GEOMETRY is None:
            continue
        issues = check_geometry(geom, expected=r.GEOMETRY)
        if issues:
            flags.append(Flag("invalid_geometry", r.uid, f"{r.uid}: " + "; ".join(i.reason for i in issues)))
        if area is not None and not geom.intersects(area):
            c = geom.centroid
            flags.append(
                Flag(
                    "outside_area",
                    r.uid,
                    f"{r.uid} lies at {c.x:.5f}, {c.y:.5f}, outside the store's "
                    "area of interest (latitude and longitude swapped?)",
                )
            )
    for r, _base in plan.update:
        try:
            stored = store.get(type(r), r.uid)
        except RecordNotFound:  # deleted since: the approval will say so
            continue
        if r.date_of_information < stored.date_of_information:
            flags.append(
                Flag(
                    "older_than_stored",
                    r.uid,
                    f"{r.uid}: information of {r.date_of_information} would "
                    f"replace the stored version {stored.version} of {stored.date_of_information}",
                    related=f"{r.LAYER}:{r.uid}",
                )
            )
    epsg = metric_epsg_if_located(store)
    if epsg is not None:
        flags += _duplicates(store, [r for r in plan.create if isinstance(r, HazardArea)], epsg)
        flags += _residual(store, [r for r in recs if isinstance(r, Accident | EOItem)], epsg)
    return flags


def _frame(recs: list[Record], epsg: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"uid": [r.uid for r in recs]}, geometry=[r.geometry for r in recs], crs=4326).to_crs(epsg)  # type: ignore[attr-defined]


def _duplicates(store: Store, hazards: list[HazardArea], epsg: int) -> list[Flag]:
    if not hazards:
        return []
    new = _frame(list(hazards), epsg)
    minx, miny, maxx, maxy = gpd.GeoSeries([h.geometry for h in hazards], crs=4326).total_bounds
    old = store.read_frame(HazardArea, bbox=(minx, miny, maxx, maxy))
    old = old[old["status"] != HazardStatus.CLOSED.value] if len(old) else old
    if not len(old):
        return []
    old = old.to_crs(epsg)
    out = []
    for uid, geom in zip(new["uid"], new.geometry, strict=True):
        for ouid, og in zip(old["uid"], old.geometry, strict=True):
            if ouid == uid or not geom.intersects(og):
                continue
            share = geom.intersection(og).area / max(min(geom.area, og.area), 1.0)
            if share >= DUPLICATE_OVERLAP:
                out.append(
                    Flag(
                        "probable_duplicate",
                        uid,
                        f"{uid} overlaps the recorded hazard area {ouid} "
                        f"({share:.0%} of the smaller): the same area reported again? Reconcile it to {ouid} "
                        "to update that record instead",
                        related=f"hazard_areas:{ouid}",
                    )
                )
    return out


def _residual(store: Store, recs: list[Record], epsg: int) -> list[Flag]:
    if not recs:
        return []
    from safeground.landrelease.accounting import finished_release_work
    from safeground.model import Activity

    done = finished_release_work(store.read_frame(Activity))
    if not len(done):
        return []
    done = done.to_crs(epsg)
    pts = _frame(recs, epsg)
    out = []
    for r, geom in zip(recs, pts.geometry, strict=True):
        hit = done[done.intersects(geom)]
        if len(hit):
            act = hit.iloc[0]
            what = "an accident" if isinstance(r, Accident) else "an explosive item"
            out.append(
                Flag(
                    "residual_contamination",
                    r.uid,
                    f"{r.uid} reports {what} inside land released by "
                    f"{act['uid']} ({act['activity_type']}, ended {act['end_date']}): residual contamination; "
                    "IMAS asks for an investigation of the release",
                    related=f"activities:{act['uid']}",
                    sticky=True,
                )
            )
    return out
