"""``leadml demo-data``: a synthetic CRM with known ground truth."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Placeholder until the command lands."""
