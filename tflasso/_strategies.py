"""The outer strategies: which form solves a fit, a path or a cross-validation.

One rule (:func:`choose_form`) picks the form for every entry point, from the
shape of X and the number of fits that share its statistics:

* ``'gram'``: one pass builds ``X^T X`` (per fold, by additive moments, in
  cross-validation), then every iteration of every fit costs ``p^2``;
* ``'working_set'``: full passes over X rank the features and check the gap,
  and small restricted problems are solved in the Gram form; along a path
  (and each fold's path in cross-validation) every alpha is warm-started
  from the last, as glmnet does;
* ``'operator'`` (``precompute=False`` only): iterations on X itself, all
  alphas of a path at once.
"""

import itertools

import numpy as np
from scipy import sparse

from . import _homotopy
from . import _polish
from . import _programs
from . import _working_set
from ._design import HeldOutRows, Moments, normalise_weights, offsets, validation_mse
from ._problem import Problem, alpha_max, penalty as make_penalty
from ._validation import warn_unconverged

# The full Gram matrix is built when it costs less than this many
# multiply-adds (n p^2; about 0.1 s here), when the problem is this narrow
# (times the number of fits sharing it), and never beyond _MAX_GRAM_FEATURES
# (a p x p matrix per fold). Beyond, a few passes over X by working sets are
# cheaper: measured on 200,000 x 200, 0.42-0.84 s against 0.8-1.3 s for the
# Gram matrix of a single fit.
_GRAM_BUDGET = 5e8
_GRAM_FEATURES = 64
_MAX_GRAM_FEATURES = 4096
# Paths on more features than this are solved in chunks of alphas on working
# sets, warm-started along the path.
_CHUNK_FEATURES = 256
# Unchunked Gram paths of at least this many features, whose (unit-diagonal)
# Gram matrix has a condition number above _PREDICT_CONDITION, start from
# predictions (see _gram_starts; chunks always do, see gram_path). Elsewhere FISTA's iterations on the whole
# batch cost less than the predictions' numpy steps: diabetes (10 features)
# LassoCV takes 10-12 ms in all; tall 200,000 x 200 (condition number 1.1)
# LassoCV went 0.93 -> 1.19 s with predictions, while spectra 200 x 100
# (condition number 2.8e6) went 1.16 -> 0.19 s.
_PREDICT_FEATURES = 64
_PREDICT_CONDITION = 1e4
# A single Gram-form fit's start (see _gram_start) steps through alphas this
# far apart, where working sets take _working_set._START_RATIO (0.7): with the
# whole Gram matrix there is no set to outgrow, only sign changes to undo.
# Median of 9 fits alternating in one process, 0.7 / 0.5 / 0.3 / 0.2, at 0.1
# and 0.01 alpha_max (ms): spectra 200 x 100 3.0 / 2.8 / 2.4 / 2.4 and
# 3.9 / 3.9 / 3.3 / 3.6; binary 400 x 100 2.1 / 1.9 / 1.6 / 1.6 and 3.1 / 2.8
# / 2.5 / 2.6; AR(1) 0.5 500 x 200 3.3 / 2.8 / 3.1 / 2.9 and 6.1 / 5.8 / 5.6 /
# 5.7; AR(1) 0.9 1,000 x 400 12.3 / 10.9 / 10.3 / 10.8 and 15.8 / 15.5 / 15.8
# / 19.6 (at 0.2 its steps fell short: 53 FISTA iterations); spectra-like
# 300 x 150 4.7 / 4.6 / 4.2 / 4.2 and 5.6 / 5.8 / 6.4 / 6.3. One step
# straight to alpha fell short more often (binary at 0.01: 5.5 ms).
_GRAM_START_RATIO = 0.3
_CHUNK_ALPHAS = 10
# Past this share of the features, a working set is not worth it.
_MAX_SET_SHARE = 0.25


def choose_form(X, precompute, n_fits=1):
    """``'gram'``, ``'working_set'`` or ``'operator'``: the one 'auto' rule.

    ``precompute=True`` (or a Gram matrix) is the Gram form, ``False`` the
    operator form. On X wider than tall, ``True`` takes working sets, whose
    restricted problems are solved from the Gram matrices of their
    features: the whole Gram matrix is singular there (FISTA's rate on it
    is sublinear) and larger than X (scikit-learn's test_lasso_cv, 33 x 200
    folds at max_iter=150: 19 of 40 fits of the Gram batch stopped above tol
    and it picked alpha 0.12 for 0.056).
    'auto' takes the Gram form for X (dense or sparse) with ``n_samples >=
    n_features`` (at most 4096) when it is cheap: ``n p^2 <= 5e8`` or ``p <=
    64 * n_fits``, since ``n_fits`` fits share one Gram matrix. Otherwise
    working sets, for single fits and paths alike: on 300 x 2,000 Gaussian
    data a 100-alpha path took 3.3 s of CPU by working sets against 18.6 s in
    the operator form (100 x 5,000: 2.5 s against 51 s, which left 2 fits
    unconverged). Sparse X is no exception: its Gram matrix costs less than a
    dense one's, and a small sparse MultiTaskLassoCV spent 4 s in 1,200
    working-set solves of 4 ms each where the Gram form takes 20 ms; dense and
    sparse copies of the same data then also take the same form, and agree.
    """
    n, p = X.shape
    if isinstance(precompute, (bool, np.bool_)):
        return ("gram" if p <= n else "working_set") if precompute else "operator"
    if precompute is not None and not isinstance(precompute, str):
        return "gram"  # a user's Gram matrix (checked): the Gram form, computed here
    cheap = p <= _GRAM_FEATURES * n_fits or n * p * p <= _GRAM_BUDGET
    if p <= n and p <= _MAX_GRAM_FEATURES and cheap:
        return "gram"
    return "working_set"


def _grid(xty, factor, l1_ratio, n_alphas, eps, free, positive):
    """scikit-learn's grid: ``n_alphas`` log-spaced from ``alpha_max`` down."""
    top = float(alpha_max(xty, factor, l1_ratio, free, positive)[0])
    resolution = np.finfo(np.float64).resolution
    if top <= resolution:
        return np.full(n_alphas, resolution)
    return np.geomspace(top, top * eps, num=n_alphas)


def fit(problem, alpha, l1_ratio, factor, positive, tol, max_iter, w0, form):
    """One fit: ``(W (p, K), gap (C,), n_iter (C,))``."""
    c, t = problem.layout
    p = problem.design.shape[1]
    penalty = make_penalty(alpha, l1_ratio, factor, positive, c)
    tolerance = problem.tolerance(tol)
    w0 = problem.problems(w0)
    if form == "gram":
        gram, xty = problem.design.gram(problem.y)
        xty = problem.problems(xty)[None]
        free = _free_of_gram(gram[None], xty, factor)
        started = 0
        n = np.array([problem.n], float)
        if free is None and not w0.any():
            w0, started = _gram_start(gram, xty[0], penalty, max_iter, w0)
        if started:
            # The steps' exact solution, certified in numpy as the Gram
            # program's first gap check would: no call of it where they
            # reached the solution (1.5 of spectra 200 x 100's 5.6 ms).
            gap, _ = _programs.certify_gram(gram[None], xty, problem.yy[None], n, penalty,
                                            None, w0[None])
            if np.all(gap <= tolerance):
                return w0.reshape(p, -1), gap[0], np.full(c, started, np.int32)
        w, gap, n_iter = _programs.solve_gram(
            gram[None], xty, problem.yy[None], n, penalty,
            free, tolerance[None], max_iter - started, w0[None], xla=problem.xla,
        )
        w, gap, n_iter = w[0], gap[0], n_iter[0] + started
    elif form == "working_set":
        w, gap, n_iter = _working_set.solve(
            problem, penalty, problem.unpenalised(factor), tolerance, max_iter, w0
        )
    else:
        w, gap, n_iter = _operator(problem, penalty, tolerance, max_iter, w0, 1)
    return w.reshape(p, -1), gap, n_iter


def _gram_start(gram, xty, penalty, max_iter, w0):
    """A single Gram-form lasso fit's start from zero, ``(w0 (p, 1, 1),
    iterations)``: the path's exact active-set solutions
    (:func:`tflasso._homotopy.path`) from ``alpha_max`` down to ``alpha`` at
    alphas _GRAM_START_RATIO apart, as a single working-set fit starts (see
    tflasso._working_set._path_start); a numpy certificate accepts the
    last (see :func:`fit`) or FISTA goes on from it. Each alpha counts as one of
    ``max_iter``'s iterations (its solves cost about what an iteration's
    product with the Gram matrix does). For one problem of one task, every
    feature penalised, and at least _PREDICT_FEATURES features (on fewer,
    FISTA's iterations cost less than the steps); else ``(w0, 0)``."""
    p, c, t = xty.shape
    f = np.asarray(penalty.factor, np.float64)
    if (c, t) != (1, 1) or p < _PREDICT_FEATURES or float(penalty.l1_ratio[0]) != 1 \
            or not np.all(f > 0):
        return w0, 0
    top = _working_set._lasso_duals(xty[:, 0, 0], penalty).max(initial=0.0)
    alphas = _working_set.start_alphas(float(top), float(penalty.alpha[0]), max_iter,
                                       _GRAM_START_RATIO)
    starts = _homotopy.path(gram, xty[:, 0, 0], [penalty._replace(alpha=np.array([a]))
                                                  for a in alphas]) if alphas.size else None
    if starts is None:
        return w0, 0
    return starts[:, -1, None, None], alphas.size


def _free_of_gram(gram, xty, factor):
    free = _programs.unpenalised_of_gram(gram, xty, factor)
    return None if not len(free.index) else free


def _operator(problem, penalty, tolerance, max_iter, w0, repeat):
    design = problem.design
    y = np.repeat(problem.problems(problem.y), repeat, axis=1)
    root = np.ones(problem.n) if design.root is None else design.root
    free = problem.unpenalised(penalty.factor, repeat)
    tolerance = np.repeat(tolerance, repeat)
    # An iteration is a product and a transposed product with X per column.
    stored = design.X.nnz if design.sparse else np.prod(design.shape)

    data = (design.tensor(), design.x_offset, root, y.astype(design.dtype),
            problem.scale(), penalty, free, tolerance)

    def solve(start, budget):
        return _programs.solve_operator(*data, budget, start)

    def polish(w, gap, n_iter, only):
        return _polish.polish_design(design, y, penalty, free, w, gap, tolerance,
                                     2.0 * stored * n_iter.sum(), only)

    exact = _programs.asks_exact(tolerance, np.repeat(problem.yy, repeat))
    return _programs.polished_rounds(solve, polish, tolerance, max_iter, w0, exact)


def path(problem, alphas, l1_ratio, factor, positive, eps, tol, max_iter, form):
    """One problem along a grid of alphas: ``(alphas, W (p, A, T), gap, n_iter)``.

    ``alphas`` is an int (scikit-learn's automatic grid) or decreasing floats.
    """
    c, t = problem.layout
    assert c == 1, "a path solves one problem (of one or several tasks)"
    if form == "gram":
        gram, xty = problem.design.gram(problem.y)
        xty = problem.problems(xty)
        free = _free_of_gram(gram[None], xty[None], factor)
    else:
        xty = problem.xty()
        free = problem.unpenalised(factor)
    if np.ndim(alphas) == 0:
        alphas = _grid(xty, factor, l1_ratio, int(alphas), eps, free, positive)
    if form == "gram":
        w, gap, n_iter = gram_path(
            gram[None], xty[None], problem.yy[None], np.array([problem.n], float),
            alphas, l1_ratio, factor, positive, problem.tolerance(tol)[None], max_iter,
            xla=problem.xla,
        )
        return alphas, w[0], gap[0], n_iter[0]
    if form == "working_set":
        penalties = [make_penalty(a, l1_ratio, factor, positive) for a in alphas]
        w, gap, n_iter = _working_set.path(
            problem, penalties, free, problem.tolerance(tol)[0], max_iter
        )
        return alphas, w, gap, n_iter
    penalty = make_penalty(alphas, l1_ratio, factor, positive, len(alphas))
    p = problem.design.shape[1]
    w, gap, n_iter = _operator(
        problem, penalty, problem.tolerance(tol), max_iter,
        np.zeros((p, len(alphas), t)), len(alphas),
    )
    return alphas, w, gap, n_iter


def gram_path(gram, xty, yy, n, alphas, l1_ratio, factor, positive, tol, max_iter,
              xla=True, overwrite=False):
    """``B`` Gram problems ``(B, p, 1, T)`` along the alphas: ``(W, gap, n_iter)``.

    W is (B, p, A, T); ``tol`` (B, 1) absolute. Where most features end at
    zero, a p x p product per iteration is mostly wasted: above 256 features
    the alphas (largest first) are solved in chunks, each warm-started from
    the previous chunk's last solution and restricted to a working set, that
    solution's support and the features whose dual term breaks the
    optimality conditions at the chunk's smallest alpha. Features that still
    break them at the chunk's solutions are added and the chunk solved again;
    once none does, the restricted duality gaps are the full ones. A
    restricted chunk first takes the active-set steps along its alphas
    (:func:`_gram_starts`, numpy); where a certificate in numpy accepts
    them all, the chunk needs no call of the Gram program (each such alpha
    counts one iteration), else FISTA goes on from them. Alternating in one
    process (medians of 7), one-hot 10,000 x 4,060's path 441 -> 300 ms
    (every chunk finished by the steps), rare terms' 252 -> 233 ms (its
    tail, on every feature, is FISTA's), their LassoCV 2.83 -> 2.72 s and
    3.61 -> 3.51 s.
    ``xla``: see :func:`tflasso._programs.solve_gram`. ``overwrite``: ``gram``
    may be scaled in place by the last solve when it is on every feature
    (see :func:`tflasso._programs.solve_gram`), for callers done with it.
    """
    n_sets, p, _, t = xty.shape
    a = len(alphas)
    free = _free_of_gram(gram, xty, factor)

    def solve(keep, chunk, start, predicted=None):
        # One copy of the restricted Gram matrices at most (none of all p).
        whole = len(keep) == p
        block = gram if whole else gram[:, keep[:, None], keep]
        sub_free = None
        if free is not None:
            sub_free = _free_of_gram(block, xty[:, keep], factor[keep])
        penalty = make_penalty(alphas[chunk], l1_ratio, factor[keep], positive, len(chunk))
        sub_xty = np.repeat(xty[:, keep], len(chunk), axis=2)
        sub_yy, sub_tol = np.repeat(yy, len(chunk), axis=1), np.repeat(tol, len(chunk), axis=1)
        if predicted is None and not whole:
            predicted = _gram_starts(block, xty[:, keep], alphas[chunk], l1_ratio,
                                     factor[keep], positive, start[:, :, 0, 0])
        if predicted is not None:
            # Exact active-set solutions, which a certificate in numpy may
            # accept as they stand: no call of the Gram program (about 4 ms
            # in graph mode for a chunk of 10 alphas on a few features).
            gap, _ = _programs.certify_gram(block, sub_xty, sub_yy, n, penalty,
                                            sub_free, predicted)
            if np.all(gap <= sub_tol):
                return predicted, gap, np.ones(gap.shape, np.int32)
            start = predicted
        return _programs.solve_gram(
            block, sub_xty, sub_yy, n, penalty, sub_free, sub_tol, max_iter, start,
            xla=xla, overwrite=overwrite and whole and chunk[-1] == a - 1,  # gram's last use
            few_sizes=None if whole else _programs._CHUNK_SIZES,  # sizes change
        )

    if p <= _CHUNK_FEATURES:
        every = np.arange(p)
        if p >= _PREDICT_FEATURES and _condition(gram[0]) >= _PREDICT_CONDITION:
            predicted = _gram_starts(gram, xty, alphas, l1_ratio, factor, positive)
            return solve(every, np.arange(a), None, predicted)
        return solve(every, np.arange(a), None)
    w = np.zeros((n_sets, p, a, t))
    gap, n_iter = np.zeros((n_sets, a)), np.zeros((n_sets, a), np.int32)
    previous = np.zeros((n_sets, p, 1, t))
    first = 0
    while first < a:
        chunk = np.arange(first, min(first + _CHUNK_ALPHAS, a))
        keep = np.flatnonzero(
            np.any(_violations(gram, xty, previous, alphas[chunk[-1:]], l1_ratio,
                               factor, positive, free)
                   | np.any(previous != 0, axis=(2, 3)), axis=0)
            | (factor == 0)
        )
        if len(keep) > p * _MAX_SET_SHARE:
            # A product with the full Gram matrix costs its memory traffic
            # whatever the width: the rest of the path goes in one call.
            chunk, keep = np.arange(first, a), np.arange(p)
        start = np.repeat(previous[:, keep], len(chunk), axis=2)
        while True:
            w_set, gap_set, steps = solve(keep, chunk, start)
            n_iter[:, chunk] += steps
            full = np.zeros((n_sets, p, len(chunk), t))
            full[:, keep] = w_set
            if len(keep) == p:  # no feature outside (and gram may be overwritten)
                break
            violated = _violations(gram, xty, full, alphas[chunk], l1_ratio, factor,
                                   positive, free)
            violated[:, keep] = False
            if not violated.any():
                break
            keep = np.union1d(keep, np.flatnonzero(violated.any(axis=0)))
            start = full[:, keep]
        w[:, :, chunk] = full
        gap[:, chunk] = gap_set
        previous = full[:, :, -1:]
        first = chunk[-1] + 1
    return w, gap, n_iter


def _gram_starts(gram, xty, alphas, l1_ratio, factor, positive, start=None):
    """Starts ``(B, p, A, 1)`` for a batch of one-task Gram paths: each
    set's path of exact active-set solutions (:func:`tflasso._homotopy.path`)
    from ``start`` (B, p) (zeros by default), which a certificate accepts or
    FISTA goes on from; None where they do not apply (several tasks, no L1
    part, unpenalised features under ``positive``, a first support that
    cannot be factorised)."""
    n_sets, p, _, t = xty.shape
    if t != 1:
        return None
    penalties = [make_penalty(a, l1_ratio, factor, positive) for a in alphas]
    starts = [_homotopy.path(gram[b], xty[b, :, 0, 0], penalties,
                             None if start is None else start[b])
              for b in range(n_sets)]
    if any(s is None for s in starts):
        return None
    return np.stack(starts)[..., None]


def _condition(gram):
    """The condition number of ``gram`` rescaled to a unit diagonal (FISTA's
    iterations grow as its square root)."""
    d = _programs.unit_scale(np.diagonal(gram))
    values = np.linalg.eigvalsh(gram / np.outer(d, d))
    return values[-1] / values[0] if values[0] > 0 else np.inf


def _violations(gram, xty, w, alphas, l1_ratio, factor, positive, free):
    """Features whose dual term exceeds ``alpha * l1_ratio`` at ``w``, (B, p)."""
    n_sets, p, k, t = w.shape
    rows = np.flatnonzero(np.any(w != 0, axis=(0, 2, 3)))  # BLAS on the support only
    # G w from G's rows at the support (G is symmetric): contiguous in memory,
    # where its columns are a strided gather (half the time at 500 of 2,000).
    product = np.matmul(w[:, rows].reshape(n_sets, len(rows), k * t).transpose(0, 2, 1),
                        gram[:, rows, :])
    corr = xty - product.transpose(0, 2, 1).reshape(n_sets, p, k, t)
    if free is not None:
        free = free._replace(xty=np.repeat(free.xty, k, axis=2))
    else:
        free = _programs.no_unpenalised(*w.shape)
    zeros = np.zeros(w.shape[::2][:2])
    _, duals = _programs.certify(
        make_penalty(alphas, l1_ratio, factor, positive, k), free, w, zeros, zeros,
        corr, 1.0,
    )
    return np.any(duals > alphas * l1_ratio * (1 + 1e-12), axis=2)


def fold_moments(X, Y, sw, folds, fit_intercept, lazy=False):
    """Moments of the full data and of each training and test fold.

    About the full data's weighted means: the folds' own means are close to
    them, so centring each fold loses no precision. The training folds are a
    generator. With ``lazy``, one p x p array at a time holds a training
    fold's moments (the full data's minus its test rows', made in place) and
    the test folds are their rows (:class:`~tflasso._design.HeldOutRows`):
    past the full data's, the folds then take one p x p array, not three.
    """
    n, p = X.shape
    if sparse.issparse(X):  # rows are what the folds take: converted once, not per fold
        X = X.tocsr()
    x_shift, y_shift = (
        np.asarray(v, np.float64)
        for v in offsets(X, Y, normalise_weights(sw, n), fit_intercept)
    )

    def of(rows, out=None):
        return Moments.of_rows(X, Y, sw, rows, x_shift, y_shift, out)

    def partition(parts):
        counts = np.bincount(np.concatenate(parts), minlength=n)
        return len(counts) == n and bool(np.all(counts == 1))

    if lazy:
        full = of(np.arange(n))
        buffer = _programs.aligned_zeros((p, p))
        pairs = (
            (full.copy(buffer).add_rows(X, Y, sw, test, x_shift, y_shift, sign=-1)
             if partition([train, test]) else of(train, buffer),
             HeldOutRows(X, Y, sw, test, x_shift, y_shift))
            for train, test in folds
        )
        return full, pairs, x_shift, y_shift
    tests = [of(test) for _, test in folds]
    full = (sum(tests[1:], tests[0]) if partition([test for _, test in folds])
            else of(np.arange(n)))
    pairs = (
        (full - tested if partition([train, test]) else of(train), tested)
        for (train, test), tested in zip(folds, tests)
    )
    return full, pairs, x_shift, y_shift


def cross_validate(X, Y, sw, folds, alphas, l1_ratios, factor, positive, eps, tol,
                   max_iter, fit_intercept, tasks, form):
    """Every alpha (and l1_ratio) of every fold.

    ``Y`` is (n, K), one problem (of K tasks when ``tasks``). Returns the
    grids (L, A), the validation errors (L, A, F) and, in the Gram form, the
    full data's fits at every alpha ``(W (L, p, A, T), gap (L, A), n_iter
    (L, A), x_offset, y_offset)``; else None, and the caller refits.
    """
    if form == "gram":
        return _cross_validate_gram(X, Y, sw, folds, alphas, l1_ratios, factor,
                                    positive, eps, tol, max_iter, fit_intercept)
    grids = [alphas] * len(l1_ratios)
    if np.ndim(alphas) == 0:
        full = Problem(X, Y, sw, fit_intercept, tasks)
        free = full.unpenalised(factor)
        grids = [_grid(full.xty(), factor, r, int(alphas), eps, free, positive)
                 for r in l1_ratios]
    mse = np.zeros((len(l1_ratios), len(grids[0]), len(folds)))
    gaps, tolerances = [], []
    for f, (train, test) in enumerate(folds):
        problem = Problem(X[train], Y[train], None if sw is None else sw[train],
                          fit_intercept, tasks)
        held_out = (X[test], Y[test], None if sw is None else sw[test])
        for i, ratio in enumerate(l1_ratios):
            errors, gap = [], []
            for w, chunk_gap in _path_chunks(problem, grids[i], ratio, factor, positive,
                                             eps, tol, max_iter, form):
                intercept = problem.intercept(w).reshape(w.shape[1], -1)
                errors.append(validation_mse(*held_out, None,
                                             w.reshape(len(w), *intercept.shape), intercept))
                gap.append(chunk_gap)
            mse[i, :, f] = np.concatenate(errors)
            gaps.append(np.concatenate(gap))
            tolerances.append(np.broadcast_to(problem.tolerance(tol), gaps[-1].shape))
    warn_unconverged(np.array(gaps), np.array(tolerances), max_iter)
    return np.array(grids), mse, None


# Along a working-set path, cross-validation takes the validation errors of
# this many alphas at a time and keeps no more of their coefficients: the
# whole path's, p x 100 float64, was 32 MB on 40,000 features (1.6x the
# stored entries of X at density 1e-3; 3.4x on issue 11's 200,000 x 200,000).
_ERROR_ALPHAS = 10


def _path_chunks(problem, alphas, l1_ratio, factor, positive, eps, tol, max_iter, form):
    """:func:`path` on a grid, as ``(W (p, a, T), gap (a,))`` for chunks of its alphas."""
    if form != "working_set":
        yield path(problem, alphas, l1_ratio, factor, positive, eps, tol, max_iter,
                   form)[1:3]
        return
    fits = _working_set.fits(
        problem, [make_penalty(a, l1_ratio, factor, positive) for a in alphas],
        problem.unpenalised(factor), problem.tolerance(tol)[0], max_iter,
    )
    while chunk := list(itertools.islice(fits, _ERROR_ALPHAS)):
        w, gap, _ = zip(*chunk)
        yield np.stack(w, axis=1), np.array(gap)


def _cross_validate_gram(X, Y, sw, folds, alphas, l1_ratios, factor, positive, eps,
                         tol, max_iter, fit_intercept):
    """The training folds and the full data as Gram problems (one batch, or one
    at a time: see :func:`cross_validate_moments`)."""
    counts = np.array([len(train) for train, _ in folds] + [X.shape[0]], float)
    lazy = not _one_batch(len(counts), X.shape[1])  # one fold at a time: make them so
    full, pairs, x_shift, y_shift = fold_moments(X, Y, sw, folds, fit_intercept, lazy)
    grids, mse, (w, gap, n_iter, x_mean, y_mean) = cross_validate_moments(
        full, pairs, counts, alphas, l1_ratios, factor, positive, eps, tol,
        max_iter, fit_intercept,
    )
    return grids, mse, (w, gap, n_iter, x_shift + x_mean, y_shift + y_mean)


def _centred_batch(moments, fit_intercept, in_place=False):
    """The centred Gram problems of a list of :class:`Moments`, stacked.

    The Gram matrices are centred into the stack itself, ready to be handed to
    TensorFlow; ``in_place``: one moments' ``xx``, which it consumes.
    """
    if in_place:
        (m,) = moments
        return [v[None] for v in m.centred(fit_intercept, out=m.xx)]
    p = moments[0].xx.shape[0]
    gram = _programs.aligned_zeros((len(moments), p, p))
    batch = None
    for b, m in enumerate(moments):
        values = m.centred(fit_intercept, out=gram[b])
        if batch is None:
            batch = [gram] + [np.empty((len(moments), *np.shape(v))) for v in values[1:]]
        for stack, value in zip(batch[1:], values[1:]):
            stack[b] = value
    return batch


# The (folds + 1) Gram problems of a cross-validation are solved as one batch
# while their p x p matrices take at most this many bytes, else one at a time:
# LassoCV(cv=5) on 5,000 x 4,000 held six 128 MB matrices, their scaled copy and
# the test folds' moments at once, a peak of +2.3 GB (15x X).
_CV_BATCH_BYTES = 2**27


def _one_batch(n_problems, p):
    """Whether cross-validation's ``n_problems`` Gram problems form one batch."""
    return n_problems * 8 * p * p <= _CV_BATCH_BYTES


def cross_validate_moments(full, folds, counts, alphas, l1_ratios, factor, positive,
                           eps, tol, max_iter, fit_intercept, xla=True):
    """Cross-validation from the folds' :class:`~tflasso._design.Moments`.

    ``folds`` yields each fold's ``(train, test)`` moments and is iterated
    once; ``counts`` are the training folds' and the full data's numbers of
    rows. While their Gram matrices take at most ``_CV_BATCH_BYTES``, the
    training folds and the full data are one batch of Gram problems; beyond,
    the full data's problem and then each fold's are solved one at a time,
    each training fold's moments consumed (centred and scaled in place; a
    generator of folds then keeps one fold's moments at a time). A test fold
    is anything with :meth:`~tflasso._design.Moments.mse`. Returns the
    grids, the validation errors and the full data's fits with its means about
    the moments' shift: ``(W, gap, n_iter, x_mean, y_mean)``.
    """
    options = (l1_ratios, factor, positive, eps, tol, max_iter, fit_intercept, xla)
    if _one_batch(len(counts), full.xx.shape[0]):
        trains, tests = zip(*folds)
        grids, mse, fits, gaps = _solve_moments([*trains, full], tests, counts, alphas,
                                                *options)
    else:
        grids, _, fits, gaps = _solve_moments([full], [], counts[-1:], alphas, *options)
        mse = []
        for f, (train, test) in enumerate(folds):
            _, fold_mse, _, fold_gaps = _solve_moments([train], [test], counts[f : f + 1],
                                                       grids, *options, in_place=True)
            del train, test  # before the generator makes the next fold
            mse.append(fold_mse)
            gaps += fold_gaps
        mse = np.concatenate(mse, axis=2)
    warn_unconverged(*(np.concatenate([np.ravel(g) for g in v]) for v in zip(*gaps)),
                     max_iter)
    return grids, mse, fits


def _solve_moments(moments, tests, counts, alphas, l1_ratios, factor, positive, eps,
                   tol, max_iter, fit_intercept, xla, in_place=False):
    """One batch of :func:`cross_validate_moments`: the Gram problems of
    ``moments`` (the full data's last), the errors on ``tests`` of the first
    ones, the last problem's fits and every ``(gap, tolerance)``. The Gram
    matrices are scaled in place by the last l1_ratio's path; ``in_place``:
    see :func:`_centred_batch`.

    ``alphas``: an int (the automatic grid of the last problem, the full
    data), one grid for every l1_ratio, or one grid per l1_ratio (L, A).
    """
    gram, xty, yy, x_mean, y_mean = _centred_batch(moments, fit_intercept, in_place)
    xty = xty[:, :, None, :]  # (B, p, 1, T)
    yy = yy.sum(axis=1, keepdims=True)  # (B, 1)
    free = _free_of_gram(gram[-1:], xty[-1:], factor) if np.ndim(alphas) == 0 else None
    grids, mse, fits, gaps = [], [], [], []
    for i, ratio in enumerate(l1_ratios):
        grid = alphas[i] if np.ndim(alphas) == 2 else alphas
        if np.ndim(alphas) == 0:
            grid = _grid(xty[-1], factor, ratio, int(alphas), eps, free, positive)
        w, gap, n_iter = gram_path(gram, xty, yy, counts, grid, ratio, factor,
                                   positive, tol * yy, max_iter, xla=xla,
                                   overwrite=i == len(l1_ratios) - 1)
        gaps.append((gap, np.broadcast_to(tol * yy, gap.shape)))
        mse.append(np.zeros((len(grid), 0)) if not tests else np.column_stack([
            test.mse(w[f], y_mean[f] - np.einsum("j,jat->at", x_mean[f], w[f]))
            for f, test in enumerate(tests)
        ]))
        grids.append(grid)
        fits.append((w[-1], gap[-1], n_iter[-1]))
    w, gap, n_iter = (np.array(v) for v in zip(*fits))
    return np.array(grids), np.array(mse), (w, gap, n_iter, x_mean[-1], y_mean[-1]), gaps
