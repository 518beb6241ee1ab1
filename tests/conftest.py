"""Shared fixtures: one small synthetic CRM and one trained, registered model per session.

Training is the expensive step, so tests that need a model share these.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "training"
# ../shared beside the project (as in CI), else the workplace's copy
SHARED = next(
    (p for p in (ROOT.parent / "shared", Path("/work/shared")) if p.is_dir()),
    ROOT.parent / "shared",
)
BANK_CSV = SHARED / "data" / "uci_bank_marketing" / "bank-additional-full.csv"

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """The default demo CRM: 20,000 leads, seed 7, 36 months from 2023-01-01."""
    from leadml.synth import SynthSpec, write_demo_data

    out = tmp_path_factory.mktemp("demo") / "data"
    write_demo_data(out, SynthSpec(n_leads=20_000, seed=7))
    return out


@pytest.fixture(scope="session")
def small_demo_data(tmp_path_factory) -> Path:
    """A small demo CRM for tests that need raw leads, not a good model: 2,500 leads, seed 7."""
    from leadml.synth import SynthSpec, write_demo_data

    out = tmp_path_factory.mktemp("small_demo") / "data"
    write_demo_data(out, SynthSpec(n_leads=2_500, seed=7))
    return out


@pytest.fixture(scope="session")
def sql_config():
    from leadml.config import load_run_config

    return load_run_config(TRAINING / "sql.yaml")


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="session")
def sql_training_set(demo_data, sql_config):
    from leadml.pointintime.trainingset import build_training_set

    return build_training_set(sql_config, demo_data)


@pytest.fixture(scope="session")
def champion(demo_data, sql_config, sql_training_set, tracking_uri):
    """Train on the demo data, log to a fresh store, promote: models:/leadml-sql@champion."""
    from leadml.modeling.training_run import run_training
    from leadml.tracking import promote

    report = run_training(
        sql_config, demo_data, tracking_uri=tracking_uri, training_set=sql_training_set
    )
    decision = promote("leadml-sql", uri=tracking_uri, margins=sql_config.promotion)
    assert decision.promoted, decision.message()
    return report


# Fixtures that build the demo CRM or train a model: the tests that use them are marked
# `demo`, so `make mutate` can leave them out of its per-mutant runs (-m "not demo").
_DEMO_FIXTURES = frozenset({"demo_data", "small_demo_data", "sql_training_set", "champion"})
# The session fixtures worth building once: their tests share one xdist worker.
_SHARED_FIXTURES = frozenset({"demo_data", "sql_training_set", "champion"})


def pytest_itemcollected(item):
    # With pytest-xdist's `--dist loadgroup` (make test), each group runs on one worker: the
    # demo tests share the session's CRM and champion (built once), and every other file
    # keeps its module fixtures (a small trained model, a PostgreSQL cluster) on one worker.
    # Marked as each item is collected: xdist reads the xdist_group marks in its own
    # pytest_collection_modifyitems, which ran before a conftest one (the marks came too late,
    # every test was scheduled alone and the demo champion was trained on both workers).
    fixtures = set(getattr(item, "fixturenames", ()))
    if _DEMO_FIXTURES & fixtures:
        item.add_marker(pytest.mark.demo)
    if _SHARED_FIXTURES & fixtures:
        item.add_marker(pytest.mark.xdist_group("demo"))
    else:
        item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # pytest-xdist 3.8 writes the group into `item._nodeid` ("...::test@demo"), which pytest 9
    # no longer reads (a node's id is `item._id`): without this every test was scheduled
    # alone. Carry the group over to the id the scheduler sees.
    for item in items:
        grouped = getattr(item, "_nodeid", None)
        if isinstance(grouped, str) and "@" in grouped and item.nodeid != grouped:
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(grouped)
