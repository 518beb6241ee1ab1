"""Training-set cache benchmark: building a training set vs reading it back from joblib.Memory.

    .venv/bin/python bench/bench_cache.py [--leads 20000] [--data DIR]

Builds the sql training set of a demo CRM three ways: without a cache, on a
cold cache (build + write) and on a warm one (hash the inputs + read), and
prints seconds, the saving and the cache's size on disk. A retrain or a tuning
study on unchanged data pays the warm figure instead of the build.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--data", type=Path, help="an existing demo data folder")
    parser.add_argument("--config", type=Path, default=ROOT / "training" / "sql.yaml")
    args = parser.parse_args()

    from leadml.config import load_config
    from leadml.pointintime.trainingset_cache import cached_training_set, inputs_sha256
    from leadml.synth import SynthSpec, write_demo_data

    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "data"
        if args.data is None:
            write_demo_data(data, SynthSpec(n_leads=args.leads, seed=7))
        size = sum(p.stat().st_size for p in Path(data).iterdir() if p.is_file())
        t = time.perf_counter()
        inputs_sha256(data)
        hashing = time.perf_counter() - t
        t = time.perf_counter()
        plain, _ = cached_training_set(config, data, cache_dir=None)
        no_cache = time.perf_counter() - t
        cache = Path(tmp) / "cache"
        t = time.perf_counter()
        _, cold_record = cached_training_set(config, data, cache_dir=cache)
        cold = time.perf_counter() - t
        warm_times = []
        for _ in range(3):
            t = time.perf_counter()
            warm_set, warm_record = cached_training_set(config, data, cache_dir=cache)
            warm_times.append(time.perf_counter() - t)
        assert not cold_record["hit"] and warm_record["hit"]
        assert warm_set.frame.equals(plain.frame)
        warm = min(warm_times)
        on_disk = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    rows, cols = plain.frame.shape
    print(
        f"data: {args.data or f'demo, {args.leads:,} leads'} ({size / 2**20:.0f} MiB of input files)"
    )
    print(f"training set: {rows:,} rows x {cols} columns ({args.config.name})")
    print(f"hashing the inputs (SHA-256):    {hashing:6.2f} s")
    print(f"build, no cache:                 {no_cache:6.2f} s")
    print(f"build + write, cold cache:       {cold:6.2f} s")
    print(f"hash + read, warm cache (best of 3): {warm:6.2f} s")
    print(
        f"saving on unchanged data:        {no_cache - warm:6.2f} s ({no_cache / warm:.1f}x faster)"
    )
    print(f"cache on disk:                   {on_disk / 2**20:6.0f} MiB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
