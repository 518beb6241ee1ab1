"""Folds and their guards worked out by hand on six rows in row order (``make mutate``'s
survivors in ``leadml.pointintime.split``).

In row order a gap of g rows means a later part starts g + 1 rows after the last kept one,
so the default gap (0) purges nothing and a gap of 1 purges one row at each border.
"""

from __future__ import annotations

import numpy as np
import pytest

from leadml.pointintime.split import cross_fitting_folds, rolling_origin_folds

ORDER = np.arange(6)


def _folds(folds) -> list[tuple[int, list[int], list[int], int]]:
    return [(f.number, f.train.tolist(), f.test.tolist(), f.purged) for f in folds]


# --- cross-fitting -------------------------------------------------------------------------
def test_two_cross_fitting_blocks_train_on_each_other_with_no_gap_by_default():
    # blocks [0, 1, 2] and [3, 4, 5]
    assert _folds(cross_fitting_folds(ORDER, folds=2)) == [
        (1, [3, 4, 5], [0, 1, 2], 0),
        (2, [0, 1, 2], [3, 4, 5], 0),
    ]
    # a gap of one row: row 3 is purged from block 1's training, row 2 from block 2's
    assert _folds(cross_fitting_folds(ORDER, folds=2, gap=1)) == [
        (1, [4, 5], [0, 1, 2], 1),
        (2, [0, 1], [3, 4, 5], 1),
    ]


def test_forward_cross_fitting_learns_from_earlier_blocks_only_and_skips_the_first():
    # blocks [0, 1], [2, 3], [4, 5]
    assert _folds(cross_fitting_folds(ORDER, folds=3, forward=True)) == [
        (2, [0, 1], [2, 3], 0),
        (3, [0, 1, 2, 3], [4, 5], 0),
    ]


def test_as_many_blocks_as_rows_is_allowed():
    assert _folds(cross_fitting_folds(ORDER[:3], folds=3)) == [
        (1, [1, 2], [0], 0),
        (2, [0, 2], [1], 0),
        (3, [0, 1], [2], 0),
    ]


def test_cross_fitting_refusals_are_named():
    with pytest.raises(ValueError) as caught:
        cross_fitting_folds(ORDER, folds=1)
    assert str(caught.value) == "cross-fitting: folds must be >= 2; got 1"
    with pytest.raises(ValueError) as caught:
        cross_fitting_folds(ORDER[:1], folds=2)
    assert str(caught.value) == "cross-fitting: 1 rows cannot make 2 folds"
    # four rows share one value: the first block would split them, so it is empty
    with pytest.raises(ValueError) as caught:
        cross_fitting_folds(np.array([0, 0, 0, 0, 1]), folds=3)
    assert str(caught.value) == (
        "cross-fitting: block 1 of 3 is empty (5 rows sharing few order values; use fewer folds)"
    )


# --- rolling origin ------------------------------------------------------------------------
def test_rolling_origin_folds_after_the_first_two_rows():
    # the first 0.4 · 6 = 2.4 → 2 rows only train; test blocks [2, 3] and [4, 5]
    assert _folds(rolling_origin_folds(ORDER, folds=2)) == [
        (1, [0, 1], [2, 3], 0),
        (2, [0, 1, 2, 3], [4, 5], 0),
    ]
    assert _folds(rolling_origin_folds(ORDER, folds=2, gap=1)) == [
        (1, [0], [2, 3], 1),
        (2, [0, 1, 2], [4, 5], 1),
    ]
    # sliding: as many training rows as the first fold has, the most recent ones
    assert _folds(rolling_origin_folds(ORDER, folds=2, window="sliding")) == [
        (1, [0, 1], [2, 3], 0),
        (2, [2, 3], [4, 5], 0),
    ]
    assert _folds(rolling_origin_folds(ORDER, folds=1)) == [(1, [0, 1], [2, 3, 4, 5], 0)]


def test_a_fold_describes_its_sizes_and_ranges():
    fold = rolling_origin_folds(ORDER, folds=2)[1]
    assert fold.describe(ORDER) == {
        "fold": 2,
        "n_train": 4,
        "n_test": 2,
        "purged": 0,
        "train_range": [0, 3],
        "test_range": [4, 5],
    }


@pytest.mark.parametrize(
    ("order", "kwargs", "message"),
    [
        (ORDER, {"folds": 0}, "backtest: folds must be >= 1; got 0"),
        (ORDER, {"folds": 1, "initial_fraction": 0.0}, "initial_fraction must be in (0, 1); got 0.0"),
        (ORDER, {"folds": 1, "initial_fraction": 1.0}, "initial_fraction must be in (0, 1); got 1.0"),
        (ORDER, {"folds": 1, "initial_fraction": 1.5}, "initial_fraction must be in (0, 1); got 1.5"),
        # 0.95 · 6 = 5.7 → 6 rows: none left to test
        (ORDER, {"folds": 1, "initial_fraction": 0.95}, "6 rows leave no rows to test after the first 6"),
        (ORDER[:0], {"folds": 1}, "backtest: 0 rows leave no rows to test after the first 0"),
        # one row: 0.4 · 1 → 0 rows to train on, so the single fold has none before it
        (ORDER[:1], {"folds": 1}, "fold 1 of 1 has no training rows before it once the purge gap is taken out (raise initial_fraction or shorten the gap)"),
    ],
)  # fmt: skip
def test_rolling_origin_refusals_are_named(order, kwargs, message):
    with pytest.raises(ValueError) as caught:
        rolling_origin_folds(order, **kwargs)
    assert str(caught.value).endswith(message)
