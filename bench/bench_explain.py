"""Benchmark exact per-row SHAP for LightGBM: predict vs pred_contrib vs shap vs leadml.

Prints one tab-separated line per (rows, method) to stdout: rows/s (best of
``--repeats`` passes for predict and leadml, one for the slow methods), the ratio of
seconds per row to ``booster.predict`` on the same rows, and the peak RSS of the
process that ran it. Each method runs in a fresh process (spawned), so peaks
do not leak between methods; the input rows are built in that process too.

``pred_contrib`` and ``shap.TreeExplainer`` are timed on at most
``--slow-subset`` rows (default 20,000) and their rows/s extrapolated; the
``timed`` column says how many rows were actually timed.

Usage::

    python bench/bench_explain.py                       # stand-in model, 100k and 1M rows
    python bench/bench_explain.py --rows 100000 --model models/champion.txt
    python bench/bench_explain.py --model m.txt --data leads.parquet

Without ``--model`` a stand-in lead model is trained: 60 features (45 sparse
activity counts, mostly zero; 10 firmographic numbers; 5 categories), 31
leaves, 400 trees. Without ``--data`` rows are synthesised, from the stand-in
generator or from the model's own feature ranges and categories.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

METHODS = ("predict", "fastshap", "pred_contrib", "shap")
SLOW_METHODS = {"pred_contrib", "shap"}


@dataclass(frozen=True)
class RowSource:
    """How a worker process builds the rows to explain."""

    model_path: str
    data_path: str | None
    standin: bool
    seed: int


@dataclass(frozen=True)
class Timing:
    method: str
    rows: int
    timed_rows: int
    seconds: float
    peak_rss_mb: float


def standin_leads(n_rows: int, *, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Lead-like rows and a label: 45 mostly-zero activity counts, 10 numbers, 5 categories."""
    rng = np.random.default_rng(seed)
    engagement = rng.gamma(0.3, 1.0, size=n_rows)
    columns: dict[str, np.ndarray | pd.Categorical] = {}
    for j in range(45):
        counts = rng.poisson(engagement * rng.uniform(0.05, 0.6)).astype(float)
        counts[rng.random(n_rows) < 0.6] = 0.0
        columns[f"act_{j:02d}"] = counts
    for j in range(10):
        values = np.round(rng.lognormal(2 + 0.1 * j, 1.0, size=n_rows), 1)
        values[rng.random(n_rows) < 0.05] = np.nan
        columns[f"num_{j}"] = values
    for name, levels in {
        "industry": 20,
        "country": 30,
        "source": 8,
        "seniority": 6,
        "size_band": 7,
    }.items():
        codes = rng.zipf(1.6, size=n_rows) % levels
        columns[name] = pd.Categorical.from_codes(
            codes, categories=[f"{name}_{i}" for i in range(levels)]
        )
    leads = pd.DataFrame(columns)
    activity = leads[[f"act_{j:02d}" for j in range(10)]].sum(axis=1)
    logit = (
        -2
        + 0.8 * np.log1p(activity)
        + 0.3 * np.log1p(leads["num_0"].fillna(0))
        - 0.2 * np.log1p(leads["num_3"].fillna(1))
        + 0.5 * (leads["industry"].cat.codes % 3 == 0)
        + 0.7 * (leads["seniority"].cat.codes > 3)
    )
    label = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return leads, label


def train_standin(path: Path, *, trees: int, seed: int) -> None:
    import lightgbm as lgb

    leads, label = standin_leads(200_000, seed=seed)
    params = {
        "objective": "binary",
        "num_leaves": 31,
        "learning_rate": 0.05,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "verbose": -1,
        "seed": seed,
    }
    lgb.train(params, lgb.Dataset(leads, label), num_boost_round=trees).save_model(str(path))


def rows_from_model(booster, n_rows: int, *, seed: int) -> pd.DataFrame | np.ndarray:
    """Rows within the model's feature ranges: numbers 70% zero, categories from the training levels."""
    rng = np.random.default_rng(seed)
    header = booster.model_to_string().split("\nTree=")[0]
    infos = dict(line.split("=", 1) for line in header.splitlines() if "=" in line)[
        "feature_infos"
    ].split()
    names = booster.feature_name()
    categories = iter(booster.pandas_categorical or [])
    columns = {}
    for name, info in zip(names, infos, strict=True):
        if info.startswith("["):
            low, high = (float(v) for v in info[1:-1].split(":"))
            values = rng.uniform(low, high, n_rows)
            values[rng.random(n_rows) < 0.7] = 0.0
            columns[name] = values
        elif info == "none":
            columns[name] = np.zeros(n_rows)
        else:
            levels = [int(v) for v in info.split(":") if int(v) >= 0]
            codes = rng.choice(levels, n_rows).astype(float)
            codes[rng.random(n_rows) < 0.05] = np.nan
            if booster.pandas_categorical:
                cats = next(categories)
                codes[codes >= len(cats)] = np.nan
                columns[name] = pd.Categorical.from_codes(
                    np.nan_to_num(codes, nan=-1).astype(int), categories=cats
                )
            else:
                columns[name] = codes
    frame = pd.DataFrame(columns)
    return frame if booster.pandas_categorical else frame.to_numpy(dtype=np.float64)


def build_rows(source: RowSource, booster, n_rows: int) -> pd.DataFrame | np.ndarray:
    if source.data_path:
        path = Path(source.data_path)
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        frame = frame[booster.feature_name()]
        reps = -(-n_rows // len(frame))
        return pd.concat([frame] * reps, ignore_index=True).iloc[:n_rows]
    if source.standin:
        return standin_leads(n_rows, seed=source.seed + 1)[0]
    return rows_from_model(booster, n_rows, seed=source.seed + 1)


def time_method(
    method: str, source: RowSource, n_rows: int, slow_subset: int, repeats: int
) -> Timing:
    """Runs in a fresh process: build rows, warm up, time the best of ``repeats`` passes, report peak RSS."""
    import lightgbm as lgb

    from leadml.trees.fastshap import FastTreeExplainer

    booster = lgb.Booster(model_file=source.model_path)
    X = build_rows(source, booster, n_rows)
    timed = min(n_rows, slow_subset) if method in SLOW_METHODS else n_rows
    rows = X[:timed] if isinstance(X, np.ndarray) else X.iloc[:timed]
    warm = rows[:256] if isinstance(rows, np.ndarray) else rows.iloc[:256]
    if method == "predict":
        run = lambda data: booster.predict(data)  # noqa: E731
    elif method == "pred_contrib":
        run = lambda data: booster.predict(data, pred_contrib=True)  # noqa: E731
    elif method == "shap":
        import shap

        explainer = shap.TreeExplainer(booster)
        run = lambda data: explainer.shap_values(data)  # noqa: E731
    else:
        start = time.perf_counter()
        explainer = FastTreeExplainer(booster)
        print(
            f"  FastTreeExplainer construction: {time.perf_counter() - start:.2f} s",
            file=sys.stderr,
        )
        run = explainer.shap_values
    run(warm)
    seconds = float("inf")
    # best of a few passes for the fast methods: a first pass pays page faults and
    # thread start-up that a nightly job pays once, not per 100k rows
    for _ in range(1 if method in SLOW_METHODS else repeats):
        start = time.perf_counter()
        run(rows)
        seconds = min(seconds, time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Timing(method, n_rows, timed, seconds, peak_mb)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--model", type=Path, help="LightGBM text model; default: train a stand-in")
    parser.add_argument(
        "--data", type=Path, help="parquet/csv rows to explain (repeated up to --rows)"
    )
    parser.add_argument(
        "--slow-subset", type=int, default=20_000, help="max rows timed for pred_contrib/shap"
    )
    parser.add_argument("--trees", type=int, default=400, help="stand-in model size")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeats", type=int, default=3, help="passes timed for predict and leadml (best kept)"
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench_explain_"))
    model_path = args.model
    if model_path is None:
        model_path = workdir / "standin.txt"
        print(f"training stand-in model ({args.trees} trees) ...", file=sys.stderr)
        train_standin(model_path, trees=args.trees, seed=args.seed)
    source = RowSource(
        str(model_path), str(args.data) if args.data else None, args.model is None, args.seed
    )

    print("rows\tmethod\ttimed\tseconds\trows_per_s\tratio_to_predict\tpeak_rss_mb")
    context = multiprocessing.get_context("spawn")
    for n_rows in args.rows:
        predict_rate = None
        for method in args.methods:
            print(f"{n_rows} rows: {method} ...", file=sys.stderr)
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                timing = pool.submit(
                    time_method, method, source, n_rows, args.slow_subset, args.repeats
                ).result()
            rate = timing.timed_rows / timing.seconds
            if method == "predict":
                predict_rate = rate
            ratio = f"{predict_rate / rate:.2f}" if predict_rate else "nan"
            print(
                f"{n_rows}\t{method}\t{timing.timed_rows}\t{timing.seconds:.2f}\t{rate:.0f}\t{ratio}\t{timing.peak_rss_mb:.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
