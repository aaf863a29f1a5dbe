"""Accidents and victims: who steps on the mines, and doing what.

After the return, people went first to their families' graves and their former
homes, along paths nobody had checked. The accident model picks the mine a
person meets with weights by where it was laid (cemeteries, paths, courtyard
entrances and junctions far above the defensive belts, which people avoid), and
derives the activity at the time from the place. About 40 civilian casualties
fall in the first four months for a 20 × 20 km district; fewer afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from safeground.generator.config import DistrictConfig
from safeground.generator.mines import Truth
from safeground.model.vocab import ActivityAtTime, DeviceType, EOType, Outcome, Sex, VictimStatus

#: relative chance that a person meets a mine laid in each context
CONTEXT_WEIGHT = {
    "cemetery": 16.0,
    "path": 8.0,
    "courtyard_entrance": 7.0,
    "road_junction": 4.0,
    "canal_bank": 4.0,
    "riverbank": 4.0,
    "power_line_pole": 3.0,
    "light_pole": 3.0,
    "cluster_strike": 3.0,
    "battlefield": 1.5,
    "front_belt": 0.02,
}

ACTIVITY_BY_CONTEXT: dict[str, tuple[tuple[ActivityAtTime, float], ...]] = {
    "cemetery": ((ActivityAtTime.VISITING_CEMETERY, 1.0),),
    "courtyard_entrance": ((ActivityAtTime.RETURNING_HOME, 1.0),),
    "path": (
        (ActivityAtTime.VISITING_CEMETERY, 0.45),
        (ActivityAtTime.RETURNING_HOME, 0.2),
        (ActivityAtTime.FARMING, 0.15),
        (ActivityAtTime.COLLECTING, 0.1),
        (ActivityAtTime.HERDING, 0.1),
    ),
    "road_junction": ((ActivityAtTime.TRAVELLING, 0.7), (ActivityAtTime.RETURNING_HOME, 0.3)),
    "canal_bank": (
        (ActivityAtTime.FARMING, 0.4),
        (ActivityAtTime.COLLECTING, 0.3),
        (ActivityAtTime.HERDING, 0.3),
    ),
    "riverbank": (
        (ActivityAtTime.COLLECTING, 0.5),
        (ActivityAtTime.HERDING, 0.3),
        (ActivityAtTime.OTHER, 0.2),
    ),
    "power_line_pole": (
        (ActivityAtTime.TRAVELLING, 0.4),
        (ActivityAtTime.RETURNING_HOME, 0.4),
        (ActivityAtTime.OTHER, 0.2),
    ),
    "light_pole": ((ActivityAtTime.RETURNING_HOME, 0.6), (ActivityAtTime.TRAVELLING, 0.4)),
    "cluster_strike": ((ActivityAtTime.RETURNING_HOME, 0.6), (ActivityAtTime.OTHER, 0.4)),
    "battlefield": ((ActivityAtTime.COLLECTING, 0.5), (ActivityAtTime.HERDING, 0.5)),
    "front_belt": (
        (ActivityAtTime.HERDING, 0.5),
        (ActivityAtTime.FARMING, 0.3),
        (ActivityAtTime.COLLECTING, 0.2),
    ),
}

FIRST_NAMES_M = (
    "Elvin",
    "Rashad",
    "Tural",
    "Vugar",
    "Anar",
    "Ilgar",
    "Kamran",
    "Orkhan",
    "Ramil",
    "Farid",
    "Samir",
    "Emin",
)
FIRST_NAMES_F = ("Aysel", "Gunel", "Leyla", "Nigar", "Sevinj", "Aynur", "Konul", "Lala")
SURNAMES = (
    "Aliyev",
    "Mammadov",
    "Hasanov",
    "Huseynov",
    "Guliyev",
    "Ismayilov",
    "Karimov",
    "Abbasov",
    "Jafarov",
    "Rzayev",
)


@dataclass
class VictimDraft:
    status: VictimStatus
    outcome: Outcome
    sex: Sex
    age: int
    activity: ActivityAtTime
    name: str


@dataclass
class AccidentDraft:
    aid: str
    when: date
    xy: np.ndarray
    item: int  # index into Truth
    device: DeviceType
    context: str
    victims: list[VictimDraft]


def device_of(eo: EOType, rng: np.random.Generator) -> DeviceType:
    if eo.is_mine and eo != EOType.IMPROVISED and rng.random() < 0.1:
        return DeviceType.UNSPECIFIED_MINE  # as often reported before an EOD team confirms
    return {
        EOType.AP_BLAST: DeviceType.AP_MINE,
        EOType.AP_FRAGMENTATION: DeviceType.AP_MINE,
        EOType.AV: DeviceType.AV_MINE,
        EOType.IMPROVISED: DeviceType.IMPROVISED_MINE,
        EOType.SUBMUNITION: DeviceType.SUBMUNITION,
        EOType.UXO: DeviceType.OTHER_ERW,
    }[eo]


def _victims(eo: EOType, context: str, status: VictimStatus, rng: np.random.Generator) -> list[VictimDraft]:
    # an antivehicle mine hits a vehicle and its passengers
    n = int(rng.integers(2, 5)) if eo == EOType.AV else int(rng.choice([1, 2, 3], p=[0.78, 0.17, 0.05]))
    out = []
    choices = ACTIVITY_BY_CONTEXT[context]
    acts = [a for a, _ in choices]
    probs = np.array([p for _, p in choices])
    activity = acts[int(rng.choice(len(acts), p=probs / probs.sum()))]
    if status != VictimStatus.CIVILIAN:
        activity = ActivityAtTime.DEMINING if status == VictimStatus.DEMINER else ActivityAtTime.OTHER
    p_killed = 0.55 if eo == EOType.AV else 0.3
    for _ in range(n):
        female = status == VictimStatus.CIVILIAN and rng.random() < 0.12
        child = status == VictimStatus.CIVILIAN and rng.random() < 0.08
        age = int(rng.integers(9, 18)) if child else int(np.clip(rng.normal(42, 14), 18, 85))
        first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
        out.append(
            VictimDraft(
                status=status,
                outcome=Outcome.KILLED if rng.random() < p_killed else Outcome.INJURED,
                sex=Sex.FEMALE if female else Sex.MALE,
                age=age,
                activity=activity,
                name=f"{first} {rng.choice(SURNAMES)}",
            )
        )
    return out


def _pick_items(truth: Truth, rng: np.random.Generator, n: int, weights: dict[str, float]) -> list[int]:
    w = np.array([weights.get(c, 0.0) for c in truth.context]) * np.array(
        [f == "in_ground" for f in truth.fate], dtype=float
    )
    if w.sum() == 0 or n == 0:
        return []
    return [int(i) for i in rng.choice(len(w), size=min(n, int((w > 0).sum())), replace=False, p=w / w.sum())]


class _Recorder:
    def __init__(self, truth: Truth, rng: np.random.Generator, first_number: int) -> None:
        self.truth, self.rng, self.next = truth, rng, first_number
        self.out: list[AccidentDraft] = []

    def __call__(self, idx: int, when: date, status: VictimStatus) -> AccidentDraft:
        t, rng = self.truth, self.rng
        eo = t.eo_type[idx]
        acc = AccidentDraft(
            aid="",
            when=when,
            xy=t.xy[idx] + rng.normal(0, 3.0, 2),
            item=idx,
            device=device_of(eo, rng),
            context=t.context[idx],
            victims=_victims(eo, t.context[idx], status, rng),
        )
        t.fate[idx] = "detonated"
        self.out.append(acc)
        return acc

    def numbered(self) -> list[AccidentDraft]:
        self.out.sort(key=lambda a: a.when)
        for k, a in enumerate(self.out):
            a.aid = f"ACC-{self.next + k:05d}"
        return self.out


def early_accidents(cfg: DistrictConfig, truth: Truth, rng: np.random.Generator) -> list[AccidentDraft]:
    """The first four months after the return, before any clearance: civilians and engineers."""
    record = _Recorder(truth, rng, 1)
    early_end = cfg.return_date + timedelta(days=121)
    target = max(3, round(cfg.early_civilian_casualties * cfg.scale))
    casualties = 0
    span = (early_end - cfg.return_date).days
    while casualties < target:
        picked = _pick_items(truth, rng, 1, CONTEXT_WEIGHT)
        if not picked:
            break
        when = cfg.return_date + timedelta(days=int(rng.integers(0, span)))
        casualties += len(record(picked[0], when, VictimStatus.CIVILIAN).victims)
    # engineers opening routes through the belts in the first weeks
    for idx in _pick_items(truth, rng, max(1, round(2 * cfg.scale)), {"front_belt": 1.0}):
        record(idx, cfg.return_date + timedelta(days=int(rng.integers(0, 40))), VictimStatus.MILITARY)
    return record.numbered()


def later_accidents(
    cfg: DistrictConfig, truth: Truth, rng: np.random.Generator, first_number: int
) -> list[AccidentDraft]:
    """Accidents after the first four months, on items that survey and clearance never reached.

    Drawn after the operations so that no accident happens on an item that a
    survey had already found, or inside ground already released.
    """
    record = _Recorder(truth, rng, first_number)
    early_end = cfg.return_date + timedelta(days=121)
    months_later = max((cfg.as_of - early_end).days / 30.4, 0.0)
    n_later = int(rng.poisson(cfg.later_casualties_per_month * months_later * cfg.scale / 1.3))
    for idx in _pick_items(truth, rng, n_later, CONTEXT_WEIGHT):
        when = early_end + timedelta(days=int(rng.integers(0, max((cfg.as_of - early_end).days, 1))))
        record(idx, when, VictimStatus.CIVILIAN)
    return record.numbered()
