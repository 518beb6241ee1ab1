"""``leadml score`` end to end: validate, build scoring snapshots, score, explain, write.

Single process by default; ``scheduler="local"`` or a scheduler address runs
the same per-partition work on Dask.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from leadml.config import RunConfig
from leadml.data.sources import data_location, is_database, redact
from leadml.data.timestamps import utc_now
from leadml.modeling.scorer import assign_tiers
from leadml.pointintime.dataset import dataset_for
from leadml.progress import counter, say
from leadml.scoring.open_leads import (
    drift_warnings,
    score_open_leads,
    tier_counts,
    write_outputs,
)

__all__ = ["CountMismatchError", "run_scoring"]


class CountMismatchError(RuntimeError):
    """Open leads in ≠ scored + rejected: the job refuses to write a partial output."""


def _eprint(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_event_inputs(data: str | Path, config: RunConfig, as_of: pd.Timestamp):
    """Typed tables without the leads that failed validation, plus those leads as rejects."""
    from leadml.data.schema import load_tables
    from leadml.pointintime.snapshots import scoring_snapshots

    tables, report = load_tables(data, config.dataset, as_of=as_of, future_rows="warning")
    fatal = [i for i in report.errors if not i.lead_ids]
    row_level = [i for i in report.errors if i.lead_ids]
    # Orphan rows (events of unknown leads…) lose no lead: they are reported, not fatal.
    fatal = [i for i in fatal if i.check not in {"foreign_key"} or i.table == "leads"]
    if fatal:
        from leadml.data.schema import DataValidationError

        raise DataValidationError(report)
    for issue in report.warnings + [i for i in report.errors if i not in row_level]:
        _eprint(f"warning: {issue.message}")
    rejects = report.rejected_leads()
    bad = set(rejects["lead_id"].tolist())
    if bad:
        keep = ~tables.leads["lead_id"].isin(bad)
        tables = tables.replace(
            leads=tables.leads[keep].reset_index(drop=True),
            events=tables.events[~tables.events["lead_id"].isin(bad)].reset_index(drop=True),
            outcomes=tables.outcomes[~tables.outcomes["lead_id"].isin(bad)].reset_index(drop=True),
        )
    open_ids = scoring_snapshots(
        tables.leads, tables.outcomes, as_of=as_of, closed_stages=config.dataset.closed_stages
    )["lead_id"]
    return tables, rejects, open_ids, report


def _publish(
    out: str | Path,
    *,
    scores: pd.DataFrame,
    rejects: pd.DataFrame,
    manifest: dict[str, Any],
    fmt: Any,
) -> dict[str, Any]:
    """A folder of files (each atomic, then ``_SUCCESS``), or database tables in one transaction."""
    if is_database(out):
        from leadml.scoring.scores_table import publish_to_database

        return publish_to_database(str(out), scores=scores, rejects=rejects, manifest=manifest)
    return write_outputs(out, scores=scores, rejects=rejects, manifest=manifest, fmt=fmt)


def run_scoring(
    data: str | Path,
    *,
    config: RunConfig,
    model_uri: str,
    as_of: pd.Timestamp,
    out_dir: str | Path,
    also_uri: str | None = None,
    fmt: Literal["parquet", "csv", "both"] = "parquet",
    top_reasons: int | None = None,
    chunk_size: int = 100_000,
    scheduler: str | None = None,
    tolerance: int = 1,
    tracking_uri: str | None = None,
    log_to_mlflow: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Score every open lead as of ``as_of`` and write scores, rejects, manifest, ``_SUCCESS``."""
    from leadml.tracking import load_scorer, log_scoring_run

    started = time.perf_counter()
    data = data_location(data)
    scorer, meta = load_scorer(model_uri, uri=tracking_uri)
    also, also_meta = (None, None) if also_uri is None else load_scorer(also_uri, uri=tracking_uri)
    if dataset_for(config).scores_every_row:
        return _run_flat_scoring(
            data,
            config=config,
            scorer=scorer,
            meta=meta,
            also=also,
            also_meta=also_meta,
            as_of=as_of,
            out_dir=out_dir,
            fmt=fmt,
            top_reasons=top_reasons,
            chunk_size=chunk_size,
            tolerance=tolerance,
            tracking_uri=tracking_uri,
            log_to_mlflow=log_to_mlflow,
            model_uri=model_uri,
            started=started,
        )
    say(f"reading and validating the tables in {redact(str(data))} …")
    tables, rejects, open_ids, report = _load_event_inputs(data, config, as_of)
    n_in = int(len(open_ids)) + int(len(rejects))
    say(
        f"{len(open_ids):,} open leads as of {as_of:%Y-%m-%d} ({len(rejects):,} rejected by "
        f"validation); building features and scoring …"
    )
    options = dict(
        model_meta=meta,
        also_meta=also_meta,
        top_reasons=top_reasons,
        chunk_size=chunk_size,
        tolerance=tolerance,
    )
    if scheduler:
        from leadml.scoring.distributed import score_partitions_on_dask

        with tempfile.TemporaryDirectory() as tmp:
            scorer_dir = Path(tmp) / "model"
            scorer.save(scorer_dir)
            also_dir = None
            if also is not None:
                also_dir = Path(tmp) / "also"
                also.save(also_dir)
            results = score_partitions_on_dask(
                tables,
                config,
                scorer_dir=scorer_dir,
                also_dir=also_dir,
                as_of=as_of,
                scheduler=scheduler,
                options=options,
            )
    else:
        advance, close = counter(len(open_ids), label="scoring") if progress else _silent()
        try:
            results = [
                score_open_leads(
                    tables, config, scorer, also=also, as_of=as_of, progress=advance, **options
                )
            ]
        finally:
            close()
    scores = pd.concat([r[0] for r in results], ignore_index=True).sort_values(
        "lead_id", kind="stable", ignore_index=True
    )
    scores["tier"] = assign_tiers(scores["probability"].to_numpy(), scorer.tiers)
    rejects = pd.concat([rejects, *[r[1] for r in results]], ignore_index=True)
    rejects = rejects.sort_values("lead_id", kind="stable", ignore_index=True)
    unseen: dict[str, Any] = {}
    for r in results:
        for column, info in r[2].items():
            unseen.setdefault(column, {"rows": 0, "examples": {}})
            unseen[column]["rows"] += info["rows"]
            unseen[column]["examples"].update(info["examples"])
    drift = None
    if scorer.reference is not None and any(r[3] for r in results):
        summed: dict[str, np.ndarray] = {}
        for r in results:
            for name, counts in r[3].items():
                summed[name] = summed.get(name, 0) + counts
        drift = scorer.reference.compare_counts(summed)

    scored_ids = set(scores["lead_id"].tolist())
    rejected_ids = set(rejects["lead_id"].tolist())
    expected = set(pd.Series(open_ids).tolist()) | set(report.rejected_leads()["lead_id"].tolist())
    if (
        len(scores) + len(rejects) != n_in
        or scored_ids | rejected_ids != expected
        or scored_ids & rejected_ids
    ):
        raise CountMismatchError(
            f"open leads in {n_in:,} ≠ scored {len(scores):,} + rejected {len(rejects):,}; "
            f"missing {sorted(expected - scored_ids - rejected_ids)[:5]}, "
            f"unexpected {sorted((scored_ids | rejected_ids) - expected)[:5]}; nothing was written"
        )
    scored_at = utc_now()
    scores["scored_at"] = scored_at
    tiers = tier_counts(scores)
    manifest = {
        "as_of": str(as_of),
        "scored_at": str(scored_at),
        "models": {
            "main": {"uri": model_uri, **meta},
            **({"also": {"uri": also_uri, **also_meta}} if also else {}),
        },
        "target": scorer.target,
        "horizon_days": scorer.horizon_days,
        "tier_thresholds": {
            "hot": scorer.tiers.hot,
            "warm": scorer.tiers.warm,
            "hot_top_n": scorer.tiers.hot_top_n,
            "hot_top_pct": scorer.tiers.hot_top_pct,
        },
        "points_scale": scorer.scale.to_dict(),
        "counts": {"in": n_in, "scored": int(len(scores)), "rejected": int(len(rejects))},
        "tiers": tiers,
        "mql": int(scores["mql"].sum()),
        "expected_conversions": float(scores["probability"].sum()),
        "unseen_categories": unseen,
        "drift": drift,
        "scheduler": scheduler or "single-process",
        "duration_seconds": round(time.perf_counter() - started, 3),
    }
    say(f"writing {len(scores):,} scores and {len(rejects):,} rejects to {redact(str(out_dir))} …")
    manifest = _publish(out_dir, scores=scores, rejects=rejects, manifest=manifest, fmt=fmt)
    for line in drift_warnings(drift):
        _eprint(f"warning: {line}")
    if log_to_mlflow:
        log_scoring_run(
            model_name=meta.get("name", scorer.name),
            model_version=str(meta.get("version", "")),
            manifest=manifest,
            uri=tracking_uri,
        )
    return manifest


def _silent():
    return (lambda n: None), (lambda: None)


def _run_flat_scoring(
    data: str | Path,
    *,
    config: RunConfig,
    scorer: Any,
    meta: dict,
    also: Any,
    also_meta: dict | None,
    as_of: pd.Timestamp,
    out_dir: str | Path,
    fmt: str,
    top_reasons: int | None,
    chunk_size: int,
    tolerance: int,
    tracking_uri: str | None,
    log_to_mlflow: bool,
    model_uri: str,
    started: float,
) -> dict[str, Any]:
    """Flat mode: every row of the export is a lead to score (the label column may be absent)."""
    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.scoring.open_leads import reject_unseen_categories, score_features
    from leadml.tracking import log_scoring_run

    scoring_set = build_scoring_set(config, data, as_of=as_of, spec=scorer.spec)
    features = scoring_set.frame
    n_in = len(features)
    kept, rejects, unseen = reject_unseen_categories(features, scorer, tolerance=tolerance)
    scores = score_features(
        kept,
        scorer,
        as_of=as_of,
        also=also,
        model_meta=meta,
        also_meta=also_meta,
        top_reasons=top_reasons,
        chunk_size=chunk_size,
    )
    if len(scores) + len(rejects) != n_in:
        raise CountMismatchError(
            f"rows in {n_in:,} ≠ scored {len(scores):,} + rejected {len(rejects):,}"
        )
    drift = None
    if scorer.reference is not None and len(kept):
        X, _ = scorer.model_matrix(kept)
        order = (
            scores.set_index("lead_id").loc[kept["lead_id"].to_numpy(), "probability"].to_numpy()
        )
        drift = scorer.reference.compare(X, order)
    scores["scored_at"] = utc_now()
    manifest = {
        "as_of": str(as_of),
        "mode": "flat",
        "models": {"main": {"uri": model_uri, **meta}},
        "target": scorer.target,
        "counts": {"in": n_in, "scored": int(len(scores)), "rejected": int(len(rejects))},
        "tiers": tier_counts(scores),
        "mql": int(scores["mql"].sum()),
        "expected_conversions": float(scores["probability"].sum()),
        "unseen_categories": unseen,
        "drift": drift,
        "duration_seconds": round(time.perf_counter() - started, 3),
    }
    manifest = _publish(out_dir, scores=scores, rejects=rejects, manifest=manifest, fmt=fmt)
    for line in drift_warnings(drift):
        _eprint(f"warning: {line}")
    if log_to_mlflow:
        log_scoring_run(
            model_name=meta.get("name", scorer.name),
            model_version=str(meta.get("version", "")),
            manifest=manifest,
            uri=tracking_uri,
        )
    return manifest
