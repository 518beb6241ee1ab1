"""Out-of-time split: parts in time order, no overlap, purge gaps respected."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadml.config import SplitSpec
from leadml.pointintime.split import (
    PARTS,
    PURGED,
    cross_fitting_folds,
    rolling_origin_folds,
    split_by_order,
    split_summary,
)

DAY = pd.Timedelta(days=1)


@settings(max_examples=60, deadline=None)
@given(
    days=st.lists(st.integers(0, 1000), min_size=1, max_size=300),
    gap=st.integers(0, 120),
    fractions=st.lists(st.floats(0.05, 1.0), min_size=4, max_size=4),
)
def test_parts_follow_each_other_in_time_with_the_purge_gap(days, gap, fractions) -> None:
    as_of = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")).astype(
        "datetime64[us]"
    )
    result = split_by_order(
        as_of, fractions=dict(zip(PARTS, fractions, strict=False)), gap=pd.Timedelta(days=gap)
    )
    parts = result.assignment
    assert set(parts) <= {*PARTS, PURGED}
    assert result.purged == int((parts == PURGED).sum())
    present = [p for p in PARTS if (parts == p).any()]
    for earlier, later in zip(present, present[1:], strict=False):
        assert as_of[parts == earlier].max() + gap * DAY <= as_of[parts == later].min()
    # a purged row sits strictly inside a gap: less than `gap` after the part before it
    for p in PARTS:
        if (parts == p).any():
            inside = (as_of >= as_of[parts == p].min()) & (as_of <= as_of[parts == p].max())
            assert (parts[inside] == p).all()  # no other part inside a part's time range


def test_fractions_count_the_kept_snapshots_and_the_gap_is_the_horizon() -> None:
    as_of = pd.Series(pd.date_range("2023-01-01", periods=1000, freq="D")).astype("datetime64[us]")
    result = split_by_order(as_of, fractions=SplitSpec(), gap=90 * DAY)
    counts = result.assignment.value_counts()
    kept = len(as_of) - result.purged
    assert result.purged == 3 * 89  # 89 whole days strictly inside each 90-day gap
    for part, share in zip(PARTS, (0.55, 0.15, 0.10, 0.20), strict=False):
        assert counts[part] / kept == pytest.approx(share, abs=0.01)
    train_end = as_of[result.assignment == "train"].max()
    valid_start = as_of[result.assignment == "valid"].min()
    assert valid_start - train_end == 90 * DAY


def test_ties_stay_in_one_part() -> None:
    as_of = pd.Series([pd.Timestamp("2024-01-01")] * 6 + [pd.Timestamp("2024-02-01")] * 4)
    parts = split_by_order(as_of, fractions=SplitSpec(), gap=0).assignment
    assert parts.groupby(as_of).nunique().max() == 1


def test_row_order_with_a_gap_in_rows() -> None:
    rows = np.arange(100)
    result = split_by_order(
        rows, fractions={"train": 0.6, "valid": 0.1, "calib": 0.1, "test": 0.2}, gap=2
    )
    parts = result.assignment.to_numpy()
    assert result.purged == 6
    # two rows dropped after each of the first three parts
    boundaries = [i for i in range(1, 100) if parts[i] != parts[i - 1]]
    assert [parts[i] for i in boundaries] == [PURGED, "valid", PURGED, "calib", PURGED, "test"]
    no_gap = split_by_order(
        rows, fractions={"train": 0.6, "valid": 0.1, "calib": 0.1, "test": 0.2}
    ).assignment
    assert no_gap.value_counts().to_dict() == {
        "train": 60,
        "test": 20,
        "valid": 10,
        "calib": 10,
        "purged": 0,
    }


def test_summary_gives_sizes_positives_rates_and_ranges() -> None:
    as_of = pd.Series(pd.date_range("2024-01-01", periods=20, freq="D"))
    result = split_by_order(as_of, fractions=SplitSpec(), gap=0)
    label = np.zeros(20, dtype=np.int8)
    label[-2:] = 1
    summary = split_summary(result.assignment, as_of, label)
    assert summary["test"]["n"] == 4 and summary["test"]["positives"] == 2
    assert summary["test"]["rate"] == 0.5
    assert summary["train"]["as_of_min"] == "2024-01-01T00:00:00"
    assert summary["purged"] == 0


def test_bad_fractions_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown parts \['holdout'\]"):
        split_by_order(np.arange(10), fractions={"train": 0.5, "holdout": 0.5})


# --------------------------------------------------------------------------- folds


def _daily(n_days: int, per_day: int = 3) -> pd.Series:
    days = np.repeat(np.arange(n_days), per_day)
    return pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")).astype(
        "datetime64[us]"
    )


def test_rolling_origin_folds_are_time_ordered_and_purged() -> None:
    as_of = _daily(400)  # 1,200 rows, 3 a day
    folds = rolling_origin_folds(as_of, folds=4, initial_fraction=0.4, gap=pd.Timedelta(days=30))
    assert [f.number for f in folds] == [1, 2, 3, 4]
    # the last 60 % cut into 4 blocks of 180 rows (60 days), one after the other
    assert [len(f.test) for f in folds] == [180, 180, 180, 180]
    assert folds[0].test.min() == 480 and folds[-1].test.max() == 1199
    for before, after in zip(folds, folds[1:], strict=False):
        assert as_of[before.test].max() < as_of[after.test].min()
    for fold in folds:
        # every training row's label window (30 days) closes before the block starts
        assert as_of[fold.train].max() + pd.Timedelta(days=30) <= as_of[fold.test].min()
        # a row 30 days before the block may train (its window closes as the block opens);
        # the 29 days after it are purged
        assert fold.purged == 29 * 3
    # expanding: each window holds the one before it, plus 60 days
    assert [len(f.train) for f in folds] == [393, 573, 753, 933]
    assert folds[0].describe(as_of)["train_range"][0] == "2024-01-01T00:00:00"


def test_a_sliding_window_keeps_the_first_folds_size_and_moves_forward() -> None:
    as_of = _daily(400)
    folds = rolling_origin_folds(
        as_of, folds=3, initial_fraction=0.5, window="sliding", gap=pd.Timedelta(days=10)
    )
    assert [len(f.train) for f in folds] == [len(folds[0].train)] * 3
    starts = [as_of[f.train].min() for f in folds]
    assert starts[0] < starts[1] < starts[2]


def test_row_order_folds_count_the_gap_in_rows() -> None:
    folds = rolling_origin_folds(np.arange(100), folds=2, initial_fraction=0.5, gap=5)
    assert folds[0].train.tolist() == list(range(45)) and folds[0].test.tolist() == list(
        range(50, 75)
    )
    assert folds[1].train.max() == 69 and folds[1].purged == 5


def test_bad_backtest_layouts_are_refused() -> None:
    with pytest.raises(ValueError, match="window must be 'expanding' or 'sliding'; got 'rolling'"):
        rolling_origin_folds(np.arange(100), folds=2, window="rolling")
    with pytest.raises(ValueError, match="fold 1 of 3 has no rows"):
        rolling_origin_folds(np.zeros(10, dtype=int), folds=3, initial_fraction=0.1)
    with pytest.raises(ValueError, match="fold 1 of 2 has no training rows before it"):
        rolling_origin_folds(np.arange(100), folds=2, initial_fraction=0.1, gap=20)


def test_cross_fitting_holds_every_row_out_once_and_purges_both_sides() -> None:
    as_of = _daily(100)  # 300 rows
    folds = cross_fitting_folds(as_of, folds=5, gap=pd.Timedelta(days=7))
    held_out = np.sort(np.concatenate([f.test for f in folds]))
    assert held_out.tolist() == list(range(300))
    for fold in folds:
        assert not set(fold.train) & set(fold.test)
        first, last = as_of[fold.test].min(), as_of[fold.test].max()
        before = as_of[fold.train][as_of[fold.train] < first]
        after = as_of[fold.train][as_of[fold.train] > last]
        assert len(before) + len(after) == len(fold.train)
        if len(before):
            assert before.max() + pd.Timedelta(days=7) <= first
        if len(after):
            assert after.min() >= last + pd.Timedelta(days=7)
    # an inner block loses 6 days on each side (a row 7 days away may train), an end block one side
    assert [f.purged for f in folds] == [18, 36, 36, 36, 18]


def _exactly(message: str) -> str:
    """A ``match`` pattern for the whole message, not a part of it."""
    return "^" + re.escape(message) + "$"


def test_each_refusal_gives_the_whole_message() -> None:
    with pytest.raises(
        ValueError,
        match=_exactly(
            "split fractions: unknown parts ['holdout']; expected ['train', 'valid', 'calib', 'test']"
        ),
    ):
        split_by_order(np.arange(10), fractions={"train": 0.5, "holdout": 0.5})
    with pytest.raises(
        ValueError,
        match=_exactly(
            "split fractions must be >= 0 with a positive sum; got "
            "{'train': 0.5, 'valid': -0.1, 'calib': 0.0, 'test': 0.0}"
        ),
    ):
        split_by_order(np.arange(10), fractions={"train": 0.5, "valid": -0.1})
    with pytest.raises(ValueError, match=r"with a positive sum; got \{'train': 0\.0"):
        split_by_order(np.arange(10), fractions={})
    with pytest.raises(
        ValueError,
        match=_exactly("split: with row order the gap is a number of rows >= 0; got -1"),
    ):
        split_by_order(np.arange(10), fractions=SplitSpec(), gap=-1)
    with pytest.raises(
        ValueError,
        match=_exactly("split: with row order the gap is a number of rows >= 0; got 1.5"),
    ):
        split_by_order(np.arange(10), fractions=SplitSpec(), gap=1.5)
    with pytest.raises(
        ValueError,
        match=_exactly(
            "split: the purge gap must not be negative; got Timedelta('-1 days +00:00:00')"
        ),
    ):
        split_by_order(
            pd.Series(pd.date_range("2024-01-01", periods=5)), fractions=SplitSpec(), gap=-DAY
        )
    with pytest.raises(
        ValueError, match=_exactly("split: the ordering column has missing timestamps")
    ):
        split_by_order(pd.Series([pd.Timestamp("2024-01-01"), pd.NaT]), fractions=SplitSpec())
    with pytest.raises(ValueError, match=_exactly("split: the ordering column has missing values")):
        split_by_order(pd.Series([1.0, np.nan]), fractions=SplitSpec())
    with pytest.raises(
        ValueError,
        match=_exactly("split: expected timestamps or row numbers to order by, got dtype object"),
    ):
        split_by_order(pd.Series(["a", "b"], dtype=object), fractions=SplitSpec())


def test_a_numeric_gap_with_timestamps_counts_days() -> None:
    as_of = pd.Series(pd.date_range("2024-01-01", periods=100, freq="D")).astype("datetime64[us]")
    by_days = split_by_order(as_of, fractions=SplitSpec(), gap=10)
    by_delta = split_by_order(as_of, fractions=SplitSpec(), gap=10 * DAY)
    assert by_days.assignment.tolist() == by_delta.assignment.tolist()
    assert by_days.purged == 3 * 9
    assert split_by_order(as_of, fractions=SplitSpec(), gap=np.int64(10)).purged == 27
    assert split_by_order(as_of, fractions=SplitSpec(), gap=2.5).purged == 3 * 2


def test_time_zones_are_read_as_utc_and_boundaries_are_microseconds() -> None:
    utc = pd.Series(pd.date_range("2024-01-01", periods=20, freq="D", tz="UTC"))
    paris = utc.dt.tz_convert("Europe/Paris")
    a = split_by_order(utc, fractions=SplitSpec(), gap=DAY)
    b = split_by_order(paris, fractions=SplitSpec(), gap=DAY)
    assert a.assignment.tolist() == b.assignment.tolist()
    first = int(pd.Timestamp("2024-01-01").value // 1000)
    assert a.boundaries["train"][0] == first
    assert b.boundaries == a.boundaries
    # the boundaries are the first and last as_of of each part, as microseconds
    parts = a.assignment
    for part in PARTS:
        lo, hi = a.boundaries[part]
        assert lo == int(utc[parts == part].min().value // 1000)
        assert hi == int(utc[parts == part].max().value // 1000)


def test_the_split_keeps_the_index_and_works_on_unsorted_rows() -> None:
    as_of = pd.Series(
        pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-01", "2024-04-01"]),
        index=[40, 10, 20, 30],
    )
    result = split_by_order(
        as_of, fractions={"train": 0.5, "valid": 0.25, "calib": 0.0, "test": 0.25}, gap=0
    )
    assert list(result.assignment.index) == [40, 10, 20, 30]
    assert result.assignment.name == "split"
    assert result.assignment.tolist() == ["valid", "train", "train", "test"]
    assert result.boundaries["calib"] is None
    assert list(result.assignment.cat.categories) == [*PARTS, PURGED]


def test_empty_parts_and_a_lone_row() -> None:
    result = split_by_order(np.arange(1), fractions=SplitSpec())
    assert result.assignment.tolist() == ["train"]
    assert result.purged == 0
    assert result.boundaries == {"train": (0, 0), "valid": None, "calib": None, "test": None}
    summary = split_summary(result.assignment, pd.Series([pd.Timestamp("2024-05-01")]), [1])
    assert summary["train"] == {
        "n": 1,
        "positives": 1,
        "rate": 1.0,
        "as_of_min": "2024-05-01T00:00:00",
        "as_of_max": "2024-05-01T00:00:00",
    }
    assert summary["valid"] == {
        "n": 0,
        "positives": 0,
        "rate": None,
        "as_of_min": None,
        "as_of_max": None,
    }


def test_summary_of_row_numbers_gives_plain_ints() -> None:
    rows = np.arange(10)
    result = split_by_order(rows, fractions=SplitSpec(), gap=1)
    summary = split_summary(result.assignment, rows, np.ones(10, dtype=np.int8))
    assert summary["train"]["as_of_min"] == 0 and type(summary["train"]["as_of_min"]) is int
    assert summary["purged"] == result.purged == 3
    assert summary["test"]["positives"] == summary["test"]["n"]
