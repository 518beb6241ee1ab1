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

from leadml.config import TierSpec
from leadml.explain.explanation import Explanation, explain_rows, format_reasons
from leadml.features.catalogue import FeatureCatalogue
from leadml.modeling.calibration import PlattCalibration, PointsScale
from leadml.modeling.drift import DriftProfile
from leadml.trees.fastpredict import raw_scores
from leadml.vocabulary import FAMILIES

__all__ = ["ARTIFACT_FILES", "LeadScorer", "assign_tiers"]

ARTIFACT_FILES = {
    "model": "model.txt",
    "spec": "feature_spec.json",
    "calibration": "calibration.json",
    "catalogue": "reason_catalogue.json",
    "reference": "drift_reference.json",
}


def assign_tiers(
    probability: np.ndarray,
    tiers: TierSpec,
) -> np.ndarray:
    """hot / warm / cold by thresholds, or hot by capacity (top N / top %) over the batch.

    With capacity, the hot tier is the top of the batch by probability (ties
    broken by position, so reruns agree); warm stays threshold-based.
    """
    probability = np.asarray(probability, dtype=np.float64)
    out = np.where(probability >= tiers.warm, "warm", "cold").astype(object)
    n_hot: int | None = None
    if tiers.hot_top_n is not None:
        n_hot = min(tiers.hot_top_n, probability.size)
    elif tiers.hot_top_pct is not None:
        n_hot = int(round(probability.size * tiers.hot_top_pct / 100.0))
    if n_hot is None:
        out[probability >= tiers.hot] = "hot"
    elif n_hot > 0:
        order = np.argsort(-probability, kind="stable")
        out[order[:n_hot]] = "hot"
    return out


@dataclass(frozen=True)
class LeadScorer:
    """Scores and explains feature rows. ``spec`` fixes columns, dtypes and categories."""

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

    # --- prediction -------------------------------------------------------
    def model_matrix(self, features: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Feature rows → the model's matrix (training categories), plus unseen-category counts."""
        return self.spec.apply(features)

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the target within the horizon."""
        X, _ = self.model_matrix(features)
        return self.calibration.probability(raw_scores(self.booster, X))

    def explain(self, features: pd.DataFrame, *, chunk_size: int = 100_000) -> Explanation:
        """Probabilities, points, feature/group/family points for every row."""
        X, _ = self.model_matrix(features)
        return explain_rows(
            self.booster,
            X,
            calibration=self.calibration,
            scale=self.scale,
            catalogue=self.catalogue,
            chunk_size=chunk_size,
        )

    def score_frame(
        self,
        features: pd.DataFrame,
        *,
        top_reasons: int | None = None,
        chunk_size: int = 100_000,
        tiers: TierSpec | None = None,
    ) -> pd.DataFrame:
        """One row per input row: probability, points, tier, mql, sub-scores, reasons.

        Columns may be named as the user wrote them or by their internal names.
        """
        features = self.spec.with_internal_names(features)
        explanation = self.explain(features, chunk_size=chunk_size)
        tiers = tiers or self.tiers
        k = self.top_reasons if top_reasons is None else top_reasons
        reasons, other = format_reasons(explanation, features, self.catalogue, k=k)
        out = pd.DataFrame(
            {
                "probability": explanation.probability,
                "points": explanation.points,
                "tier": assign_tiers(explanation.probability, tiers),
                "mql": explanation.probability >= tiers.mql_probability,
                "base_points": explanation.base_points,
            },
            index=features.index,
        )
        for family in FAMILIES:
            out[f"score_{family}"] = explanation.family_points.get(family, 0.0)
        out["reasons"] = reasons
        out["other_points"] = other
        return out

    # --- persistence (no pickle) -------------------------------------------
    def save(self, folder: str | Path) -> dict[str, Path]:
        """Write the four artifacts; returns their paths by role."""
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
        return paths

    @classmethod
    def load(cls, folder: str | Path | None = None, **paths: str | Path) -> LeadScorer:
        """Load from a folder of artifacts, or from explicit paths by role."""
        from leadml.features.spec import FeatureSpec

        if folder is not None:
            paths = {role: Path(folder) / name for role, name in ARTIFACT_FILES.items()} | paths
        if "reference" in paths and not Path(paths["reference"]).is_file():
            del paths["reference"]
        missing = [role for role in ARTIFACT_FILES if role not in paths and role != "reference"]
        if missing:
            raise ValueError(f"LeadScorer.load: missing artifacts {missing}")
        meta = json.loads(Path(paths["calibration"]).read_text())
        return cls(
            booster=lgb.Booster(model_file=str(paths["model"])),
            spec=FeatureSpec.from_dict(json.loads(Path(paths["spec"]).read_text())),
            catalogue=FeatureCatalogue.from_dict(json.loads(Path(paths["catalogue"]).read_text())),
            calibration=PlattCalibration.from_dict(meta["platt"]),
            scale=PointsScale.from_dict(meta["points"]),
            tiers=TierSpec.model_validate(meta["tiers"]),
            top_reasons=int(meta.get("top_reasons", 3)),
            name=meta.get("name", "leadml"),
            target=meta.get("target", "sql"),
            horizon_days=int(meta.get("horizon_days", 90)),
            reference=(
                DriftProfile.from_dict(json.loads(Path(paths["reference"]).read_text()))
                if "reference" in paths
                else None
            ),
        )
