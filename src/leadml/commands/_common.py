"""Helpers shared by the command modules: config loading, dates, errors for people."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import click
import pandas as pd
import typer

from leadml import config
from leadml.config import ConfigError, RunConfig
from leadml.data.sources import data_location
from leadml.data.timestamps import utc_now

__all__ = [
    "EXIT_CODES",
    "DataOption",
    "TrackingUriOption",
    "exit_for",
    "fail",
    "load_config",
    "one_line_errors",
    "parse_as_of",
]

# Every exit code of `leadml`, documented in README.md ("Exit codes").
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "the input data breaks the contract (or a whole table is unusable); promote: the gate refused",
    2: "usage or config error (an option, a config file or value)",
    3: "score --fail-on-drift: drift above the threshold (outputs written)",
    4: "model not found (unknown store, model, alias, version or URI)",
    5: "--out is locked by another running job",
    6: "report: the scores folder is not one complete run",
    7: "a model artifact is damaged or was changed (checksum, format)",
    8: "the output cannot be written (read-only, disk full, not a folder)",
    70: "internal error (a bug: please report it with LEADML_DEBUG=1's traceback)",
    130: "interrupted (Ctrl-C)",
}
MAX_LINE = 1000
MAX_LINES = 12

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


def _capped(message: str) -> str:
    """At most MAX_LINES lines of at most MAX_LINE characters: a 10 MB value is not echoed."""
    lines = str(message).splitlines() or [""]
    out = [
        line
        if len(line) <= MAX_LINE
        else f"{line[:MAX_LINE]}… ({len(line) - MAX_LINE:,} more characters)"
        for line in lines[:MAX_LINES]
    ]
    if len(lines) > MAX_LINES:
        out.append(f"… and {len(lines) - MAX_LINES} more lines")
    return "\n".join(out)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a message for a person on stderr and return the exit to raise."""
    print(f"error: {_capped(message)}", file=sys.stderr)
    return typer.Exit(code)


def exit_code_of(exc: BaseException) -> int | None:
    """The exit code for an error leadml foresees, or None for an unexpected one."""
    from leadml.modeling.scorer import ModelArtifactError, ModelNotFoundError
    from leadml.scoring.publish import IncompleteOutputError, OutputLockedError, OutputWriteError

    if isinstance(exc, ModelArtifactError):
        return 7
    if isinstance(exc, ModelNotFoundError):
        return 4
    if isinstance(exc, OutputLockedError):
        return 5
    if isinstance(exc, IncompleteOutputError):
        return 6
    if isinstance(exc, OutputWriteError):
        return 8
    if isinstance(exc, ConfigError):
        return 2
    if (
        isinstance(exc, OSError)
        and exc.errno in _WRITE_ERRNOS
        and not isinstance(exc, FileNotFoundError)
    ):
        return 8
    if isinstance(exc, ValueError | FileNotFoundError | LookupError | RuntimeError | OSError):
        return 1
    return None


def _write_errnos() -> frozenset[int]:
    import errno

    return frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})


_WRITE_ERRNOS = _write_errnos()


def exit_for(exc: BaseException) -> typer.Exit:
    """Print ``exc`` as a message for a person and return the exit with its code."""
    from leadml.scoring.publish import OutputWriteError

    code = exit_code_of(exc)
    if isinstance(exc, UnicodeDecodeError):
        message = (
            f"text that is not valid UTF-8 ({exc.reason} at byte {exc.start}): set csv.encoding "
            "in the dataset config, or fix the bytes"
        )
    elif isinstance(exc, OSError) and not isinstance(exc, OutputWriteError) and exc.filename:
        message = f"{exc.filename}: {exc.strerror or exc}"
    else:
        message = str(exc)
    return fail(message or type(exc).__name__, code=1 if code is None else code)


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command so a foreseen error prints one line and exits with its code.

    An unexpected error says it is a bug (exit 70); ``LEADML_DEBUG=1`` shows the traceback.
    """

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.ClickException):
            raise
        except KeyboardInterrupt:
            raise fail("interrupted", code=130) from None
        except Exception as exc:
            if os.environ.get("LEADML_DEBUG"):
                raise
            if exit_code_of(exc) is not None:
                raise exit_for(exc) from exc
            raise fail(
                f"unexpected {type(exc).__name__}: {exc} (a bug in leadml: please report it with "
                "the traceback shown by LEADML_DEBUG=1)",
                code=70,
            ) from exc

    return wrapped


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
