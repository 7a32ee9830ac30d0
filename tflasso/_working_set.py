"""Working sets: solve on the few features that can be non-zero.

For wide, sparse or large problems most features end at zero. As celer and
skglm do, each outer iteration makes one full pass over the data to get the
duality gap and every feature's dual term, ranks the features by how close
they are to entering the model, and solves the problem restricted to the
best few (plus the current support and the unpenalised features) with the
compiled Gram-form solver (or, for sparse columns whose Gram matrix would
cost more, the operator form). The full passes are plain BLAS / sparse
products on the original, uncentred data (centring and weights applied
implicitly by the design).

The stopping rule is the full problem's duality gap, scikit-learn's,
computed by the same certificate as every other form.
"""

import numpy as np
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

from . import _design, _homotopy, _loop, _polish, _programs
from ._penalty import Penalty

# Smallest working set.
_MIN_SIZE = 16
# The set is twice the support (as skglm's and celer's), and doubles only
# when a round did not lower the gap: a set at least twice the support
# holds as many of the features that break the optimality conditions, so
# a round that solved its set moves the gap. Doubling whenever the gap did
# not halve (before) grew wide 300 x 2,000 at 0.01 alpha_max to 1,024
# features for a support of 261, whose last restricted solve, in the
# operator form, took 0.13 of the fit's 0.25 s (wide 100 x 5,000: 0.71 s,
# now 0.08-0.11 s; fingerprints 0.22 -> 0.12 s; dense, tall unchanged).
# Not everywhere: on 1,000 x 20,000 at 0.01 alpha_max, where the support
# keeps growing to 865 features, 1.44 -> 1.79 s (10 rounds for 9, on sets
# of 1,298 to 1,730 features where 0.5 doubled to 1,896).
_STALL = 1.0
# XLA pads a restricted problem to one of _programs._FEW_SIZES, so a set
# just past one of them pays the next one's iterations: a set up to this
# factor past a padded size is cut to it, if that holds 1.5 x the support.
# On wide 300 x 2,000 at 0.01 alpha_max the last set, 528 features for a
# support of 262, ran at 768 (0.5 ms an iteration, 92 ms) where 512 takes
# 0.21 ms. Medians of 7 interleaved fits, 1.0 -> 1.25: that fit 139 ->
# 115 ms, fingerprints 200 x 1,000 113 -> 85 ms, wide 50 x 100,000 1.22 ->
# 1.01 s (all at 0.01 alpha_max, same rounds and gaps); no change beyond
# the spread on the other family sets, dense, tall, wide 1,000 x 20,000 or
# diabetes. (1.5: fingerprints 68 ms, but wide 50 x 100,000 1.12 s.)
_SNAP = 1.25
# A fit stops after this many rounds without a gap below its best, and an
# unconverged fit returns its best point. Where the tolerance is below what
# the dtype can reach (float32 X at tol=1e-12), rounds of 10,000 inner
# iterations otherwise went on until max_iter (wide 100 x 5,000: 15 s, and
# a gap of 2e-4 returned where 1e-7 had been reached).
_PATIENCE = 3
# Along a path, the prediction of each alpha (an exact polish of the warm
# start) may cost what this many iterations on the set do (the polish takes
# a quarter of it, see tflasso._polish._COST_SHARE: FISTA's first call of
# 300 iterations). Unbounded, its factorisations grew as the support cubed:
# on sparse tf-idf-like 40,000 x 40,000 data, supports of 1,518, 3,353 and
# 5,931 features took 6, 35 and 107 s an alpha, where FISTA's iterations
# on the set cost 2 x 40 stored entries a feature.
_PREDICT_ITERATIONS = 1200
# Lasso path alphas whose gaps one certificate call checks together (see
# fits), at most: each holds its coefficients, residual and correlations,
# n + 2 p floats, and they are held at most _DEFERRED_FLOATS in all (a
# second copy while certified), at least 10 alphas at a time. A call costs
# about half a millisecond, whatever its size: 100 alphas a call against 10
# (fingerprints 200 x 1,000: lasso_path 76 -> 67 ms, LassoCV 434 -> 371 ms;
# wide 300 x 2,000: 164 -> 139 ms, 798 -> 653 ms; medians of 15, alternating
# in one process).
_DEFERRED = 100
_DEFERRED_FLOATS = 2**20
# A single lasso fit from zero starts with the path down to its alpha, by
# active-set steps at alphas this ratio apart (see _path_start), on X of at
# most _START_ENTRIES entries (of sparse X, stored entries; sparse X used
# to take no steps at all, and now does: medians of 7, alternating in one
# process, rare terms 5,000 x 2,000 at 0.1 alpha_max 31 -> 9 ms, one-hot
# 10,000 x 4,060 at 0.01 93 -> 52 ms, random sparse 200 x 1,000 at density
# 0.1 42 -> 18 ms, before _HELD_ENTRIES): each alpha makes a pass over X,
# which on larger X costs more than the rounds' compiled calls it saves (dense
# 10,000 x 1,000 at 0.01 alpha_max: 164 -> 287 ms; fingerprints 1,000 x
# 4,000 299 -> 468 ms; where fingerprints 200 x 1,000 went 41 -> 19 ms and
# wide 100 x 5,000 53 -> 17 ms).
_START_RATIO = 0.7
_START_ENTRIES = 2**20
# Past _START_ENTRIES, X of at most _START_ROWS rows starts so too: a pass
# costs little there, and low on the path the support nears the rank of the
# rows, where the restricted problems are nearly singular and FISTA takes
# thousands of iterations (wide 50 x 100,000 at 0.01 alpha_max: 2,100 and
# 2,600 iterations on sets of 176 features) while the active-set steps stay
# exact (medians of 5, alternating in one process, 0.1 / 0.01 alpha_max:
# Gaussian 50 x 100,000 120 -> 88 / 416 -> 156 ms; 100 x 20,000 32 -> 23 /
# 136 -> 37 ms; 200 x 20,000 41 -> 43 / 347 -> 75 ms; but 300 x 10,000
# 22 -> 25 / 103 -> 109 ms and 1,000 x 2,000 141 -> 296 ms at 0.01).
_START_ROWS = 200
# The working sets' cache keeps sparse X's columns densely (as dense X's)
# while they fit in this many entries, n times the cache's room: products
# and matrix-vector products with a few dozen columns cost 0.2 to 1 ms in
# scipy.sparse calls, and the active-set steps make them at every alpha.
# Medians of 7, alternating in one process, with the steps on sparse X:
# rare terms at 0.1 alpha_max 9.0 -> 7.7 ms, one-hot at 0.01 52 -> 38 ms,
# random sparse 200 x 1,000 at density 0.1 17.8 -> 12.0 / 48 -> 39 ms.
_HELD_ENTRIES = 2**20
# The operator form's iteration on sparse columns, counted as this many
# multiply-adds beyond its two passes over their stored entries: measured,
# 0.33 ms an iteration on sets of 7,000 stored entries (random sparse 300 x
# 2,000 at density 0.05), which counted as 14,000 made every active-set
# step along a path look dearer than FISTA's iterations. With it (medians
# of 3, alternating): that set's lasso_path 1.65 -> 0.14 s, LassoCV(cv=5)
# 4.5 -> 0.46 s; 200 x 1,000 at density 0.1 path 0.46 -> 0.08 s; single
# fits and the tf-idf-like sets within the spread.
_SPARSE_ITERATION = 2**17
# An alpha's active-set steps (see _step) take up to this many working sets,
# each ranked by the last one's pass and larger (see _STEP_ROOM): from one
# alpha of a single fit's start to the next, more features can enter than
# the support holds (fingerprints 200 x 1,000 at 0.1 alpha_max: 18 -> 36
# features on the third alpha). Spectra 300 x 2,000 at 0.1 alpha_max: 17.0
# ms with 3 sets (its last alpha not solved), 11.5 ms with 4; no change on
# the other small sets.
_STEP_SETS = 4
# A later attempt's set is the support's share (see _share, as a single
# fit's rounds size theirs) with room for _STEP_ROOM times as many features
# as broke the conditions outside the last set, capped by the attempt's
# doubling of the support's share (the rule before; correlated violators
# come in dozens). Doubling alone made products of hundreds of columns that
# never entered, where one or two features were missing (medians of 9,
# alternating in one process, at 0.01 alpha_max: wide 300 x 2,000 55 -> 39
# ms, fingerprints 200 x 1,000 21 -> 18 ms; no change at 0.1, on spectra,
# or on paths and LassoCV). The share in place of twice the support, where
# supports pass half the rows: wide 300 x 2,000 LassoCV 613 -> 569 ms and
# 605 -> 563 ms, path 168 -> 161 ms (medians of 15 and 9, alternating in
# one process); no change past the spread on the other family sets.
_STEP_ROOM = 2
# Outside a path's first round, active-set steps are tried once a
# restricted FISTA solve has taken at least _SLOW_INNER iterations (an
# ill-conditioned problem: spectra 200 x 1,000 takes 300 a round, where
# wide Gaussian sets take 20 to 110 and the steps cost more than they
# save), from supports of at most _STEP_SUPPORT of the rows: past it (p > n
# problems low on their path) the support's Gram matrix nears singular, and
# the steps either cannot factorise it or do not finish (wide 300 x 2,000
# at 0.01 alpha_max: 50 ms of steps before FISTA's 25 ms on the same set).
_SLOW_INNER = 200
_STEP_SUPPORT = 0.5
# Restricted problems are solved in float64 to this fraction of the final
# tolerance: their iterations cost k^2 (Gram form) or 2 n k against n p for a
# full pass, so solving them well is cheap; it saves outer rounds and leaves
# no borderline feature out of the final support (on the benchmarks' dense
# 10,000 x 1,000 at 0.01 alpha_max: 141 -> 109 ms, and the support of a
# tol-1e-10 solution where a looser rule missed one feature).
_INNER_TOL = 0.05
# ... but not below _INNER_GAP_SHARE of the current full gap: while the set
# still grows, a solve to the final tolerance is wasted on a problem the
# next round changes (medians of 5, alternating in one process, at 0.01
# alpha_max: fingerprints 1,000 x 4,000 320 -> 241 ms, wide 1,000 x 20,000
# 587 -> 452 ms; celer's 0.3 took more rounds: 302 and 547 ms; no change
# past the spread on dense 10,000 x 1,000, the family sets' single fits,
# paths and LassoCV).
_INNER_GAP_SHARE = 0.1
# ``max_iter`` counts outer rounds, as celer's and skglm's do: a round is
# one full pass over X and one restricted solve, whose inner iterations are
# bounded by this instead (as celer's and skglm's ``max_epochs``). An
# iteration on a set that holds every feature is itself a pass and counts
# one, as in the other forms.
_INNER_MAX_ITER = 10_000
# In float32 (the operator form on float32 X) that may be out of reach: stop
# at this fraction of the current full gap, as celer does, but not below half
# the final tolerance.
_INNER_GAP_FRACTION = 0.3
# Sparse float64 X: restricted problems iterate in float32 (a product with
# X and X^T 22% faster), stopped as float32 X's are (_INNER_GAP_FRACTION);
# the full passes and their gaps stay in float64. From a round that does not
# lower the gap, or where the tolerance asks for an exact solution, they
# iterate in float64.
_SINGLE = True
_SINGLE_RANGE = (1e-15, 1e15)
_SINGLE_ENTRIES = 2**18
# Restricted problems in the operator form take, as their step's curvature,
# the whole design's (a bound for every set of its columns, computed once by
# ARPACK; see _Columns.curvature) instead of 30 power iterations on their own
# columns, once those power iterations have cost what computing it does (a
# ski rental): on tf-idf-like 40,000 x 40,000 data, low on the path, they
# cost as much as 25 FISTA iterations a set, and ARPACK took 91 products
# with X and X^T, in scipy, which runs them 2 to 3 times faster than
# TensorFlow's sparse products: about 40 of those. A single fit there (at
# 0.01 alpha_max: 0.5 s) never pays for it. On a quarter of the features,
# the bound was at most 1.7 times the set's own (iterations grow as its
# square root).
_SHARED_AFTER = 40
# With the shared curvature L_C, a restricted problem in one task steps in the
# metric L_C I + u u^T (tflasso._loop.fista) when the rows' mean direction
# holds ||u||^2 > _METRIC_SPIKE L_C: the step then grows by that factor plus
# one at least (tf-idf-like data without an intercept: ||u||^2 30, L_C 4).
_METRIC_SPIKE = 1.0


def _magnitudes(values):
    """The smallest nonzero and the largest magnitude in ``values`` (inf and 0
    where none is nonzero), a block at a time: copying the nonzero entries and
    their magnitudes whole took 1.3x a sparse X's stored entries."""
    flat = values.reshape(-1)
    smallest, largest = np.inf, 0.0
    for start in range(0, flat.size, _design._ENTRY_BLOCK):
        size = np.abs(flat[start : start + _design._ENTRY_BLOCK])
        size = size[size != 0]
        if size.size:
            smallest, largest = min(smallest, size.min()), max(largest, size.max())
    return smallest, largest


class _Columns:
    """The working sets' centred, weighted columns, kept across rounds.

    A feature's column is copied (dense X, and sparse X while they fit in
    _HELD_ENTRIES) and multiplied against the others once, not once per
    round; the Gram products and ``X^T y`` of the cached columns are kept
    with them (larger sparse X: the products only).
    """

    def __init__(self, design, y):
        self.design = design
        self.y = y  # (n, T)
        n, p = design.shape
        self.cached = np.empty(0, dtype=np.intp)  # features, in cache order
        self.position = np.full(p, -1)  # feature -> cache position
        self.buffer = np.empty((n, 0), order="F")  # cached columns (see held)
        # Their products, at the cached positions: a buffer with room to grow
        # (see cache), read by position only.
        self.gram = np.empty((0, 0))
        self.xty = np.empty((0, y.shape[1]))  # columns^T y
        self._curvature = None  # see curvature
        self._mean_direction = None  # see mean_direction
        self._single = None  # see single
        self._inverse_norms = None  # see inverse_norms
        self.power_work = 0  # of the power iterations on sets (see shares_curvature)

    def inverse_norms(self):
        """``1 / ||x_j||`` of the centred, weighted columns (0 for empty
        ones), and the empty columns' indices; made once."""
        if self._inverse_norms is None:
            norm = np.sqrt(self.design.col_norm2())
            empty = norm == 0
            self._inverse_norms = (1 / np.where(empty, 1.0, norm) * ~empty,
                                   np.flatnonzero(empty))
        return self._inverse_norms

    def matvec(self, idx, w):
        """``design[:, idx] @ w``, from the cache when it holds ``idx``."""
        if idx.size and self.held and np.all(self.position[idx] >= 0):
            v = np.zeros((self.cached.size, w.shape[1]))
            v[self.position[idx]] = w
            return self.buffer[:, : self.cached.size] @ v
        return self.design.matvec(idx, w)

    def curvature(self):
        """An upper bound on the largest eigenvalue of the unit-scaled
        design's ``X^T X / n`` with the rows' mean direction projected out
        (``L_C``, see tflasso._programs._operator_program), which bounds
        that of any set of its columns (a principal submatrix's eigenvalues
        interlace): by Lanczos (scipy's ``eigsh``), once; 0 where it fails
        (the program then estimates its own)."""
        if self._curvature is None:
            design = self.design
            n, p = design.shape
            inverse = 1 / _programs.unit_scale(design.col_norm2() / n)
            e = self._rows_direction()

            def normal(v):
                r = design.matvec(None, inverse * v.ravel())
                return inverse * design.rmatvec(r - e * (e @ r)) / n

            self._curvature = 0.0
            if p >= 3:  # ARPACK's smallest problem
                try:
                    top = eigsh(LinearOperator((p, p), matvec=normal, dtype=np.float64),
                                k=1, which="LA", tol=1e-3, v0=np.ones(p),
                                return_eigenvectors=False)[0]
                    self._curvature = _loop._LIPSCHITZ_MARGIN * max(float(top), 0.0)
                except ArpackError:  # no convergence included
                    pass
        return self._curvature

    def single(self):
        """Whether restricted problems may iterate in float32 (see _SINGLE):
        sparse float64 X of at least _SINGLE_ENTRIES stored entries (on less,
        a call's overhead outweighs its products), whose stored entries, y
        and the square roots of the sample weights lie (in absolute value)
        within _SINGLE_RANGE, so that their squares and sums stay normal
        float32 numbers."""
        if self._single is None:
            X, low, high = self.design.X, *_SINGLE_RANGE
            self._single = bool(_SINGLE and self.design.sparse and X.dtype == np.float64
                                and X.nnz >= _SINGLE_ENTRIES)
            root = self.design.root
            arrays = [X.data, self.y] + ([] if root is None else [root])
            for values in arrays if self._single else ():
                smallest, largest = _magnitudes(values)
                self._single &= bool(smallest > largest or low <= smallest and largest <= high)
        return self._single

    def mean_direction(self):
        """``u`` (p,): the unit-scaled columns' correlation with the rows'
        direction ``e``, over ``sqrt(n)``: the Hessian less ``C`` (see
        :meth:`curvature`) is ``u u^T``."""
        if self._mean_direction is None:
            n = self.design.shape[0]
            scale = _programs.unit_scale(self.design.col_norm2() / n)
            self._mean_direction = self.design.rmatvec(self._rows_direction()) / (
                scale * np.sqrt(n))
        return self._mean_direction

    def _rows_direction(self):
        """``e``: the square roots of the rows' weights, of unit norm."""
        root = np.ones(self.design.shape[0]) if self.design.root is None else self.design.root
        return root / np.linalg.norm(root)

    def shares_curvature(self, idx):
        """Whether the restricted problem on the columns ``idx`` takes the
        design's :meth:`curvature` (see _SHARED_AFTER), counting the
        power iterations of those that do not."""
        if self._curvature is None:
            self.power_work += _loop._POWER_ITERATIONS * self._stored(idx)
            if self.power_work < _SHARED_AFTER * self._stored():
                return False
        return True

    def _stored(self, idx=None):
        """Stored entries of X's columns ``idx`` (all by default)."""
        X = self.design.X
        if self.design.sparse:  # CSC: the columns' stored entries from indptr, no copy
            if idx is None:
                return X.nnz
            idx = np.asarray(idx)
            return int((X.indptr[idx + 1] - X.indptr[idx]).sum())
        return X.shape[0] * (X.shape[1] if idx is None else len(idx))

    @property
    def held(self):
        """Whether ``buffer`` holds the cached columns: it has the products'
        room, or no columns (see :meth:`cache`)."""
        return self.buffer.shape[1] == len(self.gram)

    def _holds(self, room):
        """Whether the cache keeps its columns (``room`` of them) densely:
        always for dense X; for sparse X while they fit in _HELD_ENTRIES
        (see there)."""
        return not self.design.sparse or self.design.shape[0] * room <= _HELD_ENTRIES

    def gram_is_cheaper(self, idx):
        """Whether a Gram iteration (|idx|^2) beats two passes over the columns."""
        return self.iteration_work(idx, True) <= self.iteration_work(idx, False)

    def iteration_work(self, idx, by_gram):
        """Multiply-adds of an iteration on the columns ``idx``: ``|idx|^2`` in
        the Gram form, twice their stored entries on the columns (sparse:
        and _SPARSE_ITERATION)."""
        if by_gram:
            return len(idx) ** 2
        return 2 * self._stored(idx) + (_SPARSE_ITERATION if self.design.sparse else 0)

    def products(self, idx):
        """``(G, q)`` of the columns ``idx`` (unnormalised), cached.

        The new columns' products with every cached column cost n * k * m for
        m new features (dense X); once the cache holds twice the features
        asked for, it starts again from ``idx`` alone. On sparse X they were
        made afresh at every round: a one-hot 10,000 x 4,060 fit at 0.01
        alpha_max makes 10 rounds on sets of 16 to 64 features, four of them
        on the same 50; 100 / 85 ms, now 66 / 53 ms (two rounds of fresh
        processes, medians of 5; the sparse and tf-idf sets' single fits and
        tf-idf's path within the spread). Sparse sets too large for the Gram
        form (asked for their products by an unpenalised feature's
        projection) are not cached: the cache's room would hold half as many
        features again, squared.
        """
        if self.design.sparse and not self.gram_is_cheaper(idx):
            return self.design.sparse_products(idx, self.y)
        self.cache(idx)
        at = self.position[idx]
        return _polish.principal_block(self.gram, at), self.xty[at]

    def cache(self, idx):
        """Hold the columns ``idx`` (see :meth:`_holds`) and their products.

        The columns and their products are kept in buffers with room to
        grow (half as many features again, at most p), so that a feature
        that joins writes its own row and column only: copying the whole
        Gram block into a new array, at every alpha of a path, took 41 of
        the 330 ms of wide 300 x 2,000's ``lasso_path`` (now 16). The Gram
        buffer is whole, not a view of its used block: numpy's ``take``
        copies a strided view whole before it gathers."""
        new = idx[self.position[idx] < 0]
        if self.cached.size + new.size > 2 * idx.size:
            self.position[self.cached] = -1
            self.cached = np.empty(0, dtype=np.intp)
            new = idx
        if new.size:
            old, size = self.cached.size, self.cached.size + new.size
            if size > len(self.gram):
                room = min(self.design.shape[1], size + size // 2 + 16)
                # The room only grows: held columns may stop being held,
                # never the other way round (but from an empty cache).
                held = self._holds(room)
                buffer = np.empty((self.design.shape[0], room if held else 0), order="F")
                if held:
                    buffer[:, :old] = self.buffer[:, :old]
                self.buffer = buffer
                gram = np.zeros((room, room))  # read whole by rows (see _homotopy)
                gram[:old, :old] = self.gram[:old, :old]
                self.gram = gram
            if self.held:
                block = self.design.block(new)
                self.buffer[:, old:size] = block
                cross, xty = self.buffer[:, :size].T @ block, block.T @ self.y
            else:
                cross, xty = self.design.sparse_products(
                    np.concatenate([self.cached, new]), self.y, np.arange(old, size))
            self.gram[:size, old:size] = cross
            self.gram[old:size, :old] = cross[:old].T
            self.xty = np.concatenate([self.xty[:old], xty])
            self.cached = np.concatenate([self.cached, new])
            self.position[new] = np.arange(old, self.cached.size)


def solve(problem, penalty, free, tolerance, max_iter, w0):
    """Each problem by working sets: ``(W (p, C, T), gap (C,), n_iter (C,))``.

    ``tolerance`` is absolute, ``w0`` (p, C, T); ``max_iter`` bounds each
    problem's outer rounds, and ``n_iter`` counts them (see _INNER_MAX_ITER).
    """
    y = problem.problems(problem.y)
    results = []
    for c in range(y.shape[1]):
        one = Penalty(penalty.alpha[c : c + 1], penalty.l1_ratio[c : c + 1],
                      penalty.factor, penalty.positive)
        sub_free = None if free is None else free._replace(xty=free.xty[:, :, c : c + 1])
        columns = _Columns(problem.design, y[:, c])
        start, passes = w0[:, c], 0
        if sub_free is None and not start.any():
            start, passes = _path_start(problem, y[:, c], one, max_iter, columns, start)
        w, gap, n_iter, _ = _solve_one(problem, y[:, c], one, sub_free, tolerance[c],
                                       max_iter - passes, start, columns)
        results.append((w, gap, n_iter + passes))
    w, gap, n_iter = (np.array(v) for v in zip(*results))
    return w.transpose(1, 0, 2), gap, n_iter


def _path_start(problem, y, penalty, max_iter, columns, w):
    """A single lasso fit's start from zero, ``(w (p, T), passes)``: as
    glmnet does, the path from ``alpha_max`` down to ``alpha``, by
    active-set steps (see :func:`_step`) at alphas _START_RATIO apart, each
    from the line through the last two (see :func:`_extrapolated`). None of
    them is certified: the fit's first pass certifies the last point, and
    the rounds go on from it otherwise (or from the last alpha the steps
    solved). Each alpha makes one pass over X and counts as one (``max_iter``
    must leave a round after them). A lasso of one task with every feature
    penalised only, on X of at most _START_ENTRIES (stored) entries or
    _START_ROWS rows; else ``(w, 0)``."""
    factor = _factor(columns, problem.n)
    large = columns._stored() > _START_ENTRIES and problem.design.shape[0] > _START_ROWS
    if not _steppable(factor, None, penalty) or large:
        return w, 0
    duals = _duals_at_zero(problem, y, penalty)
    alphas = start_alphas(duals.max(initial=0.0), float(penalty.alpha[0]), max_iter)
    solved, passes = [], 0
    for a in alphas:
        start = _extrapolated(solved, a) if len(solved) == 2 else w
        fit = _step(problem, y, penalty._replace(alpha=np.array([a])), start, columns,
                    factor, duals)
        passes += 1
        if fit is None:
            break
        w, _, _, duals = fit
        solved = [*solved[-1:], (a, w)]
    return w, passes


def start_alphas(top, alpha, max_iter, ratio=None):
    """The alphas of a single fit's start from ``top`` (``alpha_max``) down
    to ``alpha``, ``ratio`` (by default _START_RATIO) apart, ``alpha`` last;
    none where ``alpha`` is not below ``top`` or ``max_iter`` would not leave
    a round after them."""
    if not top > alpha > 0:
        return np.empty(0)
    ratio = _START_RATIO if ratio is None else ratio
    count = int(np.ceil(np.log(alpha / top) / np.log(ratio)))
    return np.geomspace(top, alpha, count + 1)[1:] if count < max_iter else np.empty(0)


def path(problem, penalties, free, tolerance, max_iter):
    """One problem along ``penalties`` (largest alpha first), each fit
    warm-started from the last ones: ``(W (p, A, T), gap (A,), n_iter (A,))``.

    As glmnet does along its path: consecutive solutions differ in few
    features, so each fit needs few full passes and small restricted solves,
    and the working sets' cached columns serve every alpha. The start is the
    line through the last two solutions (see :func:`_extrapolated`).
    """
    p, t = problem.design.shape[1], problem.layout[1]
    w = np.zeros((p, len(penalties), t))  # filled in place: a stacked list was two copies
    gap, n_iter = np.zeros(len(penalties)), np.zeros(len(penalties), int)
    for a, fit in enumerate(fits(problem, penalties, free, tolerance, max_iter)):
        w[:, a], gap[a], n_iter[a] = fit
    return w, gap, n_iter


def fits(problem, penalties, free, tolerance, max_iter):
    """:func:`path`'s fits one at a time, ``(w (p, T), gap, n_iter)``: a
    caller that needs only their errors keeps none of the path's p x A.

    Along a lasso path (one task, every feature penalised), an
    alpha whose active-set steps end at the working set's exact solution,
    with no feature outside it breaking the optimality conditions (one pass,
    numpy), is certified later, with the next alphas, by one call of the
    duality gap for up to _DEFERRED of them, held within _DEFERRED_FLOATS
    (see :func:`_certified`): the certificate's call costs about half a
    millisecond whatever its size, as much as the rest of such an alpha. An
    alpha its gap does not certify is solved again from its point, as any
    other.
    """
    y = problem.problems(problem.y)[:, 0]  # (n, T)
    columns = _Columns(problem.design, y)
    w, duals = np.zeros((problem.design.shape[1], y.shape[1])), None
    factor = _factor(columns, problem.n)  # kept from alpha to alpha
    # (The path shares one l1_ratio and one set of factors.)
    deferrable = len(penalties) > 0 and _steppable(factor, free, penalties[0])
    solved, pending = [], []  # (alpha, w) of the last two alphas; uncertified fits
    n, p = problem.design.shape
    deferred = min(_DEFERRED, max(10, _DEFERRED_FLOATS // (n + 2 * p)))
    if deferrable:  # the first alpha steps too, from zero, ranked by a pass at zero
        duals = _duals_at_zero(problem, y, penalties[0])
    for penalty in penalties:
        alpha = float(penalty.alpha[0])
        start = _extrapolated(solved, alpha) if len(solved) == 2 else w
        fit = None
        if deferrable and duals is not None:
            fit = _step(problem, y, penalty, start, columns, factor, duals)
        if fit is None:
            yield from _certified(problem, y, pending, free, tolerance, max_iter, columns,
                                  factor)
            pending = []
            w, gap, n_iter, duals = _solve_one(problem, y, penalty, free, tolerance,
                                               max_iter, start, columns, polish=True,
                                               predict=True, duals=duals, factor=factor)
            yield w, gap, n_iter
        else:
            w, residual, corr, duals = fit
            pending.append((penalty, w, residual, corr))
            if len(pending) == deferred:
                yield from _certified(problem, y, pending, free, tolerance, max_iter,
                                      columns, factor)
                pending = []
        solved = [*solved[-1:], (alpha, w)]
    yield from _certified(problem, y, pending, free, tolerance, max_iter, columns, factor)


def _step(problem, y, penalty, start, columns, factor, duals):
    """One lasso alpha by active-set steps from ``start`` on the working set
    ranked by the last pass's ``duals``: ``(w, residual, corr, duals)`` when
    they end at the set's exact solution and one pass finds no feature
    outside it that breaks the optimality conditions, else None."""
    design, n = problem.design, problem.n
    p = start.shape[0]
    f = np.asarray(penalty.factor, np.float64)
    l1 = float(penalty.alpha[0])
    extra = 0  # room for the last attempt's violators
    for attempt in range(_STEP_SETS):
        support = np.flatnonzero(start[:, 0])
        base = _share(support.size, n)
        size = min(2**attempt * max(_MIN_SIZE, base),
                   max(2**attempt * _MIN_SIZE, base + extra))
        size = _fitted(min(p, size), support.size)
        ws = _select(duals, max(duals.max(initial=0.0), l1), f, columns, support, size)
        by_gram = columns.gram_is_cheaper(ws)
        predicted, done = _predicted(
            columns, factor, ws, start[ws], penalty._replace(factor=f[ws]), y, n,
            _PREDICT_ITERATIONS * columns.iteration_work(ws, by_gram), False,
        )
        if predicted is None or not done:
            return None
        w = np.zeros_like(start)
        w[ws] = predicted
        support = ws[np.flatnonzero(predicted[:, 0])]
        residual = y - columns.matvec(support, w[support])
        corr = design.rmatvec(residual)[:, 0] / n
        terms = _lasso_duals(corr, penalty)
        broken = terms > l1 * (1 + _polish._VIOLATION)
        violators = np.count_nonzero(broken) - np.count_nonzero(broken[ws])  # outside ws
        if not violators:
            return w, residual, corr, terms
        start, duals = w, terms  # a set ranked by this pass, from this point
        extra = _STEP_ROOM * violators
    return None


def _steppable(factor, free, penalty):
    """Whether :func:`_step` applies: a lasso of one task (a Cholesky
    ``factor``), every feature penalised (no ``free`` ones)."""
    return (factor is not None and free is None and float(penalty.l1_ratio[0]) == 1
            and bool(np.all(np.asarray(penalty.factor) > 0)))


def _lasso_duals(corr, penalty):
    """The lasso's feature dual terms (tflasso._penalty.feature_dual) of the
    correlations ``corr`` (p,) with the residual, for one task."""
    terms = np.maximum(corr, 0) if penalty.positive else np.abs(corr)
    return terms / np.asarray(penalty.factor, np.float64)


def _duals_at_zero(problem, y, penalty):
    """:func:`_lasso_duals` at zero coefficients: one pass ``X^T y / n``."""
    return _lasso_duals(problem.design.rmatvec(y)[:, 0] / problem.n, penalty)


def _certified(problem, y, pending, free, tol, max_iter, columns, factor):
    """The ``pending`` fits' gaps by one certificate; each within ``tol`` is
    yielded as it stands (one pass), any other solved again from its point."""
    if not pending:
        return
    penalties = [q for q, *_ in pending]
    batch = Penalty(np.concatenate([q.alpha for q in penalties]),
                    np.concatenate([q.l1_ratio for q in penalties]),
                    penalties[0].factor, penalties[0].positive)
    w = np.stack([v for _, v, _, _ in pending], axis=1)  # (p, C, T)
    residual = np.stack([r for _, _, r, _ in pending], axis=1)  # (n, C, T)
    corr = np.stack([c for *_, c in pending], axis=1)[:, :, None]
    gaps, _ = _programs.certify_correlated(
        batch, None, w, np.broadcast_to(y[:, None], residual.shape), residual, corr)
    for (penalty, v, _, _), gap in zip(pending, gaps):
        if gap <= tol:
            yield v, float(gap), 1
        else:
            v, gap, n_iter, _ = _solve_one(problem, y, penalty, free, tol, max_iter, v,
                                           columns, polish=True, predict=True,
                                           factor=factor)
            yield v, gap, n_iter + 1


def _extrapolated(solved, alpha):
    """The warm start at ``alpha`` from the last two solutions ``solved``
    ``[(alpha_2, w_2), (alpha_1, w_1)]`` (``alpha_2 > alpha_1 > alpha``).

    Between the knots where features enter or leave, the lasso's solution
    is linear in alpha, so the line through the last two solutions predicts
    the next one; a coefficient whose sign the line would change (or a zero
    it would make non-zero) is left at zero, where the path's next knot
    would put it. A step past the last one is cut to its length: a user's
    uneven grid would otherwise extrapolate far beyond what the two
    solutions tell. (For the elastic net and multi-task lasso the path is
    not piecewise linear; the line is still a better start than the last
    point, and it is only a start: every fit is certified by its gap.)
    """
    (alpha_2, w_2), (alpha_1, w_1) = solved
    if not alpha_2 > alpha_1 > alpha:
        return w_1
    start = w_1 + min((alpha_1 - alpha) / (alpha_2 - alpha_1), 1.0) * (w_1 - w_2)
    start[np.sign(start) != np.sign(w_1)] = 0
    return start


def _solve_one(problem, y, penalty, free, tol, max_iter, w0, columns=None,
               polish=False, predict=False, duals=None, factor=None):
    """One problem, ``y`` (n, T): ``(w (p, T), gap, n_iter, duals (p,))``,
    ``duals`` the feature dual terms of the last full pass.

    With ``polish``, a warm start that already meets the tolerance is still
    improved by one restricted solve, as scikit-learn's path makes at least
    one pass per alpha: otherwise, low on a path, successive alphas can keep
    the same coefficients, and their cross-validation errors tie to the
    last bit (the choice of alpha then hangs on rounding).

    With ``predict`` (along a path), the first round first tries active-set
    steps from the warm start on the working set (:mod:`tflasso._homotopy`,
    with the path's Cholesky ``factor``; for several tasks the
    exact polish, :mod:`tflasso._polish`): from the last alpha's solution
    the support changes by a few features, so a few solves often meet the
    tolerance where FISTA took about a hundred iterations. The next full
    pass certifies the point; otherwise FISTA goes on from it. Outside that
    round (and in single fits) the steps are tried once a restricted FISTA
    solve has been slow (see _SLOW_INNER).

    ``duals``, with ``polish``: those of the last alpha's last full pass,
    which then rank the first working set without a pass of its own (that
    solution's residual is the same; for the elastic net only the support's
    terms, which are in the set anyway, change with alpha). ``w0`` is that
    solution or its extrapolation (see :func:`_extrapolated`), whose support
    is within the last one's.
    """
    design, n = problem.design, problem.n
    p, t = w0.shape
    columns = _Columns(design, y) if columns is None else columns
    factor = _factor(columns, n) if factor is None else factor
    if free is None:
        free = _programs.no_unpenalised(1, p, 1, t)
    unpenalised = np.asarray(penalty.factor) == 0
    w = w0.astype(np.float64).copy()
    l1 = float(penalty.alpha[0] * penalty.l1_ratio[0])
    # The final tolerance decides, not the restricted solves' tighter ones.
    exact = bool(_programs.asks_exact(tol, np.sum(y * y) / n))
    single = columns.single() and not exact
    size = min(p, max(_MIN_SIZE, _share(np.count_nonzero(w.any(axis=1)), n)))
    # max_iter bounds the outer rounds (see _INNER_MAX_ITER).
    passes, previous_gap, slow = 0, np.inf, False
    best, stale = (np.inf, None, None), 0  # the lowest certified gap, its w and duals
    known = polish and duals is not None
    if known:
        support, gap = np.flatnonzero(w.any(axis=1) | unpenalised), np.inf
    while True:
        if not known:
            support = np.flatnonzero(w.any(axis=1) | unpenalised)
            residual = y - columns.matvec(support, w[support])
            gap, duals = _programs.certify_residual(design, penalty, free, w[:, None],
                                                    y[:, None], residual[:, None])
            gap, duals = float(gap[0]), duals[:, 0]
            if gap < best[0]:
                best, stale = (gap, w.copy(), duals), 0
            else:
                stale += 1
            polishing = polish and passes == 0 and gap > 0
            if ((gap <= tol and not polishing) or passes >= max_iter
                    or not np.isfinite(gap) or stale >= _PATIENCE):
                break
        known = False
        passes += 1
        # Grow the set when the last round did not lower the gap (and
        # iterate in float64 from then on).
        grow = 2 if gap > _STALL * previous_gap else 1
        single = single and grow == 1
        size = _fitted(min(p, max(grow * size, _share(support.size, n))), support.size)
        previous_gap = gap
        ws = _select(duals, max(duals.max(initial=0.0), l1), penalty.factor, columns,
                     support, size)
        by_gram = columns.gram_is_cheaper(ws)
        # Active-set steps first (see _predicted): a point that is the
        # working set's exact solution (or, along a path, the first round's
        # prediction) goes straight to the next pass's certificate; FISTA
        # goes on from any other.
        first = predict and passes == 1
        if first and w.any() or (slow and factor is not None
                                 and 0 < support.size <= _STEP_SUPPORT * n):
            predicted, done = _predicted(
                columns, factor, ws, w[ws],
                penalty._replace(factor=np.asarray(penalty.factor)[ws]), y, n,
                _PREDICT_ITERATIONS * columns.iteration_work(ws, by_gram), first,
            )
            if predicted is not None and not np.array_equal(predicted, w[ws]):
                w[:] = 0
                w[ws] = predicted
                if done or first:
                    continue

        def inner_tol(in_float32):
            if size == p:
                # The restricted problem is the whole problem: solve it to the
                # final tolerance at once (in float32 too: half of it took a
                # third more iterations on a sparse 20,000 x 20,000 LassoCV's
                # tails; float64 takes over if the pass does not certify it,
                # below).
                return tol
            known = gap if np.isfinite(gap) else 0.0  # (not yet at a path's start)
            if by_gram or design.dtype == np.float64 and not in_float32:
                return max(_INNER_TOL * tol, _INNER_GAP_SHARE * known)
            return max(_INNER_GAP_FRACTION * known, 0.5 * tol)

        # An iteration on every feature is a pass; on fewer, inner work.
        budget = max(1, max_iter - passes) if size == p else _INNER_MAX_ITER
        w_ws, inner = _restricted(columns, problem, ws, by_gram, y, penalty,
                                  inner_tol(single), budget, w[ws], exact, single)
        if single and not np.all(np.isfinite(w_ws)):  # float32 fell short: again
            single = False
            w_ws, inner = _restricted(columns, problem, ws, by_gram, y, penalty,
                                      inner_tol(single), budget, w[ws], exact)
        slow = slow or inner >= _SLOW_INNER
        w[:] = 0
        w[ws] = w_ws
        if size == p:
            # A float32 solve of the whole problem that the next pass does not
            # certify fell short by float32's rounding: float64 goes on (it
            # had gone round to max_iter on one tf-idf-like LassoCV fold fit,
            # its gap 1.0006 tol).
            single = False
            passes += max(inner - 1, 0)  # the round counted one already
            if inner == 0 and np.isfinite(gap):
                break  # the whole problem is in the set and cannot improve
            # (A path's start, whose gap the last alpha's pass did not give,
            # goes on to the next pass's certificate: it ended there with an
            # infinite gap, which enet_path took for non-finite coefficients.)
    if gap > tol and best[0] < gap:
        gap, w, duals = best
    return w, gap, passes, duals


def _restricted(columns, problem, ws, by_gram, y, penalty, tol, max_iter, w0, exact,
                single=False):
    """The problem on the columns ``ws``: ``(w (k, T), n_iter)``; ``exact``:
    polished once converged (see :func:`tflasso._programs.asks_exact`);
    ``single``: the operator form iterates in float32 (see _SINGLE)."""
    n = problem.n
    sub = penalty._replace(factor=np.asarray(penalty.factor)[ws])
    free = None
    unpenalised = np.any(sub.factor == 0)
    if by_gram or unpenalised:  # the projection needs the columns' products
        gram, xty = columns.products(ws)
    if unpenalised:
        free = _programs.unpenalised_of_gram(
            gram[None] / n, xty[None, :, None] / n, sub.factor
        )
    yy = np.array([[np.sum(y * y) / n]])
    if by_gram:
        w, _, n_iter = _programs.solve_gram(
            gram[None] / n, xty[None, :, None] / n, yy, np.array([float(n)]), sub,
            free, np.array([[tol]]), max_iter, w0[None, :, None],
            few_sizes=_programs._FEW_SIZES, exact=exact,
        )
        return w[0, :, 0], int(n_iter[0, 0])
    design = columns.design
    dtype = np.float32 if single else design.dtype
    root = np.ones(n) if design.root is None else design.root
    data = (
        design.tensor(ws, dtype), design.x_offset[ws], root, y[:, None].astype(dtype),
        _programs.unit_scale(design.col_norm2()[ws] / n), sub,
        None if free is None else _programs.Unpenalised(*(
            np.asarray(x, dtype) if i else x for i, x in enumerate(free)
        )),
        np.array([tol]),
    )
    work = columns.iteration_work(ws, by_gram=False)
    curvature, metric = 0.0, False
    if columns.shares_curvature(ws):
        # C's (see _Columns.curvature); with u the mean direction's share,
        # the Hessian is at most (L_C + ||u||^2) I and L_C I + u u^T.
        curvature = columns.curvature()
        spike = np.sum(columns.mean_direction()[ws] ** 2)
        metric = curvature > 0 and y.shape[1] == 1 and spike > _METRIC_SPIKE * curvature
        if curvature > 0 and not metric:
            curvature += spike

    def solve(start, budget):
        return _programs.solve_operator(*data, budget, start, curvature, metric)

    def polish(w, gap, n_iter, only):
        # Not certified here: the next call (or the next full pass) does it.
        support = np.flatnonzero(w[:, 0].any(axis=1) | (sub.factor == 0))
        new = w[:, 0].astype(np.float64)
        polished = _polished(
            columns, ws[support], new[support], sub._replace(factor=sub.factor[support]),
            y, n, n_iter[0] * work,
        )
        if polished is None:
            return None
        new[support] = polished
        return new[:, None], np.where(np.array_equal(new, w[:, 0]), gap, np.inf)

    w, _, n_iter = _programs.polished_rounds(solve, polish, np.array([tol]), max_iter,
                                             w0[:, None], np.array([exact]))
    return w[:, 0].astype(np.float64), int(n_iter[0])


def _factor(columns, n):
    """A Cholesky factor for the active-set steps (one task; see
    :mod:`tflasso._homotopy`), or None."""
    if columns.y.shape[1] == 1:
        return _homotopy.Factor(columns, n)
    return None


def _predicted(columns, factor, ws, w, penalty, y, n, spent, fallback):
    """Active-set steps on the working set ``ws`` from ``w`` (k, T):
    ``(point, done)``, ``done`` where the point is the working set's exact
    solution. By :func:`tflasso._homotopy.predict` with the fit's (or the
    path's) Cholesky ``factor`` (one task); with ``fallback`` (a
    path's first round), else by the exact polish (:func:`_polished`).
    ``(None, False)`` where neither applies or is affordable: the steps cost
    at most a share of ``spent`` multiply-adds (see tflasso._polish), as
    FISTA's iterations on the set would."""
    k, t = w.shape
    support = max(np.count_nonzero(w.any(axis=1)), 1)
    if not k or not _polish.affordable(
        _polish.products_cost(n, k) + _polish.factor_cost(support * t), spent
    ):
        return None, False
    if factor is not None:
        columns.cache(ws)
        at = columns.position[ws]
        predicted = _homotopy.predict(factor, ws, w[:, 0], penalty, columns.xty[at, 0] / n)
        if predicted is not None:
            return predicted[0][:, None], predicted[1]
    if not fallback:
        return None, False
    return _polished(columns, ws, w, penalty, y, n, spent), False


def _polished(columns, ws, w, penalty, y, n, spent):
    """``w`` (k, T) on the columns ``ws`` (its support, or a working set
    whose other features may join it) polished (see :mod:`tflasso._polish`;
    the Gram-form solves polish themselves), when the columns' products and
    a factorisation of the support cost little against the ``spent``
    multiply-adds (else None); the next call or full pass certifies it."""
    k, t = w.shape
    support = max(np.count_nonzero(w.any(axis=1)), 1)  # what is factorised
    if not k or not _polish.affordable(
        _polish.products_cost(n, k) + _polish.factor_cost(support * t), spent
    ):
        return None
    gram, xty = columns.products(ws)
    gram, xty = gram[None] / n, xty[None, :, None] / n
    polished, _, accepted = _polish.polish(
        gram, xty, np.array([[np.sum(y * y) / n]]), np.array([float(n)]), penalty,
        _programs.unpenalised_of_gram(gram, xty, penalty.factor), w[None, :, None],
        np.array([[np.inf]]), np.zeros((1, 1)), np.array([[spent]]), certify=False,
    )
    return polished[0, :, 0] if accepted[0, 0] else w


def _share(support, n):
    """The working set's size for a support of ``support`` features: twice
    it, as celer's; but where the support passes half the ``n`` rows, only
    half as many again as the support, or the rows it leaves, whichever is
    more. A lasso solution holds at most ``n`` features, so few can still
    enter there, and every feature in the set costs ``n`` times the set in
    products and the set again an iteration (medians of 5, alternating in
    one process, at 0.01 alpha_max: wide 1,000 x 20,000, support 863, 848 ->
    592 ms; fingerprints 1,000 x 4,000, support 788, 348 -> 306 ms; no change
    past the spread on dense 10,000 x 1,000 or the wide, spectra and
    fingerprint sets of 50 to 300 rows, single fits, paths and LassoCV)."""
    return support + min(support, max(n - support, support // 2))


def _fitted(size, support):
    """A set of ``size`` features, or of the padded size just below it (see
    _SNAP) when that still holds half as many again as the ``support``."""
    for bucket in _programs._FEW_SIZES:
        if bucket < size <= _SNAP * bucket and bucket >= 1.5 * support:
            return bucket
    return size


def _select(duals, dual_scale, factor, columns, support, size):
    """The ``size`` features closest to entering the model, support first.

    The score is the distance of each feature's dual constraint to the
    (rescaled) dual point, as in celer: ``f_j (1 - d_j / scale) / ||x_j||``
    with ``d_j`` the feature's dual term; ``columns`` (:class:`_Columns`)
    gives ``1 / ||x_j||``.
    """
    p = duals.size
    if size >= p:
        return np.arange(p)
    inverse, empty = columns.inverse_norms()
    if dual_scale > 0:
        score = factor * (1 - duals / dual_scale) * inverse
    else:  # every dual term is 0: no feature is closer than another
        score = factor * inverse
    score[empty] = np.inf
    score[support] = -np.inf
    return np.sort(np.argpartition(score, size - 1)[:size])
