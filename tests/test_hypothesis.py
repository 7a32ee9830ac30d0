"""Properties on small random problems, drawn by hypothesis.

Every returned solution must satisfy the lasso's optimality (KKT) conditions,
report its true duality gap, and have an objective no more than the tolerance
above scikit-learn's optimum. Entries are small integers, and each column is
scaled by a power of ten, so that problems are degenerate (ties, zero and
duplicate columns) and badly scaled often.
"""

import os
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso as SkLasso

from tflasso import Lasso
from tflasso._reference import alpha_max, duality_gap, kkt_violation, objective

# Reproducible in CI; TFLASSO_HYPOTHESIS_EXAMPLES=500 explores more locally.
SETTINGS = settings(
    max_examples=int(os.environ.get("TFLASSO_HYPOTHESIS_EXAMPLES", 25)),
    deadline=None,
    derandomize=True,
    database=None,
)


@st.composite
def problems(draw):
    n = draw(st.integers(2, 12))
    p = draw(st.integers(1, 8))
    entries = st.integers(-6, 6).map(float)
    X = draw(arrays(np.float64, (n, p), elements=entries))
    X *= 10.0 ** draw(arrays(np.int64, p, elements=st.integers(-3, 3)))
    y = draw(arrays(np.float64, n, elements=entries))
    weighted = draw(st.booleans())
    sw = (draw(arrays(np.float64, n, elements=st.sampled_from([0.5, 1.0, 2.0, 3.0])))
          if weighted else None)
    params = {
        "fit_intercept": draw(st.booleans()),
        "positive": draw(st.booleans()),
        # 'auto' picks working sets when p > n and the Gram form otherwise.
        "precompute": draw(st.sampled_from([True, False, "auto"])),
    }
    top = alpha_max(X, y, sw, params["fit_intercept"], params["positive"])
    alpha = max(draw(st.floats(0.01, 1.2)) * top, 1e-3)
    return X, y, sw, alpha, params


def tolerance_scale(y, sw, fit_intercept):
    """``||y - mean(y)||^2 / n`` (weighted): what ``tol`` is relative to."""
    sw = np.ones_like(y) if sw is None else sw
    centre = np.average(y, weights=sw) if fit_intercept else 0.0
    return np.average((y - centre) ** 2, weights=sw)


def fit(X, y, sw, alpha, params, **extra):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return Lasso(alpha=alpha, **params, **extra).fit(X, y, sample_weight=sw)


@SETTINGS
@given(problems())
def test_kkt_conditions_hold_and_the_gap_is_honest(problem):
    X, y, sw, alpha, params = problem
    model = fit(X, y, sw, alpha, params, tol=1e-10, max_iter=50_000)
    ref = dict(sample_weight=sw, fit_intercept=params["fit_intercept"],
               positive=params["positive"])
    scale = np.sqrt(tolerance_scale(y, sw, params["fit_intercept"]))
    column = np.abs(X).max() * np.sqrt(X.shape[0])
    # A gap eps leaves a gradient error of about sqrt(2 L eps), with L at most
    # column**2: here ~1.4e-5 * scale * column (2e-6 is the worst seen).
    assert kkt_violation(X, y, model.coef_, alpha, **ref) <= 2e-5 * (
        alpha + scale * column
    )
    if params["positive"]:
        assert np.all(model.coef_ >= 0)
    expected_gap = duality_gap(X, y, model.coef_, alpha, **ref)
    assert abs(model.dual_gap_ - expected_gap) <= 1e-10 * (1 + scale**2)


@SETTINGS
@given(problems())
def test_objective_within_tolerance_of_sklearn(problem):
    X, y, sw, alpha, params = problem
    tol = 1e-4  # the default
    model = fit(X, y, sw, alpha, params, tol=tol)
    sk_params = {k: v for k, v in params.items() if k != "precompute"}
    best = SkLasso(alpha=alpha, tol=1e-12, max_iter=1_000_000, **sk_params).fit(
        X, y, sample_weight=sw
    )
    ours = objective(X, y, model.coef_, model.intercept_, alpha, sw)
    theirs = objective(X, y, best.coef_, best.intercept_, alpha, sw)
    scale = tolerance_scale(y, sw, params["fit_intercept"])
    assert ours <= theirs + tol * scale + 1e-12 * (1 + theirs)
