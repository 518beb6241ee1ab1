"""Account context: the other leads of the same company and how busy they were before ``as_of``.

A buying committee shows up as several contacts of one account engaging at
once. Both features count only leads created strictly before ``as_of`` and
their events strictly before ``as_of``; the lead itself is left out.
"""

from __future__ import annotations

import numpy as np

from leadml.features._kernels import account_kernel, csr_by
from leadml.features.behaviour import EventsByLead
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo
from leadml.features.columns import FeatureColumns

__all__ = ["account_catalogue", "account_columns"]


def account_columns(
    events: EventsByLead,
    *,
    lead_account: np.ndarray,
    created_us: np.ndarray,
    n_accounts: int,
    snap_lead: np.ndarray,
    snap_asof: np.ndarray,
) -> FeatureColumns:
    """``account_other_leads`` and ``account_other_events_30d`` per snapshot (missing without an account).

    ``lead_account`` maps lead codes to account codes (-1 unknown); events
    come in the (lead, ts) layout of :func:`leadml.features.behaviour.events_by_lead`.
    """
    leads_by_account = csr_by(
        lead_account, n_accounts, created_us, owner=np.arange(lead_account.size, dtype=np.int64)
    )
    n = snap_asof.size
    other_leads = np.full(n, np.nan)
    other_events = np.full(n, np.nan)
    account_kernel(
        snap_lead,
        snap_asof,
        lead_account,
        created_us,
        leads_by_account.offsets,
        leads_by_account.owner,
        events.csr.offsets,
        events.csr.ts,
        other_leads,
        other_events,
    )
    return FeatureColumns(
        columns={"account_other_leads": other_leads, "account_other_events_30d": other_events}
    )


def account_catalogue() -> FeatureCatalogue:
    """The entries of :func:`account_columns`: the company's other leads (intent family)."""
    return FeatureCatalogue(
        entries=(
            FeatureInfo(
                "account_other_leads",
                "intent",
                "account_activity",
                "numeric",
                "Other leads of the same account created before as_of",
            ),
            FeatureInfo(
                "account_other_events_30d",
                "intent",
                "account_activity",
                "numeric",
                "Events of those other leads in the 30 days before as_of",
            ),
        ),
        group_main={"account_activity": "account_other_events_30d"},
    )
