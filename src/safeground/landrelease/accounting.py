"""Land release accounting (IMAS 07.11): what was cancelled, reduced, cleared, and what remains.

Released land comes from the activities (each says how many m² it cancelled by
non-technical survey, reduced by technical survey and cleared); what remains
comes from the hazard areas and their history, so the remaining area can be read
at any date, not only today: a report of last year's figures re-run today gives
last year's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from safeground.model import Activity, HazardArea, Organisation
from safeground.model.vocab import ActivityType
from safeground.storage.base import Store

RELEASE_COLUMNS = ["cancelled_m2", "reduced_m2", "cleared_m2"]


def finished_release_work(act: pd.DataFrame) -> pd.DataFrame:
    """The finished NTS, TS and clearance of an activities frame: the work that surveyed or released ground.

    An EOD spot task removes one item and verifies no ground, so it is left out; an activity
    still in progress has released nothing yet."""
    if not len(act):
        return act
    kinds = {ActivityType.NTS.value, ActivityType.TS.value, ActivityType.CLEARANCE.value}
    return act[act["end_date"].notna() & act["activity_type"].astype(str).isin(kinds)]


def released_ground(store: Store, epsg: int) -> BaseGeometry:
    """Ground that finished survey or clearance released or verified (metric): see ``finished_release_work``."""
    done = finished_release_work(store.read_frame(Activity))
    if not len(done):
        return shapely.Polygon()
    return shapely.union_all(shapely.make_valid(done.to_crs(epsg).geometry.to_numpy()))


#: the columns of an activity the accounting reads
_ACTIVITY_COLUMNS = [
    "uid", "activity_type", "organisation_uid", "method", "start_date", "end_date", "hazard_area_uid",
    "area_cancelled_m2", "area_reduced_m2", "area_cleared_m2", "items_found",
]  # fmt: skip


def activities_frame(store: Store, *, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Activities with the date their land counts as released (end date, else start) and the organisation."""
    # only the columns it gives, and no geometry: a country's activities' polygons are never decoded here
    act = store.read_columns(Activity, _ACTIVITY_COLUMNS)
    cols = ["uid", "activity_type", "organisation", "method", "start_date", "end_date", "released_on", "month"]
    cols += ["hazard_area_uid", *RELEASE_COLUMNS, "items_found", "days"]
    if not len(act):
        return pd.DataFrame(columns=cols)
    orgs = store.read_columns(Organisation, ["uid", "acronym", "name"])
    names = dict(zip(orgs["uid"], orgs["acronym"].fillna(orgs["name"]), strict=True)) if len(orgs) else {}
    act = act.rename(
        columns={
            "area_cancelled_m2": "cancelled_m2",
            "area_reduced_m2": "reduced_m2",
            "area_cleared_m2": "cleared_m2",
        }
    )
    act["start_date"] = pd.to_datetime(act["start_date"]).dt.date
    ends = pd.to_datetime(act["end_date"])
    act["end_date"] = [None if pd.isna(e) else e.date() for e in ends]
    act["released_on"] = [s if e is None else e for s, e in zip(act["start_date"], act["end_date"], strict=True)]
    act["days"] = [(r - s).days + 1 for s, r in zip(act["start_date"], act["released_on"], strict=True)]
    act["month"] = pd.to_datetime(act["released_on"]).dt.strftime("%Y-%m")
    act["organisation"] = act["organisation_uid"].map(names).fillna(act["organisation_uid"])
    if start:
        act = act[act["released_on"] >= start]
    if end:
        act = act[act["released_on"] <= end]
    return act[cols].sort_values(["released_on", "uid"]).reset_index(drop=True)


def _totals(g: pd.core.groupby.DataFrameGroupBy) -> pd.DataFrame:
    out = g.agg(
        activities=("uid", "size"),
        cancelled_m2=("cancelled_m2", "sum"),
        reduced_m2=("reduced_m2", "sum"),
        cleared_m2=("cleared_m2", "sum"),
        items_found=("items_found", "sum"),
    )
    out["released_m2"] = out[RELEASE_COLUMNS].sum(axis=1)
    # items per hectare of ground physically searched (reduced by TS or cleared): cancelled land was never searched
    searched_ha = (out["reduced_m2"] + out["cleared_m2"]) / 1e4
    out["items_per_ha"] = (out["items_found"] / searched_ha.where(searched_ha > 0)).round(2)
    return out


def by_organisation_and_method(act: pd.DataFrame) -> pd.DataFrame:
    return _totals(act.groupby(["organisation", "method"])).reset_index()


def by_month(act: pd.DataFrame) -> pd.DataFrame:
    """Released m² per month (every month of the period), with cumulative totals."""
    if not len(act):
        return pd.DataFrame(columns=[*RELEASE_COLUMNS, "items_found", "released_m2", "cumulative_released_m2"])
    t = act.groupby("month")[[*RELEASE_COLUMNS, "items_found"]].sum()
    months = pd.period_range(act["month"].min(), act["month"].max(), freq="M").strftime("%Y-%m")
    t = t.reindex(months, fill_value=0)
    t["released_m2"] = t[RELEASE_COLUMNS].sum(axis=1)
    t["cumulative_released_m2"] = t["released_m2"].cumsum()
    t.index.name = "month"
    return t


def totals(act: pd.DataFrame) -> dict[str, float]:
    t = {c: float(act[c].sum()) if len(act) else 0.0 for c in [*RELEASE_COLUMNS, "items_found"]}
    t["released_m2"] = t["cancelled_m2"] + t["reduced_m2"] + t["cleared_m2"]
    searched_ha = (t["reduced_m2"] + t["cleared_m2"]) / 1e4
    if searched_ha:  # nothing reduced or cleared: no rate at all (absent, not NaN)
        t["items_per_ha"] = t["items_found"] / searched_ha
    return t


@dataclass(frozen=True)
class HazardVersion:
    uid: str
    version: int
    date_of_information: date
    status: str
    classification: str
    remaining_m2: float
    estimated_m2: float


def hazard_versions(store: Store) -> pd.DataFrame:
    """Every version of every hazard area: the status history the remaining area is read from."""
    # one bulk read of the columns it needs (no geometry decoded, no record built per version): on a national
    # store of 8,000 areas the per-record ``history`` calls built 30,000 records with their polygons
    cols = ["uid", "version", "date_of_information", "status", "classification", "remaining_area_m2"]
    rows = store.version_rows(HazardArea, [*cols, "estimated_area_m2"])
    current = set(store.current_versions(HazardArea))
    rows = [r for r in rows if r[0] in current]  # what history holds of a removed record is not a hazard area
    if not rows:
        return pd.DataFrame()
    rows.sort(key=lambda r: (r[0], r[1]))
    uid, version, when, status, cls, remaining, estimated = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "uid": list(uid),
            "version": [int(v) for v in version],
            "date_of_information": [_as_date(v) for v in when],
            "status": list(status),
            "classification": list(cls),
            "remaining_m2": [float(v) for v in remaining],
            "estimated_m2": [float(v) for v in estimated],
        }
    )


def _as_date(v: object) -> date:
    """A stored date as the record gives it: GeoPackage keeps ISO text, PostGIS a date."""
    if isinstance(v, datetime):
        return v.date()
    return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])


def remaining_on(versions: pd.DataFrame, when: date) -> pd.DataFrame:
    """Each hazard area as it was known on a date (the latest version with information up to then)."""
    if not len(versions):
        return versions
    known = versions[versions["date_of_information"] <= when]
    return known.sort_values(["uid", "version"]).groupby("uid").tail(1).reset_index(drop=True)


def remaining_by_month(versions: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Remaining suspected (SHA) and confirmed (CHA) area at the end of each month."""
    rows = []
    for m in months:
        end = (pd.Period(m, freq="M").end_time).date()
        now = remaining_on(versions, end)
        open_ = now[now["status"] != "closed"] if len(now) else now
        rows.append(
            {
                "month": m,
                "open_areas": len(open_),
                "sha_remaining_m2": float(
                    open_.loc[open_["classification"] == "suspected_hazardous_area", "remaining_m2"].sum()
                )
                if len(open_)
                else 0.0,
                "cha_remaining_m2": float(
                    open_.loc[open_["classification"] == "confirmed_hazardous_area", "remaining_m2"].sum()
                )
                if len(open_)
                else 0.0,
            }
        )
    out = pd.DataFrame(rows).set_index("month")
    out["remaining_m2"] = out["sha_remaining_m2"] + out["cha_remaining_m2"]
    return out
