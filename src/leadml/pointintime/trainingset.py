"""Point-in-time training sets and scoring sets, in event mode and flat mode alike.

``build_training_set(config, data)``: snapshots (event mode) or rows (flat
mode) -> labels (censored windows dropped) -> out-of-time split with purge
gaps -> features (only data before each as_of) -> feature spec fitted on the
train part -> one frame ``lead_id, as_of, split, label, <features>``.

Below ``config.small_data.max_rows`` labelled snapshots the split has only a
train and a test part (``fit_mode`` "crossfit": early stopping and Platt are
cross-fitted inside train); otherwise train | valid | calib | test ("holdout").
With ``config.refit.enabled`` the rows purged between parts keep their
features too (``purged_rows``): the production refit and the backtest learn
from every labelled snapshot (``labelled()``).

``build_scoring_set(config, data, as_of=..., spec=...)``: the open leads at
``as_of`` through the very same feature code, then ``spec.apply``. The
features of a lead scored at ``t`` equal its training row at ``t``.

``data`` is a folder of tables (event mode) or a file (flat mode); event
tables can be passed already loaded with ``tables=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import EventDataset, FlatDataset, RunConfig
from leadml.data.io import Tables, flat_values, read_flat
from leadml.data.schema import load_tables, validate_flat
from leadml.data.timestamps import naive_utc
from leadml.features.build import build_features, event_catalogue, included_columns
from leadml.features.catalogue import FeatureCatalogue
from leadml.features.flat import flat_catalogue, flat_features, flat_labels
from leadml.features.spec import FeatureSpec
from leadml.modeling.drift import REFERENCE_ROWS
from leadml.pointintime.labels import data_end_of, label_snapshots
from leadml.pointintime.snapshots import scoring_snapshots, training_snapshots
from leadml.pointintime.split import PARTS, PURGED, split_by_order, split_summary

__all__ = [
    "ScoringSet",
    "TrainingSet",
    "build_scoring_set",
    "build_training_set",
    "load_event_tables",
    "purge_gap",
    "split_fractions",
]


@dataclass(frozen=True)
class TrainingSet:
    """One row per kept snapshot: keys, split, label, then the model matrix in spec order."""

    frame: pd.DataFrame
    spec: FeatureSpec
    catalogue: FeatureCatalogue
    summary: dict[str, Any] = field(default_factory=dict)
    # The model matrix of (a sample of) the leads open at the end of the data: the
    # population a scoring run sees, hence the drift reference (event mode; None in flat mode).
    reference: pd.DataFrame | None = field(default=None, repr=False)
    # Labelled snapshots that fell in a purge gap of the split: same columns as ``frame``
    # (split "purged"); kept for the refit and the backtest (None when not kept).
    purged_rows: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def fit_mode(self) -> str:
        """``"holdout"`` (valid and calib parts) or ``"crossfit"`` (small data: train and test only)."""
        return str(self.summary.get("fit_mode", "holdout"))

    def labelled(self) -> pd.DataFrame:
        """Every labelled snapshot in time order (then lead): the parts and the purged rows,
        ``split`` a categorical over the parts and ``"purged"``."""
        frames = [self.frame]
        if self.purged_rows is not None and len(self.purged_rows):
            frames.append(self.purged_rows)
        categories = [*PARTS, PURGED]
        frames = [f.assign(split=pd.Categorical(f["split"].astype(str), categories=categories))
                  for f in frames]  # fmt: skip
        rows = pd.concat(frames, ignore_index=True)
        return rows.iloc[_by_time_then_lead(rows)].reset_index(drop=True)

    def part(self, name: str) -> tuple[pd.DataFrame, np.ndarray]:
        """``(X, y)`` of one part: X in spec order (model dtypes), y as int8."""
        if name not in PARTS:
            raise ValueError(f"unknown part {name!r}; expected one of {list(PARTS)}")
        rows = np.flatnonzero((self.frame["split"] == name).to_numpy())
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
            # parts are contiguous in time order: a slice, not a gather of every column
            rows = slice(int(rows[0]), int(rows[-1]) + 1)
        part = self.frame.iloc[rows]
        X = part[list(self.spec.names)].reset_index(drop=True)
        return X, part["label"].to_numpy(dtype=np.int8)


@dataclass(frozen=True)
class ScoringSet:
    """Open leads at ``as_of``: raw features (``frame``), the model matrix (``X``), unseen categories."""

    frame: pd.DataFrame
    X: pd.DataFrame
    unseen: dict[str, dict[str, Any]]
    n_open_leads: int
    as_of: pd.Timestamp


def _utc_naive(as_of: pd.Timestamp | str) -> pd.Timestamp:
    return naive_utc(as_of).as_unit("us")


def load_event_tables(
    data: str | Path, dataset: EventDataset, *, as_of: pd.Timestamp | None = None
) -> Tables:
    """Typed, validated tables through :func:`leadml.data.schema.load_tables`.

    With ``as_of`` (scoring), rows dated after it are tolerated: the features
    never read them.
    """
    if as_of is None:
        tables, report = load_tables(data, dataset)
    else:
        tables, report = load_tables(data, dataset, as_of=as_of, future_rows="ignore")
    report.raise_for_errors()
    return tables


def _read_flat(
    data: str | Path | pd.DataFrame, dataset: FlatDataset, *, require_label: bool = True
) -> pd.DataFrame:
    """The flat file as written, checked by :func:`leadml.data.schema.validate_flat`."""
    raw = flat_values(data, dataset) if isinstance(data, pd.DataFrame) else read_flat(data, dataset)
    validate_flat(raw, dataset, require_label=require_label).raise_for_errors()
    return raw


def _flat_gap(config: RunConfig, as_of: pd.Series) -> pd.Timedelta | int:
    # Flat mode: no label horizon to purge by default; split.purge_days counts rows
    # (or days when a time column orders the rows).
    gap = config.split.purge_days or 0
    if pd.api.types.is_datetime64_any_dtype(as_of.dtype):
        return pd.Timedelta(days=gap)
    return int(gap)


def purge_gap(config: RunConfig, as_of: pd.Series) -> pd.Timedelta | int:
    """The gap between training rows and the rows they are judged on: the label horizon
    (or ``split.purge_days``) in event mode; rows or days in flat mode."""
    if config.is_flat:
        return _flat_gap(config, as_of)
    return pd.Timedelta(days=config.purge_days)


def split_fractions(config: RunConfig, n_labelled: int) -> tuple[dict[str, float], str]:
    """The split fractions and the fit mode for ``n_labelled`` labelled snapshots.

    Small data (fewer than ``config.small_data.max_rows``): train | test only, mode
    ``"crossfit"``; else the configured train | valid | calib | test, mode ``"holdout"``.
    """
    split = config.split
    if n_labelled < config.small_data.max_rows:
        return {
            "train": 1.0 - split.test,
            "valid": 0.0,
            "calib": 0.0,
            "test": split.test,
        }, "crossfit"
    fractions = {
        "train": split.train,
        "valid": split.valid,
        "calib": split.calib,
        "test": split.test,
    }
    return fractions, "holdout"


def _divide(
    frame: pd.DataFrame, in_part: np.ndarray, keep_purged: bool
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The rows in a part (split categories: the parts) and, when kept, the purged rows."""
    parts = frame.loc[in_part].reset_index(drop=True)
    parts["split"] = parts["split"].cat.remove_categories(PURGED)
    purged = frame.loc[~in_part].reset_index(drop=True) if keep_purged else None
    return parts, purged


def _stamp(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.integer):
        return int(value)
    return value


def _by_time_then_lead(snapshots: pd.DataFrame) -> np.ndarray:
    """Row order by as_of, then lead_id: the training set never depends on input row order."""
    lead = snapshots["lead_id"].to_numpy()
    if lead.dtype.kind not in "iu":
        lead = pd.factorize(snapshots["lead_id"], sort=True)[0]
    as_of = snapshots["as_of"].to_numpy(dtype="datetime64[us]").view(np.int64)
    return np.lexsort((lead, as_of))


def _parts(frame: pd.DataFrame) -> dict[str, Any]:
    """Per-part sizes, positives, rates and as_of ranges (purged rows are already gone)."""
    parts = split_summary(frame["split"], frame["as_of"], frame["label"])
    parts.pop("purged")
    return parts


def _assemble(
    features: pd.DataFrame,
    label: np.ndarray,
    split: pd.Series,
    catalogue: FeatureCatalogue,
) -> tuple[pd.DataFrame, FeatureSpec, dict[str, Any]]:
    spec = FeatureSpec.from_frame(features, catalogue, fit_rows=(split == "train").to_numpy())
    X, unseen = spec.apply(features)
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "lead_id": features["lead_id"].to_numpy(),
                    "as_of": features["as_of"].to_numpy(),
                    "split": split.array,
                    "label": label.astype(np.int8),
                }
            ),
            X.reset_index(drop=True),
        ],
        axis=1,
    )
    return frame, spec, unseen


def _event_training_set(
    config: RunConfig,
    tables: Tables,
    *,
    data_end: pd.Timestamp | None,
    include: Sequence[str],
) -> TrainingSet:
    dataset = config.dataset
    assert isinstance(dataset, EventDataset)
    end = _utc_naive(data_end) if data_end is not None else data_end_of(tables)
    snapshots = training_snapshots(
        tables.leads,
        tables.outcomes,
        ages_days=config.snapshots.ages_days,
        data_end=end,
        closed_stages=dataset.closed_stages,
    )
    labelled = label_snapshots(
        snapshots,
        tables.outcomes,
        stages=config.target.stages,
        horizon_days=config.target.horizon_days,
        data_end=end,
    )
    kept = labelled.frame
    fractions, fit_mode = split_fractions(config, len(kept))
    split = split_by_order(
        kept["as_of"], fractions=fractions, gap=pd.Timedelta(days=config.purge_days)
    )
    keep_purged = config.refit.enabled
    in_part = (split.assignment != PURGED).to_numpy()
    if keep_purged:
        kept = kept.assign(split=split.assignment)
    else:
        kept = kept.loc[in_part].assign(split=split.assignment[in_part])
    kept = kept.iloc[_by_time_then_lead(kept)].reset_index(drop=True)
    features = build_features(tables, kept[["lead_id", "as_of"]], dataset, include=include)
    catalogue = event_catalogue(dataset).extended(included_columns(tables, include))
    everything, spec, unseen = _assemble(
        features, kept["label"].to_numpy(), kept["split"], catalogue
    )
    frame, purged_rows = _divide(everything, (kept["split"] != PURGED).to_numpy(), keep_purged)
    summary = {
        "mode": "events",
        "target": config.target.name,
        "target_stages": list(config.target.stages),
        "horizon_days": config.target.horizon_days,
        "purge_days": config.purge_days,
        "ages_days": list(config.snapshots.ages_days),
        "data_end": end.isoformat(),
        "n_leads": int(len(tables.leads)),
        "n_snapshots": int(len(snapshots)),
        "censored": labelled.censored,
        "purged": split.purged,
        "n_rows": int(len(frame)),
        "positives": int(frame["label"].sum()),
        "n_features": len(spec),
        "n_labelled": int(len(kept)) if keep_purged else int(len(frame)) + split.purged,
        "fit_mode": fit_mode,
        "unseen_categories_after_train": unseen,
    }
    summary |= _parts(frame)
    reference = _open_leads_at_end(config, tables, end, spec, include=include)
    summary["drift_reference_rows"] = int(len(reference))
    return TrainingSet(
        frame=frame,
        spec=spec,
        catalogue=catalogue.select(spec.names),
        summary=summary,
        reference=reference,
        purged_rows=purged_rows,
    )


def _open_leads_at_end(
    config: RunConfig,
    tables: Tables,
    end: pd.Timestamp,
    spec: FeatureSpec,
    *,
    include: Sequence[str],
) -> pd.DataFrame:
    """Model matrix of (at most ``REFERENCE_ROWS``, drawn with the run's seed) leads open at ``end``.

    Training snapshots sample leads at fixed ages; a scoring run sees every open lead at
    once, old ones included. Drift is judged against the latter, or every run would warn.
    """
    dataset = config.dataset
    assert isinstance(dataset, EventDataset)
    snapshots = scoring_snapshots(
        tables.leads, tables.outcomes, as_of=end, closed_stages=dataset.closed_stages
    )
    if len(snapshots) > REFERENCE_ROWS:
        rng = np.random.default_rng(config.seed)
        rows = np.sort(rng.choice(len(snapshots), REFERENCE_ROWS, replace=False))
        snapshots = snapshots.iloc[rows].reset_index(drop=True)
    X, _ = spec.apply(build_features(tables, snapshots, dataset, include=include))
    return X


def _flat_training_set(
    config: RunConfig, data: str | Path | pd.DataFrame, *, include: Sequence[str]
) -> TrainingSet:
    dataset = config.dataset
    assert isinstance(dataset, FlatDataset)
    raw = _read_flat(data, dataset)
    features = flat_features(raw, dataset, include=include)
    label = flat_labels(raw, dataset)
    order = features["as_of"]
    fractions, fit_mode = split_fractions(config, len(features))
    split = split_by_order(order, fractions=fractions, gap=_flat_gap(config, order))
    keep_purged = config.refit.enabled
    in_part = (split.assignment != PURGED).to_numpy()
    if not keep_purged:
        features, label = features.loc[in_part].reset_index(drop=True), label[in_part]
    assignment = split.assignment[in_part if not keep_purged else slice(None)]
    catalogue = flat_catalogue(dataset, include=include)
    everything, spec, unseen = _assemble(
        features, label, assignment.reset_index(drop=True), catalogue
    )
    frame, purged_rows = _divide(
        everything, (everything["split"] != PURGED).to_numpy(), keep_purged
    )
    summary = {
        "mode": "flat",
        "target": config.target.name,
        "order": dataset.time or "row order",
        "n_rows_in": int(len(raw)),
        "n_snapshots": int(len(raw)),
        "censored": 0,
        "purged": split.purged,
        "n_rows": int(len(frame)),
        "positives": int(frame["label"].sum()),
        "n_features": len(spec),
        "excluded": list(dataset.exclude),
        "included": list(include),
        "data_end": _stamp(order.max()) if len(order) else None,
        "n_labelled": int(len(order)),
        "fit_mode": fit_mode,
        "unseen_categories_after_train": unseen,
    }
    summary |= _parts(frame)
    return TrainingSet(
        frame=frame,
        spec=spec,
        catalogue=catalogue.select(spec.names),
        summary=summary,
        purged_rows=purged_rows,
    )


def build_training_set(
    config: RunConfig,
    data: str | Path | pd.DataFrame | None,
    *,
    tables: Tables | None = None,
    data_end: pd.Timestamp | None = None,
    include: Sequence[str] = (),
) -> TrainingSet:
    """The point-in-time training set of a run config.

    Snapshots (lead, as_of) at the configured ages while each lead is open,
    labels in ``[as_of, as_of + horizon)`` (censored windows dropped), an
    out-of-time split with purge gaps, features from data strictly before
    each ``as_of``, and the feature spec fitted on the train part.

    Parameters
    ----------
    config : RunConfig
        From :func:`leadml.load_config`.
    data : str, Path or pandas.DataFrame
        A folder of tables (event mode; or pass ``tables``), or a flat file
        (or an already-read flat frame).
    tables : Tables, optional
        Event tables already read (e.g. by :func:`leadml.read_data`).
    data_end : pandas.Timestamp, optional
        The end of the data (default: the latest timestamp in any table).
    include : sequence of str, default=()
        Re-admits columns by name -- excluded flat columns, or extra leads /
        accounts columns in event mode -- for the leakage audit only.

    Returns
    -------
    TrainingSet
        ``frame`` (``lead_id, as_of, split, label`` then the model matrix),
        ``spec``, ``catalogue`` and ``summary`` (sizes and dates per part);
        ``part("test")`` gives ``(X, y)``.
    """
    if config.is_flat:
        if data is None:
            raise ValueError("flat mode: give the flat file (data=...)")
        return _flat_training_set(config, data, include=include)
    if tables is None:
        if data is None:
            raise ValueError(
                "event mode: give the data folder (data=...) or the tables (tables=...)"
            )
        tables = load_event_tables(data, config.dataset)  # type: ignore[arg-type]
    return _event_training_set(config, tables, data_end=data_end, include=include)


def build_scoring_set(
    config: RunConfig,
    data: str | Path | pd.DataFrame | None,
    *,
    as_of: pd.Timestamp | str,
    spec: FeatureSpec,
    tables: Tables | None = None,
) -> ScoringSet:
    """Features of every open lead at ``as_of`` (event mode) or of every row (flat mode), and the model matrix.

    ``frame`` holds ``lead_id, as_of`` and the raw features; ``X`` is
    ``spec.apply(frame)``; ``unseen`` counts categories never seen in training.
    """
    when = _utc_naive(as_of)
    if config.is_flat:
        dataset = config.dataset
        assert isinstance(dataset, FlatDataset)
        if data is None:
            raise ValueError("flat mode: give the flat file (data=...)")
        raw = _read_flat(data, dataset, require_label=False)
        # a file to score needs no time column: every row is scored as of `as_of`
        untimed = dataset.model_copy(update={"time": None})
        frame = flat_features(raw, untimed).assign(as_of=when)
        n_open = len(frame)
    else:
        dataset = config.dataset
        assert isinstance(dataset, EventDataset)
        if tables is None:
            if data is None:
                raise ValueError(
                    "event mode: give the data folder (data=...) or the tables (tables=...)"
                )
            tables = load_event_tables(data, dataset, as_of=when)
        snapshots = scoring_snapshots(
            tables.leads, tables.outcomes, as_of=when, closed_stages=dataset.closed_stages
        )
        frame = build_features(tables, snapshots, dataset)
        n_open = len(snapshots)
    X, unseen = spec.apply(frame)
    return ScoringSet(frame=frame, X=X, unseen=unseen, n_open_leads=n_open, as_of=when)
