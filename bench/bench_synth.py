"""Benchmark ``leadml demo-data``: time, events per second, peak memory and funnel rates.

    .venv/bin/python bench/bench_synth.py               # 1,000,000 leads (~50M events)
    .venv/bin/python bench/bench_synth.py --leads 200000 --format csv

Target on a 2-core machine: 1M leads in at most 2 minutes and 8 GiB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import psutil

from leadml.synth import SynthSpec, write_demo_data


def _peak_rss_gib() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
        began = time.perf_counter()
        cpu_began = time.process_time()
        result = write_demo_data(
            Path(tmp),
            SynthSpec(n_leads=args.leads, seed=args.seed),
            file_format=args.format,
            progress=lambda done, total: print(
                f"\rchunk {done}/{total} ({time.perf_counter() - began:.1f} s)",
                end="",
                file=sys.stderr,
                flush=True,
            ),
        )
        seconds = time.perf_counter() - began
        cpu_seconds = time.process_time() - cpu_began
        print(file=sys.stderr)
        sizes = {p.name: p.stat().st_size for p in Path(tmp).iterdir()}

    f = result.funnel
    rss_now = psutil.Process().memory_info().rss / 2**30
    print(f"leads            {f['leads']:,}  ({f['accounts']:,} accounts, {args.format})")
    print(
        f"events           {f['events']:,}  ({f['events_per_lead']} per lead); intent signals {f['intent_signals']:,}"
    )
    print(
        f"seconds          {seconds:.1f} wall, {cpu_seconds:.1f} CPU (load average now {psutil.getloadavg()[0]:.1f})"
    )
    print(f"events/s         {f['events'] / seconds:,.0f}")
    print(f"peak RSS         {_peak_rss_gib():.2f} GiB  (now {rss_now:.2f} GiB)")
    print(
        f"files            {sum(sizes.values()) / 2**20:,.0f} MiB  "
        + ", ".join(f"{k} {v / 2**20:,.0f}" for k, v in sorted(sizes.items()))
    )
    print(
        f"funnel           MQL {f['mql_rate']:.1%}  SQL {f['sql_rate']:.1%}  won {f['won_rate']:.1%}  "
        f"won|SQL {f['won_given_sql']:.1%}  SQL in 5-90 d {f['sql_within_5_to_90_days']:.1%}  "
        f"demo-request lift {f['demo_request_sql_lift']}x"
    )
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "peak_rss_gib": round(_peak_rss_gib(), 3),
                "funnel": f,
            }
        )
    )


if __name__ == "__main__":
    main()
