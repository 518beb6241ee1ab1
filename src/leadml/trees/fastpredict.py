"""Raw scores of a LightGBM booster, bit for bit those of ``booster.predict(X, raw_score=True)``.

LightGBM's ``predict`` walks each row down each tree, one unpredictable branch
per level; on 2 cores it scores about 90,000 rows/s with a 272-tree lead
model. :func:`raw_scores` uses the QuickScorer idea instead (Lucchese et al.,
SIGIR 2015): a tree's leaves are numbered left to right and every row starts
with all of them possible; each split the row does *not* go left at removes
its left subtree's leaves with one AND of a 64-bit mask, and the leaf reached
is the lowest bit left. Every split is tested for a block of rows with no
branch on the data (SIMD lanes), LightGBM's decision rules are kept exactly
(missing values, zero as missing, categorical bitsets, values within 1e-35 of
zero read as zero), and the trees are summed in LightGBM's order, so the
doubles are the same.

Trees with more than 64 leaves, and models :class:`~leadml.trees.fastshap.FastTreeExplainer`
does not cover (multiclass, random forest, linear trees), go to ``booster.predict``.

Example::

    margin = raw_scores(booster, X_test)
    assert np.array_equal(margin, booster.predict(X_test, raw_score=True))
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros

from leadml.trees._treeshap import (
    K_ZERO_THRESHOLD,
    MISSING_NAN,
    MISSING_ZERO,
    ParsedTree,
    category_goes_left,
    one_thread_when,
)
from leadml.trees.fastshap import (
    _check_shape,
    _feature_major_matrix,
    _parse_model,
    _unsupported_reason,
    built_for,
)

__all__ = ["FastTreePredictor", "raw_scores"]

MAX_LEAVES = 64  # a tree's possible leaves are one 64-bit mask
_BLOCK_ROWS = 256  # rows tested together against each split (SIMD lanes; stays in L1)


@dataclass(frozen=True)
class FastTreePredictor:
    """A booster's splits as flat arrays, leaves of each tree in left-to-right order.

    ``split_*`` rows are the internal nodes of all trees (``split_start[t]`` is
    tree ``t``'s first); ``keep[s]`` is the mask of leaves still possible after
    a row does not go left at split ``s``.
    """

    feature_names: list[str]
    pandas_categorical: list[list] | None
    split_start: np.ndarray
    leaf_start: np.ndarray
    split_feature: np.ndarray
    threshold: np.ndarray
    missing_type: np.ndarray
    default_left: np.ndarray
    cat_start: np.ndarray
    cat_len: np.ndarray
    keep: np.ndarray
    leaf_value: np.ndarray
    cat_bits: np.ndarray

    @staticmethod
    def supports(booster: lgb.Booster) -> tuple[bool, str]:
        """``(True, "")`` when the kernel scores the booster exactly, else ``(False, reason)``."""
        header, trees = _parse_model(booster.model_to_string())
        return _check(header, trees)

    @classmethod
    def from_booster(cls, booster: lgb.Booster) -> FastTreePredictor:
        """Raises ``ValueError`` for boosters :meth:`supports` rejects."""
        header, trees = _parse_model(booster.model_to_string())
        ok, reason = _check(header, trees)
        if not ok:
            raise ValueError(f"FastTreePredictor cannot score this booster: {reason}")
        parts = [_tree_arrays(tree) for tree in trees]  # type: ignore[arg-type]
        split_start, leaf_start = [0], [0]
        cat_offset = 0
        for part, tree in zip(parts, trees, strict=True):
            split_start.append(split_start[-1] + len(part["split_feature"]))
            leaf_start.append(leaf_start[-1] + len(part["leaf_value"]))
            part["cat_start"] = np.where(part["cat_start"] >= 0, part["cat_start"] + cat_offset, -1)
            cat_offset += len(tree.cat_threshold)  # type: ignore[union-attr]
        flat = {key: np.concatenate([p[key] for p in parts]) for key in _ARRAYS}
        cat_bits = [t.cat_threshold for t in trees]  # type: ignore[union-attr]
        return cls(
            feature_names=header["feature_names"].split(),
            pandas_categorical=booster.pandas_categorical,
            split_start=np.asarray(split_start, dtype=np.int64),
            leaf_start=np.asarray(leaf_start, dtype=np.int64),
            cat_bits=np.concatenate([*cat_bits, np.zeros(1)]).astype(np.uint32),
            **{key: flat[key].astype(dtype) for key, dtype in _ARRAYS.items()},
        )

    def raw_scores(self, X: pd.DataFrame | np.ndarray, *, chunk_size: int = 200_000) -> np.ndarray:
        """The raw margin of every row (float64); rows are converted ``chunk_size`` at a time."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
        n_rows = _check_shape(X, self.feature_names)
        out = np.empty(n_rows)
        for start in range(0, n_rows, chunk_size):
            stop = min(start + chunk_size, n_rows)
            rows = X.iloc[start:stop] if isinstance(X, pd.DataFrame) else X[start:stop]
            with one_thread_when(stop - start <= _BLOCK_ROWS):
                _predict(
                    _feature_major_matrix(rows, self.pandas_categorical), out[start:stop],
                    self.split_start, self.leaf_start, self.split_feature, self.threshold,
                    self.missing_type, self.default_left, self.cat_start, self.cat_len,
                    self.keep, self.leaf_value, self.cat_bits,
                )  # fmt: skip
        return out


def raw_scores(booster: lgb.Booster, X: pd.DataFrame | np.ndarray) -> np.ndarray:
    """``booster.predict(X, raw_score=True)``, through the fast kernel when it covers the model.

    The kernel's arrays are built once per model (see :func:`leadml.trees.fastshap.built_for`).
    """
    try:
        predictor = built_for(booster, FastTreePredictor.from_booster)
    except ValueError:
        return np.asarray(booster.predict(X, raw_score=True), dtype=np.float64)
    return predictor.raw_scores(X)


_ARRAYS = {
    "split_feature": np.int64,
    "threshold": np.float64,
    "missing_type": np.int64,
    "default_left": np.bool_,
    "cat_start": np.int64,
    "cat_len": np.int64,
    "keep": np.uint64,
    "leaf_value": np.float64,
}


def _check(header: dict[str, str], trees: list[ParsedTree | None]) -> tuple[bool, str]:
    reason = _unsupported_reason(header, trees, explaining=False)
    if not reason:
        wide = [i for i, t in enumerate(trees) if t is not None and t.num_leaves > MAX_LEAVES]
        if wide:
            reason = f"trees {wide[:5]} have more than {MAX_LEAVES} leaves"
    return not reason, reason


def _tree_arrays(tree: ParsedTree) -> dict[str, np.ndarray]:
    """One tree's splits (LightGBM's node order) and leaf values left to right."""
    internal = tree.num_leaves - 1
    if internal == 0:
        return {
            **{key: np.zeros(0, dtype=dtype) for key, dtype in _ARRAYS.items()},
            "leaf_value": tree.leaf_value[:1].astype(np.float64),
        }
    # Leaves left to right, and for each split the leaves under its left child.
    order: list[int] = []
    left_leaves: dict[int, list[int]] = {}

    def walk(node: int) -> list[int]:
        if node < 0:
            order.append(~node)
            return [~node]
        left = walk(int(tree.left_child[node]))
        right = walk(int(tree.right_child[node]))
        left_leaves[node] = left
        return left + right

    walk(0)
    position = {leaf: i for i, leaf in enumerate(order)}
    everything = (1 << tree.num_leaves) - 1
    keep = [
        everything & ~sum(1 << position[leaf] for leaf in left_leaves[n]) for n in range(internal)
    ]
    decision = tree.decision_type[:internal].astype(np.int64)
    categorical = (decision & 1) == 1
    bounds = tree.cat_boundaries
    cat_start = np.full(internal, -1, dtype=np.int64)
    cat_len = np.zeros(internal, dtype=np.int64)
    for n in np.flatnonzero(categorical):
        i = int(tree.threshold[n])
        cat_start[n], cat_len[n] = bounds[i], bounds[i + 1] - bounds[i]
    return {
        "split_feature": tree.split_feature[:internal],
        "threshold": np.where(categorical, np.nan, tree.threshold[:internal]),
        "missing_type": (decision >> 2) & 3,
        "default_left": (decision & 2) == 2,
        "cat_start": cat_start,
        "cat_len": cat_len,
        "keep": np.array(keep, dtype=np.uint64),
        "leaf_value": tree.leaf_value[np.array(order)].astype(np.float64),
    }


@njit(cache=True, inline="always")
def _remove_right_turns(mask, keep, x, B, s, threshold, missing_type, default_left,
                        cat_start, cat_len, cat_bits):  # fmt: skip
    """mask[r] &= keep[s] for every row r that does not go left at split s (LightGBM's rules).

    Branch-free over rows: ``keep | -left`` is all ones when the row goes left.
    """
    k = keep[s]
    start = cat_start[s]
    zero = np.uint64(0)
    if start >= 0:
        length = cat_len[s]
        for r in range(B):
            hit = category_goes_left(x[r], start, length, cat_bits)
            mask[r] &= k | (zero - np.uint64(hit))
        return
    thr = threshold[s]
    missing = missing_type[s]
    default = default_left[s]
    if missing == MISSING_NAN:
        for r in range(B):
            v = x[r]
            v = 0.0 if (v <= K_ZERO_THRESHOLD and v >= -K_ZERO_THRESHOLD) else v
            left = ((v != v) & default) | (v <= thr)
            mask[r] &= k | (zero - np.uint64(left))
    elif missing == MISSING_ZERO:
        # zero and NaN (and values within 1e-35 of zero) take the default side
        for r in range(B):
            v = x[r]
            is_zero = (v <= K_ZERO_THRESHOLD) & (v >= -K_ZERO_THRESHOLD)
            left = (((v != v) | is_zero) & default) | ((not is_zero) & (v <= thr))
            mask[r] &= k | (zero - np.uint64(left))
    else:
        # NaN reads as 0
        nan_left = thr >= 0.0
        for r in range(B):
            v = x[r]
            v = 0.0 if (v <= K_ZERO_THRESHOLD and v >= -K_ZERO_THRESHOLD) else v
            left = ((v != v) & nan_left) | (v <= thr)
            mask[r] &= k | (zero - np.uint64(left))


@njit(cache=True, parallel=True)
def _predict(
    M,
    out,
    split_start,
    leaf_start,
    split_feature,
    threshold,
    missing_type,
    default_left,
    cat_start,
    cat_len,
    keep,
    leaf_value,
    cat_bits,
):
    """out[r] = the leaves row r reaches summed over trees in order (M is features x rows)."""
    n_rows = M.shape[1]
    n_trees = split_start.shape[0] - 1
    n_blocks = (n_rows + _BLOCK_ROWS - 1) // _BLOCK_ROWS
    for b in prange(n_blocks):
        r0 = b * _BLOCK_ROWS
        B = min(_BLOCK_ROWS, n_rows - r0)
        total = np.zeros(B)
        mask = np.empty(B, dtype=np.uint64)
        for t in range(n_trees):
            leaves = leaf_start[t]
            for r in range(B):
                mask[r] = np.uint64(0xFFFFFFFFFFFFFFFF)
            for s in range(split_start[t], split_start[t + 1]):
                _remove_right_turns(
                    mask, keep, M[split_feature[s], r0 : r0 + B], B, s, threshold, missing_type,
                    default_left, cat_start, cat_len, cat_bits,
                )  # fmt: skip
            for r in range(B):
                total[r] += leaf_value[leaves + trailing_zeros(mask[r])]
        for r in range(B):
            out[r0 + r] = total[r]
