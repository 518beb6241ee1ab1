"""``leadml train``: build the training set, train, evaluate, log and register a challenger."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from leadml.commands import options
from leadml.commands._common import exit_for, load_config
from leadml.progress import say

__all__ = ["register"]


def train(
    data: options.Data,
    config: options.Config = Path("training/sql.yaml"),
    tracking_uri: options.TrackingUri = None,
    report: options.Report = None,
    no_mlflow: options.NoMlflow = False,
    no_cache: options.NoCache = False,
) -> None:
    """Train LightGBM + Platt on the out-of-time training set; compare with the rule
    baseline, the champion and (on synthetic data) the oracle; log and register it as
    the `challenger`."""
    from leadml.data.schema import DataValidationError
    from leadml.modeling.training_run import run_training
    from leadml.pointintime.trainingset_cache import cache_dir_from_env

    run_config = load_config(config)
    try:
        result = run_training(
            run_config,
            data,
            tracking_uri=tracking_uri,
            report_path=report,
            log_to_mlflow=not no_mlflow,
            cache_dir=None if no_cache else cache_dir_from_env(),
        )
    except (DataValidationError, FileNotFoundError, ValueError) as exc:
        raise exit_for(exc) from exc
    rows = []
    for name in ("model", "champion", "baseline", "oracle"):
        if name in result:
            r = result[name]
            rows.append(
                f"{name:>9}  roc_auc {r['roc_auc']:.3f}  pr_auc {r['pr_auc']:.3f}  brier {r['brier']:.4f}  "
                f"ece {r['ece']:.4f}  lift@10% {r['lift_top_decile']:.2f}"
            )
    for row in rows:
        say(row)
    if "mlflow" in result:
        m = result["mlflow"]
        say(f"registered {m['model']} version {m['version']} as 'challenger' (run {m['run_id']})")
    summary = {k: result[k] for k in ("model", "baseline", "oracle", "champion") if k in result}
    print(
        json.dumps(
            {
                name: {k: v[k] for k in ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile")}
                for name, v in summary.items()
            }
            | {
                "n_test": result["n_test"],
                **({"mlflow": result["mlflow"]} if "mlflow" in result else {}),
            }
        )
    )


def register(app: typer.Typer) -> None:
    app.command("train")(train)
