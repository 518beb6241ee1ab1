"""``leadml demo-data``: a synthetic CRM with known ground truth.

Progress and the summary go to stderr; stdout gets one JSON object (the
output folder, the files and the funnel rates).
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leadml.commands._common import fail

__all__ = ["register"]


class FileFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


class ExportShape(StrEnum):
    contract = "contract"
    salesforce = "salesforce"
    hubspot = "hubspot"


def demo_data(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder to write the tables, truth.parquet and truth.json into."
        ),
    ],
    leads: Annotated[int, typer.Option("--leads", min=1, help="Number of leads.")] = 20_000,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed: the same seed gives identical files.")
    ] = 7,
    start: Annotated[
        str, typer.Option("--start", help="First day of the period (leads are created from it).")
    ] = "2023-01-01",
    months: Annotated[
        int,
        typer.Option("--months", min=1, help="Length of the period; nothing at or after its end."),
    ] = 36,
    file_format: Annotated[
        FileFormat, typer.Option("--format", help="File format of the five tables.")
    ] = FileFormat.parquet,
    shape: Annotated[
        ExportShape,
        typer.Option(
            "--shape",
            help=(
                "contract: the five tables; salesforce / hubspot: the same CRM as that CRM "
                "exports it (read with training/examples/<shape>.yaml)."
            ),
        ),
    ] = ExportShape.contract,
) -> None:
    """Generate a synthetic CRM (accounts, leads, events, intent, outcomes) whose true
    drivers are known, with the ground truth for the oracle (truth.parquet, truth.json)."""
    from leadml.synth import SynthSpec, write_demo_data

    try:
        spec = SynthSpec(n_leads=leads, seed=seed, start=start, months=months)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    began = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(
            f"\rgenerating: chunk {done}/{total} ({time.perf_counter() - began:.1f} s)",
            end="",
            file=sys.stderr,
            flush=True,
        )

    try:
        result = write_demo_data(out, spec, file_format=file_format.value, progress=progress)
        if shape is not ExportShape.contract:
            _reshape(out, shape)
    except OSError as exc:
        raise fail(f"cannot write into {out}: {exc}", code=1) from exc
    print(file=sys.stderr)
    f = result.funnel
    print(
        f"wrote {out}: {f['leads']:,} leads, {f['accounts']:,} accounts, {f['events']:,} events, "
        f"{f['intent_signals']:,} intent signals in {time.perf_counter() - began:.1f} s\n"
        f"funnel: MQL {f['mql_rate']:.1%}  SQL {f['sql_rate']:.1%}  won {f['won_rate']:.1%}  "
        f"(won | SQL {f['won_given_sql']:.1%}; demo requesters reach SQL {f['demo_request_sql_lift']}x as often)",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {"out": str(out), "files": {k: str(v) for k, v in result.files.items()}, "funnel": f}
        )
    )


def _reshape(out: Path, shape: ExportShape) -> None:
    """Replace the five contract tables in ``out`` by the CRM-shaped export (truth files stay)."""
    import pandas as pd

    from leadml.data.io import Tables, find_table_file
    from leadml.synth.exports import write_hubspot_export, write_salesforce_export

    paths = {name: find_table_file(out, name) for name in Tables.__dataclass_fields__}
    tables = Tables(
        **{
            name: pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
            for name, path in paths.items()
        }
    )
    for path in paths.values():
        path.unlink()
    writer = write_salesforce_export if shape is ExportShape.salesforce else write_hubspot_export
    writer(tables, out)


def register(app: typer.Typer) -> None:
    app.command("demo-data")(demo_data)
