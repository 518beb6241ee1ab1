"""Explanations checked against the generator's truth: do the reasons say what really drives
conversion?

Only synthetic data has a truth (``truth.parquet``, ``truth.json``; see
:mod:`leadml.synth.truth`), so only there can a model's explanations be measured rather than
believed. Three figures, over the explained rows of the test part:

* **spearman**: per static driver (source, company size, authority, email status), the rank
  correlation between the lead's true part of logit(p_sql) (``logit_<driver>``, or the log of
  ``factor_<driver>``) and the points of the reason group that tells it. ``spearman_related``
  adds the groups the same truth also moves (bounces and opens of an invalid address, the
  ICP match of a company size), which says whether a shortfall is the driver's effect split
  across several groups rather than lost.
* **sign_agreement**: of the reasons shown about activity in the last 30 days whose driver
  has a known direction in ``truth.json``, the share whose sign agrees with it (as shown,
  and before the declared directions filter anything: ``sign_agreement_unfiltered``).
* **no_effect_max_mean_abs_points**: the largest mean |points| of a group that only tells
  attributes the truth says do nothing (country, industry, blog reading, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from leadml.features.catalogue import FeatureCatalogue
from leadml.vocabulary import event_group, signal_group

__all__ = ["STATIC_DRIVERS", "explanation_fidelity", "fidelity_metrics"]

# truth driver -> (truth column, the group telling it, the groups the same truth also moves)
STATIC_DRIVERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "source": ("logit_source", "source", ()),
    "company_size": ("logit_company_size", "company_size", ("icp_fit", "revenue")),
    "authority": ("logit_authority", "authority", ()),
    "email_status": ("factor_email_status", "email_validity", ("email_bounce", "email_engagement")),
}
# truth.json no-effect attributes -> the groups that tell only them
NO_EFFECT_GROUPS: dict[str, tuple[str, ...]] = {
    "country": ("geography",),
    "industry": ("industry",),
    "blog_view": (event_group("blog_view"),),
    "technology_change": (signal_group("technology_change"),),
    "topic_surge": (signal_group("topic_surge"),),
}
RECENT_DAYS = 30
# drivers whose direction is about a delay, not about doing more (a late first touch)
_DELAY_DRIVERS = frozenset({"speed_to_lead"})


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return None
    ra = pd.Series(a[ok]).rank().to_numpy()
    rb = pd.Series(b[ok]).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def _truth_part(truth: pd.DataFrame, column: str, lead_ids: np.ndarray) -> np.ndarray:
    values = truth[column].reindex(lead_ids).to_numpy(dtype=float)
    return np.log(values) if column.startswith("factor_") else values


def _recent_events(
    driver: Mapping[str, Any], values: pd.DataFrame, catalogue: FeatureCatalogue
) -> dict[str, np.ndarray]:
    """Per model group of the driver's events: did the lead do any of them in the last 30 days?"""
    out: dict[str, np.ndarray] = {}
    for event in driver.get("events", []):
        column = f"n_{event}_{RECENT_DAYS}d"
        if column not in values.columns or column not in catalogue:
            continue
        group = catalogue[column].group
        done = np.nan_to_num(values[column].to_numpy(dtype=float)) > 0
        out[group] = out.get(group, np.zeros(len(values), dtype=bool)) | done
    return out


def explanation_fidelity(
    group_points: pd.DataFrame,
    values: pd.DataFrame,
    lead_ids: Sequence[int] | np.ndarray,
    *,
    truth: pd.DataFrame,
    drivers: Sequence[Mapping[str, Any]],
    catalogue: FeatureCatalogue,
    top_reasons: int,
    dropped: Sequence[str] = (),
) -> dict[str, Any]:
    """The fidelity figures (JSON-ready) of explained rows against the generator's truth.

    ``group_points`` are the rows' points per reason group (columns: the catalogue's groups),
    ``values`` their feature values (internal names), ``lead_ids`` their leads, ``truth`` the
    rows of ``truth.parquet`` and ``drivers`` the ``drivers`` list of ``truth.json``.
    ``dropped``: groups the model was not given (``model.selection``): they get no points
    (0.0 in ``no_effect_mean_abs_points``; a static driver whose group was dropped is None).
    """
    from leadml.explain.explanation import _top_groups

    truth = truth.set_index("lead_id")
    ids = np.asarray(lead_ids)
    groups = list(group_points.columns)
    points = group_points.to_numpy()
    values = values.reset_index(drop=True)

    spearman: dict[str, float | None] = {}
    related: dict[str, float | None] = {}
    for name, (column, group, also) in STATIC_DRIVERS.items():
        if column not in truth.columns or group not in (*groups, *dropped):
            continue
        if group not in groups:
            spearman[name] = related[name] = None
            continue
        part = _truth_part(truth, column, ids)
        spearman[name] = _spearman(part, group_points[group].to_numpy())
        members = [g for g in (group, *also) if g in groups]
        related[name] = _spearman(part, group_points[members].sum(axis=1).to_numpy())

    expected = catalogue.expected_signs(values) if tuple(groups) == catalogue.groups else None
    agreement = {}
    for label, signs in (("shown", expected), ("unfiltered", None)):
        pos, neg = _top_groups(points, top_reasons, signs)
        shown = np.zeros(points.shape, dtype=bool)
        for chosen in (pos, neg):
            rows, slots = np.nonzero(chosen >= 0)
            shown[rows, chosen[rows, slots]] = True
        agree = total = 0
        for driver in drivers:
            if driver.get("direction") not in ("+", "-") or driver["name"] in _DELAY_DRIVERS:
                continue
            way = 1.0 if driver["direction"] == "+" else -1.0
            for group, recent in _recent_events(driver, values, catalogue).items():
                j = groups.index(group)
                told = shown[:, j] & recent
                total += int(told.sum())
                agree += int((np.sign(points[told, j]) == way).sum())
        agreement[label] = {
            "agree": agree,
            "shown": total,
            "share": agree / total if total else None,
        }

    mean_abs = pd.concat([group_points.abs().mean(), pd.Series(0.0, index=list(dropped))])
    groups_told = [*groups, *dropped]
    no_effect = {
        attribute: float(max(mean_abs[g] for g in found))
        for attribute, candidates in NO_EFFECT_GROUPS.items()
        if (found := [g for g in candidates if g in groups_told])
    }
    return {
        "rows": int(len(group_points)),
        "spearman": spearman,
        "spearman_related": related,
        "sign_agreement": agreement["shown"]["share"],
        "sign_agreement_unfiltered": agreement["unfiltered"]["share"],
        "sign_agreement_counts": agreement,
        "no_effect_mean_abs_points": no_effect,
        "no_effect_max_mean_abs_points": max(no_effect.values()) if no_effect else None,
    }


def fidelity_metrics(fidelity: Mapping[str, Any]) -> dict[str, float]:
    """The figures as flat MLflow metrics (``spearman_source``, ``sign_agreement``, ...)."""
    out: dict[str, float] = {}
    for key in ("spearman", "spearman_related"):
        for name, value in fidelity.get(key, {}).items():
            if value is not None:
                out[f"{key}_{name}"] = float(value)
    for key in ("sign_agreement", "sign_agreement_unfiltered", "no_effect_max_mean_abs_points"):
        if fidelity.get(key) is not None:
            out[key] = float(fidelity[key])
    return out
