"""Units do not matter: rescaling X or y rescales the answer exactly.

``Lasso(alpha * s).fit(s X, y)`` has coefficients ``coef / s`` and
``Lasso(alpha * s).fit(X, s y)`` has ``s coef``, for any ``s`` whose squares
stay finite. Solvers that square or normalise carelessly overflow or
underflow long before that (a power-iteration norm once overflowed at
``|X| ~ 1e77`` in float64 and ``1e10`` in float32).
"""

import numpy as np
import pytest

from tflasso import Lasso
from tflasso._reference import alpha_max

from .conftest import make_problem

FORMS = {"gram": {"precompute": True}, "operator": {"precompute": False},
         "auto": {"precompute": "auto"}}
# (dtype, scales, tolerance, relative agreement)
PRECISIONS = {
    "float64": (np.float64, [1e-100, 1e100], 1e-10, 1e-8),
    "float32": (np.float32, [1e-6, 1e12], 1e-6, 1e-3),
}


@pytest.fixture(scope="module", params=[(60, 10), (20, 40)], ids=["n>p", "p>n"])
def problem(request):
    X, y = make_problem(*request.param, seed=60)
    return X, y, 0.05 * alpha_max(X, y)


@pytest.mark.parametrize("precision", list(PRECISIONS))
@pytest.mark.parametrize("form", list(FORMS))
def test_rescaling_x_and_y_rescales_the_solution(problem, form, precision):
    X, y, alpha = problem
    dtype, scales, tol, rtol = PRECISIONS[precision]
    fit = lambda X, y, alpha: Lasso(  # noqa: E731
        alpha=alpha, tol=tol, **FORMS[form]
    ).fit(X.astype(dtype), y.astype(dtype))
    base = fit(X, y, alpha).coef_.astype(np.float64)
    atol = rtol * np.abs(base).max()
    for s in scales:
        np.testing.assert_allclose(fit(X * s, y, alpha * s).coef_ * s, base,
                                   atol=atol, err_msg=f"X * {s:g}")
        np.testing.assert_allclose(fit(X, y * s, alpha * s).coef_ / s, base,
                                   atol=atol, err_msg=f"y * {s:g}")


@pytest.mark.parametrize("s", [1e-30, 1e10])
def test_rescaling_x_rescales_lasso_path(s):
    from tflasso import lasso_path

    X, y = make_problem(40, 5, seed=61)
    alphas, coefs, _ = lasso_path(X, y, tol=1e-10)
    # Explicit alphas: the default grid, like scikit-learn's, collapses to
    # 1e-15 when alpha_max is below that.
    _, scaled, _ = lasso_path(X * s, y, alphas=alphas * s, tol=1e-10)
    np.testing.assert_allclose(scaled * s, coefs, atol=1e-5 * np.abs(coefs).max())


@pytest.mark.parametrize("s", [1e-10, 1e10])
def test_rescaling_x_rescales_lasso_cv(s):
    from tflasso import LassoCV

    X, y = make_problem(60, 8, seed=62)
    base = LassoCV(cv=3, alphas=20, tol=1e-10).fit(X, y)
    scaled = LassoCV(cv=3, alphas=20, tol=1e-10).fit(X * s, y)
    np.testing.assert_allclose(scaled.alpha_ / s, base.alpha_, rtol=1e-10)
    np.testing.assert_allclose(scaled.coef_ * s, base.coef_,
                               atol=1e-5 * np.abs(base.coef_).max())
