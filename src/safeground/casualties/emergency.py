"""A new accident opens an emergency hazard area: where one mine went off, others lie.

IMAS and every national standard treat an accident as direct evidence of contamination
until a survey has looked. When an accident arrives (a form from a phone, an import) at a
place no hazard area holds and no survey or clearance has covered since, SafeGround proposes
an emergency suspected hazardous area around it, for survey: a circle of
``EMERGENCY_RADIUS_M`` minus ground already released (the item lay beside a cleared road,
not in it). A proposal is stored only when asked (``apply``), so a reviewer confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safeground.geometry.projection import project
from safeground.landrelease.accounting import finished_release_work, released_ground
from safeground.model import Accident, Activity, Evidence, HazardArea
from safeground.model.hazards import opened_by_event
from safeground.model.vocab import Contamination, EvidenceKind, HazardClass
from safeground.storage.base import Store, metric_epsg

#: radius of the emergency hazard area drawn around an accident (m), as the demo's programme draws them
EMERGENCY_RADIUS_M = 100.0

_CONTAMINATION = {
    "antipersonnel_mine": Contamination.AP_MINES,
    "improvised_mine": Contamination.IMPROVISED,
    "antivehicle_mine": Contamination.AV_MINES,
    "unspecified_mine": Contamination.MIXED,
    "cluster_submunition": Contamination.CLUSTER,
    "other_erw": Contamination.OTHER_ERW,
}


def unsurveyed_accidents(acc: gpd.GeoDataFrame, hz: gpd.GeoDataFrame, act: gpd.GeoDataFrame) -> np.ndarray:
    """True for accidents whose place nobody has surveyed since (frames in one CRS).

    Surveyed means: an open hazard area holds it, or a hazard area released after the accident
    (released before it, the accident is new evidence), or a survey or clearance finished after
    the accident covers it (``finished_release_work``)."""
    pts = acc.geometry.to_numpy()
    when = pd.to_datetime(acc["accident_date"]).to_numpy()
    covered = np.zeros(len(acc), dtype=bool)
    if len(hz):
        pi, gi = shapely.STRtree(hz.geometry.to_numpy()).query(pts, predicate="intersects")
        since = pd.to_datetime(hz["date_of_information"]).to_numpy()[gi] >= when[pi]
        covered[pi[(hz["status"].to_numpy()[gi] != "closed") | since]] = True
    done = finished_release_work(act)
    if len(done):
        pi, gi = shapely.STRtree(done.geometry.to_numpy()).query(pts, predicate="intersects")
        later = pd.to_datetime(done["end_date"]).to_numpy()[gi] >= when[pi]
        covered[pi[later]] = True
    return ~covered


@dataclass
class EmergencyProposal:
    accident_uid: str
    hazard: HazardArea
    reason: str


def propose_emergency_hazards(store: Store, *, entered_by: str, apply: bool = False) -> list[EmergencyProposal]:
    """An emergency SHA for every accident at a place nobody has surveyed since; stored only with ``apply``."""
    acc = store.read_frame(Accident)
    if not len(acc):
        return []
    epsg = metric_epsg(store, acc)
    hz, act = store.read_frame(HazardArea), store.read_frame(Activity)
    cited = {ev.reference for h in store.find(HazardArea) for ev in h.evidence if ev.reference}
    fresh = unsurveyed_accidents(
        acc.to_crs(epsg), hz.to_crs(epsg) if len(hz) else hz, act.to_crs(epsg) if len(act) else act
    )
    todo = acc[fresh & ~acc["uid"].isin(cited)].sort_values(["accident_date", "uid"])
    released = released_ground(store, epsg)
    next_no = store.max_uid_number(HazardArea)
    out: list[EmergencyProposal] = []
    records = {a.uid: a for a in store.find(Accident)}
    for uid in todo["uid"]:
        row = records[uid]
        at = project(row.geometry, 4326, epsg)
        zone = at.buffer(EMERGENCY_RADIUS_M)
        if not released.is_empty:
            zone = shapely.make_valid(zone.difference(released))
        parts = [g for g in shapely.get_parts(zone) if g.geom_type == "Polygon" and g.area >= 100.0]
        if not parts:
            continue
        poly = shapely.MultiPolygon(parts)
        next_no += 1
        device = row.device_type.value
        when = row.accident_date or "date unknown"
        reason = f"emergency survey after accident {row.uid} ({device.replace('_', ' ')}, {when})"
        hazard = opened_by_event(
            uid=f"{HazardArea.UID_PREFIX}-{next_no:05d}",
            when=row.date_of_information,  # when the accident became known
            entered_by=entered_by,
            reason=reason,
            name=f"Emergency SHA {row.uid}",
            classification=HazardClass.SHA,
            contamination=_CONTAMINATION.get(device, Contamination.MIXED),
            evidence=Evidence(
                kind=EvidenceKind.DIRECT,
                description=f"accident {row.uid}: {device.replace('_', ' ')}; survey needed",
                source="accident report",
                date=row.accident_date,
                reference=row.uid,
            ),
            geometry=project(poly, epsg, 4326),
            area_m2=poly.area,
            priority=1,
        )
        out.append(EmergencyProposal(row.uid, hazard, reason))
    if apply and out:
        store.add_many([p.hazard for p in out])
    return out
