"""Figures for the evaluation: reliability, cumulative gains, score distributions.

Numbers come from :mod:`leadml.modeling.evaluate`; this module only draws them. Figures
are built on matplotlib's object API with the Agg canvas (no pyplot, no global
state, no display), so they are safe in batch jobs and tests. shap's own plots
draw only through pyplot: :func:`pyplot_on_agg` lends them an Agg pyplot and
gives the caller's backend back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leadml.data.io import atomic_path
from leadml.modeling.evaluate import cumulative_gains_curve, ece_from_reliability, gains_table

__all__ = [
    "backtest_figure",
    "gains_figure",
    "pyplot_on_agg",
    "reliability_figure",
    "save_figure",
    "score_distribution_figure",
]

# zlib level 1: PNGs a few % larger, written several times faster than the default 6
PNG_OPTIONS = {"compress_level": 1}
CURVE_POINTS = 501  # gains curves are resampled to this many points: enough for the eye


@contextmanager
def pyplot_on_agg() -> Iterator[Any]:
    """pyplot drawing to the Agg canvas for the duration of the block; the previous backend after.

    For third-party plots that only draw through pyplot (shap's waterfall): the
    process-wide backend is left as the caller had it (a notebook keeps its own).
    """
    import matplotlib.pyplot as plt

    previous = plt.get_backend()
    plt.switch_backend("agg")
    try:
        yield plt
    finally:
        plt.close("all")
        plt.switch_backend(previous)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _as_reliability(
    report_or_table: Mapping[str, Any] | pd.DataFrame,
) -> tuple[pd.DataFrame, float | None]:
    """A reliability table and its ECE from an ``evaluate_scores`` report or a ``reliability_table``."""
    if isinstance(report_or_table, pd.DataFrame):
        return report_or_table, ece_from_reliability(report_or_table)
    if "reliability" not in report_or_table:
        raise ValueError(
            f"expected an evaluate_scores report (with a 'reliability' key) or a reliability table; "
            f"got a mapping with keys {sorted(report_or_table)[:8]}"
        )
    return pd.DataFrame(report_or_table["reliability"]), report_or_table.get("ece")


def reliability_figure(
    reports: Mapping[str, Mapping[str, Any] | pd.DataFrame] | pd.DataFrame,
    *,
    title: str = "Reliability (equal-count bins)",
) -> Figure:
    """Observed conversion against mean predicted probability, one line per scorer.

    ``reports`` maps a scorer name to its ``evaluate_scores`` report or its
    ``reliability_table``; a single report or table is drawn as ``"model"``.
    Points lie on the diagonal when probabilities are calibrated.
    """
    if isinstance(reports, pd.DataFrame) or "reliability" in reports:
        reports = {"model": reports}  # type: ignore[dict-item]
    fig = _figure(6.0, 5.5)
    ax = fig.add_subplot()
    top = 0.0
    for name, item in reports.items():
        table, ece = _as_reliability(item)
        label = name if ece is None else f"{name} (ECE {ece:.3f})"
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=label)
        top = max(top, float(table["mean_predicted"].max()), float(table["observed_rate"].max()))
    top = min(1.0, top * 1.05 + 0.01)
    ax.plot(
        [0, top], [0, top], linestyle="--", color="grey", linewidth=1, label="perfectly calibrated"
    )
    ax.set(
        xlim=(0, top),
        ylim=(0, top),
        xlabel="mean predicted probability",
        ylabel="observed conversion rate",
    )
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def _resampled_curve(y_true: Any, y_prob: Any) -> tuple[np.ndarray, np.ndarray]:
    curve = cumulative_gains_curve(y_true, y_prob)
    x = np.linspace(0.0, 1.0, CURVE_POINTS)
    return x, np.interp(x, curve["share_of_leads"], curve["share_of_positives"])


def gains_figure(
    curves: Mapping[str, tuple[Any, Any]],
    *,
    oracle: tuple[Any, Any] | None = None,
    title: str = "Cumulative gains",
) -> Figure:
    """Cumulative gains (share of conversions found vs share of leads worked) and lift by decile.

    ``curves`` maps a scorer name to ``(y_true, y_prob)``; ``oracle`` is the
    same pair for the true probabilities, when the data is synthetic. The
    random ranking is the diagonal.
    """
    if not curves and oracle is None:
        raise ValueError("gains_figure needs at least one (y_true, y_prob) pair; got none")
    fig = _figure(11.0, 5.0)
    ax_gains, ax_lift = fig.subplots(1, 2)
    named = dict(curves)
    if oracle is not None:
        named["oracle"] = oracle
    width = 0.8 / len(named)
    for i, (name, (y_true, y_prob)) in enumerate(named.items()):
        style = (
            {"color": "black", "linestyle": ":"} if name == "oracle" and oracle is not None else {}
        )
        x, gained = _resampled_curve(y_true, y_prob)
        ax_gains.plot(x, gained, label=name, **style)
        table = gains_table(y_true, y_prob)
        ax_lift.bar(
            table["decile"] + (i - (len(named) - 1) / 2) * width,
            table["lift"],
            width=width,
            label=name,
            **({"color": "black", "alpha": 0.5} if style else {}),
        )
    ax_gains.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="random")
    ax_gains.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="share of leads worked (highest scores first)",
        ylabel="share of conversions found",
    )
    ax_gains.set_title(title)
    ax_gains.legend(loc="lower right", fontsize="small")
    ax_gains.grid(alpha=0.3)
    ax_lift.axhline(1.0, linestyle="--", color="grey", linewidth=1)
    ax_lift.set(
        xlabel="decile (1 = highest scores)",
        ylabel="lift (decile rate / overall rate)",
        xticks=range(1, 11),
    )
    ax_lift.set_title("Lift by decile")
    ax_lift.legend(fontsize="small")
    ax_lift.grid(alpha=0.3, axis="y")
    return fig


def score_distribution_figure(
    y_true: Any,
    scores: Any,
    *,
    label: str = "predicted probability",
    bins: int = 30,
    max_discrete: int = 40,
) -> Figure:
    """The score's distribution for converted and unconverted leads, each normalised to its own total.

    ``scores`` may be probabilities or points; when it takes at most
    ``max_discrete`` distinct values (a point grid), each value gets its own bar.
    """
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(
            f"y_true and scores must be 1-D and the same length; got {y.shape} and {s.shape}"
        )
    if not y.any() or y.all():
        raise ValueError("score_distribution_figure needs both converted and unconverted leads")
    fig = _figure(7.0, 4.5)
    ax = fig.add_subplot()
    groups = {"not converted": s[~y], "converted": s[y]}
    values = np.unique(s)
    if values.size <= max_discrete:
        step = float(np.min(np.diff(values))) if values.size > 1 else 1.0
        width = 0.4 * step
        for i, (name, part) in enumerate(groups.items()):
            share = pd.Series(part).value_counts(normalize=True).reindex(values, fill_value=0.0)
            ax.bar(
                values + (i - 0.5) * width,
                share.to_numpy(),
                width=width,
                label=f"{name} (n={part.size:,})",
            )
        ax.set_ylabel("share of leads")
    else:
        edges = np.histogram_bin_edges(s, bins=bins)
        for name, part in groups.items():
            ax.hist(
                part,
                bins=edges,
                density=True,
                histtype="step",
                linewidth=1.5,
                label=f"{name} (n={part.size:,})",
            )
        ax.set_ylabel("density")
    ax.set_xlabel(label)
    ax.set_title(f"Distribution of the {label}, by outcome")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def save_figure(
    fig: Figure, path: str | Path, *, dpi: int = 110, bbox_inches: str | None = None
) -> Path:
    """Write ``fig`` as PNG atomically (temporary file beside ``path``, then rename); returns ``path``.

    ``bbox_inches="tight"`` trims the margins (figures drawn by shap need it).
    """
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, pil_kwargs=PNG_OPTIONS, bbox_inches=bbox_inches)
    return Path(path)


# Colours and labels of the backtest's arms, in legend order.
_BACKTEST_ARMS: dict[str, tuple[str, str]] = {
    "refit": ("refit on the whole window", "tab:blue"),
    "oldest_part": ("oldest part only (early stop + Platt on newer parts)", "tab:orange"),
    "baseline": ("hand-tuned grid", "tab:gray"),
    "oracle": ("oracle (true probability)", "tab:green"),
}


def backtest_figure(report: Mapping[str, Any], pooled: Mapping[str, Any] | None = None) -> Figure:
    """Per fold of a rolling-origin backtest report: ROC-AUC, ECE and lift in the top decile of
    each arm; the pooled value of each arm in the legend."""
    folds = list(report["folds"])
    x = np.array([f["fold"] for f in folds])
    panels = (("roc_auc", "ROC-AUC"), ("ece", "ECE (lower is better)"),
              ("lift_top_decile", "lift in the top decile"))  # fmt: skip
    fig = _figure(14, 4.6)
    axes = fig.subplots(1, len(panels))
    for ax, (metric, title) in zip(axes, panels, strict=True):
        for arm, (label, colour) in _BACKTEST_ARMS.items():
            values = [f[arm][metric] if metric in f.get(arm, {}) else np.nan for f in folds]
            if np.all(np.isnan(values)):
                continue
            pooled_value = report.get("pooled", {}).get(arm, {}).get(metric)
            shown = label if pooled_value is None else f"{label}: pooled {pooled_value:.3f}"
            ax.plot(x, values, marker="o", color=colour, label=shown)
        ax.set_xticks(x)
        ax.set_xticklabels(
            [
                f"{f['fold']}\n{str(f['test_range'][0])[:10]}"
                if f.get("test_range")
                else str(f["fold"])
                for f in folds
            ],
            fontsize="small",
        )
        ax.set_xlabel("fold (first test row)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    fig.suptitle(
        f"Rolling-origin backtest, {report.get('target', '')}: {report.get('window', '')} window, "
        f"{len(folds)} folds, purge gap {report.get('purge_gap', '')}"
    )
    return fig
