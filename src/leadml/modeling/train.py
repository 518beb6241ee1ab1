"""LightGBM on a point-in-time training set, with Platt calibration on the calib part.

Pure: a :class:`~leadml.pointintime.trainingset.TrainingSet` and a config in, a fitted
:class:`~leadml.modeling.scorer.LeadScorer` and its evaluation out. MLflow lives in
:mod:`leadml.tracking`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.config import RunConfig
from leadml.modeling.calibration import PointsScale, fit_platt
from leadml.modeling.drift import REFERENCE_ROWS, DriftProfile
from leadml.modeling.scorer import LeadScorer
from leadml.trees.fastpredict import raw_scores

__all__ = ["DEFAULT_PARAMS", "TrainResult", "booster_params", "fit_booster", "train_scorer"]

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 300,
    "min_gain_to_split": 2.0,
    "max_cat_to_onehot": 16,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "bagging_freq": 0,
    "lambda_l2": 1.0,
    "num_threads": 2,
    "verbose": -1,
}


@dataclass(frozen=True)
class TrainResult:
    """A fitted scorer plus what the run needs to log."""

    scorer: LeadScorer
    params: dict[str, Any]
    best_iteration: int
    valid_auc: float
    boosting_seconds: float
    finishing_seconds: float  # after boosting: calibration, points scale, drift profile
    feature_importance: pd.DataFrame = field(repr=False)


def booster_params(config: RunConfig) -> dict[str, Any]:
    """LightGBM parameters: defaults, then the config's, then the determinism switches."""
    params = {**DEFAULT_PARAMS, **dict(config.model.params)}
    params.update(seed=config.seed, deterministic=True, force_col_wise=True)
    params.setdefault("metric", "auc")
    return params


def fit_booster(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    params: dict[str, Any],
    num_boost_round: int,
    early_stopping_rounds: int,
) -> lgb.Booster:
    """Boost with early stopping on the valid part. Categoricals come from pandas dtypes."""
    train_set = lgb.Dataset(X_train, label=y_train, categorical_feature="auto", free_raw_data=True)
    valid_set = lgb.Dataset(X_valid, label=y_valid, reference=train_set)
    return lgb.train(
        dict(params),
        train_set,
        num_boost_round=num_boost_round,
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)],
    )


def _drift_reference(
    X_train: pd.DataFrame, booster: lgb.Booster, calibration: Any, *, seed: int
) -> DriftProfile:
    """The drift reference from (a sample of at most ``REFERENCE_ROWS``) rows: the leads open
    at the end of the data (event mode) or the training rows (flat mode)."""
    if len(X_train) > REFERENCE_ROWS:
        rows = np.sort(
            np.random.default_rng(seed).choice(len(X_train), REFERENCE_ROWS, replace=False)
        )
        X_train = X_train.iloc[rows]
    return DriftProfile.from_training(
        X_train, calibration.probability(raw_scores(booster, X_train))
    )


def train_scorer(training_set: Any, config: RunConfig) -> TrainResult:
    """Train LightGBM, fit Platt on calib, and return the servable scorer."""
    X_train, y_train = training_set.part("train")
    X_valid, y_valid = training_set.part("valid")
    X_calib, y_calib = training_set.part("calib")
    for name, y in (("train", y_train), ("valid", y_valid), ("calib", y_calib)):
        if len(y) == 0 or y.min() == y.max():
            raise ValueError(
                f"the {name} part has {len(y)} rows and {int(np.sum(y))} positives: both classes "
                "are needed (use more data, a longer window, or other split fractions)"
            )
    params = booster_params(config)
    started = time.perf_counter()
    booster = fit_booster(
        X_train,
        y_train,
        X_valid,
        y_valid,
        params=params,
        num_boost_round=config.model.num_boost_round,
        early_stopping_rounds=config.model.early_stopping_rounds,
    )
    boosted = time.perf_counter()
    boosting_seconds = boosted - started
    valid_auc = float(booster.best_score.get("valid", {}).get("auc", np.nan))
    # Keep only the trees early stopping chose: the text model is then the whole truth.
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
    calibration = fit_platt(raw_scores(booster, X_calib), y_calib)
    expected_margin = float(booster.predict(X_train.iloc[:1], pred_contrib=True)[0, -1])
    scale = PointsScale(
        base=config.points.base,
        pdo=config.points.pdo,
        reference_log_odds=float(calibration.log_odds(np.array([expected_margin]))[0]),
    )
    scorer = LeadScorer(
        booster=booster,
        spec=training_set.spec,
        catalogue=training_set.catalogue,
        calibration=calibration,
        scale=scale,
        tiers=config.tiers,
        top_reasons=config.points.top_reasons,
        name=config.model.registered_name,
        target=config.target.name,
        horizon_days=config.target.horizon_days,
        reference=_drift_reference(
            X_train
            if training_set.reference is None or training_set.reference.empty
            else training_set.reference,
            booster,
            calibration,
            seed=config.seed,
        ),
    )
    importance = pd.DataFrame(
        {
            "feature": booster.feature_name(),
            "column": [training_set.spec.display_names[f] for f in booster.feature_name()],
            "gain": booster.feature_importance("gain"),
            "splits": booster.feature_importance("split"),
        }
    ).sort_values("gain", ascending=False, ignore_index=True)
    return TrainResult(
        scorer=scorer,
        params=params,
        best_iteration=booster.num_trees(),
        valid_auc=valid_auc,
        boosting_seconds=boosting_seconds,
        finishing_seconds=time.perf_counter() - boosted,
        feature_importance=importance,
    )
