"""Float32 iterations for sparse float64 X (``_working_set._SINGLE``): the
restricted problems iterate in float32, the full passes and their gaps stay
in float64. Checked against the duality gap and objective recomputed in
numpy and against scikit-learn, with the iterations' precision recorded."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso as SkLasso
from sklearn.linear_model import lasso_path as sk_lasso_path

import tflasso
from tflasso import _working_set
from tflasso._reference import alpha_max, duality_gap as numpy_gap, objective


def _data(seed=4, n=300, p=600, scale=1.0):
    rng = np.random.default_rng(seed)
    X = sparse.random_array((n, p), density=0.05, rng=rng, format="csc") * scale
    w = np.zeros(p)
    w[:30] = rng.uniform(0.5, 2, 30) / scale
    return X, X @ w + 0.1 * rng.standard_normal(n)


@pytest.fixture
def precision(monkeypatch):
    """The ``single`` flag of every restricted solve, with float32 iterations
    allowed on small X (they start at _SINGLE_ENTRIES stored entries). As on
    the large X they are for: restricted problems in the operator form (an
    iteration's fixed cost, _SPARSE_ITERATION, is small beside their
    entries' there), and no single fit's start by active-set steps (see
    _START_ENTRIES); on X this small those solve most fits exactly."""
    monkeypatch.setattr(_working_set, "_SINGLE_ENTRIES", 0)
    monkeypatch.setattr(_working_set, "_SPARSE_ITERATION", 0)
    monkeypatch.setattr(_working_set, "_START_ENTRIES", 0)
    calls = []
    restricted = _working_set._restricted

    def spy(*args):
        calls.append(bool(args[10]) if len(args) > 10 else False)
        return restricted(*args)

    monkeypatch.setattr(_working_set, "_restricted", spy)
    return calls


def test_path_in_float32_meets_the_float64_gap(precision):
    X, y = _data()
    n = X.shape[0]
    alphas = np.geomspace(1, 1e-3, 30) * alpha_max(X, y, fit_intercept=False)
    tol = 1e-4
    _, coefs, gaps = tflasso.lasso_path(X, y, alphas=alphas, tol=tol)
    assert any(precision) and coefs.dtype == np.float64
    assert np.count_nonzero(coefs[:, -1]) > 100
    _, reference, _ = sk_lasso_path(X, y, alphas=alphas, tol=1e-12, max_iter=100_000)
    scale = tol * (y @ y) / n
    for k, alpha in enumerate(alphas):
        gap = numpy_gap(X, y, coefs[:, k], alpha, fit_intercept=False)
        assert gap <= 1.01 * scale
        assert gaps[k] == pytest.approx(gap, rel=1e-6, abs=1e-9 * scale)
        # Within the gap of the optimum (scikit-learn's, to tol 1e-12).
        ours = objective(X, y, coefs[:, k], 0.0, alpha)
        best = objective(X, y, reference[:, k], 0.0, alpha)
        assert best - 1e-9 * scale <= ours <= best + 1.01 * scale


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_with_intercept_in_float32_agrees_with_sklearn(precision, weighted):
    X, y = _data(seed=5)
    weight = np.random.default_rng(1).uniform(0.1, 3, len(y)) if weighted else None
    alpha = 0.02 * alpha_max(X, y, sample_weight=weight)
    model = tflasso.Lasso(alpha=alpha).fit(X, y, sample_weight=weight)
    assert any(precision)
    reference = SkLasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(
        X, y, sample_weight=weight)
    # tol * ||y - mean||^2 / n, weighted as scikit-learn weighs it (sum n).
    w = np.ones(len(y)) if weight is None else weight * len(y) / weight.sum()
    scale = 1e-4 * (w @ (y - w @ y / len(y)) ** 2) / len(y)
    assert numpy_gap(X, y, model.coef_, alpha, sample_weight=weight) <= 1.01 * scale
    ours = objective(X, y, model.coef_, model.intercept_, alpha, sample_weight=weight)
    best = objective(X, y, reference.coef_, reference.intercept_, alpha,
                     sample_weight=weight)
    assert ours <= best + 1.01 * scale


@pytest.mark.parametrize("case", ["exact", "out of range"])
def test_float64_iterations_where_float32_falls_short(precision, case):
    # A tolerance below what float32 iterations reach (they stall near 1e-6
    # of ||y||^2 / n), or entries whose squares leave float32's normal range.
    X, y = _data(scale=1e-20 if case == "out of range" else 1.0)
    tol = 1e-8 if case == "exact" else 1e-4
    alpha = 0.02 * alpha_max(X, y, fit_intercept=False)
    model = tflasso.Lasso(alpha=alpha, tol=tol, fit_intercept=False).fit(X, y)
    assert precision and not any(precision)
    assert numpy_gap(X, y, model.coef_, alpha, fit_intercept=False) <= (
        1.01 * tol * (y @ y) / len(y))


def test_non_finite_float32_solve_is_redone_in_float64(precision, monkeypatch):
    restricted = _working_set._restricted  # the spy

    def overflowing(*args):
        w, n_iter = restricted(*args)
        return (np.full_like(w, np.nan), n_iter) if precision[-1] else (w, n_iter)

    monkeypatch.setattr(_working_set, "_restricted", overflowing)
    X, y = _data(seed=6)
    alpha = 0.05 * alpha_max(X, y, fit_intercept=False)
    model = tflasso.Lasso(alpha=alpha, fit_intercept=False).fit(X, y)
    # The first solve's float32 result was discarded; every later one is float64.
    assert precision[0] and not any(precision[1:])
    assert np.all(np.isfinite(model.coef_))
    assert numpy_gap(X, y, model.coef_, alpha, fit_intercept=False) <= (
        1.01 * 1e-4 * (y @ y) / len(y))


def test_whole_problem_in_float32_not_certified_goes_on_in_float64(precision, monkeypatch):
    # Every working set holds every feature (the restricted problem is the
    # whole problem, solved to the tolerance itself); a float32 solve that the
    # float64 pass does not certify (here: nudged off the solution) is not
    # repeated in float32, which could go round to max_iter.
    monkeypatch.setattr(_working_set, "_MIN_SIZE", 10**6)
    monkeypatch.setattr(_working_set, "_fitted", lambda size, support: size)  # no snap
    restricted = _working_set._restricted  # the spy

    def nudged(*args):
        w, n_iter = restricted(*args)
        return (w * 1.05, n_iter) if precision[-1] else (w, n_iter)

    monkeypatch.setattr(_working_set, "_restricted", nudged)
    X, y = _data(seed=7)
    alpha = 0.05 * alpha_max(X, y, fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = tflasso.Lasso(alpha=alpha, fit_intercept=False).fit(X, y)
    assert precision[0] and not any(precision[1:])
    assert numpy_gap(X, y, model.coef_, alpha, fit_intercept=False) <= (
        1.01 * 1e-4 * (y @ y) / len(y))
