"""Kill rate per core module after ``make mutate``, and the surviving mutants.

Reads mutmut's results (``mutants/**/*.py.meta``) and ``tests/MUTANTS.md``, the
list of survivors judged equivalent (no behaviour change). Prints, per module,
the mutants, how many the tests killed, the raw kill rate and the rate once the
listed equivalent mutants are set aside; then every survivor not listed as
equivalent, with its diff (``--no-diff`` for names only). Exits 1 when a module
is under ``--min`` (default 90 %) after the equivalents, so it can gate.

    python tests/mutation_report.py [--json out.json] [--min 90] [--no-diff]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
LISTED = ROOT / "tests" / "MUTANTS.md"

# mutmut's exit codes: a mutant is detected when the tests fail, time out or crash on it
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}

# The core, as mutmut names its mutants (module.x_function__mutmut_N, module.xǁClassǁmethod…):
# whole modules, or the functions of a module that hold its guards, publishing or escaping.
# The rest of batch.py (progress bar, messages), scoring.py and report/build.py (the page's
# data) is not in the core and is left out to keep the run near 30 minutes.
SCOPE = (
    "leadml.pointintime.labels.*",
    "leadml.pointintime.split.*",
    "leadml.pointintime.snapshots.*",
    "leadml.features._kernels.*",
    "leadml.modeling.calibration.*",
    "leadml.explain.explanation.*",
    "leadml.explain.reasons.*",
    "leadml.modeling.evaluate.*",
    "leadml.scoring.batch.x_run_scoring__*",
    "leadml.scoring.batch.x__run_scoring__*",
    "leadml.scoring.batch.x__load_event_inputs__*",
    "leadml.scoring.batch.x__stop_on_whole_table_failures__*",
    "leadml.scoring.batch.x__score_event_tables__*",
    "leadml.scoring.batch.x__score_flat_export__*",
    "leadml.scoring.batch.x_concat_rejects__*",
    "leadml.scoring.batch.x__publish_run__*",
    "leadml.scoring.open_leads.x_reject_unseen_categories__*",
    "leadml.scoring.open_leads.x_score_features__*",
    "leadml.scoring.open_leads.x_write_outputs__*",
    "leadml.scoring.open_leads.x_tier_counts__*",
    "leadml.data.io.*",
    "leadml.report.build.x_embed_json__*",
    "leadml.report.build.x_render_html__*",
    "leadml.report.build.x__csp_hash__*",
    "leadml.config.*",
)


# Run at import only (a decorator factory): mutmut's per-mutant runs import nothing anew, so
# its mutants can never be active (see MUTANTS.md).
OUT_OF_SCOPE = ("leadml.features._kernels.x__parallel__*",)


def in_scope(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in SCOPE) and not any(
        fnmatch.fnmatchcase(name, p) for p in OUT_OF_SCOPE
    )


NAME = re.compile(r"`(leadml\.[^\s`]+__mutmut_\d+)`")


def _status(code: int | None) -> str:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[code]


def equivalent_mutants(path: Path = LISTED) -> set[str]:
    """Mutant names listed in MUTANTS.md (in backticks, e.g. `leadml.pointintime.split.x_f__mutmut_3`)."""
    if not path.is_file():
        return set()
    return set(NAME.findall(path.read_text(encoding="utf-8")))


def module_of(mutant: str) -> str:
    """``leadml.report.build.x_render_html__mutmut_4`` -> ``leadml.report.build``."""
    head = mutant.split("__mutmut_")[0]
    parts = head.split(".")
    # the last part is the mangled function (x_f, or xǁClassǁmethod)
    return ".".join(parts[:-1])


def collect(mutants_dir: Path = MUTANTS) -> dict[str, dict[str, str]]:
    """{module: {mutant name: status}} over every mutated file."""
    out: dict[str, dict[str, str]] = {}
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        for name, code in data["exit_code_by_key"].items():
            if in_scope(name):
                out.setdefault(module_of(name), {})[name] = _status(code)
    return out


def summarise(results: dict[str, dict[str, str]], equivalent: set[str]) -> list[dict]:
    rows = []
    for module, statuses in sorted(results.items()):
        counts = Counter(statuses.values())
        # a module measured on its own leaves the others "not checked": they count nowhere
        statuses = {n: s for n, s in statuses.items() if s != "not checked"}
        total = len(statuses)
        detected = sum(counts[s] for s in DETECTED)
        listed = sum(1 for name, s in statuses.items() if s not in DETECTED and name in equivalent)
        survivors = sorted(
            ([n, s] for n, s in statuses.items() if s not in DETECTED and n not in equivalent),
            key=lambda item: (item[0].split("__mutmut_")[0], int(item[0].split("__mutmut_")[1])),
        )
        rows.append(
            {
                "module": module,
                "mutants": total,
                "killed": detected,
                "timeouts": counts["timeout"],
                "equivalent": listed,
                "not_checked": counts["not checked"],
                "no_tests": counts["no tests"],
                "kill_rate": detected / total if total else None,
                "kill_rate_without_equivalents": (
                    detected / (total - listed) if total - listed else None
                ),
                "survivors": survivors,
                "statuses": dict(counts),
            }
        )
    return rows


def _diff(name: str) -> str:
    from mutmut.__main__ import find_mutant, get_diff_for_mutant

    try:
        return get_diff_for_mutant(name, path=find_mutant(name).path)
    except Exception as exc:  # a stale results folder: say so, keep listing
        return f"(no diff: {exc})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--min", type=float, default=90.0, help="kill rate floor, percent")
    parser.add_argument("--no-diff", action="store_true", help="list survivors by name only")
    parser.add_argument("--rerun", action="store_true", help="print a command re-running survivors")
    parser.add_argument(
        "--scope", action="store_true", help="print the core's mutant name patterns and exit"
    )
    args = parser.parse_args(argv)
    if args.scope:
        print(" ".join(f"'{pattern}'" for pattern in SCOPE))
        return 0
    if not MUTANTS.is_dir():
        print("no mutants/ folder: run `make mutate` first", file=sys.stderr)
        return 2
    import os

    os.chdir(ROOT)  # mutmut's helpers read mutants/ and pyproject.toml from here
    equivalent = equivalent_mutants()
    results = collect()
    rows = summarise(results, equivalent)
    print(
        f"{'module':<28} {'mutants':>7} {'killed':>7} {'(t/o)':>6} {'equiv.':>6} {'rate':>7} "
        f"{'w/o eq.':>8} {'unchecked':>9}"
    )
    for r in rows:
        rate = "-" if r["kill_rate"] is None else f"{100 * r['kill_rate']:.1f}%"
        adjusted = r["kill_rate_without_equivalents"]
        adjusted_text = "-" if adjusted is None else f"{100 * adjusted:.1f}%"
        print(
            f"{r['module']:<28} {r['mutants']:>7} {r['killed']:>7} {r['timeouts']:>6} "
            f"{r['equivalent']:>6} {rate:>7} {adjusted_text:>8} {r['not_checked']:>9}"
        )
    total = sum(r["mutants"] for r in rows)
    killed = sum(r["killed"] for r in rows)
    listed = sum(r["equivalent"] for r in rows)
    if total:
        timeouts = sum(r["timeouts"] for r in rows)
        print(
            f"{'all':<28} {total:>7} {killed:>7} {timeouts:>6} {listed:>6} "
            f"{100 * killed / total:>6.1f}% {100 * killed / max(total - listed, 1):>7.1f}%"
        )
    known = {n for statuses in results.values() for n in statuses}
    stale = sorted(equivalent - known)
    if stale:
        print(f"\nMUTANTS.md lists {len(stale)} names mutmut no longer has (source changed):")
        for name in stale:
            print(f"  {name}")
    for r in rows:
        if not r["survivors"]:
            continue
        print(f"\n== {r['module']}: {len(r['survivors'])} surviving mutants")
        for name, status in r["survivors"]:
            print(f"-- {name} ({status})")
            if not args.no_diff:
                print(_diff(name).rstrip())
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if args.rerun:
        names = [name for r in rows for name, _ in r["survivors"]]
        print("\nre-run the survivors:\n  mutmut run " + " ".join(f"'{n}'" for n in names))
    low = [
        r["module"]
        for r in rows
        if r["kill_rate_without_equivalents"] is not None
        and 100 * r["kill_rate_without_equivalents"] < args.min
    ]
    if low:
        print(f"\nunder {args.min:g} %: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
