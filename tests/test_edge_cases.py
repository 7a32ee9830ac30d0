"""Numerical edge cases, each checked against scikit-learn or a closed form."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso as SkLasso

from tflasso import Lasso
from tflasso._reference import alpha_max, kkt_violation, objective

from .conftest import make_problem

# Every solver the estimator can pick: Gram, operator, working set (p > n).
FORMS = {"gram": {"precompute": True}, "operator": {"precompute": False},
         "auto": {"precompute": "auto"}}


def sklearn_fit(X, y, alpha, **params):
    return SkLasso(alpha=alpha, tol=1e-12, max_iter=1_000_000, **params).fit(X, y)


def centred_sq(y):
    """``||y - mean(y)||^2 / n``: the scale of the tolerance on the gap."""
    return np.mean((y - np.mean(y)) ** 2)


def assert_objective_within_tol(model, X, y, alpha, tol, fit_intercept=True):
    """Our objective is at most scikit-learn's optimum plus the gap tolerance."""
    reference = sklearn_fit(X, y, alpha, fit_intercept=fit_intercept)
    ours = objective(X, y, model.coef_, model.intercept_, alpha)
    best = objective(X, y, reference.coef_, reference.intercept_, alpha)
    assert ours <= best + tol * centred_sq(y) + 1e-12 * abs(best)
    return reference


@pytest.mark.parametrize(
    "form, fit_intercept",
    [(form, True) for form in FORMS]
    + [("gram", False), ("operator", False), ("auto", False)],
)
def test_single_sample(form, fit_intercept):
    X, y = np.array([[1.0, -2.0, 3.0]]), np.array([4.0])
    model = Lasso(alpha=0.1, tol=1e-12, fit_intercept=fit_intercept, **FORMS[form])
    model.fit(X, y)
    reference = sklearn_fit(X, y, 0.1, fit_intercept=fit_intercept)
    if fit_intercept:  # nothing left to explain once the mean is taken out
        np.testing.assert_array_equal(model.coef_, 0)
        assert model.intercept_ == 4.0
    else:  # only the largest |x_j| = 3 is used: 3 (4 - 3 w) = alpha
        np.testing.assert_allclose(model.coef_, [0, 0, (4 - 0.1 / 3) / 3], atol=1e-9)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-9)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), atol=1e-9)


def test_working_set_converges_on_tiny_problems():
    # Found by hypothesis (test_hypothesis.py); 'auto' picks working sets as p > n.
    X, y = np.array([[0.0, 0.0, 1.0], [0.0, 2.0, 2.0]]), np.array([0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = Lasso(alpha=0.5, fit_intercept=False, tol=1e-10).fit(X, y)
    reference = sklearn_fit(X, y, 0.5, fit_intercept=False)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)


@pytest.mark.parametrize("density", [None, 0.5], ids=["dense", "sparse"])
@pytest.mark.parametrize("form", list(FORMS))
def test_constant_and_zero_columns_get_exact_zeros(form, density):
    X, y = make_problem(60, 8, seed=40)
    X[:, 2] = 7.0  # constant: nothing once centred
    X[:, 5] = 0.0
    X = X if density is None else sparse.csr_matrix(X)
    alpha = 0.05 * alpha_max(X, y)
    model = Lasso(alpha=alpha, tol=1e-12, **FORMS[form]).fit(X, y)
    assert model.coef_[2] == 0 and model.coef_[5] == 0
    reference = sklearn_fit(X, y, alpha)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-7)


@pytest.mark.parametrize("form", list(FORMS))
def test_duplicated_columns_share_scikit_learns_weight(form):
    # The split between two identical columns is not unique; their sum is,
    # and so are the objective and the optimality conditions.
    X, y = make_problem(60, 6, seed=41)
    X = np.column_stack([X, X[:, 0]])
    alpha = 0.05 * alpha_max(X, y)
    model = Lasso(alpha=alpha, tol=1e-12, **FORMS[form]).fit(X, y)
    reference = assert_objective_within_tol(model, X, y, alpha, 1e-12)
    np.testing.assert_allclose(model.coef_[0] + model.coef_[-1],
                               reference.coef_[0] + reference.coef_[-1], atol=1e-7)
    np.testing.assert_allclose(model.coef_[1:-1], reference.coef_[1:-1], atol=1e-7)
    assert kkt_violation(X, y, model.coef_, alpha) < 1e-6 * alpha


def _badly_scaled():
    # alpha from the unscaled data: the middle columns matter, the 1e-8 ones
    # would need coefficients near 1e8 and stay at zero.
    X, y = make_problem(60, 10, seed=1)
    return X * np.logspace(-8, 8, 10), y, 0.05 * alpha_max(X, y)


def test_features_on_scales_from_1e_minus8_to_1e8_match_sklearn():
    X, y, alpha = _badly_scaled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Lasso(alpha=alpha).fit(X, y)
    assert_objective_within_tol(model, X, y, alpha, 1e-4)


def test_badly_scaled_features_warn_if_not_solved():
    # A wrong answer must at least come with a warning.
    X, y, alpha = _badly_scaled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Lasso(alpha=alpha).fit(X, y)
    reference = sklearn_fit(X, y, alpha)
    solved = objective(X, y, model.coef_, model.intercept_, alpha) <= objective(
        X, y, reference.coef_, reference.intercept_, alpha
    ) + 1e-4 * centred_sq(y)
    assert solved or any(w.category is ConvergenceWarning for w in caught)


@pytest.mark.parametrize("form", ["operator", "auto"])
def test_alpha_zero_warns_like_sklearn_and_solves_least_squares(form):
    X, y = make_problem(50, 8, seed=42, density=0.6)
    with pytest.warns(UserWarning) as ours:
        model = Lasso(alpha=0, tol=1e-12, max_iter=50_000, **FORMS[form]).fit(X, y)
    with pytest.warns(UserWarning) as theirs:
        SkLasso(alpha=0).fit(X, y)
    first_line = str(theirs[0].message).split(".")[0]
    assert any(str(w.message).startswith(first_line) for w in ours)
    A = np.column_stack([X.toarray(), np.ones(len(y))])
    ols = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, ols[:-1], atol=1e-6)
    np.testing.assert_allclose(model.intercept_, ols[-1], atol=1e-6)


@pytest.mark.parametrize("form", list(FORMS))
def test_tiny_alpha_with_more_features_than_samples(form):
    # Near-interpolation: many solutions fit y almost exactly; the objective
    # and the optimality conditions still pin the answer down.
    X, y = make_problem(20, 50, seed=43)
    alpha = 1e-4 * alpha_max(X, y)
    model = Lasso(alpha=alpha, tol=1e-10, max_iter=100_000, **FORMS[form]).fit(X, y)
    assert_objective_within_tol(model, X, y, alpha, 1e-10)
    assert kkt_violation(X, y, model.coef_, alpha) < 1e-3 * alpha
    assert np.count_nonzero(model.coef_) <= 20  # at most n (+ ties) non-zeros


@pytest.mark.parametrize("form", ["gram", "operator"])
def test_float32_with_many_samples(form, large_float32):
    X, y, X32, y32, alpha = large_float32
    model = Lasso(alpha=alpha, **FORMS[form]).fit(X32, y32)
    assert model.coef_.dtype == np.float32
    # Judged in float64 on the float64 data the float32 copy was made from.
    assert_objective_within_tol(model, X, y, alpha, 1e-4)


@pytest.fixture(scope="module")
def large_float32():
    X, y = make_problem(100_000, 20, seed=44)
    return X, y, X.astype(np.float32), y.astype(np.float32), 0.05 * alpha_max(
        X[:5000], y[:5000]
    )


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.float16, bool])
def test_integer_float16_and_bool_input_fit_as_float64(dtype):
    X, y = make_problem(40, 6, seed=45)
    Xd = np.round(X).astype(dtype) if dtype is not bool else X > 0
    yd = np.round(y).astype(np.int64)
    model = Lasso(alpha=0.1).fit(Xd, yd)
    converted = Lasso(alpha=0.1).fit(Xd.astype(np.float64), yd.astype(np.float64))
    assert model.coef_.dtype == np.float64  # scikit-learn upcasts the same way
    assert SkLasso(alpha=0.1).fit(Xd, yd).coef_.dtype == np.float64
    np.testing.assert_array_equal(model.coef_, converted.coef_)
    assert model.intercept_ == converted.intercept_


@pytest.mark.parametrize("density", [None, 0.5], ids=["dense", "sparse"])
@pytest.mark.parametrize("form", list(FORMS))
def test_read_only_input(form, density):
    X, y = make_problem(40, 6, seed=46, density=density)
    sw = np.random.default_rng(4).uniform(0.5, 2, 40)
    expected = Lasso(alpha=0.1, **FORMS[form]).fit(X, y, sample_weight=sw)
    frozen = [a.data if sparse.issparse(a) else a for a in (X, y, sw)]
    for a in frozen:
        a.setflags(write=False)
    model = Lasso(alpha=0.1, **FORMS[form]).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    np.testing.assert_array_equal(model.predict(X), expected.predict(X))


@pytest.mark.parametrize("form", list(FORMS))
def test_non_contiguous_input(form):
    X, y = make_problem(80, 12, seed=47)
    strided_X, strided_y = X[::2, ::2], y[::2]  # views with gaps, C-order
    fortran_X = np.asfortranarray(strided_X)
    assert not strided_X.flags.c_contiguous and not strided_y.flags.c_contiguous
    expected = Lasso(alpha=0.1, tol=1e-12, **FORMS[form]).fit(
        np.ascontiguousarray(strided_X), np.ascontiguousarray(strided_y)
    )
    for X_view in (strided_X, fortran_X):
        model = Lasso(alpha=0.1, tol=1e-12, **FORMS[form]).fit(X_view, strided_y)
        np.testing.assert_allclose(model.coef_, expected.coef_, atol=1e-10)
        np.testing.assert_allclose(model.predict(X_view), expected.predict(X_view),
                                   atol=1e-9)


@pytest.mark.parametrize("form", list(FORMS))
def test_huge_offsets_in_y_and_X_only_move_the_intercept(form):
    # 1e8 + signal keeps ~8 significant digits of the signal in float64;
    # centring must not lose more.
    X, y = make_problem(60, 10, seed=48)
    alpha = 0.05 * alpha_max(X, y)
    base = Lasso(alpha=alpha, tol=1e-12, **FORMS[form]).fit(X, y)
    shifted_y = Lasso(alpha=alpha, tol=1e-12, **FORMS[form]).fit(X, y + 1e8)
    np.testing.assert_allclose(shifted_y.coef_, base.coef_, atol=1e-7)
    np.testing.assert_allclose(shifted_y.intercept_, base.intercept_ + 1e8, atol=1e-6)
    # X + 1e6 keeps X to ~1e-10, too coarse for a 1e-12 gap: ask for 1e-10.
    shifted_X = Lasso(alpha=alpha, tol=1e-10, **FORMS[form]).fit(X + 1e6, y)
    np.testing.assert_allclose(shifted_X.coef_, base.coef_, atol=1e-7)
    np.testing.assert_allclose(shifted_X.predict(X + 1e6), base.predict(X), atol=1e-6)


@pytest.mark.parametrize("density", [None, 0.0], ids=["dense", "sparse"])
def test_all_zero_x_of_many_features_gives_scikit_learns_path(density):
    # More than 256 features: the Gram path goes in chunks of alphas, each
    # on the features that break the optimality conditions; here none does
    # (a chunk of no feature raised ZeroDivisionError).
    from sklearn.linear_model import lasso_path as sklearn_lasso_path

    from tflasso import lasso_path

    y = np.random.default_rng(3).standard_normal(600)
    X = np.zeros((600, 300)) if density is None else sparse.csc_matrix((600, 300))
    alphas, coefs, gaps = lasso_path(X, y, alphas=30)
    reference, _, _ = sklearn_lasso_path(X, y, alphas=30)
    np.testing.assert_array_equal(alphas, reference)
    assert not coefs.any() and np.all(gaps == 0)
