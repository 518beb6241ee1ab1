"""The oracle: true label probabilities of synthetic leads, from the generator's truth.

For a lead looked at ``as_of`` (age ``a`` days) that has not reached SQL yet,
the generator's state gives the exact probability of the label within
``[as_of, as_of + H)``:

* ``sql``: ``p (F(a + H) - F(a)) / (1 - p F(a))``, with ``p`` the probability
  of ever reaching SQL and ``F`` the CDF of the time to SQL
  ``T = shift + LogNormal(mu, sigma)``;
* ``won``: ``p q P(a <= T + W < a + H, T > a) / (1 - p F(a))``, with ``q`` =
  P(won | SQL) and ``W ~ Gamma(shape, scale)`` the SQL -> won delay; the
  probability is integrated numerically over T (Stieltjes sums on a fine grid).

Approximations: disqualification is ignored (a lead counts as open when it
has no SQL before ``as_of``; a few non-converting MQLs close 60-150 days
after their MQL, which barely moves the rate at ages below 90 days), and the
data's end is not known to the oracle (censored label windows must be dropped
by the caller, as the training sets do).

Only evaluation reads the truth: features, labels, models and scoring never do.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import gammainc, ndtr

from leadml.data.timestamps import naive_utc_series

__all__ = ["ORACLE_COLUMNS", "oracle_probability", "time_to_sql_cdf"]

ORACLE_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "p_sql",
    "p_won_given_sql",
    "sql_shift_days",
    "sql_mu",
    "sql_sigma",
    "won_shape",
    "won_scale_days",
)
_DAY_US = 86_400_000_000
_GRID = 128  # integration steps over the label window (won): error < 1e-4
_BLOCK = 8192  # rows integrated at once: bounds memory to a few tens of MB


def time_to_sql_cdf(
    days: np.ndarray, shift: np.ndarray, mu: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """``P(T <= days)`` for ``T = shift + LogNormal(mu, sigma)`` (0 before the shift)."""
    delay = np.asarray(days, dtype=np.float64) - shift
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.where(delay > 0, delay, 1.0)) - mu) / sigma
    return np.where(delay > 0, ndtr(z), 0.0)


def _gamma_cdf(days: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.where(days > 0, gammainc(shape, np.maximum(days, 0.0) / scale), 0.0)


def _as_us(values: ArrayLike, *, what: str, n: int) -> np.ndarray:
    """Timestamps (naive UTC) as int64 microseconds, broadcast to ``n`` rows; missing values raise."""
    series = pd.Series(
        np.broadcast_to(np.asarray(values), (n,)) if np.ndim(values) == 0 else values
    )
    if len(series) != n:
        raise ValueError(f"{what}: expected {n} values (one per lead_id), got {len(series)}")
    stamps = pd.to_datetime(naive_utc_series(series))
    missing = int(stamps.isna().sum())
    if missing:
        raise ValueError(f"{what}: {missing} missing timestamps; every row needs one")
    return stamps.to_numpy(dtype="datetime64[us]").view(np.int64)


def _truth_rows(truth: pd.DataFrame, lead_id: np.ndarray) -> pd.DataFrame:
    missing_cols = [c for c in ORACLE_COLUMNS if c not in truth.columns]
    if missing_cols:
        raise ValueError(
            f"truth: missing columns {missing_cols}; expected {list(ORACLE_COLUMNS)} "
            "(the truth.parquet written by `leadml demo-data`)"
        )
    index = pd.Index(truth["lead_id"].to_numpy())
    if not index.is_unique:
        repeated = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"truth: lead_id must be unique; repeated values such as {repeated}")
    positions = index.get_indexer(lead_id)
    unknown = positions < 0
    if unknown.any():
        examples = pd.unique(lead_id[unknown])[:5].tolist()
        raise ValueError(
            f"truth: {int(unknown.sum())} lead_id values have no truth row, e.g. {examples}; "
            "was the truth generated with the same data?"
        )
    return truth.iloc[positions]


def _won_window(lower: np.ndarray, upper: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    """``P(lower <= T + W < upper, T > lower)`` = the integral over t in (lower, upper) of G(upper - t) dF(t)."""
    out = np.empty(lower.size)
    steps = np.linspace(0.0, 1.0, _GRID + 1)
    for start in range(0, lower.size, _BLOCK):
        block = slice(start, start + _BLOCK)
        lo, hi = lower[block, None], upper[block, None]
        shift = rows["sql_shift_days"].to_numpy()[block, None]
        mu = rows["sql_mu"].to_numpy()[block, None]
        sigma = rows["sql_sigma"].to_numpy()[block, None]
        shape = rows["won_shape"].to_numpy()[block, None]
        scale = rows["won_scale_days"].to_numpy()[block, None]
        # grid from max(lower, shift): F is flat before the shift
        first = np.maximum(lo, np.minimum(shift, hi))
        t = first + (hi - first) * steps
        mass = np.diff(time_to_sql_cdf(t, shift, mu, sigma), axis=1)
        middle = 0.5 * (t[:, 1:] + t[:, :-1])
        out[block] = (mass * _gamma_cdf(hi - middle, shape, scale)).sum(axis=1)
    return out


def oracle_probability(
    truth: pd.DataFrame,
    lead_id: ArrayLike,
    as_of: ArrayLike,
    *,
    created_at: ArrayLike,
    target: Literal["sql", "won"],
    horizon_days: int,
) -> np.ndarray:
    """True P(label within ``[as_of, as_of + horizon)`` | no SQL before ``as_of``, generator state).

    ``truth`` is ``truth.parquet``; ``lead_id``, ``as_of`` and ``created_at``
    are aligned arrays (``as_of`` may be one timestamp for all). A snapshot
    taken before the lead's creation counts its window from the creation.

    >>> oracle_probability(truth, [1, 2], "2024-03-01", created_at=created,
    ...                    target="sql", horizon_days=90)  # doctest: +SKIP
    array([0.031, 0.212])
    """
    if target not in ("sql", "won"):
        raise ValueError(f"target must be 'sql' or 'won'; got {target!r}")
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive; got {horizon_days}")
    ids = np.asarray(lead_id)
    if ids.ndim != 1:
        ids = ids.reshape(-1)
    n = ids.size
    rows = _truth_rows(truth, ids)
    age = (_as_us(as_of, what="as_of", n=n) - _as_us(created_at, what="created_at", n=n)) / _DAY_US
    lower = np.maximum(age, 0.0)
    upper = np.maximum(age + float(horizon_days), lower)

    p = rows["p_sql"].to_numpy(dtype=np.float64)
    shift = rows["sql_shift_days"].to_numpy(dtype=np.float64)
    mu = rows["sql_mu"].to_numpy(dtype=np.float64)
    sigma = rows["sql_sigma"].to_numpy(dtype=np.float64)
    reached_by_lower = time_to_sql_cdf(lower, shift, mu, sigma)
    still_open = 1.0 - p * reached_by_lower
    if target == "sql":
        window = time_to_sql_cdf(upper, shift, mu, sigma) - reached_by_lower
        return p * window / still_open
    q = rows["p_won_given_sql"].to_numpy(dtype=np.float64)
    return p * q * _won_window(lower, upper, rows) / still_open
