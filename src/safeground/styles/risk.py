"""The colour ramp of the predicted risk map: one set of classes for the web map's tiles and its legend.

The classes are shares of the district's area ranked by predicted risk, the way the risk model is judged and
used ("the riskiest 5 % of the area", ``risk predict --top``): a calibrated probability of contamination is
small everywhere (mined cells are a few in a hundred), so fixed probability bands would paint the whole map
one colour. Each map's thresholds are its own quantiles, given by the legend beside the tiles. Yellow to dark
red (ColorBrewer YlOrRd, readable by most colour-blind readers and in grey print), the lowest class faint so
the map under it stays legible. Declared once here so the tiles, their legend and a printed map agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RiskClass:
    top_share: float  # the class holds the cells ranked within this share of the area (1.0: all)
    colour: str  # "#rrggbb"
    alpha: int  # 0–255 in the tiles
    label: dict[str, str]  # language → text


#: lowest class first; each class holds the cells ranked within its ``top_share`` but not the next class's
RISK_CLASSES: tuple[RiskClass, ...] = (
    RiskClass(1.0, "#ffffb2", 48,
              {"en": "the other 75 % of the area", "az": "ərazinin qalan 75 %-i", "ru": "остальные 75 % площади"}),
    RiskClass(0.25, "#fecc5c", 150,
              {"en": "riskiest 10–25 % of the area", "az": "ərazinin ən riskli 10–25 %-i",
               "ru": "10–25 % площади с наибольшим риском"}),
    RiskClass(0.10, "#fd8d3c", 185,
              {"en": "riskiest 5–10 % of the area", "az": "ərazinin ən riskli 5–10 %-i",
               "ru": "5–10 % площади с наибольшим риском"}),
    RiskClass(0.05, "#f03b20", 210,
              {"en": "riskiest 1–5 % of the area", "az": "ərazinin ən riskli 1–5 %-i",
               "ru": "1–5 % площади с наибольшим риском"}),
    RiskClass(0.01, "#bd0026", 230,
              {"en": "riskiest 1 % of the area", "az": "ərazinin ən riskli 1 %-i",
               "ru": "1 % площади с наибольшим риском"}),
)  # fmt: skip

TITLE = {
    "en": "Predicted risk of contamination (risk model; for survey planning, not evidence)",
    "az": "Çirklənmə riskinin proqnozu (risk modeli; tədqiqatın planlaşdırılması üçün, sübut deyil)",
    "ru": "Прогноз риска загрязнения (модель риска; для планирования обследования, не доказательство)",
}


def thresholds(values: np.ndarray) -> list[float]:
    """The risk at which each class above the lowest begins, for this map (its quantiles), ascending."""
    ok = values[np.isfinite(values)]
    if not len(ok):
        return [np.inf] * (len(RISK_CLASSES) - 1)
    return [float(np.quantile(ok, 1.0 - c.top_share)) for c in RISK_CLASSES[1:]]


def class_of(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """The index of each value's class (-1 where there is no value): class i from ``edges[i - 1]`` on."""
    out = np.searchsorted(np.asarray(edges), np.nan_to_num(values, nan=-np.inf), side="right").astype(np.int16)
    out[~np.isfinite(values)] = -1
    return out


def rgba(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """An RGBA image (uint8, h × w × 4) of the values in the ramp; no value is transparent."""
    lut = np.zeros((len(RISK_CLASSES) + 1, 4), np.uint8)  # the last row: no value, transparent
    for i, c in enumerate(RISK_CLASSES):
        lut[i] = [int(c.colour[1:3], 16), int(c.colour[3:5], 16), int(c.colour[5:7], 16), c.alpha]
    idx = class_of(values, edges)
    idx[idx < 0] = len(RISK_CLASSES)
    out: np.ndarray = lut[idx]
    return out
