"""The colour ramp of the predicted risk map: one set of classes for the web map's tiles and its legend.

Five classes of the predicted probability of contamination, yellow to dark red (ColorBrewer YlOrRd, readable
by most colour-blind readers and in grey print), the lowest drawn faint so the map under it stays legible.
Declared once here so the raster tiles, the legend served beside them and any printed map agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RiskClass:
    low: float  # inclusive
    high: float  # exclusive (the last class includes 1)
    colour: str  # "#rrggbb"
    alpha: int  # 0–255 in the tiles
    label: dict[str, str]  # language → text


RISK_CLASSES: tuple[RiskClass, ...] = (
    RiskClass(0.0, 0.05, "#ffffb2", 64,
              {"en": "very low (under 5 %)", "az": "çox aşağı (5 %-dən az)", "ru": "очень низкий (меньше 5 %)"}),
    RiskClass(0.05, 0.15, "#fecc5c", 160,
              {"en": "low (5–15 %)", "az": "aşağı (5–15 %)", "ru": "низкий (5–15 %)"}),
    RiskClass(0.15, 0.30, "#fd8d3c", 190,
              {"en": "moderate (15–30 %)", "az": "orta (15–30 %)", "ru": "средний (15–30 %)"}),
    RiskClass(0.30, 0.50, "#f03b20", 210,
              {"en": "high (30–50 %)", "az": "yüksək (30–50 %)", "ru": "высокий (30–50 %)"}),
    RiskClass(0.50, 1.0, "#bd0026", 230,
              {"en": "very high (50 % and more)", "az": "çox yüksək (50 % və daha çox)",
               "ru": "очень высокий (50 % и больше)"}),
)  # fmt: skip

TITLE = {
    "en": "Predicted risk of contamination (risk model; for survey planning, not evidence)",
    "az": "Çirklənmə riskinin proqnozu (risk modeli; tədqiqatın planlaşdırılması üçün, sübut deyil)",
    "ru": "Прогноз риска загрязнения (модель риска; для планирования обследования, не доказательство)",
}


def class_of(values: np.ndarray) -> np.ndarray:
    """The index of each value's class (-1 where there is no value)."""
    edges = np.array([c.high for c in RISK_CLASSES[:-1]])
    out = np.digitize(np.nan_to_num(values, nan=0.0), edges, right=False).astype(np.int16)
    out[~np.isfinite(values)] = -1
    return out


def rgba(values: np.ndarray) -> np.ndarray:
    """An RGBA image (uint8, h × w × 4) of the values in the ramp; no value is transparent."""
    lut = np.zeros((len(RISK_CLASSES) + 1, 4), np.uint8)  # the last row: no value, transparent
    for i, c in enumerate(RISK_CLASSES):
        lut[i] = [int(c.colour[1:3], 16), int(c.colour[3:5], 16), int(c.colour[5:7], 16), c.alpha]
    idx = class_of(values)
    idx[idx < 0] = len(RISK_CLASSES)
    out: np.ndarray = lut[idx]
    return out
