"""The design: the data source, and what the solvers ask of it.

``Design`` is ``sqrt(sw) * (X - x_offset)`` for an in-memory dense or sparse
X, never formed: its Gram statistics, column norms, products ``X w`` and
``X^T r``, and columns of a set. ``Moments`` are the additive statistics of
a set of rows (cross-validation folds add and subtract them). A streamed
source would implement the same operations.
"""

import functools

import numpy as np
import tensorflow as tf
from scipy import sparse
from scipy.linalg import blas

from . import _programs

# Rows per block when accumulating the Gram matrix: bounds the temporary copy
# made by centring a block to about 32 MB.
_BLOCK_BYTES = 32 * 2**20


def normalise_weights(sample_weight, n_samples):
    """Weights rescaled to sum to ``n_samples`` (None stays None)."""
    if sample_weight is None:
        return None
    return sample_weight * (n_samples / sample_weight.sum())


def _subtract_rank_two(gram, u, v, cols):
    """``gram -= u v[cols]^T + v u[cols]^T`` in place, by blocks of rows: no
    temporary of gram's size."""
    step = max(1, _BLOCK_BYTES // (8 * gram.shape[1]))
    for start in range(0, len(u), step):
        rows = slice(start, start + step)
        gram[rows] -= np.outer(u[rows], v[cols])
        gram[rows] -= np.outer(v[rows], u[cols])


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
        squares = _csc_column_squares(X.tocsc(), sw)  # (Design's X is CSC: no copy)
    else:
        squares = (
            np.einsum("ij,ij->j", X, X)  # three operands cost 3x
            if np.all(sw == 1)
            else np.einsum("ij,ij,i->j", X, X, sw.astype(X.dtype))
        )
    return np.maximum(squares - 2 * offset * sums + offset**2 * sw.sum(), 0)


# Stored entries per block when a pass over sparse X copies them (squares,
# gathers): its temporaries stay a few MB whatever the size of X.
_ENTRY_BLOCK = 2**18


def _entries(indptr, cols):
    """Where the stored entries of the columns ``cols`` (non-empty) of a CSC
    X sit in its arrays, column after column (a slice where the columns are
    consecutive), and how many each column has."""
    starts = indptr[cols]
    counts = indptr[cols + 1] - starts
    m = int(counts.sum())
    if cols[-1] - cols[0] == len(cols) - 1 and np.all(cols[1:] > cols[:-1]):
        return slice(starts[0], starts[0] + m), counts
    # entry k sits at starts[j] + (k - first[j]), first[j] column j's first k
    gather = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    gather += np.arange(m)
    return gather, counts


def _column_blocks(indptr, cols):
    """Consecutive slices of ``cols`` (columns of a CSC ``indptr``) holding
    about ``_ENTRY_BLOCK`` stored entries each (a column is never split)."""
    ends = np.cumsum(indptr[cols + 1] - indptr[cols])
    start = 0
    while start < len(cols):
        done = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, done + _ENTRY_BLOCK, side="right")), start + 1)
        yield slice(start, stop)
        start = stop


def _csc_column_squares(X, sw):
    """``sum_i sw_i X_ij^2`` of each column of CSC ``X``, a block of columns at
    a time: ``X.multiply(X)`` made two copies of X (its stored entries 2x, at
    the start of every sparse fit)."""
    squares = np.zeros(X.shape[1])
    weighted = not np.all(sw == 1)
    for block in _column_blocks(X.indptr, np.arange(X.shape[1])):
        lo, hi = X.indptr[block.start], X.indptr[block.stop]
        entries = X.data[lo:hi].astype(np.float64)
        entries *= entries
        if weighted:
            entries *= sw[X.indices[lo:hi]]
        starts = X.indptr[block.start : block.stop] - lo
        filled = np.diff(X.indptr[block.start : block.stop + 1]) > 0
        if filled.any():  # reduceat sums from each start to the next; empty columns have none
            squares[block][filled] = np.add.reduceat(entries, starts[filled])
    return squares


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

    @functools.cached_property
    def _transposed(self):
        """``X.T``, made once: a view of X's arrays, whose checks cost 50 us
        at every pass (sparse X)."""
        return self.X.T

    def _weighted(self, v):
        return v if self.root is None else (self.root * v.T).T

    def block(self, idx):
        """The centred, weighted columns ``idx`` as a new float64 array."""
        if self.sparse and len(idx) and self.X.has_canonical_format:
            # Straight from the CSC arrays: scipy's X[:, idx] cost 0.2 ms a
            # call in checks and conversions (a tenth of a small corpus'
            # LassoCV, whose working sets take their columns at every alpha).
            gather, counts = _entries(self.X.indptr, np.asarray(idx))
            block = np.zeros((self.shape[0], len(idx)))
            block[self.X.indices[gather], np.repeat(np.arange(len(idx)), counts)] = (
                self.X.data[gather])
        elif self.sparse:
            block = self.X[:, idx].toarray().astype(np.float64)
        else:
            block = np.take(self.X, idx, axis=1).astype(np.float64, copy=False)
        block -= self.x_offset[idx]
        return self._weighted(block)

    def matvec(self, idx, w):
        """``design[:, idx] @ w`` for ``w`` (len(idx),) or (len(idx), m), float64;
        every column where ``idx`` is None."""
        if idx is None:
            product = np.asarray(self.X @ w.astype(self.dtype, copy=False), dtype=np.float64)
        elif not len(idx):
            return np.zeros((self.shape[0], *np.shape(w)[1:]))
        elif self.sparse:
            product = np.asarray(self.X[:, idx] @ w, dtype=np.float64)
        else:  # one pass over X beats copying the columns out
            full = np.zeros((self.shape[1], *np.shape(w)[1:]), self.dtype)
            full[idx] = w
            product = (self.X @ full).astype(np.float64, copy=False)
        offset = self.x_offset if idx is None else self.x_offset[idx]
        return self._weighted(product - np.tensordot(offset, w, 1))

    def rmatvec(self, r):
        """``design^T r`` for ``r`` (n,) or (n, m), float64."""
        r = self._weighted(np.asarray(r, dtype=np.float64))
        product = np.asarray(self._transposed @ r.astype(self.dtype), dtype=np.float64)
        return product - np.multiply.outer(self.x_offset, r.sum(axis=0))

    def gram(self, y):
        """``design^T design / n`` and ``design^T y / n`` (float64).

        ``y`` (n, K) is already centred and weighted. Dense X is centred
        block by block (exact, and no full copy); sparse X by a rank-one
        correction.
        """
        n, p = self.shape
        if self.sparse:
            gram, xty = self.sparse_products(None, y)
        else:
            root = np.ones(n) if self.root is None else self.root
            gram, xty = np.zeros((p, p)), np.zeros((p, y.shape[1]))
            for start, stop in _blocks(self.X):
                block = self.X[start:stop] - self.x_offset.astype(self.dtype)
                if self.root is not None:
                    block *= root[start:stop, None].astype(self.dtype)
                gram += block.T @ block
                xty += block.T @ y[start:stop]
        gram /= n  # in place: the p x p matrix is the largest array here
        return gram, xty / n

    def sparse_products(self, idx, y, cols=None):
        """Unnormalised ``(G, q)`` of sparse X's centred, weighted columns
        ``idx`` (every column where None), by a rank-two correction in place
        (none without an intercept): never densifies the columns. The
        corrections were made of p x p temporaries, on a copy of G, even
        where the offsets are zero: a one-hot 10,000 x 4,060 lasso_path (no
        intercept) took 0.48 / 0.68 s, now 0.32 / 0.42 s (two rounds of
        fresh processes, medians of 7); its LassoCV(cv=5) 11.3 -> 10.2 s.

        With ``cols`` (a subset of ``idx``, at the positions ``cols`` of
        ``idx``), only ``G[idx, idx[cols]]`` and ``q[idx[cols]]``: the
        products of new columns with those already held."""
        X = self.X if idx is None else self.X[:, idx]
        if self.root is not None:
            X = sparse.diags(self.root) @ X
        right = X if cols is None else X[:, cols]
        cols = slice(None) if cols is None else cols
        gram = (X.T @ right).toarray().astype(np.float64, copy=False)
        xty = np.asarray(right.T @ y, dtype=np.float64)
        offset = self.x_offset if idx is None else self.x_offset[idx]
        if np.any(offset):
            root = np.ones(self.shape[0]) if self.root is None else self.root
            col_sums = np.asarray(X.T @ root, dtype=np.float64)
            # G - s o^T - o s^T + (r^T r) o o^T = G - u o^T - o u^T
            _subtract_rank_two(gram, col_sums - 0.5 * (root @ root) * offset, offset, cols)
            xty -= np.outer(offset[cols], root @ y)
        return gram, xty

    def tensor(self, idx=None, dtype=None):
        """X (or its columns ``idx``) as the operator programs take it: a dense
        tensor, or :class:`tflasso._programs.SparseX` (whose values, with
        ``dtype``, are in that type)."""
        every = idx is None or len(idx) == self.shape[1]  # (idx sorted, unique)
        if not self.sparse:
            return tf.convert_to_tensor(self.X if every else self.X[:, idx])
        X = self.X
        if not X.has_canonical_format:  # repeated entries: summed, on a copy
            X = X.copy()
            X.sum_duplicates()
        cols = np.arange(X.shape[1]) if every else np.asarray(idx)
        nnz = int(np.sum(X.indptr[cols + 1] - X.indptr[cols]))
        # The entries in column order, straight from CSC: TensorFlow's sparse
        # products take them in any order, and were 15% faster in this one
        # than by rows (tf-idf-like 40,000 x 40,000, a product with X and one
        # with X^T: 8.0 against 9.3 ms); no conversion to CSR (56 ms there).
        # Written into 64-byte aligned buffers that TensorFlow then shares:
        # converting numpy's own arrays copied each twice, and a working set
        # spanning most of X paid that on every restricted solve. Gathered a
        # block of columns at a time: the CSC copy X[:, idx] made first, and
        # the column numbers' temporary, were 1.4x the entries gathered (a
        # sparse lasso_path's peak memory). The halves stay aligned (see
        # _programs.in_halves).
        indices = _programs.aligned_empty((nnz, 2), np.int32)
        values = _programs.aligned_empty(nnz, dtype or X.dtype)
        out = 0
        for block in _column_blocks(X.indptr, cols):
            gather, counts = _entries(X.indptr, cols[block])
            m = int(counts.sum())
            rows = slice(out, out + m)
            indices[rows, 0] = X.indices[gather]
            indices[rows, 1] = np.repeat(np.arange(block.start, block.stop, dtype=np.int32),
                                         counts)
            values[rows] = X.data[gather]
            out += m
        return _programs.in_halves(indices, values,
                                   tf.constant((X.shape[0], len(cols)), tf.int64),
                                   _programs.tensor_of)


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


def _numpy_moments(X, y, root, x_shift, y_shift, xx, sign):
    """:func:`_tf_moments` in numpy, but ``sign * X^T X`` is added to ``xx``'s
    lower triangle in place (a symmetric rank-k update) and None returned for it."""
    X = np.subtract(X, x_shift)
    X *= root[:, None]
    y = (y - y_shift) * root[:, None]
    _rank_k(xx, X, sign)
    return root @ root, root @ X, root @ y, None, X.T @ y, np.einsum("ik,ik->k", y, y)


def _rank_k(xx, X, sign):
    """``xx += sign * X^T X`` on the lower triangle of C-ordered ``xx``, in place.

    numpy's ``X.T @ X`` returns a new p x p array: a second Gram matrix alive
    beside the sum (122 MB on 4,000 features). BLAS's ``syrk`` updates the
    sum itself; it also skips numpy's copy of the triangle (0.25 s of CPU
    against 0.41 s on 1,048 x 4,000 here). ``xx.T`` is the Fortran array BLAS
    updates, whose upper triangle is ``xx``'s lower one.
    """
    assert xx.flags.c_contiguous and xx.dtype == np.float64  # else BLAS updates a copy
    blas.dsyrk(float(sign), np.ascontiguousarray(X).T, beta=1.0, c=xx.T, lower=0,
               overwrite_c=1)


def _mirror_lower(xx):
    """Copy the lower triangle of ``xx`` onto its upper one, in place."""
    for rows in _row_slices(len(xx)):
        top, stop = rows.start, rows.stop
        xx[rows, stop:] = xx[stop:, rows].T
        corner = xx[rows, rows]
        upper = np.triu_indices(stop - top, 1)
        corner[upper] = corner.T[upper]


def _row_slices(p):
    """Slices of rows of a p x p float64 array, about ``_BLOCK_BYTES`` each:
    the temporaries of in-place operations on it stay that small."""
    step = max(1, _BLOCK_BYTES // (8 * p))
    return [slice(start, min(start + step, p)) for start in range(0, p, step)]


def _row_blocks(rows, p):
    """``rows`` in blocks of about ``_BLOCK_BYTES`` of float64 features; as
    slices when the rows are contiguous (KFold without shuffling), which index
    X without a copy."""
    step = max(1, _BLOCK_BYTES // (8 * p))
    contiguous = len(rows) > 0 and rows[-1] - rows[0] + 1 == len(rows)
    contiguous = contiguous and bool(np.all(np.diff(rows) == 1))
    for start in range(0, len(rows), step):
        index = rows[start : start + step]
        yield slice(index[0], index[-1] + 1) if contiguous else index


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
    def of_rows(cls, X, Y, sw, rows, x_shift, y_shift, out=None):
        """The moments of ``X[rows]``, ``Y[rows]``, a block of rows at a time.

        ``out``: a float64 p x p array to hold ``xx`` (overwritten).
        """
        p, k = X.shape[1], Y.shape[1]
        moments = cls.zeros(p, k)
        if out is not None:
            out.fill(0.0)
            moments.xx = out
        return moments.add_rows(X, Y, sw, rows, x_shift, y_shift)

    def copy(self, out=None):
        """A copy, its ``xx`` in ``out`` (a float64 p x p array) when given."""
        out = np.empty_like(self.xx) if out is None else out
        np.copyto(out, self.xx)
        return Moments(*(out if name == "xx" else np.copy(value)
                         for name, value in zip(self._fields, self._values())))

    def add_rows(self, X, Y, sw, rows, x_shift, y_shift, sign=1):
        """Add (``sign=-1``: subtract) the moments of ``X[rows]``, ``Y[rows]``,
        in place, a block of rows at a time; returns ``self``.

        ``xx`` takes no p x p temporary: a training fold's is the full data's
        minus its test rows', made in the one array.
        """
        p = X.shape[1]
        if sparse.issparse(X):
            return self._add_sparse_rows(X, Y, sw, rows, x_shift, y_shift, sign)
        for index in _row_blocks(rows, p):
            m = len(Y[index])
            root = np.ones(m) if sw is None else np.sqrt(sw[index])
            narrow = m * p >= _TF_MIN_ENTRIES and p < _NUMPY_FEATURES
            block = np.asarray(X[index], np.float64)
            y = np.asarray(Y[index], np.float64)
            if narrow:
                values = [np.asarray(v) for v in _tf_moments(block, y, root, x_shift, y_shift)]
            else:
                values = _numpy_moments(block, y, root, x_shift, y_shift, self.xx, sign)
            for name, value in zip(self._fields, values):
                if value is not None:
                    setattr(self, name, _accumulate(getattr(self, name), sign * value))
        _mirror_lower(self.xx)  # the rank-k updates filled the lower triangle only
        return self

    def _add_sparse_rows(self, X, Y, sw, rows, x_shift, y_shift, sign):
        """:meth:`add_rows` of sparse X, by sparse products: ``sum w x x^T`` of
        the uncentred rows, then moved to the shift by a rank-two update in
        place (as :meth:`Design.sparse_products`). Dense blocks of the rows
        had cost ``n p^2`` whatever X's density: a one-hot 10,000 x 4,060
        ``LassoCV(cv=5)`` spent most of its time there."""
        p = X.shape[1]
        rows = np.asarray(rows)
        X = X.tocsr()
        if not np.array_equal(rows, np.arange(X.shape[0])):
            X = X[rows]
        Y = np.asarray(Y[rows], np.float64)
        weights = np.ones(len(rows)) if sw is None else np.asarray(sw, np.float64)[rows]
        a = np.asarray(x_shift, np.float64)
        s, sums = 0.0, np.zeros(p)
        for index in _row_blocks(np.arange(len(rows)), p):
            root = np.sqrt(weights[index])
            block = sparse.diags(root) @ X[index]  # sqrt(w) x, sparse
            yw = (Y[index] - y_shift) * root[:, None]
            s_block = root @ root
            sums_block = np.asarray(block.T @ root, np.float64).ravel()  # sum w x
            s, sums = s + s_block, sums + sums_block
            y = root @ yw
            products = (block.T @ block).tocoo()  # sum w x x^T: canonical, no repeats
            self.xx[products.row, products.col] += sign * products.data
            xy = np.asarray(block.T @ yw, np.float64) - np.outer(a, y)
            values = (s_block, sums_block - s_block * a, y, None, xy,
                      np.einsum("ik,ik->k", yw, yw))
            for name, value in zip(self._fields, values):
                if value is not None:
                    setattr(self, name, _accumulate(getattr(self, name), sign * value))
        # sum w (x - a)(x - a)^T = S - u a^T - a u^T, u = sum w x - s a / 2: once,
        # for every block (a pass over the p x p array)
        _subtract_rank_two(self.xx, sign * (sums - 0.5 * s * a), a, slice(None))
        return self

    def centred(self, fit_intercept, out=None):
        """The centred Gram problem ``(G, q, yy)`` and the means (about the shift).

        ``out``: a float64 p x p array to hold ``G``, which may be ``xx``
        itself (centring in place, without a p x p temporary).
        """
        x_mean = self.x / self.s if fit_intercept else np.zeros_like(self.x)
        y_mean = self.y / self.s if fit_intercept else np.zeros_like(self.y)
        gram = np.empty_like(self.xx) if out is None else out
        for rows in _row_slices(len(gram)):
            np.divide(self.xx[rows], self.s, out=gram[rows])
            gram[rows] -= np.outer(x_mean[rows], x_mean)
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


def validation_mse(X, Y, sw, rows, coef, intercept):
    """Weighted mean squared error of ``X[rows] @ coef + intercept`` against ``Y[rows]``.

    ``rows``: indices, or None for every row. ``coef`` is (p, C, K) and
    ``intercept`` (C, K); the result is (C,), averaged over the K targets as
    scikit-learn does. Dense rows are taken a block at a time (a shuffled
    fold's rows are a copy); sparse ones at once.
    """
    p, c, k = coef.shape
    if sparse.issparse(X):
        blocks = [rows]
    else:
        blocks = _row_blocks(np.arange(len(X)) if rows is None else rows, p)
    squares, weight = np.zeros((c, k)), 0.0
    for index in blocks:
        part = (X, Y, sw) if index is None else (
            X[index], Y[index], None if sw is None else sw[index]
        )
        predicted = np.asarray(part[0] @ coef.reshape(p, -1)).reshape(-1, c, k)
        residual = predicted + intercept - part[1][:, None, :]
        weights = np.ones(len(residual)) if part[2] is None else part[2]
        squares += (residual**2 * weights[:, None, None]).sum(axis=0)  # as np.average
        weight += weights.sum()
    return (squares / weight).mean(axis=1)


class HeldOutRows:
    """A test fold as its rows of X, for :meth:`Moments.mse` without a fold's
    p x p moments (an in-memory X's test rows are already there)."""

    def __init__(self, X, Y, sw, rows, x_shift, y_shift):
        self.data, self.rows = (X, Y, sw), rows
        self.x_shift, self.y_shift = x_shift, y_shift

    def mse(self, coef, intercept):
        """As :meth:`Moments.mse`: ``coef`` and ``intercept`` about the shift."""
        intercept = intercept + self.y_shift - np.einsum("j,jck->ck", self.x_shift, coef)
        return validation_mse(*self.data, self.rows, coef, intercept)
