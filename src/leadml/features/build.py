"""One code path from tables and snapshots to a feature frame, for training and scoring alike.

``build_features(tables, snapshots, dataset)`` takes any (lead_id, as_of)
pairs -- several per lead for training, one per open lead for scoring, any
mix of as_of values -- and returns one row per snapshot, in the same order,
with the features of :func:`event_catalogue`. Only rows with
a timestamp strictly before the snapshot's ``as_of`` are read; static
attributes (fit, persona, source) are the tables' current values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from leadml.config import EventDataset
from leadml.data.io import Tables
from leadml.features._kernels import (
    as_category,
    codes_for,
    take_category,
    timestamps_us,
    vocab_codes,
)
from leadml.features.account import account_catalogue, account_columns
from leadml.features.behaviour import (
    behaviour_catalogue,
    behaviour_columns,
    events_by_lead,
    source_feature,
)
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo
from leadml.features.column_names import safe_names
from leadml.features.fit import fit_catalogue, fit_columns
from leadml.features.intent import intent_catalogue, intent_columns
from leadml.features.persona import persona_catalogue, persona_columns
from leadml.vocabulary import GROUP_LABELS, readable

__all__ = [
    "KEY_COLUMNS",
    "build_features",
    "event_catalogue",
    "included_columns",
]

KEY_COLUMNS: tuple[str, ...] = ("lead_id", "as_of")
_NAT = np.iinfo(np.int64).min
# Up to this many snapshots (a served lead) the output frame is built from single columns in
# one step: concatenating the modules' frames and reordering them costs ~3 ms whatever the size.
FEW_ROWS = 1024


# Catalogues by the dataset config they were built from (JSON): a served model builds the
# features of every request with the same config.
_CATALOGUES: dict[str, FeatureCatalogue] = {}
_CATALOGUES_KEPT = 8


def event_catalogue(dataset: EventDataset) -> FeatureCatalogue:
    """Every feature :func:`build_features` computes, in output order: the entries each
    family module declares (fit, persona, behaviour, intent, account), groups labelled
    from :data:`leadml.vocabulary.GROUP_LABELS`."""
    key = dataset.model_dump_json()
    catalogue = _CATALOGUES.get(key)
    if catalogue is None:
        if len(_CATALOGUES) >= _CATALOGUES_KEPT:
            _CATALOGUES.clear()
        catalogue = _CATALOGUES[key] = _event_catalogue(dataset)
    return catalogue


def _event_catalogue(dataset: EventDataset) -> FeatureCatalogue:
    parts = (
        fit_catalogue(dataset),
        persona_catalogue(dataset),
        behaviour_catalogue(dataset),
        intent_catalogue(dataset),
        account_catalogue(),
    )
    catalogue = FeatureCatalogue.concat(parts, mode="events")
    labels = {g: GROUP_LABELS.get(g, readable(g)) for g in catalogue.groups}
    return replace(catalogue, group_label=labels)


def _examples(values: pd.Series | np.ndarray, k: int = 5) -> list:
    return pd.Series(values).drop_duplicates().head(k).tolist()


def _refuse(bad: np.ndarray | pd.Series, ids: pd.Series, problem: str) -> None:
    """Raise when any row is ``bad``: ``problem`` (``{n}``: how many) and a few of their ``ids``."""
    if bad.any():
        raise ValueError(f"{problem.format(n=int(bad.sum()))}, e.g. {_examples(ids[bad])}")


def _require(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{table}: missing required columns {missing}; found {list(frame.columns)}"
        )


def _snapshot_arrays(snapshots: pd.DataFrame, leads: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    _require(snapshots, "snapshots", KEY_COLUMNS)
    snap_lead = codes_for(snapshots["lead_id"], leads["lead_id"])
    _refuse(
        snap_lead < 0,
        snapshots["lead_id"],
        "snapshots: {n} lead_id values are not in the leads table",
    )
    snap_asof = timestamps_us(snapshots["as_of"], what="snapshots.as_of")
    if (snap_asof == _NAT).any():
        raise ValueError(f"snapshots: {int((snap_asof == _NAT).sum())} rows have no as_of")
    return snap_lead, snap_asof


def included_columns(tables: Tables, include: Sequence[str]) -> list[FeatureInfo]:
    """Catalogue entries for extra leads/accounts columns re-admitted by name (for the audit)."""
    entries = []
    internal = safe_names(list(include))
    for name in include:
        if name in KEY_COLUMNS or name in ("account_id", "created_at"):
            raise ValueError(f"cannot include {name!r}: it is a key, not a candidate feature")
        frame = tables.leads if name in tables.leads.columns else tables.accounts
        if name not in frame.columns:
            raise ValueError(
                f"cannot include {name!r}: not a column of leads {list(tables.leads.columns)} "
                f"or accounts {list(tables.accounts.columns)}"
            )
        numeric = pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(
            frame[name]
        )
        entries.append(
            FeatureInfo(
                name=internal[name],
                family="fit",
                group=internal[name],
                kind="numeric" if numeric else "categorical",
                description=f"Raw column {name!r} re-admitted for the leakage audit",
                source=name if internal[name] != name else None,
            )
        )
    return entries


def build_features(
    tables: Tables,
    snapshots: pd.DataFrame,
    dataset: EventDataset,
    *,
    include: Sequence[str] = (),
) -> pd.DataFrame:
    """Features of every snapshot: ``lead_id``, ``as_of``, then the catalogue's features in order.

    Rows follow ``snapshots`` (index reset). ``include`` appends raw columns
    of the leads or accounts table by name (the audit uses it to test a
    suspicious field; the model never does).

    >>> build_features(tables, pd.DataFrame({"lead_id": [7], "as_of": [pd.Timestamp("2025-01-01")]}), dataset)
    """
    leads, accounts, events, intent = tables.leads, tables.accounts, tables.events, tables.intent
    _require(leads, "leads", ("lead_id", "account_id", "created_at"))
    _require(accounts, "accounts", ("account_id",))
    _require(events, "events", ("lead_id", "ts", "event_type"))
    _require(intent, "intent", ("account_id", "ts", "signal_type"))
    _refuse(
        leads["lead_id"].duplicated(),
        leads["lead_id"],
        "leads: lead_id must be unique; {n} duplicates",
    )
    created_us = timestamps_us(leads["created_at"], what="leads.created_at")
    _refuse(created_us == _NAT, leads["lead_id"], "leads: created_at is missing for {n} leads")
    snap_lead, snap_asof = _snapshot_arrays(snapshots, leads)
    lead_account = codes_for(leads["account_id"], accounts["account_id"])
    snap_account = lead_account[snap_lead]

    ev_lead = (
        codes_for(events["lead_id"], leads["lead_id"]) if len(events) else np.empty(0, np.int64)
    )
    ev_ts = timestamps_us(events["ts"], what="events.ts") if len(events) else np.empty(0, np.int64)
    ev_type = vocab_codes(events["event_type"], dataset.vocabularies.event_types)
    by_lead = events_by_lead(ev_lead, ev_ts, ev_type, len(leads))

    del ev_lead, ev_ts, ev_type
    behaviour = behaviour_columns(
        by_lead, snap_lead=snap_lead, snap_asof=snap_asof, created_us=created_us, dataset=dataset
    )
    account = account_columns(
        by_lead,
        lead_account=lead_account,
        created_us=created_us,
        n_accounts=len(accounts),
        snap_lead=snap_lead,
        snap_asof=snap_asof,
    )
    del by_lead
    signals = intent_columns(
        intent,
        account_ids=accounts["account_id"],
        snap_account=snap_account,
        snap_asof=snap_asof,
        dataset=dataset,
    )

    static: dict[str, object] = {
        "lead_id": snapshots["lead_id"].to_numpy(),
        "as_of": snap_asof.view("datetime64[us]"),
    }
    for per_lead in (fit_columns(leads, accounts, dataset), persona_columns(leads, dataset)):
        for name, values in per_lead.items():
            if isinstance(values, pd.Categorical):
                static[name] = take_category(values, snap_lead)
            else:
                static[name] = values[snap_lead]
    static["source"] = take_category(source_feature(leads), snap_lead)
    for entry in included_columns(tables, include):
        frame = tables.leads if entry.column in leads.columns else tables.accounts
        rows = snap_lead if frame is leads else snap_account
        raw = frame[entry.column]
        if entry.kind == "numeric":
            values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            static[entry.name] = np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan)
        else:
            static[entry.name] = take_category(as_category(raw, len(frame)), rows)

    names = event_catalogue(dataset).names + tuple(
        e.name for e in included_columns(tables, include)
    )
    if len(snap_lead) <= FEW_ROWS:
        columns = static | dict(behaviour.items()) | dict(signals.items()) | dict(account.items())
        return pd.DataFrame({name: columns[name] for name in ("lead_id", "as_of", *names)})
    # concat and column selection share the kernels' arrays: no copy of the big blocks
    out = pd.concat(
        [pd.DataFrame(static), behaviour.frame(), signals.frame(), account.frame()], axis=1
    )
    return out[["lead_id", "as_of", *names]]
