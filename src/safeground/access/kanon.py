"""Victims as rows anyone may read: k-anonymous over date, place, sex and age.

A victim row with the accident's day, the settlement, the sex and the age is one
person (on the demo, 68 of 68 rows were unique): a neighbour who knows of the
accident learns the rest of the row. A public victim row therefore carries only
quasi-identifiers coarse enough that every combination of them is shared by at
least ``k`` rows (k-anonymity, Sweeney 2002), found the way the Datafly algorithm
does: climb a ladder of coarsenings (month → year, municipality → district,
age band → child/adult) until at most :data:`MAX_WITHHELD` of the rows would stay
in groups smaller than ``k``, then withhold those rows (they are counted, and
still counted in every table of the reports, which suppress small cells
themselves).

The rows carry no uid, no accident uid and no date of information: each would
link the row back to the accident and so to the day and the place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from safeground.storage.base import Store

#: Every combination of quasi-identifiers in a public victim row is shared by at least this many rows.
DEFAULT_K = 5
#: Climb the ladder until no more than this share of the rows would have to be withheld.
MAX_WITHHELD = 0.1
#: the quasi-identifiers of a public victim row
QUASI = ("period", "area", "sex", "age_band")
#: the rest of the row: what the statistics are about
PAYLOAD = ("victim_status", "outcome", "activity_at_time")

_BANDS = [(0, 4), (5, 11), (12, 17), (18, 29), (30, 44), (45, 59), (60, 120)]


@dataclass(frozen=True)
class Level:
    period: str  # month, year, all
    area: str  # municipality, district
    age: str  # band, child_adult

    def describe(self) -> str:
        age = "age band" if self.age == "band" else "child or adult"
        period = {"month": "month", "year": "year", "all": "(no date)"}[self.period]
        return f"{period}, {self.area}, sex, {age}"


LADDER = (
    Level("month", "municipality", "band"),
    Level("year", "municipality", "band"),
    Level("year", "municipality", "child_adult"),
    Level("year", "district", "child_adult"),
    Level("all", "district", "child_adult"),
)


@dataclass
class KAnonymous:
    frame: pd.DataFrame
    level: Level | None
    withheld: int
    k: int

    @property
    def note(self) -> str:
        if self.level is None:
            return "victims: no rows"
        return (
            f"victims as k-anonymous rows (k={self.k}: {self.level.describe()}; no uid, accident or exact age); "
            f"{self.withheld} row(s) withheld that would single a person out"
        )


def _age_band(age: pd.Series, how: str) -> pd.Series:
    a = pd.to_numeric(age, errors="coerce")
    if how == "child_adult":
        return pd.Series(np.where(a.isna(), "unknown", np.where(a < 18, "child (0-17)", "adult (18+)")), index=a.index)
    out = pd.Series("unknown", index=a.index, dtype=object)
    for lo, hi in _BANDS:
        out[(a >= lo) & (a <= hi)] = f"{lo}-{hi}" if hi < 120 else f"{lo}+"
    return out


def quasi_identifiers(base: pd.DataFrame, level: Level) -> pd.DataFrame:
    """The quasi-identifier columns of ``base`` (one row per victim) at one level of the ladder."""
    when = pd.to_datetime(base["accident_date"])
    period = {
        "month": when.dt.strftime("%Y-%m"),
        "year": when.dt.year.astype("Int64").astype(str),
        "all": pd.Series("all years", index=base.index),
    }[level.period]
    return pd.DataFrame(
        {
            "period": period.fillna("unknown"),
            "area": base["municipality" if level.area == "municipality" else "district"].fillna("unknown"),
            "sex": base["sex"].astype(str),
            "age_band": _age_band(base["age"], level.age),
        },
        index=base.index,
    )


def victims_with_places(store: Store) -> pd.DataFrame:
    """One row per victim with the accident's date and its municipality and district (names)."""
    from safeground.model import Accident, AdminArea, Victim

    vic = pd.DataFrame(store.read_frame(Victim).drop(columns="geometry", errors="ignore"))
    acc = pd.DataFrame(store.read_frame(Accident).drop(columns="geometry", errors="ignore"))
    adm = pd.DataFrame(store.read_frame(AdminArea).drop(columns="geometry", errors="ignore"))
    if not len(vic):
        return pd.DataFrame(columns=["accident_date", "municipality", "district", "sex", "age", *PAYLOAD])
    name = dict(zip(adm["uid"], adm["name"], strict=True)) if len(adm) else {}
    parent = dict(zip(adm["uid"], adm["parent_uid"], strict=True)) if len(adm) else {}
    acc = acc[["uid", "accident_date", "admin_area_uid"]] if len(acc) else pd.DataFrame(columns=["uid"])
    m = vic.merge(acc.rename(columns={"uid": "accident_uid"}), on="accident_uid", how="left")
    area = m.get("admin_area_uid", pd.Series(None, index=m.index))
    m["municipality"] = area.map(name)
    m["district"] = area.map(parent).map(name).fillna(m["municipality"])
    return m


def k_anonymous_victims(store: Store, k: int = DEFAULT_K) -> KAnonymous:
    base = victims_with_places(store)
    cols = [*QUASI, *PAYLOAD]
    if not len(base):
        return KAnonymous(pd.DataFrame(columns=cols), None, 0, k)
    chosen, qi, small = LADDER[-1], None, None
    for level in LADDER:
        qi = quasi_identifiers(base, level)
        size = qi.groupby(list(QUASI))["sex"].transform("size")
        small = size < k
        if small.mean() <= MAX_WITHHELD:
            chosen = level
            break
    assert qi is not None and small is not None
    out = pd.concat([qi, base[list(PAYLOAD)].astype(str)], axis=1)[~small.to_numpy()]
    out = out.sort_values(cols).reset_index(drop=True)
    return KAnonymous(out, chosen, int(small.sum()), k)


def unique_share(frame: pd.DataFrame, columns: list[str]) -> tuple[int, int]:
    """(rows whose combination of ``columns`` is unique, rows): how many rows single a person out."""
    if not len(frame):
        return 0, 0
    size = frame.groupby(columns, dropna=False)[columns[0]].transform("size")
    return int((size == 1).sum()), len(frame)
