"""The district summary a mine action manager asks for first.

Computed from the store (never from the generator's memory), so the same code
summarises real data and the demo alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
import shapely

from safeground.casualties.statistics import Selection, selected_accidents
from safeground.geometry.projection import crs_label
from safeground.model import (
    Accident,
    Activity,
    EOItem,
    HazardArea,
    MinefieldRecord,
    Victim,
)
from safeground.storage.base import Store, area_crs


def accidents_without_victims(store: Store, sel: Selection | None = None) -> int:
    """How many accidents (of the selection's period and area, when one is given) have no victim row at all.

    A national incident list often holds only the accidents; counting their victims
    as nobody would print "0 killed". Reports say how many accidents have no victim
    details instead, and count no casualties for them.
    """
    acc = selected_accidents(store, sel or Selection())
    if not len(acc):
        return 0
    vic = store.read_frame(Victim)
    known = set(vic["accident_uid"]) if len(vic) else set()
    return int((~acc["uid"].isin(known)).sum())


def no_victim_details(n: int) -> str:
    """The sentence every output uses for accidents without victim rows (tests look for it)."""
    return (
        f"{n:,} accident{'s have' if n != 1 else ' has'} no victim details: no one is counted killed or injured "
        "for them, which does not mean no one was hurt"
    )


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
    accidents_without_victims: int = 0
    #: how the polygon areas are summed (the union within each row: overlaps count once)
    area_note: str = ""


def summarise(store: Store) -> DistrictSummary:
    hz = store.read_frame(HazardArea)
    area_note = ""
    if len(hz):
        crs = area_crs(store, hz)
        hz_m = hz.to_crs(crs)
        hz_m["geometry"] = shapely.make_valid(hz_m.geometry.to_numpy())
        hz["area_km2"] = 0.0  # replaced by the union per row below
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
        keys = ["classification", "status"]
        union = hz_m.groupby(keys)["geometry"].agg(lambda g: shapely.union_all(g.to_numpy()).area / 1e6)
        hazards["area_km2"] = [float(union.loc[tuple(k)]) for k in hazards[keys].to_numpy()]
        whole = float(shapely.union_all(hz_m.geometry.to_numpy()).area) / 1e6
        overlap = float(hz_m.area.sum()) / 1e6 - whole
        area_note = (
            f"Polygon areas are the union of each row's polygons (ground under two overlapping areas counts once), "
            f"measured in {crs_label(crs)}; all hazard polygons together cover {whole:,.2f} km²"
            + (f" ({overlap:,.2f} km² of overlap counted once)" if overlap > 0.005 else "")
            + ". Estimated and remaining km² add up the figures recorded on each area."
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
        dated["year"] = pd.to_datetime(dated["accident_date"], errors="coerce").dt.year.map(
            lambda y: "date unknown" if pd.isna(y) else str(int(y))
        )
        by_year = pd.crosstab(dated["year"], dated["victim_status"])
        known = pd.to_datetime(acc["accident_date"], errors="coerce").dropna()  # undated: "date unknown"
        period = (str(known.min().date()), str(known.max().date())) if len(known) else None
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
        "activities": float(len(act)),
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
        accidents_without_victims(store),
        area_note,
    )
