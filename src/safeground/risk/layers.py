"""The risk layers a model learns from (infrastructure, the front, hazards, events), from a store or from files.

Every layer is a set of geometries in the grid's projection with an optional
date per geometry (events are only known from their date on: a model that sees
an accident before it happened is worthless) and an optional weight (a
confirmed hazard area from a reliable record counts more than a suspicion).
The same structure comes from a SafeGround store and from external files, so
the feature code never knows which it is working on.

Named ``layers`` (it was ``sources``) because a "source" in SafeGround is a file reader of the
importer (``intake.sources``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safeground.errors import InvalidInput, Param, Problem, SafeGroundError
from safeground.intake.confine import check_gis_file
from safeground.storage.base import Store

POINT, LINE, POLYGON = "point", "line", "polygon"

# How much a known hazard area says about the ground around it: a confirmed area
# is direct evidence, a suspected one indirect; a record's reliability grade
# (issue "how good was the map") scales it further.
HAZARD_CLASS_WEIGHT = {"confirmed_hazardous_area": 1.0, "suspected_hazardous_area": 0.5}
RECORD_GRADE_WEIGHT = {"A": 1.0, "B": 0.8, "U": 0.6, "C": 0.35}


@dataclass
class Layer:
    """One kind of evidence: e.g. ``infra:light_pole`` or ``event:accident``."""

    name: str
    kind: str  # point | line | polygon
    geoms: np.ndarray  # shapely geometries in the grid CRS
    dates: np.ndarray | None = None  # datetime64[D] per geometry, NaT = undated (always known)
    weights: np.ndarray | None = None
    as_of: date | None = None  # the date it was taken as known on (``known_on``): "years since" counts from it

    def __post_init__(self) -> None:
        if self.kind not in (POINT, LINE, POLYGON):
            raise ValueError(f"layer {self.name}: unknown kind {self.kind}")
        self.geoms = np.asarray(self.geoms, dtype=object)

    def known_on(self, as_of: date | None) -> Layer:
        """The part of the layer that was known on a date (undated geometries always are)."""
        if as_of is None or self.dates is None:
            return self
        keep = np.isnat(self.dates) | (self.dates <= np.datetime64(as_of, "D"))
        return Layer(
            self.name,
            self.kind,
            self.geoms[keep],
            self.dates[keep],
            None if self.weights is None else self.weights[keep],
            as_of,
        )

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass
class Events:
    """Dated point events that a model predicts (accidents, finds), in the grid CRS."""

    x: np.ndarray
    y: np.ndarray
    dates: np.ndarray  # datetime64[D]

    def between(self, start: date | None, end: date | None) -> Events:
        keep = np.ones(len(self.x), dtype=bool)
        if start is not None:
            keep &= self.dates > np.datetime64(start, "D")
        if end is not None:
            keep &= self.dates <= np.datetime64(end, "D")
        return Events(self.x[keep], self.y[keep], self.dates[keep])

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class RiskData:
    """Everything a risk run needs, whatever it was read from."""

    layers: list[Layer]
    targets: Events
    crs_wkt: str
    bounds_wgs84: tuple[float, float, float, float]
    # ground known to be clean after survey or clearance: polygons and the date it was released
    released: gpd.GeoDataFrame | None = None
    # spatial blocks for validation (admin areas): polygons with a name, in the grid CRS
    blocks: gpd.GeoDataFrame | None = None
    # in-ground truth of a synthetic district (restricted; evaluation only, never a feature)
    truth: Events | None = None
    provenance: dict[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A content hash of the evidence, stored with every model and map made from it."""
        h = hashlib.sha256()
        for layer in self.layers:
            h.update(layer.name.encode())
            h.update(shapely.to_wkb(layer.geoms).tobytes() if len(layer) else b"")
            if layer.dates is not None:
                h.update(layer.dates.astype("int64").tobytes())
        h.update(self.targets.x.tobytes() + self.targets.y.tobytes() + self.targets.dates.astype("int64").tobytes())
        return h.hexdigest()[:16]


def _kind(geom_type: str) -> str:
    g = geom_type.lower()
    return POINT if "point" in g else LINE if "line" in g else POLYGON


def _dates(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values, errors="coerce").to_numpy().astype("datetime64[D]")


def _proj(frame: gpd.GeoDataFrame, crs_wkt: str) -> np.ndarray:
    return frame.to_crs(crs_wkt).geometry.to_numpy()


# ---------------------------------------------------------------- from a store


def from_store(store: Store, crs_wkt: str | None = None) -> RiskData:
    """Read every evidence layer of a store into the grid CRS (by default the one chosen for its region)."""
    from safeground.model import (
        Accident,
        Activity,
        AdminArea,
        ClusterStrike,
        EOItem,
        FrontLine,
        GroundTruthItem,
        HazardArea,
        InfrastructureArea,
        InfrastructureLine,
        InfrastructurePoint,
        MinefieldRecord,
    )

    bounds = _store_bounds(store)
    if crs_wkt is None:
        from safeground.risk.grid import crs_for_region

        crs_wkt = crs_for_region(*bounds).to_wkt()
    layers: list[Layer] = []
    grades = _record_grades(store)
    for cls in (InfrastructurePoint, InfrastructureLine, InfrastructureArea):
        fr = store.read_frame(cls)
        if not len(fr):
            continue
        for kind_value, part in fr.groupby("kind"):
            name = f"infra:{kind_value}"
            geoms = _proj(part, crs_wkt)
            existing = next((la for la in layers if la.name == name), None)
            kind = _kind(part.geometry.iloc[0].geom_type)
            if existing is not None and existing.kind == kind:
                existing.geoms = np.concatenate([existing.geoms, geoms])
            else:
                layers.append(Layer(name if existing is None else f"{name}:{kind}", kind, geoms))
    fl = store.read_frame(FrontLine)
    if len(fl):
        layers.append(Layer("front_line", LINE, _proj(fl, crs_wkt)))

    hz = store.read_frame(HazardArea)
    if len(hz):
        w = hz["classification"].astype(str).map(HAZARD_CLASS_WEIGHT).fillna(0.5).to_numpy(float)
        rec_w = [
            max((RECORD_GRADE_WEIGHT.get(grades.get(u, ""), 1.0) for u in (uids or [])), default=1.0)
            for uids in hz.get("minefield_record_uids", pd.Series([[]] * len(hz)))
        ]
        layers.append(
            Layer("hazard_area", POLYGON, _proj(hz, crs_wkt), _dates(hz["date_of_information"]), w * np.array(rec_w))
        )
    # the handed-over records: their perimeters and recorded mines, weighted by how reliable each proved
    mfr = store.read_frame(MinefieldRecord)
    eo = store.read_frame(EOItem)
    if len(mfr):
        w = np.array([RECORD_GRADE_WEIGHT.get(grades.get(u, "U"), 0.6) for u in mfr["uid"].astype(str)])
        layers.append(Layer("minefield_record", POLYGON, _proj(mfr, crs_wkt), _dates(mfr["date_of_information"]), w))
    recorded = eo[eo["status"].astype(str) == "recorded"] if len(eo) else eo
    if len(recorded):
        w = np.array([RECORD_GRADE_WEIGHT.get(grades.get(u, "U"), 0.6) for u in recorded["minefield_record_uid"]])
        layers.append(
            Layer("recorded_mine", POINT, _proj(recorded, crs_wkt), _dates(recorded["date_of_information"]), w)
        )
    acc = store.read_frame(Accident)
    found = eo[eo["status"].astype(str) == "found"] if len(eo) else eo
    cs = store.read_frame(ClusterStrike)
    if len(acc):
        layers.append(Layer("event:accident", POINT, _proj(acc, crs_wkt), _dates(acc["accident_date"])))
    if len(found):
        layers.append(Layer("event:find", POINT, _proj(found, crs_wkt), _dates(found["date_of_information"])))
    if len(cs):
        date_col = "strike_date" if "strike_date" in cs.columns else "date_of_information"
        layers.append(
            Layer(
                "event:cluster_strike", _kind(cs.geometry.iloc[0].geom_type), _proj(cs, crs_wkt), _dates(cs[date_col])
            )
        )

    # targets: where mines really were found, and where people were hurt
    tx, ty, td = [], [], []
    for fr, col in ((acc, "accident_date"), (found, "date_of_information")):
        if len(fr):
            g = fr.to_crs(crs_wkt).geometry
            tx.append(g.x.to_numpy())
            ty.append(g.y.to_numpy())
            td.append(_dates(fr[col]))
    ex, ey = (np.concatenate(v) if v else np.zeros(0) for v in (tx, ty))
    targets = Events(ex, ey, np.concatenate(td) if td else np.zeros(0, "datetime64[D]"))

    act = store.read_frame(Activity)
    released = None
    if len(act):
        released = gpd.GeoDataFrame(
            {"date": _dates(act["end_date"].fillna(act["start_date"]))},
            geometry=act.to_crs(crs_wkt).geometry.to_numpy(),
            crs=crs_wkt,
        )
    adm = store.read_frame(AdminArea)
    blocks = None
    if len(adm) > 1:
        blocks = gpd.GeoDataFrame({"name": adm["name"].to_numpy()}, geometry=_proj(adm, crs_wkt), crs=crs_wkt)
    truth = None
    gt = store.read_frame(GroundTruthItem)
    if len(gt):
        live = gt[gt["fate"].astype(str) == "in_ground"].to_crs(crs_wkt)
        truth = Events(
            live.geometry.x.to_numpy(),
            live.geometry.y.to_numpy(),
            np.full(len(live), np.datetime64("NaT"), "datetime64[D]"),
        )
    return RiskData(
        layers=layers,
        targets=targets,
        crs_wkt=crs_wkt,
        bounds_wgs84=bounds,  # type: ignore[arg-type]
        released=released,
        blocks=blocks,
        truth=truth,
        provenance={"source": str(store.location)},
    )


def _store_bounds(store: Store) -> tuple[float, float, float, float]:
    from safeground.model import Accident, EOItem, HazardArea

    aoi = store.area_of_interest()
    if aoi:
        return aoi
    frames = [f for f in (store.read_frame(c) for c in (HazardArea, Accident, EOItem)) if len(f)]
    if not frames:
        raise SafeGroundError(f"{store.location} holds no hazards, accidents or items to learn from")
    b = np.array([f.total_bounds for f in frames])
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))


def _record_grades(store: Store) -> dict[str, str]:
    """Latest reliability grade per minefield record, when map accuracy has been saved."""
    from safeground.model import RecordAssessment

    fr = store.read_frame(RecordAssessment)
    if not len(fr) or "grade" not in fr.columns:
        return {}
    fr = fr.sort_values("date_of_information")
    return dict(zip(fr["minefield_record_uid"].astype(str), fr["grade"].astype(str), strict=False))


# ---------------------------------------------------------------- from files

_FILTER = re.compile(r"^\s*(\w+)\s*(==|=|!=|in|not in)\s*(.+?)\s*$", re.I)


def parse_filter(text: str) -> tuple[str, str, list[str]]:
    """``event_type in 1,2`` or ``event_type == accident``: the events that are the target."""
    m = _FILTER.match(text)
    if not m:
        raise SafeGroundError(
            f"cannot read the target filter {text!r}", hint="write it like: event_type in 1,2  or  kind == accident"
        )
    col, op, rhs = m.group(1), m.group(2).lower(), m.group(3)
    values = [v.strip().strip("'\"") for v in rhs.strip("()[]").split(",") if v.strip()]
    return col, ("in" if op in ("==", "=", "in") else "not in"), values


def read_events(path: Path) -> gpd.GeoDataFrame:
    """A table of events: CSV with lon/lat columns, or any GIS file of points."""
    if not path.exists():
        raise SafeGroundError(f"no file {path}")
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path, low_memory=False)
        problems = []
        for col in ("lon", "lat"):
            if col not in df.columns:
                problems.append(Problem(path.name, "header", col, "column missing (need lon and lat in WGS 84)"))
        if problems:
            raise InvalidInput(problems=problems)
        lon = pd.to_numeric(df["lon"], errors="coerce")
        lat = pd.to_numeric(df["lat"], errors="coerce")
        bad = lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90)
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())[:20]
            raise InvalidInput(
                problems=[
                    Problem(
                        path.name,
                        f"row {r + 2}",
                        "lon/lat",
                        "not a WGS 84 position",
                        f"{df['lon'].iloc[r]}, {df['lat'].iloc[r]}",
                    )
                    for r in rows
                ],
            )
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    check_gis_file(Path(path))
    frame = gpd.read_file(path)
    if frame.crs is None:
        raise SafeGroundError(
            f"{path.name} declares no coordinate system", hint="save it with its CRS (e.g. EPSG:4326)"
        )
    return frame.to_crs(4326)


def _refuse_strays(ev: gpd.GeoDataFrame, src: str) -> None:
    x, y = ev.geometry.x.to_numpy(), ev.geometry.y.to_numpy()
    if len(x) < 20:
        return
    lo_x, hi_x = np.percentile(x, [0.5, 99.5])
    lo_y, hi_y = np.percentile(y, [0.5, 99.5])
    mx, my = max(2.0, hi_x - lo_x), max(2.0, hi_y - lo_y)
    stray = (x < lo_x - mx) | (x > hi_x + mx) | (y < lo_y - my) | (y > hi_y + my)
    if stray.any():
        rows = np.flatnonzero(stray)
        raise InvalidInput(
            problems=[
                Problem(
                    src,
                    f"row {int(ev.index[r]) + 2}",
                    "lon/lat",
                    "far outside the other events (a sign error?)",
                    f"{x[r]:.6f}, {y[r]:.6f}",
                )
                for r in rows[:20]
            ],
            hint_text="correct them, or keep only events inside a region: "
            f"{Param('region', f'{lo_x - 1:.1f},{lo_y - 1:.1f},{hi_x + 1:.1f},{hi_y + 1:.1f}')}",
        )


def event_dates(frame: gpd.GeoDataFrame, date_column: str | None, src: str) -> np.ndarray:
    """Dates of events; a year alone is taken as the last day of that year (known by then)."""
    col = date_column or next((c for c in ("date", "event_date", "year") if c in frame.columns), None)
    if col is None or col not in frame.columns:
        raise SafeGroundError(f"{src}: no date column", hint=f"name it date or year, or give {Param('date_column')}")
    values = frame[col]
    if col == "year" or pd.api.types.is_integer_dtype(values):
        years = pd.to_numeric(values, errors="coerce")
        if years.isna().any():
            r = int(np.flatnonzero(years.isna().to_numpy())[0])
            raise InvalidInput(problems=[Problem(src, f"row {r + 2}", col, "not a year", values.iloc[r])])
        return np.array([np.datetime64(f"{int(y)}-12-31") for y in years], dtype="datetime64[D]")
    d = pd.to_datetime(values, errors="coerce")
    if d.isna().any():
        r = int(np.flatnonzero(d.isna().to_numpy())[0])
        raise InvalidInput(problems=[Problem(src, f"row {r + 2}", col, "not a date", values.iloc[r])])
    return d.to_numpy().astype("datetime64[D]")


def from_files(
    events_path: Path,
    target: str,
    *,
    type_column: str | None = None,
    date_column: str | None = None,
    context: list[Path] | None = None,
    category_column: str = "category",
    block_column: str | None = None,
    crs_wkt: str | None = None,
    region: tuple[float, float, float, float] | None = None,
    split_columns: tuple[str, ...] = (),
) -> RiskData:
    """Events (one layer per event type, the target filter choosing what to predict) plus context layers.

    ``split_columns`` (e.g. ``area_type``) add the events once more, one layer per value of each column
    (``event:area_type=Rural``): whether a place's past events were rural or urban is evidence of its own.
    ``region`` (west, south, east, north) keeps only events inside it; without it, an event far from all
    the others (a flipped sign is the usual cause) is refused rather than stretching the grid over an ocean."""
    from safeground.risk.grid import crs_for_region

    ev = read_events(events_path)
    if region is not None:
        w, so, e, n = region
        inside = ev.geometry.x.between(w, e) & ev.geometry.y.between(so, n)
        if not inside.any():
            raise SafeGroundError(
                f"{events_path.name}: no event inside {Param('region', ','.join(f'{v:g}' for v in region))}"
            )
        ev = ev[inside.to_numpy()]
    else:
        _refuse_strays(ev, events_path.name)
    col, op, values = parse_filter(target)
    if col not in ev.columns:
        raise SafeGroundError(f"{events_path.name}: the target filter names column {col!r}, which is not there")
    is_target = ev[col].astype(str).isin(values)
    if op == "not in":
        is_target = ~is_target
    if not is_target.any():
        raise SafeGroundError(f"{events_path.name}: no event matches the target filter {target!r}")
    dates = event_dates(ev, date_column, events_path.name)
    west, south, east, north = ev.total_bounds
    crs_wkt = crs_wkt or crs_for_region(west, south, east, north).to_wkt()
    geoms = _proj(ev, crs_wkt)
    type_column = type_column or col
    layers = []
    for value in sorted(ev[type_column].astype(str).unique()):
        sel = (ev[type_column].astype(str) == value).to_numpy()
        layers.append(Layer(f"event:{value}", POINT, geoms[sel], dates[sel]))
    if len(layers) > 1:  # every event together: how much conflict a place saw, whatever its kind
        layers.append(Layer("event:all", POINT, geoms, dates))
    for split in split_columns:
        if split not in ev.columns:
            raise SafeGroundError(
                f"{events_path.name}: no column {split!r} to split the events by",
                hint=f"the columns are: {', '.join(map(str, ev.columns[:30]))}",
            )
        values = ev[split].astype(str).str.strip()
        for value in sorted(values.unique()):
            sel = (values == value).to_numpy()
            layers.append(Layer(f"event:{split}={value}", POINT, geoms[sel], dates[sel]))
    tsel = is_target.to_numpy()
    layers.append(Layer("event:target", POINT, geoms[tsel], dates[tsel]))
    for path in context or []:
        check_gis_file(Path(path))
        ctx = gpd.read_file(path)
        if ctx.crs is None:
            raise SafeGroundError(f"{path.name} declares no coordinate system", hint="save it with its CRS")
        if category_column not in ctx.columns:
            raise SafeGroundError(
                f"{path.name}: no column {category_column!r}", hint=f"give {Param('category_column')}"
            )
        for value, part in ctx.groupby(category_column):
            layers.append(Layer(f"{path.stem}:{value}", _kind(part.geometry.iloc[0].geom_type), _proj(part, crs_wkt)))
    tg = ev[is_target].to_crs(crs_wkt).geometry
    blocks = None
    if block_column:
        if block_column not in ev.columns:
            raise SafeGroundError(f"{events_path.name}: no block column {block_column!r}")
        pts = ev.to_crs(crs_wkt)
        blocks = gpd.GeoDataFrame(
            {"name": pts[block_column].astype(str).to_numpy()}, geometry=pts.geometry.to_numpy(), crs=crs_wkt
        )
    return RiskData(
        layers=layers,
        targets=Events(tg.x.to_numpy(), tg.y.to_numpy(), dates[tsel]),
        crs_wkt=crs_wkt,
        bounds_wgs84=(float(west), float(south), float(east), float(north)),
        released=None,
        blocks=blocks,
        provenance={"source": str(events_path), "target": target}
        | ({"split_columns": ",".join(split_columns)} if split_columns else {}),
    )
