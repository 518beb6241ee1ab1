"""leadml: calibrated, point-in-time, explained B2B lead scoring.

The public Python API (everything in ``__all__``; the README's "Python API"
section walks through it)::

    import leadml

    config = leadml.load_config("training/sql.yaml")
    training_set = leadml.build_training_set(config, "demo/data")
    model = leadml.train_model(config, "demo/data", training_set=training_set)
    X_test, y_test = training_set.part("test")
    leadml.evaluate_model(model.scorer, X_test, y_test)["roc_auc"]
    leadml.explain_leads(model.scorer, X_test.head(3))
    leadml.score_leads("demo/data", model.scorer, config=config, as_of="2026-01-01").scores

Names are imported on first use, so ``import leadml`` stays light. (The verbs carry a
noun -- ``train_model``, ``explain_leads`` -- so that they never collide with the
package's stage modules.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "load_config": "leadml.config",
    "RunConfig": "leadml.config",
    "ConfigError": "leadml.config",
    "make_demo_data": "leadml.workflow",
    "read_data": "leadml.workflow",
    "build_training_set": "leadml.pointintime.trainingset",
    "TrainingSet": "leadml.pointintime.trainingset",
    "train_model": "leadml.workflow",
    "TrainedModel": "leadml.modeling.training_run",
    "evaluate_model": "leadml.workflow",
    "explain_leads": "leadml.workflow",
    "explain_features": "leadml.workflow",
    "Explanation": "leadml.explain.explanation",
    "score_leads": "leadml.workflow",
    "ScoredLeads": "leadml.workflow",
    "load_model": "leadml.workflow",
    "LeadScorer": "leadml.modeling.scorer",
    "ModelNotFoundError": "leadml.modeling.scorer",
    "DataValidationError": "leadml.data.schema",
}

__all__ = [
    "ConfigError",
    "DataValidationError",
    "Explanation",
    "LeadScorer",
    "ModelNotFoundError",
    "RunConfig",
    "ScoredLeads",
    "TrainedModel",
    "TrainingSet",
    "__version__",
    "build_training_set",
    "evaluate_model",
    "explain_features",
    "explain_leads",
    "load_config",
    "load_model",
    "make_demo_data",
    "read_data",
    "score_leads",
    "train_model",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from leadml.config import ConfigError, RunConfig, load_config
    from leadml.data.schema import DataValidationError
    from leadml.explain.explanation import Explanation
    from leadml.modeling.scorer import LeadScorer, ModelNotFoundError
    from leadml.modeling.training_run import TrainedModel
    from leadml.pointintime.trainingset import TrainingSet, build_training_set
    from leadml.workflow import (
        ScoredLeads,
        evaluate_model,
        explain_features,
        explain_leads,
        load_model,
        make_demo_data,
        read_data,
        score_leads,
        train_model,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'leadml' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
