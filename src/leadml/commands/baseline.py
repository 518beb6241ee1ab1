"""``leadml baseline``: the hand-tuned point grid, evaluated on the out-of-time test part."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from leadml.commands import options
from leadml.commands._common import exit_for, load_config

__all__ = ["register"]

SHOWN = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile")


def baseline(
    data: options.Data,
    config: options.Config = Path("training/sql.yaml"),
    report: options.Report = None,
) -> None:
    """Score the point grid beside the oracle (synthetic data) with the shared evaluation."""
    from leadml.data.schema import DataValidationError
    from leadml.modeling.training_run import run_baseline

    run_config = load_config(config)
    try:
        result = run_baseline(run_config, data, report_path=report)
    except (DataValidationError, FileNotFoundError, ValueError) as exc:
        raise exit_for(exc) from exc
    for name in ("baseline", "oracle"):
        if name in result:
            shown = "  ".join(f"{k} {result[name][k]:.3f}" for k in SHOWN)
            print(f"{name:>9}  {shown}", file=sys.stderr)
    print(
        json.dumps(
            {
                name: {k: result[name][k] for k in SHOWN}
                for name in ("baseline", "oracle")
                if name in result
            }
            | {"n_test": result["n_test"]}
        )
    )


def register(app: typer.Typer) -> None:
    app.command("baseline")(baseline)
