import functools
import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadml.explain.explanation import explain_rows, format_reasons
from leadml.explain.reasons import render_reason
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo
from leadml.modeling.calibration import PlattCalibration, PointsScale, sigmoid


@pytest.fixture(scope="module")
def model():
    return _model()


@functools.cache
def _model():
    """A small booster and its catalogue, cached in the module so ``make mutate``'s forked
    per-mutant runs reuse it (the booster is LightGBM's, not code under test)."""
    rng = np.random.default_rng(0)
    n = 6000
    X = pd.DataFrame(
        {
            "n_demo_request_90d": rng.poisson(0.2, n).astype(float),
            "days_since_demo_request": np.where(
                rng.random(n) < 0.2, rng.integers(0, 60, n), np.nan
            ),
            "employees": rng.lognormal(6, 1.5, n),
            "source": pd.Categorical(rng.choice(["referral", "paid_search", "purchased_list"], n)),
        }
    )
    logit = -2 + 1.5 * X["n_demo_request_90d"] + 0.8 * (X["source"] == "referral")
    y = (rng.random(n) < sigmoid(logit.to_numpy())).astype(int)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 1, "deterministic": True},
        lgb.Dataset(X, y),
        num_boost_round=40,
    )
    catalogue = FeatureCatalogue(
        entries=(
            FeatureInfo("n_demo_request_90d", "behaviour", "demo_request", "numeric"),
            FeatureInfo("days_since_demo_request", "behaviour", "demo_request", "numeric"),
            FeatureInfo("employees", "fit", "company_size", "numeric"),
            FeatureInfo("source", "fit", "source", "categorical"),
        ),
        group_main={
            "demo_request": "n_demo_request_90d",
            "company_size": "employees",
            "source": "source",
        },
        group_label={
            "demo_request": "Demo request",
            "company_size": "Company size",
            "source": "Source",
        },
        mode="flat",
    )
    return booster, X, catalogue


def test_points_add_up_exactly_and_probability_is_sigmoid_of_log_odds(model):
    booster, X, catalogue = model
    calibration = PlattCalibration(slope=0.9, intercept=0.1)
    bias = booster.predict(X.iloc[:1], pred_contrib=True)[0, -1]
    scale = PointsScale(
        base=50, pdo=20, reference_log_odds=float(calibration.log_odds(np.array([bias]))[0])
    )
    ex = explain_rows(
        booster,
        X,
        calibration=calibration,
        scale=scale,
        catalogue=catalogue,
        chunk_size=1000,
        keep_feature_points=True,
    )
    assert ex.base_points == pytest.approx(50.0)
    np.testing.assert_allclose(ex.base_points + ex.feature_points.sum(axis=1), ex.points, atol=1e-6)
    np.testing.assert_allclose(ex.group_points.sum(axis=1) + ex.base_points, ex.points, atol=1e-6)
    np.testing.assert_allclose(ex.family_points.sum(axis=1) + ex.base_points, ex.points, atol=1e-6)
    # expected values worked out here from LightGBM's raw margin, not by the calibration code:
    # log-odds = 0.9 · margin + 0.1, p = 1 / (1 + e^-log-odds), points = 50 + 20/ln 2 · (lo - ref)
    margin = booster.predict(X, raw_score=True)
    log_odds = 0.9 * margin + 0.1
    np.testing.assert_allclose(ex.log_odds, log_odds, atol=1e-9)
    np.testing.assert_allclose(ex.probability, 1.0 / (1.0 + np.exp(-log_odds)), atol=1e-9)
    np.testing.assert_allclose(
        ex.points, 50.0 + 20.0 / np.log(2.0) * (log_odds - (0.9 * bias + 0.1)), atol=1e-6
    )
    assert ex.probability.min() < 0.1 and ex.probability.max() > 0.6  # a real spread of scores
    # grouped points are the sum of their features' points
    np.testing.assert_allclose(
        ex.group_points["demo_request"],
        ex.feature_points["n_demo_request_90d"] + ex.feature_points["days_since_demo_request"],
        atol=1e-9,
    )


def test_reasons_and_other_points_add_up_to_the_score(model):
    booster, X, catalogue = model
    calibration = PlattCalibration(slope=1.0, intercept=0.0)
    scale = PointsScale(base=50, pdo=20, reference_log_odds=0.0)
    ex = explain_rows(
        booster, X.iloc[:500], calibration=calibration, scale=scale, catalogue=catalogue
    )
    reasons, other = format_reasons(ex, X.iloc[:500], catalogue, k=1)
    assert len(reasons) == len(other) == 500
    with_positive = 0
    for i, text in enumerate(reasons):
        parsed = json.loads(text)
        assert json.dumps(parsed, ensure_ascii=False) == text  # plain JSON, byte for byte
        assert [set(r) for r in parsed] == [{"group", "family", "text", "text_fr", "points"}] * len(
            parsed
        )
        assert len(parsed) <= 2
        total = ex.base_points + sum(r["points"] for r in parsed) + other[i]
        assert total == pytest.approx(ex.points[i], abs=1e-6)
        positives = [r for r in parsed if r["points"] > 0]
        negatives = [r for r in parsed if r["points"] < 0]
        row = ex.group_points.iloc[i]
        # a reason is shown when its group moves the score by at least half a point
        if positives:
            with_positive += 1
            assert positives[0]["points"] == pytest.approx(row.max())
            assert row.max() >= 0.5
        else:
            assert row.max() < 0.5
        if negatives:
            assert negatives[0]["points"] == pytest.approx(row.min()) and row.min() <= -0.5
        else:
            assert row.min() > -0.5
    # both branches are exercised: most leads have a positive reason, some have none
    assert 100 < with_positive < 500, with_positive


def test_flat_reason_text_names_the_label_and_value(model):
    _, _, catalogue = model

    def render(group, values, lang):
        return render_reason(catalogue, group, values, lang, 3.0)

    assert render("source", {"source": "referral"}, "en") == "Source: referral"
    assert render("company_size", {"employees": 1200.0}, "en") == "Company size: 1,200"
    assert render("company_size", {"employees": float("nan")}, "fr") == "Company size: inconnu"
    # numbers are written for the language, as in event mode
    assert render("company_size", {"employees": 1234.5678}, "fr") == "Company size: 1\u202f234,568"


def test_model_and_catalogue_must_have_the_same_features(model):
    booster, X, catalogue = model
    fewer = catalogue.select(["employees", "source"])
    with pytest.raises(
        ValueError, match=r"only in model \['days_since_demo_request', 'n_demo_request_90d'\]"
    ):
        explain_rows(
            booster,
            X,
            calibration=PlattCalibration(slope=1.0, intercept=0.0),
            scale=PointsScale(base=50.0, pdo=20.0, reference_log_odds=0.0),
            catalogue=fewer,
        )


def test_canonical_values_render_the_same_sentences_as_raw_values(sql_training_set):
    from leadml.explain.explanation import canonical_reason_values

    catalogue = sql_training_set.catalogue
    frame = sql_training_set.frame.sample(1500, random_state=0)
    checked = 0
    for group in catalogue.groups:
        cols = [c for c in catalogue.group_features(group) if c in frame.columns]
        raw = frame[cols].to_dict(orient="records")
        canonical = canonical_reason_values(frame[cols], group).to_dict(orient="records")
        for lang in ("en", "fr"):
            for a, b in zip(raw, canonical, strict=True):
                assert render_reason(catalogue, group, a, lang, 1.0) == render_reason(
                    catalogue, group, b, lang, 1.0
                )
                checked += 1
    assert checked > 50_000
    # and it pays: an event group keeps only what its sentence tells, so far fewer keys
    # than rounding days alone (measured 404 against 970 on this sample)
    cols = [c for c in catalogue.group_features("email_engagement") if c in frame.columns]
    rounded_only = canonical_reason_values(frame[cols]).drop_duplicates()
    by_sentence = canonical_reason_values(frame[cols], "email_engagement").drop_duplicates()
    assert len(by_sentence) < 0.6 * len(rounded_only), (len(by_sentence), len(rounded_only))
