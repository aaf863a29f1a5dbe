"""The record through time, as one audience may read it: a layer as it stood on a day, and every
version of one feature.

Nothing is ever overwritten in a store (``Store.update`` keeps the superseded version in the
layer's history table), so the record of any earlier day can be drawn again. A version is *in
force* from its ``date_of_information`` (the day the information was true, not the day it was
typed in: a survey entered a month late still counts from the survey) until the next version's;
a record exists from its first version's date. The record on day D is, for every record, its
highest version dated on or before D: hazard areas open then, land released by then, accidents
reported by then.

Both answers go through :func:`safeground.access.policy.view`, the one place an audience's
reading of a layer is decided: the versions are handed to it in place of the current records
(:class:`_Versions`, a store whose ``read_frame`` gives them), so a partner gets each old outline
generalised exactly as today's, and never a field the policy withholds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import geopandas as gpd
import pandas as pd

from safeground.access.audience import Audience
from safeground.access.policy import View, view
from safeground.errors import RecordNotFound, SafeGroundError
from safeground.model.base import RECORD_TYPES, Record
from safeground.storage.base import BBox, Store
from safeground.storage.schema import layout_of

#: the layers the map's date slider redraws (the context layers: roads, settlements, stay as they are)
TIMED_LAYERS = (
    "hazard_areas",
    "activities",
    "minefield_records",
    "minefield_record_assessments",
    "eo_items",
    "accidents",
    "cluster_strikes",
    "predicted_hazards",
)


class BadDay(SafeGroundError):
    """A day that is not a date (the server answers 400, as for any bad parameter)."""

    code = "invalid_parameter"
    http_status = 400


class NotPublishedPerRecord(SafeGroundError):
    """The audience reads this layer per grid cell (or k-anonymous rows), so it has no per-record history."""

    code = "not_published"
    http_status = 404


def frame_of(cls: type[Record], records: list[Record]) -> gpd.GeoDataFrame:
    """Records as ``Store.read_frame`` gives a layer: the columns the layout encodes, WGS 84 geometry."""
    lay = layout_of(cls)
    frame = pd.DataFrame([lay.encode(r) for r in records], columns=lay.column_names)
    if lay.geometry_type:
        geoms = [r.geometry for r in records]  # type: ignore[attr-defined]
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)
    return gpd.GeoDataFrame(frame)


def in_force(chain: list[Record], day: dt.date) -> Record | None:
    """The version of a record in force on ``day`` (the highest dated on or before it), or None."""
    dated = [v for v in chain if v.date_of_information <= day]
    return max(dated, key=lambda v: v.version) if dated else None


def frame_as_of(store: Store, cls: type[Record], day: dt.date) -> gpd.GeoDataFrame:
    """A layer's records as they stood on ``day``, in the columns of ``read_frame``.

    Most records have one version: those are the current rows dated on or before the day. Only
    records with more versions have their history read (two queries for all of them)."""
    current = store.read_frame(cls)
    if not len(current):
        return current
    in_time = (pd.to_datetime(current["date_of_information"], errors="coerce").dt.date <= day).to_numpy()
    multi = {u for u, v in store.current_versions(cls).items() if v > 1}
    keep = current[in_time]
    changed = sorted(set(current.loc[~in_time, "uid"]) & multi)  # dated after the day, but older versions exist
    older = [r for r in (in_force(c, day) for c in store.chains(cls, changed).values()) if r is not None]
    if not older:
        return keep.reset_index(drop=True)
    earlier = frame_of(cls, older)
    both = pd.concat(
        [keep, earlier.astype({c: keep[c].dtype for c in earlier.columns if c in keep})], ignore_index=True
    )
    out = gpd.GeoDataFrame(both, geometry="geometry", crs=4326) if "geometry" in both else gpd.GeoDataFrame(both)
    return out.sort_values("uid", kind="stable").reset_index(drop=True)


class _Versions:
    """A store whose ``read_frame`` gives chosen versions instead of the current records; every
    other call goes to the real store. What :func:`view` is handed, so it applies its policy to them."""

    def __init__(self, store: Store, frames: dict[type[Record], gpd.GeoDataFrame] | None = None,
                 day: dt.date | None = None) -> None:  # fmt: skip
        self._store, self._frames, self._day = store, dict(frames or {}), day

    def read_frame(self, record_type: type[Record], *, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        if record_type in self._frames:
            return self._frames[record_type]
        if self._day is not None:
            self._frames[record_type] = frame_as_of(self._store, record_type, self._day)
            return self._frames[record_type]
        return self._store.read_frame(record_type, bbox=bbox)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def view_as_of(store: Store, cls: type[Record], audience: Audience, day: dt.date) -> View:
    """The layer as it stood on ``day``, as ``audience`` may read it (every layer the policy consults,
    e.g. the accidents behind a hazard area, is read as of that day too)."""
    return view(cast(Store, _Versions(store, day=day)), cls, audience)


def view_history(store: Store, cls: type[Record], uid: str, audience: Audience) -> View:
    """Every version of one record, oldest first, as ``audience`` may read each (one row per version).

    A layer the audience reads only per grid cell or as k-anonymous rows has no per-record history
    for it (:class:`NotPublishedPerRecord`)."""
    versions = store.chains(cls, [uid]).get(uid, [])
    if not versions:
        raise RecordNotFound(f"{cls.LAYER} has no feature {uid!r}", hint=f"/collections/{cls.LAYER}/items lists them")
    seen = view(cast(Store, _Versions(store, {cls: frame_of(cls, versions)})), cls, audience)
    if seen.aggregated or "uid" not in seen.frame.columns or "version" not in seen.frame.columns:
        raise NotPublishedPerRecord(
            f"{cls.LAYER} is published per grid cell for this role: it has no history per record",
            hint="log in with a role that reads individual records",
        )
    frame = seen.frame[seen.frame["uid"] == uid].sort_values("version", kind="stable").reset_index(drop=True)
    return View(frame, seen.columns, seen.left_out)


def changes(rows: list[dict[str, Any]], geometries: list[Any]) -> list[list[str]]:
    """For each version (as the reader sees it), the fields it changed against the one before:
    computed on what the reader sees, so a withheld field never shows up as "changed"."""
    skip = {"version", "entered_at", "entered_by"}
    out: list[list[str]] = []
    for i, row in enumerate(rows):
        if i == 0:
            out.append([])
            continue
        before = rows[i - 1]
        changed = [k for k, v in row.items() if k not in skip and before.get(k) != v]
        g0, g1 = geometries[i - 1], geometries[i]
        if g0 is not None and g1 is not None and not g0.equals(g1):
            changed.append("geometry")
        out.append(changed)
    return out


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        from safeground.errors import Param

        raise BadDay(
            f"{Param('as_of', text)} is not a date", hint=f"give {Param('as_of')} as YYYY-MM-DD, e.g. 2021-06-30"
        ) from None


def timeline_bounds(store: Store) -> tuple[dt.date, dt.date] | None:
    """The first and last day the timed layers hold information for (the date slider's ends), or None."""
    first: dt.date | None = None
    last: dt.date | None = None
    for layer in TIMED_LAYERS:
        cls = RECORD_TYPES[layer]
        frame = store.read_frame(cls)
        if not len(frame):
            continue
        dates = pd.to_datetime(frame["date_of_information"], errors="coerce").dropna()
        multi = sorted(u for u, v in store.current_versions(cls).items() if v > 1)
        firsts = [pd.Timestamp(c[0].date_of_information) for c in store.chains(cls, multi).values() if c]
        if firsts:
            dates = pd.concat([dates, pd.Series(firsts)], ignore_index=True)
        if dates.empty:
            continue
        lo, hi = dates.min().date(), dates.max().date()
        first = lo if first is None or lo < first else first
        last = hi if last is None or hi > last else last
    if first is None or last is None:
        return None
    return first, last
