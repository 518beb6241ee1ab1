"""Rolling-origin backtest: train forward in time, judge each fold on the rows just after it.

The labelled snapshots (purged rows included) are cut by
:func:`leadml.pointintime.split.rolling_origin_folds`: after an initial stretch, ``K``
test blocks in time order; fold ``k`` learns only from the rows before its
block whose label window closes before the block starts (the purge gap),
all of them (expanding window) or the most recent ones (sliding window).

On each fold's test rows, with the same metric code:

* ``refit``: the production recipe, a model on *every* row of the window
  (holdout evaluation model's rounds scaled up and Platt cross-fitted, or
  small-data cross-fitting when the window is small);
* ``oldest_part``: the evaluation recipe alone, trees on the oldest part of
  the window, early stopping and Platt on the newer parts (what leadml
  registered before the refit);
* ``baseline``: the hand-tuned point grid, mapped to probabilities on the window;
* ``oracle``: the generator's true probabilities (synthetic data only).

Per fold and pooled over the folds: ROC-AUC, PR-AUC, ECE, lift in the top
decile, Brier, log loss.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import RunConfig
from leadml.modeling.evaluate import (
    brier_score,
    expected_calibration_error,
    lift_top_decile,
    log_loss,
    pr_auc,
    roc_auc,
)
from leadml.pointintime.split import Fold, rolling_origin_folds, split_by_order

__all__ = ["ARMS", "METRICS", "backtest_metrics", "run_backtest", "run_folds"]

ARMS: tuple[str, ...] = ("refit", "oldest_part", "baseline", "oracle")
METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "ece", "lift_top_decile", "brier", "log_loss")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def backtest_metrics(y: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """The backtest's figures for one scorer on one set of rows."""
    return {
        "n": int(len(y)),
        "positives": int(np.sum(y)),
        "roc_auc": roc_auc(y, probability),
        "pr_auc": pr_auc(y, probability),
        "ece": expected_calibration_error(y, probability),
        "lift_top_decile": lift_top_decile(y, probability),
        "brier": brier_score(y, probability),
        "log_loss": log_loss(y, probability),
    }


def _gap_text(gap: pd.Timedelta | int) -> str:
    if isinstance(gap, pd.Timedelta):
        return f"{gap / pd.Timedelta(days=1):g} days"
    return f"{gap} rows"


def _holdout_parts(
    window: pd.DataFrame, config: RunConfig, names: list[str], gap: pd.Timedelta | int
) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """train | valid | calib of a window, in the configured proportions, purged by ``gap``."""
    fractions = {
        "train": config.split.train,
        "valid": config.split.valid,
        "calib": config.split.calib,
        "test": 0.0,
    }
    assignment = split_by_order(window["as_of"], fractions=fractions, gap=gap).assignment
    out = {}
    for part in ("train", "valid", "calib"):
        rows = window.loc[(assignment == part).to_numpy()]
        out[part] = (rows[names].reset_index(drop=True), rows["label"].to_numpy(dtype=np.int8))
    return out


def _fold_scores(
    rows: pd.DataFrame,
    fold: Fold,
    config: RunConfig,
    *,
    names: list[str],
    gap: pd.Timedelta | int,
    params: dict[str, Any],
    grid: Any,
    catalogue: Any = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Probabilities of each arm on the fold's test rows, and how each arm was fitted.

    With ``model.selection`` on (and the ``catalogue``), the oldest-part model drops the
    groups its valid part does not confirm and is fitted again; the refit arm learns from
    the same features, as ``leadml train`` does.
    """
    from leadml.modeling.train import (
        booster_params,
        confirmed_groups,
        fit_on_window,
        refit_on_rows,
    )
    from leadml.pointintime.trainingset import split_fractions
    from leadml.trees.fastpredict import raw_scores

    window = rows.iloc[fold.train].reset_index(drop=True)
    test = rows.iloc[fold.test].reset_index(drop=True)
    model_names = list(names)  # model.selection may narrow them; the grid reads them all
    X_test = test[model_names]
    selection: dict[str, Any] | None = None
    scores: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {}
    _, mode = split_fractions(config, len(window))

    oldest = None
    try:
        parts = _holdout_parts(window, config, names, gap)
        oldest = fit_on_window(window, config, names=names, parts=parts, gap=gap, params=params)
        if config.model.selection.enabled and catalogue is not None and mode != "crossfit":
            chosen = confirmed_groups(oldest.booster, *parts["valid"], catalogue, config)
            selection = chosen.summary()
            if chosen.dropped:
                model_names = list(chosen.features)
                params = booster_params(config, catalogue.select(model_names))
                parts = {part: (X[model_names], y) for part, (X, y) in parts.items()}
                X_test = test[model_names]
                oldest = fit_on_window(
                    window, config, names=model_names, parts=parts, gap=gap, params=params
                )
        scores["oldest_part"] = oldest.calibration.probability(raw_scores(oldest.booster, X_test))
        info["oldest_part"] = {
            "n_train": int(len(parts["train"][1])),
            "n_valid": int(len(parts["valid"][1])),
            "n_calib": int(len(parts["calib"][1])),
            "rounds": oldest.booster.num_trees(),
            "calibration": oldest.calibration.to_dict(),
            **({"selection": selection} if selection is not None else {}),
        }
    except ValueError as exc:  # a part without both classes: the arm is skipped, and says why
        info["oldest_part"] = {"skipped": str(exc)}

    try:
        if mode == "crossfit":
            refit = fit_on_window(window, config, names=model_names, gap=gap, params=params)
        elif oldest is None:
            raise ValueError("no early-stopping reference: the oldest-part model was skipped")
        else:
            refit = refit_on_rows(
                window[model_names],
                window["label"].to_numpy(dtype=np.int8),
                window["as_of"],
                config,
                params=params,
                reference_rounds=oldest.reference_rounds,
                reference_rows=oldest.reference_rows,
                gap=gap,
            )
        scores["refit"] = refit.calibration.probability(raw_scores(refit.booster, X_test))
        info["refit"] = {
            "fit_mode": mode,
            "n_train": int(len(window)),
            "rounds": refit.booster.num_trees(),
            "calibration": refit.calibration.to_dict(),
            "out_of_fold_roc_auc": refit.valid_auc,
        }
    except ValueError as exc:
        info["refit"] = {"skipped": str(exc)}

    if grid is not None:
        from leadml.modeling.baseline import PointGridClassifier

        baseline = PointGridClassifier(grid=grid).fit(
            window[names], window["label"].to_numpy(dtype=np.int8)
        )
        scores["baseline"] = baseline.predict_proba(test[names])[:, 1]
    return scores, info


def run_folds(
    rows: pd.DataFrame,
    config: RunConfig,
    *,
    names: list[str],
    folds: list[Fold],
    gap: pd.Timedelta | int,
    grid: Any = None,
    oracle: np.ndarray | None = None,
    catalogue: Any = None,
) -> dict[str, Any]:
    """Fit and score every fold; per-fold and pooled metrics (JSON-ready), plus the pooled
    rows' labels and probabilities under ``"_pooled_scores"`` for figures."""
    from leadml.modeling.train import booster_params

    params = booster_params(config, catalogue)
    y_all = rows["label"].to_numpy(dtype=np.int8)
    per_fold = []
    pooled: dict[str, list[np.ndarray]] = {arm: [] for arm in ARMS}
    pooled_y: dict[str, list[np.ndarray]] = {arm: [] for arm in ARMS}
    for fold in folds:
        started = time.perf_counter()
        scores, info = _fold_scores(
            rows, fold, config, names=names, gap=gap, params=params, grid=grid,
            catalogue=catalogue,
        )  # fmt: skip
        if oracle is not None:
            scores["oracle"] = oracle[fold.test]
        y = y_all[fold.test]
        entry = fold.describe(rows["as_of"]) | {"positives": int(y.sum())}
        for arm in ARMS:
            if arm in scores:
                entry[arm] = backtest_metrics(y, scores[arm]) | info.get(arm, {})
                pooled[arm].append(scores[arm])
                pooled_y[arm].append(y)
            elif arm in info:
                entry[arm] = info[arm]
        if "refit" in scores and "oldest_part" in scores:
            entry["refit_minus_oldest_part_roc_auc"] = (
                entry["refit"]["roc_auc"] - entry["oldest_part"]["roc_auc"]
            )
        entry["seconds"] = round(time.perf_counter() - started, 2)
        _log(
            f"fold {fold.number}/{len(folds)}: train {len(fold.train):,} rows, test "
            f"{len(fold.test):,}; ROC-AUC "
            + ", ".join(f"{a} {entry[a]['roc_auc']:.3f}" for a in ARMS if a in scores)
        )
        per_fold.append(entry)
    # every arm is pooled over the folds it scored (all of them unless an arm was skipped)
    pooled_metrics = {
        arm: backtest_metrics(np.concatenate(pooled_y[arm]), np.concatenate(pooled[arm]))
        | {"folds": len(pooled[arm])}
        for arm in ARMS
        if pooled[arm]
    }
    # a later fold where either arm was skipped counts against the claim, not for it
    later = per_fold[1:]
    return {
        "folds": per_fold,
        "pooled": pooled_metrics,
        "refit_beats_oldest_part_after_first_fold": bool(later)
        and all(f.get("refit_minus_oldest_part_roc_auc", -1.0) > 0 for f in later),
        "_pooled_scores": {
            arm: (np.concatenate(pooled_y[arm]), np.concatenate(pooled[arm]))
            for arm in ARMS
            if pooled[arm]
        },
    }


def run_backtest(
    config: RunConfig,
    data: str | Path,
    *,
    folds: int | None = None,
    window: str | None = None,
    initial_fraction: float | None = None,
    training_set: Any = None,
    tracking_uri: str | None = None,
    report_path: str | Path | None = None,
    figure_path: str | Path | None = None,
    log_to_mlflow: bool = True,
) -> dict[str, Any]:
    """Build the labelled snapshots, run the rolling-origin folds, write the JSON report and
    the figure, log an MLflow run. ``folds``, ``window`` and ``initial_fraction`` override
    ``config.backtest``."""
    import tempfile

    from leadml.data.io import write_json_atomic
    from leadml.modeling.baseline import load_point_grid
    from leadml.modeling.training_run import _oracle
    from leadml.pointintime.trainingset import build_training_set, purge_gap

    spec = config.backtest.model_copy(
        update={
            k: v
            for k, v in (
                ("folds", folds),
                ("window", window),
                ("initial_fraction", initial_fraction),
            )
            if v is not None
        }
    )
    from leadml.data.sources import data_location

    data = data_location(data)
    started = time.perf_counter()
    if training_set is None:
        _log(f"building the labelled snapshots from {data} …")
        # every labelled row is needed, purged ones included
        keep_all = config.model_copy(
            update={"refit": config.refit.model_copy(update={"enabled": True})}
        )
        training_set = build_training_set(keep_all, data)
    rows = training_set.labelled()
    names = list(training_set.spec.names)
    gap = purge_gap(config, rows["as_of"])
    layout = rolling_origin_folds(
        rows["as_of"],
        folds=spec.folds,
        initial_fraction=spec.initial_fraction,
        window=spec.window,
        gap=gap,
    )
    grid_path = config.resolve(config.point_grid)
    grid = None if grid_path is None else load_point_grid(grid_path)
    oracle = _oracle(config, data, rows)
    _log(
        f"backtest: {len(rows):,} labelled rows, {spec.folds} folds ({spec.window} window, "
        f"purge gap {_gap_text(gap)}) …"
    )
    result = run_folds(
        rows,
        config,
        names=names,
        folds=layout,
        gap=gap,
        grid=grid,
        oracle=oracle,
        catalogue=training_set.catalogue,
    )
    pooled_scores = result.pop("_pooled_scores")
    report: dict[str, Any] = {
        "target": config.target.name,
        "model_name": config.model.registered_name,
        "window": spec.window,
        "n_folds": spec.folds,
        "initial_fraction": spec.initial_fraction,
        "purge_gap": _gap_text(gap),
        "n_labelled": int(len(rows)),
        "small_data_max_rows": config.small_data.max_rows,
        **result,
        "seconds": round(time.perf_counter() - started, 2),
    }
    from leadml.modeling import plots

    with tempfile.TemporaryDirectory() as tmp:
        figure = plots.backtest_figure(report, pooled_scores)
        target_figure = Path(figure_path) if figure_path is not None else Path(tmp) / "backtest.png"
        plots.save_figure(figure, target_figure)
        if log_to_mlflow:
            from leadml.tracking import log_backtest_run

            report_file = Path(tmp) / "backtest.json"
            write_json_atomic(report_file, report)
            report["mlflow"] = {
                "run_id": log_backtest_run(
                    config=config,
                    params={
                        "backtest_folds": spec.folds,
                        "backtest_window": spec.window,
                        "backtest_initial_fraction": spec.initial_fraction,
                        "purge_gap": _gap_text(gap),
                        "small_data_max_rows": config.small_data.max_rows,
                        "refit_rounds_exponent": config.refit.rounds_exponent,
                        "refit_calibration_folds": config.refit.calibration_folds,
                        "refit_cross_fitting": config.refit.cross_fitting,
                        "n_labelled": len(rows),
                    },
                    report=report,
                    artifacts=[target_figure, report_file],
                    uri=tracking_uri,
                )
            }
    if report_path is not None:
        write_json_atomic(report_path, report)
    return report
