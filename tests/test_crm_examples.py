"""The worked examples: Salesforce- and HubSpot-shaped exports read through their configs.

Small exports are generated from the synthetic CRM; read through
``training/examples/salesforce.yaml`` (DuckDB's SQL over the export folder) and
``training/examples/hubspot.yaml`` (plain files), they must give the training set
the contract-named tables give.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import TRAINING
from typer.testing import CliRunner

from leadml.config import RunConfig, load_dataset_config
from leadml.data.io import read_raw_tables
from leadml.data.schema import coerce_tables


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    from leadml.synth import SynthSpec, write_demo_data

    folder = tmp_path_factory.mktemp("examples") / "contract"
    write_demo_data(folder, SynthSpec(n_leads=1500, seed=21))
    return folder


@pytest.fixture(scope="module")
def exports(crm, tmp_path_factory):
    from leadml.synth.exports import write_hubspot_export, write_salesforce_export

    dataset = load_dataset_config(TRAINING / "dataset.yaml")
    tables = coerce_tables(read_raw_tables(crm, dataset), dataset)
    root = tmp_path_factory.mktemp("exports")
    return {
        "salesforce": write_salesforce_export(tables, root / "salesforce"),
        "hubspot": write_hubspot_export(tables, root / "hubspot"),
    }


def _data(shape: str, folder) -> str:
    return f"duckdb://{folder}" if shape == "salesforce" else str(folder)


@pytest.mark.parametrize("shape", ["salesforce", "hubspot"])
def test_the_example_export_validates_without_an_issue(shape, exports):
    from leadml.cli import app

    config = TRAINING / "examples" / f"{shape}.yaml"
    result = CliRunner().invoke(
        app, ["validate", "--data", _data(shape, exports[shape]), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["n_errors"] == 0 and summary["n_warnings"] == 0


@pytest.mark.parametrize("shape", ["salesforce", "hubspot"])
def test_the_example_export_gives_the_contract_training_set(shape, exports, crm, sql_config):
    from leadml.pointintime.trainingset import build_training_set

    dataset = load_dataset_config(TRAINING / "examples" / f"{shape}.yaml")
    config = sql_config.model_copy(update={"dataset": dataset})
    from_export = build_training_set(config, _data(shape, exports[shape])).frame
    expected = build_training_set(sql_config, crm).frame
    assert len(from_export) == len(expected) > 3000
    # Salesforce ids are text ("00QDn0000000000042"); everything else is identical
    ids = from_export["lead_id"].astype(str).str.removeprefix("00QDn").astype("int64")
    assert ids.tolist() == expected["lead_id"].tolist()
    pd.testing.assert_frame_equal(
        from_export.drop(columns="lead_id"), expected.drop(columns="lead_id"), check_dtype=False
    )


def test_the_salesforce_placeholders_and_booleans_are_read(exports):
    dataset = load_dataset_config(TRAINING / "examples" / "salesforce.yaml")
    tables = read_raw_tables(f"duckdb://{exports['salesforce']}", dataset)
    raw_industry = pd.read_csv(exports["salesforce"] / "Account.csv")["Industry"]
    n_none = int((raw_industry == "--None--").sum())
    assert n_none > 0 and int(tables.accounts["industry"].isna().sum()) == n_none
    opted_out = tables.leads["HasOptedOutOfEmail"]
    assert opted_out.dtype == "float64" and set(opted_out.unique()) == {0.0, 1.0}
    assert set(tables.outcomes["stage"]) == {
        "mql",
        "sql",
        "opportunity",
        "won",
        "lost",
        "disqualified",
    }


def test_a_run_config_can_name_an_example_dataset(tmp_path):
    run = tmp_path / "sf_sql.yaml"
    run.write_text(
        f"dataset: {TRAINING / 'examples' / 'salesforce.yaml'}\n"
        "target: {name: sql, stages: [sql, opportunity, won], horizon_days: 90}\n"
    )
    from leadml.config import load_run_config

    config = load_run_config(run)
    assert isinstance(config, RunConfig) and config.dataset.tables["events"].query.startswith(
        "select WhoId"
    )


def _leads_csv(n: int, seed: int) -> pd.DataFrame:
    """A Leads.csv-like export: spaces in names, 'Select' placeholders, Yes/No text."""
    import numpy as np

    rng = np.random.default_rng(seed)
    origin = rng.choice(["API", "Landing Page Submission", "Lead Add Form", "Lead Import"], n)
    minutes = rng.gamma(1.5, 350, n).round()
    occupation = rng.choice(["Unemployed", "Working Professional", "Student", "Select"], n)
    logit = (
        -1.8
        + 0.0021 * minutes
        + 2.0 * (origin == "Lead Add Form")
        + 1.2 * (occupation == "Working Professional")
    )
    converted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "Prospect ID": [f"{i:08x}-lead" for i in range(n)],
            "Lead Origin": origin,
            "Lead Source": rng.choice(["Google", "google", "Direct Traffic", "Olark Chat"], n),
            "Do Not Email": rng.choice(["No", "Yes"], n, p=[0.92, 0.08]),
            "Do Not Call": "No",
            "Converted": converted,
            "TotalVisits": rng.poisson(3, n),
            "Total Time Spent on Website": minutes,
            "Page Views Per Visit": rng.gamma(2, 1.2, n).round(2),
            "Last Activity": rng.choice(["Email Opened", "SMS Sent", "Page Visited on Website"], n),
            "Specialization": rng.choice(
                ["Select", "Finance Management", "Marketing Management"], n
            ),
            "What is your current occupation": occupation,
            "City": rng.choice(["Mumbai", "Select", "Thane & Outskirts"], n),
            # filled in by sales after the outcome: a leak the audit must flag
            "Tags": np.where(converted == 1, "Will revert after reading the email", "Ringing"),
            "Lead Quality": rng.choice(["Might be", "Not Sure"], n),
            "A free copy of Mastering The Interview": rng.choice(["No", "Yes"], n),
        }
    )


def test_the_leads_export_example_cleans_placeholders_and_flags_the_staff_filled_column(
    tmp_path,
):
    from leadml.cli import app
    from leadml.config import load_dataset_config
    from leadml.modeling.audit import audit_features
    from leadml.pointintime.trainingset import build_training_set

    _leads_csv(2000, seed=4).to_csv(tmp_path / "Leads.csv", index=False)
    config_path = TRAINING / "examples" / "leads_export.yaml"
    result = CliRunner().invoke(
        app, ["validate", "--data", str(tmp_path / "Leads.csv"), "--config", str(config_path)]
    )
    assert result.exit_code == 0, result.output
    config = RunConfig(dataset=load_dataset_config(config_path))
    ts = build_training_set(config, tmp_path, include=["Tags"])
    spec = ts.spec
    assert spec["Specialization"].categories == ("Finance Management", "Marketing Management")
    assert spec["Lead_Source"].categories == ("Direct Traffic", "Google", "Olark Chat")
    assert spec["Lead_Source"].source == "Lead Source"
    assert set(ts.frame["Do_Not_Email"].unique()) == {0.0, 1.0}
    audit = audit_features(ts, threshold=0.85, post_outcome=config.dataset.post_outcome)
    assert [f["name"] for f in audit["flagged"]] == ["Tags"]
    assert audit["flagged"][0]["auc"] == 1.0
