"""The ``leadml`` command line: one small module per command under ``leadml.commands``.

Progress and logs go to stderr; stdout stays machine-readable.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from leadml import __version__
from leadml.commands._common import one_line_errors

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
    "tune",
    "backtest",
    "promote",
    "explain",
    "score",
    "report",
    "summarize",
)


def _print_version(value: bool) -> None:
    if value:
        print(f"leadml {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            envvar="LEADML_QUIET",
            help="Warnings and errors only on stderr: no progress (before the command: "
            "`leadml --quiet score …`).",
        ),
    ] = False,
) -> None:
    """Calibrated, point-in-time, explained B2B lead scoring.

    Progress goes to stderr (timestamped when stderr is not a terminal), results to stdout.
    """
    from leadml.progress import configure

    configure(quiet=quiet)


for _name in COMMAND_MODULES:
    importlib.import_module(f"leadml.commands.{_name}").register(app)
# Every command turns the errors it can foresee into one line and a distinct exit code.
for _command in app.registered_commands:
    _command.callback = one_line_errors(_command.callback)


def main() -> None:  # pragma: no cover - console entry point
    app()
