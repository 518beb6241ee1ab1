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
