"""Account context: the other leads of the same company and how busy they were before ``as_of``.

A buying committee shows up as several contacts of one account engaging at
once. Both features only count leads created strictly before ``as_of`` and
events strictly before ``as_of``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.features._kernels import account_kernel, csr_by

__all__ = ["account_features"]


def account_features(
    *,
    ev_lead: np.ndarray,
    ev_ts: np.ndarray,
    lead_account: np.ndarray,
    created_us: np.ndarray,
    n_accounts: int,
    snap_lead: np.ndarray,
    snap_asof: np.ndarray,
    own_events_30d: np.ndarray,
) -> pd.DataFrame:
    """``account_other_leads`` and ``account_other_events_30d`` per snapshot.

    ``ev_lead`` (lead codes, -1 unknown) and ``ev_ts`` (µs) describe every
    event; ``lead_account`` maps lead codes to account codes (-1 unknown);
    ``own_events_30d`` is each snapshot's own event count in the same window.
    """
    valid = ev_lead >= 0
    ev_account = np.where(valid, lead_account[np.maximum(ev_lead, 0)], -1)
    by_account = csr_by(ev_account, n_accounts, ev_ts)
    # events dated before their own lead was created: the only way a lead created
    # after as_of can have events before as_of (rare; removed one by one)
    early = valid & (ev_ts < created_us[np.maximum(ev_lead, 0)])
    early_csr = csr_by(np.where(early, ev_account, -1), n_accounts, ev_ts, owner=ev_lead)
    created_by_account = csr_by(lead_account, n_accounts, created_us)
    n = snap_asof.size
    other_leads = np.full(n, np.nan)
    other_events = np.full(n, np.nan)
    account_kernel(
        snap_lead,
        snap_asof,
        lead_account,
        created_us,
        own_events_30d,
        created_by_account.offsets,
        created_by_account.ts,
        by_account.offsets,
        by_account.ts,
        early_csr.offsets,
        early_csr.ts,
        early_csr.owner,
        other_leads,
        other_events,
    )
    return pd.DataFrame(
        {"account_other_leads": other_leads, "account_other_events_30d": other_events}, copy=False
    )
