"""Per-lead explanations: exact TreeSHAP in points, grouped into plain-words reasons.

Contributions come from the booster's exact path-dependent TreeSHAP (the fast
explainer of :mod:`leadml.trees.fastshap`, equal to ``pred_contrib``), are scaled by
the Platt slope (additive in calibrated log-odds) and then to points. A lead's
base points plus the sum of its feature points equals its points; groups and
families are sums of their features' points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.explain.reasons import canonical_event_columns, numbers, render_reason
from leadml.features.catalogue import FeatureCatalogue
from leadml.modeling.calibration import PlattCalibration, PointsScale, sigmoid
from leadml.trees.fastshap import feature_names, tree_contributions
from leadml.vocabulary import FAMILIES

__all__ = [
    "Explanation",
    "contributions",
    "explain_rows",
    "format_reasons",
    "MIN_REASON_POINTS",
    "canonical_reason_values",
]

# Groups below this many points are not worth a rep's attention as a reason.
MIN_REASON_POINTS = 1.0


@dataclass(frozen=True)
class Explanation:
    """Scores and their exact decomposition, in points, for a batch of rows."""

    probability: np.ndarray
    log_odds: np.ndarray
    points: np.ndarray
    base_points: float
    group_points: pd.DataFrame
    family_points: pd.DataFrame
    feature_points: pd.DataFrame | None = field(default=None, repr=False)


def contributions(
    booster: lgb.Booster, X: pd.DataFrame, *, chunk_size: int = 100_000
) -> np.ndarray:
    """Exact TreeSHAP of the raw margin: (n, n_features + 1), bias last (``pred_contrib`` layout)."""
    return tree_contributions(booster, X, chunk_size=chunk_size)


def explain_rows(
    booster: lgb.Booster,
    X: pd.DataFrame,
    *,
    calibration: PlattCalibration,
    scale: PointsScale,
    catalogue: FeatureCatalogue,
    chunk_size: int = 100_000,
    keep_feature_points: bool = False,
) -> Explanation:
    """Explain ``X`` (already in the model's matrix form) chunk by chunk.

    Memory is bounded by ``chunk_size`` rows of contributions; only group and
    family points (a few dozen columns) are kept for all rows.
    """
    features = feature_names(booster)
    if features != tuple(catalogue.features):
        raise ValueError(
            "model features and reason catalogue differ: "
            f"only in model {sorted(set(features) - set(catalogue.features))}, "
            f"only in catalogue {sorted(set(catalogue.features) - set(features))}"
        )
    groups = catalogue.groups
    to_group = catalogue.membership(groups, of="group")
    to_family = catalogue.membership(FAMILIES, of="family")
    per_log_odds = scale.points_per_log_odds * calibration.slope
    n = len(X)
    margin = np.empty(n)
    group_points = np.empty((n, len(groups)))
    family_points = np.empty((n, len(FAMILIES)))
    feature_points = np.empty((n, len(features))) if keep_feature_points else None
    bias = 0.0
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        contrib = contributions(booster, X.iloc[start:stop], chunk_size=chunk_size)
        margin[start:stop] = contrib.sum(axis=1)
        bias = float(contrib[0, -1])
        points = contrib[:, :-1] * per_log_odds
        group_points[start:stop] = _sum_members(points, to_group)
        family_points[start:stop] = _sum_members(points, to_family)
        if feature_points is not None:
            feature_points[start:stop] = points
    log_odds = calibration.log_odds(margin)
    if n == 0:
        bias = (scale.reference_log_odds - calibration.intercept) / calibration.slope
    base_points = float(scale.points(np.array([calibration.log_odds(np.array([bias]))[0]]))[0])
    return Explanation(
        probability=sigmoid(log_odds),
        log_odds=log_odds,
        points=scale.points(log_odds),
        base_points=base_points,
        group_points=pd.DataFrame(group_points, columns=list(groups), index=X.index),
        family_points=pd.DataFrame(family_points, columns=list(FAMILIES), index=X.index),
        feature_points=(
            None
            if feature_points is None
            else pd.DataFrame(feature_points, columns=list(features), index=X.index)
        ),
    )


def _first_touch(hours: np.ndarray) -> np.ndarray:
    days = np.floor(hours / 24.0) * 24.0 + 0.5  # > 72 h reads as whole days
    out = np.where(
        hours < 0, -1.0, np.where(hours < 1, 0.5, np.where(hours <= 72, np.round(hours), days))
    )
    return np.where(np.isnan(hours), np.nan, out)


def canonical_reason_values(values: pd.DataFrame, group: str | None = None) -> pd.DataFrame:
    """Round a group's values to the precision its sentence shows, so that leads whose
    sentences are equal share one rendering (days are told in whole days, a trend as
    rising / flat / falling…). ``tests/test_explain.py`` checks the sentences agree."""
    columns = _canonical_columns({c: values[c] for c in values.columns}, group, len(values))
    return pd.DataFrame(columns, index=values.index)


def _canonical_columns(
    values: dict[str, pd.Series], group: str | None, n: int
) -> dict[str, pd.Series | np.ndarray]:
    """:func:`canonical_reason_values` on ``n`` rows held as columns (name -> values)."""
    out: dict[str, pd.Series | np.ndarray] = {}
    for column, v in values.items():
        if column.startswith("days_since_") or column == "lead_age_days":
            out[column] = np.floor(numbers(v))
        elif column == "hours_to_first_touch":
            out[column] = _first_touch(numbers(v))
        elif column == "engagement_decayed":
            x = numbers(v)
            out[column] = np.where(np.isnan(x), np.nan, (x != 0).astype(float))
        elif column == "engagement_trend":
            x = numbers(v)
            out[column] = np.where(
                np.isnan(x), np.nan, np.where(x > 0.5, 1.0, np.where(x < -0.5, -1.0, 0.0))
            )
        else:
            out[column] = v
    return out if group is None else canonical_event_columns(group, out, n)


def _top_groups(
    points: np.ndarray, k: int, expected: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Column indices of the k most positive and k most negative groups per row (-1 if none).

    ``expected`` (same shape, +1 / -1 / 0) is the sign each group's reason must have
    (:meth:`FeatureCatalogue.expected_signs`): a group whose points contradict it is never
    shown; its points stay in "other factors".
    """
    if expected is not None:
        points = np.where(np.sign(points) * expected < 0, 0.0, points)
    n, g = points.shape
    k = min(k, g)
    order = np.argsort(-points, axis=1, kind="stable")
    pos = order[:, :k]
    pos = np.where(np.take_along_axis(points, pos, axis=1) >= MIN_REASON_POINTS, pos, -1)
    neg = order[:, ::-1][:, :k]
    neg = np.where(np.take_along_axis(points, neg, axis=1) <= -MIN_REASON_POINTS, neg, -1)
    return pos, neg


def _sum_members(points: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """``points @ membership`` for a 0/1 membership matrix, summed row by row.

    A matrix product's rounding depends on how many rows it is given (BLAS
    blocks them), so a lead's points would change in the last bit with the
    batch it was scored in; a per-row sum does not.
    """
    out = np.zeros((len(points), membership.shape[1]))
    for j in range(membership.shape[1]):
        members = np.flatnonzero(membership[:, j])
        if len(members):
            out[:, j] = points[:, members].sum(axis=1)
    return out


# Up to this many rows a group's values are rendered row by row, without hashing them
# first (equal values render equal sentences, so the texts are the same either way).
RENDER_EACH_ROW = 32


def _distinct_records(
    columns: dict[str, pd.Series | np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Rows of ``columns`` to render: (first row of each, row -> its index, their values).

    Many rows are hashed so that each distinct combination of values is rendered once (a
    million cold leads cost a handful of renderings); a few rows are each their own.
    """
    if not columns:
        return np.zeros(1, dtype=int), np.zeros(n, dtype=int), [{}]
    if n <= RENDER_EACH_ROW and all(
        isinstance(v.dtype, np.dtype | pd.CategoricalDtype) for v in columns.values()
    ):
        # (as to_dict reads them: Python scalars; nullable dtypes' NA go through the frame)
        names = list(columns)
        lists = [v.tolist() for v in columns.values()]
        records = [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
        return np.arange(n), np.arange(n), records
    frame = pd.DataFrame(columns)  # (only the values matter, not the rows' index)
    keys = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse, frame.iloc[first].to_dict(orient="records")


def _rows_of(values: pd.Series, rows: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """``values.iloc[rows]``'s values, without building a Series (~0.1 ms a column)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        return values.to_numpy()[rows]
    return values.array[rows]


def format_reasons(
    explanation: Explanation,
    features: pd.DataFrame,
    catalogue: FeatureCatalogue,
    *,
    k: int = 3,
) -> tuple[list[str], np.ndarray]:
    """Top-k positive then top-k negative reasons per row as JSON, and the points left over.

    Groups under ``MIN_REASON_POINTS`` and groups whose sign contradicts a declared
    direction (see :meth:`FeatureCatalogue.expected_signs`) are not shown.

    Each reason is ``{"group", "family", "text", "text_fr", "points"}``;
    ``base_points + Σ reasons.points + other_points == points`` for every row.
    Texts are rendered once per distinct value combination of a group, so a
    million cold leads cost a handful of renderings.
    """
    points = explanation.group_points.to_numpy()
    groups = explanation.group_points.columns.tolist()
    values_frame = features.reset_index(drop=True)
    present = set(values_frame.columns.tolist())
    expected = None
    if tuple(groups) == catalogue.groups:
        expected = catalogue.expected_signs(values_frame)
    pos, neg = _top_groups(points, k, expected)
    chosen = np.concatenate([pos, neg], axis=1)
    texts = np.full(chosen.shape, None, dtype=object)
    for gi, group in enumerate(groups):
        rows, slots = np.nonzero(chosen == gi)
        if rows.size == 0:
            continue
        cols = [c for c in catalogue.group_features(group) if c in present]
        canonical = _canonical_columns(
            {c: _rows_of(values_frame[c], rows) for c in cols}, group, rows.size
        )
        first, inverse, records = _distinct_records(canonical, rows.size)
        # each distinct sentence pair is rendered and JSON-encoded once
        rendered = np.empty(len(records), dtype=object)
        for u, values in enumerate(records):
            p = float(points[rows[first[u]], gi])
            en = json.dumps(render_reason(catalogue, group, values, "en", p), ensure_ascii=False)
            fr = json.dumps(render_reason(catalogue, group, values, "fr", p), ensure_ascii=False)
            rendered[u] = f'"text": {en}, "text_fr": {fr}, "points": '
        texts[rows, slots] = rendered[inverse]

    shown = np.where(chosen >= 0, np.take_along_axis(points, np.maximum(chosen, 0), axis=1), 0.0)
    other = explanation.points - explanation.base_points - shown.sum(axis=1)
    # The JSON is assembled from pre-encoded pieces (json.dumps of a float is its repr):
    # byte for byte what json.dumps(list_of_dicts, ensure_ascii=False) gives.
    heads = [
        f'{{"group": {json.dumps(g, ensure_ascii=False)}, '
        f'"family": {json.dumps(catalogue.group_family[g], ensure_ascii=False)}, '
        for g in groups
    ]
    chosen_points = shown.tolist()
    out: list[str] = []
    for i, row in enumerate(chosen.tolist()):
        texts_i, points_i = texts[i], chosen_points[i]
        items = [f"{heads[gi]}{texts_i[j]}{points_i[j]!r}}}" for j, gi in enumerate(row) if gi >= 0]
        out.append(f"[{', '.join(items)}]")
    return out, other
