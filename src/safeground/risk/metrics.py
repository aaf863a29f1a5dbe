"""The three figures reported together: ROC-AUC, PR-AUC and capture rates.

ROC-AUC says how well cells are ranked, PR-AUC how well the rare mined cells
stand out, and the capture rate answers the planner's own question: "if we
survey the riskiest tenth of the land, what share of the later accidents and
finds would we have covered?" Ties are shared out fairly at the cut, so a map
that scores most cells the same gets no credit for the order they happen to be in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


@dataclass
class Scores:
    roc_auc: float | None
    pr_auc: float | None
    capture_5: float | None
    capture_10: float | None
    cells: int
    positive_cells: int
    events: int
    base_rate: float | None

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def capture_rate(score: np.ndarray, events: np.ndarray, share: float) -> float | None:
    """Share of events in the top ``share`` of cells by score (tied cells at the cut count pro rata)."""
    total = float(events.sum())
    if total == 0 or len(score) == 0:
        return None
    slots = share * len(score)
    uniq, inverse = np.unique(-score, return_inverse=True)  # highest score first
    n_per = np.bincount(inverse, minlength=len(uniq)).astype(float)
    e_per = np.bincount(inverse, weights=events, minlength=len(uniq))
    before = np.concatenate([[0.0], np.cumsum(n_per)[:-1]])
    take = np.clip((slots - before) / n_per, 0.0, 1.0)
    return float((e_per * take).sum() / total)


def evaluate_scores(score: np.ndarray, events: np.ndarray, labelled: np.ndarray | None = None) -> Scores:
    """``events`` counts target events per cell; ROC/PR use the labelled cells (all, if none given)."""
    score = np.asarray(score, float)
    events = np.asarray(events, float)
    lab = np.ones(len(score), bool) if labelled is None else labelled
    y = (events[lab] > 0).astype(int)
    roc = pr = None
    if 0 < y.sum() < len(y):
        roc = float(roc_auc_score(y, score[lab]))
        pr = float(average_precision_score(y, score[lab]))
    return Scores(
        roc_auc=roc,
        pr_auc=pr,
        capture_5=capture_rate(score, events, 0.05),
        capture_10=capture_rate(score, events, 0.10),
        cells=len(score),
        positive_cells=int((events > 0).sum()),
        events=int(events.sum()),
        base_rate=float(y.mean()) if len(y) else None,
    )


@dataclass(frozen=True)
class Band:
    """One band of cells ranked by predicted risk: how many accident cells the model expected, how many came."""

    top_from: float  # the band is the cells ranked in (top_from, top_to] of all cells by score
    top_to: float
    cells: int
    expected: float  # the sum of the band's probabilities: accident cells the model said to expect
    observed: int  # cells that did have an accident


@dataclass(frozen=True)
class Calibration:
    """Whether a probability can be read as one: bands by rank, the Brier score and its skill over the base rate.

    Probabilities of rare events are tiny, so equal-width bins would put nearly every cell in the first; bands
    by rank (the riskiest 1 %, 1–5 %, …) are the ones a planner reads the map by."""

    bands: tuple[Band, ...]
    brier: float
    brier_base_rate: float  # every cell given the training base rate: the forecast that knows no place
    base_rate: float

    @property
    def skill(self) -> float:
        """1 − Brier / Brier of the base rate: above 0 the model's probabilities beat knowing the rate alone."""
        return 1.0 - self.brier / self.brier_base_rate if self.brier_base_rate > 0 else float("nan")


def calibration(
    prob: np.ndarray,
    events: np.ndarray,
    base_rate: float,
    shares: tuple[float, ...] = (0.01, 0.05, 0.10, 0.25, 0.50, 1.0),
) -> Calibration:
    """Expected against observed accident cells in bands of the ranking, with Brier scores.

    ``prob`` are calibrated probabilities of an accident in a cell, ``events`` the accidents that came,
    ``base_rate`` the share of accident cells the model learned from (its Brier is the reference). Cells are
    ranked by probability, highest first, ties kept in their given order (a band's sum is what matters)."""
    p = np.asarray(prob, float)
    hit = (np.asarray(events) > 0).astype(float)
    if len(p) == 0 or len(p) != len(hit):
        raise ValueError(f"calibration needs as many probabilities as cells (got {len(p)} and {len(hit)})")
    order = np.argsort(-p, kind="stable")
    p_sorted, hit_sorted = p[order], hit[order]
    bands = []
    lo_share, lo = 0.0, 0
    for share in shares:
        hi = round(share * len(p))
        bands.append(Band(lo_share, share, hi - lo, float(p_sorted[lo:hi].sum()), int(hit_sorted[lo:hi].sum())))
        lo_share, lo = share, hi
    return Calibration(
        tuple(bands),
        brier=float(np.mean((p - hit) ** 2)),
        brier_base_rate=float(np.mean((base_rate - hit) ** 2)),
        base_rate=float(base_rate),
    )
