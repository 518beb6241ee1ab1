"""Helpers shared by the command modules: config loading, dates, errors for people."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from leadml.config import ConfigError, RunConfig, load_dataset_config, load_run_config
from leadml.sources import data_location

__all__ = ["DataOption", "TrackingUriOption", "fail", "load_config", "parse_as_of"]

# Options several commands share, worded once.
# A path, or a database URL kept as text (a Path would fold its '//').
DataOption = Annotated[
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
TrackingUriOption = Annotated[
    str | None,
    typer.Option("--tracking-uri", help="MLflow tracking URI (default sqlite:///mlflow.db)."),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a message for a person on stderr and return the exit to raise."""
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def load_config(path: Path) -> RunConfig:
    """A run config, or defaults around a bare dataset config."""
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if (
            text
            and ("\ntables:" in f"\n{text}" or "\nmode: flat" in f"\n{text}")
            and "\ndataset:" not in f"\n{text}"
        ):
            return RunConfig(dataset=load_dataset_config(path), source=str(path))
        return load_run_config(path)
    except ConfigError as exc:
        raise fail(str(exc)) from exc


def parse_as_of(value: str | None) -> pd.Timestamp | None:
    """Parse a --as-of date; only the CLI reads the clock (when the value is 'now')."""
    if value is None:
        return None
    if value == "now":
        return pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise fail(f"--as-of: {value!r} is not a date (expected e.g. 2026-01-01 or 'now')") from exc
