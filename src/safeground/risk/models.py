"""Risk models behind one interface, with calibrated probabilities and per-cell explanations.

A registry (``MODELS``) so an analyst can add a model without touching the
pipeline. Every model is calibrated on out-of-fold scores from spatial blocks:
a planner reads "0.3" as "three in ten such cells hold mines", which is only
true if the probability was calibrated on ground the model had not seen.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

MODELS: dict[str, type[RiskModel]] = {}


def register(cls: type[RiskModel]) -> type[RiskModel]:
    MODELS[cls.NAME] = cls
    return cls


def make_model(name: str, **params: Any) -> RiskModel:
    from safeground.errors import SafeGroundError

    if name not in MODELS:
        raise SafeGroundError(f"unknown model {name!r}", hint=f"choose one of: {', '.join(sorted(MODELS))}")
    return MODELS[name](**params)


@dataclass
class RiskModel(ABC):
    """Fit raw scores, then a monotone calibration; explain in the raw score's units (log-odds)."""

    NAME: ClassVar[str] = ""
    params: dict[str, Any] = field(default_factory=dict)
    calibrator: LogisticRegression | None = None

    def out_of_fold(
        self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None, n_splits: int = 5
    ) -> np.ndarray | None:
        """Raw scores of every row from a model that did not see its spatial block (NaN where a fold could
        not be fitted); None when there are no blocks to hold out."""
        if groups is None or len(np.unique(groups)) < 2 or not 0 < y.sum() < len(y):
            return None
        oof = np.full(len(y), np.nan)
        for train, test in block_folds(groups, n_splits):
            if y[train].min() == y[train].max():
                continue
            part = self._new()
            part._fit_raw(X[train], y[train], None if groups is None else groups[train])
            oof[test] = part._raw(X[test])
        return oof

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray | None = None,
        n_splits: int = 5,
        oof: np.ndarray | None = None,
        calibrate: bool = True,
    ) -> RiskModel:
        """Calibrate on out-of-fold raw scores (grouped by spatial block; ``oof`` when already computed), then
        fit on everything. ``calibrate=False`` (a ranking-only fold model) skips the out-of-fold fits but still
        hands the blocks to models that use them (the spatial ensemble)."""
        if oof is None and calibrate:
            oof = self.out_of_fold(X, y, groups, n_splits)
        if oof is not None and calibrate:
            ok = ~np.isnan(oof)
            if ok.sum() > 10 and 0 < y[ok].sum() < ok.sum():
                # Platt scaling: strictly monotone, so calibration never ties cells the model told apart
                # (isotonic steps flattened a fifth of a district into one value)
                self.calibrator = LogisticRegression(C=1e4, max_iter=1000).fit(oof[ok].reshape(-1, 1), y[ok])
        self._fit_raw(X, y, groups)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        raw = self._raw(X)
        if self.calibrator is None:
            return 1.0 / (1.0 + np.exp(-raw))
        return self.calibrator.predict_proba(raw.reshape(-1, 1))[:, 1]

    def _new(self) -> RiskModel:
        return type(self)(params=dict(self.params))

    @abstractmethod
    def _fit_raw(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> None:
        """Fit the raw scorer; ``groups`` (spatial block per row) for models that use them."""

    @abstractmethod
    def _raw(self, X: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def contributions(self, X: np.ndarray) -> np.ndarray:
        """(n, features + 1): each feature's push on the log-odds; the last column is the base value."""


@register
@dataclass
class LightGBMRisk(RiskModel):
    """Gradient boosting: learns thresholds and interactions (near a pole *and* near the front)."""

    NAME: ClassVar[str] = "lightgbm"
    booster: Any = None

    DEFAULTS: ClassVar[dict[str, Any]] = {
        # small trees: mined cells number in the hundreds, and prediction over 10^8 cells costs per tree and leaf.
        # 60 trees with balanced class weights: chosen inside the training period on real data (FeatureSpec.for_cell)
        "n_estimators": 60,
        "class_weight": "balanced",
        "num_leaves": 15,
        "learning_rate": 0.06,
        "min_child_samples": 30,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "n_jobs": 2,
        "verbose": -1,
        "random_state": 7,
    }

    def _fit_raw(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> None:
        import lightgbm as lgb

        params = {k: v for k, v in self.params.items() if k != "predict_threads"}
        # one thread: the labelled cells number thousands, where OpenMP's threads only wait for each other; on
        # a shared machine (eight jobs on two cores) two spinning threads made 11 fits take 92 s instead of 1 s
        fit = {**self.DEFAULTS, "n_jobs": 1, **params}
        self.booster = lgb.LGBMClassifier(**fit).fit(X, y)
        self.booster.set_params(n_jobs=self.DEFAULTS["n_jobs"])  # prediction over a map still uses both cores

    def _raw(self, X: np.ndarray) -> np.ndarray:
        threads = self.params.get("predict_threads")
        if threads:  # one per Dask worker process: two workers × two threads on two cores only thrash
            return self.booster.predict(X, raw_score=True, num_threads=int(threads))
        return self.booster.predict(X, raw_score=True)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        return self.booster.predict(X, pred_contrib=True)


@register
@dataclass
class SpatialEnsembleRisk(RiskModel):
    """LightGBM models each trained without one share of the spatial blocks, their log-odds averaged.

    A single model learns the quirks of the regions it saw (a department's recording habits, one valley's
    front); held-out regions are then ranked by those quirks. Each member leaves out a different fifth of the
    blocks (``block_folds``) and draws its own random seed, so what survives the average is what holds across
    regions: bagging by region rather than by row. Without blocks the members leave out row folds instead.
    The average of raw scores keeps ``contributions`` exact (the mean of the members' contributions)."""

    NAME: ClassVar[str] = "lightgbm-spatial-ensemble"
    MEMBERS: ClassVar[int] = 5
    members: list[LightGBMRisk] = field(default_factory=list)
    left_out: list[list[str]] = field(default_factory=list)  # per member: the blocks it never saw

    def _fit_raw(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> None:
        params = dict(self.params)
        n = int(params.pop("members", self.MEMBERS))
        seed = int(params.get("random_state", LightGBMRisk.DEFAULTS["random_state"]))
        blocks = groups if groups is not None and len(np.unique(groups)) >= n else np.arange(len(y)) % n
        self.members, self.left_out = [], []
        for i, (keep, out) in enumerate(block_folds(blocks, n)):
            if y[keep].min() == y[keep].max():  # a member with one class only would learn nothing
                continue
            m = LightGBMRisk(params={**params, "random_state": seed + i})
            m._fit_raw(X[keep], y[keep])
            self.members.append(m)
            self.left_out.append(sorted(str(b) for b in np.unique(blocks[out])))
        if not self.members:
            m = LightGBMRisk(params={**params, "random_state": seed})
            m._fit_raw(X, y)
            self.members, self.left_out = [m], [[]]

    def _raw(self, X: np.ndarray) -> np.ndarray:
        threads = self.params.get("predict_threads")  # set after fitting by the distributed map: pass it on
        for m in self.members:
            if threads:
                m.params["predict_threads"] = threads
        return np.mean([m._raw(X) for m in self.members], axis=0)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        return np.mean([m.contributions(X) for m in self.members], axis=0)


@register
@dataclass
class LogisticRisk(RiskModel):
    """Logistic regression on standardised features: the baseline every other model must beat."""

    NAME: ClassVar[str] = "logistic"
    scaler: StandardScaler | None = None
    clf: LogisticRegression | None = None

    def _fit_raw(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> None:
        self.scaler = StandardScaler().fit(X)
        C = float(self.params.get("C", 1.0))
        self.clf = LogisticRegression(C=C, max_iter=2000, class_weight=self.params.get("class_weight")).fit(
            self.scaler.transform(X), y
        )

    def _raw(self, X: np.ndarray) -> np.ndarray:
        return self.clf.decision_function(self.scaler.transform(X))  # type: ignore[union-attr]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        z = self.scaler.transform(X)  # type: ignore[union-attr]
        coef = self.clf.coef_[0]  # type: ignore[union-attr]
        return np.column_stack([z * coef, np.full(len(X), self.clf.intercept_[0])])  # type: ignore[union-attr]


def block_folds(groups: np.ndarray, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Whole blocks held out together; blocks dealt to folds by size so folds are balanced."""
    uniq, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    k = min(n_splits, len(uniq))
    fold_of_block = np.zeros(len(uniq), np.int64)
    load = np.zeros(k)
    for b in np.argsort(-counts, kind="stable"):
        f = int(np.argmin(load))
        fold_of_block[b] = f
        load[f] += counts[b]
    fold = fold_of_block[inverse]
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]
