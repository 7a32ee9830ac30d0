"""The path's prediction: active-set steps on a Cholesky factor kept across alphas.

Along a path the support changes by a feature or two from one alpha to the
next, yet the exact polish (:mod:`tflasso._polish`) factorises each alpha's
support afresh (``|S|^3 / 3``), with the generality of batches, tasks and
certificates around it: on wide 300 x 2,000 data it was two thirds of a
100-alpha path's time, 2.7 factorisations an alpha. Here one task's
prediction keeps the factor of ``G_SS + diag(l2_S)`` (``G = X^T X / n`` of
the centred, weighted columns) from alpha to alpha, as homotopy / LARS
solvers do:

- from the warm start's signed support ``S``, solve ``(G_SS + diag(l2_S))
  w_S = q_S - l1_S s_S`` for the signs ``s`` (``l1 = alpha l1_ratio f``,
  ``l2 = alpha (1 - l1_ratio) f``);
- where a sign would change, step to the first change along the segment
  (the objective decreases along it) and drop that feature (Lee et al.'s
  feature-sign steps);
- otherwise let in, with their correlation's sign, the features of the
  working set that break the optimality conditions, and solve again.

Each step lowers the objective, so the point returned is never worse than
the start. Features that enter extend the factor by a block solve
(``k^2 m`` for ``m`` of them); a feature that leaves refactorises only the
part of the factor after it. The elastic net's diagonal changes with alpha,
so its factor is made again at each alpha. Like the polish, the point is
only a start: the working set's next full pass certifies it, and FISTA
goes on from it otherwise. Where the factor cannot be made (a singular or
nearly singular support, as p > n paths reach n features), :func:`predict`
returns None and the caller falls back to the polish, whose solves take the
minimum-norm step.
"""

import numpy as np
from scipy.linalg import lapack

from . import _polish

# Solves per alpha: along the benchmarks' paths most alphas take one to
# three (the support of the extrapolated start, then the features that
# entered), low on wide 300 x 2,000's path up to 14 (features entering one
# at a time); a prediction not done by then is returned as it stands, and
# FISTA goes on from it. Each is a pair of triangular solves and a product
# with the working set's columns.
_STEPS = 32
# A pivot of the factor below this fraction of its feature's diagonal
# entry: the feature is (nearly) in the span of the others.
_PIVOT = 1e-10
_POTRF, _POTRS, _TRTRS = lapack.get_lapack_funcs(("potrf", "potrs", "trtrs"),
                                                  dtype=np.float64)


class Factor:
    """The Cholesky factor of ``G_SS + diag(l2_S)`` for the features
    ``order`` (global indices, in factor order), from the working sets'
    cached products ``columns`` (:class:`tflasso._working_set._Columns`).

    It is kept in the products' own units, ``n (G_SS + diag(l2_S))``: the
    products' blocks are used as gathered, not divided by ``n`` (a pass over
    each block, at every alpha), and :meth:`solve` scales its right-hand
    side instead. Its solves call LAPACK directly: scipy's wrappers cost
    more than a solve on a support of a few hundred features. LAPACK is
    handed the factor's transpose, the upper factor in Fortran order: the
    lower factor, in C order, it would copy at every solve."""

    def __init__(self, columns, n):
        self.columns, self.n = columns, n
        self.ridge = None  # alpha (1 - l1_ratio) it was made with (None: none yet)
        self.reset()

    def reset(self):
        self.order = np.empty(0, np.intp)
        self.shift = np.empty(0)  # the l2 terms on the diagonal, per feature
        self.lower = np.empty((0, 0))

    def gram(self, rows, cols):
        """``n G[rows, cols]``, the cached (unnormalised) products, as the
        transpose of ``G[cols, rows]``: whole rows first, a third less time
        than a gather of the block (0.54 against 0.85 ms for 500 x 250 of
        1,000 features)."""
        position = self.columns.position
        return self.columns.gram.take(position[cols], 0).take(position[rows], 1).T

    def rows(self, features):
        """``n G[features, :]``: whole rows of the cached products, at the
        cache's positions (read them at ``columns.position``)."""
        return self.columns.gram.take(self.columns.position[features], 0)

    def add(self, features, shift, block=None):
        """Append ``features``, with ``shift`` their l2 terms; ``block``, if
        given, holds ``G[order + features, features]``."""
        k, m = self.order.size, features.size
        if block is None:
            block = self.gram(np.concatenate([self.order, features]), features)
        corner = block[k:].copy()
        corner.flat[:: m + 1] += self.n * shift
        diagonal = np.diagonal(corner).copy()
        lower = np.zeros((k + m, k + m))
        lower[:k, :k] = self.lower
        if k:
            cross, _ = _TRTRS(self.lower.T, block[:k], lower=0, trans=1)
            corner -= cross.T @ cross
            lower[k:, :k] = cross.T
        lower[k:, k:] = _cholesky(corner, diagonal)
        self.order = np.concatenate([self.order, features])
        self.shift = np.concatenate([self.shift, shift])
        self.lower = lower

    def remove(self, drop):
        """Remove the features at the factor positions ``drop`` (bool): the
        rows before the first of them stand, the rest is made again."""
        first = int(np.argmax(drop))
        tail = np.flatnonzero(~drop[first:]) + first
        lower = np.zeros((first + tail.size, first + tail.size))
        lower[:first, :first] = self.lower[:first, :first]
        if tail.size:
            cross = self.lower[tail, :first]
            corner = self.gram(self.order[tail], self.order[tail])
            corner.flat[:: tail.size + 1] += self.n * self.shift[tail]
            diagonal = np.diagonal(corner).copy()
            corner -= cross @ cross.T
            lower[first:, :first] = cross
            lower[first:, first:] = _cholesky(corner, diagonal)
        self.order, self.shift, self.lower = self.order[~drop], self.shift[~drop], lower

    def solve(self, rhs):
        """``(G_SS + diag(l2_S))^-1 rhs``."""
        return _POTRS(self.lower.T, self.n * rhs, lower=0)[0]


class WholeGram:
    """A Gram matrix ``G`` (p, p), already divided by n, in the place of the
    working sets' cached columns: every feature, in order."""

    def __init__(self, gram):
        self.gram, self.position = gram, np.arange(len(gram))


def path(gram, xty, penalties, start=None):
    """Predictions along a path of one Gram problem (``gram`` (p, p) and
    ``xty`` (p,) divided by n), each alpha from the last one's point on
    every feature, the first from ``start`` (p,) (zeros by default):
    ``(p, A)``, or None where this method does not apply. After a support
    it cannot factorise, the last point stands for the rest of the path
    (still a warm start)."""
    factor = Factor(WholeGram(gram), 1.0)
    every = np.arange(len(gram))
    out = np.zeros((len(gram), len(penalties)))
    w = np.zeros(len(gram)) if start is None else np.asarray(start, np.float64)
    failed = False
    for a, penalty in enumerate(penalties):
        if not failed:
            predicted = predict(factor, every, w, penalty, xty)
            if predicted is None and not a:
                return None
            failed = predicted is None
            w = w if failed else predicted[0]
        out[:, a] = w
    return out


def _cholesky(matrix, diagonal):
    """The lower factor of ``matrix`` (symmetric, overwritten); LinAlgError
    when it is not positive definite or a pivot is below _PIVOT of its
    ``diagonal`` entry (the feature's own, before the others were projected
    out). LAPACK directly, as numpy reads it (the lower triangle: the upper
    one of the transpose, in Fortran order, not copied): numpy's ``cholesky``
    took 17 us even on one feature, 19 of a fingerprints ``LassoCV``'s 284 ms
    in 776 calls."""
    upper, info = _POTRF(matrix.T, lower=0, clean=1, overwrite_a=1)
    lower = upper.T
    if info != 0 or np.any(np.diagonal(lower) ** 2 <= _PIVOT * diagonal):
        raise np.linalg.LinAlgError("nearly singular support")
    return lower


def predict(factor, ws, w, penalty, xty):
    """The prediction on the working set ``ws`` (sorted global indices) from
    the start ``w`` (k,), for one task: ``(x (k,), done)``, ``done`` where
    ``x`` is the working set's exact solution (no step left), or None where
    this method does not apply (no L1 part, unpenalised features under
    ``positive``) or the factor cannot be made. ``penalty`` has its factors over ``ws``;
    ``xty`` (k,) is ``X_ws^T y / n``. ``factor`` is updated in place."""
    f = np.asarray(penalty.factor, np.float64)
    alpha, l1_ratio = float(penalty.alpha[0]), float(penalty.l1_ratio[0])
    positive = bool(penalty.positive)
    l1, l2 = alpha * l1_ratio * f, alpha * (1 - l1_ratio) * f
    constrained = l1 > 0
    if not constrained.any() or (positive and not constrained.all()):
        return None
    ridge = alpha * (1 - l1_ratio)
    if factor.ridge != ridge:  # the elastic net's diagonal moved: make it again
        factor.reset()
        factor.ridge = ridge
    x = np.array(w, np.float64)
    signs = np.where(constrained, 1.0 if positive else np.sign(x), 0.0)
    inside = (x != 0) | ~constrained
    bounced, done = np.zeros(ws.size, bool), False
    threshold = l1 * (1 + _polish._VIOLATION)
    try:
        _sync(factor, ws, inside, l2)
        # n G[order, :], row by row as the factor changes (whole rows of the
        # cached products, read at ws: one gather of them, not two): the
        # optimality conditions of the working set at each solve.
        at = factor.columns.position[ws]
        rows = factor.rows(factor.order)
        local = np.searchsorted(ws, factor.order)  # the factor's features in ws

        def join(enter):  # the factor extended by ws[enter]: its rows, positions
            new = factor.rows(ws[enter])
            joined = np.concatenate([local, np.flatnonzero(enter)])
            factor.add(ws[enter], l2[enter], new[:, at[joined]].T)
            return new, joined

        for _ in range(_STEPS):
            if not local.size:
                target = np.zeros(0)
            else:
                target = factor.solve(xty[local] - l1[local] * signs[local])
            crossed = constrained[local] & (target * signs[local] <= 0)
            if crossed.any():
                start = x[local]
                with np.errstate(all="ignore"):
                    steps = np.where(crossed, start / (start - target), np.inf)
                step = steps.min()
                moved = start + step * (target - start)
                drop = crossed & (steps <= step) | constrained[local] & (moved * signs[local] < 0)
                # Features that entered together can pull one another past
                # zero at once: those that bounced enter again only one at
                # a time (alone, at an exact solution, one keeps its sign).
                bounced[local[drop & (start == 0)]] = True
                moved[drop] = 0.0
                x[local] = moved
                factor.remove(drop)
                rows = rows[~drop]
                local = local[~drop]
                continue
            x[local] = target
            corr = xty - (target @ rows)[at] / factor.n
            violation = corr if positive else np.abs(corr)
            enter = constrained & (violation > threshold)
            enter[local] = False
            if not enter.any():
                done = True
                break
            if not np.any(enter & ~bounced):
                enter = _strongest(enter, violation, l1)
            else:
                enter &= ~bounced
            signs[enter] = np.sign(corr[enter])
            try:
                new, joined = join(enter)
            except np.linalg.LinAlgError:
                if np.count_nonzero(enter) == 1:
                    raise
                # Together they are (nearly) in the span of the support, as
                # where a p > n path's support nears the rows' rank: the one
                # that breaks its condition most enters alone.
                new, joined = join(_strongest(enter, violation, l1))
            rows = np.vstack([rows, new])
            local = joined
    except np.linalg.LinAlgError:
        factor.reset()
        return None
    if not np.all(np.isfinite(x)):
        factor.reset()
        return None
    return x, done


def _strongest(enter, violation, l1):
    """The one feature of ``enter`` (bool) that breaks its optimality
    condition most, relative to its L1 strength."""
    ratio = np.where(enter, violation / np.where(l1 > 0, l1, 1.0), 0.0)
    return np.arange(enter.size) == np.argmax(ratio)


def _sync(factor, ws, inside, l2):
    """Make ``factor`` that of the features ``ws[inside]`` (``l2`` over ``ws``)."""
    wanted = ws[inside]
    mark = np.zeros(factor.columns.position.size, bool)  # over every feature
    mark[wanted] = True
    stale = ~mark[factor.order]
    if stale.all():
        factor.reset()
    elif stale.any():
        factor.remove(stale)
    mark[:] = False
    mark[factor.order] = True
    new = wanted[~mark[wanted]]
    if new.size:
        factor.add(new, l2[np.searchsorted(ws, new)])
