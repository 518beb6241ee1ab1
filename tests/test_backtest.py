"""Rolling-origin backtest and the refit on a small flat export whose newest rows teach most."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from leadml.config import FlatDataset, ModelSpec, RunConfig, SmallDataSpec

N_ROWS = 6_000
GRID = """
name: test grid
thresholds: {mql: 10, sales: 30}
rules:
  - {name: many_visits, feature: visits, op: ">=", value: 5, points: 20}
  - {name: pro_plan, feature: plan, op: "==", value: pro, points: 15}
"""


def _export(n: int = N_ROWS, seed: int = 3) -> pd.DataFrame:
    """Rows in time order; the weight of ``b`` grows from 0 to 2, so newer rows teach more."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    visits = rng.integers(0, 10, n)
    plan = rng.choice(["free", "pro"], n)
    logit = 1.2 * a + np.linspace(0.0, 2.0, n) * b + 0.15 * visits + 0.5 * (plan == "pro") - 2.5
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {"a": a, "b": b, "visits": visits, "plan": plan,
         "converted": np.where(converted, "yes", "no")}
    )  # fmt: skip


def _config(tmp_path, **updates) -> RunConfig:
    (tmp_path / "grid.yaml").write_text(GRID)
    config = RunConfig(
        dataset=FlatDataset(
            mode="flat", label="converted", positive=("yes",),
            numeric=("a", "b", "visits"), categorical=("plan",),
        ),
        model=ModelSpec(
            registered_name="leadml-test",
            params={"learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 40,
                    "min_gain_to_split": 0.0, "num_threads": 1, "verbose": -1},
            num_boost_round=400,
            early_stopping_rounds=20,
        ),
        point_grid=str(tmp_path / "grid.yaml"),
        split={"train": 0.55, "valid": 0.15, "calib": 0.10, "test": 0.20, "purge_days": 30},
        backtest={"folds": 3, "initial_fraction": 0.4},
    )  # fmt: skip
    return config.model_copy(update=updates)


@pytest.fixture(scope="module")
def export_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("flat") / "export.csv"
    _export().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def backtest_report(export_file, tmp_path_factory):
    from leadml.modeling.backtest import run_backtest

    out = tmp_path_factory.mktemp("backtest")
    return run_backtest(
        _config(out),
        export_file,
        tracking_uri=f"sqlite:///{out / 'mlflow.db'}",
        report_path=out / "backtest.json",
        figure_path=out / "backtest.png",
    ), out


def test_folds_are_time_ordered_purged_and_cover_the_rows_after_the_start(backtest_report):
    report, _ = backtest_report
    folds = report["folds"]
    assert [f["fold"] for f in folds] == [1, 2, 3] and report["n_labelled"] == N_ROWS
    # the last 60 % in 3 blocks of 800 rows; training stops 30 rows (the purge gap) before
    assert [f["n_test"] for f in folds] == [1_200, 1_200, 1_200]
    for fold in folds:
        assert fold["train_range"][1] + 30 < fold["test_range"][0]
        assert fold["purged"] == 30
    assert [f["n_train"] for f in folds] == [2_370, 3_570, 4_770]


def test_each_fold_scores_every_arm_on_the_same_rows(backtest_report):
    report, _ = backtest_report
    for fold in report["folds"]:
        for arm in ("refit", "oldest_part", "baseline"):
            assert fold[arm]["n"] == fold["n_test"] and fold[arm]["positives"] == fold["positives"]
        assert "oracle" not in fold  # flat data: no generator truth
        # the refit learns from the whole window, the oldest part from 55/80 of it, purged
        assert fold["refit"]["n_train"] == fold["n_train"]
        assert fold["oldest_part"]["n_train"] < 0.7 * fold["n_train"]
        # below small_data.max_rows the window is cross-fitted, nothing carved out
        assert fold["refit"]["fit_mode"] == "crossfit"
        assert fold["refit"]["roc_auc"] > fold["baseline"]["roc_auc"] + 0.05
    pooled = report["pooled"]
    assert pooled["refit"]["n"] == 3_600 and pooled["refit"]["folds"] == 3
    assert set(pooled) == {"refit", "oldest_part", "baseline"}


def test_refit_beats_the_oldest_part_when_newer_rows_teach_more(backtest_report):
    report, _ = backtest_report
    for fold in report["folds"][1:]:
        assert fold["refit_minus_oldest_part_roc_auc"] > 0.0
    assert report["refit_beats_oldest_part_after_first_fold"] is True
    assert report["pooled"]["refit"]["roc_auc"] > report["pooled"]["oldest_part"]["roc_auc"]
    assert report["pooled"]["refit"]["ece"] < 0.05


def test_the_backtest_writes_json_figure_and_an_mlflow_run(backtest_report):
    from mlflow import MlflowClient

    report, out = backtest_report
    written = json.loads((out / "backtest.json").read_text())
    assert written["pooled"]["refit"]["roc_auc"] == pytest.approx(
        report["pooled"]["refit"]["roc_auc"]
    )
    assert (out / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = MlflowClient(f"sqlite:///{out / 'mlflow.db'}").get_run(report["mlflow"]["run_id"])
    assert (
        run.data.params["backtest_folds"] == "3"
        and run.data.params["backtest_window"] == "expanding"
    )
    assert run.data.metrics["pooled_refit_roc_auc"] == pytest.approx(
        report["pooled"]["refit"]["roc_auc"]
    )


def test_small_data_training_registers_the_refit_on_every_labelled_row(export_file, tmp_path):
    from leadml.modeling.training_run import run_training

    report = run_training(_config(tmp_path), export_file, log_to_mlflow=False)
    sizes = report["sizes"]
    # small data: train | test only, the purge gap once between them
    assert report["fit_mode"] == "crossfit" and sizes["valid"]["n"] == sizes["calib"]["n"] == 0
    assert sizes["train"]["n"] + sizes["test"]["n"] + sizes["purged"] == N_ROWS
    assert report["evaluation_model"]["crossfit"]["folds"][0]["n_test"] > 0
    refit = report["refit"]
    assert report["registered_model"] == "refit" and refit["n_rows"] == N_ROWS
    # the evaluation model's rounds, found on the cross-fitted training rows, scaled to all rows
    evaluation = report["evaluation_model"]
    expected = round(evaluation["reference_rounds"] * N_ROWS / evaluation["reference_rows"])
    assert refit["rounds"] == expected
    assert report["model"]["roc_auc"] > report["baseline"]["roc_auc"]
    assert refit["out_of_fold"]["ece"] < 0.05


def test_large_data_keeps_the_holdout_and_refits_with_scaled_rounds(export_file, tmp_path):
    from leadml.modeling.training_run import run_training

    config = _config(tmp_path, small_data=SmallDataSpec(max_rows=1_000))
    report = run_training(config, export_file, log_to_mlflow=False)
    assert report["fit_mode"] == "holdout" and report["sizes"]["valid"]["n"] > 0
    n_train = report["sizes"]["train"]["n"]
    assert report["evaluation_model"]["reference_rows"] == n_train
    assert report["refit"]["rounds"] == round(report["best_iteration"] * N_ROWS / n_train)
