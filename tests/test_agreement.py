"""tflasso.Lasso against sklearn.linear_model.Lasso, both solved tightly.

Each case compares, at several alphas from 0.5 to 0.001 of alpha_max: the
objective (recomputed in numpy float64), the coefficients relative to the
largest one, and the support (the set of exact zeros).
"""

import numpy as np
import pytest
from sklearn.linear_model import Lasso as SklearnLasso

from tflasso import Lasso
from tflasso._reference import alpha_max, objective

from .conftest import make_problem

FRACTIONS = [0.5, 0.1, 0.01, 0.001]
TIGHT = dict(tol=1e-12, max_iter=200_000)


def _compare(X, y, alpha, sw=None, precompute="auto", obj_rtol=1e-9,
             coef_rtol=1e-5, **params):
    ours = Lasso(
        alpha=alpha, tol=1e-10, max_iter=200_000, precompute=precompute, **params
    ).fit(
        X, y, sample_weight=sw
    )
    theirs = SklearnLasso(alpha=alpha, **TIGHT, **params).fit(X, y, sample_weight=sw)
    assert ours.coef_.shape == theirs.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)
    ours_coef = np.atleast_2d(ours.coef_)
    theirs_coef = np.atleast_2d(theirs.coef_)
    Y = y.reshape(len(y), -1)
    for k in range(Y.shape[1]):
        b_ours = np.ravel(ours.intercept_)[k] if params.get("fit_intercept", True) else 0
        b_theirs = (
            np.ravel(theirs.intercept_)[k] if params.get("fit_intercept", True) else 0
        )
        f_ours = objective(X, Y[:, k], ours_coef[k], b_ours, alpha, sw)
        f_theirs = objective(X, Y[:, k], theirs_coef[k], b_theirs, alpha, sw)
        assert f_ours <= f_theirs * (1 + obj_rtol), (f_ours, f_theirs)
        assert f_theirs <= f_ours * (1 + obj_rtol), (f_ours, f_theirs)
        scale = np.abs(theirs_coef[k]).max()
        np.testing.assert_allclose(
            ours_coef[k], theirs_coef[k], rtol=0, atol=coef_rtol * max(scale, 1e-12)
        )
        np.testing.assert_array_equal(ours_coef[k] == 0, theirs_coef[k] == 0)
    return ours, theirs


@pytest.mark.parametrize("shape", [(80, 30), (30, 80)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("positive", [False, True])
def test_agreement_with_sklearn(shape, density, fit_intercept, positive):
    X, y = make_problem(*shape, density=density, seed=sum(shape))
    top = alpha_max(X, y, fit_intercept=fit_intercept, positive=positive)
    for fraction in FRACTIONS:
        _compare(X, y, fraction * top, fit_intercept=fit_intercept, positive=positive)


@pytest.mark.parametrize("shape", [(80, 30), (30, 80)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_agreement_with_sample_weight(shape, density):
    X, y = make_problem(*shape, density=density, seed=1)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, shape[0])
    top = alpha_max(X, y, sample_weight=sw)
    for fraction in FRACTIONS:
        _compare(X, y, fraction * top, sw=sw)


@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
@pytest.mark.parametrize("precompute", ["auto", False])
def test_agreement_multi_output(density, precompute):
    X, Y = make_problem(60, 20, n_targets=3, density=density, seed=2)
    top = min(alpha_max(X, Y[:, k]) for k in range(3))
    for fraction in FRACTIONS:
        ours, _ = _compare(X, Y, fraction * top, precompute=precompute)
        assert ours.dual_gap_.shape == (3,) and len(ours.n_iter_) == 3


def test_agreement_single_column_2d_target():
    X, y = make_problem(50, 10, seed=3)
    ours, _ = _compare(X, y[:, None], 0.1 * alpha_max(X, y))
    assert ours.coef_.shape == (10,)


@pytest.mark.parametrize("shape", [(80, 30), (30, 80)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_agreement_float32(shape, density):
    X, y = make_problem(*shape, density=density, seed=4)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    top = alpha_max(X, y)
    for fraction in FRACTIONS:
        alpha = fraction * top
        ours = Lasso(alpha=alpha, tol=1e-6, max_iter=100_000).fit(X32, y32)
        theirs = SklearnLasso(alpha=alpha, **TIGHT).fit(X, y)
        assert ours.coef_.dtype == np.float32
        f_ours = objective(X32, y32, ours.coef_, ours.intercept_, alpha)
        f_theirs = objective(X32, y32, theirs.coef_, theirs.intercept_, alpha)
        assert abs(f_ours - f_theirs) <= 1e-5 * f_theirs


@pytest.mark.parametrize("precompute", [True, False])
def test_precompute_forms_agree(precompute):
    X, y = make_problem(40, 15, seed=5)
    _compare(X, y, 0.05 * alpha_max(X, y), precompute=precompute)


def test_csc_input_gives_the_csr_answer():
    X, y = make_problem(40, 15, density=0.3, seed=6)
    alpha = 0.05 * alpha_max(X, y)
    csr = Lasso(alpha=alpha, tol=1e-10).fit(X, y)
    csc = Lasso(alpha=alpha, tol=1e-10).fit(X.tocsc(), y)
    np.testing.assert_allclose(csc.coef_, csr.coef_, atol=1e-12)
