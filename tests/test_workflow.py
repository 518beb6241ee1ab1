"""The public API (`import leadml`): read, build, train, evaluate, explain, score; scikit-learn's contract."""

import dataclasses
import inspect
import json

import numpy as np
import pandas as pd
import pytest
from conftest import TRAINING
from matplotlib.figure import Figure
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibrationDisplay
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

import leadml
from leadml.features.spec import SpecError

AS_OF = "2026-01-01"


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    from leadml.synth import SynthSpec, write_demo_data

    out = tmp_path_factory.mktemp("api") / "data"
    write_demo_data(out, SynthSpec(n_leads=3000, seed=11))
    return out


@pytest.fixture(scope="module")
def config():
    return leadml.load_config(TRAINING / "sql.yaml")


@pytest.fixture(scope="module")
def training_set(config, small_data):
    return leadml.build_training_set(config, small_data)


@pytest.fixture(scope="module")
def model(config, small_data, training_set):
    return leadml.train_model(config, small_data, training_set=training_set)


def test_the_public_names_resolve_and_are_documented_with_numpydoc_sections():
    assert leadml.__version__ == "0.1.0"
    for name in leadml.__all__:
        value = getattr(leadml, name)
        if inspect.isfunction(value):
            doc = inspect.getdoc(value) or ""
            assert "Returns\n-------" in doc, name
            if inspect.signature(value).parameters:
                assert "Parameters\n----------" in doc, name
        else:
            assert inspect.getdoc(value), name
    with pytest.raises(AttributeError, match="no attribute 'trian'"):
        leadml.trian  # noqa: B018


def test_read_data_gives_typed_tables_in_event_mode(config, small_data):
    tables = leadml.read_data(small_data, config)
    assert len(tables.leads) == 3000
    assert pd.api.types.is_datetime64_any_dtype(tables.events["ts"])


def test_train_model_returns_the_scorer_the_report_and_the_figures(model):
    report = model.report
    assert {"model", "baseline", "oracle"} <= set(report)
    assert report["baseline"]["roc_auc"] < report["model"]["roc_auc"] < report["oracle"]["roc_auc"]
    assert 0.75 < report["model"]["roc_auc"] < 0.97
    assert "mlflow" not in report  # nothing is logged unless asked
    assert set(model.figures) == {
        "reliability",
        "gains",
        "score_distribution",
        "shap_beeswarm",
        "shap_waterfall_top_lead",
    }
    for name, figure in model.figures.items():
        assert isinstance(figure, Figure) and figure.axes, name
    # the reliability figure draws one line per scorer, labelled with its ECE
    labels = [line.get_label() for line in model.figures["reliability"].axes[0].lines]
    assert any(label.startswith("model (ECE") for label in labels)
    assert model.metrics.loc["roc_auc", "model"] == pytest.approx(report["model"]["roc_auc"])


def test_evaluate_model_gives_the_training_reports_numbers(model, training_set):
    X_test, y_test = training_set.part("test")
    # the report judges the evaluation model (the registered scorer may be its refit)
    metrics = leadml.evaluate_model(model.evaluation_scorer, X_test, y_test)
    assert metrics["roc_auc"] == pytest.approx(model.report["model"]["roc_auc"], abs=1e-12)
    assert metrics["ece"] == pytest.approx(model.report["model"]["ece"], abs=1e-12)
    low, high = metrics["roc_auc_ci"]
    assert low < metrics["roc_auc"] < high
    with pytest.raises(TypeError, match="predict_proba"):
        leadml.evaluate_model(object(), X_test, y_test)


def test_explain_leads_gives_reasons_that_add_up_to_the_points(model, training_set):
    X_test, _ = training_set.part("test")
    explained = leadml.explain_leads(model.scorer, X_test.head(50))
    assert len(explained) == 50 and list(explained.index) == list(X_test.head(50).index)
    for row in explained.itertuples():
        reasons = json.loads(row.reasons)
        assert reasons and all(r["text"] for r in reasons)
        total = row.base_points + sum(r["points"] for r in reasons) + row.other_points
        assert total == pytest.approx(row.points, abs=1e-6)
    features = leadml.explain_features(model.scorer, X_test.head(50))
    assert features.feature_points.shape == (50, len(model.scorer.spec.names))
    np.testing.assert_allclose(
        features.base_points + features.feature_points.sum(axis=1), explained["points"], atol=1e-6
    )


def test_score_leads_gives_the_batch_jobs_rows(model, config, small_data, tmp_path):
    from leadml.scoring.batch import run_scoring

    scored = leadml.score_leads(small_data, model.scorer, config=config, as_of=AS_OF)
    folder = tmp_path / "model"
    model.scorer.save(folder)
    manifest = run_scoring(
        small_data,
        config=config,
        model_uri=str(folder),
        as_of=pd.Timestamp(AS_OF),
        out_dir=tmp_path / "scores",
        progress=False,
        log_to_mlflow=False,
    )
    batch = pd.read_parquet(tmp_path / "scores" / "scores.parquet")
    assert len(scored.scores) + len(scored.rejects) == manifest["counts"]["in"]
    assert len(scored.scores) == manifest["counts"]["scored"] > 100
    np.testing.assert_array_equal(scored.scores["lead_id"], batch["lead_id"])
    np.testing.assert_allclose(scored.scores["probability"], batch["probability"], atol=0)
    assert scored.scores["reasons"].tolist() == batch["reasons"].tolist()
    assert scored.scores["tier"].tolist() == batch["tier"].tolist()


# --- scikit-learn's contract ------------------------------------------------------------------
def test_the_scorer_is_a_fitted_scikit_learn_classifier(model, training_set):
    scorer = model.scorer
    X_test, y_test = training_set.part("test")
    check_is_fitted(scorer)
    assert is_classifier(scorer)
    assert list(scorer.classes_) == [0, 1]
    assert scorer.n_features_in_ == len(scorer.feature_names_in_) == X_test.shape[1]
    proba = scorer.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[:, 1], scorer.probability(X_test))
    evaluation = model.evaluation_scorer.predict_proba(X_test)[:, 1]
    assert roc_auc_score(y_test, evaluation) == pytest.approx(model.report["model"]["roc_auc"])
    assert set(scorer.predict(X_test)) <= {0, 1}
    # decision_function is the calibrated log-odds: the same order as the probability
    np.testing.assert_allclose(1 / (1 + np.exp(-scorer.decision_function(X_test))), proba[:, 1])
    params = scorer.get_params()
    assert params["top_reasons"] == 5 and params["horizon_days"] == 90
    assert params["booster"] is scorer.booster
    twin = clone(scorer)
    np.testing.assert_array_equal(twin.predict_proba(X_test.head(20)), proba[:20])
    display = CalibrationDisplay.from_estimator(scorer, X_test, y_test, n_bins=5)
    assert len(display.prob_pred) == 5


def test_the_scorer_refuses_bad_input_with_what_it_expected(model, training_set):
    scorer = model.scorer
    X_test, _ = training_set.part("test")
    with pytest.raises(TypeError, match=r"expects a pandas DataFrame with the model's \d+ feature"):
        scorer.predict_proba(X_test.head(3).to_numpy())
    dropped = X_test.drop(columns=[X_test.columns[0], X_test.columns[5]])
    with pytest.raises(SpecError, match=r"missing \(2\): \['" + X_test.columns[0]):
        scorer.predict_proba(dropped)
    with pytest.raises(TypeError, match=r"immutable.*dataclasses.replace\(scorer, top_reasons"):
        scorer.set_params(top_reasons=5)
    assert dataclasses.replace(scorer, top_reasons=5).top_reasons == 5


def test_loading_a_folder_without_a_model_is_a_not_fitted_error(tmp_path):
    (tmp_path / "model.txt").write_text("")
    with pytest.raises(NotFittedError, match=r"no fitted leadml model in .*feature_spec.json"):
        leadml.LeadScorer.load(tmp_path)
    with pytest.raises(leadml.ModelNotFoundError, match="leadml train"):
        leadml.LeadScorer.load(tmp_path / "nowhere")


def test_the_scorer_reads_in_one_line_and_cannot_be_refitted_on_x_y(model, training_set):
    scorer = model.scorer
    assert repr(scorer) == (
        f"LeadScorer(name='leadml-sql', target='sql', horizon_days=90, "
        f"features={len(scorer.spec.names)}, trees={scorer.booster.num_trees()})"
    )
    X_test, y_test = training_set.part("test")
    with pytest.raises(TypeError, match=r"leadml.train_model\(config, data\)"):
        scorer.fit(X_test, y_test)
