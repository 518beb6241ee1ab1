import functools
import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadml.explain.explanation import (
    Explanation,
    canonical_reason_values,
    explain_rows,
    format_reasons,
)
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
    expected = catalogue.expected_signs(X.iloc[:500])
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
        # groups whose sign contradicts a declared direction are never candidates
        row = ex.group_points.iloc[i].where(
            np.sign(ex.group_points.iloc[i]) * expected[i] >= 0, 0.0
        )
        # a reason is shown when its group moves the score by at least a point
        if positives:
            with_positive += 1
            assert positives[0]["points"] == pytest.approx(row.max())
            assert row.max() >= 1.0
        else:
            assert row.max() < 1.0
        if negatives:
            assert negatives[0]["points"] == pytest.approx(row.min()) and row.min() <= -1.0
        else:
            assert row.min() > -1.0
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


def test_catalogue_views_by_hand(model):
    _, _, catalogue = model
    assert catalogue.groups == ("demo_request", "company_size", "source")
    assert catalogue.group_features("demo_request") == [
        "n_demo_request_90d",
        "days_since_demo_request",
    ]
    np.testing.assert_array_equal(
        catalogue.membership(catalogue.groups, of="group"),
        [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]],
    )
    np.testing.assert_array_equal(
        catalogue.membership(("fit", "persona", "behaviour", "intent"), of="family"),
        [[0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0]],
    )
    data = catalogue.to_dict()
    assert type(catalogue).from_dict(data) == catalogue


def test_flat_values_read_as_people_write_them(model):
    _, _, catalogue = model

    def render(group, values, lang, points):
        return render_reason(catalogue, group, values, lang, points)

    assert render("company_size", {"employees": 1200.5}, "en", 1.0) == "Company size: 1,200.5"
    assert render("company_size", {"employees": 1200.0}, "fr", 1.0) == "Company size: 1\u202f200"
    assert render("company_size", {"employees": np.float32(3.0)}, "en", 1.0) == "Company size: 3"
    assert render("company_size", {"employees": 7}, "en", 1.0) == "Company size: 7"
    assert render("company_size", {"employees": None}, "en", 1.0) == "Company size: unknown"
    assert render("company_size", {"employees": pd.NA}, "fr", 1.0) == "Company size: inconnu"
    assert render("source", {"source": "referral"}, "en", 1.0) == "Source: referral"


def test_explaining_in_chunks_gives_the_same_numbers(model):
    booster, X, catalogue = model
    calibration = PlattCalibration(slope=0.8, intercept=-0.3)
    scale = PointsScale(base=600, pdo=40, reference_log_odds=-2.0)
    rows = X.iloc[:700]
    whole = explain_rows(booster, rows, calibration=calibration, scale=scale, catalogue=catalogue)
    chunked = explain_rows(
        booster, rows, calibration=calibration, scale=scale, catalogue=catalogue, chunk_size=128
    )
    np.testing.assert_allclose(chunked.points, whole.points, atol=1e-9)
    pd.testing.assert_frame_equal(chunked.group_points, whole.group_points, atol=1e-9)
    pd.testing.assert_frame_equal(chunked.family_points, whole.family_points, atol=1e-9)
    assert chunked.base_points == pytest.approx(whole.base_points)
    assert chunked.feature_points is None
    assert list(whole.family_points.columns) == ["fit", "persona", "behaviour", "intent"]
    assert (whole.family_points[["persona", "intent"]] == 0).all().all()
    assert list(whole.group_points.index) == list(rows.index)
    # group points: the features' SHAP values times PDO/ln2 times the Platt slope, by hand
    contrib = booster.predict(rows, pred_contrib=True)
    per = 40 / np.log(2) * 0.8
    np.testing.assert_allclose(whole.group_points["source"], contrib[:, 3] * per, atol=1e-6)
    bias = contrib[0, -1]
    assert whole.base_points == pytest.approx(600 + 40 / np.log(2) * (0.8 * bias - 0.3 + 2.0))


def test_an_empty_batch_has_the_base_points_of_the_reference(model):
    booster, X, catalogue = model
    calibration = PlattCalibration(slope=0.8, intercept=-0.3)
    scale = PointsScale(base=600, pdo=40, reference_log_odds=-2.0)
    ex = explain_rows(
        booster, X.iloc[:0], calibration=calibration, scale=scale, catalogue=catalogue
    )
    assert ex.base_points == pytest.approx(600.0)
    assert ex.points.shape == (0,) and ex.group_points.shape == (0, 3)


def test_a_model_and_catalogue_that_differ_are_named(model):
    booster, X, catalogue = model
    other = FeatureCatalogue(
        entries=(
            FeatureInfo("n_demo_request_90d", "behaviour", "d", "numeric"),
            FeatureInfo("days_since_demo_request", "behaviour", "d", "numeric"),
            FeatureInfo("employees", "fit", "c", "numeric"),
            FeatureInfo("country", "fit", "c", "categorical"),
        ),
        mode="flat",
    )
    with pytest.raises(
        ValueError,
        match=r"^model features and reason catalogue differ: only in model \['source'\], "
        r"only in catalogue \['country'\]$",
    ):
        explain_rows(
            booster,
            X,
            calibration=PlattCalibration(slope=1.0, intercept=0.0),
            scale=PointsScale(base=50, pdo=20, reference_log_odds=0.0),
            catalogue=other,
        )


def test_top_groups_keep_one_point_and_order_by_size():
    from leadml.explain.explanation import _top_groups

    points = np.array(
        [
            [3.0, -0.99, 1.0, -2.0],
            [0.99, -1.0, -1.5, 0.2],
        ]
    )
    pos, neg = _top_groups(points, 2)
    assert pos.tolist() == [[0, 2], [-1, -1]]
    assert neg.tolist() == [[3, -1], [2, 1]]
    pos, neg = _top_groups(points, 9)  # k larger than the number of groups
    assert pos.shape == (2, 4)


def test_top_groups_never_show_a_reason_against_its_declared_sign():
    from leadml.explain.explanation import _top_groups

    points = np.array([[3.0, -2.0, 1.5, -4.0]])
    expected = np.array([[-1, 0, 1, 1]])  # group 0 must be negative, group 3 positive
    pos, neg = _top_groups(points, 2, expected)
    assert pos.tolist() == [[2, -1]]
    assert neg.tolist() == [[1, -1]]


def test_canonical_values_by_hand():
    values = pd.DataFrame(
        {
            "days_since_demo_request": [0.2, 1.9, np.nan, 30.0],
            "lead_age_days": [5.5, 0.0, 2.0, np.nan],
            "hours_to_first_touch": [0.3, 30.4, 100.0, -2.0],
            "engagement_decayed": [0.0, 3.2, np.nan, -1.0],
            "engagement_trend": [0.7, -0.7, 0.2, np.nan],
            "n_email_open_7d": [1.5, 2.0, 3.0, 4.0],
        }
    )
    out = canonical_reason_values(values)
    assert out["days_since_demo_request"].tolist()[:2] == [0.0, 1.0]
    assert np.isnan(out["days_since_demo_request"].iloc[2])
    assert out["lead_age_days"].tolist()[:3] == [5.0, 0.0, 2.0]
    # < 1 h reads as "within the hour" (0.5), hours up to 72, then whole days (+0.5)
    assert out["hours_to_first_touch"].tolist() == [0.5, 30.0, 96.5, -1.0]
    assert out["engagement_decayed"].tolist()[:2] == [0.0, 1.0]
    assert out["engagement_decayed"].iloc[3] == 1.0 and np.isnan(out["engagement_decayed"].iloc[2])
    assert out["engagement_trend"].tolist()[:3] == [1.0, -1.0, 0.0]
    assert np.isnan(out["engagement_trend"].iloc[3])
    assert out["n_email_open_7d"].tolist() == [1.5, 2.0, 3.0, 4.0]  # left as it is
    assert list(out.index) == list(values.index)
    edges = canonical_reason_values(pd.DataFrame({"hours_to_first_touch": [1.0, 72.0, 72.5]}))
    assert edges["hours_to_first_touch"].tolist() == [1.0, 72.0, 72.5]
    trend = canonical_reason_values(pd.DataFrame({"engagement_trend": [0.5, -0.5, 0.51]}))
    assert trend["engagement_trend"].tolist() == [0.0, 0.0, 1.0]


def test_canonical_values_render_as_the_raw_ones_on_random_leads():
    """The fast twin of the demo-data check: random values for every event group."""
    from leadml.config import load_dataset_config
    from leadml.features import event_catalogue

    catalogue = event_catalogue(load_dataset_config("training/dataset.yaml"))
    rng = np.random.default_rng(5)
    n = 150
    checked = 0
    for group in catalogue.groups:
        members = catalogue.group_features(group)
        frame = pd.DataFrame(
            {
                m: (
                    rng.choice(["c_level", "vp", "it", "software", "FR", "valid", None], n)
                    if catalogue[m].kind == "categorical"
                    else np.where(
                        rng.random(n) < 0.2,
                        np.nan,
                        rng.choice([0.0, 0.3, 1.0, 1.7, 2.0, 6.9, 45.0, 80.5, 200.0], n)
                        * rng.choice([1.0, -1.0], n, p=[0.9, 0.1]),
                    )
                )
                for m in members
            }
        )
        raw = frame.to_dict(orient="records")
        canonical = canonical_reason_values(frame, group).to_dict(orient="records")
        for a, b in zip(raw, canonical, strict=True):
            for lang in ("en", "fr"):
                assert render_reason(catalogue, group, a, lang, 1.0) == render_reason(
                    catalogue, group, b, lang, 1.0
                ), (group, a, b)
                checked += 1
    assert checked == 4 * n * len(catalogue.groups) // 2


def _random_explanation(frame: pd.DataFrame, catalogue: FeatureCatalogue, seed: int):
    """Group points drawn at random for ``frame``'s rows (format_reasons reads only those)."""
    rng = np.random.default_rng(seed)
    groups = list(catalogue.groups)
    group_points = pd.DataFrame(
        rng.normal(0.0, 6.0, (len(frame), len(groups))), columns=groups, index=frame.index
    )
    points = 50.0 + group_points.sum(axis=1).to_numpy() + rng.normal(0.0, 1.0, len(frame))
    return Explanation(
        probability=np.full(len(frame), 0.5),
        log_odds=np.zeros(len(frame)),
        points=points,
        base_points=50.0,
        group_points=group_points,
        family_points=pd.DataFrame(index=frame.index),
    )


def test_a_few_rows_render_each_row_with_the_texts_the_hashed_path_gives(
    sql_training_set, monkeypatch
):
    """Up to RENDER_EACH_ROW rows (a served lead) each row is rendered; more rows are hashed
    and each distinct combination rendered once (the batch job): the same reasons."""
    from leadml.explain import explanation

    catalogue = sql_training_set.catalogue
    frame = sql_training_set.frame.sample(400, random_state=1)
    ex = _random_explanation(frame, catalogue, seed=5)
    monkeypatch.setattr(explanation, "RENDER_EACH_ROW", 0)
    hashed, hashed_other = format_reasons(ex, frame, catalogue, k=3)
    monkeypatch.setattr(explanation, "RENDER_EACH_ROW", len(frame))
    each, each_other = format_reasons(ex, frame, catalogue, k=3)
    assert each == hashed
    np.testing.assert_array_equal(each_other, hashed_other)
    assert len({text for text in each if text != "[]"}) > 100
    monkeypatch.undo()
    # and one lead alone, rendered as it is (a served lead) and through the hashed path
    for i in range(0, len(frame), 23):
        one = frame.iloc[[i]]
        alone = _random_explanation(one, catalogue, seed=i)
        texts = format_reasons(alone, one, catalogue)[0]
        monkeypatch.setattr(explanation, "RENDER_EACH_ROW", 0)
        assert format_reasons(alone, one, catalogue)[0] == texts
        monkeypatch.undo()
