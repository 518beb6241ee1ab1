"""raw_scores must return LightGBM's raw predictions bit for bit (same doubles, same order)."""

from __future__ import annotations

import re

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from test_fastshap import (
    _missing_types,
    _numeric_data,
    _rows_on_thresholds,
    _train,
    categorical_numpy_model,
    pandas_category_model,
)

from leadml.trees._treeshap import K_ZERO_THRESHOLD
from leadml.trees.fastpredict import FastTreePredictor, raw_scores
from leadml.trees.fastshap import FastTreeExplainer, built_for


def _assert_same(booster: lgb.Booster, X: pd.DataFrame | np.ndarray) -> None:
    expected = booster.predict(X, raw_score=True)
    got = FastTreePredictor.from_booster(booster).raw_scores(X, chunk_size=97)
    assert got.dtype == np.float64 and got.shape == expected.shape
    mismatched = np.flatnonzero(got != expected)
    assert mismatched.size == 0, f"{mismatched.size} rows differ, e.g. {mismatched[:5]}"


@pytest.mark.parametrize(
    ("objective", "max_depth", "num_leaves", "params"),
    [
        ("regression", 2, 4, {}),
        ("binary", 6, 31, {}),
        ("binary", -1, 64, {}),
        ("regression", 12, 63, {"zero_as_missing": True}),
        ("binary", -1, 31, {"use_missing": False}),
    ],
)
def test_numeric_models_score_exactly_like_lightgbm(objective, max_depth, num_leaves, params):
    X, logit = _numeric_data(3000, 8, seed=num_leaves, nan_rate=0.05, zero_rate=0.4)
    y = logit if objective == "regression" else (logit > 0).astype(float)
    booster = _train(
        X,
        y,
        {"objective": objective, "max_depth": max_depth, "num_leaves": num_leaves, **params},
        40,
    )
    edge = _rows_on_thresholds(booster, X, seed=1)
    edge[10:20] = K_ZERO_THRESHOLD * np.array([1, -1, 0.5, -0.5, 2, -2, 1, -1, 1, -1])[:, None]
    _assert_same(booster, np.vstack([X, edge]))


def test_zero_as_missing_sends_zero_and_tiny_values_to_the_default_side():
    X, logit = _numeric_data(3000, 6, seed=7, nan_rate=0.05, zero_rate=0.5)
    booster = _train(
        X, logit, {"objective": "regression", "num_leaves": 31, "zero_as_missing": True}, 25
    )
    assert "Zero" in set(_missing_types(booster))
    rows = X[:200].copy()
    rows[:50] = np.where(rows[:50] == 0.0, 1e-40, rows[:50])
    rows[50:100] = np.where(rows[50:100] == 0.0, -0.0, rows[50:100])
    _assert_same(booster, np.vstack([X, rows]))


def test_categorical_numpy_columns_follow_lightgbm_casting_rules():
    booster, X, odd = categorical_numpy_model()
    _assert_same(booster, np.vstack([X, odd]))


def test_pandas_categories_with_missing_unseen_and_reordered_levels():
    booster, scoring = pandas_category_model()
    _assert_same(booster, scoring)


def test_single_leaf_trees_add_their_value():
    X, _ = _numeric_data(500, 4, seed=13)
    constant = _train(X, np.full(500, 2.5), {"objective": "regression"}, 5)
    _assert_same(constant, X)
    assert constant.predict(X[:3], raw_score=True) == pytest.approx([2.5] * 3)


def test_wide_trees_fall_back_to_lightgbm_with_the_reason():
    X, logit = _numeric_data(4000, 8, seed=5)
    wide = _train(
        X, logit, {"objective": "regression", "num_leaves": 100, "min_data_in_leaf": 2}, 5
    )
    ok, reason = FastTreePredictor.supports(wide)
    assert not ok and "more than 64 leaves" in reason
    with pytest.raises(ValueError, match="more than 64 leaves"):
        FastTreePredictor.from_booster(wide)
    np.testing.assert_array_equal(raw_scores(wide, X[:300]), wide.predict(X[:300], raw_score=True))


def test_best_iteration_is_used_like_predict():
    X, logit = _numeric_data(2000, 6, seed=9)
    booster = _train(X, logit, {"objective": "regression"}, 20)
    full = raw_scores(booster, X)
    booster.best_iteration = 12  # as early stopping leaves it
    _assert_same(booster, X)
    assert not np.array_equal(raw_scores(booster, X), full)


def test_the_kernel_arrays_are_built_once_per_model_text():
    X, logit = _numeric_data(2000, 6, seed=21)
    booster = _train(X, logit, {"objective": "regression"}, 10)
    first = built_for(booster, FastTreePredictor.from_booster)
    assert built_for(booster, FastTreePredictor.from_booster) is first
    before = raw_scores(booster, X)
    # A booster changed in place has new model text, hence a new predictor and new scores.
    booster.set_leaf_output(0, 0, booster.get_leaf_output(0, 0) + 1.0)
    assert built_for(booster, FastTreePredictor.from_booster) is not first
    after = raw_scores(booster, X)
    np.testing.assert_array_equal(after, booster.predict(X, raw_score=True))
    assert not np.array_equal(after, before)


def test_zero_data_counts_block_explanations_but_not_predictions():
    """Counts weigh SHAP's path fractions; a prediction never reads them."""
    X, logit = _numeric_data(2000, 6, seed=22)
    text = _train(X, logit, {"objective": "regression"}, 5).model_to_string()
    # the first tree's root gets a zero count (tree sizes dropped: LightGBM re-reads them)
    text = re.sub(r"tree_sizes=.*\n", "", text)
    text = re.sub(r"internal_count=\d+", "internal_count=0", text, count=1)
    zeroed = lgb.Booster(model_str=text)
    ok, reason = FastTreeExplainer.supports(zeroed)
    assert not ok and "zero data count" in reason
    assert FastTreePredictor.supports(zeroed) == (True, "")
    _assert_same(zeroed, X)
