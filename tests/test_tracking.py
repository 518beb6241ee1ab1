import hashlib
import json
import multiprocessing
import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from leadml.tracking import ensure_store, load_scorer, promote


def test_loading_by_alias_needs_no_pickle_and_matches_in_process(
    champion, sql_training_set, tracking_uri, monkeypatch
):
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    ensure_store(tracking_uri)
    served = mlflow.pyfunc.load_model("models:/leadml-sql@champion")
    X, _ = sql_training_set.part("test")
    rows = X.head(300)
    # REST clients send strings for categoricals: the served model gets plain values
    payload = rows.astype(
        {c: object for c in rows.columns if isinstance(rows[c].dtype, pd.CategoricalDtype)}
    )
    remote = served.predict(payload)
    scorer, meta = load_scorer("models:/leadml-sql@champion", uri=tracking_uri)
    local = scorer.score_frame(rows).reset_index(drop=True)
    assert meta["version"] == champion["mlflow"]["version"]
    np.testing.assert_allclose(remote["probability"], local["probability"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(remote["points"], local["points"], atol=1e-9)
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
    client = mlflow.MlflowClient(tracking_uri)
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
    client = mlflow.MlflowClient(tracking_uri)
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
    client = mlflow.MlflowClient(uri)
    names = [e.name for e in client.search_experiments()]
    assert sorted(names) == ["Default", "parallel"]
    run = client.create_run(client.get_experiment_by_name("parallel").experiment_id)
    client.log_metric(run.info.run_id, "x", 1.5)
    assert client.get_run(run.info.run_id).data.metrics == {"x": 1.5}


def test_no_champion_yet_is_none(tmp_path):
    from mlflow import MlflowClient

    from leadml.tracking import load_champion

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert load_champion("leadml-nothing", uri=uri) is None  # no registered model
    ensure_store(uri)
    MlflowClient().create_registered_model("leadml-empty")
    assert load_champion("leadml-empty", uri=uri) is None  # a model without a champion
