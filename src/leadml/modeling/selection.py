"""Reason groups the model may keep: those whose information the valid part confirms.

Trees split a little on any feature, even pure noise, and every split a noise feature
gets becomes points in some lead's explanation ("Research surge on our topics −2.3"):
a reason that is not true. Permutation importance tells the two apart out of sample
(Breiman 2001; Fisher, Rudin & Dominici 2019): shuffle one reason group's columns
together across the valid part's rows, so the group says nothing about those rows any
more, and measure how much worse the model predicts them. A group the model truly uses
costs log-loss when shuffled; a group it only overfits to costs nothing, or helps.

:func:`group_permutation_importance` measures it, per group, ``repeats`` shuffles;
:func:`select_groups` keeps the groups whose mean loss increase is above both a floor
(``min_loss_increase``, relative to the valid log-loss) and ``z`` standard errors of its
own shuffles. The valid part is the one early stopping already reads; the test part is
never looked at, so the test metrics stay an honest estimate of the selected model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.features.catalogue import FeatureCatalogue
from leadml.trees.fastpredict import raw_scores

__all__ = ["GroupSelection", "group_permutation_importance", "select_groups"]


def _log_loss_of_margin(y: np.ndarray, margin: np.ndarray) -> float:
    """Mean binary log-loss of raw log-odds ``margin`` (stable for large |margin|)."""
    return float(np.mean(np.logaddexp(0.0, margin) - y * margin))


def group_permutation_importance(
    booster: lgb.Booster,
    X: pd.DataFrame,
    y: np.ndarray,
    catalogue: FeatureCatalogue,
    *,
    repeats: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Per reason group, the log-loss increase when its columns are shuffled together.

    Parameters
    ----------
    booster : lightgbm.Booster
        A binary model of ``X``'s columns.
    X, y : pandas.DataFrame, numpy.ndarray
        Rows the booster did not learn from (the valid part) and their 0/1 labels.
    catalogue : FeatureCatalogue
        The features' groups (every column of ``X`` must be in it).
    repeats : int
        Shuffles per group; each group gets the same ``repeats`` row permutations.
    seed : int
        Seed of the permutations.

    Returns
    -------
    pandas.DataFrame
        One row per group (catalogue order): ``group``, ``features`` (count),
        ``loss_increase`` (mean over the shuffles), ``std`` (their standard deviation),
        ``z`` (mean over its standard error; ``+inf`` or ``-inf`` by the mean's sign when
        every shuffle gave the same loss, e.g. a group the trees never split on: ``-inf``).
    """
    y = np.asarray(y, dtype=np.float64)
    base = _log_loss_of_margin(y, raw_scores(booster, X))
    rng = np.random.default_rng(seed)
    permutations = [rng.permutation(len(X)) for _ in range(repeats)]
    rows = []
    for group in catalogue.groups:
        columns = [c for c in catalogue.group_features(group) if c in X.columns]
        if not columns:
            continue
        shuffled = X.copy(deep=False)
        increases = np.empty(repeats)
        for r, order in enumerate(permutations):
            for column in columns:
                shuffled[column] = X[column].iloc[order].set_axis(X.index)
            increases[r] = _log_loss_of_margin(y, raw_scores(booster, shuffled)) - base
        mean = float(increases.mean())
        std = float(increases.std(ddof=1)) if repeats > 1 else 0.0
        error = std / np.sqrt(repeats)
        rows.append(
            {
                "group": group,
                "features": len(columns),
                "loss_increase": mean,
                "std": std,
                "z": mean / error if error > 0 else (np.inf if mean > 0 else -np.inf),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["valid_log_loss"] = base
    return out


@dataclass(frozen=True)
class GroupSelection:
    """The groups kept and dropped, with the measurements that decided."""

    kept: tuple[str, ...]
    dropped: tuple[str, ...]
    features: tuple[str, ...]
    importance: pd.DataFrame = field(repr=False)
    valid_log_loss: float = 0.0
    floor: float = 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the rule's figures and each dropped group's measurement."""
        table = self.importance.set_index("group")
        return {
            "valid_log_loss": self.valid_log_loss,
            "min_loss_increase": self.floor,
            "kept_groups": len(self.kept),
            "dropped_groups": {
                g: {
                    "loss_increase": float(table.at[g, "loss_increase"]),
                    "z": float(table.at[g, "z"]),
                }
                for g in self.dropped
            },
            "n_features": len(self.features),
        }


def select_groups(
    importance: pd.DataFrame,
    catalogue: FeatureCatalogue,
    *,
    min_relative_increase: float,
    z: float,
    keep: Sequence[str] = (),
) -> GroupSelection:
    """Keep the groups whose shuffles cost more log-loss than the floor and than noise.

    A group is kept when its mean loss increase exceeds ``min_relative_increase`` × the
    valid log-loss and ``z`` standard errors of its shuffles, or when it is listed in
    ``keep``. The features of the kept groups stay in catalogue order.
    """
    base = float(importance.attrs.get("valid_log_loss", np.nan))
    floor = min_relative_increase * base
    confirmed = (importance["loss_increase"] > floor) & (importance["z"] > z)
    kept_set = set(importance.loc[confirmed, "group"]) | set(keep)
    kept = tuple(g for g in catalogue.groups if g in kept_set)
    dropped = tuple(g for g in importance["group"] if g not in kept_set)
    features = tuple(e.name for e in catalogue.entries if e.group in kept_set)
    return GroupSelection(
        kept=kept,
        dropped=dropped,
        features=features,
        importance=importance,
        valid_log_loss=base,
        floor=floor,
    )
