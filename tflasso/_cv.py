"""``LassoCV``: alpha chosen by cross-validation, all folds and alphas solved at once.

Dense ``X`` with ``n_samples >= n_features`` (the Gram form): one pass over
the data computes the weighted moments of every test fold; the full data's
moments are their sum and each training fold's are the difference, so no
training fold is ever materialised. The training folds and the full data
become one batch of Gram problems solved in a single TensorFlow program
(:mod:`tflasso._batched`), and the validation errors come from the test
folds' moments, without another pass over ``X``.

Sparse ``X``, or more features than samples (the operator form): each fold is
one call of the operator solver with every alpha as a column, and the
validation error is computed on the held-out rows.
"""

from numbers import Integral, Real

import numpy as np
import tensorflow as tf
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import column_or_1d, validate_data

from . import _data
from ._lasso import Lasso
from ._batched import solve_gram_path
from ._path import (
    alpha_grid,
    solve_operator,
    sorted_alphas,
    use_gram,
    warn_unconverged,
)
from ._validation import (
    check_finite_result,
    check_sample_weight,
    check_squares_finite,
)

# Rows per block when accumulating a fold's moments: bounds the temporary
# copy of the block to about 32 MB.
_BLOCK_BYTES = 32 * 2**20
# From this many features, a block's X^T X is numpy's symmetric rank-k
# update (half the work of a product: 25% faster than TensorFlow's on 2,000
# x 1,000 blocks); below, TensorFlow's product (OpenBLAS's rank-k update ran
# 5x slower than it on 40,000 x 200 blocks on a loaded 2-core machine).
_NUMPY_FEATURES = 512
# Smaller blocks stay in numpy: a TensorFlow call costs about 0.3 ms.
_TF_MIN_ENTRIES = 2**20


@tf.function(
    input_signature=[
        tf.TensorSpec([None, None], tf.float64),  # rows of X
        tf.TensorSpec([None], tf.float64),  # rows of y
        tf.TensorSpec([None], tf.float64),  # square roots of their weights
        tf.TensorSpec([None], tf.float64),  # x_shift
        tf.TensorSpec([], tf.float64),  # y_shift
    ]
)
def _tf_moments(X, y, root, x_shift, y_shift):
    """The moments of a block of rows about the shift (see ``_Moments``)."""
    X = (X - x_shift) * root[:, None]
    y = (y - y_shift) * root
    return (
        tf.reduce_sum(root * root),
        tf.linalg.matvec(X, root, transpose_a=True),
        tf.reduce_sum(root * y),
        tf.matmul(X, X, transpose_a=True),
        tf.linalg.matvec(X, y, transpose_a=True),
        tf.reduce_sum(y * y),
    )


def _numpy_moments(X, y, root, x_shift, y_shift):
    """:func:`_tf_moments` in numpy, whose ``X^T X`` is a symmetric rank-k update."""
    X = np.subtract(X, x_shift)
    X *= root[:, None]
    y = (y - y_shift) * root
    return root @ root, root @ X, root @ y, X.T @ X, y @ X, y @ y


class _Moments:
    """Weighted moments of some rows of (X, y) about a fixed shift.

    ``s = sum(w)``, ``x = sum(w x)``, ``y = sum(w y)``, ``xx = sum(w x x^T)``,
    ``xy = sum(w x y)``, ``yy = sum(w y^2)``; always float64. Moments add and
    subtract over disjoint sets of rows.
    """

    _fields = ("s", "x", "y", "xx", "xy", "yy")

    def __init__(self, *values):
        for name, value in zip(self._fields, values):
            setattr(self, name, value)

    def _values(self):
        return [getattr(self, name) for name in self._fields]

    def __add__(self, other):
        return _Moments(*(a + b for a, b in zip(self._values(), other._values())))

    def __sub__(self, other):
        return _Moments(*(a - b for a, b in zip(self._values(), other._values())))

    @classmethod
    def of_rows(cls, X, y, sw, rows, x_shift, y_shift):
        """The moments of ``X[rows]``, ``y[rows]``, one block of rows at a time."""
        p = X.shape[1]
        total = [0.0, np.zeros(p), 0.0, np.zeros((p, p)), np.zeros(p), 0.0]
        step = max(1, _BLOCK_BYTES // (8 * p))
        # Contiguous rows (KFold without shuffling) are sliced, not copied.
        contiguous = len(rows) > 0 and rows[-1] - rows[0] + 1 == len(rows)
        contiguous = contiguous and bool(np.all(np.diff(rows) == 1))
        for start in range(0, len(rows), step):
            index = rows[start : start + step]
            if contiguous:
                index = slice(index[0], index[-1] + 1)
            root = np.ones(len(y[index])) if sw is None else np.sqrt(sw[index])
            large = len(y[index]) * p >= _TF_MIN_ENTRIES
            narrow = large and p < _NUMPY_FEATURES
            moments = (_tf_moments if narrow else _numpy_moments)(
                np.asarray(X[index], np.float64), np.asarray(y[index], np.float64),
                root, x_shift, np.float64(y_shift),
            )
            total = [a + np.asarray(b) for a, b in zip(total, moments)]
        return cls(*total)

    def centred(self, fit_intercept):
        """The centred Gram problem ``(G, q, yy)`` and the means (about the shift)."""
        x_mean = self.x / self.s if fit_intercept else np.zeros_like(self.x)
        y_mean = self.y / self.s if fit_intercept else 0.0
        gram = self.xx / self.s - np.outer(x_mean, x_mean)
        xty = self.xy / self.s - x_mean * y_mean
        yy = max(self.yy / self.s - y_mean**2, 0.0)
        return gram, xty, yy, x_mean, y_mean

    def mse(self, coef, intercept):
        """Weighted mean squared error of ``x @ coef + intercept`` on these rows.

        ``coef`` is (p, K), ``intercept`` (K,), both about the shift.
        """
        squares = (
            self.yy
            - 2 * self.xy @ coef
            + np.einsum("jk,jk->k", coef, self.xx @ coef)
        )
        sums = self.y - self.x @ coef
        return np.maximum(
            squares - 2 * intercept * sums + intercept**2 * self.s, 0
        ) / self.s


def _partition(parts, n_samples):
    """Whether the index arrays ``parts`` hold every row exactly once."""
    counts = np.bincount(np.concatenate(parts), minlength=n_samples)
    return len(counts) == n_samples and bool(np.all(counts == 1))


def _fold_moments(X, y, sw, folds, x_shift, y_shift):
    """Moments of the full data and of each training and test fold."""
    n = X.shape[0]

    def of(rows):
        return _Moments.of_rows(X, y, sw, rows, x_shift, y_shift)

    tests = [of(test) for _, test in folds]
    if _partition([test for _, test in folds], n):
        full = sum(tests[1:], tests[0])
    else:
        full = of(np.arange(n))
    trains = [
        full - tested if _partition([train, test], n) else of(train)
        for (train, test), tested in zip(folds, tests)
    ]
    return full, trains, tests


def _cv_gram(X, y, sw, folds, grid, params):
    """Gram form, every fold and the full data in one batch.

    ``grid`` is an int (automatic grid) or the sorted alphas. Returns the
    validation errors (n_alphas, n_folds), the alphas, and the full data's
    coefficients (p, n_alphas), gaps, iterations and offsets.
    """
    if params["fit_intercept"]:
        # Moments about the full data's means: the folds' own means are
        # close to them, so centring each fold loses no precision.
        x_shift = np.average(X, axis=0, weights=sw).astype(np.float64)
        y_shift = float(np.average(y, weights=sw))
    else:
        x_shift, y_shift = np.zeros(X.shape[1]), 0.0
    full, trains, tests = _fold_moments(X, y, sw, folds, x_shift, y_shift)
    problems = [m.centred(params["fit_intercept"]) for m in [*trains, full]]
    gram, xty, yy, x_mean, y_mean = (np.array(v) for v in zip(*problems))
    if isinstance(grid, Integral):
        grid = alpha_grid(xty[-1], grid, params["eps"], params["positive"])
    counts = np.array([len(train) for train, _ in folds] + [X.shape[0]], float)
    w, gap, n_iter = solve_gram_path(
        gram, xty, yy, counts, grid, params["tol"] * yy, params["max_iter"],
        params["positive"],
    )
    warn_unconverged(gap, params["tol"] * yy[:, None], params["max_iter"])
    mse = np.column_stack([
        test.mse(w[f], y_mean[f] - x_mean[f] @ w[f])
        for f, test in enumerate(tests)
    ])
    x_offset, y_offset = x_shift + x_mean[-1], y_shift + y_mean[-1]
    return mse, grid, w[-1], gap[-1], n_iter[-1], x_offset, y_offset


def _operator_fold(X, y, sw, rows, grid, params):
    """Operator form on ``X[rows]``: ``(W, gap, n_iter, yy, x_offset, y_offset)``."""
    X_fold, y_fold = X[rows], y[rows]
    sw_fold = None if sw is None else _data.normalise_weights(sw[rows], len(rows))
    x_offset, y_offset = _data.offsets(
        X_fold, y_fold[:, None], sw_fold, params["fit_intercept"]
    )
    root = np.ones(len(rows)) if sw_fold is None else np.sqrt(sw_fold)
    target = (y_fold - y_offset[0]) * root
    yy = float(target.astype(np.float64) @ target) / len(rows)
    w, gap, n_iter = solve_operator(
        X_fold, x_offset, root, target, grid, params["tol"] * yy,
        params["max_iter"], params["positive"],
    )
    return w.astype(np.float64), gap, n_iter, yy, x_offset, y_offset[0]


def _cv_operator(X, y, sw, folds, grid, params):
    """Operator form, fold by fold; the full data solved at the chosen alphas only."""
    if isinstance(grid, Integral):
        sw_all = None if sw is None else _data.normalise_weights(sw, len(sw))
        x_offset, y_offset = _data.offsets(
            X, y[:, None], sw_all, params["fit_intercept"]
        )
        yc = (y - y_offset[0]) * (1.0 if sw_all is None else sw_all)
        xty = safe_sparse_dot(X.T, yc.astype(X.dtype)) - x_offset * yc.sum()
        grid = alpha_grid(
            np.asarray(xty, np.float64).ravel() / X.shape[0],
            grid, params["eps"], params["positive"],
        )
    mse, gaps, tolerances = [], [], []
    for train, test in folds:
        w, gap, _, yy, x_offset, y_offset = _operator_fold(
            X, y, sw, train, grid, params
        )
        gaps.append(gap)
        tolerances.append(np.full_like(gap, params["tol"] * yy))
        residual = (
            safe_sparse_dot(X[test], w, dense_output=True)
            + (y_offset - x_offset @ w)
            - y[test, None]
        )
        weights = None if sw is None else sw[test]
        mse.append(np.average(residual**2, axis=0, weights=weights))
    warn_unconverged(np.array(gaps), np.array(tolerances), params["max_iter"])
    return np.column_stack(mse), grid


def one_standard_error(alphas, mse_path):
    """The largest alpha whose mean CV error is within one SE of the minimum.

    The standard error of the mean over ``n_folds`` folds is
    ``std(ddof=1) / sqrt(n_folds)``, as in glmnet; it is 0 with one fold.
    """
    mean = mse_path.mean(axis=1)
    n_folds = mse_path.shape[1]
    se = mse_path.std(axis=1, ddof=1) / np.sqrt(n_folds) if n_folds > 1 else 0 * mean
    best = np.argmin(mean)
    return np.max(alphas[mean <= mean[best] + se[best]])


class LassoCV(RegressorMixin, BaseEstimator):
    r"""Lasso with alpha chosen by cross-validation, all fits in one TensorFlow program.

    A drop-in replacement for :class:`sklearn.linear_model.LassoCV`. For each
    alpha of a grid and each training fold it minimises the lasso objective

    .. math::

        \frac{1}{2 n} \lVert y - X w - b \rVert_2^2 + \alpha \lVert w \rVert_1 ,

    (the intercept :math:`b` not penalised; with ``sample_weight`` the squared
    error is the weighted mean), scores each fit by the mean squared error on
    the held-out fold, and refits on all the data at the chosen alpha.

    Unlike scikit-learn's path, which solves alpha after alpha and fold after
    fold, every alpha of every fold, and the refit on the full data, are the
    columns of one batch of coefficient matrices, updated together by one
    FISTA loop compiled by :func:`tf.function`.

    Parameters
    ----------
    eps : float, default=1e-3
        Length of the automatic grid: ``alpha_min / alpha_max = eps``.

    alphas : int or array-like, default=100
        An int is the number of alphas of the automatic grid, log-spaced from
        ``alpha_max`` (the smallest alpha giving all-zero coefficients on the
        full data) down to ``eps * alpha_max``. An array is used as it is,
        sorted in decreasing order.

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept. If False, the data are
        assumed to be centred.

    precompute : 'auto' or bool, default='auto'
        Whether to solve from Gram matrices (dense ``X`` only): one pass over
        the data, after which an iteration costs ``n_features**2`` per fold.
        'auto' uses them when ``n_samples >= n_features`` (and at most 4096
        features). Sparse ``X`` is always solved in operator form.

    max_iter : int, default=1000
        Maximum number of proximal-gradient iterations.

    tol : float, default=1e-4
        Tolerance on each fit's duality gap, relative to
        ``||y - mean(y)||^2 / n`` of its training fold (see Notes).

    cv : int, cross-validation generator or iterable, default=None
        The splitting strategy: None for 5-fold, an int for that many folds
        (:class:`~sklearn.model_selection.KFold`), a CV splitter, or an
        iterable of (train, test) index arrays.

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    selection : {'min', '1se'}, default='min'
        Which alpha is refitted: 'min', the one with the lowest mean CV error
        (``alpha_``), or '1se', the largest one within one standard error of
        that minimum (``alpha_1se_``, a sparser model).

    Attributes
    ----------
    alpha_ : float
        The alpha with the lowest mean cross-validated error.

    alpha_1se_ : float
        The largest alpha whose mean cross-validated error is at most the
        minimum plus one standard error of that minimum's mean.

    alphas_ : ndarray of shape (n_alphas,)
        The grid of alphas, largest first.

    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Mean squared error on each held-out fold (weighted by
        ``sample_weight``), for each alpha.

    coef_ : ndarray of shape (n_features,)
        Coefficients of the refit on all the data at the selected alpha.

    intercept_ : float
        Independent term of the refit.

    dual_gap_ : float
        Duality gap of the refit, in the scaling of the objective above.

    n_iter_ : int
        Iterations of the refit.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.linear_model.LassoCV : The coordinate-descent estimator this one mirrors.
    lasso_path : The lasso along a grid of alphas.
    Lasso : The lasso at one alpha.

    Notes
    -----
    Every fit stops on its own duality gap, scikit-learn's: with residual
    ``R`` of the centred (and weighted) training fold, the dual point is ``R``
    rescaled by ``min(1, alpha * n / ||X^T R||_inf)``, and iterations stop
    once the gap is at most ``tol * ||y - mean(y)||^2 / n``, evaluated every
    10 iterations. A :class:`~sklearn.exceptions.ConvergenceWarning` reports
    fits that reached ``max_iter`` first. Each alpha is solved from zero (no
    warm start along the path), so results agree with scikit-learn's to the
    tolerance, not digit for digit.

    The grid, the folds (``KFold`` without shuffling for an int ``cv``), the
    per-fold rescaling of ``sample_weight`` and the weighted validation error
    (averaged over folds without weights) are scikit-learn's, so with the
    same tolerance both choose the same alpha. In the Gram form the refit is
    the batch member holding the full data, solved with everything else.
    Its iterations run in float32 down to a relative gap of 3e-5 and are
    finished in float64 where ``tol`` is tighter; every duality gap is
    evaluated in float64. With more than 256 features the path is solved in
    chunks of alphas on working sets, warm-started along the path.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from tflasso import LassoCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), LassoCV(cv=5)).fit(X, y)
    >>> lasso = model[-1]
    >>> bool(lasso.alpha_1se_ >= lasso.alpha_)
    True
    >>> lasso.mse_path_.shape
    (100, 5)
    """

    _parameter_constraints: dict = {
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "precompute": [StrOptions({"auto"}), "boolean"],
        # The compiled loop counts iterations in int32.
        "max_iter": [Interval(Integral, 1, 2**31 - 1, closed="both")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "positive": ["boolean"],
        "selection": [StrOptions({"min", "1se"})],
    }

    def __init__(
        self,
        *,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        cv=None,
        positive=False,
        selection="min",
    ):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.positive = positive
        self.selection = selection

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose alpha by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is used as it is, never densified.

        y : array-like of shape (n_samples,)
            Target values.

        sample_weight : float or array-like of shape (n_samples,), default=None
            Sample weights, used in every fit (rescaled to sum to the fold's
            size) and in each fold's validation error.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y, sample_weight = self._validate(X, y, sample_weight)
        grid = (
            self.alphas
            if isinstance(self.alphas, Integral)
            else sorted_alphas(self.alphas)
        )
        folds = list(check_cv(self.cv).split(X, y))
        params = self.get_params()
        gram_form = use_gram(X, self.precompute)
        if gram_form:
            mse, grid, *refit = _cv_gram(X, y, sample_weight, folds, grid, params)
        else:
            mse, grid = _cv_operator(X, y, sample_weight, folds, grid, params)

        # Non-finite errors (data too large for the float32 iterations) would
        # otherwise leave no alpha within one standard error of the minimum.
        check_finite_result(mse)
        self.alphas_ = grid
        self.mse_path_ = mse
        self.alpha_ = float(grid[np.argmin(mse.mean(axis=1))])
        self.alpha_1se_ = float(one_standard_error(grid, mse))
        chosen = self.alpha_ if self.selection == "min" else self.alpha_1se_
        if gram_form:
            coefs, gaps, n_iters, x_offset, y_offset = refit
            k = int(np.flatnonzero(grid == chosen)[0])
        else:
            # The operator form refits the chosen alpha alone.
            rows = np.arange(X.shape[0])
            coefs, gaps, n_iters, yy, x_offset, y_offset = _operator_fold(
                X, y, sample_weight, rows, np.array([chosen]), params
            )
            warn_unconverged(gaps, self.tol * yy, self.max_iter)
            k = 0
        coef = coefs[:, k]
        check_finite_result(coef)
        self.coef_ = coef.astype(X.dtype)
        self.intercept_ = (
            float(y_offset - x_offset @ coef) if self.fit_intercept else 0.0
        )
        self.dual_gap_ = float(gaps[k])
        self.n_iter_ = int(n_iters[k])
        return self

    def _validate(self, X, y, sample_weight):
        """``Lasso``'s checks; weights rescaled to a largest value of 1."""
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            y_numeric=True,
        )
        y = column_or_1d(y, warn=True).astype(X.dtype)
        check_squares_finite(X, "X")
        check_squares_finite(y, "y")
        # float64 weights: the folds' moments are accumulated in float64.
        return X, y, check_sample_weight(sample_weight, X, np.float64)

    # The refit is a plain linear model: predict exactly as Lasso does.
    predict = Lasso.predict

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
