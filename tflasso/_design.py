"""The design: the data source, and what the solvers ask of it.

``Design`` is ``sqrt(sw) * (X - x_offset)`` for an in-memory dense or sparse
X, never formed: its Gram statistics, column norms, products ``X w`` and
``X^T r``, and columns of a set. ``Moments`` are the additive statistics of
a set of rows (cross-validation folds add and subtract them). A streamed
source would implement the same operations.
"""

import numpy as np
import tensorflow as tf
from scipy import sparse

# Rows per block when accumulating the Gram matrix: bounds the temporary copy
# made by centring a block to about 32 MB.
_BLOCK_BYTES = 32 * 2**20


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




class Design:
    """``root * (X - x_offset)`` for an in-memory X, without forming it.

    ``root`` holds the square roots of the (normalised) sample weights, or is
    None. Sparse X is kept as CSC (columns are what the solvers take).
    """

    def __init__(self, X, x_offset, root=None):
        self.X = X.tocsc() if sparse.issparse(X) else X
        self.sparse = sparse.issparse(X)
        self.shape = X.shape
        self.dtype = X.dtype
        self.x_offset = np.asarray(x_offset, dtype=np.float64)
        self.root = None if root is None or np.all(root == 1) else root.astype(np.float64)

    @property
    def weights(self):
        return np.ones(self.shape[0]) if self.root is None else self.root**2

    def col_norm2(self):
        """Squared norms of the centred, weighted columns (see :func:`column_norms`)."""
        if not hasattr(self, "_col_norm2"):
            self._col_norm2 = column_norms(self.X, self.x_offset, self.weights)
        return self._col_norm2

    def _weighted(self, v):
        return v if self.root is None else (self.root * v.T).T

    def block(self, idx):
        """The centred, weighted columns ``idx`` as a new float64 array."""
        if self.sparse:
            block = self.X[:, idx].toarray().astype(np.float64)
        else:
            block = np.take(self.X, idx, axis=1).astype(np.float64, copy=False)
        block -= self.x_offset[idx]
        return self._weighted(block)

    def matvec(self, idx, w):
        """``design[:, idx] @ w`` for ``w`` (len(idx),) or (len(idx), m), float64."""
        if not len(idx):
            return np.zeros((self.shape[0], *np.shape(w)[1:]))
        if self.sparse:
            product = np.asarray(self.X[:, idx] @ w, dtype=np.float64)
        else:  # one pass over X beats copying the columns out
            full = np.zeros((self.shape[1], *np.shape(w)[1:]), self.dtype)
            full[idx] = w
            product = (self.X @ full).astype(np.float64, copy=False)
        return self._weighted(product - np.tensordot(self.x_offset[idx], w, 1))

    def rmatvec(self, r):
        """``design^T r`` for ``r`` (n,) or (n, m), float64."""
        r = self._weighted(np.asarray(r, dtype=np.float64))
        product = np.asarray(self.X.T @ r.astype(self.dtype), dtype=np.float64)
        return product - np.multiply.outer(self.x_offset, r.sum(axis=0))

    def gram(self, y):
        """``design^T design / n`` and ``design^T y / n`` (float64).

        ``y`` (n, K) is already centred and weighted. Dense X is centred
        block by block (exact, and no full copy); sparse X by a rank-one
        correction.
        """
        n, p = self.shape
        if self.sparse:
            gram, xty = self.sparse_products(np.arange(p), y)
        else:
            root = np.ones(n) if self.root is None else self.root
            gram, xty = np.zeros((p, p)), np.zeros((p, y.shape[1]))
            for start, stop in _blocks(self.X):
                block = self.X[start:stop] - self.x_offset.astype(self.dtype)
                if self.root is not None:
                    block *= root[start:stop, None].astype(self.dtype)
                gram += block.T @ block
                xty += block.T @ y[start:stop]
        return gram / n, xty / n

    def sparse_products(self, idx, y):
        """Unnormalised ``(G, q)`` of sparse X's centred, weighted columns
        ``idx``, by a rank-one correction: never densifies the columns."""
        root = np.ones(self.shape[0]) if self.root is None else self.root
        Xw = sparse.diags(root) @ self.X[:, idx]
        col_sums = np.asarray(Xw.T @ root, dtype=np.float64)
        offset = self.x_offset[idx]
        gram = (Xw.T @ Xw).toarray().astype(np.float64)
        gram -= np.outer(col_sums, offset) + np.outer(offset, col_sums)
        gram += np.outer(offset, offset) * (root @ root)
        xty = np.asarray(Xw.T @ y, dtype=np.float64) - np.outer(offset, root @ y)
        return gram, xty

    def tensor(self, idx=None):
        """X (or its columns ``idx``) as a tensor: dense, or a ``tf.SparseTensor``."""
        X = self.X if idx is None else self.X[:, idx]
        if not sparse.issparse(X):
            return tf.convert_to_tensor(X)
        X = X.tocsr()
        if not X.has_canonical_format:  # tf.sparse wants rows in order, no repeats
            X = X.copy()
            X.sum_duplicates()
        coo = X.tocoo()
        indices = np.column_stack([coo.row, coo.col]).astype(np.int64)
        return tf.SparseTensor(indices, coo.data, X.shape)


# From this many features, a block's X^T X is numpy's symmetric rank-k
# update (half the work of a product: 25% faster than TensorFlow's on 2,000
# x 1,000 blocks); below, TensorFlow's product (OpenBLAS's rank-k update ran
# 5x slower than it on 40,000 x 200 blocks on a loaded 2-core machine).
_NUMPY_FEATURES = 512
# Smaller blocks stay in numpy: a TensorFlow call costs about 0.3 ms.
_TF_MIN_ENTRIES = 2**20


@tf.function(
    input_signature=[
        tf.TensorSpec([None, None], tf.float64),  # rows of X
        tf.TensorSpec([None, None], tf.float64),  # rows of y
        tf.TensorSpec([None], tf.float64),  # square roots of their weights
        tf.TensorSpec([None], tf.float64),  # x_shift
        tf.TensorSpec([None], tf.float64),  # y_shift
    ]
)
def _tf_moments(X, y, root, x_shift, y_shift):
    """The moments of a block of rows about the shift (see ``Moments``)."""
    X = (X - x_shift) * root[:, None]
    y = (y - y_shift) * root[:, None]
    return (
        tf.reduce_sum(root * root),
        tf.linalg.matvec(X, root, transpose_a=True),
        tf.linalg.matvec(y, root, transpose_a=True),
        tf.matmul(X, X, transpose_a=True),
        tf.matmul(X, y, transpose_a=True),
        tf.reduce_sum(y * y, axis=0),
    )


def _numpy_moments(X, y, root, x_shift, y_shift):
    """:func:`_tf_moments` in numpy, whose ``X^T X`` is a symmetric rank-k update."""
    X = np.subtract(X, x_shift)
    X *= root[:, None]
    y = (y - y_shift) * root[:, None]
    return root @ root, root @ X, root @ y, X.T @ X, X.T @ y, np.einsum("ik,ik->k", y, y)


def _accumulate(total, value):
    """``total + value``, in place for arrays (a p x p sum costs no copy)."""
    if isinstance(total, np.ndarray):
        total += value
        return total
    return total + value


class Moments:
    """Weighted moments of some rows of (X, Y) about a fixed shift.

    ``s = sum(w)``, ``x = sum(w x)``, ``y = sum(w y)``, ``xx = sum(w x x^T)``,
    ``xy = sum(w x y^T)``, ``yy = sum(w y^2)`` (per target); always float64.
    Moments add and subtract over disjoint sets of rows.
    """

    _fields = ("s", "x", "y", "xx", "xy", "yy")

    def __init__(self, *values):
        for name, value in zip(self._fields, values):
            setattr(self, name, value)

    def _values(self):
        return [getattr(self, name) for name in self._fields]

    def __add__(self, other):
        return Moments(*(a + b for a, b in zip(self._values(), other._values())))

    def __sub__(self, other):
        return Moments(*(a - b for a, b in zip(self._values(), other._values())))

    @classmethod
    def zeros(cls, n_features, n_targets):
        """The moments of no rows."""
        p, k = n_features, n_targets
        return cls(0.0, np.zeros(p), np.zeros(k), np.zeros((p, p)), np.zeros((p, k)),
                   np.zeros(k))

    def about(self, dx, dy):
        """The same rows' moments about a shift moved by ``(dx, dy)``.

        Exact algebra: for ``x - dx`` (and ``y - dy``),
        ``sum w (x - dx)(x - dx)^T = xx - x dx^T - dx x^T + s dx dx^T``. It loses
        little precision when ``dx`` is small against the rows' spread (shifts that
        are both near the mean).
        """
        s, x, y = self.s, self.x, self.y
        return Moments(
            s, x - s * dx, y - s * dy,
            self.xx - np.outer(x, dx) - np.outer(dx, x) + s * np.outer(dx, dx),
            self.xy - np.outer(x, dy) - np.outer(dx, y) + s * np.outer(dx, dy),
            self.yy - 2 * y * dy + s * dy**2,
        )

    @classmethod
    def of_rows(cls, X, Y, sw, rows, x_shift, y_shift):
        """The moments of ``X[rows]``, ``Y[rows]``, a block of rows at a time."""
        p = X.shape[1]
        total = cls.zeros(p, Y.shape[1])._values()
        step = max(1, _BLOCK_BYTES // (8 * p))
        # Contiguous rows (KFold without shuffling) are sliced, not copied.
        contiguous = len(rows) > 0 and rows[-1] - rows[0] + 1 == len(rows)
        contiguous = contiguous and bool(np.all(np.diff(rows) == 1))
        for start in range(0, len(rows), step):
            index = rows[start : start + step]
            if contiguous:
                index = slice(index[0], index[-1] + 1)
            m = len(Y[index])
            root = np.ones(m) if sw is None else np.sqrt(sw[index])
            narrow = m * p >= _TF_MIN_ENTRIES and p < _NUMPY_FEATURES
            block = X[index].toarray() if sparse.issparse(X) else X[index]
            moments = (_tf_moments if narrow else _numpy_moments)(
                np.asarray(block, np.float64), np.asarray(Y[index], np.float64),
                root, x_shift, y_shift,
            )
            total = [_accumulate(a, np.asarray(b)) for a, b in zip(total, moments)]
        return cls(*total)

    def centred(self, fit_intercept):
        """The centred Gram problem ``(G, q, yy)`` and the means (about the shift)."""
        x_mean = self.x / self.s if fit_intercept else np.zeros_like(self.x)
        y_mean = self.y / self.s if fit_intercept else np.zeros_like(self.y)
        gram = self.xx / self.s - np.outer(x_mean, x_mean)
        xty = self.xy / self.s - np.outer(x_mean, y_mean)
        yy = np.maximum(self.yy / self.s - y_mean**2, 0.0)
        return gram, xty, yy, x_mean, y_mean

    def mse(self, coef, intercept):
        """Weighted mean squared error of ``x @ coef + intercept`` on these rows.

        ``coef`` is (p, C, K) and ``intercept`` (C, K), both about the shift;
        the result is (C,), averaged over the K targets as scikit-learn does.
        """
        squares = (
            self.yy
            - 2 * np.einsum("jk,jck->ck", self.xy, coef)
            + np.einsum("jck,jck->ck", coef, np.einsum("ij,jck->ick", self.xx, coef))
        )
        sums = self.y - np.einsum("j,jck->ck", self.x, coef)
        mse = np.maximum(squares - 2 * intercept * sums + intercept**2 * self.s, 0)
        return (mse / self.s).mean(axis=1)
