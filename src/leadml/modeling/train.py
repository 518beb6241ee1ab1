"""LightGBM on a point-in-time training set: the evaluation model, then the production refit.

* :func:`train_scorer` fits the **evaluation model** on the train part. With
  a valid and a calib part ("holdout"), early stopping on valid and Platt on
  calib; on small data ("crossfit", no such parts), both come from
  cross-fitting inside the train part (:mod:`leadml.modeling.crossfit`).
* :func:`refit_scorer` fits the **production model** on every labelled
  snapshot up to the data's end (test and purged rows included), with the
  evaluation model's rounds scaled to the larger data and Platt fitted on
  cross-fitted out-of-fold margins. Its evidence is the evaluation model's
  out-of-time test.

Pure: a :class:`~leadml.pointintime.trainingset.TrainingSet` and a config in, fitted
:class:`~leadml.modeling.scorer.LeadScorer` objects out. MLflow lives in
:mod:`leadml.tracking`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.config import ModelSpec, RunConfig
from leadml.features.catalogue import FeatureCatalogue
from leadml.modeling.calibration import PlattCalibration, PointsScale, fit_platt
from leadml.modeling.crossfit import cross_fit, require_increasing, scaled_rounds
from leadml.modeling.drift import REFERENCE_ROWS, DriftProfile
from leadml.modeling.evaluate import expected_calibration_error, roc_auc
from leadml.modeling.scorer import LeadScorer
from leadml.modeling.selection import GroupSelection, group_permutation_importance, select_groups
from leadml.pointintime.dataset import dataset_for
from leadml.trees.fastpredict import raw_scores

__all__ = [
    "DEFAULT_PARAMS",
    "FittedBooster",
    "RefitResult",
    "TrainResult",
    "booster_params",
    "fit_booster",
    "fit_on_window",
    "refit_booster",
    "refit_on_rows",
    "refit_scorer",
    "train_scorer",
]

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
    fit_mode: str = "holdout"
    # early stopping's rounds and the training rows they were found on: the refit scales them
    reference_rounds: float = 0.0
    reference_rows: float = 0.0
    crossfit: dict[str, Any] | None = None  # small data: the cross-fitting inside train
    # model.selection: the groups the valid part confirmed (None when it is off)
    selection: dict[str, Any] | None = None


@dataclass(frozen=True)
class RefitResult:
    """The production scorer refit on every labelled snapshot, and how it was made."""

    scorer: LeadScorer
    n_rows: int
    positives: int
    rounds: int
    boosting_seconds: float
    crossfit: dict[str, Any]
    out_of_fold: dict[str, float]  # ROC-AUC and ECE of the cross-fitted, calibrated margins
    feature_importance: pd.DataFrame = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description for the run report."""
        return {
            "n_rows": self.n_rows,
            "positives": self.positives,
            "rounds": self.rounds,
            "boosting_seconds": round(self.boosting_seconds, 2),
            "calibration": self.scorer.calibration.to_dict(),
            "out_of_fold": self.out_of_fold,
            "crossfit": self.crossfit,
        }


@dataclass(frozen=True)
class FittedBooster:
    """A booster with its Platt calibration and the early-stopping reference for refits."""

    booster: lgb.Booster
    calibration: PlattCalibration
    reference_rounds: float
    reference_rows: float
    valid_auc: float
    crossfit: dict[str, Any] | None = None


def booster_params(config: RunConfig, catalogue: FeatureCatalogue | None = None) -> dict[str, Any]:
    """LightGBM parameters: defaults, then the config's, then the determinism switches.

    With ``config.model.monotone`` and the model's ``catalogue``, the declared directions
    (see :func:`model_catalogue`; with ``monotone: counts`` those of the counts of actions
    only) become ``monotone_constraints`` in feature order.
    """
    params = {**DEFAULT_PARAMS, **dict(config.model.params)}
    params.update(seed=config.seed, deterministic=True, force_col_wise=True)
    params.setdefault("metric", "auc")
    if config.model.monotone and catalogue is not None:
        counts_only = config.model.monotone == "counts" and dataset_for(config).counts_only_monotone
        constraints = model_catalogue(catalogue, config).monotone_constraints(
            counts_only=counts_only
        )
        if any(constraints):
            params["monotone_constraints"] = constraints
            params.setdefault("monotone_constraints_method", "advanced")
    if not any(params.get("monotone_constraints") or ()):
        # A method with nothing to constrain is a no-op, except that LightGBM 4.7 crashes
        # (segmentation fault) on "advanced" with a categorical feature and no constraint.
        params.pop("monotone_constraints_method", None)
    return params


def model_catalogue(catalogue: FeatureCatalogue, config: RunConfig) -> FeatureCatalogue:
    """The catalogue with the directions the config overrides (``model.directions``)."""
    if not config.model.directions:
        return catalogue
    return catalogue.with_directions(config.model.directions)


def fit_booster(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    params: dict[str, Any],
    limits: ModelSpec,
    callbacks: list[Any] | None = None,
) -> lgb.Booster:
    """Boost with early stopping on the valid part, within ``limits`` (``num_boost_round``,
    ``early_stopping_rounds``). Categoricals come from pandas dtypes.

    ``callbacks`` run after early stopping's (e.g. a tuning study's pruner).
    """
    train_set = lgb.Dataset(X_train, label=y_train, categorical_feature="auto", free_raw_data=True)
    valid_set = lgb.Dataset(X_valid, label=y_valid, reference=train_set)
    stop = lgb.early_stopping(limits.early_stopping_rounds, verbose=False)
    return lgb.train(
        dict(params),
        train_set,
        num_boost_round=limits.num_boost_round,
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=[stop, *(callbacks or [])],
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


def _both_classes(name: str, y: np.ndarray) -> None:
    if len(y) == 0 or y.min() == y.max():
        raise ValueError(
            f"the {name} part has {len(y)} rows and {int(np.sum(y))} positives: both classes "
            "are needed (use more data, a longer window, or other split fractions)"
        )


def _holdout_fit(
    parts: dict[str, tuple[pd.DataFrame, np.ndarray]], config: RunConfig, params: dict[str, Any]
) -> FittedBooster:
    """Early stopping on valid, Platt on calib, trees on train."""
    for name in ("train", "valid", "calib"):
        _both_classes(name, parts[name][1])
    (X_train, y_train), (X_valid, y_valid), (X_calib, y_calib) = (
        parts["train"], parts["valid"], parts["calib"]
    )  # fmt: skip
    booster = fit_booster(X_train, y_train, X_valid, y_valid, params=params, limits=config.model)
    valid_auc = float(booster.best_score.get("valid", {}).get("auc", np.nan))
    # Keep only the trees early stopping chose: the text model is then the whole truth.
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
    return FittedBooster(
        booster=booster,
        calibration=fit_platt(raw_scores(booster, X_calib), y_calib),
        reference_rounds=float(booster.num_trees()),
        reference_rows=float(len(X_train)),
        valid_auc=valid_auc,
    )


def _crossfit_fit(
    X: pd.DataFrame,
    y: np.ndarray,
    order: pd.Series,
    *,
    gap: pd.Timedelta | int,
    config: RunConfig,
    params: dict[str, Any],
) -> FittedBooster:
    """Small data: early stopping and Platt cross-fitted inside the rows, trees on all of them."""
    _both_classes("train", y)
    crossed = cross_fit(
        X,
        y,
        order,
        params=params,
        folds=config.small_data.folds,
        gap=gap,
        forward=config.small_data.cross_fitting == "forward",
        exponent=config.refit.rounds_exponent,
        num_boost_round=config.model.num_boost_round,
        early_stopping_rounds=config.model.early_stopping_rounds,
    )
    return FittedBooster(
        booster=refit_booster(X, y, params=params, rounds=crossed.rounds),
        calibration=require_increasing(crossed.calibration),
        reference_rounds=crossed.reference_rounds,
        reference_rows=crossed.reference_rows,
        valid_auc=_out_of_fold(y, crossed)["roc_auc"],
        crossfit=crossed.summary(),
    )


def _out_of_fold(y: np.ndarray, crossed: Any) -> dict[str, float]:
    """ROC-AUC and ECE of the cross-fitted margins once calibrated (each row by a model
    that never saw it)."""
    held_out = ~np.isnan(crossed.margin)  # forward cross-fitting leaves the first block out
    probability = crossed.calibration.probability(crossed.margin[held_out])
    return {
        "roc_auc": roc_auc(y[held_out], probability),
        "ece": expected_calibration_error(y[held_out], probability),
    }


def refit_booster(
    X: pd.DataFrame, y: np.ndarray, *, params: dict[str, Any], rounds: int
) -> lgb.Booster:
    """Boost exactly ``rounds`` rounds on all of ``X`` (no early stopping: the rounds are known)."""
    train_set = lgb.Dataset(X, label=y, categorical_feature="auto", free_raw_data=True)
    return lgb.train(dict(params), train_set, num_boost_round=rounds)


def refit_on_rows(
    X: pd.DataFrame,
    y: np.ndarray,
    order: pd.Series,
    config: RunConfig,
    *,
    params: dict[str, Any],
    reference_rounds: float,
    reference_rows: float,
    gap: pd.Timedelta | int,
) -> FittedBooster:
    """Boost on every row of ``X`` for the reference rounds scaled to ``len(X)``; Platt on the
    margins of ``config.refit.calibration_folds`` cross-fitted models (``crossfit`` holds
    their summary and the out-of-fold ECE; ``valid_auc`` is the out-of-fold ROC-AUC)."""
    rounds = scaled_rounds(
        reference_rounds, reference_rows, len(X), exponent=config.refit.rounds_exponent
    )
    crossed = cross_fit(
        X,
        y,
        order,
        params=params,
        folds=config.refit.calibration_folds,
        gap=gap,
        forward=config.refit.cross_fitting == "forward",
        exponent=config.refit.rounds_exponent,
        rounds=rounds,
    )
    out_of_fold = _out_of_fold(y, crossed)
    return FittedBooster(
        booster=refit_booster(X, y, params=params, rounds=rounds),
        calibration=require_increasing(crossed.calibration),
        reference_rounds=reference_rounds,
        reference_rows=reference_rows,
        valid_auc=out_of_fold["roc_auc"],
        crossfit=crossed.summary() | {"out_of_fold_ece": out_of_fold["ece"]},
    )


def fit_on_window(
    rows: pd.DataFrame,
    config: RunConfig,
    *,
    names: tuple[str, ...] | list[str],
    parts: dict[str, tuple[pd.DataFrame, np.ndarray]] | None = None,
    gap: pd.Timedelta | int,
    params: dict[str, Any] | None = None,
) -> FittedBooster:
    """The evaluation recipe on one training window: holdout when ``parts`` (train, valid,
    calib) are given, else cross-fitting over ``rows`` (columns ``as_of``, ``label``, ``names``)."""
    params = booster_params(config) if params is None else params
    if parts is not None:
        return _holdout_fit(parts, config, params)
    X = rows[list(names)].reset_index(drop=True)
    y = rows["label"].to_numpy(dtype=np.int8)
    return _crossfit_fit(X, y, rows["as_of"], gap=gap, config=config, params=params)


def _importance(booster: lgb.Booster, spec: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feature": booster.feature_name(),
            "column": [spec.display_names[f] for f in booster.feature_name()],
            "gain": booster.feature_importance("gain"),
            "splits": booster.feature_importance("split"),
        }
    ).sort_values("gain", ascending=False, ignore_index=True)


def _scorer(
    booster: lgb.Booster,
    calibration: PlattCalibration,
    training_set: Any,
    config: RunConfig,
    X_reference: pd.DataFrame,
) -> LeadScorer:
    """The servable scorer around a booster: points scale, tiers, drift reference.

    The points scale puts ``config.points.base`` (50) at the average lead open at the end of
    the data (the population a scoring run sees: mean calibrated log-odds of the drift
    reference, event mode), else at the average training row (flat mode).
    """
    open_leads = training_set.reference
    if open_leads is not None and not open_leads.empty:
        reference_log_odds = float(np.mean(calibration.log_odds(raw_scores(booster, open_leads))))
    else:
        expected_margin = float(booster.predict(X_reference.iloc[:1], pred_contrib=True)[0, -1])
        reference_log_odds = float(calibration.log_odds(np.array([expected_margin]))[0])
    scale = PointsScale(
        base=config.points.base, pdo=config.points.pdo, reference_log_odds=reference_log_odds
    )
    return LeadScorer(
        booster=booster,
        spec=training_set.spec,
        catalogue=model_catalogue(training_set.catalogue, config),
        calibration=calibration,
        scale=scale,
        tiers=config.tiers,
        top_reasons=config.points.top_reasons,
        name=config.model.registered_name,
        target=config.target.name,
        horizon_days=config.target.horizon_days,
        reference=_drift_reference(
            X_reference
            if training_set.reference is None or training_set.reference.empty
            else training_set.reference,
            booster,
            calibration,
            seed=config.seed,
        ),
        dataset=config.dataset,
    )


def _check_kept_groups(catalogue: FeatureCatalogue, config: RunConfig) -> None:
    """``model.selection.keep`` names reason groups of this catalogue, or a clear error."""
    unknown = sorted(set(config.model.selection.keep) - set(catalogue.groups))
    if unknown:
        raise ValueError(
            f"model.selection.keep: {unknown} are not reason groups of this model; "
            f"expected some of {list(catalogue.groups)}"
        )


def confirmed_groups(
    booster: lgb.Booster,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    catalogue: FeatureCatalogue,
    config: RunConfig,
) -> GroupSelection:
    """The reason groups the valid rows confirm for ``booster`` (``config.model.selection``)."""
    spec = config.model.selection
    _check_kept_groups(catalogue, config)
    importance = group_permutation_importance(
        booster, X_valid, y_valid, catalogue, repeats=spec.repeats, seed=config.seed
    )
    return select_groups(
        importance,
        catalogue,
        min_relative_increase=spec.min_loss_increase,
        z=spec.z,
        keep=spec.keep,
    )


def train_scorer(training_set: Any, config: RunConfig) -> TrainResult:
    """The evaluation model: LightGBM on the train part, early stopping and Platt on the
    valid and calib parts (holdout) or cross-fitted inside train (small data).

    With ``model.selection`` on (holdout only), the reason groups the valid part does not
    confirm are dropped and the model is fitted again on the others' features; the
    scorer's spec and catalogue are the kept ones.
    """
    from leadml.pointintime.trainingset import purge_gap

    if config.model.selection.enabled:  # before any boosting: a typo costs no fit
        _check_kept_groups(training_set.catalogue, config)
    params = booster_params(config, training_set.catalogue)
    started = time.perf_counter()
    selection: dict[str, Any] | None = None
    if training_set.fit_mode == "crossfit":
        train = training_set.frame[training_set.frame["split"] == "train"]
        fitted = fit_on_window(
            train,
            config,
            names=training_set.spec.names,
            gap=purge_gap(config, train["as_of"]),
            params=params,
        )
        X_train, _ = training_set.part("train")
        if config.model.selection.enabled:
            selection = {"skipped": "small data: no valid part to confirm groups on"}
    else:
        parts = {name: training_set.part(name) for name in ("train", "valid", "calib")}
        X_train = parts["train"][0]
        fitted = fit_on_window(
            training_set.frame, config, names=training_set.spec.names, parts=parts, gap=0,
            params=params,
        )  # fmt: skip
        if config.model.selection.enabled:
            chosen = confirmed_groups(
                fitted.booster, *parts["valid"], training_set.catalogue, config
            )
            selection = chosen.summary() | {"first_fit_trees": fitted.booster.num_trees()}
            if chosen.dropped:
                training_set = training_set.with_features(chosen.features)
                params = booster_params(config, training_set.catalogue)
                parts = {name: training_set.part(name) for name in ("train", "valid", "calib")}
                X_train = parts["train"][0]
                fitted = fit_on_window(
                    training_set.frame, config, names=training_set.spec.names, parts=parts,
                    gap=0, params=params,
                )  # fmt: skip
    boosted = time.perf_counter()
    scorer = _scorer(fitted.booster, fitted.calibration, training_set, config, X_train)
    return TrainResult(
        scorer=scorer,
        params=params,
        best_iteration=fitted.booster.num_trees(),
        valid_auc=fitted.valid_auc,
        boosting_seconds=boosted - started,
        finishing_seconds=time.perf_counter() - boosted,
        feature_importance=_importance(fitted.booster, training_set.spec),
        fit_mode=training_set.fit_mode,
        reference_rounds=fitted.reference_rounds,
        reference_rows=fitted.reference_rows,
        crossfit=fitted.crossfit,
        selection=selection,
    )


def refit_scorer(training_set: Any, config: RunConfig, evaluation: TrainResult) -> RefitResult:
    """The production model: every labelled snapshot (parts and purged rows), the evaluation
    model's rounds scaled to their number, Platt on cross-fitted out-of-fold margins."""
    from leadml.pointintime.trainingset import purge_gap

    if evaluation.scorer.spec.names != training_set.spec.names:  # model.selection dropped some
        training_set = training_set.with_features(evaluation.scorer.spec.names)
    rows = training_set.labelled()
    X = rows[list(training_set.spec.names)]
    y = rows["label"].to_numpy(dtype=np.int8)
    started = time.perf_counter()
    fitted = refit_on_rows(
        X,
        y,
        rows["as_of"],
        config,
        params=evaluation.params,
        reference_rounds=evaluation.reference_rounds,
        reference_rows=evaluation.reference_rows,
        gap=purge_gap(config, rows["as_of"]),
    )
    booster, crossed = fitted.booster, fitted.crossfit
    rounds = booster.num_trees()
    seconds = time.perf_counter() - started
    return RefitResult(
        scorer=_scorer(booster, fitted.calibration, training_set, config, X),
        n_rows=int(len(rows)),
        positives=int(y.sum()),
        rounds=rounds,
        boosting_seconds=seconds,
        crossfit=crossed,
        out_of_fold={"roc_auc": fitted.valid_auc, "ece": crossed["out_of_fold_ece"]},
        feature_importance=_importance(booster, training_set.spec),
    )
