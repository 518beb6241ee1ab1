"""Benchmark reading the five tables from DuckDB and PostgreSQL beside the Parquet folder.

    flock /tmp/leadml-heavy.lock .venv/bin/python bench/bench_database.py \\
        --data /work/bigdata/crm1m          # 1M leads / ~50M events (leadml demo-data)

Each path reads every table of ``training/dataset.yaml`` into pandas frames with
contract column names (``leadml.data.io.read_raw_tables``), in a fresh process so its
peak memory is its own:

* ``parquet``: the folder of Parquet files (the reference);
* ``duckdb``: a DuckDB file holding the same tables (``duckdb:///<data>.duckdb``);
* ``duckdb-sql``: DuckDB SQL over the Parquet folder (``duckdb:///<data>``);
* ``postgresql``: a PostgreSQL server (Debian's binaries, a cluster kept in
  ``<data>-pg``) read through ADBC (libpq COPY into Arrow).

The DuckDB file and the PostgreSQL tables are built once and kept beside the data.
Prints rows/s and peak RSS per path, and the DuckDB / Parquet time ratio (target <= 2).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("accounts", "leads", "events", "intent", "outcomes")
PATHS = ("parquet", "duckdb", "duckdb-sql", "postgresql")


def _child(data: str) -> None:
    """Read the tables once; print seconds, rows and this process's peak RSS as JSON."""
    from leadml.config import load_dataset_config
    from leadml.data.io import read_raw_tables

    dataset = load_dataset_config(ROOT / "training" / "dataset.yaml")
    began = time.perf_counter()
    tables = read_raw_tables(data, dataset)
    seconds = time.perf_counter() - began
    rows = {name: len(frame) for name, frame in tables.items()}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss_gib": peak}))


def _duckdb_file(folder: Path) -> Path:
    import duckdb

    path = folder.with_suffix(".duckdb")
    if path.is_file():
        return path
    began = time.perf_counter()
    tmp = path.with_suffix(".duckdb.tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    for name in TABLES:
        con.execute(f"create table {name} as select * from read_parquet('{folder / name}.parquet')")
    con.close()
    tmp.rename(path)
    print(f"built {path} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return path


def _load_postgres(url: str, folder: Path) -> None:
    import adbc_driver_postgresql.dbapi as pg
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pg.connect(url) as con, con.cursor() as cur:
        cur.execute("select count(*) from information_schema.tables where table_name = 'loaded'")
        if cur.fetchone()[0]:
            return
        began = time.perf_counter()
        for name in TABLES:
            table = pq.read_table(folder / f"{name}.parquet")
            # dictionary (categorical) columns go in as text, as a CRM database holds them
            table = table.cast(
                pa.schema(
                    [
                        f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                        for f in table.schema
                    ]
                )
            )
            cur.adbc_ingest(name, table, mode="replace")
            print(f"loaded {name}: {table.num_rows:,} rows", file=sys.stderr)
        cur.execute("create table loaded (at timestamp)")
        con.commit()
        print(f"loaded PostgreSQL in {time.perf_counter() - began:.1f} s", file=sys.stderr)


def _run(data: str) -> dict:
    child = subprocess.run(
        [sys.executable, __file__, "--child", data], capture_output=True, text=True, check=False
    )
    if child.returncode != 0:
        raise RuntimeError(child.stderr)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("/work/bigdata/crm1m"))
    parser.add_argument("--paths", default=",".join(PATHS), help=f"comma-separated: {PATHS}")
    parser.add_argument("--repeat", type=int, default=2, help="runs per path (best time kept)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return

    folder = args.data.resolve()
    if not (folder / "events.parquet").is_file():
        print(f"generating {folder} (1M leads, once) ...", file=sys.stderr)
        subprocess.run(
            [str(Path(sys.executable).parent / "leadml"), "demo-data", "--out", str(folder),
             "--leads", "1000000", "--seed", "7"],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    wanted = [p for p in args.paths.split(",") if p]
    urls = {"parquet": str(folder), "duckdb-sql": f"duckdb://{folder}"}
    if "duckdb" in wanted:
        urls["duckdb"] = f"duckdb://{_duckdb_file(folder)}"
    results: dict[str, dict] = {}
    cluster = None
    if "postgresql" in wanted:
        sys.path.insert(0, str(ROOT / "tests"))
        from pgcluster import running_cluster

        cluster = running_cluster(folder.parent / f"{folder.name}-pg")
        urls["postgresql"] = cluster.__enter__()["url"]
        _load_postgres(urls["postgresql"], folder)
    try:
        for path in wanted:
            runs = [_run(urls[path]) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            best["peak_rss_gib"] = max(r["peak_rss_gib"] for r in runs)
            results[path] = best
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)

    print(
        f"reading {folder.name}: 2 cores, 24 GiB; best of {args.repeat} runs, each in a new process"
    )
    print(f"{'path':<12} {'seconds':>8} {'rows/s':>12} {'events rows/s':>14} {'peak RSS':>9}")
    for path, r in results.items():
        total = sum(r["rows"].values())
        print(
            f"{path:<12} {r['seconds']:8.2f} {total / r['seconds']:12,.0f} "
            f"{r['rows']['events'] / r['seconds']:14,.0f} {r['peak_rss_gib']:7.2f} GiB"
        )
    first = next(iter(results.values()))["rows"]
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in first.items()))
    if "parquet" in results:
        for path in results:
            if path != "parquet":
                ratio = results[path]["seconds"] / results["parquet"]["seconds"]
                target = " (target <= 2.0)" if path == "duckdb" else ""
                print(f"{path} / parquet time: {ratio:.2f}x{target}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
