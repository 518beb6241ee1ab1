import math

import numpy as np
import pytest

from leadml.calibration import PlattCalibration, PointsScale, fit_platt, sigmoid


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
