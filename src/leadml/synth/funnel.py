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

from leadml.synth.params import STAGES, GeneratorParams
from leadml.synth.population import Latent

__all__ = ["Funnel", "draw_funnel", "stage_rows"]


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
