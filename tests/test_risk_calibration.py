"""Calibration figures (issue 15): expected against observed accident cells by rank band, and Brier skill.

Values computed by hand on small arrays, so a wrong band edge, sum or reference fails."""

from __future__ import annotations

import numpy as np
import pytest

from safeground.risk.metrics import calibration


def test_bands_sum_the_probabilities_and_count_the_accident_cells_of_each_share_of_the_ranking() -> None:
    # ten cells; ranked by probability: 0.9 (hit), 0.5, 0.3 (hit), 0.2, 0.1, then five at 0.0 (one hit)
    prob = np.array([0.0, 0.3, 0.0, 0.9, 0.1, 0.0, 0.5, 0.2, 0.0, 0.0])
    events = np.array([0, 2, 0, 1, 0, 1, 0, 0, 0, 0])  # counts, not flags: a cell with two accidents is one cell
    c = calibration(prob, events, base_rate=0.3, shares=(0.1, 0.5, 1.0))
    assert [(b.top_from, b.top_to, b.cells) for b in c.bands] == [(0.0, 0.1, 1), (0.1, 0.5, 4), (0.5, 1.0, 5)]
    assert [b.expected for b in c.bands] == pytest.approx([0.9, 0.5 + 0.3 + 0.2 + 0.1, 0.0])
    assert [b.observed for b in c.bands] == [1, 1, 1]
    hit = np.array([0, 1, 0, 1, 0, 1, 0, 0, 0, 0])
    assert c.brier == pytest.approx(np.mean((prob - hit) ** 2))
    assert c.brier == pytest.approx((0.49 + 0.01 + 0.01 + 0.25 + 0.04 + 1.0) / 10)
    assert c.brier_base_rate == pytest.approx((3 * 0.49 + 7 * 0.09) / 10)
    assert c.skill == pytest.approx(1 - 0.18 / 0.21)


def test_a_forecast_that_knows_no_place_has_no_skill_and_an_inflated_one_has_less_than_none() -> None:
    rng = np.random.default_rng(3)
    hit = rng.random(20_000) < 0.01
    flat = calibration(np.full(hit.size, 0.01), hit, base_rate=0.01)
    assert flat.skill == pytest.approx(0.0)
    ten_times = calibration(np.where(hit, 0.1, 0.1), hit, base_rate=0.01)  # a rate ten times too high
    assert ten_times.skill < 0
    assert sum(b.expected for b in ten_times.bands) == pytest.approx(0.1 * hit.size)
    assert sum(b.observed for b in ten_times.bands) == hit.sum()


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="as many probabilities as cells"):
        calibration(np.zeros(3), np.zeros(4), base_rate=0.1)
