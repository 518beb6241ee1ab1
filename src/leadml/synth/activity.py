"""What leads do (events) and what happens at their companies (intent signals).

Before a lead's realised SQL its events depend only on its latent state:
a background engagement decaying from creation, a burst of buying behaviour
around the buying moment, the rep's first touch and follow-ups. After the
realised SQL marketing thins out and the rep's meetings and touches take over,
so a pipeline that peeks past ``as_of`` shows it. ``blog_view`` events and the
``technology_change`` / ``topic_surge`` signals are drawn at constant rates,
independent of everything.

Counts are Poisson per (lead, type) and expanded with ``np.repeat``: no Python
loop over leads.
"""

from __future__ import annotations

import numpy as np

from leadml.synth.funnel import Funnel
from leadml.synth.params import EMAIL_STATUS, EVENT_TYPES, SIGNAL_TYPES, SOURCES, GeneratorParams
from leadml.synth.population import DAY_S, Accounts, Latent, Leads

__all__ = ["draw_events", "draw_signals"]

_CODE = {name: np.int8(i) for i, name in enumerate(EVENT_TYPES)}
_MARKETING = np.isin(
    np.array(EVENT_TYPES),
    [
        "pricing_view", "demo_page_view", "product_page_view", "email_open", "email_click",
        "whitepaper_download", "webinar_registration", "webinar_attended", "form_submit", "demo_request",
    ],
)  # fmt: skip
_EMAIL_ENGAGEMENT = np.isin(np.array(EVENT_TYPES), ["email_open", "email_click"])


class _Rows:
    """Accumulates (lead row, days after creation, type code) blocks."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.days: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.types: list[str] = []

    def add(self, rows: np.ndarray, days: np.ndarray, event_type: str) -> None:
        self.rows.append(rows)
        self.days.append(days)
        self.codes.append(np.full(rows.size, _CODE[event_type], dtype=np.int8))
        self.types.append(event_type)

    def of_type(self, event_type: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, days) of the blocks added so far for one type."""
        picked = [i for i, t in enumerate(self.types) if t == event_type]
        return (
            np.concatenate([self.rows[i] for i in picked] + [np.empty(0, np.int64)]),
            np.concatenate([self.days[i] for i in picked] + [np.empty(0)]),
        )

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self.rows), np.concatenate(self.days), np.concatenate(self.codes)


def _repeat_poisson(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    """Lead rows repeated by a Poisson count drawn per lead."""
    return np.repeat(np.arange(rate.size, dtype=np.int64), rng.poisson(rate))


def draw_events(
    rng: np.random.Generator, leads: Leads, latent: Latent, funnel: Funnel, params: GeneratorParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every event of the chunk, uncensored: (lead row, days after creation, type code)."""
    n = leads.n
    out = _Rows()
    interest = latent.interest
    invalid = leads.email_status == EMAIL_STATUS.index("invalid")
    risky = leads.email_status == EMAIL_STATUS.index("risky")
    email_reach = np.where(invalid, 0.0, np.where(risky, params.opens_factor_risky, 1.0))
    decay_mean_days = params.engagement_half_life_days / np.log(2.0)

    for event_type, (count, slope) in params.background.items():
        rate = count * np.exp(slope * interest)
        if event_type in ("email_open", "email_click"):
            rate = rate * email_reach
        rows = _repeat_poisson(rng, rate)
        out.add(rows, rng.exponential(decay_mean_days, rows.size), event_type)

    for event_type, (count, slope, spread) in params.burst.items():
        rate = count * np.exp(slope * interest)
        if event_type == "email_click":
            rate = rate * email_reach
        rows = _repeat_poisson(rng, rate)
        days = np.abs(latent.buying_moment_days[rows] + rng.normal(0.0, spread, rows.size))
        out.add(rows, days, event_type)

    requested = np.flatnonzero(~np.isnan(latent.demo_request_days))
    out.add(requested, latent.demo_request_days[requested], "demo_request")

    # the channel's own first touch, seconds to minutes after creation
    for source, event_types in (
        ("demo_form", ("demo_request", "form_submit")),
        ("webinar", ("webinar_registration",)),
        ("content_download", ("whitepaper_download",)),
    ):
        rows = np.flatnonzero(leads.source == SOURCES.index(source))
        for event_type in event_types:
            out.add(rows, rng.uniform(1.0, 300.0, rows.size) / DAY_S, event_type)

    reg_rows, reg_days = out.of_type("webinar_registration")
    attend = np.minimum(params.webinar_attendance * np.exp(0.3 * interest[reg_rows]), 0.95)
    attended = rng.random(reg_rows.size) < attend
    out.add(
        reg_rows[attended],
        reg_days[attended] + rng.uniform(1.0, 10.0, int(attended.sum())),
        "webinar_attended",
    )

    # blog views: constant rate, independent of everything (a no-effect attribute)
    rows = np.repeat(np.arange(n, dtype=np.int64), rng.poisson(params.blog_views, n))
    out.add(rows, rng.uniform(0.0, params.blog_window_days, rows.size), "blog_view")

    # the rep's first touch (speed to lead) and follow-ups
    first_touch = latent.first_touch_hours / 24.0
    out.add(np.arange(n, dtype=np.int64), first_touch, "sales_touch")
    rows = _repeat_poisson(rng, np.full(n, params.follow_up_touches))
    out.add(
        rows,
        first_touch[rows] + rng.exponential(params.follow_up_mean_days, rows.size),
        "sales_touch",
    )

    bounce_rate = np.where(
        invalid, params.bounces_invalid, np.where(risky, params.bounces_risky, 0.0)
    )
    rows = _repeat_poisson(rng, bounce_rate)
    out.add(rows, rng.exponential(decay_mean_days, rows.size), "email_bounce")

    unsubscribed = np.flatnonzero(~np.isnan(latent.unsubscribe_days))
    out.add(unsubscribed, latent.unsubscribe_days[unsubscribed], "unsubscribe")

    rows, days, codes = out.arrays()
    # after the realised SQL (depends on the outcome; never before it): marketing thins out
    after_sql = days >= funnel.sql_days[rows]  # NaN (never SQL) compares False
    dropped = (
        after_sql & _MARKETING[codes] & (rng.random(rows.size) >= params.post_sql_marketing_kept)
    )
    keep = ~dropped
    # no email engagement after unsubscribing
    keep &= ~(_EMAIL_ENGAGEMENT[codes] & (days >= latent.unsubscribe_days[rows]))
    rows, days, codes = rows[keep], days[keep], codes[keep]

    post = _Rows()
    sql_rows = np.flatnonzero(~np.isnan(funnel.sql_days))
    for event_type, count in (
        ("meeting", params.post_sql_meetings),
        ("sales_touch", params.post_sql_sales_touches),
        ("pricing_view", params.post_sql_pricing_views),
    ):
        picked = np.repeat(sql_rows, rng.poisson(count, sql_rows.size))
        post.add(
            picked,
            funnel.sql_days[picked] + rng.exponential(params.post_sql_mean_days, picked.size),
            event_type,
        )
    post_rows, post_days, post_codes = post.arrays()
    return (
        np.concatenate([rows, post_rows]),
        np.concatenate([days, post_days]),
        np.concatenate([codes, post_codes]),
    )


def draw_signals(
    rng: np.random.Generator,
    accounts: Accounts,
    leads: Leads,
    latent: Latent,
    *,
    period_s: tuple[int, int],
    params: GeneratorParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Intent signals, uncensored: (account row, seconds since the epoch, signal code, strength).

    Every account has background signals over the whole period (and some
    history before it); in-market accounts add funding rounds, hiring surges
    and new executives around each of their leads' creation.
    """
    start_s, end_s = period_s
    history_start = start_s - int(params.intent_history_days * DAY_S)
    years = (end_s - history_start) / (365.25 * DAY_S)
    accounts_out, ts_out, codes_out, strength_out = [], [], [], []
    for code, signal_type in enumerate(SIGNAL_TYPES):
        rows = np.repeat(
            np.arange(accounts.n, dtype=np.int64),
            rng.poisson(params.background_signals_per_year[signal_type] * years, accounts.n),
        )
        accounts_out.append(rows)
        ts_out.append(rng.integers(history_start, end_s, rows.size))
        codes_out.append(np.full(rows.size, code, dtype=np.int8))
        strength_out.append(rng.beta(2.0, 3.0, rows.size))

    in_market_leads = np.flatnonzero(latent.in_market)
    lo, hi = params.in_market_window_days
    for signal_type, count in params.in_market_signals_per_lead.items():
        picked = np.repeat(in_market_leads, rng.poisson(count, in_market_leads.size))
        accounts_out.append(leads.account[picked])
        offset = (rng.uniform(lo, hi, picked.size) * DAY_S).astype(np.int64)
        ts_out.append(leads.created_s[picked] + offset)
        codes_out.append(np.full(picked.size, SIGNAL_TYPES.index(signal_type), dtype=np.int8))
        strength_out.append(rng.beta(4.0, 2.0, picked.size))
    return (
        np.concatenate(accounts_out),
        np.concatenate(ts_out),
        np.concatenate(codes_out),
        np.concatenate(strength_out),
    )
