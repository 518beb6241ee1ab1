"""Latency of the served model for one raw lead: in process (pyfunc) and over REST.

    .venv/bin/python bench/bench_serve_latency.py [--model URI] [--leads 5000] [--calls 200]
                                                  [--no-rest] [--profile]

Loads the model once (``--model``: a ``models:/`` URI in ``MLFLOW_TRACKING_URI``, e.g.
``models:/leadml-sql@champion`` after ``make demo``; default: train the shipped sql
config, refit off, on a ``--leads`` demo CRM and register it in a temporary store), then
scores one open lead of the demo (its lead and account fields, events and intent, as a
REST client posts it) ``--calls`` times after 5 warm-up calls, and prints p50 / p95 / p99
in milliseconds: through ``mlflow.pyfunc.load_model(...).predict`` and through
``mlflow models serve`` (one worker, ``POST /invocations``), with the CPU time of an
in-process call (on a shared machine the wall clock includes waiting for a core).
``--profile`` prints where an in-process call spends its time. Goal: p50 under 50 ms warm,
on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-01-01"
WARM_UP = 5


def _percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    # the machine's load beside each figure: on a shared machine it explains the wall clock
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"p50 {p50:6.1f} ms · p95 {p95:6.1f} ms · p99 {p99:6.1f} ms (n={ms.size}; load {load})"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train_and_register(data: Path, tmp: Path) -> str:
    """The shipped sql config (refit off) trained on ``data``, registered as leadml-bench/1."""
    import mlflow

    from leadml.config import load_run_config
    from leadml.modeling.train import train_scorer
    from leadml.pointintime.trainingset import build_training_set
    from leadml.serving.raw_leads import example_lead
    from leadml.tracking import log_servable_model

    config = load_run_config(ROOT / "training" / "sql.yaml")
    config = config.model_copy(update={"refit": config.refit.model_copy(update={"enabled": False})})
    started = time.perf_counter()
    scorer = train_scorer(build_training_set(config, data), config).scorer
    print(
        f"model: {scorer.booster.num_trees()} trees, {len(scorer.spec.names)} features "
        f"(trained in {time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    with mlflow.start_run():
        log_servable_model(
            scorer,
            input_example=example_lead({}, scorer.dataset, as_of=pd.Timestamp(AS_OF)),
            registered_model_name="leadml-bench",
        )
    return "models:/leadml-bench/1"


def _one_lead(data: Path, model: object) -> list[dict]:
    """One open lead of ``data`` (alone at its account) as a REST client sends it."""
    from leadml.data.io import read_raw_tables
    from leadml.data.schema import coerce_tables
    from leadml.pointintime.snapshots import scoring_snapshots
    from leadml.serving.raw_leads import lead_records

    dataset = model.scorer.dataset  # type: ignore[attr-defined]
    tables = coerce_tables(read_raw_tables(data, dataset), dataset)
    open_ids = scoring_snapshots(tables.leads, tables.outcomes, as_of=pd.Timestamp(AS_OF))
    alone = tables.leads.groupby("account_id")["lead_id"].transform("size") == 1
    candidates = tables.leads.loc[alone & tables.leads["lead_id"].isin(open_ids["lead_id"])]
    # a busy lead: the one with the most events, so the figure is not flattered
    counts = tables.events["lead_id"].value_counts()
    lead_id = counts.reindex(candidates["lead_id"]).fillna(0).idxmax()
    return lead_records(tables, [lead_id], dataset)


def _in_process(uri: str, records: list[dict], calls: int, profile: bool) -> None:
    import mlflow

    started = time.perf_counter()
    model = mlflow.pyfunc.load_model(uri)
    print(f"load: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    params = {"as_of": AS_OF}
    frame = pd.DataFrame(records)
    answer = None
    for _ in range(WARM_UP):
        answer = model.predict(frame, params=params)
    assert answer is not None and answer["reject_reason"].isna().all(), answer
    times, cpu = [], []
    for _ in range(calls):
        t0, c0 = time.perf_counter(), time.process_time()
        model.predict(pd.DataFrame(records), params=params)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    row = answer.iloc[0]
    print(
        f"lead {row['lead_id']}: probability {row['probability']:.4f}, points {row['points']:.1f}, "
        f"tier {row['tier']}; {len(records[0]['events'])} events, {len(records[0]['intent'])} "
        "intent signals"
    )
    print(f"in process (pyfunc predict, schema check included): {_percentiles(times)}")
    # on a shared machine the wall clock includes waiting for a core: CPU time is the work
    print(f"  CPU time of this process per call: {_percentiles(cpu)}")
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(50):
            model.predict(pd.DataFrame(records), params=params)
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(25)


def _over_rest(uri: str, records: list[dict], calls: int) -> None:
    port = _free_port()
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen(
        [
            str(bindir / "mlflow"),
            *("models", "serve", "-m", uri, "--env-manager", "local"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    body = json.dumps({"dataframe_records": records, "params": {"as_of": AS_OF}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    try:
        started = time.monotonic()
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow models serve exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                if time.monotonic() - started > 180:
                    raise TimeoutError("the server did not answer within 180 s") from None
                time.sleep(0.5)
        print(f"server up in {time.monotonic() - started:.1f} s", file=sys.stderr)
        for _ in range(WARM_UP):
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
            times.append(time.perf_counter() - t0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"over REST (mlflow models serve, 1 worker, POST /invocations): {_percentiles(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a models:/ URI (default: train and register one)")
    parser.add_argument("--data", type=Path, help="the demo CRM the lead comes from")
    parser.add_argument("--leads", type=int, default=5_000, help="demo CRM size when generated")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--no-rest", action="store_true", help="in process only")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    import mlflow

    from leadml.synth import SynthSpec, write_demo_data
    from leadml.tracking import _scorer_from_model_folder

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = args.data
        if data is None:
            data = tmp / "data"
            write_demo_data(data, SynthSpec(n_leads=args.leads, seed=7))
        uri = args.model or _train_and_register(data, tmp)
        if args.model is None:
            os.environ["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()
        folder = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp / "model")))
        from leadml.serving.pyfunc import LeadScorerModel

        records = _one_lead(data, LeadScorerModel(_scorer_from_model_folder(folder, uri)))
        _in_process(uri, records, args.calls, args.profile)
        if not args.no_rest:
            _over_rest(uri, records, args.calls)


if __name__ == "__main__":
    main()
