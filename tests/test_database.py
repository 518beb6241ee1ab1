"""A real database as source and sink: DuckDB (embedded) and PostgreSQL (a throwaway server).

For each engine: the demo CRM is loaded as tables, then ``validate`` -> ``train`` ->
``score --out <database>#lead_scores`` -> read back, compared with the same steps on
the Parquet folder. Errors name the table, the query and the column; a lost
connection leaves no partial scores table.

Run alone with ``.venv/bin/pytest -q tests/test_database.py``.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pgcluster import POSTGRES_MISSING, postgres_bin, throwaway_cluster
from typer.testing import CliRunner

from leadml.config import RunConfig
from leadml.data.sources import SourceError

AS_OF = pd.Timestamp("2026-01-01")
TABLES = ("accounts", "leads", "events", "intent", "outcomes")


# --- the two databases, holding the same small CRM -------------------------------------
@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    from leadml.synth import SynthSpec, write_demo_data

    folder = tmp_path_factory.mktemp("db_crm") / "data"
    write_demo_data(folder, SynthSpec(n_leads=2000, seed=5))
    return folder


def _frames(folder) -> dict[str, pd.DataFrame]:
    return {t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}


@pytest.fixture(scope="module")
def duckdb_url(crm, tmp_path_factory) -> str:
    import duckdb

    path = tmp_path_factory.mktemp("duck") / "crm.duckdb"
    con = duckdb.connect(str(path))
    for name, frame in _frames(crm).items():
        con.register("frame", frame)
        con.execute(f"create table {name} as select * from frame")
        con.unregister("frame")
    con.close()
    return f"duckdb://{path}"


@pytest.fixture(scope="module")
def postgres_server():
    if postgres_bin() is None:
        pytest.skip(POSTGRES_MISSING)
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def postgres_url(crm, postgres_server) -> str:
    import adbc_driver_postgresql.dbapi as pg

    url = postgres_server["url"]
    with pg.connect(url) as con, con.cursor() as cur:
        for name, frame in _frames(crm).items():
            cur.adbc_ingest(name, pa.Table.from_pandas(frame, preserve_index=False), mode="create")
        con.commit()
    return url


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def database(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="module")
def champion_uri(champion, tracking_uri) -> str:
    """The session's demo champion (conftest), to score the small CRM with."""
    return tracking_uri


@pytest.fixture(scope="module")
def files_report(crm, sql_config):
    """The training report of the same data read from the Parquet folder."""
    from leadml.modeling.training_run import run_training

    return run_training(_quick(sql_config), crm, log_to_mlflow=False)


def _quick(config: RunConfig) -> RunConfig:
    model = config.model.model_copy(update={"num_boost_round": 60})
    return config.model_copy(update={"model": model})


def _read_back(url: str, sql: str) -> pd.DataFrame:
    if url.startswith("duckdb"):
        import duckdb

        con = duckdb.connect(url.removeprefix("duckdb://").split("#")[0], read_only=True)
        try:
            return con.sql(sql).to_df()
        finally:
            con.close()
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url.split("#")[0]) as con, con.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_arrow_table().to_pandas()


# --- validate -> train -> score -> read back ---------------------------------------------
@pytest.mark.slow
def test_validate_train_and_score_from_a_database_match_the_parquet_folder(
    database, crm, sql_config, champion_uri, files_report, tmp_path
):
    from leadml.cli import app
    from leadml.modeling.training_run import run_training
    from leadml.scoring.batch import run_scoring

    validated = CliRunner().invoke(
        app, ["validate", "--data", database, "--config", "training/dataset.yaml"]
    )
    assert validated.exit_code == 0, validated.output
    assert json.loads(validated.stdout.strip().splitlines()[-1])["n_errors"] == 0

    from_db = run_training(_quick(sql_config), database, log_to_mlflow=False)
    from_files = files_report
    assert from_db["sizes"]["n_rows"] == from_files["sizes"]["n_rows"] > 5000
    assert from_db["model"]["roc_auc"] == from_files["model"]["roc_auc"]
    assert 0.75 <= from_db["model"]["roc_auc"] <= 0.95

    out = f"{database}#lead_scores"
    options = dict(
        config=RunConfig(dataset=sql_config.dataset),
        model_uri="models:/leadml-sql@champion",
        as_of=AS_OF,
        tracking_uri=champion_uri,
        progress=False,
        log_to_mlflow=False,
    )
    first = run_scoring(database, out_dir=out, **options)
    again = run_scoring(database, out_dir=out, **options)  # a re-run replaces its own rows
    files = run_scoring(crm, out_dir=tmp_path / "scores", **options)
    assert first["counts"] == again["counts"] == files["counts"]

    stored = _read_back(out, "select * from lead_scores order by lead_id")
    expected = pd.read_parquet(tmp_path / "scores" / "scores.parquet")
    # the demo CRM recycles leads dormant for 90 days: a few hundred stay open at the end
    assert len(stored) == len(expected) == files["counts"]["scored"] > 300
    assert stored["lead_id"].tolist() == expected["lead_id"].tolist()
    np.testing.assert_allclose(stored["probability"], expected["probability"], rtol=0, atol=0)
    assert stored["reasons"].tolist() == expected["reasons"].tolist()
    runs = _read_back(out, "select n_in, n_scored, n_rejected, manifest from lead_scores_manifest")
    assert len(runs) == 1 and runs["n_scored"].iloc[0] == len(expected)
    assert json.loads(runs["manifest"].iloc[0])["tables"]["scores"]["rows"] == len(expected)


@pytest.mark.slow
def test_score_command_writes_to_a_database_table(database, champion_uri, tmp_path):
    from leadml.cli import app

    out = f"{database}#cli_scores"
    result = CliRunner().invoke(
        app,
        [
            "score", "--data", database, "--config", "training/dataset.yaml",
            "--as-of", "2026-01-01", "--out", out, "--tracking-uri", champion_uri, "--no-mlflow",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout.strip().splitlines()[-1])["counts"]
    stored = _read_back(out, "select count(*) as n, count(distinct lead_id) as d from cli_scores")
    assert stored["n"].iloc[0] == stored["d"].iloc[0] == counts["scored"] > 300


# --- errors name the table, the query and the column ---------------------------------------
def _dataset_with(sql_config, table: str, query: str):
    tables = {**sql_config.dataset.tables}
    tables[table] = tables[table].model_copy(update={"query": query})
    return sql_config.dataset.model_copy(update={"tables": tables})


def test_a_failing_query_names_the_table_the_query_and_the_database(database, sql_config):
    from leadml.data.io import read_raw_tables

    dataset = _dataset_with(sql_config, "leads", "select lead_id, created_at from no_such_table")
    with pytest.raises(SourceError) as caught:
        read_raw_tables(database, dataset)
    message = str(caught.value)
    assert message.startswith("leads: the query failed on ")
    assert "no_such_table" in message
    assert "query (tables.leads.query): select lead_id, created_at from no_such_table" in message


def test_a_missing_column_in_a_query_result_names_table_query_and_column(database, sql_config):
    from leadml.data.schema import load_tables

    query = "select lead_id, account_id, source from leads"
    tables, report = load_tables(database, _dataset_with(sql_config, "leads", query))
    [missing] = [i for i in report.errors if i.check == "columns"]
    assert missing.table == "leads" and missing.column == "created_at"
    assert missing.message.startswith("leads: required column 'created_at' is missing")
    assert f"the leads table comes from query `{query}`" in missing.message


def test_a_wrong_type_in_a_query_result_names_table_query_and_column(database, sql_config):
    from leadml.data.schema import load_tables

    query = (
        "select lead_id, account_id, 'not a date' as created_at from leads where lead_id % 100 = 0 "
        "union all select lead_id, account_id, created_at::varchar from leads where lead_id % 100 <> 0"
    )
    _, report = load_tables(database, _dataset_with(sql_config, "leads", query))
    [wrong] = [i for i in report.errors if i.check == "type"]
    assert (wrong.table, wrong.column) == ("leads", "created_at") and wrong.n_rows == 20
    assert "leads.created_at: 1 value is not a parseable timestamp: 'not a date' (20 rows)" in (
        wrong.message
    )
    assert "the leads table comes from query `select lead_id" in wrong.message


def test_an_unreachable_database_is_named_without_its_password(sql_config, tmp_path):
    from leadml.data.io import read_raw_tables

    url = f"postgresql://ana:s3cret@/crm?host={tmp_path}&port=1"
    with pytest.raises(SourceError) as caught:
        read_raw_tables(url, sql_config.dataset)
    assert str(caught.value).startswith(f"cannot open postgresql://ana:***@/crm?host={tmp_path}")
    assert "s3cret" not in str(caught.value)


# --- all or nothing -----------------------------------------------------------------------
def _small_run() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    scores = pd.DataFrame(
        {
            "lead_id": [1, 2, 3],
            "as_of": pd.Timestamp("2026-01-01"),
            "probability": [0.1, 0.2, 0.3],
            "reasons": ["[]", "[]", "[]"],
            "model_name": "leadml-sql",
            "model_version": "1",
        }
    )
    rejects = pd.DataFrame({"lead_id": [4], "reason": ["leads.created_at: missing value"]})
    manifest = {
        "as_of": "2026-01-01 00:00:00",
        "scored_at": "2026-01-02 08:00:00",
        "counts": {"in": 4, "scored": 3, "rejected": 1},
    }
    return scores, rejects, manifest


def test_a_failure_mid_transaction_leaves_no_partial_scores_table(database):
    from leadml.scoring.scores_table import publish_to_database

    scores, rejects, manifest = _small_run()
    out = f"{database.split('#')[0]}#half_written"

    def fail_after_scores(table: str) -> None:
        if table == "half_written":
            raise RuntimeError("disk full")

    with pytest.raises(SourceError, match=r"nothing was written \(tables half_written, "):
        publish_to_database(
            out, scores=scores, rejects=rejects, manifest=manifest, hook=fail_after_scores
        )
    tables = _read_back(
        out, "select table_name from information_schema.tables where table_name like 'half%'"
    )
    assert tables.empty
    publish_to_database(out, scores=scores, rejects=rejects, manifest=manifest)
    publish_to_database(out, scores=scores, rejects=rejects, manifest=manifest)
    assert _read_back(out, "select count(*) as n from half_written")["n"].iloc[0] == 3
    assert _read_back(out, "select count(*) as n from half_written_rejects")["n"].iloc[0] == 1


def test_a_lost_connection_while_writing_scores_leaves_the_previous_run(postgres_server):
    import adbc_driver_postgresql.dbapi as pg

    from leadml.scoring.scores_table import publish_to_database

    url = postgres_server["url"]
    out = f"{url}#kept_scores"
    scores, rejects, manifest = _small_run()
    publish_to_database(out, scores=scores, rejects=rejects, manifest=manifest)

    def cut_the_connection(table: str) -> None:
        if table == "kept_scores_rejects":  # the new scores are in, not yet committed
            with pg.connect(url) as admin, admin.cursor() as cur:
                cur.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where pid <> pg_backend_pid() and datname = 'postgres' "
                    "and state like 'idle in transaction%'"
                )
                assert cur.fetchall(), "no open write transaction to cut"
                admin.commit()

    changed = scores.assign(probability=[0.9, 0.9, 0.9])
    with pytest.raises(
        SourceError, match=r"writing the scores to postgresql://.*nothing was written"
    ):
        publish_to_database(
            out, scores=changed, rejects=rejects, manifest=manifest, hook=cut_the_connection
        )
    stored = _read_back(out, "select probability from kept_scores order by lead_id")
    assert stored["probability"].tolist() == [0.1, 0.2, 0.3]


def test_the_fixture_server_runs_as_a_non_root_user(postgres_server):
    owner = subprocess.run(
        ["stat", "-c", "%U", postgres_server["data_dir"]], capture_output=True, text=True
    ).stdout.strip()
    assert owner != "root"
