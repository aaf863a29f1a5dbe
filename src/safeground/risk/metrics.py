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
