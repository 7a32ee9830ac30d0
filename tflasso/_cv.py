"""The cross-validated estimators: parameters, folds, selection, attributes.

The maths is :func:`tflasso._strategies.cross_validate`: in the Gram form
every training fold and the full data are one batch of Gram problems (fold
statistics by additive moments, never a materialised training fold), solved
along the whole grid by one TensorFlow program, the validation errors coming
from the test folds' moments; otherwise each fold's path iterates on X.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import check_cv
from sklearn.utils import check_scalar
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)

from ._base import (
    LinearPredictor, check_inputs, is_stream, penalty_factor, set_stream_features,
)
from ._lasso import _COMMON
from ._lazy import Problem, _stream, _strategies  # TensorFlow only when a fit runs
from ._path import enet_path, lasso_path, sorted_alphas
from ._validation import check_finite_result
from . import _threads


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



class _CrossValidated(LinearPredictor):
    """Everything the CV estimators share; subclasses set ``_tasks``."""

    _tasks = False

    def _l1_ratios(self):
        return [1.0]

    def _positive(self):
        return getattr(self, "positive", False)

    @_fit_context(prefer_skip_nested_validation=True)
    @_threads.limited()
    def fit(self, X, y=None, sample_weight=None, **params):
        """Choose the penalty by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                tf.data.Dataset or iterable of batches
            Training data. Sparse input is used as it is, never densified
            whole (at most a working set's columns, within 2**20 entries). Or a
            stream: a ``tf.data.Dataset`` or any iterable (not a list or array)
            yielding ``(X, y)`` or ``(X, y, sample_weight)`` batches, read once;
            then ``y`` and ``sample_weight`` must be None, ``cv`` an int (row ``i``
            of the stream is in test fold ``i % cv``) and the Gram form solves
            every fold (see :doc:`/streaming`).

        y : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Target values (2-D for the multi-task estimators); None when ``X``
            is a stream.

        sample_weight : float or array-like of shape (n_samples,), default=None
            Sample weights, used in every fit (rescaled to sum to the fold's
            size) and in each fold's validation error.

        **params : dict
            Metadata for the CV splitter (such as ``groups`` for
            :class:`~sklearn.model_selection.GroupKFold`), routed as in
            scikit-learn: only with ``sklearn.set_config(enable_metadata_routing=True)``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        _raise_for_params(params, self, "fit")
        streamed = is_stream(X)
        if streamed:
            n_folds = self._stream_folds(y, sample_weight, params)
        else:
            # float64 weights: the folds' moments are accumulated in float64.
            X, Y, sample_weight, y_1d = check_inputs(
                self, X, y, sample_weight, self._tasks, weight_dtype=np.float64
            )
            self._check_targets(y_1d, y)
        ratios = self._l1_ratios()
        grid = checked_alphas(self.alphas)
        if streamed:
            moments = _stream.stream_moments(X, self.fit_intercept, n_folds)
            self._check_targets(moments.y_1d, None, moments.moments.xy.shape[1])
            problem = _stream.StreamProblem(moments, self.fit_intercept, self._tasks)
            p, dtype = problem.design.shape[1], problem.design.dtype
            set_stream_features(self, p, moments.names)
            factor = penalty_factor(self, p)
            grids, mse, refits = _stream.cross_validate(
                moments, grid, ratios, factor, self._positive(), self.eps, self.tol,
                self.max_iter, self.fit_intercept,
            )
        else:
            p, dtype = X.shape[1], X.dtype
            factor = penalty_factor(self, p)
            split = (
                process_routing(self, "fit", sample_weight=sample_weight, **params)
                .splitter.split if _routing_enabled() else {}
            )
            folds = [
                (as_indices(train), as_indices(test))
                for train, test in check_cv(self.cv).split(
                    X, Y[:, 0] if Y.shape[1] == 1 else Y, **split
                )
            ]
            n_fits = np.size(grid) if np.ndim(grid) else grid
            form = _strategies.choose_form(
                X, getattr(self, "precompute", "auto"), n_fits * len(ratios) * len(folds)
            )
            grids, mse, refits = _strategies.cross_validate(
                X, Y, sample_weight, folds, grid, ratios, factor, self._positive(),
                self.eps, self.tol, self.max_iter, self.fit_intercept, self._tasks, form,
            )
        # Non-finite errors would otherwise leave no alpha within one
        # standard error of the minimum.
        check_finite_result(mse)
        mean = mse.mean(axis=2)
        best_ratio, best_alpha = np.unravel_index(np.argmin(mean), mean.shape)
        self.l1_ratio_ = float(ratios[best_ratio])
        self.alpha_ = float(grids[best_ratio, best_alpha])
        self.alpha_1se_ = float(one_standard_error(grids[best_ratio], mse[best_ratio]))
        several = len(ratios) > 1
        # As scikit-learn: a user's alphas are one grid, shared by every l1_ratio.
        self.alphas_ = grids if several and isinstance(self.alphas, Integral) else grids[0]
        self.mse_path_ = mse if several else mse[0]
        chosen = self.alpha_ if self.refit_alpha == "min" else self.alpha_1se_
        if not streamed:
            problem = Problem(X, Y, sample_weight, self.fit_intercept, self._tasks)
        if refits is not None:
            w, gaps, n_iters, x_offset, y_offset = refits
            k = int(np.flatnonzero(grids[best_ratio] == chosen)[0])
            # The batch member holding the full data is the refit.
            w, gap, n_iter = w[best_ratio][:, k], gaps[best_ratio][[k]], n_iters[best_ratio][[k]]
            problem.x_offset, problem.y_offset = x_offset, y_offset
        else:
            w, gap, n_iter = _strategies.fit(
                problem, chosen, self.l1_ratio_, factor, self._positive(), self.tol,
                self.max_iter, np.zeros((p, Y.shape[1])),
                _strategies.choose_form(X, getattr(self, "precompute", "auto")),
            )
        self.set_solution(
            problem, w.reshape(p, -1).T, gap, n_iter, self.max_iter,
            self.tol, dtype, not self._tasks, not self._tasks,
        )
        return self

    def _check_targets(self, y_1d, y, n_targets=None):
        """1-d or 2-d targets as the estimator needs; ``y`` None for a stream's.

        A stream's column-vector y batches are 1-d y, with scikit-learn's warning.
        """
        if self._tasks and y_1d:
            shape = "(n_samples,) in the stream's batches" if y is None else np.shape(y)
            raise ValueError(
                f"For mono-task outputs, use ElasticNetCV or LassoCV; got y of shape {shape}."
            )
        if not self._tasks and not y_1d and n_targets == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please "
                "change the shape of y to (n_samples, ), for example using ravel().",
                DataConversionWarning, stacklevel=3,
            )
        elif not self._tasks and not y_1d:  # validate_data has checked in-memory y
            raise ValueError(
                f"{type(self).__name__} takes a 1-d y; got 2-d y batches: for several "
                "targets use the multi-task estimators."
            )

    def _stream_folds(self, y, sample_weight, params):
        """The number of folds of a streamed fit, after checking what comes with it."""
        if y is not None or sample_weight is not None or params:
            raise ValueError(
                "X is a stream of (X, y) or (X, y, sample_weight) batches: y and "
                "sample_weight come from its batches, and a stream takes no metadata; "
                "call fit(stream) with y=None and sample_weight=None."
            )
        if getattr(self, "precompute", "auto") is False:
            raise ValueError(
                "A stream is solved from its Gram statistics; precompute must be "
                "'auto' or True, got False."
            )
        cv = 5 if self.cv is None else self.cv
        if not isinstance(cv, Integral) or isinstance(cv, bool):
            raise ValueError(
                "On a stream, cv must be an int: row i of the stream goes to fold "
                f"i % cv. Got cv={self.cv!r}; a splitter needs the rows in memory."
            )
        return int(cv)

    def get_metadata_routing(self):
        """Get the metadata routing of this object: ``fit`` routes to the splitter.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter` routing
            ``fit``'s metadata (such as ``groups``) to the CV splitter's ``split``.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                splitter=check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )


def checked_alphas(alphas):
    """An int grid size as it is; a user's alphas checked, as float64, largest first.

    Each entry is checked as scikit-learn checks it, so the messages are
    scikit-learn's (``alphas[1] == -1, must be >= 0.0.``).
    """
    if isinstance(alphas, Integral):
        return alphas
    for index, alpha in enumerate(alphas):
        check_scalar(alpha, f"alphas[{index}]", target_type=Real, min_val=0.0,
                     include_boundaries="left")
    return sorted_alphas(alphas)


def as_indices(fold):
    """A fold as indices, also when a splitter gives it as a boolean mask."""
    fold = np.asarray(fold)
    return np.flatnonzero(fold) if fold.dtype == bool else fold


_CV_COMMON = {
    **{key: _COMMON[key] for key in ("fit_intercept", "max_iter", "tol", "penalty_factor")},
    "eps": [Interval(Real, 0, None, closed="neither")],
    "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "cv": ["cv_object"],
    "refit_alpha": [StrOptions({"min", "1se"})],
    # scikit-learn's coordinate-descent parameters, accepted and unused.
    "copy_X": ["boolean"],
    "verbose": ["verbose"],
    "n_jobs": [Integral, None],
    "random_state": ["random_state"],
    "selection": [StrOptions({"cyclic", "random"})],
}
_SINGLE = {"precompute": [StrOptions({"auto"}), "boolean"], "positive": ["boolean"]}
_RATIOS = {"l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"]}


def _ratio_list(l1_ratio, alphas):
    ratios = np.atleast_1d(np.asarray(l1_ratio, dtype=np.float64)).ravel()
    if ratios.size == 0 or np.any(~(ratios >= 0) | (ratios > 1)):
        raise ValueError(
            f"l1_ratio must be in [0, 1] (a float or a list of floats); got {l1_ratio!r}."
        )
    if isinstance(alphas, Integral) and np.any(ratios == 0):
        # alpha_max is infinite for ridge (scikit-learn's message).
        raise ValueError(
            "Automatic alpha grid generation is not supported for l1_ratio=0. "
            "Please supply a grid by providing your estimator with the "
            "appropriate `alphas=` argument."
        )
    return list(ratios)


class ElasticNetCV(_CrossValidated, BaseEstimator):
    r"""Elastic net with alpha and l1_ratio chosen by cross-validation, all fits in one TensorFlow program.

    A drop-in replacement for :class:`sklearn.linear_model.ElasticNetCV`. For each
    alpha of a grid and each training fold it minimises the objective

    .. math::

        \frac{1}{2 n} \lVert y - X w - b \rVert_2^2 + \alpha \rho \lVert w \rVert_1
        + \frac{\alpha (1 - \rho)}{2} \lVert w \rVert_2^2 ,

    (the intercept :math:`b` not penalised; with ``sample_weight`` the squared
    error is the weighted mean), scores each fit by the mean squared error on
    the held-out fold, and refits on all the data at the chosen alpha.

    Unlike scikit-learn's path, which solves alpha after alpha and fold after
    fold, every alpha of every fold, and the refit on the full data, are the
    columns of one batch of coefficient matrices, updated together by one
    FISTA loop compiled by :func:`tf.function`. :class:`ElasticNetCV`,
    :class:`MultiTaskLassoCV` and :class:`MultiTaskElasticNetCV` work the
    same way.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        The share :math:`\rho` of the L1 part, in (0, 1]; a list is searched
        too (each value with its own grid of alphas, as in scikit-learn).

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
        Whether to solve from Gram matrices (dense or sparse ``X``): one pass over
        the data, after which an iteration costs ``n_features**2`` per fold.
        'auto' uses them when ``n_samples >= n_features`` (at most 4096
        features) and they are cheap (see :class:`Lasso`); otherwise each
        fold's path iterates on ``X``, dense or sparse. ``True`` on ``X``
        wider than tall (``n_features > n_samples``) takes working sets, whose
        restricted problems are solved from their features' Gram matrices:
        the full one would be singular and larger than ``X``.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        large X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted).

    tol : float, default=1e-4
        Tolerance on each fit's duality gap, relative to
        ``||y - mean(y)||^2 / n`` of its training fold (see Notes).

    cv : int, cross-validation generator or iterable, default=None
        The splitting strategy: None for 5-fold, an int for that many folds
        (:class:`~sklearn.model_selection.KFold`), a CV splitter, or an
        iterable of (train, test) index arrays.

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    refit_alpha : {'min', '1se'}, default='min'
        Which alpha is refitted on all the data: 'min', the one with the
        lowest mean CV error (``alpha_``, scikit-learn's choice), or '1se',
        the largest one within one standard error of that minimum
        (``alpha_1se_``, a sparser model; glmnet's ``lambda.1se``).

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha`` in every fit; 0 leaves a feature
        unpenalised. The grid's ``alpha_max`` takes them into account.

    copy_X : bool, default=True
        Accepted for scikit-learn compatibility; ``X`` is never modified, so
        it is unused.

    verbose : bool or int, default=0
        Accepted for scikit-learn compatibility and unused: nothing is printed.

    n_jobs : int, default=None
        Accepted for scikit-learn compatibility and unused: the folds are not
        run in separate jobs, since every fold and alpha is a column of one
        TensorFlow program (whose threads TensorFlow manages).

    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility and unused: there is no
        coordinate order to randomise (see :class:`Lasso`); it does not seed
        the folds either (give ``cv`` a seeded splitter for that).

    selection : {'cyclic', 'random'}, default='cyclic'
        scikit-learn's coordinate-descent order; accepted and unused.

    Attributes
    ----------
    alpha_ : float
        The alpha with the lowest mean cross-validated error.

    l1_ratio_ : float
        The l1_ratio with the lowest mean cross-validated error.

    alpha_1se_ : float
        The largest alpha whose mean cross-validated error is at most the
        minimum plus one standard error of that minimum's mean.

    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid of alphas, largest first: one row per ``l1_ratio`` for an
        automatic grid (an int ``alphas``), the user's alphas otherwise.

    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
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
    sklearn.linear_model.ElasticNetCV : The coordinate-descent estimator this one mirrors.
    enet_path : The elastic net along a grid of alphas.
    ElasticNet : The elastic net at one alpha.

    Notes
    -----
    Every fit stops on its own duality gap, scikit-learn's: with residual
    ``R`` of the centred (and weighted) training fold, the dual point is ``R``
    rescaled into the dual feasible set (scikit-learn's rule for this
    penalty), and iterations stop
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
    >>> from tflasso import ElasticNetCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), ElasticNetCV(l1_ratio=[0.5, 0.9, 1]))
    >>> model.fit(X, y)[-1].mse_path_.shape
    (3, 100, 5)
    """

    _parameter_constraints: dict = {**_CV_COMMON, **_SINGLE, **_RATIOS}

    path = staticmethod(enet_path)

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        cv=None,
        copy_X=True,
        verbose=0,
        n_jobs=None,
        positive=False,
        random_state=None,
        selection="cyclic",
        refit_alpha="min",
        penalty_factor=None,
    ):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.positive = positive
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.refit_alpha = refit_alpha
        self.penalty_factor = penalty_factor

    def _l1_ratios(self):
        return _ratio_list(self.l1_ratio, self.alphas)


class LassoCV(_CrossValidated, BaseEstimator):
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
    FISTA loop compiled by :func:`tf.function`. :class:`ElasticNetCV`,
    :class:`MultiTaskLassoCV` and :class:`MultiTaskElasticNetCV` work the
    same way.

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
        Whether to solve from Gram matrices (dense or sparse ``X``): one pass over
        the data, after which an iteration costs ``n_features**2`` per fold.
        'auto' uses them when ``n_samples >= n_features`` (at most 4096
        features) and they are cheap (see :class:`Lasso`); otherwise each
        fold's path iterates on ``X``, dense or sparse. ``True`` on ``X``
        wider than tall (``n_features > n_samples``) takes working sets, whose
        restricted problems are solved from their features' Gram matrices:
        the full one would be singular and larger than ``X``.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        large X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted).

    tol : float, default=1e-4
        Tolerance on each fit's duality gap, relative to
        ``||y - mean(y)||^2 / n`` of its training fold (see Notes).

    cv : int, cross-validation generator or iterable, default=None
        The splitting strategy: None for 5-fold, an int for that many folds
        (:class:`~sklearn.model_selection.KFold`), a CV splitter, or an
        iterable of (train, test) index arrays.

    positive : bool, default=False
        When True, constrain the coefficients to be non-negative.

    refit_alpha : {'min', '1se'}, default='min'
        Which alpha is refitted on all the data: 'min', the one with the
        lowest mean CV error (``alpha_``, scikit-learn's choice), or '1se',
        the largest one within one standard error of that minimum
        (``alpha_1se_``, a sparser model; glmnet's ``lambda.1se``).

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha`` in every fit; 0 leaves a feature
        unpenalised. The grid's ``alpha_max`` takes them into account.

    copy_X : bool, default=True
        Accepted for scikit-learn compatibility; ``X`` is never modified, so
        it is unused.

    verbose : bool or int, default=False
        Accepted for scikit-learn compatibility and unused: nothing is printed.

    n_jobs : int, default=None
        Accepted for scikit-learn compatibility and unused: the folds are not
        run in separate jobs, since every fold and alpha is a column of one
        TensorFlow program (whose threads TensorFlow manages).

    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility and unused: there is no
        coordinate order to randomise (see :class:`Lasso`); it does not seed
        the folds either (give ``cv`` a seeded splitter for that).

    selection : {'cyclic', 'random'}, default='cyclic'
        scikit-learn's coordinate-descent order; accepted and unused.

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


    _parameter_constraints: dict = {**_CV_COMMON, **_SINGLE}

    path = staticmethod(lasso_path)

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
        copy_X=True,
        verbose=False,
        n_jobs=None,
        positive=False,
        random_state=None,
        selection="cyclic",
        refit_alpha="min",
        penalty_factor=None,
    ):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.positive = positive
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.refit_alpha = refit_alpha
        self.penalty_factor = penalty_factor


class _MultiTask:
    _tasks = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags


class MultiTaskElasticNetCV(_MultiTask, _CrossValidated, BaseEstimator):
    r"""Multi-task elastic net with alpha and l1_ratio chosen by cross-validation.

    A drop-in replacement for :class:`sklearn.linear_model.MultiTaskElasticNetCV`. For each
    alpha of a grid and each training fold it minimises the objective

    .. math::

        \frac{1}{2 n} \lVert Y - X W - b \rVert_F^2 + \alpha \rho \sum_j \lVert W_j \rVert_2
        + \frac{\alpha (1 - \rho)}{2} \lVert W \rVert_F^2 ,

    (the intercept :math:`b` not penalised; with ``sample_weight`` the squared
    error is the weighted mean), scores each fit by the mean squared error on
    the held-out fold, and refits on all the data at the chosen alpha.

    Unlike scikit-learn's path, which solves alpha after alpha and fold after
    fold, every alpha of every fold, and the refit on the full data, are the
    columns of one batch of coefficient matrices, updated together by one
    FISTA loop compiled by :func:`tf.function`. :class:`ElasticNetCV`,
    :class:`MultiTaskLassoCV` and :class:`MultiTaskElasticNetCV` work the
    same way.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        The share :math:`\rho` of the L2,1 part, in (0, 1]; a list is
        searched too.

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
        Whether to solve from Gram matrices (dense or sparse ``X``): one pass over
        the data, after which an iteration costs ``n_features**2`` per fold.
        'auto' uses them when ``n_samples >= n_features`` (at most 4096
        features) and they are cheap (see :class:`Lasso`); otherwise each
        fold's path iterates on ``X``, dense or sparse. ``True`` on ``X``
        wider than tall (``n_features > n_samples``) takes working sets, whose
        restricted problems are solved from their features' Gram matrices:
        the full one would be singular and larger than ``X``.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        large X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted).

    tol : float, default=1e-4
        Tolerance on each fit's duality gap, relative to
        ``||y - mean(y)||^2 / n`` of its training fold (see Notes).

    cv : int, cross-validation generator or iterable, default=None
        The splitting strategy: None for 5-fold, an int for that many folds
        (:class:`~sklearn.model_selection.KFold`), a CV splitter, or an
        iterable of (train, test) index arrays.

    refit_alpha : {'min', '1se'}, default='min'
        Which alpha is refitted on all the data: 'min', the one with the
        lowest mean CV error (``alpha_``, scikit-learn's choice), or '1se',
        the largest one within one standard error of that minimum
        (``alpha_1se_``, a sparser model; glmnet's ``lambda.1se``).

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha`` in every fit; 0 leaves a feature
        unpenalised. The grid's ``alpha_max`` takes them into account.

    copy_X : bool, default=True
        Accepted for scikit-learn compatibility; ``X`` is never modified, so
        it is unused.

    verbose : bool or int, default=0
        Accepted for scikit-learn compatibility and unused: nothing is printed.

    n_jobs : int, default=None
        Accepted for scikit-learn compatibility and unused: the folds are not
        run in separate jobs, since every fold and alpha is a column of one
        TensorFlow program (whose threads TensorFlow manages).

    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility and unused: there is no
        coordinate order to randomise (see :class:`Lasso`); it does not seed
        the folds either (give ``cv`` a seeded splitter for that).

    selection : {'cyclic', 'random'}, default='cyclic'
        scikit-learn's coordinate-descent order; accepted and unused.

    Attributes
    ----------
    alpha_ : float
        The alpha with the lowest mean cross-validated error.

    l1_ratio_ : float
        The l1_ratio with the lowest mean cross-validated error.

    alpha_1se_ : float
        The largest alpha whose mean cross-validated error is at most the
        minimum plus one standard error of that minimum's mean.

    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid of alphas, largest first: one row per ``l1_ratio`` for an
        automatic grid (an int ``alphas``), the user's alphas otherwise.

    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Mean squared error on each held-out fold (weighted by
        ``sample_weight``, averaged over tasks), for each alpha.

    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients of the refit on all the data at the selected alpha.

    intercept_ : ndarray of shape (n_tasks,)
        Independent terms of the refit.

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
    sklearn.linear_model.MultiTaskElasticNetCV : The coordinate-descent estimator this one mirrors.
    enet_path : The elastic net along a grid of alphas.
    ElasticNet : The elastic net at one alpha.

    Notes
    -----
    Every fit stops on its own duality gap, scikit-learn's: with residual
    ``R`` of the centred (and weighted) training fold, the dual point is ``R``
    rescaled into the dual feasible set (scikit-learn's rule for this
    penalty), and iterations stop
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
    >>> import numpy as np
    >>> from tflasso import MultiTaskElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 8))
    >>> Y = X[:, :2] @ rng.standard_normal((2, 3)) + 0.1 * rng.standard_normal((60, 3))
    >>> model = MultiTaskElasticNetCV(l1_ratio=[0.5, 1], cv=3).fit(X, Y)
    >>> sorted(set(np.flatnonzero(np.any(model.coef_ != 0, axis=0))) & {0, 1})
    [0, 1]
    """

    _parameter_constraints: dict = {**_CV_COMMON, **_RATIOS}

    path = staticmethod(enet_path)

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        cv=None,
        copy_X=True,
        verbose=0,
        n_jobs=None,
        random_state=None,
        selection="cyclic",
        refit_alpha="min",
        penalty_factor=None,
    ):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.refit_alpha = refit_alpha
        self.penalty_factor = penalty_factor

    def _l1_ratios(self):
        return _ratio_list(self.l1_ratio, self.alphas)


class MultiTaskLassoCV(_MultiTask, _CrossValidated, BaseEstimator):
    r"""Multi-task lasso with alpha chosen by cross-validation, all fits in one TensorFlow program.

    A drop-in replacement for :class:`sklearn.linear_model.MultiTaskLassoCV`. For each
    alpha of a grid and each training fold it minimises the objective

    .. math::

        \frac{1}{2 n} \lVert Y - X W - b \rVert_F^2 + \alpha \sum_j \lVert W_j \rVert_2 ,

    (the intercept :math:`b` not penalised; with ``sample_weight`` the squared
    error is the weighted mean), scores each fit by the mean squared error on
    the held-out fold, and refits on all the data at the chosen alpha.

    Unlike scikit-learn's path, which solves alpha after alpha and fold after
    fold, every alpha of every fold, and the refit on the full data, are the
    columns of one batch of coefficient matrices, updated together by one
    FISTA loop compiled by :func:`tf.function`. :class:`ElasticNetCV`,
    :class:`MultiTaskLassoCV` and :class:`MultiTaskElasticNetCV` work the
    same way.

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
        Whether to solve from Gram matrices (dense or sparse ``X``): one pass over
        the data, after which an iteration costs ``n_features**2`` per fold.
        'auto' uses them when ``n_samples >= n_features`` (at most 4096
        features) and they are cheap (see :class:`Lasso`); otherwise each
        fold's path iterates on ``X``, dense or sparse. ``True`` on ``X``
        wider than tall (``n_features > n_samples``) takes working sets, whose
        restricted problems are solved from their features' Gram matrices:
        the full one would be singular and larger than ``X``.

    max_iter : int, default=1000
        Maximum number of passes over the data: iterations of the
        proximal-gradient loop on all features or, for working sets (wide or
        large X), outer rounds, as celer and skglm count them: a full pass
        that checks the duality gap and ranks the features, then a solve on
        the working set (at most 10,000 inner iterations, not counted).

    tol : float, default=1e-4
        Tolerance on each fit's duality gap, relative to
        ``||y - mean(y)||^2 / n`` of its training fold (see Notes).

    cv : int, cross-validation generator or iterable, default=None
        The splitting strategy: None for 5-fold, an int for that many folds
        (:class:`~sklearn.model_selection.KFold`), a CV splitter, or an
        iterable of (train, test) index arrays.

    refit_alpha : {'min', '1se'}, default='min'
        Which alpha is refitted on all the data: 'min', the one with the
        lowest mean CV error (``alpha_``, scikit-learn's choice), or '1se',
        the largest one within one standard error of that minimum
        (``alpha_1se_``, a sparser model; glmnet's ``lambda.1se``).

    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of ``alpha`` in every fit; 0 leaves a feature
        unpenalised. The grid's ``alpha_max`` takes them into account.

    copy_X : bool, default=True
        Accepted for scikit-learn compatibility; ``X`` is never modified, so
        it is unused.

    verbose : bool or int, default=False
        Accepted for scikit-learn compatibility and unused: nothing is printed.

    n_jobs : int, default=None
        Accepted for scikit-learn compatibility and unused: the folds are not
        run in separate jobs, since every fold and alpha is a column of one
        TensorFlow program (whose threads TensorFlow manages).

    random_state : int, RandomState instance or None, default=None
        Accepted for scikit-learn compatibility and unused: there is no
        coordinate order to randomise (see :class:`Lasso`); it does not seed
        the folds either (give ``cv`` a seeded splitter for that).

    selection : {'cyclic', 'random'}, default='cyclic'
        scikit-learn's coordinate-descent order; accepted and unused.

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
        ``sample_weight``, averaged over tasks), for each alpha.

    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients of the refit on all the data at the selected alpha.

    intercept_ : ndarray of shape (n_tasks,)
        Independent terms of the refit.

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
    sklearn.linear_model.MultiTaskLassoCV : The coordinate-descent estimator this one mirrors.
    lasso_path : The multi-task lasso path, for a 2-D y.
    MultiTaskLasso : The multi-task lasso at one alpha.

    Notes
    -----
    Every fit stops on its own duality gap, scikit-learn's: with residual
    ``R`` of the centred (and weighted) training fold, the dual point is ``R``
    rescaled into the dual feasible set (scikit-learn's rule for this
    penalty), and iterations stop
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
    >>> import numpy as np
    >>> from tflasso import MultiTaskLassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 8))
    >>> Y = X[:, :2] @ rng.standard_normal((2, 3)) + 0.1 * rng.standard_normal((60, 3))
    >>> model = MultiTaskLassoCV(cv=3).fit(X, Y)
    >>> sorted(set(np.flatnonzero(np.any(model.coef_ != 0, axis=0))) & {0, 1})
    [0, 1]
    """

    _parameter_constraints: dict = dict(_CV_COMMON)

    path = staticmethod(lasso_path)

    def __init__(
        self,
        *,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        cv=None,
        copy_X=True,
        verbose=False,
        n_jobs=None,
        random_state=None,
        selection="cyclic",
        refit_alpha="min",
        penalty_factor=None,
    ):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.refit_alpha = refit_alpha
        self.penalty_factor = penalty_factor
