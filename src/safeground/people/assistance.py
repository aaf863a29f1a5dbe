"""Victim assistance figures a victims' association needs and can defend.

One row per victim (``casualties.statistics.victims_frame``: the Monitor counts people) joined with
their needs assessment and their services. Survivors are the injured; the families of people killed
are counted apart (``recipient``). Every figure counts people, never records:

* survivors without any assessed need or service (nobody has been to see them);
* days from the accident to the first assistance (any, and beyond emergency care): median and bands;
* people with an unmet need (needed, referred, not available) by area and by category;
* survivors by disability, by sex and by age group.

The layers read here are restricted; the tables are public only through
``reports.document.suppress`` (cells of 1–4 people hidden, with secondary suppression).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from safeground.casualties import statistics as cs
from safeground.model import AdminArea
from safeground.model.assistance import (
    AssistanceAssessment,
    AssistanceCategory,
    AssistanceService,
    AssistanceStatus,
    Disability,
)
from safeground.storage.base import Store

CATEGORIES = [c.value for c in AssistanceCategory]
STATUSES = [s.value for s in AssistanceStatus]
UNMET = [s.value for s in AssistanceStatus if s.unmet]
DISABILITIES = [d.value for d in Disability]
NOT_ASSESSED = "not assessed"
#: bands (days) of the time from the accident to the first assistance
DELAY_BANDS: tuple[tuple[str, int, int], ...] = (
    ("same day", 0, 0),
    ("1–7 days", 1, 7),
    ("8–30 days", 8, 30),
    ("31–90 days", 31, 90),
    ("91–365 days", 91, 365),
    ("over a year", 366, 1_000_000),
)
NONE_YET = "none yet"


def services_frame(store: Store) -> pd.DataFrame:
    """The current services (one row per need), without geometry."""
    return pd.DataFrame(store.read_frame(AssistanceService).drop(columns="geometry", errors="ignore"))


def assessments_frame(store: Store) -> pd.DataFrame:
    return pd.DataFrame(store.read_frame(AssistanceAssessment).drop(columns="geometry", errors="ignore"))


def _disabilities(value: object) -> list[str]:
    import json

    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def people_frame(store: Store, sel: cs.Selection | None = None) -> pd.DataFrame:
    """One row per victim: the casualty categories, the area, and their assistance in summary."""
    vic = cs.victims_frame(store, sel)
    svc = services_frame(store)
    ass = assessments_frame(store)
    adm = pd.DataFrame(store.read_frame(AdminArea).drop(columns="geometry", errors="ignore"))
    names = dict(zip(adm["uid"], adm["name"], strict=True)) if len(adm) else {}
    out = vic.copy()
    out["area"] = out["admin_area_uid"].map(names).fillna("area not recorded") if len(out) else []
    out["survivor"] = out["outcome"] == "injured"
    assessed = set(ass["victim_uid"]) if len(ass) else set()
    served = set(svc["victim_uid"]) if len(svc) else set()
    out["assessed"] = out["victim_uid"].isin(assessed | served)
    dis: dict[str, list[str]] = {}
    if len(ass):
        for uid, d in zip(ass.sort_values("assessed_on")["victim_uid"], ass.sort_values("assessed_on")["disabilities"],
                          strict=True):  # fmt: skip
            dis[str(uid)] = _disabilities(d)  # the latest assessment says
    out["disabilities"] = [dis.get(str(u), []) for u in out["victim_uid"]]
    first_any: dict[str, pd.Timestamp] = {}
    first_cont: dict[str, pd.Timestamp] = {}
    unmet: dict[str, int] = {}
    if len(svc):
        start = pd.to_datetime(svc["started_on"]).fillna(pd.to_datetime(svc["completed_on"]))
        s = svc.assign(_first=start)
        first_any = s.dropna(subset=["_first"]).groupby("victim_uid")["_first"].min().to_dict()
        cont = s[s["category"] != AssistanceCategory.EMERGENCY_MEDICAL.value]
        first_cont = cont.dropna(subset=["_first"]).groupby("victim_uid")["_first"].min().to_dict()
        unmet = s[s["status"].isin(UNMET)].groupby("victim_uid").size().to_dict()
    when = pd.to_datetime(out["accident_date"]) if len(out) else pd.Series(dtype="datetime64[ns]")

    def delay(first: dict[str, pd.Timestamp]) -> list[float]:
        return [
            (first[u] - w).days if u in first and not pd.isna(w) else np.nan
            for u, w in zip(out["victim_uid"], when, strict=True)
        ]

    out["days_to_first_assistance"] = delay(first_any)
    out["days_to_continuing_assistance"] = delay(first_cont)
    out["unmet_needs"] = [int(unmet.get(u, 0)) for u in out["victim_uid"]]
    return out


@dataclass(frozen=True)
class Delay:
    people: int  # people the figure is about (assessed)
    helped: int  # of whom assistance started
    median_days: float | None
    bands: pd.DataFrame  # band → people


def delay(frame: pd.DataFrame, column: str = "days_to_first_assistance") -> Delay:
    """Days from the accident to the first assistance of the assessed people of ``frame``."""
    f = frame[frame["assessed"]] if len(frame) else frame
    days = pd.to_numeric(f[column], errors="coerce") if len(f) else pd.Series(dtype=float)
    counts = {label: int(((days >= lo) & (days <= hi)).sum()) for label, lo, hi in DELAY_BANDS}
    counts[NONE_YET] = int(days.isna().sum())
    bands = pd.DataFrame({"people": counts}).rename_axis("time to assistance")
    known = days.dropna()
    return Delay(len(f), len(known), float(known.median()) if len(known) else None, bands)


def unmet_by_area(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """People with an unmet need, area (rows) × category, with totals of people per area."""
    svc = services_frame(store)
    areas = sorted(frame["area"].unique()) if len(frame) else []
    if not len(svc) or not len(frame):
        t = pd.DataFrame(0, index=pd.Index(areas, name="area"), columns=CATEGORIES)
    else:
        s = svc[svc["status"].isin(UNMET)].merge(frame[["victim_uid", "area"]], on="victim_uid")
        t = pd.crosstab(s["area"], s["category"]).reindex(index=areas, columns=CATEGORIES, fill_value=0)
    t.columns.name = None
    t.index.name = "area"
    people = frame[frame["unmet_needs"] > 0].groupby("area").size() if len(frame) else pd.Series(dtype=int)
    t["people with an unmet need"] = people.reindex(t.index, fill_value=0).astype(int)
    return t.astype(int)


def by_category(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """People (of ``frame``) per category × status."""
    svc = services_frame(store)
    s = svc[svc["victim_uid"].isin(set(frame["victim_uid"]))] if len(svc) and len(frame) else svc
    if not len(s):
        t = pd.DataFrame(0, index=CATEGORIES, columns=STATUSES)
    else:
        t = pd.crosstab(s["category"], s["status"]).reindex(index=CATEGORIES, columns=STATUSES, fill_value=0)
    t.index.name = "category"
    t.columns.name = None
    t["unmet"] = t[UNMET].sum(axis=1)
    return t.astype(int)


def by_disability(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Survivors per disability (a person with two counts in both rows; not assessed apart) × ``column``."""
    s = frame[frame["survivor"]] if len(frame) else frame
    levels = cs.CATEGORIES[column]
    rows = [*DISABILITIES, NOT_ASSESSED]
    t = pd.DataFrame(0, index=pd.Index(rows, name="disability"), columns=levels)
    for dis, value, assessed in zip(s["disabilities"], s[column], s["assessed"], strict=True):
        for d in dis if assessed and dis else [NOT_ASSESSED] if not assessed else []:
            if d in t.index and value in t.columns:
                t.at[d, value] += 1
    t.columns.name = None
    return t.astype(int)


@dataclass(frozen=True)
class AssistanceFigures:
    survivors: int
    survivors_assessed: int
    survivors_without_service: int
    families: int  # people killed whose family was assessed
    killed: int
    people_with_unmet_need: int
    first: Delay
    continuing: Delay


def figures(store: Store, frame: pd.DataFrame) -> AssistanceFigures:
    surv = frame[frame["survivor"]] if len(frame) else frame
    killed = frame[~frame["survivor"]] if len(frame) else frame
    return AssistanceFigures(
        survivors=len(surv),
        survivors_assessed=int(surv["assessed"].sum()) if len(surv) else 0,
        survivors_without_service=int((~surv["assessed"]).sum()) if len(surv) else 0,
        families=int(killed["assessed"].sum()) if len(killed) else 0,
        killed=len(killed),
        people_with_unmet_need=int((frame["unmet_needs"] > 0).sum()) if len(frame) else 0,
        first=delay(surv, "days_to_first_assistance"),
        continuing=delay(surv, "days_to_continuing_assistance"),
    )


def follow_ups_due(store: Store, frame: pd.DataFrame, on: pd.Timestamp) -> pd.DataFrame:
    """Restricted: each unmet or ongoing need whose next follow-up is on or before ``on``."""
    svc = services_frame(store)
    if not len(svc):
        return pd.DataFrame(columns=["victim_uid", "category", "status", "provider", "next_follow_up"])
    due = svc[pd.to_datetime(svc["next_follow_up"]) <= on]
    due = due[due["victim_uid"].isin(set(frame["victim_uid"]))]
    return due[["uid", "victim_uid", "category", "status", "provider", "next_follow_up"]].sort_values(
        ["next_follow_up", "victim_uid"]
    )
