"""Fuzzing the data contract: corrupted tables never give a traceback, and no lead is lost.

Hypothesis corrupts a small valid CRM (cells emptied, replaced by text or numbers, rows
duplicated or dropped, a column removed), writes it as CSV and runs ``leadml score`` on
it in process. The job either stops with a data error (exit 1, no traceback, nothing
written) or succeeds, and then every lead open in the clean data is in the scores or in
the rejects, never in both, and the manifest's counts add up.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TRAINING
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from leadml.cli import app
from leadml.config import load_run_config
from leadml.modeling.train import train_scorer
from leadml.pointintime.trainingset import build_training_set

AS_OF = "2025-10-01"
TABLES = ("accounts", "leads", "events", "intent", "outcomes")


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict:
    """A 600-lead CRM as CSV, a scorer trained on it (small settings), the leads open at AS_OF."""
    from leadml.synth import SynthSpec, write_demo_data

    root = tmp_path_factory.mktemp("fuzz")
    write_demo_data(root / "parquet", SynthSpec(n_leads=600, seed=5, months=24))
    tables = {name: pd.read_parquet(root / "parquet" / f"{name}.parquet") for name in TABLES}
    config = load_run_config(TRAINING / "sql.yaml")
    config = config.model_copy(
        update={
            "small_data": config.small_data.model_copy(update={"max_rows": 0}),
            "refit": config.refit.model_copy(update={"enabled": False}),
            "model": config.model.model_copy(
                update={"num_boost_round": 30, "early_stopping_rounds": 10}
            ),
        }
    )
    scorer = train_scorer(build_training_set(config, root / "parquet"), config).scorer
    scorer.save(root / "model")
    out = root / "clean_scores"
    result = _score(root / "parquet", root / "model", out)
    assert result.exit_code == 0, result.output
    open_ids = set(pd.read_parquet(out / "scores.parquet")["lead_id"]) | set(
        pd.read_parquet(out / "rejects.parquet")["lead_id"]
    )
    return {"tables": tables, "model": root / "model", "open": open_ids}


def _score(data: Path, model: Path, out: Path):
    return CliRunner().invoke(
        app,
        [
            "--quiet",
            "score",
            "--data",
            str(data),
            "--config",
            str(TRAINING / "dataset.yaml"),
            "--model",
            str(model),
            "--as-of",
            AS_OF,
            "--out",
            str(out),
            "--no-mlflow",
        ],
    )


VALUES = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=12),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["2025-13-45", "yesterday", "1e308", "NaT", "0", "-1", "N/A", "1970-01-01"]),
)


@st.composite
def corruptions(draw) -> list[tuple]:
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from(TABLES))
        kind = draw(st.sampled_from(["cells", "cells", "duplicate", "drop_rows", "drop_column"]))
        steps.append(
            (
                table,
                kind,
                draw(st.integers(0, 30)),  # column pick
                draw(st.sampled_from([0.01, 0.1, 0.5, 1.0])),  # share of rows
                draw(VALUES),
                draw(st.integers(0, 2**31)),  # row seed
            )
        )
    return steps


def _corrupt(tables: dict[str, pd.DataFrame], steps: list[tuple]) -> dict[str, pd.DataFrame]:
    tables = {name: frame.astype(object) for name, frame in tables.items()}
    for table, kind, column_pick, share, value, seed in steps:
        frame = tables[table]
        rng = np.random.default_rng(seed)
        rows = rng.random(len(frame)) < share
        # the lead id stays: the test follows each clean open lead by it
        columns = [c for c in frame.columns if not (table == "leads" and c == "lead_id")]
        column = columns[column_pick % len(columns)]
        if kind == "cells":
            frame.loc[rows, column] = value
        elif kind == "duplicate":
            frame = pd.concat([frame, frame[rows]], ignore_index=True)
        elif kind == "drop_rows" and table != "leads":
            frame = frame[~rows].reset_index(drop=True)
        elif kind == "drop_column":
            frame = frame.drop(columns=[column])
        tables[table] = frame
    return tables


@settings(
    # CI runs the same 30 corruptions every time; LEADML_FUZZ=N runs N random ones
    # (e.g. LEADML_FUZZ=300 pytest tests/test_fuzz_contract.py) to look for new cases.
    max_examples=int(os.environ.get("LEADML_FUZZ", "30")),
    derandomize="LEADML_FUZZ" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=corruptions())
# found by random runs: every account gone (a warning line comes before the error), and an
# account id of 3.3e22 (beyond int64) among integer ids
@example(steps=[("accounts", "drop_rows", 0, 1.0, None, 0)])
@example(steps=[("accounts", "cells", 0, 0.01, 3.3172660172583856e22, 0)])
def test_corrupted_tables_never_give_a_traceback_and_never_lose_a_lead(clean, steps):
    folder = Path(tempfile.mkdtemp(prefix="leadml-fuzz-"))
    try:
        for name, frame in _corrupt(clean["tables"], steps).items():
            frame.to_csv(folder / f"{name}.csv", index=False)
        out = folder / "scores"
        result = _score(folder, clean["model"], out)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            steps,
            result.output,
        )
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1), (steps, result.output)
        if result.exit_code == 1:
            # warnings may come first (e.g. intent rows whose account is gone), then the error
            said = [line for line in result.output.splitlines() if not line.startswith("warning: ")]
            assert said[0].startswith("error: "), (steps, result.output)
            assert not out.exists()  # a stopped job writes nothing
            return
        scores = pd.read_parquet(out / "scores.parquet")
        rejects = pd.read_parquet(out / "rejects.parquet")
        manifest = json.loads((out / "manifest.json").read_text())
        counts = manifest["counts"]
        assert counts["scored"] + counts["rejected"] == counts["in"]
        assert (len(scores), len(rejects)) == (counts["scored"], counts["rejected"])
        scored, rejected = set(scores["lead_id"].astype(str)), set(rejects["lead_id"].astype(str))
        assert not scored & rejected
        lost = {str(i) for i in clean["open"]} - scored - rejected
        assert not lost, (steps, sorted(lost)[:5])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
