"""Figures: they draw evaluate's numbers (checked on the artists) and save as real PNG images."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
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


def assert_png(path, size: tuple[int, int]) -> None:
    """A PNG of ``size`` (width, height) pixels that holds a drawing, not a blank canvas."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    # IHDR: width and height as big-endian 32-bit integers at bytes 16..24
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == size
    pixels = mpimg.imread(path)
    assert pixels.shape[:2] == (size[1], size[0])
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]).round(2), axis=0)
    assert len(colours) > 50  # lines, text, anti-aliasing: a real drawing
    # matplotlib's first colour (C0, #1f77b4) is drawn somewhere
    c0 = np.array([0x1F, 0x77, 0xB4]) / 255
    assert (np.abs(pixels[..., :3] - c0).max(axis=-1) < 0.02).sum() > 100


def test_reliability_figure_from_reports_and_tables(scored, tmp_path):
    y = scored["y"]
    reports = {name: evaluate_scores(y, scored[name], n_boot=5) for name in ("model", "baseline")}
    fig = reliability_figure(reports)
    assert isinstance(fig, Figure)
    lines = fig.axes[0].get_lines()
    labels = [line.get_label() for line in lines]
    assert labels == [
        f"model (ECE {reports['model']['ece']:.3f})",
        f"baseline (ECE {reports['baseline']['ece']:.3f})",
        "perfectly calibrated",
    ]
    # each line is the report's reliability table: mean predicted against observed rate
    for line, name in zip(lines, ("model", "baseline"), strict=False):
        table = pd.DataFrame(reports[name]["reliability"])
        np.testing.assert_allclose(line.get_xdata(), table["mean_predicted"])
        np.testing.assert_allclose(line.get_ydata(), table["observed_rate"])
    top = max(
        max(pd.DataFrame(r["reliability"])[c].max() for c in ("mean_predicted", "observed_rate"))
        for r in reports.values()
    )
    assert list(lines[2].get_xdata()) == [0, pytest.approx(min(1.0, top * 1.05 + 0.01))]
    assert fig.axes[0].get_xlim() == pytest.approx((0, min(1.0, top * 1.05 + 0.01)))
    path = save_figure(fig, tmp_path / "figures" / "reliability.png")
    assert_png(path, (660, 605))  # 6 x 5.5 inches at 110 dpi
    one = reliability_figure(reliability_table(y, scored["model"]))
    assert one.axes[0].get_lines()[0].get_label().startswith("model (ECE 0.0")
    assert_png(save_figure(one, tmp_path / "one.png"), (660, 605))


def test_gains_figure_with_random_line_and_oracle(scored, tmp_path):
    y = scored["y"]
    fig = gains_figure(
        {"model": (y, scored["model"]), "baseline": (y, scored["baseline"])},
        oracle=(y, scored["oracle"]),
    )
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["model", "baseline", "oracle", "random"]
    # the model's curve, by hand: the share of all conversions among the top 10 % / 50 % of leads
    x, gained = lines[0].get_xdata(), lines[0].get_ydata()
    order = np.argsort(-scored["model"], kind="stable")
    for share in (0.1, 0.5):
        top = order[: int(share * y.size)]
        found = y[top].sum() / y.sum()
        assert np.interp(share, x, gained) == pytest.approx(found, abs=0.01)
    assert gained[0] == 0.0 and gained[-1] == pytest.approx(1.0)
    assert (np.diff(gained) >= -1e-12).all()
    # lift bars: 10 per scorer, the first decile's lift = its rate / the overall rate
    bars = fig.axes[1].patches
    assert len(bars) == 3 * 10
    first_decile = order[: y.size // 10]
    assert bars[0].get_height() == pytest.approx(y[first_decile].mean() / y.mean(), rel=0.02)
    assert bars[0].get_height() > 2.0 > bars[9].get_height()
    assert_png(save_figure(fig, tmp_path / "gains.png"), (1210, 550))


def test_score_distribution_for_probabilities_and_points(scored, tmp_path):
    y = scored["y"]
    continuous = score_distribution_figure(y, scored["model"])
    ax = continuous.axes[0]
    assert ax.get_ylabel() == "density" and ax.get_xlabel() == "predicted probability"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"not converted (n={int((y == 0).sum()):,})",
        f"converted (n={int(y.sum()):,})",
    ]
    assert_png(save_figure(continuous, tmp_path / "probability.png"), (770, 495))
    values = np.array([-50, 0, 25, 40, 65])
    points = np.random.default_rng(0).choice(values, size=y.size)
    fig = score_distribution_figure(y, points, label="points")
    bars = fig.axes[0].patches
    assert len(bars) == 2 * 5  # one bar per point value and outcome
    # each bar is the share of that outcome's leads at that value; bars sit 0.2 steps apart
    for i, outcome in enumerate((0, 1)):
        part = points[y == outcome]
        heights = [bar.get_height() for bar in bars[5 * i : 5 * i + 5]]
        np.testing.assert_allclose(heights, [(part == v).mean() for v in values])
        centres = [bar.get_x() + bar.get_width() / 2 for bar in bars[5 * i : 5 * i + 5]]
        np.testing.assert_allclose(centres, values + (i - 0.5) * 0.4 * 15)
    assert fig.axes[0].get_ylabel() == "share of leads"
    assert fig.axes[0].get_title() == "Distribution of the points, by outcome"
    assert_png(save_figure(fig, tmp_path / "points.png"), (770, 495))


def test_save_figure_replaces_atomically_and_leaves_no_temp_file(scored, tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")
    save_figure(score_distribution_figure(scored["y"], scored["model"]), target)
    assert_png(target, (770, 495))
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
