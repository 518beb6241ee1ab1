"""Intent: what happens at the lead's company before ``as_of`` (funding, hiring, new executive ...).

Signals are laid out by (account, ts) and read by
:func:`leadml.features._kernels.signal_kernel`: counts per signal type and
window (``as_of - w days <= ts < as_of``), days since each type and since
any signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.config import EventDataset
from leadml.features._kernels import (
    DAY_US,
    codes_for,
    csr_by,
    signal_kernel,
    timestamps_us,
    vocab_codes,
)
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo, vocabulary_entries
from leadml.features.columns import FeatureColumns
from leadml.vocabulary import SIGNALS, signal_group

__all__ = ["intent_catalogue", "intent_columns"]


def intent_columns(
    intent: pd.DataFrame,
    *,
    account_ids: pd.Series,
    snap_account: np.ndarray,
    snap_asof: np.ndarray,
    dataset: EventDataset,
) -> FeatureColumns:
    """Intent features per snapshot, as the kernel wrote them; ``snap_account`` are account
    codes (rows of ``account_ids``, -1 if none)."""
    types = dataset.vocabularies.signal_types
    windows = sorted(dataset.features.intent_windows_days)
    account_code = (
        codes_for(intent["account_id"], account_ids) if len(intent) else np.empty(0, np.int64)
    )
    ts = timestamps_us(intent["ts"], what="intent.ts") if len(intent) else np.empty(0, np.int64)
    type_code = vocab_codes(intent["signal_type"], types) if len(intent) else np.empty(0, np.int8)
    csr = csr_by(account_code, len(account_ids), ts, type_code)
    n = snap_asof.size
    # feature-major (features x snapshots): pandas' block layout
    counts = np.zeros((len(types) * len(windows), n), dtype=np.int32)
    days_since = np.full((len(types), n), np.nan)
    days_since_any = np.full(n, np.nan)
    signal_kernel(
        csr.offsets,
        csr.ts,
        csr.codes,
        snap_account,
        snap_asof,
        np.asarray(windows, dtype=np.int64) * DAY_US,
        counts,
        days_since,
        days_since_any,
    )
    passive = set(dataset.features.passive_signals)
    if passive:
        # the last buying signal: the most recent of the types that are not passive
        buying = [i for i, t in enumerate(types) if t not in passive]
        days_since_any = (
            np.fmin.reduce(days_since[buying], axis=0) if buying else np.full(n, np.nan)
        )
    # column order is the catalogue's job
    return FeatureColumns(
        blocks=(
            ([f"n_{t}_{w}d" for t in types for w in windows], counts),
            ([f"days_since_{t}" for t in types], days_since),
        ),
        columns={"days_since_intent": days_since_any},
    )


def intent_catalogue(dataset: EventDataset) -> FeatureCatalogue:
    """The entries of :func:`intent_columns`: what happens at the company.

    Each signal type's counts and recency feed its signal group (see
    :data:`leadml.vocabulary.SIGNALS`), told by the recency of its first type.
    """
    entries, first = vocabulary_entries(
        dataset.vocabularies.signal_types,
        SIGNALS,
        signal_group,
        family="intent",
        windows=sorted(dataset.features.intent_windows_days),
        counted="signals at the account",
        one="signal",
    )
    main = {group: f"days_since_{code}" for group, code in first.items()}
    entries.append(
        FeatureInfo(
            "days_since_intent",
            "intent",
            "intent_recency",
            "numeric",
            "Days since the account's last intent signal",
        )
    )
    main["intent_recency"] = "days_since_intent"
    return FeatureCatalogue(entries=tuple(entries), group_main=main)
