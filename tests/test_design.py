"""Sparse X as the solvers see it: column norms and the operator programs'
tensors, checked against scipy's and numpy's own arithmetic, and the numpy
memory they take."""

import tracemalloc

import numpy as np
import pytest
from scipy import sparse

from tflasso import _design
from tflasso._design import Design, column_norms


def _sparse_x(n, p, density, seed, duplicates=False):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, p, density=density, format="csc", random_state=rng)
    for j in (0, 7, p - 1):  # empty columns, at both ends and inside
        X.data[X.indptr[j] : X.indptr[j + 1]] = 0
    X.eliminate_zeros()
    if duplicates:  # a repeated entry, as COO input can hold
        coo = X.tocoo()
        X = sparse.csc_matrix((np.r_[coo.data, 0.5, 0.25], (np.r_[coo.row, 3, 3],
                                                            np.r_[coo.col, 5, 5])),
                              shape=X.shape)
        X.has_canonical_format = False
    return X


def _dense_of(sparse_x):
    """The SparseX tensor's entries as a dense numpy array."""
    indices = np.concatenate([i.numpy() for i in sparse_x.indices])
    values = np.concatenate([v.numpy() for v in sparse_x.values])
    shape = tuple(sparse_x.shape.numpy())
    dense = np.zeros(shape)
    np.add.at(dense, (indices[:, 0], indices[:, 1]), values)
    return dense


@pytest.mark.parametrize("duplicates", [False, True])
def test_column_norms_of_sparse_x_match_numpy(monkeypatch, duplicates):
    monkeypatch.setattr(_design, "_ENTRY_BLOCK", 97)  # many blocks, columns never split
    X = _sparse_x(300, 120, 0.1, seed=1, duplicates=duplicates)
    dense = X.toarray()
    sw = np.random.default_rng(2).uniform(0.1, 3, 300)
    sw *= 300 / sw.sum()
    for weights in (np.ones(300), sw):
        offset = weights @ dense / 300
        expected = (weights[:, None] * (dense - offset) ** 2).sum(axis=0)
        got = column_norms(X, offset, weights)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(column_norms(X.tocsr(), offset, weights), expected,
                                   rtol=1e-10, atol=1e-12)
        # no offset, the lasso_path case
        np.testing.assert_allclose(column_norms(X, np.zeros(120), weights),
                                   weights @ dense**2, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("duplicates", [False, True])
@pytest.mark.parametrize("which", ["all", "scattered", "contiguous", "empty columns", "none"])
def test_sparse_tensor_holds_the_columns_of_x(monkeypatch, duplicates, which):
    monkeypatch.setattr(_design, "_ENTRY_BLOCK", 64)
    X = _sparse_x(200, 150, 0.08, seed=3, duplicates=duplicates)
    idx = {
        "all": None,
        "scattered": np.sort(np.random.default_rng(4).choice(150, 61, replace=False)),
        "contiguous": np.arange(20, 95),
        "empty columns": np.array([0, 7, 149]),
        "none": np.array([], dtype=int),
    }[which]
    for dtype in (np.float32, np.float64):
        tensor = Design(X, np.zeros(150)).tensor(idx, dtype)
        assert tensor.values[0].dtype == dtype
        expected = (X if idx is None else X[:, idx]).toarray()
        np.testing.assert_allclose(_dense_of(tensor), expected,
                                   rtol=1e-7 if dtype == np.float32 else 0)


@pytest.mark.parametrize("duplicates", [False, True])
@pytest.mark.parametrize("which", ["scattered", "unsorted", "contiguous", "contiguous, permuted",
                                   "empty columns", "none"])
def test_sparse_block_is_the_centred_weighted_columns(duplicates, which):
    X = _sparse_x(200, 150, 0.08, seed=5, duplicates=duplicates)
    rng = np.random.default_rng(6)
    idx = {
        "scattered": np.sort(rng.choice(150, 61, replace=False)),
        "unsorted": rng.choice(150, 40, replace=False),
        "contiguous": np.arange(20, 95),
        "contiguous, permuted": np.r_[20, 22, 21, 23:60],
        "empty columns": np.array([0, 7, 149, 5]),
        "none": np.array([], dtype=int),
    }[which]
    offset, root = rng.standard_normal(150), rng.uniform(0.5, 2, 200)
    for x in (X, X.astype(np.float32)):
        block = Design(x, offset, root).block(idx)
        assert block.dtype == np.float64
        expected = root[:, None] * (x.toarray()[:, idx].astype(np.float64) - offset[idx])
        np.testing.assert_array_equal(block, expected)


def test_sparse_tensor_and_norms_take_no_copy_of_x():
    """numpy's peak while making them: the tensor's own entries (12 bytes
    each in float32) and blocks of a few MB, no copy of X's columns (the
    tensor of 90% of X's columns took 2.4x its entries before, the norms
    two copies of X)."""
    X = _sparse_x(40_000, 20_000, 2e-3, seed=5)
    design = Design(X, np.zeros(20_000))
    idx = np.sort(np.random.default_rng(6).choice(20_000, 18_000, replace=False))
    selected = int(np.diff(X.indptr)[idx].sum())
    block = 24 * _design._ENTRY_BLOCK  # a block's gathers, squares and column numbers
    tracemalloc.start()
    try:
        tensor = design.tensor(idx, np.float32)
        _, peak = tracemalloc.get_traced_memory()
        assert peak <= 12 * selected + block + 2**20, (peak, 12 * selected)
        del tensor
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        design.col_norm2()
        _, peak = tracemalloc.get_traced_memory()
        assert peak - base <= block + 20 * 20_000, (peak - base, X.nnz)
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("rows", ["all", "permuted", "repeated"])
def test_sparse_moments_equal_dense_ones(rows):
    """Moments of sparse X's rows (sparse products moved to the shift) are
    those of the same rows dense, whatever order the rows come in."""
    from tflasso._design import Moments

    rng = np.random.default_rng(7)
    X = _sparse_x(80, 12, 0.3, seed=8)
    Y = rng.standard_normal((80, 2))
    sw = rng.uniform(0.5, 2, 80)
    index = {"all": np.arange(80), "permuted": rng.permutation(80),
             "repeated": rng.integers(0, 80, 50)}[rows]
    shift = (rng.standard_normal(12), rng.standard_normal(2))
    got = Moments.of_rows(X, Y, sw, index, *shift)
    expected = Moments.of_rows(X.toarray(), Y, sw, index, *shift)
    for name in Moments._fields:
        np.testing.assert_allclose(getattr(got, name), getattr(expected, name),
                                   rtol=1e-12, atol=1e-12)
