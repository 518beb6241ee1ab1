"""``leadml promote``: move the `champion` alias through the promotion gate, or roll back."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from leadml.commands import options
from leadml.commands._common import exit_for, load_config

__all__ = ["register"]


def promote(
    model: Annotated[str, typer.Option("--model", help="Registered model name, e.g. leadml-sql.")],
    version: Annotated[
        str | None, typer.Option("--version", help="Move champion to this version (rollback).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Skip the gate (recorded as a tag).")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="Run config holding the promotion margins.")
    ] = None,
    tracking_uri: options.TrackingUri = None,
) -> None:
    """Promote the challenger to champion if it beats the champion and the rule baseline
    on its out-of-time test part by the configured margins (each gain > 0) and is
    calibrated; otherwise refuse. The numbers compared go to stderr as text and to
    stdout as JSON."""
    from leadml import tracking

    margins = load_config(config).promotion if config is not None else None
    try:
        decision = tracking.promote(
            model, version=version, force=force, margins=margins, uri=tracking_uri
        )
    except ValueError as exc:
        raise exit_for(exc) from exc
    print(decision.message(), file=sys.stderr)
    print(json.dumps(decision.to_dict()))
    if not decision.promoted:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("promote")(promote)
