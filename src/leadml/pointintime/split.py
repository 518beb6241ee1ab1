"""Out-of-time split: train | valid | calib | test by ``as_of``, with a purge gap between parts.

Parts follow each other in time: every ``as_of`` of a later part is at least
``gap`` after the last ``as_of`` of the part before. With ``gap = H`` (the
label horizon, the default) no label window ``[as_of, as_of + H)`` of an
earlier part reaches into the next part. Snapshots falling in a gap are
dropped ("purged") and counted. Fractions apply to the snapshots that are
kept, so the gaps do not eat the small parts; snapshots with the same
``as_of`` always land in the same part.

Flat mode orders rows by the time column, or by row number, and the gap
is then a number of rows (default 0).

Two fold layouts over the same ordering, with the same purge rule:

* :func:`rolling_origin_folds` (the backtest): test blocks one after the
  other after an initial stretch; each fold trains only on rows before its
  block (all of them, or a sliding window of fixed size), purged by ``gap``.
* :func:`cross_fitting_folds` (early stopping and Platt without a separate
  slice): every row is held out once, in time blocks; a block's model trains
  on the rows before *and after* it, purged by ``gap`` on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import SplitSpec
from leadml.data.timestamps import naive_utc_series

__all__ = [
    "PARTS",
    "PURGED",
    "Fold",
    "SplitResult",
    "cross_fitting_folds",
    "rolling_origin_folds",
    "split_by_order",
    "split_summary",
]

PARTS: tuple[str, ...] = ("train", "valid", "calib", "test")
PURGED = "purged"


@dataclass(frozen=True)
class SplitResult:
    """The part of each row (a categorical: ``"purged"`` for rows in a gap), and the boundaries used."""

    assignment: pd.Series
    purged: int
    boundaries: dict[str, Any]


def _fractions(fractions: SplitSpec | Mapping[str, float]) -> np.ndarray:
    if isinstance(fractions, SplitSpec):
        values = [getattr(fractions, p) for p in PARTS]
    else:
        unknown = sorted(set(fractions) - set(PARTS))
        if unknown:
            raise ValueError(f"split fractions: unknown parts {unknown}; expected {list(PARTS)}")
        values = [float(fractions.get(p, 0.0)) for p in PARTS]
    total = sum(values)
    if total <= 0 or min(values) < 0:
        raise ValueError(
            f"split fractions must be >= 0 with a positive sum; got {dict(zip(PARTS, values, strict=False))}"
        )
    return np.asarray(values) / total


def _order_values(order: pd.Series | np.ndarray) -> tuple[np.ndarray, str]:
    series = pd.Series(order)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = naive_utc_series(series).to_numpy(dtype="datetime64[us]").view(np.int64)
        if (values == np.iinfo(np.int64).min).any():
            raise ValueError("split: the ordering column has missing timestamps")
        return values, "time"
    if pd.api.types.is_numeric_dtype(series.dtype):
        if series.isna().any():
            raise ValueError("split: the ordering column has missing values")
        return series.to_numpy(dtype=np.int64), "rows"
    raise ValueError(
        f"split: expected timestamps or row numbers to order by, got dtype {series.dtype}"
    )


def _gap_units(gap: pd.Timedelta | int, unit: str) -> int:
    """The gap in the ordering's units: a later part starts at ``t_last + units`` or after."""
    if unit == "time":
        delta = (
            pd.Timedelta(days=gap)
            if isinstance(gap, int | float | np.number)
            else pd.Timedelta(gap)
        )
        units = int(delta // pd.Timedelta(microseconds=1))
    else:
        if not isinstance(gap, int | np.integer) or gap < 0:
            raise ValueError(f"split: with row order the gap is a number of rows >= 0; got {gap!r}")
        units = int(gap) + 1  # next part starts gap rows after the last kept row
    if units < 0:
        raise ValueError(f"split: the purge gap must not be negative; got {gap!r}")
    return units


def _sorted(
    order: pd.Series | np.ndarray, gap: pd.Timedelta | int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows' positions in order (stable), their order values so sorted, and ``gap`` in
    the ordering's units (see :func:`_gap_units`)."""
    values, unit = _order_values(order)
    gap_units = _gap_units(gap, unit)
    sorter = np.argsort(values, kind="stable")
    return sorter, values[sorter], gap_units


def split_by_order(
    order: pd.Series | np.ndarray,
    *,
    fractions: SplitSpec | Mapping[str, float],
    gap: pd.Timedelta | int = 0,
) -> SplitResult:
    """Assign each row to a part by its position in time (or row order), purging ``gap`` between parts.

    ``order``: timestamps (then ``gap`` is a Timedelta, or days as a number) or
    row numbers (then ``gap`` counts rows dropped between parts).

    >>> split_by_order(snapshots["as_of"], fractions=config.split, gap=pd.Timedelta(days=90))
    """
    sorter, t, gap_units = _sorted(order, gap)
    share = _fractions(fractions)
    n = t.size

    # Fractions apply to the kept rows; how many are purged depends on where the
    # boundaries fall, so iterate to a fixed point (a few rounds at most).
    n_kept = n
    starts: list[int] = []
    ends: list[int] = []
    for _ in range(20):
        starts, ends = [], []
        start = 0
        for k in range(len(PARTS) - 1):
            want = int(round(share[k] * n_kept))
            if want <= 0 or start >= n:
                starts.append(start)
                ends.append(start)
                continue
            last = min(start + want, n) - 1
            last = int(np.searchsorted(t, t[last], side="right")) - 1  # ties stay together
            starts.append(start)
            ends.append(last + 1)
            start = max(last + 1, int(np.searchsorted(t, t[last] + gap_units, side="left")))
        starts.append(min(start, n))
        ends.append(n)
        kept = sum(e - s for s, e in zip(starts, ends, strict=False))
        if kept == n_kept:
            break
        n_kept = kept

    # parts as category codes: millions of rows, five values
    purged_code = len(PARTS)
    codes_sorted = np.full(n, purged_code, dtype=np.int8)
    boundaries: dict[str, Any] = {}
    for code, (part, s, e) in enumerate(zip(PARTS, starts, ends, strict=True)):
        codes_sorted[s:e] = code
        boundaries[part] = (int(t[s]), int(t[e - 1])) if e > s else None
    codes = np.empty(n, dtype=np.int8)
    codes[sorter] = codes_sorted
    index = order.index if isinstance(order, pd.Series) else pd.RangeIndex(n)
    assignment = pd.Categorical.from_codes(codes, categories=[*PARTS, PURGED])
    return SplitResult(
        assignment=pd.Series(assignment, index=index, name="split"),
        purged=int((codes_sorted == purged_code).sum()),
        boundaries=boundaries,
    )


def _stamp(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.integer):
        return int(value)
    return value


def split_summary(
    assignment: pd.Series, as_of: pd.Series, label: pd.Series | np.ndarray
) -> dict[str, Any]:
    """Per part: n, positives, rate, as_of min/max (JSON-ready); and the purged count."""
    frame = pd.DataFrame(
        {"split": np.asarray(assignment), "as_of": np.asarray(as_of), "label": np.asarray(label)}
    )
    out: dict[str, Any] = {}
    for part in PARTS:
        rows = frame[frame["split"] == part]
        n = len(rows)
        positives = int(rows["label"].sum())
        out[part] = {
            "n": n,
            "positives": positives,
            "rate": positives / n if n else None,
            "as_of_min": _stamp(rows["as_of"].min()) if n else None,
            "as_of_max": _stamp(rows["as_of"].max()) if n else None,
        }
    out["purged"] = int((frame["split"] == PURGED).sum())
    return out


@dataclass(frozen=True)
class Fold:
    """One fold: positions (into the ordering given) of its training rows and held-out rows."""

    number: int
    train: np.ndarray
    test: np.ndarray
    purged: int  # rows left out of training because their label window reaches the block

    def describe(self, order: pd.Series | np.ndarray) -> dict[str, Any]:
        """Sizes and order ranges (JSON-ready)."""
        values = pd.Series(order).to_numpy()

        def span(rows: np.ndarray) -> list[Any] | None:
            if not len(rows):
                return None
            return [_stamp(values[rows].min()), _stamp(values[rows].max())]

        return {
            "fold": self.number,
            "n_train": int(len(self.train)),
            "n_test": int(len(self.test)),
            "purged": self.purged,
            "train_range": span(self.train),
            "test_range": span(self.test),
        }


def _block_starts(t: np.ndarray, start: int, blocks: int) -> list[int]:
    """``blocks + 1`` boundaries cutting ``t[start:]`` (sorted) into blocks of equal size,
    each moved back to the first of its ties so one order value never spans two blocks."""
    n = t.size
    bounds = [start]
    for k in range(1, blocks):
        at = start + int(round(k * (n - start) / blocks))
        at = int(np.searchsorted(t, t[min(at, n - 1)], side="left")) if at < n else n
        bounds.append(max(at, bounds[-1]))
    bounds.append(n)
    return bounds


def rolling_origin_folds(
    order: pd.Series | np.ndarray,
    *,
    folds: int,
    initial_fraction: float = 0.4,
    window: str = "expanding",
    gap: pd.Timedelta | int = 0,
) -> list[Fold]:
    """Rolling-origin folds: the rows after the first ``initial_fraction`` cut into ``folds``
    test blocks in time order; fold k trains on the rows before block k whose order value is
    at least ``gap`` before the block's first (``expanding``), or on the most recent of them,
    as many as the first fold has (``sliding``).

    >>> rolling_origin_folds(rows["as_of"], folds=4, gap=pd.Timedelta(days=90))
    """
    if folds < 1:
        raise ValueError(f"backtest: folds must be >= 1; got {folds}")
    if not 0.0 < initial_fraction < 1.0:
        raise ValueError(f"backtest: initial_fraction must be in (0, 1); got {initial_fraction}")
    if window not in ("expanding", "sliding"):
        raise ValueError(f"backtest: window must be 'expanding' or 'sliding'; got {window!r}")
    sorter, t, gap_units = _sorted(order, gap)
    n = t.size
    first = int(round(initial_fraction * n))
    if n == 0 or first >= n:
        raise ValueError(f"backtest: {n} rows leave no rows to test after the first {first}")
    first = int(np.searchsorted(t, t[first], side="left"))
    bounds = _block_starts(t, first, folds)
    out: list[Fold] = []
    width: int | None = None
    for k in range(folds):
        s, e = bounds[k], bounds[k + 1]
        if e <= s:
            raise ValueError(
                f"backtest: fold {k + 1} of {folds} has no rows ({n} rows; use fewer folds)"
            )
        end = int(np.searchsorted(t, t[s] - gap_units, side="right"))  # t + gap <= t[s]
        end = min(end, s)
        if end == 0:
            raise ValueError(
                f"backtest: fold {k + 1} of {folds} has no training rows before it once the "
                f"purge gap is taken out (raise initial_fraction or shorten the gap)"
            )
        start = 0
        if window == "sliding":
            width = end if width is None else width
            start = max(0, end - width)
        out.append(
            Fold(
                number=k + 1,
                train=np.sort(sorter[start:end]),
                test=np.sort(sorter[s:e]),
                purged=s - end,
            )
        )
    return out


def cross_fitting_folds(
    order: pd.Series | np.ndarray,
    *,
    folds: int,
    gap: pd.Timedelta | int = 0,
    forward: bool = False,
) -> list[Fold]:
    """Rows held out in ``folds`` time blocks; a block's training rows are the rows before it
    (order value at least ``gap`` before its first) and after it (at least ``gap`` after its
    last), so no label window crosses into or out of the block.

    ``forward``: a block learns from the rows before it only, as a deployed model does, so
    its margins are forecasts; the first block has nothing before it and is left out
    (its rows are held out by no fold).
    """
    if folds < 2:
        raise ValueError(f"cross-fitting: folds must be >= 2; got {folds}")
    sorter, t, gap_units = _sorted(order, gap)
    n = t.size
    if n < folds:
        raise ValueError(f"cross-fitting: {n} rows cannot make {folds} folds")
    bounds = _block_starts(t, 0, folds)
    out: list[Fold] = []
    for k in range(folds):
        s, e = bounds[k], bounds[k + 1]
        if e <= s:
            raise ValueError(
                f"cross-fitting: block {k + 1} of {folds} is empty ({n} rows sharing few order "
                "values; use fewer folds)"
            )
        before = min(int(np.searchsorted(t, t[s] - gap_units, side="right")), s)
        after = max(int(np.searchsorted(t, t[e - 1] + gap_units, side="left")), e)
        if forward and k == 0:
            continue
        train = sorter[:before] if forward else np.concatenate([sorter[:before], sorter[after:]])
        out.append(
            Fold(
                number=k + 1,
                train=np.sort(train),
                test=np.sort(sorter[s:e]),
                purged=(s - before) + (0 if forward else after - e),
            )
        )
    return out
