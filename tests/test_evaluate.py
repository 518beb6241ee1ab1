"""The shared evaluation: values by hand or against scikit-learn, ties, calibration, bootstrap."""

from __future__ import annotations

import json

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
