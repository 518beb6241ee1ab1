"""Leakage audit: flags `duration` on the bank data, nothing on the synthetic CRM."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import typer
from conftest import BANK_CSV
from typer.testing import CliRunner

from leadml.commands import audit as audit_command
from leadml.config import load_run_config
from leadml.modeling.audit import audit_features, single_feature_auc
from leadml.pointintime.trainingset import build_training_set
from leadml.synth import SynthSpec, generate_crm

BANK = BANK_CSV.parent


def _app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as in leadml.cli, even with one command
    audit_command.register(app)
    return app


def test_single_feature_auc_is_direction_free_and_missing_is_a_value() -> None:
    y = np.array([0, 0, 1, 1])
    assert single_feature_auc(pd.Series([1.0, 2.0, 3.0, 4.0]), y, kind="numeric") == 1.0
    assert single_feature_auc(pd.Series([4.0, 3.0, 2.0, 1.0]), y, kind="numeric") == 1.0
    # only the positives are missing: missing alone separates them
    assert single_feature_auc(pd.Series([1.0, 2.0, np.nan, np.nan]), y, kind="numeric") == 1.0
    assert single_feature_auc(pd.Series(["a", "b", "a", "b"]), y, kind="categorical") == 0.5
    assert single_feature_auc(pd.Series(["a", "a", None, None]), y, kind="categorical") == 1.0


def test_audit_flags_duration_on_the_bank_data(tmp_path) -> None:
    report = tmp_path / "audit.json"
    result = CliRunner().invoke(
        _app(),
        [
            "audit",
            "--data",
            str(BANK),
            "--config",
            "training/bank_marketing.yaml",
            "--include",
            "duration",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    saved = json.loads(report.read_text())
    assert [f["name"] for f in saved["flagged"]] == ["duration"]
    duration = next(f for f in saved["features"] if f["name"] == "duration")
    assert (
        duration["auc"] > 0.88 and len(duration["messages"]) == 2
    )  # too predictive (above 0.88 on the train part), and post-outcome
    assert "duration" in result.stderr and "post-outcome" in result.stderr
    assert json.loads(result.stdout)["n_flagged"] == 1


def test_without_duration_the_bank_audit_is_clean_and_still_exits_zero() -> None:
    result = CliRunner().invoke(
        _app(), ["audit", "--data", str(BANK), "--config", "training/bank_marketing.yaml"]
    )
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["n_flagged"] == 0


def test_audit_flags_nothing_on_the_synthetic_crm() -> None:
    config = load_run_config("training/sql.yaml")
    tables = generate_crm(SynthSpec(n_leads=5_000, seed=3)).tables()
    report = audit_features(
        build_training_set(config, None, tables=tables), threshold=config.audit.threshold
    )
    assert report["n_flagged"] == 0, report["flagged"]
    assert report["n_features"] > 90 and report["features"][0]["auc"] < 0.85


def test_an_included_leaky_leads_column_is_flagged() -> None:
    config = load_run_config("training/sql.yaml")
    crm = generate_crm(SynthSpec(n_leads=3_000, seed=4))
    tables = crm.tables()
    # a "lead status" a rep fills in after qualifying: the kind of field that leaks
    qualified = set(tables.outcomes.loc[tables.outcomes["stage"].astype(str) == "sql", "lead_id"])
    leads = tables.leads.assign(
        lead_status=np.where(tables.leads["lead_id"].isin(qualified), "qualified", "open")
    )
    training = build_training_set(
        config, None, tables=tables.replace(leads=leads), include=["lead_status"]
    )
    report = audit_features(training, threshold=0.85)
    assert [f["name"] for f in report["flagged"]] == ["lead_status"]
