"""Persona: who the person is -- seniority and role decide *Authority*.

Read from the leads table as it stands, one row per lead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.config import EventDataset
from leadml.features._kernels import as_category, both, membership
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo
from leadml.features.columns import Column

__all__ = ["persona_catalogue", "persona_columns"]


def _flag(cat: pd.Categorical, allowed: tuple[str, ...]) -> np.ndarray:
    # An empty target list in the ICP means "no constraint": every known value matches.
    if not allowed:
        return np.where(np.asarray(cat.codes) >= 0, 1.0, np.nan)
    return membership(cat, allowed)


def persona_columns(leads: pd.DataFrame, dataset: EventDataset) -> dict[str, Column]:
    """Persona features per lead (name -> values aligned with ``leads``)."""
    n = len(leads)
    icp = dataset.icp
    seniority = as_category(leads.get("seniority"), n)
    department = as_category(leads.get("department"), n)
    return {
        "seniority": seniority,
        "department": department,
        "decision_maker": _flag(seniority, icp.decision_maker_seniority),
        "persona_match": both(
            _flag(seniority, icp.target_seniority), _flag(department, icp.target_departments)
        ),
        "email_status": as_category(leads.get("email_status"), n),
    }


def persona_catalogue(dataset: EventDataset) -> FeatureCatalogue:
    """The entries of :func:`persona_columns`: who the person is."""
    return FeatureCatalogue(
        entries=(
            FeatureInfo(
                "seniority", "persona", "authority", "categorical", "Seniority of the contact"
            ),
            FeatureInfo(
                "department", "persona", "authority", "categorical", "Department of the contact"
            ),
            FeatureInfo(
                "decision_maker",
                "persona",
                "authority",
                "numeric",
                "1 if the seniority decides (ICP)",
                direction="+",
            ),
            FeatureInfo(
                "persona_match",
                "persona",
                "authority",
                "numeric",
                "1 if both the seniority and the department are ICP targets",
                direction="+",
            ),
            FeatureInfo(
                "email_status",
                "persona",
                "email_validity",
                "categorical",
                "Email verification status",
            ),
        ),
        group_main={"authority": "seniority", "email_validity": "email_status"},
    )
