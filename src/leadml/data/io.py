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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from leadml.config import TABLES, EventDataset, FlatDataset

__all__ = [
    "Tables",
    "atomic_path",
    "file_sha256",
    "find_table_file",
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


def find_table_file(data_dir: Path, stem: str) -> Path:
    """``stem.parquet`` or ``stem.csv`` (or ``stem`` itself when it has a suffix)."""
    direct = data_dir / stem
    if direct.suffix in {".parquet", ".csv", ".gz"} and direct.is_file():
        return direct
    for suffix in (".parquet", ".csv", ".csv.gz"):
        candidate = data_dir / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"table {stem!r}: no {stem}.parquet or {stem}.csv in {data_dir} "
        f"(found: {sorted(p.name for p in data_dir.iterdir()) if data_dir.is_dir() else 'no such folder'})"
    )


def _read_any(path: Path, *, sep: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep=sep, encoding=encoding, low_memory=False)


def read_raw_tables(data_dir: str | Path, dataset: EventDataset) -> Tables:
    """Read the five tables and rename mapped columns to contract names.

    Extra columns are kept. Nothing is coerced: see ``leadml.data.schema``.
    """
    data_dir = Path(data_dir)
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        spec = dataset.tables[name]
        path = find_table_file(data_dir, spec.file)
        frame = _read_any(path, sep=dataset.csv.sep, encoding=dataset.csv.encoding)
        rename = {
            src: dst for dst, src in spec.columns.items() if src in frame.columns and src != dst
        }
        frames[name] = frame.rename(columns=rename)
    return Tables(**frames)


def read_flat(path: str | Path, dataset: FlatDataset) -> pd.DataFrame:
    """Read a one-row-per-lead export as written (CSV with the configured separator, or Parquet)."""
    path = Path(path)
    if path.is_dir():
        if dataset.file is None:
            raise FileNotFoundError(f"{path} is a folder and the flat dataset config names no file")
        path = path / Path(dataset.file).name
    if not path.is_file():
        raise FileNotFoundError(f"flat dataset file not found: {path}")
    return _read_any(path, sep=dataset.sep)


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
