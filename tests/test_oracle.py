"""The oracle: exact formulas, and calibration against the generator's realised labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from leadml.synth import SynthSpec, generate_crm
from leadml.synth.oracle import ORACLE_COLUMNS, oracle_probability, time_to_sql_cdf

HORIZON = 90


@pytest.fixture(scope="module")
def snapshots():
    """Open leads looked at several ages, with their realised labels (windows before the data end)."""
    crm = generate_crm(SynthSpec(n_leads=60_000, seed=11))
    end = pd.Timestamp(crm.info["end"])
    leads = crm.leads[["lead_id", "created_at"]]
    first = {
        stage: crm.outcomes.loc[crm.outcomes["stage"] == stage].groupby("lead_id")["ts"].min()
        for stage in ("sql", "won")
    }
    parts = []
    for age in (0, 7, 14, 30, 60):
        s = leads.assign(age=age, as_of=leads["created_at"] + pd.Timedelta(days=age))
        s = s.loc[s["as_of"] + pd.Timedelta(days=HORIZON) <= end]
        sql = s["lead_id"].map(first["sql"])
        s = s.loc[~(sql < s["as_of"])]  # still open: no SQL before as_of
        window_end = s["as_of"] + pd.Timedelta(days=HORIZON)
        for stage, when in first.items():
            ts = s["lead_id"].map(when)
            s = s.assign(**{f"y_{stage}": ((ts >= s["as_of"]) & (ts < window_end)).to_numpy()})
        parts.append(s)
    frame = pd.concat(parts, ignore_index=True)
    for target in ("sql", "won"):
        frame[f"p_{target}"] = oracle_probability(
            crm.truth,
            frame["lead_id"].to_numpy(),
            frame["as_of"].to_numpy(),
            created_at=frame["created_at"].to_numpy(),
            target=target,
            horizon_days=HORIZON,
        )
    return frame


def _close(observed: np.ndarray, predicted: np.ndarray, slack: float) -> bool:
    se = np.sqrt(max(predicted.mean() * (1 - predicted.mean()), 1e-6) / predicted.size)
    return abs(observed.mean() - predicted.mean()) <= 4 * se + slack


@pytest.mark.parametrize("target", ["sql", "won"])
def test_mean_oracle_probability_matches_the_label_rate_at_each_age(snapshots, target):
    for age, part in snapshots.groupby("age"):
        y, p = part[f"y_{target}"].to_numpy(), part[f"p_{target}"].to_numpy()
        assert _close(y, p, slack=0.001), (
            f"age {age}: observed {y.mean():.4f}, oracle {p.mean():.4f}"
        )


@pytest.mark.parametrize("target", ["sql", "won"])
def test_oracle_is_calibrated_within_its_deciles(snapshots, target):
    p = snapshots[f"p_{target}"]
    bins = pd.qcut(p.rank(method="first"), 10, labels=False)
    for decile, part in snapshots.groupby(bins):
        y, q = part[f"y_{target}"].to_numpy(), part[f"p_{target}"].to_numpy()
        assert _close(y, q, slack=0.003), (
            f"decile {decile}: observed {y.mean():.4f}, oracle {q.mean():.4f}"
        )


def test_oracle_ranks_far_better_than_chance(snapshots):
    auc = stats.mannwhitneyu(
        snapshots.loc[snapshots["y_sql"], "p_sql"], snapshots.loc[~snapshots["y_sql"], "p_sql"]
    ).statistic / (snapshots["y_sql"].sum() * (~snapshots["y_sql"]).sum())
    assert auc > 0.85


# --- exact values on hand-made truths ---------------------------------------------------
def _truth(**overrides: float) -> pd.DataFrame:
    row = {
        "lead_id": 1, "p_sql": 0.4, "p_won_given_sql": 0.3, "sql_shift_days": 10.0, "sql_mu": np.log(5.0),
        "sql_sigma": 0.6, "won_shape": 6.0, "won_scale_days": 8.5,
    } | overrides  # fmt: skip
    return pd.DataFrame([row])


def test_sql_probability_follows_the_formula():
    truth = _truth()
    created = np.array(["2024-01-01"], dtype="datetime64[us]")
    for age in (0, 12, 20, 40):
        as_of = created + np.timedelta64(age, "D")
        p = oracle_probability(truth, [1], as_of, created_at=created, target="sql", horizon_days=30)
        cdf = stats.lognorm(s=0.6, scale=5.0).cdf
        f_a, f_b = cdf(max(age - 10, 0)) * (age > 10), cdf(age + 30 - 10)
        assert p[0] == pytest.approx(0.4 * (f_b - f_a) / (1 - 0.4 * f_a), rel=1e-9)


def test_won_probability_matches_a_monte_carlo_of_the_generator():
    truth = _truth()
    rng = np.random.default_rng(0)
    n = 2_000_000
    sql = rng.random(n) < 0.4
    t = 10.0 + np.exp(np.log(5.0) + 0.6 * rng.standard_normal(n))
    won = sql & (rng.random(n) < 0.3)
    w = rng.gamma(6.0, 8.5, n)
    created = np.array(["2024-01-01"], dtype="datetime64[us]")
    for age in (0, 14):
        open_ = ~(sql & (t <= age))
        hit = won & (t + w >= age) & (t + w < age + 60) & open_
        expected = hit.sum() / open_.sum()
        p = oracle_probability(
            truth,
            [1],
            created + np.timedelta64(age, "D"),
            created_at=created,
            target="won",
            horizon_days=60,
        )
        assert p[0] == pytest.approx(expected, abs=4 * np.sqrt(expected / open_.sum()) + 1e-4)


def test_as_of_may_be_one_timestamp_and_before_creation_counts_from_creation():
    truth = pd.concat([_truth(), _truth(lead_id=2, p_sql=0.1)], ignore_index=True)
    created = pd.to_datetime(["2024-01-10", "2024-01-01"])
    p = oracle_probability(
        truth, [1, 2], pd.Timestamp("2024-01-01"), created_at=created, target="sql", horizon_days=30
    )
    early = oracle_probability(
        truth, [1], created[:1], created_at=created[:1], target="sql", horizon_days=21
    )
    assert p[0] == pytest.approx(early[0])
    assert p[1] < p[0]


def test_time_to_sql_cdf_is_zero_before_the_shift_and_reaches_one():
    days = np.array([0.0, 9.9, 10.0, 15.0, 1e4])
    cdf = time_to_sql_cdf(days, 10.0, np.log(5.0), 0.6)
    assert cdf[:3].tolist() == [0.0, 0.0, 0.0]
    assert cdf[3] == pytest.approx(0.5) and cdf[4] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "mql"}, "target must be 'sql' or 'won'; got 'mql'"),
        ({"horizon_days": 0}, "horizon_days must be positive; got 0"),
        ({"lead_id": [1, 99]}, r"1 lead_id values have no truth row, e\.g\. \[99\]"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    arguments = {"lead_id": [1], "target": "sql", "horizon_days": 30} | kwargs
    n = len(arguments["lead_id"])
    with pytest.raises(ValueError, match=message):
        oracle_probability(
            _truth(),
            arguments["lead_id"],
            pd.Timestamp("2024-02-01"),
            created_at=np.full(n, np.datetime64("2024-01-01", "us")),
            target=arguments["target"],
            horizon_days=arguments["horizon_days"],
        )


def test_missing_truth_columns_are_named():
    with pytest.raises(ValueError, match=r"truth: missing columns \['sql_mu'\]"):
        oracle_probability(
            _truth().drop(columns="sql_mu"), [1], pd.Timestamp("2024-02-01"),
            created_at=[pd.Timestamp("2024-01-01")], target="sql", horizon_days=30,
        )  # fmt: skip
    assert "p_sql" in ORACLE_COLUMNS
