"""What the model saw when it was trained, so that it can say where it cannot answer.

A tree model asked about ground unlike any it learned from still returns a number, and that
number is a guess: trained on cells within 25 km of Colombian events, it scored land 25–110 km
from every event at 0.19, inside its top 3 %. So every model keeps its training domain: how far
from any evidence its training cells lay, and the range of every feature. A cell farther from
evidence, or with a feature well beyond that range, is flagged instead of scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IN_DOMAIN, NO_EVIDENCE, BEYOND_RANGE, OUTSIDE_GRID = 0, 1, 2, 255

#: a feature is "beyond the range" only this share of its training span past either end
RANGE_SLACK = 0.5


def range_checked(name: str) -> bool:
    """Which features are held to their training range: measurements of the ground (elevation, slope).

    Not densities: a count above its largest training value is ranked with the tree's top leaf, which is what a
    planner wants (the densest recorded minefield of the demo held 12 times the training maximum, and
    Colombia's suspected minefields more than doubled after 2008); a density never seen at all is one the model
    has no split on; kernel densities (``kde:``) likewise. Not the trend shares (``trend:``), bounded by
    construction. Not distances either: they are judged together, as the distance from any evidence."""
    return not name.startswith(("dist:", "dens:", "kde:", "trend:"))


REASONS = {
    IN_DOMAIN: "",
    NO_EVIDENCE: "no evidence near here: the model cannot say",
    BEYOND_RANGE: "unlike any ground the model was trained on: the model cannot say",
    OUTSIDE_GRID: "outside the model's grid: the model cannot say",
}


@dataclass(frozen=True)
class Domain:
    """The training cells' farthest distance from evidence and each feature's range."""

    evidence_m: float | None  # None when the model has no distance features
    evidence_columns: tuple[int, ...]
    checked: tuple[bool, ...]  # per feature: held to its training range (``range_checked``)
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    cap_m: float  # distances are capped here: a domain that reaches the cap flags nothing by distance

    @classmethod
    def of(cls, X: np.ndarray, names: list[str], cap_m: float) -> Domain:
        cols = tuple(j for j, n in enumerate(names) if n.startswith("dist:"))
        ev = float(X[:, list(cols)].min(axis=1).max()) if cols and len(X) else None
        lo = tuple(float(v) for v in np.nanmin(X, axis=0)) if len(X) else ()
        hi = tuple(float(v) for v in np.nanmax(X, axis=0)) if len(X) else ()
        return cls(ev, cols, tuple(range_checked(n) for n in names), lo, hi, float(cap_m))

    def evidence_distance(self, X: np.ndarray) -> np.ndarray:
        if not self.evidence_columns:
            return np.zeros(len(X))
        return X[:, list(self.evidence_columns)].min(axis=1)

    def reasons(self, X: np.ndarray, cell_m: float) -> np.ndarray:
        """Per row: IN_DOMAIN, NO_EVIDENCE or BEYOND_RANGE (uint8)."""
        out = np.zeros(len(X), np.uint8)
        if not len(X) or not self.lo:
            return out
        lo, hi = np.asarray(self.lo), np.asarray(self.hi)
        span = np.maximum(hi - lo, 0.0) * RANGE_SLACK
        other = np.asarray(self.checked, bool)
        beyond = ((X[:, other] < (lo - span)[other]) | (X[:, other] > (hi + span)[other])).any(axis=1)
        out[beyond] = BEYOND_RANGE
        if self.evidence_m is not None and self.evidence_m < self.cap_m:
            out[self.evidence_distance(X) > self.evidence_m + cell_m] = NO_EVIDENCE
        return out

    def as_dict(self, names: list[str]) -> dict:
        """For the model card: what ground the model can speak about."""
        return {
            "farthest_training_cell_from_evidence_m": self.evidence_m,
            "distance_cap_m": self.cap_m,
            "range_slack": RANGE_SLACK,
            "feature_ranges": {n: [lo, hi] for n, lo, hi in zip(names, self.lo, self.hi, strict=True)},
            "range_checked": [n for n, c in zip(names, self.checked, strict=True) if c],
        }
