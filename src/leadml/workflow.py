"""The data scientist's workflow in a few calls: read, build, train, evaluate, explain, score.

Each function is a thin layer over the stage that does the work (the same code
the ``leadml`` commands run), re-exported by :mod:`leadml`::

    import leadml

    config = leadml.load_config("training/sql.yaml")
    tables = leadml.read_data("demo/data", config)
    training_set = leadml.build_training_set(config, "demo/data")
    model = leadml.train_model(config, "demo/data", training_set=training_set)
    model.report["model"]["roc_auc"], model.figures["reliability"]
    X_test, y_test = training_set.part("test")
    leadml.evaluate_model(model.scorer, X_test, y_test)["ece"]
    leadml.explain_leads(model.scorer, X_test.head(5))
    leadml.score_leads("demo/data", model.scorer, config=config, as_of="2026-01-01").scores
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import RunConfig
from leadml.data.io import Tables
from leadml.explain.explanation import Explanation
from leadml.modeling.scorer import LeadScorer
from leadml.modeling.training_run import TrainedModel
from leadml.pointintime.dataset import dataset_for
from leadml.pointintime.trainingset import TrainingSet

__all__ = [
    "ScoredLeads",
    "evaluate_model",
    "explain_features",
    "explain_leads",
    "load_model",
    "make_demo_data",
    "read_data",
    "score_leads",
    "train_model",
]


@dataclass(frozen=True)
class ScoredLeads:
    """The open leads of one scoring date: every one is in ``scores`` or in ``rejects``.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per scored lead, the columns of the batch job's ``scores.parquet``.
    rejects : pandas.DataFrame
        ``lead_id`` and the ``reason`` it could not be scored.
    unseen : dict
        Category values never seen in training, by column.
    drift : dict or None
        Population stability of every feature and of the score against the
        training reference (``score_psi``, ``features``).
    """

    scores: pd.DataFrame
    rejects: pd.DataFrame
    unseen: dict[str, Any] = field(default_factory=dict)
    drift: dict[str, Any] | None = None


def make_demo_data(
    out_dir: str | Path,
    *,
    n_leads: int = 20_000,
    seed: int = 7,
    start: str = "2023-01-01",
    months: int = 36,
) -> Path:
    """Write a synthetic CRM whose true conversion drivers are known (``leadml demo-data``).

    Parameters
    ----------
    out_dir : str or Path
        The folder to write: the five tables as Parquet, ``truth.parquet``
        (each lead's true probabilities, for the oracle) and ``truth.json``
        (the true drivers and the attributes with no effect).
    n_leads : int, default=20000
    seed : int, default=7
    start : str, default="2023-01-01"
        First day of the period.
    months : int, default=36
        Length of the period.

    Returns
    -------
    Path
        ``out_dir``, ready for :func:`read_data` with ``training/dataset.yaml``.
    """
    from leadml.synth import SynthSpec, write_demo_data

    write_demo_data(out_dir, SynthSpec(n_leads=n_leads, seed=seed, start=start, months=months))
    return Path(out_dir)


def read_data(data: str | Path, config: RunConfig) -> Tables | pd.DataFrame:
    """Read and validate a CRM folder (event mode) or a flat export (flat mode).

    Parameters
    ----------
    data : str or Path
        A folder holding the five tables (``accounts``, ``leads``, ``events``,
        ``intent``, ``outcomes`` as CSV or Parquet), or a flat file (or the
        folder holding it) when ``config`` is in flat mode.
    config : RunConfig
        From :func:`leadml.load_config`; its dataset section maps the columns.

    Returns
    -------
    Tables or pandas.DataFrame
        The typed tables under contract column names (event mode), or the
        flat file as written (flat mode).

    Raises
    ------
    leadml.schema.DataValidationError
        When the data breaks the contract; the message names the table, the
        column, the offending values and what was expected.
    """
    return dataset_for(config).read(data)


def train_model(
    config: RunConfig,
    data: str | Path,
    *,
    training_set: TrainingSet | None = None,
    log_to_mlflow: bool = False,
    tracking_uri: str | None = None,
) -> TrainedModel:
    """Train LightGBM with Platt calibration and evaluate it out of time.

    The model is compared on the same test rows with the rule baseline (the
    hand-tuned point grid), the oracle (synthetic data only) and, when
    ``log_to_mlflow``, the registered champion.

    Parameters
    ----------
    config : RunConfig
        The run config (target, snapshots, split, LightGBM parameters…).
    data : str or Path
        The CRM folder or flat file (also read for the oracle on synthetic data).
    training_set : TrainingSet, optional
        A training set already built from ``data`` with ``config``; skips the build.
    log_to_mlflow : bool, default=False
        Log the run (params, metrics, figures, model card, dataset input) and
        register the model as ``challenger``, as ``leadml train`` does.
    tracking_uri : str, optional
        MLflow store; default ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``.

    Returns
    -------
    TrainedModel
        ``.scorer`` (a fitted :class:`LeadScorer`), ``.report`` (metrics and
        sizes; ``report["mlflow"]`` holds the run and version when logged),
        ``.figures`` (``reliability``, ``gains``, ``score_distribution``,
        ``shap_beeswarm``, ``shap_waterfall_top_lead``) and ``.metrics``
        (scorers side by side).

    Examples
    --------
    >>> model = leadml.train_model(config, "demo/data")  # doctest: +SKIP
    >>> model.metrics.loc["roc_auc"]  # doctest: +SKIP
    """
    from leadml.modeling.training_run import train_challenger

    return train_challenger(
        config,
        data,
        training_set=training_set,
        log_to_mlflow=log_to_mlflow,
        tracking_uri=tracking_uri,
    )


def evaluate_model(
    scorer: LeadScorer | Any,
    X: pd.DataFrame,
    y: Any,
    *,
    segments: dict[str, Any] | None = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """Every evaluation metric of a scorer on labelled rows (the same code as training's).

    Parameters
    ----------
    scorer : LeadScorer or any classifier with ``predict_proba``
        E.g. ``model.scorer`` or a fitted ``PointGridClassifier``.
    X : pandas.DataFrame
        Feature rows, e.g. ``training_set.part("test")[0]``.
    y : array-like of 0/1
        Whether each row converted within the horizon.
    segments : dict of str to array-like, optional
        Named per-row segment values (e.g. ``{"source": ...}``) for conversion by segment.
    random_state : int, default=0
        Seed of the bootstrap intervals.

    Returns
    -------
    dict
        ``roc_auc`` (with ``roc_auc_ci``), ``pr_auc``, ``log_loss``, ``brier``,
        ``ece``, ``lift_top_decile`` (with its interval), precision/recall/lift
        at 10 %, the ``reliability`` and ``gains`` tables, ``by_segment``.
    """
    from leadml.modeling.evaluate import evaluate_scores

    if not hasattr(scorer, "predict_proba"):
        raise TypeError(
            f"evaluate expects a fitted classifier with predict_proba (e.g. model.scorer); "
            f"got {type(scorer).__name__}"
        )
    probability = np.asarray(scorer.predict_proba(X))[:, 1]
    tiers = getattr(scorer, "tiers", None)
    return evaluate_scores(
        y,
        probability,
        segments=segments,
        tier_thresholds=None if tiers is None else (tiers.hot, tiers.warm),
        random_state=random_state,
    )


def explain_leads(
    scorer: LeadScorer, X: pd.DataFrame, *, top_reasons: int | None = None
) -> pd.DataFrame:
    """Each row's score in points and words: probability, points, tier, family sub-scores, reasons.

    Parameters
    ----------
    scorer : LeadScorer
    X : pandas.DataFrame
        Feature rows (a training-set part or scoring rows).
    top_reasons : int, optional
        Reasons per sign (default: the model's).

    Returns
    -------
    pandas.DataFrame
        One row per input row (same index): ``probability``, ``points``,
        ``tier``, ``mql``, ``base_points``, ``score_fit`` / ``_persona`` /
        ``_behaviour`` / ``_intent``, ``reasons`` (JSON: group, family, text,
        points) and ``other_points``. ``base_points`` + the points of every
        reason + ``other_points`` = ``points``. For per-feature points (SHAP in
        points) use :func:`explain_features`.
    """
    return scorer.score_frame(scorer._checked(X, "explain"), top_reasons=top_reasons)


def explain_features(scorer: LeadScorer, X: pd.DataFrame) -> Explanation:
    """Exact TreeSHAP in points, per feature, group and family.

    Parameters
    ----------
    scorer : LeadScorer
    X : pandas.DataFrame
        Feature rows.

    Returns
    -------
    Explanation
        ``probability``, ``points``, ``base_points``, ``feature_points`` (one
        column per feature: SHAP values in points, e.g. for ``shap.plots``),
        ``group_points`` and ``family_points``; each row's feature points add
        up to ``points - base_points``.
    """
    return scorer.explain(scorer._checked(X, "explain_features"), keep_feature_points=True)


def load_model(model_uri: str, *, tracking_uri: str | None = None) -> LeadScorer:
    """Load a registered or saved model.

    Parameters
    ----------
    model_uri : str
        ``models:/leadml-sql@champion``, ``models:/leadml-sql/3``,
        ``runs:/<run id>/model`` or a folder written by ``LeadScorer.save``.
    tracking_uri : str, optional
        The MLflow store (default ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``).

    Returns
    -------
    LeadScorer

    Raises
    ------
    ModelNotFoundError
        For an unknown model, alias, version or store, saying which and how to
        fix it. Reading never creates a store.
    """
    from leadml.tracking import load_scorer

    scorer, _ = load_scorer(model_uri, uri=tracking_uri)
    return scorer


def score_leads(
    data: str | Path,
    model: LeadScorer | str,
    *,
    config: RunConfig,
    as_of: str | pd.Timestamp,
    top_reasons: int | None = None,
    tolerance: int = 1,
    tracking_uri: str | None = None,
) -> ScoredLeads:
    """Score every open lead as of a date, in memory: the batch job's rows, without files.

    Parameters
    ----------
    data : str or Path
        The CRM folder (event mode) or file (flat mode).
    model : LeadScorer or str
        A scorer, or a model URI for :func:`load_model`.
    config : RunConfig
        The dataset mapping the data is read with.
    as_of : str or pandas.Timestamp
        The scoring date: features see only data strictly before it.
    top_reasons : int, optional
        Reasons per sign (default: the model's).
    tolerance : int, default=1
        Unseen category values a lead may have before it is rejected.

    Returns
    -------
    ScoredLeads
        ``.scores`` (one row per scored lead, as in ``scores.parquet``),
        ``.rejects`` (``lead_id``, ``reason``), ``.unseen`` categories and
        ``.drift`` against the training reference.
    """
    from leadml.pointintime.sets import utc_naive
    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.scoring.batch import _load_event_inputs, concat_rejects
    from leadml.scoring.open_leads import reject_unseen_categories, score_features, score_open_leads

    scorer = (
        model if isinstance(model, LeadScorer) else load_model(model, tracking_uri=tracking_uri)
    )
    meta = {"name": scorer.name, "version": "" if isinstance(model, LeadScorer) else str(model)}
    when = utc_naive(as_of)
    if dataset_for(config).scores_every_row:
        features = build_scoring_set(config, data, as_of=when, spec=scorer.spec).frame
        kept, rejects, unseen = reject_unseen_categories(features, scorer, tolerance=tolerance)
        scores = score_features(kept, scorer, as_of=when, model_meta=meta, top_reasons=top_reasons)
        drift = None
        if scorer.reference is not None and len(kept):
            X, _ = scorer.model_matrix(kept)
            drift = scorer.reference.compare(
                X, scores.set_index("lead_id").loc[kept["lead_id"], "probability"].to_numpy()
            )
        return ScoredLeads(scores=scores, rejects=rejects, unseen=unseen, drift=drift)
    tables, rejects, _, _ = _load_event_inputs(Path(data), config, when)
    scores, rejected, unseen, counts = score_open_leads(
        tables,
        config,
        scorer,
        also=None,
        as_of=when,
        model_meta=meta,
        top_reasons=top_reasons,
        tolerance=tolerance,
    )
    drift = None
    if scorer.reference is not None and counts:
        drift = scorer.reference.compare_counts(counts)
    rejects = concat_rejects([rejects, rejected], like=tables.leads["lead_id"])
    return ScoredLeads(scores=scores, rejects=rejects, unseen=unseen, drift=drift)
