"""The synthetic CRM in memory (tests, notebooks) and on disk (``leadml demo-data``).

Both go through the same chunks, so ``generate_crm(spec)`` equals what
``write_demo_data(out, spec)`` writes, row for row.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leadml.data.io import Tables, atomic_path, write_json_atomic
from leadml.synth.generator import (
    ChunkTables,
    FunnelCounts,
    SynthSpec,
    funnel_rates,
    iter_chunks,
    n_chunks,
)
from leadml.synth.truth import describe_truth

__all__ = ["DemoData", "SyntheticCRM", "TABLE_NAMES", "generate_crm", "write_demo_data"]

TABLE_NAMES: tuple[str, ...] = ("accounts", "leads", "events", "intent", "outcomes")


@dataclass(frozen=True)
class SyntheticCRM:
    """The five contract tables, the per-lead truth and the truth's description."""

    accounts: pd.DataFrame
    leads: pd.DataFrame
    events: pd.DataFrame
    intent: pd.DataFrame
    outcomes: pd.DataFrame
    truth: pd.DataFrame
    info: dict[str, Any]

    def tables(self) -> Tables:
        """The contract tables alone (no truth), as the pipeline reads them."""
        return Tables(self.accounts, self.leads, self.events, self.intent, self.outcomes)


@dataclass(frozen=True)
class DemoData:
    """What ``write_demo_data`` wrote."""

    out_dir: Path
    files: dict[str, Path]
    info: dict[str, Any]

    @property
    def funnel(self) -> dict[str, Any]:
        return self.info["funnel"]


def _info(spec: SynthSpec, counts: FunnelCounts) -> dict[str, Any]:
    return describe_truth(
        seed=spec.seed,
        n_leads=spec.n_leads,
        start=spec.start_ts.isoformat(),
        end=spec.end_ts.isoformat(),
        months=spec.months,
        params=spec.params,
        funnel=funnel_rates(counts),
    )


def generate_crm(spec: SynthSpec) -> SyntheticCRM:
    """Generate the whole CRM in memory (for up to a few hundred thousand leads).

    >>> crm = generate_crm(SynthSpec(n_leads=1000, seed=7))  # doctest: +SKIP
    """
    parts: dict[str, list[pa.Table]] = {name: [] for name in (*TABLE_NAMES, "truth")}
    counts = FunnelCounts()
    for chunk in iter_chunks(spec):
        for name in parts:
            parts[name].append(getattr(chunk, name))
        counts.add(chunk.counts)
    frames = {name: pa.concat_tables(tables).to_pandas() for name, tables in parts.items()}
    return SyntheticCRM(**frames, info=_info(spec, counts))


class _TableSink:
    """Appends chunks to one Parquet (row groups) or CSV file."""

    def __init__(self, path: Path, file_format: Literal["parquet", "csv"]) -> None:
        self.path = path
        self.file_format = file_format
        self.writer: pq.ParquetWriter | pacsv.CSVWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.file_format == "csv":
            table = _csv_ready(table)
        if self.writer is None:
            if self.file_format == "parquet":
                self.writer = pq.ParquetWriter(self.path, table.schema, compression="snappy")
            else:
                self.writer = pacsv.CSVWriter(self.path, table.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps to whole seconds ('2023-01-01 08:30:00'); everything else as is."""
    columns = [
        col.cast(pa.timestamp("s")) if pa.types.is_timestamp(col.type) else col
        for col in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _write_chunk(sinks: dict[str, _TableSink], chunk: ChunkTables) -> None:
    for name, sink in sinks.items():
        sink.write(getattr(chunk, name))


def write_demo_data(
    out_dir: str | Path,
    spec: SynthSpec,
    *,
    file_format: Literal["parquet", "csv"] = "parquet",
    progress: Callable[[int, int], None] | None = None,
) -> DemoData:
    """Write the five tables, ``truth.parquet`` and ``truth.json`` into ``out_dir``.

    Chunks are streamed (Parquet row groups, or appended CSV) so memory stays
    bounded; each file appears atomically when complete. ``progress(done,
    total)`` is called after each chunk. The truth is always Parquet.
    """
    if file_format not in ("parquet", "csv"):
        raise ValueError(f"file_format must be 'parquet' or 'csv'; got {file_format!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {name: out_dir / f"{name}.{file_format}" for name in TABLE_NAMES}
    files["truth"] = out_dir / "truth.parquet"
    total = n_chunks(spec)
    counts = FunnelCounts()
    with ExitStack() as stack:
        sinks: dict[str, _TableSink] = {}
        for name, path in files.items():
            tmp = stack.enter_context(atomic_path(path))
            sink = _TableSink(tmp, "parquet" if name == "truth" else file_format)
            stack.callback(sink.close)  # closed before its atomic rename (LIFO)
            sinks[name] = sink
        # one writer thread: Arrow encodes chunk k (without the GIL) while numpy draws chunk k + 1
        pool = stack.enter_context(
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-data-writer")
        )
        pending: Future[None] | None = None
        for done, chunk in enumerate(iter_chunks(spec), start=1):
            if pending is not None:
                pending.result()
            pending = pool.submit(_write_chunk, sinks, chunk)
            counts.add(chunk.counts)
            del chunk
            if progress is not None:
                progress(done, total)
        if pending is not None:
            pending.result()
        info = _info(spec, counts)
        # before the tables' renames: a failure here leaves no new table behind
        files["truth_json"] = write_json_atomic(out_dir / "truth.json", info)
    return DemoData(out_dir=out_dir, files=files, info=info)
