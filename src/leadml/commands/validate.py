"""``leadml validate``: check the data contract and write a JSON report."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Placeholder until the command lands."""
