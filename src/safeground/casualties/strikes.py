"""Cluster munition strikes turned into confirmed hazard footprints.

A strike report says where a cluster munition landed, which type and (when
known) the direction of fire. The munition type fixes the typical footprint
(an ellipse, long axis along the direction of fire) and the share of
submunitions that fail: together they give a confirmed hazardous area (CHA) with
the expected number of unexploded submunitions, before anyone walks in.

The conversion only adds: a strike already cited as evidence by any hazard area
is left alone, so running it twice, or after survey has taken over, changes
nothing (idempotent) and never overwrites a surveyor's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from safeground.casualties.munitions import MUNITIONS, MUNITIONS_BY_NAME, Munition
from safeground.errors import InvalidInput, Problem
from safeground.geometry.projection import project
from safeground.model import AdminArea, ClusterStrike, Evidence, HazardArea
from safeground.model.hazards import opened_by_event
from safeground.model.vocab import Contamination, EvidenceKind, HazardClass
from safeground.storage.base import Store, metric_epsg

#: When a strike report gives no direction of fire the footprint is a circle of the
#: ellipse's long semi-axis: the direction is unknown, so every direction is possible.
UNKNOWN_DIRECTION = "unknown direction: circle of the long semi-axis"


@dataclass(frozen=True)
class StrikeFootprint:
    strike_uid: str
    munition: Munition
    footprint_m: BaseGeometry  # in the metric projection
    footprint_wgs84: BaseGeometry
    area_m2: float
    expected_duds: float
    note: str


def ellipse(cx: float, cy: float, semi_major: float, semi_minor: float, direction_deg: float | None) -> BaseGeometry:
    """The footprint ellipse in metric coordinates; ``direction_deg`` is a compass bearing (0 = north)."""
    if direction_deg is None:
        return shapely.Point(cx, cy).buffer(semi_major, quad_segs=16)
    circle = shapely.Point(cx, cy).buffer(1.0, quad_segs=16)
    ell = affinity.scale(circle, semi_major, semi_minor)
    # scale() leaves the long axis along x (east); a bearing is measured clockwise from north
    return affinity.rotate(ell, 90.0 - direction_deg, origin=(cx, cy))


def footprint_of(strike: ClusterStrike, epsg: int) -> StrikeFootprint:
    """The typical footprint and expected duds of one strike (its munition must be in the table)."""
    mun = MUNITIONS_BY_NAME[strike.munition_type]
    cx, cy = _xy(strike, epsg)
    geom = ellipse(cx, cy, mun.semi_major_m, mun.semi_minor_m, strike.direction_deg)
    duds = strike.submunition_count * mun.dud_rate
    note = f"{mun.dud_rate:.0%} dud rate of {mun.name}"
    if strike.estimated_duds is not None:
        note += f"; the strike record estimates {strike.estimated_duds}"
    if strike.direction_deg is None:
        note += "; " + UNKNOWN_DIRECTION
    return StrikeFootprint(
        strike.uid,
        mun,
        geom,
        project(geom, epsg, 4326),
        float(geom.area),
        duds,
        note,
    )


def _xy(strike: ClusterStrike, epsg: int) -> tuple[float, float]:
    p = project(shapely.Point(strike.center_lon, strike.center_lat), 4326, epsg)
    return float(p.x), float(p.y)


def _admin_of(admin: gpd.GeoDataFrame, strike: ClusterStrike) -> str | None:
    if not len(admin):
        return None
    hit = admin[admin.contains(shapely.Point(strike.center_lon, strike.center_lat))]
    return str(hit["uid"].iloc[0]) if len(hit) else None


@dataclass(frozen=True)
class StrikeConversion:
    """What converting the strikes did (or would do, in a dry run)."""

    created: list[HazardArea]
    already_covered: dict[str, str]  # strike uid → hazard area citing it
    footprints: list[StrikeFootprint]


def _covered(store: Store) -> dict[str, str]:
    """Strike uids already cited as evidence by a hazard area (whatever its status)."""
    out: dict[str, str] = {}
    for ha in store.find(HazardArea):
        for ev in ha.evidence:
            if ev.reference and ev.reference.startswith(ClusterStrike.UID_PREFIX + "-"):
                out.setdefault(ev.reference, ha.uid)
    return out


def check_strikes(strikes: list[ClusterStrike]) -> None:
    """Every strike needs a munition type the table knows: all problems listed at once."""
    known = ", ".join(m.name for m in MUNITIONS)
    problems = [
        Problem(
            ClusterStrike.LAYER,
            s.uid,
            "munition_type",
            f"unknown munition type; known types: {known}",
            s.munition_type,
        )
        for s in strikes
        if s.munition_type not in MUNITIONS_BY_NAME
    ]
    if problems:
        raise InvalidInput(
            problems, hint_text="add the type to safeground/casualties/munitions.py or correct the strike record"
        )


def strikes_to_hazards(
    store: Store, *, entered_by: str, today: date | None = None, dry_run: bool = False
) -> StrikeConversion:
    """Add one CHA per strike not yet cited by any hazard area; returns what was (or would be) added."""
    strikes = sorted(store.find(ClusterStrike), key=lambda s: s.uid)
    check_strikes(strikes)
    if not strikes:  # nothing to convert (and nothing to measure)
        return StrikeConversion(created=[], already_covered={}, footprints=[])
    epsg = metric_epsg(store)
    covered = _covered(store)
    today = today or date.today()
    created: list[HazardArea] = []
    prints: list[StrikeFootprint] = []
    next_no = store.max_uid_number(HazardArea)
    admin = store.read_frame(AdminArea)
    # the finest admin area holding the strike: municipalities before districts
    admin = admin.sort_values("level", key=lambda s: s.map({"municipality": 0, "district": 1}).fillna(2))
    for s in strikes:
        fp = footprint_of(s, epsg)
        prints.append(fp)
        if s.uid in covered:
            continue
        next_no += 1
        when = max(s.date_of_information, s.strike_date)
        reason = f"cluster munition strike {s.uid}: typical footprint of {fp.munition.name}"
        created.append(
            opened_by_event(
                uid=f"{HazardArea.UID_PREFIX}-{next_no:05d}",
                when=when,
                entered_by=entered_by,
                reason=reason,
                name=f"Strike {s.uid}",
                classification=HazardClass.CHA,
                contamination=Contamination.CLUSTER,
                evidence=Evidence(
                    kind=EvidenceKind.DIRECT,
                    description=(
                        f"cluster strike ({fp.munition.name}, {s.submunition_count} submunitions): "
                        f"expected {fp.expected_duds:.0f} unexploded submunitions ({fp.note})"
                    ),
                    source="strike report; footprint from the munition table",
                    date=s.strike_date,
                    reference=s.uid,
                ),
                geometry=shapely.MultiPolygon([fp.footprint_wgs84]),
                area_m2=fp.area_m2,
                priority=2,
                admin_area_uid=_admin_of(admin, s),
            )
        )
    if created and not dry_run:
        store.add_many(created)
    return StrikeConversion(created, {k: v for k, v in covered.items() if k in {s.uid for s in strikes}}, prints)
