"""The forecast as a picture: released area over time, P10–P90 band and P50, with what really happened.

A planner reads a fan faster than a table of quantiles: how soon the first
large releases come, how wide the range gets, and — in a backtest — whether
the record's own curve stays inside the band.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from safeground.figures import subplots
from safeground.landrelease.forecast import Forecast


def fan_chart(
    fc: Forecast,
    until: date,
    *,
    truth: pd.Series | None = None,
    open_m2: float | None = None,
    title: str = "Released area forecast",
) -> Figure:
    """Released km² by month from the forecast's start to ``until``: P10–P90 band, P50 line, the truth if given."""
    months = [d.date() for d in pd.date_range(fc.settings.start, until, freq="ME")] or [until]
    q = np.array([np.percentile(fc.released_samples(m), [10, 50, 90]) for m in months]) / 1e6
    x = pd.to_datetime(months)
    fig, ax = subplots(figsize=(7.0, 3.2))
    ax.fill_between(x, q[:, 0], q[:, 2], color="#9ecae1", alpha=0.8, label="forecast P10–P90")
    ax.plot(x, q[:, 1], color="#08519c", lw=1.6, label="forecast P50")
    if truth is not None:
        ax.plot(truth.index, truth.to_numpy() / 1e6, color="#d62728", lw=2.0, label="released (record)")
    if open_m2 is not None:
        ax.axhline(open_m2 / 1e6, color="0.4", ls=":", lw=1.0, label="open at the start")
    ax.set_title(title, fontsize=9)
    ax.set_ylabel("km² released since the start", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
