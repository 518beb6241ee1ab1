"""The synthetic CRM: contract, determinism, funnel rates and the ground truth it promises."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from scipy import stats
from typer.testing import CliRunner

from leadml.commands.demo_data import register
from leadml.config import load_dataset_config
from leadml.data.io import file_sha256
from leadml.synth import NO_EFFECT, TABLE_NAMES, SynthSpec, generate_crm, write_demo_data
from leadml.synth.params import (
    EMAIL_STATUS,
    EVENT_TYPES,
    SENIORITY,
    SIGNAL_TYPES,
    SOURCES,
    STAGES,
)

DATASET_YAML = Path(__file__).resolve().parents[1] / "training" / "dataset.yaml"


@pytest.fixture(scope="module")
def crm():
    """The demo default: 20,000 leads, seed 7."""
    return generate_crm(SynthSpec(n_leads=20_000, seed=7))


def _first(outcomes: pd.DataFrame, stage: str) -> pd.Series:
    return outcomes.loc[outcomes["stage"] == stage].groupby("lead_id")["ts"].min()


def _sql_flag(crm) -> pd.Series:
    return (
        crm.leads["lead_id"].isin(_first(crm.outcomes, "sql").index).set_axis(crm.leads["lead_id"])
    )


# --- determinism ---------------------------------------------------------------------
def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: file_sha256(p) for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path):
    spec = SynthSpec(n_leads=3_000, seed=11, chunk_leads=1_000)
    write_demo_data(tmp_path / "a", spec)
    write_demo_data(tmp_path / "b", spec)
    hashes = _hashes(tmp_path / "a")
    assert set(hashes) == {f"{t}.parquet" for t in TABLE_NAMES} | {"truth.parquet", "truth.json"}
    assert hashes == _hashes(tmp_path / "b")


def test_same_seed_gives_byte_identical_csv(tmp_path):
    spec = SynthSpec(n_leads=2_000, seed=3)
    write_demo_data(tmp_path / "a", spec, file_format="csv")
    write_demo_data(tmp_path / "b", spec, file_format="csv")
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    events = pd.read_csv(tmp_path / "a" / "events.csv", parse_dates=["ts"])
    assert list(events.columns) == ["lead_id", "ts", "event_type"]


def test_another_seed_gives_different_files(tmp_path):
    write_demo_data(tmp_path / "a", SynthSpec(n_leads=3_000, seed=11))
    write_demo_data(tmp_path / "b", SynthSpec(n_leads=3_000, seed=12))
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert all(a[name] != b[name] for name in a)


def test_files_hold_the_in_memory_generation_across_chunks(tmp_path):
    spec = SynthSpec(n_leads=3_000, seed=5, chunk_leads=1_000)
    write_demo_data(tmp_path, spec)
    crm = generate_crm(spec)
    for name in (*TABLE_NAMES, "truth"):
        written, held = pd.read_parquet(tmp_path / f"{name}.parquet"), getattr(crm, name)
        assert written.dtypes.equals(held.dtypes) and written.equals(held), name
    assert json.loads((tmp_path / "truth.json").read_text())["funnel"] == crm.info["funnel"]


# --- the data contract ---------------------------------------------------------------
def test_columns_and_vocabularies_are_those_of_dataset_yaml(crm):
    dataset = load_dataset_config(DATASET_YAML)
    for name in TABLE_NAMES:
        assert list(getattr(crm, name).columns) == list(dataset.tables[name].columns), name
    vocab = dataset.vocabularies
    assert vocab.event_types == EVENT_TYPES
    assert vocab.signal_types == SIGNAL_TYPES
    assert vocab.stages == STAGES
    assert vocab.email_status == EMAIL_STATUS
    assert vocab.seniority == SENIORITY
    assert vocab.source == SOURCES
    assert set(crm.events["event_type"].unique()) == set(vocab.event_types)
    assert set(crm.intent["signal_type"].unique()) == set(vocab.signal_types)
    assert set(crm.outcomes["stage"].unique()) == set(vocab.stages)


def test_ids_timestamps_and_keys_are_typed_and_consistent(crm):
    assert crm.leads["lead_id"].dtype == np.int64 and crm.leads["lead_id"].is_unique
    assert crm.accounts["account_id"].dtype == np.int64 and crm.accounts["account_id"].is_unique
    for frame, column in (
        (crm.leads, "created_at"),
        (crm.events, "ts"),
        (crm.intent, "ts"),
        (crm.outcomes, "ts"),
    ):
        assert frame[column].dtype == "datetime64[us]"
    assert crm.leads["account_id"].isin(crm.accounts["account_id"]).all()
    assert crm.intent["account_id"].isin(crm.accounts["account_id"]).all()
    assert crm.events["lead_id"].isin(crm.leads["lead_id"]).all()
    assert crm.truth["lead_id"].equals(crm.leads["lead_id"])
    # lead ids grow with creation time, as a CRM's would
    assert crm.leads["created_at"].is_monotonic_increasing


def test_population_looks_like_a_b2b_crm(crm):
    accounts, leads = crm.accounts, crm.leads
    missing = accounts["employees"].isna().mean()
    assert 0.07 < missing < 0.13
    assert accounts["industry"].isna().equals(accounts["employees"].isna())
    assert accounts["employees"].min() >= 5 and accounts["employees"].max() <= 100_000
    assert accounts["employees"].quantile(0.99) > 10 * accounts["employees"].median()  # heavy tail
    assert 1.5 <= len(leads) / len(accounts) <= 2.0
    assert leads.groupby("account_id").size().max() >= 5
    assert leads["owner"].nunique() == 12
    titles = leads.groupby("job_title", observed=True)["seniority"].nunique()
    assert (titles == 1).all()  # a title always names one seniority
    assert set(leads.loc[leads["job_title"] == "CFO", "department"].unique()) == {"finance"}
    assert 45 <= len(crm.events) / len(leads) <= 55


# --- funnel ---------------------------------------------------------------------------
def test_funnel_rates_of_20000_leads_are_within_the_bands(crm):
    n = len(crm.leads)
    reached = {
        stage: crm.outcomes.loc[crm.outcomes["stage"] == stage, "lead_id"].nunique() / n
        for stage in STAGES
    }
    assert 0.25 <= reached["mql"] <= 0.35
    assert 0.09 <= reached["sql"] <= 0.13
    assert 0.02 <= reached["won"] <= 0.05
    assert 0.2 <= reached["won"] / reached["sql"] <= 0.4
    sql = _first(crm.outcomes, "sql")
    created = crm.leads.set_index("lead_id")["created_at"].reindex(sql.index)
    days = (sql - created).dt.total_seconds() / 86_400
    assert ((days >= 5) & (days <= 90)).mean() >= 0.9
    assert crm.info["funnel"]["sql_rate"] == pytest.approx(reached["sql"], abs=1e-4)


def test_demo_requesters_reach_sql_at_least_three_times_as_often(crm):
    requested = crm.leads["lead_id"].isin(
        crm.events.loc[crm.events["event_type"] == "demo_request", "lead_id"]
    )
    sql = _sql_flag(crm).to_numpy()
    assert sql[requested.to_numpy()].mean() >= 3 * sql[~requested.to_numpy()].mean()


def test_nothing_at_or_after_the_data_end(crm):
    start, end = pd.Timestamp("2023-01-01"), pd.Timestamp("2026-01-01")
    assert crm.info["end"] == end.isoformat()
    assert crm.leads["created_at"].between(start, end, inclusive="left").all()
    for frame in (crm.events, crm.intent, crm.outcomes):
        assert (frame["ts"] < end).all()


def test_outcomes_follow_the_stage_order(crm):
    wide = crm.outcomes.pivot(index="lead_id", columns="stage", values="ts")
    assert not crm.outcomes.duplicated(["lead_id", "stage"]).any()

    def never_before(later: str, earlier: str) -> bool:
        both = wide[[later, earlier]].dropna()
        return bool((both[later] >= both[earlier]).all())

    assert never_before("sql", "mql") and never_before("opportunity", "sql")
    assert never_before("won", "opportunity") and never_before("lost", "opportunity")
    assert never_before("disqualified", "mql")
    assert wide.loc[wide["sql"].notna(), "mql"].notna().all()  # every SQL passed MQL
    assert wide.loc[wide["won"].notna(), "opportunity"].notna().all()
    assert not (wide["won"].notna() & wide["lost"].notna()).any()
    assert not (wide["sql"].notna() & wide["disqualified"].notna()).any()
    created = crm.leads.set_index("lead_id")["created_at"]
    assert (
        crm.outcomes["ts"].to_numpy() >= created.reindex(crm.outcomes["lead_id"]).to_numpy()
    ).all()


def test_events_are_sorted_and_never_before_creation(crm):
    events = crm.events
    lead, ts = events["lead_id"].to_numpy(), events["ts"].to_numpy()
    same_lead = lead[1:] == lead[:-1]
    assert (lead[1:] >= lead[:-1]).all() and (ts[1:][same_lead] >= ts[:-1][same_lead]).all()
    created = crm.leads.set_index("lead_id")["created_at"].reindex(events["lead_id"]).to_numpy()
    assert (events["ts"].to_numpy() >= created).all()


# --- the ground truth -----------------------------------------------------------------
def test_truth_json_names_the_drivers_and_the_no_effect_attributes(crm):
    info = crm.info
    names = {d["name"] for d in info["drivers"]}
    assert names == {
        "demo_request", "pricing_interest", "company_size", "authority", "source", "intent",
        "email_status", "unsubscribe", "speed_to_lead", "engagement",
    }  # fmt: skip
    assert all(
        d["direction"] in {"+", "-", "+/-", "non-monotone"} and d["description"]
        for d in info["drivers"]
    )
    assert {"country", "blog_view", "technology_change"} <= set(info["no_effect"])
    assert info["seed"] == 7 and info["n_leads"] == 20_000


def test_truth_p_sql_is_the_product_of_its_published_parts(crm):
    truth = crm.truth
    logit = -2.6 + truth.filter(like="logit_").sum(axis=1)
    p = 1 / (1 + np.exp(-logit)) * truth.filter(like="factor_").prod(axis=1)
    np.testing.assert_allclose(p, truth["p_sql"], rtol=1e-12)
    assert np.isclose(
        truth["p_sql"].mean(), crm.info["funnel"]["expected_sql_rate_uncensored"], atol=1e-4
    )


def test_no_effect_attributes_are_independent_of_conversion(crm):
    leads = crm.leads.set_index("lead_id")
    truth = crm.truth.set_index("lead_id")
    country = (
        crm.accounts.set_index("account_id")["country"].reindex(leads["account_id"]).to_numpy()
    )
    sql = _sql_flag(crm).to_numpy()
    table = pd.crosstab(country, sql)
    assert stats.chi2_contingency(table)[1] > 0.001  # observed SQL rate by country: noise only
    assert (
        stats.f_oneway(
            *[truth["p_sql"].to_numpy()[country == c] for c in np.unique(country)]
        ).pvalue
        > 0.001
    )
    assert stats.chi2_contingency(pd.crosstab(leads["owner"].to_numpy(), sql))[1] > 0.001

    blog = crm.events.loc[crm.events["event_type"] == "blog_view"].groupby("lead_id").size()
    # leads old enough for the whole 180-day blog window: counts are Poisson(6) whatever the lead
    old = leads.index[leads["created_at"] < pd.Timestamp("2025-06-01")]
    counts = blog.reindex(old, fill_value=0)
    assert abs(stats.spearmanr(counts, truth.loc[old, "p_sql"]).statistic) < 0.03
    assert abs(stats.spearmanr(counts, truth.loc[old, "interest"]).statistic) < 0.03
    assert counts.mean() == pytest.approx(6.0, rel=0.03)

    signals = (
        crm.intent.loc[crm.intent["signal_type"] == "technology_change"]
        .groupby("account_id")
        .size()
    )
    in_market = truth["in_market"].groupby(leads["account_id"]).first()
    tech = signals.reindex(in_market.index, fill_value=0)
    assert stats.mannwhitneyu(tech[in_market], tech[~in_market]).pvalue > 0.001


def test_intent_drivers_cluster_before_in_market_leads(crm):
    leads = crm.leads[["lead_id", "account_id", "created_at"]]
    in_market = crm.truth["in_market"].to_numpy()
    drivers = crm.intent.loc[
        crm.intent["signal_type"].isin(["funding_round", "hiring_surge", "new_executive"])
    ]
    pairs = leads.merge(drivers, on="account_id")
    recent = pairs["ts"].between(pairs["created_at"] - pd.Timedelta(days=90), pairs["created_at"])
    per_lead = (
        pairs.loc[recent]
        .groupby("lead_id")
        .size()
        .reindex(leads["lead_id"], fill_value=0)
        .to_numpy()
    )
    assert per_lead[in_market].mean() > 3 * per_lead[~in_market].mean()
    sql = _sql_flag(crm).to_numpy()
    assert sql[in_market].mean() > 1.5 * sql[~in_market].mean()


def test_negative_signals_show_in_events_and_lower_conversion(crm):
    leads = crm.leads.set_index("lead_id")
    events = crm.events
    invalid = leads.index[leads["email_status"] == "invalid"]
    of_invalid = events.loc[events["lead_id"].isin(invalid), "event_type"].value_counts()
    assert of_invalid["email_bounce"] > 5 * len(invalid) and of_invalid["email_open"] == 0
    unsubscribed = events.loc[events["event_type"] == "unsubscribe", ["lead_id", "ts"]].set_index(
        "lead_id"
    )["ts"]
    email = events.loc[
        events["event_type"].isin(["email_open", "email_click"])
        & events["lead_id"].isin(unsubscribed.index)
    ]
    assert (email["ts"].to_numpy() < unsubscribed.reindex(email["lead_id"]).to_numpy()).all()
    sql = _sql_flag(crm)
    assert sql[invalid].mean() < 0.4 * sql.mean()

    first_touch = events.loc[events["event_type"] == "sales_touch"].groupby("lead_id")["ts"].min()
    delay_h = (
        first_touch - leads["created_at"].reindex(first_touch.index)
    ).dt.total_seconds() / 3600
    late = delay_h.index[delay_h > 48]
    on_time = delay_h.index[delay_h <= 48]
    assert sql[late].mean() < 0.75 * sql[on_time].mean()


def test_rep_activity_after_sql_would_expose_a_leaky_pipeline(crm):
    sql = _first(crm.outcomes, "sql")
    meetings = crm.events.loc[
        (crm.events["event_type"] == "meeting") & crm.events["lead_id"].isin(sql.index)
    ]
    after = meetings["ts"].to_numpy() >= sql.reindex(meetings["lead_id"]).to_numpy()
    assert after.mean() > 0.8


# --- spec and CLI ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_leads": 0}, "n_leads must be at least 1; got 0"),
        ({"n_leads": 10, "months": 0}, "months must be between 1 and 1200; got 0"),
        ({"n_leads": 10, "start": "soon"}, "start: 'soon' is not a date"),
        ({"n_leads": 10, "seed": -1}, "seed must be a non-negative integer; got -1"),
    ],
)
def test_spec_rejects_bad_values_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SynthSpec(**kwargs)


def test_shorter_period_and_other_start_are_respected():
    crm = generate_crm(SynthSpec(n_leads=1_000, seed=1, start="2024-03-15", months=6))
    end = pd.Timestamp("2024-09-15")
    assert crm.leads["created_at"].min() >= pd.Timestamp("2024-03-15")
    assert max(crm.events["ts"].max(), crm.outcomes["ts"].max(), crm.intent["ts"].max()) < end


def test_cli_writes_the_tables_and_prints_the_funnel(tmp_path):
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Group mode, as in leadml's CLI."""

    register(app)
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo-data", "--out", str(out), "--leads", "1500", "--seed", "3", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["out"] == str(out) and summary["funnel"]["leads"] == 1_500
    assert {p.name for p in out.iterdir()} == {f"{t}.csv" for t in TABLE_NAMES} | {
        "truth.parquet",
        "truth.json",
    }
    assert "funnel: MQL" in result.stderr

    bad = CliRunner().invoke(app, ["demo-data", "--out", str(out), "--start", "later"])
    assert bad.exit_code == 2 and "not a date" in bad.stderr


def test_no_effect_names_are_published():
    assert {"country", "blog_view", "technology_change"} <= set(NO_EFFECT)


def test_leads_dormant_for_the_nurture_period_are_recycled_before_any_sql(crm):
    nurture = crm.info["nurture"]
    assert nurture["nurture_days"] == 90 and "blog_view" not in nurture["engagement_events"]
    truth = crm.truth.set_index("lead_id")
    leads = crm.leads.set_index("lead_id")
    recycled = truth["recycled_days"].dropna()
    assert 0.5 < len(recycled) / len(truth) < 0.9  # most leads that never buy go quiet
    end = pd.Timestamp("2026-01-01")
    at = leads["created_at"].reindex(recycled.index) + pd.to_timedelta(recycled, unit="D")
    known = at[at < end]
    disqualified = _first(crm.outcomes, "disqualified").reindex(known.index)
    # recorded as disqualified at the end of the pause (or earlier, by the MQL rule)
    assert (disqualified <= known.dt.floor("s")).all()
    # a recycled lead never reaches SQL, and its own engagement paused that long before
    assert not known.index.isin(crm.outcomes.loc[crm.outcomes["stage"] == "sql", "lead_id"]).any()
    engaged = crm.events[crm.events["event_type"].isin(nurture["engagement_events"])]
    lead = known.index[0]
    before = engaged.loc[(engaged["lead_id"] == lead) & (engaged["ts"] < known[lead]), "ts"]
    last = before.max() if len(before) else leads.loc[lead, "created_at"]
    assert (known[lead] - last) / pd.Timedelta(days=1) == pytest.approx(90, abs=1e-4)
    # the open population at the data's end is young: what a sales team still holds open
    closed = crm.outcomes.loc[
        crm.outcomes["stage"].isin(["sql", "opportunity", "won", "lost", "disqualified"]), "lead_id"
    ]
    open_age = (end - leads.loc[~leads.index.isin(closed), "created_at"]).dt.days
    assert (open_age < 365).mean() > 0.9
