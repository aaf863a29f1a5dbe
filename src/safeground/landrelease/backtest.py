"""Does the forecast tell the truth? Forecast from the first half of the history, compare with the second.

The record holds its own answer: a forecast made on a past date (``cut``) from
only what was known then — activities finished by then, each hazard area's
version as of then — says how much of the area open on that date will have been
released by a later date (``end``, by default the last date of the record); the
hazard areas' version history says how much was. The released area counted on
both sides is the remaining area on ``cut`` of the areas open then, minus their
remaining area on ``end`` (areas recorded after ``cut`` are not counted: the
forecast could not know them).

A forecast whose P10–P90 range holds the truth in about eight backtests out of
ten is honest about its uncertainty; one that misses on most seeds is not. The
old reading (every remaining m² cleared) is computed alongside for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from safeground.errors import SafeGroundError
from safeground.landrelease import accounting as la
from safeground.landrelease import forecast as lf
from safeground.landrelease import pipeline as lp
from safeground.storage.base import Store


@dataclass(frozen=True)
class Backtest:
    """A forecast made on ``cut`` of the m² released by ``end``, and what the record shows was released."""

    cut: date
    end: date
    open_m2: float  # remaining m² of the areas open on the cut date
    p10: float  # forecast m² released from those areas by the end date
    p50: float
    p90: float
    truth: float  # m² of those areas released by the end date, from the version history
    cleared_only_p50: float  # the old reading: every remaining m² cleared, at the clearance teams' pace
    district_p50: date  # the forecast's district completion date (P50), made on the cut date
    notes: list[str] = field(default_factory=list)
    forecast: lf.Forecast | None = field(default=None, repr=False, compare=False)
    #: m² of the areas open on the cut date released by each month end up to ``end`` (the record's answer)
    truth_curve: pd.Series | None = field(default=None, repr=False, compare=False)

    @property
    def width(self) -> float:
        """P90 − P10 relative to the truth: how wide the range is for what happened."""
        return (self.p90 - self.p10) / self.truth if self.truth > 0 else float("inf")

    @property
    def inside(self) -> bool:
        return self.p10 <= self.truth <= self.p90

    def line(self) -> str:
        km = 1e6
        return (
            f"forecast on {self.cut} of the area released by {self.end}: P10 {self.p10 / km:.2f}, "
            f"P50 {self.p50 / km:.2f}, P90 {self.p90 / km:.2f} km² of {self.open_m2 / km:.2f} km² open; "
            f"released {self.truth / km:.2f} km² — {'inside' if self.inside else 'OUTSIDE'} P10–P90 "
            f"(range {self.width:.2f}× the truth; all-clearance reading: {self.cleared_only_p50 / km:.2f} km²)"
        )


def history_span(store: Store) -> tuple[date, date]:
    """First day of operations (the first activity's start) and the last date of the record."""
    act = la.activities_frame(store)
    versions = la.hazard_versions(store)
    if not len(act) or not len(versions):
        raise SafeGroundError(
            f"a backtest replays survey and clearance over hazard areas; the store holds {len(versions):,} "
            f"hazard area versions and {len(act):,} finished activities",
            hint="import both first: safeground import hazard_areas FILE and safeground import activities FILE",
        )
    first = min(act["start_date"])
    last = max([*versions["date_of_information"], *act["released_on"]])
    return first, last


def backtest(
    store: Store,
    *,
    cut: date | None = None,
    end: date | None = None,
    simulations: int = 1000,
    seed: int = 7,
) -> Backtest:
    """Forecast on ``cut`` (default: the middle of the operations) the area released by ``end`` and check it.

    The order in which the areas will be worked is drawn per simulation: the
    priority ranking reads today's hazard areas, which a forecast made on
    ``cut`` could not see, and programmes do not work strictly in rank order.
    """
    first, last = history_span(store)
    end = end or last
    cut = cut or first + (end - first) / 2
    act = la.activities_frame(store)
    versions = la.hazard_versions(store)
    hist = lp.measure(act, versions, cut)
    fc = lf.forecast_from_history(hist, simulations=simulations, seed=seed, order="random")
    rb = fc.released_by(end)
    old_settings = lf.settings_from_history(hist, simulations=simulations, seed=seed, order="random")
    old_settings.shares = None
    old = lf.simulate(hist.work.sort_index(), old_settings).released_by(end)
    open_m2 = float(hist.work["remaining_m2"].sum())

    def released(when: date) -> float:
        left = la.remaining_on(versions, when).set_index("uid").loc[hist.work.index]
        return open_m2 - float(left["remaining_m2"].where(left["status"] != "closed", 0.0).sum())

    truth = released(end)
    months = [cut, *(d.date() for d in pd.date_range(cut, end, freq="ME")), end]
    curve = pd.Series([released(d) for d in months], index=pd.to_datetime(months))
    return Backtest(
        cut=cut,
        end=end,
        open_m2=open_m2,
        p10=rb["p10"],
        p50=rb["p50"],
        p90=rb["p90"],
        truth=truth,
        cleared_only_p50=old["p50"],
        district_p50=fc.district["p50"],
        notes=fc.notes,
        forecast=fc,
        truth_curve=curve,
    )
