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
tables can be passed already loaded with ``tables=``. What differs between
the modes is the dataset's (:func:`leadml.pointintime.dataset.dataset_for`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from leadml.config import RunConfig
from leadml.data.io import Tables
from leadml.features.spec import FeatureSpec
from leadml.pointintime.dataset import dataset_for, load_event_tables
from leadml.pointintime.sets import ScoringSet, TrainingSet, split_fractions, utc_naive

__all__ = [
    "ScoringSet",
    "TrainingSet",
    "build_scoring_set",
    "build_training_set",
    "load_event_tables",
    "purge_gap",
    "split_fractions",
]


def purge_gap(config: RunConfig, as_of: pd.Series) -> pd.Timedelta | int:
    """The gap between training rows and the rows they are judged on: the label horizon
    (or ``split.purge_days``) in event mode; rows or days in flat mode."""
    return dataset_for(config).purge_gap(as_of)


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
    dataset = dataset_for(config)
    source = tables if tables is not None else dataset.read(data)
    return dataset.training_set(source, data_end=data_end, include=include)


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
    dataset = dataset_for(config)
    when = utc_naive(as_of)
    source = tables if tables is not None else dataset.read(data, as_of=when)
    return dataset.scoring_set(source, as_of=when, spec=spec)
