"""``leadml validate``: check the input tables against the data contract.

Prints a readable summary on stderr, writes the JSON report when asked, prints
one JSON line of counts on stdout, and exits 1 when there is any error (0 with
warnings only, 2 when the command itself is misused).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from leadml.commands._common import DataOption, exit_for, fail, load_config, parse_as_of

__all__ = ["register"]


def _missing_table_files(data: Path, dataset: Any) -> list[Any]:
    """One error issue per table file that is not in ``data``."""
    from leadml.data.io import find_table_file
    from leadml.data.schema import Issue

    issues = []
    for table, spec in dataset.tables.items():
        try:
            find_table_file(data, spec.file)
        except FileNotFoundError as exc:
            issues.append(Issue(table, None, "file", "error", 0, [], str(exc)))
    return issues


def _print_summary(report: Any, *, source: str) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(Text(f"leadml validate {source}", style="bold"))
    counts = " · ".join(f"{t} {n:,}" for t, n in report.row_counts.items())
    if counts:
        console.print(Text(f"rows: {counts}", style="dim"))
    for issue in (*report.errors, *report.warnings):
        style = "bold red" if issue.severity == "error" else "yellow"
        console.print(Text.assemble((f"{issue.severity:<8}", style), issue.message))
    n_rejected = len(report.rejected_leads())
    verdict = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)" + (
        f"; {n_rejected:,} lead(s) cannot be scored" if n_rejected else ""
    )
    if report.ok:
        console.print(
            Text("ok: " + verdict if report.issues else "ok: no issues found", style="green")
        )
    else:
        console.print(Text("failed: " + verdict, style="bold red"))


def validate(
    data: DataOption,
    config: Annotated[
        Path,
        typer.Option("--config", help="Dataset config, or a run config such as training/sql.yaml."),
    ] = Path("training/dataset.yaml"),
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Report timestamps after this date (e.g. 2026-01-01, 'now')."),
    ] = None,
    future_rows: Annotated[
        str,
        typer.Option(
            "--future-rows", help="Severity of rows after --as-of: error, warning or ignore."
        ),
    ] = "error",
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the JSON report here.")
    ] = None,
) -> None:
    """Check the tables against the data contract: columns, types, keys, vocabularies,
    stage order. Exits 1 on errors, 0 when there are only warnings."""
    from leadml.config import FlatDataset
    from leadml.data.io import read_flat, read_raw_tables, write_json_atomic
    from leadml.data.picklists import ValueRuleError
    from leadml.data.schema import ValidationReport, validate_flat, validate_tables
    from leadml.data.sources import SourceError, is_database, redact

    if future_rows not in ("error", "warning", "ignore"):
        raise fail(f"--future-rows: {future_rows!r}; expected error, warning or ignore")
    dataset = load_config(config).dataset
    when = parse_as_of(as_of)
    # Unreadable files (a bad CSV, a wrong encoding) are reported as such; anything
    # the contract checks raise past this point is a bug, not bad data.
    frame = raw = None
    try:
        if isinstance(dataset, FlatDataset):
            frame = read_flat(data, dataset)
        elif is_database(data) or not (missing := _missing_table_files(data, dataset)):
            raw = read_raw_tables(data, dataset)
    except (FileNotFoundError, SourceError, ValueRuleError) as exc:
        raise exit_for(exc) from exc
    except ValueError as exc:  # pandas' ParserError, UnicodeDecodeError, ArrowInvalid
        raise fail(f"{redact(str(data))}: could not read the tables: {exc}", code=1) from exc
    if frame is not None:
        result = validate_flat(frame, dataset, config_file=str(config))
    elif raw is None:
        result = ValidationReport(tuple(missing), {})
    else:
        result = validate_tables(
            raw, dataset, as_of=when, future_rows=future_rows, config_file=str(config)
        )

    _print_summary(result, source=redact(str(data)))
    payload = {
        "data": redact(str(data)),
        "config": str(config),
        "mode": "flat" if isinstance(dataset, FlatDataset) else "events",
        "as_of": None if when is None else when.isoformat(),
        **result.to_dict(),
    }
    if report is not None:
        write_json_atomic(report, payload)
    counts = {k: payload[k] for k in ("ok", "n_errors", "n_warnings", "n_rejected_leads")}
    print(json.dumps({**counts, "report": None if report is None else str(report)}))
    raise typer.Exit(0 if result.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
