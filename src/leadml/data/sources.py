"""Where the input tables come from: a folder of files, or a database.

``--data`` is a folder (or a flat file) as before, or a database URL:

* ``duckdb:///path/crm.duckdb`` (or just ``crm.duckdb``): a DuckDB database file,
  opened read-only;
* ``duckdb:///path/folder``: DuckDB's SQL over a folder of Parquet / CSV files, each
  file a view named after it (``Lead.csv`` -> ``Lead``), so a table's query can join,
  filter and union exports;
* ``postgresql://user@host:port/db``: a PostgreSQL server, read through ADBC (libpq's
  COPY into Arrow, no row-by-row cursor).

In the dataset config, each table names a ``query``: a SQL query, or just a table name
(``query: Lead`` reads ``select * from Lead``); without one, its ``file`` stem is the
table name. Results arrive as Arrow and become the same pandas frames a file gives.
Every error names the table, the query and the database (without its password).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DatabaseURL",
    "SourceError",
    "data_location",
    "is_database",
    "parse_database_url",
    "read_query",
    "redact",
    "table_query",
]

_SCHEMES = {"duckdb": "duckdb", "postgresql": "postgresql", "postgres": "postgresql"}
_DUCKDB_SUFFIXES = (".duckdb", ".ddb")
# A bare table name, maybe schema-qualified, maybe double-quoted: read as `select * from it`.
_IDENTIFIER = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+")'
_TABLE_NAME = re.compile(rf"{_IDENTIFIER}(?:\.{_IDENTIFIER}){{0,2}}")


class SourceError(ValueError):
    """A database could not be reached, or a query failed; the message names table and query."""


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed ``--data`` / ``--out`` database URL.

    ``target`` is what the driver connects to (a DuckDB path or folder, or the
    PostgreSQL URI without its fragment); ``table`` is the URL's ``#fragment``
    (the output table of ``score --out``).
    """

    kind: str  # "duckdb" or "postgresql"
    target: str
    table: str | None = None
    text: str = ""

    @property
    def shown(self) -> str:
        """The URL as messages show it: the password replaced by ``***``."""
        return redact(self.text)

    @property
    def is_folder(self) -> bool:
        return self.kind == "duckdb" and Path(self.target).is_dir()


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def is_database(data: str | Path | None) -> bool:
    """True for a database URL or a DuckDB file (``.duckdb``)."""
    if data is None or isinstance(data, pd.DataFrame):
        return False
    text = str(data)
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    return scheme in _SCHEMES or text.endswith(_DUCKDB_SUFFIXES)


def parse_database_url(data: str | Path) -> DatabaseURL:
    """Split a database URL into driver, target and output table.

    >>> parse_database_url("duckdb:///data/crm.duckdb#lead_scores")
    DatabaseURL(kind='duckdb', target='/data/crm.duckdb', table='lead_scores', ...)
    """
    text = str(data)
    body, _, fragment = text.partition("#")
    table = fragment or None
    if body.endswith(_DUCKDB_SUFFIXES) and ":" not in body.split("/", 1)[0]:
        return DatabaseURL("duckdb", body, table, text)
    scheme, _, rest = body.partition(":")
    kind = _SCHEMES.get(scheme.lower())
    if kind is None:
        raise ValueError(
            f"{redact(text)!r} is not a database URL; expected duckdb:///path/file.duckdb, "
            "duckdb:///path/folder or postgresql://user@host:port/database"
        )
    if kind == "duckdb":
        path = rest[2:] if rest.startswith("//") else rest  # duckdb:///abs -> /abs
        return DatabaseURL("duckdb", path or ":memory:", table, text)
    return DatabaseURL("postgresql", body, table, text)


def data_location(data: str | Path) -> str | Path:
    """``--data`` as code uses it: the URL text for a database, else a path."""
    return str(data) if is_database(data) else Path(data)


def table_query(query: str) -> str:
    """SQL for a table's ``query``: itself, or ``select * from`` a bare table name."""
    stripped = query.strip().rstrip(";").strip()
    if _TABLE_NAME.fullmatch(stripped):
        return f"select * from {stripped}"
    return stripped


# --- connections -----------------------------------------------------------------------
def _duckdb_folder_views(con: Any, folder: Path, *, sep: str, encoding: str) -> None:
    """One view per Parquet / CSV file of ``folder``, named after the file's stem."""
    seen: set[str] = set()
    for path in sorted(folder.iterdir()):
        name = path.name
        for suffix in (".parquet", ".csv.gz", ".csv"):
            if name.endswith(suffix):
                stem = name[: -len(suffix)]
                break
        else:
            continue
        if stem.lower() in seen:  # demo.parquet beside demo.csv: Parquet wins
            continue
        seen.add(stem.lower())
        quoted_path = str(path).replace("'", "''")
        if suffix == ".parquet":
            reader = f"read_parquet('{quoted_path}')"
        else:
            delim = sep.replace("'", "''")
            reader = (
                f"read_csv('{quoted_path}', header = true, delim = '{delim}', "
                f"encoding = '{encoding}')"
            )
        con.execute(f'create view "{stem.replace(chr(34), chr(34) * 2)}" as select * from {reader}')


@contextmanager
def connect(url: DatabaseURL, *, sep: str = ",", encoding: str = "utf-8") -> Iterator[Any]:
    """A DB-API connection to ``url`` (DuckDB or ADBC PostgreSQL), closed on exit."""
    try:
        if url.kind == "duckdb":
            import duckdb

            if url.is_folder:
                con = duckdb.connect(":memory:")
                _duckdb_folder_views(con, Path(url.target), sep=sep, encoding=encoding)
            else:
                if url.target != ":memory:" and not Path(url.target).is_file():
                    raise FileNotFoundError(f"no DuckDB database file {url.target}")
                con = duckdb.connect(url.target, read_only=True)
        else:
            import adbc_driver_postgresql.dbapi as pg

            con = pg.connect(url.target)
    except Exception as exc:  # driver errors have no common base class
        raise SourceError(f"cannot open {url.shown}: {_first_line(exc)}") from exc
    try:
        yield con
    finally:
        # a connection the server already dropped cannot be closed
        with suppress(Exception):
            con.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split("\n")[:3])


def _arrow(con: Any, url: DatabaseURL, sql: str) -> pa.Table:
    if url.kind == "duckdb":
        return con.sql(sql).to_arrow_table()
    with con.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_arrow_table()


def _plain_types(table: pa.Table) -> pa.Table:
    """Decimals as float64 (pandas would make Python objects of them); the rest as is."""
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, pc.cast(table.column(i), pa.float64()))
    return table


def read_query(con: Any, url: DatabaseURL, query: str, *, table: str, where: str) -> pd.DataFrame:
    """The result of one table's query as a pandas frame, columns as the database names them.

    ``where`` says where the query is declared (``tables.leads.query in dataset.yaml``).
    The frame's ``attrs["origin"]`` names the query, so later messages can too.
    """
    sql = table_query(query)
    try:
        result = _arrow(con, url, sql)
    except Exception as exc:
        raise SourceError(
            f"{table}: the query failed on {url.shown}: {_first_line(exc)}\n"
            f"  query ({where}): {sql}"
        ) from exc
    frame = _plain_types(result).to_pandas(split_blocks=True, self_destruct=True)
    frame.attrs["origin"] = f"query `{sql}` on {url.shown}"
    return frame
