"""Completion forecast (known answers) and impact prioritisation."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from safeground.errors import InvalidInput
from safeground.landrelease import forecast as lf
from safeground.landrelease import priority as lp


def _settings(cv: float, **kw) -> lf.ForecastSettings:
    prod = {"manual": lf.Productivity("manual", 100.0, cv, "given")}
    return lf.ForecastSettings(teams={"manual": 2}, productivity=prod, start=date(2025, 3, 3), **kw)


def test_constant_productivity_gives_the_exact_date():
    # two teams × 100 m²/day = 200 m²/day; 2,000 m² then 3,000 m²: 10 and 25 working days
    remaining = pd.Series([2000.0, 3000.0], index=["HA-1", "HA-2"])
    fc = lf.simulate(remaining, _settings(0.0, weekmask="1111100"))  # Monday-Friday
    # Monday 3 March 2025 + 10 working days → Friday 14 March; + 15 more → Friday 4 April
    assert fc.areas["p10"].tolist() == [date(2025, 3, 14), date(2025, 4, 4)]
    assert fc.areas["p50"].tolist() == fc.areas["p90"].tolist() == fc.areas["p10"].tolist()
    assert fc.district == {"p10": date(2025, 4, 4), "p50": date(2025, 4, 4), "p90": date(2025, 4, 4)}
    every_day = lf.simulate(remaining, _settings(0.0, weekmask="1111111"))
    assert every_day.district["p50"] == date(2025, 3, 27)  # 25 calendar days from 3 March inclusive


def test_variable_productivity_gives_a_range_around_the_constant_date():
    remaining = pd.Series([20000.0] * 10, index=[f"HA-{k}" for k in range(10)])
    exact = lf.simulate(remaining, _settings(0.0)).district["p50"]
    fc = lf.simulate(remaining, _settings(0.4, simulations=2000))
    assert fc.district["p10"] < fc.district["p50"] < fc.district["p90"]
    assert fc.district["p10"] < exact < fc.district["p90"]
    # the spread is drawn on the time an area takes with the measured mean, so the typical date stays
    # near the exact one (drawing it on the rate instead inflated durations by 1 + cv², here 16 %)
    span = (exact - date(2025, 3, 3)).days
    assert abs((fc.district["p50"] - exact).days) < 0.05 * span


def test_team_and_productivity_options_are_checked():
    assert lf.parse_teams("manual=4, mechanical=1") == {"manual": 4, "mechanical": 1}
    with pytest.raises(InvalidInput, match=r"manual=x(.|\n)*dogs"):
        lf.parse_teams("manual=x,dogs")
    p = lf.parse_productivity("manual=60,mechanical=1500:0.3")
    assert p["mechanical"].cv == 0.3 and p["manual"].m2_per_team_day == 60
    with pytest.raises(InvalidInput, match="unicorn"):
        lf.simulate(pd.Series([1.0], index=["a"]), lf.ForecastSettings({"unicorn": 1}, p, date(2025, 1, 1)))


def _factors() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uid": ["A", "B", "C"],
            "name": ["a", "b", "c"],
            "classification": ["confirmed_hazardous_area"] * 3,
            "remaining_m2": [100.0, 100.0, 100.0],
            "homes_nearby": [100, 0, 50],
            "blocked": [0.0, 10.0, 5.0],
            "accidents_nearby": [0, 2, 1],
        }
    )


def test_ranking_shows_each_factor_and_drops_missing_risk():
    w = lp.PriorityWeights()
    r, note = lp.rank(_factors(), w)
    assert "not given" in note and "c_predicted_risk" not in r
    contrib = r[["c_returnees", "c_infrastructure", "c_accidents"]].sum(axis=1)
    assert contrib.to_numpy() == pytest.approx(r["score"].to_numpy())
    assert r["uid"].tolist() == ["B", "C", "A"]  # B: infrastructure + accidents outweigh A's homes
    risk = pd.Series({"A": 1.0, "B": 0.0, "C": 0.0})
    r2, note2 = lp.rank(_factors(), lp.PriorityWeights(predicted_risk=5.0), risk)
    assert r2["uid"].iloc[0] == "A" and "risk model" in note2


def test_weights_come_from_a_file_and_bad_values_are_named(tmp_path):
    p = tmp_path / "w.toml"
    p.write_text("[priority]\nreturnees = 1.0\naccidents = 0\n")
    w = lp.load_weights(p, infrastructure=0.5)
    assert (w.returnees, w.accidents, w.infrastructure) == (1.0, 0.0, 0.5)
    y = tmp_path / "w.yaml"
    y.write_text("returnees: -1\nbogus: 2\n")
    with pytest.raises(InvalidInput) as exc:
        lp.load_weights(y)
    assert "returnees" in str(exc.value) and "bogus" in str(exc.value)
