import hashlib
import json
import multiprocessing
import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import TRAINING

from leadml.tracking import ensure_store, load_scorer, promote


def test_loading_by_alias_needs_no_pickle_and_matches_in_process(
    champion, demo_data, sql_config, tracking_uri, monkeypatch
):
    from leadml.data.io import read_raw_tables
    from leadml.data.schema import coerce_tables
    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.serving.raw_leads import lead_records

    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    ensure_store(tracking_uri)
    served = mlflow.pyfunc.load_model("models:/leadml-sql@champion")
    scorer, meta = load_scorer("models:/leadml-sql@champion", uri=tracking_uri)
    assert meta["version"] == champion["mlflow"]["version"]
    open_leads = build_scoring_set(
        sql_config, demo_data, as_of=pd.Timestamp("2026-01-01"), spec=scorer.spec
    ).frame
    # raw leads, as a REST client sends them: every lead of the accounts of 100 open ones
    tables = coerce_tables(read_raw_tables(demo_data, sql_config.dataset), sql_config.dataset)
    accounts = tables.leads.loc[
        tables.leads["lead_id"].isin(open_leads["lead_id"].head(100)), "account_id"
    ]
    ids = tables.leads.loc[tables.leads["account_id"].isin(accounts), "lead_id"]
    rows = pd.DataFrame(lead_records(tables, ids, sql_config.dataset))
    remote = served.predict(rows, params={"as_of": "2026-01-01"})
    remote = remote[remote["reject_reason"].isna()].set_index("lead_id")
    local = scorer.score_frame(open_leads).set_index(open_leads["lead_id"]).loc[remote.index]
    assert len(remote) >= 100
    np.testing.assert_allclose(remote["probability"], local["probability"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(remote["points"], local["points"], rtol=0, atol=1e-12)
    assert remote["reasons"].tolist() == local["reasons"].tolist()
    assert set(remote.columns) >= {
        "probability",
        "points",
        "tier",
        "score_fit",
        "score_intent",
        "reasons",
    }


def test_the_gate_refuses_a_worse_challenger_and_says_which_metric(
    champion, demo_data, sql_config, sql_training_set, tracking_uri
):
    from leadml.modeling.training_run import run_training

    weak = sql_config.model_copy(
        update={
            "model": sql_config.model.model_copy(
                update={
                    "num_boost_round": 1,
                    "params": {**sql_config.model.params, "num_leaves": 2},
                }
            )
        }
    )
    report = run_training(weak, demo_data, tracking_uri=tracking_uri, training_set=sql_training_set)
    assert report["champion"]["roc_auc"] == pytest.approx(champion["model"]["roc_auc"], abs=1e-9)
    decision = promote("leadml-sql", uri=tracking_uri, margins=sql_config.promotion)
    assert not decision.promoted
    assert "roc_auc" in decision.message() and "champion" in decision.message()
    client = mlflow.MlflowClient(tracking_uri, registry_uri=tracking_uri)
    assert (
        str(client.get_model_version_by_alias("leadml-sql", "champion").version)
        == champion["mlflow"]["version"]
    )
    # people can force it, and it is recorded; rolling back is moving the alias back
    forced = promote("leadml-sql", uri=tracking_uri, force=True)
    assert forced.promoted
    assert client.get_model_version("leadml-sql", forced.version).tags["leadml.forced"] == "true"
    rollback = promote("leadml-sql", version=champion["mlflow"]["version"], uri=tracking_uri)
    assert rollback.promoted
    assert (
        str(client.get_model_version_by_alias("leadml-sql", "champion").version)
        == champion["mlflow"]["version"]
    )


def test_the_run_logs_config_fingerprint_figures_and_model_card(champion, demo_data, tracking_uri):
    client = mlflow.MlflowClient(tracking_uri, registry_uri=tracking_uri)
    run_id = champion["mlflow"]["run_id"]
    names = {a.path for a in client.list_artifacts(run_id)}
    assert {
        "config.json",
        "data_fingerprint.json",
        "metrics.json",
        "model_card.md",
        "figures",
        "explanations",
    } <= names
    figures = {a.path for a in client.list_artifacts(run_id, "figures")}
    assert {"figures/reliability.png", "figures/gains.png", "figures/shap_beeswarm.png"} <= figures
    metrics = client.get_run(run_id).data.metrics
    assert metrics["test_model_roc_auc"] == pytest.approx(champion["model"]["roc_auc"])
    assert "test_baseline_roc_auc" in metrics and "test_oracle_roc_auc" in metrics

    def artifact(path: str) -> Path:
        return Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, tracking_uri=tracking_uri
            )
        )

    fingerprint = json.loads(artifact("data_fingerprint.json").read_text())
    # the SHA-256 recomputed here: file names then bytes, sorted, the truth left out
    digest = hashlib.sha256()
    files = sorted(p for p in demo_data.iterdir() if p.is_file())
    for path in files:
        if not path.name.startswith("truth"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    assert fingerprint["inputs_sha256"] == digest.hexdigest()
    assert fingerprint["files"] == [p.name for p in files]
    assert fingerprint["summary"]["n_rows"] == champion["sizes"]["n_rows"] > 10_000
    config = json.loads(artifact("config.json").read_text())
    assert config["target"] == {
        "name": "sql",
        "stages": ["sql", "opportunity", "won"],
        "horizon_days": 90,
    }
    assert config["model"]["registered_name"] == "leadml-sql"
    logged = json.loads(artifact("metrics.json").read_text())
    assert logged["model"]["roc_auc"] == pytest.approx(champion["model"]["roc_auc"])
    card = artifact("model_card.md").read_text()
    assert f"| ROC-AUC | {champion['model']['roc_auc']:.3f} |" in card
    png = artifact("figures/reliability.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def _touch_store(uri):
    ensure_store(uri)
    mlflow.set_experiment("parallel")
    return True


def test_a_fresh_store_survives_parallel_first_contact(tmp_path):
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        assert pool.map(_touch_store, [uri] * 4) == [True] * 4
    assert os.path.exists(tmp_path / "fresh.db")
    # one schema, one experiment: the four first contacts did not each create their own
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    names = [e.name for e in client.search_experiments()]
    assert sorted(names) == ["Default", "parallel"]
    run = client.create_run(client.get_experiment_by_name("parallel").experiment_id)
    client.log_metric(run.info.run_id, "x", 1.5)
    assert client.get_run(run.info.run_id).data.metrics == {"x": 1.5}


def test_the_run_records_name_settings_dataset_commit_and_intervals(
    champion, sql_config, tracking_uri
):
    client = mlflow.MlflowClient(tracking_uri, registry_uri=tracking_uri)
    run = client.get_run(champion["mlflow"]["run_id"])
    data_end = champion["sizes"]["data_end"][:10]
    assert run.info.run_name == f"sql 90d · data to {data_end} · sql.yaml"
    params = run.data.params
    # every setting that changes the model is a param, not only LightGBM's
    assert params["target.horizon_days"] == "90"
    assert params["split.train"] == "0.55" and params["split.test"] == "0.2"
    assert params["snapshots.ages_days"] == "0,3,7,14,30,60,90,180,365"
    assert params["model.num_boost_round"] == "2000"
    assert params["lgbm.learning_rate"] == "0.05" and params["lgbm.num_leaves"] == "31"
    assert params["split.purge_days_effective"] == "90"
    assert params["dataset.features.half_life_days"] == "14.0"
    # the training data as a dataset input, with the digest of its inputs
    inputs = run.inputs.dataset_inputs
    assert len(inputs) == 1
    dataset = inputs[0].dataset
    assert dataset.digest and len(dataset.digest) <= 36
    assert json.loads(dataset.profile)["num_rows"] == champion["sizes"]["n_rows"]
    assert [t.value for t in inputs[0].tags if t.key == "mlflow.data.context"] == ["training"]
    # the code's commit
    commit = run.data.tags["leadml.git_commit"]
    assert len(commit) == 40 and run.data.tags["mlflow.source.git.commit"] == commit
    # interval bounds as metrics, bracketing the point estimate
    metrics = run.data.metrics
    low, high = metrics["test_model_roc_auc_ci_low"], metrics["test_model_roc_auc_ci_high"]
    assert low < metrics["test_model_roc_auc"] < high and high - low < 0.05
    assert (
        metrics["test_baseline_lift_top_decile_ci_low"] < metrics["test_baseline_lift_top_decile"]
    )
    # the registry version says what it is
    version = client.get_model_version("leadml-sql", champion["mlflow"]["version"])
    assert f"trained on data to {data_end}" in version.description
    assert f"ROC-AUC {champion['model']['roc_auc']:.3f}" in version.description
    assert f"rule grid {champion['baseline']['roc_auc']:.3f}" in version.description


def test_the_model_card_lists_every_part_of_the_data_window(champion, tracking_uri):
    local = mlflow.artifacts.download_artifacts(
        run_id=champion["mlflow"]["run_id"],
        artifact_path="model_card.md",
        tracking_uri=tracking_uri,
    )
    card = Path(local).read_text()
    window = card.split("## Data window")[1].split("##")[0]
    rows = [line for line in window.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["train", "valid", "calib", "test"]
    test_row = rows[-1].split("|")
    assert test_row[2].strip() == f"{champion['sizes']['test']['n']:,}"
    assert test_row[4].strip() == champion["sizes"]["test"]["as_of_min"]


def test_a_retrain_on_the_same_data_is_refused_with_the_gates_numbers(
    champion, demo_data, sql_config, sql_training_set, tracking_uri
):
    from typer.testing import CliRunner

    from leadml.cli import app
    from leadml.modeling.training_run import run_training

    client = mlflow.MlflowClient(tracking_uri, registry_uri=tracking_uri)
    champion_version = str(client.get_model_version_by_alias("leadml-sql", "champion").version)
    # the gate compares out-of-time evaluation models, so the retrain skips the refit (time)
    no_refit = sql_config.model_copy(
        update={"refit": sql_config.refit.model_copy(update={"enabled": False})}
    )
    report = run_training(
        no_refit, demo_data, tracking_uri=tracking_uri, training_set=sql_training_set
    )
    # deterministic training: the same trees, so no gain over the champion
    assert report["model"]["roc_auc"] == pytest.approx(report["champion"]["roc_auc"], abs=1e-12)
    result = CliRunner().invoke(
        app,
        ["promote", "--model", "leadml-sql", "--tracking-uri", tracking_uri],
    )
    assert result.exit_code == 1
    decision = json.loads(result.stdout)
    assert decision["promoted"] is False and decision["previous_champion"] == champion_version
    by_rule = {c["rule"]: c for c in decision["checks"]}
    champ = by_rule["beats the champion"]
    assert champ["gain"] == pytest.approx(0.0, abs=1e-12) and champ["required"] == 0.002
    assert champ["passed"] is False
    assert by_rule["beats the rule baseline"]["passed"] is True
    assert by_rule["beats the rule baseline"]["challenger"] == pytest.approx(
        report["model"]["roc_auc"]
    )
    assert by_rule["calibrated"]["challenger"] == pytest.approx(report["model"]["ece"])
    text = result.stderr
    assert f"refused (champion was version {champion_version})" in text
    assert (
        "[FAIL] beats the champion: roc_auc" in text and "gain +0.0000, required >= +0.0020" in text
    )
    assert "[pass] beats the rule baseline" in text and "[pass] calibrated: ECE" in text
    assert (
        str(client.get_model_version_by_alias("leadml-sql", "champion").version) == champion_version
    )


def test_the_gate_needs_a_positive_gain_even_with_a_zero_margin():
    from pydantic import ValidationError

    from leadml.config import PromotionSpec
    from leadml.tracking import gate_checks

    assert PromotionSpec().min_gain_over_champion == 0.002
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        PromotionSpec(min_gain_over_champion=-0.01)
    metrics = {"test_model_roc_auc": 0.9, "test_champion_roc_auc": 0.9, "test_model_ece": 0.01}
    zero = PromotionSpec(min_gain_over_champion=0.0)
    (check, _) = gate_checks(metrics, zero, champion_version="1", compared_version="1")
    assert check.rule == "beats the champion" and not check.passed
    better = {**metrics, "test_model_roc_auc": 0.9001}
    assert all(
        c.passed for c in gate_checks(better, zero, champion_version="1", compared_version="1")
    )


def test_run_names_say_the_target_the_data_end_and_the_config(sql_config):
    from leadml.config import load_run_config
    from leadml.tracking import run_name

    assert run_name(sql_config, "2025-12-31T00:00:00") == "sql 90d · data to 2025-12-31 · sql.yaml"
    bank = load_run_config(TRAINING / "bank_marketing.yaml")
    # a flat export ordered by row ends at a row number
    assert run_name(bank, 41187) == "term_deposit · data to row 41187 · bank_marketing.yaml"
    assert run_name(bank, None) == "term_deposit · data to unknown end · bank_marketing.yaml"


def test_no_champion_yet_is_none(tmp_path):
    from mlflow import MlflowClient

    from leadml.tracking import load_champion

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert load_champion("leadml-nothing", uri=uri) is None  # no registered model
    ensure_store(uri)
    MlflowClient().create_registered_model("leadml-empty")
    assert load_champion("leadml-empty", uri=uri) is None  # a model without a champion


def test_the_registered_artifact_is_data_and_a_tampered_file_is_refused(champion, tracking_uri):
    """No code in the store: MLflow imports the loader from the installed package; each
    file is checked against checksums.json before LightGBM reads it."""
    import yaml
    from mlflow import MlflowClient

    from leadml.modeling.scorer import ModelArtifactError

    ensure_store(tracking_uri)
    version = champion["mlflow"]["version"]
    location = MlflowClient().get_model_version_download_uri("leadml-sql", version)
    folder = Path(location.removeprefix("file://"))
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert not [f for f in files if f.endswith((".py", ".pkl", ".pickle", ".cloudpickle"))]
    flavor = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["loader_module"] == "leadml.serving.pyfunc"
    assert "data/leadml_model/checksums.json" in files
    stored = folder / "data" / "leadml_model" / "model.txt"
    original = stored.read_bytes()
    try:
        stored.write_bytes(original[: len(original) // 2])
        with pytest.raises(ModelArtifactError, match="model.txt: changed or damaged"):
            load_scorer(f"models:/leadml-sql/{version}", uri=tracking_uri)
    finally:
        stored.write_bytes(original)
    assert load_scorer(f"models:/leadml-sql/{version}", uri=tracking_uri)[1]["version"] == version
