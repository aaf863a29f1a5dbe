"""What the record shows about how land gets released, as known on a date.

Most suspected land is never cleared: non-technical survey (NTS) cancels the
parts with no evidence and technical survey (TS) reduces the clean parts of what
is left; only the rest is cleared. A forecast that plans every remaining m² as
clearance is therefore years too late. This module measures, from the
activities and the hazard areas' version history, as known on ``as_of``:

* **where each open area is in the pipeline** — an SHA nobody has surveyed yet
  goes through NTS, then TS, then clearance; an area already surveyed goes to
  TS; an area whose TS has ended (or whose clearance has started) only needs
  clearance;
* **shares**: the part of the area entering a step that the step released
  (NTS cancellation of SHA area; TS reduction of SHA and of CHA area), from the
  hazard areas that went through that step, and the share of surveyed SHAs
  that went through NTS at all (the others were sent straight to TS). They are ratios of sums (m² released
  / m² that went through), kept per unit so that the forecast can bootstrap
  them;
* **rates**: m² a team puts through each step per working day, by method, from
  the finished activities (also kept per activity for the bootstrap);
* **capacity**: how many teams of each method were at work on each step — team
  working days of the activities finished in the window / working days in the
  window — over the last ``window_days`` before ``as_of``, or since that step
  first started if later (so a programme's first months without TS do not count
  as idle TS teams). Counting the same activities the rates come from makes
  teams × rate the m² per working day the record shows the step got through.

Only what was known on ``as_of`` is used: activities ended by then (for shares
and rates), activities started by then (for capacity, counted up to ``as_of``),
and each hazard area's latest version up to then. A forecast from the first half
of the history can therefore be checked against the second half.

Activities without a hazard area (route clearance along roads, EOD spot tasks)
are left out of shares, rates and capacity: they release no single hazard's
area, a road corridor is cleared at a pace that says nothing about the
productivity of area clearance, and their teams are not working the open areas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from safeground.landrelease import accounting as la
from safeground.model.vocab import HazardClass
from safeground.storage.base import Store

#: the stored terms (the frames hold plain strings)
SHA, CHA = HazardClass.SHA.value, HazardClass.CHA.value
#: the steps of land release, in the order an area goes through them
STEPS = ("nts", "ts", "clearance")
STEP_OF_TYPE = {"non_technical_survey": "nts", "technical_survey": "ts", "clearance": "clearance"}
STEP_NAMES = {"nts": "non-technical survey", "ts": "technical survey", "clearance": "clearance"}
#: weekmask of working days (Monday to Saturday), shared with the forecast
WEEKMASK = "1111110"
#: fewer activities than this for a method: its rate is pooled over the step's methods
MIN_ACTIVITIES = 3


@dataclass(frozen=True)
class Share:
    """The part of the area entering a step that the step released, with the units it was measured on."""

    name: str
    value: float
    released: tuple[float, ...] = ()  # m² released by the step, per hazard area or activity
    processed: tuple[float, ...] = ()  # m² that went through the step, same units
    source: str = "given"

    @property
    def n(self) -> int:
        return len(self.processed)

    def draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Bootstrap over the units (ratio of sums): the range the measured share could take."""
        if not self.processed:
            return np.full(n, self.value)
        rel, proc = np.asarray(self.released), np.asarray(self.processed)
        idx = rng.integers(0, len(proc), size=(n, len(proc)))
        tot = proc[idx].sum(axis=1)
        return np.where(tot > 0, rel[idx].sum(axis=1) / np.where(tot > 0, tot, 1.0), self.value)

    def describe(self) -> str:
        return f"{self.name} {self.value:.1%} ({self.source})"


def measured_share(name: str, released: list[float], processed: list[float], what: str) -> Share:
    tot = float(sum(processed))
    if tot <= 0:
        return Share(name, 0.0, source=f"nothing recorded: {what} assumed to release nothing")
    value = float(sum(released)) / tot
    return Share(name, value, tuple(released), tuple(processed), f"measured on {len(processed)} {what}")


@dataclass(frozen=True)
class Shares:
    """Shares of area each survey step releases; the rest goes on to the next step and finally to clearance."""

    nts_surveyed: Share  # of the SHAs not yet surveyed, the share (by count) NTS will survey
    nts_cancelled_sha: Share
    ts_reduced_sha: Share
    ts_reduced_cha: Share

    @classmethod
    def given(
        cls,
        nts_cancelled_sha: float = 0.0,
        ts_reduced_sha: float = 0.0,
        ts_reduced_cha: float = 0.0,
        nts_surveyed: float = 1.0,
    ) -> Shares:
        return cls(
            Share("NTS surveys of the SHAs surveyed", nts_surveyed),
            Share("NTS cancels of SHA area", nts_cancelled_sha),
            Share("TS reduces of SHA area", ts_reduced_sha),
            Share("TS reduces of CHA area", ts_reduced_cha),
        )

    def describe(self) -> list[str]:
        return [
            s.describe() for s in (self.nts_surveyed, self.nts_cancelled_sha, self.ts_reduced_sha, self.ts_reduced_cha)
        ]


#: size classes of the survey pace: decades of area up to 1 km², everything from 1 km² together
SIZE_EDGES = (100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0)
SIZE_NAMES = ("under 100 m²", "100–1,000 m²", "0.1–1 ha", "1–10 ha", "10–100 ha", "1 km² and more")


def size_class(m2: np.ndarray | float) -> np.ndarray:
    """Index into :data:`SIZE_NAMES` of each area."""
    return np.searchsorted(np.asarray(SIZE_EDGES), np.asarray(m2, dtype=float), side="right")


@dataclass(frozen=True)
class Intake:
    """How many open areas of each size a survey step took up, over how many working days.

    A survey step's pace is a count of areas taken up per working day, per size
    class, not m² per team-day: the record shows a team surveys a large area in
    about the days it takes on a small one, and the released area hinges on how
    many of the few large areas survey reaches, so those are counted on their
    own (pooled with the small ones, the many small areas would set the pace of
    the large). ``draws`` gives the rate's uncertainty from the count (a rate
    measured from k areas in a window is known to about ±√k).
    """

    step: str
    first: date  # the window it is measured over
    last: date
    days: float  # working days in the window
    class_days: tuple[float, ...]  # working days of the window on which an area of each size class waited
    entry_m2: tuple[float, ...]  # m² each area had when the step took it up
    durations: tuple[float, ...]  # working days of the step's finished activities (any date up to ``last``)
    method_areas: dict[str, int]  # areas taken up in the window by each method's activities
    method_team_days: dict[str, float]  # team working days of each method's activities in the window

    @property
    def counts(self) -> np.ndarray:
        """Areas taken up in the window per size class."""
        return np.bincount(size_class(np.asarray(self.entry_m2)), minlength=len(SIZE_NAMES))

    def teams(self) -> dict[str, float]:
        """Teams of each method at work on the step on average over the window."""
        return {m: d / self.days for m, d in self.method_team_days.items() if self.days > 0 and d > 0}

    def productivity(self, method: str) -> float:
        """Areas a team of ``method`` took up per working day (what ``--teams`` scales)."""
        d = self.method_team_days.get(method, 0.0)
        return self.method_areas.get(method, 0) / d if d > 0 else 0.0

    def draws(self, rng: np.random.Generator, n: int, scale: float = 1.0) -> np.ndarray:
        """Rate per size class (areas per working day), one row per simulation.

        Gamma(k + ½, 1 / days): the Jeffreys posterior of a Poisson rate seen as
        k events in ``days``. A class with no area taken up keeps a small
        chance (½ an area per window) instead of none: not having happened in
        eight months is not proof it never will.
        """
        k = self.counts.astype(float)
        days = np.maximum(np.asarray(self.class_days, dtype=float), 1.0)
        return rng.gamma(k[None, :] + 0.5, 1.0, size=(n, len(k))) / days[None, :] * scale

    def describe(self) -> str:
        k = self.counts
        parts = ", ".join(f"{k[i]} of {SIZE_NAMES[i]}" for i in range(len(k)) if k[i])
        return (
            f"{STEP_NAMES[self.step]} took up {int(k.sum())} areas in {self.days:.0f} working days "
            f"({self.first} to {self.last}): {parts or 'none'}"
        )


@dataclass
class History:
    """Everything the forecast takes from the record, as known on ``as_of``."""

    as_of: date
    work: pd.DataFrame  # index uid: remaining_m2, classification, step (the next step the area needs)
    shares: Shares
    rates: dict[str, dict[str, tuple[tuple[float, ...], tuple[float, ...]]]]  # step → method → (m², days)
    teams: dict[str, dict[str, float]]  # step → method → teams at work on average
    windows: dict[str, tuple[date, date]] = field(default_factory=dict)  # step → capacity window
    window_days: int = 365
    size_preference: float = 0.0  # fitted: survey picks open areas with weight area ** this
    intake: dict[str, Intake] = field(default_factory=dict)  # step → open area taken up per day (nts, ts)


def working_days(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Working days from ``first`` to ``last``, both included (0 when last < first)."""
    f = np.asarray(first, dtype="datetime64[D]")
    last_ = np.asarray(last, dtype="datetime64[D]")
    return np.maximum(np.busday_count(f, last_ + np.timedelta64(1, "D"), weekmask=WEEKMASK), 0)


class _States:
    """Each hazard area's version as of a date, from the version history.

    Kept as flat arrays sorted by (uid, date of information, version) with each uid's slice, so that
    the state of one area on a date is a binary search and the state of every area on a date one
    vectorised pass (a frame per area made a national store's report slow and large)."""

    def __init__(self, versions: pd.DataFrame) -> None:
        if not len(versions):  # a store with no hazard areas yet (its frame may lack the columns)
            versions = pd.DataFrame(
                {"uid": [], "date_of_information": [], "version": [], "status": [], "classification": [],
                 "remaining_m2": []}
            )  # fmt: skip
        uid = versions["uid"].astype(object).to_numpy()
        #: the areas in sorted order (the order the size preference offers them in)
        self.uids: list[str] = sorted(set(uid.tolist()))
        code = {u: i for i, u in enumerate(self.uids)}
        codes = np.array([code[u] for u in uid], dtype=np.int64)
        day = np.array([np.datetime64(d, "D") for d in versions["date_of_information"]], dtype="datetime64[D]")
        order = np.lexsort((versions["version"].to_numpy(dtype=np.int64), day, codes))
        self.day = day[order]
        self.status = versions["status"].astype(object).to_numpy()[order]
        self.classification = versions["classification"].astype(object).to_numpy()[order]
        self.remaining_m2 = versions["remaining_m2"].to_numpy(dtype=float)[order]
        self.closed = self.status == "closed"
        counts = np.bincount(codes, minlength=len(self.uids))
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts
        self.span = {u: (int(self.starts[i]), int(self.starts[i] + counts[i])) for i, u in enumerate(self.uids)}

    def _row(self, uid: str, when: date) -> int | None:
        span = self.span.get(uid)
        if span is None:
            return None
        lo, hi = span
        k = int(np.searchsorted(self.day[lo:hi], np.datetime64(when, "D"), side="right"))
        return lo + k - 1 if k else None

    def at(self, uid: str, when: date) -> dict[str, object] | None:
        """The area's latest version known on ``when`` (its status, classification and remaining m²)."""
        i = self._row(uid, when)
        if i is None:
            return None
        return {
            "date_of_information": self.day[i].item(),
            "status": self.status[i],
            "classification": self.classification[i],
            "remaining_m2": float(self.remaining_m2[i]),
        }

    def remaining(self, uid: str, when: date) -> float:
        i = self._row(uid, when)
        return 0.0 if i is None or self.closed[i] else float(self.remaining_m2[i])

    def remaining_all(self, when: date) -> np.ndarray:
        """:meth:`remaining` of every area of :attr:`uids` on ``when``, at once."""
        if not len(self.uids):
            return np.zeros(0)
        known = np.add.reduceat((self.day <= np.datetime64(when, "D")).astype(np.int64), self.starts)
        last = self.starts + np.maximum(known, 1) - 1
        return np.where((known > 0) & ~self.closed[last], self.remaining_m2[last], 0.0)


def measure(act: pd.DataFrame, versions: pd.DataFrame, as_of: date, *, window_days: int = 365) -> History:
    """Pipeline state, shares, rates and capacity as known on ``as_of`` (see the module docstring)."""
    states = _States(versions)
    hz = act[act["hazard_area_uid"].notna() & act["activity_type"].isin(list(STEP_OF_TYPE))].copy()
    hz["step"] = hz["activity_type"].map(STEP_OF_TYPE)
    started = hz[hz["start_date"] <= as_of]
    ended = started[started["end_date"].notna()]
    ended = ended[np.array([e <= as_of for e in ended["end_date"]], dtype=bool)]  # (a list would pick columns)

    # what each unit put through its step: released + what was left right after
    processed: list[float] = []
    for row in ended.itertuples(index=False):
        rel = {"nts": row.cancelled_m2, "ts": row.reduced_m2, "clearance": row.cleared_m2}[row.step]
        left = 0.0 if row.step == "clearance" else states.remaining(row.hazard_area_uid, row.end_date)
        processed.append(float(rel) + left)
    ended = ended.assign(processed_m2=processed)
    ended["released_m2"] = [
        {"nts": r.cancelled_m2, "ts": r.reduced_m2, "clearance": r.cleared_m2}[r.step]
        for r in ended.itertuples(index=False)
    ]
    ended["class_before"] = [
        (s["classification"] if (s := states.at(r.hazard_area_uid, r.start_date)) is not None else SHA)
        for r in ended.itertuples(index=False)
    ]

    # shares: which surveyed SHAs went through NTS (the others were sent to TS without it),
    # what NTS cancelled of those it surveyed, what TS reduced per class
    nts = ended[ended["step"] == "nts"]
    ts = ended[ended["step"] == "ts"]
    nts_first = {h: min(d) for h, d in nts.groupby("hazard_area_uid")["start_date"]}
    skipped = {
        r.hazard_area_uid
        for r in ts.itertuples(index=False)
        if r.class_before == SHA
        and not (r.hazard_area_uid in nts_first and nts_first[r.hazard_area_uid] <= r.start_date)
    }
    routed = [1.0] * len(nts_first) + [0.0] * len(skipped)
    ts_sha, ts_cha = ts[ts["class_before"] == SHA], ts[ts["class_before"] == CHA]
    pooled = measured_share("TS reduces", list(ts["released_m2"]), list(ts["processed_m2"]), "TS activities")

    def ts_share(cls: str, rows: pd.DataFrame) -> Share:
        name = f"TS reduces of {cls} area"
        if len(rows) >= MIN_ACTIVITIES:
            return measured_share(name, list(rows["released_m2"]), list(rows["processed_m2"]), f"TS on {cls}s")
        note = f"{pooled.source}, SHA and CHA pooled (fewer than {MIN_ACTIVITIES} on {cls}s)"
        return Share(name, pooled.value, pooled.released, pooled.processed, note)

    shares = Shares(
        measured_share("NTS surveys of the SHAs surveyed", routed, [1.0] * len(routed), "SHAs (NTS, or TS without it)"),
        measured_share("NTS cancels of SHA area", list(nts["released_m2"]), list(nts["processed_m2"]), "NTS"),
        ts_share(HazardClass.SHA.short, ts_sha),
        ts_share(HazardClass.CHA.short, ts_cha),
    )

    # rates: m² put through per team working day, per activity
    ended["wdays"] = working_days(
        ended["start_date"].to_numpy(), np.array(list(ended["end_date"]), dtype="datetime64[D]")
    )
    ok = ended[(ended["wdays"] > 0) & (ended["processed_m2"] > 0)]
    rates: dict[str, dict[str, tuple[tuple[float, ...], tuple[float, ...]]]] = {}
    for (step, method), g in ok.groupby(["step", "method"]):
        rates.setdefault(str(step), {})[str(method)] = (tuple(g["processed_m2"]), tuple(g["wdays"].astype(float)))

    # capacity: team working days in the window / working days in the window, counted on the
    # activities finished in it (the ones the rates are measured on), so that teams × rate is
    # the m² per working day the record shows; work under way counts once it is reported done
    teams: dict[str, dict[str, float]] = {}
    windows: dict[str, tuple[date, date]] = {}
    for step, g in ended.groupby("step"):
        first = max(min(started.loc[started["step"] == step, "start_date"]), as_of - timedelta(days=window_days))
        span = int(working_days(np.array([first]), np.array([as_of]))[0])
        g = g[[e >= first for e in g["end_date"]]]
        if span <= 0 or not len(g):
            continue
        begins = np.array([max(s, first) for s in g["start_date"]], dtype="datetime64[D]")
        g = g.assign(wdays=working_days(begins, np.array(list(g["end_date"]), dtype="datetime64[D]")))
        per = g.groupby("method")["wdays"].sum() / span
        teams[str(step)] = {str(m): float(v) for m, v in per.items() if v > 0}
        windows[str(step)] = (first, as_of)

    # the open areas and the next step each needs
    now = la.remaining_on(versions, as_of) if len(versions) else versions
    open_ = now[now["status"] != "closed"] if len(now) else now
    done_ts = set(ended.loc[ended["step"] == "ts", "hazard_area_uid"])
    done_nts = set(nts["hazard_area_uid"])
    in_ts = set(started.loc[started["step"] == "ts", "hazard_area_uid"])
    in_clearance = set(started.loc[started["step"] == "clearance", "hazard_area_uid"])
    steps = []
    for r in open_.itertuples(index=False):
        if r.uid in in_clearance or r.uid in done_ts:
            steps.append("clearance")
        elif r.uid in in_ts or r.classification != SHA or r.uid in done_nts:
            steps.append("ts")
        else:
            steps.append("nts")
    work = pd.DataFrame(
        {
            "remaining_m2": open_["remaining_m2"].to_numpy(dtype=float) if len(open_) else [],
            "classification": open_["classification"].to_numpy() if len(open_) else [],
            "step": steps,
        },
        index=pd.Index(open_["uid"].to_numpy() if len(open_) else [], name="uid"),
    )
    pref = _size_preference(ts, versions, states)
    intake = {step: i for step in ("nts", "ts") if (i := _intake(step, started, states, as_of, window_days))}
    return History(as_of, work, shares, rates, teams, windows, window_days, pref, intake)


def _intake(step: str, started: pd.DataFrame, states: _States, as_of: date, window_days: int) -> Intake | None:
    """Areas the step took up over the window (see :class:`Intake`); None if it never started.

    The window is the last ``window_days`` before ``as_of``, or from the step's
    first start if later; an area counts once, on the day the step first
    started on it, with the remaining area it had the day before. Team days are
    counted inside the window, including work still under way on ``as_of``.
    """
    g = started[started["step"] == step].sort_values("start_date")
    if not len(g):
        return None
    first = max(min(g["start_date"]), as_of - timedelta(days=window_days))
    entry = g.drop_duplicates("hazard_area_uid")
    entry = entry[entry["start_date"] >= first]
    m2 = [states.remaining(r.hazard_area_uid, r.start_date - timedelta(days=1)) for r in entry.itertuples()]
    done = g[[e is not None and e <= as_of for e in g["end_date"]]]
    durations = working_days(done["start_date"].to_numpy(), np.array(list(done["end_date"]), dtype="datetime64[D]"))
    ends = np.array([min(e, as_of) if e is not None else as_of for e in g["end_date"]], dtype="datetime64[D]")
    begins = np.array([max(s_, first) for s_ in g["start_date"]], dtype="datetime64[D]")
    g = g.assign(team_days=working_days(begins, ends).astype(float))
    return Intake(
        step,
        first,
        as_of,
        float(working_days(np.array([first]), np.array([as_of]))[0]),
        _waiting_days(step, started, states, first, as_of),
        tuple(float(x) for x in m2),
        tuple(float(x) for x in durations if x > 0),
        {str(k): int(v) for k, v in entry.groupby("method").size().items()},
        {str(k): float(v) for k, v in g[g["team_days"] > 0].groupby("method")["team_days"].sum().items()},
    )


def _waiting_days(step: str, started: pd.DataFrame, states: _States, first: date, as_of: date) -> tuple[float, ...]:
    """Working days from ``first`` to ``as_of`` on which at least one area of each size class waited for the step.

    An area waits from when it was recorded (for TS: from the end of its NTS,
    if it had one) until the step starts on it or it is closed; for NTS only
    SHAs wait. A rate counted over the days something of that size was waiting,
    not over the whole window, does not dilute the pace of the large areas NTS
    only handed over in mid-window.
    """
    start_of = started[started["step"] == step].groupby("hazard_area_uid")["start_date"].min().to_dict()
    prior = started[started["step"] == "nts"] if step == "ts" else started.iloc[0:0]
    prior_end: dict[str, date | None] = {}
    for r in prior.itertuples(index=False):
        e = r.end_date if r.end_date is not None and r.end_date <= as_of else None
        prior_end[r.hazard_area_uid] = prior_end.get(r.hazard_area_uid, e)
    span = (as_of - first).days + 1
    days = np.arange(np.datetime64(first, "D"), np.datetime64(first, "D") + span)
    busday = np.is_busday(days, weekmask=WEEKMASK)
    waiting = np.zeros((len(SIZE_NAMES), span), dtype=bool)
    until = np.datetime64(as_of, "D")
    for uid, (a, b) in states.span.items():
        b = a + int(np.searchsorted(states.day[a:b], until, side="right"))  # the versions known on as_of
        if b == a or (step == "nts" and states.classification[a] != SHA):
            continue
        lo = max(first, states.day[a].item())
        if uid in prior_end:
            if prior_end[uid] is None:
                continue
            lo = max(lo, prior_end[uid])
        closed = [d.item() for d in states.day[a:b][states.closed[a:b]]]
        hi = min([as_of, *closed, *([start_of[uid]] if uid in start_of else [])])
        if hi < lo:
            continue
        size = states.remaining(uid, hi - timedelta(days=1)) if uid in start_of else states.remaining(uid, hi)
        c = int(size_class(size))
        waiting[c, (lo - first).days : (hi - first).days + 1] = True
    return tuple(float((w & busday).sum()) for w in waiting)


def _size_preference(ts: pd.DataFrame, versions: pd.DataFrame, states: _States) -> float:
    """How strongly TS took up larger open areas first: the exponent g (0–1) of weights area ** g.

    Each TS start is one choice among the areas open and not yet surveyed by TS
    on that day; g maximises the likelihood of the choices made (conditional
    logit on log area, one parameter, on a grid). 0 means size did not matter.
    """
    if len(ts) < MIN_ACTIVITIES:
        return 0.0
    grid = np.linspace(0.0, 1.0, 21)
    loglik = np.zeros_like(grid)
    index = {u: i for i, u in enumerate(states.uids)}
    surveyed = np.zeros(len(states.uids), dtype=bool)
    for r in ts.sort_values("start_date").itertuples(index=False):
        # the areas open the day before, in uid order, less those TS already took up (but the one it picks)
        remaining = states.remaining_all(r.start_date - timedelta(days=1))
        me = index.get(r.hazard_area_uid)
        offered = ~surveyed & (remaining > 0)
        picked = None
        if me is not None:
            offered[me] = remaining[me] > 0
            picked = int(offered[:me].sum()) if offered[me] else None
            surveyed[me] = True
        areas = remaining[offered]
        if picked is None or len(areas) < 2:
            continue
        la_ = np.log(areas)
        z = grid[:, None] * la_[None, :]
        m = z.max(axis=1, keepdims=True)
        loglik += z[:, picked] - (m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))
    return float(grid[int(np.argmax(loglik))])


def history_of(store: Store, as_of: date | None = None, *, window_days: int = 365) -> History:
    """:func:`measure` on a store; ``as_of`` defaults to the last date of information in the record."""
    act = la.activities_frame(store)
    versions = la.hazard_versions(store)
    if as_of is None:
        dates = list(versions["date_of_information"]) if len(versions) else []
        dates += list(act["released_on"]) if len(act) else []
        as_of = max(dates) if dates else date.today()
    return measure(act, versions, as_of, window_days=window_days)
