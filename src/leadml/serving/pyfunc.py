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

from leadml.config import EventDataset
from leadml.modeling.scorer import LeadScorer, verify_artifacts
from leadml.serving.raw_leads import RawLeadScorer

__all__ = ["LeadScorerModel", "load_artifact_folder"]


def load_artifact_folder(folder: str | Path) -> LeadScorer:
    """The scorer saved in ``folder``, after checking every file against ``checksums.json``."""
    verify_artifacts(folder, required=True)
    return LeadScorer.load(folder)


class LeadScorerModel:
    """Raw leads (or feature rows) in; probability, points, tier, sub-scores and reasons out.

    What ``mlflow.pyfunc.load_model`` wraps: ``predict(model_input, params)`` is
    the REST endpoint's answer. A model saved with its dataset config takes raw
    leads (:mod:`leadml.serving.raw_leads`: lead rows with their events and
    intent, or a mapping of tables; ``params.as_of`` dates them) and answers one
    row per lead, ``reject_reason`` set for a lead it cannot score. Feature rows
    (the only input of models saved before) are scored as they are. A request
    that cannot be read gets a 400 with one line, not a Python stack trace.
    """

    def __init__(self, scorer: LeadScorer) -> None:
        self.scorer = scorer
        self.raw = RawLeadScorer(scorer) if scorer.dataset is not None else None

    def _takes_raw(self, model_input: Any) -> bool:
        """Raw leads: a mapping of tables, flat rows, or rows with the lead's ``created_at``."""
        if isinstance(model_input, dict) or (self.raw is not None and self.raw.flat):
            return True
        dataset = self.scorer.dataset
        created = (
            dataset.tables["leads"].source_column("created_at")
            if isinstance(dataset, EventDataset)
            else "created_at"
        )
        columns = getattr(model_input, "columns", None)
        if columns is None and isinstance(model_input, list) and model_input:
            columns = model_input[0]
        return columns is not None and (created in columns or "created_at" in columns)

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> pd.DataFrame:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        params = params or {}
        top = params.get("top_reasons")
        try:
            top_reasons = None if top is None else int(top)
            if top_reasons is not None and top_reasons < 0:
                raise ValueError(f"params.top_reasons={top!r}: expected 0 or more")
            if self._takes_raw(model_input):
                # a model saved without its dataset config says so (RawLeadScorer raises)
                raw = self.raw or RawLeadScorer(self.scorer)
                return raw.score(
                    model_input, as_of=params.get("as_of") or None, top_reasons=top_reasons
                )
            if not isinstance(model_input, pd.DataFrame):
                model_input = pd.DataFrame(model_input)
            scores = self.scorer.score_frame(model_input, top_reasons=top_reasons)
        except (ValueError, TypeError, KeyError) as exc:
            message = " ".join(str(exc).split())
            raise MlflowException(
                f"leadml cannot score these rows: {type(exc).__name__}: {message[:400]}",
                error_code=INVALID_PARAMETER_VALUE,
            ) from None
        return scores.reset_index(drop=True)


def _load_pyfunc(data_path: str) -> LeadScorerModel:
    """MLflow's entry point (``loader_module``): the scorer in ``data_path``, checked."""
    return LeadScorerModel(load_artifact_folder(data_path))
