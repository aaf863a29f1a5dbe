"""Train, evaluate, predict and explain: the risk model's whole life, honest at every step.

The one rule that keeps the evaluation honest is time: features are computed
from what was known on an "as of" date, labels come only from what was found
or happened after it. A model that is shown a find and asked where finds are
would score perfectly and be useless. On top of that, validation holds out
whole spatial blocks (admin areas or square tiles) or a later period, never
random cells, because neighbouring cells of one minefield share everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import joblib
import numpy as np
import shapely

from safeground import __version__
from safeground.errors import Param, SafeGroundError
from safeground.risk.domain import OUTSIDE_GRID, REASONS, Domain
from safeground.risk.features import FeatureBuilder, FeatureSpec
from safeground.risk.grid import Grid
from safeground.risk.layers import POINT, Events, Layer, RiskData
from safeground.risk.metrics import Scores, evaluate_scores
from safeground.risk.models import RiskModel, block_folds, make_model

Step = Callable[[str, int, int], None]  # description, done, total

MAX_FULL_GRID = 30_000_000  # cells evaluated at once; larger grids are sampled


def _noop(_msg: str, _done: int, _total: int) -> None:
    return None


@dataclass
class RiskSettings:
    cell_m: float = 25.0
    spec: FeatureSpec | None = None  # None: scales derived from the cell size (FeatureSpec.for_cell)
    model: str = "lightgbm"
    model_params: dict = field(default_factory=dict)
    block_km: float | None = None  # None: admin areas when the data has them, else 2 km tiles
    folds: int = 5
    max_negatives: int = 200_000
    # unlabelled cells drawn as weak negatives, per released-clean cell (presence-background learning):
    # released ground lies inside hazard areas, so without them a model never sees ordinary land
    background_ratio: float = 1.0
    area_sample: int = 2_000_000  # cells standing for the whole area when the grid is larger
    domain_buffer_m: float | None = None  # evaluate only cells this close to something known
    seed: int = 2020

    @property
    def features(self) -> FeatureSpec:
        return self.spec or FeatureSpec.for_cell(self.cell_m)

    def model_params_for(self, names: list[str]) -> dict:
        """The model's parameters for these features: ``model_params`` plus the monotone constraints of the spec
        (LightGBM's ``monotone_constraints``, one direction per feature) when it asks for them."""
        directions = self.features.monotone_directions(names)
        if directions is None:
            return dict(self.model_params)
        return {**self.model_params, "monotone_constraints": directions}

    @property
    def grid_margin_m(self) -> float:
        """The grid reaches this far past the data's extent: the domain buffer, when one is set."""
        return float(self.domain_buffer_m or 0.0)


# ------------------------------------------------------------------ labels


def event_counts(grid: Grid, ev: Events) -> tuple[np.ndarray, np.ndarray]:
    """Cells holding events and how many each holds."""
    r, c, ok = grid.cell_of(ev.x, ev.y)
    flat = grid.flat_index(r[ok], c[ok])
    cells, counts = np.unique(flat, return_counts=True)
    return cells, counts


def released_cells(grid: Grid, data: RiskData, after: date | None, until: date | None) -> np.ndarray:
    """Cells whose centre lies in ground surveyed or cleared in the period: known clean unless a find says otherwise."""
    if data.released is None or not len(data.released):
        return np.zeros(0, np.int64)
    rel = data.released
    d = rel["date"].to_numpy()
    keep = np.ones(len(rel), bool)
    if after is not None:
        keep &= d > np.datetime64(after, "D")
    if until is not None:
        keep &= d <= np.datetime64(until, "D")
    from rasterio.features import rasterize

    geoms = rel.geometry.to_numpy()[keep]
    if not len(geoms):
        return np.zeros(0, np.int64)
    mask = rasterize(
        [(g, 1) for g in geoms], out_shape=(grid.nrows, grid.ncols), transform=grid.transform, fill=0, dtype="uint8"
    )
    return np.flatnonzero(mask.ravel())


@dataclass
class Labelled:
    cells: np.ndarray  # flat cell index
    y: np.ndarray  # 0/1
    events: np.ndarray  # events per cell (0 for negatives)
    known: np.ndarray  # True where the label is established (a find, an accident, released ground)
    # cells with target events left out because they lie outside the domain (external events, domain buffer set)
    outside_domain: int = 0


def labels(grid: Grid, data: RiskData, after: date | None, until: date | None, settings: RiskSettings) -> Labelled:
    """Positives: cells with target events in (after, until].

    Negatives, with a store: ground released in the period with nothing found, plus a sample of unlabelled
    background cells (``known`` False). With external events: every other cell of the domain, because there
    the absence of a report is the only negative there is; and with a domain buffer the positives come from the
    domain too (``outside_domain`` counts those left out). Taken from anywhere while the negatives came from
    the domain only, a cell far from all evidence was in the set only when it had an accident: the model
    learnt that remoteness means accidents (on Colombia 353 of 599 accident cells of 1999–2005 lay outside a
    10 km domain, and all 19 of the test period's sat in the riskiest 1 %), and the training domain's reach
    (``Domain``), measured on those cells, grew to take them in.
    """
    pos, counts = event_counts(grid, data.targets.between(after, until))
    rng = np.random.default_rng(settings.seed)
    outside = 0
    if data.released is not None:
        neg = np.setdiff1d(released_cells(grid, data, after, until), pos)
        if len(neg) > settings.max_negatives:
            neg = np.sort(rng.choice(neg, settings.max_negatives, replace=False))
        n_bg = int(settings.background_ratio * max(len(neg), len(pos)))
        bg = np.setdiff1d(rng.choice(grid.size, min(grid.size, 2 * n_bg + 10), replace=False), np.union1d(pos, neg))
        bg = bg[:n_bg]
    else:
        dom = domain_cells(grid, data, after, settings)
        if settings.domain_buffer_m is not None:
            inside = np.isin(pos, dom)
            outside = int((~inside).sum())
            pos, counts = pos[inside], counts[inside]
        neg = np.setdiff1d(dom, pos)
        if len(neg) > settings.max_negatives:
            neg = np.sort(rng.choice(neg, settings.max_negatives, replace=False))
        bg = np.zeros(0, np.int64)
    cells = np.concatenate([pos, neg, bg])
    y = np.concatenate([np.ones(len(pos), np.int8), np.zeros(len(neg) + len(bg), np.int8)])
    ev = np.concatenate([counts, np.zeros(len(neg) + len(bg), np.int64)])
    known = np.concatenate([np.ones(len(pos) + len(neg), bool), np.zeros(len(bg), bool)])
    return Labelled(cells, y, ev, known, outside)


def area_cells(grid: Grid, data: RiskData, as_of: date | None, settings: RiskSettings) -> tuple[np.ndarray, bool]:
    """The cells that stand for the whole area in capture rates: all of them, or a uniform sample."""
    if data.released is None and settings.domain_buffer_m is not None:
        cells = domain_cells(grid, data, as_of, settings)
    else:
        cells = np.arange(grid.size, dtype=np.int64)
    if len(cells) <= settings.area_sample:
        return cells, False
    rng = np.random.default_rng(settings.seed + 1)
    return np.sort(rng.choice(cells, settings.area_sample, replace=False)), True


def domain_cells(grid: Grid, data: RiskData, as_of: date | None, settings: RiskSettings) -> np.ndarray:
    """Every cell, or those within ``domain_buffer_m`` of anything known on the date."""
    if settings.domain_buffer_m is None:
        if grid.size > MAX_FULL_GRID:
            raise SafeGroundError(
                f"the grid has {grid.size:,} cells; too many to use every one as a negative",
                hint=f"set a domain buffer ({Param('domain_buffer_m')}) or a larger {Param('cell')}",
            )
        return np.arange(grid.size, dtype=np.int64)
    from scipy import ndimage

    mask = np.zeros((grid.nrows, grid.ncols), bool)
    for la in data.layers:
        if la.kind != POINT:
            continue
        xy = shapely.get_coordinates(la.known_on(as_of).geoms)
        r, c, ok = grid.cell_of(xy[:, 0], xy[:, 1])
        mask[r[ok], c[ok]] = True
    d = ndimage.distance_transform_edt(~mask, sampling=grid.cell)
    return np.flatnonzero(d.ravel() <= settings.domain_buffer_m)


# ------------------------------------------------------------------ blocks


def block_ids(grid: Grid, data: RiskData, cells: np.ndarray, block_km: float | None) -> tuple[np.ndarray, str]:
    """The spatial block of each cell: admin area (polygon or nearest named event) or a square tile."""
    rows, cols = cells // grid.ncols, cells % grid.ncols
    if block_km is None and data.blocks is not None and len(data.blocks) > 1:
        x = grid.x0 + (cols + 0.5) * grid.cell
        y = grid.y0 - (rows + 0.5) * grid.cell
        pts = shapely.points(x, y)
        geoms = data.blocks.geometry.to_numpy()
        names = data.blocks["name"].astype(str).to_numpy()
        tree = shapely.STRtree(geoms)
        if all(g.geom_type == "Point" for g in geoms[:100]):
            nearest = tree.nearest(pts)
            return names[nearest], "nearest event's admin area"
        pi, gi = tree.query(pts, predicate="within")
        out = np.full(len(cells), "(outside)", dtype=object)
        out[pi] = names[gi]
        missing = out == "(outside)"
        if missing.any():
            out[missing] = names[tree.nearest(pts[missing])]
        return out.astype(str), "administrative areas"
    km = block_km or 2.0
    k = max(1, round(km * 1000 / grid.cell))
    return (rows // k) * (grid.ncols // k + 1) + cols // k, f"{km:g} km square tiles"


# ------------------------------------------------------------------ dates


def _as_date(v: date | str | None) -> date | None:
    if v is None or isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise SafeGroundError(f"{v!r} is not a date", hint="write it as YYYY-MM-DD") from None


def default_as_of(data: RiskData) -> date:
    """Half of the target events before, half after: enough of each to learn and to check."""
    d = np.sort(data.targets.dates[~np.isnat(data.targets.dates)])
    if len(d) < 4:
        raise SafeGroundError(
            f"only {len(d)} dated accidents or finds to learn from",
            hint="a risk model needs at least a few dozen; add finds and accidents first",
        )
    return d[len(d) // 2].astype(date)


MIN_LATER_TARGETS = 20  # a labelled period needs at least this many accidents or finds after the date …
MIN_LATER_SHARE = 0.25  # … and this share of all of them (a model checked on a tenth of the record learned little)
MIN_LATER_RELEASED = 5  # with a store: released ground after the date too (the negatives), as many and as large a share


def latest_as_of(data: RiskData) -> tuple[date, int]:
    """The latest date that still leaves a labelled period: at least ``MIN_LATER_TARGETS`` (and
    ``MIN_LATER_SHARE``) of the dated accidents and finds after it, so a model learns from as much of the
    record as it can while still having something later to learn from. Returns the date and that count."""
    d = np.sort(data.targets.dates[~np.isnat(data.targets.dates)])
    need = max(MIN_LATER_TARGETS, int(np.ceil(MIN_LATER_SHARE * len(d))))
    if len(d) <= need:
        raise SafeGroundError(
            f"only {len(d)} dated accidents or finds to learn from",
            hint="a risk model needs at least a few dozen; add finds and accidents first",
        )
    rel = None
    if data.released is not None and len(data.released):
        rel = data.released["date"].to_numpy().astype("datetime64[D]")
        rel = rel[~np.isnat(rel)]
        need_rel = max(MIN_LATER_RELEASED, int(np.ceil(MIN_LATER_SHARE * len(rel))))
    for cand in np.unique(d)[::-1]:  # latest first; events on the date itself are known on it
        later = int((d > cand).sum())
        if later >= need and (rel is None or int((rel > cand).sum()) >= need_rel):
            return cand.astype(date), later
    raise AssertionError("unreachable: the earliest date leaves every later event")  # pragma: no cover


def last_date(data: RiskData) -> date:
    """The data's last date: what a map made now knows (an event of that date is known on it)."""
    ds = [data.targets.dates] + [la.dates for la in data.layers if la.dates is not None and len(la.dates)]
    allv = np.concatenate([v[~np.isnat(v)] for v in ds]) if ds else np.zeros(0, "datetime64[D]")
    return allv.max().astype(date) if len(allv) else date.today()


def aligned_layers(data: RiskData, as_of: date | None, names: list[tuple[str, str]] | None = None) -> list[Layer]:
    """The layers known on a date; with ``names``, exactly those (missing ones empty) so a model sees its features."""
    known = [la.known_on(as_of) for la in data.layers if la.name != "event:target"] + [
        la.known_on(as_of) for la in data.layers if la.name == "event:target"
    ]
    known += _recent(known, as_of)
    if names is None:
        return known
    by_name = {la.name: la for la in known}
    return [by_name.get(n, Layer(n, kind, np.array([], dtype=object))) for n, kind in names]


RECENT_YEARS = 2


def _recent(layers: list[Layer], as_of: date | None) -> list[Layer]:
    """Events of the last two years before the date, as layers of their own.

    Conflict moves: where accidents happened lately says more about next year than where they happened
    fifteen years ago, and counts over a recent window keep their meaning as the total keeps growing
    (a model trained on 2005 densities would otherwise misread the denser map of 2012)."""
    if as_of is None:
        return []
    lo = np.datetime64(as_of, "D") - np.timedelta64(int(365.25 * RECENT_YEARS), "D")
    out = []
    for la in layers:
        if la.kind == POINT and la.name.startswith("event:") and la.dates is not None:
            keep = la.dates > lo
            out.append(Layer(f"{la.name}:last{RECENT_YEARS}y", POINT, la.geoms[keep], la.dates[keep], as_of=as_of))
    return out


# ------------------------------------------------------------------ the model bundle


@dataclass
class TrainedModel:
    """What is saved: the model, how its features are made, and what it was made from."""

    model: RiskModel
    model_name: str
    spec: FeatureSpec
    layers: list[tuple[str, str]]
    feature_names: list[str]
    cell_m: float
    crs_wkt: str
    trained_as_of: str
    labels_until: str | None
    data_fingerprint: str
    provenance: dict
    validation: dict | None = None
    domain: Domain | None = None  # what the training saw: where the model can speak (None: older models)
    grid_margin_m: float = 0.0
    created: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    safeground_version: str = __version__

    @property
    def version(self) -> str:
        return f"{self.model_name}-{self.data_fingerprint[:8]}-{self.created.replace(':', '').replace('-', '')}"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path, compress=3)
        path.with_suffix(path.suffix + ".json").write_text(json.dumps(self.card(), indent=1))

    def card(self) -> dict:
        """The model card: readable without Python, for the people who must trust the map."""
        return {
            "version": self.version,
            "model": self.model_name,
            "features": self.feature_names,
            "feature_spec": self.spec.to_dict(),
            "cell_m": self.cell_m,
            "trained_as_of": self.trained_as_of,
            "labels_until": self.labels_until,
            "data_fingerprint": self.data_fingerprint,
            "provenance": self.provenance,
            "validation": self.validation,
            "domain": self.domain.as_dict(self.feature_names) if self.domain else None,
            "grid_margin_m": self.grid_margin_m,
            "created": self.created,
            "safeground_version": self.safeground_version,
        }

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        if not path.exists():
            raise SafeGroundError(f"no model file {path}", hint="train one with: safeground risk train --out FILE")
        obj = joblib.load(path)
        if not isinstance(obj, cls):
            raise SafeGroundError(f"{path} is not a SafeGround risk model")
        return obj


def make_grid(data: RiskData, cell_m: float, crs_wkt: str | None = None, margin_m: float = 0.0) -> Grid:
    """The grid over the data's region (widened by ``margin_m``); a saved model predicts in the projection
    and with the margin it was trained with."""
    return Grid.covering(data.bounds_wgs84, cell_m, crs_wkt or data.crs_wkt, margin_m)


def model_grid(tm: TrainedModel, data: RiskData) -> Grid:
    """The grid a saved model scores on."""
    return make_grid(data, tm.cell_m, tm.crs_wkt, tm.grid_margin_m)


def train(
    data: RiskData,
    settings: RiskSettings,
    as_of: date | str | None = None,
    until: date | str | None = None,
    step: Step = _noop,
) -> TrainedModel:
    """Features as known on ``as_of``, labels from what was found or happened after it."""
    as_of_d = _as_date(as_of) or latest_as_of(data)[0]
    until_d = _as_date(until)
    grid = make_grid(data, settings.cell_m, data.crs_wkt, settings.grid_margin_m)
    layers = aligned_layers(data, as_of_d)
    lab = labels(grid, data, as_of_d, until_d, settings)
    if lab.y.sum() == 0 or lab.y.sum() == len(lab.y):
        raise SafeGroundError(
            f"after {as_of_d} there are {int(lab.y.sum())} positive and {int((lab.y == 0).sum())} negative cells",
            hint=f"choose an earlier {Param('as_of')} "
            "so that later finds, accidents and released ground can be learned from",
        )
    step("computing features of labelled cells", 0, 1)
    fb = FeatureBuilder(grid, layers, settings.features)
    X = fb.cells(lab.cells)
    groups, how = block_ids(grid, data, lab.cells, settings.block_km)
    step("fitting the model", 0, 1)
    model = make_model(settings.model, params=settings.model_params_for(fb.names))
    oof = model.out_of_fold(X, lab.y, groups, settings.folds)
    model.fit(X, lab.y, groups, settings.folds, oof=oof)
    validation = _validation(oof, lab, groups, how, as_of_d, until_d, settings)
    return TrainedModel(
        model=model,
        model_name=settings.model,
        spec=settings.features,
        layers=[(la.name, la.kind) for la in layers],
        feature_names=fb.names,
        cell_m=settings.cell_m,
        crs_wkt=grid.crs_wkt,
        trained_as_of=str(as_of_d),
        labels_until=str(until_d) if until_d else None,
        data_fingerprint=data.fingerprint(),
        provenance={
            **data.provenance,
            "positive_cells": int(lab.y.sum()),
            "negative_cells": int((lab.y == 0).sum()),
            "positive_cells_outside_domain": lab.outside_domain,
        },
        validation=validation,
        domain=Domain.of(X, fb.names, settings.features.max_distance_m),
        grid_margin_m=settings.grid_margin_m,
    )


def _validation(
    oof: np.ndarray | None,
    lab: Labelled,
    groups: np.ndarray,
    how: str,
    as_of: date,
    until: date | None,
    settings: RiskSettings,
) -> dict | None:
    """The model card's validation: the out-of-fold scores of this very run, whole blocks held out."""
    if oof is None:
        return None
    ok = ~np.isnan(oof) & lab.known
    s = evaluate_scores(oof[ok], lab.events[ok])
    return {
        "method": "spatial block cross-validation inside training (out-of-fold scores, whole blocks held out)",
        "blocks": how,
        "n_blocks": len(np.unique(groups)),
        "folds": settings.folds,
        "features_as_of": str(as_of),
        "labels": f"after {as_of}" + (f" until {until}" if until else ""),
        "cells": int(ok.sum()),
        "positive_cells": int(lab.y[ok].sum()),
        "roc_auc": round(s.roc_auc, 4) if s.roc_auc is not None else None,
        "pr_auc": round(s.pr_auc, 4) if s.pr_auc is not None else None,
        "note": "figures on the labelled cells the model was fitted to, each scored by a model that did not see "
        "its block; `risk evaluate` measures the area and the baseline",
    }


# ------------------------------------------------------------------ evaluation


@dataclass
class Evaluation:
    method: str
    model: Scores
    baseline: Scores | None
    details: dict

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "model": self.model.as_dict(),
            "baseline": self.baseline.as_dict() if self.baseline else None,
            **self.details,
        }


def _window_count(grid: Grid, data: RiskData, as_of: date | None, radius_m: float, cells: np.ndarray) -> np.ndarray:
    """The simple baseline: how many events of any kind were known within a window around each cell."""
    # the same events split by another column (``event:area_type=Rural``) are not counted twice
    pts = [
        la.known_on(as_of).geoms
        for la in data.layers
        if la.kind == POINT and la.name.startswith("event:") and "=" not in la.name
    ]
    pts = [p for p in pts if len(p)]
    allp = Layer("all_events", POINT, np.concatenate(pts) if pts else np.array([], dtype=object))
    spec = FeatureSpec(max_distance_m=radius_m, radii_m=(radius_m,), distance=False, density=True)
    return FeatureBuilder(grid, [allp], spec).cells(cells)[:, 0]


def evaluate_blocks(
    data: RiskData, settings: RiskSettings, as_of: date | str | None = None, step: Step = _noop
) -> Evaluation:
    """Spatial block cross-validation: whole blocks held out; features as of a date, labels after it.

    Each fold's model scores every cell of its held-out blocks, so the capture rate is measured over the
    area (the planner's question), and ROC/PR over the cells whose label is known."""
    as_of_d = _as_date(as_of) or default_as_of(data)
    grid = make_grid(data, settings.cell_m, data.crs_wkt, settings.grid_margin_m)
    layers = aligned_layers(data, as_of_d)
    lab = labels(grid, data, as_of_d, None, settings)
    area, sampled = area_cells(grid, data, as_of_d, settings)
    cells = np.union1d(lab.cells, area)
    fb = FeatureBuilder(grid, layers, settings.features)
    step("computing features", 0, 1)
    X = fb.cells(cells)
    lab_pos = np.searchsorted(cells, lab.cells)
    area_pos = np.searchsorted(cells, area)
    groups, how = block_ids(grid, data, cells, settings.block_km)
    lab_groups = groups[lab_pos]
    folds = block_folds(lab_groups, settings.folds)
    oof = np.full(len(cells), np.nan)
    raw_lab = np.full(len(lab.cells), np.nan)  # the fold models' raw scores: the calibration of `train` reuses them
    for i, (tr, te) in enumerate(folds):
        step(f"fold {i + 1}/{len(folds)}", i, len(folds))
        if lab.y[tr].min() == lab.y[tr].max():
            continue
        held_out = np.isin(groups, np.unique(lab_groups[te]))
        m = make_model(settings.model, params=settings.model_params_for(fb.names))
        m.fit(X[lab_pos[tr]], lab.y[tr], lab_groups[tr], calibrate=False)  # ranking needs no calibration
        oof[held_out] = m.predict_proba(X[held_out])
        raw_lab[te] = m._raw(X[lab_pos[te]])
    base = _window_count(grid, data, as_of_d, 5000.0, cells)
    # events per area cell: every target event after the date, wherever it fell
    ev_cells, ev_counts = event_counts(grid, data.targets.between(as_of_d, None))
    area_events = np.zeros(len(area))
    hit = np.isin(ev_cells, area)
    area_events[np.searchsorted(area, ev_cells[hit])] = ev_counts[hit]
    known = lab.known & ~np.isnan(oof[lab_pos])
    a_ok = ~np.isnan(oof[area_pos])

    def scores(v: np.ndarray) -> Scores:
        s = evaluate_scores(v[lab_pos][known], lab.events[known])
        cap = evaluate_scores(v[area_pos][a_ok], area_events[a_ok])
        s.capture_5, s.capture_10, s.cells = cap.capture_5, cap.capture_10, cap.cells
        return s

    details: dict = {
        "as_of": str(as_of_d),
        "blocks": how,
        "n_blocks": len(np.unique(lab_groups)),
        "folds": len(folds),
        "cell_m": settings.cell_m,
        "model_name": settings.model,
        "baseline_name": "count of earlier events within 5 km",
        "roc_pr_on": "cells with finds or accidents after the date vs ground released after it with nothing found",
        "capture_over": f"{'a sample of ' if sampled else ''}{int(a_ok.sum()):,} cells of the area held out by folds",
    }
    if data.truth is not None and len(data.truth):
        # the model `train` would make on this date, fitted from what this evaluation already has: the same
        # labelled cells, features, blocks and folds (so the same out-of-fold scores for its calibration)
        step("fitting on every block", 0, 1)
        full = make_model(settings.model, params=settings.model_params_for(fb.names))
        full.fit(
            X[lab_pos], lab.y, lab_groups, settings.folds, oof=raw_lab if len(np.unique(lab_groups)) >= 2 else None
        )
        details["ground_truth"] = truth_check(
            data, settings, grid, step, as_of_d, full, [(la.name, la.kind) for la in layers]
        )
    return Evaluation("spatial block cross-validation", scores(oof), scores(base.astype(float)), details)


def evaluate_temporal(
    data: RiskData, settings: RiskSettings, cut: date | str, until: date | str | None = None, step: Step = _noop
) -> Evaluation:
    """Train on the past, test on the future: features as of ``cut − Δ`` → labels to ``cut``; then as of ``cut`` →
    labels after it, Δ being the length of the test period."""
    cut_d = _as_date(cut)
    assert cut_d is not None
    ends = data.targets.dates[~np.isnat(data.targets.dates)]
    until_d = _as_date(until) or ends.max().astype(date)
    delta = until_d - cut_d
    train_as_of = cut_d - delta
    step("training on the past", 0, 2)
    tm = train(data, settings, train_as_of, cut_d)
    grid = make_grid(data, settings.cell_m, data.crs_wkt, settings.grid_margin_m)
    # the test is never subsampled: PR-AUC and capture depend on how rare the positives really are
    test_settings = replace(settings, max_negatives=MAX_FULL_GRID)
    lab = labels(grid, data, cut_d, until_d, test_settings)
    fb = FeatureBuilder(grid, aligned_layers(data, cut_d, tm.layers), settings.features)
    step("scoring the future", 1, 2)
    X = fb.cells(lab.cells)
    p = tm.model.predict_proba(X)
    base = _window_count(grid, data, cut_d, 5000.0, lab.cells)
    return Evaluation(
        "temporal holdout",
        evaluate_scores(p, lab.events),
        evaluate_scores(base, lab.events),
        {
            "train_features_as_of": str(train_as_of),
            "train_labels": f"{train_as_of} … {cut_d}",
            "test_features_as_of": str(cut_d),
            "test_labels": f"{cut_d} … {until_d}",
            "cell_m": settings.cell_m,
            "model_name": settings.model,
            "baseline_name": "count of earlier events within 5 km",
            "domain": "every cell"
            if settings.domain_buffer_m is None
            else f"cells within {settings.domain_buffer_m:g} m of an earlier event",
            "test_accident_cells_outside_domain": lab.outside_domain,
        },
    )


def truth_check(
    data: RiskData,
    settings: RiskSettings,
    grid: Grid,
    step: Step = _noop,
    as_of: date | None = None,
    model: RiskModel | None = None,
    layer_names: list[tuple[str, str]] | None = None,
) -> dict:
    """Synthetic district only: do cells with mines still in the ground score above clean cells?

    ``model`` (with its ``layer_names``) is the one ``train`` makes on ``as_of``, when the caller has fitted it
    already; without it the model is trained here."""
    assert data.truth is not None
    if model is None or layer_names is None:
        tm = train(data, settings, as_of or default_as_of(data))
        model, layer_names = tm.model, tm.layers
    latest = data.targets.dates[~np.isnat(data.targets.dates)].max().astype(date)
    mined, counts = event_counts(grid, data.truth)
    rng = np.random.default_rng(settings.seed)
    sample = rng.choice(grid.size, min(grid.size, 200_000), replace=False)
    clean = np.setdiff1d(sample, mined)
    cells = np.concatenate([mined, clean])
    events = np.concatenate([counts, np.zeros(len(clean), np.int64)])
    step("scoring against the ground truth", 0, 1)
    p = model.predict_proba(
        FeatureBuilder(grid, aligned_layers(data, latest, layer_names), settings.features).cells(cells)
    )
    s = evaluate_scores(p, events)
    # calibration-free: the share of mined cells above the riskiest 10 % of clean ground (chance: 0.10)
    top10 = float(np.quantile(p[len(mined) :], 0.9)) if len(clean) else float("nan")
    return {
        "what": "cells with mines still in the ground vs a sample of cells without (generator truth, restricted)",
        "mined_in_top_10pct_of_clean": round(float((p[: len(mined)] > top10).mean()), 4) if len(mined) else None,
        "roc_auc": round(s.roc_auc, 4) if s.roc_auc is not None else None,
        "pr_auc": round(s.pr_auc, 4) if s.pr_auc is not None else None,
        "mined_cells": len(mined),
        "clean_cells_sampled": len(clean),
        "mean_risk_mined": round(float(p[: len(mined)].mean()), 4),
        "mean_risk_clean": round(float(p[len(mined) :].mean()), 4),
    }


# ------------------------------------------------------------------ prediction


def score_and_flag(
    tm: TrainedModel, data: RiskData, lon: np.ndarray, lat: np.ndarray, as_of: date | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per location: the probability of the cell holding it (the map's float32) and why the model cannot
    say (``domain`` codes: 0 where it can). The probability is NaN wherever the code is not 0."""
    grid = model_grid(tm, data)
    x, y = grid.from_wgs84().transform(np.asarray(lon, float), np.asarray(lat, float))
    r, c, ok = grid.cell_of(x, y)
    out = np.full(len(lon), np.nan)
    why = np.full(len(lon), OUTSIDE_GRID, np.uint8)
    if ok.any():
        fb = FeatureBuilder(grid, aligned_layers(data, as_of, tm.layers), tm.spec)
        X = fb.cells(grid.flat_index(r[ok], c[ok]))
        p = tm.model.predict_proba(X).astype(np.float32).astype(float)
        w = tm.domain.reasons(X, grid.cell) if tm.domain is not None else np.zeros(len(X), np.uint8)
        p[w > 0] = np.nan
        out[ok], why[ok] = p, w
    return out, why


def score_points(tm: TrainedModel, data: RiskData, lon: np.ndarray, lat: np.ndarray, as_of: date | None) -> np.ndarray:
    """One probability per location, as the map stores it (float32); NaN outside the grid or the model's domain."""
    return score_and_flag(tm, data, lon, lat, as_of)[0]


def explain_points(
    tm: TrainedModel, data: RiskData, lon: np.ndarray, lat: np.ndarray, as_of: date | None, top: int = 5
) -> list[dict]:
    """For each location: its risk and the features that pushed it up or down (log-odds contributions)."""
    grid = model_grid(tm, data)
    x, y = grid.from_wgs84().transform(np.asarray(lon, float), np.asarray(lat, float))
    r, c, ok = grid.cell_of(x, y)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        named = "; ".join(f"{lon[i]}, {lat[i]}" for i in bad[:10]) + (" …" if len(bad) > 10 else "")
        raise SafeGroundError(
            f"{len(bad)} location(s) outside the model's grid: {named}",
            hint="the grid covers the data's extent (and the domain buffer the model was trained with)",
        )
    fb = FeatureBuilder(grid, aligned_layers(data, as_of, tm.layers), tm.spec)
    X = fb.cells(grid.flat_index(r, c))
    p = tm.model.predict_proba(X).astype(np.float32)  # the map's float32: one number per place
    why = tm.domain.reasons(X, grid.cell) if tm.domain is not None else np.zeros(len(X), np.uint8)
    contrib = tm.model.contributions(X)
    out = []
    for i in range(len(X)):
        cvec = contrib[i, :-1]
        order = np.argsort(cvec)
        up = [(tm.feature_names[j], float(X[i, j]), float(cvec[j])) for j in order[::-1][:top] if cvec[j] > 0]
        down = [(tm.feature_names[j], float(X[i, j]), float(cvec[j])) for j in order[:top] if cvec[j] < 0]
        out.append(
            {
                "lon": float(lon[i]),
                "lat": float(lat[i]),
                "risk": float(p[i]) if why[i] == 0 else None,
                "model_output": float(p[i]),
                "out_of_domain": REASONS[int(why[i])] or None,
                "base": float(contrib[i, -1]),
                "up": up,
                "down": down,
            }
        )
    return out
