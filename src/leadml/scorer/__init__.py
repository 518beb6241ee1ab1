"""Old import path of :class:`leadml.modeling.scorer.LeadScorer`, kept for registered models.

The ``model_code.py`` that MLflow stored with models registered before the
package was laid out by stage imports ``leadml.scorer``; this shim keeps those
models loadable. New code imports :mod:`leadml.modeling.scorer`.
"""

from leadml.modeling.scorer import ARTIFACT_FILES, LeadScorer, assign_tiers

__all__ = ["ARTIFACT_FILES", "LeadScorer", "assign_tiers"]
