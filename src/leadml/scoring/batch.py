"""``leadml score`` end to end: validate, build scoring snapshots, score, explain, write.

Single process by default; ``scheduler="local"`` or a scheduler address runs
the same per-partition work on Dask.
"""

from __future__ import annotations

import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
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
from leadml.scoring.publish import check_output_folder, output_lock

__all__ = ["CountMismatchError", "WholeTableError", "build_manifest", "run_scoring", "shorten"]


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
    _stop_on_whole_table_failures(report, n_leads=int(report.row_counts.get("leads", 0)))
    tables = tables.without_leads(rejects["lead_id"].tolist())
    open_ids = scoring_snapshots(
        tables.leads, tables.outcomes, as_of=as_of, closed_stages=config.dataset.closed_stages
    )["lead_id"]
    return tables, rejects, open_ids, report


class WholeTableError(ValueError):
    """A failure of a whole table (empty, or every lead refused by one check): nothing is written."""


def _stop_on_whole_table_failures(report: Any, *, n_leads: int) -> None:
    """Raise when the leads table is empty or one check refuses every lead: a wrong column or
    format, not bad rows (the validation policy: reject rows, stop on table-level errors)."""
    if n_leads == 0:
        raise WholeTableError(
            "leads: the table has no rows: check --data and tables.leads in the dataset config; "
            "nothing was written"
        )
    for issue in report.errors:
        if issue.lead_ids and len(set(issue.lead_ids)) >= n_leads:
            raise WholeTableError(
                f"{issue.table}.{issue.column}: every one of the {n_leads:,} leads fails "
                f"({shorten(issue.message, 240)}); the column's format or mapping is wrong, not "
                "some rows: fix it in the data or the dataset config; nothing was written"
            )


def shorten(text: Any, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def build_manifest(
    *,
    as_of: pd.Timestamp,
    scored_at: pd.Timestamp,
    scorer: Any,
    models: dict[str, dict[str, Any]],
    scores: pd.DataFrame,
    rejects: pd.DataFrame,
    n_in: int,
    unseen: dict[str, Any],
    drift: dict[str, Any] | None,
    scheduler: str,
    mode: str,
    started: float,
    dormant: int = 0,
) -> dict[str, Any]:
    """The run's manifest, the same for event and flat mode (files are added when published)."""
    return {
        "as_of": str(as_of),
        "scored_at": str(scored_at),
        "mode": mode,
        "models": models,
        "target": scorer.target,
        "horizon_days": scorer.horizon_days,
        "tier_thresholds": {
            "hot": scorer.tiers.hot,
            "warm": scorer.tiers.warm,
            "hot_top_n": scorer.tiers.hot_top_n,
            "hot_top_pct": scorer.tiers.hot_top_pct,
            "dormant_days": scorer.tiers.dormant_days,
        },
        "points_scale": scorer.scale.to_dict(),
        "counts": {"in": n_in, "scored": int(len(scores)), "rejected": int(len(rejects))},
        "tiers": tier_counts(scores),
        "dormant": dormant,
        "mql": int(scores["mql"].sum()),
        "expected_conversions": float(scores["probability"].sum()),
        "unseen_categories": unseen,
        "drift": drift,
        "scheduler": scheduler,
        "duration_seconds": round(time.perf_counter() - started, 3),
    }


def _models(
    model_uri: str, meta: dict, also_uri: str | None, also_meta: dict | None
) -> dict[str, dict[str, Any]]:
    out = {"main": {"uri": model_uri, **meta}}
    if also_uri is not None and also_meta is not None:
        out["also"] = {"uri": also_uri, **also_meta}
    return out


def concat_rejects(parts: list[pd.DataFrame], *, like: pd.Series) -> pd.DataFrame:
    """Rejects of every step, sorted by lead; ``lead_id`` keeps the leads' dtype.

    Empty parts are left out: concatenated, an empty float column would turn int64 ids
    above 2**53 into floats that no longer equal the leads'.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(
            {"lead_id": like.iloc[:0].to_numpy(), "reason": np.array([], dtype=object)}
        )
    rejects = pd.concat(parts, ignore_index=True)
    if rejects["lead_id"].dtype != like.dtype and like.dtype.kind in "iu":
        rejects["lead_id"] = rejects["lead_id"].astype(like.dtype)
    return rejects.sort_values("lead_id", kind="stable", ignore_index=True)


@dataclass(frozen=True)
class _Job:
    """One ``leadml score`` call: what every step of the run reads, named once."""

    config: RunConfig
    model_uri: str
    also_uri: str | None
    as_of: pd.Timestamp
    out_dir: str | Path
    fmt: Literal["parquet", "csv", "both"]
    top_reasons: int | None
    chunk_size: int
    scheduler: str | None
    tolerance: int
    tracking_uri: str | None
    log_to_mlflow: bool
    progress: bool
    started: float


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
    started = time.perf_counter()
    data = data_location(data)
    if is_database(out_dir):
        lock: Any = nullcontext()
    else:
        out_dir = check_output_folder(out_dir)
        lock = output_lock(out_dir)
    with lock:
        return _run_scoring(
            data,
            _Job(
                config=config,
                model_uri=model_uri,
                also_uri=also_uri,
                as_of=as_of,
                out_dir=out_dir,
                fmt=fmt,
                top_reasons=top_reasons,
                chunk_size=chunk_size,
                scheduler=scheduler,
                tolerance=tolerance,
                tracking_uri=tracking_uri,
                log_to_mlflow=log_to_mlflow,
                progress=progress,
                started=started,
            ),
        )


def _run_scoring(data: str | Path, job: _Job) -> dict[str, Any]:
    from leadml.tracking import load_scorer

    scorer, meta = load_scorer(job.model_uri, uri=job.tracking_uri)
    also, also_meta = (
        (None, None) if job.also_uri is None else load_scorer(job.also_uri, uri=job.tracking_uri)
    )
    dataset = dataset_for(job.config)
    score = _score_flat_export if dataset.scores_every_row else _score_event_tables
    scored = score(data, job, scorer=scorer, meta=meta, also=also, also_meta=also_meta)
    return _publish_run(
        job, scored, mode=dataset.name, scorer=scorer, meta=meta, also_meta=also_meta
    )


@dataclass(frozen=True)
class _Scored:
    """What a mode's scoring hands to :func:`_publish_run`."""

    scores: pd.DataFrame
    rejects: pd.DataFrame
    n_in: int
    unseen: dict[str, Any]
    drift: dict[str, Any] | None
    scheduler: str
    dormant: int = 0


def _score_event_tables(
    data: str | Path, job: _Job, *, scorer: Any, meta: dict, also: Any, also_meta: dict | None
) -> _Scored:
    """Event mode: the open leads at ``as_of``, single-process or on Dask partitions."""
    as_of = job.as_of
    say(f"reading and validating the tables in {redact(str(data))} …")
    tables, rejects, open_ids, report = _load_event_inputs(data, job.config, as_of)
    n_in = int(len(open_ids)) + int(len(rejects))
    say(
        f"{len(open_ids):,} open leads as of {as_of:%Y-%m-%d} ({len(rejects):,} rejected by "
        f"validation); building features and scoring …"
    )
    options = dict(
        model_meta=meta,
        also_meta=also_meta,
        top_reasons=job.top_reasons,
        chunk_size=job.chunk_size,
        tolerance=job.tolerance,
    )
    if job.scheduler:
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
                job.config,
                scorer_dir=scorer_dir,
                also_dir=also_dir,
                as_of=as_of,
                scheduler=job.scheduler,
                options=options,
            )
    else:
        advance, close = counter(len(open_ids), label="scoring") if job.progress else _silent()
        try:
            results = [
                score_open_leads(
                    tables, job.config, scorer, also=also, as_of=as_of, progress=advance, **options
                )
            ]
        finally:
            close()
    scores = pd.concat([r[0] for r in results], ignore_index=True).sort_values(
        "lead_id", kind="stable", ignore_index=True
    )
    dormant = scores["dormant"].to_numpy(bool) if "dormant" in scores else None
    scores["tier"] = assign_tiers(
        scores["probability"].to_numpy(),
        scorer.tiers,
        eligible=None if dormant is None else ~dormant,
    )
    rejects = concat_rejects([rejects, *[r[1] for r in results]], like=pd.Series(open_ids))
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
    n_dormant = 0 if dormant is None else int(dormant.sum())
    return _Scored(
        scores, rejects, n_in, unseen, drift, job.scheduler or "single-process", n_dormant
    )


def _silent():
    return (lambda n: None), (lambda: None)


def _score_flat_export(
    data: str | Path, job: _Job, *, scorer: Any, meta: dict, also: Any, also_meta: dict | None
) -> _Scored:
    """Flat mode: every row of the export is a lead to score (the label column may be absent)."""
    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.scoring.open_leads import reject_unseen_categories, score_features

    scoring_set = build_scoring_set(job.config, data, as_of=job.as_of, spec=scorer.spec)
    features = scoring_set.frame
    n_in = len(features)
    if n_in == 0:
        raise WholeTableError(
            f"{redact(str(data))}: the flat export has no rows: check --data and the dataset "
            "config's file; nothing was written"
        )
    kept, rejects, unseen = reject_unseen_categories(features, scorer, tolerance=job.tolerance)
    scores = score_features(
        kept,
        scorer,
        as_of=job.as_of,
        also=also,
        model_meta=meta,
        also_meta=also_meta,
        top_reasons=job.top_reasons,
        chunk_size=job.chunk_size,
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
    if job.scheduler:
        _eprint(
            f"warning: --scheduler {job.scheduler}: a flat export is scored in this process "
            "(its rows are already features; Dask partitions the event tables only)"
        )
    return _Scored(scores, rejects, n_in, unseen, drift, scheduler="single-process")


def _publish_run(
    job: _Job, scored: _Scored, *, mode: str, scorer: Any, meta: dict, also_meta: dict | None
) -> dict[str, Any]:
    """Stamp the scores, build the manifest, publish, warn of drift and log the run."""
    from leadml.tracking import log_scoring_run

    scores = scored.scores
    scored_at = utc_now()
    scores["scored_at"] = scored_at
    manifest = build_manifest(
        as_of=job.as_of,
        scored_at=scored_at,
        scorer=scorer,
        models=_models(job.model_uri, meta, job.also_uri, also_meta),
        scores=scores,
        rejects=scored.rejects,
        n_in=scored.n_in,
        unseen=scored.unseen,
        drift=scored.drift,
        dormant=scored.dormant,
        scheduler=scored.scheduler,
        mode=mode,
        started=job.started,
    )
    say(
        f"writing {len(scores):,} scores and {len(scored.rejects):,} rejects to "
        f"{redact(str(job.out_dir))} …"
    )
    # a folder of files (each atomic, then ``_SUCCESS``), or database tables in one transaction
    if is_database(job.out_dir):
        from leadml.scoring.scores_table import publish_to_database

        manifest = publish_to_database(
            str(job.out_dir), scores=scores, rejects=scored.rejects, manifest=manifest
        )
    else:
        manifest = write_outputs(
            job.out_dir, scores=scores, rejects=scored.rejects, manifest=manifest, fmt=job.fmt
        )
    for line in drift_warnings(scored.drift):
        _eprint(f"warning: {line}")
    if job.log_to_mlflow:
        log_scoring_run(
            model_name=meta.get("name", scorer.name),
            model_version=str(meta.get("version", "")),
            manifest=manifest,
            uri=job.tracking_uri,
        )
    return manifest
