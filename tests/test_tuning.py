"""`leadml tune`: TPE on the valid part only, nested MLflow runs, a tuned config, a challenger."""

import json
from pathlib import Path

import mlflow
import optuna
import pytest
import yaml
from conftest import TRAINING

from leadml.config import load_run_config
from leadml.modeling.tuning import SEARCH_SPACE, _pruning_callback, run_tuning, search_parameters


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    from leadml.synth import SynthSpec, write_demo_data

    out = tmp_path_factory.mktemp("tune") / "data"
    write_demo_data(out, SynthSpec(n_leads=2500, seed=9))
    return out


@pytest.fixture(scope="module")
def config():
    # small demo data: keep the holdout split (a valid part to judge trials on)
    config = load_run_config(TRAINING / "sql.yaml")
    return config.model_copy(
        update={"small_data": config.small_data.model_copy(update={"max_rows": 0})}
    )


def test_tune_refuses_a_training_set_without_a_valid_part(small_data):
    from leadml.pointintime.trainingset import build_training_set

    shipped = load_run_config(TRAINING / "sql.yaml")  # 2,500 leads: cross-fitting mode
    with pytest.raises(ValueError, match=r"tune needs a valid part.*small_data: \{max_rows: 0\}"):
        search_parameters(build_training_set(shipped, small_data), shipped, trials=1)


@pytest.fixture(scope="module")
def tuned(config, small_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tuned")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    summary = run_tuning(
        config,
        small_data,
        trials=4,
        out_config=folder / "sql.tuned.yaml",
        tracking_uri=uri,
        cache_dir=folder / "cache",
    )
    return summary, uri, folder


class _Recording:
    """A training set that records which parts are read."""

    def __init__(self, training_set):
        self.training_set, self.read = training_set, []
        self.frame = training_set.frame
        self.catalogue = training_set.catalogue  # the declared directions (monotone constraints)

    def part(self, name):
        self.read.append(name)
        return self.training_set.part(name)


def test_the_search_reads_the_train_and_valid_parts_only(config, small_data):
    from leadml.pointintime.trainingset import build_training_set

    recording = _Recording(build_training_set(config, small_data))
    result = search_parameters(recording, config, trials=2)
    assert set(recording.read) == {"train", "valid"}
    assert len(result.trials) == 2
    # the first trial is the shipped configuration: the best is never worse on valid
    assert result.trials[0].params["num_leaves"] == 31
    assert result.best_valid_auc >= result.shipped_valid_auc


def test_the_pruner_is_told_the_valid_auc_and_stops_the_trial():
    class Trial:
        reported = []

        def report(self, value, step):
            self.reported.append((step, value))

        def should_prune(self):
            return True

    class Env:
        iteration = 20
        evaluation_result_list = [("valid", "auc", 0.81, True)]

    last = {}
    with pytest.raises(optuna.TrialPruned, match="valid auc 0.8100 at round 20"):
        _pruning_callback(Trial(), last)(Env())
    assert Trial.reported == [(20, 0.81)] and last == {"round": 20, "auc": 0.81}


def test_tune_writes_the_best_params_to_a_config_and_registers_a_challenger(tuned, config):
    summary, uri, folder = tuned
    written = load_run_config(summary["config"])
    for name, value in summary["best_params"].items():
        assert written.model.params[name] == value
    # everything else is the shipped config, and the data mapping still resolves
    assert written.target == config.target and written.split == config.split
    assert written.dataset == config.dataset
    header = (folder / "sql.tuned.yaml").read_text().splitlines()[0]
    assert header.startswith("# Tuned by `leadml tune` from sql.yaml: 4 trials")
    assert (
        yaml.safe_load((folder / "sql.tuned.yaml").read_text())["model"]["num_boost_round"] == 2000
    )
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    challenger = client.get_model_version_by_alias("leadml-sql", "challenger")
    assert str(challenger.version) == summary["challenger"]["version"]
    run = client.get_run(challenger.run_id)
    assert run.data.tags["leadml.tuning_run_id"] == summary["tuning_run_id"]
    assert run.data.metrics["test_model_roc_auc"] == pytest.approx(summary["test_roc_auc"]["tuned"])
    assert run.data.params["lgbm.num_leaves"] == str(summary["best_params"]["num_leaves"])


def test_each_trial_is_a_nested_run_under_the_study(tuned):
    summary, uri, _ = tuned
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    parent = client.get_run(summary["tuning_run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name.startswith("tune sql 90d · data to ")
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert len(children) == 4
    for child in children:
        assert child.data.tags["leadml.trial_state"] in {"complete", "pruned"}
        assert 0.5 < child.data.metrics["valid_auc"] <= 1.0
        assert set(child.data.params) == {f"lgbm.{name}" for name in SEARCH_SPACE}
    best = max(c.data.metrics["valid_auc"] for c in children)
    assert parent.data.metrics["valid_auc_tuned"] == pytest.approx(best)
    assert parent.data.metrics["test_roc_auc_gain"] == pytest.approx(
        summary["test_roc_auc"]["gain"]
    )
    local = mlflow.artifacts.download_artifacts(
        run_id=parent.info.run_id, artifact_path="tuning.json", tracking_uri=uri
    )
    tuning = json.loads(Path(local).read_text())
    assert tuning["best_params"] == summary["best_params"]


def test_the_report_compares_shipped_and_tuned_out_of_time(tuned):
    summary, _, _ = tuned
    test = summary["test_roc_auc"]
    assert test["gain"] == pytest.approx(test["tuned"] - test["shipped"])
    assert 0.6 < test["shipped"] < test["oracle"] and 0.6 < test["tuned"] < test["oracle"]
    assert test["tuned_share_of_oracle"] == pytest.approx(test["tuned"] / test["oracle"])
    assert summary["valid_roc_auc"]["tuned"] >= summary["valid_roc_auc"]["shipped"]
