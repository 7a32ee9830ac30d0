"""What every tflasso estimator shares: input checks, attributes, prediction.

No maths here: a fit builds a :class:`~tflasso._problem.Problem`, asks
:mod:`tflasso._strategies` for the solution, and stores numpy attributes.
Prediction is a numpy (or scipy.sparse) product and never needs TensorFlow.
"""

import warnings
from collections.abc import Iterable

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.base import RegressorMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import (
    check_finite_result,
    check_penalty_factor,
    check_sample_weight,
    check_squares_finite,
    reject_sparse_y,
    warn_unconverged,
)


def check_inputs(estimator, X, y, sample_weight, multi_output, weight_dtype=None):
    """scikit-learn's checks, plus ours: ``(X, Y (n, K), sample_weight, y_1d)``."""
    reject_sparse_y(y)
    X, y = validate_data(
        estimator, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
        multi_output=multi_output, y_numeric=True, ensure_all_finite=False,
    )  # (y's finiteness is still checked: scikit-learn always checks y)
    y = np.asarray(y, dtype=X.dtype)
    check_squares_finite(X, "X", estimator_name=type(estimator).__name__)
    check_squares_finite(y, "y")
    sample_weight = check_sample_weight(sample_weight, X, weight_dtype or X.dtype)
    return X, (y[:, None] if y.ndim == 1 else y), sample_weight, y.ndim == 1


def is_stream(X):
    """Whether ``X`` is a stream of batches rather than data scikit-learn would take.

    A ``tf.data.Dataset``, or an iterable that is not array-like: not a list,
    tuple, array, sparse matrix, DataFrame or anything else with a length and
    items (generators, iterators and custom iterables are streams).
    """
    if hasattr(X, "element_spec") and hasattr(X, "as_numpy_iterator"):
        return True
    array_like = (
        sparse.issparse(X) or isinstance(X, (str, bytes, dict))
        or hasattr(X, "__array__") or hasattr(X, "shape")
        or (hasattr(X, "__len__") and hasattr(X, "__getitem__"))
    )
    return not array_like and isinstance(X, Iterable)


def set_stream_features(estimator, n_features, names):
    """A streamed fit's ``n_features_in_`` and ``feature_names_in_`` (None: unset)."""
    estimator.n_features_in_ = n_features
    if names is not None:
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):  # names of an earlier fit's data
        del estimator.feature_names_in_


def penalty_factor(estimator, n_features):
    """The estimator's ``penalty_factor`` checked against the data."""
    return check_penalty_factor(estimator.penalty_factor, n_features)


def warn_alpha_zero(alpha):
    if alpha == 0:
        warnings.warn(
            "With alpha=0, this algorithm does not converge well. You are "
            "advised to use the LinearRegression estimator",
            stacklevel=3,
        )


class LinearPredictor(RegressorMixin):
    """``predict`` and ``sparse_coef_`` of a fitted sparse linear model."""

    def set_solution(self, problem, coef, gap, n_iter, max_iter, tol, dtype, squeeze,
                     scalar_intercept):
        """Store a solution: ``coef`` (K, p), one gap and n_iter per problem.

        ``squeeze`` drops the target axis of ``coef_`` for a single target;
        ``scalar_intercept`` makes ``intercept_`` a float (a 1-D ``y``).
        """
        coef = np.asarray(coef).astype(dtype)
        intercept = problem.intercept(coef.T.astype(np.float64)).astype(dtype)
        # Checked before the convergence warning: a non-finite gap is a
        # failure, not slow convergence.
        check_finite_result(coef, intercept, gap)
        warn_unconverged(gap, problem.tolerance(tol), max_iter)
        single = len(gap) == 1
        self.coef_ = coef[0] if squeeze and coef.shape[0] == 1 else coef
        self.dual_gap_ = float(gap[0]) if single else np.asarray(gap, float)
        self.n_iter_ = int(n_iter[0]) if single else [int(k) for k in n_iter]
        if not problem.fit_intercept:  # scikit-learn's 0.0, whatever the targets
            self.intercept_ = 0.0
        elif scalar_intercept:
            self.intercept_ = float(intercept[0])
        else:
            self.intercept_ = intercept

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
            self, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
            reset=False,
        )
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

    @property
    def sparse_coef_(self):
        """``coef_`` as a sparse CSR matrix of shape (n_targets, n_features).

        A ``csr_matrix``, or a ``csr_array`` under scikit-learn's
        ``set_config(sparse_interface="sparray")``, as scikit-learn returns.
        """
        coef = np.atleast_2d(self.coef_)
        if get_config().get("sparse_interface") == "sparray":
            return sparse.csr_array(coef)
        return sparse.csr_matrix(coef)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
