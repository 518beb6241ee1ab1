"""Scale-out on Dask: the same per-partition functions as the single-process job.

Leads are partitioned by **account** (a lead's features read its account's
intent signals and the other leads of the account, so an account never spans
two partitions). Each task builds the scoring features of its partition and
scores them with the scorer loaded from its artifact folder — the model
travels as files, never as a pickle. Categories stay fixed by the model's
feature spec, so partitions agree with the single-process run row for row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadml.data.io import Tables

__all__ = ["partition_tables", "score_partitions_on_dask"]

_SCORERS: dict[str, Any] = {}


def partition_tables(tables: Tables, n_partitions: int) -> Iterator[Tables]:
    """Split the tables into ``n_partitions`` parts by a stable hash of the account id.

    Parts are made one at a time, so a caller that ships each away holds one copy at most.
    """
    account_part = pd.Series(
        pd.util.hash_pandas_object(tables.accounts["account_id"], index=False).to_numpy()
        % n_partitions,
        index=tables.accounts["account_id"].to_numpy(),
    )
    lead_part = pd.Series(
        account_part.reindex(tables.leads["account_id"].to_numpy())
        .fillna(-1)
        .to_numpy()
        .astype(int),
        index=tables.leads["lead_id"].to_numpy(),
    )
    # each row's partition, computed once: cutting a partition is then a mask per table
    accounts_of = account_part.to_numpy()
    leads_of = lead_part.to_numpy()
    events_of = (
        lead_part.reindex(tables.events["lead_id"].to_numpy()).fillna(-1).to_numpy(dtype=np.int32)
    )
    outcomes_of = (
        lead_part.reindex(tables.outcomes["lead_id"].to_numpy()).fillna(-1).to_numpy(dtype=np.int32)
    )
    intent_of = (
        account_part.reindex(tables.intent["account_id"].to_numpy())
        .fillna(-1)
        .to_numpy(dtype=np.int32)
    )
    for p in range(n_partitions):
        yield Tables(
            accounts=tables.accounts[accounts_of == p].reset_index(drop=True),
            leads=tables.leads[leads_of == p].reset_index(drop=True),
            events=tables.events[events_of == p].reset_index(drop=True),
            intent=tables.intent[intent_of == p].reset_index(drop=True),
            outcomes=tables.outcomes[outcomes_of == p].reset_index(drop=True),
        )


def _scorer(folder: str) -> Any:
    from leadml.modeling.scorer import LeadScorer

    if folder not in _SCORERS:
        _SCORERS[folder] = LeadScorer.load(folder)
    return _SCORERS[folder]


def _score_partition(
    tables: Tables,
    config: Any,
    scorer_dir: str,
    also_dir: str | None,
    as_of: pd.Timestamp,
    options: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, np.ndarray]]:
    from leadml.scoring.open_leads import score_open_leads

    scorer = _scorer(scorer_dir)
    also = _scorer(also_dir) if also_dir else None
    return score_open_leads(tables, config, scorer, also=also, as_of=as_of, **options)


def score_partitions_on_dask(
    tables: Tables,
    config: Any,
    *,
    scorer_dir: Path,
    also_dir: Path | None,
    as_of: pd.Timestamp,
    scheduler: str,
    options: dict[str, Any],
    n_partitions: int | None = None,
) -> list[tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, np.ndarray]]]:
    """Run the per-partition job on a ``LocalCluster`` (``scheduler="local"``) or at an address."""
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        # Each partition is shipped to a worker as soon as it is cut (scatter blocks until it
        # is there), so the driver holds the tables plus one partition, never all of them.
        futures = []
        for part in partition_tables(tables, n_partitions or 2 * n_workers):
            shipped = client.scatter(part, hash=False)
            futures.append(
                client.submit(
                    _score_partition,
                    shipped,
                    config,
                    str(scorer_dir),
                    None if also_dir is None else str(also_dir),
                    as_of,
                    options,
                    pure=False,
                )
            )
            del part, shipped
        return client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
