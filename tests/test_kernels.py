"""The Python helpers around the feature kernels, value by value (the jitted kernels are
checked against a pandas reference in test_features.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.features._kernels import (
    as_category,
    both,
    codes_for,
    csr_by,
    membership,
    take_category,
    take_float,
    timestamp_us,
    timestamps_us,
    vocab_codes,
)

JAN1_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z in microseconds since the epoch
NAT = np.iinfo(np.int64).min


def test_timestamps_become_microseconds_whatever_their_form():
    expected = [JAN1_US, JAN1_US + 3_600_000_000, NAT]
    naive = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00", None]))
    assert timestamps_us(naive, what="t").tolist() == expected
    assert timestamps_us(naive.astype("datetime64[s]"), what="t").tolist() == expected
    paris = naive.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    assert timestamps_us(paris, what="t").tolist() == expected
    text = pd.Series(["2024-01-01T00:00:00Z", "2024-01-01T02:00:00+01:00", None])
    assert timestamps_us(text, what="t").tolist() == expected
    assert timestamps_us(naive.to_numpy(), what="t").tolist() == expected
    assert timestamps_us(pd.Index(naive), what="t").tolist() == expected
    out = timestamps_us(naive, what="t")
    assert out.dtype == np.int64 and out.flags["C_CONTIGUOUS"]
    with pytest.raises(
        ValueError, match=r"^events\.ts: expected timestamps, got values such as \['soon', 'x'\]$"
    ):
        timestamps_us(pd.Series(["soon", None, "x", "soon"]), what="events.ts")


def test_one_instant_becomes_microseconds():
    assert timestamp_us("2024-01-01") == JAN1_US
    assert timestamp_us(pd.Timestamp("2024-01-01 01:00", tz="Europe/Paris")) == JAN1_US
    assert timestamp_us(pd.Timestamp("2024-01-01").as_unit("s")) == JAN1_US
    assert timestamp_us("2024-01-01 00:00:00.000001") == JAN1_US + 1


@pytest.mark.parametrize("dense", [True, False])
def test_codes_are_positions_in_the_universe_or_minus_one(dense):
    universe = np.array([30, 10, 20]) if dense else np.array([30, 10, 20 * 10**9])
    keys = np.array([20, 30, 99, 10, 20]) if dense else np.array([20 * 10**9, 30, 99, 10, 20])
    # the last key, 20, is in the dense universe only
    assert codes_for(keys, universe).tolist() == [2, 0, -1, 1, 2 if dense else -1]
    assert codes_for(pd.Series(keys), pd.Series(universe)).dtype == np.int64
    assert codes_for(np.array([], dtype=np.int64), universe).tolist() == []
    assert codes_for(keys, np.array([], dtype=np.int64)).tolist() == [-1] * 5


def test_codes_match_text_and_integer_ids_by_their_spelling():
    assert codes_for(np.array(["b", "z", "a"]), np.array(["a", "b"])).tolist() == [1, -1, 0]
    # integer keys against text ids, and text keys against integer ids
    assert codes_for(np.array([7, 8]), np.array(["8", "7"], dtype=object)).tolist() == [1, 0]
    assert codes_for(pd.Series(["7", "9"]), pd.Series([7, 8])).tolist() == [0, -1]
    # unsigned and signed ints mix on the dense path
    assert codes_for(np.array([2, 1], dtype=np.uint32), np.array([1, 2])).tolist() == [1, 0]


def test_vocabulary_codes_for_text_categoricals_and_missing_values():
    vocab = ("email_open", "demo_request", "meeting")
    text = pd.Series(["meeting", "nope", None, "email_open"], dtype="str")
    codes = vocab_codes(text, vocab)
    assert codes.tolist() == [2, -1, -1, 0] and codes.dtype == np.int8
    cat = pd.Series(pd.Categorical(["demo_request", None, "zzz", "meeting"]))
    assert vocab_codes(cat, vocab).tolist() == [1, -1, -1, 2]
    objects = pd.Series(["meeting", None], dtype=object)
    assert vocab_codes(objects, vocab).tolist() == [2, -1]
    assert vocab_codes(pd.Series([], dtype="str"), vocab).dtype == np.int8
    big = tuple(f"v{i}" for i in range(200))
    wide = vocab_codes(pd.Series(["v150", "v3"], dtype="str"), big)
    assert wide.tolist() == [150, 3] and wide.dtype == np.int16
    assert len(vocab_codes(pd.Series(["v1"] * 2_000_001, dtype="str"), big)) == 2_000_001


def test_csr_groups_rows_by_code_and_sorts_each_group_by_time():
    group = np.array([1, 0, 1, -1, 1, 0])
    ts = np.array([30, 5, 10, 1, NAT, 2], dtype=np.int64)
    codes = np.array([7, 8, 9, 10, 11, 12], dtype=np.int8)
    owner = np.array([100, 101, 102, 103, 104, 105])
    csr = csr_by(group, 3, ts, codes=codes, owner=owner)
    assert csr.offsets.tolist() == [0, 2, 4, 4]
    assert csr.ts.tolist() == [2, 5, 10, 30]  # group 0 then group 1; -1 and NaT dropped
    assert csr.codes.tolist() == [12, 8, 9, 7]
    assert csr.owner.tolist() == [105, 101, 102, 100]
    bare = csr_by(group, 3, ts)
    assert bare.codes.size == 0 and bare.owner.size == 0 and bare.ts.tolist() == [2, 5, 10, 30]


def test_categories_are_text_sorted_and_taken_with_only_those_present():
    cat = as_category(pd.Series([3, 1, None, 3], dtype="Int64").astype("category"), 4)
    assert list(cat.categories) == ["1", "3"] and pd.isna(cat[2])
    plain = as_category(pd.Series(["b", None, "a"]), 3)
    assert list(plain.categories) == ["a", "b"] and plain.tolist()[0] == "b"
    absent = as_category(None, 2)
    assert absent.isna().all() and len(absent) == 2 and len(absent.categories) == 0
    taken = take_category(plain, np.array([2, -1, 2]))
    assert list(taken.categories) == ["a"] and taken.tolist()[0] == "a" and pd.isna(taken[1])
    assert take_category(absent, np.array([0, -1])).isna().all()
    assert take_float(np.array([1.5, 2.5]), np.array([1, -1, 0])).tolist()[0::2] == [2.5, 1.5]
    assert np.isnan(take_float(np.array([1.5]), np.array([-1]))[0])
    assert np.isnan(take_float(np.array([]), np.array([0, -1]))).all()


def test_membership_normalises_spelling_and_keeps_missing():
    cat = pd.Categorical(["C-Level", "vp", None, "Individual Contributor", "intern"])
    out = membership(cat, ("c_level", "VP", "individual contributor"))
    assert out[:2].tolist() == [1.0, 1.0] and np.isnan(out[2]) and out[3:].tolist() == [1.0, 0.0]
    empty = membership(pd.Categorical([None, None], categories=[]), ("vp",))
    assert np.isnan(empty).all()


def test_three_valued_and():
    a = np.array([1.0, 1.0, 0.0, np.nan, np.nan, 1.0])
    b = np.array([1.0, 0.0, np.nan, 0.0, np.nan, np.nan])
    out = both(a, b)
    assert out[:4].tolist() == [1.0, 0.0, 0.0, 0.0] and np.isnan(out[4:]).all()


def test_one_instant_beyond_float_precision_keeps_every_microsecond():
    # 2260 is past 2**53 µs after the epoch (mid-2255): a float on the way would lose the odd µs
    from datetime import datetime, timedelta

    expected = (datetime(2260, 1, 1) - datetime(1970, 1, 1)) // timedelta(microseconds=1) + 1
    assert expected > 2**53
    assert timestamp_us("2260-01-01T00:00:00.000001") == expected


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", "a", None, "b"], dtype="str"),
        pd.Series(["x", np.nan, "A", "é", ""], dtype=object),
        pd.Series([3, 1, 2, 3]),
        pd.Series([1.5, np.nan, 0.1, 1e16]),
        pd.Series([True, False, None], dtype=object),
        pd.Series(["a", pd.NA, "c"], dtype="string"),
        pd.Series([1, None, 2], dtype="Int64"),
        pd.Series([None, None], dtype=object),
        pd.Series([], dtype="str"),
    ],
)
def test_a_few_values_become_the_categories_pandas_gives(values):
    from leadml.features._kernels import FEW_VALUES, as_category

    assert len(values) <= FEW_VALUES  # the Python path
    few = as_category(values, len(values))
    expected = pd.Categorical(values.astype("str"))  # the path of more than FEW_VALUES
    assert list(few.categories) == list(expected.categories)
    assert few.categories.dtype == expected.categories.dtype
    np.testing.assert_array_equal(np.asarray(few.codes), np.asarray(expected.codes))
    many = as_category(pd.concat([values] * (FEW_VALUES // max(len(values), 1) + 1)), 0)
    assert list(many.categories) == list(few.categories)


@pytest.mark.parametrize(
    "cat",
    [
        pd.Categorical(["b", "a", None, "b"], categories=pd.Index(["a", "b"], dtype="str")),
        pd.Categorical(["b", "c", "a"], categories=pd.Index(["a", "b", "c"], dtype="str")),
        pd.Categorical([2, 1, 3], categories=[1, 2, 3]),
        pd.Categorical(["x", "y", "x"], categories=["x", "y"], ordered=True),
        pd.Categorical(["a"] * 3, categories=pd.Index([f"c{i}" for i in range(99)] + ["a"])),
    ],
)
@pytest.mark.parametrize("rows", [[0], [1, -1, 1], [2, 0, 1], [-1]])
def test_taking_categories_reuses_dtypes_and_gives_what_from_codes_gives(cat, rows):
    """A dtype reused (every category taken) or cached (a few text categories) is the one
    ``pd.Categorical.from_codes(codes, categories=present)`` builds."""
    from leadml.features._kernels import take_category, text_categories

    rows = np.asarray(rows)
    taken = take_category(cat, rows)
    codes = np.asarray(cat.codes)[np.maximum(rows, 0)]
    values = [
        None if r < 0 or c < 0 else cat.categories[c] for r, c in zip(rows, codes, strict=True)
    ]
    present = [c for c in cat.categories if c in values]
    expected = pd.Categorical.from_codes(
        [-1 if v is None else present.index(v) for v in values],
        categories=cat.categories[cat.categories.isin(present)],
    )
    assert taken.dtype == expected.dtype and not taken.ordered
    assert taken.categories.dtype == expected.categories.dtype
    np.testing.assert_array_equal(np.asarray(taken.codes), np.asarray(expected.codes))
    assert text_categories(("a", "b")) is text_categories(("a", "b"))
