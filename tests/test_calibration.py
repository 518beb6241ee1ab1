import math

import numpy as np
import pytest

from leadml.modeling.calibration import PlattCalibration, PointsScale, fit_platt, sigmoid


def test_platt_recovers_a_known_affine_map():
    rng = np.random.default_rng(0)
    margin = rng.normal(0, 2, 200_000)
    y = rng.random(margin.size) < sigmoid(0.5 * margin - 1.0)
    cal = fit_platt(margin, y)
    assert cal.slope == pytest.approx(0.5, abs=0.02)
    assert cal.intercept == pytest.approx(-1.0, abs=0.03)


def test_platt_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        fit_platt(np.zeros(10), np.zeros(10))


def test_points_double_the_odds_every_pdo():
    scale = PointsScale(base=50, pdo=20, reference_log_odds=-2.0)
    assert scale.points(np.array([-2.0]))[0] == pytest.approx(50)
    assert scale.points(np.array([-2.0 + math.log(2)]))[0] == pytest.approx(70)
    assert scale.log_odds(scale.points(np.array([0.3])))[0] == pytest.approx(0.3)


def test_sigmoid_is_stable_at_extremes():
    out = sigmoid(np.array([-800.0, 0.0, 800.0]))
    assert out.tolist() == [0.0, 0.5, 1.0]


def test_calibration_round_trips_through_a_dict():
    cal = PlattCalibration(slope=0.8, intercept=-0.1)
    assert PlattCalibration.from_dict(cal.to_dict()) == cal


def test_platt_on_repeated_margins_fits_the_distinct_pairs_to_the_same_curve():
    """A point grid's margins take few values: the weighted fit on distinct pairs equals the row fit."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    points = rng.choice([-50.0, 0.0, 10.0, 25.0, 40.0, 65.0], size=40_000)
    y = (rng.random(points.size) < 1 / (1 + np.exp(-(points - 30) / 15))).astype(int)
    fitted = fit_platt(points, y)
    rows = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000).fit(points.reshape(-1, 1), y)
    assert fitted.slope == pytest.approx(rows.coef_[0, 0], rel=1e-4)
    assert fitted.intercept == pytest.approx(rows.intercept_[0], rel=1e-4)
    assert 0.05 < fitted.slope < 0.09  # the generating slope is 1/15
