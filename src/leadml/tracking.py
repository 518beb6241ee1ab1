"""The one module that talks to MLflow: runs, the servable model, the registry, promotion.

Default store: ``sqlite:///mlflow.db`` in the working directory; a tracking
server is one environment variable away (``MLFLOW_TRACKING_URI``).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_TRACKING_URI",
    "PromotionDecision",
    "RegisteredModel",
    "ensure_store",
    "load_champion",
    "load_evaluation_scorer",
    "load_scorer",
    "log_backtest_run",
    "log_scoring_run",
    "log_training_run",
    "promote",
    "resolve_tracking_uri",
]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MODEL_CODE = Path(__file__).parent / "serving" / "model_code.py"
TRAINING_EXPERIMENT = "leadml-training"
SCORING_EXPERIMENT = "leadml-scoring"
BACKTEST_EXPERIMENT = "leadml-backtest"


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The explicit URI, else ``MLFLOW_TRACKING_URI``, else the local SQLite store."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def ensure_store(uri: str | None = None) -> str:
    """Point MLflow at ``uri`` and create/upgrade its schema exactly once.

    Several jobs starting on a fresh SQLite file would otherwise race to run
    the schema migrations; a file lock beside the database serialises the
    first contact.
    """
    import mlflow
    from mlflow import MlflowClient

    uri = resolve_tracking_uri(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if uri.startswith("sqlite:///"):
        db_path = Path(uri.removeprefix("sqlite:///"))
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{db_path}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                MlflowClient(uri).search_experiments(max_results=1)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    return uri


def _experiment(name: str) -> str:
    import mlflow

    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return mlflow.create_experiment(name)
    except Exception:  # created meanwhile by a parallel job
        return mlflow.get_experiment_by_name(name).experiment_id


def _flatten_metrics(prefix: str, metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
            continue
        if np.isfinite(value):
            out[f"{prefix}{key}"] = float(value)
    return out


@dataclass(frozen=True)
class RegisteredModel:
    run_id: str
    name: str
    version: str
    model_uri: str


def _signature(spec: Any):
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema(
        [
            # named as the user wrote them: a REST client sends its own column names
            ColSpec(
                "string" if column.kind == "categorical" else "double",
                column.column,
                required=False,
            )
            for column in spec.columns
        ]
    )
    outputs = Schema(
        [
            ColSpec("double", "probability"),
            ColSpec("double", "points"),
            ColSpec("string", "tier"),
            ColSpec("boolean", "mql"),
            ColSpec("double", "base_points"),
            ColSpec("double", "score_fit"),
            ColSpec("double", "score_persona"),
            ColSpec("double", "score_behaviour"),
            ColSpec("double", "score_intent"),
            ColSpec("string", "reasons"),
            ColSpec("double", "other_points"),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_training_run(
    *,
    scorer: Any,
    config: Any,
    params: Mapping[str, Any],
    metrics: Mapping[str, Mapping[str, Any]],
    report: Mapping[str, Any],
    fingerprint: Mapping[str, Any],
    artifacts: list[tuple[str, Path]],
    input_example: pd.DataFrame,
    tags: Mapping[str, str] | None = None,
    uri: str | None = None,
) -> RegisteredModel:
    """Log one training run, its servable model, and register it as ``challenger``.

    ``metrics`` maps a prefix (``valid_``, ``test_model_``, ``test_baseline_``…)
    to a flat dict of numbers; ``artifacts`` lists (folder in the run, file) pairs.
    """
    import mlflow
    from mlflow import MlflowClient

    ensure_store(uri)
    experiment_id = _experiment(TRAINING_EXPERIMENT)
    name = scorer.name
    with mlflow.start_run(experiment_id=experiment_id) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tags({"leadml.target": scorer.target, **(tags or {})})
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        for prefix, values in metrics.items():
            mlflow.log_metrics(_flatten_metrics(prefix, values))
        mlflow.log_dict(config.model_dump(mode="json"), "config.json")
        mlflow.log_dict(dict(fingerprint), "data_fingerprint.json")
        mlflow.log_dict(dict(report), "metrics.json")
        for folder, path in artifacts:
            mlflow.log_artifact(str(path), artifact_path=folder or None)
        paths = scorer.save(Path(tmp) / "artifacts")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(MODEL_CODE),
            artifacts={role: str(p) for role, p in paths.items()},
            signature=_signature(scorer.spec),
            input_example=input_example,
            registered_model_name=name,
            pip_requirements=["leadml"],
        )
        run_id = run.info.run_id
    version = str(info.registered_model_version)
    client = MlflowClient()
    client.set_registered_model_alias(name, "challenger", version)
    client.set_model_version_tag(name, version, "run_id", run_id)
    return RegisteredModel(
        run_id=run_id, name=name, version=version, model_uri=f"models:/{name}/{version}"
    )


def load_scorer(model_uri: str, *, uri: str | None = None) -> tuple[Any, dict[str, str]]:
    """Load the servable model (``models:/name@alias``, ``models:/name/3``, ``runs:/…`` or a
    local folder) through MLflow's pyfunc loader — no pickle — and return its scorer.
    """
    import mlflow

    local = Path(model_uri)
    if local.is_dir() and (local / "model.txt").is_file():
        from leadml.modeling.scorer import LeadScorer

        return LeadScorer.load(local), {"name": local.name, "version": "local", "uri": str(local)}
    ensure_store(uri)
    model = mlflow.pyfunc.load_model(model_uri)
    scorer = model.unwrap_python_model().scorer
    meta = {"name": scorer.name, "version": "", "uri": model_uri}
    if model_uri.startswith("models:/"):
        version = _resolve_version(model_uri)
        if version is not None:
            meta["name"], meta["version"] = version.name, str(version.version)
    return scorer, meta


def load_evaluation_scorer(model_uri: str, *, uri: str | None = None) -> Any | None:
    """The evaluation model logged beside a refit model version (run artifact folder
    ``evaluation_model``), or None when the version's run has none (not a refit)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from leadml.modeling.scorer import LeadScorer

    ensure_store(uri)
    version = _resolve_version(model_uri) if model_uri.startswith("models:/") else None
    if version is None or not version.run_id:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder = mlflow.artifacts.download_artifacts(
                run_id=version.run_id, artifact_path="evaluation_model", dst_path=tmp
            )
        except (MlflowException, OSError):
            return None
        if not (Path(folder) / "model.txt").is_file():
            return None
        return LeadScorer.load(folder)


def load_champion(name: str, *, uri: str | None = None) -> tuple[Any, dict[str, str]] | None:
    """The scorer and metadata of ``models:/<name>@champion``, or None when there is no
    champion yet (no such registered model, or no ``champion`` alias). Other errors raise."""
    from mlflow.exceptions import MlflowException

    try:
        return load_scorer(f"models:/{name}@champion", uri=uri)
    except MlflowException as exc:
        missing_model = exc.error_code == "RESOURCE_DOES_NOT_EXIST"
        missing_alias = exc.error_code == "INVALID_PARAMETER_VALUE" and "alias" in str(exc)
        if missing_model or missing_alias:
            return None
        raise


def _resolve_version(model_uri: str):
    from mlflow import MlflowClient

    ref = model_uri.removeprefix("models:/")
    client = MlflowClient()
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return client.get_model_version_by_alias(name, alias)
    if "/" in ref:
        name, version = ref.split("/", 1)
        if version.isdigit():
            return client.get_model_version(name, version)
    return None


@dataclass(frozen=True)
class PromotionDecision:
    promoted: bool
    name: str
    version: str
    previous_champion: str | None
    reasons: tuple[str, ...]

    def message(self) -> str:
        verb = "promoted" if self.promoted else "refused"
        head = f"{self.name} version {self.version}: {verb}"
        return head + ("" if not self.reasons else "\n  - " + "\n  - ".join(self.reasons))


def _run_metrics(run_id: str) -> dict[str, float]:
    from mlflow import MlflowClient

    return dict(MlflowClient().get_run(run_id).data.metrics)


def promote(
    name: str,
    *,
    version: str | None = None,
    force: bool = False,
    margins: Any = None,
    uri: str | None = None,
) -> PromotionDecision:
    """Move ``champion`` to the challenger (or to ``version``: a rollback) through the gate.

    The gate reads the challenger's own out-of-time test metrics: it must beat
    the rule baseline and the champion (evaluated on the same test rows at
    training time) by the configured margins and be calibrated (ECE).
    ``force`` skips the gate and is recorded as a tag.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from leadml.config import PromotionSpec

    ensure_store(uri)
    client = MlflowClient()
    margins = margins or PromotionSpec()
    try:
        champion = client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        champion = None
    if version is None:
        try:
            candidate = client.get_model_version_by_alias(name, "challenger")
        except MlflowException as exc:
            raise ValueError(
                f"model {name!r} has no 'challenger' version: run `leadml train` first"
            ) from exc
    else:
        candidate = client.get_model_version(name, str(version))
    reasons: list[str] = []
    rollback = version is not None
    if champion is not None and str(champion.version) == str(candidate.version):
        return PromotionDecision(
            True, name, str(candidate.version), str(champion.version), ("already champion",)
        )
    if not rollback and not force:
        metric = margins.metric
        metrics = _run_metrics(candidate.run_id)
        model_value = metrics.get(f"test_model_{metric}")
        baseline_value = metrics.get(f"test_baseline_{metric}")
        if model_value is None:
            reasons.append(f"the challenger's run has no test_model_{metric} metric")
        else:
            if (
                baseline_value is not None
                and model_value < baseline_value + margins.min_gain_over_baseline
            ):
                reasons.append(
                    f"{metric} {model_value:.4f} does not beat the rule baseline's {baseline_value:.4f} "
                    f"by the required {margins.min_gain_over_baseline:+.4f}"
                )
            ece = metrics.get("test_model_ece")
            if ece is not None and ece > margins.max_ece:
                reasons.append(f"ECE {ece:.4f} is above the allowed {margins.max_ece:.4f}")
            if champion is not None:
                tags = client.get_run(candidate.run_id).data.tags
                compared = tags.get("leadml.compared_champion_version")
                champ_value = metrics.get(f"test_champion_{metric}")
                if compared != str(champion.version) or champ_value is None:
                    reasons.append(
                        f"the challenger was not evaluated against the current champion (version "
                        f"{champion.version}; compared with {compared or 'none'}): retrain to compare, "
                        "or use --force"
                    )
                elif model_value < champ_value + margins.min_gain_over_champion:
                    reasons.append(
                        f"{metric} {model_value:.4f} does not beat the champion's {champ_value:.4f} "
                        f"(version {champion.version}) by the required {margins.min_gain_over_champion:+.4f}"
                    )
        if reasons:
            return PromotionDecision(
                False, name, candidate.version, getattr(champion, "version", None), tuple(reasons)
            )
    client.set_registered_model_alias(name, "champion", candidate.version)
    client.set_model_version_tag(
        name,
        candidate.version,
        "leadml.promoted_by",
        "force" if force else ("rollback" if rollback else "gate"),
    )
    if force:
        client.set_model_version_tag(name, candidate.version, "leadml.forced", "true")
    note = "forced past the gate" if force else ("rollback" if rollback else "passed the gate")
    return PromotionDecision(
        True, name, candidate.version, getattr(champion, "version", None), (note,)
    )


def log_scoring_run(
    *,
    model_name: str,
    model_version: str,
    manifest: Mapping[str, Any],
    uri: str | None = None,
) -> str:
    """Log a batch scoring run (counts, tiers, drift) under the scoring experiment."""
    import mlflow

    ensure_store(uri)
    experiment_id = _experiment(SCORING_EXPERIMENT)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags({"leadml.model": model_name, "leadml.model_version": model_version})
        counts = manifest.get("counts", {})
        mlflow.log_metrics({f"count_{k}": float(v) for k, v in counts.items()})
        mlflow.log_metrics({f"tier_{k}": float(v) for k, v in manifest.get("tiers", {}).items()})
        drift = manifest.get("drift", {})
        if "score_psi" in drift:
            mlflow.log_metric("psi_score", float(drift["score_psi"]))
        if drift.get("features"):
            mlflow.log_metric("psi_max_feature", float(max(drift["features"].values())))
        mlflow.log_text(json.dumps(manifest, indent=2, default=str), "manifest.json")
        return run.info.run_id


def log_backtest_run(
    *,
    config: Any,
    params: Mapping[str, Any],
    report: Mapping[str, Any],
    artifacts: list[Path],
    uri: str | None = None,
) -> str:
    """Log a rolling-origin backtest under its own experiment: each arm's metrics per fold
    (``<arm>_<metric>`` at step = fold) and pooled (``pooled_<arm>_<metric>``)."""
    import mlflow

    ensure_store(uri)
    experiment_id = _experiment(BACKTEST_EXPERIMENT)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags(
            {
                "leadml.target": str(report.get("target")),
                "leadml.model": config.model.registered_name,
            }
        )
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        for fold in report.get("folds", []):
            for arm in ("refit", "oldest_part", "baseline", "oracle"):
                values = _flatten_metrics(f"{arm}_", fold.get(arm, {}))
                values = {
                    k: v for k, v in values.items() if not k.endswith(("_n_train", "_rounds"))
                }
                mlflow.log_metrics(values, step=int(fold["fold"]))
        for arm, values in report.get("pooled", {}).items():
            mlflow.log_metrics(_flatten_metrics(f"pooled_{arm}_", values))
        mlflow.log_dict(config.model_dump(mode="json"), "config.json")
        for path in artifacts:
            mlflow.log_artifact(str(path))
        return run.info.run_id
