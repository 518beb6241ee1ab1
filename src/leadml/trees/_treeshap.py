"""Per-node tables and numba kernels for exact path-dependent TreeSHAP.

The algorithm is Linear TreeSHAP (Yu et al., 2022) evaluated at Gauss-Legendre
points and vectorised across a block of rows instead of recursing per row.

For a leaf with value ``v``, unique path features ``D``, cover fractions
``z_j`` and one-fractions ``o_j`` (1 when the row satisfies every split on
``j`` along the path, else 0), path-dependent TreeSHAP gives feature ``i``::

    phi_i += v (o_i - z_i) * integral_0^1 prod_{j in D, j != i} (z_j (1 - y) + o_j y) dy

The integrand is a polynomial of degree ``|D| - 1``, so ``ceil(max |D| / 2)``
Gauss-Legendre points integrate it exactly and every polynomial becomes a
short vector of values at those points. Because ``o_j`` is 0 or 1, each
per-edge factor, ratio and reciprocal takes one of two or three values fixed
by the tree; they are precomputed here, so a row costs selects, multiplies and
adds with no division and no recursion. A feature split again further down a
path is handled by telescoping ``o - z`` over its edges and, for each edge,
integrating only the leaves whose last split on the feature is that edge.

Per tree and block of rows (rows along SIMD lanes) the kernel walks the nodes
once in DFS pre-order, keeping per-depth slots for the current path only: an
internal node computes its decisions and path products ``P``; a leaf adds
``v * P`` into its parent's ``G`` and scores its own edge (its integral is
``v * <w / F(previous edge), P(parent)>``, shared with a leaf sibling); a node
whose second child is done scores its edge from ``G`` and passes ``G`` up.
The cost per row is about (nodes x points) multiply-adds, independent of the
data, with no per-row recursion or allocation.

Leads share work (the pattern path, :func:`explain_matrix`): a tree's values
for a row depend only on the side of each split the row takes, one bit per
internal node, so a tree's rows are reduced to their distinct decision words
(a few percent of open leads per tree), the kernel explains each word once,
reading decisions from its bits, and every row adds its words' values.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

__all__ = [
    "K_ZERO_THRESHOLD",
    "METHODS",
    "Scratch",
    "ParsedTree",
    "TreeTables",
    "build_tables",
    "category_goes_left",
    "explain_matrix",
    "feature_major",
    "one_thread_when",
]

# LightGBM's kZeroThreshold (1e-35f): a dense row drops values this close to 0,
# and they are the "zero" of missing_type=Zero.
K_ZERO_THRESHOLD = float(np.float32(1e-35))
MISSING_ZERO, MISSING_NAN = 1, 2

# Columns of TreeTables.node_int.
IS_LEAF, SPLIT_FEATURE, MISSING_TYPE, DEFAULT_LEFT, CAT_START, CAT_LEN = range(6)
DEPTH, IS_LEFT, EDGE_FEATURE, PREV_DEPTH, HAS_NEXT = range(6, 11)
N_INT_COLUMNS = 11
# Columns of TreeTables.node_float.
THRESHOLD, COLD_RATIO, ZCUM_DELTA, LEAF_VALUE = range(4)
# Planes of TreeTables.node_points (values at the quadrature points).
RATIO_ONE, RATIO_ZERO, WEIGHT_ONE, WEIGHT_ZERO, LEAF_DOT_ONE, LEAF_DOT_ZERO = range(6)
N_PLANES = 6


@dataclass(frozen=True)
class ParsedTree:
    """One LightGBM tree as stored in the text model (LightGBM's own node numbering)."""

    num_leaves: int
    split_feature: np.ndarray
    threshold: np.ndarray
    decision_type: np.ndarray
    left_child: np.ndarray
    right_child: np.ndarray
    leaf_value: np.ndarray
    leaf_count: np.ndarray
    internal_count: np.ndarray
    cat_boundaries: np.ndarray
    cat_threshold: np.ndarray

    def expected_value(self) -> float:
        """LightGBM's ``Tree::ExpectedValue``: leaf values weighted by data counts."""
        if self.num_leaves == 1:
            return float(self.leaf_value[0])
        total = float(self.internal_count[0])
        return float(
            sum((self.leaf_count[i] / total) * self.leaf_value[i] for i in range(self.num_leaves))
        )


@dataclass(frozen=True)
class TreeTables:
    """Per-node tables of every multi-leaf tree, the nodes of a tree in DFS pre-order.

    Rows are global; ``tree_start[t]`` is tree ``t``'s first row. The edge of
    node ``c`` is the one from its parent into ``c``; edges are referred to by
    the depth of their lower node, which is unique along one path.

    - ``node_int[:, IS_LEAF..CAT_LEN]``: the node's split (internal nodes);
    - ``node_int[:, DEPTH..HAS_NEXT]``: depth, side of the parent, the edge's
      feature, the depth of the previous edge on that feature (-1 if none) and
      whether a later edge on the feature below has this edge as previous;
    - ``node_float``: split threshold, the edge's forward ratio when its feature
      was already cold above, ``zcum(previous edge) - zcum(edge)`` and the
      (centred) leaf value;
    - ``node_points[c, plane, q]``: the edge's forward ratios and integration
      weights at quadrature point ``q`` (a leaf's ratios carry its value) and,
      for an internal node, the weights of its leaf children's shared integral;
    - ``node_bit``: an internal node's bit in its tree's decision word (its
      rank among the tree's internal nodes; -1 for a leaf);
    - ``features[feature_start[t]:feature_start[t + 1]]``: the distinct
      features tree ``t`` splits on, the only ones it gives a value.
    """

    n_features: int
    expected_value: float
    tree_start: np.ndarray
    tree_points: np.ndarray
    node_int: np.ndarray
    node_float: np.ndarray
    node_points: np.ndarray
    cat_bits: np.ndarray
    node_bit: np.ndarray
    feature_start: np.ndarray
    features: np.ndarray

    @property
    def max_depth(self) -> int:
        return int(self.node_int[:, DEPTH].max()) if len(self.node_int) else 0

    @property
    def n_trees(self) -> int:
        return len(self.tree_points)

    @property
    def word_bits(self) -> int:
        """Bits of a decision word: 32 or 64, or 0 when a tree has more than 64 splits."""
        splits = int(self.node_bit.max()) + 1 if len(self.node_bit) else 0
        return 32 if splits <= 32 else 64 if splits <= 64 else 0


def build_tables(trees: list[ParsedTree], n_features: int) -> TreeTables:
    """Precompute the tables of all trees; single-leaf trees only add to the expected value."""
    multi_leaf = [t for t in trees if t.num_leaves > 1]
    points = [_points_needed(t) for t in multi_leaf]
    width = max(points, default=1)
    ints, floats, wide, cat_bits, bits = [], [], [], [], []
    tree_start, features, feature_start = [0], [], [0]
    for tree, k in zip(multi_leaf, points, strict=True):
        node_int, node_float, node_points = _tree_tables(tree, k, width, len(cat_bits))
        ints.append(node_int)
        floats.append(node_float)
        wide.append(node_points)
        cat_bits.extend(int(word) for word in tree.cat_threshold)
        tree_start.append(tree_start[-1] + len(node_int))
        internal = node_int[:, IS_LEAF] == 0
        bits.append(np.where(internal, np.cumsum(internal) - 1, -1))
        features.extend(dict.fromkeys(node_int[internal, SPLIT_FEATURE].tolist()))
        feature_start.append(len(features))
    return TreeTables(
        n_features=n_features,
        expected_value=float(sum(t.expected_value() for t in trees)),
        tree_start=np.asarray(tree_start, dtype=np.int64),
        tree_points=np.asarray(points, dtype=np.int64),
        node_int=np.vstack(ints) if ints else np.zeros((0, N_INT_COLUMNS), dtype=np.int64),
        node_float=np.vstack(floats) if floats else np.zeros((0, 4)),
        node_points=np.concatenate(wide) if wide else np.zeros((0, N_PLANES, 1)),
        cat_bits=np.asarray(cat_bits or [0], dtype=np.uint32),
        node_bit=np.concatenate(bits) if bits else np.zeros(0, dtype=np.int64),
        feature_start=np.asarray(feature_start, dtype=np.int64),
        features=np.asarray(features, dtype=np.int64),
    )


def _points_needed(tree: ParsedTree) -> int:
    """Gauss-Legendre points integrating degree ``max |D| - 1`` exactly."""
    deepest = 0
    stack: list[tuple[int, frozenset[int]]] = [(0, frozenset())]
    while stack:
        node, features = stack.pop()
        if node < 0:
            deepest = max(deepest, len(features))
            continue
        features = features | {int(tree.split_feature[node])}
        stack.append((int(tree.left_child[node]), features))
        stack.append((int(tree.right_child[node]), features))
    return max(1, math.ceil(deepest / 2))


def _counts_consistent(tree: ParsedTree) -> bool:
    """Whether every internal count equals its children's counts summed."""

    def count(node: int) -> int:
        return int(tree.internal_count[node] if node >= 0 else tree.leaf_count[~node])

    return all(
        count(n) == count(int(tree.left_child[n])) + count(int(tree.right_child[n]))
        for n in range(tree.num_leaves - 1)
    )


def _tree_tables(
    tree: ParsedTree, k: int, width: int, cat_offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One tree's (node_int, node_float, node_points), nodes in DFS pre-order."""
    order: list[int] = []  # internal nodes as n >= 0, leaves as ~leaf
    stack = [0]
    while stack:
        node = stack.pop()
        order.append(node)
        if node >= 0:
            stack.extend((int(tree.right_child[node]), int(tree.left_child[node])))
    position = {node: i for i, node in enumerate(order)}
    n = len(order)
    counts = np.array(
        [tree.internal_count[v] if v >= 0 else tree.leaf_count[~v] for v in order], dtype=np.float64
    )
    # Centring is exact when child counts add up (the path-dependent weights of
    # the leaves then sum to one) and keeps the first tree's bias out of the sums.
    centre = tree.expected_value() if _counts_consistent(tree) else 0.0

    node_int = np.zeros((n, N_INT_COLUMNS), dtype=np.int64)
    node_int[:, [CAT_START, EDGE_FEATURE, PREV_DEPTH, SPLIT_FEATURE]] = -1
    node_float = np.zeros((n, 4))
    node_float[:, THRESHOLD] = np.nan
    value = np.ones(n)
    zcum = np.ones(n)
    zcum_prev = np.ones(n)
    has_prev = np.zeros(n, dtype=bool)
    last_edge: list[dict[int, int]] = [{} for _ in range(n)]  # feature -> latest edge on the path
    for c, node in enumerate(order):
        row = node_int[c]
        if node < 0:
            row[IS_LEAF] = 1
            value[c] = float(tree.leaf_value[~node]) - centre
            node_float[c, LEAF_VALUE] = value[c]
            continue
        feature = int(tree.split_feature[node])
        decision = int(tree.decision_type[node])
        row[SPLIT_FEATURE] = feature
        row[MISSING_TYPE] = (decision >> 2) & 3
        row[DEFAULT_LEFT] = int(bool(decision & 2))
        if decision & 1:
            cat_idx = int(tree.threshold[node])
            lo, hi = int(tree.cat_boundaries[cat_idx]), int(tree.cat_boundaries[cat_idx + 1])
            row[CAT_START], row[CAT_LEN] = cat_offset + lo, hi - lo
        else:
            node_float[c, THRESHOLD] = float(tree.threshold[node])
        prev = last_edge[c].get(feature, -1)
        for child, is_left in (
            (position[int(tree.left_child[node])], 1),
            (position[int(tree.right_child[node])], 0),
        ):
            z = counts[child] / counts[c]
            zcum_prev[child] = zcum[prev] if prev >= 0 else 1.0
            zcum[child] = z * zcum_prev[child]
            has_prev[child] = prev >= 0
            node_int[child, DEPTH] = row[DEPTH] + 1
            node_int[child, IS_LEFT] = is_left
            node_int[child, EDGE_FEATURE] = feature
            node_int[child, PREV_DEPTH] = node_int[prev, DEPTH] if prev >= 0 else -1
            node_float[child, COLD_RATIO] = z
            node_float[child, ZCUM_DELTA] = zcum_prev[child] - zcum[child]
            last_edge[child] = {**last_edge[c], feature: child}
            if prev >= 0:
                node_int[prev, HAS_NEXT] = 1

    x, w = np.polynomial.legendre.leggauss(k)
    y, w = (x + 1.0) / 2.0, w / 2.0
    a = zcum[:, None] * (1.0 - y)  # edge factor when the feature is cold (o = 0)
    b = a + y  # ... and when it is hot (o = 1)
    b_prev = np.where(has_prev[:, None], zcum_prev[:, None] * (1.0 - y) + y, 1.0)
    a_prev = np.where(has_prev[:, None], zcum_prev[:, None] * (1.0 - y), 1.0)
    node_points = np.zeros((n, N_PLANES, width))
    node_points[1:, RATIO_ONE, :k] = (b / b_prev * value[:, None])[1:]
    node_points[1:, RATIO_ZERO, :k] = (a / b_prev * value[:, None])[1:]
    node_points[1:, WEIGHT_ONE, :k] = (w / b)[1:]
    node_points[1:, WEIGHT_ZERO, :k] = (w / a)[1:]
    # A leaf's h is v * <w / F(previous edge), P(parent)>, shared by sibling
    # leaves; an internal node holds those weights (its children's previous edge).
    internal = np.flatnonzero(node_int[:, IS_LEAF] == 0)
    first_child = internal + 1
    node_points[internal, LEAF_DOT_ONE, :k] = w / b_prev[first_child]
    node_points[internal, LEAF_DOT_ZERO, :k] = w / a_prev[first_child]
    node_float[:, COLD_RATIO] *= value
    return node_int, node_float, node_points


@njit(cache=True, inline="always")
def category_goes_left(v, start, length, cat_bits):
    """LightGBM's categorical split: the code's bit in the split's bitset ``cat_bits[start:start + length]``.

    NaN, negatives and values past int32 (cast to INT_MIN by LightGBM) go right.
    """
    if v > -1.0 and v < 2147483648.0:
        iv = np.int64(v)
        word = iv >> 5
        if word < length:
            return ((cat_bits[start + word] >> np.uint32(iv & 31)) & np.uint32(1)) == 1
    return False


@njit(cache=True, inline="always", fastmath={"contract"})
def _decide(g, node_int, node_float, cat_bits, xt, go, B):
    """go[r]: row r goes left at internal node g, by LightGBM's Decision rules."""
    f = node_int[g, SPLIT_FEATURE]
    start = node_int[g, CAT_START]
    if start >= 0:
        length = node_int[g, CAT_LEN]
        for r in range(B):
            go[r] = category_goes_left(xt[f, r], start, length, cat_bits)
        return
    thr = node_float[g, THRESHOLD]
    missing = node_int[g, MISSING_TYPE]
    default_left = node_int[g, DEFAULT_LEFT] == 1
    if missing == MISSING_NAN:
        for r in range(B):
            v = xt[f, r]
            go[r] = default_left if v != v else v <= thr
    elif missing == MISSING_ZERO:
        for r in range(B):
            v = xt[f, r]
            go[r] = default_left if (v != v or v == 0.0) else v <= thr
    else:
        nan_left = thr >= 0.0
        for r in range(B):
            v = xt[f, r]
            go[r] = nan_left if v != v else v <= thr


@njit(cache=True)
def _block_scratch(max_depth, width, B):
    """Per-depth working arrays of :func:`_explain_block` for blocks of up to B rows."""
    slots = max_depth + 1
    return (
        np.empty((slots, width, B)),  # P
        np.empty((slots, width, B)),  # G
        np.empty((slots, width, B)),  # S
        np.empty((slots, B)),  # H
        np.empty((slots, B)),  # dot
        np.empty((slots, B), dtype=np.bool_),  # one
        np.empty((slots, B), dtype=np.bool_),  # go
        np.empty(B),  # h
        np.empty(slots, dtype=np.int64),  # node_at
        np.empty(slots, dtype=np.int64),  # finished
    )


@njit(cache=True, fastmath={"contract"})
def _explain_block(
    t, tree_start, tree_points, node_int, node_float, node_points, cat_bits, node_bit, xt, words,
    phi, B, scratch,
):  # fmt: skip
    """Add tree ``t``'s SHAP values for one block of rows to ``phi`` (features x rows).

    Decisions come from the feature values ``xt`` (features x rows), or, when
    ``words`` is not empty, from the bits of each row's decision word.

    Nodes are visited in pre-order with per-depth slots for the internal nodes
    on the current path: ``P`` path products, ``one`` cumulative one-fractions,
    ``go`` decisions, ``G`` the summed ``v * P`` of finished children,
    ``S``/``H`` what later edges on the same feature took (their G and h) and
    ``dot`` the integral shared by leaf children. Leaves get no slot.
    """
    P, G, S, H, dot, one, go, h, node_at, finished = scratch
    from_words = words.shape[0] > 0
    base = tree_start[t]
    K = tree_points[t]
    for q in range(K):
        for r in range(B):
            P[0, q, r] = 1.0
    for c in range(tree_start[t + 1] - base):
        g = base + c
        d = node_int[g, DEPTH]
        if node_int[g, IS_LEAF] == 0:
            node_at[d] = g
            if d > 0:
                _enter_edge(g, d, K, node_int, node_float, node_points, go, one, P, S, H, B)
            if from_words:
                bit = np.uint64(node_bit[g])
                for r in range(B):
                    go[d, r] = (np.uint64(words[r]) >> bit) & np.uint64(1) == 1
            else:
                _decide(g, node_int, node_float, cat_bits, xt, go[d], B)
            finished[d] = 0
            continue
        d -= 1  # the leaf's parent
        _leaf_edge(
            g,
            node_at[d],
            d,
            finished[d],
            K,
            node_int,
            node_float,
            node_points,
            go,
            one,
            P,
            G,
            S,
            H,
            dot,
            h,
            phi,
            B,
        )
        finished[d] += 1
        # Finish every internal node whose second child this completes.
        while finished[d] == 2 and d > 0:
            # Pass G up while scoring: copied into a fresh parent slot, added
            # to a half-finished one, dropped at the root (never used).
            mode = 2 if d == 1 else finished[d - 1]
            _score_edge(
                node_at[d],
                d,
                mode,
                K,
                node_int,
                node_float,
                node_points,
                one,
                G,
                S,
                H,
                h,
                phi,
                B,
            )
            finished[d - 1] += 1
            d -= 1


@njit(cache=True, inline="always", fastmath={"contract"})
def _leaf_edge(
    g, n, d, first, K, node_int, node_float, node_points, go, one, P, G, S, H, dot, h, phi, B
):
    """Add leaf g's v * P to its parent n's G (slot d) and score the leaf's edge.

    The leaf's h = v * <w / F(previous edge), P(parent)> does not depend on the
    leaf's own decision, so sibling leaves share ``dot``.
    """
    prev = node_int[g, PREV_DEPTH]
    left = node_int[g, IS_LEFT] == 1
    need_dot = first == 0 or node_int[n + 1, IS_LEAF] == 0  # no leaf sibling before it
    if need_dot:
        for r in range(B):
            dot[d, r] = 0.0
    v = node_float[g, LEAF_VALUE]
    f = node_int[g, EDGE_FEATURE]
    zd = node_float[g, ZCUM_DELTA]
    if prev >= 0:
        cold = node_float[g, COLD_RATIO]
        for q in range(K):
            r1 = node_points[g, RATIO_ONE, q]
            r0 = node_points[g, RATIO_ZERO, q]
            if need_dot:
                w1 = node_points[n, LEAF_DOT_ONE, q]
                w0 = node_points[n, LEAF_DOT_ZERO, q]
                for r in range(B):
                    dot[d, r] += (w1 if one[prev, r] else w0) * P[d, q, r]
            for r in range(B):
                o = go[d, r] == left
                x = P[d, q, r] * ((r1 if o else r0) if one[prev, r] else cold)
                G[d, q, r] = x if first == 0 else G[d, q, r] + x
                S[prev, q, r] += x
        for r in range(B):
            o = (go[d, r] == left) and one[prev, r]
            hv = v * dot[d, r]
            phi[f, r] += ((1.0 if o else 0.0) - (1.0 if one[prev, r] else 0.0) + zd) * hv
            H[prev, r] += hv
    else:
        for q in range(K):
            r1 = node_points[g, RATIO_ONE, q]
            r0 = node_points[g, RATIO_ZERO, q]
            w = node_points[n, LEAF_DOT_ONE, q]
            if first == 0:
                for r in range(B):
                    p = P[d, q, r]
                    dot[d, r] += w * p
                    G[d, q, r] = p * (r1 if go[d, r] == left else r0)
            elif need_dot:
                for r in range(B):
                    p = P[d, q, r]
                    dot[d, r] += w * p
                    G[d, q, r] += p * (r1 if go[d, r] == left else r0)
            else:
                for r in range(B):
                    G[d, q, r] += P[d, q, r] * (r1 if go[d, r] == left else r0)
        for r in range(B):
            phi[f, r] += ((1.0 if go[d, r] == left else 0.0) - 1.0 + zd) * (v * dot[d, r])


@njit(cache=True, inline="always", fastmath={"contract"})
def _enter_edge(g, d, K, node_int, node_float, node_points, go, one, P, S, H, B):
    """one[d] and P[d] for the edge into node g at depth d."""
    prev = node_int[g, PREV_DEPTH]
    if node_int[g, IS_LEFT] == 1:
        for r in range(B):
            one[d, r] = go[d - 1, r]
    else:
        for r in range(B):
            one[d, r] = not go[d - 1, r]
    if prev >= 0:
        cold = node_float[g, COLD_RATIO]
        for r in range(B):
            one[d, r] = one[d, r] & one[prev, r]
        for q in range(K):
            r1 = node_points[g, RATIO_ONE, q]
            r0 = node_points[g, RATIO_ZERO, q]
            for r in range(B):
                P[d, q, r] = P[d - 1, q, r] * ((r1 if one[d, r] else r0) if one[prev, r] else cold)
    else:
        for q in range(K):
            r1 = node_points[g, RATIO_ONE, q]
            r0 = node_points[g, RATIO_ZERO, q]
            for r in range(B):
                P[d, q, r] = P[d - 1, q, r] * (r1 if one[d, r] else r0)
    if node_int[g, HAS_NEXT] == 1:
        for q in range(K):
            for r in range(B):
                S[d, q, r] = 0.0
        for r in range(B):
            H[d, r] = 0.0


@njit(cache=True, inline="always", fastmath={"contract"})
def _score_edge(g, d, mode, K, node_int, node_float, node_points, one, G, S, H, h, phi, B):
    """Score the edge into internal node g (depth d) whose subtree sums to ``G[d]``.

    h = integral of G / F over the leaves whose last split on the edge's feature
    is this edge, plus the h of later edges on it; phi += (change in o - z) * h.
    ``G[d]`` goes to the parent's slot: copied (mode 0), added (1) or not (2).
    """
    prev = node_int[g, PREV_DEPTH]
    Gd = G[d]
    Gp = G[d - 1]
    if node_int[g, HAS_NEXT] == 1:
        for r in range(B):
            h[r] = H[d, r]
    else:
        for r in range(B):
            h[r] = 0.0
    for q in range(K):
        w1 = node_points[g, WEIGHT_ONE, q]
        w0 = node_points[g, WEIGHT_ZERO, q]
        if node_int[g, HAS_NEXT] == 1:
            for r in range(B):
                h[r] += (w1 if one[d, r] else w0) * (Gd[q, r] - S[d, q, r])
            if mode == 0:
                for r in range(B):
                    Gp[q, r] = Gd[q, r]
            elif mode == 1:
                for r in range(B):
                    Gp[q, r] += Gd[q, r]
        elif mode == 0:
            for r in range(B):
                x = Gd[q, r]
                h[r] += (w1 if one[d, r] else w0) * x
                Gp[q, r] = x
        elif mode == 1:
            for r in range(B):
                x = Gd[q, r]
                h[r] += (w1 if one[d, r] else w0) * x
                Gp[q, r] += x
        else:
            for r in range(B):
                h[r] += (w1 if one[d, r] else w0) * Gd[q, r]
    f = node_int[g, EDGE_FEATURE]
    zd = node_float[g, ZCUM_DELTA]
    if prev >= 0:
        for r in range(B):
            phi[f, r] += ((1.0 if one[d, r] else 0.0) - (1.0 if one[prev, r] else 0.0) + zd) * h[r]
        for q in range(K):
            for r in range(B):
                S[prev, q, r] += Gd[q, r]
        for r in range(B):
            H[prev, r] += h[r]
    else:
        for r in range(B):
            phi[f, r] += ((1.0 if one[d, r] else 0.0) - 1.0 + zd) * h[r]


@njit(cache=True, parallel=True)
def _feature_major(X, M):
    """M[f, r] = X[r, f] (X rows x features)."""
    n_rows, n_features = X.shape
    for f in prange(n_features):
        for r in range(n_rows):
            M[f, r] = X[r, f]


@njit(cache=True, parallel=True, fastmath={"contract"})
def _explain_rows(
    M,
    out,
    block,
    expected_value,
    tree_start,
    tree_points,
    node_int,
    node_float,
    node_points,
    cat_bits,
    node_bit,
    feature_start,
    features,
    max_depth,
):
    """SHAP values of every row, ``block`` rows at a time (blocks in parallel).

    Each tree is explained into a zeroed buffer and then added, tree after
    tree, so a row's values are summed in the same order, hence to the same
    bits, as in the pattern path.
    """
    n_features, n_rows = M.shape
    n_blocks = (n_rows + block - 1) // block
    words = np.zeros(0, dtype=np.uint64)
    for b in prange(n_blocks):
        r0 = b * block
        B = min(block, n_rows - r0)
        xt = _dense_block(M, r0, B)
        phi = np.zeros((n_features, B))
        tree_phi = np.zeros((n_features, B))
        scratch = _block_scratch(max_depth, node_points.shape[2], B)
        for t in range(tree_points.shape[0]):
            _explain_block(
                t, tree_start, tree_points, node_int, node_float, node_points, cat_bits, node_bit,
                xt, words, tree_phi, B, scratch,
            )  # fmt: skip
            for f in features[feature_start[t] : feature_start[t + 1]]:
                for r in range(B):
                    phi[f, r] += tree_phi[f, r]
                    tree_phi[f, r] = 0.0
        for r in range(B):
            for f in range(n_features):
                out[r0 + r, f] = phi[f, r]
            out[r0 + r, n_features] = expected_value


# The pattern path pays for itself on chunks of this many rows or more ...
PATTERN_MIN_ROWS = 4096
# ... unless the trees see more than this fraction of distinct decision words.
PATTERN_MAX_DISTINCT = 0.5
METHODS = ("auto", "rows", "patterns")


class Scratch:
    """Working arrays kept between chunks: reused, so a chunk does not page in fresh memory.

    Each buffer grows to the largest request and is handed out as a view.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        size = int(np.prod(shape))
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != dtype or buffer.size < size:
            buffer = self._buffers[name] = np.empty(size, dtype=dtype)
        return buffer[:size].reshape(shape)


def explain_matrix(
    tables: TreeTables,
    M: np.ndarray,
    out: np.ndarray,
    *,
    block: int = 256,
    method: str = "auto",
    scratch: Scratch | None = None,
) -> str:
    """Write SHAP values of the feature-major float64 matrix ``M`` into ``out`` (rows x features+1).

    ``M[f, r]`` is feature ``f`` of row ``r`` (see :func:`feature_major`).
    ``method`` chooses how:

    - ``"rows"`` explains every row: ``block`` rows at a time along SIMD lanes,
      blocks in parallel on numba's threads;
    - ``"patterns"`` explains each tree's distinct decision patterns once. A
      tree's values for a row depend only on which side of each split the row
      falls, a word of at most 64 bits; many leads share a word (a cold lead
      takes the same sides as other cold leads), so per tree the distinct words
      are explained (``block`` at a time) and every row adds its word's values;
    - ``"auto"`` takes patterns for chunks of ``PATTERN_MIN_ROWS`` rows or more
      and switches to rows when over ``PATTERN_MAX_DISTINCT`` of the words are
      distinct (then sharing saves less than the bookkeeping costs).

    Both give the same values to the bit (each tree's values are computed by
    the same operations and summed in tree order), so how rows are split into
    chunks never changes a result. ``scratch`` lends working arrays to the
    pattern path (pass the same one for every chunk). Returns the method used.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    n_rows = M.shape[1]
    word_bits = tables.word_bits
    if method == "patterns" and not word_bits:
        raise ValueError("method='patterns' needs trees of at most 65 leaves (64 splits)")
    if (
        word_bits
        and tables.n_trees
        and (method == "patterns" or (method == "auto" and n_rows >= PATTERN_MIN_ROWS))
    ):
        scratch = scratch or Scratch()
        word_type = np.uint32 if word_bits == 32 else np.uint64
        words = scratch.get("words", (tables.n_trees, n_rows), word_type)
        _decision_words(
            M, words, tables.tree_start, tables.node_int, tables.node_float, tables.cat_bits,
            tables.node_bit,
        )  # fmt: skip
        pattern = scratch.get("pattern", (tables.n_trees, n_rows), np.uint32)
        n_patterns = np.empty(tables.n_trees, dtype=np.int64)
        _distinct_words(words, pattern, n_patterns)
        if method == "patterns" or n_patterns.sum() <= PATTERN_MAX_DISTINCT * words.size:
            if n_patterns.max() <= 1 << 16:
                # half the bytes to stream for every (feature, tree) pass that adds values
                narrow = scratch.get("pattern16", pattern.shape, np.uint16)
                _copy(pattern, narrow)
                pattern = narrow
            _explain_patterns(tables, words, pattern, n_patterns, out, block, scratch)
            return "patterns"
    with one_thread_when(n_rows <= block):
        _explain_rows(
            M, out, block, tables.expected_value, tables.tree_start, tables.tree_points,
            tables.node_int, tables.node_float, tables.node_points, tables.cat_bits,
            tables.node_bit, tables.feature_start, tables.features, tables.max_depth,
        )  # fmt: skip
    return "rows"


@contextmanager
def one_thread_when(small: bool) -> Iterator[None]:
    """Run numba's parallel loops in the calling thread when ``small`` (one block of rows).

    A served lead is one block: there is nothing to share among threads, and waking them
    cost 16 ms of CPU (1.4 ms alone) on a busy 2-core machine. Blocks are independent,
    so the values are the same to the bit either way.
    """
    if not small:
        yield
        return
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def _explain_patterns(
    tables: TreeTables,
    words: np.ndarray,
    pattern: np.ndarray,
    n_patterns: np.ndarray,
    out: np.ndarray,
    block: int,
    scratch: Scratch,
) -> None:
    """SHAP values from each tree's distinct words (``words[t, :n_patterns[t]]``).

    ``values`` holds, tree after tree, a (tree features x patterns) table.
    """
    widths = np.diff(tables.feature_start)
    sizes = widths * n_patterns
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    values = scratch.get("values", (int(sizes.sum()),), np.float64)
    jobs = np.array(
        [(t, k) for t in range(tables.n_trees) for k in range(0, int(n_patterns[t]), block)],
        dtype=np.int64,
    ).reshape(-1, 2)
    _pattern_values(
        jobs, block, words, n_patterns, offsets, values, tables.n_features, tables.tree_start,
        tables.tree_points, tables.node_int, tables.node_float, tables.node_points,
        tables.cat_bits, tables.node_bit, tables.feature_start, tables.features, tables.max_depth,
    )  # fmt: skip
    phi = scratch.get("phi", (tables.n_features, words.shape[1]), np.float64)
    phi[:] = 0.0
    # the (tree, slot) pairs of each feature, trees in order (the order values are summed in)
    entries = np.argsort(tables.features, kind="stable")
    entry_tree = np.repeat(np.arange(tables.n_trees), widths)[entries]
    entry_slot = entries - tables.feature_start[entry_tree]
    entry_start = np.searchsorted(tables.features[entries], np.arange(tables.n_features + 1))
    _add_pattern_values(
        pattern, n_patterns, offsets, values, entry_start, entry_tree, entry_slot, phi,
        numba.get_num_threads(),
    )  # fmt: skip
    _write_rows(phi, out, tables.expected_value)


@njit(cache=True, parallel=True, fastmath={"contract"})
def _decision_words(M, words, tree_start, node_int, node_float, cat_bits, node_bit):
    """words[t, r]: bit ``node_bit[g]`` set when row r goes left at internal node g of tree t.

    Blocks of rows run in parallel, every tree over one block, so each block
    of ``M`` is read from memory once.
    """
    n_features, n_rows = M.shape
    rows = 512
    for b in prange((n_rows + rows - 1) // rows):
        r0 = b * rows
        B = min(rows, n_rows - r0)
        xt = _dense_block(M, r0, B)
        go = np.empty(B, dtype=np.bool_)
        for t in range(tree_start.shape[0] - 1):
            word = words[t, r0 : r0 + B]
            for r in range(B):
                word[r] = 0
            for g in range(tree_start[t], tree_start[t + 1]):
                if node_int[g, IS_LEAF] == 0:
                    _decide(g, node_int, node_float, cat_bits, xt, go, B)
                    shift = np.uint64(node_bit[g])
                    for r in range(B):
                        word[r] = np.uint64(word[r]) | (np.uint64(go[r]) << shift)


@njit(cache=True, inline="always")
def _dense_block(M, r0, B):
    """Columns r0..r0+B of M as a LightGBM dense row holds them: within 1e-35 of 0 reads as 0."""
    n_features = M.shape[0]
    xt = np.empty((n_features, B))
    for f in range(n_features):
        for r in range(B):
            v = M[f, r0 + r]
            xt[f, r] = 0.0 if (v <= K_ZERO_THRESHOLD and v >= -K_ZERO_THRESHOLD) else v
    return xt


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier


@njit(cache=True, parallel=True)
def _distinct_words(words, pattern, n_patterns):
    """Per tree, number the distinct words in order of first appearance.

    ``pattern[t, r]`` is row r's number; the distinct words are moved, in that
    order, to the front of ``words[t]`` (in place: a word is moved only to a
    slot already read) and ``n_patterns[t]`` counts them. Open addressing with
    a table doubled at half load, so it stays as small as the distinct words.
    """
    n_trees, n_rows = words.shape
    for t in prange(n_trees):
        row = words[t]
        bits = 10
        keys = np.zeros(1 << bits, dtype=words.dtype)
        ids = np.full(1 << bits, -1, dtype=np.int32)
        n = 0
        for r in range(n_rows):
            w = np.uint64(row[r])
            mask = np.uint64((1 << bits) - 1)
            s = (w * _GOLDEN) >> np.uint64(64 - bits)
            while ids[s] >= 0 and np.uint64(keys[s]) != w:
                s = (s + np.uint64(1)) & mask
            if ids[s] >= 0:
                pattern[t, r] = ids[s]
                continue
            ids[s] = n
            keys[s] = w
            row[n] = w
            pattern[t, r] = n
            n += 1
            if 2 * n > (1 << bits):
                bits += 1
                mask = np.uint64((1 << bits) - 1)
                keys = np.zeros(1 << bits, dtype=words.dtype)
                ids = np.full(1 << bits, -1, dtype=np.int32)
                for k in range(n):
                    w = np.uint64(row[k])
                    s = (w * _GOLDEN) >> np.uint64(64 - bits)
                    while ids[s] >= 0:
                        s = (s + np.uint64(1)) & mask
                    ids[s] = k
                    keys[s] = w
        n_patterns[t] = n


@njit(cache=True, parallel=True, fastmath={"contract"})
def _pattern_values(
    jobs, block, words, n_patterns, offsets, values, n_features, tree_start, tree_points,
    node_int, node_float, node_points, cat_bits, node_bit, feature_start, features, max_depth,
):  # fmt: skip
    """values[offsets[t] + j * n_patterns[t] + k]: tree t's value for its j-th feature and pattern k.

    A job is (tree, first pattern) and explains ``block`` patterns of one tree.
    """
    no_rows = np.empty((0, 0))
    for i in prange(jobs.shape[0]):
        t, k0 = jobs[i, 0], jobs[i, 1]
        B = min(block, n_patterns[t] - k0)
        phi = np.zeros((n_features, B))
        _explain_block(
            t, tree_start, tree_points, node_int, node_float, node_points, cat_bits, node_bit,
            no_rows, words[t, k0 : k0 + B], phi, B, _block_scratch(max_depth, node_points.shape[2], B),
        )  # fmt: skip
        for j in range(feature_start[t + 1] - feature_start[t]):
            f = features[feature_start[t] + j]
            o = offsets[t] + j * n_patterns[t] + k0
            for b in range(B):
                values[o + b] = phi[f, b]


@njit(cache=True, parallel=True)
def _add_pattern_values(
    pattern, n_patterns, offsets, values, entry_start, entry_tree, entry_slot, phi, parts
):
    """phi[f, r] += the value of row r's pattern for f in every tree splitting on f.

    Rows are cut into ``parts`` run in parallel; feature by feature, so a row
    of ``phi`` stays in cache while its trees add to it (in tree order).
    Unsigned pattern numbers index without a negative-index check.
    """
    n_rows = pattern.shape[1]
    step = (n_rows + parts - 1) // parts
    for p in prange(parts):
        lo, hi = p * step, min(n_rows, (p + 1) * step)
        for f in range(entry_start.shape[0] - 1):
            target = phi[f]
            for e in range(entry_start[f], entry_start[f + 1]):
                t = entry_tree[e]
                column = values[offsets[t] + entry_slot[e] * n_patterns[t] :]
                row_pattern = pattern[t]
                for r in range(lo, hi):
                    target[r] += column[row_pattern[r]]


@njit(cache=True, parallel=True)
def _copy(source, target):
    """target[:] = source, rows in parallel (narrowing integers that fit)."""
    for i in prange(source.shape[0]):
        for j in range(source.shape[1]):
            target[i, j] = source[i, j]


@njit(cache=True, parallel=True)
def _write_rows(phi, out, expected_value):
    """out[r, :n_features] = phi[:, r]; out[r, n_features] = expected_value."""
    n_features, n_rows = phi.shape
    rows = 256
    for b in prange((n_rows + rows - 1) // rows):
        for r in range(b * rows, min(n_rows, (b + 1) * rows)):
            for f in range(n_features):
                out[r, f] = phi[f, r]
            out[r, n_features] = expected_value


def feature_major(X: np.ndarray, *, into: np.ndarray | None = None) -> np.ndarray:
    """The (features x rows) float64 copy of a (rows x features) matrix that the kernels read.

    Written into ``into`` when given.
    """
    X = np.asarray(X, dtype=np.float64)
    M = np.empty((X.shape[1], X.shape[0])) if into is None else into
    _feature_major(X, M)
    return M
