"""Casualty statistics in the categories of the Landmine Monitor.

One row per victim (never per accident: the Monitor counts people), joined with
its accident for the date, the device and the place, and measured against the
former front line. Every table is computed from that one frame, so the figures
of a report, an export and a test cannot drift apart.

Identities are never read here: the victim_identities layer is restricted and
statistics do not need it.

An accident whose date is not known (old records often have none) is never
given an invented one: its victims are counted under ``DATE_UNKNOWN`` in the
month and year tables, so every total still adds up to every victim. A period
selection (start/end) cannot place them and leaves them out; ``undated`` says
how many that is.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from safeground.errors import SafeGroundError
from safeground.model import Accident, AdminArea, FrontLine, Victim
from safeground.model.vocab import ActivityAtTime, DeviceType, Outcome, Sex, VictimStatus
from safeground.storage.base import Store, metric_epsg

#: Distance (m) from the former contact line within which an accident counts as on
#: the contact line: the depth of the defensive minefield belts (up to 2 km).
CONTACT_ZONE_M = 2000.0
#: Distance bands (m) for the "distance from the former front line" table.
DISTANCE_BANDS_M: tuple[float, ...] = (0.0, 500.0, 2000.0, 5000.0, 10000.0, np.inf)

#: The month and the year of an accident whose date is not known.
DATE_UNKNOWN = "date unknown"

#: The Landmine Monitor's categories, in the order its tables use.
CATEGORIES: dict[str, list[str]] = {
    "victim_status": [v.value for v in VictimStatus],
    "outcome": [v.value for v in Outcome],
    "sex": [v.value for v in Sex],
    "age_group": ["child", "adult", "unknown"],
    "device_type": [v.value for v in DeviceType],
    "activity_at_time": [v.value for v in ActivityAtTime],
}


@dataclass(frozen=True)
class Selection:
    """Which casualties a statistic covers: a period (inclusive) and an area."""

    start: date | None = None
    end: date | None = None
    admin_area: str | None = None  # uid or name of an admin area
    area: BaseGeometry | None = None  # any WGS 84 polygon

    def describe(self) -> str:
        when = f"{self.start or 'first record'} to {self.end or 'last record'}"
        where = self.admin_area or ("the given area" if self.area is not None else "the whole store")
        return f"{when}, {where}"


def _area_geometry(store: Store, sel: Selection) -> BaseGeometry | None:
    if sel.area is not None:
        return sel.area
    if not sel.admin_area:
        return None
    adm = store.read_frame(AdminArea)
    hit = adm[(adm["uid"] == sel.admin_area) | (adm["name"] == sel.admin_area)] if len(adm) else adm
    if not len(hit):
        names = ", ".join(sorted(adm["name"])) if len(adm) else "none stored"
        raise SafeGroundError(f"no admin area {sel.admin_area!r}", hint=f"use one of: {names}")
    return hit.geometry.union_all()


def front_line(store: Store, epsg: int) -> BaseGeometry | None:
    """The former contact line in metric coordinates (all stored front lines together)."""
    fl = store.read_frame(FrontLine)
    if not len(fl):
        return None
    return fl.to_crs(epsg).geometry.union_all()


def selected_accidents(store: Store, sel: Selection, acc: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The accidents of the selection's period and area (an undated accident is outside any period)."""
    acc = (store.read_frame(Accident) if acc is None else acc).copy()
    if not len(acc):
        return acc
    when = pd.to_datetime(acc["accident_date"])
    acc["accident_date"] = when.dt.date.where(when.notna(), None)
    if sel.start:
        acc = acc[when.notna() & (when >= pd.Timestamp(sel.start))]
        when = when[acc.index]
    if sel.end:
        acc = acc[when.notna() & (when <= pd.Timestamp(sel.end))]
    area = _area_geometry(store, sel)
    if area is not None:
        acc = acc[acc.geometry.intersects(area)]
    return acc


def victims_frame(store: Store, sel: Selection | None = None) -> pd.DataFrame:
    """One row per victim with the accident's date, device, place and distance to the front line."""
    sel = sel or Selection()
    vic = pd.DataFrame(store.read_frame(Victim).drop(columns="geometry", errors="ignore"))
    acc = store.read_frame(Accident)
    cols = [
        "victim_uid",
        "accident_uid",
        "accident_date",
        "month",
        "year",
        *CATEGORIES,
        "age",
        "settlement",
        "admin_area_uid",
        "distance_to_front_m",
        "on_contact_line",
        "lon",
        "lat",
    ]
    if not len(vic) or not len(acc):
        return pd.DataFrame(columns=cols)
    acc = selected_accidents(store, sel, acc)
    epsg = metric_epsg(store, acc)
    line = front_line(store, epsg)
    if line is not None and len(acc):
        acc["distance_to_front_m"] = acc.to_crs(epsg).geometry.distance(line).to_numpy()
    else:
        acc["distance_to_front_m"] = np.nan
    acc["on_contact_line"] = acc["distance_to_front_m"] <= CONTACT_ZONE_M
    acc["lon"] = acc.geometry.x
    acc["lat"] = acc.geometry.y
    keep = ["uid", "accident_date", "device_type", "settlement", "admin_area_uid"]
    keep += ["distance_to_front_m", "on_contact_line", "lon", "lat"]
    merged = vic.rename(columns={"uid": "victim_uid"}).merge(
        pd.DataFrame(acc[keep]).rename(columns={"uid": "accident_uid"}), on="accident_uid", how="inner"
    )
    age = pd.to_numeric(merged["age"], errors="coerce")
    merged["age_group"] = np.where(age.isna(), "unknown", np.where(age < 18, "child", "adult"))
    dates = pd.to_datetime(merged["accident_date"])
    merged["month"] = dates.dt.strftime("%Y-%m").where(dates.notna(), DATE_UNKNOWN)
    merged["year"] = dates.dt.year.astype("Int64")  # <NA>: date unknown
    # the undated last, in uid order
    order = merged.assign(_d=dates).sort_values(["_d", "victim_uid"], na_position="last").index
    return merged.loc[order, cols].reset_index(drop=True)


def undated(frame: pd.DataFrame) -> tuple[int, int]:
    """(accidents, victims) of the frame whose accident date is not known."""
    if not len(frame):
        return 0, 0
    unknown = frame["month"] == DATE_UNKNOWN
    return int(frame.loc[unknown, "accident_uid"].nunique()), int(unknown.sum())


def by_month(frame: pd.DataFrame, column: str = "outcome") -> pd.DataFrame:
    """Victims per month (rows, every month of the period even when zero) × a category.

    Victims of accidents whose date is not known are the last row, ``DATE_UNKNOWN``."""
    levels = CATEGORIES.get(column)
    if not len(frame):
        return pd.DataFrame(columns=[*(levels or []), "total"])
    t = pd.crosstab(frame["month"], frame[column])
    if levels:
        t = t.reindex(columns=levels, fill_value=0)
    dated = frame.loc[frame["month"] != DATE_UNKNOWN, "month"]
    months = list(pd.period_range(dated.min(), dated.max(), freq="M").strftime("%Y-%m")) if len(dated) else []
    t = t.reindex(months + ([DATE_UNKNOWN] if len(dated) < len(frame) else []), fill_value=0)
    t["total"] = t.sum(axis=1)
    t.index.name = "month"
    t.columns.name = None
    return t


def by_category(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Victims of one category (rows, every level) × killed / injured, with totals."""
    levels = CATEGORIES[column]
    if not len(frame):
        t = pd.DataFrame(0, index=levels, columns=["killed", "injured"])
    else:
        t = pd.crosstab(frame[column], frame["outcome"]).reindex(index=levels, columns=["killed", "injured"])
        t = t.fillna(0).astype(int)
    t["total"] = t.sum(axis=1)
    t.index.name = column
    t.columns.name = None
    return t


def _band_label(lo: float, hi: float) -> str:
    if np.isinf(hi):
        return f"over {lo / 1000:g} km"
    return f"{lo / 1000:g}–{hi / 1000:g} km"


def by_distance(frame: pd.DataFrame) -> pd.DataFrame:
    """Victims and accidents by distance band from the former front line."""
    edges = DISTANCE_BANDS_M
    labels = [_band_label(a, b) for a, b in itertools.pairwise(edges)]
    if not len(frame) or frame["distance_to_front_m"].isna().all():
        return pd.DataFrame(0, index=pd.Index(labels, name="distance"), columns=["accidents", "victims"])
    band = pd.cut(frame["distance_to_front_m"], bins=list(edges), labels=labels, right=False)
    f = frame.assign(band=band)
    out = pd.DataFrame(
        {
            "accidents": f.groupby("band", observed=False)["accident_uid"].nunique(),
            "victims": f.groupby("band", observed=False).size(),
        }
    ).reindex(labels, fill_value=0)
    out.index.name = "distance"
    return out.astype(int)


@dataclass(frozen=True)
class OffFrontShare:
    accidents: int
    off_contact_line: int
    victims: int
    victims_off_contact_line: int
    contact_zone_m: float

    @property
    def share(self) -> float | None:
        return None if not self.accidents else self.off_contact_line / self.accidents


def off_front_share(frame: pd.DataFrame) -> OffFrontShare:
    """Accidents (and victims) more than ``CONTACT_ZONE_M`` from the former contact line."""
    acc = frame.drop_duplicates("accident_uid")
    known = acc[acc["distance_to_front_m"].notna()]
    off = int((~known["on_contact_line"].astype(bool)).sum())
    vic_known = frame[frame["distance_to_front_m"].notna()]
    return OffFrontShare(
        len(known),
        off,
        len(vic_known),
        int((~vic_known["on_contact_line"].astype(bool)).sum()),
        CONTACT_ZONE_M,
    )


def landmine_monitor_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Casualties per year laid out like the Monitor's country casualty table.

    Columns: total, killed, injured; civilian, military, deminer; children, adults,
    age unknown; women/girls, men/boys, sex unknown; and one column per device type.
    """
    cols = ["total", "killed", "injured", "civilian", "military", "deminer"]
    cols += ["children", "adults", "age_unknown", "female", "male", "sex_unknown"]
    cols += [d.value for d in DeviceType]
    if not len(frame):
        return pd.DataFrame(columns=cols)
    frame = frame.assign(year=frame["year"].astype(object).where(frame["year"].notna(), DATE_UNKNOWN))
    # the years in order, the undated last
    frame = frame.assign(_o=frame["year"].map(lambda y: (y == DATE_UNKNOWN, str(y))))
    g = frame.sort_values("_o").groupby("year", sort=False)
    out = pd.DataFrame(
        {
            "total": g.size(),
            "killed": g["outcome"].apply(lambda s: int((s == "killed").sum())),
            "injured": g["outcome"].apply(lambda s: int((s == "injured").sum())),
            "civilian": g["victim_status"].apply(lambda s: int((s == "civilian").sum())),
            "military": g["victim_status"].apply(lambda s: int((s == "military").sum())),
            "deminer": g["victim_status"].apply(lambda s: int((s == "deminer").sum())),
            "children": g["age_group"].apply(lambda s: int((s == "child").sum())),
            "adults": g["age_group"].apply(lambda s: int((s == "adult").sum())),
            "age_unknown": g["age_group"].apply(lambda s: int((s == "unknown").sum())),
            "female": g["sex"].apply(lambda s: int((s == "female").sum())),
            "male": g["sex"].apply(lambda s: int((s == "male").sum())),
            "sex_unknown": g["sex"].apply(lambda s: int((s == "unknown").sum())),
        }
    )
    for d in DeviceType:
        out[d.value] = g["device_type"].apply(lambda s, v=d.value: int((s == v).sum()))
    out.index.name = "year"
    return out[cols].astype(int)


#: Groups of columns of the Monitor table that each add up to ``total``.
LM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("killed", "injured"),
    ("civilian", "military", "deminer"),
    ("children", "adults", "age_unknown"),
    ("female", "male", "sex_unknown"),
    tuple(d.value for d in DeviceType),
)


def accident_points(frame: pd.DataFrame, store: Store | None = None, sel: Selection | None = None) -> gpd.GeoDataFrame:
    """Accidents of the selection as points (WGS 84), with their victim counts.

    With the store, accidents that have no victim rows are there too (0 victims):
    a national incident list often holds only the accidents, and a map of victims
    alone would show an empty country where people were hurt."""
    cols = ["accident_uid", "victims", "killed", "lon", "lat", "settlement"]
    if len(frame):
        acc = (
            frame.groupby("accident_uid")
            .agg(
                victims=("victim_uid", "size"),
                killed=("outcome", lambda s: int((s == "killed").sum())),
                lon=("lon", "first"),
                lat=("lat", "first"),
                settlement=("settlement", "first"),
            )
            .reset_index()
        )
    else:
        acc = pd.DataFrame(columns=cols)
    if store is not None:
        every = selected_accidents(store, sel or Selection())
        bare = every[~every["uid"].isin(set(acc["accident_uid"]))] if len(every) else every
        if len(bare):
            extra = pd.DataFrame(
                {
                    "accident_uid": bare["uid"].to_numpy(),
                    "victims": 0,
                    "killed": 0,
                    "lon": bare.geometry.x.to_numpy(),
                    "lat": bare.geometry.y.to_numpy(),
                    "settlement": bare["settlement"].to_numpy() if "settlement" in bare else None,
                }
            )
            acc = extra if not len(acc) else pd.concat([acc, extra], ignore_index=True)
    if not len(acc):
        return gpd.GeoDataFrame({"accident_uid": [], "victims": []}, geometry=[], crs=4326)
    lon = acc["lon"].astype(float).to_numpy()
    lat = acc["lat"].astype(float).to_numpy()
    return gpd.GeoDataFrame(acc, geometry=shapely.points(lon, lat), crs=4326)
