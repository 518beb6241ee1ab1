"""Batch scoring benchmark: features + scores + reasons + writing for many open leads.

    .venv/bin/python bench/bench_score.py [--leads 1000000] [--model URI] [--no-dask]

Generates the demo CRM at the given size, trains a model on a 20,000-lead demo
(unless --model points at one), then runs `leadml score` end to end single
process and on a local 2-worker Dask cluster. Prints leads/s and peak memory
(this process, and Dask workers as children).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
AS_OF = pd.Timestamp("2026-01-01")


def _peak_gib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, help="an existing demo data folder")
    parser.add_argument("--model", help="a model URI or local artifact folder (default: train one)")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    from leadml.config import RunConfig, load_dataset_config, load_run_config
    from leadml.modeling.train import train_scorer
    from leadml.pointintime.trainingset import build_training_set
    from leadml.scoring.batch import run_scoring
    from leadml.synth import SynthSpec, write_demo_data

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = args.model
        if model is None:
            small = tmp / "small"
            write_demo_data(small, SynthSpec(n_leads=20_000, seed=7))
            config = load_run_config(ROOT / "training" / "sql.yaml")
            scorer = train_scorer(build_training_set(config, small), config).scorer
            model = str(tmp / "model")
            scorer.save(model)
            (Path(model) / "model.txt").exists()
            print(
                f"model: {scorer.booster.num_trees()} trees, {len(scorer.spec.names)} features",
                file=sys.stderr,
            )
        data = args.data
        if data is None:
            data = tmp / "data"
            t = time.perf_counter()
            write_demo_data(data, SynthSpec(n_leads=args.leads, seed=11))
            print(
                f"demo data: {args.leads:,} leads in {time.perf_counter() - t:.1f}s",
                file=sys.stderr,
            )
        events = len(pd.read_parquet(data / "events.parquet", columns=["lead_id"]))
        config = RunConfig(dataset=load_dataset_config(ROOT / "training" / "dataset.yaml"))
        runs = [("single process", None)] + (
            [] if args.no_dask else [("Dask LocalCluster, 2 workers", "local")]
        )
        print(
            f"machine: {os.cpu_count()} cores; {args.leads:,} leads, {events:,} events; as_of {AS_OF:%Y-%m-%d}"
        )
        for label, scheduler in runs:
            t = time.perf_counter()
            manifest = run_scoring(
                data,
                config=config,
                model_uri=model,
                as_of=AS_OF,
                out_dir=tmp / f"out-{scheduler or 'single'}",
                scheduler=scheduler,
                log_to_mlflow=False,
                progress=False,
            )
            seconds = time.perf_counter() - t
            n = manifest["counts"]["in"]
            print(
                f"{label:>30}: {n:,} open leads in {seconds:.1f}s = {n / seconds:,.0f} leads/s end to end; "
                f"peak RSS {_peak_gib(resource.RUSAGE_SELF):.2f} GiB (workers {_peak_gib(resource.RUSAGE_CHILDREN):.2f} GiB)"
            )


if __name__ == "__main__":
    main()
