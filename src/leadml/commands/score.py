"""``leadml score``: the batch job over every open lead."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from leadml.commands import options
from leadml.commands._common import exit_for, load_config, parse_as_of
from leadml.data.sources import data_location, redact
from leadml.modeling.drift import DRIFT_WARNING
from leadml.progress import say

__all__ = ["DRIFT_EXIT_CODE", "drifted_inputs", "register"]

DRIFT_EXIT_CODE = 3


def drifted_inputs(drift: dict | None) -> list[str]:
    """``score`` (when the score's PSI is above the threshold) then the drifted features."""
    if not drift:
        return []
    names = ["score"] if drift.get("score_psi", 0.0) > DRIFT_WARNING else []
    return names + list(drift.get("flagged", []))


class OutputFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    both = "both"


def score(
    data: options.Data,
    model: Annotated[
        str, typer.Option("--model", help="Model URI, e.g. models:/leadml-sql@champion.")
    ] = "models:/leadml-sql@champion",
    as_of: Annotated[
        str, typer.Option("--as-of", help="Scoring date (e.g. 2026-01-01, or 'now').")
    ] = "now",
    out: Annotated[
        Any,
        typer.Option(
            "--out",
            parser=data_location,
            help=(
                "Output folder, or database tables written in one transaction: "
                "postgresql://user@host/db#lead_scores or duckdb:///scores.duckdb#lead_scores."
            ),
        ),
    ] = Path("out/scores"),
    also: Annotated[
        str | None, typer.Option("--also", help="A second model, e.g. models:/leadml-won@champion.")
    ] = None,
    config: options.DatasetConfig = Path("training/dataset.yaml"),
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="parquet, csv or both.")
    ] = OutputFormat.parquet,
    top_reasons: Annotated[
        int | None,
        typer.Option("--top-reasons", min=0, help="Reasons per sign (default: the model's)."),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Leads per chunk (bounds memory).")
    ] = 100_000,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="'local' for a Dask LocalCluster, or a scheduler address."
        ),
    ] = None,
    unseen_tolerance: Annotated[
        int,
        typer.Option(
            "--unseen-tolerance",
            min=0,
            help="Unseen category values a lead may have before it is rejected.",
        ),
    ] = 1,
    tracking_uri: options.TrackingUri = None,
    no_mlflow: options.NoMlflow = False,
    fail_on_drift: Annotated[
        bool,
        typer.Option(
            "--fail-on-drift",
            help=f"Exit with code {DRIFT_EXIT_CODE} (after writing the outputs) when the score or a "
            "feature drifts (PSI above 0.2 against the training reference).",
        ),
    ] = False,
) -> None:
    """Score and explain every open lead as of a date; write scores, rejects, a manifest and _SUCCESS."""
    from leadml.data.schema import DataValidationError
    from leadml.scoring.batch import CountMismatchError, run_scoring

    run_config = load_config(config)
    when = parse_as_of(as_of)
    try:
        manifest = run_scoring(
            data,
            config=run_config,
            model_uri=model,
            as_of=when,
            out_dir=out,
            also_uri=also,
            fmt=fmt.value,
            top_reasons=top_reasons,
            chunk_size=chunk_size,
            scheduler=scheduler,
            tolerance=unseen_tolerance,
            tracking_uri=tracking_uri,
            log_to_mlflow=not no_mlflow,
        )
    except (DataValidationError, CountMismatchError, FileNotFoundError, ValueError) as exc:
        raise exit_for(exc) from exc
    counts, tiers = manifest["counts"], manifest["tiers"]
    say(
        f"scored {counts['scored']:,} of {counts['in']:,} open leads ({counts['rejected']:,} rejected) "
        f"as of {manifest['as_of']} in {manifest['duration_seconds']:.1f}s"
    )
    say(
        f"tiers: hot {tiers['hot']:,} · warm {tiers['warm']:,} · cold {tiers['cold']:,}; "
        f"MQL flags {manifest['mql']:,}; expected conversions {manifest['expected_conversions']:.1f}"
    )
    drifted = drifted_inputs(manifest.get("drift"))
    print(
        json.dumps({"out": redact(str(out)), "counts": counts, "tiers": tiers, "drifted": drifted})
    )
    if fail_on_drift and drifted:
        print(
            f"error: drift above PSI {DRIFT_WARNING} in {', '.join(drifted[:5])}"
            + (f" and {len(drifted) - 5} more" if len(drifted) > 5 else "")
            + f" (--fail-on-drift); the outputs in {redact(str(out))} are written, see manifest.json under drift",
            file=sys.stderr,
        )
        raise typer.Exit(DRIFT_EXIT_CODE)


def register(app: typer.Typer) -> None:
    app.command("score")(score)
