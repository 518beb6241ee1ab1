"""The ``leadml`` command line: one small module per command under ``leadml.commands``.

Progress and logs go to stderr; stdout stays machine-readable.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="leadml",
    help="Calibrated, point-in-time, explained B2B lead scoring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module exposes ``register(app)``; the order is the order of `leadml --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "demo_data",
    "validate",
    "build_training_set",
    "audit",
    "baseline",
    "train",
    "backtest",
    "promote",
    "explain",
    "score",
    "report",
    "summarize",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"leadml.commands.{_name}").register(app)


def main() -> None:  # pragma: no cover - console entry point
    app()
