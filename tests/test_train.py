import numpy as np
import pytest

from leadml.modeling.train import train_scorer


def test_training_twice_gives_the_same_model_text_and_probabilities(sql_training_set, sql_config):
    first = train_scorer(sql_training_set, sql_config).scorer
    second = train_scorer(sql_training_set, sql_config).scorer
    assert first.booster.model_to_string() == second.booster.model_to_string()
    assert first.calibration == second.calibration
    X, _ = sql_training_set.part("test")
    np.testing.assert_array_equal(first.probability(X), second.probability(X))


def test_report_beats_the_grid_and_is_calibrated(champion):
    model, baseline, oracle = champion["model"], champion["baseline"], champion["oracle"]
    assert model["roc_auc"] > baseline["roc_auc"] + 0.05
    assert model["lift_top_decile"] >= 1.3 * baseline["lift_top_decile"]
    assert model["ece"] <= 0.02
    # the oracle knows the generator's hidden state: an upper bound the model gets close to
    assert 0.93 * oracle["roc_auc"] <= model["roc_auc"] < oracle["roc_auc"]
    for key in ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile"):
        assert key in model and key in baseline and key in champion["oracle"]
    assert champion["n_test"] == champion["sizes"]["test"]["n"]


def test_a_training_part_with_one_class_is_refused(sql_training_set, sql_config):
    from dataclasses import replace

    frame = sql_training_set.frame.copy()
    frame.loc[frame["split"] == "train", "label"] = 0
    with pytest.raises(ValueError, match="the train part has .* both classes"):
        train_scorer(replace(sql_training_set, frame=frame), sql_config)
