"""The feature spec: the model's input contract, fixed at training.

Ordered feature names, their kind and dtype, and for categoricals the
categories seen in the **train part** (sorted). ``apply`` turns any feature
frame -- a training set, a scoring batch, a REST payload -- into exactly the
matrix the model was trained on: float64 numerics, pandas ``category``
columns with the training categories. A value never seen in training
becomes missing and is counted (with examples), never silently given some
other category's code. Saved as plain JSON (``to_dict``/``from_dict``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from leadml.features.catalogue import FeatureCatalogue

__all__ = ["FeatureColumn", "FeatureSpec", "SpecError", "float_values"]

SPEC_VERSION = 1
# Columns that travel with feature rows but are never model inputs.
_KEYS = frozenset({"lead_id", "as_of", "split", "label", "reached_at", "age_days"})
# Up to this many rows (a served lead) the model matrix is one frame built from columns in spec
# order: concatenating the numeric and categorical pieces and reordering them costs ~1.5 ms.
FEW_ROWS = 1024


class SpecError(ValueError):
    """A feature frame does not match the feature spec."""


@dataclass(frozen=True)
class FeatureColumn:
    """One model input: name, kind, dtype and (categoricals) the training categories."""

    name: str
    kind: Literal["numeric", "categorical"]
    dtype: str
    categories: tuple[str, ...] | None = None
    # The user's spelling of the input column when it differs from the internal name
    # (``Lead Origin`` for ``Lead_Origin``): frames may carry either.
    source: str | None = None

    @property
    def column(self) -> str:
        """The input column as the user wrote it."""
        return self.source or self.name

    @cached_property
    def category_dtype(self) -> pd.CategoricalDtype:
        """The training categories as a pandas dtype, built once (pandas checks them each time
        one is built: a served lead paid it for every categorical feature)."""
        return pd.CategoricalDtype(list(self.categories or ()))


def _as_text(values: pd.Series) -> pd.Series:
    """Values as strings (missing stays missing), whatever their dtype."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = values.cat.categories
        if cats.dtype != "str":
            values = values.cat.rename_categories([str(c) for c in cats])
        return values
    if pd.api.types.is_float_dtype(values.dtype):
        # 3.0 -> "3", as a categorical integer column written by a CSV reader would read
        as_int = values.dropna()
        if (as_int == np.round(as_int)).all():
            return values.astype("Int64").astype("str")
    return values.astype("str")


def _examples(values: pd.Series, k: int = 5) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in pd.unique(values.dropna())[:k]]


def float_values(
    values: pd.Series, name: str, *, refused: str, error: type[ValueError] = ValueError
) -> np.ndarray:
    """``values`` as float64, missing as NaN, numbers written as text read as numbers.

    A present value that is not a number raises ``error`` with ``refused`` formatted with
    ``name``, ``n`` (how many values) and ``examples`` (a few of them).
    """
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        raise error(refused.format(name=name, n=int(bad.sum()), examples=_examples(values[bad])))
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass(frozen=True)
class FeatureSpec:
    """Ordered model inputs; see the module docstring."""

    columns: tuple[FeatureColumn, ...]

    # --- views ---------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == "categorical")

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == "numeric")

    def __len__(self) -> int:
        return len(self.columns)

    def __getitem__(self, name: str) -> FeatureColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"feature {name!r} is not in the spec")

    # --- fitting ---------------------------------------------------------------
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        catalogue: FeatureCatalogue,
        *,
        fit_rows: pd.Series | np.ndarray | slice | None = None,
    ) -> FeatureSpec:
        """The spec of the catalogue's features found in ``frame``; categories from ``fit_rows`` only.

        ``fit_rows`` is a boolean mask (or positions) of the train part: values
        that only appear in later parts must stay "unseen", as they will be
        at scoring time.
        """
        missing = [n for n in catalogue.names if n not in frame.columns]
        if missing:
            raise SpecError(
                f"the frame lacks catalogue features {missing[:10]}"
                + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            )
        fitted = frame[list(catalogue.categorical)]  # only categories are learned
        if isinstance(fit_rows, slice):
            fitted = fitted.iloc[fit_rows]
        elif fit_rows is not None:
            rows = np.asarray(fit_rows)
            fitted = fitted.loc[rows] if rows.dtype == bool else fitted.iloc[rows]
        columns = []
        for info in catalogue:
            source = getattr(info, "source", None)
            if info.kind == "categorical":
                text = _as_text(fitted[info.name])
                categories = tuple(sorted(str(v) for v in pd.unique(text.dropna())))
                columns.append(
                    FeatureColumn(info.name, "categorical", "category", categories, source)
                )
            else:
                columns.append(FeatureColumn(info.name, "numeric", "float64", None, source))
        return cls(columns=tuple(columns))

    # --- applying -----------------------------------------------------------------
    @property
    def display_names(self) -> dict[str, str]:
        """Internal name -> the user's column name (the same for derived features)."""
        return {c.name: c.column for c in self.columns}

    def with_internal_names(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with columns written as the user spells them renamed to internal names.

        A frame that already uses internal names is returned as is (no copy).
        """
        rename = {
            c.source: c.name
            for c in self.columns
            if c.source is not None and c.name not in frame.columns and c.source in frame.columns
        }
        return frame.rename(columns=rename) if rename else frame

    def check_columns(self, frame: pd.DataFrame, *, strict: bool = False) -> None:
        """Raise :class:`SpecError` with a diff when features are missing (or unexpected, if strict).

        Columns are named as the user wrote them in the message.
        """
        frame = self.with_internal_names(frame)
        have = [c for c in frame.columns.tolist() if c not in _KEYS]
        missing = [c.column for c in self.columns if c.name not in frame.columns]
        known = set(self.names)
        unexpected = [c for c in have if c not in known]
        if missing or (strict and unexpected):
            raise SpecError(
                "feature columns differ from the model's feature spec:\n"
                f"  missing ({len(missing)}): {missing}\n"
                f"  unexpected ({len(unexpected)}): {unexpected}\n"
                f"  expected {len(self.names)} features, got {len(have)}"
            )

    def apply(
        self, frame: pd.DataFrame, *, strict: bool = False
    ) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
        """The model matrix (spec order and dtypes) and unseen categories per column.

        Unseen values become missing; the report is ``{column: {"count": n,
        "examples": [...]}}`` for the columns that had any, named as the user
        wrote them. ``frame`` may name columns either way (internal or the user's). Extra columns are
        ignored (an error with ``strict=True``); key columns (lead_id, as_of,
        split, label) always are.
        """
        frame = self.with_internal_names(frame)
        self.check_columns(frame, strict=strict)
        # Numerics: a column selection shares the frame's blocks and astype converts
        # whole blocks (float64 ones are not even copied); only columns of a
        # non-numeric dtype go one by one, to name the offending values.
        numeric = list(self.numeric)
        dtypes = dict(zip(frame.columns.tolist(), frame.dtypes, strict=True))
        textual = [
            n
            for n in numeric
            if not (
                pd.api.types.is_numeric_dtype(dtypes[n]) or pd.api.types.is_bool_dtype(dtypes[n])
            )
        ]
        typed = [n for n in numeric if n not in set(textual)]
        few = len(frame) <= FEW_ROWS
        pieces = [] if few else [frame[typed].astype(np.float64)]
        converted: dict[str, np.ndarray] = {}
        if textual:
            converted = {
                n: float_values(
                    frame[n],
                    n,
                    refused="feature {name!r} must be numeric; {n} values are not, e.g. {examples}",
                    error=SpecError,
                )
                for n in textual
            }
            if not few:
                pieces.append(pd.DataFrame(converted, index=frame.index))
        categoricals: dict[str, pd.Categorical] = {}
        unseen: dict[str, dict[str, Any]] = {}
        for column in self.columns:
            if column.kind != "categorical":
                continue
            values = frame[column.name]
            dtype = column.category_dtype
            text = _as_text(values)
            if isinstance(text.dtype, pd.CategoricalDtype):
                source = np.asarray(text.cat.codes)
                position = dtype.categories.get_indexer(text.cat.categories)
                codes = (
                    np.where(source >= 0, position[np.maximum(source, 0)], -1)
                    if position.size
                    else np.full(source.size, -1)
                )
                present = source >= 0
            else:
                codes = (
                    dtype.categories.get_indexer(text)
                    if len(dtype.categories)
                    else np.full(len(text), -1)
                )
                present = text.notna().to_numpy()
            lost = present & (codes < 0)
            if lost.any():
                unseen[column.column] = {
                    "count": int(lost.sum()),
                    "examples": [str(v) for v in _examples(text[lost])],
                }
            categoricals[column.name] = pd.Categorical.from_codes(
                codes.astype(np.int32), dtype=dtype
            )
        if few:
            block = frame[typed].to_numpy(dtype=np.float64, na_value=np.nan)
            columns = dict(zip(typed, block.T, strict=True)) | converted | categoricals
            matrix = pd.DataFrame({n: columns[n] for n in self.names}, index=frame.index)
            return matrix, unseen
        if categoricals:
            pieces.append(pd.DataFrame(categoricals, index=frame.index))
        return pd.concat(pieces, axis=1)[list(self.names)], unseen

    # --- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (no pickle): version and one entry per feature."""
        return {
            "version": SPEC_VERSION,
            "features": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "dtype": c.dtype,
                    **({"categories": list(c.categories)} if c.categories is not None else {}),
                    **({"source": c.source} if c.source is not None else {}),
                }
                for c in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        version = data.get("version", SPEC_VERSION)
        if version != SPEC_VERSION:
            raise SpecError(
                f"feature spec version {version} is not supported (expected {SPEC_VERSION})"
            )
        return cls(
            columns=tuple(
                FeatureColumn(
                    name=f["name"],
                    kind=f["kind"],
                    dtype=f.get("dtype", "category" if f["kind"] == "categorical" else "float64"),
                    categories=tuple(f["categories"]) if f.get("categories") is not None else None,
                    source=f.get("source"),
                )
                for f in data["features"]
            )
        )

    def select(self, names: Sequence[str]) -> FeatureSpec:
        """The spec restricted to ``names`` (in that order)."""
        return FeatureSpec(columns=tuple(self[n] for n in names))
