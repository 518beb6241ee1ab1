"""Training and scoring sets: one code path, censoring, purging, the CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from leadml.commands import build_training_set as build_command
from leadml.config import load_run_config
from leadml.pointintime.split import PARTS
from leadml.pointintime.trainingset import build_scoring_set, build_training_set
from leadml.synth import SynthSpec, generate_crm


@pytest.fixture(scope="module")
def tables():
    return generate_crm(SynthSpec(n_leads=3_000, seed=11)).tables()


@pytest.fixture(scope="module")
def config():
    """The four-part holdout layout: 3,000 leads are below small_data.max_rows, which would
    cross-fit inside train and carve out train | test only (tests/test_backtest.py)."""
    config = load_run_config("training/sql.yaml")
    return config.model_copy(
        update={"small_data": config.small_data.model_copy(update={"max_rows": 0})}
    )


@pytest.fixture(scope="module")
def training(config, tables):
    return build_training_set(config, None, tables=tables)


def test_frame_layout_keys_split_label_then_features_in_spec_order(training) -> None:
    frame = training.frame
    assert list(frame.columns) == ["lead_id", "as_of", "split", "label", *training.spec.names]
    assert frame["label"].dtype == np.int8
    assert set(frame["split"]) == set(PARTS)
    assert training.catalogue.names == training.spec.names
    for name in training.spec.categorical:
        assert list(frame[name].cat.categories) == list(training.spec[name].categories)
    X, y = training.part("valid")
    assert (
        list(X.columns) == list(training.spec.names)
        and len(X) == len(y) == (frame["split"] == "valid").sum()
    )
    with pytest.raises(ValueError, match="unknown part 'holdout'"):
        training.part("holdout")


def test_censored_snapshots_never_appear_and_parts_respect_the_purge_gap(training, config) -> None:
    s = training.summary
    end = pd.Timestamp(s["data_end"])
    horizon = pd.Timedelta(days=config.target.horizon_days)
    assert (training.frame["as_of"] + horizon <= end).all()
    assert s["censored"] > 0 and s["purged"] > 0
    assert s["n_snapshots"] == s["n_rows"] + s["censored"] + s["purged"]
    by_part = training.frame.groupby("split")["as_of"].agg(["min", "max"])
    # the documented default (training/sql.yaml): purge_days unset -> the 90-day horizon
    assert s["purge_days"] == 90
    gap = pd.Timedelta(days=90)
    for earlier, later in zip(PARTS, PARTS[1:], strict=False):
        assert by_part.loc[earlier, "max"] + gap <= by_part.loc[later, "min"]
    assert sum(s[p]["n"] for p in PARTS) == s["n_rows"]
    json.dumps(s)  # the summary is JSON-ready


def test_categories_are_fixed_on_the_train_part_only(training) -> None:
    train = training.frame[training.frame["split"] == "train"]
    for name in training.spec.categorical:
        seen = set(train[name].dropna().astype(str))
        assert set(training.spec[name].categories) == seen


def test_scoring_at_t_equals_the_training_row_at_t(training, config, tables) -> None:
    rows = training.frame.sample(12, random_state=3)
    for _, row in rows.iterrows():
        scoring = build_scoring_set(
            config, None, as_of=row["as_of"], spec=training.spec, tables=tables
        )
        X = scoring.X[scoring.frame["lead_id"].to_numpy() == row["lead_id"]]
        assert len(X) == 1
        expected = training.frame.loc[[row.name], list(training.spec.names)].reset_index(drop=True)
        pd.testing.assert_frame_equal(X.reset_index(drop=True), expected)


def test_scoring_set_holds_every_open_lead(training, config, tables) -> None:
    from leadml.pointintime.snapshots import scoring_snapshots

    as_of = pd.Timestamp("2025-06-01")
    scoring = build_scoring_set(config, None, as_of=as_of, spec=training.spec, tables=tables)
    expected = scoring_snapshots(tables.leads, tables.outcomes, as_of=as_of)
    assert scoring.n_open_leads == len(expected) == len(scoring.frame) == len(scoring.X)
    assert (scoring.frame["as_of"] == as_of).all()
    assert scoring.frame["lead_id"].tolist() == expected["lead_id"].tolist()


def test_the_training_set_does_not_depend_on_input_row_order(config, tables, training) -> None:
    rng = np.random.default_rng(0)
    shuffled = tables.replace(
        **{
            name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
            for name, frame in tables.items()
        }
    )
    again = build_training_set(config, None, tables=shuffled)
    pd.testing.assert_frame_equal(again.frame, training.frame)


def test_the_won_target_uses_its_own_stages_and_horizon(tables) -> None:
    won = build_training_set(load_run_config("training/won.yaml"), None, tables=tables)
    assert won.summary["horizon_days"] == 180 and won.summary["target_stages"] == ["won"]
    assert won.summary["positives"] < won.summary["n_rows"]


def test_cli_writes_the_training_set_and_prints_the_summary(tmp_path, tables) -> None:
    from leadml.synth import write_demo_data

    data = tmp_path / "data"
    write_demo_data(data, SynthSpec(n_leads=1_500, seed=5))
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as in leadml.cli, even with one command
    build_command.register(app)
    out = tmp_path / "ts.parquet"
    result = CliRunner().invoke(
        app,
        [
            "build-training-set",
            "--data",
            str(data),
            "--config",
            "training/sql.yaml",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(out)
    assert list(written.columns[:4]) == ["lead_id", "as_of", "split", "label"]
    assert "censored" in result.stderr and "train" in result.stderr
    assert json.loads(result.stdout)["n_rows"] == len(written)


def test_parts_hold_the_same_rows_when_the_frame_is_not_in_time_order(training) -> None:
    """Parts are sliced when contiguous (the usual time order) and gathered otherwise."""
    shuffled = dataclasses.replace(training, frame=training.frame.sample(frac=1, random_state=0))
    for name in PARTS:
        X, y = shuffled.part(name)
        rows = shuffled.frame[shuffled.frame["split"] == name]
        pd.testing.assert_frame_equal(X, rows[list(training.spec.names)].reset_index(drop=True))
        np.testing.assert_array_equal(y, rows["label"].to_numpy(dtype=np.int8))
        assert len(X) == len(training.part(name)[0]) > 0
