"""The data a run reads, decided once from its config: event tables or a flat export.

``dataset_for(config)`` returns an :class:`EventTables` (accounts, leads,
events, intent, outcomes: snapshots sampled at ages, labels from the stage
history) or a :class:`FlatExport` (one row per lead, features and a converted
flag already there). Everything that differs between the two lives here, and
the rest of leadml asks the dataset instead of testing the mode:

* reading the source (a folder, a file or a database, through
  :mod:`leadml.data.io`) and the validation report of ``leadml validate``;
* the training rows and labels, and the scoring rows as of a date;
* the feature catalogue and the purge gap between split parts;
* what a run says about it: its mode name, the settings MLflow logs, the
  target's label, the columns to break metrics down by, the synthetic truth.

>>> dataset = dataset_for(load_config("training/sql.yaml"))
>>> training_set = dataset.training_set(dataset.read("demo/data"))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from leadml.config import EventDataset, FlatDataset, RunConfig
from leadml.data.io import Tables, find_table_file, flat_values, read_flat, read_raw_tables
from leadml.data.schema import (
    FutureRows,
    Issue,
    ValidationReport,
    load_tables,
    validate_flat,
    validate_tables,
)
from leadml.data.sources import is_database
from leadml.features.build import build_features, event_catalogue, included_columns
from leadml.features.catalogue import FeatureCatalogue
from leadml.features.flat import flat_catalogue, flat_features, flat_labels
from leadml.features.spec import FeatureSpec
from leadml.modeling.drift import REFERENCE_ROWS
from leadml.pointintime.labels import data_end_of, label_snapshots
from leadml.pointintime.sets import (
    ScoringSet,
    TrainingSet,
    assemble_training_set,
    by_time_then_lead,
    split_into_parts,
    utc_naive,
)
from leadml.pointintime.snapshots import scoring_snapshots, training_snapshots

__all__ = ["Dataset", "EventTables", "FlatExport", "dataset_for", "load_event_tables"]

Source = Tables | pd.DataFrame
Data = str | Path | pd.DataFrame | None


class Dataset(ABC):
    """What a run reads and how rows are drawn from it; see :func:`dataset_for`."""

    #: the mode as summaries, reports and manifests name it
    name: ClassVar[str]
    #: the dataset config it reads (the config's ``mode:`` key chose it)
    config_type: ClassVar[type[EventDataset] | type[FlatDataset]]
    #: every row of the source is a lead to score (no open-lead selection, no partitions)
    scores_every_row: ClassVar[bool]
    #: ``model.monotone: counts`` constrains the counts of actions only (event features); a
    #: flat export's columns are neither counts nor recencies, so each keeps its direction
    counts_only_monotone: ClassVar[bool]

    def __init__(self, config: RunConfig) -> None:
        if not isinstance(config.dataset, self.config_type):
            raise TypeError(
                f"{type(self).__name__} reads a {self.config_type.__name__} config; "
                f"got {type(config.dataset).__name__}"
            )
        self.config = config

    # --- reading ------------------------------------------------------------------------
    @abstractmethod
    def read(self, data: Data, *, as_of: pd.Timestamp | None = None) -> Source:
        """The source, typed and checked; raises :class:`leadml.data.schema.DataValidationError`
        on contract errors. With ``as_of`` it is read for scoring at that date."""

    @abstractmethod
    def validate(
        self,
        data: str | Path,
        *,
        as_of: pd.Timestamp | None = None,
        future_rows: FutureRows = "error",
        config_file: str,
    ) -> ValidationReport:
        """The contract checks of ``leadml validate`` over the source as exported.

        Raises what reading raises (a missing file, an unreachable database, a file pandas
        cannot parse); the report holds every finding about the data itself. ``as_of`` and
        ``future_rows`` judge dated rows (a flat export has none to judge).
        """

    # --- rows ---------------------------------------------------------------------------
    @abstractmethod
    def catalogue(
        self, source: Source | None = None, *, include: Sequence[str] = ()
    ) -> FeatureCatalogue:
        """Every feature the rows carry; ``include`` re-admits columns by name (the audit)."""

    @abstractmethod
    def training_set(
        self,
        source: Source,
        *,
        data_end: pd.Timestamp | None = None,
        include: Sequence[str] = (),
    ) -> TrainingSet:
        """Labelled rows cut out of time into parts, with their features and the fitted spec."""

    @abstractmethod
    def scoring_rows(self, source: Source, *, as_of: pd.Timestamp) -> tuple[pd.DataFrame, int]:
        """``lead_id, as_of`` and the raw features of every lead to score at ``as_of``, and
        how many leads are open."""

    def scoring_set(self, source: Source, *, as_of: pd.Timestamp, spec: FeatureSpec) -> ScoringSet:
        """:meth:`scoring_rows` and their model matrix (``spec.apply``)."""
        frame, n_open = self.scoring_rows(source, as_of=as_of)
        X, unseen = spec.apply(frame)
        return ScoringSet(frame=frame, X=X, unseen=unseen, n_open_leads=n_open, as_of=as_of)

    @abstractmethod
    def purge_gap(self, as_of: pd.Series) -> pd.Timedelta | int:
        """The gap between training rows and the rows they are judged on."""

    # --- describing a run ---------------------------------------------------------------
    @property
    @abstractmethod
    def post_outcome(self) -> tuple[str, ...]:
        """Columns known only after the outcome (the audit flags them)."""

    @property
    @abstractmethod
    def target_label(self) -> str:
        """The target as run names say it: ``sql 90d``."""

    @abstractmethod
    def tracked_settings(self) -> dict[str, Any]:
        """The dataset settings that shape the model, logged as ``dataset.*`` params."""

    @abstractmethod
    def segment_columns(self, columns: Sequence[str]) -> list[str]:
        """Columns of the test rows to break conversion down by."""

    def truth_file(self, data: Any) -> Path | None:
        """The generator's ``truth.parquet`` beside synthetic data (None for real data)."""
        return None

    @abstractmethod
    def report_tables(self, data: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Leads, accounts and events as exported, with contract column names, for the lead
        cards of ``leadml report`` (read as they are: the scores were already validated)."""


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


class EventTables(Dataset):
    """Event mode: accounts, leads, events, intent and outcomes; a lead is looked at in
    snapshots (at ages while open for training, at ``as_of`` for scoring)."""

    name = "events"
    config_type = EventDataset
    scores_every_row = False
    counts_only_monotone = True

    def __init__(self, config: RunConfig) -> None:
        super().__init__(config)
        self.dataset: EventDataset = config.dataset  # type: ignore[assignment]

    def read(self, data: Data, *, as_of: pd.Timestamp | None = None) -> Tables:
        if data is None:
            raise ValueError(
                "event mode: give the data folder (data=...) or the tables (tables=...)"
            )
        return load_event_tables(data, self.dataset, as_of=as_of)  # type: ignore[arg-type]

    def _missing_files(self, data: Path) -> list[Issue]:
        """One error issue per table file that is not in ``data``."""
        issues = []
        for table, spec in self.dataset.tables.items():
            try:
                find_table_file(data, spec.file)
            except FileNotFoundError as exc:
                issues.append(Issue(table, None, "file", "error", 0, [], str(exc)))
        return issues

    def validate(
        self,
        data: str | Path,
        *,
        as_of: pd.Timestamp | None = None,
        future_rows: FutureRows = "error",
        config_file: str,
    ) -> ValidationReport:
        if not is_database(data) and (missing := self._missing_files(Path(data))):
            return ValidationReport(tuple(missing), {})
        raw = read_raw_tables(data, self.dataset)
        return validate_tables(
            raw, self.dataset, as_of=as_of, future_rows=future_rows, config_file=config_file
        )

    def catalogue(
        self, source: Source | None = None, *, include: Sequence[str] = ()
    ) -> FeatureCatalogue:
        if include and not isinstance(source, Tables):
            raise ValueError(
                f"event mode: re-admitting {list(include)} needs the tables they come from"
            )
        return event_catalogue(self.dataset).extended(included_columns(source, include))

    def training_set(
        self,
        source: Source,
        *,
        data_end: pd.Timestamp | None = None,
        include: Sequence[str] = (),
    ) -> TrainingSet:
        tables = source
        assert isinstance(tables, Tables)
        config = self.config
        end = utc_naive(data_end) if data_end is not None else data_end_of(tables)
        snapshots = training_snapshots(
            tables.leads,
            tables.outcomes,
            ages_days=config.snapshots.ages_days,
            data_end=end,
            closed_stages=self.dataset.closed_stages,
        )
        labelled = label_snapshots(
            snapshots,
            tables.outcomes,
            stages=config.target.stages,
            horizon_days=config.target.horizon_days,
            data_end=end,
        )
        rows = labelled.frame
        parts = split_into_parts(config, rows["as_of"], gap=self.purge_gap(rows["as_of"]))
        kept = rows.loc[parts.kept].assign(split=parts.assignment[parts.kept])
        kept = kept.iloc[by_time_then_lead(kept)].reset_index(drop=True)
        features = build_features(tables, kept[["lead_id", "as_of"]], self.dataset, include=include)
        training_set = assemble_training_set(
            features,
            kept["label"].to_numpy(),
            kept["split"],
            self.catalogue(tables, include=include),
            parts=parts,
            keep_purged=config.refit.enabled,
            n_snapshots=int(len(snapshots)),
            censored=labelled.censored,
            head={
                "mode": self.name,
                "target": config.target.name,
                "target_stages": list(config.target.stages),
                "horizon_days": config.target.horizon_days,
                "purge_days": config.purge_days,
                "ages_days": list(config.snapshots.ages_days),
                "data_end": end.isoformat(),
                "n_leads": int(len(tables.leads)),
            },
        )
        reference = self._open_leads_at_end(tables, end, training_set.spec, include=include)
        return replace(
            training_set,
            summary={**training_set.summary, "drift_reference_rows": int(len(reference))},
            reference=reference,
        )

    def _open_leads_at_end(
        self, tables: Tables, end: pd.Timestamp, spec: FeatureSpec, *, include: Sequence[str]
    ) -> pd.DataFrame:
        """Model matrix of (at most ``REFERENCE_ROWS``, drawn with the run's seed) leads open at ``end``.

        Training snapshots sample leads at fixed ages; a scoring run sees every open lead at
        once, old ones included. Drift is judged against the latter, or every run would warn.
        """
        snapshots = scoring_snapshots(
            tables.leads, tables.outcomes, as_of=end, closed_stages=self.dataset.closed_stages
        )
        if len(snapshots) > REFERENCE_ROWS:
            rng = np.random.default_rng(self.config.seed)
            rows = np.sort(rng.choice(len(snapshots), REFERENCE_ROWS, replace=False))
            snapshots = snapshots.iloc[rows].reset_index(drop=True)
        X, _ = spec.apply(build_features(tables, snapshots, self.dataset, include=include))
        return X

    def scoring_rows(self, source: Source, *, as_of: pd.Timestamp) -> tuple[pd.DataFrame, int]:
        assert isinstance(source, Tables)
        snapshots = scoring_snapshots(
            source.leads, source.outcomes, as_of=as_of, closed_stages=self.dataset.closed_stages
        )
        return build_features(source, snapshots, self.dataset), int(len(snapshots))

    def purge_gap(self, as_of: pd.Series) -> pd.Timedelta:
        """The label horizon, or ``split.purge_days``: no label window of training overlaps
        the rows it is judged on."""
        return pd.Timedelta(days=self.config.purge_days)

    @property
    def post_outcome(self) -> tuple[str, ...]:
        return ()

    @property
    def target_label(self) -> str:
        return f"{self.config.target.name} {self.config.target.horizon_days}d"

    def tracked_settings(self) -> dict[str, Any]:
        settings = self.dataset.model_dump(mode="json")
        return {k: settings[k] for k in ("icp", "features", "closed_stages")}

    def segment_columns(self, columns: Sequence[str]) -> list[str]:
        return [c for c in ("source", "industry") if c in columns]

    def report_tables(self, data: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        tables = read_raw_tables(data, self.dataset)
        return tables.leads, tables.accounts, tables.events

    def truth_file(self, data: Any) -> Path | None:
        if not isinstance(data, Path):
            return None  # a database holds no generator truth
        path = (data if data.is_dir() else data.parent) / "truth.parquet"
        return path if path.is_file() else None


def _stamp(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.integer):
        return int(value)
    return value


class FlatExport(Dataset):
    """Flat mode: one row per lead with its features and a converted flag; a row is its own
    snapshot, ordered by the time column or by row number."""

    name = "flat"
    config_type = FlatDataset
    scores_every_row = True
    counts_only_monotone = False

    def __init__(self, config: RunConfig) -> None:
        super().__init__(config)
        self.dataset: FlatDataset = config.dataset  # type: ignore[assignment]

    def read(self, data: Data, *, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """The flat file as written, checked by :func:`leadml.data.schema.validate_flat`; a file
        read for scoring (``as_of``) needs no label column."""
        if data is None:
            raise ValueError("flat mode: give the flat file (data=...)")
        raw = (
            flat_values(data, self.dataset)
            if isinstance(data, pd.DataFrame)
            else read_flat(data, self.dataset)
        )
        validate_flat(raw, self.dataset, require_label=as_of is None).raise_for_errors()
        return raw

    def validate(
        self,
        data: str | Path,
        *,
        as_of: pd.Timestamp | None = None,
        future_rows: FutureRows = "error",
        config_file: str,
    ) -> ValidationReport:
        return validate_flat(read_flat(data, self.dataset), self.dataset, config_file=config_file)

    def catalogue(
        self, source: Source | None = None, *, include: Sequence[str] = ()
    ) -> FeatureCatalogue:
        return flat_catalogue(self.dataset, include=include)

    def training_set(
        self,
        source: Source,
        *,
        data_end: pd.Timestamp | None = None,
        include: Sequence[str] = (),
    ) -> TrainingSet:
        raw = source
        assert isinstance(raw, pd.DataFrame)
        features = flat_features(raw, self.dataset, include=include)
        label = flat_labels(raw, self.dataset)
        order = features["as_of"]
        parts = split_into_parts(self.config, order, gap=self.purge_gap(order))
        return assemble_training_set(
            features.loc[parts.kept].reset_index(drop=True),
            label[parts.kept],
            parts.assignment[parts.kept].reset_index(drop=True),
            self.catalogue(include=include),
            parts=parts,
            keep_purged=self.config.refit.enabled,
            n_snapshots=int(len(raw)),
            censored=0,
            head={
                "mode": self.name,
                "target": self.config.target.name,
                "order": self.dataset.time or "row order",
                "n_rows_in": int(len(raw)),
            },
            tail={
                "excluded": list(self.dataset.exclude),
                "included": list(include),
                "data_end": _stamp(order.max()) if len(order) else None,
            },
        )

    def scoring_rows(self, source: Source, *, as_of: pd.Timestamp) -> tuple[pd.DataFrame, int]:
        assert isinstance(source, pd.DataFrame)
        # a file to score needs no time column: every row is scored as of `as_of`
        untimed = self.dataset.model_copy(update={"time": None})
        frame = flat_features(source, untimed).assign(as_of=as_of)
        return frame, int(len(frame))

    def purge_gap(self, as_of: pd.Series) -> pd.Timedelta | int:
        """No label horizon to purge by default: ``split.purge_days`` counts rows, or days
        when a time column orders the rows."""
        gap = self.config.split.purge_days or 0
        if pd.api.types.is_datetime64_any_dtype(as_of.dtype):
            return pd.Timedelta(days=gap)
        return int(gap)

    @property
    def post_outcome(self) -> tuple[str, ...]:
        return self.dataset.post_outcome

    @property
    def target_label(self) -> str:
        return self.config.target.name  # the label is already set: no horizon

    def tracked_settings(self) -> dict[str, Any]:
        settings = self.dataset.model_dump(mode="json")
        keep = ("label", "positive", "numeric", "categorical", "exclude", "time")
        return {k: settings.get(k) for k in keep}

    def segment_columns(self, columns: Sequence[str]) -> list[str]:
        return [c for c in self.dataset.categorical if c in columns][:2]

    def report_tables(self, data: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The flat file as the leads (its id column as ``lead_id``, else the row number, as
        the scores have it); no accounts, no events."""
        flat = read_flat(data, self.dataset)
        if self.dataset.id is not None:
            flat = flat.rename(columns={self.dataset.id: "lead_id"})
        else:
            flat.insert(0, "lead_id", np.arange(len(flat), dtype=np.int64))
        return flat, pd.DataFrame(), pd.DataFrame()


def dataset_for(config: RunConfig) -> Dataset:
    """The dataset of a run config: the one place the mode is decided, from the dataset
    config's ``mode:`` key as :mod:`leadml.config` parsed it."""
    for kind in (EventTables, FlatExport):
        if isinstance(config.dataset, kind.config_type):
            return kind(config)
    raise TypeError(
        f"the dataset config is a {type(config.dataset).__name__}; expected an EventDataset "
        "(mode: events) or a FlatDataset (mode: flat)"
    )
