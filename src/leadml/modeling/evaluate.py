"""Metrics and tables for any scorer: the model, the rule baseline, the champion, the oracle.

Every function takes ``y_true`` (0/1 labels) and ``y_prob`` (probabilities) for
the same rows and returns plain numbers, dicts or DataFrames; nothing is
plotted here (see :mod:`leadml.modeling.plots`) and nothing is mutated.

**Ties.** Rank-based figures (ROC-AUC, gains, lift, precision/recall at K, the
bootstrap) average over ties: when a group of equal scores straddles a
cut-off, each of its rows counts at the group's positive rate. That is the
expected value under random tie-breaking, so a result never depends on row
order, which matters for the point grid whose scores take few distinct
values. ROC-AUC counts a tied positive/negative pair as one half (as
scikit-learn does). The equal-count calibration bins keep tied scores in the
same bin (a bin starts where its first score falls), so bins can be uneven
when scores are heavily tied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numba import njit, prange
from sklearn.metrics import average_precision_score

__all__ = [
    "TIER_ORDER",
    "brier_score",
    "capacity_metrics",
    "compare",
    "conversion_by_segment",
    "conversion_by_tier",
    "cumulative_gains_curve",
    "ece_from_reliability",
    "evaluate_scores",
    "expected_calibration_error",
    "gains_table",
    "lift_top_decile",
    "log_loss",
    "pr_auc",
    "reliability_table",
    "roc_auc",
    "roc_auc_and_lift_intervals",
]

TIER_ORDER: tuple[str, ...] = ("hot", "warm", "cold", "sales", "mql", "nurture")
LOG_LOSS_EPS = 1e-15
# The scalar rows `compare` shows, in reading order.
COMPARED_METRICS: tuple[str, ...] = (
    "n",
    "positives",
    "base_rate",
    "roc_auc",
    "roc_auc_ci_low",
    "roc_auc_ci_high",
    "pr_auc",
    "log_loss",
    "brier",
    "ece",
    "lift_top_decile",
    "lift_top_decile_ci_low",
    "lift_top_decile_ci_high",
    "precision_at_k",
    "recall_at_k",
    "lift_at_k",
)


# --------------------------------------------------------------------------- input checks


def _labels_and_probabilities(y_true: Any, y_prob: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated copies: ``y`` as float 0/1 and ``p`` as float64, both 1-D, both classes present."""
    y_arr = np.asarray(y_true)
    p_arr = np.asarray(y_prob)
    if y_arr.ndim != 1 or p_arr.ndim != 1:
        raise ValueError(
            f"y_true and y_prob must be 1-D arrays; got shapes {y_arr.shape} and {p_arr.shape} "
            "(pass predict_proba(X)[:, 1] for a probability)"
        )
    if y_arr.shape[0] != p_arr.shape[0]:
        raise ValueError(
            f"y_true has {y_arr.shape[0]} rows but y_prob has {p_arr.shape[0]}; "
            "expected one probability per label"
        )
    if y_arr.shape[0] == 0:
        raise ValueError("y_true and y_prob are empty; expected at least one row of each class")
    try:
        y = y_arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        shown = pd.unique(pd.Series(y_arr).astype(str))[:5].tolist()
        raise ValueError(f"y_true must hold 0/1 labels; got values such as {shown}") from exc
    not_binary = ~np.isin(y, (0.0, 1.0))
    if not_binary.any():
        shown = np.unique(y_arr[not_binary])[:5].tolist()
        raise ValueError(
            f"y_true must hold 0/1 labels; got {int(not_binary.sum())} other values, e.g. {shown}"
        )
    positives = int(y.sum())
    if positives in (0, y.size):
        only = int(y[0])
        raise ValueError(
            f"y_true holds only class {only} ({y.size} rows); ROC-AUC, PR-AUC, calibration and lift "
            "need both 0 and 1 labels"
        )
    try:
        p = p_arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y_prob must be numeric probabilities; got dtype {p_arr.dtype}") from exc
    missing = np.isnan(p)
    if missing.any():
        raise ValueError(
            f"y_prob has {int(missing.sum())} NaN values of {p.size}; expected probabilities in [0, 1]"
        )
    outside = (p < 0.0) | (p > 1.0)
    if outside.any():
        raise ValueError(
            f"y_prob must be probabilities in [0, 1]; got {int(outside.sum())} values outside "
            f"(min {p.min():.4g}, max {p.max():.4g}). Pass predict_proba(X)[:, 1], not points or margins"
        )
    return y, p


def _segment_values(values: Any, *, name: str, n: int) -> np.ndarray:
    """A categorical array as strings, missing values as ``"missing"``."""
    values = np.asarray(values, dtype=object)
    if len(values) != n:
        raise ValueError(
            f"segment {name!r} has {len(values)} values but y_true has {n}; expected one per row"
        )
    # factorise first: str() once per distinct value, not once per row
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = np.array([str(u) for u in uniques] + ["missing"], dtype=object)
    return labels[codes]  # code -1 (missing) picks the last label


def _k_for_capacity(capacity: float | int, n: int) -> int:
    """Top-K size: an int is a count of leads, a float in (0, 1] a share of them (rounded half up)."""
    if isinstance(capacity, bool) or not isinstance(
        capacity, (int, float, np.integer, np.floating)
    ):
        raise ValueError(
            f"capacity must be a share in (0, 1] or a count of leads >= 1; got {capacity!r}"
        )
    if isinstance(capacity, (int, np.integer)):
        if not 1 <= capacity <= n:
            raise ValueError(
                f"capacity={capacity} leads; expected a count between 1 and the {n} rows scored"
            )
        return int(capacity)
    if not 0.0 < capacity <= 1.0:
        raise ValueError(
            f"capacity={capacity}; expected a share in (0, 1] (e.g. 0.1 for the top 10 %) or an int count"
        )
    return max(1, math.floor(capacity * n + 0.5))


# --------------------------------------------------------------------------- rank machinery


@dataclass(frozen=True)
class _Ranking:
    """Rows grouped by equal score, groups in descending score order."""

    scores: np.ndarray  # the distinct scores, descending
    group: np.ndarray  # each row's group index
    counts: np.ndarray  # rows per group
    positives: np.ndarray  # positives per group

    @classmethod
    def of(cls, y: np.ndarray, p: np.ndarray) -> _Ranking:
        negated, group = np.unique(-p, return_inverse=True)
        size = negated.size
        return cls(
            scores=-negated,
            group=group,
            counts=np.bincount(group, minlength=size).astype(np.float64),
            positives=np.bincount(group, weights=y, minlength=size),
        )


def _positives_in_top(counts: np.ndarray, positives: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Expected positives among the top ``k`` rows, a tie group straddling ``k`` counted pro rata."""
    k = np.asarray(k, dtype=np.float64)
    cum_n = np.cumsum(counts)
    cum_pos = np.cumsum(positives)
    j = np.minimum(np.searchsorted(cum_n, k, side="left"), counts.size - 1)
    before_n = np.where(j > 0, cum_n[j - 1], 0.0)
    before_pos = np.where(j > 0, cum_pos[j - 1], 0.0)
    rate = np.divide(positives[j], counts[j], out=np.zeros_like(k), where=counts[j] > 0)
    return np.where(k > 0, before_pos + (k - before_n) * rate, 0.0)


def _auc_from_groups(counts: np.ndarray, positives: np.ndarray) -> float:
    negatives = counts - positives
    total_pos, total_neg = positives.sum(), negatives.sum()
    if total_pos == 0 or total_neg == 0:
        return float("nan")
    negatives_below = total_neg - np.cumsum(negatives)
    return float(np.sum(positives * (negatives_below + 0.5 * negatives)) / (total_pos * total_neg))


def _decile_bounds(n: int) -> np.ndarray:
    """Row counts at the decile cut-offs 0 … n (rounded half up)."""
    return np.floor(np.arange(11) * n / 10 + 0.5).astype(np.int64)


def _lift_top_from_groups(counts: np.ndarray, positives: np.ndarray, k: int) -> float:
    n, total_pos = counts.sum(), positives.sum()
    if total_pos == 0 or k == 0:
        return float("nan")
    top = _positives_in_top(counts, positives, np.array([k]))[0]
    return float((top / k) / (total_pos / n))


# --------------------------------------------------------------------------- scalar metrics


def roc_auc(y_true: Any, y_prob: Any) -> float:
    """Area under the ROC curve; a tied positive/negative pair counts one half."""
    y, p = _labels_and_probabilities(y_true, y_prob)
    r = _Ranking.of(y, p)
    return _auc_from_groups(r.counts, r.positives)


def pr_auc(y_true: Any, y_prob: Any) -> float:
    """Average precision (scikit-learn's step-wise area under the precision-recall curve)."""
    y, p = _labels_and_probabilities(y_true, y_prob)
    return float(average_precision_score(y, p))


def log_loss(y_true: Any, y_prob: Any) -> float:
    """Mean negative log-likelihood, probabilities clipped to [1e-15, 1 − 1e-15]."""
    y, p = _labels_and_probabilities(y_true, y_prob)
    p = np.clip(p, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def brier_score(y_true: Any, y_prob: Any) -> float:
    """Mean squared difference between probability and outcome."""
    y, p = _labels_and_probabilities(y_true, y_prob)
    return float(np.mean((p - y) ** 2))


def lift_top_decile(y_true: Any, y_prob: Any) -> float:
    """Conversion rate of the top 10 % of scores over the overall rate."""
    y, p = _labels_and_probabilities(y_true, y_prob)
    r = _Ranking.of(y, p)
    return _lift_top_from_groups(r.counts, r.positives, int(_decile_bounds(y.size)[1]))


# --------------------------------------------------------------------------- calibration


def reliability_table(y_true: Any, y_prob: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Equal-count bins of the probability: ``bin, n, mean_predicted, observed_rate, prob_min, prob_max``.

    Tied probabilities stay in one bin, so heavily tied scores give fewer,
    uneven bins (a constant score gives one bin).
    """
    if n_bins < 1:
        raise ValueError(f"n_bins={n_bins}; expected at least 1")
    y, p = _labels_and_probabilities(y_true, y_prob)
    r = _Ranking.of(y, p)
    # ascending order: a group occupies rows [n - cum_n, n - cum_n + count)
    n = y.size
    start = n - np.cumsum(r.counts)
    bin_of_group = np.floor(start * n_bins / n).astype(np.int64)
    frame = pd.DataFrame(
        {
            "bin": bin_of_group,
            "n": r.counts,
            "sum_p": r.scores * r.counts,
            "positives": r.positives,
            "prob": r.scores,
        }
    )
    table = frame.groupby("bin", sort=True).agg(
        n=("n", "sum"),
        sum_p=("sum_p", "sum"),
        positives=("positives", "sum"),
        prob_min=("prob", "min"),
        prob_max=("prob", "max"),
    )
    return pd.DataFrame(
        {
            "bin": np.arange(1, len(table) + 1),
            "n": table["n"].to_numpy(dtype=np.int64),
            "mean_predicted": (table["sum_p"] / table["n"]).to_numpy(),
            "observed_rate": (table["positives"] / table["n"]).to_numpy(),
            "prob_min": table["prob_min"].to_numpy(),
            "prob_max": table["prob_max"].to_numpy(),
        }
    )


def ece_from_reliability(table: pd.DataFrame) -> float:
    """Σ over the bins of a reliability table of (bin share) · |mean predicted − observed rate|."""
    weights = table["n"] / table["n"].sum()
    return float(np.sum(weights * (table["mean_predicted"] - table["observed_rate"]).abs()))


def expected_calibration_error(y_true: Any, y_prob: Any, *, n_bins: int = 10) -> float:
    """Expected calibration error over ``n_bins`` equal-count bins (see :func:`reliability_table`)."""
    return ece_from_reliability(reliability_table(y_true, y_prob, n_bins=n_bins))


# --------------------------------------------------------------------------- ranking tables


def gains_table(y_true: Any, y_prob: Any) -> pd.DataFrame:
    """Cumulative gains and lift by decile of descending score.

    Columns: ``decile`` (1 = highest scores), ``n``, ``positives`` (expected
    count, fractional when a tie group straddles a cut-off), ``rate``,
    ``cumulative_share_of_positives``, ``lift`` (decile rate / overall rate),
    ``cumulative_lift``, ``score_min``, ``score_max``.
    """
    y, p = _labels_and_probabilities(y_true, y_prob)
    r = _Ranking.of(y, p)
    bounds = _decile_bounds(y.size)
    cum_pos = _positives_in_top(r.counts, r.positives, bounds)
    total_pos, base_rate = y.sum(), y.mean()
    sizes = np.diff(bounds)
    positives = np.diff(cum_pos)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(sizes > 0, positives / sizes, np.nan)
        cumulative_rate = np.where(bounds[1:] > 0, cum_pos[1:] / bounds[1:], np.nan)
    descending = np.sort(p)[::-1]
    score_max = [
        float(descending[a]) if b > a else np.nan
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    score_min = [
        float(descending[b - 1]) if b > a else np.nan
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return pd.DataFrame(
        {
            "decile": np.arange(1, 11),
            "n": sizes,
            "positives": positives,
            "rate": rate,
            "cumulative_share_of_positives": cum_pos[1:] / total_pos,
            "lift": rate / base_rate,
            "cumulative_lift": cumulative_rate / base_rate,
            "score_min": score_min,
            "score_max": score_max,
        }
    )


def cumulative_gains_curve(y_true: Any, y_prob: Any) -> pd.DataFrame:
    """The gains curve at every tie-group boundary: ``share_of_leads, share_of_positives``.

    Linear between points, which is exactly the tie-averaged curve; starts at (0, 0).
    """
    y, p = _labels_and_probabilities(y_true, y_prob)
    r = _Ranking.of(y, p)
    return pd.DataFrame(
        {
            "share_of_leads": np.concatenate([[0.0], np.cumsum(r.counts) / y.size]),
            "share_of_positives": np.concatenate([[0.0], np.cumsum(r.positives) / y.sum()]),
        }
    )


def capacity_metrics(y_true: Any, y_prob: Any, capacity: float | int) -> dict[str, float]:
    """Precision, recall and lift when sales can work only the top K leads.

    ``capacity`` is a share in (0, 1] (``0.1`` = top 10 %) or an int count of leads.
    Returns ``{"k", "precision_at_k", "recall_at_k", "lift_at_k"}``.

    >>> capacity_metrics([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], 2)["precision_at_k"]
    0.5
    """
    y, p = _labels_and_probabilities(y_true, y_prob)
    k = _k_for_capacity(capacity, y.size)
    r = _Ranking.of(y, p)
    top = float(_positives_in_top(r.counts, r.positives, np.array([k]))[0])
    precision = top / k
    return {
        "k": k,
        "precision_at_k": precision,
        "recall_at_k": top / y.sum(),
        "lift_at_k": precision / y.mean(),
    }


# --------------------------------------------------------------------------- conversion tables


def _conversion_rows(
    y: np.ndarray, p: np.ndarray, labels: np.ndarray, order: list[str], column: str
) -> pd.DataFrame:
    codes, uniques = pd.factorize(labels)
    position = {value: i for i, value in enumerate(uniques)}
    at = np.array([position.get(value, -1) for value in order], dtype=np.int64)
    width = len(uniques)

    def per_label(weights: np.ndarray | None) -> np.ndarray:
        sums = np.bincount(codes, weights=weights, minlength=width).astype(np.float64)
        return np.where(at >= 0, sums[np.maximum(at, 0)], 0.0) if width else np.zeros(len(at))

    n = per_label(None).astype(np.int64)
    positives = per_label(y.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, positives / n, np.nan)
        mean_predicted = np.where(n > 0, per_label(p) / n, np.nan)
    return pd.DataFrame(
        {
            column: order,
            "n": n,
            "share": n / y.size,
            "positives": positives.astype(np.int64),
            "rate": rate,
            "mean_predicted": mean_predicted,
        }
    )


def conversion_by_tier(
    y_true: Any,
    y_prob: Any,
    *,
    thresholds: tuple[float, float] | None = None,
    tiers: Any = None,
) -> pd.DataFrame:
    """Conversion by tier: ``tier, n, share, positives, rate, mean_predicted``.

    Either ``thresholds=(hot, warm)`` on the probability (hot if p ≥ hot, warm
    if p ≥ warm, else cold; every tier listed, empty ones with n = 0), or
    ``tiers``, one label per row (e.g. the point grid's nurture / mql / sales).
    """
    y, p = _labels_and_probabilities(y_true, y_prob)
    if (thresholds is None) == (tiers is None):
        raise ValueError(
            "give either thresholds=(hot, warm) or tiers (one label per row), not both or neither"
        )
    if thresholds is not None:
        hot, warm = _tier_thresholds(thresholds)
        labels = np.where(p >= hot, "hot", np.where(p >= warm, "warm", "cold")).astype(object)
        order = ["hot", "warm", "cold"]
    else:
        labels = _segment_values(tiers, name="tiers", n=y.size)
        present = pd.unique(labels).tolist()
        known = [t for t in TIER_ORDER if t in present]
        order = known + sorted(t for t in present if t not in known)
    return _conversion_rows(y, p, labels, order, "tier")


def _tier_thresholds(thresholds: Any) -> tuple[float, float]:
    try:
        hot, warm = (float(t) for t in thresholds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"tier thresholds must be a pair (hot, warm); got {thresholds!r}") from exc
    if not 0.0 <= warm <= hot <= 1.0:
        raise ValueError(
            f"tier thresholds must satisfy 0 <= warm <= hot <= 1; got hot={hot}, warm={warm}"
        )
    return hot, warm


def conversion_by_segment(
    y_true: Any, y_prob: Any, segment: Any, *, name: str = "segment"
) -> pd.DataFrame:
    """Conversion by value of any categorical array: ``segment, n, share, positives, rate, mean_predicted``.

    Missing values form a ``"missing"`` segment; rows are ordered by n, largest first.
    """
    y, p = _labels_and_probabilities(y_true, y_prob)
    labels = _segment_values(segment, name=name, n=y.size)
    counts = pd.Series(labels).value_counts(sort=False)
    order = sorted(counts.index, key=lambda v: (-counts[v], v))
    return _conversion_rows(y, p, labels, order, "segment")


# --------------------------------------------------------------------------- bootstrap


@njit(cache=True, parallel=True)
def _bootstrap_auc_and_lift(
    group: np.ndarray, y: np.ndarray, n_groups: int, k: int, seeds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ROC-AUC and top-k lift of each bootstrap draw (rows resampled with replacement).

    The same sums as ``_auc_from_groups`` and ``_lift_top_from_groups`` over the group
    counts of each draw; draws run in parallel, each from its own seed.
    """
    n = group.size
    n_boot = seeds.size
    aucs = np.full(n_boot, np.nan)
    lifts = np.full(n_boot, np.nan)
    for b in prange(n_boot):
        state = np.uint64(seeds[b])
        counts = np.zeros(n_groups)
        positives = np.zeros(n_groups)
        for _ in range(n):
            # splitmix64, then a row in [0, n) by multiply-shift of its high 32 bits: each row
            # is drawn with probability 1/n within a relative n / 2**32 (6e-5 at 250k rows)
            state += np.uint64(0x9E3779B97F4A7C15)
            z = state
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            i = np.int64(((z >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))
            counts[group[i]] += 1.0
            positives[group[i]] += y[i]
        total_pos = positives.sum()
        total_neg = n - total_pos
        if total_pos == 0.0 or total_neg == 0.0:
            continue
        area = 0.0
        negatives_so_far = 0.0
        for g in range(n_groups):  # groups in descending score order
            negatives = counts[g] - positives[g]
            negatives_so_far += negatives
            area += positives[g] * (total_neg - negatives_so_far + 0.5 * negatives)
        aucs[b] = area / (total_pos * total_neg)
        if k > 0:
            rows_before = 0.0
            positives_before = 0.0
            top = 0.0
            for g in range(n_groups):
                if rows_before + counts[g] >= k:  # the group holding the k-th row, pro rata
                    rate = positives[g] / counts[g] if counts[g] > 0 else 0.0
                    top = positives_before + (k - rows_before) * rate
                    break
                rows_before += counts[g]
                positives_before += positives[g]
            lifts[b] = (top / k) / (total_pos / n)
    return aucs, lifts


def roc_auc_and_lift_intervals(
    y_true: Any,
    y_prob: Any,
    *,
    n_boot: int = 200,
    level: float = 0.95,
    random_state: int = 0,
) -> dict[str, Any]:
    """Percentile bootstrap intervals for ROC-AUC and top-decile lift, rows resampled with replacement.

    Draws with a single class are skipped (``n_valid`` says how many were kept);
    ``n_boot=0`` skips the bootstrap and gives ``[None, None]`` intervals.
    The same ``random_state`` and row count give the same draws, so scorers
    evaluated on the same rows share their resamples (a paired comparison).
    Returns ``{"roc_auc_ci": [lo, hi], "lift_top_decile_ci": [lo, hi], "n_boot", "n_valid", "level"}``.
    """
    if n_boot < 0:
        raise ValueError(
            f"n_boot={n_boot}; expected a number of bootstrap draws >= 0 (0 skips the intervals)"
        )
    if not 0.0 < level < 1.0:
        raise ValueError(f"level={level}; expected a confidence level in (0, 1), e.g. 0.95")
    y, p = _labels_and_probabilities(y_true, y_prob)
    r = _Ranking.of(y, p)
    n = y.size
    k = int(_decile_bounds(n)[1])
    # draw b is seeded by (random_state, b) alone: the same for every scorer on these rows
    seeds = np.random.SeedSequence(random_state).generate_state(max(n_boot, 1))[:n_boot]
    aucs, lifts = _bootstrap_auc_and_lift(
        r.group.astype(np.int64), y.astype(np.float64), r.scores.size, k, seeds.astype(np.int64)
    )
    valid = ~np.isnan(aucs)
    tail = (1.0 - level) / 2.0

    def interval(values: np.ndarray) -> list[float | None]:
        if not valid.any():
            return [None, None]
        lo, hi = np.quantile(values[valid], [tail, 1.0 - tail])
        return [float(lo), float(hi)]

    return {
        "roc_auc_ci": interval(aucs),
        "lift_top_decile_ci": interval(lifts),
        "n_boot": int(n_boot),
        "n_valid": int(valid.sum()),
        "level": float(level),
    }


# --------------------------------------------------------------------------- the report


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: Python scalars, NaN as None."""
    rows = []
    for row in frame.to_dict(orient="records"):
        rows.append({key: _plain(value) for key, value in row.items()})
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def evaluate_scores(
    y_true: Any,
    y_prob: Any,
    *,
    segments: Mapping[str, Any] | None = None,
    capacity: float | int = 0.1,
    tier_thresholds: tuple[float, float] | None = None,
    tiers: Any = None,
    n_boot: int = 200,
    random_state: int = 0,
) -> dict[str, Any]:
    """Every metric and table for one scorer on one set of rows, as a JSON-serialisable dict.

    Keys: ``n, positives, base_rate, roc_auc, roc_auc_ci, pr_auc, log_loss,
    brier, ece, lift_top_decile, lift_top_decile_ci, capacity, k,
    precision_at_k, recall_at_k, lift_at_k, reliability, gains, by_tier,
    by_segment, bootstrap``. ``by_tier`` uses ``tier_thresholds=(hot, warm)``
    on the probability or ``tiers`` (labels per row); it is ``[]`` when neither
    is given. ``by_segment`` maps each segment name to its rows. Call it with
    the same rows and ``random_state`` for every scorer being compared.
    """
    y, p = _labels_and_probabilities(y_true, y_prob)
    if tier_thresholds is not None and tiers is not None:
        raise ValueError("give tier_thresholds=(hot, warm) or tiers (one label per row), not both")
    reliability = reliability_table(y, p)
    gains = gains_table(y, p)
    at_k = capacity_metrics(y, p, capacity)
    intervals = roc_auc_and_lift_intervals(y, p, n_boot=n_boot, random_state=random_state)
    if tier_thresholds is not None:
        by_tier = _records(conversion_by_tier(y, p, thresholds=tier_thresholds))
    elif tiers is not None:
        by_tier = _records(conversion_by_tier(y, p, tiers=tiers))
    else:
        by_tier = []
    by_segment = {
        name: _records(conversion_by_segment(y, p, values, name=name))
        for name, values in (segments or {}).items()
    }
    return {
        "n": int(y.size),
        "positives": int(y.sum()),
        "base_rate": float(y.mean()),
        "roc_auc": roc_auc(y, p),
        "roc_auc_ci": intervals["roc_auc_ci"],
        "pr_auc": pr_auc(y, p),
        "log_loss": log_loss(y, p),
        "brier": brier_score(y, p),
        "ece": ece_from_reliability(reliability),
        "lift_top_decile": _plain(float(gains["lift"].iloc[0])),
        "lift_top_decile_ci": intervals["lift_top_decile_ci"],
        "capacity": _plain(capacity),
        "k": at_k["k"],
        "precision_at_k": at_k["precision_at_k"],
        "recall_at_k": at_k["recall_at_k"],
        "lift_at_k": at_k["lift_at_k"],
        "reliability": _records(reliability),
        "gains": _records(gains),
        "by_tier": by_tier,
        "by_segment": by_segment,
        "bootstrap": {k: intervals[k] for k in ("n_boot", "n_valid", "level")}
        | {"random_state": int(random_state)},
    }


def compare(reports: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Scorers side by side: one row per scalar metric, one column per scorer (NaN when absent).

    Intervals appear as ``<metric>_ci_low`` / ``<metric>_ci_high`` rows.
    """
    columns = {}
    for name, report in reports.items():
        values: dict[str, Any] = dict(report)
        for metric in ("roc_auc", "lift_top_decile"):
            ci = values.get(f"{metric}_ci") or [None, None]
            values[f"{metric}_ci_low"], values[f"{metric}_ci_high"] = ci
        columns[name] = [
            np.nan if values.get(m) is None else float(values[m]) for m in COMPARED_METRICS
        ]
    return pd.DataFrame(columns, index=pd.Index(COMPARED_METRICS, name="metric"))
