"""Working sets: solve on the few features that can be non-zero.

For wide, sparse or large problems most features end at zero. As celer and
skglm do, each outer iteration makes one full pass over the data to get the
duality gap and every feature's correlation with the residual, ranks the
features by how close they are to entering the model, and solves the lasso
restricted to the best few (plus the current support) with the compiled
Gram-form solver. The restricted problem is small, so its Gram matrix costs
little; the full passes are plain BLAS / sparse products on the original,
uncentred data (centring and weights are applied implicitly).

The stopping rule is the full problem's duality gap, scikit-learn's.
"""

import numpy as np
from scipy import sparse

import tensorflow as tf

from ._data import column_norms, design_tensor, unit_norm_penalty
from ._solver import SOLVERS, solve_gram

# Smallest working set.
_MIN_SIZE = 16
# Restricted problems are solved in float64 to this fraction of the final
# tolerance: their iterations cost k^2 (Gram form) or 2 n k against n p for a
# full pass, so solving them well is cheap; it saves outer rounds and leaves
# no borderline feature out of the final support (on the benchmarks' dense
# 10,000 x 1,000 at 0.01 alpha_max: 141 -> 109 ms, and the support of a
# tol-1e-10 solution where a looser rule missed one feature).
_INNER_TOL = 0.05
# In float32 (the operator form on float32 X) that may be out of reach: stop
# at this fraction of the current full gap, as celer does, but not below half
# the final tolerance.
_INNER_GAP_FRACTION = 0.3


def _gap(rr, ry, xtr, w, alpha, n, positive):
    """scikit-learn's duality gap / n, from ``||R||^2/n``, ``R.y/n``, ``X^T R/n``."""
    if alpha == 0:
        return n * (xtr @ xtr), np.inf
    dual_norm = max(xtr.max(), 0) if positive else np.abs(xtr).max()
    scale = alpha / dual_norm if dual_norm > alpha else 1.0
    primal = 0.5 * rr + alpha * np.abs(w).sum()
    return primal - (-0.5 * scale**2 * rr + scale * ry), max(dual_norm, alpha)


class _Design:
    """``root * (X - x_offset)`` without forming it.

    For dense X the centred, weighted columns of the working sets are kept
    across outer iterations, with their Gram products: a feature's column is
    copied and multiplied against the others once, not once per round.
    """

    def __init__(self, X, x_offset, root, y):
        self.X = X.tocsc() if sparse.issparse(X) else X
        self.x_offset = x_offset.astype(np.float64)
        self.root = None if np.all(root == 1) else root.astype(np.float64)
        self.col_norm2 = column_norms(self.X, self.x_offset, root**2)
        self.y = y
        self.cached = np.empty(0, dtype=np.intp)  # features, in cache order
        self.position = np.full(X.shape[1], -1)  # feature -> cache position
        self.buffer = np.empty((X.shape[0], 0), order="F")  # cached columns
        self.gram = np.empty((0, 0))  # columns^T columns
        self.xty = np.empty(0)  # columns^T y

    def _weighted(self, v):
        return v if self.root is None else self.root * v

    def _block(self, idx):
        """The centred, weighted columns ``idx`` as a new float64 array."""
        if sparse.issparse(self.X):
            block = self.X[:, idx].toarray().astype(np.float64)
        else:
            block = np.take(self.X, idx, axis=1).astype(np.float64, copy=False)
        block -= self.x_offset[idx]
        if self.root is not None:
            block *= self.root[:, None]
        return block

    def matvec(self, idx, w):
        """``(root * (X - x_offset))[:, idx] @ w``."""
        if not idx.size:
            return np.zeros(self.X.shape[0])
        if np.all(self.position[idx] >= 0):
            v = np.zeros(self.cached.size)
            v[self.position[idx]] = w
            return self.buffer[:, : self.cached.size] @ v
        if sparse.issparse(self.X):
            product = np.asarray(self.X[:, idx] @ w, dtype=np.float64).ravel()
        else:  # one pass over X beats copying the columns out
            full = np.zeros(self.X.shape[1], self.X.dtype)
            full[idx] = w
            product = (self.X @ full).astype(np.float64, copy=False)
        return self._weighted(product - self.x_offset[idx] @ w)

    def rmatvec(self, r):
        """``(root * (X - x_offset))^T r``."""
        r = self._weighted(r)
        product = np.asarray(self.X.T @ r.astype(self.X.dtype), dtype=np.float64)
        return product.ravel() - self.x_offset * r.sum()

    def gram_is_cheaper(self, idx):
        """Whether a Gram iteration (|idx|^2) beats two passes over the columns."""
        if sparse.issparse(self.X):  # CSC: stored entries per column, no copy
            stored = np.diff(self.X.indptr)[idx].sum()
        else:
            stored = self.X.shape[0] * len(idx)
        return len(idx) ** 2 <= 2 * stored

    def _cache(self, idx):
        """Cache positions of ``idx``, copying in the columns not yet cached.

        The new columns' products with every cached column cost n * k * m for
        m new features; once the cache holds twice the features asked for, it
        starts again from ``idx`` alone.
        """
        new = idx[self.position[idx] < 0]
        if self.cached.size + new.size > 2 * idx.size:
            self.position[self.cached] = -1
            self.cached = np.empty(0, dtype=np.intp)
            new = idx
        if new.size:
            old, size = self.cached.size, self.cached.size + new.size
            if size > self.buffer.shape[1]:
                buffer = np.empty(
                    (self.X.shape[0], min(self.X.shape[1], 2 * size)), order="F"
                )
                buffer[:, :old] = self.buffer[:, :old]
                self.buffer = buffer
            block = self._block(new)
            self.buffer[:, old:size] = block
            cross = self.buffer[:, :size].T @ block
            gram = np.empty((size, size))
            gram[:old, :old] = self.gram[:old, :old]
            gram[:, old:] = cross
            gram[old:, :old] = cross[:old].T
            self.gram = gram
            self.xty = np.concatenate([self.xty[:old], block.T @ self.y])
            self.cached = np.concatenate([self.cached, new])
            self.position[new] = np.arange(old, self.cached.size)
        return self.position[idx]

    def restricted(self, idx, by_gram, yy, n, alpha, w, tol, max_iter, gap_every,
                   positive):
        """Solve the lasso on the columns ``idx``, from their Gram matrix if
        ``by_gram``; ``(w, n_iter)``."""
        if by_gram and not sparse.issparse(self.X):
            at = self._cache(idx)
            gram, xty = self.gram[np.ix_(at, at)], self.xty[at]
        elif by_gram:
            block = self._block(idx)
            gram, xty = block.T @ block, block.T @ self.y
        else:
            return self._restricted_operator(
                idx, alpha, w, tol, max_iter, gap_every, positive
            )
        w, _, n_iter = solve_gram(
            gram / n, xty[:, None] / n, np.array([yy]), n, np.array([alpha]),
            w[:, None], np.array([tol]), max_iter, gap_every, positive,
        )
        return w[:, 0], int(n_iter[0])

    def _restricted_operator(self, idx, alpha, w, tol, max_iter, gap_every, positive):
        """The restricted lasso by the operator-form solver, on the columns."""
        n = self.X.shape[0]
        block = self.X[:, idx]
        dtype = block.dtype
        root = np.ones(n) if self.root is None else self.root
        w, _, n_iter = SOLVERS[tf.as_dtype(dtype)][
            "sparse" if sparse.issparse(block) else "dense"
        ](
            design_tensor(block), self.x_offset[idx].astype(dtype),
            root.astype(dtype), self.y[:, None].astype(dtype),
            unit_norm_penalty(self.col_norm2[idx], n).astype(dtype),
            np.array([alpha], dtype), w[:, None].astype(dtype),
            np.array([tol], dtype), np.int32(max_iter), np.int32(gap_every),
            np.bool_(positive),
        )
        return w.numpy()[:, 0].astype(np.float64), int(n_iter.numpy()[0])


def solve(X, x_offset, root, y, alpha, w0, tol, max_iter, gap_every, positive):
    """Lasso of one target by working sets; returns ``(w, gap, n_iter)``.

    ``y`` is the centred, weighted target and ``tol`` the absolute gap
    tolerance; ``max_iter`` bounds the total inner iterations.
    """
    n, p = X.shape
    y = y.astype(np.float64)
    design = _Design(X, x_offset, root, y)
    yy = y @ y / n
    w = w0.astype(np.float64).copy()
    size = min(p, max(_MIN_SIZE, 2 * np.count_nonzero(w)))
    n_iter, previous_gap = 0, np.inf
    while True:
        support = np.flatnonzero(w)
        residual = y - design.matvec(support, w[support])
        xtr = design.rmatvec(residual) / n
        gap, dual_scale = _gap(
            residual @ residual / n, residual @ y / n, xtr, w, alpha, n, positive
        )
        if gap <= tol or n_iter >= max_iter or not np.isfinite(gap):
            break
        # Grow the set when the last restricted solve barely helped.
        grow = 2 if gap > 0.5 * previous_gap else 1
        size = min(p, max(grow * size, 2 * support.size))
        previous_gap = gap
        ws = _select(xtr, dual_scale, design.col_norm2 / n, support, size)
        by_gram = design.gram_is_cheaper(ws)
        if size == p:
            # The restricted problem is the whole problem: solve it to the
            # final tolerance at once.
            inner_tol = tol
        elif by_gram or X.dtype == np.float64:
            inner_tol = _INNER_TOL * tol
        else:
            inner_tol = max(_INNER_GAP_FRACTION * gap, 0.5 * tol)
        w_ws, inner = design.restricted(
            ws, by_gram, yy, n, alpha, w[ws], inner_tol, max_iter - n_iter,
            gap_every, positive,
        )
        w[:] = 0
        w[ws] = w_ws
        n_iter += inner
        if size == p and inner == 0:
            break  # the whole problem is in the set and cannot improve
    return w, gap, n_iter


def _select(xtr, dual_scale, col_norm2, support, size):
    """The ``size`` features closest to entering the model, support first.

    The score is the distance of each feature's dual constraint to the
    (rescaled) residual, as in celer: ``(1 - |x_j^T theta|) / ||x_j||``.
    """
    p = xtr.size
    if size >= p:
        return np.arange(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (1 - np.abs(xtr) / dual_scale) / np.sqrt(col_norm2)
    score[col_norm2 == 0] = np.inf
    score[support] = -np.inf
    return np.sort(np.argpartition(score, size - 1)[:size])
