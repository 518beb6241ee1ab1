"""Publishing a scoring run to database tables, all or nothing.

``leadml score --out "postgresql://user@host/db#lead_scores"`` (or a DuckDB URL) writes
three tables in **one transaction**:

* ``lead_scores``: the scores, one row per scored lead (the columns of ``scores.parquet``);
* ``lead_scores_rejects``: ``as_of``, ``model_name``, ``lead_id``, ``reason``;
* ``lead_scores_manifest``: one row per run, with its counts and the manifest as JSON.

A run is keyed by ``(as_of, model_name)``: a re-run for the same date and model
replaces its own rows (same rows, no duplicates); runs for other dates or models
are kept. A failure anywhere -- a type the table refuses, a lost connection --
rolls the whole transaction back: no reader ever sees a half-written run, and a
table created by the failed run does not remain.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import pandas as pd
import pyarrow as pa

from leadml.data.sources import DatabaseURL, SourceError, parse_database_url

__all__ = ["publish_to_database", "score_table_names"]

_NAME = re.compile(r"(?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*")
_KEY = ("as_of", "model_name")


def score_table_names(url: DatabaseURL) -> dict[str, str]:
    """The three table names for the ``#table`` of an ``--out`` URL."""
    if url.table is None:
        raise ValueError(
            f"--out {url.shown}: name the scores table after '#', e.g. {url.shown}#lead_scores"
        )
    if not _NAME.fullmatch(url.table):
        raise ValueError(
            f"--out {url.shown}: table name {url.table!r} must be lower-case letters, digits and "
            "'_' (optionally schema.table), e.g. lead_scores or crm.lead_scores"
        )
    base = url.table
    return {"scores": base, "rejects": f"{base}_rejects", "manifest": f"{base}_manifest"}


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as Arrow with types both databases take (text as string, naive timestamps)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
            kind = pa.string()
        elif pa.types.is_timestamp(kind):
            kind = pa.timestamp("us")
        elif pa.types.is_null(kind):
            kind = pa.string()
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields))


def _run_frames(
    scores: pd.DataFrame, rejects: pd.DataFrame, manifest: dict[str, Any]
) -> dict[str, pd.DataFrame]:
    as_of = pd.Timestamp(manifest["as_of"])
    model_name = str(scores["model_name"].iloc[0]) if len(scores) else _model_name(manifest)
    scores = scores.assign(as_of=as_of, model_name=model_name)
    rejects = pd.DataFrame(
        {
            "as_of": pd.Series([as_of] * len(rejects), dtype="datetime64[us]"),
            "model_name": model_name,
            "lead_id": rejects["lead_id"].astype(str).to_numpy(),
            "reason": rejects["reason"].astype(str).to_numpy(),
        }
    )
    run = pd.DataFrame(
        {
            "as_of": [as_of],
            "model_name": [model_name],
            "scored_at": [pd.Timestamp(manifest.get("scored_at", pd.Timestamp.now()))],
            "n_in": [int(manifest["counts"]["in"])],
            "n_scored": [int(manifest["counts"]["scored"])],
            "n_rejected": [int(manifest["counts"]["rejected"])],
            "manifest": [json.dumps(manifest, sort_keys=True, default=str)],
        }
    )
    return {"scores": scores, "rejects": rejects, "manifest": run}


def _model_name(manifest: dict[str, Any]) -> str:
    main = manifest.get("models", {}).get("main", {})
    return str(main.get("name") or main.get("uri") or "leadml")


def _rows_sha256(frame: pd.DataFrame) -> str:
    return hashlib.sha256(
        pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    ).hexdigest()


# --- one transaction per engine ---------------------------------------------------------
_PG_TYPES = {
    "int8": "bigint",
    "int16": "bigint",
    "int32": "bigint",
    "int64": "bigint",
    "double": "double precision",
    "float": "double precision",
    "bool": "boolean",
    "string": "text",
    "timestamp[us]": "timestamp",
}


def _pg_columns(schema: pa.Schema, table: str) -> str:
    columns = []
    for field in schema:
        sql_type = _PG_TYPES.get(str(field.type))
        if sql_type is None:
            raise ValueError(f"{table}.{field.name}: no PostgreSQL type for Arrow {field.type}")
        columns.append(f'"{field.name}" {sql_type}')
    return ", ".join(columns)


def _existing_columns(cur: Any, table: str) -> list[str] | None:
    schema, _, name = table.rpartition(".")
    where = f"table_name = '{name}'" + (f" and table_schema = '{schema}'" if schema else "")
    cur.execute(
        f"select column_name from information_schema.columns where {where} order by ordinal_position"
    )
    rows = cur.fetchall()
    return [r[0] for r in rows] or None


def _check_columns(table: str, existing: list[str], incoming: Sequence[str]) -> None:
    if list(existing) != list(incoming):
        missing = [c for c in incoming if c not in existing]
        extra = [c for c in existing if c not in incoming]
        raise ValueError(
            f"table {table} exists with other columns than this run writes: the run adds "
            f"{missing}, the table has {extra} besides; write to a new table (--out ...#other_name) "
            "or drop the old one; nothing was written"
        )


@contextmanager
def _transaction(url: DatabaseURL) -> Iterator[Any]:
    """A cursor inside one transaction: committed on success, rolled back on any error."""
    try:
        if url.kind == "duckdb":
            import duckdb

            con = duckdb.connect(url.target)
            con.begin()
            cur = con
        else:
            import adbc_driver_postgresql.dbapi as pg

            con = pg.connect(url.target)  # autocommit off: one transaction until commit
            cur = con.cursor()
    except Exception as exc:
        raise SourceError(f"cannot open {url.shown} to write scores: {exc}") from exc
    try:
        yield cur
        con.commit()
    except BaseException:
        with suppress(Exception):  # a lost connection cannot roll back: the server does
            con.rollback()
        raise
    finally:
        with suppress(Exception):
            if cur is not con:
                cur.close()
            con.close()


def _write(cur: Any, url: DatabaseURL, table: str, data: pa.Table, key: tuple[Any, Any]) -> None:
    existing = _existing_columns(cur, table)
    if existing is None:
        if url.kind == "duckdb":
            cur.register("leadml_incoming", data)
            cur.execute(f"create table {table} as select * from leadml_incoming limit 0")
        else:
            cur.execute(f"create table {table} ({_pg_columns(data.schema, table)})")
    else:
        _check_columns(table, existing, data.schema.names)
    as_of, model = key
    stamp = pd.Timestamp(as_of).isoformat(sep=" ")
    quoted_model = str(model).replace("'", "''")
    cur.execute(
        f"delete from {table} where as_of = timestamp '{stamp}' and model_name = '{quoted_model}'"
    )
    if url.kind == "duckdb":
        cur.register("leadml_incoming", data)
        cur.execute(f"insert into {table} by name select * from leadml_incoming")
        cur.unregister("leadml_incoming")
    else:
        schema, _, name = table.rpartition(".")
        cur.adbc_ingest(name, data, mode="append", db_schema_name=schema or None)


def publish_to_database(
    out: str,
    *,
    scores: pd.DataFrame,
    rejects: pd.DataFrame,
    manifest: dict[str, Any],
    hook: Any = None,
) -> dict[str, Any]:
    """Write scores, rejects and the manifest to ``out``'s tables in one transaction.

    Returns the manifest with ``tables`` (names, row counts, a SHA-256 of the rows).
    ``hook(table)`` is called after each table is written, inside the transaction
    (tests use it to cut the connection half-way).
    """
    url = parse_database_url(out)
    names = score_table_names(url)
    frames = _run_frames(scores, rejects, manifest)
    key = (frames["manifest"]["as_of"].iloc[0], frames["manifest"]["model_name"].iloc[0])
    manifest = {
        **manifest,
        "tables": {
            role: {
                "name": names[role],
                "rows": int(len(frames[role])),
                "sha256": _rows_sha256(frames[role]),
            }
            for role in ("scores", "rejects")
        },
        "database": url.shown.split("#")[0],
    }
    frames["manifest"] = frames["manifest"].assign(
        manifest=json.dumps(manifest, sort_keys=True, default=str)
    )
    try:
        with _transaction(url) as cur:
            for role in ("scores", "rejects", "manifest"):
                _write(cur, url, names[role], _arrow(frames[role]), key)
                if hook is not None:
                    hook(names[role])
    except (SourceError, ValueError):
        raise
    except Exception as exc:
        raise SourceError(
            f"writing the scores to {url.shown} failed, nothing was written "
            f"(tables {', '.join(names.values())} are as before): {exc}"
        ) from exc
    return manifest
