"""The synthetic CRM, chunk by chunk: population -> latent state -> funnel -> events and signals.

Leads are generated in chunks of ``chunk_leads`` (each chunk covers its own
slice of the period, so lead ids grow with creation time) with one child
generator per chunk spawned from the seed: the same seed gives the same data
whether it is held in memory or streamed to files.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from leadml.synth.activity import draw_events, draw_signals
from leadml.synth.funnel import Funnel, draw_funnel, recycle_dormant, stage_rows
from leadml.synth.names import company_names, first_names, job_titles, last_names, owner_names
from leadml.synth.params import (
    COUNTRIES,
    DEPARTMENTS,
    EMAIL_STATUS,
    EVENT_TYPES,
    INDUSTRIES,
    SENIORITY,
    SIGNAL_TYPES,
    SOURCES,
    STAGES,
    GeneratorParams,
)
from leadml.synth.population import DAY_S, draw_accounts, draw_latent, draw_leads
from leadml.synth.truth import truth_table

__all__ = [
    "ChunkTables",
    "FunnelCounts",
    "SynthSpec",
    "chunk_tables",
    "funnel_rates",
    "iter_chunks",
    "n_chunks",
]

FIRST_ACCOUNT_ID = 1_000_000_001  # far from lead ids, so a wrong join fails loudly
_TIME_BITS = 32  # seconds after the period start (136 years)
_CODE_BITS = 4


@dataclass(frozen=True)
class SynthSpec:
    """What to generate: size, seed and period (``[start, start + months)``)."""

    n_leads: int
    seed: int = 7
    start: str = "2023-01-01"
    months: int = 36
    chunk_leads: int = 125_000
    params: GeneratorParams = field(default_factory=GeneratorParams)

    def __post_init__(self) -> None:
        if self.n_leads < 1:
            raise ValueError(f"n_leads must be at least 1; got {self.n_leads}")
        if not 1 <= self.months <= 1200:
            raise ValueError(f"months must be between 1 and 1200; got {self.months}")
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed}")
        if not 1 <= self.chunk_leads < 2**26:
            raise ValueError(
                f"chunk_leads must be between 1 and {2**26 - 1}; got {self.chunk_leads}"
            )
        try:
            pd.Timestamp(self.start)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"start: {self.start!r} is not a date (expected e.g. 2023-01-01)"
            ) from exc

    @property
    def start_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.start).floor("s")

    @property
    def end_ts(self) -> pd.Timestamp:
        """The data's end: nothing at or after it."""
        return self.start_ts + pd.DateOffset(months=self.months)

    @property
    def period_s(self) -> tuple[int, int]:
        return _seconds(self.start_ts), _seconds(self.end_ts)


def _seconds(ts: pd.Timestamp) -> int:
    return int(ts.value // 1_000_000_000)  # .value is nanoseconds whatever the unit


@dataclass(frozen=True)
class _ChunkPlan:
    n_leads: int
    n_accounts: int
    first_lead_id: int
    first_account_id: int
    period_s: tuple[int, int]  # when this chunk's leads are created


def _chunk_plans(spec: SynthSpec) -> list[_ChunkPlan]:
    n_chunks = math.ceil(spec.n_leads / spec.chunk_leads)
    sizes = [int(s.size) for s in np.array_split(np.arange(spec.n_leads), n_chunks)]
    start_s, end_s = spec.period_s
    edges = np.linspace(start_s, end_s, n_chunks + 1).astype(np.int64)
    plans, lead_id, account_id = [], 1, FIRST_ACCOUNT_ID
    for i, size in enumerate(sizes):
        n_accounts = max(1, min(size, round(size / spec.params.leads_per_account)))
        plans.append(
            _ChunkPlan(size, n_accounts, lead_id, account_id, (int(edges[i]), int(edges[i + 1])))
        )
        lead_id += size
        account_id += n_accounts
    return plans


@dataclass
class FunnelCounts:
    """Sums over chunks, turned into rates by :func:`funnel_rates`."""

    leads: int = 0
    accounts: int = 0
    events: int = 0
    signals: int = 0
    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    sql_5_to_90_days: int = 0
    expected_sql: float = 0.0
    expected_won: float = 0.0
    demo_requesters: int = 0
    demo_requesters_sql: int = 0
    recycled: int = 0

    def add(self, other: FunnelCounts) -> FunnelCounts:
        """In place: add another chunk's counts; returns self."""
        for name in ("leads", "accounts", "events", "signals", "sql_5_to_90_days", "demo_requesters",
                     "demo_requesters_sql", "expected_sql", "expected_won", "recycled"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for stage in STAGES:
            self.stages[stage] += other.stages[stage]
        return self


def funnel_rates(counts: FunnelCounts) -> dict[str, Any]:
    """Observed funnel rates (after censoring at the data's end) and the generator's expectations."""
    n = max(counts.leads, 1)
    sql = counts.stages["sql"]
    others = n - counts.demo_requesters
    sql_others = sql - counts.demo_requesters_sql
    rate_demo = counts.demo_requesters_sql / max(counts.demo_requesters, 1)
    rate_others = sql_others / max(others, 1)
    return {
        "leads": counts.leads,
        "accounts": counts.accounts,
        "events": counts.events,
        "intent_signals": counts.signals,
        "events_per_lead": round(counts.events / n, 2),
        "leads_per_account": round(counts.leads / max(counts.accounts, 1), 3),
        **{f"{stage}_rate": round(counts.stages[stage] / n, 4) for stage in STAGES},
        "won_given_sql": round(counts.stages["won"] / max(sql, 1), 4),
        "sql_within_5_to_90_days": round(counts.sql_5_to_90_days / max(sql, 1), 4),
        "demo_requesters_sql_rate": round(rate_demo, 4),
        "others_sql_rate": round(rate_others, 4),
        "demo_request_sql_lift": round(rate_demo / rate_others, 2) if rate_others > 0 else None,
        "recycled_rate": round(counts.recycled / n, 4),
        "expected_sql_rate_uncensored": round(counts.expected_sql / n, 4),
        "expected_won_rate_uncensored": round(counts.expected_won / n, 4),
    }


@dataclass(frozen=True)
class ChunkTables:
    """One chunk as Arrow tables (contract column names) plus its funnel counts."""

    accounts: pa.Table
    leads: pa.Table
    events: pa.Table
    intent: pa.Table
    outcomes: pa.Table
    truth: pa.Table
    counts: FunnelCounts


def _dictionary(
    codes: np.ndarray, vocabulary: tuple[str, ...], missing: np.ndarray | None = None
) -> pa.Array:
    indices = pa.array(codes, mask=missing)
    return pa.DictionaryArray.from_arrays(indices, pa.array(vocabulary, pa.string()))


def _timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]").astype("datetime64[us]"))


def _sort_key(rows: np.ndarray, offset_s: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """One int64 that orders by (row, time, code): a single sort instead of a lexsort.

    The blocks being sorted are runs ascending by row, which a stable sort exploits.
    """
    return (rows << (_TIME_BITS + _CODE_BITS)) | (offset_s << _CODE_BITS) | codes.astype(np.int64)


def _lead_times(created_s: np.ndarray, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
    return created_s[rows] + np.floor(days * DAY_S).astype(np.int64)


def _events_table(
    rows: np.ndarray,
    days: np.ndarray,
    codes: np.ndarray,
    created_s: np.ndarray,
    first_lead_id: int,
    spec: SynthSpec,
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    start_s, end_s = spec.period_s
    ts = _lead_times(created_s, rows, days)
    keep = ts < end_s
    key = np.sort(
        _sort_key(rows[keep], ts[keep] - start_s, codes[keep]), kind="stable"
    )  # runs: fast
    del ts, keep
    rows = key >> (_TIME_BITS + _CODE_BITS)
    codes = (key & ((1 << _CODE_BITS) - 1)).astype(np.int8)
    ts = ((key >> _CODE_BITS) & ((1 << _TIME_BITS) - 1)) + start_s
    table = pa.table(
        {
            "lead_id": pa.array(rows + first_lead_id, pa.int64()),
            "ts": _timestamps(ts),
            "event_type": _dictionary(codes, EVENT_TYPES),
        }
    )
    return table, rows, codes


def _outcomes_table(
    funnel: Funnel, created_s: np.ndarray, first_lead_id: int, spec: SynthSpec
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    start_s, end_s = spec.period_s
    rows, days, codes = stage_rows(funnel)
    ts = _lead_times(created_s, rows, days)
    keep = ts < end_s  # censored: an outcome at or after the end is not known yet
    key = np.sort(
        _sort_key(rows[keep], ts[keep] - start_s, codes[keep]), kind="stable"
    )  # runs: fast
    rows = key >> (_TIME_BITS + _CODE_BITS)
    codes = (key & ((1 << _CODE_BITS) - 1)).astype(np.int8)
    ts = ((key >> _CODE_BITS) & ((1 << _TIME_BITS) - 1)) + start_s
    table = pa.table(
        {
            "lead_id": pa.array(rows + first_lead_id, pa.int64()),
            "stage": _dictionary(codes, STAGES),
            "ts": _timestamps(ts),
        }
    )
    return table, rows, codes


def chunk_tables(rng: np.random.Generator, plan: _ChunkPlan, spec: SynthSpec) -> ChunkTables:
    """Generate one chunk of the CRM."""
    params = spec.params
    accounts = draw_accounts(rng, plan.n_accounts, params)
    leads = draw_leads(
        rng,
        plan.n_leads,
        plan.n_accounts,
        period_s=plan.period_s,
        n_owners=params.n_owners,
        params=params,
    )
    latent = draw_latent(rng, accounts, leads, params)
    funnel = draw_funnel(rng, latent, params)
    event_rows, event_days, event_codes = draw_events(rng, leads, latent, funnel, params)
    funnel, kept, recycled_days = recycle_dormant(
        funnel, event_rows, event_days, event_codes, params
    )
    event_rows, event_days, event_codes = event_rows[kept], event_days[kept], event_codes[kept]
    sig_accounts, sig_ts, sig_codes, sig_strength = draw_signals(
        rng, accounts, leads, latent, period_s=spec.period_s, params=params
    )
    lead_ids = np.arange(plan.n_leads, dtype=np.int64) + plan.first_lead_id
    account_ids = np.arange(plan.n_accounts, dtype=np.int64) + plan.first_account_id

    events, ev_rows, ev_codes = _events_table(
        event_rows, event_days, event_codes, leads.created_s, plan.first_lead_id, spec
    )
    del event_rows, event_days, event_codes
    outcomes, out_rows, out_codes = _outcomes_table(
        funnel, leads.created_s, plan.first_lead_id, spec
    )

    keep = sig_ts < spec.period_s[1]
    history_start = spec.period_s[0] - int(params.intent_history_days * DAY_S)
    order = np.argsort(
        _sort_key(sig_accounts[keep], sig_ts[keep] - history_start, sig_codes[keep]), kind="stable"
    )
    intent = pa.table(
        {
            "account_id": pa.array(sig_accounts[keep][order] + plan.first_account_id, pa.int64()),
            "ts": _timestamps(sig_ts[keep][order]),
            "signal_type": _dictionary(sig_codes[keep][order], SIGNAL_TYPES),
            "strength": np.round(sig_strength[keep][order], 3),
        }
    )

    hidden = accounts.firmographics_missing
    accounts_table = pa.table(
        {
            "account_id": pa.array(account_ids, pa.int64()),
            "name": pa.array(company_names(), pa.string()).take(pa.array(accounts.name)),
            "industry": _dictionary(accounts.industry, INDUSTRIES, hidden),
            "employees": pa.array(accounts.employees, pa.float64(), mask=hidden),
            "annual_revenue": pa.array(
                accounts.annual_revenue, pa.float64(), mask=hidden | accounts.revenue_missing
            ),
            "country": _dictionary(accounts.country, COUNTRIES),
        }
    )
    leads_table = pa.table(
        {
            "lead_id": pa.array(lead_ids, pa.int64()),
            "account_id": pa.array(account_ids[leads.account], pa.int64()),
            "created_at": _timestamps(leads.created_s),
            "source": _dictionary(leads.source, SOURCES),
            "first_name": _dictionary(leads.first_name, first_names()),
            "last_name": _dictionary(leads.last_name, last_names()),
            "job_title": _dictionary(leads.job_title, job_titles()),
            "seniority": _dictionary(leads.seniority, SENIORITY),
            "department": _dictionary(leads.department, DEPARTMENTS),
            "email_status": _dictionary(leads.email_status, EMAIL_STATUS),
            "owner": _dictionary(leads.owner, owner_names(params.n_owners)),
        }
    )

    counts = FunnelCounts(
        leads=plan.n_leads,
        accounts=plan.n_accounts,
        events=events.num_rows,
        signals=intent.num_rows,
        expected_sql=float(latent.p_sql.sum()),
        expected_won=float((latent.p_sql * latent.p_won_given_sql).sum()),
        recycled=int(
            (
                leads.created_s + np.nan_to_num(recycled_days, nan=np.inf) * DAY_S
                < spec.period_s[1]
            ).sum()
        ),
    )
    for code, stage in enumerate(STAGES):
        counts.stages[stage] = int(np.unique(out_rows[out_codes == code]).size)
    sql_rows = out_rows[out_codes == STAGES.index("sql")]
    sql_days = funnel.sql_days[sql_rows]
    counts.sql_5_to_90_days = int(((sql_days >= 5) & (sql_days <= 90)).sum())
    requested = np.zeros(plan.n_leads, dtype=bool)
    requested[ev_rows[ev_codes == EVENT_TYPES.index("demo_request")]] = True
    counts.demo_requesters = int(requested.sum())
    counts.demo_requesters_sql = int(requested[sql_rows].sum())

    return ChunkTables(
        accounts=accounts_table,
        leads=leads_table,
        events=events,
        intent=intent,
        outcomes=outcomes,
        truth=truth_table(lead_ids, accounts, leads, latent, recycled_days=recycled_days),
        counts=counts,
    )


def iter_chunks(spec: SynthSpec) -> Iterator[ChunkTables]:
    """The chunks in order, each from its own generator spawned from ``spec.seed``."""
    plans = _chunk_plans(spec)
    rngs = np.random.default_rng(spec.seed).spawn(len(plans))
    for plan, rng in zip(plans, rngs, strict=True):
        yield chunk_tables(rng, plan, spec)


def n_chunks(spec: SynthSpec) -> int:
    return len(_chunk_plans(spec))
