"""REST: `mlflow models serve` on the champion (what `make serve` runs) answers raw leads like
the batch job."""

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
from leadml.data.io import read_raw_tables
from leadml.data.schema import coerce_tables
from leadml.scoring.batch import run_scoring
from leadml.serving.raw_leads import lead_records

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
    # raw leads, as a REST client sends them: every lead of the accounts of 40 open ones
    tables = coerce_tables(read_raw_tables(demo_data, config.dataset), config.dataset)
    accounts = tables.leads.loc[tables.leads["lead_id"].isin(batch.index[:40]), "account_id"]
    ids = tables.leads.loc[tables.leads["account_id"].isin(accounts), "lead_id"]
    payload = {
        "dataframe_records": lead_records(tables, ids, config.dataset),
        "params": {"as_of": "2026-01-01"},
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
    assert predictions["lead_id"].tolist() == ids.tolist()
    scored = predictions[predictions["reject_reason"].isna()].set_index("lead_id")
    expected = batch.loc[scored.index]
    assert len(scored) >= 40
    np.testing.assert_allclose(scored["probability"], expected["probability"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(scored["points"], expected["points"], rtol=0, atol=1e-12)
    assert scored["reasons"].tolist() == expected["reasons"].tolist()
    # one lead is tiered by the probability thresholds (the batch ranks hot by capacity)
    assert set(scored["tier"]) <= {"hot", "warm", "cold"}
    assert not (scored["tier"].eq("hot") & (scored["probability"] < 0.30)).any()
