"""Persona: who the person is -- seniority and role decide *Authority*.

Read from the leads table as it stands, one row per lead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.config import EventDataset
from leadml.features._kernels import as_category, both, membership

__all__ = ["persona_features"]


def _flag(cat: pd.Categorical, allowed: tuple[str, ...]) -> np.ndarray:
    # An empty target list in the ICP means "no constraint": every known value matches.
    if not allowed:
        return np.where(np.asarray(cat.codes) >= 0, 1.0, np.nan)
    return membership(cat, allowed)


def persona_features(leads: pd.DataFrame, dataset: EventDataset) -> pd.DataFrame:
    """Persona features per lead (rows aligned with ``leads``)."""
    n = len(leads)
    icp = dataset.icp
    seniority = as_category(leads.get("seniority"), n)
    department = as_category(leads.get("department"), n)
    return pd.DataFrame(
        {
            "seniority": seniority,
            "department": department,
            "decision_maker": _flag(seniority, icp.decision_maker_seniority),
            "persona_match": both(
                _flag(seniority, icp.target_seniority), _flag(department, icp.target_departments)
            ),
            "email_status": as_category(leads.get("email_status"), n),
        },
        index=pd.RangeIndex(n),
    )
