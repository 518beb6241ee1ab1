"""Reason groups confirmed on the valid part (model.selection): the importance, the rule, the fit."""

from __future__ import annotations

import math

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadml.config import load_run_config
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo
from leadml.modeling.selection import (
    _log_loss_of_margin,
    group_permutation_importance,
    select_groups,
)
from leadml.modeling.train import refit_scorer, train_scorer
from leadml.pointintime.trainingset import build_training_set
from leadml.synth import SynthSpec, generate_crm, write_demo_data


def _catalogue(groups: dict[str, list[str]]) -> FeatureCatalogue:
    return FeatureCatalogue(
        entries=tuple(
            FeatureInfo(name, "behaviour", group, "numeric", name)
            for group, names in groups.items()
            for name in names
        )
    )


def test_log_loss_of_a_margin_is_the_hand_worked_value():
    # margin 0 is p = 1/2: ln 2 whatever the label; margin ln 3 is p = 3/4
    assert _log_loss_of_margin(np.array([1.0, 0.0]), np.zeros(2)) == pytest.approx(math.log(2))
    expected = -(math.log(0.75) + math.log(0.25)) / 2
    margin = np.full(2, math.log(3))
    assert _log_loss_of_margin(np.array([1.0, 0.0]), margin) == pytest.approx(expected, abs=1e-12)
    # no overflow far out: log(1 + e^800) - 800 = 0 for a positive
    assert _log_loss_of_margin(np.array([1.0]), np.array([800.0])) == pytest.approx(0.0)


@pytest.fixture(scope="module")
def signal_and_noise():
    """y depends on x1 only; n1, n2 are noise the trees may overfit to; u is never used."""
    rng = np.random.default_rng(3)
    n = 6_000
    X = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "n1": rng.normal(size=n),
            "n2": rng.integers(0, 5, n).astype(float),
            "u": rng.normal(size=n),
        }
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(2.0 * X["x1"] - 1.5)))).astype(np.int8)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "min_data_in_leaf": 5, "num_leaves": 31, "seed": 1},
        lgb.Dataset(X.iloc[:4_000][["x1", "n1", "n2"]], label=y[:4_000]),
        num_boost_round=60,
    )
    catalogue = _catalogue({"signal": ["x1"], "noise": ["n1", "n2"]})
    return booster, X.iloc[4_000:][["x1", "n1", "n2"]].reset_index(drop=True), y[4_000:], catalogue


def test_shuffling_the_true_driver_costs_loss_and_shuffling_noise_does_not(signal_and_noise):
    booster, X, y, catalogue = signal_and_noise
    table = group_permutation_importance(booster, X, y, catalogue, repeats=5, seed=0)
    assert list(table["group"]) == ["signal", "noise"]
    assert list(table["features"]) == [1, 2]
    signal, noise = table.set_index("group").loc[["signal", "noise"]].to_dict("records")
    base = table.attrs["valid_log_loss"]
    assert 0.3 < base < 0.7
    # the driver: shuffled, the model predicts like the base rate (log-loss ~ 0.55+)
    assert signal["loss_increase"] > 0.1 and signal["z"] > 20
    # noise the trees split on: the valid part gains nothing from it (overfit: it even helps)
    assert noise["loss_increase"] < 0.003 * base


def test_a_group_the_trees_never_split_on_costs_exactly_nothing():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x1": rng.normal(size=500), "u": rng.normal(size=500)})
    y = (X["x1"] > 0).astype(np.int8).to_numpy()
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "seed": 1},
        lgb.Dataset(X, label=y),
        num_boost_round=5,
    )
    assert booster.feature_importance("split")[1] == 0  # never split on u
    table = group_permutation_importance(
        booster, X, y, _catalogue({"x": ["x1"], "unused": ["u"]}), repeats=3, seed=0
    ).set_index("group")
    assert table.at["unused", "loss_increase"] == 0.0
    assert table.at["unused", "std"] == 0.0 and table.at["unused", "z"] == -np.inf


def test_the_rule_keeps_a_group_above_the_floor_and_its_noise_or_listed():
    catalogue = _catalogue({"a": ["a1", "a2"], "b": ["b1"], "c": ["c1"], "d": ["d1"], "e": ["e1"]})
    importance = pd.DataFrame(
        {
            "group": ["a", "b", "c", "d", "e"],
            "features": [2, 1, 1, 1, 1],
            "loss_increase": [0.0007, 0.0006, 0.01, 0.0, 0.002],
            "std": [0.0, 0.0, 0.0, 0.0, 0.0],
            "z": [3.0, 10.0, 2.0, -np.inf, 2.01],
        }
    )
    importance.attrs["valid_log_loss"] = 0.2  # floor: 0.003 x 0.2 = 0.0006
    chosen = select_groups(importance, catalogue, min_relative_increase=0.003, z=2.0, keep=["d"])
    # a: above both; b: at the floor, not above; c: at z, not above; d: kept by name; e: above
    assert chosen.kept == ("a", "d", "e")
    assert chosen.dropped == ("b", "c")
    assert chosen.features == ("a1", "a2", "d1", "e1")
    assert chosen.floor == pytest.approx(0.0006)
    summary = chosen.summary()
    assert summary["dropped_groups"] == {
        "b": {"loss_increase": 0.0006, "z": 10.0},
        "c": {"loss_increase": 0.01, "z": 2.0},
    }
    assert summary["kept_groups"] == 3 and summary["n_features"] == 4


@pytest.fixture(scope="module")
def crm_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("crm") / "data"
    write_demo_data(out, SynthSpec(n_leads=3_000, seed=11))
    return out


@pytest.fixture(scope="module")
def holdout_training(crm_folder):
    config = load_run_config("training/sql.yaml")
    config = config.model_copy(
        update={
            "small_data": config.small_data.model_copy(update={"max_rows": 0}),
            "refit": config.refit.model_copy(update={"calibration_folds": 2}),  # test time
            "model": config.model.model_copy(
                update={"selection": config.model.selection.model_copy(update={"enabled": True})}
            ),
        }
    )
    return config, build_training_set(config, crm_folder)


def test_training_drops_the_unconfirmed_groups_and_the_refit_keeps_the_same_features(
    holdout_training,
):
    config, training = holdout_training
    result = train_scorer(training, config)
    selection = result.selection
    dropped = set(selection["dropped_groups"])
    assert dropped and selection["kept_groups"] + len(dropped) == len(training.catalogue.groups)
    scorer = result.scorer
    assert set(scorer.catalogue.groups) == set(training.catalogue.groups) - dropped
    assert scorer.spec.names == tuple(
        n for n in training.spec.names if training.catalogue[n].group not in dropped
    )
    assert len(scorer.spec.names) == selection["n_features"] == scorer.booster.num_feature()
    # every dropped group measured under the rule: below the floor or within its noise
    for measured in selection["dropped_groups"].values():
        assert (
            measured["loss_increase"] <= selection["min_loss_increase"]
            or measured["z"] <= config.model.selection.z
        )
    assert selection["min_loss_increase"] == pytest.approx(0.003 * selection["valid_log_loss"])
    # the strongest drivers of the generator survive; the country never mattered
    assert {"engagement", "lead_age", "inactivity"} <= set(scorer.catalogue.groups)
    assert "geography" in dropped
    # the scorer takes the full feature rows (extra columns ignored) and explains no dropped group
    X_test, _ = training.part("test")
    explanation = scorer.explain(X_test.iloc[:50])
    assert not dropped & set(explanation.group_points.columns)
    refit = refit_scorer(training, config, result)
    assert refit.scorer.spec.names == scorer.spec.names
    assert refit.scorer.booster.num_feature() == len(scorer.spec.names)


def test_keep_names_a_group_or_the_error_lists_the_groups(holdout_training):
    config, training = holdout_training
    selection = config.model.selection.model_copy(update={"keep": ("unsubscribe", "pricing")})
    bad = config.model_copy(
        update={"model": config.model.model_copy(update={"selection": selection})}
    )
    with pytest.raises(
        ValueError, match=r"model.selection.keep: \['pricing'\] are not reason groups"
    ):
        train_scorer(training, bad)


def test_small_data_keeps_every_group_and_says_why(holdout_training):
    config, training = holdout_training
    small = config.model_copy(
        update={"small_data": config.small_data.model_copy(update={"max_rows": 10**9})}
    )
    tables = generate_crm(SynthSpec(n_leads=1_200, seed=5)).tables()
    crossfit = build_training_set(small, None, tables=tables)
    assert crossfit.fit_mode == "crossfit"
    result = train_scorer(crossfit, small)
    assert result.selection == {"skipped": "small data: no valid part to confirm groups on"}
    assert result.scorer.spec.names == crossfit.spec.names


def test_the_backtest_selects_on_each_folds_valid_part_and_refits_on_those_features(
    holdout_training, crm_folder
):
    from leadml.modeling.backtest import run_backtest

    config, training = holdout_training
    report = run_backtest(
        config, crm_folder, folds=2, initial_fraction=0.6, training_set=training,
        log_to_mlflow=False,
    )  # fmt: skip
    assert len(report["folds"]) == 2
    for fold in report["folds"]:
        selection = fold["oldest_part"]["selection"]
        assert selection["dropped_groups"]
        assert selection["kept_groups"] + len(selection["dropped_groups"]) == len(
            training.catalogue.groups
        )
        # both arms scored the fold's rows; the grid still reads every column it needs
        assert 0.6 < fold["refit"]["roc_auc"] <= 1.0
        assert 0.5 < fold["baseline"]["roc_auc"] <= 1.0
