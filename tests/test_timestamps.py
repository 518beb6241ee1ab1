"""Naive UTC, decided in one place."""

from __future__ import annotations

import pandas as pd

from leadml.data.timestamps import naive_utc, naive_utc_series, utc_now


def test_an_aware_instant_becomes_the_same_instant_in_naive_utc() -> None:
    assert naive_utc("2026-01-01T09:30:00+01:00") == pd.Timestamp("2026-01-01 08:30:00")
    assert naive_utc(pd.Timestamp("2026-01-01 09:30", tz="America/New_York")) == pd.Timestamp(
        "2026-01-01 14:30"
    )
    assert naive_utc("2026-01-01 09:30").tzinfo is None
    assert naive_utc("2026-01-01 09:30") == pd.Timestamp("2026-01-01 09:30")


def test_a_series_is_converted_only_when_aware() -> None:
    aware = pd.Series(pd.to_datetime(["2026-03-01 12:00", None]).tz_localize("Europe/Paris"))
    out = naive_utc_series(aware)
    assert out.dt.tz is None
    assert out.iloc[0] == pd.Timestamp("2026-03-01 11:00") and pd.isna(out.iloc[1])
    naive = pd.Series(pd.to_datetime(["2026-03-01 12:00"]))
    assert naive_utc_series(naive) is naive


def test_now_is_naive_and_whole_seconds() -> None:
    now = utc_now()
    assert now.tzinfo is None and now.microsecond == 0 and now.nanosecond == 0
