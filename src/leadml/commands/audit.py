"""``leadml audit``: single-feature ROC-AUC of every feature, flags for likely leakage."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from leadml.commands import options
from leadml.commands._common import exit_for, load_config

__all__ = ["register"]


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"single-feature ROC-AUC on the {report['part']} part (n={report['n']:,})")
    for column in ("feature", "family", "kind", "auc", "missing", "flag"):
        table.add_column(column, justify="right" if column in ("auc", "missing") else "left")
    for f in report["features"]:
        flag = "[bold red]FLAG[/bold red]" if f["flagged"] else ""
        auc = "-" if f["auc"] is None else f"{f['auc']:.3f}"
        missing = "-" if f["missing_rate"] is None else f"{f['missing_rate']:.0%}"
        table.add_row(f["name"], f["family"] or "", f["kind"], auc, missing, flag)
    console = Console(stderr=True)
    console.print(table)
    for flagged in report["flagged"]:
        for message in flagged["messages"]:
            console.print(f"[red]flagged[/red] {message}", highlight=False, soft_wrap=True)
    if not report["flagged"]:
        console.print(
            f"nothing above ROC-AUC {report['threshold']:.2f} and nothing declared post-outcome"
        )


def audit(
    data: options.Data,
    config: options.Config,
    report: options.Report = None,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include",
            help="Re-admit a column for the audit only (an excluded flat column, or a leads/accounts column).",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", help="Flag above this ROC-AUC (default: the config's audit.threshold)."
        ),
    ] = None,
) -> None:
    """Flag features that alone predict the label too well, or that are declared post-outcome.
    Always exits 0: the report says what is flagged."""
    from leadml.data.io import write_json_atomic
    from leadml.modeling.audit import audit_features
    from leadml.pointintime.dataset import dataset_for
    from leadml.pointintime.trainingset import build_training_set

    run_config = load_config(config)
    try:
        training_set = build_training_set(run_config, data, include=tuple(include or ()))
    except (FileNotFoundError, ValueError) as exc:
        raise exit_for(exc) from exc
    result = audit_features(
        training_set,
        threshold=run_config.audit.threshold if threshold is None else threshold,
        post_outcome=dataset_for(run_config).post_outcome,
    )
    result["included"] = list(include or ())
    _print_table(result)
    if report is not None:
        write_json_atomic(report, result)
        print(f"wrote {report}", file=sys.stderr)
    print(json.dumps({k: result[k] for k in ("threshold", "part", "n", "n_flagged", "flagged")}))


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
