"""Population stability of features and scores against the population the model was trained on.

A reference profile (bin edges and shares per feature, plus the score) is
computed at training time on the leads open at the end of the data (the
population a scoring run sees; the training rows in flat mode), shipped with
the model, and compared with each scoring batch: ``PSI = Σ (p_batch − p_ref) · ln(p_batch / p_ref)``. Above 0.2
the batch no longer looks like training data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DRIFT_WARNING", "REFERENCE_ROWS", "DriftProfile", "population_stability_index"]

DRIFT_WARNING = 0.2
REFERENCE_ROWS = 100_000  # decile shares are as good from 100k rows as from millions
_EPS = 1e-4
_MISSING = "__missing__"
_OTHER = "__other__"


def population_stability_index(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI between two share vectors over the same bins (shares floored at 1e-4)."""
    p = np.clip(np.asarray(expected, dtype=float), _EPS, None)
    q = np.clip(np.asarray(actual, dtype=float), _EPS, None)
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum((q - p) * np.log(q / p)))


def _numeric_bins(values: np.ndarray, n_bins: int) -> list[float]:
    """Decile edges moved to the midpoint between the distinct values around them.

    An edge on a value would split its ties by float noise: a score that many leads share
    (the usual cold lead) computed once through ``predict`` and once as a sum of SHAP
    values can differ in the last bit and land on either side.
    """
    present = np.sort(values[~np.isnan(values)])  # one sort serves the quantiles and the ties
    if present.size == 0:
        return []
    quantiles = np.unique(np.quantile(present, np.linspace(0, 1, n_bins + 1))[1:-1])
    distinct = present[np.r_[True, present[1:] != present[:-1]]]
    # values a few ulps apart are one value told twice
    apart = np.diff(distinct) > 1e-9 * np.maximum(1.0, np.abs(distinct[1:]))
    distinct = distinct[np.r_[True, apart]]
    above = np.searchsorted(distinct, quantiles, side="right")
    inside = above < distinct.size
    below = distinct[np.maximum(above - 1, 0)]
    edges = (below[inside] + distinct[above[inside]]) / 2.0
    return np.unique(edges).tolist()


def _numeric_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    idx = np.searchsorted(np.asarray(edges), values[~missing], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    counts = np.append(counts, missing.sum())
    return counts / max(values.size, 1)


def _categorical_shares(values: pd.Series, categories: list[str]) -> np.ndarray:
    text = values.astype(object)
    missing = text.isna().to_numpy()
    known = pd.Categorical(text[~missing].astype(str), categories=categories)
    counts = np.bincount(known.codes[known.codes >= 0], minlength=len(categories)).astype(float)
    other = float((known.codes < 0).sum())
    counts = np.append(counts, [other, missing.sum()])
    return counts / max(len(values), 1)


@dataclass(frozen=True)
class DriftProfile:
    """Reference bins and shares per feature and for the score (``"__score__"``)."""

    bins: Mapping[str, dict[str, Any]]

    @classmethod
    def from_training(
        cls, X: pd.DataFrame, scores: np.ndarray, *, n_bins: int = 10
    ) -> DriftProfile:
        bins: dict[str, dict[str, Any]] = {}
        for column in X.columns:
            values = X[column]
            if isinstance(values.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
                values
            ):
                top = values.astype(object).dropna().astype(str).value_counts().index[:30].tolist()
                bins[column] = {
                    "kind": "categorical",
                    "categories": top,
                    "shares": _categorical_shares(values, top).tolist(),
                }
            else:
                arr = values.to_numpy(dtype=float, na_value=np.nan)
                edges = _numeric_bins(arr, n_bins)
                bins[column] = {
                    "kind": "numeric",
                    "edges": edges,
                    "shares": _numeric_shares(arr, edges).tolist(),
                }
        score_edges = _numeric_bins(np.asarray(scores, dtype=float), n_bins)
        bins["__score__"] = {
            "kind": "numeric",
            "edges": score_edges,
            "shares": _numeric_shares(scores, score_edges).tolist(),
        }
        return cls(bins=bins)

    def counts(self, X: pd.DataFrame, scores: np.ndarray) -> dict[str, np.ndarray]:
        """Row counts per reference bin for every profiled feature in ``X`` and the score.

        Counts add up across partitions, so a distributed job sums them and
        compares once.
        """
        out: dict[str, np.ndarray] = {}
        n = len(X)
        for column, ref in self.bins.items():
            if column == "__score__" or column not in X.columns:
                continue
            if ref["kind"] == "categorical":
                shares = _categorical_shares(X[column], ref["categories"])
            else:
                shares = _numeric_shares(
                    X[column].to_numpy(dtype=float, na_value=np.nan), ref["edges"]
                )
            out[column] = np.rint(shares * n)
        score_ref = self.bins["__score__"]
        out["__score__"] = np.rint(
            _numeric_shares(np.asarray(scores, dtype=float), score_ref["edges"]) * n
        )
        return out

    def compare_counts(self, counts: dict[str, np.ndarray]) -> dict[str, Any]:
        """PSI per feature and for the score from (summed) bin counts."""

        def psi(name: str) -> float:
            total = counts[name].sum()
            shares = counts[name] / total if total else counts[name]
            return population_stability_index(self.bins[name]["shares"], shares)

        features = {c: psi(c) for c in sorted(counts) if c != "__score__"}
        flagged = sorted(
            (c for c, v in features.items() if v > DRIFT_WARNING), key=lambda c: -features[c]
        )
        return {
            "threshold": DRIFT_WARNING,
            "score_psi": psi("__score__"),
            "features": features,
            "flagged": flagged,
        }

    def compare(self, X: pd.DataFrame, scores: np.ndarray) -> dict[str, Any]:
        """PSI of every profiled feature present in ``X`` and of the score."""
        return self.compare_counts(self.counts(X, scores))

    def to_dict(self) -> dict[str, Any]:
        return {"bins": dict(self.bins)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftProfile:
        return cls(bins=dict(data["bins"]))
