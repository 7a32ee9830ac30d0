"""MultiTaskLasso and MultiTaskElasticNet against scikit-learn's, and in numpy.

The objective is scikit-learn's,
``(1 / (2 n)) ||Y - X W - b||_F^2 + alpha l1_ratio sum_j ||W_j||_2
+ alpha (1 - l1_ratio) / 2 ||W||_F^2`` with ``W_j`` feature ``j``'s row over
the tasks. Each case compares, at alphas from 0.5 to 0.001 of the multi-task
``alpha_max`` (``max_j ||X_c^T Y_c||_2 / n``, over ``l1_ratio``): the
objective recomputed in numpy float64 (both ways within 1e-9 relative), the
coefficients relative to the largest one, and the zero rows.

scikit-learn's multi-task estimators take no ``sample_weight``: weighted fits
are checked against scikit-learn on rows repeated by integer weights, against
scikit-learn on the equivalent centred, square-root-weighted data, and
against the optimality (KKT) conditions computed in numpy.
"""

import numpy as np
import pytest
from sklearn.linear_model import MultiTaskElasticNet as SklearnMultiTaskElasticNet
from sklearn.linear_model import MultiTaskLasso as SklearnMultiTaskLasso
from sklearn.utils.estimator_checks import parametrize_with_checks

from tflasso import MultiTaskElasticNet, MultiTaskLasso
from tflasso._reference import _weighted_problem

from .conftest import make_problem

FRACTIONS = [0.5, 0.1, 0.01, 0.001]
SHAPES = [(80, 30), (30, 80)]
SHAPE_IDS = ["n>p", "p>n"]
OURS = dict(tol=1e-10, max_iter=200_000)
TIGHT = dict(tol=1e-12, max_iter=200_000)
# (name, l1_ratio): 1.0 is MultiTaskLasso.
KINDS = [("lasso", 1.0), ("enet0.5", 0.5), ("enet0.9", 0.9)]


def _estimators(l1_ratio, **params):
    """Our estimator and scikit-learn's for ``l1_ratio`` (1.0: the lasso)."""
    if l1_ratio == 1.0:
        return MultiTaskLasso(**params), SklearnMultiTaskLasso
    return MultiTaskElasticNet(l1_ratio=l1_ratio, **params), SklearnMultiTaskElasticNet


def mt_objective(X, Y, coef, intercept, alpha, l1_ratio=1.0, sample_weight=None,
                 factor=None):
    """The multi-task objective at ``coef`` (n_tasks, p), weighted mean error."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    W = np.asarray(coef, dtype=np.float64).T  # (p, T)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    f = np.ones(W.shape[0]) if factor is None else np.asarray(factor, float)
    residual = np.asarray(Y, float) - X @ W - np.asarray(intercept, float)
    rows = np.linalg.norm(W, axis=1)
    return (
        0.5 * (sw @ (residual**2).sum(axis=1)) / sw.sum()
        + alpha * l1_ratio * (f @ rows)
        + 0.5 * alpha * (1 - l1_ratio) * (f @ rows**2)
    )


def mt_alpha_max(X, Y, l1_ratio=1.0, sample_weight=None, fit_intercept=True):
    """``max_j ||X_c^T Y_c||_2 / n / l1_ratio`` on centred, weighted data."""
    Xw, Yw, _, _ = _weighted_problem(X, Y, sample_weight, fit_intercept)
    return np.linalg.norm(Xw.T @ Yw, axis=1).max() / Xw.shape[0] / l1_ratio


def mt_kkt(X, Y, coef, alpha, l1_ratio=1.0, sample_weight=None, fit_intercept=True,
           factor=None):
    """Largest violation of the multi-task optimality conditions.

    With ``G = X_c^T R / n - alpha (1 - l1_ratio) f_j W_j`` (centred, weighted):
    ``G_j = alpha l1_ratio f_j W_j / ||W_j||`` on non-zero rows and
    ``||G_j|| <= alpha l1_ratio f_j`` on zero rows.
    """
    Xw, Yw, _, _ = _weighted_problem(X, Y, sample_weight, fit_intercept)
    W = np.asarray(coef, dtype=np.float64).T
    f = np.ones(W.shape[0]) if factor is None else np.asarray(factor, float)
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    G = Xw.T @ (Yw - Xw @ W) / Xw.shape[0] - l2 * f[:, None] * W
    norms = np.linalg.norm(W, axis=1)
    on = norms > 0
    on_support = np.linalg.norm(
        G[on] - l1 * f[on, None] * W[on] / norms[on, None], axis=1
    )
    off_support = np.maximum(np.linalg.norm(G[~on], axis=1) - l1 * f[~on], 0)
    return max(on_support.max(initial=0.0), off_support.max(initial=0.0))


def _check_against(ours, theirs_coef, theirs_intercept, X, Y, alpha, l1_ratio,
                   sw=None, case=None, obj_rtol=1e-9, coef_rtol=1e-5):
    """Our fitted model against a reference solution of the same problem."""
    assert ours.coef_.shape == theirs_coef.shape
    f_ours = mt_objective(X, Y, ours.coef_, ours.intercept_, alpha, l1_ratio, sw)
    f_theirs = mt_objective(X, Y, theirs_coef, theirs_intercept, alpha, l1_ratio, sw)
    assert f_ours <= f_theirs * (1 + obj_rtol), (case, f_ours, f_theirs)
    assert f_theirs <= f_ours * (1 + obj_rtol), (case, f_ours, f_theirs)
    scale = np.abs(theirs_coef).max()
    np.testing.assert_allclose(
        ours.coef_, theirs_coef, rtol=0, atol=coef_rtol * max(scale, 1e-12),
        err_msg=str(case),
    )
    ours_zero = np.all(ours.coef_ == 0, axis=0)
    np.testing.assert_array_equal(
        ours_zero, np.all(theirs_coef == 0, axis=0), err_msg=str(case)
    )
    # A feature's column is zero for every task or for none.
    np.testing.assert_array_equal(np.any(ours.coef_ == 0, axis=0), ours_zero)


@pytest.mark.parametrize("kind", KINDS, ids=[k for k, _ in KINDS])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_agreement_with_sklearn(kind, shape, fit_intercept):
    _, l1_ratio = kind
    X, Y = make_problem(*shape, n_targets=3, seed=sum(shape))
    top = mt_alpha_max(X, Y, l1_ratio, fit_intercept=fit_intercept)
    for fraction in FRACTIONS:
        alpha = fraction * top
        ours, theirs_class = _estimators(
            l1_ratio, alpha=alpha, fit_intercept=fit_intercept, **OURS
        )
        ours.fit(X, Y)
        params = {} if l1_ratio == 1.0 else {"l1_ratio": l1_ratio}
        theirs = theirs_class(
            alpha=alpha, fit_intercept=fit_intercept, **params, **TIGHT
        ).fit(X, Y)
        np.testing.assert_allclose(
            np.broadcast_to(ours.intercept_, 3), np.broadcast_to(theirs.intercept_, 3),
            rtol=1e-6, atol=1e-6,
        )
        _check_against(ours, theirs.coef_, theirs.intercept_, X, Y, alpha, l1_ratio,
                       case=(kind, shape, fit_intercept, fraction))
        assert mt_kkt(X, Y, ours.coef_, alpha, l1_ratio,
                      fit_intercept=fit_intercept) <= 1e-6 * alpha


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind", KINDS, ids=[k for k, _ in KINDS])
def test_intercept_has_sklearns_type(kind, fit_intercept):
    """A drop-in replacement: ``intercept_`` as scikit-learn's (0.0 without one)."""
    _, l1_ratio = kind
    X, Y = make_problem(30, 6, n_targets=3, seed=12)
    ours, theirs_class = _estimators(l1_ratio, alpha=0.1, fit_intercept=fit_intercept)
    params = {} if l1_ratio == 1.0 else {"l1_ratio": l1_ratio}
    theirs = theirs_class(alpha=0.1, fit_intercept=fit_intercept, **params).fit(X, Y)
    ours.fit(X, Y)
    assert type(ours.intercept_) is type(theirs.intercept_), (
        ours.intercept_, theirs.intercept_
    )
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)


@pytest.mark.parametrize("kind", KINDS, ids=[k for k, _ in KINDS])
def test_alpha_max_zeroes_every_row(kind):
    _, l1_ratio = kind
    X, Y = make_problem(40, 15, n_targets=4, seed=11)
    top = mt_alpha_max(X, Y, l1_ratio)
    above, _ = _estimators(l1_ratio, alpha=1.0001 * top, **OURS)
    below, _ = _estimators(l1_ratio, alpha=0.99 * top, **OURS)
    assert np.all(above.fit(X, Y).coef_ == 0)
    assert np.any(below.fit(X, Y).coef_ != 0)


@pytest.mark.parametrize("kind", KINDS, ids=[k for k, _ in KINDS])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_integer_weights_repeat_rows(kind, shape):
    _, l1_ratio = kind
    X, Y = make_problem(*shape, n_targets=3, seed=21)
    sw = np.random.default_rng(21).integers(1, 4, shape[0])
    Xr, Yr = np.repeat(X, sw, axis=0), np.repeat(Y, sw, axis=0)
    top = mt_alpha_max(X, Y, l1_ratio, sample_weight=sw)
    np.testing.assert_allclose(top, mt_alpha_max(Xr, Yr, l1_ratio), rtol=1e-12)
    for fraction in (0.5, 0.1, 0.01):
        alpha = fraction * top
        ours, theirs_class = _estimators(l1_ratio, alpha=alpha, **OURS)
        ours.fit(X, Y, sample_weight=sw)
        params = {} if l1_ratio == 1.0 else {"l1_ratio": l1_ratio}
        theirs = theirs_class(alpha=alpha, **params, **TIGHT).fit(Xr, Yr)
        _check_against(ours, theirs.coef_, theirs.intercept_, X, Y, alpha, l1_ratio,
                       sw=sw, case=(kind, shape, fraction))


@pytest.mark.parametrize("kind", KINDS, ids=[k for k, _ in KINDS])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_real_weights_objective_and_kkt(kind, shape):
    """Weighted fit = unweighted fit on centred, square-root-weighted data."""
    _, l1_ratio = kind
    X, Y = make_problem(*shape, n_targets=3, seed=22)
    sw = np.random.default_rng(22).uniform(0.2, 3.0, shape[0])
    Xw, Yw, x_offset, y_offset = _weighted_problem(X, Y, sw)
    top = mt_alpha_max(X, Y, l1_ratio, sample_weight=sw)
    for fraction in (0.5, 0.1, 0.01):
        alpha = fraction * top
        ours, theirs_class = _estimators(l1_ratio, alpha=alpha, **OURS)
        ours.fit(X, Y, sample_weight=sw)
        np.testing.assert_allclose(
            ours.intercept_, y_offset - ours.coef_ @ x_offset, rtol=1e-10, atol=1e-10
        )
        assert mt_kkt(X, Y, ours.coef_, alpha, l1_ratio, sample_weight=sw) <= (
            1e-6 * alpha
        ), (kind, shape, fraction)
        params = {} if l1_ratio == 1.0 else {"l1_ratio": l1_ratio}
        theirs = theirs_class(alpha=alpha, fit_intercept=False, **params, **TIGHT)
        theirs.fit(Xw, Yw)
        theirs_intercept = y_offset - theirs.coef_ @ x_offset
        _check_against(ours, theirs.coef_, theirs_intercept, X, Y, alpha, l1_ratio,
                       sw=sw, case=(kind, shape, fraction))


def test_weights_change_the_solution():
    X, Y = make_problem(50, 10, n_targets=3, seed=23)
    sw = np.random.default_rng(23).uniform(0.1, 5.0, 50)
    alpha = 0.1 * mt_alpha_max(X, Y)
    plain = MultiTaskLasso(alpha=alpha, **OURS).fit(X, Y)
    weighted = MultiTaskLasso(alpha=alpha, **OURS).fit(X, Y, sample_weight=sw)
    assert np.abs(plain.coef_ - weighted.coef_).max() > 1e-3
    # Weights scaled by a constant change nothing.
    scaled = MultiTaskLasso(alpha=alpha, **OURS).fit(X, Y, sample_weight=7.0 * sw)
    np.testing.assert_allclose(scaled.coef_, weighted.coef_, rtol=0, atol=1e-8)


def test_lasso_is_enet_with_l1_ratio_one():
    X, Y = make_problem(50, 20, n_targets=3, seed=24)
    alpha = 0.05 * mt_alpha_max(X, Y)
    lasso = MultiTaskLasso(alpha=alpha, **OURS).fit(X, Y)
    enet = MultiTaskElasticNet(alpha=alpha, l1_ratio=1.0, **OURS).fit(X, Y)
    np.testing.assert_allclose(enet.coef_, lasso.coef_, rtol=0,
                               atol=1e-9 * np.abs(lasso.coef_).max())
    np.testing.assert_array_equal(enet.coef_ == 0, lasso.coef_ == 0)


@pytest.mark.parametrize("estimator", [MultiTaskLasso, MultiTaskElasticNet])
def test_attributes(estimator):
    X, Y = make_problem(40, 12, n_targets=3, seed=25)
    model = estimator(alpha=0.1).fit(X, Y)
    assert model.coef_.shape == (3, 12)
    assert model.intercept_.shape == (3,)
    assert isinstance(model.dual_gap_, float) and model.dual_gap_ >= 0
    assert isinstance(model.n_iter_, int) and model.n_iter_ >= 1
    assert model.sparse_coef_.shape == (3, 12)
    np.testing.assert_array_equal(model.sparse_coef_.toarray(), model.coef_)
    np.testing.assert_allclose(
        model.predict(X), X @ model.coef_.T + model.intercept_, rtol=1e-12
    )


@pytest.mark.parametrize("estimator", [MultiTaskLasso, MultiTaskElasticNet])
def test_one_dimensional_y_raises(estimator):
    X, y = make_problem(20, 5, seed=26)
    with pytest.raises(ValueError):
        estimator(alpha=0.1).fit(X, y)


@parametrize_with_checks([MultiTaskLasso(), MultiTaskElasticNet()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
