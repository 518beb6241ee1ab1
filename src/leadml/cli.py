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


def main(argv: list[str] | None = None) -> None:
    """The console entry point: usage errors (a bad option value, an unknown command) in one
    ``error:`` line naming the fix, exit 2, like every other foreseen error."""
    import sys

    usage_error = typer.BadParameter.__mro__[1]  # typer's own click UsageError

    try:
        code = app(args=argv, prog_name="leadml", standalone_mode=False)
    except usage_error as error:
        where = error.ctx.command_path if error.ctx is not None else "leadml"
        print(f"error: {error.format_message()} (see `{where} --help`)", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
