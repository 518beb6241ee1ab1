"""``leadml summarize``: model vs rule baseline vs oracle, from training reports, in one table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

COLUMNS = (
    ("roc_auc", "ROC-AUC", "{:.3f}"),
    ("pr_auc", "PR-AUC", "{:.3f}"),
    ("brier", "Brier", "{:.4f}"),
    ("ece", "ECE", "{:.4f}"),
    ("lift_top_decile", "lift@10%", "{:.2f}"),
)


def summarize(
    reports: Annotated[
        list[Path], typer.Argument(help="Report JSON files written by `leadml train --report`.")
    ],
    scores: Annotated[
        Path | None, typer.Option("--scores", help="A `leadml score` output folder.")
    ] = None,
) -> None:
    """Print the test metrics of each model beside the rule baseline and the oracle."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        "target", "scorer", *[label for _, label, _ in COLUMNS], title="Out-of-time test part"
    )
    captions = []
    for path in reports:
        report = json.loads(path.read_text())
        target = report.get("target", path.stem)
        captions.append(f"{target}: {report.get('n_test', 0):,} test snapshots")
        shown = [name for name in ("model", "champion", "baseline", "oracle") if name in report]
        for i, name in enumerate(shown):
            table.add_row(
                target if i == 0 else "",
                name,
                *[fmt.format(report[name][key]) for key, _, fmt in COLUMNS],
                end_section=i == len(shown) - 1,
            )
    table.caption = "; ".join(captions)
    console.print(table)
    if scores is not None:
        manifest = json.loads((scores / "manifest.json").read_text())
        tiers, counts = manifest["tiers"], manifest["counts"]
        console.print(
            f"scores in {scores}: {counts['scored']:,} leads scored, {counts['rejected']:,} rejected; "
            f"hot {tiers['hot']:,} · warm {tiers['warm']:,} · cold {tiers['cold']:,}; "
            f"expected conversions {manifest['expected_conversions']:.1f}"
        )


def register(app: typer.Typer) -> None:
    app.command("summarize")(summarize)
