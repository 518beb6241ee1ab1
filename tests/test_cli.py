"""Command-line conventions: --version, one-line errors, no store created when reading,
timestamped progress without a terminal, --quiet, MLflow's own noise off, --fail-on-drift."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TRAINING

LEADML = str(Path(sys.executable).parent / "leadml")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def _run(args, *, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= env_extra or {}
    return subprocess.run(
        [LEADML, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr  # no traceback
    assert lines[0].startswith("error: ")
    return lines[0]


def test_version_prints_the_package_version(tmp_path):
    import leadml

    result = _run(["--version"], cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"leadml {leadml.__version__}"


def test_reading_from_another_folder_never_creates_a_store(tmp_path, demo_data):
    result = _run(
        [
            "score",
            "--data",
            str(demo_data),
            "--config",
            str(TRAINING / "dataset.yaml"),
            "--model",
            "models:/leadml-sql@champion",
            "--as-of",
            "2026-01-01",
            "--out",
            str(tmp_path / "scores"),
        ],
        cwd=tmp_path,
    )
    line = _one_error_line(result)
    assert "no MLflow store at sqlite:///mlflow.db" in line
    assert "--tracking-uri" in line and "leadml train" in line
    assert list(tmp_path.iterdir()) == []  # no mlflow.db, no lock, no output
    promote = _run(["promote", "--model", "leadml-sql"], cwd=tmp_path)
    assert "no MLflow store" in _one_error_line(promote)
    assert list(tmp_path.iterdir()) == []


def test_unknown_models_and_aliases_are_one_line_errors_saying_what_exists(
    champion, demo_data, tracking_uri, tmp_path
):
    common = ["--tracking-uri", tracking_uri]
    line = _one_error_line(_run(["promote", "--model", "leadml-nope", *common], cwd=tmp_path))
    assert "no registered model 'leadml-nope'" in line and "'leadml-sql'" in line
    scored = _run(
        [
            "score",
            "--data",
            str(demo_data),
            "--config",
            str(TRAINING / "dataset.yaml"),
            "--model",
            "models:/leadml-sql@staging",
            "--as-of",
            "2026-01-01",
            "--out",
            str(tmp_path / "s"),
            *common,
        ],
        cwd=tmp_path,
    )
    line = _one_error_line(scored)
    assert "model 'leadml-sql' has no alias 'staging'" in line and "'champion'" in line
    version = _run(["promote", "--model", "leadml-sql", "--version", "999", *common], cwd=tmp_path)
    assert "has no version '999'; its versions: [1" in _one_error_line(version)


@pytest.fixture(scope="module")
def scored_without_terminal(champion, demo_data, tracking_uri, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-scores")
    result = _run(
        [
            "score",
            "--data",
            str(demo_data),
            "--config",
            str(TRAINING / "dataset.yaml"),
            "--model",
            "models:/leadml-sql@champion",
            "--as-of",
            "2026-01-01",
            "--out",
            str(out),
            "--tracking-uri",
            tracking_uri,
            "--no-mlflow",
        ],
        cwd=out,
    )
    return result, out


def test_progress_is_timestamped_on_stderr_without_a_terminal(scored_without_terminal):
    result, out = scored_without_terminal
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    progress = [line for line in lines if not line.startswith("warning: ")]
    assert len(progress) >= 4
    assert all(STAMP.match(line) for line in progress), lines
    assert any("open leads as of 2026-01-01" in line for line in progress)
    assert any(re.search(r"scoring: [\d,]+/[\d,]+ leads \(100 %", line) for line in progress)
    # MLflow's own progress bars and INFO lines stay off
    assert "Downloading artifacts" not in result.stderr and " INFO " not in result.stderr
    # stdout is machine-readable
    summary = json.loads(result.stdout)
    assert summary["counts"]["scored"] > 1000 and "drifted" in summary


def test_quiet_keeps_stderr_free_of_progress(champion, demo_data, tracking_uri, tmp_path):
    result = _run(
        [
            "--quiet",
            "score",
            "--data",
            str(demo_data),
            "--config",
            str(TRAINING / "dataset.yaml"),
            "--model",
            "models:/leadml-sql@champion",
            "--as-of",
            "2026-01-01",
            "--out",
            str(tmp_path / "q"),
            "--tracking-uri",
            tracking_uri,
            "--no-mlflow",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if not line.startswith("warning:")] == []
    assert json.loads(result.stdout)["counts"]["scored"] > 1000


def test_fail_on_drift_exits_3_after_writing_the_outputs(
    champion, demo_data, tracking_uri, tmp_path
):
    # two years before the end of the training data, the open leads are a younger crowd
    args = [
        "--quiet",
        "score",
        "--data",
        str(demo_data),
        "--config",
        str(TRAINING / "dataset.yaml"),
        "--model",
        "models:/leadml-sql@champion",
        "--as-of",
        "2024-01-01",
        "--tracking-uri",
        tracking_uri,
        "--no-mlflow",
    ]
    plain = _run([*args, "--out", str(tmp_path / "plain")], cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    drifted = json.loads(plain.stdout)["drifted"]
    assert drifted, "expected drift when scoring two years before the training data's end"
    failing = _run([*args, "--out", str(tmp_path / "fail"), "--fail-on-drift"], cwd=tmp_path)
    assert failing.returncode == 3
    assert (tmp_path / "fail" / "_SUCCESS").exists()
    assert f"error: drift above PSI 0.2 in {drifted[0]}" in failing.stderr
    assert "--fail-on-drift" in failing.stderr


# --- exit codes (issue 16) ------------------------------------------------------------------
def test_every_exit_code_is_documented_in_the_readme():
    from leadml.commands._common import EXIT_CODES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = dict(re.findall(r"^\s*\| (\d+) \| (.+?) \|$", readme, flags=re.M))
    assert sorted(int(code) for code in table) == sorted(EXIT_CODES)


def test_an_unexpected_error_is_one_line_with_exit_70_and_a_traceback_on_demand(monkeypatch):
    from typer.testing import CliRunner

    import leadml.commands.validate as validate
    from leadml.cli import app

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(validate, "_print_summary", broken)
    result = CliRunner().invoke(app, ["validate", "--data", str(TRAINING)])
    assert result.exit_code == 70
    assert "unexpected ZeroDivisionError: a bug (a bug in leadml" in result.output
    monkeypatch.setenv("LEADML_DEBUG", "1")
    result = CliRunner().invoke(app, ["validate", "--data", str(TRAINING)])
    assert isinstance(result.exception, ZeroDivisionError)


def test_usage_and_config_errors_exit_2_and_long_values_are_cut(tmp_path):
    usage = _run(["score", "--chunk-size", "many"], cwd=tmp_path)
    assert usage.returncode == 2 and "Invalid value for '--chunk-size'" in usage.stderr
    config = tmp_path / "run.yaml"
    config.write_text(f"dataset: {TRAINING / 'dataset.yaml'}\nseed: {'x' * 100_000}\n")
    result = _run(["train", "--data", str(tmp_path), "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr) < 1_000 and "more characters" in result.stderr


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["score", "--format", "xml"],
         "error: Invalid value for '--format': Value error, 'xml' is not one of 'parquet', "
         "'csv', 'both'. (see `leadml score --help`)"),
        (["scroe"], "error: No such command 'scroe'. Did you mean 'score'? (see `leadml --help`)"),
        (["score"], "error: Missing option '--data'. (see `leadml score --help`)"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_with_exit_2(argv, line, capsys) -> None:
    from leadml.cli import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [line]


def test_the_console_entry_point_exits_with_the_commands_code(capsys) -> None:
    from leadml.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.strip().startswith("leadml ")
