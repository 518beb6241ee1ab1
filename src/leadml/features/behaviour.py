"""Behaviour: what the person did before ``as_of`` -- counts per event type and window, recency,
active days, decayed engagement, trend, speed to lead.

The hot path. Events are laid out once by (lead, ts) in CSR arrays and a
numba kernel (:func:`leadml.features._kernels.event_kernel`) walks each
snapshot's past events once, in parallel over snapshots. Only events with
``ts < as_of`` are read; a window of ``w`` days holds events with
``as_of - w days <= ts < as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadml.config import EventDataset
from leadml.features._kernels import DAY_US, HOUR_US, Csr, as_category, csr_by, event_kernel
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo, vocabulary_entries
from leadml.features.columns import FeatureColumns
from leadml.vocabulary import EVENTS, event_group

__all__ = [
    "NON_ENGAGEMENT_EVENTS",
    "EventsByLead",
    "behaviour_catalogue",
    "behaviour_columns",
    "events_by_lead",
    "source_feature",
]

# Events that are not the lead's own engagement: the rep's touch, and the
# negative signals. They keep their own counts and recency but do not feed
# activity, decay, trend or inactivity.
NON_ENGAGEMENT_EVENTS: frozenset[str] = frozenset({"unsubscribe", "email_bounce"})


@dataclass(frozen=True)
class EventsByLead:
    """Events grouped by lead code and sorted by time (CSR), type codes from the vocabulary."""

    csr: Csr
    n_leads: int


def events_by_lead(
    lead_code: np.ndarray, ts_us: np.ndarray, type_code: np.ndarray, n_leads: int
) -> EventsByLead:
    """Lay the events out by lead; rows of unknown leads or without a time are dropped."""
    return EventsByLead(csr_by(lead_code, n_leads, ts_us, type_code), n_leads)


def engaging_types(dataset: EventDataset) -> np.ndarray:
    """Boolean per vocabulary type: does it count as the lead's own engagement?"""
    excluded = (
        NON_ENGAGEMENT_EVENTS
        | {dataset.features.sales_touch_event}
        | set(dataset.features.passive_events)
    )
    return np.array([t not in excluded for t in dataset.vocabularies.event_types], dtype=np.bool_)


def behaviour_columns(
    events: EventsByLead,
    *,
    snap_lead: np.ndarray,
    snap_asof: np.ndarray,
    created_us: np.ndarray,
    dataset: EventDataset,
) -> FeatureColumns:
    """Event features per snapshot, as the kernel wrote them.

    ``snap_lead`` are lead codes (rows of the leads table), ``snap_asof`` and
    ``created_us`` microseconds.
    """
    fs = dataset.features
    types = dataset.vocabularies.event_types
    windows = sorted(fs.event_windows_days)
    windows_us = np.asarray(windows, dtype=np.int64) * DAY_US
    n = snap_asof.size
    # feature-major (features x snapshots): pandas' block layout
    counts = np.zeros((len(types) * len(windows), n), dtype=np.int32)
    days_since = np.full((len(types), n), np.nan)
    extra = np.full((5, n), np.nan)
    touch = types.index(fs.sales_touch_event) if fs.sales_touch_event in types else -1
    csr = events.csr
    event_kernel(
        csr.offsets,
        csr.ts,
        csr.codes,
        snap_lead,
        snap_asof,
        windows_us,
        len(types),
        engaging_types(dataset),
        touch,
        np.log(2.0) / fs.half_life_days,
        counts,
        days_since,
        extra,
    )
    created = created_us[snap_lead].astype(np.float64)
    # column order is the catalogue's job
    return FeatureColumns(
        blocks=(
            ([f"n_{t}_{w}d" for t in types for w in windows], counts),
            ([f"days_since_{t}" for t in types], days_since),
        ),
        columns={
            "active_days_90d": extra[0],
            "engagement_decayed": extra[1],
            "engagement_trend": extra[2],
            "lead_age_days": (snap_asof - created_us[snap_lead]) / DAY_US,
            "hours_to_first_touch": (extra[3] - created) / HOUR_US,
            "days_since_last_activity": extra[4],
        },
    )


def source_feature(leads: pd.DataFrame) -> pd.Categorical:
    """Acquisition channel per lead (rows aligned with ``leads``)."""
    return as_category(leads.get("source"), len(leads))


def behaviour_catalogue(dataset: EventDataset) -> FeatureCatalogue:
    """The entries of :func:`behaviour_columns` and :func:`source_feature`: what the person did.

    Each event type's counts and recency feed its signal group (see
    :data:`leadml.vocabulary.EVENTS`); the group's main feature is the recency of
    one-off actions and the count in the middle window of repeated ones.
    """
    fs = dataset.features
    windows = sorted(fs.event_windows_days)
    entries, first = vocabulary_entries(
        dataset.vocabularies.event_types,
        EVENTS,
        event_group,
        family="behaviour",
        windows=windows,
        counted="events",
        one="event",
    )
    main = {
        group: f"days_since_{code}"
        if (code in EVENTS and EVENTS[code].recency_first) or not windows
        else f"n_{code}_{windows[len(windows) // 2]}d"
        for group, code in first.items()
    }
    entries += [
        FeatureInfo(
            "active_days_90d",
            "behaviour",
            "engagement",
            "numeric",
            "Distinct days with engagement in the last 90 days",
            direction="+",
            presence=True,
        ),
        FeatureInfo(
            "engagement_decayed",
            "behaviour",
            "engagement",
            "numeric",
            f"Engagement events weighted by exp(-ln2 * age / {fs.half_life_days:g} days)",
            direction="+",
        ),
        FeatureInfo(
            "engagement_trend",
            "behaviour",
            "engagement",
            "numeric",
            "Engagement events in the last 7 days minus the 23 days before scaled to 7 days",
        ),
        FeatureInfo(
            "lead_age_days", "behaviour", "lead_age", "numeric", "Days since the lead was created"
        ),
        FeatureInfo("source", "behaviour", "source", "categorical", "Acquisition channel"),
        FeatureInfo(
            "hours_to_first_touch",
            "behaviour",
            "speed_to_lead",
            "numeric",
            f"Hours from creation to the first '{fs.sales_touch_event}' (missing if none yet)",
            direction="-",
        ),
        FeatureInfo(
            "days_since_last_activity",
            "behaviour",
            "inactivity",
            "numeric",
            "Days since the last engagement event (missing if none)",
            direction="-",
        ),
    ]
    main |= {
        "engagement": "engagement_decayed",
        "lead_age": "lead_age_days",
        "source": "source",
        "speed_to_lead": "hours_to_first_touch",
        "inactivity": "days_since_last_activity",
    }
    return FeatureCatalogue(entries=tuple(entries), group_main=main)
