"""raw_scores must return LightGBM's raw predictions bit for bit (same doubles, same order)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from test_fastshap import _missing_types, _numeric_data, _rows_on_thresholds, _train

from leadml._treeshap import K_ZERO_THRESHOLD
from leadml.fastpredict import FastTreePredictor, raw_scores


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
    rng = np.random.default_rng(11)
    n = 4000
    X = np.column_stack(
        [rng.integers(0, 40, n), rng.integers(0, 5, n), rng.normal(size=(n, 3))]
    ).astype(float)
    y = np.isin(X[:, 0], [1, 3, 7, 11, 20, 33]) * 1.0 + (X[:, 1] == 2) + X[:, 2]
    X[rng.random((n, 5)) < 0.05] = np.nan
    booster = _train(X, y, {"objective": "regression", "num_leaves": 31, "max_cat_to_onehot": 4}, 30,
                     categorical_feature=[0, 1])  # fmt: skip
    odd = X[:12].copy()
    odd[:, 0] = [-0.5, 2.7, 3.0, 3.999, -1.0, -7.0, np.nan, 2**31, 2**31 - 1, 1e300, -1e300, 63.0]
    odd[:, 1] = [0.2, -0.2, np.inf, -np.inf, 4.0, 1.5, np.nan, 2.0, 2.99, 100.0, 5.0, 0.0]
    _assert_same(booster, np.vstack([X, odd]))


def test_pandas_categories_with_missing_unseen_and_reordered_levels():
    rng = np.random.default_rng(12)
    n = 4000
    frame = pd.DataFrame(
        {
            "industry": pd.Categorical(rng.choice(list("abcdefghij"), n)),
            "source": pd.Categorical(rng.choice(["web", "event", "referral"], n)),
            "visits": rng.poisson(0.5, n).astype(float),
        }
    )
    y = (frame["industry"].isin(["a", "c", "f"]) + (frame["source"] == "web")).to_numpy()
    booster = _train(
        frame, (y + rng.normal(0, 0.5, n) > 1).astype(float), {"objective": "binary"}, 30
    )
    scoring = frame.iloc[:500].copy()
    scoring.loc[scoring.index[:20], "industry"] = np.nan
    scoring["source"] = pd.Categorical(
        np.where(np.arange(500) < 10, "podcast", scoring["source"].astype(str)),
        categories=["web", "podcast", "referral", "event"],
    )
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
