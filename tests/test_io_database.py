"""The table readers of ``leadml.data.io`` on tiny sources written by hand: DuckDB
databases and folders, and the file cases ``test_io.py`` leaves loose.

DuckDB is embedded (no server), so these run in ``make mutate``'s fast selection and
guard the code ``test_database.py`` exercises end to end (which needs the demo CRM and,
for PostgreSQL, a throwaway cluster). Every expected value below is written out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from leadml.config import (
    TABLES,
    CsvOptions,
    EventDataset,
    FlatDataset,
    TableSpec,
    load_dataset_config,
)
from leadml.data.io import find_table_file, read_flat, read_raw_tables
from leadml.data.sources import SourceError

TRAINING = Path(__file__).resolve().parents[1] / "training"


def _duckdb_file(path: Path, frames: dict[str, pd.DataFrame]) -> Path:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f'create table "{name}" as select * from frame')
            con.unregister("frame")
    finally:
        con.close()
    return path


def _dataset(**specs: TableSpec) -> EventDataset:
    """training/dataset.yaml with each table read from ``<table>.parquet`` unless given."""
    dataset = load_dataset_config(TRAINING / "dataset.yaml")
    tables = {name: TableSpec(file=f"{name}.parquet") for name in TABLES}
    return dataset.model_copy(update={"tables": tables | specs})


@pytest.fixture
def crm(tmp_path) -> Path:
    """Five tables, each named otherwise than its contract table, one lead table in CRM names."""
    return _duckdb_file(
        tmp_path / "crm.duckdb",
        {
            "acct": pd.DataFrame({"account_id": [10, 20], "industry": ["retail", "energy"]}),
            "crm_leads": pd.DataFrame(
                {"LeadId": [1, 2, 3], "AccountRef": [10, 20, 10], "Created": ["a", "b", "c"]}
            ),
            "ev": pd.DataFrame({"lead_id": [1, 1], "event_type": ["email_open", "meeting"]}),
            "intent_rows": pd.DataFrame({"account_id": [20], "topic": ["crm"]}),
            "Outcomes": pd.DataFrame({"lead_id": [2], "stage": ["won"]}),
        },
    )


def test_tables_are_read_by_query_or_by_file_stem_renamed_and_named_by_origin(crm):
    dataset = _dataset(
        accounts=TableSpec(file="exports/acct.parquet"),
        leads=TableSpec(
            query="select LeadId, AccountRef, Created from crm_leads where LeadId <> 2",
            columns={"lead_id": "LeadId", "account_id": "AccountRef", "created_at": "Created"},
        ),
        events=TableSpec(file="ev.csv.gz"),
        intent=TableSpec(file="intent_rows.csv"),
        outcomes=TableSpec(file="Outcomes"),
    )
    url = f"duckdb://{crm}"
    tables = read_raw_tables(url, dataset)

    assert tables.accounts.to_dict("list") == {
        "account_id": [10, 20],
        "industry": ["retail", "energy"],
    }
    assert tables.leads.to_dict("list") == {
        "lead_id": [1, 3],
        "account_id": [10, 10],
        "created_at": ["a", "c"],
    }
    assert tables.events.to_dict("list") == {
        "lead_id": [1, 1],
        "event_type": ["email_open", "meeting"],
    }
    assert tables.intent.to_dict("list") == {"account_id": [20], "topic": ["crm"]}
    assert tables.outcomes.to_dict("list") == {"lead_id": [2], "stage": ["won"]}
    # each frame remembers its query, so later messages can name it
    assert {name: frame.attrs["origin"] for name, frame in tables.items()} == {
        "accounts": f"query `select * from acct` on {url}",
        "leads": "query `select LeadId, AccountRef, Created from crm_leads where LeadId <> 2` "
        f"on {url}",
        "events": f"query `select * from ev` on {url}",
        "intent": f"query `select * from intent_rows` on {url}",
        "outcomes": f"query `select * from Outcomes` on {url}",
    }
    # a bare .duckdb path is a database too
    assert read_raw_tables(crm, dataset).leads["lead_id"].tolist() == [1, 3]


def test_a_failing_table_names_where_its_query_comes_from(crm):
    url = f"duckdb://{crm}"
    by_query = _dataset(
        accounts=TableSpec(file="acct.parquet"),
        leads=TableSpec(query="select * from no_leads_here"),
    )
    with pytest.raises(SourceError) as caught:
        read_raw_tables(url, by_query)
    assert str(caught.value).startswith(f"leads: the query failed on {url}: ")
    assert str(caught.value).endswith("\n  query (tables.leads.query): select * from no_leads_here")

    by_file = _dataset(accounts=TableSpec(file="nowhere/accounts_table.csv"))
    with pytest.raises(SourceError) as caught:
        read_raw_tables(url, by_file)
    assert str(caught.value).startswith(f"accounts: the query failed on {url}: ")
    assert str(caught.value).endswith(
        "\n  query (tables.accounts.file as a table name): select * from accounts_table"
    )


def test_a_duckdb_folder_reads_its_csv_files_with_the_configured_separator_and_encoding(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in TABLES:
        (folder / f"{name}.csv").write_bytes("id;owner\n1;Zoé\n2;Chloë\n".encode("latin-1"))
    dataset = _dataset().model_copy(update={"csv": CsvOptions(sep=";", encoding="latin-1")})
    tables = read_raw_tables(f"duckdb://{folder}", dataset)
    for _, frame in tables.items():
        assert frame.to_dict("list") == {"id": [1, 2], "owner": ["Zoé", "Chloë"]}


def test_a_flat_export_is_read_from_a_database_by_query_or_file_stem(tmp_path):
    path = _duckdb_file(
        tmp_path / "flat.duckdb",
        {"bank": pd.DataFrame({"age": [30, 41, 52], "y": ["no", "N/A", "yes"]})},
    )
    url = f"duckdb://{path}"
    by_query = FlatDataset(
        mode="flat",
        label="y",
        query="select age, y from bank where age > 35",
        missing={"y": ("N/A",)},
    )
    frame = read_flat(url, by_query)
    # the placeholder is a missing value once the value rules are applied
    assert frame["age"].tolist() == [41, 52]
    assert frame["y"].isna().tolist() == [True, False] and frame["y"].iloc[1] == "yes"

    by_file = FlatDataset(mode="flat", label="y", file="exports/bank.csv")
    assert read_flat(url, by_file).to_dict("list") == {
        "age": [30, 41, 52],
        "y": ["no", "N/A", "yes"],
    }

    with pytest.raises(SourceError) as caught:
        read_flat(url, FlatDataset(mode="flat", label="y", query="select * from nothing"))
    assert str(caught.value).endswith("\n  query (query): select * from nothing")
    with pytest.raises(SourceError) as caught:
        read_flat(url, FlatDataset(mode="flat", label="y", file="other.parquet"))
    assert str(caught.value).startswith(f"flat: the query failed on {url}: ")
    assert str(caught.value).endswith("\n  query (file as a table name): select * from other")
    with pytest.raises(ValueError, match="^the flat dataset config names no query \\(nor file\\)"):
        read_flat(url, FlatDataset(mode="flat", label="y"))


def test_a_flat_export_in_a_duckdb_folder_is_read_with_its_separator(tmp_path):
    (tmp_path / "bank.csv").write_text("age|y\n30|lost\n41|won\n")
    dataset = FlatDataset(mode="flat", label="y", file="bank.csv", sep="|")
    assert read_flat(f"duckdb://{tmp_path}", dataset).to_dict("list") == {
        "age": [30, 41],
        "y": ["lost", "won"],
    }


# --- value rules name the table and the config section, for files and databases alike -----
_NOT_YES_NO = (
    "leads.opted_in: 1 value is not yes/no text: 'maybe' (1 row); expected one of "
    "yes/y/true/t/1/1.0/on/oui/vrai or no/n/false/f/0/0.0/off/non/faux (any case), or list "
    "the value under tables.leads.missing.opted_in if it means 'unknown'"
)


def test_a_value_rule_on_a_renamed_column_names_its_table_in_a_folder_and_a_database(tmp_path):
    from leadml.data.picklists import ValueRuleError

    leads = pd.DataFrame({"Id": [1, 2], "Opted": ["yes", "maybe"]})
    for name in TABLES:
        leads.to_parquet(tmp_path / f"{name}.parquet")
    _duckdb_file(tmp_path / "crm.duckdb", {"leads": leads})
    # the rule names the column as exported; it applies once the column is renamed
    rules = {"columns": {"lead_id": "Id", "opted_in": "Opted"}, "boolean": ("Opted",)}
    in_files = _dataset(leads=TableSpec(file="leads.parquet", **rules))
    with pytest.raises(ValueRuleError) as caught:
        read_raw_tables(tmp_path, in_files)
    assert str(caught.value) == _NOT_YES_NO
    specs = {name: TableSpec(query="select * from leads") for name in TABLES}
    in_database = _dataset(**specs | {"leads": TableSpec(query="select * from leads", **rules)})
    with pytest.raises(ValueRuleError) as caught:
        read_raw_tables(f"duckdb://{tmp_path / 'crm.duckdb'}", in_database)
    assert str(caught.value) == _NOT_YES_NO


# --- files -----------------------------------------------------------------------------------
def test_csv_files_in_a_folder_are_read_with_the_configured_encoding(tmp_path):
    for name in TABLES:
        (tmp_path / f"{name}.csv").write_bytes("id;owner\n1;Zoé\n".encode("latin-1"))
    dataset = _dataset(**{name: TableSpec(file=f"{name}.csv") for name in TABLES})
    dataset = dataset.model_copy(update={"csv": CsvOptions(sep=";", encoding="latin-1")})
    assert read_raw_tables(tmp_path, dataset).accounts["owner"].tolist() == ["Zoé"]


def test_a_table_given_only_as_a_query_needs_a_database(tmp_path):
    for name in ("accounts", "leads", "events"):  # read before intent
        pd.DataFrame({"id": [1]}).to_parquet(tmp_path / f"{name}.parquet")
    dataset = _dataset(intent=TableSpec(query="select * from intent_signals"))
    with pytest.raises(FileNotFoundError) as caught:
        read_raw_tables(tmp_path, dataset)
    assert str(caught.value) == (
        "table 'intent': tables.intent names a query ('select * from intent_signals') but no "
        "file; give --data a database URL to run it"
    )


def test_a_file_named_with_its_suffix_is_taken_as_named(tmp_path):
    for name in ("leads.parquet", "leads.csv.gz", "leads.csv"):
        (tmp_path / name).write_bytes(b"")
    assert find_table_file(tmp_path, "leads.parquet") == tmp_path / "leads.parquet"
    assert find_table_file(tmp_path, "leads.csv.gz") == tmp_path / "leads.csv.gz"
    with pytest.raises(FileNotFoundError) as caught:
        find_table_file(tmp_path, "leads")
    assert str(caught.value) == (
        f"table 'leads': both leads.parquet and leads.csv and leads.csv.gz in {tmp_path}; "
        "which one is current is not for leadml to guess: remove or rename the others"
    )


def test_text_that_is_not_utf8_is_named_with_arrow_s_reason(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from leadml.data.io import _read_any

    titles = pa.array([b"CEO", b"\xff\xfeCTO"], pa.binary()).view(pa.string())
    path = tmp_path / "leads.parquet"
    pq.write_table(pa.table({"lead_id": [1, 2], "blob": [b"\xff", b"x"], "title": titles}), path)
    with pytest.raises(pa.ArrowInvalid) as arrow:
        pq.read_table(path).column("title").validate(full=True)
    with pytest.raises(ValueError) as caught:
        _read_any(path)
    assert str(caught.value) == (
        f"{path}: column 'title' holds text that is not valid UTF-8 ({str(arrow.value)[:80]}); "
        "re-export the table with UTF-8 text"
    )


def test_unreadable_files_are_named_with_the_reader_s_reason_cut_at_120(tmp_path):
    from leadml.data.io import _read_any

    (tmp_path / "leads.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ValueError) as caught:
        _read_any(tmp_path / "leads.parquet")
    with pytest.raises((OSError, ValueError)) as reader:
        pd.read_parquet(tmp_path / "leads.parquet")
    assert len(str(reader.value)) > 120
    assert str(caught.value) == (
        f"{tmp_path / 'leads.parquet'}: not a readable Parquet file ({str(reader.value)[:120]})"
    )
    (tmp_path / "leads.csv").write_text("")
    with pytest.raises(ValueError) as caught:
        _read_any(tmp_path / "leads.csv")
    assert str(caught.value) == (
        f"{tmp_path / 'leads.csv'}: not a readable CSV file (No columns to parse from file)"
    )
    with pytest.raises(ValueError) as caught:
        _read_any(tmp_path / "leads.csv", encoding="utf-99")
    assert str(caught.value) == (
        "csv.encoding: 'utf-99' is not a known encoding (e.g. utf-8, latin-1, cp1252)"
    )
    (tmp_path / "leads.csv").write_bytes(b"lead_id,title\n1,\xff\n")
    with pytest.raises(ValueError) as caught:
        _read_any(tmp_path / "leads.csv")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'leads.csv'}: not valid utf-8 text (invalid start ")
    assert message.endswith(
        "); set csv.encoding in the dataset config (e.g. latin-1) or re-export the file as UTF-8"
    )


def test_a_csv_column_is_typed_once_over_the_whole_file(tmp_path):
    from leadml.data.io import _read_any

    # past pandas' low-memory chunk, a text value in a column of numbers: read whole, the
    # column is text throughout (in chunks, numbers and text would mix in one column)
    n = 300_000
    (tmp_path / "leads.csv").write_text("lead_id,code\n" + "1,7\n" * n + "2,x\n")
    codes = _read_any(tmp_path / "leads.csv")["code"]
    assert {type(v) for v in codes} == {str} and codes.iloc[[0, n]].tolist() == ["7", "x"]
