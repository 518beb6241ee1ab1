"""REST: `mlflow models serve` on the champion answers like the batch job."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TRAINING

from leadml.config import RunConfig, load_dataset_config
from leadml.pointintime.trainingset import build_scoring_set
from leadml.scoring.batch import run_scoring

AS_OF = pd.Timestamp("2026-01-01")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow models serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@pytest.mark.slow
def test_rest_endpoint_returns_the_batch_jobs_scores_and_reasons(
    champion, demo_data, tracking_uri, tmp_path
):
    config = RunConfig(dataset=load_dataset_config(TRAINING / "dataset.yaml"))
    run_scoring(
        demo_data,
        config=config,
        model_uri="models:/leadml-sql@champion",
        as_of=AS_OF,
        out_dir=tmp_path / "scores",
        tracking_uri=tracking_uri,
        progress=False,
        log_to_mlflow=False,
    )
    batch = pd.read_parquet(tmp_path / "scores" / "scores.parquet").set_index("lead_id")
    from leadml.tracking import load_scorer

    scorer, _ = load_scorer("models:/leadml-sql@champion", uri=tracking_uri)
    rows = build_scoring_set(config, demo_data, as_of=AS_OF, spec=scorer.spec).frame
    rows = rows.sort_values("probability" if "probability" in rows else "lead_id").head(40)
    features = rows[list(scorer.spec.names)]
    payload = {
        "dataframe_split": {
            "columns": list(features.columns),
            "data": json.loads(
                features.astype(object).where(features.notna(), None).to_json(orient="values")
            ),
        }
    }
    port = _free_port()
    bindir = str(Path(sys.executable).parent)  # uvicorn, which mlflow runs, lives beside python
    env = {
        **os.environ,
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
    }
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen(
        [
            str(mlflow_bin),
            "models",
            "serve",
            "-m",
            "models:/leadml-sql@champion",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/ping", proc)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            predictions = pd.DataFrame(json.loads(response.read())["predictions"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    expected = batch.loc[rows["lead_id"].to_numpy()]
    assert len(predictions) == len(rows) == 40
    np.testing.assert_allclose(predictions["probability"], expected["probability"], atol=1e-9)
    np.testing.assert_allclose(predictions["points"], expected["points"], atol=1e-6)
    for served, batched in zip(predictions["reasons"], expected["reasons"], strict=True):
        a, b = json.loads(served), json.loads(batched)
        assert [r["text"] for r in a] == [r["text"] for r in b]
        np.testing.assert_allclose([r["points"] for r in a], [r["points"] for r in b], atol=1e-6)
    # per-row tiers: the served model uses probability thresholds
    assert set(predictions["tier"]) <= {"hot", "warm", "cold"}
