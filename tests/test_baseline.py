"""The point grid: parsing with clear errors, points per rule, the fitted probability map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier

from leadml.modeling.baseline import PointGrid, PointGridClassifier, load_point_grid, rule_points

TRAINING = Path(__file__).resolve().parents[1] / "training"

GRID_HEADER = """\
thresholds:
  mql: 40
  sales: 70
rules:
"""


def write_grid(tmp_path: Path, rules: str, header: str = GRID_HEADER) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(header + rules)
    return path


@pytest.fixture(scope="module")
def grid() -> PointGrid:
    return load_point_grid(TRAINING / "point_grid.yaml")


def leads(n: int = 0, seed: int = 0) -> pd.DataFrame:
    """Hand-made leads (first three rows) followed by ``n`` random ones, with event-mode features."""
    hand = pd.DataFrame(
        {
            # a target persona at a right-size company who priced and asked for a demo
            "persona_match": [1, 0, np.nan],
            "size_in_range": [1, 0, 1],
            "industry_match": [0, 1, 0],
            "n_pricing_view_30d": [3, 0, np.nan],
            "n_whitepaper_download_90d": [0, 2, 0],
            "n_email_open_30d": [5, 2, 3],
            "n_demo_request_90d": [1, 0, 0],
            "email_status": ["valid", "invalid", None],
            "n_unsubscribe_90d": [0, 1, 0],
        }
    )
    rng = np.random.default_rng(seed)
    random = pd.DataFrame(
        {
            "persona_match": rng.integers(0, 2, n),
            "size_in_range": rng.integers(0, 2, n),
            "industry_match": rng.integers(0, 2, n),
            "n_pricing_view_30d": rng.poisson(0.4, n),
            "n_whitepaper_download_90d": rng.poisson(0.2, n),
            "n_email_open_30d": rng.poisson(1.5, n),
            "n_demo_request_90d": rng.poisson(0.05, n),
            "email_status": rng.choice(
                ["valid", "risky", "invalid", "unknown"], n, p=[0.8, 0.1, 0.05, 0.05]
            ),
            "n_unsubscribe_90d": rng.poisson(0.05, n),
        }
    )
    frame = pd.concat([hand, random], ignore_index=True)
    return frame.assign(
        email_status=frame["email_status"].astype(
            pd.CategoricalDtype(["valid", "risky", "invalid", "unknown"])
        )
    )


def outcomes(points: np.ndarray, seed: int = 1) -> np.ndarray:
    """Conversions that grow with the points, so the grid carries signal."""
    p = 1.0 / (1.0 + np.exp(-(points - 40.0) / 20.0))
    return (np.random.default_rng(seed).random(points.size) < p).astype(int)


def test_points_of_a_hand_made_lead_are_the_sum_of_its_matching_rules(grid):
    X = leads()
    clf = PointGridClassifier(grid=grid)
    # lead 0: persona 20 + size 15 + pricing 25 + email opens 10 + demo 40
    # lead 1: sector 10 + white paper 15 + invalid email -50 + unsubscribe -30
    # lead 2: size 15 + opens 10; its missing persona, pricing and email status match nothing
    assert clf.decision_function(X).tolist() == [110.0, -55.0, 25.0]
    matches = clf.rule_matches(X)
    assert matches.columns.tolist() == [r.name for r in grid.rules]
    assert matches.loc[1, "invalid_email"] == -50 and matches.loc[0, "invalid_email"] == 0
    assert matches.sum(axis=1).tolist() == [110.0, -55.0, 25.0]


def test_tiers_follow_the_thresholds(grid):
    assert PointGridClassifier(grid=grid).tier(leads()).tolist() == ["sales", "nurture", "nurture"]


def test_missing_value_never_matches_a_comparison(tmp_path):
    path = write_grid(
        tmp_path,
        """\
  - {name: not_invalid, feature: email_status, op: "!=", value: invalid, points: 5}
  - {name: not_bad, feature: email_status, op: not_in, value: [invalid, risky], points: 7}
  - {name: few_opens, feature: n_email_open_30d, op: "<", value: 3, points: 11}
  - {name: some_opens, feature: n_email_open_30d, op: between, value: [1, 3], points: 13}
  - {name: no_status, feature: email_status, op: is_missing, points: -1}
""",
    )
    X = pd.DataFrame(
        {"email_status": ["valid", "invalid", None], "n_email_open_30d": [2.0, np.nan, 3.0]}
    )
    points = rule_points(load_point_grid(path), X)
    assert points.loc[0].tolist() == [5, 7, 11, 13, 0]
    assert points.loc[1].tolist() == [0, 0, 0, 0, 0]
    assert points.loc[2].tolist() == [0, 0, 0, 13, -1]


def test_predict_proba_is_monotone_in_points(grid):
    X = leads(3000)
    y = outcomes(PointGridClassifier(grid=grid).decision_function(X))
    for calibration in ("platt", "isotonic"):
        clf = PointGridClassifier(grid=grid, calibration=calibration).fit(X, y)
        points = clf.decision_function(X)
        proba = clf.predict_proba(X)
        assert proba.shape == (len(X), 2)
        assert np.allclose(proba.sum(axis=1), 1.0)
        order = np.argsort(points, kind="stable")
        assert (np.diff(proba[order, 1]) >= -1e-12).all(), calibration
    assert clf.predict(X).tolist() == (clf.predict_proba(X)[:, 1] >= 0.5).astype(int).tolist()


def test_fit_learns_on_training_rows_only_and_returns_self(grid):
    X = leads(2000)
    y = outcomes(PointGridClassifier(grid=grid).decision_function(X))
    clf = PointGridClassifier(grid=grid)
    assert clf.fit(X.iloc[:1000], y[:1000]) is clf
    refit = clone(clf).fit(X.iloc[:1000], y[:1000])
    assert refit.calibrator_ == clf.calibrator_
    assert clf.classes_.tolist() == [0, 1]
    assert clf.base_rate_ == pytest.approx(y[:1000].mean())
    assert is_classifier(clf)
    # the points never depend on fitting
    assert (PointGridClassifier(grid=grid).decision_function(X) == clf.decision_function(X)).all()


def test_a_grid_that_ranks_backwards_predicts_the_base_rate(grid):
    X = leads(2000)
    y = outcomes(-PointGridClassifier(grid=grid).decision_function(X))
    proba = PointGridClassifier(grid=grid).fit(X, y).predict_proba(X)[:, 1]
    assert np.allclose(proba, y.mean())


def test_fit_rejects_a_single_class(grid):
    X = leads(10)
    with pytest.raises(ValueError, match=r"only class \[0\] in 13 training rows"):
        PointGridClassifier(grid=grid).fit(X, np.zeros(len(X), dtype=int))


def test_both_shipped_grids_load():
    grid = load_point_grid(TRAINING / "point_grid.yaml")
    assert (grid.thresholds.mql, grid.thresholds.sales) == (40, 70)
    assert {r.name: r.points for r in grid.rules}["demo_request"] == 40
    bank = load_point_grid(TRAINING / "point_grid_bank.yaml")
    assert "duration" not in bank.features
    assert {r.feature for r in bank.rules} >= {
        "poutcome",
        "previous",
        "contact",
        "month",
        "campaign",
        "age",
        "job",
    }


def test_bank_grid_scores_the_uci_columns():
    bank = load_point_grid(TRAINING / "point_grid_bank.yaml")
    X = pd.DataFrame(
        {
            "age": [30, 65],
            "job": pd.Categorical(["admin.", "retired"]),
            "contact": ["telephone", "cellular"],
            "month": pd.Categorical(["may", "oct"]),
            "campaign": [5, 1],
            "previous": [0, 2],
            "poutcome": ["nonexistent", "success"],
            "default": ["unknown", "no"],
        }
    )
    # row 0: too many calls -15, unknown default -10; row 1: success 40 + previous 15 + cellular 10
    #        + October 20 + senior 10 + retired 10
    assert PointGridClassifier(grid=bank).decision_function(X).tolist() == [-25.0, 105.0]


def test_unknown_op_names_the_rule(tmp_path):
    path = write_grid(
        tmp_path,
        '  - {name: pricing_page_visit, feature: n_pricing_view_30d, op: "=>", value: 1, points: 25}\n',
    )
    with pytest.raises(
        ValueError, match=r"rule 'pricing_page_visit': unknown op '=>'; expected one of >=, >"
    ):
        load_point_grid(path)


def test_thresholds_out_of_order_fail(tmp_path):
    header = "thresholds:\n  mql: 80\n  sales: 70\nrules:\n"
    path = write_grid(
        tmp_path,
        "  - {name: demo, feature: n_demo_request_90d, op: '>=', value: 1, points: 40}\n",
        header,
    )
    with pytest.raises(
        ValueError, match=r"thresholds must satisfy mql < sales; got mql=80, sales=70"
    ):
        load_point_grid(path)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "{name: bad_in, feature: email_status, op: in, value: invalid, points: -50}",
            r"rule 'bad_in' .*non-empty list",
        ),
        (
            "{name: bad_between, feature: age, op: between, value: [60, 25], points: 5}",
            r"rule 'bad_between' .*low <= high",
        ),
        (
            "{name: bad_cmp, feature: age, op: '>=', value: old, points: 5}",
            r"rule 'bad_cmp' .*must be a number",
        ),
        (
            "{name: typo_key, feature: age, op: '>=', value: 1, point: 5}",
            r"rule 'typo_key' field points: Field required",
        ),
    ],
)
def test_value_of_the_wrong_shape_names_the_rule(tmp_path, rule, message):
    with pytest.raises(ValueError, match=message):
        load_point_grid(write_grid(tmp_path, f"  - {rule}\n"))


def test_unquoted_operator_gets_a_hint(tmp_path):
    path = write_grid(
        tmp_path,
        "  - name: demo\n    feature: n_demo_request_90d\n    op: >=\n    value: 1\n    points: 40\n",
    )
    with pytest.raises(ValueError, match=r'quote the operators: op: ">="'):
        load_point_grid(path)


def test_unknown_feature_names_the_rule_and_close_matches(grid):
    X = leads().rename(columns={"n_pricing_view_30d": "n_pricing_view_7d"})
    message = r"rule 'pricing_page_visit': unknown feature 'n_pricing_view_30d'; close matches: \['n_pricing_view_7d'"
    with pytest.raises(ValueError, match=message):
        grid.check_features(X.columns)
    with pytest.raises(ValueError, match=message):
        PointGridClassifier(grid=grid).fit(X, np.array([1, 0, 0]))


def test_value_never_seen_in_training_rows_is_warned(tmp_path):
    path = write_grid(
        tmp_path,
        "  - {name: invalid_email, feature: email_status, op: in, value: [invlid], points: -50}\n",
    )
    X = leads()
    with pytest.warns(
        UserWarning,
        match=r"rule 'invalid_email'.*\['invlid'\] never occur in email_status.*close matches: \['invalid'",
    ):
        PointGridClassifier(grid=load_point_grid(path)).fit(X, np.array([1, 0, 0]))


def test_yaml_boolean_on_a_text_column_gets_a_hint(tmp_path):
    path = write_grid(
        tmp_path, "  - {name: no_loan, feature: loan, op: '==', value: no, points: 5}\n"
    )
    with pytest.raises(ValueError, match=r'rule \'no_loan\'.*quote them: value: "no"'):
        rule_points(load_point_grid(path), pd.DataFrame({"loan": ["no", "yes"]}))


def test_grid_table_lists_rules_and_points(grid):
    table = PointGridClassifier(grid=grid).grid_table()
    assert table.columns.tolist() == ["rule", "feature", "op", "value", "points", "description"]
    assert table["points"].tolist() == [20, 15, 10, 25, 15, 10, 40, -50, -30]
