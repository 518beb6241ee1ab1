"""``leadml backtest``: rolling-origin backtest of the training recipe, refit vs oldest part only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from leadml.commands import options
from leadml.commands._common import exit_for, load_config

__all__ = ["register"]

SHOWN = ("roc_auc", "pr_auc", "ece", "lift_top_decile")


def backtest(
    data: options.Data,
    config: options.Config = Path("training/sql.yaml"),
    folds: Annotated[
        int | None, typer.Option("--folds", min=1, help="Test folds (default: backtest.folds).")
    ] = None,
    window: Annotated[
        Literal["expanding", "sliding"] | None,
        typer.Option("--window", help="expanding or sliding (default: backtest.window)."),
    ] = None,
    report: options.Report = None,
    figure: Annotated[
        Path | None, typer.Option("--figure", help="Write the per-fold figure (PNG) here.")
    ] = None,
    tracking_uri: options.TrackingUri = None,
    no_mlflow: options.NoMlflow = False,
) -> None:
    """Train forward in time over rolling origins (purged) and report, per fold and pooled,
    ROC-AUC, PR-AUC, ECE and lift of the model refit on the whole window, the model trained on
    its oldest part only, the rule grid and (synthetic data) the oracle, on the same rows."""
    from leadml.data.schema import DataValidationError
    from leadml.modeling.backtest import run_backtest

    run_config = load_config(config)
    try:
        result = run_backtest(
            run_config,
            data,
            folds=folds,
            window=window,
            tracking_uri=tracking_uri,
            report_path=report,
            figure_path=figure,
            log_to_mlflow=not no_mlflow,
        )
    except (DataValidationError, FileNotFoundError, ValueError) as exc:
        raise exit_for(exc) from exc
    for name, values in result["pooled"].items():
        shown = "  ".join(f"{k} {values[k]:.3f}" for k in SHOWN)
        print(f"pooled {name:>11}  {shown}", file=sys.stderr)
    print(
        json.dumps(
            {
                "pooled": {n: {k: v[k] for k in SHOWN} for n, v in result["pooled"].items()},
                "refit_beats_oldest_part_after_first_fold": result[
                    "refit_beats_oldest_part_after_first_fold"
                ],
                "n_labelled": result["n_labelled"],
                **({"mlflow": result["mlflow"]} if "mlflow" in result else {}),
            }
        )
    )


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)
