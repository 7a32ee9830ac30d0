"""The ``Lasso`` estimator: parameters, validation, centring, tags."""

import warnings
from numbers import Integral, Real

import numpy as np
import tensorflow as tf
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _data
from . import _working_set as working_set
from ._solver import SOLVERS, solve_gram
from ._validation import (
    check_finite_result,
    check_sample_weight,
    check_squares_finite,
)

# Iterations between two duality-gap evaluations (each costs one more pass).
_GAP_EVERY = 10


class Lasso(RegressorMixin, BaseEstimator):
    r"""Linear model with an L1 penalty, fitted by a TensorFlow proximal-gradient loop.

    A drop-in replacement for :class:`sklearn.linear_model.Lasso`. It minimises
    the same objective,

    .. math::

        \frac{1}{2 n} \lVert y - X w - b \rVert_2^2 + \alpha \lVert w \rVert_1 ,

    where the intercept :math:`b` is not penalised. With ``sample_weight`` the
    squared error becomes a weighted mean,
    :math:`\frac{1}{2 \sum_i s_i} \sum_i s_i (y_i - x_i^\top w - b)^2`.

    Training is an accelerated proximal-gradient loop (FISTA with adaptive
    restart) compiled once by :func:`tf.function`: :class:`tf.GradientTape`
    differentiates the squared error and a soft-thresholding step applies the L1
    penalty, so coefficients are exactly zero, not merely small.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L1 penalty, a non-negative float. ``alpha=0`` is
        ordinary least squares, better solved by
        :class:`sklearn.linear_model.LinearRegression`.

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept. If False, the data are
        assumed to be centred.

    precompute : 'auto' or bool, default='auto'
        Whether to solve from the Gram matrix ``X^T X``: one pass over the data,
        after which an iteration costs ``n_features**2`` instead of
        ``n_samples * n_features``. 'auto' uses it for dense ``X`` with
        ``n_samples >= n_features`` when that is cheap (at most 64 features,
        or ``n_samples * n_features**2 <= 5e8``), and otherwise
        working sets: the lasso is solved on the few features that can be
        non-zero, and one pass over all of them checks the duality gap and
        grows the set. ``False`` iterates on ``X`` itself (a
        ``tf.SparseTensor`` when ``X`` is sparse).

    max_iter : int, default=1000
        Maximum number of proximal-gradient iterations.

    tol : float, default=1e-4
        Tolerance on the duality gap, relative to ``||y - mean(y)||^2 / n``
        (see Notes).

    warm_start : bool, default=False
        When True, start from the solution of the previous call to ``fit``.

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, with exact zeros outside the selected support.

    intercept_ : float or ndarray of shape (n_targets,)
        Independent term.

    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the returned solution, in the scaling of the objective
        above.

    n_iter_ : int or list of int
        Number of iterations run for each target.

    sparse_coef_ : scipy.sparse array of shape (n_targets, n_features)
        ``coef_`` as a sparse array.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.linear_model.Lasso : The coordinate-descent estimator this one mirrors.

    Notes
    -----
    Each target is an independent lasso; all targets are solved together and
    each stops on its own duality gap. The gap is scikit-learn's: with residual
    ``R`` of the centred (and weighted) problem, the dual point is ``R``
    rescaled by ``min(1, alpha * n / ||X^T R||_inf)``, and iterations stop
    once the gap is at most ``tol * ||y - mean(y)||^2 / n``. It is evaluated
    every 10 iterations. If ``max_iter`` is reached first, a
    :class:`~sklearn.exceptions.ConvergenceWarning` reports the gap and the
    tolerance.

    Float32 input gives float32 coefficients. Gram matrices (the full one, or
    a working set's) are solved in float64: the problem is small, and a
    float32 gap is unreliable below about 1e-5. ``precompute=False`` and a
    working set solved from its columns compute in the input's precision.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from tflasso import Lasso
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), Lasso(alpha=1.0)).fit(X, y)
    >>> int((model[-1].coef_ == 0).sum())
    3
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "precompute": [StrOptions({"auto"}), "boolean"],
        # The compiled loop counts iterations in int32.
        "max_iter": [Interval(Integral, 1, 2**31 - 1, closed="both")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is used as it is, never densified.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values, in the dtype of ``X``.

        sample_weight : float or array-like of shape (n_samples,), default=None
            Sample weights, rescaled internally to sum to ``n_samples``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
        )
        y = np.asarray(y, dtype=X.dtype)
        check_squares_finite(X, "X")
        check_squares_finite(y, "y")
        sample_weight = check_sample_weight(sample_weight, X, X.dtype)
        if self.alpha == 0:
            warnings.warn(
                "With alpha=0, this algorithm does not converge well. You are "
                "advised to use the LinearRegression estimator",
                stacklevel=2,
            )

        Y = y[:, None] if y.ndim == 1 else y
        n_samples, n_features = X.shape
        sw = _data.normalise_weights(sample_weight, n_samples)
        x_offset, y_offset = _data.offsets(X, Y, sw, self.fit_intercept)
        coef, gap, n_iter, yy = self._solve(X, Y, x_offset, y_offset, sw)

        coef = coef.T.astype(X.dtype)
        intercept = y_offset - coef @ x_offset if self.fit_intercept else y_offset
        # Checked before the convergence warning: a non-finite gap is a
        # failure, not slow convergence.
        check_finite_result(coef, intercept, gap)
        tolerance = self.tol * yy
        if np.any(gap > tolerance):
            warnings.warn(
                "Objective did not converge. You might want to increase the "
                f"number of iterations (max_iter={self.max_iter}). Duality gap: "
                f"{gap.max():.3e}, tolerance: {tolerance[np.argmax(gap)]:.3e}",
                ConvergenceWarning,
                stacklevel=2,
            )
        single = Y.shape[1] == 1
        self.coef_ = coef[0] if single else coef
        self.dual_gap_ = gap[0] if single else gap
        self.n_iter_ = int(n_iter[0]) if single else [int(k) for k in n_iter]
        if not self.fit_intercept:
            self.intercept_ = 0.0
        elif y.ndim == 1:
            self.intercept_ = float(intercept[0])
        else:
            self.intercept_ = intercept
        return self

    def _solve(self, X, Y, x_offset, y_offset, sw):
        """Run the compiled solver; numpy ``(W, gap, n_iter, yy)`` back.

        ``yy = ||y - mean(y)||^2 / n`` per target scales the tolerance.
        """
        n_samples, n_features = X.shape
        n_targets = Y.shape[1]
        form = _data.solver_form(X, self.precompute)
        dtype = np.float64 if form != "operator" else X.dtype
        w0 = np.zeros((n_features, n_targets), dtype)
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.atleast_2d(self.coef_).T
            if previous.shape == w0.shape:
                w0 = previous.astype(dtype)
        alpha = np.full(n_targets, self.alpha, dtype)
        controls = (np.int32(self.max_iter), np.int32(_GAP_EVERY), self.positive)

        if form == "gram":
            gram, xty, yy = _data.gram_problem(X, Y, x_offset, y_offset, sw)
            w, gap, n_iter = solve_gram(
                gram, xty, yy, n_samples, alpha, w0, self.tol * yy, *controls
            )
            return w, gap, n_iter, yy

        root, y_weighted = _data.weighted_target(Y, y_offset, sw, X.dtype)
        yy = np.einsum("ik,ik->k", y_weighted, y_weighted, dtype=np.float64)
        yy /= n_samples
        if form == "working_set":
            results = [
                working_set.solve(X, x_offset, root, y_weighted[:, k], self.alpha,
                                  w0[:, k], self.tol * yy[k], *controls)
                for k in range(n_targets)
            ]
            w, gap, n_iter = (np.array(column) for column in zip(*results))
            return w.T, gap, n_iter, yy
        kind = "sparse" if sparse.issparse(X) else "dense"
        penalty = _data.unit_norm_penalty(
            _data.column_norms(X, x_offset, root**2), n_samples
        )
        w, gap, n_iter = SOLVERS[tf.as_dtype(dtype)][kind](
            _data.design_tensor(X), x_offset, root, y_weighted,
            penalty.astype(dtype), alpha, w0, (self.tol * yy).astype(dtype),
            *controls,
        )
        return w.numpy(), gap.numpy().astype(np.float64), n_iter.numpy(), yy

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=False,
        )
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

    @property
    def sparse_coef_(self):
        """``coef_`` as a sparse CSR array of shape (n_targets, n_features)."""
        return sparse.csr_array(np.atleast_2d(self.coef_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
