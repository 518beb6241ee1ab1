"""The learned point grid: what the model gives, in points, for each value of each signal.

For every reason group, the rows are binned on the group's main value and the
mean points the model gives the group in each bin become that bin's points.
The result reads like the hand-tuned grid ("pricing visits in 7 days: 0 → −4,
1–2 → +9, 3+ → +22") and its fidelity to the model is measured on the test part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from leadml.features.catalogue import FeatureCatalogue

__all__ = ["LearnedGrid", "bin_values", "learn_grid"]

COUNT_EDGES = (0, 1, 3, 10)


def _is_count(values: pd.Series) -> bool:
    v = values.dropna()
    return (
        bool(len(v)) and bool((v >= 0).all()) and bool((v == np.floor(v)).all()) and v.max() <= 1000
    )


def bin_values(values: pd.Series, *, max_bins: int = 5) -> pd.Series:
    """Readable bin labels for one signal's values: categories as they are, small counts as
    0 / 1–2 / 3–9 / 10+, other numbers by quantile; missing values get their own bin."""
    if (
        isinstance(values.dtype, pd.CategoricalDtype)
        or values.dtype == object
        or pd.api.types.is_string_dtype(values)
    ):
        labels = values.astype(object).where(values.notna(), "missing").astype(str)
        return labels
    numeric = pd.to_numeric(values, errors="coerce").astype(float)
    out = pd.Series("missing", index=values.index, dtype=object)
    present = numeric.notna()
    if not present.any():
        return out
    if _is_count(numeric):
        edges = [e for e in COUNT_EDGES if e <= numeric.max()] + [np.inf]
        labels = []
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            if hi == np.inf:
                labels.append(f"{lo:g}+")
            elif hi - lo == 1:
                labels.append(f"{lo:g}")
            else:
                labels.append(f"{lo:g}–{hi - 1:g}")
        cut = pd.cut(numeric[present], bins=edges, right=False, labels=labels)
    else:
        quantiles = np.unique(np.nanquantile(numeric[present], np.linspace(0, 1, max_bins + 1)))
        if quantiles.size < 2:
            out[present] = f"{quantiles[0]:,.4g}"
            return out
        labels = [
            f"{a:,.4g} – {b:,.4g}" for a, b in zip(quantiles[:-1], quantiles[1:], strict=True)
        ]
        cut = pd.cut(
            numeric[present], bins=quantiles, include_lowest=True, labels=labels, duplicates="drop"
        )
    out[present] = cut.astype(str)
    return out


@dataclass(frozen=True)
class LearnedGrid:
    table: pd.DataFrame  # group, family, feature, bin, n, points
    fidelity: dict[str, float]

    def to_markdown(self, *, hand_grid: pd.DataFrame | None = None) -> str:
        lines = [
            "# Learned point grid",
            "",
            "Mean points the model gives each signal, by value, on the test part.",
            "",
        ]
        lines += ["| family | signal | value | leads | points |", "|---|---|---|---:|---:|"]
        for row in self.table.itertuples(index=False):
            lines.append(
                f"| {row.family} | {row.label} | {row.bin} | {row.n:,} | {row.points:+.1f} |"
            )
        lines += ["", "## Fidelity on the test part", ""]
        for key, value in self.fidelity.items():
            lines.append(f"- {key}: {value:.4f}")
        if hand_grid is not None:
            lines += ["", "## The hand-tuned grid, for comparison", ""]
            lines += ["| rule | points |", "|---|---:|"]
            for row in hand_grid.itertuples(index=False):
                lines.append(f"| {row.rule} | {row.points:+g} |")
        return "\n".join(lines) + "\n"


def learn_grid(
    group_points: pd.DataFrame,
    features: pd.DataFrame,
    catalogue: FeatureCatalogue,
    *,
    model_points: np.ndarray,
    y_true: np.ndarray,
    hand_grid_points: np.ndarray | None = None,
    min_rows: int = 20,
) -> LearnedGrid:
    """Bin each group's main value; a bin's points are the group's mean points there.

    Fidelity: Spearman correlation of "sum of learned grid points" with the
    model's points, and the ROC-AUC of that sum beside the model's (and the
    hand-tuned grid's when given).
    """
    rows = []
    grid_sum = np.zeros(len(features))
    features = features.reset_index(drop=True)
    group_points = group_points.reset_index(drop=True)
    for group in group_points.columns:
        main = catalogue.group_main.get(group)
        if main is None or main not in features.columns:
            members = catalogue.group_features(group)
            main = members[0] if members else None
        if main is None:
            continue
        bins = bin_values(features[main])
        stats = group_points[group].groupby(bins, sort=False).agg(["size", "mean"])
        stats = stats[stats["size"] >= min_rows]
        lookup = stats["mean"].to_dict()
        grid_sum += bins.map(lookup).fillna(0.0).to_numpy(dtype=float)
        for bin_label, (n, mean) in stats.iterrows():
            rows.append(
                {
                    "group": group,
                    "label": catalogue.group_label.get(group, group),
                    "family": catalogue.group_family[group],
                    "feature": main,
                    "bin": bin_label,
                    "n": int(n),
                    "points": float(mean),
                }
            )
    table = pd.DataFrame(
        rows, columns=["group", "label", "family", "feature", "bin", "n", "points"]
    )
    y_true = np.asarray(y_true)
    fidelity = {
        "spearman_with_model": float(spearmanr(grid_sum, model_points).statistic),
        "roc_auc_model": float(roc_auc_score(y_true, model_points)),
        "roc_auc_learned_grid": float(roc_auc_score(y_true, grid_sum)),
    }
    if hand_grid_points is not None:
        fidelity["roc_auc_hand_grid"] = float(roc_auc_score(y_true, hand_grid_points))
    return LearnedGrid(table=table, fidelity=fidelity)
