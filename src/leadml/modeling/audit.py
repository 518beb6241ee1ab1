"""Leakage audit: how well does each feature, on its own, separate converters on the train part?

A field filled in after the outcome (a status tag, the length of the call
that closed the deal) predicts the label almost perfectly offline and is
useless live. The audit computes a single-feature ROC-AUC for every feature
-- ``max(auc, 1 - auc)``, so direction does not matter -- and flags those
above a threshold, plus any column the dataset declares post-outcome.

* numerics: the raw values rank the rows; a missing value is a value of its
  own, placed below or above all others, whichever separates better (the
  audit errs towards flagging);
* categoricals: each category (missing included) is replaced by its
  positive rate on the train part, in sample -- a high-cardinality field
  that memorises the label is exactly what should be flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from leadml.pointintime.split import PARTS

__all__ = ["audit_features", "single_feature_auc"]


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def single_feature_auc(values: pd.Series, y: np.ndarray, *, kind: str) -> float:
    """``max(auc, 1 - auc)`` of one feature against a 0/1 label (see the module docstring)."""
    y = np.asarray(y).astype(np.int8)
    if (
        kind == "categorical"
        or isinstance(values.dtype, pd.CategoricalDtype)
        or not (
            pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)
        )
    ):
        keys = values.astype("object").where(values.notna(), "\x00missing").astype(str)
        rate = pd.Series(y).groupby(keys.to_numpy()).transform("mean").to_numpy(dtype=np.float64)
        auc = _auc(rate, y)
        return max(auc, 1 - auc)
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(x)
    if missing.all():
        return 0.5
    best = 0.0
    finite = x[~missing]
    for fill in (finite.min() - 1.0, finite.max() + 1.0) if missing.any() else (None,):
        score = x if fill is None else np.where(missing, fill, x)
        auc = _auc(score, y)
        best = max(best, auc, 1 - auc)
    return best


def audit_features(
    training_set: Any,
    *,
    threshold: float = 0.85,
    post_outcome: Sequence[str] = (),
    part: str = "train",
    max_rows: int | None = 1_000_000,
    random_state: int = 0,
) -> dict[str, Any]:
    """Single-feature ROC-AUC of every feature on one part; flags and a message per flag.

    Returns a JSON-ready dict: ``threshold``, ``part``, ``n``, ``positives``,
    ``features`` (name, family, group, kind, auc, missing_rate, flagged,
    messages; sorted by AUC, highest first), ``flagged`` (name, auc,
    messages) and ``post_outcome_not_in_features``. Parts larger than
    ``max_rows`` are sampled (seeded) to keep the audit quick.
    """
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; expected one of {list(PARTS)}")
    if not 0.5 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0.5 and 1; got {threshold}")
    X, y = training_set.part(part)
    if max_rows is not None and len(y) > max_rows:
        rows = np.sort(
            np.random.default_rng(random_state).choice(len(y), size=max_rows, replace=False)
        )
        X, y = X.iloc[rows].reset_index(drop=True), y[rows]
    catalogue = training_set.catalogue
    declared = set(post_outcome)
    features = []
    shown = training_set.spec.display_names  # messages name columns as the user wrote them
    for feature in training_set.spec.names:
        info = catalogue.get(feature, None)
        kind = training_set.spec[feature].kind
        auc = single_feature_auc(X[feature], y, kind=kind)
        name = shown[feature]
        messages = []
        if not np.isnan(auc) and auc > threshold:
            messages.append(
                f"{name}: on its own it separates the positives with ROC-AUC {auc:.3f} on the "
                f"{part} part (threshold {threshold:.2f}). A single field this predictive is usually "
                "filled in after the outcome (a status, a call's length, a rep's tag): check when it "
                "is written before letting a model use it."
            )
        if name in declared:
            messages.append(
                f"{name}: declared post-outcome in the dataset config (known only after the outcome); "
                "it must not be a model input."
            )
        features.append(
            {
                "name": name,
                "family": info.family if info else None,
                "group": info.group if info else None,
                "kind": kind,
                "auc": None if np.isnan(auc) else round(float(auc), 4),
                "missing_rate": round(float(X[feature].isna().mean()), 4) if len(X) else None,
                "flagged": bool(messages),
                "messages": messages,
            }
        )
    features.sort(key=lambda f: -(f["auc"] or 0.0))
    flagged = [
        {"name": f["name"], "auc": f["auc"], "messages": f["messages"]}
        for f in features
        if f["flagged"]
    ]
    return {
        "threshold": threshold,
        "part": part,
        "n": int(len(y)),
        "positives": int(np.sum(y)),
        "mode": training_set.summary.get("mode") if hasattr(training_set, "summary") else None,
        "n_features": len(features),
        "n_flagged": len(flagged),
        "flagged": flagged,
        "features": features,
        "post_outcome_not_in_features": sorted(declared - set(shown.values())),
    }
