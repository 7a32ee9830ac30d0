"""The lasso's objective, duality gap and ``alpha_max`` in plain numpy.

Kept apart from the TensorFlow solver so that tests (and users) can check a
solution independently of the code that produced it. Everything is computed in
float64 on explicitly centred, explicitly weighted data: slow and obvious.

The objective is scikit-learn's::

    (1 / (2 * sum(sw))) * sum_i sw_i (y_i - x_i @ w - b)^2 + alpha * ||w||_1
"""

import numpy as np
from scipy import sparse


def _weighted_problem(X, y, sample_weight=None, fit_intercept=True):
    """Centred, square-root-weighted float64 copies of X and y, and offsets.

    Weights are rescaled to sum to ``n_samples``, as scikit-learn does, so that
    the objective's normaliser stays ``n_samples``.
    """
    X = X.toarray() if sparse.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    sw = sw * (n / sw.sum())
    if fit_intercept:
        x_offset = sw @ X / n
        y_offset = sw @ y / n
    else:
        x_offset = np.zeros(X.shape[1])
        y_offset = np.zeros(y.shape[1:])
    root = np.sqrt(sw)
    Xw = (X - x_offset) * root[:, None]
    yw = (y - y_offset) * (root[:, None] if y.ndim == 2 else root)
    return Xw, yw, x_offset, y_offset


def objective(X, y, coef, intercept, alpha, sample_weight=None):
    """The lasso objective of one output at ``(coef, intercept)``."""
    X = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    residual = np.asarray(y, float) - X @ np.asarray(coef, float) - intercept
    return 0.5 * (sw @ residual**2) / sw.sum() + alpha * np.abs(coef).sum()


def alpha_max(X, y, sample_weight=None, fit_intercept=True, positive=False):
    """The smallest alpha for which all coefficients are zero (one output)."""
    Xw, yw, _, _ = _weighted_problem(X, y, sample_weight, fit_intercept)
    correlation = Xw.T @ yw / Xw.shape[0]
    return max(correlation.max(), 0.0) if positive else np.abs(correlation).max()


def duality_gap(X, y, coef, alpha, sample_weight=None, fit_intercept=True,
                positive=False):
    """scikit-learn's duality gap at ``coef`` (one output), divided by n.

    The dual point is the residual scaled into the dual feasible set,
    ``theta = R / max(1, ||X^T R||_inf / (n alpha))``; with ``alpha == 0`` it
    is the squared gradient norm ``||X^T R||^2 / n``, as in scikit-learn.
    """
    Xw, yw, _, _ = _weighted_problem(X, y, sample_weight, fit_intercept)
    n = Xw.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    residual = yw - Xw @ coef
    xtr = Xw.T @ residual / n
    if alpha == 0:
        return n * (xtr @ xtr)
    rr = residual @ residual / n
    dual_norm = xtr.max() if positive else np.abs(xtr).max()
    scale = min(1.0, alpha / dual_norm) if dual_norm > 0 else 1.0
    primal = 0.5 * rr + alpha * np.abs(coef).sum()
    dual = -0.5 * scale**2 * rr + scale * (residual @ yw) / n
    return primal - dual


def kkt_violation(X, y, coef, alpha, sample_weight=None, fit_intercept=True,
                  positive=False):
    """Largest violation of the lasso's optimality conditions (one output).

    With ``g = X^T R / n`` (centred, weighted): ``g_j = alpha * sign(w_j)`` where
    ``w_j != 0`` and ``|g_j| <= alpha`` where ``w_j == 0`` (``g_j <= alpha``
    with ``positive=True``).
    """
    Xw, yw, _, _ = _weighted_problem(X, y, sample_weight, fit_intercept)
    coef = np.asarray(coef, dtype=np.float64)
    g = Xw.T @ (yw - Xw @ coef) / Xw.shape[0]
    nonzero = coef != 0
    on_support = np.abs(g[nonzero] - alpha * np.sign(coef[nonzero]))
    off = g[~nonzero] if positive else np.abs(g[~nonzero])
    off_support = np.maximum(off - alpha, 0)
    return max(on_support.max(initial=0.0), off_support.max(initial=0.0))
