"""``leadml build-training-set``: the point-in-time training set as one Parquet file."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from leadml.commands import options
from leadml.commands._common import exit_for, fail, load_config

__all__ = ["format_summary", "register"]


def format_summary(summary: dict[str, Any]) -> str:
    """A few human lines: sizes, date ranges, censored and purged counts."""
    lines = [
        f"mode {summary.get('mode')} · target {summary.get('target')}"
        + (f" within {summary['horizon_days']} days" if "horizon_days" in summary else ""),
        f"snapshots {summary.get('n_snapshots', 0):,} · censored {summary.get('censored', 0):,} · "
        f"purged {summary.get('purged', 0):,} · kept {summary.get('n_rows', 0):,} "
        f"({summary.get('positives', 0):,} positives) · data end {summary.get('data_end')}",
    ]
    for part in ("train", "valid", "calib", "test"):
        p = summary.get(part) or {}
        rate = p.get("rate")
        lines.append(
            f"  {part:<5} {p.get('n', 0):>10,} rows  {p.get('positives', 0):>8,} positives  "
            f"rate {'-' if rate is None else f'{rate:.2%}':>7}  as_of {p.get('as_of_min')} → {p.get('as_of_max')}"
        )
    unseen = summary.get("unseen_categories_after_train") or {}
    if unseen:
        shown = ", ".join(f"{k} ({v['count']:,})" for k, v in unseen.items())
        lines.append(
            f"  categories first seen after the train part (missing for the model): {shown}"
        )
    return "\n".join(lines)


def build_training_set_command(
    data: options.Data,
    config: options.Config,
    out: Annotated[Path, typer.Option("--out", help="Output file (.parquet or .csv).")],
) -> None:
    """Snapshots, labels, out-of-time split and features, written as one file (keys, split, label, features)."""
    from leadml.data.io import write_frame_atomic
    from leadml.pointintime.trainingset import build_training_set

    run_config = load_config(config)
    if out.suffix not in (".parquet", ".csv"):
        raise fail(f"--out: expected a .parquet or .csv file, got {out}")
    started = time.perf_counter()
    try:
        training_set = build_training_set(run_config, data)
    except (FileNotFoundError, ValueError) as exc:
        raise exit_for(exc) from exc
    write_frame_atomic(training_set.frame, out)
    print(format_summary(training_set.summary), file=sys.stderr)
    print(
        f"wrote {len(training_set.frame):,} rows × {len(training_set.spec)} features to {out} "
        f"in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    print(json.dumps({"out": str(out), **training_set.summary}, default=str))


def register(app: typer.Typer) -> None:
    app.command("build-training-set")(build_training_set_command)
