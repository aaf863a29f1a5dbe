"""The district summary a mine action manager asks for first.

Computed from the store (never from the generator's memory), so the same code
summarises real data and the demo alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from safeground.model import (
    Accident,
    Activity,
    EOItem,
    HazardArea,
    MinefieldRecord,
    Victim,
)
from safeground.storage.base import Store, metric_epsg


@dataclass
class DistrictSummary:
    hazards: pd.DataFrame  # classification × status: count, estimated km², remaining km²
    records_by_source: pd.DataFrame
    items: pd.DataFrame  # eo_type: recorded, found
    casualties: pd.DataFrame  # victim_status × outcome
    civilian_activity: pd.DataFrame
    land_release: dict[str, float]  # km²
    totals: dict[str, float] = field(default_factory=dict)
    casualties_by_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    casualty_period: tuple[str, str] | None = None


def summarise(store: Store) -> DistrictSummary:
    hz = store.read_frame(HazardArea)
    if len(hz):
        hz_m = hz.to_crs(metric_epsg(store, hz))
        hz["area_km2"] = hz_m.area / 1e6
        hz["remaining_km2"] = hz["remaining_area_m2"] / 1e6
        hz["estimated_km2"] = hz["estimated_area_m2"] / 1e6
        hazards = (
            hz.groupby(["classification", "status"])
            .agg(
                count=("uid", "size"),
                estimated_km2=("estimated_km2", "sum"),
                area_km2=("area_km2", "sum"),
                remaining_km2=("remaining_km2", "sum"),
            )
            .reset_index()
        )
    else:
        hazards = pd.DataFrame(
            columns=["classification", "status", "count", "estimated_km2", "area_km2", "remaining_km2"]
        )

    recs = store.read_frame(MinefieldRecord)
    if len(recs):
        expected = recs["expected_mines"].map(lambda s: sum(json.loads(s).values()) if s else 0)
        recs = recs.assign(expected=expected)
        records_by_source = (
            recs.groupby("source")
            .agg(
                records=("uid", "size"),
                expected_mines=("expected", "sum"),
                first_received=("date_received", "min"),
            )
            .reset_index()
        )
    else:
        records_by_source = pd.DataFrame(columns=["source", "records", "expected_mines", "first_received"])

    eo = store.read_frame(EOItem)
    items = (
        pd.crosstab(eo["eo_type"], eo["status"]).reindex(columns=["recorded", "found"], fill_value=0)
        if len(eo)
        else pd.DataFrame(columns=["recorded", "found"])
    )

    vic = store.read_frame(Victim)
    acc = store.read_frame(Accident)
    by_year = pd.DataFrame()
    period = None
    if len(vic) and len(acc):
        dated = vic.merge(acc[["uid", "accident_date"]].rename(columns={"uid": "accident_uid"}), on="accident_uid")
        dated["year"] = dated["accident_date"].astype(str).str[:4]
        by_year = pd.crosstab(dated["year"], dated["victim_status"])
        period = (str(acc["accident_date"].min()), str(acc["accident_date"].max()))
    if len(vic):
        casualties = pd.crosstab(vic["victim_status"], vic["outcome"], margins=True, margins_name="total")
        civ = vic[vic["victim_status"] == "civilian"]
        civilian_activity = (
            civ.groupby("activity_at_time").size().sort_values(ascending=False).rename("victims").reset_index()
        )
        children = int((civ["age"].dropna() < 18).sum())
    else:
        casualties = pd.DataFrame()
        civilian_activity = pd.DataFrame(columns=["activity_at_time", "victims"])
        children = 0

    act = store.read_frame(Activity)
    land_release = {
        "cancelled_km2": float(act["area_cancelled_m2"].sum() / 1e6) if len(act) else 0.0,
        "reduced_km2": float(act["area_reduced_m2"].sum() / 1e6) if len(act) else 0.0,
        "cleared_km2": float(act["area_cleared_m2"].sum() / 1e6) if len(act) else 0.0,
    }
    totals = {
        "hazard_areas": float(len(hz)),
        "remaining_km2": float(hz["remaining_area_m2"].sum() / 1e6) if len(hz) else 0.0,
        "minefield_records": float(len(recs)),
        "accidents": float(len(acc)),
        "casualties": float(len(vic)),
        "civilian_casualties": float((vic["victim_status"] == "civilian").sum()) if len(vic) else 0.0,
        "child_casualties": float(children),
        "items_recorded": float((eo["status"] == "recorded").sum()) if len(eo) else 0.0,
        "items_found": float((eo["status"] == "found").sum()) if len(eo) else 0.0,
    }
    return DistrictSummary(
        hazards,
        records_by_source,
        items,
        casualties,
        civilian_activity,
        land_release,
        totals,
        by_year,
        period,
    )
