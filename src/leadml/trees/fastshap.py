"""Exact per-row TreeSHAP for LightGBM boosters, at a few times the cost of ``predict``.

:class:`FastTreeExplainer` returns the same matrix as
``booster.predict(X, pred_contrib=True)`` (within floating-point rounding,
well under 1e-9): one column per feature plus the expected value last. It
reads the booster's text model once, precomputes per-node tables and runs a
numba kernel that evaluates Linear TreeSHAP at Gauss-Legendre points for a
block of rows at a time; on large chunks it explains each tree's distinct
decision patterns once and adds them to every lead that shares them, with the
same bits as explaining lead by lead (see :mod:`leadml.trees._treeshap`).

:func:`tree_contributions` is the entry point for callers that must not fail:
it uses the fast explainer when :meth:`FastTreeExplainer.supports` allows and
otherwise warns and falls back to LightGBM's ``pred_contrib`` in chunks.

Example::

    contributions = tree_contributions(booster, leads[booster.feature_name()])
    assert np.allclose(contributions.sum(axis=1), booster.predict(leads, raw_score=True))
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.trees._treeshap import (
    METHODS,
    ParsedTree,
    Scratch,
    TreeTables,
    build_tables,
    explain_matrix,
    feature_major,
)

__all__ = [
    "FastTreeExplainer",
    "built_for",
    "feature_names",
    "freeze_booster",
    "tree_contributions",
]

T = TypeVar("T")

# Rows explained together: large enough to amortise the per-node work over SIMD
# lanes, small enough that a block's per-depth scratch stays in L2 (measured
# best at 128-256 on a 31-leaf, 400-tree model).
_BLOCK_ROWS = 256


class FastTreeExplainer:
    """Exact path-dependent TreeSHAP for a LightGBM binary/regression booster.

    Uses the trees ``booster.predict`` uses by default (up to ``best_iteration``
    when set). Raises ``ValueError`` for boosters :meth:`supports` rejects.

    Each thread keeps its working arrays between calls (the size of one chunk's
    matrix, decision words and pattern tables), so a batch job explaining chunk
    after chunk does not page in fresh memory for each; they go with the explainer.
    """

    def __init__(self, booster: lgb.Booster) -> None:
        if not isinstance(booster, lgb.Booster):
            raise TypeError(f"expected a lightgbm.Booster, got {type(booster).__name__}")
        header, trees = _parse_model(booster.model_to_string())
        reason = _unsupported_reason(header, trees)
        if reason:
            raise ValueError(f"FastTreeExplainer cannot explain this booster: {reason}")
        self.feature_names_: list[str] = header["feature_names"].split()
        self.n_features_: int = int(header["max_feature_idx"]) + 1
        self.pandas_categorical_: list[list] | None = booster.pandas_categorical
        self.tables_: TreeTables = build_tables(trees, self.n_features_)
        self._local = threading.local()

    @classmethod
    def supports(cls, booster: lgb.Booster) -> tuple[bool, str]:
        """``(True, "")`` when the booster can be explained exactly, else ``(False, reason)``."""
        if not isinstance(booster, lgb.Booster):
            return False, f"expected a lightgbm.Booster, got {type(booster).__name__}"
        reason = _unsupported_reason(*_parse_model(booster.model_to_string()))
        return not reason, reason

    def shap_values(
        self, X: pd.DataFrame | np.ndarray, *, chunk_size: int = 100_000, method: str = "auto"
    ) -> np.ndarray:
        """(n_rows, n_features + 1) float64, same layout as ``booster.predict(X, pred_contrib=True)``.

        Rows are converted and explained ``chunk_size`` at a time, so working
        memory beyond the result is bounded by the chunk. ``method`` ("auto",
        "rows" or "patterns") is how a chunk is explained (see
        :func:`leadml.trees._treeshap.explain_matrix`); all give the same values, and
        "auto" explains large chunks by shared decision patterns.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        n_rows = _check_shape(X, self.feature_names_)
        out = np.empty((n_rows, self.n_features_ + 1))
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = Scratch()
        for start in range(0, n_rows, chunk_size):
            stop = min(start + chunk_size, n_rows)
            rows = X.iloc[start:stop] if isinstance(X, pd.DataFrame) else X[start:stop]
            into = scratch.get("matrix", (self.n_features_, stop - start), np.float64)
            matrix = _feature_major_matrix(rows, self.pandas_categorical_, into=into)
            explain_matrix(
                self.tables_,
                matrix,
                out[start:stop],
                block=_BLOCK_ROWS,
                method=method,
                scratch=scratch,
            )
        return out


_FEATURE_NAMES: weakref.WeakKeyDictionary[lgb.Booster, tuple[str, ...]] = (
    weakref.WeakKeyDictionary()
)


def feature_names(booster: lgb.Booster) -> tuple[str, ...]:
    """``booster.feature_name()``, read once per booster (its features never change; the
    call costs ~1 ms on a hundred features, which a served lead paid on every request)."""
    names = _FEATURE_NAMES.get(booster)
    if names is None:
        names = _FEATURE_NAMES[booster] = tuple(booster.feature_name())
    return names


def tree_contributions(
    booster: lgb.Booster, X: pd.DataFrame | np.ndarray, *, chunk_size: int = 100_000
) -> np.ndarray:
    """SHAP values with the expected value last, as ``booster.predict(X, pred_contrib=True)``.

    Uses :class:`FastTreeExplainer` when it supports the booster; otherwise warns
    with the reason and computes ``pred_contrib`` ``chunk_size`` rows at a time.
    """
    try:
        explainer = built_for(booster, FastTreeExplainer)  # raises if unsupported
    except ValueError as exc:
        reason = str(exc).removeprefix("FastTreeExplainer cannot explain this booster: ")
    else:
        return explainer.shap_values(X, chunk_size=chunk_size)
    warnings.warn(
        f"fast TreeSHAP unavailable ({reason}); falling back to LightGBM pred_contrib",
        RuntimeWarning,
        stacklevel=2,
    )
    n_rows = len(X)
    parts = []
    for start in range(0, n_rows, chunk_size):
        rows = (
            X.iloc[start : start + chunk_size]
            if isinstance(X, pd.DataFrame)
            else X[start : start + chunk_size]
        )
        parts.append(np.asarray(booster.predict(rows, pred_contrib=True)))
    return np.concatenate(parts) if parts else np.asarray(booster.predict(X, pred_contrib=True))


# Explainers and predictors built lately, keyed by the model's text: batch scoring
# (one call per chunk) and serving (one per request) reuse them, and a booster
# changed in place (more rounds, set_leaf_output) has new text, so a new entry.
_BUILT: OrderedDict[tuple[Callable[..., Any], str], Any] = OrderedDict()
_BUILT_MAX = 4
_BUILT_LOCK = threading.Lock()


# The text of boosters read from a model file and never changed (a loaded LeadScorer's):
# ``model_to_string`` costs ~9 ms of CPU per call on a 130-tree model, which a served lead
# paid on every request.
_FROZEN_TEXT: weakref.WeakKeyDictionary[lgb.Booster, str] = weakref.WeakKeyDictionary()


def freeze_booster(booster: lgb.Booster, text: str) -> lgb.Booster:
    """Remember ``text`` as ``booster``'s model text, which the caller promises never
    changes (no more rounds, no ``set_leaf_output``): :func:`built_for` then skips
    ``model_to_string``. Returns the booster."""
    _FROZEN_TEXT[booster] = text
    return booster


def built_for(booster: lgb.Booster, build: Callable[[lgb.Booster], T]) -> T:
    """``build(booster)``, reused while the booster's model text is unchanged.

    ``build`` raising (an unsupported model) is not remembered.
    """
    text = _FROZEN_TEXT.get(booster)
    key = (build, text if text is not None else booster.model_to_string())
    with _BUILT_LOCK:
        if key in _BUILT:
            _BUILT.move_to_end(key)
            return _BUILT[key]
    value = build(booster)
    with _BUILT_LOCK:
        _BUILT[key] = value
        while len(_BUILT) > _BUILT_MAX:
            _BUILT.popitem(last=False)
    return value


def _unsupported_reason(
    header: dict[str, str], trees: list[ParsedTree | None], *, explaining: bool = True
) -> str:
    """Why the fast kernels cannot reproduce LightGBM for this model ("" if they can).

    Data counts matter only to SHAP values (``explaining``), not to predictions.
    """
    per_iteration = int(header.get("num_tree_per_iteration", "1"))
    if per_iteration != 1:
        return (
            f"multiclass models are not supported (num_tree_per_iteration={per_iteration}); "
            "only single-output models (binary, regression, ranking) are"
        )
    if "average_output" in header:
        return "random-forest models (average_output) are not supported"
    linear = [i for i, t in enumerate(trees) if t is None]
    if linear:
        return f"linear_tree models are not supported (trees {linear[:5]} have linear leaves)"
    if not explaining:
        return ""
    empty = [
        i
        for i, t in enumerate(trees)
        if t is not None and t.num_leaves > 1 and (t.internal_count <= 0).any()
    ]
    if empty:
        return f"trees {empty[:5]} have internal nodes with a zero data count"
    return ""


def _parse_model(model: str) -> tuple[dict[str, str], list[ParsedTree | None]]:
    """Header key/values and trees of a LightGBM text model (``None`` for a linear tree)."""
    head, _, rest = model.partition("\nTree=")
    header = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
    header.update({line: "" for line in head.splitlines() if line == "average_output"})
    body = ("Tree=" + rest).split("\nend of trees")[0] if rest else ""
    trees: list[ParsedTree | None] = []
    for block in body.split("\nTree=") if body else []:
        fields = dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line)
        trees.append(None if fields.get("is_linear", "0") != "0" else _parse_tree(fields))
    return header, trees


def _parse_tree(fields: dict[str, str]) -> ParsedTree:
    def numbers(key: str, dtype: type) -> np.ndarray:
        return np.array(fields.get(key, "").split(), dtype=dtype)

    return ParsedTree(
        num_leaves=int(fields["num_leaves"]),
        split_feature=numbers("split_feature", np.int64),
        threshold=numbers("threshold", np.float64),
        decision_type=numbers("decision_type", np.int64),
        left_child=numbers("left_child", np.int64),
        right_child=numbers("right_child", np.int64),
        leaf_value=numbers("leaf_value", np.float64),
        leaf_count=numbers("leaf_count", np.int64),
        internal_count=numbers("internal_count", np.int64),
        cat_boundaries=numbers("cat_boundaries", np.int64),
        cat_threshold=numbers("cat_threshold", np.uint32),
    )


def _check_shape(X: pd.DataFrame | np.ndarray, feature_names: list[str]) -> int:
    """Number of rows, after checking X has the booster's features."""
    if isinstance(X, pd.DataFrame):
        # LightGBM stores feature names with whitespace replaced by underscores.
        columns = ["_".join(str(c).split(" ")) for c in X.columns]
        if columns != feature_names:
            missing = [c for c in feature_names if c not in columns]
            extra = [c for c in columns if c not in feature_names]
            detail = (
                f"missing {missing[:10]}, unexpected {extra[:10]}"
                if missing or extra
                else "same names, other order"
            )
            raise ValueError(
                f"X columns do not match the booster's {len(feature_names)} features ({detail})"
            )
        return len(X)
    if isinstance(X, np.ndarray):
        if X.ndim != 2 or X.shape[1] != len(feature_names):
            raise ValueError(
                f"X must be 2-D with {len(feature_names)} columns, got shape {X.shape}"
            )
        return X.shape[0]
    raise TypeError(f"X must be a pandas DataFrame or numpy array, got {type(X).__name__}")


# Matrices of at most this many rows convert their numeric columns in one block (the
# per-column loop costs a pandas call per feature; larger ones stay column by column,
# so that no second copy of a big chunk is made).
BLOCK_ROWS = 1024


def _feature_major_matrix(
    X: pd.DataFrame | np.ndarray,
    pandas_categorical: list[list] | None,
    *,
    into: np.ndarray | None = None,
) -> np.ndarray:
    """(features x rows) float64 matrix holding the values LightGBM's predict would read.

    Category columns become codes of the categories fixed at training (unknown
    or missing -> NaN), in order, as LightGBM's own pandas conversion does.
    Written into ``into`` (features x rows) when given.
    """
    if isinstance(X, np.ndarray):
        return feature_major(X, into=into)
    # (lists: iterating a pandas Index of strings costs a Python call per name)
    names, dtypes = X.columns.tolist(), list(X.dtypes)
    cat_cols = [
        c for c, dtype in zip(names, dtypes, strict=True) if isinstance(dtype, pd.CategoricalDtype)
    ]
    known = pandas_categorical or []
    if len(cat_cols) != len(known):
        raise ValueError(
            f"X has {len(cat_cols)} category columns {cat_cols[:10]}, "
            f"the booster was trained with {len(known)}"
        )
    bad = [
        c
        for c, dtype in zip(names, dtypes, strict=True)
        if not isinstance(dtype, pd.CategoricalDtype)
        and not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
    ]
    if bad:
        raise ValueError(
            f"X columns must be numeric, bool or category; got other dtypes in {bad[:10]}"
        )
    out = np.empty((X.shape[1], X.shape[0])) if into is None else into
    categories = dict(zip(cat_cols, known, strict=True))
    columns = list(enumerate(names))
    plain = [j for j, column in columns if column not in categories]
    if len(X) <= BLOCK_ROWS and plain:
        # a few rows: the numeric columns in one conversion, not one pandas call each
        out[plain] = X.iloc[:, plain].to_numpy(dtype=np.float64, na_value=np.nan).T
        columns = [(j, column) for j, column in columns if column in categories]
    for j, column in columns:
        series = X[column]
        if column in categories:
            if series.cat.categories.tolist() != list(categories[column]):
                series = series.cat.set_categories(categories[column])
            codes = series.cat.codes.to_numpy(dtype=np.float64)
            codes[codes < 0] = np.nan
            out[j] = codes
        else:
            out[j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return out
