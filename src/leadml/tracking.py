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
    "GateCheck",
    "PromotionDecision",
    "RegisteredModel",
    "TuningLog",
    "check_model_uri",
    "ensure_store",
    "load_champion",
    "load_evaluation_scorer",
    "load_scorer",
    "open_store",
    "require_model",
    "resolve_version",
    "log_backtest_run",
    "log_scoring_run",
    "log_servable_model",
    "pinned_requirements",
    "serving_signature",
    "log_training_run",
    "promote",
    "resolve_tracking_uri",
]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# A registered model's files, under its MLflow folder's ``data/`` (read by leadml.serving.pyfunc).
DATA_FOLDER = "leadml_model"
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


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative to the working folder), else None."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri.removeprefix("sqlite:///").split("?", 1)[0])


def open_store(uri: str | None = None) -> str:
    """Point MLflow at an existing store, for reading; never create one.

    A local store that does not exist (a SQLite file or an ``mlruns`` folder) raises
    :class:`~leadml.scorer.ModelNotFoundError` naming the path and the fix, instead of
    leaving an empty store behind (e.g. when run from another folder).
    """
    import mlflow

    from leadml.modeling.scorer import ModelNotFoundError

    uri = resolve_tracking_uri(uri)
    db_path = _sqlite_path(uri)
    local = db_path if db_path is not None else _file_store_path(uri)
    if local is not None and not local.exists():
        raise ModelNotFoundError(
            f"no MLflow store at {uri} ({local.resolve()} does not exist): train a model first "
            "(`leadml train`), or point --tracking-uri / MLFLOW_TRACKING_URI at your store"
        )
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _file_store_path(uri: str) -> Path | None:
    if uri.startswith("file:"):
        return Path(uri.removeprefix("file://").removeprefix("file:"))
    if "://" not in uri and not uri.startswith("databricks"):
        return Path(uri)
    return None


def _registered_names() -> list[str]:
    from mlflow import MlflowClient

    return sorted(m.name for m in MlflowClient().search_registered_models(max_results=50))


def require_model(name: str) -> None:
    """Raise a one-line :class:`~leadml.scorer.ModelNotFoundError` if ``name`` is not registered."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from leadml.modeling.scorer import ModelNotFoundError

    try:
        MlflowClient().get_registered_model(name)
    except MlflowException as exc:
        known = _registered_names()
        raise ModelNotFoundError(
            f"no registered model {name!r} in {resolve_tracking_uri()}; registered: "
            f"{known or 'none'}. Train one with `leadml train --config ...`"
            + (f", or use one of {known}" if known else "")
        ) from exc


def resolve_version(name: str, *, alias: str | None = None, version: str | None = None):
    """The model version behind an alias or a number, or a one-line error listing what exists."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from leadml.modeling.scorer import ModelNotFoundError

    client = MlflowClient()
    require_model(name)
    try:
        if alias is not None:
            return client.get_model_version_by_alias(name, alias)
        return client.get_model_version(name, str(version))
    except MlflowException as exc:
        model = client.get_registered_model(name)
        if alias is not None:
            aliases = sorted(getattr(model, "aliases", {}) or {})
            hint = (
                "run `leadml train` to register a challenger"
                if alias == "challenger"
                else "run `leadml promote` to set champion"
                if alias == "champion"
                else "use one of the aliases above"
            )
            raise ModelNotFoundError(
                f"model {name!r} has no alias {alias!r}; its aliases: {aliases or 'none'}. {hint}"
            ) from exc
        versions = sorted(
            int(v.version) for v in client.search_model_versions(f"name='{name}'", max_results=200)
        )
        raise ModelNotFoundError(
            f"model {name!r} has no version {version!r}; its versions: {versions or 'none'}"
        ) from exc


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


_SCORE_COLUMNS = (
    ("double", "probability"),
    ("double", "points"),
    ("string", "tier"),
    ("boolean", "mql"),
    ("double", "base_points"),
    ("double", "score_fit"),
    ("double", "score_persona"),
    ("double", "score_behaviour"),
    ("double", "score_intent"),
    ("string", "reasons"),
    ("double", "other_points"),
)
# The contract's column kinds as a JSON client sends them (timestamps as ISO 8601 text).
_MLFLOW_TYPES = {"timestamp": "string", "number": "double", "category": "string", "text": "string"}
# The installed versions the served model is pinned to (`leadml==` too).
PINNED_PACKAGES = (
    "lightgbm",
    "pandas",
    "numpy",
    "shap",
    "scikit-learn",
    "scipy",
    "numba",
    "mlflow",
)


def _feature_signature(spec: Any):
    """Models saved without their dataset config: feature rows in (every feature optional)."""
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
    outputs = Schema([ColSpec(kind, name) for kind, name in _SCORE_COLUMNS])
    return ModelSignature(inputs=inputs, outputs=outputs)


def serving_signature(scorer: Any, *, id_type: str = "long"):
    """The served model's signature: raw leads in (required columns marked), scores out.

    Event mode: one row per lead, the lead's and its account's fields named as
    the export names them (``lead_id``, ``account_id``, ``created_at`` required)
    and the lists ``events``, ``intent`` and ``outcomes``; flat mode: the flat
    export's feature columns (all required) and its id column (optional: rows
    without it are answered by position).
    Params: ``as_of`` (ISO date, the time the leads are looked at) and
    ``top_reasons``. ``id_type`` is ``"long"`` or ``"string"``, as the lead ids are.
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema
    from mlflow.types.schema import AnyType, Array

    from leadml.config import FlatDataset
    from leadml.data.schema import CONTRACT

    dataset = scorer.dataset
    if dataset is None:
        return _feature_signature(scorer.spec)

    def kind(column: Any) -> str:
        return id_type if column.kind == "id" else _MLFLOW_TYPES[column.kind]

    if isinstance(dataset, FlatDataset):
        # without its id a row is answered by its position
        columns = [ColSpec(id_type, dataset.id, required=False)] if dataset.id else []
        columns += [
            ColSpec("double", name) for name in dataset.numeric if name not in dataset.exclude
        ]
        columns += [
            ColSpec("string", name) for name in dataset.categorical if name not in dataset.exclude
        ]
        lead_id = ColSpec(id_type if dataset.id else "long", "lead_id")
    else:
        tables = dataset.tables
        columns = [
            ColSpec(kind(c), tables["leads"].source_column(c.name), required=c.required)
            for c in CONTRACT["leads"]
        ]
        columns += [
            ColSpec(kind(c), tables["accounts"].source_column(c.name), required=False)
            for c in CONTRACT["accounts"]
            if c.name != "account_id"
        ]
        # Lists of objects (events: ts, event_type; intent: ts, signal_type, strength;
        # outcomes: stage, ts), checked by leadml's contract: MLflow's own check of every
        # object's properties costs ~50 ms of CPU for a lead with 140 events.
        columns += [
            ColSpec(Array(AnyType()), table, required=False)
            for table in ("events", "intent", "outcomes")
        ]
        lead_id = ColSpec(id_type, "lead_id")
    outputs = Schema(
        [
            lead_id,
            ColSpec("string", "as_of", required=False),
            *(ColSpec(kind, name, required=False) for kind, name in _SCORE_COLUMNS),
            ColSpec("boolean", "dormant", required=False),
            ColSpec("string", "model_name"),
            ColSpec("string", "reject_reason", required=False),
        ]
    )
    params = ParamSchema(
        [ParamSpec("as_of", "string", None), ParamSpec("top_reasons", "long", None)]
    )
    return ModelSignature(inputs=Schema(columns), outputs=outputs, params=params)


def pinned_requirements() -> list[str]:
    """``leadml==<version>`` and the installed versions of what scoring imports."""
    from importlib.metadata import PackageNotFoundError, version

    pins = [f"leadml=={_leadml_version()}"]
    for package in PINNED_PACKAGES:
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return pins


def log_servable_model(
    scorer: Any,
    *,
    input_example: Any,
    registered_model_name: str | None = None,
    id_type: str = "long",
) -> Any:
    """Log ``scorer`` into the active run as the servable pyfunc model (data only) and
    return MLflow's ``ModelInfo``.

    The artifact holds the scorer's files (:meth:`LeadScorer.save`, checksummed) under
    ``data/``; ``loader_module`` names :mod:`leadml.serving.pyfunc`, imported from the
    installed leadml. ``input_example`` is ``(lead rows, {"as_of": ...})`` for a raw-lead
    model, or feature rows.
    """
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        # data only: MLflow imports the loader from the installed leadml (no code in the store)
        data_path = Path(tmp) / DATA_FOLDER
        scorer.save(data_path)
        return mlflow.pyfunc.log_model(
            name="model",
            loader_module="leadml.serving.pyfunc",
            data_path=str(data_path),
            signature=serving_signature(scorer, id_type=id_type),
            input_example=input_example,
            registered_model_name=registered_model_name,
            pip_requirements=pinned_requirements(),
        )


def _flat_params(prefix: str, values: Any) -> dict[str, str]:
    """Nested settings as dotted MLflow params (lists kept whole, as text)."""
    if isinstance(values, Mapping):
        out: dict[str, str] = {}
        for key, value in values.items():
            out |= _flat_params(f"{prefix}.{key}" if prefix else str(key), value)
        return out
    if isinstance(values, list | tuple):
        values = ",".join(str(v) for v in values)
    return {prefix: str(values)[:500]}


# The run config's sections that change the trained model (its data, labels, split,
# features, trees, calibration and points); `promotion` and `audit` only judge it.
_MODEL_SECTIONS = ("target", "snapshots", "split", "points", "tiers")


def run_params(config: Any, booster_params: Mapping[str, Any]) -> dict[str, str]:
    """Every setting that changes the model, as flat MLflow params.

    LightGBM's effective parameters as ``lgbm.<name>``, the boosting limits, the
    target, snapshot ages, split fractions and purge gap, the points scale, tiers,
    seed, feature windows / ICP (event mode) or the declared columns (flat mode).
    """
    from leadml.pointintime.dataset import dataset_for

    settings = config.model_dump(mode="json")
    params = {f"lgbm.{k}": str(v)[:500] for k, v in booster_params.items()}
    params |= {
        "model.num_boost_round": str(config.model.num_boost_round),
        "model.early_stopping_rounds": str(config.model.early_stopping_rounds),
        "model.registered_name": config.model.registered_name,
        "split.purge_days_effective": str(config.purge_days),
        "seed": str(config.seed),
        "point_grid": str(config.point_grid),
        "config_file": Path(config.source).name if config.source else "inline",
    }
    for section in _MODEL_SECTIONS:
        params |= _flat_params(section, settings[section])
    return params | _flat_params("dataset", dataset_for(config).tracked_settings())


def run_name(config: Any, data_end: str | int | None) -> str:
    """``sql 90d · data to 2025-12-31 · sql.yaml``: target, data end, config file.

    A flat export ordered by row (no time column) ends at a row number: ``data to row 41187``.
    """
    from leadml.pointintime.dataset import dataset_for

    config_name = Path(config.source).name if config.source else "inline config"
    if data_end is None:
        end = "unknown end"
    elif isinstance(data_end, int | float):
        end = f"row {int(data_end)}"
    else:
        end = str(data_end)[:10]
    return f"{dataset_for(config).target_label} · data to {end} · {config_name}"


def git_commit() -> dict[str, str]:
    """The leadml source's git commit (and whether its tree has uncommitted changes)."""
    import subprocess

    source = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"leadml.git_commit": "unknown (leadml is not run from a git checkout)"}
    return {
        "mlflow.source.git.commit": commit,
        "leadml.git_commit": commit,
        "leadml.git_dirty": "true" if dirty else "false",
    }


def _training_dataset(frame: pd.DataFrame, fingerprint: Mapping[str, Any], config: Any):
    """The training set as an MLflow dataset: schema and size of the frame, digest of its inputs."""
    import warnings

    import mlflow

    digest = str(fingerprint.get("training_set_digest") or fingerprint["inputs_sha256"])[:32]
    summary = fingerprint.get("summary", {})
    with warnings.catch_warnings():
        # "source can be interpreted in multiple ways" and the integer-column hint: both moot here
        warnings.simplefilter("ignore", UserWarning)
        dataset = mlflow.data.from_pandas(
            frame,
            source=str(fingerprint.get("source") or "unknown"),
            targets="label",
            name=f"{config.target.name}-training-set-to-{str(summary.get('data_end') or '')[:10]}",
            digest=digest,
        )
    return dataset, int(len(frame))


def version_description(report: Mapping[str, Any], fingerprint: Mapping[str, Any]) -> str:
    """The registry version's description: target, data, test metrics against grid and champion."""
    model = report.get("model", {})
    sizes = report.get("sizes", {})

    def metric(name: str) -> str:
        value = report.get(name, {}).get("roc_auc")
        return "n/a" if value is None else f"{value:.3f}"

    ci = model.get("roc_auc_ci") or [None, None]
    interval = "" if None in ci else f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    lines = [
        f"{report.get('target')} within {report.get('horizon_days')} days; trained on data to "
        f"{str(sizes.get('data_end') or 'unknown')[:10]} ({sizes.get('n_rows', 0):,} rows, inputs "
        f"sha256 {str(fingerprint.get('inputs_sha256', ''))[:12]}).",
        f"Out-of-time test ({report.get('n_test', 0):,} rows): ROC-AUC {metric('model')}{interval}, "
        f"rule grid {metric('baseline')}, champion {metric('champion')}"
        + (
            f" (version {report['compared_champion_version']})"
            if report.get("compared_champion_version")
            else ""
        )
        + f", oracle {metric('oracle')}; ECE {model.get('ece', float('nan')):.4f}; "
        f"lift@10% {model.get('lift_top_decile', float('nan')):.2f}.",
    ]
    return "\n".join(lines)


def log_training_run(
    *,
    scorer: Any,
    config: Any,
    params: Mapping[str, Any],
    metrics: Mapping[str, Mapping[str, Any]],
    report: Mapping[str, Any],
    fingerprint: Mapping[str, Any],
    artifacts: list[tuple[str, Path]],
    input_example: Any,
    training_frame: pd.DataFrame | None = None,
    id_type: str = "long",
    settings: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    uri: str | None = None,
) -> RegisteredModel:
    """Log one training run, its servable model, and register it as ``challenger``.

    ``params`` are LightGBM's effective parameters (logged as ``lgbm.<name>``, beside every
    other setting of ``config`` that changes the model); ``metrics`` maps a prefix
    (``valid_``, ``test_model_``, ``test_baseline_``…) to a flat dict of numbers;
    ``artifacts`` lists (folder in the run, file) pairs; ``training_frame`` is logged as
    the run's dataset input, with the digest of the data and config it was built from.
    """
    import mlflow
    from mlflow import MlflowClient

    ensure_store(uri)
    experiment_id = _experiment(TRAINING_EXPERIMENT)
    name = scorer.name
    data_end = (report.get("sizes") or {}).get("data_end")
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name(config, data_end)) as run:
        mlflow.set_tags(
            {
                "leadml.target": scorer.target,
                "leadml.data_end": str(data_end),
                "leadml.inputs_sha256": str(fingerprint.get("inputs_sha256")),
                "leadml.version": _leadml_version(),
                **git_commit(),
                **(tags or {}),
            }
        )
        # the refit, small-data and backtest settings as they are (not LightGBM's)
        mlflow.log_params(
            run_params(config, params) | {k: str(v)[:500] for k, v in (settings or {}).items()}
        )
        if training_frame is not None:
            dataset, n_rows = _training_dataset(training_frame, fingerprint, config)
            mlflow.log_input(dataset, context="training")
            mlflow.log_metric("training_set_rows", float(n_rows))
        for prefix, values in metrics.items():
            mlflow.log_metrics(_flatten_metrics(prefix, values))
        mlflow.log_dict(config.model_dump(mode="json"), "config.json")
        mlflow.log_dict(dict(fingerprint), "data_fingerprint.json")
        mlflow.log_dict(dict(report), "metrics.json")
        for folder, path in artifacts:
            mlflow.log_artifact(str(path), artifact_path=folder or None)
        info = log_servable_model(
            scorer, input_example=input_example, registered_model_name=name, id_type=id_type
        )
        run_id = run.info.run_id
    version = str(info.registered_model_version)
    client = MlflowClient()
    client.set_registered_model_alias(name, "challenger", version)
    client.set_model_version_tag(name, version, "run_id", run_id)
    client.update_model_version(name, version, description=version_description(report, fingerprint))
    if not client.get_registered_model(name).description:
        client.update_registered_model(
            name,
            description=(
                f"leadml: calibrated probability that an open lead reaches {scorer.target} within "
                f"{scorer.horizon_days} days, with points and reasons. Aliases: challenger (newest "
                "trained), champion (serving, moved by `leadml promote`)."
            ),
        )
    return RegisteredModel(
        run_id=run_id, name=name, version=version, model_uri=f"models:/{name}/{version}"
    )


def _leadml_version() -> str:
    from leadml import __version__

    return __version__


def load_scorer(model_uri: str, *, uri: str | None = None) -> tuple[Any, dict[str, str]]:
    """Load the servable model (``models:/name@alias``, ``models:/name/3``, ``runs:/…`` or a
    local folder) as data: its files are downloaded, checked against their SHA-256 and read
    by the installed leadml. Nothing from the store is executed or unpickled.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from leadml.modeling.scorer import LeadScorer, ModelNotFoundError

    local = Path(model_uri)
    if local.is_dir() and (local / "model.txt").is_file():
        return LeadScorer.load(local), {"name": local.name, "version": "local", "uri": str(local)}
    check_model_uri(model_uri, uri=uri)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp))
        except (MlflowException, OSError) as exc:
            raise ModelNotFoundError(
                f"{model_uri}: its files cannot be read from {resolve_tracking_uri(uri)} "
                f"({str(exc)[:120]}); check the artifact store, or retrain"
            ) from exc
        scorer = _scorer_from_model_folder(folder, model_uri)
    meta = {"name": scorer.name, "version": "", "uri": model_uri}
    if model_uri.startswith("models:/"):
        version = _resolve_version(model_uri)
        if version is not None:
            meta["name"], meta["version"] = version.name, str(version.version)
    return scorer, meta


def _scorer_from_model_folder(folder: Path, model_uri: str) -> Any:
    """The scorer in a downloaded MLflow model folder: ``data/leadml_model`` (checked), or the
    ``artifacts/`` of a model logged before leadml stored data only (read as data; its
    ``model_code.py`` is never run)."""
    from leadml.modeling.scorer import LeadScorer, ModelNotFoundError
    from leadml.serving.pyfunc import load_artifact_folder

    data = folder / "data" / DATA_FOLDER
    if data.is_dir():
        return load_artifact_folder(data)
    legacy = folder / "artifacts"
    if (legacy / "model.txt").is_file():
        return LeadScorer.load(legacy)
    raise ModelNotFoundError(
        f"{model_uri} holds no leadml model files (no data/{DATA_FOLDER}/ nor artifacts/model.txt): "
        "point --model at a model registered by `leadml train`"
    )


def check_model_uri(model_uri: str, *, uri: str | None = None) -> None:
    """Open the store (never creating it) and check that ``model_uri`` names something in it.

    ``models:/name@alias`` and ``models:/name/N`` are checked in the registry, ``runs:/``
    against the runs; anything else that is not a model folder is refused. Each failure
    is one :class:`~leadml.scorer.ModelNotFoundError` line that says what exists.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from leadml.modeling.scorer import ModelNotFoundError

    if not model_uri.startswith(("models:/", "runs:/")):
        raise ModelNotFoundError(
            f"{model_uri!r} is neither a model URI (models:/leadml-sql@champion, "
            "models:/leadml-sql/3, runs:/<run id>/model) nor a folder holding model.txt"
        )
    open_store(uri)
    if model_uri.startswith("runs:/"):
        run_id = model_uri.removeprefix("runs:/").split("/", 1)[0]
        try:
            MlflowClient().get_run(run_id)
        except MlflowException as exc:
            raise ModelNotFoundError(
                f"no run {run_id!r} in {resolve_tracking_uri(uri)}: copy the run id from "
                "`leadml train`'s output or the MLflow UI"
            ) from exc
        return
    ref = model_uri.removeprefix("models:/")
    if "@" in ref:
        name, alias = ref.split("@", 1)
        resolve_version(name, alias=alias)
    elif "/" in ref and ref.split("/", 1)[1].isdigit():
        name, number = ref.split("/", 1)
        resolve_version(name, version=number)
    elif "/" in ref:
        name, rest = ref.split("/", 1)
        require_model(name)
        raise ModelNotFoundError(
            f"{model_uri!r}: {rest!r} is not a version number; use models:/{name}/<number> or "
            f"models:/{name}@<alias> (e.g. @champion)"
        )
    else:
        require_model(ref)


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
    champion yet (no store, no such registered model, or no ``champion`` alias). Other
    errors raise."""
    from leadml.modeling.scorer import ModelNotFoundError

    try:
        return load_scorer(f"models:/{name}@champion", uri=uri)
    except ModelNotFoundError:
        return None


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
class GateCheck:
    """One rule of the gate: the challenger's value, what it was compared with, the margin."""

    rule: str  # "beats the champion", "beats the rule baseline", "calibrated"
    metric: str
    challenger: float | None
    reference: float | None  # the champion's or the grid's value, or the ECE ceiling
    margin: float
    passed: bool
    note: str = ""

    def line(self) -> str:
        mark = "pass" if self.passed else "FAIL"
        if self.note and self.challenger is None:
            return f"[{mark}] {self.rule}: {self.note}"
        if self.rule == "calibrated":
            text = f"ECE {self.challenger:.4f} <= {self.reference:.4f}"
        else:
            gain = None if self.reference is None else self.challenger - self.reference
            text = (
                f"{self.metric} {self.challenger:.4f} vs {self.reference:.4f}: gain {gain:+.4f}, "
                f"required >= {self.margin:+.4f}"
                if gain is not None
                else f"{self.metric} {self.challenger:.4f}"
            )
        return f"[{mark}] {self.rule}: {text}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class PromotionDecision:
    promoted: bool
    name: str
    version: str
    previous_champion: str | None
    reasons: tuple[str, ...]
    checks: tuple[GateCheck, ...] = ()
    how: str = "gate"  # gate, force, rollback, already champion

    def message(self) -> str:
        verb = "promoted" if self.promoted else "refused"
        head = f"{self.name} version {self.version}: {verb}"
        if self.previous_champion is not None:
            head += f" (champion was version {self.previous_champion})"
        lines = [c.line() for c in self.checks] + list(self.reasons)
        return head + ("" if not lines else "\n  " + "\n  ".join(lines))

    def to_dict(self) -> dict[str, Any]:
        """The decision and every number the gate compared, JSON-ready."""
        return {
            "promoted": self.promoted,
            "model": self.name,
            "version": self.version,
            "previous_champion": self.previous_champion,
            "how": self.how,
            "checks": [
                {
                    "rule": c.rule,
                    "metric": c.metric,
                    "challenger": c.challenger,
                    "reference": c.reference,
                    "gain": (
                        None
                        if c.challenger is None or c.reference is None or c.rule == "calibrated"
                        else c.challenger - c.reference
                    ),
                    "required": c.margin,
                    "passed": c.passed,
                    "note": c.note,
                }
                for c in self.checks
            ],
            "reasons": list(self.reasons),
        }


def _run_metrics(run_id: str) -> dict[str, float]:
    from mlflow import MlflowClient

    return dict(MlflowClient().get_run(run_id).data.metrics)


def gate_checks(
    metrics: Mapping[str, float],
    margins: Any,
    *,
    champion_version: str | None,
    compared_version: str | None,
) -> tuple[GateCheck, ...]:
    """The gate's rules on a challenger's logged test metrics (``test_model_roc_auc``…).

    The challenger must beat the champion (evaluated on the same test rows at training
    time) and the rule baseline by the configured margins, each strictly above zero gain,
    and keep its ECE under the ceiling.
    """
    metric = margins.metric
    model_value = metrics.get(f"test_model_{metric}")
    if model_value is None:
        return (
            GateCheck(
                "has test metrics",
                metric,
                None,
                None,
                0.0,
                False,
                f"the challenger's run has no test_model_{metric} metric",
            ),
        )
    checks = []
    if champion_version is not None:
        champ_value = metrics.get(f"test_champion_{metric}")
        if compared_version != champion_version or champ_value is None:
            checks.append(
                GateCheck(
                    "beats the champion",
                    metric,
                    model_value,
                    None,
                    margins.min_gain_over_champion,
                    False,
                    f"the challenger was not evaluated against the current champion (version "
                    f"{champion_version}; compared with {compared_version or 'none'}): retrain to "
                    "compare, or use --force",
                )
            )
        else:
            gain = model_value - champ_value
            checks.append(
                GateCheck(
                    "beats the champion",
                    metric,
                    model_value,
                    champ_value,
                    margins.min_gain_over_champion,
                    gain > 0 and gain >= margins.min_gain_over_champion,
                    f"version {champion_version}",
                )
            )
    baseline_value = metrics.get(f"test_baseline_{metric}")
    if baseline_value is not None:
        gain = model_value - baseline_value
        checks.append(
            GateCheck(
                "beats the rule baseline",
                metric,
                model_value,
                baseline_value,
                margins.min_gain_over_baseline,
                gain > 0 and gain >= margins.min_gain_over_baseline,
            )
        )
    ece = metrics.get("test_model_ece")
    if ece is not None:
        checks.append(
            GateCheck("calibrated", "ece", ece, margins.max_ece, 0.0, ece <= margins.max_ece)
        )
    return tuple(checks)


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
    training time) by the configured margins and be calibrated (ECE); the
    decision carries every number compared. ``force`` skips the gate and is
    recorded as a tag.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from leadml.config import PromotionSpec

    open_store(uri)
    client = MlflowClient()
    margins = margins or PromotionSpec()
    require_model(name)
    try:
        champion = client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        champion = None
    if version is None:
        candidate = resolve_version(name, alias="challenger")
    else:
        candidate = resolve_version(name, version=str(version))
    rollback = version is not None
    previous = None if champion is None else str(champion.version)
    if previous == str(candidate.version):
        return PromotionDecision(
            True,
            name,
            str(candidate.version),
            previous,
            ("already champion",),
            how="already champion",
        )
    checks: tuple[GateCheck, ...] = ()
    if not rollback:
        tags = client.get_run(candidate.run_id).data.tags
        checks = gate_checks(
            _run_metrics(candidate.run_id),
            margins,
            champion_version=previous,
            compared_version=tags.get("leadml.compared_champion_version"),
        )
        if not force and not all(c.passed for c in checks):
            return PromotionDecision(
                False, name, str(candidate.version), previous, (), checks, how="gate"
            )
    how = "force" if force else ("rollback" if rollback else "gate")
    client.set_registered_model_alias(name, "champion", candidate.version)
    client.set_model_version_tag(name, candidate.version, "leadml.promoted_by", how)
    if force:
        client.set_model_version_tag(name, candidate.version, "leadml.forced", "true")
    note = {"force": "forced past the gate", "rollback": "rollback", "gate": "passed the gate"}[how]
    return PromotionDecision(True, name, str(candidate.version), previous, (note,), checks, how=how)


TUNING_EXPERIMENT = "leadml-tuning"


def _log_batch(client: Any, run_id: str, *, params=None, metrics=None, tags=None) -> None:
    import time as _time

    from mlflow.entities import Metric, Param, RunTag

    now = int(_time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[
            Metric(k, float(v), now, 0)
            for k, v in (metrics or {}).items()
            if v is not None and np.isfinite(float(v))
        ],
        params=[Param(k, str(v)[:500]) for k, v in (params or {}).items()],
        tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
    )


@dataclass
class TuningLog:
    """A tuning study in MLflow: one parent run, each trial a nested run under it.

    Runs are written by id through the client (no active run), so the challenger's own
    training run can be logged while the study's run is open.
    """

    run_id: str
    experiment_id: str
    uri: str

    @classmethod
    def start(
        cls, config: Any, summary: Mapping[str, Any], *, trials: int, uri: str | None = None
    ) -> TuningLog:
        from mlflow import MlflowClient

        uri = ensure_store(uri)
        client = MlflowClient(uri)
        experiment_id = _experiment(TUNING_EXPERIMENT)
        data_end = summary.get("data_end")
        run = client.create_run(
            experiment_id, run_name=f"tune {run_name(config, data_end)} · {trials} trials"
        )
        _log_batch(
            client,
            run.info.run_id,
            params={
                "trials": trials,
                "sampler": "TPE (multivariate)",
                "pruner": "median, on the valid part",
                "selection": "valid ROC-AUC (the test part is never read while searching)",
                **{k: v for k, v in run_params(config, {}).items() if not k.startswith("lgbm.")},
            },
            tags={
                "leadml.target": config.target.name,
                "leadml.data_end": str(data_end),
                "leadml.version": _leadml_version(),
                **git_commit(),
            },
        )
        return cls(run_id=run.info.run_id, experiment_id=experiment_id, uri=uri)

    def log_trial(self, record: Any) -> None:
        """One trial as a nested run: its parameters, valid ROC-AUC, rounds and state."""
        from mlflow import MlflowClient

        client = MlflowClient(self.uri)
        run = client.create_run(
            self.experiment_id,
            run_name=f"trial {record.number}",
            tags={"mlflow.parentRunId": self.run_id, "leadml.trial_state": record.state},
        )
        _log_batch(
            client,
            run.info.run_id,
            params={f"lgbm.{k}": v for k, v in record.params.items()},
            metrics={
                "valid_auc": record.valid_auc,
                "rounds": record.best_iteration,
                "seconds": record.seconds,
            },
        )
        client.set_terminated(run.info.run_id, status="FINISHED")

    def finish(self, summary: Mapping[str, Any]) -> None:
        """The study's outcome on the parent run: best params, valid and test ROC-AUC, links."""
        from mlflow import MlflowClient

        client = MlflowClient(self.uri)
        test = summary["test_roc_auc"]
        _log_batch(
            client,
            self.run_id,
            params={f"best.{k}": v for k, v in summary["best_params"].items()},
            metrics={
                "valid_auc_shipped": summary["valid_roc_auc"]["shipped"],
                "valid_auc_tuned": summary["valid_roc_auc"]["tuned"],
                "test_roc_auc_shipped": test["shipped"],
                "test_roc_auc_tuned": test["tuned"],
                "test_roc_auc_gain": test["gain"],
                "test_roc_auc_tuned_share_of_oracle": test.get("tuned_share_of_oracle"),
                "trials_pruned": summary["pruned"],
            },
            tags=(
                {
                    "leadml.challenger_run_id": summary["challenger"]["run_id"],
                    "leadml.challenger_version": summary["challenger"]["version"],
                }
                if summary.get("challenger")
                else {}
            ),
        )
        client.log_dict(self.run_id, dict(summary), "tuning.json")
        client.log_artifact(self.run_id, summary["config"])
        client.set_terminated(self.run_id, status="FINISHED")

    def fail(self) -> None:
        from mlflow import MlflowClient

        MlflowClient(self.uri).set_terminated(self.run_id, status="FAILED")


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
