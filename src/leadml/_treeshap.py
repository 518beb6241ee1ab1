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

Per tree and block of rows the kernel runs three passes over nodes in DFS
pre-order: decisions; a forward pass of path products ``P`` (at a leaf,
``G = v P``, which also scores the leaf's edge); and a backward pass that sums
``G`` up the internal nodes and scores their edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

__all__ = ["ParsedTree", "TreeTables", "build_tables", "explain_matrix", "K_ZERO_THRESHOLD"]

# LightGBM's kZeroThreshold (1e-35f): a dense row drops values this close to 0,
# and they are the "zero" of missing_type=Zero.
K_ZERO_THRESHOLD = float(np.float32(1e-35))
MISSING_ZERO, MISSING_NAN = 1, 2

# Columns of TreeTables.node_int (tree-local node references, -1 for none).
LEFT, RIGHT, SPLIT_FEATURE, MISSING_TYPE, DEFAULT_LEFT, CAT_START, CAT_LEN = range(7)
PARENT, IS_LEFT, EDGE_FEATURE, PREV_EDGE, NEXT_START, NEXT_END = range(7, 13)
# Columns of TreeTables.node_float.
THRESHOLD, COLD_RATIO, ZCUM_DELTA = range(3)
# Planes of TreeTables.node_points (values at the quadrature points).
RATIO_ONE, RATIO_ZERO, WEIGHT_ONE, WEIGHT_ZERO = range(4)


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
        return float(sum((self.leaf_count[i] / total) * self.leaf_value[i] for i in range(self.num_leaves)))


@dataclass(frozen=True)
class TreeTables:
    """Per-node tables of every multi-leaf tree, nodes of a tree in DFS pre-order.

    Node rows are global; ``tree_start[t]`` is tree ``t``'s first row and node
    references stored in the tables are local to the tree. The edge of node
    ``c`` is the one from its parent into ``c``.

    - ``node_int[:, LEFT..CAT_LEN]``: split of internal nodes (``LEFT`` is -1 at a leaf);
    - ``node_int[:, PARENT..NEXT_END]``: the edge's parent, side, feature, the
      previous edge on the same feature and the range in ``next_edges`` of the
      edges whose previous edge it is;
    - ``node_float``: split threshold, the edge's ratio when the feature was
      already cold above, and ``zcum(prev) - zcum(edge)``;
    - ``node_points[c, plane, q]``: the edge's forward ratios and integration
      weights at quadrature point ``q`` (a leaf's ratios carry its value).
    """

    n_features: int
    expected_value: float
    tree_start: np.ndarray
    tree_points: np.ndarray
    node_int: np.ndarray
    node_float: np.ndarray
    node_points: np.ndarray
    next_edges: np.ndarray
    cat_bits: np.ndarray

    @property
    def max_nodes(self) -> int:
        return int(np.diff(self.tree_start).max()) if len(self.tree_points) else 1

    @property
    def max_points(self) -> int:
        return int(self.node_points.shape[2])


def build_tables(trees: list[ParsedTree], n_features: int) -> TreeTables:
    """Precompute the tables of all trees; single-leaf trees only add to the expected value."""
    multi_leaf = [t for t in trees if t.num_leaves > 1]
    points = [_points_needed(t) for t in multi_leaf]
    width = max(points, default=1)
    ints, floats, wide, next_edges, cat_bits = [], [], [], [], []
    tree_start = [0]
    for tree, k in zip(multi_leaf, points, strict=True):
        node_int, node_float, node_points, nxt = _tree_tables(tree, k, width, len(cat_bits))
        ints.append(node_int)
        floats.append(node_float)
        wide.append(node_points)
        for row in node_int:
            row[NEXT_START] += len(next_edges)
            row[NEXT_END] += len(next_edges)
        next_edges.extend(nxt)
        cat_bits.extend(_cat_words(tree))
        tree_start.append(tree_start[-1] + len(node_int))
    return TreeTables(
        n_features=n_features,
        expected_value=float(sum(t.expected_value() for t in trees)),
        tree_start=np.asarray(tree_start, dtype=np.int64),
        tree_points=np.asarray(points, dtype=np.int64),
        node_int=np.vstack(ints) if ints else np.zeros((0, 13), dtype=np.int64),
        node_float=np.vstack(floats) if floats else np.zeros((0, 3)),
        node_points=np.concatenate(wide) if wide else np.zeros((0, 4, 1)),
        next_edges=np.asarray(next_edges or [0], dtype=np.int64),
        cat_bits=np.asarray(cat_bits or [0], dtype=np.uint32),
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


def _cat_words(tree: ParsedTree) -> list[int]:
    return [int(word) for word in tree.cat_threshold]


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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """One tree's (node_int, node_float, node_points, next_edges) in DFS pre-order."""
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

    node_int = np.full((n, 13), -1, dtype=np.int64)
    node_float = np.zeros((n, 3))
    node_float[:, THRESHOLD] = np.nan
    value = np.ones(n)
    zcum = np.ones(n)
    zcum_prev = np.ones(n)
    has_prev = np.zeros(n, dtype=bool)
    last_edge: list[dict[int, int]] = [{} for _ in range(n)]  # feature -> latest edge on the path
    next_of: list[list[int]] = [[] for _ in range(n)]
    for c, node in enumerate(order):
        row = node_int[c]
        if node >= 0:
            left, right = position[int(tree.left_child[node])], position[int(tree.right_child[node])]
            decision = int(tree.decision_type[node])
            row[LEFT], row[RIGHT] = left, right
            row[SPLIT_FEATURE] = int(tree.split_feature[node])
            row[MISSING_TYPE] = (decision >> 2) & 3
            row[DEFAULT_LEFT] = int(bool(decision & 2))
            if decision & 1:
                cat_idx = int(tree.threshold[node])
                lo, hi = int(tree.cat_boundaries[cat_idx]), int(tree.cat_boundaries[cat_idx + 1])
                row[CAT_START], row[CAT_LEN] = cat_offset + lo, hi - lo
            else:
                node_float[c, THRESHOLD] = float(tree.threshold[node])
            for child, is_left in ((left, 1), (right, 0)):
                feature = int(tree.split_feature[node])
                prev = last_edge[c].get(feature, -1)
                node_int[child, PARENT], node_int[child, IS_LEFT] = c, is_left
                node_int[child, EDGE_FEATURE], node_int[child, PREV_EDGE] = feature, prev
                z = counts[child] / counts[c]
                zcum_prev[child] = zcum[prev] if prev >= 0 else 1.0
                zcum[child] = z * zcum_prev[child]
                has_prev[child] = prev >= 0
                node_float[child, COLD_RATIO] = z
                node_float[child, ZCUM_DELTA] = zcum_prev[child] - zcum[child]
                last_edge[child] = {**last_edge[c], feature: child}
                if prev >= 0:
                    next_of[prev].append(child)
        else:
            value[c] = float(tree.leaf_value[~node]) - centre
    next_edges: list[int] = []
    for c in range(n):
        node_int[c, NEXT_START] = len(next_edges)
        next_edges.extend(next_of[c])
        node_int[c, NEXT_END] = len(next_edges)

    x, w = np.polynomial.legendre.leggauss(k)
    y, w = (x + 1.0) / 2.0, w / 2.0
    a = zcum[:, None] * (1.0 - y)  # edge factor when the feature is cold (o = 0)
    b = a + y  # ... and when hot (o = 1)
    b_prev = np.where(has_prev[:, None], zcum_prev[:, None] * (1.0 - y) + y, 1.0)
    node_points = np.zeros((n, 4, width))
    node_points[:, RATIO_ONE, :] = 1.0
    node_points[:, RATIO_ZERO, :] = 1.0
    node_points[1:, RATIO_ONE, :k] = (b / b_prev * value[:, None])[1:]
    node_points[1:, RATIO_ZERO, :k] = (a / b_prev * value[:, None])[1:]
    node_points[1:, WEIGHT_ONE, :k] = (w / b)[1:]
    node_points[1:, WEIGHT_ZERO, :k] = (w / a)[1:]
    node_float[:, COLD_RATIO] *= value
    return node_int, node_float, node_points, next_edges


@njit(cache=True)
def _decide(base, n_nodes, node_int, node_float, cat_bits, xt, go, B):
    """go[n, r]: row r goes left at internal node n, by LightGBM's Decision rules."""
    for n in range(n_nodes):
        g = base + n
        if node_int[g, LEFT] < 0:
            continue
        f = node_int[g, SPLIT_FEATURE]
        start = node_int[g, CAT_START]
        if start >= 0:
            length = node_int[g, CAT_LEN]
            for r in range(B):
                v = xt[f, r]
                hit = False
                # NaN, negatives and values past int32 (cast to INT_MIN) go right.
                if v > -1.0 and v < 2147483648.0:
                    iv = np.int64(v)
                    word = iv >> 5
                    if word < length:
                        hit = ((cat_bits[start + word] >> np.uint32(iv & 31)) & np.uint32(1)) == 1
                go[n, r] = hit
            continue
        thr = node_float[g, THRESHOLD]
        missing = node_int[g, MISSING_TYPE]
        default_left = node_int[g, DEFAULT_LEFT] == 1
        if missing == MISSING_NAN:
            for r in range(B):
                v = xt[f, r]
                go[n, r] = default_left if v != v else v <= thr
        elif missing == MISSING_ZERO:
            for r in range(B):
                v = xt[f, r]
                go[n, r] = default_left if (v != v or v == 0.0) else v <= thr
        else:
            nan_left = 0.0 <= thr
            for r in range(B):
                v = xt[f, r]
                go[n, r] = nan_left if v != v else v <= thr


@njit(cache=True)
def _explain_block(tree_start, tree_points, node_int, node_float, node_points, next_edges, cat_bits, xt, phi, B):
    """Add every tree's SHAP values for one block of rows to ``phi`` (features x rows)."""
    n_trees = tree_points.shape[0]
    max_nodes = 1
    for t in range(n_trees):
        max_nodes = max(max_nodes, tree_start[t + 1] - tree_start[t])
    width = node_points.shape[2]
    go = np.empty((max_nodes, B), dtype=np.bool_)
    one = np.empty((max_nodes, B), dtype=np.bool_)
    P = np.empty((max_nodes, width, B))
    h = np.empty((max_nodes, B))
    J = np.empty((width, B))
    for t in range(n_trees):
        base = tree_start[t]
        n_nodes = tree_start[t + 1] - base
        K = tree_points[t]
        _decide(base, n_nodes, node_int, node_float, cat_bits, xt, go, B)
        # Forward, parents first: one-fractions and path products; at a leaf
        # P holds G = v * P and the leaf's edge is scored at once.
        for q in range(K):
            for r in range(B):
                P[0, q, r] = 1.0
        for c in range(1, n_nodes):
            g = base + c
            p = node_int[g, PARENT]
            prev = node_int[g, PREV_EDGE]
            if node_int[g, IS_LEFT] == 1:
                for r in range(B):
                    one[c, r] = go[p, r]
            else:
                for r in range(B):
                    one[c, r] = not go[p, r]
            if prev >= 0:
                cold = node_float[g, COLD_RATIO]
                for r in range(B):
                    one[c, r] = one[c, r] and one[prev, r]
                for q in range(K):
                    r1 = node_points[g, RATIO_ONE, q]
                    r0 = node_points[g, RATIO_ZERO, q]
                    for r in range(B):
                        P[c, q, r] = P[p, q, r] * ((r1 if one[c, r] else r0) if one[prev, r] else cold)
            else:
                for q in range(K):
                    r1 = node_points[g, RATIO_ONE, q]
                    r0 = node_points[g, RATIO_ZERO, q]
                    for r in range(B):
                        P[c, q, r] = P[p, q, r] * (r1 if one[c, r] else r0)
            if node_int[g, LEFT] < 0:
                _score_edge(g, c, prev, K, node_int, node_float, node_points, next_edges, one, P, h, J, phi, B)
        # Backward, children first: G of internal nodes and their edges' scores.
        for c in range(n_nodes - 1, 0, -1):
            g = base + c
            left = node_int[g, LEFT]
            if left < 0:
                continue
            right = node_int[g, RIGHT]
            for q in range(K):
                for r in range(B):
                    P[c, q, r] = P[left, q, r] + P[right, q, r]
            _score_edge(g, c, node_int[g, PREV_EDGE], K, node_int, node_float, node_points, next_edges, one, P, h, J, phi, B)


@njit(cache=True, inline="always")
def _score_edge(g, c, prev, K, node_int, node_float, node_points, next_edges, one, P, h, J, phi, B):
    """h[c] = integral of G / F over leaves whose last split on the edge's feature is
    this edge (plus the later edges' h); phi[feature] += (change in o - z) * h[c]."""
    s = node_int[g, NEXT_START]
    e = node_int[g, NEXT_END]
    for r in range(B):
        h[c, r] = 0.0
    if s == e:
        for q in range(K):
            w1 = node_points[g, WEIGHT_ONE, q]
            w0 = node_points[g, WEIGHT_ZERO, q]
            for r in range(B):
                h[c, r] += (w1 if one[c, r] else w0) * P[c, q, r]
    else:
        for q in range(K):
            for r in range(B):
                J[q, r] = P[c, q, r]
        for i in range(s, e):
            c2 = next_edges[i]
            for q in range(K):
                for r in range(B):
                    J[q, r] -= P[c2, q, r]
            for r in range(B):
                h[c, r] += h[c2, r]
        for q in range(K):
            w1 = node_points[g, WEIGHT_ONE, q]
            w0 = node_points[g, WEIGHT_ZERO, q]
            for r in range(B):
                h[c, r] += (w1 if one[c, r] else w0) * J[q, r]
    f = node_int[g, EDGE_FEATURE]
    zd = node_float[g, ZCUM_DELTA]
    if prev >= 0:
        for r in range(B):
            phi[f, r] += ((1.0 if one[c, r] else 0.0) - (1.0 if one[prev, r] else 0.0) + zd) * h[c, r]
    else:
        for r in range(B):
            phi[f, r] += ((1.0 if one[c, r] else 0.0) - 1.0 + zd) * h[c, r]


@njit(cache=True, parallel=True)
def _explain_rows(X, out, block, expected_value, tree_start, tree_points, node_int, node_float, node_points, next_edges, cat_bits):
    n_rows, n_features = X.shape
    n_blocks = (n_rows + block - 1) // block
    for b in prange(n_blocks):
        r0 = b * block
        B = min(block, n_rows - r0)
        xt = np.empty((n_features, B))
        for r in range(B):
            for f in range(n_features):
                v = X[r0 + r, f]
                xt[f, r] = 0.0 if (v <= K_ZERO_THRESHOLD and v >= -K_ZERO_THRESHOLD) else v
        phi = np.zeros((n_features, B))
        _explain_block(tree_start, tree_points, node_int, node_float, node_points, next_edges, cat_bits, xt, phi, B)
        for r in range(B):
            for f in range(n_features):
                out[r0 + r, f] = phi[f, r]
            out[r0 + r, n_features] = expected_value


def explain_matrix(tables: TreeTables, X: np.ndarray, out: np.ndarray, *, block: int = 128) -> None:
    """Write SHAP values of the C-contiguous float64 matrix ``X`` into ``out`` (rows x features+1).

    ``block`` rows are explained together; blocks run in parallel on numba's threads.
    """
    _explain_rows(
        X, out, block, tables.expected_value, tables.tree_start, tables.tree_points,
        tables.node_int, tables.node_float, tables.node_points, tables.next_edges, tables.cat_bits,
    )  # fmt: skip
