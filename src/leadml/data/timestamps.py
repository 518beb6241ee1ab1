"""Time as leadml keeps it: naive timestamps that mean UTC.

Inputs may carry a time zone; every comparison inside (``ts < as_of``, label
windows, splits) is between naive UTC instants. An aware value is converted to
UTC and its zone dropped here, and nowhere else.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["naive_utc", "naive_utc_series", "utc_now"]


def naive_utc(value: pd.Timestamp | str) -> pd.Timestamp:
    """One instant as a naive UTC timestamp: an aware one is converted, a naive one is kept.

    >>> naive_utc("2026-01-01T09:00:00+01:00")
    Timestamp('2026-01-01 08:00:00')
    """
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def naive_utc_series(values: pd.Series) -> pd.Series:
    """A datetime series as naive UTC: an aware one is converted, any other is returned as is."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


def utc_now() -> pd.Timestamp:
    """The wall clock in naive UTC, to the second: the CLI's ``--as-of now`` and a run's stamp."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
