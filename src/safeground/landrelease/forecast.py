"""When will each hazard area, and the district, be released? A range, not a date.

Land is released in steps (IMAS 07.11): non-technical survey (NTS) cancels
suspected area with no evidence, technical survey (TS) reduces the clean part of
what is left, and only the rest is cleared. The forecast follows each open area
through the steps it still needs (see :mod:`safeground.landrelease.pipeline`):

* an SHA not yet surveyed: NTS cancels a share of it, TS reduces a share of
  what is left, the rest is cleared;
* an area already surveyed (or a CHA): TS reduces a share, the rest is cleared;
* an area whose TS is done or whose clearance has started: cleared.

The shares and the rates (m² a team puts through a step per working day, by
method) are measured from the record, and each step has its own teams. Each
step works the areas in priority order, all its teams together (a large area
is shared between teams, as programmes do); an area enters a step once it has
left the previous one, so survey runs ahead of clearance as it does in the
field. Released area accrues as a step works through an area.

Uncertainty: every simulation draws the shares and the rates from a bootstrap
over the hazard areas and activities they were measured on (the range those
rates could take given what was recorded); a rate given by hand instead carries
a coefficient of variation, drawn per area (mean-preserving on the time an area
takes). The simulations give P10/P50/P90 completion dates per area and for the
district, and the released area by any date (:meth:`Forecast.released_by`),
which the backtest compares with what the record shows happened
(:mod:`safeground.landrelease.backtest`).

With no shares (``shares=None``) every remaining m² is cleared: the old,
conservative reading, kept for comparison. With a coefficient of variation of 0
and given rates the simulation is deterministic and gives the exact date: that
case is the known-answer test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from safeground.errors import InvalidInput, Param, Problem
from safeground.landrelease.pipeline import (
    CHA,
    MIN_ACTIVITIES,
    SHA,
    SIZE_NAMES,
    STEP_NAMES,
    STEPS,
    History,
    Intake,
    Shares,
    size_class,
    working_days,
)

#: numpy weekmask for working days: Monday to Saturday, as most clearance programmes work.
DEFAULT_WEEKMASK = "1111110"
#: clearance productivity assumed when nothing is recorded for a method (m² per team per working day)
FALLBACK_PRODUCTIVITY = {"manual": 60.0, "mechanical": 1500.0, "mine_detection_dog": 600.0}
#: working days after which an area a paced step has not reached counts as never reached (~300 years)
NEVER_DAYS = 100_000.0
#: coefficient of variation assumed when fewer than three activities measure a method
FALLBACK_CV = 0.5


def _fit_exponent(m2: np.ndarray, days: np.ndarray) -> float:
    """Slope of log team-days on log area, kept within 0 (time independent of size) and 1 (proportional)."""
    x, y = np.log(m2), np.log(days)
    if len(x) < MIN_ACTIVITIES or np.ptp(x) <= 0:
        return 1.0
    slope = float(np.cov(x, y, bias=True)[0, 1] / np.var(x))
    return float(np.clip(slope, 0.0, 1.0))


@dataclass(frozen=True)
class Productivity:
    """How many team working days a step takes on an area of a given size.

    Team days = ``ref_m2 / m2_per_team_day × (area / ref_m2) ** exponent``: with
    exponent 1 (a given rate) time is proportional to area; measured on the
    record, the exponent is the slope of log team-days on log area (0–1),
    because survey in particular does not take ten times longer on an area ten
    times larger — planning it as if it did would promise years of survey the
    record never needed. The scale is set so that the recorded activities'
    team days add up (ratio of sums), so teams × pace reproduces the m² per day
    the record shows.

    ``m2`` and ``days`` are the recorded activities it was measured on; when they
    are given the forecast bootstraps over them (refitting the exponent and the
    scale) instead of drawing the coefficient of variation, which would count
    their spread twice.
    """

    method: str
    m2_per_team_day: float  # pace on an area of ref_m2
    cv: float  # coefficient of variation of productivity between activities
    source: str  # "recorded (n activities)", "given", "assumed"
    m2: tuple[float, ...] = ()
    days: tuple[float, ...] = ()
    exponent: float = 1.0
    ref_m2: float = 10_000.0
    proportional: bool = True  # the exponent stays 1 in the bootstrap

    def team_days(self, area: np.ndarray, rate: np.ndarray | float, exponent: np.ndarray | float) -> np.ndarray:
        return self.ref_m2 / rate * np.power(np.maximum(area, 0.0) / self.ref_m2, exponent)

    def draws(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(pace at ref_m2, exponent) per simulation: fixed when given, bootstrapped when measured."""
        if not self.m2:
            return np.full(n, self.m2_per_team_day), np.full(n, self.exponent)
        m2, days = np.asarray(self.m2), np.asarray(self.days)
        rate, expo = np.empty(n), np.empty(n)
        for i in range(n):
            idx = rng.integers(0, len(m2), size=len(m2))
            expo[i] = 1.0 if self.proportional else _fit_exponent(m2[idx], days[idx])
            rate[i] = _pace(m2[idx], days[idx], expo[i], self.ref_m2)
        return rate, expo

    def describe(self) -> str:
        if self.exponent == 1.0:
            return f"{self.m2_per_team_day:,.0f} m²/team/day ({self.source})"
        big = self.team_days(np.array(100 * self.ref_m2), self.m2_per_team_day, self.exponent)
        return (
            f"{self.ref_m2 / self.m2_per_team_day:,.1f} team-days for {self.ref_m2:,.0f} m², "
            f"{float(big):,.1f} for {100 * self.ref_m2:,.0f} m² (time ∝ area^{self.exponent:.2f}; {self.source})"
        )


def _pace(m2: np.ndarray, days: np.ndarray, exponent: float, ref: float) -> float:
    """Pace at ``ref`` m² such that the model's team days on the recorded areas add up to the recorded ones."""
    return float(ref * np.power(m2 / ref, exponent).sum() / days.sum())


def productivity_from_samples(
    method: str, m2: tuple[float, ...], days: tuple[float, ...], what: str, *, proportional: bool = False
) -> Productivity:
    """Effort model fitted on recorded activities (exponent, then the scale by ratio of sums).

    ``proportional`` fixes the exponent at 1: clearance searches every m², so
    its time is proportional to area whatever a few short tasks suggest.

    The mean of per-activity rates would let a few short activities on large
    areas set the pace; the ratio is what the team days actually achieved.
    """
    a, d = np.asarray(m2, dtype=float), np.asarray(days, dtype=float)
    rate = a / d
    cv = float(rate.std(ddof=1) / rate.mean()) if len(rate) >= 3 else FALLBACK_CV
    ref = float(np.median(a))
    expo = 1.0 if proportional else _fit_exponent(a, d)
    pace = _pace(a, d, expo, ref)
    return Productivity(method, pace, cv, f"recorded ({len(a)} {what})", tuple(a), tuple(d), expo, ref, proportional)


def productivity_from_activities(act: pd.DataFrame) -> dict[str, Productivity]:
    """m² cleared per team per working day by method, from finished clearance activities of hazard areas.

    Each activity counts as one team for its duration (start to end, working
    days). Activities without a hazard area (route clearance of road corridors,
    EOD spot tasks) are left out: a road corridor's pace says nothing about area
    clearance. Methods with nothing recorded fall back to
    :data:`FALLBACK_PRODUCTIVITY` and say so.
    """
    out: dict[str, Productivity] = {}
    work = act[(act["activity_type"] == "clearance") & act["end_date"].notna() & act["hazard_area_uid"].notna()]
    for method, g in work.groupby("method"):
        days = working_days(g["start_date"].to_numpy(), np.array(list(g["end_date"]), dtype="datetime64[D]"))
        m2 = g["cleared_m2"].to_numpy(dtype=float)
        ok = (days > 0) & (m2 > 0)
        if ok.any():
            out[str(method)] = productivity_from_samples(
                str(method), tuple(m2[ok]), tuple(days[ok].astype(float)), "activities", proportional=True
            )
    for method, rate in FALLBACK_PRODUCTIVITY.items():
        out.setdefault(method, Productivity(method, rate, FALLBACK_CV, "assumed (nothing recorded)"))
    return out


@dataclass
class ForecastSettings:
    """Teams and rates per step. ``teams``/``productivity`` are clearance (the only step when ``shares`` is None)."""

    teams: dict[str, float]  # method → clearance teams available
    productivity: dict[str, Productivity]  # clearance
    start: date
    simulations: int = 1000
    weekmask: str = DEFAULT_WEEKMASK
    seed: int = 7
    holidays: list[date] = field(default_factory=list)
    survey_teams: dict[str, float] = field(default_factory=dict)  # TS teams by method
    survey_productivity: dict[str, Productivity] = field(default_factory=dict)
    nts_teams: dict[str, float] = field(default_factory=dict)  # NTS teams by method
    nts_productivity: dict[str, Productivity] = field(default_factory=dict)
    shares: Shares | None = None  # None: no survey; every remaining m² is cleared
    #: "given": the areas are worked in the order given (priority); "random": in an order drawn per
    #: simulation, when the order is not known (a backtest cannot know a past day's priorities)
    order: str = "given"
    size_preference: float = 0.0  # random order: how much larger areas tend to be taken up first (0–1)
    #: survey steps paced by open area taken up per day (nts, ts); teams of those steps scale the pace
    intake: dict[str, Intake] = field(default_factory=dict)

    def step(self, name: str) -> tuple[dict[str, float], dict[str, Productivity]]:
        if name == "clearance":
            return self.teams, self.productivity
        if name == "ts":
            return self.survey_teams, self.survey_productivity
        return self.nts_teams, self.nts_productivity


def parse_teams(text: str) -> dict[str, int]:
    """``manual=4,mechanical=1`` → {"manual": 4, "mechanical": 1}; every bad part named."""
    teams: dict[str, int] = {}
    problems: list[Problem] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, num = part.partition("=")
        if not num.strip().isdigit():
            problems.append(Problem(str(Param("teams")), part, name.strip() or "(method)", "write method=number", part))
            continue
        teams[name.strip()] = int(num)
    if problems:
        raise InvalidInput(problems, hint_text=f"e.g. {Param('teams', 'manual=4,mechanical=1,mine_detection_dog=2')}")
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
                Problem(
                    str(Param("productivity")),
                    part,
                    name.strip() or "(method)",
                    "write method=m2_per_day[:cv], > 0",
                    part,
                )
            )
            continue
        out[name.strip()] = Productivity(name.strip(), r, c, "given")
    if problems:
        raise InvalidInput(problems, hint_text=f"e.g. {Param('productivity', 'manual=60,mechanical=1500:0.3')}")
    return out


@dataclass
class Forecast:
    """Simulated release of the open areas: dates per area and for the district, released area by any date."""

    areas: pd.DataFrame  # uid, step, remaining_m2, to_clear_m2 (mean), p10, p50, p90 (dates)
    district: dict[str, date]  # p10, p50, p90
    settings: ForecastSettings
    team_methods: list[str]  # clearance methods with teams
    notes: list[str] = field(default_factory=list)  # what was assumed, in words
    _begin: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3)), repr=False)  # working days
    _duration: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3)), repr=False)
    _released: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3)), repr=False)  # m²

    def released_samples(self, when: date) -> np.ndarray:
        """m² released from the forecast areas by the end of ``when``, one value per simulation."""
        if not self._released.size:
            return np.zeros(max(1, self.settings.simulations))
        s = self.settings
        first = np.busday_offset(np.datetime64(s.start, "D"), 0, roll="forward", weekmask=s.weekmask,
                                 holidays=np.array(s.holidays, dtype="datetime64[D]"))  # fmt: skip
        t = float(np.busday_count(first, np.datetime64(when, "D") + np.timedelta64(1, "D"), weekmask=s.weekmask,
                                  holidays=np.array(s.holidays, dtype="datetime64[D]")))  # fmt: skip
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(self._duration > 0, (t - self._begin) / self._duration, (t >= self._begin) * 1.0)
        return (self._released * np.clip(frac, 0.0, 1.0)).sum(axis=(1, 2))

    def released_by(self, when: date) -> dict[str, float]:
        """P10/P50/P90 and mean of the m² released by the end of ``when``."""
        x = self.released_samples(when)
        p10, p50, p90 = np.percentile(x, [10, 50, 90])
        return {"p10": float(p10), "p50": float(p50), "p90": float(p90), "mean": float(x.mean())}


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
        if n > 0:
            methods.append(m)
    if not methods and not problems:
        problems.append(Problem("teams", "all", "number", "at least one clearance team is needed", 0))
    if problems:
        raise InvalidInput(
            problems,
            hint_text="when the record shows no clearance at work, give the teams and their pace, "
            f"e.g. {Param('teams', 'manual=4')} {Param('productivity', 'manual=60')}",
        )
    return methods


def _work_frame(work: pd.Series | pd.DataFrame, survey: bool) -> pd.DataFrame:
    """Areas in priority order with the next step each needs; a Series of m² means clearance only."""
    if isinstance(work, pd.Series):
        frame = pd.DataFrame({"remaining_m2": work.astype(float), "classification": CHA, "step": "clearance"})
    else:
        frame = work[["remaining_m2", "classification", "step"]].copy()
    if not survey:
        frame["step"] = "clearance"
    return frame


def _durations(
    proc_of: Callable[[int, int], np.ndarray],
    blocks: list[tuple[int, int]],
    k: int,
    teams: dict[str, float],
    prod: dict[str, Productivity],
    rng: np.random.Generator,
) -> tuple[np.ndarray, bool]:
    """Working days the step's teams together take on each area (per simulation); False when it has no teams.

    Teams of several methods on one area add their paces (areas per day). ``proc_of(a, b)`` gives the m² the
    step puts through in simulations ``a`` to ``b`` (one block of ``blocks``): the step is computed a block of
    simulations at a time, with the random draws of the whole step made in the order they always were (a
    method's per-simulation draws, then its variation for every simulation, block after block: the same
    numbers as one draw of them all).
    """
    n_sim = blocks[-1][1]
    speed = np.zeros((n_sim, k))  # areas per working day
    have = False
    for m, n in sorted(teams.items()):
        if n <= 0 or m not in prod:
            continue
        have = True
        p = prod[m]
        rate, expo = p.draws(rng, n_sim)
        cv = 0.0 if p.m2 else p.cv
        # team days lognormal with the model's mean: the expected duration is kept (no Jensen inflation)
        sigma = np.sqrt(np.log1p(cv**2)) if cv > 0 else 0.0
        for a, b in blocks:
            z = rng.standard_normal((b - a, k)) if cv > 0 else None
            td = p.team_days(proc_of(a, b), rate[a:b, None], expo[a:b, None])
            if z is not None:
                td = td * np.exp(-(sigma**2) / 2 + sigma * z)
            with np.errstate(divide="ignore"):
                speed[a:b] += np.where(td > 0, n / td, 0.0)
            del z, td
    with np.errstate(divide="ignore"):
        for a, b in blocks:
            sp, proc = speed[a:b], proc_of(a, b)
            speed[a:b] = np.where((proc > 0) & (sp > 0), 1.0 / np.where(sp > 0, sp, 1.0), 0.0)
    return speed, have


#: cells (simulations × areas) of the temporary arrays of one block of simulations (see ``simulate``)
_BLOCK_CELLS = 1 << 18


def _skipped(rng: np.random.Generator, draws: int) -> np.random.Generator:
    """A copy of ``rng`` as it is, and ``rng`` moved on as if ``draws`` uniforms (``rng.random``, one 64-bit
    step of PCG64 each) had been drawn from it: the copy draws them later, in pieces, the same numbers."""
    copy = np.random.Generator(type(rng.bit_generator)())
    copy.bit_generator.state = rng.bit_generator.state
    state = rng.bit_generator.state
    if isinstance(rng.bit_generator, np.random.PCG64) and not state["has_uint32"]:
        rng.bit_generator.advance(draws)
    else:  # no exact skip known (or a buffered half-word that advancing would drop): draw them and let go
        for done in range(0, draws, _BLOCK_CELLS):
            rng.random(min(_BLOCK_CELLS, draws - done))
    return copy


def _sim_blocks(n_sim: int, k: int, sims_per_block: int | None) -> list[tuple[int, int]]:
    """Simulations ``a`` to ``b`` of each block: ``sims_per_block`` of them, by default a block of about
    :data:`_BLOCK_CELLS` cells."""
    per = sims_per_block or max(1, _BLOCK_CELLS // max(k, 1))
    return [(a, min(a + per, n_sim)) for a in range(0, n_sim, max(1, per))]


def _has_teams(settings: ForecastSettings, step: str) -> bool:
    teams, prod = settings.step(step)
    intake = settings.intake.get(step)
    if intake is not None:
        return any(n > 0 and intake.productivity(m) > 0 for m, n in teams.items())
    return any(n > 0 and m in prod for m, n in teams.items())


def _intake_rates(settings: ForecastSettings, step: str, rng: np.random.Generator, n_sim: int) -> np.ndarray | None:
    """Areas per working day the step takes up, per simulation and size class; None for a team-paced step.

    Teams other than the measured ones scale the measured rate by the areas per
    team-day each method achieved.
    """
    intake = settings.intake.get(step)
    if intake is None:
        return None
    teams, _ = settings.step(step)
    measured = sum(intake.method_areas.values()) / max(intake.days, 1.0)
    given = sum(n * intake.productivity(m) for m, n in teams.items() if n > 0)
    return intake.draws(rng, n_sim, given / measured if measured > 0 else 0.0)


def simulate(
    work: pd.Series | pd.DataFrame,
    settings: ForecastSettings,
    *,
    keep_samples: bool = True,
    sims_per_block: int | None = None,
) -> Forecast:
    """Monte Carlo release of ``work`` (indexed by hazard uid, in priority order).

    ``keep_samples``: keep every simulation's start, duration and release of every step, which
    :meth:`Forecast.released_by` needs (the backtest, the fan chart); a report that shows only the
    dates leaves it off and needs a fraction of the memory.

    ``sims_per_block``: how many simulations the steps' m² are computed for at a time (default: about
    :data:`_BLOCK_CELLS` simulations × areas); the result does not depend on it, to the last bit.

    ``work`` is either a Series of remaining m² (everything to be cleared) or a
    frame with ``remaining_m2``, ``classification`` and ``step`` (the next step
    the area needs: ``nts``, ``ts`` or ``clearance``), as
    :func:`safeground.landrelease.pipeline.measure` returns it.
    """
    survey = settings.shares is not None
    if not len(work):  # nothing open: released already, whatever teams there are
        empty = pd.DataFrame(columns=["uid", "step", "remaining_m2", "to_clear_m2", "p10", "p50", "p90"])
        done = {"p10": settings.start, "p50": settings.start, "p90": settings.start}
        return Forecast(empty, done, settings, [], ["no open hazard area: nothing left to release"])
    methods = _check(settings)
    frame = _work_frame(work, survey)
    n_sim = max(1, settings.simulations)
    rng = np.random.default_rng(settings.seed)
    k = len(frame)
    area = frame["remaining_m2"].to_numpy(dtype=float)[None, :]
    first_step = frame["step"].to_numpy()
    is_sha = (frame["classification"].to_numpy() == SHA)[None, :]
    notes: list[str] = []

    have = {name: _has_teams(settings, name) for name in STEPS}
    blocks = _sim_blocks(n_sim, k, sims_per_block)
    zero = np.zeros((n_sim, 1))
    if survey:
        sh = settings.shares
        assert sh is not None
        # whether NTS reaches an area is a uniform draw per simulation and area compared with the share
        # drawn after them: the uniforms (exactly one 64-bit step of the generator each) are skipped
        # here and drawn again below from a copy of the generator, a block of simulations at a time
        routed_rng = _skipped(rng, n_sim * k)
        surveyed = sh.nts_surveyed.draws(rng, n_sim)
        c_nts = sh.nts_cancelled_sha.draws(rng, n_sim)[:, None]
        r_sha = sh.ts_reduced_sha.draws(rng, n_sim)[:, None]
        r_cha = sh.ts_reduced_cha.draws(rng, n_sim)[:, None]
        routed = np.empty((n_sim, k), dtype=bool)
        for a, b in blocks:
            routed[a:b] = routed_rng.random((b - a, k)) < surveyed[a:b, None]
        del routed_rng
    else:
        c_nts = r_sha = r_cha = zero
        routed = np.zeros((n_sim, k), dtype=bool)
    needs_nts = np.logical_and(routed, (first_step == "nts")[None, :] & is_sha, out=routed)
    needs_ts = np.isin(first_step, ["nts", "ts"])[None, :]
    for name, need in (("nts", needs_nts), ("ts", needs_ts)):
        if need.any() and not have[name]:
            notes.append(f"no {STEP_NAMES[name]} teams: the areas waiting for it go on to the next step unsurveyed")
    needs_nts &= have["nts"]
    needs_ts = needs_ts & have["ts"]

    # m² each step puts through and releases, per simulation and area, one step at a time and a block of
    # simulations at a time: of each step only what the simulation needs is kept (whether it works the
    # area, the area's size class, the duration, or for a paced step the index of its recorded duration),
    # not every m² of every step (four arrays of simulations × areas × 3 steps were most of a national
    # forecast's memory); a block's m² are computed again from the areas and the draws when a later step
    # needs them. The random draws are the same, in the same order (each array of draws a block of
    # simulations after another: the same numbers as drawn whole), so the forecast is the same to the last day.
    def through(j: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """m² step ``j`` puts through and releases in simulations ``a`` to ``b``."""
        proc = np.where(needs_nts[a:b], area, 0.0)
        rel = proc * c_nts[a:b]
        after = area - rel
        if j == 0:
            return proc, rel
        proc = np.where(needs_ts, after, 0.0)
        rel = proc * np.where(is_sha, r_sha[a:b], r_cha[a:b])
        after -= rel  # what is left for clearance
        return (proc, rel) if j == 1 else (after, after)

    busy_of: list[np.ndarray] = []
    dur_of: list[np.ndarray] = []
    pick_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # paced step: (recorded durations, index drawn)
    classes: dict[int, np.ndarray] = {}  # paced step: the size class of what it puts through
    rel_of: list[np.ndarray] = []
    to_clear = np.zeros(k)
    for j, step in enumerate(STEPS):
        intake = settings.intake.get(step)
        busy = np.empty((n_sim, k), dtype=bool)
        rel_all = np.empty((n_sim, k)) if keep_samples else None
        if intake is not None:  # a paced step: the recorded duration drawn, kept as an index
            recorded = np.asarray(intake.durations or (1.0,))
            small = np.int16 if len(recorded) < 2**15 else np.int32 if len(recorded) < 2**31 else np.int64
            drawn = np.empty((n_sim, k), dtype=small)
            size = np.empty((n_sim, k), dtype=np.int8)
        for a, b in blocks:
            proc, rel = through(j, a, b)
            busy[a:b] = proc > 0
            if rel_all is not None:
                rel_all[a:b] = rel
            if j == 2:
                for row in proc:  # the mean over simulations, summed in their order as numpy's mean does
                    to_clear += row
            if intake is not None:
                drawn[a:b] = rng.integers(0, len(recorded), size=proc.shape)
                size[a:b] = size_class(proc)
            del proc, rel
        if j == 2:
            to_clear /= n_sim
        if intake is not None:
            pick_of[j] = (recorded, drawn)
            classes[j] = size
            dur_of.append(np.empty((0, 0)))  # looked up through the index (``duration``)
            del drawn, size
        else:

            def proc_of(a: int, b: int, j: int = j) -> np.ndarray:
                return through(j, a, b)[0]

            dur_of.append(_durations(proc_of, blocks, k, *settings.step(step), rng)[0])
        busy_of.append(busy)
        if rel_all is not None:
            rel_of.append(rel_all)
        del busy, rel_all

    def duration(j: int, at: np.ndarray) -> np.ndarray:
        if j in pick_of:
            recorded, drawn = pick_of[j]
            return np.where(busy_of[j][rows, at], recorded[drawn[rows, at]], 0.0)
        return dur_of[j][rows, at]

    # each step works the areas in order; an area enters a step once it has left the previous one
    rows = np.arange(n_sim)
    if settings.order == "random":
        # drawn with weights area ** size_preference (0: every area equally likely to come next)
        w = np.maximum(frame["remaining_m2"].to_numpy(dtype=float), 1.0) ** settings.size_preference
        order = np.empty((n_sim, k), dtype=np.int32 if k < 2**31 else np.int64)
        for a, b in blocks:  # each simulation's order from its own row of draws: the same, a block at a time
            order[a:b] = np.argsort(-np.log(rng.random((b - a, k))) / w[None, :], axis=1)
    else:
        order = np.broadcast_to(np.arange(k), (n_sim, k))
    # a paced survey step takes up the areas of each size class one by one, as a Poisson process at the
    # class's rate (drawn per simulation): the next area of a class is taken up at the next event
    paces = {j: _intake_rates(settings, s, rng, n_sim) for j, s in enumerate(STEPS)}
    clock = {j: np.zeros((n_sim, len(SIZE_NAMES))) for j in classes}
    begin = np.zeros((n_sim, k, 3)) if keep_samples else None
    # in the given order every simulation releases area i at step i: its percentiles are taken as it comes
    # (the same numbers as over the whole array) and no simulations × areas array of dates is kept
    given = settings.order != "random"
    release = None if given else np.zeros((n_sim, k))
    q = np.zeros((3, k))
    district_days = np.zeros(n_sim)
    free = np.zeros((n_sim, 3))
    for i in range(k):
        at = order[:, i]
        ready = np.zeros(n_sim)
        for j in range(3):
            d = duration(j, at)
            busy = busy_of[j][rows, at]
            if j in classes:
                c = classes[j][rows, at]
                rate = paces[j][rows, c]  # type: ignore[index]
                with np.errstate(divide="ignore"):
                    gap = np.where(rate > 0, rng.exponential(1.0, n_sim) / np.where(rate > 0, rate, 1.0), np.inf)
                event = np.minimum(clock[j][rows, c] + gap, NEVER_DAYS)
                clock[j][rows, c] = np.where(busy, event, clock[j][rows, c])
                st = np.where(busy, np.maximum(event, ready), ready)
                if begin is not None:
                    begin[rows, at, j] = st
                ready = st + d
                continue
            st = np.where(busy, np.maximum(free[:, j], ready), ready)
            if begin is not None:
                begin[rows, at, j] = st
            ready = st + d
            free[:, j] = np.where(busy, ready, free[:, j])
        if release is None:
            q[:, i] = np.percentile(ready, [10, 50, 90])
            np.maximum(district_days, ready, out=district_days)
        else:
            release[rows, at] = ready

    start = np.datetime64(settings.start, "D")
    hol = np.array(settings.holidays, dtype="datetime64[D]")

    def to_date(days: np.ndarray) -> list[date]:
        whole = np.ceil(np.round(days, 9)).astype(int)
        # an area needing d working days, started on the first working day, ends on the d-th working day
        first = np.busday_offset(start, 0, roll="forward", weekmask=settings.weekmask, holidays=hol)
        ends = np.busday_offset(first, np.maximum(whole - 1, 0), weekmask=settings.weekmask, holidays=hol)
        return [d.astype(date) for d in np.atleast_1d(ends)]

    if release is not None:
        step_k = max(1, _BLOCK_CELLS // n_sim)
        for col in range(0, k, step_k):  # each area's percentiles on their own: a block of areas at a time
            q[:, col : col + step_k] = np.percentile(release[:, col : col + step_k], [10, 50, 90], axis=0)
        district_days = release.max(axis=1)
        del release
    areas = pd.DataFrame(
        {
            "uid": frame.index,
            "step": frame["step"].to_numpy(),
            "remaining_m2": frame["remaining_m2"].to_numpy(),
            "to_clear_m2": to_clear if k else [],
            "p10": to_date(q[0]),
            "p50": to_date(q[1]),
            "p90": to_date(q[2]),
        }
    )
    dq = np.percentile(district_days, [10, 50, 90])
    district = dict(zip(("p10", "p50", "p90"), to_date(dq), strict=True))
    if begin is None:  # not keep_samples
        return Forecast(areas, district, settings, methods, notes)
    dur = np.stack(
        [np.where(busy_of[j], pick_of[j][0][pick_of[j][1]], 0.0) if j in pick_of else dur_of[j] for j in range(3)],
        axis=2,
    )
    return Forecast(areas, district, settings, methods, notes, begin, dur, np.stack(rel_of, axis=2))


def _step_rates(history: History, step: str, methods: set[str]) -> dict[str, Productivity]:
    """Measured rate per method; a method with few (or no) finished activities takes the step's pooled rate."""
    recorded = history.rates.get(step, {})
    all_m2 = tuple(x for m2, _ in recorded.values() for x in m2)
    all_days = tuple(x for _, d in recorded.values() for x in d)
    out: dict[str, Productivity] = {}
    for m in sorted(methods | set(recorded)):
        m2, days = recorded.get(m, ((), ()))
        prop = step == "clearance"
        if len(m2) >= MIN_ACTIVITIES:
            out[m] = productivity_from_samples(m, m2, days, "activities", proportional=prop)
        elif all_m2:
            what = f"{STEP_NAMES[step]} activities, all methods pooled"
            out[m] = productivity_from_samples(m, all_m2, all_days, what, proportional=prop)
    return out


def settings_from_history(
    history: History,
    *,
    teams: dict[str, float] | None = None,
    productivity: dict[str, Productivity] | None = None,
    survey_teams: dict[str, float] | None = None,
    start: date | None = None,
    simulations: int = 1000,
    seed: int = 7,
    order: str = "given",
    paced: bool = True,
    all_clearance: bool = False,
) -> ForecastSettings:
    """Forecast settings from what the record shows; anything given replaces the measured value.

    ``all_clearance`` plans every remaining m² as clearance (the old reading, for
    comparison and the known-answer check). Survey steps are paced by the areas
    they took up per size class (:class:`~safeground.landrelease.pipeline.Intake`)
    unless ``paced`` is False (the team-day model with a fitted size preference).
    Clearance methods with teams but nothing recorded fall back to
    :data:`FALLBACK_PRODUCTIVITY` (and say "assumed").
    """
    clear_teams = dict(teams) if teams is not None else dict(history.teams.get("clearance", {}))
    measured = {step: history.intake[step].teams() if paced and step in history.intake else history.teams.get(step, {})
                for step in ("nts", "ts")}  # fmt: skip
    ts_teams = dict(survey_teams) if survey_teams is not None else dict(measured["ts"])
    nts_teams = dict(measured["nts"])
    clear_prod = _step_rates(history, "clearance", set(clear_teams))
    for m, rate in FALLBACK_PRODUCTIVITY.items():
        clear_prod.setdefault(m, Productivity(m, rate, FALLBACK_CV, "assumed (nothing recorded)"))
    if productivity:
        clear_prod.update(productivity)
    return ForecastSettings(
        teams=clear_teams,
        productivity=clear_prod,
        start=start or (pd.Timestamp(history.as_of) + pd.Timedelta(days=1)).date(),
        simulations=simulations,
        seed=seed,
        survey_teams=ts_teams,
        survey_productivity=_step_rates(history, "ts", set(ts_teams)),
        nts_teams=nts_teams,
        nts_productivity=_step_rates(history, "nts", set(nts_teams)),
        shares=None if all_clearance else history.shares,
        order=order,
        size_preference=0.0 if paced and history.intake else history.size_preference,
        intake=dict(history.intake) if paced else {},
    )


def assumptions(history: History, settings: ForecastSettings) -> list[str]:
    """What the forecast assumed, in words: shares, rates and teams, each with what it was measured on."""
    lines = ["Shares of area released: " + "; ".join(settings.shares.describe() if settings.shares else ["none"]) + "."]
    for step in STEPS:
        teams, prod = settings.step(step)
        intake = settings.intake.get(step)
        if intake is not None:
            per = ", ".join(f"{n:.1f} {m} ({intake.productivity(m) * 20:.1f} areas per team-month)"
                            for m, n in sorted(teams.items()) if n > 0)  # fmt: skip
            measured = {m: round(v, 6) for m, v in intake.teams().items()}
            how = "teams measured" if {m: round(v, 6) for m, v in teams.items()} == measured else "teams given"
            lines.append(
                f"{STEP_NAMES[step].capitalize()}: {intake.describe()}; each size class kept at its pace "
                f"(rate from the count, Poisson); teams {per or 'none'} ({how})."
            )
            continue
        parts = [f"{n:.1f} {m} teams, {prod[m].describe()}" for m, n in sorted(teams.items()) if n > 0 and m in prod]
        window = history.windows.get(step)
        if teams != history.teams.get(step, {}):
            how = "teams given"
        elif window:
            how = f"teams measured {window[0]} to {window[1]}"
        else:
            how = f"none finished in the {history.window_days} days to {history.as_of}"
        lines.append(f"{STEP_NAMES[step].capitalize()}: " + ("; ".join(parts) or "no teams") + f" ({how}).")
    counts = history.work["step"].value_counts()
    lines.append(
        f"{len(history.work)} open areas on {history.as_of}: "
        + ", ".join(f"{counts.get(s, 0)} waiting for {STEP_NAMES[s]}" for s in STEPS)
        + "."
    )
    return lines


def forecast_from_history(
    history: History,
    priority: list[str] | None = None,
    *,
    keep_samples: bool = True,
    **kw: object,
) -> Forecast:
    """Forecast the open areas of ``history``; ``priority`` (uids, first first) sets the order of work.

    Areas not in ``priority`` follow in uid order (the order they were recorded).
    Keyword arguments go to :func:`settings_from_history`.
    """
    settings = settings_from_history(history, **kw)  # type: ignore[arg-type]
    work = history.work
    if priority is not None:
        first = [u for u in priority if u in work.index]
        work = work.loc[first + sorted(set(work.index) - set(first))]
    else:
        work = work.sort_index()
    fc = simulate(work, settings, keep_samples=keep_samples)
    fc.notes = assumptions(history, settings) + fc.notes
    return fc
