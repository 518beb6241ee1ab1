"""Point-in-time features: fit, persona, behaviour, intent and account context, one code path.

:func:`build_features` serves training and scoring alike; :class:`FeatureSpec`
fixes the model's input contract at training; :func:`flat_features` reads
one-row-per-lead exports.
"""

from __future__ import annotations

from leadml.features.build import (
    KEY_COLUMNS,
    build_features,
    event_catalogue,
    included_columns,
)
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo
from leadml.features.flat import flat_catalogue, flat_features, flat_labels
from leadml.features.spec import FeatureColumn, FeatureSpec, SpecError

__all__ = [
    "KEY_COLUMNS",
    "FeatureCatalogue",
    "FeatureColumn",
    "FeatureInfo",
    "FeatureSpec",
    "SpecError",
    "build_features",
    "event_catalogue",
    "flat_catalogue",
    "flat_features",
    "flat_labels",
    "included_columns",
]
