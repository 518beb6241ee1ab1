"""Compiled tables and numba kernels for exact path-dependent TreeSHAP.

The algorithm is Linear TreeSHAP (Yu et al., 2022) evaluated at Gauss-Legendre
points and vectorised across a block of rows instead of recursing per row.

For a leaf ``l`` with value ``v``, unique path features ``D``, cover fractions
``z_j`` and one-fractions ``o_j`` (1 when the row satisfies every split on ``j``
along the path, else 0), path-dependent TreeSHAP gives feature ``i``::

    phi_i += v * (o_i - z_i) * integral_0^1 prod_{j in D, j != i} (z_j (1 - y) + o_j y) dy

The integrand is a polynomial of degree ``|D| - 1``, so ``ceil(max |D| / 2)``
Gauss-Legendre points integrate it exactly. Every quantity is then a short
vector over those points, and since ``o_j`` is 0 or 1 each per-edge factor,
ratio and reciprocal takes one of two or three values fixed by the tree:
they are precomputed here, so a row costs selects, multiplies and adds with no
division and no per-row recursion. Splits on a feature already on the path are
handled by telescoping ``o - z`` over the feature's edges (the "previous edge"
of Linear TreeSHAP).

Per tree and block of rows the kernel makes three passes over nodes in DFS
pre-order: decisions, a forward pass of path products ``P`` and a backward
pass summing ``G = sum_leaves v * P`` and scoring each edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

__all__ = ["ParsedTree", "TreeTables", "build_tables", "shap_block_kernel", "K_ZERO_THRESHOLD"]

# LightGBM's kZeroThreshold (1e-35f): values this close to 0 are read as 0 and
# are "zero" for missing_type=Zero.
K_ZERO_THRESHOLD = float(np.float32(1e-35))
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2


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
    """Flat, per-node arrays for every multi-leaf tree, nodes in DFS pre-order.

    Node arrays are indexed globally; ``tree_start[t]`` is tree ``t``'s first node and
    node references inside a tree (``left``, ``parent``, ...) are tree-local.
    """

    n_features: int
    expected_value: float
    tree_start: np.ndarray
    tree_points: np.ndarray
    max_nodes: int
    max_points: int
    # internal-node decision data
    left: np.ndarray
    right: np.ndarray
    split_feature: np.ndarray
    threshold: np.ndarray
    missing_type: np.ndarray
    default_left: np.ndarray
    cat_start: np.ndarray
    cat_len: np.ndarray
    cat_bits: np.ndarray
    leaf_value: np.ndarray
    # per-edge data; the edge of node c is the one from its parent into c
    parent: np.ndarray
    is_left: np.ndarray
    edge_feature: np.ndarray
    prev_edge: np.ndarray
    z_edge: np.ndarray
    zcum_delta: np.ndarray
    ratio_one: np.ndarray
    ratio_zero: np.ndarray
    weight_one: np.ndarray
    weight_zero: np.ndarray
    next_start: np.ndarray
    next_edges: np.ndarray


def _preorder(tree: ParsedTree) -> tuple[list[int], dict[int, int]]:
    """Nodes in DFS pre-order (left first); internal as ``n >= 0``, leaves as ``~leaf``."""
    order: list[int] = []
    stack = [0]
    while stack:
        node = stack.pop()
        order.append(node)
        if node >= 0:
            stack.append(int(tree.right_child[node]))
            stack.append(int(tree.left_child[node]))
    return order, {node: i for i, node in enumerate(order)}


def _counts_consistent(tree: ParsedTree) -> bool:
    """Whether every internal count equals its children's counts summed."""

    def count(node: int) -> float:
        return float(tree.internal_count[node] if node >= 0 else tree.leaf_count[~node])

    return all(
        count(n) == count(int(tree.left_child[n])) + count(int(tree.right_child[n]))
        for n in range(tree.num_leaves - 1)
    )


def build_tables(trees: list[ParsedTree], n_features: int) -> TreeTables:
    """Precompute the per-node tables of all trees; single-leaf trees only add a bias."""
    expected_value = float(sum(t.expected_value() for t in trees))
    cols: dict[str, list] = {name: [] for name in _NODE_COLUMNS}
    wide: dict[str, list[np.ndarray]] = {name: [] for name in _POINT_COLUMNS}
    next_start: list[int] = []
    next_edges: list[int] = []
    cat_bits: list[int] = []
    tree_start = [0]
    tree_points: list[int] = []
    multi_leaf = [t for t in trees if t.num_leaves > 1]
    max_points = 1
    for tree in multi_leaf:
        max_points = max(max_points, _points_needed(tree))
    for tree in multi_leaf:
        k = _points_needed(tree)
        tree_points.append(k)
        _append_tree(tree, k, max_points, cols, wide, next_start, next_edges, cat_bits)
        tree_start.append(tree_start[-1] + 2 * tree.num_leaves - 1)
    next_start.append(len(next_edges))
    n_nodes = np.diff(np.asarray(tree_start))
    return TreeTables(
        n_features=n_features,
        expected_value=expected_value,
        tree_start=np.asarray(tree_start, dtype=np.int64),
        tree_points=np.asarray(tree_points, dtype=np.int64),
        max_nodes=int(n_nodes.max()) if len(n_nodes) else 1,
        max_points=max_points,
        **{name: np.asarray(cols[name], dtype=dtype) for name, dtype in _NODE_COLUMNS.items()},
        **{
            name: (np.vstack(wide[name]) if wide[name] else np.zeros((0, max_points)))
            for name in _POINT_COLUMNS
        },
        cat_bits=np.asarray(cat_bits if cat_bits else [0], dtype=np.uint32),
        next_start=np.asarray(next_start, dtype=np.int64),
        next_edges=np.asarray(next_edges if next_edges else [0], dtype=np.int64),
    )


_NODE_COLUMNS: dict[str, type] = {
    "left": np.int64,
    "right": np.int64,
    "split_feature": np.int64,
    "threshold": np.float64,
    "missing_type": np.int64,
    "default_left": np.bool_,
    "cat_start": np.int64,
    "cat_len": np.int64,
    "leaf_value": np.float64,
    "parent": np.int64,
    "is_left": np.bool_,
    "edge_feature": np.int64,
    "prev_edge": np.int64,
    "z_edge": np.float64,
    "zcum_delta": np.float64,
}
_POINT_COLUMNS = ("ratio_one", "ratio_zero", "weight_one", "weight_zero")


def _points_needed(tree: ParsedTree) -> int:
    """Gauss-Legendre points that integrate degree ``max |D| - 1`` exactly."""
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


def _append_tree(
    tree: ParsedTree,
    k: int,
    width: int,
    cols: dict[str, list],
    wide: dict[str, list[np.ndarray]],
    next_start: list[int],
    next_edges: list[int],
    cat_bits: list[int],
) -> None:
    order, position = _preorder(tree)
    x, w = np.polynomial.legendre.leggauss(k)
    y, w = (x + 1.0) / 2.0, w / 2.0
    # Centring is exact when child counts add up (the path-dependent weights of
    # all leaves then sum to 1) and keeps the first tree's large bias out of
    # the sums.
    centre = tree.expected_value() if _counts_consistent(tree) else 0.0

    def count(node: int) -> float:
        return float(tree.internal_count[node] if node >= 0 else tree.leaf_count[~node])

    parent = [-1] * len(order)
    is_left = [False] * len(order)
    for node in order:
        if node >= 0:
            parent[position[int(tree.left_child[node])]] = position[node]
            is_left[position[int(tree.left_child[node])]] = True
            parent[position[int(tree.right_child[node])]] = position[node]
    prev_edge = [-1] * len(order)
    zcum = [1.0] * len(order)
    last_edge: list[dict[int, int]] = [{} for _ in order]  # feature -> latest edge on path
    children_next: list[list[int]] = [[] for _ in order]
    nan = float("nan")
    for c, node in enumerate(order):
        p = parent[c]
        row = dict.fromkeys(_NODE_COLUMNS, 0)
        row.update(left=-1, right=-1, split_feature=-1, cat_start=-1, cat_len=0, leaf_value=0.0)
        row.update(parent=p, is_left=is_left[c], edge_feature=-1, prev_edge=-1, z_edge=1.0)
        row.update(zcum_delta=0.0, threshold=nan, default_left=False)
        ones = np.ones(width)
        zeros = np.zeros(width)
        ratio_one, ratio_zero, weight_one, weight_zero = ones.copy(), ones.copy(), zeros, zeros.copy()
        if node >= 0:
            row.update(
                left=position[int(tree.left_child[node])],
                right=position[int(tree.right_child[node])],
                split_feature=int(tree.split_feature[node]),
            )
            decision = int(tree.decision_type[node])
            row["missing_type"] = (decision >> 2) & 3
            row["default_left"] = bool(decision & 2)
            if decision & 1:
                cat_idx = int(tree.threshold[node])
                lo, hi = int(tree.cat_boundaries[cat_idx]), int(tree.cat_boundaries[cat_idx + 1])
                row["cat_start"] = len(cat_bits)
                row["cat_len"] = hi - lo
                cat_bits.extend(int(b) for b in tree.cat_threshold[lo:hi])
            else:
                row["threshold"] = float(tree.threshold[node])
        else:
            row["leaf_value"] = float(tree.leaf_value[~node]) - centre
        if p >= 0:
            feature = int(tree.split_feature[order[p]])
            z = count(node) / count(order[p])
            prev = last_edge[p].get(feature, -1)
            zprev = zcum[prev] if prev >= 0 else 1.0
            zcum[c] = z * zprev
            a = zcum[c] * (1.0 - y)
            b = a + y
            if prev >= 0:
                b_prev = zprev * (1.0 - y) + y
                ratio_one[:k], ratio_zero[:k] = b / b_prev, a / b_prev
                children_next[prev].append(c)
            else:
                ratio_one[:k], ratio_zero[:k] = b, a
            weight_one[:k], weight_zero[:k] = w / b, w / a
            row.update(edge_feature=feature, prev_edge=prev, z_edge=z, zcum_delta=zprev - zcum[c])
            last_edge[c] = {**last_edge[p], feature: c}
        for name in _NODE_COLUMNS:
            cols[name].append(row[name])
        wide["ratio_one"].append(ratio_one)
        wide["ratio_zero"].append(ratio_zero)
        wide["weight_one"].append(weight_one)
        wide["weight_zero"].append(weight_zero)
    for c in range(len(order)):
        next_start.append(len(next_edges))
        next_edges.extend(children_next[c])


@njit(cache=True, inline="always")
def _decide(t_base, n_nodes, xt, go, B, left, split_feature, threshold, missing_type, default_left, cat_start, cat_len, cat_bits):
    """go[n, r] = row r goes left at internal node n (LightGBM's Decision rules)."""
    for n in range(n_nodes):
        g = t_base + n
        if left[g] < 0:
            continue
        f = split_feature[g]
        if cat_start[g] >= 0:
            start = cat_start[g]
            length = cat_len[g]
            for r in range(B):
                v = xt[f, r]
                hit = False
                # NaN, negatives and values past int32 (cast to INT_MIN) go right.
                if v == v and v > -1.0 and v < 2147483648.0:
                    iv = np.int64(v)
                    word = iv >> 5
                    if word < length:
                        hit = ((cat_bits[start + word] >> np.uint32(iv & 31)) & np.uint32(1)) == 1
                go[n, r] = hit
        else:
            thr = threshold[g]
            mt = missing_type[g]
            dl = default_left[g]
            if mt == MISSING_NAN:
                for r in range(B):
                    v = xt[f, r]
                    go[n, r] = dl if v != v else v <= thr
            elif mt == MISSING_ZERO:
                for r in range(B):
                    v = xt[f, r]
                    go[n, r] = dl if (v != v or v == 0.0) else v <= thr
            else:
                for r in range(B):
                    v = xt[f, r]
                    go[n, r] = 0.0 <= thr if v != v else v <= thr


@njit(cache=True)
def _tree_pass(
    t_base, n_nodes, n_points, xt, phi, go, one, P, h, J, B,
    left, right, split_feature, threshold, missing_type, default_left, cat_start, cat_len, cat_bits,
    leaf_value, parent, is_left, edge_feature, prev_edge, z_edge, zcum_delta,
    ratio_one, ratio_zero, weight_one, weight_zero, next_start, next_edges,
):  # fmt: skip
    """Add one tree's SHAP values for a block of rows to ``phi`` (features x rows)."""
    _decide(t_base, n_nodes, xt, go, B, left, split_feature, threshold, missing_type, default_left, cat_start, cat_len, cat_bits)
    # Forward: one[c, r] = cumulative one-fraction of the edge into c,
    # P[c, q, r] = prod over path features of (z (1 - y_q) + o y_q).
    for q in range(n_points):
        for r in range(B):
            P[0, q, r] = 1.0
    for c in range(1, n_nodes):
        g = t_base + c
        p = parent[g]
        prev = prev_edge[g]
        lft = is_left[g]
        for r in range(B):
            o = go[p, r] if lft else not go[p, r]
            one[c, r] = o and (one[prev, r] if prev >= 0 else True)
        if prev < 0:
            for q in range(n_points):
                ro = ratio_one[g, q]
                rz = ratio_zero[g, q]
                for r in range(B):
                    P[c, q, r] = P[p, q, r] * (ro if one[c, r] else rz)
        else:
            zc = z_edge[g]
            for q in range(n_points):
                ro = ratio_one[g, q]
                rz = ratio_zero[g, q]
                for r in range(B):
                    ratio = (ro if one[c, r] else rz) if one[prev, r] else zc
                    P[c, q, r] = P[p, q, r] * ratio
    # Backward: P becomes G (sum over leaves below of v * P), and each edge
    # scores h = <w / F, G over leaves whose last split on its feature is it>.
    for c in range(n_nodes - 1, -1, -1):
        g = t_base + c
        lc = left[g]
        if lc < 0:
            v = leaf_value[g]
            for q in range(n_points):
                for r in range(B):
                    P[c, q, r] *= v
        else:
            rc = right[g]
            for q in range(n_points):
                for r in range(B):
                    P[c, q, r] = P[lc, q, r] + P[rc, q, r]
        if c == 0:
            continue
        s, e = next_start[g], next_start[g + 1]
        if s == e:
            for r in range(B):
                h[c, r] = 0.0
            for q in range(n_points):
                wo = weight_one[g, q]
                wz = weight_zero[g, q]
                for r in range(B):
                    h[c, r] += (wo if one[c, r] else wz) * P[c, q, r]
        else:
            for q in range(n_points):
                for r in range(B):
                    J[q, r] = P[c, q, r]
            for r in range(B):
                h[c, r] = 0.0
            for i in range(s, e):
                c2 = next_edges[i]
                for q in range(n_points):
                    for r in range(B):
                        J[q, r] -= P[c2, q, r]
                for r in range(B):
                    h[c, r] += h[c2, r]
            for q in range(n_points):
                wo = weight_one[g, q]
                wz = weight_zero[g, q]
                for r in range(B):
                    h[c, r] += (wo if one[c, r] else wz) * J[q, r]
        prev = prev_edge[g]
        f = edge_feature[g]
        zd = zcum_delta[g]
        if prev >= 0:
            for r in range(B):
                d = (1.0 if one[c, r] else 0.0) - (1.0 if one[prev, r] else 0.0) + zd
                phi[f, r] += d * h[c, r]
        else:
            for r in range(B):
                d = (1.0 if one[c, r] else 0.0) - 1.0 + zd
                phi[f, r] += d * h[c, r]


@njit(cache=True, parallel=True)
def shap_block_kernel(
    X, out, block, n_features, expected_value, tree_start, tree_points, max_nodes, max_points,
    left, right, split_feature, threshold, missing_type, default_left, cat_start, cat_len, cat_bits,
    leaf_value, parent, is_left, edge_feature, prev_edge, z_edge, zcum_delta,
    ratio_one, ratio_zero, weight_one, weight_zero, next_start, next_edges,
):  # fmt: skip
    """Fill ``out`` (rows x features+1) with SHAP values of the float64 matrix ``X``."""
    n_rows = X.shape[0]
    n_blocks = (n_rows + block - 1) // block
    n_trees = tree_points.shape[0]
    for b in prange(n_blocks):
        r0 = b * block
        B = min(block, n_rows - r0)
        xt = np.empty((n_features, B))
        for r in range(B):
            for f in range(n_features):
                v = X[r0 + r, f]
                # LightGBM drops |v| <= kZeroThreshold when it reads a dense row.
                xt[f, r] = 0.0 if (v <= K_ZERO_THRESHOLD and v >= -K_ZERO_THRESHOLD) else v
        phi = np.zeros((n_features, B))
        go = np.empty((max_nodes, B), dtype=np.bool_)
        one = np.empty((max_nodes, B), dtype=np.bool_)
        P = np.empty((max_nodes, max_points, B))
        h = np.empty((max_nodes, B))
        J = np.empty((max_points, B))
        for t in range(n_trees):
            t_base = tree_start[t]
            _tree_pass(
                t_base, tree_start[t + 1] - t_base, tree_points[t], xt, phi, go, one, P, h, J, B,
                left, right, split_feature, threshold, missing_type, default_left, cat_start, cat_len, cat_bits,
                leaf_value, parent, is_left, edge_feature, prev_edge, z_edge, zcum_delta,
                ratio_one, ratio_zero, weight_one, weight_zero, next_start, next_edges,
            )  # fmt: skip
        for r in range(B):
            for f in range(n_features):
                out[r0 + r, f] = phi[f, r]
            out[r0 + r, n_features] = expected_value


def explain_matrix(tables: TreeTables, X: np.ndarray, out: np.ndarray, *, block: int = 64) -> None:
    """Write SHAP values of the C-contiguous float64 matrix ``X`` into ``out``."""
    shap_block_kernel(
        X, out, block, tables.n_features, tables.expected_value, tables.tree_start, tables.tree_points,
        tables.max_nodes, tables.max_points,
        tables.left, tables.right, tables.split_feature, tables.threshold, tables.missing_type,
        tables.default_left, tables.cat_start, tables.cat_len, tables.cat_bits,
        tables.leaf_value, tables.parent, tables.is_left, tables.edge_feature, tables.prev_edge,
        tables.z_edge, tables.zcum_delta,
        tables.ratio_one, tables.ratio_zero, tables.weight_one, tables.weight_zero,
        tables.next_start, tables.next_edges,
    )  # fmt: skip


def num_threads() -> int:
    """Threads numba will use for the kernel."""
    return int(numba.get_num_threads())
