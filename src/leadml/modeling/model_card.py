"""The model card logged with every training run (Markdown)."""

from __future__ import annotations

from typing import Any

from leadml.config import RunConfig

__all__ = ["model_card"]

PARTS = ("train", "valid", "calib", "test")

_METRICS = (
    ("roc_auc", "ROC-AUC", "{:.3f}"),
    ("pr_auc", "PR-AUC", "{:.3f}"),
    ("brier", "Brier", "{:.4f}"),
    ("ece", "ECE", "{:.4f}"),
    ("log_loss", "log loss", "{:.4f}"),
    ("lift_top_decile", "lift, top decile", "{:.2f}"),
)


def _metric_table(report: dict[str, Any]) -> list[str]:
    names = [n for n in ("model", "champion", "baseline", "oracle") if n in report]
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for key, label, fmt in _METRICS:
        cells = []
        for name in names:
            value = report[name].get(key)
            cells.append("–" if value is None else fmt.format(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _segment_table(model: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for segment, rows in (model.get("by_segment") or {}).items():
        lines += [
            "",
            f"**By {segment}**",
            "",
            "| value | leads | converted | rate | mean predicted |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in rows[:12]:
            lines.append(
                f"| {row.get('segment', row.get('value'))} | {row.get('n', 0):,} | {row.get('positives', 0):,} | "
                f"{row.get('rate', 0):.3f} | {row.get('mean_predicted', 0):.3f} |"
            )
    return lines


def _registered_model(report: dict[str, Any]) -> list[str]:
    """What was registered: the evaluation model itself, or its refit on every labelled row."""
    refit = report.get("refit")
    if not refit:
        return ["## Registered model", "The evaluation model above is the one registered.", ""]
    oof = refit.get("out_of_fold", {})
    return [
        "## Registered model",
        f"Refit on every labelled snapshot up to the data's end ({refit['n_rows']:,} rows, "
        f"{refit['positives']:,} positives, {refit['rounds']} boosting rounds scaled from early "
        "stopping), Platt scaling fitted on cross-fitted out-of-fold margins "
        f"(ROC-AUC {oof.get('roc_auc', float('nan')):.3f}, ECE {oof.get('ece', float('nan')):.4f}). "
        "The test metrics above are the evaluation model's out-of-time evidence: the refit "
        "learned from the test rows too, so it has no out-of-time test of its own "
        "(`leadml backtest` shows what refitting gains).",
        "",
    ]


def model_card(config: RunConfig, report: dict[str, Any]) -> str:
    """Intended use, data window, metrics overall and by segment, the baseline, caveats."""
    target = config.target
    sizes = report.get("sizes", {})
    # the training set's summary holds each part at its top level (train, valid, calib, test)
    parts = {name: sizes[name] for name in PARTS if isinstance(sizes.get(name), dict)}
    if not parts:
        raise ValueError(
            f"model_card: the report's sizes hold none of the parts {list(PARTS)}; "
            f"got keys {sorted(sizes)[:12]}"
        )
    window_lines = [
        f"| {name} | {info.get('n', 0):,} | {info.get('positives', 0):,} | "
        f"{info.get('as_of_min') or '–'} | {info.get('as_of_max') or '–'} |"
        for name, info in parts.items()
    ]
    lines = [
        f"# Model card: {config.model.registered_name}",
        "",
        "## Intended use",
        f"Ranks open B2B leads by the calibrated probability that they reach **{target.name}** "
        f"({', '.join(target.stages)}) within **{target.horizon_days} days** after the scoring date, "
        "and explains each score in points and plain words for sales reps. It supports, not replaces, "
        "a rep's judgement; it is not meant for decisions about individuals beyond prioritising follow-up.",
        "",
        "## Data window (out of time, purged)",
        "",
        "| part | snapshots | positives | as_of from | as_of to |",
        "|---|---:|---:|---|---|",
        *window_lines,
        "",
        f"Censored snapshots (label window past the data end, dropped): {sizes.get('censored', 'n/a')}. "
        f"Purge gap between parts: {config.purge_days} days.",
        "",
        "## Test metrics (same rows for every scorer)",
        "",
        *_metric_table(report),
        "",
        "The rule baseline is the hand-tuned point grid "
        f"(`{config.point_grid}`), its points mapped to a probability on the training part.",
        *_segment_table(report.get("model", {})),
        "",
        *_registered_model(report),
        "## Explanations",
        "Per-lead reasons are exact TreeSHAP contributions in points "
        f"({config.points.base:g} points at the average lead open at the end of the training data "
        f"in event mode, at the average training row in flat mode; +{config.points.pdo:g} points = "
        "odds doubled).",
        *_fidelity_lines(report),
        "",
        "## Caveats",
        "- Probabilities are calibrated by Platt scaling (on the calib part, or on cross-fitted "
        "out-of-fold margins for a refit or on small data); recalibrate when conversion rates move.",
        "- Features see only data strictly before each snapshot; fields filled after the outcome are excluded.",
        "- Drift (PSI > 0.2) is reported by every scoring run; retrain when it persists.",
        "- Segments with few leads have wide intervals; the bootstrap intervals are the run's "
        "`test_model_roc_auc_ci_low` / `_high` metrics (and metrics.json).",
    ]
    return "\n".join(lines) + "\n"


def _fidelity_lines(report: dict[str, Any]) -> list[str]:
    """The explanation-fidelity figures against the generator's truth, when measured."""
    fidelity = report.get("explanation_fidelity")
    if not fidelity:
        return []
    spearman = ", ".join(
        f"{name} {value:.2f}" for name, value in fidelity["spearman"].items() if value is not None
    )
    lines = ["", f"Checked against the generator's truth: Spearman per driver {spearman}"]
    if fidelity.get("sign_agreement") is not None:
        lines.append(
            f"- shown reasons about the last 30 days agreeing with the true direction: "
            f"{fidelity['sign_agreement']:.1%}"
        )
    if fidelity.get("no_effect_max_mean_abs_points") is not None:
        lines.append(
            "- largest mean |points| of a no-effect attribute: "
            f"{fidelity['no_effect_max_mean_abs_points']:.2f}"
        )
    return lines
