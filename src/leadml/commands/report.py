"""``leadml report``: the scored queue as lead cards, one self-contained HTML page for sales reps."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from leadml.commands import options
from leadml.commands._common import exit_for, load_config
from leadml.vocabulary import LANGS

__all__ = ["register"]


ReportLang = StrEnum("ReportLang", {lang: lang for lang in LANGS})


def _read_scores(folder: Path) -> pd.DataFrame:
    for name in ("scores.parquet", "scores.csv"):
        path = folder / name
        if path.is_file():
            return (
                pd.read_parquet(path)
                if path.suffix == ".parquet"
                else pd.read_csv(path, low_memory=False)
            )
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else "no such folder"
    raise FileNotFoundError(
        f"--scores: no scores.parquet or scores.csv in {folder} (found: {found})"
    )


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        print(
            f"warning: no manifest.json in {folder}; the page shows what the scores hold",
            file=sys.stderr,
        )
        return {}
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(manifest).__name__}")
    return manifest


def report(
    scores: Annotated[Path, typer.Option("--scores", help="Folder written by `leadml score`.")],
    data: options.Data,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only the leads of this sales rep.")
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=1, help="Only the N most likely leads.")
    ] = None,
    lang: Annotated[
        ReportLang, typer.Option("--lang", help="Language of the page: en or fr.")
    ] = ReportLang.en,
    config: options.DatasetConfig = Path("training/dataset.yaml"),
    activities: Annotated[
        int, typer.Option("--activities", min=0, help="Latest activities per card.")
    ] = 5,
    allow_incomplete: Annotated[
        bool,
        typer.Option(
            "--allow-incomplete",
            help="Build the page from a scores folder that is not one complete run (no _SUCCESS, "
            "a checksum or date mismatch); the page says so.",
        ),
    ] = False,
) -> None:
    """Write the scored queue as lead cards: one HTML file that opens anywhere, with no network."""
    from leadml.data.io import write_text_atomic
    from leadml.pointintime.dataset import dataset_for
    from leadml.report import build_report
    from leadml.scoring.publish import IncompleteOutputError, verify_output_folder

    if scores.is_dir():
        _, problems = verify_output_folder(scores)
        if problems and not allow_incomplete:
            raise IncompleteOutputError(
                f"--scores {scores} is not one complete scoring run: {'; '.join(problems[:3])}; "
                "rerun `leadml score`, or pass --allow-incomplete to build the page anyway"
            )
        for problem in problems:
            print(f"warning: --scores {scores}: {problem}", file=sys.stderr)
    else:
        problems = []
    try:
        frame = _read_scores(scores)
        manifest = _read_manifest(scores)
        if problems:
            manifest = {**manifest, "incomplete": problems}
        leads, accounts, events = dataset_for(load_config(config)).report_tables(data)
        page = build_report(
            frame,
            leads,
            accounts,
            events,
            manifest=manifest,
            owner=owner,
            top=top,
            lang=lang.value,
            latest_activities_n=activities,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise exit_for(exc) from exc
    write_text_atomic(out, page)
    print(f"lead cards: {len(page) / 1e6:.1f} MB written to {out}", file=sys.stderr)
    print(out)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
