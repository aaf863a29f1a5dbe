"""Risk education sessions, QA/QC inspections and one accident on released land, for the demo district.

What the synthetic district shows here is what happens on the ground: risk education teams start in
the town and the villages an easy drive from it, and come back there; the villages out by the former
front, where most nuisance mines still lie, are reached late or not at all, so some of the villages
where accidents follow have had no session (``plan eore`` must rank those high). The national
authority samples finished clearance tasks (quality control) and visits work in progress (quality
assurance), finding a few non-conformities that the operators close. And one clearance task missed a
mine: a farmer steps on it months after the land was handed over, which opens a residual
contamination investigation (``safeground.quality.residual``), still open on the "as of" date.

Everything here draws from its own random stream (``[seed, 2102]``), so the rest of the district is
the same as without it, and is written after it, inside the district's one transaction.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import shapely

from safeground.generator.accidents import _victims
from safeground.generator.operations import NATIONAL_AUTHORITY
from safeground.model import Accident, EORESession, GroundTruthItem, QMInspection, Victim, VictimIdentity
from safeground.model.eore import EOREMaterial, EOREMethod
from safeground.model.quality import InspectionKind, NonConformity, NonConformityType, QMStatus, Severity
from safeground.model.vocab import ActivityAtTime, ActivityType, DeviceType, EOType, VictimStatus
from safeground.storage.base import Store

#: the district being written (``generator.district.District``; not imported: district.py calls this module)
District = Any

STREAM = 2102
#: the organisation that teaches (the demo NGO) and the share of villages its teams reach, nearest first
EORE_ORG = "ORG-00002"
REACHED_SHARE = 0.6
ENTERED_BY = "safeground-generator"


def _audience(method: EOREMethod, rng: np.random.Generator) -> dict[str, int]:
    if method == EOREMethod.SCHOOL:
        n = rng.integers(15, 60, 4)
        adults = (int(rng.integers(1, 4)), int(rng.integers(0, 3)))
        return {"girls_under_12": int(n[0]), "boys_under_12": int(n[1]), "girls_12_17": int(n[2]),
                "boys_12_17": int(n[3]), "women_18_over": adults[0], "men_18_over": adults[1]}  # fmt: skip
    if method == EOREMethod.DOOR_TO_DOOR:
        n = rng.integers(0, 12, 6)
    else:  # a community session: mostly adults, more women than the men who herd and collect
        n = np.array([rng.integers(2, 15), rng.integers(2, 15), rng.integers(1, 10), rng.integers(1, 10),
                      rng.integers(10, 40), rng.integers(5, 25)])  # fmt: skip
    keys = ("girls_under_12", "boys_under_12", "girls_12_17", "boys_12_17", "women_18_over", "men_18_over")
    return {k: int(v) for k, v in zip(keys, n, strict=True)}


def eore_sessions(d: District, g: Any, rng: np.random.Generator) -> list[EORESession]:
    """Sessions in the town and the villages nearest to it; the far ones are never reached."""
    land = d.land
    town = land.town
    villages = sorted((s for s in land.settlements if s is not town), key=lambda s: town.center.distance(s.center))
    reached = [town, *villages[: round(REACHED_SHARE * len(villages))]]
    first = d.cfg.return_date + timedelta(days=45)
    span = (d.cfg.as_of - first).days
    out: list[EORESession] = []
    for rank, st in enumerate(reached):
        # the town often, near villages a few times; the later in the list, the later the first visit
        visits = 8 if st is town else int(rng.integers(1, 4))
        start = first + timedelta(days=int(span * 0.3 * rank / max(len(reached), 1)))
        # a first visit soon after the team starts there, follow-ups at any time after
        rest = rng.integers(60, max((d.cfg.as_of - start).days, 61), visits - 1)
        days = sorted([int(rng.integers(0, 60)), *(int(x) for x in rest)])
        for k, day in enumerate(days):
            when = start + timedelta(days=day)
            method = (
                EOREMethod.SCHOOL
                if st is town and k % 3 == 0
                else EOREMethod(rng.choice([m.value for m in (EOREMethod.COMMUNITY_SESSION, EOREMethod.DOOR_TO_DOOR)]))
            )
            aud = _audience(method, rng)
            total = sum(aud.values())
            fresh = total if k == 0 else int(total * rng.uniform(0.2, 0.6))
            mats = [EOREMaterial.LEAFLET, EOREMaterial.POSTER] + (
                [EOREMaterial.PUPPET_SHOW] if method == EOREMethod.SCHOOL else [EOREMaterial.SAFETY_MAP]
            )
            p = st.center.buffer(st.radius * 0.3)
            x, y = rng.uniform(*p.bounds[0::2]), rng.uniform(*p.bounds[1::2])
            out.append(_session(when, st.name, method, aud, fresh, mats, rank, g(shapely.Point(x, y))))
    # a radio spot for the whole district, aimed at the town
    when = first + timedelta(days=30)
    out.append(_session(when, town.name, EOREMethod.MEDIA, {}, 0, [EOREMaterial.RADIO_SPOT], 0, g(town.center)))
    out.sort(key=lambda s: (s.session_date, s.settlement))
    return [s.model_copy(update={"uid": f"EORE-{k + 1:05d}"}) for k, s in enumerate(out)]


def _session(
    when: date, name: str, method: EOREMethod, aud: dict[str, int], fresh: int, mats: list[EOREMaterial],
    rank: int, point: Any,
) -> EORESession:  # fmt: skip
    return EORESession(
        uid="EORE-00000",
        date_of_information=when,
        entered_by=ENTERED_BY,
        session_date=when,
        settlement=name,
        organisation_uid=EORE_ORG,
        method=method,
        first_time_participants=fresh,
        materials=mats,
        facilitator_team=f"HDG EORE team {1 + rank % 2}",
        geometry=point,
        **aud,  # type: ignore[arg-type]  # the six audience counts, by name
    )


def inspections(d: District, rng: np.random.Generator) -> list[QMInspection]:
    """Quality control of a sample of finished clearance and quality assurance of some work in progress."""
    out: list[QMInspection] = []
    kinds = [
        (NonConformityType.DOCUMENTATION, Severity.MINOR, "completion report without the depth of each find"),
        (NonConformityType.MARKING, Severity.MINOR, "perimeter marking missing on the south side"),
        (NonConformityType.CLEARANCE_DEPTH, Severity.MAJOR, "sample lane searched to 10 cm, not the 20 cm required"),
        (NonConformityType.SAFETY_DISTANCES, Severity.MAJOR, "deminers closer than 25 m to each other"),
    ]
    for a in d.ops.activities:
        if a.activity_type != ActivityType.CLEARANCE or a.hazard is None:
            continue
        done = a.end is not None
        if rng.random() > (0.25 if done else 0.4):
            continue
        when = (a.end + timedelta(days=int(rng.integers(3, 20)))) if a.end else a.start + timedelta(days=3)
        if when > d.cfg.as_of:
            continue
        ncs = []
        if rng.random() < 0.35:
            t, sev, text = kinds[int(rng.integers(0, len(kinds)))]
            closed = when + timedelta(days=int(rng.integers(5, 40)))
            ncs.append(
                NonConformity(
                    nc_type=t, severity=sev, description=text, corrective_action="corrected and re-inspected",
                    due_date=when + timedelta(days=30), closed_on=closed if closed <= d.cfg.as_of else None,
                    closure_note="verified on site" if closed <= d.cfg.as_of else None,
                )
            )  # fmt: skip
        is_open = any(nc.closed_on is None for nc in ncs)
        closed_on = max([when, *(nc.closed_on for nc in ncs if nc.closed_on)])
        out.append(
            QMInspection(
                uid=f"QM-{len(out) + 1:05d}",
                date_of_information=when if is_open else closed_on,
                entered_by=ENTERED_BY,
                kind=InspectionKind.QUALITY_CONTROL if done else InspectionKind.QUALITY_ASSURANCE,
                inspection_date=when,
                inspecting_body_uid=NATIONAL_AUTHORITY,
                organisation_uid=a.org,
                activity_uid=a.aid,
                hazard_area_uid=a.hazard,
                non_conformities=ncs,
                status=QMStatus.OPEN if is_open else QMStatus.CLOSED,
                closed_on=None if is_open else closed_on,
                finding=None if is_open else ("conforms" if not ncs else "non-conformity corrected"),
            )
        )
    return out


def accident_on_released_land(d: District, w: Any, rng: np.random.Generator) -> list[Any]:
    """One mine the clearance of a hazard area missed, stepped on months after the land was handed over."""
    as_of = d.cfg.as_of
    done = [
        a for a in d.ops.activities
        if a.activity_type == ActivityType.CLEARANCE and a.hazard and a.end and (as_of - a.end).days > 120
        and a.polygon.buffer(-5.0).area > 500.0
    ]  # fmt: skip
    if not done:
        return []
    a = done[int(rng.integers(0, len(done)))]
    inner = a.polygon.buffer(-5.0)
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(1000):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if inner.contains(p):
            break
    assert a.end is not None
    when = a.end + timedelta(days=int(rng.integers(60, min(300, (as_of - a.end).days))))
    numbers = [int(x.aid.split("-")[1]) for x in [*d.accidents, *d.ops.deminer_accidents]]
    aid = f"ACC-{max(numbers, default=0) + 1:05d}"
    names = {s.name: s.center for s in d.land.settlements}
    nearest = min(names, key=lambda n: names[n].distance(p))
    ((lon, lat),) = d.lonlat(np.array([p.x, p.y]))
    out: list[Any] = [
        GroundTruthItem(
            uid=f"GT-{len(d.truth) + 1:06d}",
            date_of_information=as_of,
            entered_by=ENTERED_BY,
            eo_type=EOType.AP_BLAST,
            eo_model="PMN-2",
            laid_context="missed_in_clearance",
            date_laid=None,
            fate="detonated",
            geometry=shapely.Point(lon, lat),
        ),
        Accident(
            uid=aid,
            date_of_information=when,
            entered_by=ENTERED_BY,
            accident_date=when,
            device_type=DeviceType.AP_MINE,
            place_description="field released by clearance",
            settlement=nearest,
            admin_area_uid=w.admin_of(p),
            geometry=shapely.Point(lon, lat),
        ),
    ]
    for v in _victims(EOType.AP_BLAST, "front_belt", VictimStatus.CIVILIAN, rng)[:1]:
        vid = w.uid("VIC")
        out.append(
            Victim(
                uid=vid,
                date_of_information=when,
                entered_by=ENTERED_BY,
                accident_uid=aid,
                victim_status=v.status,
                outcome=v.outcome,
                sex=v.sex,
                age=v.age,
                activity_at_time=ActivityAtTime.FARMING,
            )
        )
        out.append(
            VictimIdentity(
                uid=w.uid("VID"),
                date_of_information=when,
                entered_by=ENTERED_BY,
                victim_uid=vid,
                full_name=v.name,
                home_settlement=nearest,
            )
        )
    return out


def write_people_and_quality(d: District, w: Any, store: Store) -> None:
    """Everything of this module into the store (inside the district's transaction), then the residual
    contamination investigations the district's data call for, opened as any write opens them."""
    from safeground.quality.inspections import close
    from safeground.quality.residual import open_investigations

    rng = np.random.default_rng([d.cfg.seed, STREAM])
    store.add_many(eore_sessions(d, w.g, rng))
    store.add_many(inspections(d, rng))
    store.add_many(accident_on_released_land(d, w, rng))
    opened = open_investigations(store, entered_by=ENTERED_BY).opened
    for qm in opened:  # items found where overlapping route-clearance lanes met were looked into and closed
        if all(k.startswith("eo_items:") for k in qm.opened_by):
            closed = qm.inspection_date + timedelta(days=int(rng.integers(10, 40)))
            if closed <= d.cfg.as_of:
                close(
                    store, qm.uid, closed_on=closed, entered_by=ENTERED_BY,
                    finding="items lay where two clearance lanes overlapped; the later lane found them; "
                    "lane boundaries now surveyed before release",
                )  # fmt: skip
