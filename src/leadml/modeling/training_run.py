"""One training run end to end: training set → LightGBM + Platt → evaluation beside the
rule baseline, the champion and the oracle → refit on every labelled snapshot →
explanations → MLflow run + registry.

The evaluation model (trained on the oldest part, or cross-fitted on small data)
gives the out-of-time evidence; with ``refit.enabled`` the model registered and
scored with is its refit on every labelled snapshot up to the data's end.

This is the orchestration behind ``leadml train``; each step is a pure function
of another module, and MLflow is reached only through :mod:`leadml.tracking`.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import RunConfig
from leadml.data.io import write_json_atomic
from leadml.data.sources import data_location, is_database, redact
from leadml.explain.explanation import explain_rows
from leadml.modeling.evaluate import conversion_by_tier, evaluate_scores
from leadml.modeling.model_card import model_card
from leadml.modeling.train import RefitResult, TrainResult, refit_scorer, train_scorer

__all__ = ["data_fingerprint", "evaluate_test_part", "run_training"]

KEY_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top_decile")
EVALUATION_MODEL = "evaluation_model"  # run artifact folder of the evaluation model
EXPLAIN_SAMPLE = 20_000
BEESWARM_SAMPLE = 1_500


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def data_fingerprint(data: str | Path, training_set: Any) -> dict[str, Any]:
    """Row counts, date ranges and a SHA-256 over the input files' bytes (a database: over
    the training set's rows, with the URL shown without its password)."""
    if is_database(data):
        rows = pd.util.hash_pandas_object(training_set.frame, index=False).to_numpy()
        return {
            "inputs_sha256": hashlib.sha256(rows.tobytes()).hexdigest(),
            "database": redact(str(data)),
            "summary": training_set.summary,
        }
    data = Path(data)
    files = sorted(p for p in data.iterdir() if p.is_file()) if data.is_dir() else [data]
    digest = hashlib.sha256()
    for path in files:
        if path.name.startswith("truth"):
            continue  # the truth is for evaluation only; it never defines the data
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return {
        "inputs_sha256": digest.hexdigest(),
        "files": [p.name for p in files],
        "summary": training_set.summary,
    }


def _segments(test: pd.DataFrame, config: RunConfig) -> dict[str, np.ndarray]:
    if config.is_flat:
        candidates = [c for c in config.dataset.categorical if c in test.columns][:2]
    else:
        candidates = [c for c in ("source", "industry") if c in test.columns]
    return {
        c: test[c].astype(object).where(test[c].notna(), "missing").astype(str).to_numpy()
        for c in candidates
    }


def _oracle(config: RunConfig, data: str | Path, test: pd.DataFrame) -> np.ndarray | None:
    """True probabilities from the generator's truth, when the data is synthetic."""
    if not isinstance(data, Path):
        return None  # a database holds no generator truth
    truth_path = (data if data.is_dir() else data.parent) / "truth.parquet"
    if config.is_flat or not truth_path.is_file() or config.target.name not in ("sql", "won"):
        return None
    from leadml.data.io import find_table_file
    from leadml.synth.oracle import oracle_probability

    truth = pd.read_parquet(truth_path)
    leads = pd.read_parquet(find_table_file(data, config.dataset.tables["leads"].file))
    created = leads.set_index(config.dataset.tables["leads"].source_column("lead_id"))[
        config.dataset.tables["leads"].source_column("created_at")
    ]
    return oracle_probability(
        truth,
        test["lead_id"].to_numpy(),
        pd.to_datetime(test["as_of"]).to_numpy(),
        created_at=pd.to_datetime(created.reindex(test["lead_id"].to_numpy())).to_numpy(),
        target=config.target.name,
        horizon_days=config.target.horizon_days,
    )


def evaluate_test_part(
    scores: dict[str, np.ndarray],
    y: np.ndarray,
    *,
    segments: dict[str, np.ndarray],
    config: RunConfig,
) -> dict[str, dict[str, Any]]:
    """The shared evaluation of every scorer on the same test rows."""
    return {
        name: evaluate_scores(
            y,
            prob,
            segments=segments,
            tier_thresholds=(config.tiers.hot, config.tiers.warm),
            random_state=config.seed,
        )
        for name, prob in scores.items()
    }


def _champion_probability(
    config: RunConfig, test: pd.DataFrame, uri: str | None
) -> tuple[np.ndarray | None, str | None]:
    """The champion's probabilities on the test rows, from its *evaluation* model when its run
    logged one: a refit champion learned from rows up to its data's end, test rows included,
    so only its evaluation model is judged out of time like the challenger's."""
    from leadml.tracking import load_champion, load_evaluation_scorer

    found = load_champion(config.model.registered_name, uri=uri)
    if found is None:
        return None, None
    champion, meta = found
    evaluation = load_evaluation_scorer(f"models:/{config.model.registered_name}@champion", uri=uri)
    if evaluation is not None:
        champion = evaluation
    try:
        return champion.probability(test), meta.get("version")
    except (KeyError, ValueError) as exc:
        _log(f"champion version {meta.get('version')} cannot score this training set: {exc}")
        return None, None


def _baseline(config: RunConfig, training_set: Any):
    from leadml.modeling.baseline import PointGridClassifier, load_point_grid

    grid_path = config.resolve(config.point_grid)
    if grid_path is None:
        return None
    # a grid names columns as the user wrote them; the frames carry internal names
    internal = {c.column: c.name for c in training_set.spec.columns}
    grid = load_point_grid(grid_path).renamed(internal)
    X_train, y_train = training_set.part("train")
    return PointGridClassifier(grid=grid).fit(X_train, y_train)


def _figures(
    folder: Path, y: np.ndarray, scores: dict[str, np.ndarray], reports: dict[str, Any]
) -> dict[str, Path]:
    from leadml.modeling import plots

    folder.mkdir(parents=True, exist_ok=True)
    oracle = scores.get("oracle")
    curves = {k: (y, v) for k, v in scores.items() if k != "oracle"}
    figures = {
        "reliability.png": plots.reliability_figure({k: reports[k] for k in curves}),
        "gains.png": plots.gains_figure(curves, oracle=None if oracle is None else (y, oracle)),
        "score_distribution.png": plots.score_distribution_figure(y, scores["model"]),
    }
    paths = {}
    for name, fig in figures.items():
        paths[name] = plots.save_figure(fig, folder / name)
    return paths


def _shap_figures(
    folder: Path, explanation: Any, X: pd.DataFrame, display_names: Mapping[str, str]
) -> dict[str, Path]:
    """SHAP's own beeswarm (in points) and a waterfall for one lead, via the shap package."""
    import shap

    from leadml.modeling.plots import PNG_OPTIONS, pyplot_on_agg

    X = X.rename(columns=display_names)  # the figures speak the user's column names
    data = X.apply(
        lambda c: (
            c.cat.codes.where(c.notna(), np.nan) if isinstance(c.dtype, pd.CategoricalDtype) else c
        )
    )
    values = shap.Explanation(
        values=explanation.feature_points.to_numpy(),
        base_values=np.full(len(X), explanation.base_points),
        data=data.to_numpy(dtype=float, na_value=np.nan),
        feature_names=list(X.columns),
    )
    paths = {}
    # the swarm is drawn from 1,500 leads: more points only blur it (and take seconds)
    shown = np.random.default_rng(0).choice(
        len(X), size=min(len(X), BEESWARM_SAMPLE), replace=False
    )

    with pyplot_on_agg() as plt:

        def save(name: str) -> None:
            paths[name] = folder / name
            plt.savefig(paths[name], dpi=110, bbox_inches="tight", pil_kwargs=PNG_OPTIONS)
            plt.close("all")

        shap.plots.beeswarm(values[np.sort(shown)], max_display=20, show=False)
        plt.gcf().set_size_inches(9, 8)
        save("shap_beeswarm.png")
        shap.plots.waterfall(values[int(np.argmax(explanation.points))], max_display=12, show=False)
        save("shap_waterfall_top_lead.png")
    return paths


def _input_example(X: pd.DataFrame) -> pd.DataFrame:
    """A typical lead built from medians and modes (of the explained sample): no real lead's
    data leaves the run."""
    row = {}
    for column in X.columns:
        values = X[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            mode = values.dropna().astype(str).mode()
            row[column] = mode.iloc[0] if len(mode) else None
        else:
            row[column] = (
                float(np.nanmedian(values.to_numpy(dtype=float, na_value=np.nan)))
                if values.notna().any()
                else np.nan
            )
    return pd.DataFrame([row])


def _evaluation_summary(result: TrainResult) -> dict[str, Any]:
    """How the evaluation model was fitted (JSON-ready)."""
    out: dict[str, Any] = {
        "fit_mode": result.fit_mode,
        "rounds": result.best_iteration,
        "reference_rounds": result.reference_rounds,
        "reference_rows": result.reference_rows,
        "calibration": result.scorer.calibration.to_dict(),
    }
    if result.crossfit is not None:
        out["crossfit"] = result.crossfit
    return out


def _training_settings(
    config: RunConfig, result: TrainResult, refit: RefitResult | None
) -> dict[str, Any]:
    """The run's refit, small-data and backtest settings, logged as MLflow params."""
    return {
        "fit_mode": result.fit_mode,
        "refit": config.refit.enabled,
        "refit_rounds": refit.rounds if refit is not None else None,
        "refit_rounds_exponent": config.refit.rounds_exponent,
        "refit_calibration_folds": config.refit.calibration_folds,
        "small_data_max_rows": config.small_data.max_rows,
        "small_data_folds": config.small_data.folds,
        "backtest_folds": config.backtest.folds,
        "backtest_window": config.backtest.window,
    }


class _Phases:
    """Wall-clock seconds of the named steps after boosting (each ``mark`` closes one)."""

    def __init__(self, **done: float) -> None:
        self.seconds: dict[str, float] = dict(done)
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def rounded(self) -> dict[str, float]:
        return {name: round(value, 2) for name, value in self.seconds.items()}


def run_training(
    config: RunConfig,
    data: str | Path,
    *,
    tracking_uri: str | None = None,
    report_path: str | Path | None = None,
    log_to_mlflow: bool = True,
    training_set: Any = None,
) -> dict[str, Any]:
    """Train, evaluate and (unless disabled) log and register a challenger. Returns the report.

    ``training_set`` skips the build when one is already at hand (notebooks, benchmarks).
    """
    from leadml.modeling.learned_grid import learn_grid
    from leadml.pointintime.trainingset import build_training_set

    data = data_location(data)
    started = time.perf_counter()
    if training_set is None:
        _log(f"building the training set from {data} …")
        training_set = build_training_set(config, data)
    built = time.perf_counter()
    _log(
        f"training set: {len(training_set.frame):,} snapshots in {built - started:.1f}s; training LightGBM …"
    )
    result: TrainResult = train_scorer(training_set, config)
    _log(
        f"boosting ({result.fit_mode}): {result.best_iteration} trees in "
        f"{result.boosting_seconds:.1f}s; evaluating …"
    )
    phases = _Phases(**{"calibration and drift reference": result.finishing_seconds})

    test = training_set.frame[training_set.frame["split"] == "test"].reset_index(drop=True)
    X_test, y_test = training_set.part("test")
    scorer = result.scorer
    scores: dict[str, np.ndarray] = {"model": scorer.probability(X_test)}
    baseline = _baseline(config, training_set)
    if baseline is not None:
        scores["baseline"] = baseline.predict_proba(X_test)[:, 1]
    champion_prob, champion_version = (
        _champion_probability(config, X_test, tracking_uri) if log_to_mlflow else (None, None)
    )
    if champion_prob is not None:
        scores["champion"] = champion_prob
    oracle = _oracle(config, data, test)
    if oracle is not None:
        scores["oracle"] = oracle
    phases.mark("scoring the test part")
    reports = evaluate_test_part(scores, y_test, segments=_segments(test, config), config=config)
    phases.mark("evaluation")

    # The evaluation model has given its evidence; the production model learns from every
    # labelled snapshot, the test part and the purged rows included.
    refit: RefitResult | None = None
    if config.refit.enabled:
        refit = refit_scorer(training_set, config, result)
        scorer = refit.scorer
        _log(
            f"refit on {refit.n_rows:,} labelled snapshots: {refit.rounds} trees in "
            f"{refit.boosting_seconds:.1f}s (out-of-fold ROC-AUC "
            f"{refit.out_of_fold['roc_auc']:.3f}, ECE {refit.out_of_fold['ece']:.4f})"
        )
        phases.mark("refit on every labelled snapshot")

    # Explanations of the registered model on (a sample of) the test part: the learned grid
    # and SHAP figures.
    rng = np.random.default_rng(config.seed)
    sample = np.sort(rng.choice(len(X_test), size=min(EXPLAIN_SAMPLE, len(X_test)), replace=False))
    X_sample = X_test.iloc[sample]
    explanation = explain_rows(
        scorer.booster,
        X_sample,
        calibration=scorer.calibration,
        scale=scorer.scale,
        catalogue=scorer.catalogue,
        keep_feature_points=True,
    )
    hand_points = None if baseline is None else baseline.decision_function(X_sample)
    grid = learn_grid(
        explanation.group_points,
        X_sample,
        scorer.catalogue,
        model_points=explanation.points,
        y_true=y_test[sample],
        hand_grid_points=hand_points,
    )
    importance_by_group = (
        explanation.group_points.abs().mean().sort_values(ascending=False).rename("mean_abs_points")
    )
    phases.mark("explanations and learned grid")

    summary = training_set.summary
    report: dict[str, Any] = {
        "target": config.target.name,
        "horizon_days": config.target.horizon_days,
        "model_name": config.model.registered_name,
        "n_test": int(len(y_test)),
        "sizes": summary,
        "best_iteration": result.best_iteration,
        "valid_auc": result.valid_auc,
        "fit_mode": result.fit_mode,
        "evaluation_model": _evaluation_summary(result),
        "registered_model": "refit" if refit is not None else "evaluation",
        **({"refit": refit.summary()} if refit is not None else {}),
        **{name: {k: v for k, v in rep.items()} for name, rep in reports.items()},
        "learned_grid_fidelity": grid.fidelity,
        "mean_abs_points_by_group": importance_by_group.round(4).to_dict(),
        "timings": {
            "training_set_seconds": round(built - started, 2),
            "boosting_seconds": round(result.boosting_seconds, 2),
        },
    }

    if log_to_mlflow:
        from leadml.tracking import log_training_run

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            artifacts = _figures(folder / "figures", y_test, scores, reports)
            artifacts.update(
                _shap_figures(folder / "figures", explanation, X_sample, scorer.spec.display_names)
            )
            phases.mark("figures")
            grid.table.to_csv(folder / "learned_grid.csv", index=False)
            hand = None if baseline is None else baseline.grid_table()
            (folder / "learned_grid.md").write_text(grid.to_markdown(hand_grid=hand))
            (refit or result).feature_importance.to_csv(
                folder / "feature_importance.csv", index=False
            )
            (folder / "model_card.md").write_text(model_card(config, report))
            run_artifacts = [("figures", p) for p in artifacts.values()] + [
                ("explanations", folder / "learned_grid.csv"),
                ("explanations", folder / "learned_grid.md"),
                ("", folder / "model_card.md"),
                ("", folder / "feature_importance.csv"),
            ]
            if refit is not None:
                # the evaluation model travels with the run: a later challenger is compared
                # with it, out of time, rather than with the refit (which saw the test rows)
                saved = result.scorer.save(folder / EVALUATION_MODEL)
                run_artifacts += [(EVALUATION_MODEL, p) for p in saved.values()]
            metrics = {"valid_": {"auc": result.valid_auc, "best_iteration": result.best_iteration}}
            if refit is not None:
                metrics["refit_"] = {
                    "rounds": refit.rounds,
                    "n_rows": refit.n_rows,
                    "out_of_fold_roc_auc": refit.out_of_fold["roc_auc"],
                    "out_of_fold_ece": refit.out_of_fold["ece"],
                    "platt_slope": refit.scorer.calibration.slope,
                }
            for name, rep in reports.items():
                metrics[f"test_{name}_"] = {k: rep[k] for k in KEY_METRICS if k in rep}
            metrics["learned_grid_"] = grid.fidelity
            tags = {"leadml.compared_champion_version": champion_version or "none"}
            registered = log_training_run(
                scorer=scorer,
                config=config,
                params={**result.params, **_training_settings(config, result, refit)},
                metrics=metrics,
                report=report,
                fingerprint=data_fingerprint(data, training_set),
                artifacts=run_artifacts,
                input_example=_input_example(X_sample).rename(columns=scorer.spec.display_names),
                tags=tags,
                uri=tracking_uri,
            )
        report["mlflow"] = {
            "run_id": registered.run_id,
            "model": registered.name,
            "version": registered.version,
        }
        phases.mark("MLflow logging and registry")
    report["timings"]["after_boosting_seconds"] = round(phases.total, 2)
    report["timings"]["after_boosting"] = phases.rounded()
    if report_path is not None:
        write_json_atomic(report_path, report)
    return report


def run_baseline(
    config: RunConfig, data: str | Path, *, report_path: str | Path | None = None
) -> dict[str, Any]:
    """Evaluate the hand-tuned point grid on the out-of-time test part (and the oracle when known)."""
    from leadml.pointintime.trainingset import build_training_set

    data = data_location(data)
    training_set = build_training_set(config, data)
    baseline = _baseline(config, training_set)
    if baseline is None:
        raise ValueError(
            f"{config.source}: no point_grid configured; add `point_grid: point_grid.yaml`"
        )
    test = training_set.frame[training_set.frame["split"] == "test"].reset_index(drop=True)
    X_test, y_test = training_set.part("test")
    scores = {"baseline": baseline.predict_proba(X_test)[:, 1]}
    oracle = _oracle(config, data, test)
    if oracle is not None:
        scores["oracle"] = oracle
    reports = evaluate_test_part(scores, y_test, segments=_segments(test, config), config=config)
    tiers = baseline.tier(X_test)
    reports["baseline"]["by_grid_tier"] = conversion_by_tier(
        y_test, scores["baseline"], tiers=tiers
    ).to_dict(orient="records")
    report = {**reports, "n_test": int(len(y_test)), "sizes": training_set.summary}
    if report_path is not None:
        write_json_atomic(report_path, report)
    return report
