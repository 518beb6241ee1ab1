"""The training set and the scoring set: what they hold, and how labelled rows become one.

A training set is one row per labelled snapshot -- ``lead_id, as_of, split,
label``, then the model matrix in the feature spec's order -- with the spec
fitted on the train part, the catalogue, and a summary of sizes and dates.
:func:`split_into_parts` cuts labelled rows out of time into train | valid |
calib | test (or train | test on small data) with purge gaps;
:func:`assemble_training_set` turns their features into the model matrix and
the summary. Which rows are labelled, and how their features are computed, is
the dataset's business (:mod:`leadml.pointintime.dataset`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import RunConfig
from leadml.data.timestamps import naive_utc
from leadml.features.catalogue import FeatureCatalogue
from leadml.features.spec import FeatureSpec
from leadml.pointintime.split import PARTS, PURGED, split_by_order, split_summary

__all__ = [
    "Parts",
    "ScoringSet",
    "TrainingSet",
    "assemble_training_set",
    "by_time_then_lead",
    "split_fractions",
    "split_into_parts",
    "utc_naive",
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
        return rows.iloc[by_time_then_lead(rows)].reset_index(drop=True)

    def with_features(self, names: Sequence[str]) -> TrainingSet:
        """The same rows with the model restricted to ``names`` (spec, catalogue and drift
        reference; the frame keeps every column, :meth:`part` reads the spec's)."""
        names = list(names)
        return replace(
            self,
            spec=self.spec.select(names),
            catalogue=self.catalogue.select(names),
            reference=None if self.reference is None else self.reference[names],
        )

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


@dataclass(frozen=True)
class Parts:
    """Labelled rows cut out of time: each row's part (``"purged"`` in a gap), and the rows kept."""

    assignment: pd.Series
    purged: int
    fit_mode: str
    # rows that go on: every labelled row when the refit keeps the purged ones, else those in a part
    kept: np.ndarray


def utc_naive(as_of: pd.Timestamp | str) -> pd.Timestamp:
    """``as_of`` as a naive UTC timestamp in microseconds, the unit of every table's times."""
    return naive_utc(as_of).as_unit("us")


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


def split_into_parts(config: RunConfig, order: pd.Series, *, gap: pd.Timedelta | int) -> Parts:
    """Each labelled row's part by its place in ``order`` (as_of, or row numbers), ``gap``
    purged between parts; with ``config.refit.enabled`` the purged rows are kept too."""
    fractions, fit_mode = split_fractions(config, len(order))
    split = split_by_order(order, fractions=fractions, gap=gap)
    in_part = (split.assignment != PURGED).to_numpy()
    kept = np.ones(len(in_part), dtype=bool) if config.refit.enabled else in_part
    return Parts(split.assignment, split.purged, fit_mode, kept)


def by_time_then_lead(snapshots: pd.DataFrame) -> np.ndarray:
    """Row order by as_of, then lead_id: the training set never depends on input row order."""
    lead = snapshots["lead_id"].to_numpy()
    if lead.dtype.kind not in "iu":
        lead = pd.factorize(snapshots["lead_id"], sort=True)[0]
    as_of = snapshots["as_of"].to_numpy(dtype="datetime64[us]").view(np.int64)
    return np.lexsort((lead, as_of))


def _model_frame(
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


def assemble_training_set(
    features: pd.DataFrame,
    label: np.ndarray,
    split: pd.Series,
    catalogue: FeatureCatalogue,
    *,
    parts: Parts,
    keep_purged: bool,
    n_snapshots: int,
    censored: int,
    head: Mapping[str, Any],
    tail: Mapping[str, Any] | None = None,
) -> TrainingSet:
    """The training set of the kept rows' ``features`` (``lead_id, as_of``, then features),
    ``label`` and ``split`` (their parts): the spec fitted on train, the model matrix, the
    purged rows apart (when kept), and the summary.

    The summary reads ``head`` (the dataset's mode, target and settings), the counts, ``tail``
    (more of the dataset's own), then the fit mode, the unseen categories and each part's
    sizes and dates.
    """
    everything, spec, unseen = _model_frame(features, label, split, catalogue)
    in_part = (everything["split"] != PURGED).to_numpy()
    frame = everything.loc[in_part].reset_index(drop=True)
    frame["split"] = frame["split"].cat.remove_categories(PURGED)
    purged_rows = everything.loc[~in_part].reset_index(drop=True) if keep_purged else None
    summary = {
        **head,
        "n_snapshots": n_snapshots,
        "censored": censored,
        "purged": parts.purged,
        "n_rows": int(len(frame)),
        "positives": int(frame["label"].sum()),
        "n_features": len(spec),
        **(tail or {}),
        "n_labelled": int(len(parts.assignment)),
        "fit_mode": parts.fit_mode,
        "unseen_categories_after_train": unseen,
    }
    sizes = split_summary(frame["split"], frame["as_of"], frame["label"])
    sizes.pop("purged")  # the purged rows are already gone from the parts
    return TrainingSet(
        frame=frame,
        spec=spec,
        catalogue=catalogue.select(spec.names),
        summary=summary | sizes,
        purged_rows=purged_rows,
    )
