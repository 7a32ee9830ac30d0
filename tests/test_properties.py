"""Properties of the solution, checked in numpy independently of the solver."""

import pickle
import warnings

import numpy as np
import pytest
import tensorflow as tf
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from tflasso import Lasso
from tflasso._reference import alpha_max, duality_gap, kkt_violation, objective
from tflasso._programs import PROGRAMS

from .conftest import make_problem


@pytest.fixture(scope="module")
def problem():
    return make_problem(100, 40, seed=10)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_alpha_max_gives_zero_coef_and_mean_intercept(density, positive):
    X, y = make_problem(50, 20, density=density, seed=11)
    sw = np.random.default_rng(0).uniform(0.5, 2, 50)
    top = alpha_max(X, y, sample_weight=sw, positive=positive)
    model = Lasso(alpha=top, positive=positive).fit(X, y, sample_weight=sw)
    assert np.all(model.coef_ == 0)
    np.testing.assert_allclose(model.intercept_, np.average(y, weights=sw))
    # Just below alpha_max, some coefficient must leave zero.
    model = Lasso(alpha=0.99 * top, positive=positive, tol=1e-8).fit(
        X, y, sample_weight=sw
    )
    assert np.any(model.coef_ != 0)


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("fraction", [0.3, 0.03])
def test_kkt_conditions_hold(problem, precompute, positive, fraction):
    X, y = problem
    alpha = fraction * alpha_max(X, y)
    model = Lasso(alpha=alpha, tol=1e-10, positive=positive, precompute=precompute)
    model.fit(X, y)
    assert kkt_violation(X, y, model.coef_, alpha, positive=positive) < 1e-6 * alpha
    if positive:
        assert np.all(model.coef_ >= 0)


@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
@pytest.mark.parametrize("precompute", [True, False])
def test_dual_gap_matches_numpy(density, precompute):
    X, y = make_problem(70, 25, density=density, seed=12)
    sw = np.random.default_rng(1).uniform(0.5, 2, 70)
    alpha = 0.05 * alpha_max(X, y, sample_weight=sw)
    # A loose tolerance leaves a gap large enough to compare meaningfully.
    model = Lasso(alpha=alpha, tol=1e-3, precompute=precompute).fit(
        X, y, sample_weight=sw
    )
    expected = duality_gap(X, y, model.coef_, alpha, sample_weight=sw)
    assert expected > 0
    np.testing.assert_allclose(model.dual_gap_, expected, rtol=1e-6)
    # ... and the solver stopped on scikit-learn's rule.
    yc = y - np.average(y, weights=sw)
    assert model.dual_gap_ <= 1e-3 * np.average(yc**2, weights=sw)


def test_closed_form_orthogonal_design():
    # With X^T X / n = I (centred columns), the lasso is soft-thresholding
    # of the least-squares coefficients X^T y / n.
    rng = np.random.default_rng(13)
    n, p = 64, 8
    Q, _ = np.linalg.qr(rng.standard_normal((n, p + 1)))
    X = np.sqrt(n) * (Q[:, 1:] - Q[:, 1:].mean(axis=0))
    Q, _ = np.linalg.qr(np.column_stack([np.ones(n), X]))
    X = np.sqrt(n) * Q[:, 1:]  # orthogonal to the constant and to each other
    y = X @ rng.uniform(-2, 2, p) + 5 + rng.standard_normal(n)
    alpha = 0.7
    z = X.T @ (y - y.mean()) / n
    expected = np.sign(z) * np.maximum(np.abs(z) - alpha, 0)
    for precompute in (True, False):
        model = Lasso(alpha=alpha, tol=1e-12, precompute=precompute).fit(X, y)
        np.testing.assert_allclose(model.coef_, expected, atol=1e-9)
        np.testing.assert_array_equal(model.coef_ == 0, expected == 0)
        np.testing.assert_allclose(model.intercept_, y.mean() - X.mean(0) @ expected)


def test_small_alpha_gives_least_squares(problem):
    X, y = problem
    A = np.column_stack([X, np.ones(len(y))])
    ols = np.linalg.lstsq(A, y, rcond=None)[0]
    model = Lasso(alpha=1e-9, tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, ols[:-1], atol=1e-6)
    np.testing.assert_allclose(model.intercept_, ols[-1], atol=1e-6)


@pytest.mark.parametrize("density", [None, 0.3], ids=["dense", "sparse"])
def test_integer_weights_equal_repeated_rows(density):
    X, y = make_problem(40, 15, density=density, seed=14)
    counts = np.random.default_rng(2).integers(0, 4, 40)
    counts[0] = 1
    X_rep = X[np.repeat(np.arange(40), counts)]
    y_rep = np.repeat(y, counts)
    alpha = 0.05 * alpha_max(X_rep, y_rep)
    weighted = Lasso(alpha=alpha, tol=1e-12).fit(X, y, sample_weight=counts)
    repeated = Lasso(alpha=alpha, tol=1e-12).fit(X_rep, y_rep)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-7)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-7)


def test_warm_start_cuts_iterations(problem):
    X, y = problem
    top = alpha_max(X, y)
    cold = Lasso(alpha=0.011 * top, tol=1e-8).fit(X, y)
    warm = Lasso(alpha=0.01 * top, tol=1e-8, warm_start=True).fit(X, y)
    warm.set_params(alpha=0.011 * top).fit(X, y)
    assert warm.n_iter_ < 0.75 * cold.n_iter_
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-5)


def test_convergence_warning_reports_gap_and_tolerance(problem):
    X, y = problem
    model = Lasso(alpha=1e-3 * alpha_max(X, y), tol=1e-12, max_iter=5)
    with pytest.warns(ConvergenceWarning, match="Duality gap: .*tolerance: "):
        model.fit(X, y)
    assert model.n_iter_ == 5
    assert model.dual_gap_ > 1e-12 * np.var(y)


def test_alpha_zero_warns_and_solves_least_squares(problem):
    X, y = problem
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Lasso(alpha=0, tol=1e-10, max_iter=20_000).fit(X, y)
    assert any("alpha=0" in str(w.message) for w in caught)
    ols = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, ols[:-1], atol=1e-5)


def test_objective_never_above_the_zero_model(problem):
    X, y = problem
    alpha = 0.1 * alpha_max(X, y)
    model = Lasso(alpha=alpha).fit(X, y)
    assert objective(X, y, model.coef_, model.intercept_, alpha) < objective(
        X, y, np.zeros(X.shape[1]), y.mean(), alpha
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_no_retracing_across_alpha_n_p_and_targets():
    counts = lambda: [  # noqa: E731
        f.experimental_get_tracing_count() for f in PROGRAMS.values()
    ]
    X, y = make_problem(30, 10, seed=15)
    Lasso(alpha=0.1).fit(X, y)  # trace the forms used below once
    Lasso(alpha=0.1, precompute=False).fit(X, y)
    before = counts()
    for n, p, k in [(30, 10, None), (50, 12, None), (40, 60, None), (45, 9, 3)]:
        X, y = make_problem(n, p, n_informative=3, n_targets=k, seed=n)
        for alpha in (0.05, 0.5):
            Lasso(alpha=alpha).fit(X, y)
            Lasso(alpha=alpha, precompute=False, max_iter=50, tol=1e-3).fit(X, y)
    assert counts() == before


def test_float32_stays_float32(problem):
    X, y = problem
    model = Lasso(alpha=0.1).fit(X.astype(np.float32), y.astype(np.float32))
    assert model.coef_.dtype == np.float32
    assert model.predict(X.astype(np.float32)).dtype == np.float32


def test_fitted_model_holds_only_numpy_and_pickles(problem):
    X, y = problem
    model = Lasso(alpha=0.1).fit(X, y)
    for value in vars(model).values():
        assert not isinstance(value, (tf.Tensor, tf.Variable))
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert clone(model).get_params() == model.get_params()


def test_sparse_coef_and_feature_names(problem):
    pd = pytest.importorskip("pandas")
    X, y = problem
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    model = Lasso(alpha=0.1).fit(frame, y)
    assert list(model.feature_names_in_) == list(frame.columns)
    assert model.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(model.sparse_coef_.toarray()[0], model.coef_)
