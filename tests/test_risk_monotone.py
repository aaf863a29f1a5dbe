"""Issue 15, session 12: monotone constraints. More past events nearby never lowers a cell's risk (densities
up), nor does being nearer to one (distances down); checked on fitted models, constrained and not."""

from __future__ import annotations

import json

import joblib
import numpy as np

from safeground.risk.features import FeatureSpec, monotone_direction
from safeground.risk.models import make_model
from safeground.risk.pipeline import RiskSettings
from tests.conftest import invoke_cli
from tests.test_risk import DATA

NAMES = [
    "dist:event:all",
    "dens:event:all:3000m",
    "kde:event:1:last2y:2000m",
    "dist:infra:road",
    "since:event:all:2000m",
]


def wiggly(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels whose risk peaks at a middle density and a middle distance: what one period's quirks look like."""
    rng = np.random.default_rng(seed)
    n = 6000
    x = np.column_stack([
        rng.uniform(0, 20_000, n),  # distance to the nearest event
        rng.uniform(0, 10, n),  # events per km²
        rng.uniform(0, 5, n),
        rng.uniform(0, 20_000, n),
        rng.uniform(0, 50, n),
    ])  # fmt: skip
    logit = -2.0 - ((x[:, 1] - 4.0) ** 2) / 2.0 - ((x[:, 0] - 8_000.0) / 3_000.0) ** 2 + 0.5 * x[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return x, y


def violations(model, x: np.ndarray, column: int, direction: int) -> float:
    """The largest move against ``direction`` of the raw score as one feature sweeps its range, others fixed."""
    sweep = np.linspace(x[:, column].min(), x[:, column].max(), 60)
    worst = 0.0
    for row in x[:40]:
        grid = np.repeat(row[None, :], len(sweep), axis=0)
        grid[:, column] = sweep
        steps = np.diff(model._raw(grid)) * direction
        worst = max(worst, float(-steps.min()))
    return worst


def fitted(spec: FeatureSpec, model: str = "lightgbm"):
    x, y = wiggly()
    settings = RiskSettings(cell_m=1000.0, spec=spec, model=model)
    m = make_model(model, params=settings.model_params_for(NAMES))
    m.fit(x, y, calibrate=False)
    return m, x


def test_directions_hold_the_event_features_only():
    assert [monotone_direction(n) for n in NAMES] == [-1, 1, 1, 0, 0]
    assert monotone_direction("dens:event:area_type=Rural:5000m") == 1
    assert monotone_direction("trend:event:all:3y:5000m") == 0
    assert monotone_direction("elevation_m") == 0 and monotone_direction("dens:infra:pole:250m") == 0
    assert FeatureSpec().monotone_directions(NAMES) is None  # off unless asked
    assert RiskSettings(spec=FeatureSpec()).model_params_for(NAMES) == {}


def test_a_fitted_model_keeps_the_constraint_and_one_without_it_does_not():
    free, x = fitted(FeatureSpec())
    held, _ = fitted(FeatureSpec(monotone=True))
    # without the constraint the model learns the wiggles (this is what makes the test able to fail)
    assert violations(free, x, 1, +1) > 0.5 and violations(free, x, 0, -1) > 0.5
    # with it: never lower with more events nearby, never lower nearer to one (to rounding)
    assert violations(held, x, 1, +1) < 1e-9
    assert violations(held, x, 2, +1) < 1e-9
    assert violations(held, x, 0, -1) < 1e-9
    assert held.booster.get_params()["monotone_constraints"] == [-1, 1, 1, 0, 0]


def test_the_spatial_ensemble_passes_the_constraint_to_every_member():
    held, x = fitted(FeatureSpec(monotone=True), "lightgbm-spatial-ensemble")
    assert len(held.members) == 5
    assert violations(held, x, 1, +1) < 1e-9 and violations(held, x, 0, -1) < 1e-9


def test_spec_round_trips_and_older_cards_load_unconstrained():
    spec = FeatureSpec.for_cell(1000.0)
    on = FeatureSpec(monotone=True)
    assert FeatureSpec.from_dict(on.to_dict()) == on
    old = {k: v for k, v in spec.to_dict().items() if k != "monotone"}
    assert FeatureSpec.from_dict(old).monotone is False


def test_cli_trains_a_monotone_model(tmp_path):
    model = tmp_path / "col.joblib"
    res = invoke_cli(
        "risk", "train", "--out", str(model), "--events", str(DATA / "colombia-sample.csv"),
        "--target", "event_type in 1,2", "--cell", "2000", "--as-of", "2008-12-31", "--block-column", "department",
        "--monotone",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    card = json.loads(model.with_suffix(".joblib.json").read_text())
    assert card["feature_spec"]["monotone"] is True
    tm = joblib.load(model)
    got = tm.model.booster.get_params()["monotone_constraints"]
    assert got == [monotone_direction(n) for n in tm.feature_names]
    assert 1 in got and -1 in got
    # the saved model holds it: raising every event density never lowers the score
    x = np.zeros((50, len(got)))
    dens = [j for j, d in enumerate(got) if d == 1]
    low, high = x.copy(), x.copy()
    high[:, dens] = 5.0
    assert (tm.model._raw(high) >= tm.model._raw(low) - 1e-12).all()
