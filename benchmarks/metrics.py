"""Objective and duality gap in float64 numpy, safe for sparse and large X.

Independent of every solver under test. Nothing here centres or densifies X:
centring enters through the column means, and only n- and p-vectors are made.
"""

import numpy as np


def objective(X, y, coef, intercept, alpha):
    """scikit-learn's lasso objective at ``(coef, intercept)``, in float64."""
    coef = np.asarray(coef, dtype=np.float64)
    residual = y - X @ coef - intercept
    return 0.5 * (residual @ residual) / X.shape[0] + alpha * np.abs(coef).sum()


def duality_gap(X, y, coef, alpha, fit_intercept=True):
    """scikit-learn's duality gap at ``coef``, with the intercept profiled out.

    This is the gap of the centred problem, the one scikit-learn's coordinate
    descent stops on: residual ``R = y_c - X_c w`` and dual point ``R`` scaled
    by ``min(1, alpha / ||X_c^T R||_inf / n)``. ``R`` has zero mean, so
    ``X_c^T R = X^T R`` and X needs no centring. Divide by ``scale(y)`` to
    compare it with ``tol``. ``fit_intercept=False``: the gap of the problem
    as given (``lasso_path``'s), nothing centred.
    """
    n = X.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    fitted = X @ coef
    y_c = y - y.mean() if fit_intercept else y
    residual = y_c - (fitted - fitted.mean() if fit_intercept else fitted)
    dual_norm = np.abs(X.T @ residual).max() / n
    scale = min(1.0, alpha / dual_norm) if dual_norm > 0 else 1.0
    rr = residual @ residual / n
    primal = 0.5 * rr + alpha * np.abs(coef).sum()
    dual = -0.5 * scale**2 * rr + scale * (residual @ y_c) / n
    return primal - dual


def gap_scale(y, fit_intercept=True):
    """``||y - mean(y)||^2 / n``: scikit-learn stops when gap <= tol * this
    (``||y||^2 / n`` without an intercept)."""
    y_c = y - y.mean() if fit_intercept else y
    return y_c @ y_c / y.shape[0]
