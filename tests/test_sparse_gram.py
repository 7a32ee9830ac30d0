"""Sparse Gram matrices: the Gram form's products on the stored entries only.

Sparse X whose columns rarely share a row (rare terms) has a Gram matrix that
is almost all zeros; the Gram program then multiplies by its stored entries
(tflasso._programs._sparse_gram). Spied on, and checked against
scikit-learn and the duality gap recomputed in numpy.
"""

import warnings

import numpy as np
import pytest
import tensorflow as tf
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoCV as SklearnLassoCV
from sklearn.linear_model import lasso_path as sklearn_lasso_path

from tflasso import LassoCV, _programs, lasso_path
from tflasso._reference import duality_gap


@pytest.fixture(scope="module")
def rare_terms():
    # 2,500 x 1,000 at density 1.5e-3: about 4 entries a column, a Gram
    # matrix storing 0.7% of its entries; above XLA's size (1,032 padded).
    rng = np.random.default_rng(3)
    n, p = 2_500, 1_000
    X = sparse.random_array((n, p), density=1.5e-3, rng=rng, format="csc")
    coef = np.zeros(p)
    coef[rng.choice(p, 20, replace=False)] = rng.uniform(1, 3, 20)
    y = X @ coef + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.fixture
def programs(monkeypatch):
    """The keys of the compiled programs called."""
    keys = []
    concrete = _programs._concrete
    monkeypatch.setattr(_programs, "_concrete",
                        lambda key: keys.append(key) or concrete(key))
    return keys


def test_sparse_gram_of_stored_entries():
    rng = np.random.default_rng(0)
    p = 300
    gram = np.zeros((2, p, p))
    for b in range(2):
        block = sparse.random_array((p, p), density=0.01, rng=rng).toarray()
        gram[b] = block + block.T
    scale = rng.uniform(0.5, 2, (2, p))
    out = _programs._sparse_gram(gram, scale)
    assert out is not None
    rebuilt = sparse.coo_array(
        (np.concatenate(out.values), tuple(np.concatenate(out.indices).T)),
        shape=tuple(out.shape),
    ).toarray()
    scaled = gram / scale[:, :, None] / scale[:, None, :]
    np.testing.assert_allclose(rebuilt, sparse.block_diag(list(scaled)).toarray(),
                               rtol=1e-15)
    # Denser than the threshold (with the copies that products with 160
    # columns make, 10 of them: 2% of entries, 20% with the copies), or too
    # small: the dense products.
    assert _programs._sparse_gram(gram, scale, columns=31) is not None
    assert _programs._sparse_gram(gram, scale, columns=160) is None
    assert _programs._sparse_gram(gram + 1e-3, scale) is None
    assert _programs._sparse_gram(gram[:, :200, :200], scale[:, :200]) is None


@pytest.mark.parametrize("columns", [(1, 1), (5, 2), (31, 1), (37, 1), (12, 4)])
def test_sparse_gram_products_match_numpy(columns):
    # Products in blocks of _SPARSE_COLUMNS columns (37: three, the last
    # padded), of every data set's block, against numpy's.
    rng = np.random.default_rng(1)
    n_sets, p = 3, 260
    gram = np.zeros((n_sets, p, p))
    for b in range(n_sets):
        block = sparse.random_array((p, p), density=0.01, rng=rng).toarray()
        gram[b] = block + block.T
    scale = np.ones((n_sets, p))
    sparse_gram = _programs._sparse_gram(gram, scale)
    v = rng.standard_normal((n_sets, p, *columns))
    tensors = _programs.SparseX(
        tuple(tf.constant(i) for i in sparse_gram.indices),
        tuple(tf.constant(x) for x in sparse_gram.values), tf.constant(sparse_gram.shape),
    )
    product = _programs._sparse_gram_products(tensors, tf.constant(v.shape))(tensors.values)
    np.testing.assert_allclose(product(tf.constant(v)).numpy(),
                               np.einsum("bij,bjct->bict", gram, v), rtol=1e-12, atol=1e-12)


def test_sparse_gram_path_agrees(rare_terms, programs):
    X, y = rare_terms
    n, tol = X.shape[0], 1e-8
    alphas, coefs, _ = lasso_path(X, y, alphas=40, eps=1e-3, tol=tol)
    # The path's tail, on every feature, batched: float32 iterations first.
    assert ("gram", tf.float32, "sparse") in programs
    assert ("gram", tf.float64, "sparse") in programs
    _, reference, _ = sklearn_lasso_path(X.toarray(), y, alphas=alphas, tol=1e-12,
                                         max_iter=100_000)
    for k, alpha in enumerate(alphas):
        assert duality_gap(X, y, coefs[:, k], alpha, fit_intercept=False) <= (
            1.01 * tol * (y @ y) / n)
    np.testing.assert_allclose(coefs, reference, atol=1e-5 * np.abs(reference).max())


def test_sparse_gram_cv_agrees(rare_terms, programs):
    # The folds' Gram matrices in one block-diagonal batch. Without an
    # intercept: centring would fill the Gram matrices in.
    X, y = rare_terms
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LassoCV(cv=3, alphas=30, tol=1e-8, max_iter=10_000,
                        fit_intercept=False).fit(X, y)
    assert any(key[-1] == "sparse" for key in programs if key[0] == "gram")
    reference = SklearnLassoCV(cv=3, alphas=30, tol=1e-10, max_iter=100_000,
                               fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(model.alphas_, reference.alphas_)
    np.testing.assert_allclose(model.mse_path_, reference.mse_path_, rtol=1e-4)
    assert model.alpha_ == reference.alpha_
