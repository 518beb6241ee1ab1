"""Hyperparameter search for the LightGBM model with Optuna, judged on the valid part only.

The study trains each trial on the **train** part and scores it on the **valid**
part (the part early stopping already reads): the TPE sampler proposes
parameters, a median pruner stops trials whose valid ROC-AUC lags the others
at the same boosting round, and the **test** part is never read while
searching. The best parameters are then written to a run config and judged
once, out of time, on the test part beside the shipped parameters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import yaml

from leadml.config import RunConfig, load_config, yaml_document
from leadml.modeling.train import booster_params, fit_booster
from leadml.progress import say

__all__ = [
    "SEARCH_SPACE",
    "TuningResult",
    "out_of_time_roc_auc",
    "run_tuning",
    "search_parameters",
    "suggest_params",
    "write_tuned_config",
]

# name: (low, high, log scale, integer). The shipped sql/won values sit inside every range.
SEARCH_SPACE: dict[str, tuple[float, float, bool, bool]] = {
    "learning_rate": (0.01, 0.2, True, False),
    "num_leaves": (7, 127, True, True),
    "min_child_samples": (20, 2000, True, True),
    "min_gain_to_split": (0.0, 5.0, False, False),
    "feature_fraction": (0.5, 1.0, False, False),
    "bagging_fraction": (0.5, 1.0, False, False),
    "lambda_l2": (1e-3, 100.0, True, False),
    "max_cat_to_onehot": (4, 32, False, True),
}
PRUNE_EVERY = 10  # boosting rounds between reports to the pruner


@dataclass(frozen=True)
class TrialRecord:
    number: int
    state: str  # complete, pruned
    params: dict[str, Any]
    valid_auc: float
    best_iteration: int
    seconds: float


@dataclass(frozen=True)
class TuningResult:
    """The study's outcome: the best parameters and every trial, judged on the valid part."""

    best_params: dict[str, Any]
    best_valid_auc: float
    shipped_valid_auc: float
    trials: list[TrialRecord] = field(repr=False)
    seconds: float = 0.0

    @property
    def n_pruned(self) -> int:
        return sum(t.state == "pruned" for t in self.trials)


def suggest_params(trial: Any) -> dict[str, Any]:
    """One point of :data:`SEARCH_SPACE` from an Optuna trial (bagging on when fraction < 1)."""
    params: dict[str, Any] = {}
    for name, (low, high, log, integer) in SEARCH_SPACE.items():
        if integer:
            params[name] = trial.suggest_int(name, int(low), int(high), log=log)
        else:
            params[name] = trial.suggest_float(name, low, high, log=log)
    params["bagging_freq"] = 1 if params["bagging_fraction"] < 1.0 else 0
    return params


def _shipped_point(config: RunConfig) -> dict[str, Any]:
    """The shipped parameters, clipped into the search space, as the study's first trial."""
    shipped = booster_params(config)
    point = {}
    for name, (low, high, _, integer) in SEARCH_SPACE.items():
        value = float(shipped.get(name, low))
        value = min(max(value, low), high)
        point[name] = int(round(value)) if integer else value
    return point


def _pruning_callback(trial: Any, last: dict[str, float]) -> Callable[[Any], None]:
    """Report the valid ROC-AUC to the pruner every few rounds; stop the trial when told.

    ``last`` keeps the latest round and value reported (what a pruned trial reached).
    """
    import optuna

    def callback(env: lgb.callback.CallbackEnv) -> None:
        if env.iteration % PRUNE_EVERY:
            return
        for data_name, metric, value, _ in env.evaluation_result_list:
            if data_name == "valid" and metric == "auc":
                trial.report(value, step=env.iteration)
                last["round"], last["auc"] = env.iteration, value
                if trial.should_prune():
                    raise optuna.TrialPruned(f"valid auc {value:.4f} at round {env.iteration}")

    callback.order = 30  # type: ignore[attr-defined]  # after early stopping's bookkeeping
    return callback


def search_parameters(
    training_set: Any,
    config: RunConfig,
    *,
    trials: int,
    timeout: float | None = None,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> TuningResult:
    """Run a TPE study over :data:`SEARCH_SPACE` on the train and valid parts.

    The first trial is the shipped configuration, so the best is never worse on
    the valid part than what ships. ``on_trial`` receives each finished trial
    (e.g. to log it as a nested MLflow run).
    """
    import optuna

    if trials < 1:
        raise ValueError(f"trials must be at least 1; got {trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    parts = set(training_set.frame["split"].astype(str).unique())
    if "valid" not in parts:
        raise ValueError(
            f"tune needs a valid part to judge trials on, and this training set has only "
            f"{sorted(parts)}: it has {len(training_set.frame):,} labelled snapshots, below "
            f"small_data.max_rows={config.small_data.max_rows:,} (cross-fitting mode). Set "
            "`small_data: {max_rows: 0}` in the run config to carve out train | valid | calib | test"
        )
    X_train, y_train = training_set.part("train")
    X_valid, y_valid = training_set.part("valid")
    base = booster_params(config, training_set.catalogue)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=config.seed, multivariate=True),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3 * PRUNE_EVERY),
    )
    study.enqueue_trial(_shipped_point(config))
    records: list[TrialRecord] = []
    started = time.perf_counter()

    def objective(trial: Any) -> float:
        params = {**base, **suggest_params(trial)}
        t = time.perf_counter()
        state, auc, rounds = "complete", math.nan, 0
        last: dict[str, float] = {}
        try:
            booster = fit_booster(
                X_train,
                y_train,
                X_valid,
                y_valid,
                params=params,
                limits=config.model,
                callbacks=[_pruning_callback(trial, last)],
            )
            auc = float(booster.best_score["valid"]["auc"])
            rounds = int(booster.best_iteration)
            return auc
        except optuna.TrialPruned:
            state = "pruned"
            rounds, auc = int(last.get("round", 0)), float(last.get("auc", math.nan))
            raise
        finally:
            record = TrialRecord(
                number=trial.number,
                state=state,
                params=suggest_params_of(trial),
                valid_auc=auc,
                best_iteration=rounds,
                seconds=round(time.perf_counter() - t, 2),
            )
            records.append(record)
            say(
                f"trial {trial.number + 1}/{trials}: {state}, valid roc_auc {auc:.4f} "
                f"({rounds} rounds, {record.seconds:.1f}s)"
            )
            if on_trial is not None:
                on_trial(record)

    study.optimize(objective, n_trials=trials, timeout=timeout, catch=())
    best = study.best_trial
    best_params = {**suggest_params_of(best)}
    best_params["bagging_freq"] = 1 if best_params["bagging_fraction"] < 1.0 else 0
    return TuningResult(
        best_params=best_params,
        best_valid_auc=float(best.value),
        shipped_valid_auc=float(records[0].valid_auc),
        trials=records,
        seconds=round(time.perf_counter() - started, 2),
    )


def suggest_params_of(trial: Any) -> dict[str, Any]:
    """The search-space parameters a (finished or running) trial was given."""
    return {name: trial.params[name] for name in SEARCH_SPACE if name in trial.params}


def _rounded(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (float(f"{v:.4g}") if isinstance(v, float) and not isinstance(v, bool) else v)
        for k, v in params.items()
    }


def write_tuned_config(
    config: RunConfig, params: dict[str, Any], out: str | Path, *, note: str
) -> Path:
    """A copy of the run config with the tuned LightGBM parameters, written atomically.

    Paths inside (``dataset``, ``point_grid``) are made absolute when the copy
    lives in another folder, so the new file reads the same data mapping.
    """
    from leadml.data.io import write_text_atomic

    if config.source is None:
        raise ValueError("write_tuned_config needs a config read from a file (config.source)")
    source = Path(config.source)
    out = Path(out)
    document = yaml_document(source.read_text(encoding="utf-8"))
    model = dict(document.get("model") or {})
    model["params"] = {**dict(model.get("params") or {}), **_rounded(params)}
    document["model"] = model
    if out.resolve().parent != source.resolve().parent:
        for key in ("dataset", "point_grid"):
            value = document.get(key, "dataset.yaml" if key == "dataset" else None)
            if isinstance(value, str) and not Path(value).is_absolute():
                document[key] = str((source.parent / value).resolve())
    header = "".join(f"# {line}\n" for line in note.splitlines())
    write_text_atomic(out, header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return out


def out_of_time_roc_auc(scorer: Any, training_set: Any) -> float:
    """ROC-AUC of a scorer on the out-of-time test part (read once, after the search)."""
    from leadml.modeling.evaluate import roc_auc

    X_test, y_test = training_set.part("test")
    return float(roc_auc(y_test, scorer.probability(X_test)))


def run_tuning(
    config: RunConfig,
    data: str | Path,
    *,
    trials: int,
    out_config: str | Path,
    timeout: float | None = None,
    tracking_uri: str | None = None,
    log_to_mlflow: bool = True,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """``leadml tune``: search on the valid part, write the best config, train it as a challenger.

    Each trial is a nested MLflow run under one tuning run; the challenger is an
    ordinary training run (registered as ``challenger``, tagged with the tuning
    run). Returns the report: valid ROC-AUC of the shipped and the tuned
    parameters, then -- read once, after the search -- their out-of-time test
    ROC-AUC, the gain and the share of the oracle's (synthetic data).
    """
    from leadml.modeling.train import train_scorer
    from leadml.modeling.training_run import fit_and_evaluate, log_trained_model
    from leadml.pointintime.trainingset_cache import cached_training_set

    started = time.perf_counter()
    training_set, record = cached_training_set(config, data, cache_dir=cache_dir)
    say(f"tuning {config.target.name}: {trials} trials on the train and valid parts …")
    tuning = None
    if log_to_mlflow:
        from leadml.tracking import TuningLog

        tuning = TuningLog.start(config, training_set.summary, trials=trials, uri=tracking_uri)
    try:
        result = search_parameters(
            training_set,
            config,
            trials=trials,
            timeout=timeout,
            on_trial=None if tuning is None else tuning.log_trial,
        )
        note = (
            f"Tuned by `leadml tune` from {Path(config.source or 'inline').name}: "
            f"{len(result.trials)} trials ({result.n_pruned} pruned), TPE on the valid part;\n"
            f"valid ROC-AUC {result.shipped_valid_auc:.4f} (shipped) -> {result.best_valid_auc:.4f}."
        )
        written = write_tuned_config(config, result.best_params, out_config, note=note)
        tuned_config = load_config(written)  # the file as written is what gets trained
        # Out of time, once: the shipped parameters and the tuned ones on the test part.
        shipped_test = out_of_time_roc_auc(train_scorer(training_set, config).scorer, training_set)
        say("training the tuned parameters as a challenger …")
        trained = fit_and_evaluate(
            tuned_config,
            data,
            training_set=training_set,
            tracking_uri=tracking_uri,
            compare_with_champion=log_to_mlflow,
        )
        report = trained.report
        report["training_set"] = {
            "digest": record["key"],
            "inputs_sha256": record["inputs_sha256"],
            "cache_hit": record["hit"],
        }
        challenger = None
        if tuning is not None:
            challenger = log_trained_model(
                trained,
                tuned_config,
                data,
                tracking_uri=tracking_uri,
                tags={"leadml.tuning_run_id": tuning.run_id},
            )
        tuned_test = float(report["model"]["roc_auc"])
        oracle = report.get("oracle", {}).get("roc_auc")
        summary: dict[str, Any] = {
            "target": config.target.name,
            "trials": len(result.trials),
            "pruned": result.n_pruned,
            "search_seconds": result.seconds,
            "valid_roc_auc": {
                "shipped": result.shipped_valid_auc,
                "tuned": result.best_valid_auc,
            },
            "test_roc_auc": {
                "shipped": shipped_test,
                "tuned": tuned_test,
                "gain": tuned_test - shipped_test,
                "oracle": oracle,
                "shipped_share_of_oracle": None if oracle is None else shipped_test / oracle,
                "tuned_share_of_oracle": None if oracle is None else tuned_test / oracle,
            },
            "best_params": _rounded(result.best_params),
            "config": str(written),
            "challenger": challenger,
            "seconds": round(time.perf_counter() - started, 2),
        }
        if tuning is not None:
            tuning.finish(summary)
            summary["tuning_run_id"] = tuning.run_id
        return summary
    except BaseException:
        if tuning is not None:
            tuning.fail()
        raise
