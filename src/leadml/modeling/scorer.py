"""The servable scorer: LightGBM text model + feature spec + calibration + reason catalogue.

One object scores and explains feature rows the same way in training, in the
batch job, in the MLflow pyfunc model and behind REST. It saves to plain files
(text model, JSON) and loads without pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from leadml.config import EventDataset, FlatDataset, TierSpec
from leadml.explain.explanation import Explanation, explain_rows, format_reasons
from leadml.features.catalogue import FeatureCatalogue
from leadml.modeling.calibration import PlattCalibration, PointsScale
from leadml.modeling.drift import DriftProfile
from leadml.trees.fastpredict import raw_scores
from leadml.trees.fastshap import freeze_booster
from leadml.vocabulary import FAMILIES

__all__ = [
    "ARTIFACT_FILES",
    "CHECKSUMS_FILE",
    "LeadScorer",
    "ModelArtifactError",
    "ModelNotFoundError",
    "OPTIONAL_ARTIFACTS",
    "assign_tiers",
    "dormant_leads",
    "verify_artifacts",
]

ARTIFACT_FILES = {
    "model": "model.txt",
    "spec": "feature_spec.json",
    "calibration": "calibration.json",
    "catalogue": "reason_catalogue.json",
    "reference": "drift_reference.json",
    "dataset": "dataset_config.json",
}
# Files a model saved by an older leadml may lack: no drift reference, no dataset config
# (such a model scores feature rows only, not raw leads).
OPTIONAL_ARTIFACTS = frozenset({"reference", "dataset"})
# The SHA-256 of every artifact file, written last by `LeadScorer.save`, checked on load.
CHECKSUMS_FILE = "checksums.json"


def assign_tiers(
    probability: np.ndarray,
    tiers: TierSpec,
    *,
    eligible: np.ndarray | None = None,
) -> np.ndarray:
    """hot / warm / cold by thresholds, or hot by capacity (top N / top %) over the batch.

    With capacity, the hot tier is the top of the batch by probability (ties
    broken by position, so reruns agree); warm stays threshold-based. Only
    ``eligible`` rows (default: all; the batch job passes the leads that are not
    dormant) can be hot, and capacity counts them only.
    """
    probability = np.asarray(probability, dtype=np.float64)
    out = np.where(probability >= tiers.warm, "warm", "cold").astype(object)
    eligible = (
        np.ones(probability.size, dtype=bool) if eligible is None else np.asarray(eligible, bool)
    )
    n_hot: int | None = None
    if tiers.hot_top_n is not None:
        n_hot = min(tiers.hot_top_n, int(eligible.sum()))
    elif tiers.hot_top_pct is not None:
        n_hot = int(round(int(eligible.sum()) * tiers.hot_top_pct / 100.0))
    if n_hot is None:
        out[(probability >= tiers.hot) & eligible] = "hot"
    elif n_hot > 0:
        order = np.argsort(-np.where(eligible, probability, -np.inf), kind="stable")
        out[order[:n_hot]] = "hot"
    return out


def _floats(values: pd.Series) -> np.ndarray:
    """``pd.to_numeric(values, errors="coerce")`` as float64, without the call for numbers."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf":
        return values.to_numpy(dtype=np.float64)
    return pd.to_numeric(values, errors="coerce").to_numpy(float)


def dormant_leads(features: pd.DataFrame, tiers: TierSpec) -> np.ndarray:
    """Leads with no engagement for ``tiers.dormant_days`` (never active: since creation).

    All False without ``dormant_days`` or without the activity features (flat mode).
    """
    n = len(features)
    if tiers.dormant_days is None or "days_since_last_activity" not in features.columns:
        return np.zeros(n, dtype=bool)
    quiet = _floats(features["days_since_last_activity"])
    if "lead_age_days" in features.columns:
        age = _floats(features["lead_age_days"])
        quiet = np.where(np.isnan(quiet), age, quiet)
    return np.nan_to_num(quiet, nan=0.0) >= tiers.dormant_days


class ModelNotFoundError(NotFittedError):
    """A folder or store entry holds no fitted leadml model (scikit-learn's ``NotFittedError``)."""


class ModelArtifactError(ValueError):
    """A model artifact file is damaged or was changed after it was saved (checksum, format)."""


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_artifacts(folder: str | Path, *, required: bool = False) -> bool:
    """Check every artifact of ``folder`` against ``checksums.json``; True when it was checked.

    Raises :class:`ModelArtifactError` naming the first file that is missing, unreadable
    or changed. A folder without ``checksums.json`` (saved by leadml before checksums) is
    refused when ``required``, else left to :meth:`LeadScorer.load`'s format checks.
    """
    folder = Path(folder)
    listing = folder / CHECKSUMS_FILE
    if not listing.is_file():
        if required:
            raise ModelArtifactError(
                f"{listing}: missing; the model's files cannot be checked: retrain or re-register "
                "the model (`leadml train`)"
            )
        return False
    try:
        expected = json.loads(listing.read_text(encoding="utf-8"))
        if not isinstance(expected, dict) or not all(isinstance(v, str) for v in expected.values()):
            raise ValueError("expected an object of file name to SHA-256")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelArtifactError(
            f"{listing}: unreadable ({str(exc)[:80]}); retrain or re-register the model"
        ) from exc
    for role, name in ARTIFACT_FILES.items():
        if role not in OPTIONAL_ARTIFACTS and name not in expected:
            raise ModelArtifactError(f"{listing}: lists no checksum for {name}; retrain the model")
    for name, digest in expected.items():
        path = folder / Path(name).name
        if not path.is_file():
            raise ModelArtifactError(
                f"{path}: missing from the model artifact; retrain or re-register the model"
            )
        if _sha256(path) != digest:
            raise ModelArtifactError(
                f"{path}: changed or damaged since the model was saved (SHA-256 does not match "
                f"{CHECKSUMS_FILE}); the model was not loaded: restore the artifact or retrain"
            )
    return True


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelArtifactError(
            f"{path}: not valid JSON ({str(exc)[:80]}); restore the artifact or retrain"
        ) from exc


def _dataset_config(data: Any) -> EventDataset | FlatDataset:
    """The dataset config saved beside a model, parsed by its ``mode`` key."""
    if not isinstance(data, dict):
        raise ValueError(f"expected an object, got {type(data).__name__}")
    return (FlatDataset if data.get("mode") == "flat" else EventDataset).model_validate(data)


def _read_booster(path: Path) -> lgb.Booster:
    """The LightGBM model, refused before LightGBM sees text it would abort on."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ModelArtifactError(f"{path}: not a LightGBM text model (not UTF-8 text)") from exc
    if (
        not text.startswith("tree\n")
        or "\nend of trees\n" not in text
        or ("\nend of parameters\n" not in text)
    ):
        raise ModelArtifactError(
            f"{path}: not a complete LightGBM text model (truncated or changed); restore the "
            "artifact or retrain"
        )
    try:
        # a LeadScorer's booster never changes: its text keys the fast kernels' cache
        return freeze_booster(lgb.Booster(model_str=text), text)
    except lgb.basic.LightGBMError as exc:
        raise ModelArtifactError(f"{path}: LightGBM cannot read it ({str(exc)[:80]})") from exc


@dataclass(frozen=True, kw_only=True, repr=False)
class LeadScorer(ClassifierMixin, BaseEstimator):
    """Scores and explains feature rows. ``spec`` fixes columns, dtypes and categories.

    A fitted binary classifier in scikit-learn's sense: ``classes_`` is
    ``[0, 1]``, ``predict_proba`` returns ``(n, 2)`` calibrated probabilities,
    ``get_params`` lists the constructor's fields and
    ``sklearn.utils.validation.check_is_fitted`` accepts it, so scikit-learn's
    metrics and displays (``CalibrationDisplay.from_estimator``,
    ``permutation_importance``) take it as it is. It is immutable: build a
    variant with ``dataclasses.replace(scorer, top_reasons=5)``.

    Parameters
    ----------
    booster : lightgbm.Booster
        The trees, exactly as saved in ``model.txt``.
    spec : FeatureSpec
        Feature names, kinds and training categories: the input contract.
    catalogue : ReasonCatalogue
        Groups, families and reason words for every feature.
    calibration : PlattCalibration
        Margin to calibrated log-odds (``a * margin + b``).
    scale : PointsScale
        Log-odds to scorecard points.
    tiers : TierSpec
        Hot / warm / cold thresholds or capacity.
    top_reasons : int, default=3
        Reasons shown per sign.
    name, target, horizon_days
        The registered model name, the target and its window, for records.
    reference : DriftProfile or None
        The population drift is measured against.
    dataset : EventDataset, FlatDataset or None
        The dataset config the features were built with (column mapping,
        vocabularies, ICP, windows): what the served model needs to build the
        features of a raw lead. None for models saved before leadml kept it.

    Examples
    --------
    >>> scorer = leadml.load_model("models:/leadml-sql@champion")  # doctest: +SKIP
    >>> scorer.predict_proba(X)[:, 1]  # doctest: +SKIP
    """

    booster: lgb.Booster
    spec: Any  # leadml.features.spec.FeatureSpec
    catalogue: FeatureCatalogue
    calibration: PlattCalibration
    scale: PointsScale
    tiers: TierSpec
    top_reasons: int = 3
    name: str = "leadml-sql"
    target: str = "sql"
    horizon_days: int = 90
    reference: DriftProfile | None = None
    dataset: EventDataset | FlatDataset | None = None

    # --- scikit-learn's contract --------------------------------------------
    def __repr__(self) -> str:
        trees = self.booster.num_trees() if isinstance(self.booster, lgb.Booster) else 0
        return (
            f"LeadScorer(name={self.name!r}, target={self.target!r}, "
            f"horizon_days={self.horizon_days}, features={len(self.spec.names)}, trees={trees})"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        # scikit-learn's HTML diagram would print every parameter, the trees included
        return {"text/plain": repr(self)}

    def fit(self, X: Any, y: Any = None) -> LeadScorer:
        """Not available: a scorer is fitted by :func:`leadml.train_model` (or ``leadml train``).

        Training needs the time-ordered train / valid / calib parts of a
        point-in-time training set (early stopping on valid, Platt on calib),
        which a single ``(X, y)`` cannot say.
        """
        raise TypeError(
            "LeadScorer is already fitted and cannot be refitted on (X, y): train a new one with "
            "leadml.train_model(config, data) (or `leadml train`), which splits the data out of time "
            "into train, valid (early stopping) and calib (Platt) parts"
        )

    def __sklearn_is_fitted__(self) -> bool:
        return isinstance(self.booster, lgb.Booster) and self.spec is not None

    @property
    def classes_(self) -> np.ndarray:
        """The two classes: 0 (not reached within the horizon) and 1 (reached)."""
        return np.array([0, 1])

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The model's input columns, in order."""
        return np.asarray(self.spec.names, dtype=object)

    @property
    def n_features_in_(self) -> int:
        return len(self.spec.names)

    def set_params(self, **params: Any) -> LeadScorer:
        raise TypeError(
            f"LeadScorer is an immutable fitted model; set_params({', '.join(params)}=...) cannot "
            "change it. Build a variant with dataclasses.replace(scorer, "
            + ", ".join(f"{k}=..." for k in params)
            + ")"
        )

    def _checked(self, X: Any, method: str) -> pd.DataFrame:
        """``X`` as a frame of feature rows, or an error naming what was given and expected."""
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame):
            return self.spec.with_internal_names(X)
        shape = getattr(X, "shape", None)
        raise TypeError(
            f"LeadScorer.{method} expects a pandas DataFrame with the model's "
            f"{self.n_features_in_} feature columns (feature_names_in_, e.g. "
            f"{list(self.spec.names[:3])}); got {type(X).__name__}"
            + (f" of shape {shape}" if shape is not None else "")
            + ". Categorical features need their names, so arrays are not accepted."
        )

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(n, 2)`` calibrated probabilities of class 0 and class 1.

        Parameters
        ----------
        X : pandas.DataFrame
            Feature rows with (at least) the columns of ``feature_names_in_``;
            extra and key columns (``lead_id``, ``as_of``…) are ignored.

        Returns
        -------
        numpy.ndarray of shape (n_rows, 2)
        """
        p1 = self.probability(self._checked(X, "predict_proba"))
        return np.column_stack([1.0 - p1, p1])

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated log-odds of class 1, one per row (monotone in the probability)."""
        X = self._checked(X, "decision_function")
        matrix, _ = self.model_matrix(X)
        return self.calibration.log_odds(raw_scores(self.booster, matrix))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """0/1 per row: 1 where the calibrated probability is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    # --- prediction -------------------------------------------------------
    def model_matrix(self, features: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Feature rows → the model's matrix (training categories), plus unseen-category counts."""
        return self.spec.apply(features)

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the target within the horizon."""
        X, _ = self.model_matrix(features)
        return self.calibration.probability(raw_scores(self.booster, X))

    def explain(
        self,
        features: pd.DataFrame,
        *,
        chunk_size: int = 100_000,
        keep_feature_points: bool = False,
        matrix: pd.DataFrame | None = None,
    ) -> Explanation:
        """Probabilities and points of every row, by group and family (and feature, when kept).

        ``matrix``: the rows' model matrix when the caller already built it (``model_matrix``).
        """
        X = self.model_matrix(features)[0] if matrix is None else matrix
        return explain_rows(
            self.booster,
            X,
            calibration=self.calibration,
            scale=self.scale,
            catalogue=self.catalogue,
            chunk_size=chunk_size,
            keep_feature_points=keep_feature_points,
        )

    def score_frame(
        self,
        features: pd.DataFrame,
        *,
        top_reasons: int | None = None,
        chunk_size: int = 100_000,
        tiers: TierSpec | None = None,
        matrix: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """One row per input row: probability, points, tier, mql, sub-scores, reasons.

        Columns may be named as the user wrote them or by their internal names; ``matrix``
        is their model matrix when the caller already built it.
        """
        features = self.spec.with_internal_names(features)
        explanation = self.explain(features, chunk_size=chunk_size, matrix=matrix)
        tiers = tiers or self.tiers
        k = self.top_reasons if top_reasons is None else top_reasons
        reasons, other = format_reasons(explanation, features, self.catalogue, k=k)
        family_points = explanation.family_points
        # one frame built at once (a column added at a time costs a pandas call each)
        return pd.DataFrame(
            {
                "probability": explanation.probability,
                "points": explanation.points,
                "tier": assign_tiers(explanation.probability, tiers),
                "mql": explanation.probability >= tiers.mql_probability,
                "base_points": explanation.base_points,
                **{
                    f"score_{family}": (
                        family_points[family].to_numpy() if family in family_points else 0.0
                    )
                    for family in FAMILIES
                },
                "reasons": reasons,
                "other_points": other,
            },
            index=features.index,
        )

    # --- persistence (no pickle) -------------------------------------------
    def save(self, folder: str | Path) -> dict[str, Path]:
        """Write the artifacts (``ARTIFACT_FILES``) and their checksums; returns their paths by role."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {role: folder / name for role, name in ARTIFACT_FILES.items()}
        self.booster.save_model(str(paths["model"]))
        paths["spec"].write_text(json.dumps(self.spec.to_dict(), indent=2, default=str))
        paths["calibration"].write_text(
            json.dumps(
                {
                    "platt": self.calibration.to_dict(),
                    "points": self.scale.to_dict(),
                    "tiers": self.tiers.model_dump(),
                    "top_reasons": self.top_reasons,
                    "name": self.name,
                    "target": self.target,
                    "horizon_days": self.horizon_days,
                },
                indent=2,
            )
        )
        paths["catalogue"].write_text(json.dumps(self.catalogue.to_dict(), indent=2))
        if self.reference is None:
            del paths["reference"]
        else:
            paths["reference"].write_text(json.dumps(self.reference.to_dict()))
        if self.dataset is None:
            del paths["dataset"]
        else:
            paths["dataset"].write_text(
                json.dumps(self.dataset.model_dump(mode="json"), indent=2, sort_keys=True)
            )
        (folder / CHECKSUMS_FILE).write_text(
            json.dumps({p.name: _sha256(p) for p in paths.values()}, indent=2, sort_keys=True)
        )
        return paths

    @classmethod
    def load(cls, folder: str | Path | None = None, **paths: str | Path) -> LeadScorer:
        """Load from a folder of artifacts, or from explicit paths by role."""
        from leadml.features.spec import FeatureSpec

        if folder is not None:
            paths = {role: Path(folder) / name for role, name in ARTIFACT_FILES.items()} | paths
        for role in OPTIONAL_ARTIFACTS:
            if role in paths and not Path(paths[role]).is_file():
                del paths[role]
        missing = [
            f"{role} ({ARTIFACT_FILES[role]})"
            for role in ARTIFACT_FILES
            if role not in OPTIONAL_ARTIFACTS
            and (role not in paths or not Path(paths[role]).is_file())
        ]
        if missing:
            where = f" in {folder}" if folder is not None else ""
            raise ModelNotFoundError(
                f"no fitted leadml model{where}: missing {', '.join(missing)}. Train one with "
                "`leadml train` (or leadml.train) and load it from the registry or a saved folder"
            )
        if folder is not None:
            verify_artifacts(folder)
        meta = _read_json(paths["calibration"])
        try:
            return cls(
                booster=_read_booster(paths["model"]),
                spec=FeatureSpec.from_dict(_read_json(paths["spec"])),
                catalogue=FeatureCatalogue.from_dict(_read_json(paths["catalogue"])),
                calibration=PlattCalibration.from_dict(meta["platt"]),
                scale=PointsScale.from_dict(meta["points"]),
                tiers=TierSpec.model_validate(meta["tiers"]),
                top_reasons=int(meta.get("top_reasons", 3)),
                name=meta.get("name", "leadml"),
                target=meta.get("target", "sql"),
                horizon_days=int(meta.get("horizon_days", 90)),
                reference=(
                    DriftProfile.from_dict(_read_json(paths["reference"]))
                    if "reference" in paths
                    else None
                ),
                dataset=(
                    _dataset_config(_read_json(paths["dataset"])) if "dataset" in paths else None
                ),
            )
        except ModelArtifactError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelArtifactError(
                f"{folder or paths['calibration']}: the model's JSON does not hold what leadml "
                f"expects ({type(exc).__name__}: {str(exc)[:80]}); restore the artifact or retrain"
            ) from exc
