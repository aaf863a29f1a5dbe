"""Residual contamination: an accident or a find inside land released before it opens an investigation.

Land released by survey or clearance is declared free of explosive ordnance; an accident or an
item found there afterwards means the release failed somewhere (a missed item, land cancelled
without enough evidence, a boundary drawn wrong). IMAS 07.11 and 07.14 ask the national authority
to investigate each such event. This module finds every one in a store and opens one
investigation (a ``QMInspection`` of kind ``residual_contamination_investigation``) per event,
linked to the release (the hazard area), the activity and the organisation that released the land.

It is idempotent: an event that already has an investigation, open or closed, gets no second one,
so every path that writes accidents or finds (file import, form import, review approval, sync, the
generator) calls :func:`open_investigations` after writing, in the same transaction, and running
it twice changes nothing.

"Before" is strict: the item must be found, or the accident happen, after the release ended. An
item found by the releasing activity itself is its work, not a failure; an accident without a
date cannot be placed before or after a release and is left out (and counted, so it is said).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import pandas as pd

from safeground.landrelease.accounting import finished_release_work
from safeground.model import Accident, Activity, EOItem, Organisation
from safeground.model.quality import (
    InspectionKind,
    NonConformity,
    NonConformityType,
    QMInspection,
    QMStatus,
    Severity,
)
from safeground.model.vocab import EOStatus, OrganisationType
from safeground.storage.base import Store, format_uid, metric_epsg_if_located

#: the layers whose records can reveal residual contamination (and activities: a release recorded late)
TRIGGER_LAYERS = ("accidents", "eo_items", "activities")
AUTHOR = "safeground quality management"


@dataclass(frozen=True)
class ResidualEvent:
    """An accident or a find inside land released before it, and the release it falls in."""

    layer: str  # accidents | eo_items
    uid: str
    when: date
    found_by: str | None  # the activity that found the item (None for an accident)
    activity_uid: str
    activity_type: str
    organisation_uid: str
    hazard_area_uid: str | None
    released_on: date
    other_releases: tuple[str, ...] = ()  # earlier releases of the same ground

    @property
    def key(self) -> str:
        return f"{self.layer}:{self.uid}"


@dataclass
class ResidualCheck:
    """What a check found: the events, the investigations it opened, and what it could not judge."""

    events: list[ResidualEvent] = field(default_factory=list)
    opened: list[QMInspection] = field(default_factory=list)
    undated_accidents: int = 0


def _events_frame(store: Store, bbox: tuple[float, float, float, float]) -> tuple[pd.DataFrame, int]:
    acc = store.read_frame(Accident, bbox=bbox)
    rows = []
    undated = 0
    if len(acc):
        undated = int(acc["accident_date"].isna().sum())
        a = acc[acc["accident_date"].notna()]
        rows.append(
            gpd.GeoDataFrame(
                {
                    "layer": "accidents",
                    "uid": a["uid"].to_numpy(),
                    "when": pd.to_datetime(a["accident_date"]).dt.date.to_numpy(),
                    "by_activity": None,
                },
                geometry=a.geometry.to_numpy(),
                crs=4326,
            )
        )
    eo = store.read_frame(EOItem, bbox=bbox)
    if len(eo):
        f = eo[eo["status"] == EOStatus.FOUND.value]
        rows.append(
            gpd.GeoDataFrame(
                {
                    "layer": "eo_items",
                    "uid": f["uid"].to_numpy(),
                    "when": pd.to_datetime(f["date_of_information"]).dt.date.to_numpy(),
                    "by_activity": f["activity_uid"].to_numpy(),
                },
                geometry=f.geometry.to_numpy(),
                crs=4326,
            )
        )
    if not rows:
        return gpd.GeoDataFrame({"layer": [], "uid": [], "when": [], "by_activity": []}, geometry=[], crs=4326), undated
    return gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), crs=4326), undated


def find_residual(store: Store) -> tuple[list[ResidualEvent], int]:
    """Every accident and find inside land released before it (the latest such release first), and the
    number of undated accidents that could not be judged."""
    done = finished_release_work(store.read_frame(Activity))
    epsg = metric_epsg_if_located(store)
    if not len(done) or epsg is None:
        return [], 0
    bbox = tuple(float(v) for v in done.total_bounds)
    events, undated = _events_frame(store, bbox)  # type: ignore[arg-type]
    if not len(events):
        return [], undated
    rel = done[["uid", "activity_type", "organisation_uid", "hazard_area_uid", "end_date", "geometry"]].copy()
    rel["released_on"] = pd.to_datetime(rel["end_date"]).dt.date
    rel = gpd.GeoDataFrame(rel.drop(columns="end_date"), geometry="geometry", crs=4326).to_crs(epsg)
    ev = events.to_crs(epsg)
    hits = gpd.sjoin(ev, rel.rename(columns={"uid": "activity_uid"}), predicate="within", how="inner")
    hits = hits[[w > r for w, r in zip(hits["when"], hits["released_on"], strict=True)]]
    hits = hits[hits["by_activity"].isna() | (hits["by_activity"] != hits["activity_uid"])]
    out: list[ResidualEvent] = []
    for (layer, uid), g in hits.groupby(["layer", "uid"], sort=True):
        g = g.sort_values(["released_on", "activity_uid"], ascending=[False, False])
        top = g.iloc[0]
        hz = top["hazard_area_uid"]
        out.append(
            ResidualEvent(
                layer=str(layer),
                uid=str(uid),
                when=top["when"],
                found_by=None if pd.isna(top["by_activity"]) else str(top["by_activity"]),
                activity_uid=str(top["activity_uid"]),
                activity_type=str(top["activity_type"]),
                organisation_uid=str(top["organisation_uid"]),
                hazard_area_uid=None if pd.isna(hz) else str(hz),
                released_on=top["released_on"],
                other_releases=tuple(str(a) for a in g["activity_uid"].iloc[1:]),
            )
        )
    return out, undated


def investigated(store: Store) -> set[str]:
    """The events ("layer:uid") that already have an investigation, open or closed."""
    return {
        k for qm in store.find(QMInspection, kind=InspectionKind.RESIDUAL_INVESTIGATION.value) for k in qm.opened_by
    }


def national_authority(store: Store) -> str | None:
    """The organisation that investigates: the national authority, when one is recorded."""
    orgs = store.read_frame(Organisation)
    if not len(orgs):
        return None
    na = orgs[orgs["org_type"] == OrganisationType.NATIONAL_AUTHORITY.value].sort_values("uid")
    return str(na["uid"].iloc[0]) if len(na) else None


def group_events(events: list[ResidualEvent]) -> list[list[ResidualEvent]]:
    """One investigation per accident, and one per release for the items one activity found in it:
    ten mines a later clearance found in a lane cleared before are one failure of that lane, not ten."""
    groups: dict[tuple[str, ...], list[ResidualEvent]] = {}
    for e in events:
        key = (e.layer, e.uid) if e.layer == "accidents" else (e.layer, e.activity_uid, e.found_by or e.uid)
        groups.setdefault(key, []).append(e)
    return list(groups.values())


def investigation_for(
    group: list[ResidualEvent], uid: str, inspecting_body: str | None, entered_by: str
) -> QMInspection:
    """The investigation record one event (or one activity's finds in one release) opens."""
    event = group[0]
    when = max(e.when for e in group)
    if event.layer == "accidents":
        what = f"{event.uid}: an accident on {event.when}"
    elif len(group) == 1:
        what = f"{event.uid}: an explosive item found on {event.when}"
    else:
        what = f"{len(group)} explosive items found ({', '.join(e.uid for e in group)}) by {event.found_by}"
    release = f"{event.activity_type.replace('_', ' ')} {event.activity_uid} (ended {event.released_on})"
    where = f" of hazard area {event.hazard_area_uid}" if event.hazard_area_uid else ""
    description = f"{what} inside land released by {release}{where}, organisation {event.organisation_uid}"
    others = sorted({a for e in group for a in e.other_releases})
    if others:
        description += f"; the same ground was also released by {', '.join(others)}"
    return QMInspection(
        uid=uid,
        date_of_information=when,
        entered_by=entered_by,
        change_reason="opened automatically: residual contamination in released land (IMAS 07.11)",
        kind=InspectionKind.RESIDUAL_INVESTIGATION,
        inspection_date=when,
        inspecting_body_uid=inspecting_body,
        organisation_uid=event.organisation_uid,
        activity_uid=event.activity_uid,
        hazard_area_uid=event.hazard_area_uid,
        opened_by=[e.key for e in group],
        non_conformities=[
            NonConformity(
                nc_type=NonConformityType.RESIDUAL_CONTAMINATION,
                severity=Severity.CRITICAL if event.layer == "accidents" else Severity.MAJOR,
                description=description,
            )
        ],
        status=QMStatus.OPEN,
    )


def open_investigations(store: Store, *, entered_by: str = AUTHOR) -> ResidualCheck:
    """Open one investigation per residual contamination event that has none yet, in one transaction.

    Safe to call after every write and twice in a row: events already investigated are skipped."""
    events, undated = find_residual(store)
    check = ResidualCheck(events=events, undated_accidents=undated)
    if not events:
        return check
    known = investigated(store)
    new = [e for e in events if e.key not in known]
    if not new:
        return check
    body = national_authority(store)
    with store.transaction():
        first = store.max_uid_number(QMInspection) + 1
        recs = [
            investigation_for(g, format_uid(QMInspection.UID_PREFIX, first + k), body, entered_by)
            for k, g in enumerate(group_events(new))
        ]
        store.add_many(recs)
    check.opened = recs
    return check
