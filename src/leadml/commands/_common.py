"""Helpers shared by the command modules: config loading, dates, errors for people."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from leadml import config
from leadml.config import ConfigError, RunConfig
from leadml.data.sources import data_location
from leadml.data.timestamps import utc_now

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
        return config.load_config(path)
    except ConfigError as exc:
        raise fail(str(exc)) from exc


def parse_as_of(value: str | None) -> pd.Timestamp | None:
    """Parse a --as-of date; only the CLI reads the clock (when the value is 'now')."""
    if value is None:
        return None
    if value == "now":
        return utc_now()
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise fail(f"--as-of: {value!r} is not a date (expected e.g. 2026-01-01 or 'now')") from exc
