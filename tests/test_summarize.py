"""`leadml summarize`: the test metrics of each report, one block per target."""

import json

from typer.testing import CliRunner

from leadml.cli import app


def _report(target: str, n_test: int, auc: float) -> dict:
    metrics = {"roc_auc": auc, "pr_auc": 0.4, "brier": 0.05, "ece": 0.01, "lift_top_decile": 5.0}
    return {
        "target": target,
        "n_test": n_test,
        "model": metrics,
        "baseline": {**metrics, "roc_auc": 0.677},
    }


def test_summarize_prints_each_scorer_and_the_snapshot_counts(tmp_path):
    paths = []
    for target, n, auc in (("sql", 19_888, 0.9051), ("won", 9_532, 0.8687)):
        path = tmp_path / f"train_{target}.json"
        path.write_text(json.dumps(_report(target, n, auc)))
        paths.append(str(path))
    result = CliRunner().invoke(app, ["summarize", *paths], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "│" in line]
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines]
    assert cells == [
        ["sql", "model", "0.905", "0.400", "0.0500", "0.0100", "5.00"],
        ["", "baseline", "0.677", "0.400", "0.0500", "0.0100", "5.00"],
        ["won", "model", "0.869", "0.400", "0.0500", "0.0100", "5.00"],
        ["", "baseline", "0.677", "0.400", "0.0500", "0.0100", "5.00"],
    ]
    assert "sql: 19,888 test snapshots; won: 9,532 test snapshots" in result.output
