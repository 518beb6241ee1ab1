"""``leadml tune``: an Optuna study on the valid part, the best parameters as a config and a challenger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from leadml.commands import options
from leadml.commands._common import exit_for, load_config
from leadml.progress import say

__all__ = ["register"]


def tune(
    data: options.Data,
    config: options.Config = Path("training/sql.yaml"),
    trials: Annotated[int, typer.Option("--trials", min=1, help="Trials in the study.")] = 40,
    out_config: Annotated[
        Path | None,
        typer.Option(
            "--out-config", help="Where to write the tuned config (default: <config>.tuned.yaml)."
        ),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Stop the study after this many seconds.")
    ] = None,
    tracking_uri: options.TrackingUri = None,
    no_mlflow: options.NoMlflow = False,
    no_cache: options.NoCache = False,
    report: options.Report = None,
) -> None:
    """Search LightGBM's parameters with Optuna (TPE; trials pruned on the valid part, the
    test part never read while searching), write the best to a config, train it as the
    `challenger` and report its out-of-time gain over the shipped parameters."""
    from leadml.data.io import write_json_atomic
    from leadml.data.schema import DataValidationError
    from leadml.modeling.tuning import run_tuning
    from leadml.pointintime.trainingset_cache import cache_dir_from_env

    run_config = load_config(config)
    target = out_config or config.with_name(f"{config.stem}.tuned.yaml")
    try:
        summary = run_tuning(
            run_config,
            data,
            trials=trials,
            out_config=target,
            timeout=timeout,
            tracking_uri=tracking_uri,
            log_to_mlflow=not no_mlflow,
            cache_dir=None if no_cache else cache_dir_from_env(),
        )
    except (DataValidationError, FileNotFoundError, ValueError) as exc:
        raise exit_for(exc) from exc
    test = summary["test_roc_auc"]
    say(
        f"{summary['trials']} trials ({summary['pruned']} pruned) in {summary['search_seconds']:.0f}s: "
        f"valid roc_auc {summary['valid_roc_auc']['shipped']:.4f} -> {summary['valid_roc_auc']['tuned']:.4f}"
    )
    oracle = (
        ""
        if test["oracle"] is None
        else f"; {test['shipped_share_of_oracle']:.3f} -> {test['tuned_share_of_oracle']:.3f} of the oracle's {test['oracle']:.4f}"
    )
    say(
        f"out-of-time test roc_auc {test['shipped']:.4f} (shipped) -> {test['tuned']:.4f} (tuned), "
        f"gain {test['gain']:+.4f}{oracle}"
    )
    say(f"tuned config: {summary['config']}")
    if summary.get("challenger"):
        c = summary["challenger"]
        say(f"registered {c['model']} version {c['version']} as 'challenger' (run {c['run_id']})")
    if report is not None:
        write_json_atomic(report, summary)
    print(json.dumps(summary))


def register(app: typer.Typer) -> None:
    app.command("tune")(tune)
