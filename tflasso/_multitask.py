"""``MultiTaskElasticNet`` and ``MultiTaskLasso``: the L2,1 penalty, tasks sharing a support."""

from numbers import Real

from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval

from ._lasso import _COMMON, _Penalised


class MultiTaskElasticNet(_Penalised, BaseEstimator):
    r"""Multi-task elastic net: the tasks select the same features.

    A drop-in replacement for :class:`sklearn.linear_model.MultiTaskElasticNet`.
    With ``W`` of shape (n_features, n_tasks) it minimises

    .. math::

        \frac{1}{2 n} \lVert Y - X W - b \rVert_F^2
        + \alpha \rho \sum_j \lVert W_j \rVert_2
        + \frac{\alpha (1 - \rho)}{2} \lVert W \rVert_F^2 ,

    with :math:`\rho` = ``l1_ratio`` and :math:`W_j` the row of feature ``j``:
    a feature is in the model for every task or for none. Trained like
    :class:`ElasticNet`, with the group soft-threshold as the proximal step.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the penalty, a non-negative float.

    l1_ratio : float, default=0.5
        The share of the L2,1 part, in [0, 1].

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept per task.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        sparse X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted).

    tol : float, default=1e-4
        Tolerance on the duality gap, relative to ``||Y - mean(Y)||_F^2 / n``.

    warm_start : bool, default=False
        When True, start from the solution of the previous call to ``fit``.

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha``; 0 leaves a feature unpenalised.

    copy_X : bool, default=True
        Accepted for scikit-learn compatibility; ``X`` is never modified, so
        it is unused.

    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility and unused: every iteration
        updates all coefficients at once, so there is no coordinate order to
        randomise, and the fit is deterministic.

    selection : {'cyclic', 'random'}, default='cyclic'
        scikit-learn's coordinate-descent order; accepted and unused, for the
        same reason.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients; a feature's column is zero for every task or for none.

    intercept_ : ndarray of shape (n_tasks,)
        Independent terms.

    dual_gap_ : float
        Duality gap at the returned solution, in the scaling of the objective.

    n_iter_ : int
        Number of iterations run.

    sparse_coef_ : scipy.sparse matrix of shape (n_tasks, n_features)
        ``coef_`` as a sparse matrix.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.linear_model.MultiTaskElasticNet : The estimator this one mirrors.
    MultiTaskLasso : The ``l1_ratio=1`` case.

    Notes
    -----
    The stopping rule is scikit-learn's duality gap for the multi-task
    problem, ``gap <= tol * ||Y - mean(Y)||_F^2 / n``, evaluated every 10
    iterations; a :class:`~sklearn.exceptions.ConvergenceWarning` reports a
    fit that reached ``max_iter`` first.

    Examples
    --------
    >>> import numpy as np
    >>> from tflasso import MultiTaskElasticNet
    >>> X = np.array([[0, 0], [1, 1], [2, 2.0]])
    >>> Y = np.array([[0, 0], [1, 1], [2, 2.0]])
    >>> MultiTaskElasticNet(alpha=0.1).fit(X, Y).coef_.round(3)
    array([[0.456, 0.456],
           [0.456, 0.456]])
    """

    _tasks = True
    _parameter_constraints: dict = {
        **_COMMON, "l1_ratio": [Interval(Real, 0, 1, closed="both")]
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        selection="cyclic",
        penalty_factor=None,
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.penalty_factor = penalty_factor
        self.copy_X = copy_X
        self.random_state = random_state
        self.selection = selection

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                tf.data.Dataset or iterable of batches
            Training data. Or a stream: a ``tf.data.Dataset`` or any
            iterable (not a list or array) yielding ``(X, y)`` or ``(X, y,
            sample_weight)`` batches of numpy, pandas or scipy.sparse chunks, read
            once; then ``y`` and ``sample_weight`` must be None (see
            :doc:`/streaming`).

        y : array-like of shape (n_samples, n_tasks), default=None
            Target values; None when ``X`` is a stream.

        sample_weight : float or array-like of shape (n_samples,), default=None
            Sample weights, rescaled internally to sum to ``n_samples``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, self._l1_ratio(), False, "auto")

    def _l1_ratio(self):
        return self.l1_ratio

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags


class MultiTaskLasso(MultiTaskElasticNet):
    r"""Multi-task lasso: the L2,1 penalty, the tasks select the same features.

    A drop-in replacement for :class:`sklearn.linear_model.MultiTaskLasso`.
    It minimises

    .. math::

        \frac{1}{2 n} \lVert Y - X W - b \rVert_F^2 + \alpha \sum_j \lVert W_j \rVert_2 .

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the penalty, a non-negative float.

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept per task.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        sparse X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted).

    tol : float, default=1e-4
        Tolerance on the duality gap, relative to ``||Y - mean(Y)||_F^2 / n``.

    warm_start : bool, default=False
        When True, start from the solution of the previous call to ``fit``.

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha``; 0 leaves a feature unpenalised.

    copy_X : bool, default=True
        Accepted for scikit-learn compatibility; ``X`` is never modified, so
        it is unused.

    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility and unused: every iteration
        updates all coefficients at once, so there is no coordinate order to
        randomise, and the fit is deterministic.

    selection : {'cyclic', 'random'}, default='cyclic'
        scikit-learn's coordinate-descent order; accepted and unused, for the
        same reason.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients; a feature's column is zero for every task or for none.

    intercept_ : ndarray of shape (n_tasks,)
        Independent terms.

    dual_gap_ : float
        Duality gap at the returned solution.

    n_iter_ : int
        Number of iterations run.

    sparse_coef_ : scipy.sparse matrix of shape (n_tasks, n_features)
        ``coef_`` as a sparse matrix.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.linear_model.MultiTaskLasso : The estimator this one mirrors.
    MultiTaskLassoCV : Alpha chosen by cross-validation.

    Examples
    --------
    >>> import numpy as np
    >>> from tflasso import MultiTaskLasso
    >>> X = np.array([[0, 1], [1, 2], [2, 4.0]])
    >>> Y = np.array([[0, 0], [1, 1], [2, 3.0]])
    >>> MultiTaskLasso(alpha=0.1).fit(X, Y).coef_.round(3)
    array([[0.   , 0.608],
           [0.   , 0.946]])
    """

    _parameter_constraints: dict = {
        key: value for key, value in MultiTaskElasticNet._parameter_constraints.items()
        if key != "l1_ratio"
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        selection="cyclic",
        penalty_factor=None,
    ):
        super().__init__(
            alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept, copy_X=copy_X,
            max_iter=max_iter, tol=tol, warm_start=warm_start,
            random_state=random_state, selection=selection,
            penalty_factor=penalty_factor,
        )

    def _l1_ratio(self):
        return 1.0
