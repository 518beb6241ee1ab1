"""MLflow "models from code" definition of the leadml servable model.

MLflow executes this file when it loads the model (``mlflow.pyfunc.load_model``,
``mlflow models serve``); nothing else imports it. The model's state is four
plain artifacts — the LightGBM text model, the feature spec, the calibration
and the reason catalogue — so loading needs no pickle.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class LeadScoringModel(PythonModel):
    """Feature rows in; probability, points, tier, sub-scores and top reasons out."""

    def load_context(self, context: Any) -> None:
        from leadml.modeling.scorer import LeadScorer

        self.scorer = LeadScorer.load(**context.artifacts)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        top = (params or {}).get("top_reasons")
        scores = self.scorer.score_frame(model_input, top_reasons=None if top is None else int(top))
        return scores.reset_index(drop=True)


mlflow.models.set_model(LeadScoringModel())
