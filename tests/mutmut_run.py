"""``mutmut`` with SIGTERM ignored, as ``make mutate`` runs it.

On the shared machine a clean-up elsewhere that kills processes by name ended mutants
mid-test (exit -15, counted "suspicious", ~600 in one session). Here the run and every
per-mutant process (forked from it, they inherit the setting) ignore SIGTERM; only the
pool that writes the mutated files keeps the default, because ``Pool.terminate`` stops
its workers with SIGTERM and ignoring it hangs the run in "Generating mutants".
Stop a run with Ctrl-C, or SIGKILL its process by pid.

    python tests/mutmut_run.py run --max-children 2 'leadml.config.*'
"""

from __future__ import annotations

import functools
import multiprocessing.pool
import signal
import sys

import mutmut.__main__ as mutmut_main


def _default_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    mutmut_main.Pool = functools.partial(multiprocessing.pool.Pool, initializer=_default_sigterm)
    sys.exit(mutmut_main.cli())
