"""Bad input, non-finite fits, determinism and concurrency.

``BAD_INPUTS`` is also the source of the table in ``docs/bad_inputs.rst``
(regenerate it with ``python docs/bad_inputs.py``).
"""

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils._param_validation import InvalidParameterError

from tflasso import Lasso, LassoCV, lasso_path
from tflasso import _strategies

from .conftest import make_problem

_RNG = np.random.default_rng(0)
_X = _RNG.standard_normal((20, 5))
_Y = _X[:, 0] - 2 * _X[:, 1] + 0.1 * _RNG.standard_normal(20)


def _with(array, index, value, dtype=float):
    out = np.array(array, dtype=dtype)
    out[index] = value
    return out


def _fit(X=_X, y=_Y, sample_weight=None, **params):
    return lambda: Lasso(**params).fit(X, y, sample_weight=sample_weight)


def _predict(X):
    return lambda: Lasso(alpha=0.1).fit(_X, _Y).predict(X)


def _predict_renamed_columns():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_X, columns=list("abcde"))
    model = Lasso(alpha=0.1).fit(frame, _Y)
    return model.predict(frame.rename(columns={"a": "z"}))


def _param(name, kind):
    return rf"The '{name}' parameter of Lasso must be {kind}"


# (what was tried, call, exception type, regular expression on the message).
# InvalidParameterError is both a ValueError and a TypeError, as in scikit-learn.
BAD_INPUTS = [
    ("NaN in X", _fit(X=_with(_X, (0, 0), np.nan)), ValueError,
     "Input X contains NaN"),
    ("inf in X", _fit(X=_with(_X, (0, 0), np.inf)), ValueError,
     "Input X contains infinity"),
    ("NaN in sparse X", _fit(X=sparse.csr_matrix(_with(_X, (0, 0), np.nan))),
     ValueError, "Input X contains NaN"),
    ("NaN in y", _fit(y=_with(_Y, 0, np.nan)), ValueError, "Input y contains NaN"),
    ("-inf in y", _fit(y=_with(_Y, 0, -np.inf)), ValueError,
     "Input y contains infinity"),
    ("NaN in sample_weight", _fit(sample_weight=_with(np.ones(20), 0, np.nan)),
     ValueError, "Input sample_weight contains NaN"),
    ("inf in sample_weight", _fit(sample_weight=_with(np.ones(20), 0, np.inf)),
     ValueError, "Input sample_weight contains infinity"),
    ("negative sample_weight", _fit(sample_weight=_with(np.ones(20), 0, -1)),
     ValueError, "Negative values in data passed to `sample_weight`"),
    ("sample_weight all zero (zero sum)", _fit(sample_weight=np.zeros(20)),
     ValueError, "Sample weights must contain at least one non-zero number"),
    ("scalar sample_weight=0", _fit(sample_weight=0), ValueError,
     "sample_weight must be a positive finite number"),
    ("scalar sample_weight=-1.0", _fit(sample_weight=-1.0), ValueError,
     "sample_weight must be a positive finite number"),
    ("scalar sample_weight=NaN", _fit(sample_weight=np.nan), ValueError,
     "sample_weight must be a positive finite number"),
    ("sample_weight of the wrong length", _fit(sample_weight=np.ones(19)),
     ValueError, r"sample_weight.shape == \(19,\), expected \(20,\)"),
    ("2-D sample_weight", _fit(sample_weight=np.ones((20, 2))), ValueError,
     "Sample weights must be 1D array or scalar"),
    ("X and y of different lengths", _fit(y=_Y[:-1]), ValueError,
     r"inconsistent numbers of samples: \[20, 19\]"),
    ("empty X (0 samples)", _fit(X=np.empty((0, 5)), y=np.empty(0)), ValueError,
     r"Found array with 0 sample\(s\) \(shape=\(0, 5\)\)"),
    ("X with 0 features", _fit(X=np.empty((20, 0))), ValueError,
     r"Found array with 0 feature\(s\) \(shape=\(20, 0\)\)"),
    ("3-D X", _fit(X=_X[:, :, None]), ValueError, "Found array with dim 3"),
    ("3-D y", _fit(y=_Y[:, None, None]), ValueError, "Found array with dim 3"),
    ("strings in X", _fit(X=np.full((20, 5), "a")), ValueError,
     "could not convert string to float"),
    ("strings in y", _fit(y=np.full(20, "a")), ValueError,
     "could not convert string to float"),
    ("object X holding None", _fit(X=_with(_X, (0, 0), None, dtype=object)),
     ValueError, "Input X contains NaN"),
    ("complex X", _fit(X=_X + 1j), ValueError, "Complex data not supported"),
    ("complex y", _fit(y=_Y + 1j), ValueError, "Complex data not supported"),
    ("alpha=-1", _fit(alpha=-1.0), ValueError,
     _param("alpha", r"a float in the range \[0.0, inf\)")),
    ("alpha=NaN", _fit(alpha=np.nan), ValueError, _param("alpha", "a float")),
    ("alpha=inf", _fit(alpha=np.inf), ValueError, _param("alpha", "a float")),
    ("alpha='1'", _fit(alpha="1"), TypeError, _param("alpha", "a float")),
    ("max_iter=0", _fit(max_iter=0), ValueError,
     _param("max_iter", r"an int in the range \[1, 2147483647\]")),
    ("max_iter=2.5", _fit(max_iter=2.5), ValueError, _param("max_iter", "an int")),
    ("max_iter=2**40", _fit(max_iter=2**40), ValueError,
     _param("max_iter", "an int")),
    ("tol=-1e-3", _fit(tol=-1e-3), ValueError,
     _param("tol", r"a float in the range \[0.0, inf\)")),
    ("tol=NaN", _fit(tol=np.nan), ValueError, _param("tol", "a float")),
    ("fit_intercept='yes'", _fit(fit_intercept="yes"), TypeError,
     _param("fit_intercept", "an instance of 'bool'")),
    ("precompute='always'", _fit(precompute="always"), ValueError,
     _param("precompute", "a str among")),
    ("X of 1e200 (squares overflow)", _fit(X=_X * 1e200), ValueError,
     "Input X contains values too large to square in float64"),
    ("y of -1e200 (squares overflow)", _fit(y=_Y * -1e200), ValueError,
     "Input y contains values too large to square in float64"),
    ("float32 X of 1e20 (squares overflow)", _fit(X=(1e20 * _X).astype(np.float32)),
     ValueError, "Input X contains values too large to square in float32"),
    ("predict before fit", lambda: Lasso().predict(_X), NotFittedError,
     "This Lasso instance is not fitted yet"),
    ("predict with 4 features after fitting 5", _predict(_X[:, :4]), ValueError,
     "X has 4 features, but Lasso is expecting 5 features"),
    ("predict with NaN", _predict(_with(_X, (0, 0), np.nan)), ValueError,
     "Input X contains NaN"),
    ("predict with renamed DataFrame columns", _predict_renamed_columns, ValueError,
     "The feature names should match those that were passed during fit"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_raises_sklearn_error(case):
    _, call, error, message = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow notes
        with pytest.raises(error, match=message):
            call()


@pytest.mark.parametrize(
    "scale", [np.full(40, 1e-320), np.full(40, 1e308), 1e307 * np.linspace(0.5, 2, 40)],
    ids=["subnormal", "near-max", "sum-overflows"],
)
def test_sample_weight_scale_does_not_matter(scale):
    # Weights are relative: extreme scales must neither overflow nor silently
    # zero the fit (1e-320 once gave inf weights, 1e308 an inf sum).
    X, y = make_problem(40, 6, seed=20)
    relative = scale / scale.max()
    reference = Lasso(alpha=0.05, tol=1e-10).fit(X, y, sample_weight=relative)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        scaled = Lasso(alpha=0.05, tol=1e-10).fit(X, y, sample_weight=scale)
    np.testing.assert_allclose(scaled.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
    assert np.any(scaled.coef_ != 0)


def test_positive_scalar_sample_weight_is_ignored():
    X, y = make_problem(40, 6, seed=21)
    plain = Lasso(alpha=0.05).fit(X, y)
    weighted = Lasso(alpha=0.05).fit(X, y, sample_weight=3.0)
    np.testing.assert_array_equal(weighted.coef_, plain.coef_)



@pytest.mark.parametrize("layout", ["C", "F", "strided", "sparse"])
def test_squares_check_bound_is_largest_entry_whatever_the_sum(layout):
    # The check's fast path looks at the sum of all squares; the bound it
    # enforces is still on the largest entry, sqrt(max / n): 4 rows of 300
    # entries of 1e153 sum past float64's max (1.2e309) yet square safely
    # in any column (4e306), where one entry of 1e154 does not (4e308).
    from tflasso._validation import check_squares_finite

    def shaped(X):
        if layout == "sparse":
            return sparse.csr_matrix(X)
        if layout == "strided":
            return np.repeat(X, 2, axis=1)[:, ::2]
        return np.asarray(X, order=layout)

    n = 4
    assert np.sqrt(np.finfo(np.float64).max / n) < 1e154
    X = np.full((n, 300), 1e153)
    check_squares_finite(shaped(X), "X")  # no error
    X[2, 7] = 1e154
    with pytest.raises(ValueError, match="values too large to square"):
        check_squares_finite(shaped(X), "X")
    X[2, 7] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        check_squares_finite(shaped(X), "X")

# --- iterates that overflow -------------------------------------------------

_FORMS = {"gram": {"precompute": True}, "operator": {"precompute": False},
          "working_set": {"precompute": "auto"}}


@pytest.mark.parametrize("form", list(_FORMS))
@pytest.mark.parametrize("scale", ["X", "y"])
def test_overflowing_data_raises_instead_of_returning_nan(form, scale):
    # Values near 1e200 square to inf: the fit must fail loudly, naming the
    # input, rather than return NaN or (as the working set once did) zeros.
    shape = (15, 30) if form == "working_set" else (30, 6)
    X, y = make_problem(*shape, n_informative=3, seed=22)
    X, y = (X * 1e200, y) if scale == "X" else (X, y * 1e200)
    with pytest.raises(ValueError, match=f"Input {scale} contains values too large"):
        Lasso(alpha=0.01, **_FORMS[form]).fit(X, y)


@pytest.mark.parametrize("form", list(_FORMS))
def test_non_finite_iterates_raise(form, monkeypatch):
    # Whatever overflows inside a solver, NaN never reaches coef_.
    X, y = make_problem(*((15, 30) if form == "working_set" else (30, 6)), seed=23)
    real_fit = _strategies.fit

    def poisoned(*args):
        coef, gap, n_iter = real_fit(*args)
        coef[0] = np.nan
        return coef, gap, n_iter

    monkeypatch.setattr(_strategies, "fit", poisoned)
    with pytest.raises(ValueError, match="non-finite coefficients"):
        Lasso(alpha=0.01, **_FORMS[form]).fit(X, y)


# --- determinism and concurrency ---------------------------------------------

_DATA = {
    "gram": (make_problem(80, 12, seed=24), {"precompute": True}),
    "operator": (make_problem(80, 12, seed=24), {"precompute": False}),
    "working_set": (make_problem(30, 60, seed=25), {}),
    "sparse": (make_problem(80, 12, seed=26, density=0.3), {}),
    "float32": (tuple(a.astype(np.float32) for a in make_problem(80, 12, seed=27)),
                {"precompute": False}),
}


def _fit_case(name, alpha):
    (X, y), params = _DATA[name]
    model = Lasso(alpha=alpha, tol=1e-8, **params).fit(X, y)
    return model.coef_, model.intercept_, model.n_iter_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", list(_DATA))
def test_refits_are_bit_identical(name):
    first = _fit_case(name, 0.05)
    _fit_case("gram", 0.3)  # unrelated work in between must leave no trace
    second = _fit_case(name, 0.05)
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1:] == second[1:]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_threads_give_the_sequential_results():
    jobs = [(name, alpha) for name in _DATA for alpha in (0.02, 0.2)]
    sequential = [_fit_case(*job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda job: _fit_case(*job), jobs * 2))
    # Equal to rounding, not to the bit: numpy's BLAS kernels may round
    # differently on arrays at other addresses, and another thread allocates
    # from another malloc arena (on an AMD EPYC with OpenBLAS's Haswell
    # kernels the working-set fit at 0.02 differed by 2e-14 in a second
    # thread, alone). Shared state that leaked between threads would show
    # far above that; refits in one thread are bit-identical (above).
    for expected, got in zip(sequential * 2, threaded):
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-11, atol=1e-13)
        assert got[2] == expected[2]


def test_grid_search_in_processes_matches_sequential():
    X, y = make_problem(60, 10, seed=28)
    grid = {"alpha": [0.01, 0.1, 1.0]}  # one form: each worker compiles it once

    def search(n_jobs):
        cv = KFold(3, shuffle=True, random_state=0)
        return GridSearchCV(Lasso(tol=1e-8), grid, cv=cv, n_jobs=n_jobs).fit(X, y)

    sequential, parallel = search(None), search(2)  # n_jobs=2 uses loky processes
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
    )
    assert parallel.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(
        parallel.best_estimator_.coef_, sequential.best_estimator_.coef_
    )


# --- LassoCV and lasso_path validate as Lasso does ----------------------------

_ESTIMATORS = [Lasso(), LassoCV(cv=3, alphas=5)]
_NAMES = [type(e).__name__ for e in _ESTIMATORS]
_SHARED_BAD_INPUTS = [
    ("scalar sample_weight=0", {"sample_weight": 0},
     "sample_weight must be a positive finite number"),
    ("scalar sample_weight=-1.0", {"sample_weight": -1.0},
     "sample_weight must be a positive finite number"),
    ("scalar sample_weight=NaN", {"sample_weight": np.nan},
     "sample_weight must be a positive finite number"),
    ("negative sample_weight", {"sample_weight": _with(np.ones(20), 0, -1)},
     "Negative values in data passed to `sample_weight`"),
    ("sample_weight all zero", {"sample_weight": np.zeros(20)},
     "Sample weights must contain at least one non-zero number"),
    ("X of 1e200", {"X": _X * 1e200},
     "Input X contains values too large to square in float64"),
    ("y of -1e200", {"y": _Y * -1e200},
     "Input y contains values too large to square in float64"),
    ("float32 X of 1e20", {"X": (1e20 * _X).astype(np.float32)},
     "Input X contains values too large to square in float32"),
]


@pytest.mark.parametrize(
    "case", _SHARED_BAD_INPUTS, ids=[c[0] for c in _SHARED_BAD_INPUTS]
)
@pytest.mark.parametrize("estimator", _ESTIMATORS, ids=_NAMES)
def test_lasso_and_lasso_cv_reject_bad_input_alike(estimator, case):
    _, data, message = case
    inputs = {"X": _X, "y": _Y, "sample_weight": None, **data}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=message):
            clone(estimator).fit(**inputs)


@pytest.mark.parametrize("estimator", _ESTIMATORS, ids=_NAMES)
def test_max_iter_beyond_int32_is_a_parameter_error(estimator):
    name = type(estimator).__name__
    with pytest.raises(
        InvalidParameterError,
        match=rf"The 'max_iter' parameter of {name} must be an int in the range "
        r"\[1, 2147483647\]",
    ):
        clone(estimator).set_params(max_iter=2**40).fit(_X, _Y)


@pytest.mark.parametrize(
    "X, y, message",
    [(_X * 1e200, _Y, "Input X contains values too large to square"),
     (_X, _Y * 1e200, "Input y contains values too large to square")],
    ids=["X", "y"],
)
def test_lasso_path_rejects_data_too_large_to_square(X, y, message):
    with pytest.raises(ValueError, match=message):
        lasso_path(X, y, alphas=5)


@pytest.mark.parametrize("precompute", [True, False], ids=["gram", "operator"])
def test_lasso_cv_non_finite_errors_raise(precompute, monkeypatch):
    # A NaN validation error once left no alpha within one standard error of
    # the minimum, and numpy failed on an empty maximum.
    real = _strategies.cross_validate

    def poisoned(*args):
        grids, mse, refits = real(*args)
        mse[0, 0, 0] = np.nan
        return grids, mse, refits

    monkeypatch.setattr(_strategies, "cross_validate", poisoned)
    with pytest.raises(ValueError, match="non-finite coefficients"):
        LassoCV(cv=3, alphas=5, precompute=precompute).fit(_X, _Y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "X, y", [(_X * 1e20, _Y), (_X * 1e100, _Y), (_X, _Y * 1e150)],
    ids=["X of 1e20", "X of 1e100", "y of 1e150"],
)
def test_lasso_cv_large_data_fits_or_says_why(X, y):
    # Squares finite in float64 but not in the float32 iterations: a finite
    # fit or a clear error, never numpy's "zero-size array to reduction".
    try:
        model = LassoCV(cv=3, alphas=5).fit(X, y)
    except ValueError as error:
        assert "non-finite coefficients" in str(error)
    else:
        assert np.isfinite(model.coef_).all()


def test_lasso_cv_sample_weight_scale_does_not_matter():
    X, y = make_problem(40, 6, seed=20)
    scale = 1e307 * np.linspace(0.5, 2, 40)  # the sum overflows
    reference = LassoCV(cv=3, alphas=5).fit(X, y, sample_weight=scale / scale.max())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        scaled = LassoCV(cv=3, alphas=5).fit(X, y, sample_weight=scale)
    assert scaled.alpha_ == reference.alpha_
    np.testing.assert_allclose(scaled.coef_, reference.coef_, rtol=1e-9, atol=1e-12)


def test_blas_threads_are_restored_after_fits():
    """Small fits run numpy's BLAS on one thread (tflasso._threads); no limit
    outlives a fit, and the fits' results do not depend on it."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    X, y = make_problem(40, 60, n_informative=4, seed=61)  # p > n: working sets
    alpha = 0.05 * np.max(np.abs(X.T @ (y - y.mean()))) / len(y)
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        coef = Lasso(alpha=alpha, tol=1e-8).fit(X, y).coef_
        LassoCV(cv=3, alphas=5).fit(X, y)
        lasso_path(X, y, alphas=[alpha])
        assert blas_threads() == before
        # Fits in threads enter and leave the limit in any order.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda a: Lasso(alpha=a).fit(X, y), alpha * np.arange(1, 9)))
        assert blas_threads() == before
    with threadpool_limits(limits=1, user_api="blas"):
        np.testing.assert_allclose(Lasso(alpha=alpha, tol=1e-8).fit(X, y).coef_, coef,
                                   rtol=1e-7, atol=1e-10)
