"""Labels: did the lead reach a target stage within ``H`` days after ``as_of``?

* The label window is **half-open**, ``[as_of, as_of + H)``: an outcome at
  exactly ``as_of`` counts (the features, which read ``ts < as_of``, could
  not see it), one at exactly ``as_of + H`` does not.
* Labels come only from the outcomes table's stage history (``stage``,
  ``ts``), never from fields a rep fills in after the outcome (status tags,
  "lead quality", ...).
* A snapshot whose window passes the end of the data (``as_of + H >
  data_end``) is **censored**: we cannot know it is negative, so it is
  dropped and counted, never labelled 0. Positives in such windows are
  dropped too, so censoring does not tilt the class balance.
* ``data_end`` is the latest timestamp in any table unless given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadml.data.io import Tables
from leadml.features._kernels import (
    DAY_US,
    codes_for,
    csr_by,
    next_time_kernel,
    timestamp_us,
    timestamps_us,
)

__all__ = ["LabelledSnapshots", "data_end_of", "label_snapshots"]

_NAT = np.iinfo(np.int64).min

# (table, timestamp column) pairs that bound what the data has observed
_TIME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("leads", "created_at"),
    ("events", "ts"),
    ("intent", "ts"),
    ("outcomes", "ts"),
)


def data_end_of(tables: Tables) -> pd.Timestamp:
    """The latest timestamp over all tables: the data is observed up to this instant."""
    latest = _NAT
    for table, column in _TIME_COLUMNS:
        frame = getattr(tables, table)
        if column in frame.columns and len(frame):
            ts = timestamps_us(frame[column], what=f"{table}.{column}")
            latest = max(latest, int(ts.max()))
    if latest == _NAT:
        raise ValueError(
            "cannot tell where the data ends: every table is empty or has no timestamps"
        )
    return pd.Timestamp(latest, unit="us")


@dataclass(frozen=True)
class LabelledSnapshots:
    """Kept snapshots with ``label`` (int8), and how many were censored."""

    frame: pd.DataFrame
    censored: int
    data_end: pd.Timestamp


def label_snapshots(
    snapshots: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    stages: Sequence[str],
    horizon_days: float,
    data_end: pd.Timestamp,
) -> LabelledSnapshots:
    """Label each snapshot: 1 if any of ``stages`` is reached in ``[as_of, as_of + H)``.

    Censored snapshots (``as_of + H > data_end``) are dropped and counted.
    The frame keeps the snapshots' columns and order (index reset) and adds
    ``label`` and ``reached_at`` (the first target time at or after as_of, NaT if none).
    """
    if horizon_days <= 0:
        raise ValueError(f"target.horizon_days must be positive; got {horizon_days}")
    as_of = timestamps_us(snapshots["as_of"], what="snapshots.as_of")
    horizon = int(round(horizon_days * DAY_US))
    end = timestamp_us(data_end)
    kept = as_of + horizon <= end
    frame = snapshots.loc[kept].reset_index(drop=True)
    as_of = as_of[kept]

    is_target = (
        outcomes["stage"].astype("str").isin(list(stages)).to_numpy(dtype=bool, na_value=False)
        if len(outcomes)
        else np.zeros(0, dtype=bool)
    )
    target = outcomes.loc[is_target]
    leads = pd.Series(pd.unique(frame["lead_id"]))
    group = codes_for(target["lead_id"], leads) if len(target) else np.empty(0, np.int64)
    ts = timestamps_us(target["ts"], what="outcomes.ts") if len(target) else np.empty(0, np.int64)
    csr = csr_by(group, len(leads), ts)
    reached = np.empty(len(frame), dtype=np.int64)
    next_time_kernel(csr.offsets, csr.ts, codes_for(frame["lead_id"], leads), as_of, reached)
    label = (reached != _NAT) & (reached < as_of + horizon)
    frame = frame.assign(
        label=label.astype(np.int8),
        reached_at=reached.view("datetime64[us]"),
    )
    return LabelledSnapshots(
        frame=frame, censored=int((~kept).sum()), data_end=pd.Timestamp(data_end)
    )
