"""The shared evaluation: values by hand or against scikit-learn, ties, calibration, bootstrap."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sklearn_log_loss

from leadml.modeling.evaluate import (
    brier_score,
    capacity_metrics,
    compare,
    conversion_by_segment,
    conversion_by_tier,
    cumulative_gains_curve,
    evaluate_scores,
    expected_calibration_error,
    gains_table,
    lift_top_decile,
    log_loss,
    pr_auc,
    reliability_table,
    roc_auc,
    roc_auc_and_lift_intervals,
)

# A hand-made ranking of 10 leads, best first: positives at ranks 1, 2, 4 and 7.
Y_RANKED = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
P_RANKED = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])


@pytest.fixture(scope="module")
def noisy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    p = rng.beta(1.2, 6.0, size=4000)
    y = (rng.random(4000) < p).astype(int)
    return y, p


def test_roc_auc_matches_hand_count_on_small_ranking():
    # 4 positives x 6 negatives = 24 pairs; negatives below each positive: 6, 6, 5, 3 -> 20 / 24
    assert roc_auc(Y_RANKED, P_RANKED) == pytest.approx(20 / 24)


def test_roc_auc_counts_ties_as_half_like_sklearn(noisy):
    y, p = noisy
    tied = np.round(p, 1)  # few distinct values, many ties
    assert roc_auc(y, tied) == pytest.approx(roc_auc_score(y, tied), abs=1e-12)
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5


def test_pr_auc_log_loss_brier_match_sklearn(noisy):
    y, p = noisy
    assert pr_auc(y, p) == pytest.approx(average_precision_score(y, p))
    assert log_loss(y, p) == pytest.approx(sklearn_log_loss(y, p))
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p))


def test_brier_and_log_loss_by_hand():
    y, p = [1, 0], [0.8, 0.4]
    assert brier_score(y, p) == pytest.approx((0.2**2 + 0.4**2) / 2)
    assert log_loss(y, p) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)


def test_log_loss_is_finite_for_confident_mistakes():
    assert np.isfinite(log_loss([1, 0], [0.0, 1.0]))


def test_lift_at_k_on_hand_made_ranking():
    # top 3: two positives -> precision 2/3, recall 2/4, lift (2/3) / 0.4
    at3 = capacity_metrics(Y_RANKED, P_RANKED, 3)
    assert at3 == pytest.approx(
        {"k": 3, "precision_at_k": 2 / 3, "recall_at_k": 0.5, "lift_at_k": (2 / 3) / 0.4}
    )
    # a share: 50 % of 10 leads = top 5 -> 3 positives
    at_half = capacity_metrics(Y_RANKED, P_RANKED, 0.5)
    assert at_half["k"] == 5
    assert at_half["precision_at_k"] == pytest.approx(0.6)
    assert at_half["recall_at_k"] == pytest.approx(0.75)


def test_ties_at_the_cutoff_count_pro_rata_and_ignore_row_order():
    # 4 rows tied at the top, 2 of them positive; top 2 expects 1 positive whatever the row order
    y = np.array([1, 1, 0, 0, 0, 1, 0, 0])
    p = np.array([0.9, 0.9, 0.9, 0.9, 0.2, 0.1, 0.1, 0.1])
    assert capacity_metrics(y, p, 2)["precision_at_k"] == pytest.approx(0.5)
    order = np.array([3, 2, 1, 0, 7, 6, 5, 4])
    assert capacity_metrics(y[order], p[order], 2)["precision_at_k"] == pytest.approx(0.5)


def test_gains_table_by_hand():
    table = gains_table(Y_RANKED, P_RANKED)
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["n"].tolist() == [1] * 10
    assert table["positives"].tolist() == Y_RANKED.tolist()
    assert table["cumulative_share_of_positives"].tolist() == pytest.approx(
        [0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 1, 1, 1, 1]
    )
    assert table["lift"].iloc[0] == pytest.approx(1 / 0.4)
    assert table["cumulative_lift"].iloc[-1] == pytest.approx(1.0)
    assert lift_top_decile(Y_RANKED, P_RANKED) == pytest.approx(2.5)


def test_gains_deciles_cover_all_rows_and_positives(noisy):
    y, p = noisy
    table = gains_table(y, p)
    assert table["n"].sum() == y.size
    assert table["positives"].sum() == pytest.approx(y.sum())
    assert table["cumulative_share_of_positives"].iloc[-1] == pytest.approx(1.0)
    assert (np.diff(table["cumulative_share_of_positives"]) >= -1e-12).all()


def test_gains_curve_ends_at_one_and_matches_deciles(noisy):
    y, p = noisy
    curve = cumulative_gains_curve(y, p)
    assert curve.iloc[0].tolist() == [0.0, 0.0]
    assert curve.iloc[-1].tolist() == pytest.approx([1.0, 1.0])
    at_30 = np.interp(0.3, curve["share_of_leads"], curve["share_of_positives"])
    assert at_30 == pytest.approx(gains_table(y, p)["cumulative_share_of_positives"].iloc[2])


def test_ece_near_zero_for_labels_drawn_from_their_probabilities():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.6, size=50_000)
    y = (rng.random(p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02


def test_ece_large_for_a_shifted_model():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.6, size=50_000)
    y = (rng.random(p.size) < p).astype(int)
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.1


def test_reliability_table_by_hand_and_ties_kept_together():
    # two tie groups of 5: each is one bin, whatever n_bins
    y = [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]
    p = [0.2] * 5 + [0.6] * 5
    table = reliability_table(y, p, n_bins=10)
    assert table["n"].tolist() == [5, 5]
    assert table["mean_predicted"].tolist() == pytest.approx([0.2, 0.6])
    assert table["observed_rate"].tolist() == pytest.approx([0.2, 0.8])
    assert expected_calibration_error(y, p) == pytest.approx(0.5 * 0.0 + 0.5 * 0.2)


def test_reliability_bins_are_equal_count_without_ties(noisy):
    y, p = noisy
    table = reliability_table(y, p)
    assert table["n"].tolist() == [400] * 10
    assert (np.diff(table["mean_predicted"]) > 0).all()


def test_conversion_by_tier_from_thresholds():
    y = [1, 0, 1, 0, 0, 0]
    p = [0.9, 0.5, 0.35, 0.2, 0.05, 0.01]
    table = conversion_by_tier(y, p, thresholds=(0.5, 0.1))
    assert table["tier"].tolist() == ["hot", "warm", "cold"]
    assert table["n"].tolist() == [2, 2, 2]
    assert table["positives"].tolist() == [1, 1, 0]
    assert table["rate"].tolist() == pytest.approx([0.5, 0.5, 0.0])
    assert table["mean_predicted"].tolist() == pytest.approx([0.7, 0.275, 0.03])


def test_conversion_by_tier_from_labels_keeps_funnel_order():
    table = conversion_by_tier(
        [1, 0, 0, 1], [0.6, 0.1, 0.2, 0.3], tiers=["sales", "nurture", "mql", "mql"]
    )
    assert table["tier"].tolist() == ["sales", "mql", "nurture"]
    assert table["n"].tolist() == [1, 2, 1]


def test_tier_thresholds_out_of_order_fail():
    with pytest.raises(ValueError, match=r"0 <= warm <= hot <= 1; got hot=0.1, warm=0.5"):
        conversion_by_tier([0, 1], [0.2, 0.8], thresholds=(0.1, 0.5))


def test_conversion_by_segment_counts_missing_as_a_segment():
    table = conversion_by_segment(
        [1, 0, 1, 0, 1], [0.5, 0.2, 0.4, 0.3, 0.9], ["a", "a", "b", None, "a"]
    )
    assert table["segment"].tolist() == ["a", "b", "missing"]
    assert table["n"].tolist() == [3, 1, 1]
    assert table["rate"].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert table["mean_predicted"].tolist() == pytest.approx([1.6 / 3, 0.4, 0.3])


def test_bootstrap_interval_contains_estimate_and_is_deterministic(noisy):
    y, p = noisy
    first = roc_auc_and_lift_intervals(y, p, n_boot=100, random_state=7)
    again = roc_auc_and_lift_intervals(y, p, n_boot=100, random_state=7)
    other = roc_auc_and_lift_intervals(y, p, n_boot=100, random_state=8)
    assert first == again
    assert first != other
    lo, hi = first["roc_auc_ci"]
    assert lo < roc_auc(y, p) < hi
    lo, hi = first["lift_top_decile_ci"]
    assert lo < lift_top_decile(y, p) < hi
    assert first["n_valid"] == 100


def test_evaluate_scores_is_json_ready_and_consistent(noisy):
    y, p = noisy
    segment = np.where(np.arange(y.size) % 3 == 0, "referral", "paid_search")
    report = evaluate_scores(
        y, p, segments={"source": segment}, tier_thresholds=(0.3, 0.1), n_boot=50
    )
    required = {
        "roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top_decile", "roc_auc_ci",
        "lift_top_decile_ci", "precision_at_k", "recall_at_k", "lift_at_k", "n", "positives",
        "base_rate", "reliability", "gains", "by_tier", "by_segment",
    }  # fmt: skip
    assert required <= report.keys()
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert report["n"] == y.size and report["positives"] == int(y.sum())
    assert report["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    # capacity 10 % is the top decile
    assert report["lift_at_k"] == pytest.approx(report["lift_top_decile"])
    assert [row["tier"] for row in report["by_tier"]] == ["hot", "warm", "cold"]
    assert {row["segment"] for row in report["by_segment"]["source"]} == {"referral", "paid_search"}
    assert evaluate_scores(y, p, n_boot=50) == evaluate_scores(y, p, n_boot=50)


def test_compare_puts_scorers_side_by_side(noisy):
    y, p = noisy
    reports = {
        "model": evaluate_scores(y, p, n_boot=20),
        "baseline": evaluate_scores(y, np.round(p, 1), n_boot=20),
    }
    table = compare(reports)
    assert table.columns.tolist() == ["model", "baseline"]
    assert table.loc["roc_auc", "model"] == pytest.approx(reports["model"]["roc_auc"])
    assert table.loc["roc_auc_ci_low", "baseline"] == pytest.approx(
        reports["baseline"]["roc_auc_ci"][0]
    )
    assert table.index.name == "metric"


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 1, 1], [0.1, 0.9], r"y_true has 3 rows but y_prob has 2"),
        ([1, 1, 1], [0.1, 0.5, 0.9], r"only class 1 \(3 rows\).*need both 0 and 1"),
        (
            [0, 1],
            [-0.2, 1.5],
            r"probabilities in \[0, 1\]; got 2 values outside \(min -0.2, max 1.5\)",
        ),
        ([0, 2], [0.1, 0.9], r"0/1 labels; got 1 other values, e.g. \[2\]"),
        ([0, 1], [0.1, np.nan], r"1 NaN values"),
    ],
)
def test_degenerate_input_fails_clearly(y, p, message):
    with pytest.raises(ValueError, match=message):
        evaluate_scores(y, p)


def test_capacity_out_of_range_fails_clearly():
    with pytest.raises(
        ValueError, match=r"capacity=20 leads; expected a count between 1 and the 10 rows"
    ):
        capacity_metrics(Y_RANKED, P_RANKED, 20)
    with pytest.raises(ValueError, match=r"capacity=1.5; expected a share in \(0, 1\]"):
        capacity_metrics(Y_RANKED, P_RANKED, 1.5)


def test_segment_length_mismatch_fails_clearly():
    with pytest.raises(ValueError, match=r"segment 'source' has 2 values but y_true has 10"):
        evaluate_scores(Y_RANKED, P_RANKED, segments={"source": ["a", "b"]}, n_boot=5)


def test_inputs_are_not_mutated():
    y = pd.Series(Y_RANKED.copy())
    p = P_RANKED.copy()
    evaluate_scores(y, p, n_boot=5)
    assert (y.to_numpy() == Y_RANKED).all() and (p == P_RANKED).all()


def test_bootstrap_intervals_match_a_plain_numpy_bootstrap(noisy):
    """The numba kernel's sums against resampling rows with numpy and recomputing the metrics."""
    y, p = noisy
    fast = roc_auc_and_lift_intervals(y, p, n_boot=400, random_state=1)
    rng = np.random.default_rng(1)
    draws = [rng.integers(0, y.size, y.size) for _ in range(400)]
    aucs = [roc_auc(y[d], p[d]) for d in draws]
    lifts = [lift_top_decile(y[d], p[d]) for d in draws]
    for key, values in (("roc_auc_ci", aucs), ("lift_top_decile_ci", lifts)):
        lo, hi = np.quantile(values, [0.025, 0.975])
        fast_lo, fast_hi = fast[key]
        width = hi - lo
        # different draws, same distribution: bounds agree to a small share of the width
        assert abs(fast_lo - lo) < 0.2 * width and abs(fast_hi - hi) < 0.2 * width, (
            key,
            fast[key],
            lo,
            hi,
        )


def _refusal(call, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def test_each_refusal_gives_its_whole_message():
    assert _refusal(roc_auc, [[0, 1]], [[0.1, 0.9]]) == (
        "y_true and y_prob must be 1-D arrays; got shapes (1, 2) and (1, 2) "
        "(pass predict_proba(X)[:, 1] for a probability)"
    )
    assert _refusal(roc_auc, [0, 1], [[0.1, 0.9], [0.2, 0.8]]) == (
        "y_true and y_prob must be 1-D arrays; got shapes (2,) and (2, 2) "
        "(pass predict_proba(X)[:, 1] for a probability)"
    )
    assert _refusal(roc_auc, [0, 1, 1], [0.1, 0.9]) == (
        "y_true has 3 rows but y_prob has 2; expected one probability per label"
    )
    assert _refusal(roc_auc, [], []) == (
        "y_true and y_prob are empty; expected at least one row of each class"
    )
    assert _refusal(roc_auc, ["yes", "no"], [0.1, 0.9]) == (
        "y_true must hold 0/1 labels; got values such as ['yes', 'no']"
    )
    assert _refusal(roc_auc, [0, 2, 3, 2], [0.1, 0.9, 0.5, 0.5]) == (
        "y_true must hold 0/1 labels; got 3 other values, e.g. [2, 3]"
    )
    assert _refusal(roc_auc, [0, 0], [0.1, 0.9]) == (
        "y_true holds only class 0 (2 rows); ROC-AUC, PR-AUC, calibration and lift "
        "need both 0 and 1 labels"
    )
    assert _refusal(roc_auc, [0, 1], ["a", "b"]) == (
        "y_prob must be numeric probabilities; got dtype <U1"
    )
    assert _refusal(roc_auc, [0, 1, 1], [0.1, np.nan, np.nan]) == (
        "y_prob has 2 NaN values of 3; expected probabilities in [0, 1]"
    )
    assert _refusal(roc_auc, [0, 1, 1], [-0.5, 0.5, 1.25]) == (
        "y_prob must be probabilities in [0, 1]; got 2 values outside (min -0.5, max 1.25). "
        "Pass predict_proba(X)[:, 1], not points or margins"
    )
    assert _refusal(capacity_metrics, Y_RANKED, P_RANKED, "10%") == (
        "capacity must be a share in (0, 1] or a count of leads >= 1; got '10%'"
    )
    assert _refusal(capacity_metrics, Y_RANKED, P_RANKED, True) == (
        "capacity must be a share in (0, 1] or a count of leads >= 1; got True"
    )
    assert _refusal(capacity_metrics, Y_RANKED, P_RANKED, 0) == (
        "capacity=0 leads; expected a count between 1 and the 10 rows scored"
    )
    assert _refusal(capacity_metrics, Y_RANKED, P_RANKED, 0.0) == (
        "capacity=0.0; expected a share in (0, 1] (e.g. 0.1 for the top 10 %) or an int count"
    )
    assert _refusal(conversion_by_segment, Y_RANKED, P_RANKED, ["a"], name="source") == (
        "segment 'source' has 1 values but y_true has 10; expected one per row"
    )
    assert _refusal(conversion_by_tier, Y_RANKED, P_RANKED) == (
        "give either thresholds=(hot, warm) or tiers (one label per row), not both or neither"
    )
    assert _refusal(conversion_by_tier, Y_RANKED, P_RANKED, thresholds=(0.5,)) == (
        "tier thresholds must be a pair (hot, warm); got (0.5,)"
    )
    assert _refusal(conversion_by_tier, Y_RANKED, P_RANKED, thresholds=(0.5, 0.6)) == (
        "tier thresholds must satisfy 0 <= warm <= hot <= 1; got hot=0.5, warm=0.6"
    )
    assert _refusal(reliability_table, Y_RANKED, P_RANKED, n_bins=0) == (
        "n_bins=0; expected at least 1"
    )
    assert _refusal(roc_auc_and_lift_intervals, Y_RANKED, P_RANKED, n_boot=-1) == (
        "n_boot=-1; expected a number of bootstrap draws >= 0 (0 skips the intervals)"
    )
    assert _refusal(roc_auc_and_lift_intervals, Y_RANKED, P_RANKED, level=1.0) == (
        "level=1.0; expected a confidence level in (0, 1), e.g. 0.95"
    )
    assert _refusal(
        evaluate_scores, Y_RANKED, P_RANKED, tier_thresholds=(0.5, 0.1), tiers=["a"] * 10
    ) == ("give tier_thresholds=(hot, warm) or tiers (one label per row), not both")


def test_capacity_as_a_share_rounds_half_up_and_as_a_count_is_exact():
    # 10 rows: a share of 0.25 is 2.5 rows -> 3; 0.24 -> 2.4 -> 2; 0.01 -> at least 1
    assert capacity_metrics(Y_RANKED, P_RANKED, 0.25)["k"] == 3
    assert capacity_metrics(Y_RANKED, P_RANKED, 0.24)["k"] == 2
    assert capacity_metrics(Y_RANKED, P_RANKED, 0.01)["k"] == 1
    assert capacity_metrics(Y_RANKED, P_RANKED, 1.0)["k"] == 10
    assert capacity_metrics(Y_RANKED, P_RANKED, np.int64(4))["k"] == 4
    assert capacity_metrics(Y_RANKED, P_RANKED, 10)["k"] == 10
    # top 3 hold 2 of the 4 positives: precision 2/3, recall 1/2, lift (2/3)/(4/10)
    at3 = capacity_metrics(Y_RANKED, P_RANKED, 3)
    assert at3 == {
        "k": 3,
        "precision_at_k": pytest.approx(2 / 3),
        "recall_at_k": pytest.approx(0.5),
        "lift_at_k": pytest.approx((2 / 3) / 0.4),
    }


def test_reliability_and_ece_by_hand_on_two_bins():
    # 4 rows, 2 equal-count bins: (0.1, 0.2) with 0 positives, (0.6, 0.8) with 2
    y = [0, 0, 1, 1]
    p = [0.1, 0.2, 0.6, 0.8]
    table = reliability_table(y, p, n_bins=2)
    assert table.to_dict("list") == {
        "bin": [1, 2],
        "n": [2, 2],
        "mean_predicted": [pytest.approx(0.15), pytest.approx(0.7)],
        "observed_rate": [0.0, 1.0],
        "prob_min": [0.1, 0.6],
        "prob_max": [0.2, 0.8],
    }
    # ECE = 1/2 |0.15 - 0| + 1/2 |0.7 - 1| = 0.075 + 0.15
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.225)


def test_gains_and_lift_by_hand_on_twenty_rows():
    # 20 rows, 2 per decile; positives at ranks 1, 2, 3 and 11: base rate 0.2
    p = np.linspace(0.99, 0.01, 20)
    y = np.zeros(20, dtype=int)
    y[[0, 1, 2, 10]] = 1
    table = gains_table(y, p)
    assert table["n"].tolist() == [2] * 10
    assert table["positives"].tolist() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    assert table["rate"].tolist() == [1.0, 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0]
    assert table["lift"].tolist() == pytest.approx([5.0, 2.5, 0, 0, 0, 2.5, 0, 0, 0, 0])
    assert table["cumulative_share_of_positives"].tolist() == pytest.approx(
        [0.5, 0.75, 0.75, 0.75, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0]
    )
    assert table["cumulative_lift"].tolist() == pytest.approx(
        [5.0, 3.75, 2.5, 1.875, 1.5, 5 / 3, 1 / 0.7, 1.25, 1 / 0.9, 1.0]
    )
    assert table["score_max"].tolist() == pytest.approx(list(p[::2]))
    assert table["score_min"].tolist() == pytest.approx(list(p[1::2]))
    assert lift_top_decile(y, p) == pytest.approx(5.0)
    curve = cumulative_gains_curve(y, p)
    assert curve["share_of_leads"].tolist()[:4] == pytest.approx([0.0, 0.05, 0.1, 0.15])
    assert curve["share_of_positives"].tolist()[:5] == pytest.approx([0.0, 0.25, 0.5, 0.75, 0.75])


def test_conversion_tables_by_hand():
    y = [1, 0, 1, 0, 0, 1]
    p = [0.9, 0.8, 0.35, 0.3, 0.05, 0.02]
    tiers = conversion_by_tier(y, p, thresholds=(0.5, 0.3))
    assert tiers.to_dict("list") == {
        "tier": ["hot", "warm", "cold"],
        "n": [2, 2, 2],
        "share": [pytest.approx(1 / 3)] * 3,
        "positives": [1, 1, 1],
        "rate": [0.5, 0.5, 0.5],
        "mean_predicted": [pytest.approx(0.85), pytest.approx(0.325), pytest.approx(0.035)],
    }
    # a tier with no lead is listed with n = 0 and no rate
    empty_hot = conversion_by_tier(y, p, thresholds=(0.95, 0.3))
    assert empty_hot["n"].tolist() == [0, 4, 2]
    assert np.isnan(empty_hot["rate"].iloc[0]) and np.isnan(empty_hot["mean_predicted"].iloc[0])
    by_label = conversion_by_tier(y, p, tiers=["sales", "mql", "zeta", "nurture", "mql", None])
    # the funnel's known tiers first, hottest first, then the others alphabetically
    assert by_label["tier"].tolist() == ["sales", "mql", "nurture", "missing", "zeta"]
    assert by_label["n"].tolist() == [1, 2, 1, 1, 1]
    segments = conversion_by_segment(y, p, ["b", "a", "b", None, "a", "b"], name="source")
    assert segments["segment"].tolist() == ["b", "a", "missing"]
    assert segments["positives"].tolist() == [3, 0, 0]
    assert segments["share"].tolist() == pytest.approx([0.5, 1 / 3, 1 / 6])


# --------------------------------------------------------------------------- whole reports by hand
# Y_RANKED / P_RANKED, best first: positives at ranks 1, 2, 4 and 7 of 10, base rate 0.4.
# Every figure below is worked out from that ranking, not from the code under test.
_ERRORS = [0.05, 0.1, 0.8, 0.3, 0.6, 0.5, 0.6, 0.3, 0.2, 0.1]  # |p - y| per row


def _same(actual, expected) -> None:
    """Nested dicts/lists equal, floats to 1e-12 (numpy's float64 is a float), None kept apart."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), (actual, expected)
        for key in expected:
            _same(actual[key], expected[key])
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected, strict=True):
            _same(a, e)
    elif isinstance(expected, float):
        assert isinstance(actual, float) and actual == pytest.approx(expected, abs=1e-12), (
            actual,
            expected,
        )
    else:
        assert type(actual) is type(expected) and actual == expected, (actual, expected)


def test_evaluate_scores_whole_report_by_hand():
    segment = ["a", "b"] * 5  # a: rows 0, 2, 4, 6, 8; b: rows 1, 3, 5, 7, 9
    report = evaluate_scores(
        Y_RANKED,
        P_RANKED,
        segments={"source": segment},
        capacity=0.3,
        tier_thresholds=(0.75, 0.35),
        n_boot=0,
        random_state=5,
    )
    log_likelihood = sum(
        np.log(p) if y else np.log(1 - p) for y, p in zip(Y_RANKED, P_RANKED, strict=True)
    )
    positives_so_far = np.cumsum(Y_RANKED)
    rows = np.arange(1, 11)
    expected = {
        "n": 10,
        "positives": 4,
        "base_rate": 0.4,
        "roc_auc": 20 / 24,
        "roc_auc_ci": [None, None],
        # precision at each positive's rank: 1/1, 2/2, 3/4, 4/7
        "pr_auc": (1 + 1 + 3 / 4 + 4 / 7) / 4,
        "log_loss": float(-log_likelihood / 10),
        "brier": sum(e * e for e in _ERRORS) / 10,
        # ten one-row bins: ECE is the mean |p - y|
        "ece": sum(_ERRORS) / 10,
        "lift_top_decile": 2.5,
        "lift_top_decile_ci": [None, None],
        "capacity": 0.3,
        "k": 3,
        "precision_at_k": 2 / 3,
        "recall_at_k": 0.5,
        "lift_at_k": (2 / 3) / 0.4,
        "reliability": [
            {
                "bin": b,
                "n": 1,
                "mean_predicted": p,
                "observed_rate": float(y),
                "prob_min": p,
                "prob_max": p,
            }
            for b, (y, p) in enumerate(zip(Y_RANKED[::-1], P_RANKED[::-1], strict=True), 1)
        ],
        "gains": [
            {
                "decile": d,
                "n": 1,
                "positives": float(y),
                "rate": float(y),
                "cumulative_share_of_positives": float(positives_so_far[d - 1] / 4),
                "lift": y / 0.4,
                "cumulative_lift": float(positives_so_far[d - 1] / rows[d - 1] / 0.4),
                "score_min": p,
                "score_max": p,
            }
            for d, (y, p) in enumerate(zip(Y_RANKED, P_RANKED, strict=True), 1)
        ],
        "by_tier": [
            # hot p >= 0.75: 0.95, 0.9, 0.8; warm p >= 0.35: 0.7 … 0.4; cold: 0.3, 0.2, 0.1
            {
                "tier": "hot",
                "n": 3,
                "share": 0.3,
                "positives": 2,
                "rate": 2 / 3,
                "mean_predicted": 2.65 / 3,
            },
            {
                "tier": "warm",
                "n": 4,
                "share": 0.4,
                "positives": 2,
                "rate": 0.5,
                "mean_predicted": 0.55,
            },
            {
                "tier": "cold",
                "n": 3,
                "share": 0.3,
                "positives": 0,
                "rate": 0.0,
                "mean_predicted": 0.2,
            },
        ],
        "by_segment": {
            "source": [
                {
                    "segment": "a",
                    "n": 5,
                    "share": 0.5,
                    "positives": 2,
                    "rate": 0.4,
                    "mean_predicted": 2.95 / 5,
                },
                {
                    "segment": "b",
                    "n": 5,
                    "share": 0.5,
                    "positives": 2,
                    "rate": 0.4,
                    "mean_predicted": 0.5,
                },
            ]
        },
        "bootstrap": {"n_boot": 0, "n_valid": 0, "level": 0.95, "random_state": 5},
    }
    _same(report, expected)
    # the same report from plain lists, a pandas Series and labels given per row instead
    again = evaluate_scores(
        pd.Series(Y_RANKED.tolist()), P_RANKED.tolist(), capacity=np.int64(3), n_boot=0
    )
    assert again["capacity"] == 3 and type(again["capacity"]) is int
    assert again["by_tier"] == [] and again["by_segment"] == {}
    assert again["bootstrap"]["random_state"] == 0
    by_label = evaluate_scores(Y_RANKED, P_RANKED, tiers=["mql"] * 5 + ["sales"] * 5, n_boot=0)
    _same(
        by_label["by_tier"],
        [
            {"tier": "sales", "n": 5, "share": 0.5, "positives": 1, "rate": 0.2,
             "mean_predicted": 1.5 / 5},
            {"tier": "mql", "n": 5, "share": 0.5, "positives": 3, "rate": 0.6,
             "mean_predicted": 3.95 / 5},
        ],
    )  # fmt: skip


def test_evaluate_scores_tied_five_rows_gives_none_for_empty_deciles():
    # 5 rows, ranks: 0.9 (neg), three tied at 0.5 (one positive), 0.1 (pos); base rate 0.4.
    # Decile cut-offs floor(i * 5 / 10 + 0.5) = 0 1 1 2 2 3 3 4 4 5 5: every other decile is empty.
    y = [0, 1, 0, 0, 1]
    p = [0.9, 0.5, 0.5, 0.5, 0.1]
    report = evaluate_scores(y, p, capacity=2, n_boot=0)
    third = 1 / 3  # the tie group's rate: each of its rows counts a third of a positive
    nan = None
    _same(
        [row["positives"] for row in report["gains"]],
        [0.0, 0.0, third, 0.0, third, 0.0, third, 0.0, 1.0, 0.0],
    )
    _same(
        [row["rate"] for row in report["gains"]],
        [0.0, nan, third, nan, third, nan, third, nan, 1.0, nan],
    )
    _same(
        [row["lift"] for row in report["gains"]],
        [0.0, nan, third / 0.4, nan, third / 0.4, nan, third / 0.4, nan, 2.5, nan],
    )
    # positives expected in the top 1 … 5 rows: 0, 1/3, 2/3, 1, 2
    _same(
        [row["cumulative_lift"] for row in report["gains"]],
        [0.0, 0.0, third / 2 / 0.4, third / 2 / 0.4, 2 * third / 3 / 0.4, 2 * third / 3 / 0.4,
         0.25 / 0.4, 0.25 / 0.4, 1.0, 1.0],
    )  # fmt: skip
    _same(
        [row["cumulative_share_of_positives"] for row in report["gains"]],
        [0.0, 0.0, third / 2, third / 2, third, third, 0.5, 0.5, 1.0, 1.0],
    )
    _same(
        [row["score_max"] for row in report["gains"]],
        [0.9, nan, 0.5, nan, 0.5, nan, 0.5, nan, 0.1, nan],
    )
    _same(
        [row["score_min"] for row in report["gains"]],
        [0.9, nan, 0.5, nan, 0.5, nan, 0.5, nan, 0.1, nan],
    )
    _same([row["n"] for row in report["gains"]], [1, 0, 1, 0, 1, 0, 1, 0, 1, 0])
    assert report["lift_top_decile"] == 0.0
    # top 2: 0.9 (negative) and a third of the tie group's positive
    _same(
        {key: report[key] for key in ("k", "precision_at_k", "recall_at_k", "lift_at_k")},
        {"k": 2, "precision_at_k": third / 2, "recall_at_k": third / 2,
         "lift_at_k": third / 2 / 0.4},
    )  # fmt: skip
    # AUC over 2 x 3 pairs: the positive at 0.5 loses to 0.9 and ties the two negatives at 0.5
    # (1/2 each); the positive at 0.1 loses to all three -> 1 / 6
    assert report["roc_auc"] == pytest.approx(1 / 6)


def test_reliability_bins_start_where_their_first_score_falls():
    # ascending rows 0.1, 0.1, 0.4, 0.7, 0.7 in 2 bins of 2.5 rows: row i falls in bin
    # floor(i * 2 / 5): rows 0-2 (0.1, 0.1, 0.4) in bin 1, rows 3-4 (the tied 0.7s) in bin 2
    y = [1, 0, 0, 1, 1]
    p = [0.7, 0.1, 0.4, 0.1, 0.7]
    table = reliability_table(y, p, n_bins=2)
    assert table["bin"].tolist() == [1, 2]
    assert table["n"].dtype == np.int64 and table["n"].tolist() == [3, 2]
    assert table["mean_predicted"].tolist() == pytest.approx([0.6 / 3, 0.7])
    assert table["observed_rate"].tolist() == pytest.approx([1 / 3, 1.0])
    assert table["prob_min"].tolist() == [0.1, 0.7]
    assert table["prob_max"].tolist() == [0.4, 0.7]
    # ECE = 3/5 |0.2 - 1/3| + 2/5 |0.7 - 1| = 0.08 + 0.12
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.2)
    # one bin holds everything; the default is ten bins (five one-or-two-row bins here)
    whole = reliability_table(y, p, n_bins=1)
    assert whole[["n", "prob_min", "prob_max"]].to_dict("list") == {
        "n": [5],
        "prob_min": [0.1],
        "prob_max": [0.7],
    }
    assert whole["mean_predicted"].tolist() == pytest.approx([2.0 / 5])
    assert reliability_table(y, p)["n"].tolist() == [2, 1, 2]


def test_ece_from_a_hand_made_reliability_table():
    from leadml.modeling.evaluate import ece_from_reliability

    # uneven bins, over- and under-confident: 1/4 * |0.2 - 0| + 3/4 * |0.5 - 1|
    table = pd.DataFrame({"n": [1, 3], "mean_predicted": [0.2, 0.5], "observed_rate": [0.0, 1.0]})
    assert ece_from_reliability(table) == pytest.approx(0.05 + 0.375)
    flipped = pd.DataFrame({"n": [3, 1], "mean_predicted": [0.2, 0.5], "observed_rate": [0.0, 1.0]})
    assert ece_from_reliability(flipped) == pytest.approx(0.15 + 0.125)
    assert type(ece_from_reliability(table)) is float


def test_conversion_rows_types_and_an_absent_tier():
    # every row cold: hot and warm are listed empty, counts stay integers, and the empty
    # tiers' 0 / 0 rates warn of nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = conversion_by_tier([1, 0, 0], [0.3, 0.2, 0.1], thresholds=(0.9, 0.5))
    assert table["tier"].tolist() == ["hot", "warm", "cold"]
    assert table["n"].dtype == np.int64 and table["n"].tolist() == [0, 0, 3]
    assert table["positives"].dtype == np.int64 and table["positives"].tolist() == [0, 0, 1]
    assert table["share"].tolist() == [0.0, 0.0, 1.0]
    assert table["rate"].iloc[2] == pytest.approx(1 / 3)
    assert table["mean_predicted"].iloc[2] == pytest.approx(0.2)
    assert table[["rate", "mean_predicted"]].iloc[:2].isna().all().all()
    # thresholds hit exactly: p == hot is hot, p == warm is warm
    edges = conversion_by_tier([1, 0, 1], [0.8, 0.4, 0.39], thresholds=(0.8, 0.4))
    assert edges["n"].tolist() == [1, 1, 1]
    assert edges["positives"].tolist() == [1, 0, 1]


def test_bootstrap_wrapper_takes_the_percentiles_of_the_valid_draws():
    """The kernel is checked against numpy elsewhere; here its inputs and the wrapper's quantiles.

    Rows are grouped by hand (groups in descending score order) and the kernel is called with
    the documented seeds: draw b is seeded by (random_state, b).
    """
    from leadml.modeling.evaluate import _bootstrap_auc_and_lift

    # 8 rows, two tied pairs, 2 positives: about 1 draw in 10 holds no positive
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.8, 0.7, 0.6, 0.3, 0.3, 0.1])
    group = np.array([0, 1, 1, 2, 3, 4, 4, 5])
    k = 1  # floor(8 / 10 + 0.5)

    def draws(n_boot: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
        seeds = np.random.SeedSequence(random_state).generate_state(n_boot).astype(np.int64)
        aucs, lifts = _bootstrap_auc_and_lift(group, y.astype(np.float64), 6, k, seeds)
        valid = ~np.isnan(aucs)
        return aucs[valid], lifts[valid]

    aucs, lifts = draws(40, 11)
    assert 0 < aucs.size < 40  # the case is meant to have single-class draws
    got = roc_auc_and_lift_intervals(y, p, n_boot=40, level=0.8, random_state=11)
    assert got["n_boot"] == 40 and got["n_valid"] == aucs.size
    assert got["level"] == 0.8 and type(got["level"]) is float
    assert got["roc_auc_ci"] == pytest.approx(np.quantile(aucs, [0.1, 0.9]).tolist())
    assert got["lift_top_decile_ci"] == pytest.approx(np.quantile(lifts, [0.1, 0.9]).tolist())
    assert all(type(v) is float for v in got["roc_auc_ci"] + got["lift_top_decile_ci"])
    # the defaults: 200 draws, 95 %, random_state 0
    aucs, lifts = draws(200, 0)
    default = roc_auc_and_lift_intervals(y, p)
    assert default["n_boot"] == 200 and default["level"] == 0.95
    assert default["n_valid"] == aucs.size
    assert default["roc_auc_ci"] == pytest.approx(np.quantile(aucs, [0.025, 0.975]).tolist())
    assert default["lift_top_decile_ci"] == pytest.approx(
        np.quantile(lifts, [0.025, 0.975]).tolist()
    )
    # one draw: its own values; no draw: no interval
    aucs, lifts = draws(1, 3)
    one = roc_auc_and_lift_intervals(y, p, n_boot=1, random_state=3)
    expected = [None, None] if aucs.size == 0 else [float(aucs[0])] * 2
    assert one["roc_auc_ci"] == pytest.approx(expected)
    none = roc_auc_and_lift_intervals(y, p, n_boot=0)
    assert none == {
        "roc_auc_ci": [None, None],
        "lift_top_decile_ci": [None, None],
        "n_boot": 0,
        "n_valid": 0,
        "level": 0.95,
    }


def test_compare_by_hand_from_plain_reports():
    reports = {
        "model": {"n": 10, "roc_auc": 0.8, "roc_auc_ci": [0.7, 0.9], "lift_top_decile": 2.5,
                  "lift_top_decile_ci": [1.5, 3.5], "ece": None, "extra": "ignored"},
        "rules": {"n": 10, "roc_auc": 0.6, "roc_auc_ci": None, "brier": 0.25},
    }  # fmt: skip
    table = compare(reports)
    assert table.index.name == "metric"
    assert table.columns.tolist() == ["model", "rules"]
    assert table.index.tolist() == [
        "n", "positives", "base_rate", "roc_auc", "roc_auc_ci_low", "roc_auc_ci_high", "pr_auc",
        "log_loss", "brier", "ece", "lift_top_decile", "lift_top_decile_ci_low",
        "lift_top_decile_ci_high", "precision_at_k", "recall_at_k", "lift_at_k",
    ]  # fmt: skip
    filled = {
        "model": {"n": 10.0, "roc_auc": 0.8, "roc_auc_ci_low": 0.7, "roc_auc_ci_high": 0.9,
                  "lift_top_decile": 2.5, "lift_top_decile_ci_low": 1.5,
                  "lift_top_decile_ci_high": 3.5},
        "rules": {"n": 10.0, "roc_auc": 0.6, "brier": 0.25},
    }  # fmt: skip
    for column, values in filled.items():
        assert table[column].dropna().to_dict() == values, column
        assert table[column].dtype == np.float64
    # the reports passed in are left as they were
    assert reports["model"].keys() == {
        "n",
        "roc_auc",
        "roc_auc_ci",
        "lift_top_decile",
        "lift_top_decile_ci",
        "ece",
        "extra",
    }
    assert compare({}).shape == (16, 0)


def test_tier_thresholds_bounds_are_inclusive():
    y, p = [1, 0, 1, 0], [1.0, 0.5, 0.2, 0.0]
    # warm may be 0, warm may equal hot, hot may be 1
    assert conversion_by_tier(y, p, thresholds=(0.5, 0.0))["n"].tolist() == [2, 2, 0]
    assert conversion_by_tier(y, p, thresholds=(0.5, 0.5))["n"].tolist() == [2, 0, 2]
    assert conversion_by_tier(y, p, thresholds=(1.0, 0.2))["n"].tolist() == [1, 2, 1]
    assert _refusal(conversion_by_tier, y, p, thresholds=(1.5, 0.2)) == (
        "tier thresholds must satisfy 0 <= warm <= hot <= 1; got hot=1.5, warm=0.2"
    )
    assert _refusal(conversion_by_tier, y, p, thresholds=(0.5, -0.1)) == (
        "tier thresholds must satisfy 0 <= warm <= hot <= 1; got hot=0.5, warm=-0.1"
    )


def test_segment_refusals_name_the_default_column():
    assert _refusal(conversion_by_segment, Y_RANKED, P_RANKED, ["a"]) == (
        "segment 'segment' has 1 values but y_true has 10; expected one per row"
    )
    assert _refusal(conversion_by_tier, Y_RANKED, P_RANKED, tiers=["mql"] * 3) == (
        "segment 'tiers' has 3 values but y_true has 10; expected one per row"
    )


def test_ece_uses_ten_equal_count_bins_by_default():
    # 20 rows, best first: positives at ranks 1, 2, 3 and 11; ten bins of two rows each,
    # taken from the ascending end: bin share 1/10, |mean p - mean y| per pair
    p = np.linspace(0.99, 0.01, 20)
    y = np.zeros(20, dtype=int)
    y[[0, 1, 2, 10]] = 1
    pairs = [(2 * i, 2 * i + 1) for i in range(10)]
    by_hand = sum(abs((p[a] + p[b]) / 2 - (y[a] + y[b]) / 2) for a, b in pairs) / 10
    assert expected_calibration_error(y, p) == pytest.approx(by_hand)
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(by_hand)
