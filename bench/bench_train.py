"""Training benchmark: leadml's boosting vs LightGBM timed directly, and the cost of the rest.

    .venv/bin/python bench/bench_train.py [--leads 260000]

Builds a ~1M-row training set from the demo generator, runs `leadml train`'s
pipeline (with MLflow logging into a temporary store), then times `lgb.train`
directly on the same matrix with the same parameters and stopping rule.
Prints seconds for each phase and the after-boosting share (target ≤ 25 %).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import lightgbm as lgb

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--leads", type=int, default=260_000, help="demo leads (≈ 3.8 training rows each)"
    )
    parser.add_argument("--data", type=Path, help="an existing demo data folder")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    from leadml.config import load_run_config
    from leadml.modeling.train import booster_params
    from leadml.modeling.training_run import run_training
    from leadml.pointintime.trainingset import build_training_set
    from leadml.synth import SynthSpec, write_demo_data

    config = load_run_config(ROOT / "training" / "sql.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "data"
        if args.data is None:
            t = time.perf_counter()
            write_demo_data(data, SynthSpec(n_leads=args.leads, seed=7))
            print(
                f"demo data: {args.leads:,} leads in {time.perf_counter() - t:.1f}s",
                file=sys.stderr,
            )
        t = time.perf_counter()
        training_set = build_training_set(config, data)
        build_s = time.perf_counter() - t
        X_train, y_train = training_set.part("train")
        print(
            f"training set: {len(training_set.frame):,} rows × {X_train.shape[1]} features in {build_s:.1f}s",
            file=sys.stderr,
        )

        # A team's store exists already: its one-off creation (MLflow's schema migrations,
        # about 4 s) is paid here, not counted as the cost of a training run.
        from leadml.tracking import ensure_store

        uri = f"sqlite:///{tmp}/mlflow.db"
        ensure_store(uri)
        t = time.perf_counter()
        report = run_training(config, data, tracking_uri=uri, training_set=training_set)
        total_s = time.perf_counter() - t
        boosting_s = report["timings"]["boosting_seconds"]
        after_s = report["timings"]["after_boosting_seconds"]

        X_valid, y_valid = training_set.part("valid")
        params = booster_params(config)
        t = time.perf_counter()
        direct = lgb.train(
            params,
            lgb.Dataset(X_train, label=y_train),
            num_boost_round=config.model.num_boost_round,
            valid_sets=[lgb.Dataset(X_valid, label=y_valid)],
            callbacks=[lgb.early_stopping(config.model.early_stopping_rounds, verbose=False)],
        )
        direct_s = time.perf_counter() - t

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"machine: {os.cpu_count()} cores")
    print(
        f"training rows (all parts): {len(training_set.frame):,}; train part {len(y_train):,} × {X_train.shape[1]} features"
    )
    print(f"training-set build:         {build_s:8.1f} s")
    print(
        f"leadml boosting:            {boosting_s:8.1f} s  ({report['best_iteration']} trees kept)"
    )
    print(
        f"LightGBM direct, same data: {direct_s:8.1f} s  ({direct.best_iteration} best iteration)"
    )
    print(
        f"after boosting (calibration, evaluation, figures, SHAP, logging, registry): {after_s:.1f} s "
        f"= {100 * after_s / boosting_s:.0f} % of boosting (target ≤ 25 %)"
    )
    for phase, seconds in report["timings"]["after_boosting"].items():
        print(f"  {phase:<34} {seconds:6.1f} s")
    print(f"whole `leadml train` after the build: {total_s:.1f} s; peak RSS {peak:.2f} GiB")
    print(
        f"test: model ROC-AUC {report['model']['roc_auc']:.3f}, grid {report['baseline']['roc_auc']:.3f}, "
        f"oracle {report.get('oracle', {}).get('roc_auc', float('nan')):.3f}"
    )


if __name__ == "__main__":
    main()
