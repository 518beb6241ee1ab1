"""Platt scaling of a raw margin, and the scorecard points scale.

Calibrated log-odds are an affine map of LightGBM's raw margin,
``a · margin + b``, so SHAP contributions of the margin scale by ``a`` and
stay exactly additive. Points put those log-odds on a scorecard scale:
``points = base + PDO/ln 2 · (log-odds − reference log-odds)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = ["PlattCalibration", "PointsScale", "fit_platt", "sigmoid"]


def sigmoid(log_odds: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    log_odds = np.asarray(log_odds, dtype=np.float64)
    out = np.empty_like(log_odds)
    positive = log_odds >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-log_odds[positive]))
    e = np.exp(log_odds[~positive])
    out[~positive] = e / (1.0 + e)
    return out


@dataclass(frozen=True)
class PlattCalibration:
    """``log-odds = slope · margin + intercept``."""

    slope: float
    intercept: float

    def log_odds(self, margin: np.ndarray) -> np.ndarray:
        return self.slope * np.asarray(margin, dtype=np.float64) + self.intercept

    def probability(self, margin: np.ndarray) -> np.ndarray:
        return sigmoid(self.log_odds(margin))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> PlattCalibration:
        return cls(slope=float(data["slope"]), intercept=float(data["intercept"]))


def fit_platt(margin: np.ndarray, y: np.ndarray) -> PlattCalibration:
    """Fit Platt scaling of a 1-D raw margin on held-out rows (essentially unpenalised)."""
    margin = np.asarray(margin, dtype=np.float64).reshape(-1, 1)
    y = np.asarray(y).astype(int)
    if margin.shape[0] != y.shape[0]:
        raise ValueError(f"margin has {margin.shape[0]} rows but y has {y.shape[0]}")
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(
            f"Platt scaling needs both classes in the calibration rows; got classes {classes.tolist()} "
            f"in {y.size} rows (use a longer data window or a larger calib fraction)"
        )
    # Rows sharing a margin and a label enter the loss identically: fit on the distinct
    # pairs with their counts as weights (a point grid's 700k rows hold a few hundred).
    values, labels, counts = [], [], []
    for label in (0, 1):
        distinct, n = np.unique(margin[y == label, 0], return_counts=True)
        values.append(distinct)
        labels.append(np.full(distinct.size, label))
        counts.append(n)
    lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    if sum(v.size for v in values) < y.size // 2:
        lr.fit(np.concatenate(values).reshape(-1, 1), np.concatenate(labels),
               sample_weight=np.concatenate(counts).astype(np.float64))  # fmt: skip
    else:
        lr.fit(margin, y)
    return PlattCalibration(slope=float(lr.coef_[0, 0]), intercept=float(lr.intercept_[0]))


@dataclass(frozen=True)
class PointsScale:
    """The scorecard scale: ``base`` points at ``reference_log_odds``; +``pdo`` points doubles the odds."""

    base: float
    pdo: float
    reference_log_odds: float

    @property
    def points_per_log_odds(self) -> float:
        return self.pdo / math.log(2.0)

    def points(self, log_odds: np.ndarray) -> np.ndarray:
        return self.base + self.points_per_log_odds * (
            np.asarray(log_odds, dtype=np.float64) - self.reference_log_odds
        )

    def log_odds(self, points: np.ndarray) -> np.ndarray:
        return self.reference_log_odds + (np.asarray(points, dtype=np.float64) - self.base) / (
            self.points_per_log_odds
        )

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> PointsScale:
        return cls(
            base=float(data["base"]),
            pdo=float(data["pdo"]),
            reference_log_odds=float(data["reference_log_odds"]),
        )
