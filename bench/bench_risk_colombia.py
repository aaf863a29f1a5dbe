"""Real data: where will mine accidents happen in Colombia, in departments the model never saw?

Run:  .venv/bin/python bench/bench_risk_colombia.py [--events ../shared/data/colombia-mine-events/events.csv]

Protocol (printed with the figures; nothing in it is tuned on the test split):
- time: features from what was known by the cut (2012-12-31), target = 1 km cells with an accident
  (event types 1, 2) after it, to the last year of the data; the model learns the same question one
  period earlier (features as of cut − Δ, accidents in (cut − Δ, cut], Δ = the test period's length);
- space: departments are the blocks (each cell takes the department of its nearest event), dealt
  into 5 folds; each fold's test departments are scored by a model trained on the other departments
  only, so every test cell is scored by a model that saw neither its future nor its department;
- domain: cells within 10 km of an event known on the features' date, 1 km cells (the issue's protocol);
- baselines, same cells, same run: the 5 × 5 window count of earlier events (the issue's "window
  baseline") and the 11 × 11 one (5 km, the data README's);
- more periods: the same question asked from earlier dates too (features as of cut − Δ − 2 y and − 4 y,
  accidents in the Δ after each), all ending before the cut;
- the ablation adds one thing at a time in an order fixed before any figure was seen; the last row is
  the full model. Each row is measured in this run. Rows 6–10 (2026-12-01, session 8) were appended,
  with every scale in them, before any of their figures was seen: nothing in them is chosen on the test
  split (kernel sigmas 2 and 8 km, trend look-backs 1 and 3 years at 5 and 20 km, 5 ensemble members);
- the spatial ensemble's members each leave out a fifth of the *training* departments (never a test one);
- the ablation's figures are of ranking only: calibration (Platt, on out-of-fold scores, as `risk train` does)
  is monotone and leaves them unchanged. After the ablation, row 1's settings (the product's default) are fitted
  again with that calibration and its probabilities compared with what came: accident cells expected against
  observed in bands of the ranking, and the Brier score against every cell at the test period's own rate
  (2026-12-03, session 10: added before any of its figures was seen).
- no elevation model is used: none is given with the data, and nothing is downloaded.

Model selection inside the training period (``--select``; 2026-12-04, session 12: this protocol, the candidates,
the figure and the tie rule were written here and committed before any figure of it was produced):
- data: only the events dated by the cut (2012-12-31) are read for the choice (the file is filtered to
  them before anything is built from it: layers, the grid, the departments of the cells);
- inner question, the outer one moved back by Δ (Δ = the test period's length, 2013–2019): features as of
  cut − Δ (2006-01-01), accidents in (cut − Δ, cut] (2006–2012) are the inner validation; the candidate learns
  from features as of cut − 2Δ (1999-01-02) and accidents in (cut − 2Δ, cut − Δ] (1999–2005), all ending before
  the inner validation's labels begin (candidates with more periods add cut − 2Δ − 2 y and − 4 y);
- space as in the test protocol: departments (the nearest pre-cut event's) dealt into 5 folds by the inner
  validation cells, each fold's departments scored by a model trained on the other departments only;
- domain: cells within 10 km of an event known on the inner validation's date, 1 km cells; the two window
  baselines on the same cells;
- candidates (fixed here): the ablation rows 1–8 and 10 (row 9, the spatial ensemble with three periods, is
  left out for time: 1,366 s in the 2026-12-01 run, more than all other rows together; row 10 keeps the
  ensemble among the candidates), and a grid of LightGBM settings aimed at the shift between periods (a model
  fitted to one period's quirks ranks the next period by them), each on row 1 (the product's default) and on
  row 4 (every one-period addition): M monotone constraints (``FeatureSpec.monotone``: event densities
  raise the risk, distances to events lower it, nothing else held), S smaller trees (7 leaves, at least 100
  cells a leaf), L strong L2 (λ 30), T half the trees (60), and all four together; 9 + 10 = 19 candidates;
- the figure that chooses: the share of the inner validation's accident cells in the riskiest 10 % of its
  cells; ties (equal to three decimals) go to the higher ROC-AUC (three decimals), then to the earlier
  candidate in the list (the simpler one);
- then the test, in the same run: only the chosen candidate, row 1 and the two window baselines are scored on
  the test split (the outer protocol above); no other candidate's test figure is computed.
- correction, declared after a development run on a sub-region (--region -76.5,5,-73.5,8) and before the full
  run: in the protocol above the domain held the negatives only. ``labels`` takes every accident cell of the
  period but draws its negatives from the domain, so a cell farther than 10 km from all earlier events is in
  the set only if it had an accident: 353 of the 599 accident cells of 1999–2005 and 542 of the 1,539 of
  2006–2012 (counted on the pre-cut data). A model learns "far from everything means an accident" (which
  monotone constraints forbid, so they lost by that alone), and on the test such cells are all positives,
  ranked high by the model and last by the window counts. In --select, in both phases, every labelled cell
  (positives too) lies in the domain of its features' date, as the issue's protocol says ("scored on 1 km
  cells within 10 km of earlier events"); how many accident cells that leaves out is printed. Row 1 and the
  baselines are also scored, same run, on the test as the earlier sessions measured it (those cells kept).
- ``--leak`` (added after the --select run, a diagnosis that chooses nothing): row 1 trained and tested as the
  earlier sessions did, its test scored on all cells and on those inside the domain only, and the places of the
  accident cells outside the domain in its ranking.

Figures: ROC-AUC, PR-AUC and the share of future accident cells inside the riskiest 10 % of the cells.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from safeground.risk.features import FeatureBuilder, FeatureSpec
from safeground.risk.grid import Grid
from safeground.risk.layers import RiskData, from_files
from safeground.risk.metrics import Scores, calibration, evaluate_scores
from safeground.risk.models import block_folds, make_model
from safeground.risk.pipeline import (
    MAX_FULL_GRID,
    Labelled,
    RiskSettings,
    _window_count,
    aligned_layers,
    block_ids,
    domain_cells,
    event_counts,
    labels,
    make_grid,
)

HERE = Path(__file__).resolve().parent
COLOMBIA = (-82.0, -5.0, -66.0, 14.0)
DEFAULT = HERE.parent.parent / "shared" / "data" / "colombia-mine-events" / "events.csv"


def variants(cell: float) -> list[tuple[str, FeatureSpec, dict]]:
    """The ablation, cumulative, in the order fixed in advance.

    Params starting with ``_`` are the bench's own: ``_periods`` training periods, ``_split`` the events also
    split by area_type, ``_model`` the model's name. Every row names its LightGBM settings from ``OLD_LIGHTGBM``
    (the defaults its figures were measured with; session 12 changed the product's), and row 1 is the product's
    default before session 12 (``FeatureSpec.for_cell`` then), so the rows stay what they were."""
    base = FeatureSpec(max_distance_m=80 * cell, radii_m=(3 * cell, 10 * cell, 40 * cell))
    scales = replace(base, radii_m=tuple(k * cell for k in (2, 5, 10, 20, 40)))
    since = replace(scales, recency_radii_m=(2 * cell, 10 * cell))
    full = {"class_weight": "balanced", "_periods": 3}
    # 2026-12-01 (session 8, issue 15): rows 6–10 below were appended, in this order and with these scales,
    # before any of their figures was seen. They continue from row 5 (the full model so far), whatever its
    # figures; row 10 is row 9 with one training period, declared here because row 5 lost to row 4.
    trend = replace(since, trend_years=(1.0, 3.0), trend_radii_m=(5 * cell, 20 * cell))
    kde = replace(trend, kernel_m=(2 * cell, 8 * cell))
    split = {**full, "_split": True}
    ensemble = {**split, "_model": "lightgbm-spatial-ensemble"}
    rows = [
        ("as before (densities at 3, 10, 40 km)", base, {}),
        ("+ densities at 2, 5, 10, 20, 40 km", scales, {}),
        ("+ years since the last event (2, 10 km)", since, {}),
        ("+ balanced class weights", since, {"class_weight": "balanced"}),
        ("+ two more earlier training periods (−2, −4 y)", since, full),
        ("+ rural / urban event layers (area_type)", since, split),
        ("+ share of events of the last 1, 3 y (5, 20 km)", trend, split),
        ("+ Gaussian kernel densities (σ 2, 8 km)", kde, split),
        ("+ spatial ensemble (5 × ⅘ of the departments)", kde, ensemble),
        ("row 9 with one training period", kde, {k: v for k, v in ensemble.items() if k != "_periods"}),
    ]
    return [(name, spec, {**OLD_LIGHTGBM, **params}) for name, spec, params in rows]


#: LightGBM settings of the product before session 12, which every row was measured with (``variants``)
OLD_LIGHTGBM: dict = {"n_estimators": 120, "class_weight": None}


GRID: list[tuple[str, dict]] = [  # the --select grid (module docstring): code, LightGBM settings
    ("M", {"_monotone": True}),
    ("S", {"num_leaves": 7, "min_child_samples": 100}),
    ("L", {"reg_lambda": 30.0}),
    ("T", {"n_estimators": 60}),
    ("MSLT", {"_monotone": True, "num_leaves": 7, "min_child_samples": 100, "reg_lambda": 30.0, "n_estimators": 60}),
]


def candidates(cell: float) -> list[tuple[str, str, FeatureSpec, dict]]:
    """The --select candidates, in the order of the module docstring: (code, name, spec, params)."""
    rows = variants(cell)
    out = [(str(i), name, spec, params) for i, (name, spec, params) in enumerate(rows, start=1) if i != 9]
    for base in (1, 4):
        _name, spec, params = rows[base - 1]
        for code, extra in GRID:
            extra = dict(extra)
            monotone = bool(extra.pop("_monotone", False))
            what = {"M": "monotone", "S": "7 leaves, ≥ 100 a leaf", "L": "L2 λ 30", "T": "60 trees"}
            label = " + ".join(what[c] for c in code)
            out.append((f"{base}{code}", f"row {base}, {label}", replace(spec, monotone=monotone), {**params, **extra}))
    return out


def superset(cell: float) -> FeatureSpec:
    """Every feature of every row: computed once per date, each row takes its columns (``features``)."""
    specs = [spec for _n, spec, _p in variants(cell)]
    assert len({s.max_distance_m for s in specs}) == 1, "the rows share their distance cap (and so the halo)"
    last = specs[-1]

    def union(field: str) -> tuple[float, ...]:
        return tuple(sorted({v for s in specs for v in getattr(s, field)}))

    return replace(last, radii_m=union("radii_m"), recency_radii_m=union("recency_radii_m"))


def features(
    grid: Grid, data: RiskData, as_of: date, cells: np.ndarray, spec: FeatureSpec, split: bool, cache: dict
) -> tuple[np.ndarray, list[str]]:
    """A row's features on a date: its own columns of the superset's matrix, computed once per date.

    Exactly what the row's own FeatureBuilder gives (``--verify`` checks it): each feature depends on its own
    layer and scale only, every sum is exact, and all rows share the halo (the 80 km distance cap). The data
    hold the events also split by area_type; a row without ``_split`` takes the other layers only, in the
    order ``from_files`` without the split gives them."""
    layers = aligned_layers(data, as_of)
    key = ("X", str(as_of), hashlib.sha1(cells.tobytes()).hexdigest())
    if key not in cache:
        fb = FeatureBuilder(grid, layers, cache["superset"])
        cache[key] = ({n: j for j, n in enumerate(fb.names)}, fb.cells(cells))
    col, xm = cache[key]
    use = layers if split else [la for la in layers if "=" not in la.name]
    names = spec.names([la.name for la in use], [la.kind for la in use])
    return xm[:, [col[n] for n in names]], names


def labels_before_fix(
    grid: Grid, data: RiskData, after: date, until: date, settings: RiskSettings
) -> tuple[Labelled, int]:
    """``pipeline.labels`` as it was before session 12's fix, kept callable here only (``--leak`` and the continuity
    row of ``--select``): every accident cell of the period, the negatives from the domain only. The negatives are
    those the fixed ``labels`` draws (the same set and the same draw: cells outside the domain were never among
    them), so only the accident cells outside the domain are added back, in the order the old code gave.
    Also returns how many accident cells the fixed ``labels`` leaves out."""
    lab = labels(grid, data, after, until, settings)
    pos, counts = event_counts(grid, data.targets.between(after, until))
    neg = lab.cells[lab.y == 0]
    cells = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos), np.int8), np.zeros(len(neg), np.int8)])
    ev = np.concatenate([counts, np.zeros(len(neg), np.int64)])
    return Labelled(cells, y, ev, np.ones(len(cells), bool)), lab.outside_domain


def spacetime(
    data: RiskData,
    settings: RiskSettings,
    cut: date,
    until: date,
    params: dict,
    cache: dict,
    as_before: bool = False,
) -> tuple[Scores, dict[str, Scores], dict, tuple[np.ndarray, np.ndarray]]:
    """Department folds × temporal split, as the module docstring says: every labelled cell, positives too, inside
    the domain of its features' date (``pipeline.labels``). ``as_before``: labelled as before session 12's fix
    (``labels_before_fix``: accident cells from anywhere), for ``--leak`` and the continuity row only."""
    delta = until - cut
    train_as_of = cut - delta
    grid = make_grid(data, settings.cell_m, data.crs_wkt, settings.grid_margin_m)
    test_settings = replace(settings, max_negatives=MAX_FULL_GRID)
    outside = {"train": 0, "test": 0}
    if ("labels", as_before) not in cache:
        if as_before:
            tr = labels_before_fix(grid, data, train_as_of, cut, settings)[0]
            te = labels_before_fix(grid, data, cut, until, test_settings)[0]
        else:
            tr = labels(grid, data, train_as_of, cut, settings)
            te = labels(grid, data, cut, until, test_settings)
            outside = {"train": tr.outside_domain, "test": te.outside_domain}
        g_tr, _ = block_ids(grid, data, tr.cells, None)
        g_te, how = block_ids(grid, data, te.cells, None)
        cache[("labels", as_before)] = (tr, te, g_tr, g_te, how, dict(outside))
    tr, te, g_tr, g_te, how, outside = cache[("labels", as_before)]
    params = dict(params)
    periods = int(params.pop("_periods", 1))
    model_name = str(params.pop("_model", settings.model))
    split = bool(params.pop("_split", False))
    calibrate = bool(params.pop("_calibrate", False))
    spec = settings.features

    def feats(as_of: date, cells: np.ndarray) -> tuple[np.ndarray, list[str]]:
        return features(grid, data, as_of, cells, spec, split, cache)

    x_tr, names = feats(train_as_of, tr.cells)
    directions = spec.monotone_directions(names)
    if directions is not None:  # what `risk train --monotone` gives the model (RiskSettings.model_params_for)
        params["monotone_constraints"] = directions
    y_tr = tr.y
    for k in range(1, periods):  # the same question asked from earlier dates: more to learn from, none of it later
        a = date(train_as_of.year - 2 * k, train_as_of.month, train_as_of.day)
        if as_before:
            lab_k = labels_before_fix(grid, data, a, a + delta, settings)[0]
        else:
            lab_k = labels(grid, data, a, a + delta, settings)
        x_tr = np.concatenate([x_tr, feats(a, lab_k.cells)[0]])
        y_tr = np.concatenate([y_tr, lab_k.y])
        g_tr = np.concatenate([g_tr, block_ids(grid, data, lab_k.cells, None)[0]])
    x_te = feats(cut, te.cells)[0]
    fold_of: dict[str, int] = {}
    for f, (_a, test_rows) in enumerate(block_folds(g_te, 5)):
        for dept in np.unique(g_te[test_rows]):
            fold_of[str(dept)] = f
    f_tr = np.array([fold_of.get(str(d), -1) for d in g_tr])
    f_te = np.array([fold_of[str(d)] for d in g_te])
    p = np.full(len(te.cells), np.nan)

    def fold(f: int) -> np.ndarray:
        keep = f_tr != f
        m = make_model(model_name, params=params)
        # ranking rows need no calibration; the calibration row is calibrated as `risk train` does (Platt on
        # out-of-fold scores grouped by the training departments); the departments also go to the bagging models
        m.fit(x_tr[keep], y_tr[keep], g_tr[keep], calibrate=calibrate)
        return m.predict_proba(x_te[f_te == f])

    # two folds at a time (each fit uses one thread; LightGBM releases the GIL): the machine's two cores
    todo = [f for f in range(5) if (f_te == f).any()]  # a development run's region may leave a fold empty
    with ThreadPoolExecutor(max_workers=2) as pool:
        for f, pf in zip(todo, pool.map(fold, todo), strict=True):
            p[f_te == f] = pf
    ok = ~np.isnan(p)
    model = evaluate_scores(p[ok], te.events[ok])
    base = {}
    for name, r in (("5 × 5 window count", 2.0 * settings.cell_m), ("11 × 11 window count (5 km)", 5000.0)):
        if (name, r, as_before) not in cache:
            cache[(name, r, as_before)] = _window_count(grid, data, cut, r, te.cells)
        base[name] = evaluate_scores(cache[(name, r, as_before)][ok].astype(float), te.events[ok])
    info = {
        "train_features_as_of": str(train_as_of),
        "train_labels": f"{train_as_of} … {cut}",
        "test_features_as_of": str(cut),
        "test_labels": f"{cut} … {until}",
        "blocks": f"{how}: {len(np.unique(g_te))} departments in 5 folds",
        "train_cells": len(y_tr),
        "train_accident_share": round(float(np.mean(y_tr > 0)), 5),
        "test_cells": int(ok.sum()),
        "test_accident_cells": int((te.events[ok] > 0).sum()),
        "accident_cells_outside_the_domain_left_out": "none left out (kept)" if as_before else outside,
        "features": len(names),
    }
    return model, base, info, (p[ok], te.events[ok])


def verify(args: argparse.Namespace, data: RiskData, cut: date, cache: dict) -> None:
    """Each row's columns of the shared matrix equal the row's own FeatureBuilder on data loaded its way."""
    plain = from_files(
        args.events, "event_type in 1,2", type_column="event_type", block_column="department", region=data_region(args)
    )
    grid = make_grid(data, args.cell, data.crs_wkt, args.domain_m)
    rng = np.random.default_rng(0)
    cells = np.sort(rng.choice(grid.size, 3000, replace=False))
    for i, (_name, spec, params) in enumerate(variants(args.cell), start=1):
        split = bool(params.get("_split"))
        got, names = features(grid, data, cut, cells, spec, split, cache)
        own = FeatureBuilder(grid, aligned_layers(data if split else plain, cut), spec)
        assert own.names == names, f"row {i}: names differ"
        np.testing.assert_array_equal(own.cells(cells), got, err_msg=f"row {i}")
    print(f"verified: every row's columns of the shared matrix equal its own features ({len(cells)} cells)")


def data_region(args: argparse.Namespace) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in args.region.split(",")) if args.region else COLOMBIA  # type: ignore[return-value]


def print_calibration(prob: np.ndarray, events: np.ndarray, train_share: float, figure: Path | None) -> dict:
    """Expected against observed accident cells by rank band, Brier skill; a bar chart when asked.

    ``train_share``: the share of training cells with an accident (the rate the probabilities were fitted to),
    printed beside the test period's own, since a fall in the rate between the two periods makes every band
    expect too many, whatever the ranking."""
    base = float((events > 0).mean())
    c = calibration(prob, events, base_rate=base)
    expected, observed = sum(b.expected for b in c.bands), sum(b.observed for b in c.bands)
    print(
        f"\ncalibration of row 1's settings, calibrated as `risk train` does (the figures above are ranking only):\n"
        f"  Brier {c.brier:.5f}; every cell at the test period's own rate ({base:.5f}): {c.brier_base_rate:.5f}; "
        f"skill {c.skill:+.3f} (above 0: better than knowing the rate alone)\n"
        f"  in all {expected:,.0f} accident cells expected, {observed:,d} came ({expected / max(observed, 1):.2f}×); "
        f"training cells with an accident: {train_share:.3%} (sampled negatives included), test cells: {base:.3%}"
    )
    print(f"  {'riskiest cells':18s} {'cells':>9s} {'expected':>9s} {'observed':>9s}  accident cells")
    for b in c.bands:
        band = f"{b.top_from * 100:g}–{b.top_to * 100:g} %"
        print(f"  {band:18s} {b.cells:9,d} {b.expected:9.1f} {b.observed:9d}")
    if figure is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
        x = np.arange(len(c.bands))
        ax.bar(x - 0.2, [b.expected for b in c.bands], 0.4, label="expected by the model", color="#d95f02")
        ax.bar(x + 0.2, [b.observed for b in c.bands], 0.4, label="accident cells that came", color="#1b9e77")
        ax.set_xticks(x, [f"{b.top_from * 100:g}–{b.top_to * 100:g} %" for b in c.bands])
        ax.set_xlabel("cells ranked by predicted risk (riskiest first)")
        ax.set_ylabel("1 km cells with an accident\nin the test period")
        ax.set_title(f"Colombia, held-out departments: calibration (Brier skill {c.skill:+.3f})")
        ax.legend()
        fig.tight_layout()
        fig.savefig(figure)
        print(f"  figure: {figure}")
    return {"brier": c.brier, "brier_base_rate": c.brier_base_rate, "skill": c.skill,
            "bands": [b.__dict__ for b in c.bands]}  # fmt: skip


def _row(name: str, s: Scores) -> str:
    return f"  {name:52s} ROC-AUC {s.roc_auc:.3f}  PR-AUC {s.pr_auc:.3f}  top 10 % {s.capture_10:.3f}"


def measure(
    label: str,
    data: RiskData,
    settings: RiskSettings,
    dates: tuple[date, date],
    params: dict,
    cache: dict,
    rows: list[dict],
    first: bool,
    **record: object,
) -> Scores:
    """One row of a table: fitted and scored by ``spacetime`` (features by ``dates[0]``, accidents to ``dates[1]``),
    printed, and appended to ``rows`` with ``record``'s fields; the first row of a table prints the protocol's
    details and the window baselines before it (the same cells, measured once)."""
    t = time.perf_counter()
    model, base, info, _scored = spacetime(data, settings, dates[0], dates[1], params, cache)
    seconds = round(time.perf_counter() - t, 1)
    if first:
        print(f"\n{json.dumps(info, indent=1)}\n")
        phase = {k: v for k, v in record.items() if k == "phase"}
        for bname, s in base.items():
            print(_row(bname, s))
            rows.append({**phase, "name": bname, **s.as_dict()})
    print(_row(label, model) + f"   ({info['features']} features, {seconds} s)", flush=True)
    rows.append({**record, "seconds": seconds, **model.as_dict(), **info})
    return model


def choose(results: list[tuple[str, Scores]]) -> str:
    """The declared rule: highest capture in the top 10 %, then ROC-AUC (both to three decimals), then the
    earlier candidate."""
    order = sorted(
        range(len(results)),
        key=lambda i: (-round(results[i][1].capture_10 or 0.0, 3), -round(results[i][1].roc_auc or 0.0, 3), i),
    )
    return results[order[0]][0]


def until_cut(events: Path, cut: date, out: Path) -> Path:
    """The events file with only the rows dated by the cut (a year is taken as its last day, as ``from_files``
    reads it): what the choice inside the training period may see."""
    import pandas as pd

    frame = pd.read_csv(events)
    ends = pd.to_datetime(frame["year"].astype(int).astype(str) + "-12-31")
    frame[ends <= pd.Timestamp(cut)].to_csv(out, index=False)
    return out


def select(
    args: argparse.Namespace, load: Callable[[Path, tuple[str, ...]], RiskData], cut: date, until: date, t0: float
) -> list[dict]:
    """--select: the choice inside the training period, then the test of the chosen candidate (module docstring)."""
    import tempfile

    rows: list[dict] = []
    delta = until - cut
    inner_cut = cut - delta
    with tempfile.TemporaryDirectory() as tmp:
        known = until_cut(args.events, cut, Path(tmp) / "events-by-cut.csv")
        inner = load(known, ("area_type",))
    last = max(la.dates.max() for la in inner.layers if la.dates is not None and len(la.dates)).astype(date)
    assert last <= cut, f"an event after the cut was read: {last}"
    n_inner = next(len(la) for la in inner.layers if la.name == "event:all")
    print(
        f"\nINNER VALIDATION (only events dated by {cut}: {n_inner:,} events, the last {last}; "
        f"{len(inner.targets):,} accidents)"
    )
    cache: dict = {"superset": superset(args.cell)}
    results: list[tuple[str, Scores]] = []
    cands = candidates(args.cell)
    for code, name, spec, params in cands:
        settings = RiskSettings(cell_m=args.cell, spec=spec, domain_buffer_m=args.domain_m)
        model = measure(
            f"{code}. {name}", inner, settings, (inner_cut, cut), params, cache, rows, not results,
            phase="inner", code=code, name=name,
        )  # fmt: skip
        results.append((code, model))
    chosen = choose(results)
    inner_of = dict(results)
    c_name = next(n for c, n, _s, _p in cands if c == chosen)
    beats = (round(inner_of[chosen].capture_10 or 0, 3), round(inner_of[chosen].roc_auc or 0, 3)) > (
        round(inner_of["1"].capture_10 or 0, 3),
        round(inner_of["1"].roc_auc or 0, 3),
    )
    print(
        f"\nCHOSEN on the inner validation (top 10 %, then ROC-AUC): {chosen}. {c_name}"
        f"\n  inner: {_row(chosen, inner_of[chosen]).strip()}\n  row 1: {_row('1', inner_of['1']).strip()}"
        f"\n  beats row 1 on the inner validation: {'yes' if beats else 'no'}"
        f"  ({time.perf_counter() - t0:.0f} s so far; no test figure computed yet)",
        flush=True,
    )
    rows.append({"phase": "choice", "chosen": chosen, "name": c_name, "beats_row_1_inner": beats})
    del inner, cache
    print("\nTEST (the protocol above: all events; features by the cut, accidents after it)")
    data = load(args.events, ("area_type",))
    n_events = next(len(la) for la in data.layers if la.name == "event:all")
    print(f"{len(data.targets):,} accidents (types 1, 2) among {n_events:,} events")
    cache = {"superset": superset(args.cell)}
    first = True
    for code, name, spec, params in cands:
        if code not in ("1", chosen):
            continue
        settings = RiskSettings(cell_m=args.cell, spec=spec, domain_buffer_m=args.domain_m)
        tag = " (chosen)" if code == chosen else ""
        measure(
            f"{code}. {name}{tag}", data, settings, (cut, until), params, cache, rows, first,
            phase="test", code=code, name=name,
        )  # fmt: skip
        first = False
    # continuity with the earlier sessions' tables: row 1 and the baselines as they were measured (the accident
    # cells outside the domain kept, in training and test), same run
    _c, name, spec, params = cands[0]
    t = time.perf_counter()
    settings = RiskSettings(cell_m=args.cell, spec=spec, domain_buffer_m=args.domain_m)
    model, base, info, _scored = spacetime(data, settings, cut, until, params, cache, as_before=True)
    print(
        f"\nthe same test as the earlier sessions measured it (accident cells outside the domain kept: "
        f"{info['test_cells']:,} cells, {info['test_accident_cells']} with accidents):"
    )
    for bname, s in base.items():
        print(_row(bname, s))
        rows.append({"phase": "test, outside cells kept", "name": bname, **s.as_dict()})
    print(_row(f"1. {name}", model) + f"   ({round(time.perf_counter() - t, 1)} s)", flush=True)
    rows.append({"phase": "test, outside cells kept", "code": "1", "name": name, **model.as_dict(), **info})
    return rows


def leak(args: argparse.Namespace, data: RiskData, cut: date, until: date) -> list[dict]:
    """--leak: row 1 trained and tested as the earlier sessions did (accident cells from anywhere), its test
    scored again on the cells inside the domain only, and where the accident cells outside the domain fall in
    its ranking. A diagnosis of the earlier protocol (session 12, after the --select run): it chooses nothing."""
    _name, spec, params = variants(args.cell)[0]
    settings = RiskSettings(cell_m=args.cell, spec=spec, domain_buffer_m=args.domain_m)
    cache: dict = {"superset": superset(args.cell)}
    _m, _b, _i, (p, events) = spacetime(data, settings, cut, until, params, cache, as_before=True)
    tr, te = cache[("labels", True)][:2]
    assert len(p) == len(te.cells), "every fold scored"
    grid = make_grid(data, settings.cell_m, data.crs_wkt, settings.grid_margin_m)
    inside = np.isin(te.cells, domain_cells(grid, data, cut, settings))
    train_as_of = cut - (until - cut)
    tr_out = int((tr.y[~np.isin(tr.cells, domain_cells(grid, data, train_as_of, settings))] > 0).sum())
    window = cache[("5 × 5 window count", 2.0 * settings.cell_m, True)]
    print(
        f"\nrow 1 as the earlier sessions trained it: {int(tr.y.sum())} accident cells in training, {tr_out} of them"
        f" outside the domain of {train_as_of}; test: {len(p):,} cells, {int((events > 0).sum())} with accidents,"
        f" {int((events[~inside] > 0).sum())} of them outside the domain of {cut}"
    )
    rows = []
    for what, keep in (("all test cells (as before)", np.ones(len(p), bool)), ("test cells inside the domain", inside)):
        m, w = evaluate_scores(p[keep], events[keep]), evaluate_scores(window[keep].astype(float), events[keep])
        print(_row(f"row 1, {what}", m))
        print(_row(f"5 × 5 window count, {what}", w))
        rows += [{"name": f"row 1, {what}", **m.as_dict()}, {"name": f"window, {what}", **w.as_dict()}]
    rank = (np.argsort(np.argsort(-p)) + 1) / len(p)  # 1/n: the riskiest cell
    out = rank[(~inside) & (events > 0)]
    print(
        f"  the accident cells outside the domain in row 1's ranking of all test cells: median riskiest "
        f"{np.median(out):.2%}; {np.mean(out <= 0.01):.0%} in the riskiest 1 %, {np.mean(out <= 0.10):.0%} in the 10 %"
    )
    rows.append({"name": "outside accident cells' rank", "ranks": sorted(float(v) for v in out)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=Path, default=DEFAULT)
    ap.add_argument("--cell", type=float, default=1000.0)
    ap.add_argument("--cut", default="2012-12-31")
    ap.add_argument("--domain-m", type=float, default=10_000.0)
    ap.add_argument("--json", type=Path, help="also write all results here")
    ap.add_argument("--rows", help="development only: run these ablation rows (1-based, e.g. 6,9)")
    ap.add_argument("--region", help="development only: west,south,east,north instead of all Colombia")
    ap.add_argument("--verify", action="store_true", help="check the shared feature matrix against each row's own")
    ap.add_argument("--calibration", action="store_true", help="with --rows: also the calibration (always run without)")
    ap.add_argument("--figure", type=Path, help="draw the calibration's bands into this PNG")
    ap.add_argument("--select", action="store_true", help="choose inside the training period, then test the choice")
    ap.add_argument("--leak", action="store_true", help="row 1 as before, on the cells inside the domain too")
    args = ap.parse_args()
    t0 = time.perf_counter()
    # one record has a flipped longitude sign (74.23 E for Bogotá): the region keeps Colombia only
    region = data_region(args)
    if args.rows or args.region:
        print("DEVELOPMENT RUN (--rows / --region): not the figures of the protocol")

    def load(events: Path, split: tuple[str, ...]) -> RiskData:
        return from_files(
            events,
            "event_type in 1,2",
            type_column="event_type",
            block_column="department",
            region=region,
            split_columns=split,
        )

    cut = date.fromisoformat(args.cut)
    if args.select:
        # Δ, the test period's length, is the outer protocol's (to the last year of the data); nothing else of
        # the file after the cut is read before the choice is made
        import pandas as pd

        ev = pd.read_csv(args.events, usecols=["year", "event_type"])
        until = date(int(ev.loc[ev["event_type"].isin([1, 2]), "year"].max()), 12, 31)
        print(__doc__.split("Protocol")[1].split("Figures:")[0].rstrip())
        rows = select(args, load, cut, until, t0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\ntotal {time.perf_counter() - t0:.0f} s, peak memory {peak:.0f} MB")
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        return
    # the events also split by area_type; rows without it take the other layers only (``features``)
    data = load(args.events, ("area_type",))
    until = data.targets.dates.max().astype(date)
    if args.leak:
        rows = leak(args, data, cut, until)
        print(f"\ntotal {time.perf_counter() - t0:.0f} s")
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        return
    n_events = next(len(la) for la in data.layers if la.name == "event:all")
    print(f"{len(data.targets):,} accidents (types 1, 2) among {n_events:,} events")
    print(__doc__.split("Protocol")[1].split("Figures:")[0].rstrip())
    cache: dict = {"superset": superset(args.cell)}
    if args.verify:
        verify(args, data, cut, cache)
    rows = []
    chosen = {int(v) for v in args.rows.split(",")} if args.rows else None
    for i, (name, spec, params) in enumerate(variants(args.cell), start=1):
        if chosen is not None and i not in chosen:
            continue
        settings = RiskSettings(cell_m=args.cell, spec=spec, domain_buffer_m=args.domain_m)
        measure(f"{i}. {name}", data, settings, (cut, until), params, cache, rows, not rows, name=name)
    if chosen is None or args.calibration:
        _name, spec, params = variants(args.cell)[0]
        settings = RiskSettings(cell_m=args.cell, spec=spec, domain_buffer_m=args.domain_m)
        t = time.perf_counter()
        _m, _b, info, (prob, events) = spacetime(data, settings, cut, until, {**params, "_calibrate": True}, cache)
        rows.append({"name": "calibration", "seconds": round(time.perf_counter() - t, 1),
                     **print_calibration(prob, events, info["train_accident_share"], args.figure)})  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ntotal {time.perf_counter() - t0:.0f} s, peak memory {peak:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
