"""The realised funnel: which leads reach MQL, SQL, opportunity, won, lost or disqualified, and when.

The SQL time is drawn from the lead's own time-to-SQL distribution with
probability ``p_sql`` (the oracle's model, exactly); the won/lost outcome
follows with probability ``p_won_given_sql`` after a gamma delay. MQL and
disqualification are bookkeeping around them and are not modelled by the
oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadml.synth.params import EVENT_TYPES, STAGES, GeneratorParams
from leadml.synth.population import Latent

__all__ = ["NURTURE_EVENTS", "Funnel", "draw_funnel", "recycle_dormant", "stage_rows"]

# The lead's own engagement: what keeps a lead alive in the nurture rule. Blog views (drawn at
# a constant rate, no effect on conversion), the rep's touches, bounces and unsubscribes do not.
NURTURE_EVENTS: tuple[str, ...] = (
    "pricing_view", "demo_page_view", "product_page_view", "email_open", "email_click",
    "whitepaper_download", "webinar_registration", "webinar_attended", "form_submit",
    "demo_request", "meeting",
)  # fmt: skip


@dataclass(frozen=True)
class Funnel:
    """Realised stage times in days after creation (NaN: never)."""

    mql_days: np.ndarray
    sql_days: np.ndarray
    opportunity_days: np.ndarray
    won_days: np.ndarray
    lost_days: np.ndarray
    disqualified_days: np.ndarray


def draw_funnel(rng: np.random.Generator, latent: Latent, params: GeneratorParams) -> Funnel:
    """Draw every lead's stage history from its latent state (uncensored)."""
    n = latent.p_sql.size
    nan = np.full(n, np.nan)
    reaches_sql = rng.random(n) < latent.p_sql
    time_to_sql = latent.sql_shift_days + np.exp(
        latent.sql_mu + latent.sql_sigma * rng.standard_normal(n)
    )
    sql = np.where(reaches_sql, time_to_sql, nan)

    wins = reaches_sql & (rng.random(n) < latent.p_won_given_sql)
    won_delay = rng.gamma(latent.won_shape, latent.won_scale_days)
    lost_delay = rng.gamma(latent.won_shape, latent.won_scale_days)
    has_opportunity = wins | (reaches_sql & (rng.random(n) < params.opportunity_share_not_won))
    close_delay = np.where(wins, won_delay, lost_delay)
    opportunity = np.where(has_opportunity, sql + close_delay * rng.uniform(0.1, 0.4, n), nan)
    won = np.where(wins, sql + won_delay, nan)
    lost = np.where(has_opportunity & ~wins, sql + lost_delay, nan)

    # MQL: every SQL passes it first; other leads by interest, around their buying moment
    other_mql = ~reaches_sql & (
        rng.random(n)
        < 1.0
        / (
            1.0
            + np.exp(-(params.mql_intercept_non_sql + params.mql_interest_slope * latent.interest))
        )
    )
    mql = np.where(
        reaches_sql,
        time_to_sql * rng.uniform(0.4, 0.95, n),
        np.where(other_mql, latent.buying_moment_days * rng.uniform(0.7, 1.3, n), nan),
    )
    lo, hi = params.disqualified_after_mql_days
    disqualified_lead = other_mql & (rng.random(n) < params.disqualified_share)
    disqualified = np.where(disqualified_lead, mql + rng.uniform(lo, hi, n), nan)
    return Funnel(mql, sql, opportunity, won, lost, disqualified)


def recycle_dormant(
    funnel: Funnel,
    event_rows: np.ndarray,
    event_days: np.ndarray,
    event_codes: np.ndarray,
    params: GeneratorParams,
) -> tuple[Funnel, np.ndarray, np.ndarray]:
    """Disqualify (recycle) leads that stay dormant for ``params.nurture_days`` before any SQL.

    As CRMs do after a nurture period: a lead whose own engagement (``NURTURE_EVENTS``, from
    creation on) pauses for ``nurture_days`` is disqualified at the end of that pause, unless
    it reached SQL first. The rule reads only the past, so an open lead's features tell
    nothing about its future that its own activity does not. A recycled lead's later stages
    (a realised SQL and what followed) are dropped, and so are its events after recycling
    when it had such an SQL (the sales process behind it never happened).

    Returns the new funnel, a keep-mask over the events and the recycling day per lead
    (NaN: never recycled).
    """
    n = funnel.sql_days.size
    recycled = np.full(n, np.nan)
    keep_events = np.ones(event_rows.size, dtype=bool)
    if not np.isfinite(params.nurture_days):
        return funnel, keep_events, recycled
    codes = np.flatnonzero(np.isin(np.array(EVENT_TYPES), NURTURE_EVENTS))
    engaged = np.isin(event_codes, codes)
    rows, days = event_rows[engaged], event_days[engaged]
    # each lead's timeline starts at creation (day 0); a pause is the gap to the next action
    rows = np.concatenate([np.arange(n, dtype=np.int64), rows])
    days = np.concatenate([np.zeros(n), days])
    order = np.lexsort((days, rows))
    rows, days = rows[order], days[order]
    last_of_lead = np.r_[rows[1:] != rows[:-1], True]
    next_day = np.where(last_of_lead, np.inf, np.r_[days[1:], np.inf])
    dormant = next_day - days >= params.nurture_days
    # the first pause long enough closes the lead (the last action always ends one)
    candidates = np.flatnonzero(dormant)
    _, firsts = np.unique(rows[candidates], return_index=True)
    first = candidates[firsts]
    at = days[first] + params.nurture_days
    before_sql = ~(funnel.sql_days[rows[first]] <= at)  # NaN: never SQL
    recycled[rows[first][before_sql]] = at[before_sql]

    gone = ~np.isnan(recycled)

    def cut(values: np.ndarray) -> np.ndarray:
        return np.where(gone & (values >= recycled), np.nan, values)

    disqualified = np.where(
        gone, np.fmin(funnel.disqualified_days, recycled), funnel.disqualified_days
    )
    new = Funnel(
        mql_days=cut(funnel.mql_days),
        sql_days=cut(funnel.sql_days),
        opportunity_days=cut(funnel.opportunity_days),
        won_days=cut(funnel.won_days),
        lost_days=cut(funnel.lost_days),
        disqualified_days=disqualified,
    )
    # the sales process behind a dropped SQL never happened: its events go too; tracking
    # (page views, opens) goes on after a lead is recycled, as it does in a CRM
    lost_sql = gone & ~np.isnan(funnel.sql_days)
    keep_events = ~(lost_sql[event_rows] & (event_days >= recycled[event_rows]))
    return new, keep_events, recycled


def stage_rows(funnel: Funnel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Long form: (lead row, days after creation, stage code) for every stage reached."""
    leads, days, codes = [], [], []
    for stage, values in (
        ("mql", funnel.mql_days),
        ("sql", funnel.sql_days),
        ("opportunity", funnel.opportunity_days),
        ("won", funnel.won_days),
        ("lost", funnel.lost_days),
        ("disqualified", funnel.disqualified_days),
    ):
        rows = np.flatnonzero(~np.isnan(values))
        leads.append(rows)
        days.append(values[rows])
        codes.append(np.full(rows.size, STAGES.index(stage), dtype=np.int8))
    return np.concatenate(leads), np.concatenate(days), np.concatenate(codes)
