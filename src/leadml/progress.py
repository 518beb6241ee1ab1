"""Progress and log lines on stderr, for a person at a terminal or a log file under cron.

Library code reports through the ``leadml`` logger (:func:`say`, :func:`counter`);
only the command line attaches a handler (:func:`configure`), so a notebook or
another program that imports leadml prints nothing it did not ask for. On a
terminal, lines are plain and long jobs show a bar; without one (cron, CI, a
pipe), every line starts with a UTC timestamp and long jobs print a line every
10 % or 30 seconds. ``quiet`` keeps warnings and errors only. stdout is never
used: it carries the commands' machine-readable output.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["LOGGER_NAME", "configure", "counter", "quiet_mlflow", "say", "warn"]

LOGGER_NAME = "leadml"
_HANDLER_NAME = "leadml-cli"


class _UtcFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", self.converter(record.created))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is emitted (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ assigns it
        pass


def _is_terminal(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def configure(*, quiet: bool = False, stream: TextIO | None = None) -> logging.Logger:
    """Attach the command line's handler to the ``leadml`` logger (once; later calls update it).

    ``quiet``: warnings and errors only. Lines carry a UTC timestamp unless
    ``stream`` (default stderr) is a terminal.
    """
    stream = stream or sys.stderr
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream) if stream is not sys.stderr else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    if _is_terminal(stream):
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler.setFormatter(_UtcFormatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    quiet_mlflow()
    return logger


def quiet_mlflow() -> None:
    """MLflow's artifact progress bars and INFO lines off, unless the user asked for them.

    ``MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR`` and ``MLFLOW_LOGGING_LEVEL`` set in the
    environment win; the migrations' INFO lines (alembic) are silenced too.
    """
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    level = os.environ.get("MLFLOW_LOGGING_LEVEL", "WARNING").upper()
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(level)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", level)


def say(message: str) -> None:
    """One progress line (INFO): shown by the command line unless ``--quiet``."""
    logging.getLogger(LOGGER_NAME).info(message)


def warn(message: str) -> None:
    """A warning line: shown even with ``--quiet``."""
    logging.getLogger(LOGGER_NAME).warning(f"warning: {message}")


def counter(
    total: int, *, label: str, unit: str = "leads", min_seconds: float = 30.0
) -> tuple[Callable[[int], None], Callable[[], None]]:
    """Progress through ``total`` items: ``(advance, close)``.

    A rich bar on a terminal; otherwise a timestamped line at each 10 % step (or
    after ``min_seconds``, whichever comes first); nothing when quiet or when the
    command line did not configure output.
    """
    logger = logging.getLogger(LOGGER_NAME)
    handlers = [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]
    if total <= 0 or not handlers or not logger.isEnabledFor(logging.INFO):
        return (lambda n: None), (lambda: None)
    stream = getattr(handlers[0], "stream", sys.stderr)
    if _is_terminal(stream):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn(label),
            BarColumn(),
            TextColumn(f"{{task.completed:,}}/{{task.total:,}} {unit}"),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        )
        bar.start()
        task = bar.add_task(label, total=total)
        return (lambda n: bar.advance(task, n)), bar.stop

    state = {"done": 0, "step": 0, "last": time.monotonic(), "started": time.monotonic()}

    def advance(n: int) -> None:
        state["done"] += n
        step = int(10 * state["done"] / total)
        now = time.monotonic()
        if step > state["step"] or now - state["last"] >= min_seconds:
            state["step"], state["last"] = step, now
            rate = state["done"] / max(now - state["started"], 1e-9)
            logger.info(
                f"{label}: {state['done']:,}/{total:,} {unit} "
                f"({100 * state['done'] / total:.0f} %, {rate:,.0f} {unit}/s)"
            )

    return advance, (lambda: None)
