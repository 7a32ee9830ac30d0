"""tflasso.ElasticNet against sklearn.linear_model.ElasticNet, both solved tightly.

Each case compares, at several alphas from 0.5 to 0.001 of the elastic net's
``alpha_max`` (the lasso's divided by ``l1_ratio``): the objective
(recomputed in numpy float64, both ways within 1e-9 relative), the
coefficients relative to the largest one, and the support (the set of exact
zeros).
"""

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import ElasticNet as SklearnElasticNet
from sklearn.utils.estimator_checks import parametrize_with_checks

from tflasso import ElasticNet, Lasso
from tflasso._reference import alpha_max

from .conftest import make_problem

FRACTIONS = [0.5, 0.1, 0.01, 0.001]
RATIOS = [0.1, 0.5, 0.9]
SHAPES = [(80, 30), (30, 80)]
SHAPE_IDS = ["n>p", "p>n"]
OURS = dict(tol=1e-10, max_iter=200_000)
TIGHT = dict(tol=1e-12, max_iter=200_000)


def enet_objective(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None,
                   factor=None):
    """scikit-learn's elastic-net objective of one output, in float64 numpy.

    ``(1 / (2 sum(sw))) sum_i sw_i r_i^2 + alpha l1_ratio sum_j f_j |w_j|
    + alpha (1 - l1_ratio) / 2 sum_j f_j w_j^2``.
    """
    X = X.toarray() if sparse.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    n = X.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    f = np.ones_like(coef) if factor is None else np.asarray(factor, float)
    residual = np.asarray(y, float) - X @ coef - float(intercept)
    return (
        0.5 * (sw @ residual**2) / sw.sum()
        + alpha * l1_ratio * (f @ np.abs(coef))
        + 0.5 * alpha * (1 - l1_ratio) * (f @ coef**2)
    )


def enet_alpha_max(X, y, l1_ratio, sample_weight=None, fit_intercept=True,
                   positive=False):
    """The smallest alpha at which every elastic-net coefficient is zero."""
    return alpha_max(X, y, sample_weight, fit_intercept, positive) / l1_ratio


def _compare(X, y, alpha, l1_ratio, sw=None, precompute="auto", obj_rtol=1e-9,
             coef_rtol=1e-5, **params):
    ours = ElasticNet(
        alpha=alpha, l1_ratio=l1_ratio, precompute=precompute, **OURS, **params
    ).fit(X, y, sample_weight=sw)
    theirs = SklearnElasticNet(alpha=alpha, l1_ratio=l1_ratio, **TIGHT, **params).fit(
        X, y, sample_weight=sw
    )
    case = dict(alpha=alpha, l1_ratio=l1_ratio, precompute=precompute, **params)
    assert ours.coef_.shape == theirs.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)
    ours_coef, theirs_coef = np.atleast_2d(ours.coef_), np.atleast_2d(theirs.coef_)
    Y = y.reshape(len(y), -1)
    fit_intercept = params.get("fit_intercept", True)
    for k in range(Y.shape[1]):
        b_ours = np.ravel(ours.intercept_)[k] if fit_intercept else 0.0
        b_theirs = np.ravel(theirs.intercept_)[k] if fit_intercept else 0.0
        f_ours = enet_objective(X, Y[:, k], ours_coef[k], b_ours, alpha, l1_ratio, sw)
        f_theirs = enet_objective(
            X, Y[:, k], theirs_coef[k], b_theirs, alpha, l1_ratio, sw
        )
        assert f_ours <= f_theirs * (1 + obj_rtol), (case, f_ours, f_theirs)
        assert f_theirs <= f_ours * (1 + obj_rtol), (case, f_ours, f_theirs)
        scale = np.abs(theirs_coef[k]).max()
        np.testing.assert_allclose(
            ours_coef[k], theirs_coef[k], rtol=0, atol=coef_rtol * max(scale, 1e-12),
            err_msg=str(case),
        )
        np.testing.assert_array_equal(
            ours_coef[k] == 0, theirs_coef[k] == 0, err_msg=str(case)
        )
        if params.get("positive", False):
            assert np.all(ours_coef[k] >= 0)
    return ours, theirs


@pytest.mark.parametrize("l1_ratio", RATIOS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_agreement_with_sklearn(l1_ratio, shape, density):
    X, y = make_problem(*shape, density=density, seed=sum(shape))
    for fit_intercept in (True, False):
        for positive in (False, True):
            top = enet_alpha_max(
                X, y, l1_ratio, fit_intercept=fit_intercept, positive=positive
            )
            for fraction in FRACTIONS:
                _compare(X, y, fraction * top, l1_ratio, fit_intercept=fit_intercept,
                         positive=positive)


def test_alpha_max_zeroes_every_coefficient():
    X, y = make_problem(40, 20, seed=7)
    for l1_ratio in RATIOS:
        top = enet_alpha_max(X, y, l1_ratio)
        above = ElasticNet(alpha=1.0001 * top, l1_ratio=l1_ratio, **OURS).fit(X, y)
        below = ElasticNet(alpha=0.99 * top, l1_ratio=l1_ratio, **OURS).fit(X, y)
        assert np.all(above.coef_ == 0)
        assert np.any(below.coef_ != 0)


@pytest.mark.parametrize("l1_ratio", RATIOS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_agreement_with_sample_weight(l1_ratio, shape, density):
    X, y = make_problem(*shape, density=density, seed=1)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, shape[0])
    top = enet_alpha_max(X, y, l1_ratio, sample_weight=sw)
    for fraction in FRACTIONS:
        _compare(X, y, fraction * top, l1_ratio, sw=sw)


@pytest.mark.parametrize("precompute", [True, False, "auto"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_precompute_forms_agree(precompute, shape, density):
    X, y = make_problem(*shape, density=density, seed=5)
    for l1_ratio in (0.5, 0.9):
        top = enet_alpha_max(X, y, l1_ratio)
        for fraction in (0.1, 0.01):
            _compare(X, y, fraction * top, l1_ratio, precompute=precompute)


# float32 iterations stall near a relative gap of 1e-6 on some p > n fits
# (dense, l1_ratio=0.9, 0.001 alpha_max: 2e-6 after 100,000 iterations), so
# they may stop at max_iter with a ConvergenceWarning; the objective is the
# criterion here.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_agreement_float32(shape, density):
    X, y = make_problem(*shape, density=density, seed=4)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    for l1_ratio in (0.1, 0.5, 0.9):
        top = enet_alpha_max(X, y, l1_ratio)
        for fraction in FRACTIONS:
            alpha = fraction * top
            ours = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-6,
                              max_iter=20_000).fit(X32, y32)
            theirs = SklearnElasticNet(alpha=alpha, l1_ratio=l1_ratio, **TIGHT)
            theirs.fit(X, y)
            assert ours.coef_.dtype == np.float32
            f_ours = enet_objective(X32, y32, ours.coef_, ours.intercept_, alpha,
                                    l1_ratio)
            f_theirs = enet_objective(X32, y32, theirs.coef_, theirs.intercept_, alpha,
                                      l1_ratio)
            assert abs(f_ours - f_theirs) <= 1e-5 * f_theirs, (
                l1_ratio, fraction, f_ours, f_theirs
            )


@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_agreement_multi_output(density):
    X, Y = make_problem(60, 20, n_targets=3, density=density, seed=2)
    for l1_ratio in (0.3, 0.8):
        top = min(enet_alpha_max(X, Y[:, k], l1_ratio) for k in range(3))
        for fraction in (0.5, 0.05, 0.005):
            ours, _ = _compare(X, Y, fraction * top, l1_ratio)
            assert ours.coef_.shape == (3, 20)
            assert ours.intercept_.shape == (3,)
            assert np.shape(ours.dual_gap_) == (3,) and len(ours.n_iter_) == 3


def test_l1_ratio_one_is_the_lasso():
    X, y = make_problem(50, 20, seed=8)
    alpha = 0.05 * alpha_max(X, y)
    enet = ElasticNet(alpha=alpha, l1_ratio=1.0, **OURS).fit(X, y)
    lasso = Lasso(alpha=alpha, **OURS).fit(X, y)
    np.testing.assert_allclose(enet.coef_, lasso.coef_, rtol=0,
                               atol=1e-9 * np.abs(lasso.coef_).max())
    np.testing.assert_array_equal(enet.coef_ == 0, lasso.coef_ == 0)


def test_attributes():
    X, y = make_problem(40, 12, density=0.3, seed=9)
    model = ElasticNet(alpha=0.05, l1_ratio=0.7).fit(X, y)
    assert model.coef_.shape == (12,)
    assert isinstance(model.intercept_, float)
    assert isinstance(model.dual_gap_, float) and model.dual_gap_ >= 0
    assert isinstance(model.n_iter_, int) and model.n_iter_ >= 1
    assert model.sparse_coef_.shape == (1, 12)
    np.testing.assert_array_equal(model.sparse_coef_.toarray()[0], model.coef_)
    np.testing.assert_allclose(
        model.predict(X), X @ model.coef_ + model.intercept_, rtol=1e-12
    )


@parametrize_with_checks([ElasticNet()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
