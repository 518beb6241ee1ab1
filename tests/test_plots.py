"""Figures: built from evaluate's output, written as non-empty PNG files."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from leadml.modeling.evaluate import evaluate_scores, reliability_table
from leadml.modeling.plots import (
    gains_figure,
    reliability_figure,
    save_figure,
    score_distribution_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def scored() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    truth = rng.beta(1.0, 6.0, size=3000)
    y = (rng.random(truth.size) < truth).astype(int)
    model = np.clip(truth + rng.normal(0, 0.05, truth.size), 0, 1)
    baseline = np.round(np.clip(truth * 1.5, 0, 1), 1)  # few distinct values, like a point grid
    return {"y": y, "oracle": truth, "model": model, "baseline": baseline}


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 5_000


def test_reliability_figure_from_reports_and_tables(scored, tmp_path):
    y = scored["y"]
    reports = {name: evaluate_scores(y, scored[name], n_boot=5) for name in ("model", "baseline")}
    fig = reliability_figure(reports)
    assert isinstance(fig, Figure)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[0].startswith("model (ECE ") and labels[1].startswith("baseline (ECE ")
    path = save_figure(fig, tmp_path / "figures" / "reliability.png")
    assert_png(path)
    assert_png(
        save_figure(reliability_figure(reliability_table(y, scored["model"])), tmp_path / "one.png")
    )


def test_gains_figure_with_random_line_and_oracle(scored, tmp_path):
    y = scored["y"]
    fig = gains_figure(
        {"model": (y, scored["model"]), "baseline": (y, scored["baseline"])},
        oracle=(y, scored["oracle"]),
    )
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["model", "baseline", "oracle", "random"]
    assert_png(save_figure(fig, tmp_path / "gains.png"))


def test_score_distribution_for_probabilities_and_points(scored, tmp_path):
    y = scored["y"]
    assert_png(
        save_figure(score_distribution_figure(y, scored["model"]), tmp_path / "probability.png")
    )
    points = np.random.default_rng(0).choice([-50, 0, 25, 40, 65], size=y.size)
    fig = score_distribution_figure(y, points, label="points")
    assert len(fig.axes[0].patches) == 2 * 5  # one bar per point value and outcome
    assert_png(save_figure(fig, tmp_path / "points.png"))


def test_save_figure_replaces_atomically_and_leaves_no_temp_file(scored, tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")
    save_figure(score_distribution_figure(scored["y"], scored["model"]), target)
    assert_png(target)
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_reliability_figure_rejects_other_mappings():
    with pytest.raises(
        ValueError, match=r"expected an evaluate_scores report \(with a 'reliability' key\)"
    ):
        reliability_figure({"model": {"roc_auc": 0.7}})


def test_pyplot_on_agg_gives_the_callers_backend_back() -> None:
    import matplotlib.pyplot as plt

    from leadml.modeling.plots import pyplot_on_agg

    plt.switch_backend("svg")
    try:
        with pyplot_on_agg() as agg:
            agg.figure()
            assert agg.get_backend().lower() == "agg"
        assert plt.get_backend() == "svg" and plt.get_fignums() == []
    finally:
        plt.switch_backend("agg")
