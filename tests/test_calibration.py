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


def test_platt_probability_matches_hand_worked_values():
    """log-odds = 0.5 · margin − 1, worked by hand: no value here comes from the code under test."""
    cal = PlattCalibration(slope=0.5, intercept=-1.0)
    margins = np.array([2.0, 4.0, 0.0, -2.0, 10.0])
    np.testing.assert_allclose(cal.log_odds(margins), [0.0, 1.0, -1.0, -2.0, 4.0], rtol=0, atol=0)
    # 1/(1+e^-0) = 0.5; 1/(1+e^-1) = 0.731058578630; e^-1/(1+e^-1) = 0.268941421370;
    # e^-2/(1+e^-2) = 0.119202922022; 1/(1+e^-4) = 0.982013790038
    np.testing.assert_allclose(
        cal.probability(margins),
        [0.5, 0.7310585786300049, 0.2689414213699951, 0.11920292202211755, 0.9820137900379085],
        rtol=1e-14,
    )
    # a lone scalar margin works too
    assert float(PlattCalibration(slope=2.0, intercept=0.5).probability(0.25)) == pytest.approx(
        0.7310585786300049, rel=1e-14
    )


def test_sigmoid_matches_hand_worked_values_on_both_branches():
    x = np.array([-3.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 3.0])
    expected = [
        0.04742587317756678,
        0.2689414213699951,
        0.49999999975,
        0.5,
        0.50000000025,
        0.7310585786300049,
        0.9525741268224334,
    ]
    np.testing.assert_allclose(sigmoid(x), expected, rtol=1e-12)
    assert sigmoid(np.array([0.0])).dtype == np.float64
    assert sigmoid([1, -1]).tolist() == pytest.approx([0.7310585786300049, 0.2689414213699951])


def test_points_scale_by_hand():
    # 20 points double the odds: 20 / ln 2 = 28.85390081777927 points per unit of log-odds
    scale = PointsScale(base=600.0, pdo=20.0, reference_log_odds=-1.0)
    assert scale.points_per_log_odds == pytest.approx(28.85390081777927, rel=1e-14)
    np.testing.assert_allclose(
        scale.points(np.array([-1.0, 0.0, -1.0 - math.log(4.0), 1.0])),
        [600.0, 628.85390081777927, 560.0, 657.7078016355585],
        rtol=1e-14,
    )
    np.testing.assert_allclose(scale.log_odds(np.array([600.0, 640.0, 580.0])), [-1.0, -1.0 + 2 * math.log(2), -1.0 - math.log(2)], rtol=1e-14)  # fmt: skip
    assert scale.to_dict() == {"base": 600.0, "pdo": 20.0, "reference_log_odds": -1.0}
    assert PointsScale.from_dict({"base": "600", "pdo": 20, "reference_log_odds": -1}) == scale


def test_calibration_reads_its_fields_from_a_dict_by_name():
    cal = PlattCalibration.from_dict({"intercept": "-0.25", "slope": 1.5})
    assert (cal.slope, cal.intercept) == (1.5, -0.25)
    assert cal.to_dict() == {"slope": 1.5, "intercept": -0.25}


def test_platt_refuses_margins_and_labels_of_different_lengths():
    with pytest.raises(ValueError, match="margin has 3 rows but y has 2"):
        fit_platt(np.zeros(3), np.array([0, 1]))


def test_platt_refuses_a_single_class_and_names_it():
    with pytest.raises(ValueError, match=r"got classes \[1\] in 4 rows"):
        fit_platt(np.arange(4.0), np.ones(4))


def test_platt_on_a_separable_toy_is_close_to_a_hand_fit():
    """Four margins, labels 0 0 1 1 twice over with one flip each side: the symmetric fit
    puts the 50 % point at the centre (margin 0), so the intercept is 0 by symmetry."""
    margin = np.array([-2.0, -1.0, 1.0, 2.0] * 2 + [-1.0, 1.0])
    y = np.array([0, 0, 1, 1] * 2 + [1, 0])
    cal = fit_platt(margin, y)
    assert cal.intercept == pytest.approx(0.0, abs=1e-6)
    assert cal.slope > 0
    # maximum likelihood: the score equation sum (y - p) * margin = 0 holds at the fit
    p = 1 / (1 + np.exp(-(cal.slope * margin + cal.intercept)))
    assert float(np.sum((y - p) * margin)) == pytest.approx(0.0, abs=1e-4)
    assert float(np.sum(y - p)) == pytest.approx(0.0, abs=1e-4)


def test_float32_inputs_are_computed_in_float64():
    """Scores read back from a float32 column keep full precision through the scale."""
    scale = PointsScale(base=600.0, pdo=20.0, reference_log_odds=-1.0)
    points32 = np.array([612.3], dtype=np.float32)
    back = scale.log_odds(points32)
    assert back.dtype == np.float64
    assert back[0] == -1.0 + (float(points32[0]) - 600.0) / (20.0 / math.log(2.0))
    lo32 = np.array([0.1], dtype=np.float32)
    assert scale.points(lo32).dtype == np.float64
    cal = PlattCalibration(slope=0.5, intercept=-1.0)
    assert cal.log_odds(lo32).dtype == np.float64 and cal.probability(lo32).dtype == np.float64
    assert sigmoid(lo32).dtype == np.float64
