"""Flat mode: one row per lead, counts already aggregated, a converted flag already set.

The dataset config declares the columns (:class:`leadml.config.FlatDataset`):
numeric and categorical features, the label and its positive values, the
columns to exclude (leaky) and those known only after the outcome, and an
optional time column. Without a time column the rows are taken to be in time
order and ``as_of`` is the row number, so the out-of-time split still runs
forward. Everything downstream sees the same (lead_id, as_of, features)
frame as in event mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from leadml.config import FlatDataset
from leadml.data.timestamps import naive_utc_series
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo, Kind
from leadml.features.column_names import safe_names
from leadml.features.spec import float_values
from leadml.vocabulary import readable

__all__ = ["flat_catalogue", "flat_features", "flat_labels"]


def flat_catalogue(dataset: FlatDataset, *, include: Sequence[str] = ()) -> FeatureCatalogue:
    """One entry per declared flat column (minus excluded ones, plus ``include``d ones).

    An entry's name is the column's internal name (:func:`leadml.features.column_names.safe_names`:
    the column itself when LightGBM keeps it as written) and its ``source`` the column
    as the user wrote it. The group of a column is its declared group or the column
    itself; its label is the declared label or the column name in words.
    """
    columns = [*dataset.feature_columns]
    for name in include:
        if name not in columns:
            if name not in (*dataset.numeric, *dataset.categorical):
                raise ValueError(
                    f"cannot include {name!r}: it is not a declared numeric or categorical column "
                    f"(declared: {[*dataset.numeric, *dataset.categorical]})"
                )
            columns.append(name)
    # Internal names are fixed over every declared column, so including one for the
    # audit never renames another.
    internal = safe_names(list(dict.fromkeys([*dataset.numeric, *dataset.categorical])))
    groups = safe_names(
        list(dict.fromkeys(i.group for i in dataset.features.values() if i.group)),
        taken=internal.values(),
    )
    entries = []
    labels: dict[str, str] = {}
    main: dict[str, str] = {}
    for column in columns:
        name = internal[column]
        info = dataset.features.get(column)
        family = info.family if info else "fit"
        group = groups[info.group] if info and info.group else name
        label = (info.label if info and info.label else None) or readable(column)
        kind: Kind = "categorical" if column in dataset.categorical else "numeric"
        note = " (post-outcome: audit only)" if column in dataset.post_outcome else ""
        source = column if column != name else None
        direction = info.direction if info and kind == "numeric" else None
        entries.append(
            FeatureInfo(name, family, group, kind, f"{label}{note}", source, direction=direction)
        )
        labels.setdefault(group, label)
        main.setdefault(group, name)
    return FeatureCatalogue(
        entries=tuple(entries), group_label=labels, group_main=main, mode="flat"
    )


def _require(raw: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ValueError(
            f"flat dataset: {what} columns {missing} are not in the file; its columns are {list(raw.columns)}"
        )


def _as_of(raw: pd.DataFrame, dataset: FlatDataset) -> np.ndarray:
    if dataset.time is None:
        return np.arange(len(raw), dtype=np.int64)
    _require(raw, [dataset.time], "time")
    parsed = naive_utc_series(pd.to_datetime(raw[dataset.time], errors="coerce", utc=True))
    bad = parsed.isna() & raw[dataset.time].notna()
    if bad.any() or parsed.isna().any():
        examples = raw[dataset.time][parsed.isna()].head(3).tolist()
        raise ValueError(
            f"flat dataset: time column {dataset.time!r} has {int(parsed.isna().sum())} missing or "
            f"unreadable values, e.g. {examples}"
        )
    return parsed.to_numpy(dtype="datetime64[us]")


def flat_features(
    raw: pd.DataFrame, dataset: FlatDataset, *, include: Sequence[str] = ()
) -> pd.DataFrame:
    """``lead_id``, ``as_of``, then the declared features (minus excluded, plus ``include``).

    ``lead_id`` is the id column or the row number; ``as_of`` the time
    column or the row number. Numerics become float64, categoricals pandas
    ``category`` of strings (the spec fixes their categories later). Feature
    columns carry their internal names (``Lead Origin`` -> ``Lead_Origin``,
    see :mod:`leadml.features.column_names`); the catalogue keeps the user's.
    """
    catalogue = flat_catalogue(dataset, include=include)
    _require(raw, [info.column for info in catalogue], "feature")
    out: dict[str, object] = {
        "lead_id": raw[dataset.id].to_numpy()
        if dataset.id
        else np.arange(len(raw), dtype=np.int64),
        "as_of": _as_of(raw, dataset),
    }
    if dataset.id:
        _require(raw, [dataset.id], "id")
    for info in catalogue:
        if info.kind == "numeric":
            out[info.name] = float_values(
                raw[info.column],
                info.column,
                refused="flat dataset: column {name!r} is declared numeric but {n} values are not "
                "numbers, e.g. {examples}",
            )
        else:
            out[info.name] = pd.Categorical(raw[info.column].astype("str"))
    return pd.DataFrame(out)


def flat_labels(raw: pd.DataFrame, dataset: FlatDataset) -> np.ndarray:
    """1 where the label column holds one of ``dataset.positive`` (compared as text, case-insensitive)."""
    _require(raw, [dataset.label], "label")
    values = raw[dataset.label]
    missing = values.isna()
    if missing.any():
        raise ValueError(
            f"flat dataset: label column {dataset.label!r} is missing on {int(missing.sum())} rows "
            f"(first at row {int(np.flatnonzero(missing.to_numpy())[0])})"
        )
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        numbers = set()
        for p in dataset.positive:
            try:
                numbers.add(float(p))
            except (TypeError, ValueError):
                continue
        return values.astype(np.float64).isin(numbers).to_numpy(dtype=bool).astype(np.int8)
    positive = {str(p).strip().lower() for p in dataset.positive}
    text = values.astype("str").str.strip().str.lower()
    return text.isin(positive).to_numpy(dtype=bool).astype(np.int8)
