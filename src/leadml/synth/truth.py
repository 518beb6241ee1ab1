"""The ground truth the generator publishes: per-lead state and the true drivers.

``truth.parquet`` holds, per lead, the probabilities and time distributions the
oracle needs plus the latent values behind them; ``truth.json`` says in words
which attributes drive conversion, in which direction, and which do nothing.
Features, labels, models and scoring never read either: only evaluation does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from leadml.synth.funnel import NURTURE_EVENTS
from leadml.synth.params import GENERATOR_VERSION, GeneratorParams
from leadml.synth.population import Accounts, Latent, Leads

__all__ = ["NO_EFFECT", "TRUTH_COLUMNS", "describe_truth", "truth_table"]

TRUTH_COLUMNS: dict[str, str] = {
    "lead_id": "the lead",
    "p_sql": "probability the lead ever reaches SQL (before censoring)",
    "p_won_given_sql": "probability an SQL is won",
    "sql_shift_days": "time to SQL T = sql_shift_days + LogNormal(sql_mu, sql_sigma), days after creation",
    "sql_mu": "log-scale location of the SQL delay after the shift",
    "sql_sigma": "log-scale spread of the SQL delay after the shift",
    "won_shape": "SQL -> won delay W ~ Gamma(won_shape, won_scale_days)",
    "won_scale_days": "scale of the SQL -> won delay, days",
    "interest": "latent interest (drives engagement, demo requests and p_sql)",
    "in_market": "the account is in market (drives intent signals, p_sql and p_won)",
    "buying_moment_days": "the buying moment: centre of the burst of buying behaviour, days after creation",
    "first_touch_hours": "delay of the rep's first sales_touch, hours",
    "unsubscribe_days": "when the lead unsubscribes (NaN: never), days after creation",
    "demo_request_days": "when the lead requests a demo outside a demo form (NaN: never), days after creation",
    "employees_true": "the account's true size (the accounts table hides about 10 %)",
    "recycled_days": "when the lead was recycled (disqualified after nurture_days without "
    "engagement, before any SQL), days after creation (NaN: never; may lie past the data's end)",
}

NO_EFFECT: dict[str, str] = {
    "country": "drawn independently of everything",
    "industry": "drawn independently of the funnel (annual_revenue depends on it, not p_sql)",
    "owner": "reps are assigned at random and all behave alike",
    "blog_view": "Poisson with a constant rate over 180 days after creation, never thinned "
    "(a count before as_of still grows with the lead's age)",
    "technology_change": "constant rate per account, independent of everything",
    "topic_surge": "constant rate per account, independent of everything",
}


def truth_table(
    lead_ids: np.ndarray,
    accounts: Accounts,
    leads: Leads,
    latent: Latent,
    *,
    recycled_days: np.ndarray | None = None,
) -> pa.Table:
    """One row per lead: the oracle's inputs, the latent state and the parts of logit(p_sql)."""
    columns: dict[str, Any] = {
        "lead_id": pa.array(lead_ids, pa.int64()),
        "p_sql": latent.p_sql,
        "p_won_given_sql": latent.p_won_given_sql,
        "sql_shift_days": latent.sql_shift_days,
        "sql_mu": latent.sql_mu,
        "sql_sigma": latent.sql_sigma,
        "won_shape": latent.won_shape,
        "won_scale_days": latent.won_scale_days,
        "interest": latent.interest,
        "in_market": pa.array(latent.in_market, pa.bool_()),
        "buying_moment_days": latent.buying_moment_days,
        "first_touch_hours": latent.first_touch_hours,
        "unsubscribe_days": latent.unsubscribe_days,
        "demo_request_days": latent.demo_request_days,
        "employees_true": accounts.employees[leads.account],
        "recycled_days": (
            np.full(lead_ids.size, np.nan) if recycled_days is None else recycled_days
        ),
    }
    columns |= {f"logit_{name}": part for name, part in latent.logit_parts.items()}
    columns |= {f"factor_{name}": factor for name, factor in latent.factors.items()}
    return pa.table(columns)


def _drivers(p: GeneratorParams) -> list[dict[str, Any]]:
    src = p.effect_source
    return [
        {
            "name": "demo_request",
            "direction": "+",
            "family": "behaviour",
            "mechanism": "cause",
            "events": ["demo_request"],
            "effect": {"logit": p.effect_demo_request},
            "description": "A hand-raise near the buying moment, far likelier with high latent interest "
            f"(P = 1 - exp(-{p.demo_request_rate:g} exp({p.demo_request_interest_slope:g} x interest))); "
            f"sales answers it: +{p.effect_demo_request:g} on logit(p_sql) and the SQL never comes before "
            "it. demo_form leads request one at creation: their channel's own touch, carried by the "
            "source effect.",
        },
        {
            "name": "pricing_interest",
            "direction": "+",
            "family": "behaviour",
            "mechanism": "proxy",
            "events": ["pricing_view"],
            "description": "Repeated pricing page views within a week around the buying moment, more with "
            "higher interest: recent repetition signals an imminent SQL.",
        },
        {
            "name": "engagement",
            "direction": "+",
            "family": "behaviour",
            "mechanism": "proxy",
            "events": [
                "email_open",
                "email_click",
                "product_page_view",
                "whitepaper_download",
                "webinar_registration",
                "webinar_attended",
                "form_submit",
                "demo_page_view",
            ],
            "effect": {"logit_per_sd_interest": p.effect_interest},
            "description": "Background engagement decays from creation (half-life "
            f"{p.engagement_half_life_days:g} d) at a rate proportional to exp(slope x interest); "
            "interest adds to logit(p_sql).",
        },
        {
            "name": "source",
            "direction": "+/-",
            "family": "persona",
            "mechanism": "cause",
            "effect": {"logit": dict(src)},
            "description": "Channel quality: demo_form and referral high, purchased_list and outbound low "
            "(also shifts interest).",
        },
        {
            "name": "company_size",
            "direction": "non-monotone",
            "family": "fit",
            "mechanism": "cause",
            "effect": {
                "peak_employees": p.size_peak_employees,
                "curvature": p.size_curvature,
                "floor": p.size_floor,
            },
            "description": "Sweet spot around 200-5000 employees (logit "
            f"-{p.size_curvature:g} x (log10 employees - log10 {p.size_peak_employees:g})^2, floored at "
            f"{p.size_floor:g}); tiny and huge companies convert less and win less.",
        },
        {
            "name": "authority",
            "direction": "+",
            "family": "persona",
            "mechanism": "cause",
            "effect": {
                "decision_maker_in_it_engineering_operations_finance": p.authority_decision_buying,
                "decision_maker_in_marketing_sales": p.authority_decision_commercial,
                "decision_maker_in_hr_other": p.authority_decision_other,
                "manager_in_buying_department": p.authority_manager_buying,
                "individual_contributor": p.authority_individual,
                "student": p.authority_student,
            },
            "description": "Seniority x department interaction: c_level/vp/director count only in the buying "
            "departments; the same titles in hr/other do not.",
        },
        {
            "name": "intent",
            "direction": "+",
            "family": "intent",
            "mechanism": "proxy",
            "signals": ["funding_round", "hiring_surge", "new_executive"],
            "effect": {"logit_sql": p.effect_in_market, "logit_won": p.won_in_market},
            "description": "Accounts in market (hidden) show more funding rounds, hiring surges and new "
            "executives near their leads' creation, convert and win more, and buy sooner.",
        },
        {
            "name": "email_status",
            "direction": "-",
            "family": "persona",
            "mechanism": "cause",
            "events": ["email_bounce"],
            "effect": {"p_factor": dict(p.factor_email_status)},
            "description": "Invalid email (bounces, no opens) multiplies p_sql by "
            f"{p.factor_email_status['invalid']:g}; risky by {p.factor_email_status['risky']:g}.",
        },
        {
            "name": "unsubscribe",
            "direction": "-",
            "family": "behaviour",
            "mechanism": "cause",
            "events": ["unsubscribe"],
            "effect": {"p_factor": p.factor_unsubscribe},
            "description": "Leads who unsubscribe (no email opens or clicks afterwards) have p_sql x "
            f"{p.factor_unsubscribe:g}.",
        },
        {
            "name": "speed_to_lead",
            "direction": "-",
            "family": "behaviour",
            "mechanism": "cause",
            "events": ["sales_touch"],
            "effect": {"late_after_hours": p.late_touch_hours, "p_factor": p.factor_late_touch},
            "description": f"A first sales_touch later than {p.late_touch_hours:g} h after creation halves p_sql "
            "(direction: longer delay, lower probability).",
        },
    ]


def describe_truth(
    *,
    seed: int,
    n_leads: int,
    start: str,
    end: str,
    months: int,
    params: GeneratorParams,
    funnel: dict[str, Any],
) -> dict[str, Any]:
    """The content of ``truth.json``."""
    return {
        "generator": "leadml.synth",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "n_leads": n_leads,
        "start": start,
        "end": end,
        "months": months,
        "drivers": _drivers(params),
        "no_effect": list(NO_EFFECT),
        "no_effect_description": NO_EFFECT,
        "truth_columns": TRUTH_COLUMNS
        | {
            "logit_<driver>": "additive parts of logit(p_sql) before the factors "
            "(p_sql = sigmoid(sql_intercept + sum) x product of factor_<driver>)",
            "factor_<driver>": "multipliers on p_sql",
        },
        "oracle": {
            "sql": "p (F(a+H) - F(a)) / (1 - p F(a)), a = as_of - created_at in days, F the CDF of T",
            "won": "p q P(a <= T + W < a + H, T > a) / (1 - p F(a)), numerically integrated",
            "approximations": [
                "disqualification is ignored: a lead open at as_of is one without SQL before as_of "
                "(a lead recycled inside the window loses the SQL the oracle still counts)",
                "MQL is ignored; MQL rows depend on the realised SQL, so the outcomes table must "
                "never feed features (it does not: features read accounts, leads, events, intent)",
            ],
        },
        "nurture": {
            "nurture_days": params.nurture_days,
            "engagement_events": list(NURTURE_EVENTS),
            "rule": "a lead whose own engagement (engagement_events; from creation on) pauses "
            f"for {params.nurture_days:g} days before any SQL is disqualified (recycled) at the "
            "end of that pause, as CRMs do after a nurture period; its later stages are dropped "
            "(and the events of the sales process behind a dropped SQL; tracking goes on) "
            "(truth.parquet: recycled_days). Blog views, the rep's touches, bounces "
            "and unsubscribes do not keep a lead alive.",
        },
        "funnel": funnel,
        "params": params.to_dict(),
    }
