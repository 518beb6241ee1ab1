"""Cross-fitting: every block's margins come from a model that never saw the block; rounds
follow the data size; Platt is fitted on the pooled out-of-fold margins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.modeling.calibration import fit_platt
from leadml.modeling.crossfit import cross_fit, require_increasing, scaled_rounds

PARAMS = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 7,
    "min_child_samples": 20,
    "num_threads": 1,
    "deterministic": True,
    "force_col_wise": True,
    "seed": 1,
    "verbose": -1,
    "metric": "auc",
}


def _rows(n: int = 1_200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    p = 1 / (1 + np.exp(-(1.5 * X["a"] - X["b"] - 1.0)))
    return X, (rng.random(n) < p).astype(np.int8)


def test_rounds_scale_with_the_rows() -> None:
    assert scaled_rounds(100, 50_000, 100_000, exponent=1.0) == 200
    assert scaled_rounds(100, 50_000, 200_000, exponent=0.5) == 200
    assert scaled_rounds(67, 54_698, 140_756, exponent=1.0) == 172
    assert scaled_rounds(100, 50_000, 25_000, exponent=0.0) == 100
    with pytest.raises(ValueError, match="positive reference rounds and rows; got 0 rounds"):
        scaled_rounds(0, 10, 20, exponent=1.0)


def test_a_blocks_margins_never_depend_on_its_own_labels() -> None:
    X, y = _rows()
    order = np.arange(len(X))
    first = cross_fit(X, y, order, params=PARAMS, folds=4, gap=10, exponent=1.0, rounds=40)
    flipped = y.copy()
    flipped[600:900] = 1 - flipped[600:900]  # block 3 of 4 (rows 600 to 899)
    second = cross_fit(X, flipped, order, params=PARAMS, folds=4, gap=10, exponent=1.0, rounds=40)
    np.testing.assert_array_equal(first.margin[600:900], second.margin[600:900])
    assert not np.array_equal(first.margin[:600], second.margin[:600])
    # Platt is the fit on the pooled out-of-fold margins, not on any model's own rows
    assert first.calibration == fit_platt(first.margin, y)
    assert not np.isnan(first.margin).any()


def test_fixed_rounds_are_scaled_to_each_blocks_training_rows() -> None:
    X, y = _rows()
    result = cross_fit(
        X, y, np.arange(len(X)), params=PARAMS, folds=4, gap=10, exponent=1.0, rounds=40
    )
    assert result.rounds == 40
    # an end block's model learns from 900 - 10 rows, an inner one from 900 - 20
    assert [f["n_train"] for f in result.folds] == [890, 880, 880, 890]
    assert [f["rounds"] for f in result.folds] == [30, 29, 29, 30]


def test_small_data_rounds_come_from_early_stopping_on_each_block() -> None:
    X, y = _rows()
    result = cross_fit(
        X, y, np.arange(len(X)), params=PARAMS, folds=3, gap=0, exponent=1.0,
        early_stopping_rounds=20,
    )  # fmt: skip
    best = [f["best_iteration"] for f in result.folds]
    assert result.reference_rounds == pytest.approx(np.mean(best))
    assert result.reference_rows == pytest.approx(800)
    assert result.rounds == scaled_rounds(np.mean(best), 800, 1_200, exponent=1.0)
    assert 0.5 < result.calibration.slope < 2.0


def test_a_block_with_one_class_is_refused_with_its_number() -> None:
    X, y = _rows(300)
    y = y.copy()
    y[100:200] = 0
    with pytest.raises(ValueError, match="block 2 has 100 rows and 0 positives"):
        cross_fit(X, y, np.arange(300), params=PARAMS, folds=3, gap=0, exponent=1.0, rounds=5)


def test_a_calibration_that_would_reverse_the_ranking_is_refused() -> None:
    """When the relation flips between the time blocks (drift), each block's model learns the
    other block's relation and the pooled out-of-fold margins rank the labels backwards:
    Platt's slope comes out negative, and cross-fitting stops rather than ship it."""
    rng = np.random.default_rng(3)
    n = 2_000
    X = pd.DataFrame({"a": rng.normal(size=n)})
    sign = np.where(np.arange(n) < n // 2, 1.0, -1.0)  # older half: a helps; newer: a hurts
    y = (rng.random(n) < 1 / (1 + np.exp(-3.0 * sign * X["a"]))).astype(np.int8)
    assert fit_platt(X["a"].to_numpy() * sign, y).slope > 0  # the in-block relation is strong
    crossed = cross_fit(X, y, np.arange(n), params=PARAMS, folds=2, gap=0, exponent=1.0, rounds=20)
    assert crossed.calibration.slope < 0
    with pytest.raises(ValueError, match=r"slope -\d\.\d{3} <= 0.*small_data: \{max_rows: 0\}"):
        require_increasing(crossed.calibration)
    steady = cross_fit(X.iloc[: n // 2], y[: n // 2], np.arange(n // 2), params=PARAMS, folds=2,
                       gap=0, exponent=1.0, rounds=20)  # fmt: skip
    assert require_increasing(steady.calibration) is steady.calibration


def test_forward_blocks_learn_from_the_past_only_and_the_first_block_only_trains() -> None:
    from leadml.pointintime.split import cross_fitting_folds

    order = np.arange(1_000)
    folds = cross_fitting_folds(order, folds=4, gap=10, forward=True)
    assert [f.number for f in folds] == [2, 3, 4]
    for fold in folds:
        assert fold.train.max() + 10 <= fold.test.min()  # purged: the gap before the block
        assert fold.train.min() == 0 and fold.purged == 10
    assert folds[0].test.tolist() == list(range(250, 500))
    X, y = _rows(1_000)
    crossed = cross_fit(X, y, order, params=PARAMS, folds=4, gap=10, exponent=1.0, rounds=40,
                        forward=True)  # fmt: skip
    assert np.isnan(crossed.margin[:250]).all() and not np.isnan(crossed.margin[250:]).any()
    assert crossed.calibration == fit_platt(crossed.margin[250:], y[250:])
    # the newest block's margins are its forecast by the model of everything before it
    later = y.copy()
    later[750:] = 1 - later[750:]
    again = cross_fit(X, later, order, params=PARAMS, folds=4, gap=10, exponent=1.0, rounds=40,
                      forward=True)  # fmt: skip
    np.testing.assert_array_equal(crossed.margin[250:], again.margin[250:])
