"""Which missing person may a human remains find be? Proposals with their reasons; a person decides.

A clearance team finds remains; the missing-persons commission has a registry of people last seen
somewhere, at some date, in some circumstances. :func:`candidates` ranks the open cases for one
find by how likely each would leave remains where and when they were found. The score is a product
of four factors, each shown beside it, so a person can see why a case is ranked where it is:

* **distance** from the case's last known place, judged against how precisely that place is known
  (``place_uncertainty_m``: a named position, a hill, a village's lands, taken as two standard
  deviations): ``exp(-½ (d/σ)²)``;
* **precision**: ``(σ_min/σ)²``: a vague place matches remains anywhere in a wide area, so it is worth
  less than a precise one at the same distance (together with the distance factor this is the
  likelihood of a find at that spot under a normal spread around the place, relative to the most
  precise place);
* **date**: a person who went missing after the find cannot be it (left out, and said so); a known
  date or year during the fighting counts fully, an unknown one less;
* **circumstances**: remains within the contact zone of the former front fit a combatant or someone
  crossing the line; remains in or beside a village fit a civilian at home or in flight.

``share`` is the score as a share of the scores of all the cases proposed for the find: how much of
the evidence points to this case among the registered ones (it cannot say that the person is in the
registry at all).

Nothing is decided here: :func:`confirm` stores a person's decision (candidate or identified) with the
rank and the reasons they saw, and :func:`hand_over` the handover of the remains. Everything read and
written is restricted; only the restricted audience may call these (the services check it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import shapely

from safeground.casualties.statistics import CONTACT_ZONE_M, front_line
from safeground.errors import RecordNotFound, SafeGroundError
from safeground.model import HumanRemainsFind, InfrastructureArea
from safeground.model.base import Record
from safeground.model.missing import (
    CaseState,
    Circumstances,
    LinkState,
    MissingPerson,
    ReceivingBody,
    RemainsCaseLink,
    RemainsHandover,
)
from safeground.storage.base import Store, metric_epsg

#: the uncertainty (m) assumed for a last known place recorded without one
DEFAULT_UNCERTAINTY_M = 1000.0
#: the most precise last known place: a named position (m)
MIN_UNCERTAINTY_M = 300.0
#: cases farther than this (m) from a find are not proposed at all
MAX_DISTANCE_M = 10_000.0
#: remains this close (m) to a settlement are "in or beside a village"
VILLAGE_M = 500.0
#: years of fighting: a person missing then, near the front, is what the registry is mostly about
WAR_YEARS = frozenset({1991, 1992, 1993, 1994, 2016, 2020})

#: fit of a case's circumstances to where the remains were found
_FIT_FRONT = {
    Circumstances.COMBATANT_FRONT_LINE: 1.0,
    Circumstances.CROSSING: 0.9,
    Circumstances.CIVILIAN_FLIGHT: 0.6,
    Circumstances.DETAINED: 0.4,
    Circumstances.CIVILIAN_AT_HOME: 0.2,
    Circumstances.UNKNOWN: 0.5,
}
_FIT_VILLAGE = {
    Circumstances.CIVILIAN_AT_HOME: 1.0,
    Circumstances.CIVILIAN_FLIGHT: 0.9,
    Circumstances.DETAINED: 0.6,
    Circumstances.COMBATANT_FRONT_LINE: 0.5,
    Circumstances.CROSSING: 0.5,
    Circumstances.UNKNOWN: 0.5,
}
_FIT_ELSEWHERE = {
    Circumstances.CIVILIAN_FLIGHT: 0.9,
    Circumstances.CROSSING: 0.8,
    Circumstances.COMBATANT_FRONT_LINE: 0.6,
    Circumstances.DETAINED: 0.6,
    Circumstances.CIVILIAN_AT_HOME: 0.4,
    Circumstances.UNKNOWN: 0.5,
}


@dataclass(frozen=True)
class FindContext:
    """Where a find lies, in the terms the circumstances are judged by."""

    find_uid: str
    find_date: date
    distance_to_front_m: float | None
    distance_to_village_m: float | None

    @property
    def setting(self) -> str:
        if self.distance_to_front_m is not None and self.distance_to_front_m <= CONTACT_ZONE_M:
            return "front"
        if self.distance_to_village_m is not None and self.distance_to_village_m <= VILLAGE_M:
            return "village"
        return "elsewhere"

    def describe(self) -> str:
        if self.setting == "front":
            return f"{self.distance_to_front_m / 1000:.1f} km from the former front line"  # type: ignore[operator]
        if self.setting == "village":
            return "in or beside a village"
        return "away from the front and the villages"


@dataclass(frozen=True)
class Candidate:
    """One case proposed for a find, with each factor's contribution to its score and the reasons."""

    find_uid: str
    case_uid: str
    rank: int
    score: float
    share: float
    distance_m: float
    f_distance: float
    f_precision: float
    f_date: float
    f_circumstances: float
    case_state: str
    reasons: tuple[str, ...]

    def reasons_text(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class Ranking:
    """The candidates of one find, best first, and the cases left out with why."""

    context: FindContext
    candidates: list[Candidate]
    left_out: dict[str, int] = field(default_factory=dict)  # reason → cases


def _contexts(store: Store, finds: pd.DataFrame, epsg: int) -> dict[str, FindContext]:
    if not len(finds):
        return {}
    m = finds.to_crs(epsg)
    line = front_line(store, epsg)
    infra = store.read_frame(InfrastructureArea)
    villages = infra[infra["kind"] == "settlement"] if len(infra) else infra
    vgeom = villages.to_crs(epsg).geometry.union_all() if len(villages) else None
    out = {}
    for uid, when, g in zip(m["uid"], finds["find_date"], m.geometry, strict=True):
        out[str(uid)] = FindContext(
            str(uid),
            pd.Timestamp(when).date(),
            None if line is None else float(g.distance(line)),
            None if vgeom is None else float(g.distance(vgeom)),
        )
    return out


def _date_factor(case: pd.Series, find_date: date) -> tuple[float | None, str]:
    """(factor, reason); None: the case cannot be this find (missing after it was found)."""
    when = case["date_missing"]
    year = case["year_missing"]
    if when is not None and not pd.isna(when):
        d = pd.Timestamp(when).date()
        if d > find_date:
            return None, f"missing since {d}, after the find"
        war = d.year in WAR_YEARS
        return (1.0 if war else 0.7), f"missing since {d}" + (" (during the fighting)" if war else "")
    if year is not None and not pd.isna(year):
        y = int(year)
        if y > find_date.year:
            return None, f"missing since {y}, after the find"
        war = y in WAR_YEARS
        return (0.9 if war else 0.6), f"missing since {y} (year only)" + (" (during the fighting)" if war else "")
    return 0.5, "date missing not known"


def rank_finds(store: Store, find_uids: list[str] | None = None, *, top: int = 10) -> dict[str, Ranking]:
    """The candidate cases of each find (all finds, or those named), best first, at most ``top`` each."""
    finds = store.read_frame(HumanRemainsFind)
    if find_uids is not None:
        unknown = sorted(set(find_uids) - set(finds["uid"])) if len(finds) else sorted(find_uids)
        if unknown:
            raise RecordNotFound(
                f"no human remains find {', '.join(unknown)}",
                hint="list the finds with the commission's report, or check the identifier (HRF-…)",
            )
        finds = finds[finds["uid"].isin(find_uids)]
    cases = store.read_frame(MissingPerson)
    if not len(finds):
        return {}
    epsg = metric_epsg(store, finds)
    ctx = _contexts(store, finds, epsg)
    links = pd.DataFrame(store.read_frame(RemainsCaseLink).drop(columns="geometry", errors="ignore"))
    decided = (
        {(f, c): s for f, c, s in zip(links["find_uid"], links["case_uid"], links["state"], strict=True)}
        if len(links)
        else {}
    )
    out: dict[str, Ranking] = {}
    if not len(cases):
        return {uid: Ranking(c, [], {"no missing person is registered": 0}) for uid, c in ctx.items()}
    cm = cases.to_crs(epsg)
    cxy = shapely.get_coordinates(cm.geometry.to_numpy())
    unc = pd.to_numeric(cases["place_uncertainty_m"], errors="coerce").fillna(DEFAULT_UNCERTAINTY_M).to_numpy()
    unc = np.maximum(unc, MIN_UNCERTAINTY_M)
    fm = finds.to_crs(epsg)
    for fuid, g in zip(finds["uid"], fm.geometry, strict=True):
        c = ctx[str(fuid)]
        fit = {"front": _FIT_FRONT, "village": _FIT_VILLAGE}.get(c.setting, _FIT_ELSEWHERE)
        d = np.hypot(cxy[:, 0] - g.x, cxy[:, 1] - g.y)
        left: dict[str, int] = {}
        rows = []
        for pos, i in enumerate(np.argsort(d)):
            case = cases.iloc[int(i)]
            state = str(case["case_state"])
            link = decided.get((str(fuid), str(case["uid"])))
            if link == LinkState.REJECTED.value:
                why = "rejected for this find by the commission"
                left[why] = left.get(why, 0) + 1
                continue
            if state in (CaseState.IDENTIFIED.value, CaseState.CLOSED.value) and link is None:
                left[f"case {state}"] = left.get(f"case {state}", 0) + 1
                continue
            if d[i] > MAX_DISTANCE_M:
                left[f"more than {MAX_DISTANCE_M / 1000:g} km away"] = len(d) - pos
                break
            f_date, why_date = _date_factor(case, c.find_date)
            if f_date is None:
                left["missing after the find"] = left.get("missing after the find", 0) + 1
                continue
            sigma = unc[i] / 2.0
            f_dist = math.exp(-0.5 * (d[i] / sigma) ** 2)
            f_prec = (MIN_UNCERTAINTY_M / unc[i]) ** 2
            circ = Circumstances(str(case["circumstances"]))
            f_circ = fit[circ]
            reasons = [
                f"{d[i]:,.0f} m from the last known place (known to ±{unc[i]:,.0f} m)",
                why_date,
                f"{circ.value.replace('_', ' ')}; remains {c.describe()}",
            ]
            if link is not None:
                reasons.append(f"already decided: {link}")
            elif state == CaseState.CANDIDATE.value:
                reasons.append("already a candidate for another find")
            rows.append(
                (
                    f_dist,
                    f_prec,
                    f_date,
                    f_circ,
                    str(case["uid"]),
                    float(d[i]),
                    state,
                    tuple(reasons),
                )
            )
        scores = [a * b * e * g for a, b, e, g, *_ in rows]
        total = sum(scores) or 1.0
        order = sorted(range(len(rows)), key=lambda k: (-scores[k], rows[k][5], rows[k][4]))
        out[str(fuid)] = Ranking(
            c,
            [
                Candidate(
                    find_uid=str(fuid),
                    case_uid=rows[k][4],
                    rank=n + 1,
                    score=scores[k],
                    share=scores[k] / total,
                    distance_m=round(rows[k][5], 1),
                    f_distance=float(rows[k][0]),
                    f_precision=float(rows[k][1]),
                    f_date=float(rows[k][2]),
                    f_circumstances=float(rows[k][3]),
                    case_state=rows[k][6],
                    reasons=rows[k][7],
                )
                for n, k in enumerate(order[:top])
            ],
            left,
        )
    return out


def candidates(store: Store, find_uid: str, *, top: int = 10) -> Ranking:
    return rank_finds(store, [find_uid], top=top)[find_uid]


def _require(store: Store, cls: type[Record], uid: str, what: str) -> object:
    try:
        return store.get(cls, uid)
    except RecordNotFound:
        raise RecordNotFound(f"no {what} {uid}", hint=f"check the identifier ({cls.UID_PREFIX}-…)") from None


def confirm(
    store: Store,
    find_uid: str,
    case_uid: str,
    *,
    by: str,
    on: date | None = None,
    identified: bool = False,
    reject: bool = False,
    note: str | None = None,
) -> tuple[RemainsCaseLink, MissingPerson]:
    """A person's decision that a find is (a candidate for / identified as / not) a missing person.

    Stores the link with the rank, score and reasons SafeGround showed, and moves the case's state
    (candidate or identified; a rejection leaves it), both in one transaction."""
    if identified and reject:
        raise SafeGroundError("a match cannot be identified and rejected at once", hint="choose one")
    if not by.strip():
        raise SafeGroundError("who decides must be named", hint="give the name of the person who decides (by)")
    _require(store, HumanRemainsFind, find_uid, "human remains find")
    case = _require(store, MissingPerson, case_uid, "missing person")
    assert isinstance(case, MissingPerson)
    if case.case_state in (CaseState.IDENTIFIED, CaseState.CLOSED) and not reject:
        raise SafeGroundError(
            f"case {case_uid} is already {case.case_state.value}",
            hint="a closed or identified case is not matched again; reopen it in the registry first",
        )
    ranking = candidates(store, find_uid, top=1000)
    proposed = next((c for c in ranking.candidates if c.case_uid == case_uid), None)
    today = on or date.today()
    state = LinkState.REJECTED if reject else LinkState.IDENTIFIED if identified else LinkState.CANDIDATE
    link = RemainsCaseLink(
        uid=store.next_uid(RemainsCaseLink),
        date_of_information=today,
        entered_by=by,
        find_uid=find_uid,
        case_uid=case_uid,
        state=state,
        decided_by=by,
        decided_on=today,
        proposed_rank=proposed.rank if proposed else None,
        score=proposed.score if proposed else None,
        reasons=proposed.reasons_text() if proposed else "not among SafeGround's candidates",
        note=note,
    )
    new_state = {LinkState.IDENTIFIED: CaseState.IDENTIFIED, LinkState.CANDIDATE: CaseState.CANDIDATE}.get(state)
    with store.transaction():
        store.add(link)
        if new_state is not None and new_state != case.case_state:
            case = store.update(
                case.model_copy(
                    update={
                        "case_state": new_state,
                        "date_of_information": max(today, case.date_of_information),
                        "entered_by": by,
                        "change_reason": f"remains {find_uid}: {state.value} ({link.uid})",
                    }
                ),
                expected_version=case.version,
            )
    return link, case


def hand_over(
    store: Store,
    find_uid: str,
    *,
    to: ReceivingBody,
    on: date,
    by: str,
    received_by: str | None = None,
    reference: str | None = None,
) -> RemainsHandover:
    """Record the handover of a find's remains (date and receiving body)."""
    find = _require(store, HumanRemainsFind, find_uid, "human remains find")
    assert isinstance(find, HumanRemainsFind)
    if on < find.find_date:
        raise SafeGroundError(
            f"handover on {on} is before the find ({find.find_date})", hint="give the day the remains were handed over"
        )
    rec = RemainsHandover(
        uid=store.next_uid(RemainsHandover),
        date_of_information=on,
        entered_by=by,
        find_uid=find_uid,
        handed_on=on,
        receiving_body=to,
        received_by=received_by,
        handed_by=by,
        reference=reference,
    )
    return store.add(rec)


def commission_table(store: Store) -> pd.DataFrame:
    """One row per find: date, area, setting, handover, the linked case and its state, the best candidates."""
    from safeground.model import AdminArea

    finds = store.read_frame(HumanRemainsFind)
    cols = ["find_uid", "find_date", "area", "setting", "handed_on", "receiving_body", "linked_case", "link_state",
            "case_state", "top_candidates"]  # fmt: skip
    if not len(finds):
        return pd.DataFrame(columns=cols)
    ranks = rank_finds(store, top=3)
    adm = store.read_frame(AdminArea)
    muni = adm[adm["level"] == "municipality"] if len(adm) else adm
    hand = pd.DataFrame(store.read_frame(RemainsHandover).drop(columns="geometry", errors="ignore"))
    links = pd.DataFrame(store.read_frame(RemainsCaseLink).drop(columns="geometry", errors="ignore"))
    cases = pd.DataFrame(store.read_frame(MissingPerson).drop(columns="geometry", errors="ignore"))
    state_of = dict(zip(cases["uid"], cases["case_state"], strict=True)) if len(cases) else {}
    rows = []
    for _, f in finds.sort_values(["find_date", "uid"]).iterrows():
        uid = str(f["uid"])
        area = next((str(n) for n, g in zip(muni["name"], muni.geometry, strict=True) if g.contains(f.geometry)), "")
        h = hand[hand["find_uid"] == uid].sort_values("handed_on") if len(hand) else hand
        lk = links[(links["find_uid"] == uid) & (links["state"] != "rejected")] if len(links) else links
        lk = lk.sort_values("decided_on") if len(lk) else lk
        r = ranks.get(uid)
        rows.append(
            {
                "find_uid": uid,
                "find_date": pd.Timestamp(f["find_date"]).date().isoformat(),
                "area": area,
                "setting": r.context.describe() if r else "",
                "handed_on": "" if not len(h) else str(h["handed_on"].iloc[-1])[:10],
                "receiving_body": "" if not len(h) else str(h["receiving_body"].iloc[-1]).replace("_", " "),
                "linked_case": "" if not len(lk) else str(lk["case_uid"].iloc[-1]),
                "link_state": "" if not len(lk) else str(lk["state"].iloc[-1]),
                "case_state": "" if not len(lk) else str(state_of.get(lk["case_uid"].iloc[-1], "")).replace("_", " "),
                "top_candidates": ", ".join(f"{c.case_uid} ({c.share:.0%})" for c in r.candidates) if r else "",
            }
        )
    return pd.DataFrame(rows, columns=cols)
