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

Figures: ROC-AUC, PR-AUC and the share of future accident cells inside the riskiest 10 % of the cells.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import time
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
    RiskSettings,
    _window_count,
    aligned_layers,
    block_ids,
    labels,
    make_grid,
)

HERE = Path(__file__).resolve().parent
COLOMBIA = (-82.0, -5.0, -66.0, 14.0)
DEFAULT = HERE.parent.parent / "shared" / "data" / "colombia-mine-events" / "events.csv"


def variants(cell: float) -> list[tuple[str, FeatureSpec, dict]]:
    """The ablation, cumulative, in the order fixed in advance.

    Params starting with ``_`` are the bench's own: ``_periods`` training periods, ``_split`` the events also
    split by area_type, ``_model`` the model's name."""
    base = FeatureSpec.for_cell(cell)
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
    return [
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


def spacetime(
    data: RiskData, settings: RiskSettings, cut: date, until: date, params: dict, cache: dict
) -> tuple[Scores, dict[str, Scores], dict]:
    """Department folds × temporal split, as the module docstring says."""
    delta = until - cut
    train_as_of = cut - delta
    grid = make_grid(data, settings.cell_m, data.crs_wkt, settings.grid_margin_m)
    if "labels" not in cache:
        tr = labels(grid, data, train_as_of, cut, settings)
        te = labels(grid, data, cut, until, replace(settings, max_negatives=MAX_FULL_GRID))
        g_tr, _ = block_ids(grid, data, tr.cells, None)
        g_te, how = block_ids(grid, data, te.cells, None)
        cache["labels"] = (tr, te, g_tr, g_te, how)
    tr, te, g_tr, g_te, how = cache["labels"]
    params = dict(params)
    periods = int(params.pop("_periods", 1))
    model_name = str(params.pop("_model", settings.model))
    split = bool(params.pop("_split", False))
    calibrate = bool(params.pop("_calibrate", False))
    spec = settings.features

    def feats(as_of: date, cells: np.ndarray) -> tuple[np.ndarray, list[str]]:
        return features(grid, data, as_of, cells, spec, split, cache)

    x_tr, names = feats(train_as_of, tr.cells)
    y_tr = tr.y
    for k in range(1, periods):  # the same question asked from earlier dates: more to learn from, none of it later
        a = date(train_as_of.year - 2 * k, train_as_of.month, train_as_of.day)
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
        if (name, r) not in cache:
            cache[(name, r)] = _window_count(grid, data, cut, r, te.cells)
        base[name] = evaluate_scores(cache[(name, r)][ok].astype(float), te.events[ok])
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
    args = ap.parse_args()
    t0 = time.perf_counter()
    # one record has a flipped longitude sign (74.23 E for Bogotá): the region keeps Colombia only
    region = data_region(args)
    if args.rows or args.region:
        print("DEVELOPMENT RUN (--rows / --region): not the figures of the protocol")

    def load(split: tuple[str, ...]) -> RiskData:
        return from_files(
            args.events,
            "event_type in 1,2",
            type_column="event_type",
            block_column="department",
            region=region,
            split_columns=split,
        )

    # the events also split by area_type; rows without it take the other layers only (``features``)
    data = load(("area_type",))
    cut = date.fromisoformat(args.cut)
    until = data.targets.dates.max().astype(date)
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
        t = time.perf_counter()
        settings = RiskSettings(cell_m=args.cell, spec=spec, domain_buffer_m=args.domain_m)
        model, base, info, _scored = spacetime(data, settings, cut, until, params, cache)
        seconds = round(time.perf_counter() - t, 1)
        if not rows:
            print(f"\n{json.dumps(info, indent=1)}\n")
            for bname, s in base.items():
                print(_row(bname, s))
                rows.append({"name": bname, **s.as_dict()})
        print(_row(f"{i}. {name}", model) + f"   ({info['features']} features, {seconds} s)", flush=True)
        rows.append({"name": name, "seconds": seconds, **model.as_dict(), **info})
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
