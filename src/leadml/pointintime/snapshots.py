"""Snapshots: the (lead_id, as_of) pairs at which a lead is looked at.

Training looks at each lead several times -- at creation and at the ages of
``RunConfig.snapshots.ages_days`` -- while the lead is still open; scoring
looks once, at ``as_of`` = now, at every open lead.

**Open at as_of** uses the same information as the features: a lead is
closed at ``as_of`` when one of ``dataset.closed_stages`` (sql,
opportunity, won, lost, disqualified) has ``ts < as_of`` (strictly). An
outcome at exactly ``as_of`` is not known yet: the lead is still open and
that outcome falls inside the label window ``[as_of, as_of + H)``
(:mod:`leadml.pointintime.labels`).

A lead **exists** at ``as_of`` from its ``created_at`` on (``created_at <=
as_of``), so the age-0 training snapshot and a scoring snapshot taken at the
creation instant are the same row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from leadml.config import CLOSED_STAGES
from leadml.features._kernels import DAY_US, codes_for, timestamp_us, timestamps_us

__all__ = ["first_closed_at", "scoring_snapshots", "training_snapshots"]

_NAT = np.iinfo(np.int64).min
_NEVER = np.iinfo(np.int64).max


def _as_of_us(as_of: pd.Timestamp | str) -> int:
    return timestamp_us(as_of)


def _closed_us(
    leads: pd.DataFrame, outcomes: pd.DataFrame, closed_stages: Sequence[str]
) -> np.ndarray:
    """Per lead row: the first time a closed stage was reached (INT64_MAX if never)."""
    closed = np.full(len(leads), _NEVER, dtype=np.int64)
    if len(outcomes) == 0:
        return closed
    is_closed = (
        outcomes["stage"]
        .astype("str")
        .isin(list(closed_stages))
        .to_numpy(dtype=bool, na_value=False)
    )
    rows = codes_for(outcomes["lead_id"][is_closed], leads["lead_id"])
    ts = timestamps_us(outcomes["ts"][is_closed], what="outcomes.ts")
    keep = (rows >= 0) & (ts != _NAT)
    np.minimum.at(closed, rows[keep], ts[keep])
    return closed


def first_closed_at(
    leads: pd.DataFrame, outcomes: pd.DataFrame, *, closed_stages: Sequence[str] = CLOSED_STAGES
) -> pd.Series:
    """When each lead first reached a closed stage (NaT if still open), indexed like ``leads``."""
    closed = _closed_us(leads, outcomes, closed_stages)
    values = np.where(closed == _NEVER, _NAT, closed).view("datetime64[us]")
    return pd.Series(values, index=leads.index, name="closed_at")


def training_snapshots(
    leads: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    ages_days: Sequence[float],
    data_end: pd.Timestamp,
    closed_stages: Sequence[str] = CLOSED_STAGES,
) -> pd.DataFrame:
    """``lead_id, as_of, age_days``: one row per lead and age while open and before ``data_end``.

    ``as_of = created_at + age``; kept when no closed stage has ``ts < as_of``
    and ``as_of < data_end``. Rows are ordered by lead (table order) then age.
    """
    if not ages_days:
        raise ValueError("snapshots.ages_days is empty: give at least one age, e.g. [0, 7, 30]")
    if any(a < 0 for a in ages_days):
        raise ValueError(f"snapshots.ages_days must be >= 0; got {list(ages_days)}")
    created = timestamps_us(leads["created_at"], what="leads.created_at")
    closed = _closed_us(leads, outcomes, closed_stages)
    end = _as_of_us(data_end)
    ages = np.asarray(sorted(set(ages_days)), dtype=np.float64)
    ages_us = np.round(ages * DAY_US).astype(np.int64)
    as_of = created[:, None] + ages_us[None, :]
    keep = (created[:, None] != _NAT) & (as_of <= closed[:, None]) & (as_of < end)
    rows, which = np.nonzero(keep)
    return pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy()[rows],
            "as_of": as_of[rows, which].view("datetime64[us]"),
            "age_days": ages[which],
        }
    )


def scoring_snapshots(
    leads: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str,
    closed_stages: Sequence[str] = CLOSED_STAGES,
) -> pd.DataFrame:
    """``lead_id, as_of``: every lead that exists at ``as_of`` and is still open, in table order."""
    at = _as_of_us(as_of)
    created = timestamps_us(leads["created_at"], what="leads.created_at")
    closed = _closed_us(leads, outcomes, closed_stages)
    keep = (created != _NAT) & (created <= at) & (closed >= at)
    n = int(keep.sum())
    return pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy()[keep],
            "as_of": np.full(n, at, dtype=np.int64).view("datetime64[us]"),
        }
    )
