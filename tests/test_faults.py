"""Faults while publishing scores: the previous output stays whole, and `report` says so.

Runnable alone (``pytest tests/test_faults.py``): a tiny flat-mode scorer saved to a
folder, scored through the ``leadml`` command in a subprocess. Each test starts from a
published first run, then breaks the second one:

* SIGKILL at every write step, through the hook the code itself calls
  (``LEADML_FAULT=<step>``, :func:`leadml.scoring.publish.fault_point`), no sleeps;
* a full disk (``ENOSPC`` injected into the Parquet writer), a read-only folder;
* two jobs on one ``--out`` (the second is refused and names the holder);
* a folder written by an older leadml, mixed by hand, refused by ``leadml report``.

After each, ``--out`` is the first run, complete (``_SUCCESS``, checksums match).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import leadml.scoring.open_leads as open_leads
from leadml.config import FlatDataset, ModelSpec, RunConfig, TierSpec
from leadml.modeling.train import train_scorer
from leadml.pointintime.trainingset import build_training_set
from leadml.scoring.batch import run_scoring
from leadml.scoring.publish import (
    WRITE_STEPS,
    OutputLockedError,
    OutputWriteError,
    output_lock,
    verify_output_folder,
)

LEADML = Path(sys.executable).parent / "leadml"


def _export(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    visits = rng.integers(0, 10, n)
    plan = rng.choice(["free", "pro", "team"], n)
    p = 1 / (1 + np.exp(-(visits - 5) * 0.8 - (plan == "pro") * 1.0))
    return pd.DataFrame(
        {
            "lead_id": np.arange(n) + 10**6 * seed,
            "visits": visits,
            "plan": plan,
            "region": rng.choice(["eu", "us"], n),
            "converted": np.where(rng.random(n) < p, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    """A flat config file, an export to score, a saved model folder."""
    root = tmp_path_factory.mktemp("faults")
    config = RunConfig(
        dataset=FlatDataset(
            mode="flat",
            id="lead_id",
            label="converted",
            positive=("yes",),
            numeric=("visits",),
            categorical=("plan", "region"),
        ),
        model=ModelSpec(
            registered_name="tiny",
            params={"min_child_samples": 10, "num_leaves": 4},
            num_boost_round=20,
            early_stopping_rounds=20,
        ),
        tiers=TierSpec(hot=0.6, warm=0.3, mql_probability=0.3),
    )
    scorer = train_scorer(build_training_set(config, _export(800, 0)), config).scorer
    scorer.save(root / "model")
    (root / "flat.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    _export(300, 1).to_csv(root / "export.csv", index=False)
    return {"root": root, "config": root / "flat.yaml", "data": root / "export.csv"}


def _score(setup, out: Path, as_of: str, *, env: dict[str, str] | None = None):
    return subprocess.run(
        [
            str(LEADML),
            "--quiet",
            "score",
            "--data",
            str(setup["data"]),
            "--config",
            str(setup["config"]),
            "--model",
            str(setup["root"] / "model"),
            "--as-of",
            as_of,
            "--out",
            str(out),
            "--format",
            "both",
            "--no-mlflow",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def _report(setup, scores: Path, *extra: str):
    return subprocess.run(
        [
            str(LEADML),
            "--quiet",
            "report",
            "--scores",
            str(scores),
            "--data",
            str(setup["data"]),
            "--config",
            str(setup["config"]),
            "--out",
            str(scores.parent / "cards.html"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _assert_whole_run(out: Path, as_of: str) -> dict:
    manifest, problems = verify_output_folder(out)
    assert problems == []
    assert pd.Timestamp(manifest["as_of"]) == pd.Timestamp(as_of)
    scores = pd.read_parquet(out / "scores.parquet")
    assert set(pd.to_datetime(scores["as_of"])) == {pd.Timestamp(as_of)}
    assert len(scores) + len(pd.read_parquet(out / "rejects.parquet")) == 300
    return manifest


@pytest.fixture(scope="module")
def published(setup) -> tuple[Path, dict]:
    """A first run (as of 2025-12-01), published at ``out/scores``."""
    out = setup["root"] / "first" / "scores"
    done = _score(setup, out, "2025-12-01")
    assert done.returncode == 0, done.stderr
    return out, _assert_whole_run(out, "2025-12-01")


def _fresh_copy(published, tmp_path) -> Path:
    """The first run's ``out`` (link, runs folder) copied, so each test breaks its own."""
    src, _ = published
    shutil.copytree(src.parent, tmp_path / "out", symlinks=True)
    return tmp_path / "out" / "scores"


@pytest.mark.parametrize("step", WRITE_STEPS)
def test_a_kill_at_any_write_step_leaves_one_whole_run_at_out(setup, published, tmp_path, step):
    out = _fresh_copy(published, tmp_path)
    killed = _score(setup, out, "2026-01-01", env={"LEADML_FAULT": step})
    assert killed.returncode == -9  # SIGKILL, at the named step
    # a reader sees the old run, or (killed after the swap) the whole new one
    after_swap = WRITE_STEPS.index(step) >= WRITE_STEPS.index("link_swapped")
    _assert_whole_run(out, "2026-01-01" if after_swap else "2025-12-01")
    assert _report(setup, out).returncode == 0
    # the next run takes over the dead job's lock and cleans its staging folder
    again = _score(setup, out, "2026-01-01")
    assert again.returncode == 0, again.stderr
    _assert_whole_run(out, "2026-01-01")
    assert not list(out.parent.glob("scores.runs/*.staging"))
    assert not (out.parent / "scores.lock").exists()


def test_a_full_disk_leaves_the_previous_run_and_says_so(setup, published, tmp_path, monkeypatch):
    out = _fresh_copy(published, tmp_path)

    def full_disk(frame, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(open_leads, "write_frame_atomic", full_disk)
    config = __import__("leadml.config", fromlist=["load_config"]).load_config(setup["config"])
    with pytest.raises(OutputWriteError, match="disk is full.*previous output is intact"):
        run_scoring(
            setup["data"],
            config=config,
            model_uri=str(setup["root"] / "model"),
            as_of=pd.Timestamp("2026-01-01"),
            out_dir=out,
            log_to_mlflow=False,
            progress=False,
        )
    _assert_whole_run(out, "2025-12-01")
    assert not list(out.parent.glob("scores.runs/*.staging"))
    assert not (out.parent / "scores.lock").exists()


def test_a_read_only_folder_is_refused_before_scoring_with_exit_8(setup, published, tmp_path):
    out = _fresh_copy(published, tmp_path)
    folder = out.parent
    if os.geteuid() == 0:  # root writes anywhere: a read-only bind is not available, so
        # the parent is replaced by a file, which every user is refused to write into
        blocked = tmp_path / "blocked"
        blocked.write_text("")
        target = blocked / "scores"
    else:
        folder.chmod(0o555)
        target = out
    try:
        refused = _score(setup, target, "2026-01-01")
    finally:
        folder.chmod(0o755)
    assert refused.returncode == 8, refused.stderr
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("error: --out")
    _assert_whole_run(out, "2025-12-01")


def test_an_injected_read_only_file_system_gives_one_line_and_exit_8(
    setup, published, tmp_path, monkeypatch
):
    """As root, EROFS is injected where the staging folder is created."""
    out = _fresh_copy(published, tmp_path)
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if self.name.endswith(".staging"):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    config = __import__("leadml.config", fromlist=["load_config"]).load_config(setup["config"])
    with pytest.raises(OutputWriteError, match="read-only"):
        run_scoring(
            setup["data"],
            config=config,
            model_uri=str(setup["root"] / "model"),
            as_of=pd.Timestamp("2026-01-01"),
            out_dir=out,
            log_to_mlflow=False,
            progress=False,
        )
    _assert_whole_run(out, "2025-12-01")


def test_out_pointing_at_a_file_is_refused_before_any_scoring(setup, tmp_path):
    target = tmp_path / "scores.csv"
    target.write_text("keep me")
    refused = _score(setup, target, "2026-01-01")
    assert refused.returncode == 8
    assert "is a file, not a folder" in refused.stderr
    assert target.read_text() == "keep me"


def test_a_second_job_on_the_same_out_is_refused_and_names_the_holder(setup, published, tmp_path):
    out = _fresh_copy(published, tmp_path)
    with output_lock(out):  # this test process is the running job
        refused = _score(setup, out, "2026-01-01")
    assert refused.returncode == 5
    assert (
        f"pid {os.getpid()}" in refused.stderr and "being written by another job" in refused.stderr
    )
    _assert_whole_run(out, "2025-12-01")
    with (
        output_lock(out),
        pytest.raises(OutputLockedError, match=f"pid {os.getpid()}"),
        output_lock(out),
    ):
        pass


def test_two_concurrent_jobs_never_mix_their_outputs(setup, published, tmp_path):
    out = _fresh_copy(published, tmp_path)
    command = [
        str(LEADML), "--quiet", "score", "--data", str(setup["data"]), "--config",
        str(setup["config"]), "--model", str(setup["root"] / "model"), "--out", str(out),
        "--no-mlflow",
    ]  # fmt: skip
    jobs = [
        subprocess.Popen([*command, "--as-of", day], stderr=subprocess.PIPE, text=True)
        for day in ("2025-12-15", "2026-01-01")
    ]
    codes = [job.wait(timeout=300) for job in jobs]
    errors = [job.stderr.read() for job in jobs]
    assert set(codes) <= {0, 5} and 0 in codes, errors
    for code, error in zip(codes, errors, strict=True):
        if code == 5:
            assert "being written by another job: pid" in error
    manifest, problems = verify_output_folder(out)
    assert problems == []
    scores = pd.read_parquet(out / "scores.parquet")
    assert set(pd.to_datetime(scores["as_of"])) == {pd.Timestamp(manifest["as_of"])}


def test_report_refuses_a_mixed_folder_and_warns_when_allowed(setup, published, tmp_path):
    """A folder as an older leadml left it after a kill: new scores beside the old manifest."""
    src, _ = published
    mixed = tmp_path / "mixed"
    shutil.copytree(src, mixed)
    scores = pd.read_parquet(mixed / "scores.parquet")
    scores.assign(as_of=pd.Timestamp("2026-01-01")).to_parquet(mixed / "scores.parquet")
    refused = _report(setup, mixed)
    assert refused.returncode == 6
    assert "not one complete scoring run" in refused.stderr
    assert "scores.parquet does not match its checksum" in refused.stderr
    allowed = _report(setup, mixed, "--allow-incomplete")
    assert allowed.returncode == 0, allowed.stderr
    assert "warning:" in allowed.stderr
    assert "WARNING: incomplete scoring run" in (tmp_path / "cards.html").read_text()
    (mixed / "_SUCCESS").unlink()
    assert "no _SUCCESS" in _report(setup, mixed).stderr


def test_a_folder_from_an_older_version_is_moved_aside_once_and_linked(setup, published, tmp_path):
    src, _ = published
    out = tmp_path / "legacy" / "scores"
    shutil.copytree(src, out)  # a real folder, as leadml wrote before runs were linked
    done = _score(setup, out, "2026-01-01")
    assert done.returncode == 0, done.stderr
    assert out.is_symlink()
    _assert_whole_run(out, "2026-01-01")
    legacy = list((out.parent / "scores.runs").glob("legacy-*"))
    assert len(legacy) == 1 and json.loads((legacy[0] / "manifest.json").read_text())["as_of"]


def test_only_the_last_three_runs_are_kept(setup, published, tmp_path):
    out = _fresh_copy(published, tmp_path)
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        assert _score(setup, out, day).returncode == 0
    runs = sorted(p.name for p in (out.parent / "scores.runs").iterdir())
    assert len(runs) == 3
    assert out.resolve().name in runs
    _assert_whole_run(out, "2026-01-03")
