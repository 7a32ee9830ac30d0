"""Columns scaled from 1e-6 to 1e6, tol=1e-8, default max_iter: every form of
every estimator and path converges wherever scikit-learn does.

The copies of the solver once drifted apart here: one path form iterated on
the raw columns (no unit-norm rescaling) and left fits unconverged.
"""

import warnings

import numpy as np
import pytest
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning

import tflasso

TOL = 1e-8


def _scaled(n, p, seed):
    rng = np.random.default_rng(seed)
    scales = np.logspace(-6, 6, p)
    X = rng.standard_normal((n, p)) * scales
    y = X[:, :5] @ (rng.uniform(1, 2, 5) / scales[:5]) + rng.standard_normal(n)
    Y = np.column_stack([y, y + rng.standard_normal(n)])
    top = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / n
    return X, y, Y, top


TALL, WIDE = _scaled(100, 10, 0), _scaled(30, 60, 1)


def _converges(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit()
    return result, not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def _single(ours, theirs, data, multi_task=False):
    X, y, Y, top = data
    target = Y if multi_task else y
    return (lambda: ours(alpha=0.01 * top, tol=TOL).fit(X, target),
            lambda: theirs(alpha=0.01 * top, tol=TOL).fit(X, target))


def _cases():
    for shape, data in (("tall", TALL), ("wide", WIDE)):
        for precompute in ("auto", True, False):
            for name in ("Lasso", "ElasticNet"):
                ours = getattr(tflasso, name)
                yield (f"{name}-{precompute}-{shape}",
                       *_single(lambda ours=ours, pre=precompute, **kw: ours(
                           precompute=pre, **kw), getattr(sk, name), data), data, TOL)
            for path in ("lasso_path", "enet_path"):
                X, y = data[0], data[1]
                yield (f"{path}-{precompute}-{shape}",
                       lambda f=getattr(tflasso, path), pre=precompute, X=X, y=y: f(
                           X, y, alphas=10, tol=TOL, precompute=pre),
                       lambda f=getattr(sk, path), X=X, y=y: f(X, y, alphas=10, tol=TOL),
                       data, None)
            for name in ("LassoCV", "ElasticNetCV"):
                X, y = data[0], data[1]
                yield (f"{name}-{precompute}-{shape}",
                       lambda c=getattr(tflasso, name), pre=precompute, X=X, y=y: c(
                           alphas=10, tol=TOL, precompute=pre, cv=3).fit(X, y),
                       lambda c=getattr(sk, name), X=X, y=y: c(
                           alphas=10, tol=TOL, cv=3).fit(X, y), data, TOL)
        for name in ("MultiTaskLasso", "MultiTaskElasticNet"):
            yield (f"{name}-{shape}",
                   *_single(getattr(tflasso, name), getattr(sk, name), data, True),
                   data, TOL)
        for name in ("MultiTaskLassoCV", "MultiTaskElasticNetCV"):
            X, Y = data[0], data[2]
            yield (f"{name}-{shape}",
                   lambda c=getattr(tflasso, name), X=X, Y=Y: c(alphas=10, tol=TOL, cv=3).fit(X, Y),
                   lambda c=getattr(sk, name), X=X, Y=Y: c(alphas=10, tol=TOL, cv=3).fit(X, Y),
                   data, TOL)


CASES = list(_cases())


@pytest.mark.parametrize("ours, theirs, data, tol", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_scaled_columns_converge_at_default_max_iter(ours, theirs, data, tol):
    _, sklearn_converged = _converges(theirs)
    if not sklearn_converged:
        pytest.skip("scikit-learn does not converge here either")
    result, converged = _converges(ours)
    assert converged
    if tol is not None:  # an estimator: its reported gap meets the tolerance
        X, y, Y, _ = data
        target = Y if np.ndim(result.coef_) == 2 else y
        yy = np.sum((target - target.mean(axis=0)) ** 2) / len(target)
        assert np.all(np.asarray(result.dual_gap_) <= tol * yy * (1 + 1e-9))
