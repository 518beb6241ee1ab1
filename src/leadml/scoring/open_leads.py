"""Scoring open leads: the per-partition unit of work of the batch job, and writing its outputs.

:func:`score_open_leads` builds the features of every lead open at ``as_of``,
rejects rows with too many categories unseen at training, and scores and
explains the rest; :mod:`leadml.scoring.batch` runs it once (or once per Dask
partition) and writes the results with :func:`write_outputs`. Guarantees:
* nothing lost — open leads in = scored + rejected (checked before writing);
* nothing half-written or mixed — a run is written into its own staging folder
  and published as a unit (:mod:`leadml.scoring.publish`);
* reproducible — the same inputs give the same rows (apart from ``scored_at``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from leadml.config import RunConfig, TierSpec
from leadml.data.io import write_frame_atomic
from leadml.modeling.drift import DRIFT_WARNING
from leadml.modeling.scorer import LeadScorer, assign_tiers, dormant_leads
from leadml.pointintime.sets import utc_naive

__all__ = [
    "DERIVED_CATEGORIES",
    "drift_warnings",
    "reject_unseen_categories",
    "score_features",
    "score_open_leads",
    "tier_counts",
    "write_outputs",
]

# Categorical features computed from another one (leadml.features.fit: region of the country).
DERIVED_CATEGORIES = {"region": "country"}


def _no_rejects(lead_ids: pd.Series) -> pd.DataFrame:
    """An empty rejects frame whose ``lead_id`` keeps the leads' dtype (int64 ids stay int64)."""
    return pd.DataFrame({"lead_id": lead_ids.iloc[:0].to_numpy(), "reason": np.array([], object)})


def reject_unseen_categories(
    features: pd.DataFrame,
    scorer: LeadScorer,
    *,
    tolerance: int,
    matrix: tuple[pd.DataFrame, dict[str, Any]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Split rows with more than ``tolerance`` values unseen at training from the rest.

    Unseen means present in the input but outside the categories the feature
    spec fixed at training (the same test ``spec.apply`` uses). Rows within the
    tolerance keep going: their unseen values score as missing and are counted
    in the manifest. ``matrix`` is ``scorer.model_matrix(features)`` when the
    caller already built it.
    """
    features = scorer.spec.with_internal_names(features)
    X, unseen = scorer.model_matrix(features) if matrix is None else matrix
    shown = scorer.spec.display_names
    categorical = [c for c in scorer.spec.categorical if c in features.columns]
    if not categorical:
        return features, _no_rejects(features["lead_id"]), {}
    lost = np.column_stack(
        [features[c].notna().to_numpy() & X[c].isna().to_numpy() for c in categorical]
    )
    # A value derived from another (the region of a country) is one unseen value, not two.
    for derived, source in DERIVED_CATEGORIES.items():
        if derived in categorical and source in categorical:
            d, s = categorical.index(derived), categorical.index(source)
            lost[:, d] &= ~lost[:, s]
    per_row = lost.sum(axis=1)
    rejected = per_row > tolerance
    reasons = []
    for i in np.flatnonzero(rejected):
        values = [
            f"{shown[c]}={features[c].iloc[i]!r}"
            for c, bad in zip(categorical, lost[i], strict=True)
            if bad
        ]
        reasons.append(
            f"{len(values)} categorical values unseen at training (tolerance {tolerance}): "
            + ", ".join(values)
        )
    rejects = pd.DataFrame(
        {"lead_id": features.loc[rejected, "lead_id"].to_numpy(), "reason": reasons}
    )
    details = {
        column: {"rows": int(info["count"]), "examples": {str(v): None for v in info["examples"]}}
        for column, info in unseen.items()
    }
    return (features.loc[~rejected] if rejected.any() else features), rejects, details


def score_features(
    features: pd.DataFrame,
    scorer: LeadScorer,
    *,
    as_of: Any,
    also: LeadScorer | None = None,
    model_meta: dict[str, str],
    also_meta: dict[str, str] | None = None,
    top_reasons: int | None = None,
    chunk_size: int = 100_000,
    tiers: TierSpec | None = None,
    progress: Callable[[int], None] | None = None,
    matrix: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score feature rows (``lead_id`` + model features) in chunks; tiers over the whole batch.

    ``matrix``: the rows' model matrix (same rows, same order) when already built.
    """
    parts = []
    for start in range(0, len(features), chunk_size):
        chunk = features.iloc[start : start + chunk_size]
        scored = scorer.score_frame(
            chunk,
            top_reasons=top_reasons,
            chunk_size=chunk_size,
            tiers=tiers,
            matrix=None if matrix is None else matrix.iloc[start : start + chunk_size],
        )
        if also is not None:
            scored["probability_won"] = also.probability(chunk)
        parts.append(scored)
        if progress is not None:
            progress(len(chunk))
    if len(parts) == 1:
        scored = parts[0]
    elif parts:
        scored = pd.concat(parts)
    else:
        scored = scorer.score_frame(features.iloc[:0])
        if also is not None:
            scored["probability_won"] = np.empty(0)
    tiers = tiers or scorer.tiers
    scored["dormant"] = dormant_leads(scorer.spec.with_internal_names(features), tiers)
    scored["tier"] = assign_tiers(
        scored["probability"].to_numpy(), tiers, eligible=~scored["dormant"].to_numpy()
    )
    # the scored columns move over as they are (their arrays: no round trip of the text
    # columns via numpy), in one frame built at once
    lead_ids = features["lead_id"].to_numpy()
    columns: dict[str, Any] = {
        "lead_id": lead_ids,
        "as_of": pd.Timestamp(as_of) if not isinstance(as_of, int | np.integer) else as_of,
        **{name: scored[name].array for name in scored.columns},
        "model_name": model_meta.get("name", scorer.name),
        "model_version": str(model_meta.get("version", "")),
    }
    if also is not None:
        columns["model_won_name"] = (also_meta or {}).get("name", also.name)
        columns["model_won_version"] = str((also_meta or {}).get("version", ""))
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(lead_ids)))
    # Sorted by lead id: the same inputs give byte-identical rows whatever the partitioning.
    if pd.Index(lead_ids).is_monotonic_increasing:
        return out  # (already in order: a stable sort would give the same rows)
    return out.sort_values("lead_id", kind="stable", ignore_index=True)


def write_outputs(
    out_dir: str | Path,
    *,
    scores: pd.DataFrame,
    rejects: pd.DataFrame,
    manifest: dict[str, Any],
    fmt: Literal["parquet", "csv", "both"] = "parquet",
) -> dict[str, Any]:
    """Publish scores, rejects, the manifest (with each file's SHA-256) and ``_SUCCESS`` as one run.

    The files are written into a staging folder, in that order, and ``out_dir`` is then
    switched to it in one step (:func:`leadml.scoring.publish.publish_folder`). Returns the
    manifest written (with ``files`` and ``run_id``).
    """
    from leadml.scoring.publish import fault_point, publish_folder

    suffixes = {"parquet": [".parquet"], "csv": [".csv"], "both": [".parquet", ".csv"]}[fmt]

    def write_files(staging: Path) -> dict[str, Any]:
        for stem, frame in (("scores", scores), ("rejects", rejects)):
            for suffix in suffixes:
                write_frame_atomic(frame, staging / f"{stem}{suffix}")
            fault_point(f"{stem}_written")
        return manifest

    return publish_folder(out_dir, write_files)


def drift_warnings(drift: dict[str, Any] | None, *, max_features: int = 8) -> list[str]:
    """Human lines for the score and the most drifted features (PSI above the threshold).

    At most ``max_features`` feature lines, largest PSI first; the rest are counted (every
    PSI is in the manifest, under ``drift``).
    """
    if not drift:
        return []
    flagged = sorted(drift.get("flagged", []), key=lambda name: -drift["features"][name])
    lines = [
        f"drift: feature {name!r} PSI {drift['features'][name]:.3f} > {DRIFT_WARNING} vs the reference"
        for name in flagged[:max_features]
    ]
    if len(flagged) > max_features:
        lines.append(
            f"drift: {len(flagged) - max_features} more features above PSI {DRIFT_WARNING} "
            "(all in manifest.json, under drift)"
        )
    if drift.get("score_psi", 0.0) > DRIFT_WARNING:
        lines.insert(
            0,
            f"drift: score PSI {drift['score_psi']:.3f} > {DRIFT_WARNING} vs the reference "
            "(the leads open at the end of the training data): the leads scored no longer look "
            "like them; check the inputs, then consider retraining",
        )
    return lines


def tier_counts(scores: pd.DataFrame) -> dict[str, int]:
    counts = scores["tier"].value_counts()
    return {tier: int(counts.get(tier, 0)) for tier in ("hot", "warm", "cold")}


def score_open_leads(
    tables: Any,
    config: RunConfig,
    scorer: LeadScorer,
    *,
    also: LeadScorer | None,
    as_of: pd.Timestamp,
    model_meta: dict[str, str],
    also_meta: dict[str, str] | None = None,
    top_reasons: int | None = None,
    chunk_size: int = 100_000,
    tolerance: int = 1,
    progress: Callable[[int], None] | None = None,
    tiers: TierSpec | None = None,
    drift: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, np.ndarray]]:
    """Features for every open lead as of ``as_of``, then scores and reasons.

    The per-partition unit of work: the single-process job calls it once, the
    Dask job once per partition, the served model once per request (with its own
    ``tiers`` and no ``drift`` counts). Returns scores, rejects, unseen-category
    details and drift bin counts (which add up across partitions).
    """
    from leadml.pointintime.dataset import dataset_for

    # the features only: the model matrix is built once, by reject_unseen_categories
    features, _ = dataset_for(config).scoring_rows(tables, as_of=utc_naive(as_of))
    matrix = scorer.model_matrix(features)
    kept, rejects, unseen = reject_unseen_categories(
        features, scorer, tolerance=tolerance, matrix=matrix
    )
    kept_matrix = matrix[0] if kept is features else matrix[0].loc[kept.index]
    scores = score_features(
        kept,
        scorer,
        as_of=as_of,
        also=also,
        model_meta=model_meta,
        also_meta=also_meta,
        top_reasons=top_reasons,
        chunk_size=chunk_size,
        tiers=tiers,
        progress=progress,
        matrix=kept_matrix,
    )
    counts: dict[str, np.ndarray] = {}
    if drift and scorer.reference is not None and len(kept):
        probability = (
            scores.set_index("lead_id").loc[kept["lead_id"].to_numpy(), "probability"].to_numpy()
        )
        counts = scorer.reference.counts(kept_matrix, probability)
    return scores, rejects, unseen, counts
