"""From validated numpy/scipy arrays to the solver's inputs, and back.

The intercept never reaches the solver: X and y are centred (with the sample
weights) and the intercept is recovered afterwards as
``y_offset - x_offset @ coef``, as scikit-learn does.
"""

import numpy as np
import tensorflow as tf
from scipy import sparse

# Rows per block when accumulating the Gram matrix: bounds the temporary copy
# made by centring a block to about 32 MB.
_BLOCK_BYTES = 32 * 2**20
# 'auto' builds the full Gram matrix when that costs less than this many
# multiply-adds (n p^2; about 0.1 s here) or the problem is this narrow.
# Beyond, a few passes over X by working sets are cheaper: measured on
# 200,000 x 200, 0.42-0.84 s against 0.8-1.3 s for the Gram matrix.
_GRAM_BUDGET = 5e8
_GRAM_FEATURES = 64


def normalise_weights(sample_weight, n_samples):
    """Weights rescaled to sum to ``n_samples`` (None stays None)."""
    if sample_weight is None:
        return None
    return sample_weight * (n_samples / sample_weight.sum())


def offsets(X, y, sw, fit_intercept):
    """Weighted column means of X and y, or zeros without an intercept."""
    n, p = X.shape
    if not fit_intercept:
        return np.zeros(p, X.dtype), np.zeros(y.shape[1], X.dtype)
    weights = np.ones(n) if sw is None else sw
    y_offset = weights @ y.astype(np.float64) / n
    # Means are accumulated in float64 whatever the input's precision; a
    # float32 X is promoted block by block, never copied whole.
    if sparse.issparse(X) or X.dtype == np.float64:
        x_offset = np.asarray(X.T @ weights, dtype=np.float64).ravel()
    else:
        x_offset = np.zeros(p)
        for start, stop in _blocks(X):
            x_offset += X[start:stop].T.astype(np.float64) @ weights[start:stop]
    return (x_offset / n).astype(X.dtype), y_offset.astype(X.dtype)


def _blocks(X):
    """``(start, stop)`` row ranges of about ``_BLOCK_BYTES`` each."""
    n, p = X.shape
    rows = max(1, _BLOCK_BYTES // max(1, p * X.itemsize))
    return [(start, min(start + rows, n)) for start in range(0, n, rows)]


def solver_form(X, precompute):
    """Which solver serves this fit: 'gram', 'working_set' or 'operator'.

    ``precompute=True`` builds the full Gram matrix, ``False`` iterates on X
    itself in TensorFlow. 'auto' builds the Gram matrix (one pass costing
    n p^2, then iterations costing p^2) for dense X with ``n_samples >=
    n_features`` when it is cheap, and otherwise uses working sets.
    """
    if precompute == "auto":
        n, p = X.shape
        cheap = p <= _GRAM_FEATURES or n * p * p <= _GRAM_BUDGET
        dense_tall = not sparse.issparse(X) and n >= p
        return "gram" if dense_tall and cheap else "working_set"
    return "gram" if precompute else "operator"


def gram_problem(X, y, x_offset, y_offset, sw):
    """``X^T X / n``, ``X^T y / n`` and ``||y||^2 / n`` of the centred, weighted data.

    Always float64: the p x p problem is small, and float32 statistics
    under-report the duality gap badly enough to stop the solver early.
    Dense X is centred block by block (exact, and no full copy); sparse X is
    centred by a rank-one correction.
    """
    n, p = X.shape
    root = np.ones(n) if sw is None else np.sqrt(sw)
    yc = (y - y_offset) * root[:, None]
    if sparse.issparse(X):
        Xw = sparse.diags(root) @ X
        # (Xw - root x_offset^T)^T (Xw - root x_offset^T), expanded.
        col_sums = np.asarray(Xw.T @ root, dtype=np.float64)
        gram = (Xw.T @ Xw).toarray().astype(np.float64)
        gram -= np.outer(col_sums, x_offset) + np.outer(x_offset, col_sums)
        gram += np.outer(x_offset, x_offset) * (root @ root)
        xty = np.asarray(Xw.T @ yc, dtype=np.float64) - np.outer(
            x_offset, root @ yc
        )
    else:
        gram = np.zeros((p, p))
        xty = np.zeros((p, y.shape[1]))
        for start, stop in _blocks(X):
            block = X[start:stop] - x_offset
            if sw is not None:
                block *= root[start:stop, None].astype(X.dtype)
            gram += block.T @ block
            xty += block.T @ yc[start:stop]
    yc = yc.astype(np.float64)
    return gram / n, xty / n, np.einsum("ik,ik->k", yc, yc) / n


def column_norms(X, x_offset, sw):
    """Squared norms of the centred, weighted columns ``sqrt(sw) * (X - x_offset)``.

    ``x_offset`` must be the columns' weighted means, as ``offsets`` returns
    them, or zero.

    One pass, no copy of X; the centring is expanded, so with offsets far
    larger than the spread the result is only approximate (it is used to
    rank and to rescale features, never in the objective).
    """
    offset = np.asarray(x_offset, dtype=np.float64)
    if X.dtype == np.float64:
        # x_offset is the weighted mean (or zero): the column sums are known.
        sums = offset * sw.sum()
    else:  # a float32 mean is rounded; sum the columns
        sums = np.asarray(X.T @ sw.astype(X.dtype), dtype=np.float64).ravel()
    if sparse.issparse(X):
        squares = np.asarray(X.multiply(X).T @ sw, dtype=np.float64).ravel()
    else:
        squares = (
            np.einsum("ij,ij->j", X, X)  # three operands cost 3x
            if np.all(sw == 1)
            else np.einsum("ij,ij,i->j", X, X, sw.astype(X.dtype))
        )
    return np.maximum(squares - 2 * offset * sums + offset**2 * sw.sum(), 0)


def unit_norm_penalty(col_norm2, n_samples):
    """Per-feature L1 weights ``1 / ||x_j|| * sqrt(n)`` of the unit-norm problem.

    The solvers iterate on ``v_j = ||x_j|| w_j / sqrt(n)``; weighting the L1
    term by the inverse keeps the problem unchanged. Zero columns keep 1.
    """
    norms = np.sqrt(col_norm2 / n_samples)
    return 1 / np.where(norms > 0, norms, 1)


def weighted_target(y, y_offset, sw, dtype):
    """Square roots of the weights, and the centred target multiplied by them."""
    root = np.ones(y.shape[0], dtype) if sw is None else np.sqrt(sw).astype(dtype)
    return root, ((y - y_offset) * root[:, None]).astype(dtype)


def design_tensor(X):
    """X as a TensorFlow tensor: dense, or a ``tf.SparseTensor`` (never densified)."""
    if not sparse.issparse(X):
        return tf.convert_to_tensor(X)
    X = X.tocsr()
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    coo = X.tocoo()
    indices = np.column_stack([coo.row, coo.col]).astype(np.int64)
    return tf.SparseTensor(indices, coo.data, X.shape)
