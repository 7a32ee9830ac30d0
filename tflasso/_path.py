"""``lasso_path``: the lasso along a grid of alphas, every alpha solved at once."""

import warnings
from numbers import Integral, Real

import numpy as np
import tensorflow as tf
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array, check_consistent_length

from . import _data
from ._batched import GAP_EVERY, solve_gram
from ._solver import SOLVERS
from ._validation import check_finite_result, check_squares_finite

# Above this many features 'auto' does not build p x p Gram matrices.
_MAX_GRAM_FEATURES = 4096


def alpha_grid(xty, n_alphas, eps, positive):
    """scikit-learn's grid: ``n_alphas`` log-spaced from ``alpha_max`` down.

    ``xty`` is ``X^T y / n`` of the centred, weighted problem (one target),
    whose largest entry (in absolute value) is ``alpha_max``.
    """
    alpha_max = max(np.max(xty), 0.0) if positive else np.max(np.abs(xty))
    resolution = np.finfo(np.float64).resolution
    if alpha_max <= resolution:
        return np.full(n_alphas, resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def sorted_alphas(alphas):
    """A user's alphas as float64, largest first, as scikit-learn orders them."""
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError(
            f"alphas must be a non-empty array of non-negative floats, got {alphas!r}."
        )
    return np.sort(alphas)[::-1]


def use_gram(X, precompute):
    """Whether to solve from Gram matrices: ``precompute``, or for 'auto' dense,
    tall ``X`` with at most 4096 features (each Gram matrix is p x p)."""
    if sparse.issparse(X):
        return False
    if precompute == "auto":
        n, p = X.shape
        return n >= p and p <= _MAX_GRAM_FEATURES
    return bool(precompute)


def solve_operator(X, x_offset, root, y, alphas, tol, max_iter, positive):
    """One target at every alpha by the operator solver: ``(W, gap, n_iter)``.

    ``root * (X - x_offset)`` is the design (never formed), ``y`` the centred,
    weighted target, repeated once per alpha; ``tol`` is absolute.
    """
    dtype = X.dtype
    k = len(alphas)
    w, gap, n_iter = SOLVERS[tf.as_dtype(dtype)][
        "sparse" if sparse.issparse(X) else "dense"
    ](
        _data.design_tensor(X), x_offset.astype(dtype), root.astype(dtype),
        np.repeat(y[:, None].astype(dtype), k, axis=1),
        np.ones(len(x_offset), dtype),  # penalty: features used as they are
        alphas.astype(dtype),
        np.zeros((len(x_offset), k), dtype), np.full(k, tol, dtype),
        np.int32(max_iter), np.int32(GAP_EVERY), np.bool_(positive),
    )
    return w.numpy(), gap.numpy().astype(np.float64), n_iter.numpy()


def warn_unconverged(gap, tolerance, max_iter, what="Objective"):
    """scikit-learn's ConvergenceWarning, with the worst gap and its tolerance."""
    gap, tolerance = np.broadcast_arrays(gap, tolerance)
    late = gap > tolerance
    if np.any(late):
        worst = np.argmax(np.where(late, gap / np.maximum(tolerance, 1e-300), 0))
        warnings.warn(
            f"{what} did not converge for {late.sum()} of {late.size} fits. You "
            f"might want to increase the number of iterations (max_iter={max_iter})."
            f" Duality gap: {gap.flat[worst]:.3e}, tolerance: "
            f"{tolerance.flat[worst]:.3e}",
            ConvergenceWarning,
            stacklevel=3,
        )


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like", None],
        "precompute": [StrOptions({"auto"}), "boolean"],
        # The compiled loop counts iterations in int32.
        "max_iter": [Interval(Integral, 1, 2**31 - 1, closed="both")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "positive": ["boolean"],
        "return_n_iter": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def lasso_path(
    X,
    y,
    *,
    eps=1e-3,
    alphas=None,
    precompute="auto",
    max_iter=1000,
    tol=1e-4,
    positive=False,
    return_n_iter=False,
):
    r"""Compute the lasso path, every alpha solved at once by TensorFlow.

    A drop-in replacement for :func:`sklearn.linear_model.lasso_path` (single
    target). For each alpha of the grid it minimises

    .. math::

        \frac{1}{2 n} \lVert y - X w \rVert_2^2 + \alpha \lVert w \rVert_1 ,

    without an intercept, as scikit-learn's path does (centre ``X`` and ``y``
    first to get one). All alphas are the columns of one coefficient matrix,
    so an iteration is one matrix product for the whole path.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data. Sparse input is used as it is, never densified.

    y : array-like of shape (n_samples,)
        Target values.

    eps : float, default=1e-3
        Length of the path: ``alpha_min / alpha_max = eps``.

    alphas : int, array-like or None, default=None
        An int is the number of alphas of the automatic grid, log-spaced from
        ``alpha_max`` (the smallest alpha giving all-zero coefficients) down
        to ``eps * alpha_max``; None means 100. An array is used as it is,
        sorted in decreasing order.

    precompute : 'auto' or bool, default='auto'
        Whether to solve from the Gram matrix ``X^T X``. 'auto' uses it for
        dense ``X`` with ``n_samples >= n_features`` (and at most 4096
        features).

    max_iter : int, default=1000
        Maximum number of proximal-gradient iterations.

    tol : float, default=1e-4
        Tolerance on the duality gap, relative to ``||y||^2 / n`` (see Notes).

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    return_n_iter : bool, default=False
        Whether to return the number of iterations of each alpha.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas along the path, largest first.

    coefs : ndarray of shape (n_features, n_alphas)
        Coefficients along the path, in the dtype of ``X``.

    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap at the end of each fit, in the scaling of the objective
        above.

    n_iters : ndarray of shape (n_alphas,)
        Iterations of each alpha; returned when ``return_n_iter`` is True.

    See Also
    --------
    sklearn.linear_model.lasso_path : The coordinate-descent path this one mirrors.
    LassoCV : Chooses alpha along this path by cross-validation.

    Notes
    -----
    Each alpha is an independent FISTA problem (no warm start from its
    neighbour); all stop on their own duality gap, scikit-learn's: with
    residual ``R``, the dual point is ``R`` rescaled by
    ``min(1, alpha * n / ||X^T R||_inf)``, and iterations stop once the gap
    is at most ``tol * ||y||^2 / n``, evaluated every 10 iterations. A
    :class:`~sklearn.exceptions.ConvergenceWarning` reports alphas that
    reached ``max_iter`` first.

    Examples
    --------
    >>> import numpy as np
    >>> from tflasso import lasso_path
    >>> X = np.array([[1, 2, 3.1], [2.3, 5.4, 4.3]]).T
    >>> y = np.array([1, 2, 3.1])
    >>> alphas, coefs, _ = lasso_path(X, y, alphas=[5.0, 1.0, 0.5], tol=1e-8)
    >>> coefs.round(3)
    array([[0.   , 0.   , 0.469],
           [0.216, 0.443, 0.237]])
    """
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    y = check_array(y, ensure_2d=False, dtype=X.dtype)
    check_consistent_length(X, y)
    check_squares_finite(X, "X")
    check_squares_finite(y, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            "lasso_path takes a single target; scikit-learn's multi-output path "
            f"is the multi-task lasso. Got y of shape {y.shape}."
        )
    n_samples, n_features = X.shape
    if use_gram(X, precompute):
        gram, xty, yy = _data.gram_problem(
            X, y[:, None], np.zeros(n_features), np.zeros(1), None
        )
        xty = xty[:, 0]
    else:
        xty = np.asarray(X.T @ y, dtype=np.float64).ravel() / n_samples
        yy = np.array([y.astype(np.float64) @ y / n_samples])
    if alphas is None or isinstance(alphas, Integral):
        alphas = alpha_grid(xty, 100 if alphas is None else alphas, eps, positive)
    else:
        alphas = sorted_alphas(alphas)
    if use_gram(X, precompute):
        coefs, gaps, n_iter = (
            v[0]
            for v in solve_gram(
                gram[None], xty[None], yy, np.array([n_samples], float), alphas,
                tol * yy, max_iter, positive,
            )
        )
    else:
        coefs, gaps, n_iter = solve_operator(
            X, np.zeros(n_features), np.ones(n_samples), y, alphas, tol * yy[0],
            max_iter, positive,
        )
    warn_unconverged(gaps, tol * yy, max_iter)
    check_finite_result(coefs, gaps)
    coefs = coefs.astype(X.dtype)
    if return_n_iter:
        return alphas, coefs, gaps, n_iter
    return alphas, coefs, gaps
