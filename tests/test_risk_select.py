"""Issue 15, session 12: the pieces of ``bench_risk_colombia.py --select`` that make its choice honest: only the
events dated by the cut are read, every labelled cell lies in the domain, and the declared tie rule."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from safeground.risk.layers import from_files
from safeground.risk.metrics import Scores
from safeground.risk.pipeline import RiskSettings, domain_cells, labels, make_grid
from tests.test_risk import DATA

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_risk_colombia.py"


def bench():
    spec = importlib.util.spec_from_file_location("bench_risk_colombia", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_risk_colombia"] = mod
    spec.loader.exec_module(mod)
    return mod


def scores(capture: float, roc: float) -> Scores:
    return Scores(roc, 0.1, None, capture, 100, 10, 10, 0.1)


def test_the_choice_is_capture_then_roc_auc_then_the_earlier_candidate():
    b = bench()
    assert b.choose([("1", scores(0.60, 0.90)), ("2", scores(0.61, 0.70))]) == "2"
    # equal to three decimals: the higher ROC-AUC
    assert b.choose([("1", scores(0.6101, 0.70)), ("2", scores(0.6099, 0.71))]) == "2"
    # equal on both: the earlier (simpler) candidate
    assert b.choose([("1", scores(0.61, 0.70)), ("2", scores(0.6104, 0.7004))]) == "1"


def test_candidates_are_the_declared_ones():
    b = bench()
    codes = [c for c, _n, _s, _p in b.candidates(1000.0)]
    assert codes == ["1", "2", "3", "4", "5", "6", "7", "8", "10"] + [
        f"{r}{g}" for r in (1, 4) for g in ("M", "S", "L", "T", "MSLT")
    ]
    by = {c: (s, p) for c, _n, s, p in b.candidates(1000.0)}
    assert by["1M"][0].monotone and not by["1"][0].monotone and by["4T"][1]["n_estimators"] == 60
    assert by["4T"][1]["class_weight"] == "balanced"  # row 4's own settings are kept


def test_only_events_dated_by_the_cut_are_read(tmp_path):
    b = bench()
    out = b.until_cut(DATA / "colombia-sample.csv", date(2005, 12, 31), tmp_path / "e.csv")
    years = pd.read_csv(out)["year"]
    assert years.max() == 2005 and len(years) == (pd.read_csv(DATA / "colombia-sample.csv")["year"] <= 2005).sum()
    earlier = b.until_cut(DATA / "colombia-sample.csv", date(2005, 12, 30), tmp_path / "f.csv")
    assert pd.read_csv(earlier)["year"].max() == 2004  # a year is known on its last day


def test_every_labelled_cell_lies_in_the_domain():
    """``labels`` draws its accident cells, like its negatives, from the domain (the fix of session 12); the bench's
    ``labels_before_fix`` gives back the old labelling exactly: the same negatives, every accident cell."""
    b = bench()
    data = from_files(
        DATA / "colombia-sample.csv", "event_type in 1,2", type_column="event_type", block_column="department"
    )
    settings = RiskSettings(cell_m=2000.0, domain_buffer_m=4000.0)
    grid = make_grid(data, settings.cell_m, data.crs_wkt, settings.grid_margin_m)
    as_of = date(2002, 12, 31)
    lab = labels(grid, data, as_of, date(2008, 12, 31), settings)
    dom = domain_cells(grid, data, as_of, settings)
    assert np.isin(lab.cells, dom).all()
    old, dropped = b.labels_before_fix(grid, data, as_of, date(2008, 12, 31), settings)
    outside = ~np.isin(old.cells, dom)
    assert not (outside & (old.y == 0)).any() and (outside & (old.y > 0)).sum() > 10
    assert dropped == lab.outside_domain == int((outside & (old.y > 0)).sum())
    assert sorted(old.cells[~outside]) == sorted(lab.cells)
    assert (old.y[old.y == 0].size, set(old.cells[old.y == 0])) == ((lab.y == 0).sum(), set(lab.cells[lab.y == 0]))


def test_the_products_default_is_the_candidate_chosen_inside_the_training_period():
    """Session 12 made 4T the default (chosen by --select before any test figure); the bench's rows keep the
    settings they were measured with, row 1 being the default before."""
    from safeground.risk.features import FeatureSpec
    from safeground.risk.models import LightGBMRisk

    b = bench()
    _code, _name, spec, params = next(c for c in b.candidates(1000.0) if c[0] == "4T")
    assert spec == FeatureSpec.for_cell(1000.0)
    lightgbm = {k: v for k, v in params.items() if not k.startswith("_")}
    assert lightgbm == {"n_estimators": 60, "class_weight": "balanced"}
    assert all(LightGBMRisk.DEFAULTS[k] == v for k, v in params.items() if not k.startswith("_"))
    _n, row1, p1 = b.variants(1000.0)[0]
    assert row1.radii_m == (3000.0, 10000.0, 40000.0) and row1.recency_radii_m == () and row1.max_distance_m == 80000
    assert p1 == {"n_estimators": 120, "class_weight": None}
