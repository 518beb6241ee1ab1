"""``leadml validate`` end to end: exit codes, messages on stderr, the JSON report, CSV and Parquet."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from leadml.commands import validate as validate_command

ROOT = Path(__file__).resolve().parents[1]
DATASET_YAML = ROOT / "training" / "dataset.yaml"


def validate_app() -> typer.Typer:
    """The validate command alone, so this test does not depend on the other commands."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # keeps `validate` a subcommand
        pass

    validate_command.register(app)
    return app


def run(*args: str):
    return CliRunner().invoke(validate_app(), ["validate", *args], catch_exceptions=False)


def tables() -> dict[str, pd.DataFrame]:
    return {
        "accounts": pd.DataFrame(
            {
                "account_id": [1, 2],
                "name": ["Acme", "Globex"],
                "industry": ["software", "retail"],
                "employees": [250.0, 40.0],
                "annual_revenue": [2.5e7, 1e6],
                "country": ["FR", "DE"],
            }
        ),
        "leads": pd.DataFrame(
            {
                "lead_id": [10, 11, 12],
                "account_id": [1, 1, 2],
                "created_at": ["2024-01-01", "2024-01-02", "2024-01-03"],
                "source": ["referral", "webinar", "outbound"],
                "first_name": ["Ann", "Bob", "Cy"],
                "last_name": ["A", "B", "C"],
                "job_title": ["CIO", "VP IT", "Dev"],
                "seniority": ["c_level", "vp", "individual_contributor"],
                "department": ["it", "it", "engineering"],
                "email_status": ["valid", "valid", "risky"],
                "owner": ["Zoe", "Zoe", "Yann"],
            }
        ),
        "events": pd.DataFrame(
            {
                "lead_id": [10, 10, 11, 12],
                "ts": ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08"],
                "event_type": ["pricing_view", "demo_request", "email_open", "blog_view"],
            }
        ),
        "intent": pd.DataFrame(
            {
                "account_id": [1, 2],
                "ts": ["2024-01-10", "2024-01-11"],
                "signal_type": ["funding_round", "hiring_surge"],
                "strength": [0.5, 0.9],
            }
        ),
        "outcomes": pd.DataFrame(
            {
                "lead_id": [10, 10, 11],
                "stage": ["mql", "sql", "mql"],
                "ts": ["2024-02-01", "2024-02-09", "2024-02-03"],
            }
        ),
    }


def write(folder: Path, frames: dict[str, pd.DataFrame], fmt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            # Parquet keeps types: timestamps as real (tz-aware) datetimes, like a typed
            # export; a column holding text that is no date stays text.
            typed = frame.copy()
            for column in ("created_at", "ts"):
                if column in typed:
                    with contextlib.suppress(ValueError):
                        typed[column] = pd.to_datetime(typed[column], format="ISO8601", utc=True)
            typed.to_parquet(folder / f"{name}.parquet")
    return folder


def add(frames: dict[str, pd.DataFrame], table: str, rows: dict) -> dict[str, pd.DataFrame]:
    return {**frames, table: pd.concat([frames[table], pd.DataFrame(rows)], ignore_index=True)}


def drop_column(table: str, column: str) -> Callable:
    return lambda f: {**f, table: f[table].drop(columns=[column])}


# What stdout holds for clean tables without --report.
CLEAN = {"ok": True, "n_errors": 0, "n_warnings": 0, "n_rejected_leads": 0, "report": None}

# Each class of error: how to break clean tables, and the message it must print.
ERRORS = {
    "required column": (
        lambda f: {**f, "leads": f["leads"].rename(columns={"created_at": "created"})},
        "leads: required column 'created_at' is missing; found columns: ['lead_id', 'account_id', 'created', "
        "'source', 'first_name', 'last_name', 'job_title', 'seniority', 'department', 'email_status', 'owner']; "
        "did you mean 'created'? (map it in {config} under tables.leads.columns)",
    ),
    "timestamp type": (
        lambda f: add(
            f,
            "events",
            {
                "lead_id": [10, 11, 11],
                "ts": ["yesterday", "yesterday", "2024-13-01"],
                "event_type": ["email_open"] * 3,
            },
        ),
        "events.ts: 2 values are not parseable timestamps: 'yesterday' (2 rows), '2024-13-01' (1 row); "
        "expected ISO 8601 such as '2024-03-01' or '2024-03-01T09:30:00Z'",
    ),
    "unique key": (
        lambda f: add(
            f, "leads", {"lead_id": [11], "account_id": [2], "created_at": ["2024-01-09"]}
        ),
        "leads.lead_id: 1 lead_id appears more than once (2 rows): 11 (2 rows); each lead_id must be unique",
    ),
    "foreign key": (
        lambda f: add(
            f,
            "events",
            {"lead_id": [99, 99, 98], "ts": ["2024-01-05"] * 3, "event_type": ["email_open"] * 3},
        ),
        "events.lead_id: 3 rows reference 2 lead_ids not in leads: 99 (2 rows), 98 (1 row)",
    ),
    "vocabulary": (
        lambda f: add(
            f,
            "events",
            {"lead_id": [10] * 3, "ts": ["2024-01-05"] * 3, "event_type": ["pricng_view"] * 3},
        ),
        "events.event_type: 1 value not in the vocabulary: 'pricng_view' (3 rows); expected one of: pricing_view, "
        "demo_page_view, product_page_view, blog_view, email_open, email_click, whitepaper_download, "
        "webinar_registration, webinar_attended, form_submit, demo_request, sales_touch, meeting, unsubscribe, "
        "email_bounce; did you mean 'pricing_view' for 'pricng_view'?",
    ),
    "negative number": (
        lambda f: {**f, "accounts": f["accounts"].assign(employees=[-1.0, 40.0])},
        "accounts.employees: 1 value is negative: -1 (1 row); expected a number >= 0",
    ),
    "stage order": (
        lambda f: add(
            f,
            "outcomes",
            {"lead_id": [12, 12], "stage": ["won", "sql"], "ts": ["2024-03-01", "2024-03-09"]},
        ),
        "outcomes.stage: 1 lead reaches 'won' before 'sql': 12 (won 2024-03-01, sql 2024-03-09)",
    ),
    "after as_of": (
        lambda f: add(
            f, "events", {"lead_id": [10], "ts": ["2024-07-01"], "event_type": ["meeting"]}
        ),
        "events.ts: 1 row is after as_of 2024-06-01: 2024-07-01 (1 row)",
    ),
}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("case", list(ERRORS))
def test_each_class_of_error_prints_its_message_and_exits_1(tmp_path, case, fmt):
    breaks, message = ERRORS[case]
    data = write(tmp_path / "data", breaks(tables()), fmt)
    result = run("--data", str(data), "--config", str(DATASET_YAML), "--as-of", "2024-06-01")
    assert result.exit_code == 1, result.output
    assert message.format(config=DATASET_YAML) in result.stderr
    assert json.loads(result.stdout)["ok"] is False


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_clean_tables_exit_0(tmp_path, fmt):
    result = run(
        "--data", str(write(tmp_path / "data", tables(), fmt)), "--config", str(DATASET_YAML)
    )
    assert result.exit_code == 0, result.output
    assert "ok: no issues found" in result.stderr
    assert json.loads(result.stdout) == CLEAN


def test_warnings_only_exit_0(tmp_path):
    frames = drop_column("leads", "owner")(tables())
    frames = add(
        frames, "events", {"lead_id": [12], "ts": ["2023-12-01"], "event_type": ["blog_view"]}
    )
    result = run(
        "--data", str(write(tmp_path / "data", frames, "csv")), "--config", str(DATASET_YAML)
    )
    assert result.exit_code == 0, result.output
    assert "warning leads: optional column 'owner' is missing" in result.stderr
    assert (
        "warning events.ts: 1 row of 1 lead is before the lead's created_at: 12 (1 row)"
        in result.stderr
    )
    assert json.loads(result.stdout)["n_warnings"] == 2


def test_json_report_lists_each_issue_with_counts_and_at_most_five_examples(tmp_path):
    bad = ["a", "b", "b", "c", "d", "e", "f", "f", "f"]
    frames = add(
        tables(), "events", {"lead_id": [10] * 9, "ts": ["2024-01-20"] * 9, "event_type": bad}
    )
    frames = add(
        frames, "events", {"lead_id": [55], "ts": ["2024-01-20"], "event_type": ["email_open"]}
    )
    report = tmp_path / "out" / "validation.json"
    result = run(
        "--data",
        str(write(tmp_path / "data", frames, "parquet")),
        "--config",
        str(DATASET_YAML),
        "--report",
        str(report),
    )
    assert result.exit_code == 1
    payload = json.loads(report.read_text())
    assert payload["ok"] is False and payload["mode"] == "events" and payload["as_of"] is None
    assert payload["row_counts"] == {
        "accounts": 2,
        "leads": 3,
        "events": 14,
        "intent": 2,
        "outcomes": 3,
    }
    assert payload["n_errors"] == 2 and payload["n_rejected_leads"] == 1
    orphan, vocabulary = payload["issues"]
    assert (orphan["table"], orphan["column"], orphan["check"], orphan["n_rows"]) == (
        "events",
        "lead_id",
        "foreign_key",
        1,
    )
    assert (vocabulary["table"], vocabulary["column"], vocabulary["check"]) == (
        "events",
        "event_type",
        "vocabulary",
    )
    assert (
        vocabulary["severity"] == "error"
        and vocabulary["n_rows"] == 9
        and vocabulary["n_leads"] == 1
    )
    assert vocabulary["examples"] == [
        {"value": "f", "rows": 3},
        {"value": "b", "rows": 2},
        {"value": "a", "rows": 1},
        {"value": "c", "rows": 1},
        {"value": "d", "rows": 1},
    ]
    assert vocabulary["message"].startswith(
        "events.event_type: 6 values not in the vocabulary: 'f' (3 rows), 'b' (2 rows)"
    )
    assert json.loads(result.stdout)["report"] == str(report)


def test_a_column_mapping_lets_renamed_columns_validate(tmp_path):
    frames = tables()
    frames["leads"] = frames["leads"].rename(
        columns={"lead_id": "LeadId", "created_at": "CreatedDate"}
    )
    frames["events"] = frames["events"].rename(columns={"lead_id": "LeadId", "ts": "Timestamp"})
    data = write(tmp_path / "data", frames, "csv")
    unmapped = run("--data", str(data), "--config", str(DATASET_YAML))
    assert unmapped.exit_code == 1
    assert "did you mean 'CreatedDate'?" in unmapped.stderr
    config = yaml.safe_load(DATASET_YAML.read_text())
    config["tables"]["leads"]["columns"].update(lead_id="LeadId", created_at="CreatedDate")
    config["tables"]["events"]["columns"].update(lead_id="LeadId", ts="Timestamp")
    (tmp_path / "mapped.yaml").write_text(yaml.safe_dump(config))
    assert json.loads(unmapped.stdout)["ok"] is False
    mapped = run("--data", str(data), "--config", str(tmp_path / "mapped.yaml"))
    assert mapped.exit_code == 0, mapped.output
    assert "rows: accounts 2 · leads 3 · events 4 · intent 2 · outcomes 3" in mapped.stderr
    assert "ok: no issues found" in mapped.stderr
    assert json.loads(mapped.stdout) == CLEAN


def test_a_run_config_is_accepted(tmp_path):
    data = write(tmp_path / "data", tables(), "csv")
    result = run("--data", str(data), "--config", str(ROOT / "training" / "sql.yaml"))
    assert result.exit_code == 0, result.output
    # the run config's dataset (training/dataset.yaml) is what was checked
    assert "rows: accounts 2 · leads 3 · events 4 · intent 2 · outcomes 3" in result.stderr
    assert json.loads(result.stdout) == CLEAN


def test_a_missing_table_file_is_reported_and_exits_1(tmp_path):
    data = write(tmp_path / "data", tables(), "csv")
    (data / "intent.csv").unlink()
    report = tmp_path / "report.json"
    result = run("--data", str(data), "--config", str(DATASET_YAML), "--report", str(report))
    assert result.exit_code == 1
    assert "table 'intent': no intent.parquet or intent.csv in" in result.stderr
    assert [(i["table"], i["check"]) for i in json.loads(report.read_text())["issues"]] == [
        ("intent", "file")
    ]


def test_a_bad_config_or_option_exits_2(tmp_path):
    missing = run("--data", str(tmp_path), "--config", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2
    assert missing.stderr == f"error: config file not found: {tmp_path / 'nope.yaml'}\n"
    assert missing.stdout == ""  # no half report on stdout
    loud = run("--data", str(tmp_path), "--config", str(DATASET_YAML), "--future-rows", "loud")
    assert loud.exit_code == 2
    assert loud.stderr == "error: --future-rows: 'loud'; expected error, warning or ignore\n"


def test_flat_mode_takes_a_file(tmp_path):
    frame = pd.DataFrame(
        {"age": [30, "forty", 52], "job": ["a", "b", "a"], "y": ["no", "yes", "no"]}
    )
    frame.to_csv(tmp_path / "leads.csv", sep=";", index=False)
    config = {
        "mode": "flat",
        "sep": ";",
        "label": "y",
        "positive": ["yes"],
        "numeric": ["age"],
        "categorical": ["job"],
    }
    (tmp_path / "flat.yaml").write_text(yaml.safe_dump(config))
    result = run("--data", str(tmp_path / "leads.csv"), "--config", str(tmp_path / "flat.yaml"))
    assert result.exit_code == 1
    assert "flat.age: 1 value is not a number: 'forty' (1 row); declared numeric" in result.stderr


def test_clean_demo_data_validates_without_error(tmp_path):
    from leadml.synth import SynthSpec, write_demo_data

    data = tmp_path / "demo"
    write_demo_data(data, SynthSpec(n_leads=3_000, seed=7))
    report = tmp_path / "validation.json"
    result = run("--data", str(data), "--config", str(DATASET_YAML), "--report", str(report))
    assert result.exit_code == 0, result.output
    payload = json.loads(report.read_text())
    assert payload["n_errors"] == 0 and payload["row_counts"]["leads"] == 3_000
