"""``enet_path`` and ``lasso_path``: one problem along a grid of alphas, solved at once."""

import warnings
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.utils._param_validation import (
    Hidden,
    Interval,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import check_array, check_consistent_length

from ._base import is_stream
from ._lazy import Problem, _stream, _strategies  # TensorFlow only when a fit runs
from . import _threads
from ._validation import (
    check_finite_result,
    check_penalty_factor,
    check_squares_finite,
    warn_unconverged,
)


def sorted_alphas(alphas):
    """A user's alphas as float64, largest first, as scikit-learn orders them."""
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError(
            f"alphas must be a non-empty array of non-negative floats, got {alphas!r}."
        )
    return np.sort(alphas)[::-1]


_PATH_PARAMETERS = {
    "X": ["array-like", "sparse matrix", Iterable],  # an iterable: a stream
    "y": ["array-like", "sparse matrix", None],
    "eps": [Interval(Real, 0, None, closed="neither")],
    "n_alphas": [Interval(Integral, 1, None, closed="left"), Hidden(StrOptions({"deprecated"}))],
    "alphas": [
        Interval(Integral, 1, None, closed="left"), "array-like", None,
        Hidden(StrOptions({"warn"})),
    ],
    "precompute": [StrOptions({"auto"}), "boolean", "array-like"],
    "Xy": ["array-like", None],
    "copy_X": ["boolean"],
    "coef_init": ["array-like", None],
    "verbose": ["verbose"],
    "return_n_iter": ["boolean"],
    "positive": ["boolean"],
}

# The keyword ``**params`` of the paths: scikit-learn's, with their defaults,
# and tflasso's ``penalty_factor``. ``random_state``, ``selection`` and
# ``do_screening`` are the coordinate-descent solver's, accepted and unused.
_PARAMS = {
    "tol": 1e-4, "max_iter": 1000, "penalty_factor": None, "random_state": None,
    "selection": "cyclic", "do_screening": True,
}
_PARAMS_CONSTRAINTS = {
    "tol": [Interval(Real, 0, None, closed="left")],
    # The compiled loop counts iterations in int32.
    "max_iter": [Interval(Integral, 1, 2**31 - 1, closed="both")],
    "penalty_factor": ["array-like", None],
    "random_state": ["random_state"],
    "selection": [StrOptions({"cyclic", "random"})],
    "do_screening": ["boolean"],
}


def path_params(params, caller):
    """``**params`` of a path: scikit-learn's error for unknown ones, checked values."""
    unknown = set(params) - set(_PARAMS)
    if unknown:
        raise ValueError("Unexpected parameters in params", params.keys())
    values = {**_PARAMS, **params}
    validate_parameter_constraints(_PARAMS_CONSTRAINTS, values, caller)
    return values


def grid_of(n_alphas, alphas):
    """scikit-learn 1.9's ``n_alphas``/``alphas`` with its FutureWarnings: an int or an array."""
    grid = 100
    if n_alphas != "deprecated":
        warnings.warn(
            "'n_alphas' was deprecated in 1.9 and will be removed in 1.11. "
            "'alphas' now accepts an integer value which removes the need to pass "
            "'n_alphas'. The default value of 'alphas' will change from None to "
            "100 in 1.11. Pass an explicit value to 'alphas' and leave 'n_alphas' "
            "to its default value to silence this warning.",
            FutureWarning, stacklevel=3,
        )
        grid = n_alphas
    if alphas is None:
        warnings.warn(
            "'alphas=None' is deprecated and will be removed in 1.11, at which "
            "point the default value will be set to 100. Set 'alphas=100' "
            "to silence this warning.",
            FutureWarning, stacklevel=3,
        )
    elif not (isinstance(alphas, str) and alphas == "warn"):
        grid = alphas
    return grid if isinstance(grid, Integral) else sorted_alphas(grid)


@validate_params(
    {
        **_PATH_PARAMETERS,
        "l1_ratio": [Interval(Real, 0, 1, closed="right")],
        "check_input": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
@_threads.limited()
def enet_path(
    X,
    y,
    *,
    l1_ratio=0.5,
    eps=1e-3,
    n_alphas="deprecated",
    alphas="warn",
    precompute="auto",
    Xy=None,
    copy_X=True,
    coef_init=None,
    verbose=False,
    return_n_iter=False,
    positive=False,
    check_input=True,
    **params,
):
    r"""Compute the elastic-net path, every alpha solved at once by TensorFlow.

    A drop-in replacement for :func:`sklearn.linear_model.enet_path`. For
    each alpha of the grid it minimises

    .. math::

        \frac{1}{2 n} \lVert y - X w \rVert_2^2 + \alpha \rho \lVert w \rVert_1
        + \frac{\alpha (1 - \rho)}{2} \lVert w \rVert_2^2 ,

    without an intercept, as scikit-learn's path does (centre ``X`` and ``y``
    first to get one). All alphas are the columns of one coefficient matrix,
    so an iteration is one matrix product for the whole path. With a 2-D
    ``y`` it is the multi-task elastic-net path (the L2,1 penalty), as in
    scikit-learn. ``l1_ratio`` is :math:`\rho`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data. Sparse input is used as it is, never densified whole
        (at most a working set's columns, within 2**20 entries).

    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Target values; a 2-D ``y`` is a multi-task problem.

    l1_ratio : float, default=0.5
        The share of the L1 part, in (0, 1]; 1 is :func:`lasso_path`.

    eps : float, default=1e-3
        Length of the path: ``alpha_min / alpha_max = eps``.

    alphas : int, array-like or None, default='warn'
        An int is the number of alphas of the automatic grid, log-spaced from
        ``alpha_max`` (the smallest alpha giving all-zero coefficients: the
        lasso's divided by ``l1_ratio``) down to ``eps * alpha_max``; the default means 100 (None too, with
        scikit-learn's FutureWarning). An array is used as it is,
        sorted in decreasing order.

    precompute : 'auto' or bool, default='auto'
        Whether to solve from the Gram matrix ``X^T X``. 'auto' uses it for
        ``X`` (dense or sparse) with ``n_samples >= n_features`` (at most 4096 features)
        when one Gram matrix shared by the whole path is cheap (see
        :class:`Lasso`); otherwise the path iterates on ``X``. ``True`` on
        ``X`` wider than tall (``n_features > n_samples``) takes working sets,
        whose restricted problems are solved from their features' Gram
        matrices: the full one would be singular and larger than ``X``.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        large X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted).

    tol : float, default=1e-4
        Tolerance on the duality gap, relative to ``||y||^2 / n`` (see Notes).

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha``; 0 leaves a feature unpenalised
        (and the grid's ``alpha_max`` is computed with it in the model).

    return_n_iter : bool, default=False
        Whether to return the number of iterations of each alpha.

    n_alphas : int, default='deprecated'
        scikit-learn 1.9's deprecated grid size: it warns (FutureWarning) and
        is used as ``alphas``; ``alphas=None`` warns too and means 100.

    Xy, copy_X, coef_init, verbose, check_input :
        scikit-learn's, accepted and unused: tflasso computes ``X^T y`` itself,
        never modifies ``X``, starts every alpha from zero (a convex problem:
        the solution does not depend on the start), prints nothing and always checks its input.

    **params : dict
        ``tol`` (default 1e-4), ``max_iter`` (default 1000) and
        ``penalty_factor`` (default None), described above; scikit-learn's
        ``random_state``, ``selection`` and ``do_screening`` are accepted and
        unused. Any other name raises scikit-learn's ``ValueError``
        ("Unexpected parameters in params").

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas along the path, largest first.

    coefs : ndarray of shape (n_features, n_alphas) or (n_tasks, n_features, n_alphas)
        Coefficients along the path, in the dtype of ``X``.

    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap at the end of each fit, in the scaling of the objective
        above.

    n_iters : ndarray of shape (n_alphas,)
        Iterations of each alpha; returned when ``return_n_iter`` is True.

    See Also
    --------
    sklearn.linear_model.enet_path : The coordinate-descent path this one mirrors.
    ElasticNetCV : Chooses alpha and l1_ratio along this path by cross-validation.
    lasso_path : The ``l1_ratio=1`` path.

    Notes
    -----
    Each alpha is an independent FISTA problem (no warm start from its
    neighbour); all stop on their own duality gap, scikit-learn's: with
    residual ``R``, the dual point is ``R`` rescaled by
    ``min(1, alpha * n / ||X^T R||_inf)`` (the elastic net's and the
    multi-task problem's analogues for those), and iterations stop once the gap
    is at most ``tol * ||y||^2 / n``, evaluated every 10 iterations. A
    :class:`~sklearn.exceptions.ConvergenceWarning` reports alphas that
    reached ``max_iter`` first.

    Examples
    --------
    >>> import numpy as np
    >>> from tflasso import enet_path
    >>> X = np.array([[1, 2, 3.1], [2.3, 5.4, 4.3]]).T
    >>> y = np.array([1, 2, 3.1])
    >>> alphas, coefs, _ = enet_path(X, y, l1_ratio=0.5, alphas=[1.0, 0.1], tol=1e-8)
    >>> coefs.shape
    (2, 2)
    """
    params = path_params(params, "enet_path")
    tol, max_iter = params["tol"], params["max_iter"]
    grid = grid_of(n_alphas, alphas)
    if is_stream(X):
        problem, tasks = _stream_problem(X, y, precompute)
        form = "gram"
    else:
        X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
                        ensure_all_finite=False)
        y = check_array(y.toarray() if sparse.issparse(y) else y, ensure_2d=False,
                        dtype=X.dtype)
        check_consistent_length(X, y)
        check_squares_finite(X, "X", input_name="")
        check_squares_finite(y, "y")
        tasks = y.ndim == 2 and y.shape[1] > 1
        problem = Problem(X, y.reshape(len(y), -1), None, False, tasks=True)
        form = _strategies.choose_form(
            X, precompute, n_fits=np.size(grid) if np.ndim(grid) else grid
        )
    if tasks and positive:
        raise ValueError("positive=True is not supported for multi-task paths.")
    factor = check_penalty_factor(params["penalty_factor"], problem.design.shape[1])
    alphas, w, gaps, n_iter = _strategies.path(
        problem, grid, l1_ratio, factor, positive, eps, tol, max_iter, form
    )
    warn_unconverged(gaps, problem.tolerance(tol), max_iter)
    check_finite_result(w, gaps)
    coefs = w.astype(problem.design.dtype, copy=False)  # (p, A, T); float64: no copy
    coefs = np.moveaxis(coefs, 2, 0) if tasks else coefs[:, :, 0]
    if return_n_iter:
        return alphas, coefs, gaps, n_iter
    return alphas, coefs, gaps


def _stream_problem(source, y, precompute):
    """The uncentred Gram problem of a stream, and whether it has several tasks."""
    if y is not None:
        raise ValueError(
            "X is a stream of (X, y) batches: y comes from its batches; call the "
            "path with y=None."
        )
    if precompute is False:
        raise ValueError(
            "A stream is solved from its Gram statistics; precompute must be 'auto' "
            "or True, got False."
        )
    problem = _stream.StreamProblem(source, fit_intercept=False, tasks=True)
    return problem, problem.yy_targets.shape[0] > 1


@validate_params(_PATH_PARAMETERS, prefer_skip_nested_validation=True)
def lasso_path(
    X,
    y,
    *,
    eps=1e-3,
    n_alphas="deprecated",
    alphas="warn",
    precompute="auto",
    Xy=None,
    copy_X=True,
    coef_init=None,
    verbose=False,
    return_n_iter=False,
    positive=False,
    **params,
):
    r"""Compute the lasso path, every alpha solved at once by TensorFlow.

    A drop-in replacement for :func:`sklearn.linear_model.lasso_path`. For
    each alpha of the grid it minimises

    .. math::

        \frac{1}{2 n} \lVert y - X w \rVert_2^2 + \alpha \lVert w \rVert_1 ,

    without an intercept, as scikit-learn's path does (centre ``X`` and ``y``
    first to get one). All alphas are the columns of one coefficient matrix,
    so an iteration is one matrix product for the whole path. With a 2-D
    ``y`` it is the multi-task lasso path (the L2,1 penalty), as in
    scikit-learn. :func:`enet_path` takes an ``l1_ratio``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data. Sparse input is used as it is, never densified whole
        (at most a working set's columns, within 2**20 entries).

    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Target values; a 2-D ``y`` is a multi-task problem.

    eps : float, default=1e-3
        Length of the path: ``alpha_min / alpha_max = eps``.

    alphas : int, array-like or None, default='warn'
        An int is the number of alphas of the automatic grid, log-spaced from
        ``alpha_max`` (the smallest alpha giving all-zero coefficients) down
        to ``eps * alpha_max``; the default means 100 (None too, with
        scikit-learn's FutureWarning). An array is used as it is,
        sorted in decreasing order.

    precompute : 'auto' or bool, default='auto'
        Whether to solve from the Gram matrix ``X^T X``. 'auto' uses it for
        ``X`` (dense or sparse) with ``n_samples >= n_features`` (at most 4096 features)
        when one Gram matrix shared by the whole path is cheap (see
        :class:`Lasso`); otherwise the path iterates on ``X``. ``True`` on
        ``X`` wider than tall (``n_features > n_samples``) takes working sets,
        whose restricted problems are solved from their features' Gram
        matrices: the full one would be singular and larger than ``X``.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        large X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted).

    tol : float, default=1e-4
        Tolerance on the duality gap, relative to ``||y||^2 / n`` (see Notes).

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha``; 0 leaves a feature unpenalised
        (and the grid's ``alpha_max`` is computed with it in the model).

    return_n_iter : bool, default=False
        Whether to return the number of iterations of each alpha.

    n_alphas : int, default='deprecated'
        scikit-learn 1.9's deprecated grid size: it warns (FutureWarning) and
        is used as ``alphas``; ``alphas=None`` warns too and means 100.

    Xy, copy_X, coef_init, verbose :
        scikit-learn's, accepted and unused: tflasso computes ``X^T y`` itself,
        never modifies ``X``, starts every alpha from zero (a convex problem:
        the solution does not depend on the start), prints nothing.

    **params : dict
        ``tol`` (default 1e-4), ``max_iter`` (default 1000) and
        ``penalty_factor`` (default None), described above; scikit-learn's
        ``random_state``, ``selection`` and ``do_screening`` are accepted and
        unused. Any other name raises scikit-learn's ``ValueError``
        ("Unexpected parameters in params").

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas along the path, largest first.

    coefs : ndarray of shape (n_features, n_alphas) or (n_tasks, n_features, n_alphas)
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
    ``min(1, alpha * n / ||X^T R||_inf)`` (the elastic net's and the
    multi-task problem's analogues for those), and iterations stop once the gap
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
    return enet_path(
        X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
        precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
        verbose=verbose, return_n_iter=return_n_iter, positive=positive, **params,
    )
