"""What each audience may read, field by field, and how the rest is generalised.

One table (:data:`POLICY`) says, for every field of every layer that needs it,
what the public and partners get instead of the stored value; everything not
listed is readable by all. :func:`view` applies the table to a layer and is the
only way an output reads a layer for an audience: ``export layer``, the village
map, the reports and (next) the server's API and tiles all call it, so a leak
fixed here is fixed everywhere, and a test can hold the table to its word
(``tests/test_public_outputs.py`` searches every public output for the restricted
positions it derives from the store).

The rules are per field, not per layer, because the same mine can be reached
through several fields: an ``eo_items`` point, a ``corrected_mine_positions``
point, a row end in ``minefield_records.rows``, the centre of an emergency hazard
area drawn around an accident. Whole layers that are restricted (``RESTRICTED``
on the record type: identities, human remains, the ground truth) are never read
below the restricted audience, and fields marked ``restricted()`` in the model are
always left out below it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safeground.access.audience import Audience
from safeground.errors import SafeGroundError
from safeground.geometry.generalise import (
    FOOTPRINT_GRID_M,
    OUTLINE_GRID_M,
    OUTLINE_MARGIN_M,
    OUTLINE_SHIFT_M,
    PUBLIC_GRID_M,
    cell_centres,
    cell_footprint,
    generalised_outline,
)
from safeground.model.base import Record
from safeground.storage.base import Store, metric_epsg


class Treatment(StrEnum):
    """What an audience below ``restricted`` gets instead of a field's stored value."""

    DROP = "left out"
    CELL_COUNT = f"counted per {PUBLIC_GRID_M / 1000:g} km cell (one point per cell at its centre)"
    CELL_SNAP = f"moved to the centre of its {PUBLIC_GRID_M / 1000:g} km cell"
    FOOTPRINT = f"drawn as the {FOOTPRINT_GRID_M:g} m cells it touches"
    NO_EVENT = "without the accident's uid, and its date to the month"
    OUTLINE_OUT = (
        f"outline grown by {OUTLINE_MARGIN_M:g} m, moved {OUTLINE_SHIFT_M:g} m, snapped to {OUTLINE_GRID_M:g} m"
    )
    OUTLINE_IN = (
        f"outline shrunk by {OUTLINE_MARGIN_M:g} m, moved {OUTLINE_SHIFT_M:g} m, snapped to {OUTLINE_GRID_M:g} m"
    )
    K_ANONYMOUS = "k-anonymous rows (date, place and age coarsened, rows that stay unique withheld)"


@dataclass(frozen=True)
class FieldRule:
    """One field of one layer: what the public and partners get (the restricted audience reads it as stored)."""

    layer: str
    field: str  # a field name, "geometry", or "*" for the whole row
    public: Treatment
    partner: Treatment
    why: str
    #: when the rule applies to some records only: which ones, in words
    only: str | None = None

    def for_audience(self, audience: Audience) -> Treatment | None:
        if audience.exact:
            return None
        return self.partner if audience is Audience.PARTNER else self.public


_T = Treatment
#: The policy. Each promise is checked by a test named in docs/reliability.md.
POLICY: tuple[FieldRule, ...] = (
    FieldRule("eo_items", "geometry", _T.CELL_COUNT, _T.CELL_SNAP, "where a mine lies (recorded or found)"),
    FieldRule(
        "corrected_mine_positions",
        "geometry",
        _T.CELL_COUNT,
        _T.CELL_SNAP,
        "where a mine still in the ground most likely is",
    ),
    FieldRule(
        "accidents", "geometry", _T.CELL_COUNT, _T.CELL_SNAP, "with the date and the settlement, who the victims are"
    ),
    FieldRule("accidents", "place_description", _T.DROP, _T.DROP, "says where the accident happened, in words"),
    FieldRule("minefield_records", "rows", _T.DROP, _T.DROP, "row ends and mine counts: where each mine was laid"),
    FieldRule(
        "minefield_records", "reference_points", _T.DROP, _T.DROP, "the chain of points that leads to the first row"
    ),
    FieldRule(
        "hazard_areas",
        "geometry",
        _T.FOOTPRINT,
        _T.FOOTPRINT,
        "an area opened by an accident is drawn around it: its centre is the accident",
        only="hazard areas whose evidence is an accident",
    ),
    FieldRule(
        "hazard_areas",
        "geometry",
        _T.OUTLINE_OUT,
        _T.OUTLINE_OUT,
        "an outline drawn through the mines found or recorded gives them away at its corners",
        only="the other hazard areas",
    ),
    FieldRule(
        "minefield_records", "geometry", _T.OUTLINE_OUT, _T.OUTLINE_OUT, "the recorded perimeter runs through row ends"
    ),
    FieldRule(
        "minefield_record_assessments",
        "geometry",
        _T.OUTLINE_OUT,
        _T.OUTLINE_OUT,
        "the corrected perimeter runs through corrected row ends",
    ),
    FieldRule(
        "activities",
        "geometry",
        _T.OUTLINE_IN,
        _T.OUTLINE_IN,
        "a surveyed or cleared outline runs through the items found; shrunk, never showing more released land",
    ),
    FieldRule(
        "hazard_areas",
        "name, change_reason, status_history, evidence",
        _T.NO_EVENT,
        _T.NO_EVENT,
        "name the accident and its day, which with the footprint give its place",
        only="hazard areas whose evidence is an accident",
    ),
    FieldRule("victims", "*", _T.K_ANONYMOUS, _T.K_ANONYMOUS, "date, place, sex and age single a person out"),
    FieldRule(
        "qm_inspections",
        "opened_by, non_conformities, finding, notes, change_reason, inspection_date, date_of_information, closed_on",
        _T.NO_EVENT,
        _T.NO_EVENT,
        "name the accident and its day, which with the released land's outline give its place",
        only="residual contamination investigations",
    ),
)


def rules_for(layer: str) -> list[FieldRule]:
    return [r for r in POLICY if r.layer == layer]


class RestrictedLayer(SafeGroundError):
    """The whole layer is restricted and the audience may not read it."""

    code = "restricted"
    http_status = 403


def may_read_layer(cls: type[Record], audience: Audience) -> bool:
    return audience.exact or not cls.RESTRICTED


@dataclass
class View:
    """A layer as one audience may read it."""

    frame: pd.DataFrame  # a GeoDataFrame (WGS 84) for layers with geometry
    columns: list[str]  # attribute columns, in order (geometry apart)
    #: what the audience does not get, in words (for the note an export prints)
    left_out: list[str] = field(default_factory=list)
    #: one row per grid cell, not per record
    aggregated: bool = False
    #: records withheld entirely (victims who stay unique after every coarsening)
    withheld: int = 0


def view(store: Store, cls: type[Record], audience: Audience, *, k: int | None = None) -> View:
    """The current records of one layer, as ``audience`` may read them."""
    if not may_read_layer(cls, audience):
        raise RestrictedLayer(
            f"layer {cls.LAYER} is restricted (identities or exact positions)",
            hint="only the restricted audience may read it, for an authorised, protected destination",
        )
    from safeground.storage.schema import layout_of

    lay = layout_of(cls)
    frame = store.read_frame(cls)
    if audience.exact:
        return View(frame, [c.name for c in lay.columns if c.name in frame.columns])
    left_out = [c.name for c in lay.columns if c.restricted]
    drop = set(left_out)
    treat: dict[str, Treatment | None] = {}
    for r in rules_for(cls.LAYER):
        treat.setdefault(r.field, r.for_audience(audience))  # the first rule of a field is the general one
    outline = {r.for_audience(audience) for r in rules_for(cls.LAYER) if r.field == "geometry"}
    for name, t in treat.items():
        if t is Treatment.DROP:
            drop.add(name)
            left_out.append(name)
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    cols = [c.name for c in lay.columns if c.name in frame.columns]
    if treat.get("*") is Treatment.K_ANONYMOUS:
        from safeground.access.kanon import DEFAULT_K, k_anonymous_victims

        res = k_anonymous_victims(store, k or DEFAULT_K)
        return View(res.frame, list(res.frame.columns), [res.note], withheld=res.withheld)
    geom = treat.get("geometry")
    if geom is Treatment.CELL_COUNT:
        cells = per_cell(store, frame, cls.LAYER)
        left_out.append(
            f"exact positions and individual records (aggregated: one point per {PUBLIC_GRID_M / 1000:g} km cell "
            "with the number of records and their types)"
        )
        return View(cells, [c for c in cells.columns if c != "geometry"], left_out, aggregated=True)
    if geom is Treatment.CELL_SNAP and len(frame):
        frame = snap_to_cells(store, frame)
        left_out.append(f"exact positions (each moved to the centre of its {PUBLIC_GRID_M / 1000:g} km cell)")
    hit = np.zeros(len(frame), dtype=bool)
    if cls.LAYER == "hazard_areas" and len(frame):
        frame, hit = _generalise_accident_hazards(store, frame)
        n = int(hit.sum())
        if n:
            left_out.append(
                f"the exact outline of {n} hazard area(s) opened by an accident (drawn as the {FOOTPRINT_GRID_M:g} m "
                "cells they touch, without the accident's uid and day)"
            )
    if cls.LAYER == "qm_inspections" and len(frame):
        frame, n = _generalise_investigations(frame)
        if n:
            left_out.append(
                f"the accident or find behind {n} residual contamination investigation(s), its day and the "
                "investigation's text (dates to the month)"
            )
    grow = Treatment.OUTLINE_OUT in outline
    if (grow or Treatment.OUTLINE_IN in outline) and len(frame):
        epsg = metric_epsg(store, frame)
        geoms = frame.geometry.to_numpy().copy()
        metric = gpd.GeoSeries(geoms[~hit], crs=4326).to_crs(epsg)
        keys = frame["uid"].to_numpy()[~hit]
        snapped = gpd.GeoSeries(
            [generalised_outline(g, outward=grow, key=str(u)) for g, u in zip(metric, keys, strict=True)], crs=epsg
        ).to_crs(4326)
        geoms[~hit] = snapped.to_numpy()
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=4326))
        left_out.append(
            f"exact outlines ({'grown' if grow else 'shrunk'} by {OUTLINE_MARGIN_M:g} m, moved by "
            f"{OUTLINE_SHIFT_M:g} m and snapped to a {OUTLINE_GRID_M:g} m grid)"
        )
    return View(frame, cols, left_out)


def public_danger_zones(store: Store, zones: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Danger zones (metric: each danger grown by its safety buffer, labelled "hazard area HA-…") as a map
    for the public draws them: around a hazard opened by an accident, the 250 m cells the zone touches
    (a buffered circle is centred on the accident too); every other outline grown and snapped to 25 m."""
    from safeground.model import HazardArea

    hz = store.read_frame(HazardArea)
    opened = set(hz["uid"][_opened_by_accident(store, hz)]) if len(hz) else set()
    out = [
        cell_footprint(z) if uid in opened else generalised_outline(z, outward=True, key=uid)
        for z, uid in zip(zones, [str(lab).rsplit(" ", 1)[-1] for lab in labels], strict=True)
    ]
    return np.array(out, dtype=object)


def public_hazards(store: Store, audience: Audience = Audience.PUBLIC) -> gpd.GeoDataFrame:
    """Hazard areas as ``audience`` may see them: what maps for the public draw."""
    from safeground.model import HazardArea

    return view(store, HazardArea, audience).frame


# -- generalisations ------------------------------------------------------------------------------------
#: per layer, the field whose values a public cell counts (what kind of thing is there)
_TYPE_FIELD = {"eo_items": "eo_type", "accidents": "device_type", "corrected_mine_positions": "eo_type"}
_NOUN = {"eo_items": "items", "accidents": "accidents", "corrected_mine_positions": "mines"}


def per_cell(store: Store, frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """One point per public grid cell at its centre: how many records it holds and of which types.

    Stacking every record on its cell centre would look like one point in Google Earth while
    hiding hundreds, and each stacked record would still carry its own fields; a count per cell
    says what is there and no more."""
    if not len(frame):
        return gpd.GeoDataFrame({"name": [], "cell": [], "count": [], "types": []}, geometry=[], crs=4326)
    epsg = metric_epsg(store, frame)
    m = frame.to_crs(epsg)
    m = m[~(m.geometry.isna() | m.geometry.is_empty).to_numpy()]
    xy = shapely.get_coordinates(m.geometry.representative_point().to_numpy())
    centres = cell_centres(xy)
    key = [f"E{x:.0f} N{y:.0f}" for x, y in centres]
    kind = _TYPE_FIELD.get(layer)
    types = m[kind].astype(str).to_numpy() if kind in m else np.full(len(m), "records")
    rows: dict[str, dict[str, Any]] = {}
    for kk, c, t in zip(key, centres, types, strict=True):
        r = rows.setdefault(kk, {"cell": kk, "count": 0, "types": {}, "x": c[0], "y": c[1]})
        r["count"] += 1
        r["types"][t] = r["types"].get(t, 0) + 1
    noun = _NOUN.get(layer, "records")
    out = pd.DataFrame(
        {
            "name": [f"{r['count']} {noun}" for r in rows.values()],  # the label Google Earth shows
            "cell": [r["cell"] for r in rows.values()],
            "count": [r["count"] for r in rows.values()],
            "types": [
                ", ".join(f"{t.replace('_', ' ')}: {n}" for t, n in sorted(r["types"].items(), key=lambda kv: -kv[1]))
                for r in rows.values()
            ],
        }
    )
    pts = shapely.points([r["x"] for r in rows.values()], [r["y"] for r in rows.values()])
    return gpd.GeoDataFrame(out, geometry=pts, crs=epsg).to_crs(4326)


def snap_to_cells(store: Store, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each point moved to the centre of its public grid cell (individual records, no exact position)."""
    epsg = metric_epsg(store, frame)
    m = frame.to_crs(epsg)
    ok = ~(m.geometry.isna() | m.geometry.is_empty).to_numpy()
    xy = shapely.get_coordinates(m.geometry[ok].representative_point().to_numpy())
    geoms = m.geometry.to_numpy().copy()
    geoms[ok] = shapely.points(cell_centres(xy))
    return gpd.GeoDataFrame(m.drop(columns="geometry"), geometry=geoms, crs=epsg).to_crs(4326)


#: a hazard area's evidence cell: JSON text as stored, or the list of evidence items (None: none recorded)
Evidence = str | list[dict[str, Any]] | None


def _opened_by_accident(store: Store, frame: pd.DataFrame) -> np.ndarray:
    """True for the hazard areas whose evidence is an accident of the store (its uid as the reference)."""
    from safeground.model import Accident

    acc = store.read_frame(Accident)
    uids = set(acc["uid"]) if len(acc) else set()
    if not uids or "evidence" not in frame or not len(frame):
        return np.zeros(len(frame), dtype=bool)

    def cites(ev: Evidence) -> bool:
        items = json.loads(ev) if isinstance(ev, str) else (ev or [])
        return any(isinstance(e, dict) and e.get("reference") in uids for e in items)

    citing: np.ndarray = frame["evidence"].map(cites).to_numpy(dtype=bool)
    return citing


def _generalise_accident_hazards(store: Store, frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Hazard areas opened by an accident: the 250 m cells they touch, and no accident uid or day in their text."""
    from safeground.model import Accident

    hit = _opened_by_accident(store, frame)
    if not hit.any():
        return frame, hit
    acc = store.read_frame(Accident)
    uids = set(acc["uid"])
    day = dict(zip(acc["uid"], acc["accident_date"].astype(str), strict=True))
    pattern = re.compile("|".join(re.escape(u) for u in sorted(uids, key=len, reverse=True)))
    frame = frame.copy()
    epsg = metric_epsg(store, frame)
    metric = frame.geometry[hit].to_crs(epsg)
    cells = gpd.GeoSeries([cell_footprint(g) for g in metric], crs=epsg).to_crs(4326)
    geoms = frame.geometry.to_numpy().copy()
    geoms[hit] = cells.to_numpy()
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=4326))

    def scrub(text: object) -> object:
        if not isinstance(text, str):
            return text
        for u in pattern.findall(text):
            text = text.replace(day.get(u, "\0"), day.get(u, "")[:7])
        return pattern.sub("an accident", text)

    def scrub_evidence(ev: Evidence) -> str:
        items = json.loads(ev) if isinstance(ev, str) else list(ev or [])
        out = []
        for e in items:
            e = dict(e)
            if e.get("reference") in uids:
                e["reference"] = None
                if e.get("date"):
                    e["date"] = str(e["date"])[:7]
            out.append({k: scrub(v) for k, v in e.items()})
        return json.dumps(out)

    for col in ("name", "change_reason", "status_history"):
        if col in frame:
            frame.loc[hit, col] = frame.loc[hit, col].map(scrub)
    frame.loc[hit, "evidence"] = frame.loc[hit, "evidence"].map(scrub_evidence)
    return frame, hit


def _generalise_investigations(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Residual contamination investigations without the accident or find (its uid, its day, the text
    that names them): an investigation's date and its activity's outline would give the accident's place and
    day. Dates go to the first of their month; the non-conformities keep their type and severity only."""
    hit = (frame["kind"] == "residual_contamination_investigation").to_numpy()
    if not hit.any():
        return frame, 0
    out = frame.copy()
    for col in ("inspection_date", "date_of_information", "closed_on"):
        if col in out.columns:
            out[col] = out[col].astype(object)
            out.loc[hit, col] = [None if pd.isna(v) else str(v)[:7] + "-01" for v in out.loc[hit, col]]
    for col in ("finding", "notes", "change_reason"):
        if col in out.columns:
            out.loc[hit, col] = None
    if "opened_by" in out.columns:
        out.loc[hit, "opened_by"] = "[]"
    if "non_conformities" in out.columns:

        def scrub(text: object) -> object:
            items = json.loads(text) if isinstance(text, str) else []
            kept = [{"nc_type": i.get("nc_type"), "severity": i.get("severity"),
                     "description": "residual contamination (details restricted)",
                     "closed_on": None if not i.get("closed_on") else str(i["closed_on"])[:7] + "-01"}
                    for i in items]  # fmt: skip
            return json.dumps(kept)

        out.loc[hit, "non_conformities"] = [scrub(v) for v in out.loc[hit, "non_conformities"]]
    return out, int(hit.sum())
