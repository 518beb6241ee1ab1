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
import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadml.config import RunConfig
from leadml.data.io import write_json_atomic
from leadml.data.sources import data_location, is_database, redact
from leadml.explain.fidelity import explanation_fidelity, fidelity_metrics
from leadml.modeling.evaluate import conversion_by_tier, evaluate_scores
from leadml.modeling.model_card import model_card
from leadml.modeling.scorer import LeadScorer
from leadml.modeling.train import RefitResult, TrainResult, refit_scorer, train_scorer
from leadml.pointintime.dataset import dataset_for
from leadml.progress import say, warn

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "TrainedModel",
    "data_fingerprint",
    "evaluate_test_part",
    "fit_and_evaluate",
    "interval_metrics",
    "log_trained_model",
    "run_baseline",
    "run_training",
    "train_challenger",
]

KEY_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top_decile")
EVALUATION_MODEL = "evaluation_model"  # run artifact folder of the evaluation model
EXPLAIN_SAMPLE = 20_000
BEESWARM_SAMPLE = 1_500


def data_fingerprint(
    data: str | Path, training_set: Any, record: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Row counts, date ranges, a SHA-256 over the input files' bytes and the training set's
    digest (inputs + the settings that shape it + the code; see :mod:`leadml.pointintime.trainingset_cache`)."""
    from leadml.pointintime.trainingset_cache import inputs_sha256

    if is_database(data):
        rows = pd.util.hash_pandas_object(training_set.frame, index=False).to_numpy()
        return {
            "inputs_sha256": hashlib.sha256(rows.tobytes()).hexdigest(),
            "training_set_digest": (record or {}).get("key"),
            "database": redact(str(data)),
            "summary": training_set.summary,
        }
    data = Path(data)
    if record is None:
        record = {"inputs_sha256": inputs_sha256(data)}
    return {
        "inputs_sha256": record["inputs_sha256"],
        "training_set_digest": record.get("key"),
        "source": str(data.resolve()),
        "files": sorted(p.name for p in data.iterdir() if p.is_file())
        if data.is_dir()
        else [data.name],
        "summary": training_set.summary,
    }


def _segments(test: pd.DataFrame, config: RunConfig) -> dict[str, np.ndarray]:
    candidates = dataset_for(config).segment_columns(test.columns)
    return {
        c: test[c].astype(object).where(test[c].notna(), "missing").astype(str).to_numpy()
        for c in candidates
    }


def _oracle(config: RunConfig, data: str | Path, test: pd.DataFrame) -> np.ndarray | None:
    """True probabilities from the generator's truth, when the data is synthetic."""
    truth_path = dataset_for(config).truth_file(data)
    if truth_path is None or config.target.name not in ("sql", "won"):
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


def _truth(config: RunConfig, data: str | Path) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The generator's ``truth.parquet`` and ``truth.json`` beside the data, when synthetic."""
    truth = dataset_for(config).truth_file(data)
    if truth is None or not (truth.parent / "truth.json").is_file():
        return None
    return pd.read_parquet(truth), json.loads((truth.parent / "truth.json").read_text())


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
    if found is None:  # no store, no model or no champion yet
        return None, None
    champion, meta = found
    evaluation = load_evaluation_scorer(f"models:/{config.model.registered_name}@champion", uri=uri)
    if evaluation is not None:
        champion = evaluation
    try:
        return champion.probability(test), meta.get("version")
    except (KeyError, ValueError) as exc:
        warn(f"champion version {meta.get('version')} cannot score this training set: {exc}")
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
    y: np.ndarray, scores: dict[str, np.ndarray], reports: dict[str, Any]
) -> dict[str, Figure]:
    """Reliability, gains and score distribution of the test part, as matplotlib figures."""
    from leadml.modeling import plots

    oracle = scores.get("oracle")
    curves = {k: (y, v) for k, v in scores.items() if k != "oracle"}
    return {
        "reliability": plots.reliability_figure({k: reports[k] for k in curves}),
        "gains": plots.gains_figure(curves, oracle=None if oracle is None else (y, oracle)),
        "score_distribution": plots.score_distribution_figure(y, scores["model"]),
    }


def _shap_figures(
    explanation: Any, X: pd.DataFrame, display_names: Mapping[str, str]
) -> dict[str, Figure]:
    """SHAP's own beeswarm (in points) and a waterfall for the top lead, via the shap package.

    shap draws on pyplot's current figure; each figure is taken off pyplot's list once
    drawn (it stays usable: displayed in a notebook, saved by the run).
    """
    import shap

    from leadml.modeling.plots import pyplot_on_agg

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
    # the swarm is drawn from 1,500 leads: more points only blur it (and take seconds)
    shown = np.random.default_rng(0).choice(
        len(X), size=min(len(X), BEESWARM_SAMPLE), replace=False
    )
    figures: dict[str, Figure] = {}

    with pyplot_on_agg() as plt:

        def taken(name: str) -> None:
            figures[name] = plt.gcf()
            plt.close(figures[name])

        plt.figure()
        shap.plots.beeswarm(values[np.sort(shown)], max_display=20, show=False)
        plt.gcf().set_size_inches(9, 8)
        taken("shap_beeswarm")
        plt.figure()
        shap.plots.waterfall(values[int(np.argmax(explanation.points))], max_display=12, show=False)
        taken("shap_waterfall_top_lead")
    return figures


def _save_figures(figures: dict[str, Figure], folder: Path) -> dict[str, Path]:
    from leadml.modeling.plots import save_figure

    folder.mkdir(parents=True, exist_ok=True)
    return {
        name: save_figure(fig, folder / f"{name}.png", bbox_inches="tight")
        for name, fig in figures.items()
    }


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


def _id_type(training_set: Any) -> str:
    """The served signature's type of lead ids: ``long`` for integer ids, else ``string``."""
    return "long" if training_set.frame["lead_id"].dtype.kind in "iu" else "string"


def _served_example(X: pd.DataFrame, scorer: Any, training_set: Any) -> Any:
    """The registered model's input example: a made-up raw lead of typical values and the
    params to score it at the end of the data (feature rows for a scorer without its
    dataset config)."""
    typical = _input_example(X).rename(columns=scorer.spec.display_names)
    if scorer.dataset is None:
        return typical
    from leadml.serving.raw_leads import example_lead

    end = training_set.summary.get("data_end")
    try:
        as_of = pd.Timestamp(end) if isinstance(end, str) else None
    except ValueError:
        as_of = None
    rows, params = example_lead(
        typical.iloc[0].to_dict(),
        scorer.dataset,
        as_of=as_of if as_of is not None else pd.Timestamp("2000-01-01"),
        lead_id=1 if _id_type(training_set) == "long" else "1",
    )
    return (rows, params if as_of is not None else {})


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
    if result.selection is not None:
        out["feature_selection"] = result.selection
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
        "refit_cross_fitting": config.refit.cross_fitting,
        "small_data_max_rows": config.small_data.max_rows,
        "small_data_folds": config.small_data.folds,
        "small_data_cross_fitting": config.small_data.cross_fitting,
        "backtest_folds": config.backtest.folds,
        "backtest_window": config.backtest.window,
        "selection": config.model.selection.enabled,
        "selection_min_loss_increase": config.model.selection.min_loss_increase,
        "selection_z": config.model.selection.z,
        "selection_repeats": config.model.selection.repeats,
        "selection_dropped_groups": ",".join((result.selection or {}).get("dropped_groups", {}))
        or None,
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


@dataclass(frozen=True)
class TrainedModel:
    """What a training run gives back: the scorer, its report, its figures, its records.

    Attributes
    ----------
    scorer : LeadScorer
        The fitted, servable scorer (``predict_proba``, ``score_frame``, ``save``): the
        refit on every labelled snapshot when ``refit.enabled``, else the evaluation model.
    evaluation_scorer : LeadScorer
        The model the report's test metrics judge (trained without the test rows).
    report : dict
        The JSON report: sizes, metrics of the model, the rule baseline, the
        champion and the oracle on the out-of-time test part, timings, and the
        MLflow run and version when it was logged.
    figures : dict of str to matplotlib.figure.Figure
        ``reliability``, ``gains``, ``score_distribution``, ``shap_beeswarm``
        and ``shap_waterfall_top_lead``; a notebook shows each by its name.
    training_set : TrainingSet
        The point-in-time training set the model was fitted on.
    feature_importance : pandas.DataFrame
        LightGBM gain and split counts per feature.
    learned_grid : LearnedGrid
        The model's points summarised as a point grid, with its fidelity.
    """

    scorer: LeadScorer
    report: dict[str, Any]
    figures: dict[str, Figure] = field(repr=False)
    training_set: Any = field(repr=False)
    feature_importance: pd.DataFrame = field(repr=False)
    learned_grid: Any = field(repr=False)
    params: dict[str, Any] = field(repr=False, default_factory=dict)
    input_example: Any = field(repr=False, default=None)
    evaluation_scorer: LeadScorer | None = field(repr=False, default=None)
    refit: Any = field(repr=False, default=None)
    settings: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def metrics(self) -> pd.DataFrame:
        """Test-part metrics side by side: one column per scorer (model, baseline, champion, oracle)."""
        from leadml.modeling.evaluate import compare

        return compare(
            {
                n: self.report[n]
                for n in ("model", "champion", "baseline", "oracle")
                if n in self.report
            }
        )


def fit_and_evaluate(
    config: RunConfig,
    data: str | Path,
    *,
    training_set: Any = None,
    tracking_uri: str | None = None,
    compare_with_champion: bool = True,
    cache_dir: str | Path | None = None,
) -> TrainedModel:
    """Train and evaluate beside the rule baseline, the champion and the oracle; log nothing.

    ``training_set`` skips the build when one is already at hand (notebooks,
    benchmarks, tuning); otherwise it is built, or read from ``cache_dir`` when
    the data and settings are unchanged. The champion is looked up in the store
    only when ``compare_with_champion`` (it is never created).
    """
    from leadml.modeling.learned_grid import learn_grid
    from leadml.pointintime.trainingset_cache import (
        cached_training_set,
        inputs_sha256,
        training_set_key,
    )

    data = data_location(data)
    started = time.perf_counter()
    if training_set is None:
        training_set, record = cached_training_set(config, data, cache_dir=cache_dir)
    elif is_database(data):
        record = {"key": None, "inputs_sha256": None, "hit": None}
    else:
        digest = inputs_sha256(data)
        record = {"key": training_set_key(config, digest), "inputs_sha256": digest, "hit": None}
    built = time.perf_counter()
    say(
        f"training set: {len(training_set.frame):,} snapshots in {built - started:.1f}s; training LightGBM …"
    )
    result: TrainResult = train_scorer(training_set, config)
    say(
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
        _champion_probability(config, X_test, tracking_uri)
        if compare_with_champion
        else (None, None)
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
        say(
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
    explanation = scorer.explain(X_sample, keep_feature_points=True)
    hand_points = None if baseline is None else baseline.decision_function(X_sample)
    grid = learn_grid(
        explanation.group_points,
        X_sample,
        scorer.catalogue,
        model_points=explanation.points,
        y_true=y_test[sample],
        hand_grid_points=hand_points,
    )
    truth = _truth(config, data) if config.target.name == "sql" else None
    fidelity = (
        None
        if truth is None
        else explanation_fidelity(
            explanation.group_points,
            X_sample,
            test["lead_id"].to_numpy()[sample],
            truth=truth[0],
            drivers=truth[1].get("drivers", []),
            catalogue=scorer.catalogue,
            top_reasons=scorer.top_reasons,
            dropped=list((result.selection or {}).get("dropped_groups", {})),
        )
    )
    importance_by_group = (
        explanation.group_points.abs().mean().sort_values(ascending=False).rename("mean_abs_points")
    )
    phases.mark("explanations and learned grid")
    figures = _figures(y_test, scores, reports)
    figures.update(
        _shap_figures(explanation, X_sample[list(scorer.spec.names)], scorer.spec.display_names)
    )
    phases.mark("figures")

    report: dict[str, Any] = {
        "target": config.target.name,
        "horizon_days": config.target.horizon_days,
        "model_name": config.model.registered_name,
        "n_test": int(len(y_test)),
        "sizes": training_set.summary,
        "training_set": {
            "digest": record["key"],
            "inputs_sha256": record["inputs_sha256"],
            "cache_hit": record.get("hit"),
        },
        "best_iteration": result.best_iteration,
        "valid_auc": result.valid_auc,
        "compared_champion_version": champion_version,
        "fit_mode": result.fit_mode,
        "evaluation_model": _evaluation_summary(result),
        "registered_model": "refit" if refit is not None else "evaluation",
        **({"refit": refit.summary()} if refit is not None else {}),
        **{name: {k: v for k, v in rep.items()} for name, rep in reports.items()},
        "learned_grid_fidelity": grid.fidelity,
        **({"explanation_fidelity": fidelity} if fidelity is not None else {}),
        "mean_abs_points_by_group": importance_by_group.round(4).to_dict(),
        "timings": {
            "training_set_seconds": round(built - started, 2),
            "boosting_seconds": round(result.boosting_seconds, 2),
            "after_boosting_seconds": round(phases.total, 2),
            "after_boosting": phases.rounded(),
        },
    }
    return TrainedModel(
        scorer=scorer,
        report=report,
        figures=figures,
        training_set=training_set,
        feature_importance=(refit or result).feature_importance,
        learned_grid=grid,
        params=result.params,
        evaluation_scorer=result.scorer,
        refit=refit,
        settings=_training_settings(config, result, refit),
        input_example=_served_example(X_sample, scorer, training_set),
    )


def log_trained_model(
    trained: TrainedModel,
    config: RunConfig,
    data: str | Path,
    *,
    tracking_uri: str | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, str]:
    """Log the run (params, metrics, figures, model card, data) and register a ``challenger``.

    Returns ``{"run_id", "model", "version"}``, also stored in ``trained.report["mlflow"]``.
    """
    from leadml.tracking import log_training_run

    say("logging the run to MLflow and registering the model …")
    started = time.perf_counter()
    report = trained.report
    baseline = _baseline(config, trained.training_set) if config.point_grid else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        artifacts = _save_figures(trained.figures, folder / "figures")
        grid = trained.learned_grid
        grid.table.to_csv(folder / "learned_grid.csv", index=False)
        hand = None if baseline is None else baseline.grid_table()
        (folder / "learned_grid.md").write_text(grid.to_markdown(hand_grid=hand))
        trained.feature_importance.to_csv(folder / "feature_importance.csv", index=False)
        (folder / "model_card.md").write_text(model_card(config, report))
        run_artifacts = [("figures", p) for p in artifacts.values()] + [
            ("explanations", folder / "learned_grid.csv"),
            ("explanations", folder / "learned_grid.md"),
            ("", folder / "model_card.md"),
            ("", folder / "feature_importance.csv"),
        ]
        refit = trained.refit
        if refit is not None and trained.evaluation_scorer is not None:
            # the evaluation model travels with the run: a later challenger is compared
            # with it, out of time, rather than with the refit (which saw the test rows)
            saved = trained.evaluation_scorer.save(folder / EVALUATION_MODEL)
            run_artifacts += [(EVALUATION_MODEL, p) for p in saved.values()]
        metrics = {
            "valid_": {"auc": report["valid_auc"], "best_iteration": report["best_iteration"]}
        }
        if refit is not None:
            metrics["refit_"] = {
                "rounds": refit.rounds,
                "n_rows": refit.n_rows,
                "out_of_fold_roc_auc": refit.out_of_fold["roc_auc"],
                "out_of_fold_ece": refit.out_of_fold["ece"],
                "platt_slope": refit.scorer.calibration.slope,
            }
        for name in ("model", "baseline", "champion", "oracle"):
            if name in report:
                metrics[f"test_{name}_"] = interval_metrics(report[name])
        metrics["learned_grid_"] = grid.fidelity
        selection = trained.report["evaluation_model"].get("feature_selection", {})
        if "kept_groups" in selection:
            metrics["selection_"] = {
                "kept_groups": selection["kept_groups"],
                "dropped_groups": len(selection["dropped_groups"]),
                "n_features": selection["n_features"],
            }
        if "explanation_fidelity" in report:
            metrics["fidelity_"] = fidelity_metrics(report["explanation_fidelity"])
        run_tags = {
            "leadml.compared_champion_version": report.get("compared_champion_version") or "none",
            **(tags or {}),
        }
        registered = log_training_run(
            scorer=trained.scorer,
            config=config,
            params=trained.params,
            settings=trained.settings,
            metrics=metrics,
            report=report,
            fingerprint=data_fingerprint(
                data,
                trained.training_set,
                {
                    "key": report["training_set"]["digest"],
                    "inputs_sha256": report["training_set"]["inputs_sha256"],
                },
            ),
            artifacts=run_artifacts,
            input_example=trained.input_example,
            id_type=_id_type(trained.training_set),
            training_frame=trained.training_set.frame,
            tags=run_tags,
            uri=tracking_uri,
        )
    record = {"run_id": registered.run_id, "model": registered.name, "version": registered.version}
    report["mlflow"] = record
    timings = report["timings"]
    timings["after_boosting"]["MLflow logging and registry"] = round(
        time.perf_counter() - started, 2
    )
    timings["after_boosting_seconds"] = round(sum(timings["after_boosting"].values()), 2)
    return record


def interval_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The key metrics of one scorer plus its bootstrap interval bounds (``roc_auc_ci_low``…)."""
    out = {k: report[k] for k in KEY_METRICS if report.get(k) is not None}
    for metric in ("roc_auc", "lift_top_decile"):
        bounds = report.get(f"{metric}_ci") or [None, None]
        for side, value in zip(("low", "high"), bounds, strict=True):
            if value is not None:
                out[f"{metric}_ci_{side}"] = value
    return out


def train_challenger(
    config: RunConfig,
    data: str | Path,
    *,
    training_set: Any = None,
    log_to_mlflow: bool = True,
    tracking_uri: str | None = None,
    cache_dir: str | Path | None = None,
) -> TrainedModel:
    """Train and evaluate (beside the champion when logging), then log and register the
    model as ``challenger`` unless ``log_to_mlflow`` is off.

    ``training_set`` skips the build when one is already at hand (notebooks, benchmarks);
    ``cache_dir`` keeps built training sets (see :mod:`leadml.pointintime.trainingset_cache`).
    """
    trained = fit_and_evaluate(
        config,
        data,
        training_set=training_set,
        tracking_uri=tracking_uri,
        compare_with_champion=log_to_mlflow,
        cache_dir=cache_dir,
    )
    if log_to_mlflow:
        log_trained_model(trained, config, data, tracking_uri=tracking_uri)
    return trained


def run_training(
    config: RunConfig,
    data: str | Path,
    *,
    tracking_uri: str | None = None,
    report_path: str | Path | None = None,
    log_to_mlflow: bool = True,
    training_set: Any = None,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """:func:`train_challenger`, with its report written to ``report_path``. Returns the report."""
    trained = train_challenger(
        config,
        data,
        training_set=training_set,
        log_to_mlflow=log_to_mlflow,
        tracking_uri=tracking_uri,
        cache_dir=cache_dir,
    )
    if report_path is not None:
        write_json_atomic(report_path, trained.report)
    return trained.report


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
