"""Options several commands share, worded once: ``data: options.Data``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from leadml.data.sources import data_location

__all__ = ["Config", "Data", "DatasetConfig", "NoCache", "NoMlflow", "Report", "TrackingUri"]

# A path, or a database URL kept as text (a Path would fold its '//').
Data = Annotated[
    Any,
    typer.Option(
        "--data",
        parser=data_location,
        help=(
            "Data folder (event mode) or file (flat mode), or a database: duckdb:///crm.duckdb, "
            "duckdb:///folder (SQL over its files), postgresql://user@host/db."
        ),
    ),
]
TrackingUri = Annotated[
    str | None,
    typer.Option("--tracking-uri", help="MLflow tracking URI (default sqlite:///mlflow.db)."),
]
Config = Annotated[Path, typer.Option("--config", help="Run config, e.g. training/sql.yaml.")]
DatasetConfig = Annotated[Path, typer.Option("--config", help="Dataset or run config.")]
Report = Annotated[Path | None, typer.Option("--report", help="Write the JSON report here.")]
NoMlflow = Annotated[bool, typer.Option("--no-mlflow", help="Do not log the run to MLflow.")]
NoCache = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Build the training set even when the cache holds it for the same data and "
        "settings (cache: LEADML_CACHE_DIR, default .leadml-cache).",
    ),
]
