"""Accounts, leads and each lead's hidden state: who they are and how likely they buy.

Everything is drawn per chunk of leads with the chunk's own generator. Codes
are small integers into the vocabularies of :mod:`leadml.synth.params`; times
of the population are absolute (``int64`` seconds since the epoch), the
latent times are days after the lead's creation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadml.synth.names import company_names, first_names, last_names, title_codes
from leadml.synth.params import (
    COUNTRIES,
    DEPARTMENTS,
    EMAIL_STATUS,
    INDUSTRIES,
    SENIORITY,
    SOURCES,
    GeneratorParams,
)

__all__ = [
    "Accounts",
    "Latent",
    "Leads",
    "authority_effect",
    "company_size_effect",
    "draw_accounts",
    "draw_latent",
    "draw_leads",
]

DAY_S = 86_400
_DECISION = np.isin(np.array(SENIORITY), ["c_level", "vp", "director"])
# Revenue per employee relative to the median, by industry (revenue carries no effect of its own).
_REVENUE_FACTOR = dict(
    zip(INDUSTRIES, (1.4, 1.8, 1.1, 0.8, 1.0, 1.2, 0.6, 0.7, 1.0, 0.9), strict=True)
)


@dataclass(frozen=True)
class Accounts:
    """One chunk's accounts; ``employees`` is the true size, even where the table hides it."""

    industry: np.ndarray  # int8 codes into INDUSTRIES
    employees: np.ndarray  # float64, true size
    annual_revenue: np.ndarray  # float64
    country: np.ndarray  # int8 codes into COUNTRIES
    firmographics_missing: np.ndarray  # bool: industry, employees and revenue hidden
    revenue_missing: np.ndarray  # bool: revenue alone hidden
    in_market: np.ndarray  # bool, hidden
    name: np.ndarray  # int64 index into company_names()

    @property
    def n(self) -> int:
        return int(self.industry.size)


@dataclass(frozen=True)
class Leads:
    """One chunk's leads, sorted by creation time."""

    account: np.ndarray  # int64 row of the chunk's accounts
    created_s: np.ndarray  # int64 seconds since the epoch
    source: np.ndarray  # int8 codes into SOURCES
    seniority: np.ndarray  # int8
    department: np.ndarray  # int8
    email_status: np.ndarray  # int8
    owner: np.ndarray  # int8 index into owner_names()
    first_name: np.ndarray  # int16
    last_name: np.ndarray  # int16
    job_title: np.ndarray  # int16 index into job_titles()

    @property
    def n(self) -> int:
        return int(self.account.size)


@dataclass(frozen=True)
class Latent:
    """Each lead's generator state: everything the oracle may condition on."""

    interest: np.ndarray
    in_market: np.ndarray
    buying_moment_days: np.ndarray
    first_touch_hours: np.ndarray
    unsubscribe_days: np.ndarray  # NaN for leads who never unsubscribe
    demo_request_days: np.ndarray  # NaN for leads who never request a demo (besides demo forms)
    logit_parts: dict[str, np.ndarray]  # additive parts of logit(p_sql) before the factors
    factors: dict[str, np.ndarray]  # multipliers on p_sql
    p_sql: np.ndarray
    p_won_given_sql: np.ndarray
    sql_shift_days: np.ndarray  # T = shift + LogNormal(mu, sigma)
    sql_mu: np.ndarray
    sql_sigma: np.ndarray
    won_shape: np.ndarray  # W ~ Gamma(shape, scale), won at T + W
    won_scale_days: np.ndarray


def _categorical(
    rng: np.random.Generator, shares: dict[str, float], vocabulary: tuple[str, ...], n: int
) -> np.ndarray:
    probs = np.array([shares[v] for v in vocabulary], dtype=np.float64)
    cumulative = np.cumsum(probs / probs.sum())
    codes = np.searchsorted(cumulative, rng.random(n), side="right")
    return np.minimum(codes, len(vocabulary) - 1).astype(np.int8)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def company_size_effect(employees: np.ndarray, params: GeneratorParams) -> np.ndarray:
    """Logit effect of size: 0 at the peak, worse for tiny and huge companies (floored)."""
    distance = np.log10(employees) - np.log10(params.size_peak_employees)
    return np.maximum(-params.size_curvature * distance**2, params.size_floor)


def authority_effect(
    seniority: np.ndarray, department: np.ndarray, params: GeneratorParams
) -> np.ndarray:
    """Logit effect of seniority x department: decision makers count only where they buy."""
    table = np.zeros((len(SENIORITY), len(DEPARTMENTS)))
    buying = np.isin(np.array(DEPARTMENTS), ["it", "engineering", "operations", "finance"])
    commercial = np.isin(np.array(DEPARTMENTS), ["marketing", "sales"])
    table[np.ix_(_DECISION, buying)] = params.authority_decision_buying
    table[np.ix_(_DECISION, commercial)] = params.authority_decision_commercial
    table[np.ix_(_DECISION, ~buying & ~commercial)] = params.authority_decision_other
    table[SENIORITY.index("manager"), buying] = params.authority_manager_buying
    table[SENIORITY.index("individual_contributor"), :] = params.authority_individual
    table[SENIORITY.index("student"), :] = params.authority_student
    return table[seniority, department]


def draw_accounts(rng: np.random.Generator, n: int, params: GeneratorParams) -> Accounts:
    """``n`` accounts with heavy-tailed sizes and about 10 % hidden firmographics."""
    industry = _categorical(rng, params.industry_share, INDUSTRIES, n)
    lo, hi = params.employees_range
    employees = np.round(
        np.clip(
            params.employees_median * np.exp(params.employees_log_sigma * rng.standard_normal(n)),
            lo,
            hi,
        )
    )
    per_employee = params.revenue_per_employee_median * np.array(
        [_REVENUE_FACTOR[i] for i in INDUSTRIES]
    )
    revenue = np.round(
        employees * per_employee[industry] * np.exp(0.5 * rng.standard_normal(n)), -3
    )
    return Accounts(
        industry=industry,
        employees=employees,
        annual_revenue=revenue,
        country=_categorical(rng, params.country_share, COUNTRIES, n),
        firmographics_missing=rng.random(n) < params.missing_firmographics,
        revenue_missing=rng.random(n) < params.missing_revenue_only,
        in_market=rng.random(n) < params.in_market_share,
        name=rng.integers(0, len(company_names()), n),
    )


def draw_leads(
    rng: np.random.Generator,
    n: int,
    n_accounts: int,
    *,
    period_s: tuple[int, int],
    n_owners: int,
    params: GeneratorParams,
) -> Leads:
    """``n`` leads created in ``[period_s)``; every account gets one, a few get many."""
    start_s, end_s = period_s
    length = end_s - start_s
    anchors = np.sort(rng.integers(0, length, n_accounts))  # account rows follow their first lead
    weights = rng.lognormal(0.0, 1.0, n_accounts)
    extra = np.searchsorted(
        np.cumsum(weights), rng.random(n - n_accounts) * weights.sum(), side="right"
    )
    account = np.concatenate([np.arange(n_accounts), np.minimum(extra, n_accounts - 1)])
    offset = np.zeros(n)
    offset[n_accounts:] = rng.normal(0.0, params.account_spread_days * DAY_S, n - n_accounts)
    created = np.mod(anchors[account] + offset.astype(np.int64), length) + start_s
    order = np.argsort(created, kind="stable")
    account, created = account[order], created[order]

    seniority = _categorical(rng, params.seniority_share, SENIORITY, n)
    department = _categorical(rng, params.department_share, DEPARTMENTS, n)
    return Leads(
        account=account.astype(np.int64),
        created_s=created.astype(np.int64),
        source=_categorical(rng, params.source_share, SOURCES, n),
        seniority=seniority,
        department=department,
        email_status=_categorical(rng, params.email_status_share, EMAIL_STATUS, n),
        owner=rng.integers(0, n_owners, n).astype(np.int8),
        first_name=rng.integers(0, len(first_names()), n).astype(np.int16),
        last_name=rng.integers(0, len(last_names()), n).astype(np.int16),
        job_title=title_codes(seniority, department),
    )


def draw_latent(
    rng: np.random.Generator, accounts: Accounts, leads: Leads, params: GeneratorParams
) -> Latent:
    """Hidden state per lead, from its observable attributes plus noise; never from an outcome."""
    n = leads.n
    source_shift = np.array([params.interest_source_shift[s] for s in SOURCES])
    interest = source_shift[leads.source] + rng.standard_normal(n)
    in_market = accounts.in_market[leads.account]
    moment_median = params.buying_moment_median_days * np.where(
        in_market, params.buying_moment_in_market_factor, 1.0
    )
    buying_moment = moment_median * np.exp(params.buying_moment_log_sigma * rng.standard_normal(n))
    first_touch_hours = params.first_touch_median_hours * np.exp(
        params.first_touch_log_sigma * rng.standard_normal(n)
    )
    can_unsubscribe = leads.email_status != EMAIL_STATUS.index("invalid")
    unsubscribes = can_unsubscribe & (rng.random(n) < params.unsubscribe_share)
    unsubscribe_days = np.where(
        unsubscribes, rng.exponential(params.unsubscribe_mean_days, n), np.nan
    )

    requests_demo = rng.random(n) < -np.expm1(
        -params.demo_request_rate * np.exp(params.demo_request_interest_slope * interest)
    )
    demo_request_days = np.where(
        requests_demo,
        np.abs(buying_moment + params.demo_request_spread_days * rng.standard_normal(n)),
        np.nan,
    )

    size = company_size_effect(accounts.employees[leads.account], params)
    authority = authority_effect(leads.seniority, leads.department, params)
    effect_source = np.array([params.effect_source[s] for s in SOURCES])
    logit_parts = {
        "source": effect_source[leads.source],
        "company_size": size,
        "authority": authority,
        "intent": params.effect_in_market * in_market,
        "engagement": params.effect_interest * interest,
        "demo_request": params.effect_demo_request * requests_demo,
    }
    factor_email = np.array([params.factor_email_status[s] for s in EMAIL_STATUS])
    factors = {
        "email_status": factor_email[leads.email_status],
        "unsubscribe": np.where(unsubscribes, params.factor_unsubscribe, 1.0),
        "speed_to_lead": np.where(
            first_touch_hours > params.late_touch_hours, params.factor_late_touch, 1.0
        ),
    }
    p_sql = _sigmoid(params.sql_intercept + sum(logit_parts.values()))
    for factor in factors.values():
        p_sql = p_sql * factor

    decision = _DECISION[leads.seniority]
    p_won = _sigmoid(
        params.won_intercept
        + params.won_size_slope * size
        + params.won_in_market * in_market
        + params.won_decision_maker * decision
        + params.won_interest * interest
    )
    return Latent(
        interest=interest,
        in_market=in_market,
        buying_moment_days=buying_moment,
        first_touch_hours=first_touch_hours,
        unsubscribe_days=unsubscribe_days,
        demo_request_days=demo_request_days,
        logit_parts=logit_parts,
        factors=factors,
        p_sql=p_sql,
        p_won_given_sql=p_won,
        # a rep must have talked to the lead: SQL comes after the buying moment and the first touch
        # (and after the demo request, when there is one: sales answers it)
        sql_shift_days=np.fmax(
            np.maximum(buying_moment, first_touch_hours / 24.0), demo_request_days
        ),
        sql_mu=np.log(
            np.where(
                requests_demo, params.sql_delay_after_demo_median_days, params.sql_delay_median_days
            )
        ),
        sql_sigma=np.full(n, params.sql_delay_log_sigma),
        won_shape=np.full(n, params.won_delay_shape),
        won_scale_days=params.won_delay_scale_days
        * np.where(in_market, params.won_delay_in_market_factor, 1.0),
    )
