"""The record follows the work: a finished survey or clearance applies to the hazard area it names.

IMAS 07.11 releases land by three means, each reported when the work ends: non-technical
survey cancels, technical survey reduces, clearance clears. When such a report arrives (an
import, a form, a sync), the hazard area it names must change with it, or the national record
keeps telling people that released land is dangerous and that a cleared field still waits: the
hazard becomes what is left of it (the hazard minus the ground the activity released), its
remaining area is measured again, and when nothing is left it is closed, with the handover of
the land to its users recorded in its status history (a handover certificate numbered after the
activity, ``HC-ACT-…``). Each change is a proposal until asked (``apply``), so an information
management officer confirms it; every applied change is a new version, the old one kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from safeground.geometry.projection import project
from safeground.model import Activity, HazardArea, StatusChange
from safeground.model.vocab import ActivityType, HazardStatus
from safeground.storage.base import Store, metric_epsg

#: slivers thinner than twice this (m) between a released polygon and its hazard are digitising noise
SLIVER_M = 0.5
#: parts of a hazard smaller than this (m²) left after a release are noise, not ground still suspected
MIN_PART_M2 = 25.0

_VERB = {
    ActivityType.NTS: "cancelled by non-technical survey",
    ActivityType.TS: "reduced by technical survey",
    ActivityType.CLEARANCE: "cleared by",
}


@dataclass
class ReleaseProposal:
    """What one finished activity does to the hazard area it names."""

    activity_uid: str
    hazard_uid: str
    before_m2: float  # the hazard's area before (measured)
    released_m2: float  # the part of the hazard the activity released (measured)
    remaining_m2: float
    closes: bool
    hazard: HazardArea  # the proposed new version
    reason: str
    base_version: int  # the stored version the proposal was made from (optimistic concurrency)


def _rest(hazard: BaseGeometry, released: BaseGeometry) -> BaseGeometry:
    rest = shapely.make_valid(hazard.difference(released))
    rest = shapely.make_valid(rest.buffer(-SLIVER_M, join_style="mitre").buffer(SLIVER_M, join_style="mitre"))
    parts = [p for p in shapely.get_parts(rest) if p.geom_type == "Polygon" and p.area >= MIN_PART_M2]
    return shapely.MultiPolygon(parts) if parts else shapely.MultiPolygon()


def propose_releases(store: Store, *, entered_by: str) -> list[ReleaseProposal]:
    """Every finished NTS, TS or clearance whose released ground still lies in the open hazard it names.

    Activities are taken in the order they ended, so two reports on one hazard both apply."""
    hazards = {h.uid: h for h in store.find(HazardArea) if h.status != HazardStatus.CLOSED}
    base = {uid: h.version or 0 for uid, h in hazards.items()}
    acts = [
        a
        for a in store.find(Activity)
        if a.end_date is not None and a.hazard_area_uid in hazards and a.activity_type in _VERB
    ]
    if not acts:
        return []
    epsg = metric_epsg(store, store.read_frame(HazardArea))
    current = {uid: project(h.geometry, 4326, epsg) for uid, h in hazards.items()}
    out: list[ReleaseProposal] = []
    for a in sorted(acts, key=lambda a: (a.end_date, a.uid)):
        uid = a.hazard_area_uid
        assert uid is not None and a.end_date is not None
        h, geom = hazards[uid], current[uid]
        if h.status == HazardStatus.CLOSED:
            continue
        ground = shapely.make_valid(project(a.geometry, 4326, epsg))
        rest = _rest(geom, ground)
        released = geom.area - rest.area
        if released < MIN_PART_M2:  # already applied, or ground beside the hazard
            continue
        closes = rest.is_empty
        what = f"{_VERB[a.activity_type]} {a.uid}"
        reason = f"{what}: {released:,.0f} m² released, {rest.area:,.0f} m² remain"
        history = list(h.status_history)
        if closes:
            reason = f"{what}: {released:,.0f} m² released; land handed over (handover certificate HC-{a.uid})"
            history.append(StatusChange(date=a.end_date, status=HazardStatus.CLOSED, reason=reason))
        new = h.model_copy(
            update={
                "date_of_information": max(h.date_of_information, a.end_date),
                "entered_by": entered_by,
                "change_reason": reason,
                "status": HazardStatus.CLOSED if closes else h.status,
                "status_history": history,
                "remaining_area_m2": 0.0 if closes else round(min(rest.area, h.estimated_area_m2), 1),
                "geometry": h.geometry if closes else project(rest, epsg, 4326),
            }
        )
        new = HazardArea.model_validate(new.model_dump())
        remaining = 0.0 if closes else rest.area
        out.append(ReleaseProposal(a.uid, uid, geom.area, released, remaining, closes, new, reason, base[uid]))
        hazards[uid], current[uid] = new, rest if not closes else geom
    return out


def apply_releases(store: Store, proposals: list[ReleaseProposal]) -> int:
    """Store the proposed versions in one transaction; returns the number of hazard areas changed.

    Several proposals on one hazard were built one on the other, so the last is stored, against
    the version all of them were read from: if someone changed the hazard since, nothing is stored."""
    last: dict[str, ReleaseProposal] = {}
    for p in proposals:
        last[p.hazard_uid] = p
    with store.transaction():
        for p in last.values():
            store.update(p.hazard, expected_version=p.base_version)
    return len(last)
