"""The certificate evaluated by numpy (small ones) and by the compiled program
(large ones): one formula (tflasso._namespace), the same gaps and dual terms;
and, for the lasso, scikit-learn's gap recomputed in numpy by
tflasso._reference."""

import numpy as np
import pytest

from tflasso import _programs
from tflasso._penalty import Penalty
from tflasso._reference import duality_gap

from .conftest import make_problem


def _certificate(X, Y, W, alphas, l1_ratio, factor, positive):
    """The certificate's inputs for coefficients ``W`` (p, C, T) on centred X
    and Y (n, T): one data set, ``C`` alphas."""
    n = X.shape[0]
    R = Y[:, None, :] - np.einsum("np,pct->nct", X, W)
    gram, xty = X.T @ X, np.repeat((X.T @ Y)[:, None, :], W.shape[1], axis=1)
    free = _programs.unpenalised_of_gram(gram[None] / n, xty[None] / n, factor)
    penalty = Penalty(np.asarray(alphas, float), np.full(len(alphas), l1_ratio),
                      np.asarray(factor, float), positive)
    return (penalty, free, W[None], np.einsum("nct,nct->c", R, R)[None] / n,
            np.einsum("nct,nt->c", R, Y)[None] / n, np.einsum("np,nct->pct", X, R)[None] / n,
            float(n))


@pytest.mark.parametrize("l1_ratio, positive, tasks, unpenalised", [
    (1.0, False, 1, 0), (0.5, False, 1, 0), (1.0, True, 1, 0), (1.0, False, 1, 2),
    (0.7, False, 3, 1), (0.0, False, 1, 0),
])
def test_numpy_and_compiled_certificates_agree(monkeypatch, l1_ratio, positive, tasks,
                                               unpenalised):
    X, Y = make_problem(50, 12, n_informative=4, n_targets=tasks if tasks > 1 else None,
                        seed=3)
    X, Y = X - X.mean(axis=0), Y - Y.mean(axis=0)
    Y = Y.reshape(50, tasks)
    rng = np.random.default_rng(0)
    alphas = [0.5, 0.1, 0.02, 0.0]  # the last: no penalty at all (OLS's gradient)
    W = rng.standard_normal((12, len(alphas), tasks)) * (rng.random((12, 1, 1)) < 0.5)
    if positive:
        W = np.abs(W)
    factor = np.ones(12)
    factor[:unpenalised] = 0.0
    factor[-1] = 2.5
    args = _certificate(X, Y, W, alphas, l1_ratio, factor, positive)
    monkeypatch.setattr(_programs, "_NUMPY_CERTIFY", 10**9)
    gap_numpy, duals_numpy = _programs.certify(*args)
    monkeypatch.setattr(_programs, "_NUMPY_CERTIFY", -1)
    gap_tf, duals_tf = _programs.certify(*args)
    assert isinstance(gap_numpy, np.ndarray) and gap_numpy.shape == (1, len(alphas))
    assert duals_numpy.shape == (1, 12, len(alphas))
    assert np.all(np.isfinite(gap_numpy)) and np.all(gap_numpy > 0)
    np.testing.assert_allclose(gap_numpy, gap_tf, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(duals_numpy, duals_tf, rtol=1e-12, atol=1e-14)


def test_numpy_certificate_is_the_lasso_gap():
    # Small certificates go to numpy (the default threshold): scikit-learn's
    # gap, recomputed from X and y.
    X, y = make_problem(40, 15, seed=5)
    X, y = X - X.mean(axis=0), y - y.mean()
    rng = np.random.default_rng(1)
    alphas = [0.3, 0.05]
    W = rng.standard_normal((15, 2, 1)) * (rng.random((15, 1, 1)) < 0.4)
    args = _certificate(X, y[:, None], W, alphas, 1.0, np.ones(15), False)
    assert np.size(W) <= _programs._NUMPY_CERTIFY
    gap, duals = _programs.certify(*args)
    for c, alpha in enumerate(alphas):
        expected = duality_gap(X, y, W[:, c, 0], alpha, fit_intercept=False)
        np.testing.assert_allclose(gap[0, c], expected, rtol=1e-12)
    corr = np.abs(X.T @ (y[:, None] - X @ W[:, :, 0])) / len(y)
    np.testing.assert_allclose(duals[0], corr, rtol=1e-12)


def test_numpy_certificate_of_no_feature():
    # No feature at all: the dual norm is that of nothing (-inf, as
    # TensorFlow's maximum), the gap the residual's alone, with no warning.
    penalty = Penalty(np.array([0.1]), np.ones(1), np.zeros(0), False)
    free = _programs.no_unpenalised(1, 0, 1, 1)
    with np.errstate(all="raise"):
        gap, duals = _programs.certify(penalty, free, np.zeros((1, 0, 1, 1)),
                                       np.array([[2.0]]), np.array([[2.0]]),
                                       np.zeros((1, 0, 1, 1)), 10.0)
    assert duals.shape == (1, 0, 1)
    np.testing.assert_allclose(gap, [[0.0]], atol=1e-15)


def test_numpy_and_compiled_certificates_agree_on_a_batch(monkeypatch):
    # Several data sets at once (cross-validation's folds, B > 1), with an
    # unpenalised feature: each set's projection and gap its own.
    rng = np.random.default_rng(7)
    factor = np.ones(10)
    factor[0] = 0.0
    parts = []
    for seed in (11, 12, 13):
        X, y = make_problem(30 + seed, 10, seed=seed)
        X, y = X - X.mean(axis=0), y - y.mean()
        W = rng.standard_normal((10, 2, 1)) * (rng.random((10, 1, 1)) < 0.6)
        parts.append(_certificate(X, y[:, None], W, [0.2, 0.05], 1.0, factor, False))
    penalty, free = parts[0][0], parts[0][1]
    free = type(free)(free.index, *(np.concatenate([p[1][i] for p in parts])
                                    for i in range(1, 4)))
    w, rr, ry, corr = (np.concatenate([p[i] for p in parts]) for i in range(2, 6))
    n = 40.0  # (n enters the gap without an L1 or L2 part only)
    monkeypatch.setattr(_programs, "_NUMPY_CERTIFY", 10**9)
    gap_numpy, duals_numpy = _programs.certify(penalty, free, w, rr, ry, corr, n)
    monkeypatch.setattr(_programs, "_NUMPY_CERTIFY", -1)
    gap_tf, duals_tf = _programs.certify(penalty, free, w, rr, ry, corr, n)
    assert gap_numpy.shape == (3, 2) and np.all(gap_numpy > 0)
    np.testing.assert_allclose(gap_numpy, gap_tf, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(duals_numpy, duals_tf, rtol=1e-12, atol=1e-14)
    for b, part in enumerate(parts):  # each set alone gives its own row
        alone, _ = _programs.certify(*part[:6], n)
        np.testing.assert_allclose(gap_numpy[b], alone[0], rtol=1e-12)


@pytest.mark.parametrize("unpenalised", [0, 2])
def test_gram_certificate_is_the_residuals(unpenalised):
    # certify_gram makes the residual's statistics from G w: the same
    # certificate as from the residual itself (and, for the lasso with
    # every feature penalised, scikit-learn's gap recomputed from X and y).
    X, y = make_problem(60, 14, seed=8)
    X, y = X - X.mean(axis=0), y - y.mean()
    n = len(y)
    rng = np.random.default_rng(2)
    alphas = [0.4, 0.08, 0.01]
    W = rng.standard_normal((14, len(alphas), 1)) * (rng.random((14, 1, 1)) < 0.5)
    factor = np.ones(14)
    factor[:unpenalised] = 0.0
    args = _certificate(X, y[:, None], W, alphas, 1.0, factor, False)
    expected, duals = _programs.certify(*args)
    gram = (X.T @ X)[None] / n
    xty = np.repeat((X.T @ y)[:, None, None], len(alphas), axis=1)[None] / n
    gap, duals_gram = _programs.certify_gram(
        gram, xty, np.full((1, len(alphas)), y @ y / n), np.array([float(n)]), args[0],
        args[1] if unpenalised else None, W[None])
    np.testing.assert_allclose(gap, expected, rtol=1e-10)
    np.testing.assert_allclose(duals_gram, duals, rtol=1e-10, atol=1e-14)
    if not unpenalised:
        for c, alpha in enumerate(alphas):
            np.testing.assert_allclose(
                gap[0, c], duality_gap(X, y, W[:, c, 0], alpha, fit_intercept=False),
                rtol=1e-10)
