"""Cluster munition types: the one table of footprints and failure (dud) rates.

A strike record names its munition; this table turns the name into the typical
ground footprint (an ellipse, semi-axes in metres, long axis along the direction
of fire) and the share of submunitions that fail to explode. Both the synthetic
district and the strike-to-hazard conversion read it, so they cannot disagree.

Footprints and dud rates are typical published orders of magnitude for these
systems (Landmine and Cluster Munition Monitor, Human Rights Watch and
manufacturer data quoted there), not measurements of any strike: they are
settings for planning a survey, and a strike record may override them with its
own ``estimated_duds``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Munition:
    """A cluster munition type: how many submunitions, how wide, how many fail."""

    name: str
    submunition: str
    count: int
    semi_major_m: float
    semi_minor_m: float
    dud_rate: float

    @property
    def expected_duds(self) -> float:
        return self.count * self.dud_rate


#: Every munition type SafeGround knows, by the name strike records use.
MUNITIONS: tuple[Munition, ...] = (
    Munition("9M55K rocket (Smerch 300 mm)", "9N235", 72, 220.0, 140.0, 0.10),
    Munition("9M27K rocket (Uragan 220 mm)", "9N210", 30, 160.0, 110.0, 0.12),
    Munition("M095 DPICM (160 mm rocket)", "M095", 104, 150.0, 90.0, 0.06),
)

MUNITIONS_BY_NAME: dict[str, Munition] = {m.name: m for m in MUNITIONS}
