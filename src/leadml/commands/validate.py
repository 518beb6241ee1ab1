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

from leadml.commands import options
from leadml.commands._common import exit_for, fail, load_config, parse_as_of

__all__ = ["register"]


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
    data: options.Data,
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
    report: options.Report = None,
) -> None:
    """Check the tables against the data contract: columns, types, keys, vocabularies,
    stage order. Exits 1 on errors, 0 when there are only warnings."""
    from leadml.data.io import write_json_atomic
    from leadml.data.picklists import ValueRuleError
    from leadml.data.sources import SourceError, redact
    from leadml.pointintime.dataset import dataset_for

    if future_rows not in ("error", "warning", "ignore"):
        raise fail(f"--future-rows: {future_rows!r}; expected error, warning or ignore")
    dataset = dataset_for(load_config(config))
    when = parse_as_of(as_of)
    # Unreadable files (a bad CSV, a wrong encoding) are reported as such; the contract
    # checks report what is wrong with readable data.
    try:
        result = dataset.validate(
            data, as_of=when, future_rows=future_rows, config_file=str(config)
        )
    except (FileNotFoundError, SourceError, ValueRuleError) as exc:
        raise exit_for(exc) from exc
    except ValueError as exc:  # pandas' ParserError, UnicodeDecodeError, ArrowInvalid
        raise fail(f"{redact(str(data))}: could not read the tables: {exc}", code=1) from exc

    _print_summary(result, source=redact(str(data)))
    payload = {
        "data": redact(str(data)),
        "config": str(config),
        "mode": dataset.name,
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
