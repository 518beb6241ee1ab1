"""The generator's vocabularies and effect sizes: the ground truth, in one place.

Every number that shapes the synthetic CRM lives in :class:`GeneratorParams`
(frozen, passed down explicitly) so ``truth.json`` can publish it and a test
can vary it. Effects on the probability of ever reaching SQL are on the
logit scale unless named ``factor_*`` (a multiplier on the probability).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "COUNTRIES",
    "DEPARTMENTS",
    "EMAIL_STATUS",
    "EVENT_TYPES",
    "GENERATOR_VERSION",
    "INDUSTRIES",
    "SENIORITY",
    "SIGNAL_TYPES",
    "SOURCES",
    "STAGES",
    "GeneratorParams",
]

GENERATOR_VERSION = "1.1"

# The vocabularies of training/dataset.yaml, in the same order (a test checks it).
EVENT_TYPES: tuple[str, ...] = (
    "pricing_view", "demo_page_view", "product_page_view", "blog_view", "email_open",
    "email_click", "whitepaper_download", "webinar_registration", "webinar_attended",
    "form_submit", "demo_request", "sales_touch", "meeting", "unsubscribe", "email_bounce",
)  # fmt: skip
SIGNAL_TYPES: tuple[str, ...] = (
    "funding_round", "hiring_surge", "new_executive", "technology_change", "topic_surge",
)  # fmt: skip
STAGES: tuple[str, ...] = ("mql", "sql", "opportunity", "won", "lost", "disqualified")
EMAIL_STATUS: tuple[str, ...] = ("valid", "risky", "invalid", "unknown")
SENIORITY: tuple[str, ...] = (
    "c_level", "vp", "director", "manager", "individual_contributor", "student",
)  # fmt: skip
SOURCES: tuple[str, ...] = (
    "demo_form", "referral", "organic_search", "webinar", "content_download", "paid_search",
    "paid_social", "trade_show", "purchased_list", "outbound",
)  # fmt: skip
DEPARTMENTS: tuple[str, ...] = (
    "it", "engineering", "operations", "finance", "marketing", "sales", "hr", "other",
)  # fmt: skip
INDUSTRIES: tuple[str, ...] = (
    "software", "financial_services", "manufacturing", "retail", "healthcare",
    "professional_services", "education", "public_sector", "media", "logistics",
)  # fmt: skip
COUNTRIES: tuple[str, ...] = ("FR", "DE", "GB", "US", "ES", "IT", "NL", "BE", "CH", "CA")


def _by(keys: tuple[str, ...], values: tuple[float, ...]) -> dict[str, float]:
    if len(keys) != len(values):
        raise ValueError(f"expected {len(keys)} values for {keys}, got {len(values)}")
    return dict(zip(keys, values, strict=True))


@dataclass(frozen=True)
class GeneratorParams:
    """Shares, rates and effect sizes of the synthetic CRM.

    Rates of events are expected counts per lead over its life (background
    engagement decays from creation with ``engagement_half_life_days``); each
    rate is multiplied by ``exp(slope * interest)`` for the types that follow
    interest. Nothing here reads the outcome except the ``post_sql_*`` entries,
    which only act after the realised SQL time.
    """

    # --- population -------------------------------------------------------------
    leads_per_account: float = 1.7
    source_share: dict[str, float] = field(
        default_factory=lambda: _by(
            SOURCES, (0.06, 0.05, 0.17, 0.08, 0.15, 0.14, 0.10, 0.06, 0.11, 0.08)
        )
    )
    seniority_share: dict[str, float] = field(
        default_factory=lambda: _by(SENIORITY, (0.06, 0.08, 0.16, 0.25, 0.38, 0.07))
    )
    department_share: dict[str, float] = field(
        default_factory=lambda: _by(DEPARTMENTS, (0.18, 0.15, 0.12, 0.10, 0.15, 0.12, 0.08, 0.10))
    )
    email_status_share: dict[str, float] = field(
        default_factory=lambda: _by(EMAIL_STATUS, (0.72, 0.10, 0.06, 0.12))
    )
    industry_share: dict[str, float] = field(
        default_factory=lambda: _by(
            INDUSTRIES, (0.16, 0.10, 0.13, 0.10, 0.09, 0.12, 0.07, 0.07, 0.07, 0.09)
        )
    )
    country_share: dict[str, float] = field(
        default_factory=lambda: _by(
            COUNTRIES, (0.18, 0.14, 0.14, 0.16, 0.08, 0.07, 0.07, 0.05, 0.04, 0.07)
        )
    )
    employees_median: float = 200.0
    employees_log_sigma: float = 1.8
    employees_range: tuple[float, float] = (5.0, 100_000.0)
    revenue_per_employee_median: float = 150_000.0
    missing_firmographics: float = 0.10
    missing_revenue_only: float = 0.03
    account_spread_days: float = 30.0  # leads of one account arrive close in time
    in_market_share: float = 0.20
    n_owners: int = 12

    # --- latent state -----------------------------------------------------------
    # interest = source shift + N(0, 1): the hidden driver of engagement and p_sql
    interest_source_shift: dict[str, float] = field(
        default_factory=lambda: _by(SOURCES, (0.6, 0.3, 0.1, 0.2, 0.0, 0.0, -0.1, 0.0, -0.5, -0.4))
    )
    buying_moment_median_days: float = 25.0
    buying_moment_log_sigma: float = 0.7
    buying_moment_in_market_factor: float = 0.6  # in-market accounts buy sooner
    sql_delay_median_days: float = 4.0  # T = max(buying moment, first touch) + lognormal delay
    sql_delay_log_sigma: float = 0.6
    first_touch_median_hours: float = 20.0
    first_touch_log_sigma: float = 1.2
    late_touch_hours: float = 48.0
    unsubscribe_share: float = 0.07  # of leads whose email works
    unsubscribe_mean_days: float = 30.0

    # --- p_sql (logit scale) ----------------------------------------------------
    sql_intercept: float = -2.6
    effect_source: dict[str, float] = field(
        default_factory=lambda: _by(SOURCES, (1.5, 1.0, 0.2, 0.3, 0.0, 0.0, -0.4, -0.1, -1.2, -0.9))
    )
    # company size: -size_curvature * (log10(employees) - log10(peak))^2, floored
    size_peak_employees: float = 1000.0
    size_curvature: float = 0.6
    size_floor: float = -1.8
    # authority: decision makers in buying departments high; the same titles in hr/other not
    authority_decision_buying: float = 1.0
    authority_decision_commercial: float = 0.3  # marketing, sales
    authority_decision_other: float = -0.2  # hr, other
    authority_manager_buying: float = 0.3
    authority_individual: float = -0.3
    authority_student: float = -2.0
    effect_in_market: float = 1.0
    effect_interest: float = 1.8
    # demo requests: a hand-raise around the buying moment, far likelier with high interest
    # (P = 1 - exp(-rate * exp(slope * interest))); sales answers it, so it raises p_sql by
    # itself and the SQL never comes before it (demo_form leads request at creation: their
    # channel's own touch, carried by the source effect)
    demo_request_rate: float = 0.015
    demo_request_interest_slope: float = 2.0
    demo_request_spread_days: float = 2.0
    effect_demo_request: float = 2.0
    sql_delay_after_demo_median_days: float = 12.0  # the demo is held, then the lead qualifies
    factor_email_status: dict[str, float] = field(
        default_factory=lambda: _by(EMAIL_STATUS, (1.0, 0.7, 0.15, 0.9))
    )
    factor_unsubscribe: float = 0.4
    factor_late_touch: float = 0.5

    # --- P(won | SQL) and the SQL -> won delay ---------------------------------
    won_intercept: float = -1.35
    won_size_slope: float = 0.5  # times the (non-positive) size effect
    won_in_market: float = 0.7
    won_decision_maker: float = 0.4
    won_interest: float = 0.3
    won_delay_shape: float = 6.0
    won_delay_scale_days: float = 8.5
    won_delay_in_market_factor: float = 0.75
    opportunity_share_not_won: float = 0.8

    # --- MQL and disqualification ----------------------------------------------
    mql_intercept_non_sql: float = -1.5
    mql_interest_slope: float = 1.6
    disqualified_share: float = 0.5
    disqualified_after_mql_days: tuple[float, float] = (60.0, 150.0)
    # nurture period: a lead with no engagement of its own for this many days (before any
    # SQL) is recycled (disqualified), as CRMs do; inf keeps every dormant lead open
    nurture_days: float = 90.0

    # --- events -----------------------------------------------------------------
    engagement_half_life_days: float = 21.0
    # background engagement: (expected count, slope on interest)
    background: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "email_open": (18.0, 0.5),
            "email_click": (3.0, 0.7),
            "product_page_view": (7.5, 0.5),
            "pricing_view": (0.6, 0.6),
            "demo_page_view": (0.3, 0.6),
            "whitepaper_download": (0.6, 0.4),
            "webinar_registration": (0.35, 0.5),
            "form_submit": (0.3, 0.5),
        }
    )
    # buying burst around the buying moment: (expected count, slope, spread in days)
    burst: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: {
            "pricing_view": (2.0, 0.9, 2.5),
            "demo_page_view": (1.0, 0.9, 3.0),
            "form_submit": (0.4, 0.8, 3.0),
            "whitepaper_download": (0.4, 0.6, 7.0),
            "webinar_registration": (0.2, 0.6, 7.0),
            "product_page_view": (2.0, 0.7, 4.0),
            "email_click": (1.0, 0.7, 4.0),
            "meeting": (0.12, 1.0, 3.0),
        }
    )
    webinar_attendance: float = 0.45
    blog_views: float = 6.0  # constant rate over blog_window_days, independent of everything
    blog_window_days: float = 180.0
    bounces_invalid: float = 8.0
    bounces_risky: float = 0.8
    opens_factor_risky: float = 0.7
    follow_up_touches: float = 1.5
    follow_up_mean_days: float = 12.0
    # after the realised SQL: marketing thins out, the rep takes over
    post_sql_marketing_kept: float = 0.3
    post_sql_meetings: float = 4.0
    post_sql_sales_touches: float = 6.0
    post_sql_pricing_views: float = 2.0
    post_sql_mean_days: float = 20.0

    # --- intent signals (per account, per year unless said) --------------------
    intent_history_days: float = 180.0  # signals start this long before the period
    background_signals_per_year: dict[str, float] = field(
        default_factory=lambda: _by(SIGNAL_TYPES, (0.15, 0.5, 0.3, 0.6, 1.5))
    )
    # in-market accounts: extra signals per lead, around its creation
    in_market_signals_per_lead: dict[str, float] = field(
        default_factory=lambda: {"funding_round": 0.3, "hiring_surge": 0.9, "new_executive": 0.5}
    )
    in_market_window_days: tuple[float, float] = (-90.0, 14.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples become lists)."""
        return asdict(self)
