"""When will each hazard area, and the district, be released? A range, not a date.

All teams work through the open areas together, in priority order (a large area
is shared between teams, as programmes do): area k is released when the teams'
combined daily output has covered the remaining m² of areas 1…k.

Productivity (m² per team per working day, by method) is either
given or measured from the recorded activities; its day-to-day spread is the
uncertainty. A Monte Carlo run draws each area's productivity from a lognormal
distribution with the measured (or given) mean and coefficient of variation and
reports the 10th, 50th and 90th percentile completion dates.

With a coefficient of variation of 0 the simulation is deterministic and gives
the exact date: that case is the known-answer test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from safeground.errors import InvalidInput, Problem

#: numpy weekmask for working days: Monday to Saturday, as most clearance programmes work.
DEFAULT_WEEKMASK = "1111110"
#: productivity assumed when nothing is recorded for a method (m² per team per working day)
FALLBACK_PRODUCTIVITY = {"manual": 60.0, "mechanical": 1500.0, "mine_detection_dog": 600.0}
#: coefficient of variation assumed when fewer than three activities measure a method
FALLBACK_CV = 0.5


@dataclass(frozen=True)
class Productivity:
    method: str
    m2_per_team_day: float
    cv: float  # coefficient of variation of daily productivity between areas
    source: str  # "recorded (n activities)", "given", "assumed"


@dataclass
class ForecastSettings:
    teams: dict[str, int]  # method → teams available
    productivity: dict[str, Productivity]
    start: date
    simulations: int = 1000
    weekmask: str = DEFAULT_WEEKMASK
    seed: int = 7
    holidays: list[date] = field(default_factory=list)


def productivity_from_activities(act: pd.DataFrame) -> dict[str, Productivity]:
    """m² cleared per team per working day by method, from finished clearance activities.

    Each activity counts as one team for its duration (start to end, working days);
    the mean and the coefficient of variation across activities are returned.
    Technical survey is left out on purpose: it "reduces" large areas in days
    because most of the ground was never mined, so its rate would promise
    completion far too early. Planning the remaining area as if it had to be
    cleared is the conservative reading.
    """
    out: dict[str, Productivity] = {}
    work = act[(act["activity_type"] == "clearance") & act["end_date"].notna()]
    for method, g in work.groupby("method"):
        days = np.busday_count(
            g["start_date"].to_numpy(dtype="datetime64[D]"),
            (g["end_date"].to_numpy(dtype="datetime64[D]") + np.timedelta64(1, "D")),
            weekmask=DEFAULT_WEEKMASK,
        )
        m2 = g["cleared_m2"].to_numpy(dtype=float)
        ok = (days > 0) & (m2 > 0)
        rate = m2[ok] / days[ok]
        if len(rate) == 0:
            continue
        cv = float(rate.std(ddof=1) / rate.mean()) if len(rate) >= 3 else FALLBACK_CV
        out[str(method)] = Productivity(str(method), float(rate.mean()), cv, f"recorded ({len(rate)} activities)")
    for method, rate in FALLBACK_PRODUCTIVITY.items():
        out.setdefault(method, Productivity(method, rate, FALLBACK_CV, "assumed (nothing recorded)"))
    return out


def parse_teams(text: str) -> dict[str, int]:
    """``manual=4,mechanical=1`` → {"manual": 4, "mechanical": 1}; every bad part named."""
    teams: dict[str, int] = {}
    problems: list[Problem] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, num = part.partition("=")
        if not num.strip().isdigit():
            problems.append(Problem("--teams", part, name.strip() or "(method)", "write method=number", part))
            continue
        teams[name.strip()] = int(num)
    if problems:
        raise InvalidInput(problems, hint_text="e.g. --teams manual=4,mechanical=1,mine_detection_dog=2")
    return teams


def parse_productivity(text: str, default_cv: float = FALLBACK_CV) -> dict[str, Productivity]:
    """``manual=60,mechanical=1500:0.3`` → given productivities (m²/team/day, optional :cv)."""
    out: dict[str, Productivity] = {}
    problems: list[Problem] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, rest = part.partition("=")
        rate, _, cv = rest.partition(":")
        try:
            r, c = float(rate), float(cv) if cv else default_cv
            if r <= 0 or c < 0:
                raise ValueError
        except ValueError:
            problems.append(
                Problem("--productivity", part, name.strip() or "(method)", "write method=m2_per_day[:cv], > 0", part)
            )
            continue
        out[name.strip()] = Productivity(name.strip(), r, c, "given")
    if problems:
        raise InvalidInput(problems, hint_text="e.g. --productivity manual=60,mechanical=1500:0.3")
    return out


@dataclass
class Forecast:
    areas: pd.DataFrame  # uid, remaining_m2, p10, p50, p90 (dates)
    district: dict[str, date]  # p10, p50, p90
    settings: ForecastSettings
    team_methods: list[str]


def _check(settings: ForecastSettings) -> list[str]:
    problems = []
    methods: list[str] = []
    for m, n in sorted(settings.teams.items()):
        if n < 0:
            problems.append(Problem("teams", m, "number", "cannot be negative", n))
        if m not in settings.productivity:
            problems.append(
                Problem("teams", m, "method", f"no productivity known; known: {', '.join(settings.productivity)}", m)
            )
        elif settings.productivity[m].m2_per_team_day <= 0:
            problems.append(Problem("productivity", m, "m2_per_team_day", "must be above 0", m))
        methods += [m] * max(n, 0)
    if not methods and not problems:
        problems.append(Problem("teams", "all", "number", "at least one team is needed", 0))
    if problems:
        raise InvalidInput(problems)
    return methods


def simulate(remaining_m2: pd.Series, settings: ForecastSettings) -> Forecast:
    """Monte Carlo completion dates; ``remaining_m2`` is indexed by hazard uid in priority order."""
    methods = _check(settings)
    n_sim = max(1, settings.simulations)
    rng = np.random.default_rng(settings.seed)
    kinds = sorted(set(methods))
    count = np.array([settings.teams[m] for m in kinds], dtype=float)
    mean = np.array([settings.productivity[m].m2_per_team_day for m in kinds])
    cv = np.array([settings.productivity[m].cv for m in kinds])
    # lognormal with the given mean and coefficient of variation, drawn per area and method
    sigma = np.sqrt(np.log1p(cv**2))
    mu = np.log(mean) - sigma**2 / 2
    m2 = remaining_m2.to_numpy(dtype=float)
    z = rng.standard_normal((n_sim, len(m2), len(kinds)))
    pool = (np.exp(mu + sigma * z) * count).sum(axis=2)  # m² per working day of all teams together
    done = np.cumsum(m2 / pool, axis=1)  # working days until each area is released
    start = np.datetime64(settings.start, "D")
    hol = np.array(settings.holidays, dtype="datetime64[D]")

    def to_date(days: np.ndarray) -> list[date]:
        whole = np.ceil(np.round(days, 9)).astype(int)
        # an area needing d working days, started on the first working day, ends on the d-th working day
        first = np.busday_offset(start, 0, roll="forward", weekmask=settings.weekmask, holidays=hol)
        ends = np.busday_offset(first, np.maximum(whole - 1, 0), weekmask=settings.weekmask, holidays=hol)
        return [d.astype(date) for d in np.atleast_1d(ends)]

    q = np.percentile(done, [10, 50, 90], axis=0) if len(remaining_m2) else np.zeros((3, 0))
    areas = pd.DataFrame(
        {
            "uid": remaining_m2.index,
            "remaining_m2": remaining_m2.to_numpy(),
            "p10": to_date(q[0]),
            "p50": to_date(q[1]),
            "p90": to_date(q[2]),
        }
    )
    district_days = done[:, -1] if len(remaining_m2) else np.zeros(n_sim)
    dq = np.percentile(district_days, [10, 50, 90])
    district = dict(zip(("p10", "p50", "p90"), to_date(dq), strict=True))
    return Forecast(areas, district, settings, methods)
