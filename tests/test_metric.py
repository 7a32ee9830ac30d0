"""FISTA in the metric ``L_C I + u u^T`` (non-negative, uncentred data):
the proximal step in that metric against its optimality conditions, the
loop against plain FISTA and scikit-learn, the shared curvature bound
against numpy's eigenvalues, and whole fits against scikit-learn."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import sparse
from sklearn.linear_model import Lasso as SkLasso
from sklearn.linear_model import lasso_path as sk_lasso_path

import tflasso
from tflasso._design import Design
from tflasso._loop import fista
from tflasso._penalty import Penalty, duality_gap, metric_prox, prox
from tflasso._programs import PROGRAMS
from tflasso._reference import alpha_max, duality_gap as numpy_gap
from tflasso._reference import kkt_violation
from tflasso import _working_set
from tflasso._working_set import _Columns


def _penalty(alpha, l1_ratio, factor, positive):
    return Penalty(tf.constant([alpha], tf.float64), tf.constant([l1_ratio], tf.float64),
                   tf.constant(factor, tf.float64), tf.constant(positive))


@pytest.mark.parametrize("l1_ratio, positive", [(1.0, False), (0.5, False), (1.0, True)])
def test_metric_prox_meets_its_optimality_conditions(l1_ratio, positive):
    # argmin_x g(x) + ||x - w||_H^2 / 2, H = I / step + u u^T, in rescaled
    # features v = s w: H (w - x) less the L2 part's gradient is the L1
    # part's subgradient, alpha l1 f_j / s_j sign(x_j), or within it at 0.
    rng = np.random.default_rng(0)
    p, step, alpha = 300, 0.2, 4.0
    factor = rng.uniform(0.5, 2, p)
    factor[:5] = 0  # unpenalised
    s = rng.uniform(0.5, 2, p)
    u = rng.uniform(0, 0.3, p)  # a large spike: ||u||^2 = 9, 1 / step = 5
    w = rng.standard_normal(p)
    apply = metric_prox(_penalty(alpha, l1_ratio, factor, positive),
                        tf.constant([[[step]]], tf.float64), tf.constant(s[None]),
                        tf.constant(u[None, :, None, None]))
    x, beta = (a.numpy().ravel() for a in apply(tf.constant(w[None, :, None, None]),
                                                tf.zeros((1, 1, 1, 1), tf.float64)))
    assert beta[0] == pytest.approx(u @ (x - w), rel=1e-10)
    q = (w - x) / step + u * (u @ (w - x)) - alpha * (1 - l1_ratio) * factor * x / s**2
    bound = alpha * l1_ratio * factor / s
    nonzero = x != 0
    assert 20 < nonzero.sum() < p - 20  # exact zeros, and not only
    np.testing.assert_allclose(q[nonzero], bound[nonzero] * np.sign(x[nonzero]),
                               atol=1e-9)
    at_zero = q[~nonzero]
    if positive:
        assert np.all(x >= 0)
        assert np.all(at_zero <= bound[~nonzero] + 1e-9)
    else:
        assert np.all(np.abs(at_zero) <= bound[~nonzero] + 1e-9)
    # The plain prox is the metric's with u = 0.
    plain = prox(_penalty(alpha, l1_ratio, factor, positive),
                 tf.constant([[[step]]], tf.float64), tf.constant(s[None]))
    zero = metric_prox(_penalty(alpha, l1_ratio, factor, positive),
                       tf.constant([[[step]]], tf.float64), tf.constant(s[None]),
                       tf.zeros((1, p, 1, 1), tf.float64))
    w4 = tf.constant(w[None, :, None, None])
    np.testing.assert_array_equal(zero(w4, tf.zeros((1, 1, 1, 1), tf.float64))[0].numpy(),
                                  plain(w4).numpy())


@pytest.fixture(scope="module")
def spiky():
    """Non-negative, uncentred columns scaled to unit norm: a large mean."""
    rng = np.random.default_rng(1)
    n, p = 200, 80
    X = rng.uniform(0, 1, (n, p)) * (rng.random((n, p)) < 0.3)
    X /= np.sqrt((X**2).mean(axis=0))
    w = np.zeros(p)
    w[:6] = [3, -2, 2, -1.5, 1, 1]
    y = X @ w + 0.5 * rng.standard_normal(n)
    return X, y


def _fista(X, y, alpha, metric):
    n, p = X.shape
    Xt, yt = tf.constant(X), tf.constant(y[:, None])
    penalty = _penalty(alpha, 1.0, np.ones(p), False)
    scale = tf.ones((1, p), tf.float64)
    mean = X.mean(axis=0)
    hessian = X.T @ X / n
    tol = 1e-10 * (y @ y) / n

    def smooth(v):
        return 0.5 / n * tf.reduce_sum((yt - Xt @ v[0, :, :, 0]) ** 2)

    def gap_at(v):
        r = yt - Xt @ v[0, :, :, 0]
        rr = tf.reduce_sum(r * r)[None, None] / n
        ry = tf.reduce_sum(r * yt)[None, None] / n
        corr = (tf.transpose(Xt) @ r / n)[None, :, :, None]
        return duality_gap(penalty, v, rr, (rr, ry), corr, n)[0]

    if metric:  # H = L_C I + u u^T, u the columns' means (e = 1 / sqrt(n))
        constant = 1.05 * np.linalg.eigvalsh(hessian - np.outer(mean, mean))[-1]
        u = tf.constant(mean[None, :, None, None])
        extra = dict(metric=(u, lambda step: metric_prox(penalty, step, scale, u)))
    else:
        constant, extra = 1.05 * np.linalg.eigvalsh(hessian)[-1], {}
    v, gap, n_iter = tf.function(lambda: fista(
        smooth, lambda step: prox(penalty, step, scale), gap_at,
        tf.zeros((1, p, 1, 1), tf.float64), tf.constant([constant], tf.float64),
        tf.constant([[tol]], tf.float64), 100_000, 10, **extra))()
    return v.numpy().ravel(), float(gap.numpy().ravel()[0]), int(n_iter.numpy().ravel()[0]), tol


def test_fista_in_the_metric_reaches_the_solution_in_fewer_iterations(spiky):
    X, y = spiky
    mean = X.mean(axis=0)
    spike = mean @ mean
    bulk = np.linalg.eigvalsh(X.T @ X / len(y) - np.outer(mean, mean))[-1]
    assert spike > 5 * bulk  # what the metric is for
    alpha = 0.05 * alpha_max(X, y, fit_intercept=False)
    reference = SkLasso(alpha=alpha, fit_intercept=False, tol=1e-14,
                        max_iter=100_000).fit(X, y).coef_
    plain = _fista(X, y, alpha, metric=False)
    metric = _fista(X, y, alpha, metric=True)
    for w, gap, n_iter, tol in (plain, metric):
        assert gap <= tol
        assert numpy_gap(X, y, w, alpha, fit_intercept=False) <= 1.01 * tol
        np.testing.assert_allclose(w, reference, atol=1e-4)
    assert np.count_nonzero(metric[0]) < X.shape[1]  # exact zeros
    assert metric[2] < 0.6 * plain[2], (metric[2], plain[2])


def test_curvature_bounds_every_set_of_columns():
    rng = np.random.default_rng(2)
    n, p = 120, 60
    X = sparse.random_array((n, p), density=0.2, rng=rng, format="csc")
    sw = rng.uniform(0.5, 2, n)
    sw *= n / sw.sum()
    root = np.sqrt(sw)
    design = Design(X, np.zeros(p), root)
    bound = _Columns(design, (root * rng.standard_normal(n))[:, None]).curvature()
    A = root[:, None] * X.toarray()
    A /= np.sqrt(np.where((A**2).sum(0) > 0, (A**2).sum(0) / n, 1))
    e = root / np.linalg.norm(root)
    projected = A - np.outer(e, e @ A)

    def top(idx):
        block = projected[:, idx]
        return np.linalg.eigvalsh(block.T @ block / n)[-1]

    assert top(np.arange(p)) <= bound <= 1.06 * top(np.arange(p))
    for size in (5, 20, 45):
        assert top(np.sort(rng.choice(p, size, replace=False))) <= bound


@pytest.mark.parametrize("positive", [False, True])  # the second: other n, p; no retrace
def test_uncentred_sparse_path_agrees_with_sklearn(positive, monkeypatch):
    # tf-idf-like: non-negative sparse columns, no intercept (the mean is a
    # spike); the working sets take the shared curvature in the operator form
    # from their second (a ski rental that pays at once). As on the large X
    # the operator form is for: no fixed cost an iteration (_SPARSE_ITERATION,
    # small there beside the entries'), no active-set steps (on X this small
    # they would solve most alphas exactly, with no restricted solve).
    monkeypatch.setattr(_working_set, "_SHARED_AFTER", 1)
    monkeypatch.setattr(_working_set, "_SPARSE_ITERATION", 0)
    monkeypatch.setattr(_working_set, "_factor", lambda columns, n: None)
    shared = []
    curvature = _Columns.curvature
    monkeypatch.setattr(_Columns, "curvature",
                        lambda self: shared.append(curvature(self)) or shared[-1])
    rng = np.random.default_rng(3)
    n, p = (300, 600) if not positive else (250, 700)
    X = sparse.random_array((n, p), density=0.05, rng=rng, format="csc")
    w = np.zeros(p)
    w[:30] = rng.uniform(0.5, 2, 30)
    y = X @ w + 0.1 * rng.standard_normal(n)
    alphas = np.geomspace(1, 1e-3, 30) * alpha_max(X, y, fit_intercept=False)
    tol = 1e-8
    _, coefs, gaps = tflasso.lasso_path(X, y, alphas=alphas, tol=tol, positive=positive)
    _, reference, _ = sk_lasso_path(X, y, alphas=alphas, tol=1e-12, max_iter=100_000,
                                    positive=positive)
    scale = tol * (y @ y) / n
    assert np.count_nonzero(coefs[:, -1]) > p / 8  # large sets, low on the path
    assert shared and shared[0] > 0
    metric = PROGRAMS[("sparse", tf.float64, "metric")]
    assert metric.experimental_get_tracing_count() == 1  # used, and traced once
    for k, alpha in enumerate(alphas):
        assert numpy_gap(X, y, coefs[:, k], alpha, fit_intercept=False,
                         positive=positive) <= 1.01 * scale
        assert kkt_violation(X, y, coefs[:, k], alpha, fit_intercept=False,
                             positive=positive) <= 1e-3 * alpha
        np.testing.assert_allclose(X @ coefs[:, k], X @ reference[:, k],
                                   atol=1e-3 * np.abs(y).max())
