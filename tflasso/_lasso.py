"""``ElasticNet`` and ``Lasso``: parameters, validation and attributes; no maths."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    LinearPredictor, check_inputs, is_stream, penalty_factor, set_stream_features,
    warn_alpha_zero,
)
from ._lazy import Problem, _stream, _strategies  # TensorFlow only when a fit runs
from ._path import enet_path
from ._validation import check_gram
from . import _threads


class _Penalised(LinearPredictor):
    """The fit shared by ElasticNet, Lasso and the multi-task models."""

    _tasks = False  # whether the targets are tasks of one problem

    @_threads.limited()
    def _fit(self, X, y, sample_weight, l1_ratio, positive, precompute):
        streamed = is_stream(X)
        if streamed:
            problem, y_1d = self._stream_problem(X, y, sample_weight, precompute)
            form = "gram"
        else:
            X, Y, sample_weight, y_1d = check_inputs(self, X, y, sample_weight, True)
        if self._tasks and y_1d:
            raise ValueError(
                "For mono-task outputs, use ElasticNet or Lasso; got y of shape "
                + ("(n_samples,) in the stream's batches." if streamed
                   else f"{np.shape(y)}.")
            )
        warn_alpha_zero(self.alpha)
        if not streamed:
            if not isinstance(precompute, (str, bool)):
                # A user's Gram matrix is checked as scikit-learn checks it; the
                # Gram form then computes its own (centred, weighted) one.
                check_gram(precompute, X, sample_weight, self.fit_intercept)
            problem = Problem(X, Y, sample_weight, self.fit_intercept, self._tasks)
            form = _strategies.choose_form(X, precompute)
        p = problem.design.shape[1]
        factor = penalty_factor(self, p)
        w0 = np.zeros((p, problem.yy_targets.shape[0]))
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.atleast_2d(self.coef_).T
            if previous.shape == w0.shape:
                w0 = previous.astype(np.float64)
        w, gap, n_iter = _strategies.fit(
            problem, self.alpha, l1_ratio, factor, positive, self.tol, self.max_iter,
            w0, form,
        )
        self.set_solution(problem, w.T, gap, n_iter, self.max_iter, self.tol,
                          problem.design.dtype, not self._tasks, y_1d)
        return self

    def _stream_problem(self, source, y, sample_weight, precompute):
        """The Gram problem of a stream of ``(X, y[, sample_weight])`` batches."""
        if y is not None or sample_weight is not None:
            raise ValueError(
                "X is a stream of (X, y) or (X, y, sample_weight) batches: y and "
                "sample_weight come from its batches; call fit(stream) with y=None "
                "and sample_weight=None."
            )
        if precompute is not True and not isinstance(precompute, str):
            raise ValueError(
                "A stream is solved from its Gram statistics; precompute must be "
                f"'auto' or True, got {precompute!r}."
            )
        problem = _stream.StreamProblem(source, self.fit_intercept, self._tasks)
        set_stream_features(self, problem.design.shape[1], problem.feature_names)
        return problem, problem.y_1d


_COMMON = {
    "alpha": [Interval(Real, 0, None, closed="left")],
    "fit_intercept": ["boolean"],
    # The compiled loop counts iterations in int32.
    "max_iter": [Interval(Integral, 1, 2**31 - 1, closed="both")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "warm_start": ["boolean"],
    "penalty_factor": ["array-like", None],
    # scikit-learn's coordinate-descent parameters, accepted and unused.
    "copy_X": ["boolean"],
    "random_state": ["random_state"],
    "selection": [StrOptions({"cyclic", "random"})],
}


class ElasticNet(_Penalised, BaseEstimator):
    r"""Linear model with combined L1 and L2 penalties, fitted by a TensorFlow proximal-gradient loop.

    A drop-in replacement for :class:`sklearn.linear_model.ElasticNet`. It
    minimises the same objective,

    .. math::

        \frac{1}{2 n} \lVert y - X w - b \rVert_2^2
        + \alpha \rho \lVert w \rVert_1
        + \frac{\alpha (1 - \rho)}{2} \lVert w \rVert_2^2 ,

    with :math:`\rho` = ``l1_ratio``,
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
        Strength of the penalty, a non-negative float. ``alpha=0`` is
        ordinary least squares, better solved by
        :class:`sklearn.linear_model.LinearRegression`.

    l1_ratio : float, default=0.5
        The share of the L1 part, in [0, 1]: 1 is the lasso, 0 ridge
        regression (better solved by :class:`sklearn.linear_model.Ridge`).

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept. If False, the data are
        assumed to be centred.

    precompute : 'auto', bool or array-like, default='auto'
        Whether to solve from the Gram matrix ``X^T X``: one pass over the data,
        after which an iteration costs ``n_features**2`` instead of
        ``n_samples * n_features``. 'auto' uses it for ``X`` (dense or sparse) with
        ``n_samples >= n_features`` when that is cheap (at most 64 features,
        or ``n_samples * n_features**2 <= 5e8``), and otherwise
        working sets: the lasso is solved on the few features that can be
        non-zero, and one pass over all of them checks the duality gap and
        grows the set. ``True`` on ``X`` wider than tall (``n_features >
        n_samples``) also takes working sets, whose restricted problems are
        solved from their features' Gram matrices: the full one would be
        singular and larger than ``X``. ``False`` iterates on ``X`` itself
        (kept sparse when ``X`` is sparse).
        A Gram matrix of shape (n_features, n_features) is accepted as in
        scikit-learn: one entry is checked against the data (a ValueError if
        it does not match; with an intercept and uncentred ``X`` a warning),
        then tflasso computes its own centred, weighted Gram matrix and uses
        the Gram form.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        large X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted). A
        lasso fit from zero on small X, or on X of at most 200 rows, first
        follows the path down to alpha by active-set steps (see the user
        guide's proximal page): each of its alphas counts as one.

    tol : float, default=1e-4
        Tolerance on the duality gap, relative to ``||y - mean(y)||^2 / n``
        (see Notes).

    warm_start : bool, default=False
        When True, start from the solution of the previous call to ``fit``.

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha`` (glmnet's ``penalty.factor``):
        feature ``j``'s penalty (both parts) is multiplied by
        ``penalty_factor[j]``.
        0 leaves a feature unpenalised; None means 1 for every feature. The
        factors are used as given, not rescaled.

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
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, with exact zeros outside the selected support.

    intercept_ : float or ndarray of shape (n_targets,)
        Independent term.

    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the returned solution, in the scaling of the objective
        above.

    n_iter_ : int or list of int
        Passes over the data (see ``max_iter``) run for each target.

    sparse_coef_ : scipy.sparse matrix of shape (n_targets, n_features)
        ``coef_`` as a sparse array.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.linear_model.ElasticNet : The coordinate-descent estimator this one mirrors.
    Lasso : The ``l1_ratio=1`` case.
    ElasticNetCV : Alpha and l1_ratio chosen by cross-validation.

    Notes
    -----
    Each target is an independent problem; all targets are solved together and
    each stops on its own duality gap. The gap is scikit-learn's: with residual
    ``R`` of the centred (and weighted) problem, the dual point is ``R``
    rescaled by ``min(1, alpha * n / ||X^T R||_inf)``, and iterations stop
    once the gap is at most ``tol * ||y - mean(y)||^2 / n``. It is evaluated
    every 10 iterations. With penalty factors the L1 term is
    ``alpha * sum_j penalty_factor[j] |w_j|``; the dual point is projected
    orthogonally to the unpenalised features, so the gap certifies exactly
    that problem. If ``max_iter`` is reached first, a
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
    >>> from tflasso import ElasticNet
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), ElasticNet(alpha=0.5, l1_ratio=0.9))
    >>> int((model.fit(X, y)[-1].coef_ == 0).sum())
    1
    """

    _parameter_constraints: dict = {
        **_COMMON,
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "precompute": [StrOptions({"auto"}), "boolean", "array-like"],
        "positive": ["boolean"],
    }

    path = staticmethod(enet_path)

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        copy_X=True,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
        penalty_factor=None,
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.penalty_factor = penalty_factor
        self.copy_X = copy_X
        self.random_state = random_state
        self.selection = selection

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None, check_input=True):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                tf.data.Dataset or iterable of batches
            Training data. Sparse input is used as it is, never densified
            whole (at most a working set's columns, within 2**20 entries). Or a
            stream: a ``tf.data.Dataset`` or any iterable (not a list or array)
            yielding ``(X, y)`` or ``(X, y, sample_weight)`` batches of numpy,
            pandas or scipy.sparse chunks, read once; then ``y`` and
            ``sample_weight`` must be None (see :doc:`/streaming`).

        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Target values, in the dtype of ``X``; None when ``X`` is a stream.

        sample_weight : float or array-like of shape (n_samples,), default=None
            Sample weights, rescaled internally to sum to ``n_samples``.

        check_input : bool, default=True
            Accepted for scikit-learn compatibility and unused: the input is
            always checked.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, self._l1_ratio(), self.positive,
                         self.precompute)

    def _l1_ratio(self):
        return self.l1_ratio

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class Lasso(ElasticNet):
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

    precompute : 'auto', bool or array-like, default='auto'
        Whether to solve from the Gram matrix ``X^T X``: one pass over the data,
        after which an iteration costs ``n_features**2`` instead of
        ``n_samples * n_features``. 'auto' uses it for ``X`` (dense or sparse) with
        ``n_samples >= n_features`` when that is cheap (at most 64 features,
        or ``n_samples * n_features**2 <= 5e8``), and otherwise
        working sets: the lasso is solved on the few features that can be
        non-zero, and one pass over all of them checks the duality gap and
        grows the set. ``True`` on ``X`` wider than tall (``n_features >
        n_samples``) also takes working sets, whose restricted problems are
        solved from their features' Gram matrices: the full one would be
        singular and larger than ``X``. ``False`` iterates on ``X`` itself
        (kept sparse when ``X`` is sparse).
        A Gram matrix of shape (n_features, n_features) is accepted as in
        scikit-learn: one entry is checked against the data (a ValueError if
        it does not match; with an intercept and uncentred ``X`` a warning),
        then tflasso computes its own centred, weighted Gram matrix and uses
        the Gram form.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        large X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted). A
        lasso fit from zero on small X, or on X of at most 200 rows, first
        follows the path down to alpha by active-set steps (see the user
        guide's proximal page): each of its alphas counts as one.

    tol : float, default=1e-4
        Tolerance on the duality gap, relative to ``||y - mean(y)||^2 / n``
        (see Notes).

    warm_start : bool, default=False
        When True, start from the solution of the previous call to ``fit``.

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha`` (glmnet's ``penalty.factor``):
        feature ``j`` is penalised by ``alpha * penalty_factor[j] * |w_j|``.
        0 leaves a feature unpenalised; None means 1 for every feature. The
        factors are used as given, not rescaled.

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
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, with exact zeros outside the selected support.

    intercept_ : float or ndarray of shape (n_targets,)
        Independent term.

    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the returned solution, in the scaling of the objective
        above.

    n_iter_ : int or list of int
        Passes over the data (see ``max_iter``) run for each target.

    sparse_coef_ : scipy.sparse matrix of shape (n_targets, n_features)
        ``coef_`` as a sparse array.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.linear_model.Lasso : The coordinate-descent estimator this one mirrors.
    ElasticNet : L1 and L2 penalties combined.
    LassoCV : Alpha chosen by cross-validation.

    Notes
    -----
    Each target is an independent lasso; all targets are solved together and
    each stops on its own duality gap. The gap is scikit-learn's: with residual
    ``R`` of the centred (and weighted) problem, the dual point is ``R``
    rescaled by ``min(1, alpha * n / ||X^T R||_inf)``, and iterations stop
    once the gap is at most ``tol * ||y - mean(y)||^2 / n``. It is evaluated
    every 10 iterations. With penalty factors the L1 term is
    ``alpha * sum_j penalty_factor[j] |w_j|``; the dual point is projected
    orthogonally to the unpenalised features, so the gap certifies exactly
    that problem. If ``max_iter`` is reached first, a
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
        key: value for key, value in ElasticNet._parameter_constraints.items()
        if key != "l1_ratio"
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        precompute="auto",
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
        penalty_factor=None,
    ):
        super().__init__(
            alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
            precompute=precompute, max_iter=max_iter, copy_X=copy_X, tol=tol,
            warm_start=warm_start, positive=positive, random_state=random_state,
            selection=selection, penalty_factor=penalty_factor,
        )

    def _l1_ratio(self):
        return 1.0
