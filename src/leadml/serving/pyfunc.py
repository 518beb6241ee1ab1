"""The MLflow pyfunc flavour of a leadml model: code from the installed package, data from the store.

A registered model's artifact holds only data: the LightGBM text model, JSON
(feature spec, calibration and points, reason catalogue, drift reference) and
``checksums.json``. Its ``MLmodel`` names this module as the ``loader_module``,
so ``mlflow.pyfunc.load_model`` and ``mlflow models serve`` import it from the
installed leadml and call :func:`_load_pyfunc` with the data folder; nothing in
the store is executed or unpickled, and every file is checked against its
SHA-256 before LightGBM reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from leadml.modeling.scorer import LeadScorer, verify_artifacts

__all__ = ["LeadScorerModel", "load_artifact_folder"]


def load_artifact_folder(folder: str | Path) -> LeadScorer:
    """The scorer saved in ``folder``, after checking every file against ``checksums.json``."""
    verify_artifacts(folder, required=True)
    return LeadScorer.load(folder)


class LeadScorerModel:
    """Feature rows in; probability, points, tier, sub-scores and top reasons out.

    What ``mlflow.pyfunc.load_model`` wraps: ``predict(frame, params)`` is the REST
    endpoint's answer. Rows the model cannot read get a 400 with one line, not a
    Python stack trace.
    """

    def __init__(self, scorer: LeadScorer) -> None:
        self.scorer = scorer

    def predict(
        self, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        top = (params or {}).get("top_reasons")
        try:
            top_reasons = None if top is None else int(top)
            if top_reasons is not None and top_reasons < 0:
                raise ValueError(f"params.top_reasons={top!r}: expected 0 or more")
            if not isinstance(model_input, pd.DataFrame):
                model_input = pd.DataFrame(model_input)
            scores = self.scorer.score_frame(model_input, top_reasons=top_reasons)
        except (ValueError, TypeError, KeyError) as exc:
            raise MlflowException(
                f"leadml cannot score these rows: {type(exc).__name__}: {str(exc)[:300]}",
                error_code=INVALID_PARAMETER_VALUE,
            ) from None
        return scores.reset_index(drop=True)


def _load_pyfunc(data_path: str) -> LeadScorerModel:
    """MLflow's entry point (``loader_module``): the scorer in ``data_path``, checked."""
    return LeadScorerModel(load_artifact_folder(data_path))
