"""Reading the input tables and writing outputs atomically.

This is an edge module: the rest of the package receives and returns frames.
Tables are read as the user wrote them and renamed onto the contract's column
names; typing and checks happen in :mod:`leadml.data.schema`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from leadml.config import TABLES, EventDataset, FlatDataset, TableSpec
from leadml.data.picklists import apply_value_rules
from leadml.data.sources import connect, is_database, parse_database_url, read_query

__all__ = [
    "Tables",
    "atomic_path",
    "contract_columns",
    "file_sha256",
    "find_table_file",
    "flat_values",
    "read_flat",
    "read_raw_tables",
    "write_frame_atomic",
    "write_json_atomic",
    "write_text_atomic",
]


@dataclass(frozen=True)
class Tables:
    """The five event-mode tables with contract column names."""

    accounts: pd.DataFrame
    leads: pd.DataFrame
    events: pd.DataFrame
    intent: pd.DataFrame
    outcomes: pd.DataFrame

    def items(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for f in fields(self):
            yield f.name, getattr(self, f.name)

    def replace(self, **frames: pd.DataFrame) -> Tables:
        """A copy with some tables swapped."""
        return Tables(**{**dict(self.items()), **frames})

    def without_leads(self, lead_ids: Iterable[Any]) -> Tables:
        """A copy without these leads and their events and outcomes (accounts and intent kept)."""
        bad = set(lead_ids)
        if not bad:
            return self
        return self.replace(
            **{
                name: frame[~frame["lead_id"].isin(bad)].reset_index(drop=True)
                for name, frame in (
                    ("leads", self.leads),
                    ("events", self.events),
                    ("outcomes", self.outcomes),
                )
            }
        )


def find_table_file(data_dir: Path, stem: str) -> Path:
    """``stem.parquet`` or ``stem.csv`` (or ``stem`` itself when it has a suffix)."""
    direct = data_dir / stem
    if direct.suffix in {".parquet", ".csv", ".gz"} and direct.is_file():
        return direct
    found = [
        data_dir / f"{stem}{suffix}"
        for suffix in (".parquet", ".csv", ".csv.gz")
        if (data_dir / f"{stem}{suffix}").is_file()
    ]
    if len(found) > 1:
        raise FileNotFoundError(
            f"table {stem!r}: both {' and '.join(p.name for p in found)} in {data_dir}; "
            "which one is current is not for leadml to guess: remove or rename the others"
        )
    if found:
        return found[0]
    raise FileNotFoundError(
        f"table {stem!r}: no {stem}.parquet or {stem}.csv in {data_dir} "
        f"(found: {sorted(p.name for p in data_dir.iterdir()) if data_dir.is_dir() else 'no such folder'})"
    )


def _check_parquet_text(path: Path) -> None:
    """Raise a ValueError naming the column when a Parquet text column holds bytes that are
    not UTF-8 (Arrow reads them unchecked; they would fail much later, unnamed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    text = [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    if not text:
        return
    table = pq.read_table(path, columns=text)
    for name in text:
        try:
            table.column(name).validate(full=True)
        except pa.ArrowInvalid as exc:
            raise ValueError(
                f"{path}: column {name!r} holds text that is not valid UTF-8 ({str(exc)[:80]}); "
                "re-export the table with UTF-8 text"
            ) from exc


def _read_any(path: Path, *, sep: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV or Parquet file as read, or a ValueError naming the file and what is wrong."""
    import codecs

    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable Parquet file ({str(exc)[:120]})") from exc
        _check_parquet_text(path)
        return frame
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ValueError(
            f"csv.encoding: {encoding!r} is not a known encoding (e.g. utf-8, latin-1, cp1252)"
        ) from exc
    try:
        return pd.read_csv(path, sep=sep, encoding=encoding, low_memory=False)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not valid {encoding} text ({exc.reason} at byte {exc.start}); set "
            "csv.encoding in the dataset config (e.g. latin-1) or re-export the file as UTF-8"
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path}: not a readable CSV file ({str(exc)[:120]})") from exc


def read_raw_tables(data_dir: str | Path, dataset: EventDataset) -> Tables:
    """Read the five tables, rename mapped columns to contract names, apply the value rules.

    Extra columns are kept. Placeholders, yes/no text and value maps declared
    per table (:class:`leadml.config.ValueRules`) are applied; nothing else is
    coerced: see ``leadml.data.schema``.
    """
    if is_database(data_dir):
        return _read_database_tables(str(data_dir), dataset)
    data_dir = Path(data_dir)
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        spec = dataset.tables[name]
        if spec.file is None:
            raise FileNotFoundError(
                f"table {name!r}: tables.{name} names a query ({spec.query!r}) but no file; "
                "give --data a database URL to run it"
            )
        path = find_table_file(data_dir, spec.file)
        frame = _read_any(path, sep=dataset.csv.sep, encoding=dataset.csv.encoding)
        frames[name] = contract_columns(frame, spec, table=name)
    return Tables(**frames)


def _query_of(spec: TableSpec | FlatDataset) -> str:
    """A table's query: the declared one, else its file's stem as a table name."""
    if spec.query is not None:
        return spec.query
    assert spec.file is not None  # a TableSpec has one or the other; see _flat_query
    name = Path(spec.file).name
    for suffix in (".parquet", ".csv.gz", ".csv"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _read_database_tables(url_text: str, dataset: EventDataset) -> Tables:
    url = parse_database_url(url_text)
    frames: dict[str, pd.DataFrame] = {}
    with connect(url, sep=dataset.csv.sep, encoding=dataset.csv.encoding) as con:
        for name in TABLES:
            spec = dataset.tables[name]
            where = f"tables.{name}.query" if spec.query else f"tables.{name}.file as a table name"
            frame = read_query(con, url, _query_of(spec), table=name, where=where)
            origin = frame.attrs.get("origin")
            frames[name] = contract_columns(frame, spec, table=name)
            frames[name].attrs["origin"] = origin
    return Tables(**frames)


def contract_columns(frame: pd.DataFrame, spec: TableSpec, *, table: str) -> pd.DataFrame:
    """A table as read, with mapped columns renamed to contract names and the value rules applied."""
    rename = {src: dst for dst, src in spec.columns.items() if src in frame.columns and src != dst}
    return apply_value_rules(
        frame.rename(columns=rename) if rename else frame,
        spec,
        table=table,
        where=f"tables.{table}",
        renamed=rename,
    )


def read_flat(path: str | Path, dataset: FlatDataset) -> pd.DataFrame:
    """Read a one-row-per-lead export (CSV with the configured separator, or Parquet) and
    apply its value rules (:func:`flat_values`)."""
    if is_database(path):
        if dataset.query is None and dataset.file is None:
            raise ValueError("the flat dataset config names no query (nor file) to read")
        url = parse_database_url(str(path))
        where = "query" if dataset.query else "file as a table name"
        with connect(url, sep=dataset.sep) as con:
            raw = read_query(con, url, _query_of(dataset), table="flat", where=where)
        return flat_values(raw, dataset)
    path = Path(path)
    if path.is_dir():
        if dataset.file is None:
            raise FileNotFoundError(f"{path} is a folder and the flat dataset config names no file")
        path = path / Path(dataset.file).name
    if not path.is_file():
        raise FileNotFoundError(f"flat dataset file not found: {path}")
    return flat_values(_read_any(path, sep=dataset.sep), dataset)


def flat_values(frame: pd.DataFrame, dataset: FlatDataset) -> pd.DataFrame:
    """A flat export with the config's placeholders, yes/no text and value maps applied."""
    return apply_value_rules(frame, dataset, table="flat", where="the flat dataset config")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    A crash (or exception) before the end leaves any previous ``path`` intact
    and removes the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600 files; outputs are meant to be read like any file the user writes.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_with(path: str | Path, write: Callable[[Path], Any]) -> Path:
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return _write_with(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """Write JSON (sorted keys, 2-space indent) atomically."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
    return write_text_atomic(path, text)


def write_frame_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame as Parquet or CSV (by suffix) atomically."""
    path = Path(path)
    if path.suffix == ".parquet":
        return _write_with(path, lambda tmp: frame.to_parquet(tmp, index=False))
    if path.suffix == ".csv":
        return _write_with(path, lambda tmp: frame.to_csv(tmp, index=False))
    raise ValueError(f"{path}: expected a .parquet or .csv suffix")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
