"""The dataset of a run (leadml.pointintime.dataset): the mode decided once, from parsed keys."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import TRAINING

from leadml.config import FlatDataset, RunConfig, load_config, load_run_config
from leadml.pointintime.dataset import EventTables, FlatExport, dataset_for
from leadml.pointintime.trainingset import build_training_set, purge_gap
from leadml.tracking import run_params


def _flat_config(**dataset) -> RunConfig:
    base = dict(
        mode="flat",
        label="converted",
        positive=("yes",),
        numeric=("visits", "secret"),
        categorical=("plan",),
        exclude=("secret",),
        post_outcome=("secret",),
    )
    return RunConfig(dataset=FlatDataset(**{**base, **dataset}))


def _export(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "visits": rng.integers(0, 9, n),
            "secret": rng.normal(size=n),
            "plan": rng.choice(["free", "pro"], n),
            "converted": rng.choice(["yes", "no"], n),
        }
    )


def test_the_config_mode_picks_the_dataset_and_what_it_says_about_a_run() -> None:
    sql = dataset_for(load_run_config(TRAINING / "sql.yaml"))
    bank = dataset_for(load_run_config(TRAINING / "bank_marketing.yaml"))
    assert isinstance(sql, EventTables) and isinstance(bank, FlatExport)
    assert (sql.name, sql.scores_every_row, sql.target_label) == ("events", False, "sql 90d")
    assert (bank.name, bank.scores_every_row, bank.target_label) == ("flat", True, "term_deposit")
    assert sql.post_outcome == () and bank.post_outcome == ("duration",)
    assert sql.segment_columns(["industry", "x", "source"]) == ["source", "industry"]
    assert bank.segment_columns(["age", "job", "marital", "education"]) == ["job", "marital"]


def test_a_dataset_refuses_a_config_of_the_other_mode() -> None:
    bank = load_run_config(TRAINING / "bank_marketing.yaml")
    with pytest.raises(TypeError, match="EventTables reads a EventDataset config; got FlatDataset"):
        EventTables(bank)


def test_a_bare_dataset_config_is_told_by_its_keys_not_its_text(tmp_path) -> None:
    # flow style, one line: no "tables:" at the start of any line
    dataset = load_run_config(TRAINING / "sql.yaml").dataset.model_dump(mode="json")
    flow = tmp_path / "crm.yaml"
    flow.write_text(json.dumps(dataset), encoding="utf-8")
    assert isinstance(dataset_for(load_config(flow)), EventTables)
    # a run config that only mentions tables in a comment and a value stays a run config
    run = tmp_path / "run.yaml"
    run.write_text(
        "# tables: declared in the dataset file\n"
        "dataset: crm.yaml\n"
        "target: {name: sql}\n"
        "point_grid: |\n  tables:\n",
        encoding="utf-8",
    )
    config = load_config(run)
    assert config.point_grid == "tables:\n" and isinstance(dataset_for(config), EventTables)


def test_the_purge_gap_is_the_horizon_in_event_mode_rows_or_days_in_flat_mode() -> None:
    sql = load_run_config(TRAINING / "sql.yaml")
    rows = pd.Series(np.arange(5))
    days = pd.Series(pd.date_range("2025-01-01", periods=5))
    assert purge_gap(sql, days) == pd.Timedelta(days=90)
    flat = _flat_config().model_copy(
        update={"split": sql.split.model_copy(update={"purge_days": 3})}
    )
    assert purge_gap(flat, rows) == 3
    assert purge_gap(flat, days) == pd.Timedelta(days=3)


def test_the_training_set_is_the_datasets_over_what_it_reads() -> None:
    config = _flat_config()
    dataset = dataset_for(config)
    direct = dataset.training_set(dataset.read(_export()))
    built = build_training_set(config, _export())
    pd.testing.assert_frame_equal(direct.frame, built.frame)
    assert direct.summary == built.summary
    assert built.summary["mode"] == "flat" and built.summary["n_labelled"] == 60
    assert list(built.catalogue.names) == ["visits", "plan"]
    readmitted = dataset.training_set(dataset.read(_export()), include=["secret"])
    assert "secret" in readmitted.spec.names and readmitted.summary["included"] == ["secret"]


def test_a_flat_file_read_for_scoring_needs_no_label() -> None:
    dataset = dataset_for(_flat_config())
    unlabelled = _export().drop(columns="converted")
    with pytest.raises(ValueError, match="converted"):
        dataset.read(unlabelled)
    as_of = pd.Timestamp("2026-01-01")
    rows, n_open = dataset.scoring_rows(dataset.read(unlabelled, as_of=as_of), as_of=as_of)
    assert n_open == 60 and (rows["as_of"] == as_of).all()
    assert list(rows.columns) == ["lead_id", "as_of", "visits", "plan"]


def test_event_mode_needs_the_tables_to_readmit_a_column() -> None:
    dataset = dataset_for(load_run_config(TRAINING / "sql.yaml"))
    assert dataset.catalogue().names == dataset.catalogue(None, include=()).names
    with pytest.raises(ValueError, match=r"re-admitting \['owner'\] needs the tables"):
        dataset.catalogue(include=["owner"])


def test_mlflow_params_log_each_modes_own_dataset_settings() -> None:
    sql = run_params(load_run_config(TRAINING / "sql.yaml"), {})
    bank = run_params(load_run_config(TRAINING / "bank_marketing.yaml"), {})
    assert sql["dataset.closed_stages"] == "sql,opportunity,won,lost,disqualified"
    assert "dataset.icp.employees_min" in sql and "dataset.label" not in sql
    assert bank["dataset.label"] == "y" and bank["dataset.exclude"].startswith("duration,")
    assert not any(k.startswith("dataset.icp") for k in bank)


def test_the_lead_cards_of_a_flat_export_without_ids_name_rows_as_the_scores_do(tmp_path) -> None:
    # the UCI bank export has no id column: its scores are keyed by row number, and so are
    # the leads `leadml report` reads (it failed with "leads: missing columns ['lead_id']")
    path = tmp_path / "export.csv"
    _export(5).to_csv(path, index=False)
    leads, accounts, events = dataset_for(_flat_config()).report_tables(path)
    assert leads["lead_id"].tolist() == [0, 1, 2, 3, 4]
    assert leads["visits"].tolist() == _export(5)["visits"].tolist()
    assert accounts.empty and events.empty
    with_ids = tmp_path / "with_ids.csv"
    _export(3).assign(ref=["a", "b", "c"]).to_csv(with_ids, index=False)
    leads, _, _ = dataset_for(_flat_config(id="ref")).report_tables(with_ids)
    assert leads["lead_id"].tolist() == ["a", "b", "c"]
