"""The data contract: each check's message, lead attribution, typed tables, flat mode."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadml.config import FlatDataset, load_dataset_config
from leadml.data.io import Tables
from leadml.data.schema import (
    DataValidationError,
    ValidationReport,
    coerce_tables,
    load_tables,
    validate_flat,
    validate_tables,
)
from leadml.data.validation import KeyIndex, parse_ids, text_column

DATASET = load_dataset_config(Path(__file__).resolve().parents[1] / "training" / "dataset.yaml")


def clean_tables() -> Tables:
    """Five small tables as a CSV export reads them: every column, nothing wrong."""
    accounts = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "name": ["Acme", "Globex", "Initech"],
            "industry": ["software", "retail", "software"],
            "employees": [250, 40, 1200],
            "annual_revenue": [2.5e7, 1e6, 9e7],
            "country": ["FR", "DE", "US"],
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": [10, 11, 12, 13],
            "account_id": [1, 1, 2, 3],
            "created_at": ["2024-01-01T09:00:00", "2024-01-02", "2024-01-03", "2024-01-04"],
            "source": ["referral", "webinar", "outbound", "demo_form"],
            "first_name": ["Ann", "Bob", "Cy", "Di"],
            "last_name": ["A", "B", "C", "D"],
            "job_title": ["CIO", "VP IT", "Engineer", "CFO"],
            "seniority": ["c_level", "vp", "individual_contributor", "c_level"],
            "department": ["it", "it", "engineering", "finance"],
            "email_status": ["valid", "valid", "risky", "unknown"],
            "owner": ["Zoe", "Zoe", "Yann", "Yann"],
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": [10, 10, 11, 12, 13],
            "ts": ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09"],
            "event_type": [
                "pricing_view",
                "demo_request",
                "email_open",
                "blog_view",
                "webinar_attended",
            ],
        }
    )
    intent = pd.DataFrame(
        {
            "account_id": [1, 2],
            "ts": ["2024-01-10", "2024-01-11"],
            "signal_type": ["funding_round", "hiring_surge"],
            "strength": [0.5, 0.9],
        }
    )
    outcomes = pd.DataFrame(
        {
            "lead_id": [10, 10, 11],
            "stage": ["mql", "sql", "mql"],
            "ts": ["2024-02-01", "2024-02-09", "2024-02-03"],
        }
    )
    return Tables(accounts=accounts, leads=leads, events=events, intent=intent, outcomes=outcomes)


def with_rows(tables: Tables, table: str, rows: dict) -> Tables:
    """A copy of ``tables`` with rows appended to one table."""
    frame = getattr(tables, table)
    return tables.replace(**{table: pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)})


def only(report: ValidationReport, check: str):
    found = [i for i in report.issues if i.check == check]
    assert len(found) == 1, [i.message for i in report.issues]
    return found[0]


def test_clean_tables_have_no_issue():
    report = validate_tables(clean_tables(), DATASET, as_of=pd.Timestamp("2024-06-01"))
    assert report.issues == ()
    assert report.ok
    assert report.row_counts == {"accounts": 3, "leads": 4, "events": 5, "intent": 2, "outcomes": 3}
    assert report.rejected_leads().empty
    assert list(report.rejected_leads().columns) == ["lead_id", "reason"]


def test_missing_required_column_shows_found_columns_and_a_close_match():
    tables = clean_tables()
    tables = tables.replace(leads=tables.leads.rename(columns={"created_at": "created"}))
    issue = only(validate_tables(tables, DATASET), "columns")
    assert (issue.table, issue.column, issue.severity) == ("leads", "created_at", "error")
    assert issue.message == (
        "leads: required column 'created_at' is missing; found columns: ['lead_id', 'account_id', "
        "'created', 'source', 'first_name', 'last_name', 'job_title', 'seniority', 'department', "
        "'email_status', 'owner']; did you mean 'created'? "
        "(map it in training/dataset.yaml under tables.leads.columns)"
    )
    # every lead row is unusable, and typing drops them all
    assert coerce_tables(tables, DATASET).leads.empty


def test_missing_optional_column_is_a_warning_and_is_added_all_missing():
    tables = clean_tables()
    tables = tables.replace(leads=tables.leads.drop(columns=["seniority"]))
    report = validate_tables(tables, DATASET)
    issue = only(report, "columns")
    assert issue.severity == "warning" and report.ok
    assert (
        issue.message
        == "leads: optional column 'seniority' is missing; features that use it will be missing"
    )
    typed = coerce_tables(tables, DATASET).leads
    assert typed["seniority"].dtype == "str" and typed["seniority"].isna().all()


def test_unparseable_timestamps_are_counted_by_value_and_pinned_on_their_leads():
    tables = with_rows(
        clean_tables(),
        "events",
        {
            "lead_id": [11, 12, 12, 13],
            "ts": ["yesterday", "yesterday", "2024-13-01", "soon"],
            "event_type": ["email_open"] * 4,
        },
    )
    issue = only(validate_tables(tables, DATASET), "type")
    assert (issue.table, issue.column, issue.severity, issue.n_rows) == ("events", "ts", "error", 4)
    assert issue.message == (
        "events.ts: 3 values are not parseable timestamps: 'yesterday' (2 rows), '2024-13-01' (1 row), "
        "'soon' (1 row); expected ISO 8601 such as '2024-03-01' or '2024-03-01T09:30:00Z'"
    )
    assert issue.examples == [
        {"value": "yesterday", "rows": 2},
        {"value": "2024-13-01", "rows": 1},
        {"value": "soon", "rows": 1},
    ]
    assert issue.lead_ids == (11, 12, 13)
    # the four rows cannot be typed: dropped
    assert len(coerce_tables(tables, DATASET).events) == 5


def test_missing_required_values_are_errors_on_their_leads():
    tables = clean_tables()
    leads = tables.leads.copy()
    leads.loc[1, "created_at"] = None
    issue = only(validate_tables(tables.replace(leads=leads), DATASET), "missing")
    assert issue.message == "leads.created_at: 1 row has no created_at"
    assert issue.lead_ids == (11,)


def test_duplicate_keys_name_the_ids_and_their_row_counts():
    tables = with_rows(
        clean_tables(),
        "leads",
        {"lead_id": [12, 12], "account_id": [2, 2], "created_at": ["2024-01-05", "2024-01-06"]},
    )
    issue = only(validate_tables(tables, DATASET), "unique")
    assert issue.message == (
        "leads.lead_id: 1 lead_id appears more than once (3 rows): 12 (3 rows); each lead_id must be unique"
    )
    assert issue.lead_ids == (12,)
    typed = coerce_tables(tables, DATASET).leads
    assert typed["lead_id"].tolist() == [10, 11, 12, 13]  # the first row of a repeated key is kept
    assert typed.loc[typed["lead_id"] == 12, "created_at"].item() == pd.Timestamp("2024-01-03")


def test_duplicate_account_ids_reject_the_leads_of_that_account():
    tables = with_rows(clean_tables(), "accounts", {"account_id": [1], "name": ["Acme again"]})
    issue = only(validate_tables(tables, DATASET), "unique")
    assert issue.message.startswith(
        "accounts.account_id: 1 account_id appears more than once (2 rows): 1 (2 rows)"
    )
    assert issue.lead_ids == (10, 11)


def test_foreign_keys_name_unknown_ids_and_only_lead_rows_are_pinned_on_leads():
    tables = with_rows(
        clean_tables(),
        "leads",
        {"lead_id": [14, 15], "account_id": [99, None], "created_at": ["2024-01-05", "2024-01-05"]},
    )
    tables = with_rows(
        tables,
        "events",
        {"lead_id": [77, 77, 78], "ts": ["2024-01-05"] * 3, "event_type": ["email_open"] * 3},
    )
    report = validate_tables(tables, DATASET)
    leads_fk, events_fk = [i for i in report.issues if i.check == "foreign_key"]
    assert (
        leads_fk.message
        == "leads.account_id: 2 rows reference 2 account_ids not in accounts: 99 (1 row), <missing> (1 row)"
    )
    assert leads_fk.lead_ids == (14, 15)
    assert (
        events_fk.message
        == "events.lead_id: 3 rows reference 2 lead_ids not in leads: 77 (2 rows), 78 (1 row)"
    )
    assert (
        events_fk.severity == "error" and events_fk.lead_ids == ()
    )  # orphans: no input lead to reject


@pytest.mark.parametrize("future_rows", ["error", "warning", "ignore"])
def test_rows_after_as_of_take_the_requested_severity(future_rows):
    tables = with_rows(
        clean_tables(),
        "events",
        {
            "lead_id": [10, 10, 11],
            "ts": ["2024-06-02T10:00:00", "2024-06-02T11:00:00", "2024-07-01"],
            "event_type": ["meeting"] * 3,
        },
    )
    report = validate_tables(
        tables, DATASET, as_of=pd.Timestamp("2024-06-01"), future_rows=future_rows
    )
    if future_rows == "ignore":
        assert report.issues == ()
        return
    issue = only(report, "future")
    assert issue.severity == future_rows and issue.lead_ids == ()
    assert (
        issue.message
        == "events.ts: 3 rows are after as_of 2024-06-01: 2024-06-02 (2 rows), 2024-07-01 (1 row)"
    )


def test_future_rows_must_be_a_known_severity():
    with pytest.raises(
        ValueError, match="future_rows='fatal'; expected 'error', 'warning' or 'ignore'"
    ):
        validate_tables(clean_tables(), DATASET, future_rows="fatal")


def test_unknown_vocabulary_values_list_the_vocabulary_and_close_matches():
    tables = with_rows(
        clean_tables(),
        "events",
        {
            "lead_id": [10] * 12 + [11, 11, 12],
            "ts": ["2024-01-20"] * 15,
            "event_type": ["pricng_view"] * 12 + ["Email Open", "Email Open", "zzz"],
        },
    )
    issue = only(validate_tables(tables, DATASET), "vocabulary")
    assert issue.severity == "error" and issue.n_rows == 15
    assert issue.message == (
        "events.event_type: 3 values not in the vocabulary: 'pricng_view' (12 rows), 'Email Open' (2 rows), "
        "'zzz' (1 row); expected one of: pricing_view, demo_page_view, product_page_view, blog_view, "
        "email_open, email_click, whitepaper_download, webinar_registration, webinar_attended, form_submit, "
        "demo_request, sales_touch, meeting, unsubscribe, email_bounce; "
        "did you mean 'pricing_view' for 'pricng_view', 'email_open' for 'Email Open'?; "
        "map them under tables.events.values.event_type in training/dataset.yaml"
    )
    assert issue.lead_ids == (10, 11, 12)


def test_unknown_lead_attribute_values_only_warn():
    tables = clean_tables()
    leads = tables.leads.assign(seniority=["VP", "vp", "vp", None])
    issue = only(validate_tables(tables.replace(leads=leads), DATASET), "vocabulary")
    assert issue.severity == "warning" and issue.lead_ids == ()
    assert issue.message.startswith(
        "leads.seniority: 1 value not in the vocabulary: 'VP' (1 row); expected one of: c_level"
    )
    assert issue.message.endswith("did you mean 'vp' for 'VP'?")


def test_categorical_columns_are_checked_on_their_codes():
    tables = with_rows(
        clean_tables(),
        "events",
        {"lead_id": [13], "ts": ["2024-01-20"], "event_type": ["pricng_view"]},
    )
    events = tables.events.assign(event_type=tables.events["event_type"].astype("category"))
    report = validate_tables(tables.replace(events=events), DATASET)
    assert only(report, "vocabulary").message.startswith(
        "events.event_type: 1 value not in the vocabulary: 'pricng_view' (1 row)"
    )
    typed = coerce_tables(tables.replace(events=events), DATASET).events
    assert typed["event_type"].dtype == "str"
    assert typed["event_type"].tolist() == [*clean_tables().events["event_type"], "pricng_view"]


def test_negative_numbers_are_errors_and_strength_above_one_warns():
    tables = clean_tables()
    accounts = tables.accounts.assign(employees=[250, -5, -5])
    intent = tables.intent.assign(strength=[1.5, 0.2])
    report = validate_tables(tables.replace(accounts=accounts, intent=intent), DATASET)
    negative, above = [i for i in report.issues if i.check == "range"]
    assert (
        negative.message
        == "accounts.employees: 1 value is negative: -5 (2 rows); expected a number >= 0"
    )
    assert negative.severity == "error" and negative.lead_ids == (12, 13)
    assert (
        above.message
        == "intent.strength: 1 value is above 1: 1.5 (1 row); expected a strength within [0, 1]"
    )
    assert above.severity == "warning"


def test_text_in_a_number_column_warns_and_reads_as_missing():
    tables = clean_tables()
    accounts = tables.accounts.assign(employees=["250", "many", "1200"])
    issue = only(validate_tables(tables.replace(accounts=accounts), DATASET), "type")
    assert issue.severity == "warning"
    assert (
        issue.message
        == "accounts.employees: 1 value is not a number: 'many' (1 row); it is read as missing"
    )
    typed = coerce_tables(tables.replace(accounts=accounts), DATASET).accounts
    assert typed["employees"].tolist()[::2] == [250.0, 1200.0] and np.isnan(typed["employees"][1])


def test_stages_out_of_funnel_order_name_the_leads_and_dates():
    tables = with_rows(
        clean_tables(),
        "outcomes",
        {
            "lead_id": [12, 12, 13, 13, 11, 11],
            "stage": ["won", "sql", "won", "sql", "lost", "opportunity"],
            "ts": [
                "2024-03-01",
                "2024-03-09",
                "2024-04-01",
                "2024-04-02T10:30:00",
                "2024-02-10",
                "2024-02-20",
            ],
        },
    )
    report = validate_tables(tables, DATASET)
    before, after = [i for i in report.issues if i.check == "stage_order"]
    assert before.message == (
        "outcomes.stage: 2 leads reach 'won' before 'sql': 12 (won 2024-03-01, sql 2024-03-09), "
        "13 (won 2024-04-01, sql 2024-04-02 10:30:00)"
    )
    assert before.n_rows == 2 and before.lead_ids == (12, 13)
    assert before.examples[0] == {
        "lead_id": 12,
        "won": "2024-03-01T00:00:00",
        "sql": "2024-03-09T00:00:00",
    }
    assert after.message == (
        "outcomes.stage: 1 lead reaches 'opportunity' after 'lost', which ends the funnel: "
        "11 (lost 2024-02-10, opportunity 2024-02-20)"
    )


def test_events_before_the_lead_was_created_only_warn():
    tables = with_rows(
        clean_tables(),
        "events",
        {
            "lead_id": [13, 13, 12],
            "ts": ["2023-12-01", "2023-12-02", "2023-12-31"],
            "event_type": ["blog_view"] * 3,
        },
    )
    issue = only(validate_tables(tables, DATASET), "before_created")
    assert issue.severity == "warning" and issue.lead_ids == ()
    assert (
        issue.message
        == "events.ts: 3 rows of 2 leads are before the lead's created_at: 13 (2 rows), 12 (1 row)"
    )
    assert issue.examples == [{"lead_id": 13, "rows": 2}, {"lead_id": 12, "rows": 1}]


def test_examples_are_capped_at_five_by_frequency_then_value():
    bad = ["e", "d", "d", "c", "b", "b", "a", "f", "g"]
    tables = with_rows(
        clean_tables(),
        "intent",
        {"account_id": [1] * 9, "ts": ["2024-01-12"] * 9, "signal_type": bad},
    )
    issue = only(validate_tables(tables, DATASET), "vocabulary")
    assert [e["value"] for e in issue.examples] == ["b", "d", "a", "c", "e"]
    assert issue.message.startswith(
        "intent.signal_type: 7 values not in the vocabulary: 'b' (2 rows), 'd' (2 rows), "
        "'a' (1 row), 'c' (1 row), 'e' (1 row), ...; expected one of"
    )
    assert issue.lead_ids == (10, 11)  # account 1's leads


def test_rejected_leads_gather_every_reason_once_per_lead():
    tables = with_rows(
        clean_tables(),
        "events",
        {
            "lead_id": [10, 10, 11, 99],
            "ts": ["2024-01-20", "bad", "2024-01-20", "2024-01-20"],
            "event_type": ["pricng_view", "email_open", "pricng_view", "pricng_view"],
        },
    )
    tables = with_rows(
        tables, "leads", {"lead_id": [14], "account_id": [42], "created_at": ["2024-01-05"]}
    )
    rejected = validate_tables(tables, DATASET).rejected_leads()
    assert rejected.to_dict("records") == [
        {
            "lead_id": 10,
            "reason": "events.ts: unreadable value; events.event_type: value not in the vocabulary",
        },
        {"lead_id": 11, "reason": "events.event_type: value not in the vocabulary"},
        {"lead_id": 14, "reason": "leads.account_id: unknown id"},
    ]
    assert rejected["lead_id"].dtype == np.int64


def test_report_serialises_and_raises_with_every_error_message():
    tables = with_rows(
        clean_tables(), "events", {"lead_id": [77], "ts": ["2024-01-05"], "event_type": ["zzz"]}
    )
    report = validate_tables(tables, DATASET)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["n_errors"] == 2 and data["n_warnings"] == 0
    assert data["row_counts"]["events"] == 6
    assert data["issues"][0] == {
        "table": "events",
        "column": "lead_id",
        "check": "foreign_key",
        "severity": "error",
        "n_rows": 1,
        "n_leads": 0,
        "examples": [{"value": 77, "rows": 1}],
        "message": "events.lead_id: 1 row references 1 lead_id not in leads: 77 (1 row)",
    }
    with pytest.raises(
        DataValidationError, match=r"failed with 2 errors:\n  - events.lead_id: 1 row references"
    ) as info:
        report.raise_for_errors()
    assert info.value.report is report
    assert "events.event_type: 1 value not in the vocabulary: 'zzz'" in str(info.value)
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)
    assert report.summary().splitlines()[:3] == [
        "rows: accounts 3 · leads 4 · events 6 · intent 2 · outcomes 3",
        "2 errors, 0 warnings",
        "error    events.lead_id: 1 row references 1 lead_id not in leads: 77 (1 row)",
    ]
    validate_tables(clean_tables(), DATASET).raise_for_errors()  # no error: no exception


def test_coerce_gives_contract_dtypes_and_utc_timestamps():
    tables = clean_tables()
    intent = tables.intent.assign(ts=["2024-01-10T10:00:00+02:00", "2024-01-11T08:00:00Z"])
    typed = coerce_tables(tables.replace(intent=intent), DATASET)
    assert typed.intent["ts"].tolist() == [
        pd.Timestamp("2024-01-10 08:00"),
        pd.Timestamp("2024-01-11 08:00"),
    ]
    for table in ("leads", "events", "intent", "outcomes"):
        frame = getattr(typed, table)
        for column in ("created_at", "ts"):
            if column in frame:
                assert frame[column].dtype == "datetime64[us]"
    assert typed.accounts["employees"].dtype == np.float64
    assert typed.leads["account_id"].dtype == typed.accounts["account_id"].dtype == np.int64
    assert typed.events["event_type"].dtype == "str"
    # tz-aware datetimes (Parquet) are converted the same way
    aware = tables.intent.assign(
        ts=pd.to_datetime(intent["ts"], utc=True).dt.tz_convert("Europe/Paris")
    )
    assert (
        coerce_tables(tables.replace(intent=aware), DATASET).intent["ts"].equals(typed.intent["ts"])
    )


def test_ids_of_different_types_become_text_on_both_sides():
    tables = clean_tables()
    events = tables.events.assign(lead_id=["10", "10", "11", "L-12", "13"])
    report = validate_tables(tables.replace(events=events), DATASET)
    assert (
        only(report, "foreign_key").message
        == "events.lead_id: 1 row references 1 lead_id not in leads: 'L-12' (1 row)"
    )
    typed = coerce_tables(tables.replace(events=events), DATASET)
    for frame in (typed.leads, typed.events, typed.outcomes):
        assert frame["lead_id"].dtype == "str"
    assert typed.leads["lead_id"].tolist() == ["10", "11", "12", "13"]
    assert typed.accounts["account_id"].dtype == np.int64  # the other key family is untouched


def test_float_ids_from_a_csv_with_gaps_stay_integers():
    tables = clean_tables()
    events = tables.events.assign(lead_id=[10.0, 10.0, 11.0, np.nan, 13.0])
    report = validate_tables(tables.replace(events=events), DATASET)
    assert (
        only(report, "foreign_key").message
        == "events.lead_id: 1 row references 1 lead_id not in leads: <missing> (1 row)"
    )
    typed = coerce_tables(tables.replace(events=events), DATASET).events
    assert typed["lead_id"].dtype == np.int64 and typed["lead_id"].tolist() == [10, 10, 11, 13]


@pytest.mark.parametrize(
    "keys",
    [["L001", "L002", "L003", "L002"], ["00Q5e000001AbCdEAK", "00Q5e000001AbCdEAL", "X", "X"]],
)
def test_text_key_lookup_is_exact_for_fixed_and_mixed_widths(keys):
    index = KeyIndex(parse_ids(pd.Series(keys)))
    refs = [keys[2], keys[0], keys[0][:-1] + "9", None, keys[1]]
    assert index.positions(parse_ids(pd.Series(refs))).tolist() == [2, 0, -1, -1, 1]


def test_load_tables_reads_checks_and_types_in_one_pass(tmp_path):
    for name, frame in clean_tables().items():
        frame.to_parquet(tmp_path / f"{name}.parquet") if name != "events" else frame.to_csv(
            tmp_path / "events.csv", index=False
        )
    tables, report = load_tables(
        tmp_path, DATASET, as_of=pd.Timestamp("2024-01-01"), future_rows="warning"
    )
    assert not report.errors and {i.check for i in report.warnings} == {"future"}
    assert tables.events["ts"].dtype == "datetime64[us]" and len(tables.events) == 5


# --- flat mode --------------------------------------------------------------------------
FLAT = FlatDataset(
    mode="flat",
    id="client",
    label="y",
    positive=("yes",),
    numeric=("age", "calls"),
    categorical=("job",),
    time="contacted",
    exclude=("duration",),
)


def flat_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client": [1, 2, 3, 4],
            "age": [30, 41, 52, 29],
            "calls": [1, 3, 2, 5],
            "job": ["admin.", "technician", "admin.", "retired"],
            "contacted": ["2010-01-04"] * 4,
            "duration": [100, 20, 300, 5],
            "y": ["no", "yes", "no", "no"],
        }
    )


def test_clean_flat_file_has_no_issue():
    report = validate_flat(flat_frame(), FLAT)
    assert report.issues == () and report.row_counts == {"flat": 4}


def test_flat_missing_column_shows_the_name_diff_and_a_close_match():
    issues = validate_flat(
        flat_frame().rename(columns={"calls": "n_calls", "duration": "dur"}), FLAT
    ).issues
    assert [(i.column, i.severity) for i in issues] == [("calls", "error"), ("duration", "warning")]
    assert issues[0].message == (
        "flat: declared numeric column 'calls' is missing; in the file but not in the config: "
        "['n_calls', 'dur']; did you mean 'n_calls'? (fix it in the flat dataset config)"
    )


def test_flat_label_numbers_time_and_ids_are_checked():
    frame = flat_frame().assign(
        y=["no", "Yes", "maybe", None],
        age=["30", "forty", "52", "29"],
        contacted=["2010-01-04", "2010-01-04", "someday", "2010-01-05"],
        client=[1, 1, 2, 3],
    )
    messages = {i.check: i.message for i in validate_flat(frame, FLAT).issues}
    assert messages == {
        "missing": "flat.y: 1 row has no label",
        "label": (
            "flat.y: the label has 3 distinct values: 'Yes' (1 row), 'maybe' (1 row), 'no' (1 row); "
            "expected two, one positive and one negative; positive values are ['yes'] "
            "(set 'positive' in the flat dataset config)"
        ),
        "type": messages["type"],
        "unique": "flat.client: 1 id appears more than once (2 rows): 1 (2 rows); each client must be unique",
    }
    types = [i.message for i in validate_flat(frame, FLAT).issues if i.check == "type"]
    assert types == [
        "flat.age: 1 value is not a number: 'forty' (1 row); declared numeric",
        "flat.contacted: 1 value is not a parseable timestamp: 'someday' (1 row); "
        "expected ISO 8601 such as '2024-03-01' or '2024-03-01T09:30:00Z'",
    ]


def test_flat_label_without_a_positive_value_is_an_error():
    issue = only(validate_flat(flat_frame().assign(y=["no", "si", "no", "no"]), FLAT), "label")
    assert issue.message.startswith(
        "flat.y: no label value is positive: 'no' (3 rows), 'si' (1 row)"
    )


def test_flat_scoring_file_may_lack_the_label():
    assert validate_flat(flat_frame().drop(columns=["y"]), FLAT, require_label=False).ok
    assert not validate_flat(flat_frame().drop(columns=["y"]), FLAT).ok


def test_whole_float_codes_read_as_integers_and_huge_ones_keep_their_float_text():
    # a CSV column of integer ids picks up a gap (floats) and one cell of 3.3e22 (beyond
    # int64, found by the fuzz test): the others still read '12', not '12.0'
    column = text_column(pd.Series([1000000308.0, np.nan, 3.3172660172583856e22, 12.0]))
    assert column.iloc[[0, 2, 3]].tolist() == ["1000000308", "3.3172660172583856e+22", "12"]
    assert pd.isna(column.iloc[1])
    ids = parse_ids(pd.Series([7.0, 3.3172660172583856e22]))
    assert ids.values.tolist() == ["7", "3.3172660172583856e+22"]
